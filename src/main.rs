//! The `ffu` command line: plans, verifies and shows fast-forward upgrades.
//!
//! Exit status: 0 success; 1 no plan possible or violations found; 2 bad input or usage.

// The CLI is the one place that talks to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
