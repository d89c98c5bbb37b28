//! The `ffu` command line: plans, verifies and shows fast-forward upgrades.
//!
//! Exit status: 0 success; 1 no plan possible or violations found; 2 bad input or usage.

// The CLI is the one place that talks to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

/// A plan of a large cloud makes about a million small allocations; mimalloc serves them
/// faster than the system allocator and backs its heap with transparent huge pages, which
/// cuts the page faults of a 94,000-migration plan from about 37,000 to 250 and halves the
/// run time (see README, Speed).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
