//! The `ffu` command line: plans, verifies and shows fast-forward upgrades.
//!
//! The commands are the library's ([`ffu::run`]), which `python -m ffu` runs too.
//! Exit status: 0 success; 1 no plan possible or violations found; 2 bad input or usage.

/// A plan of a large cloud makes about a million small allocations; mimalloc serves them
/// faster than the system allocator and backs its heap with transparent huge pages, which
/// cuts the page faults of a 94,000-migration plan from about 37,000 to 250 and halves the
/// run time (see README, Speed).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(ffu::run(std::env::args_os(), ffu::Caller::Binary))
}
