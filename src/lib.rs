//! # ffu: the command line of the fast-forward upgrade planner, as a library
//!
//! The `ffu` command line (`ffu plan`, `ffu verify`, `ffu catalog ...`, `ffu journal ...`)
//! exists once, here: the `ffu` binary (`src/main.rs`) and the Python package's `python -m
//! ffu` (through the bindings, `ffu-py`) both call [`run`] with their arguments, so every
//! command, message and exit status is the same in both. The planner itself is
//! [`ffu_core`]; a Rust program that wants plans rather than a command line uses that.
//!
//! ```no_run
//! // A program that runs ffu's commands in its own process: no subscriber installed, the
//! // `-v` count handed to the caller, everything freed when `run` returns.
//! let status = ffu::run(
//!     ["ffu", "plan", "--from", "newton", "--to", "queens", "-o", "plan.txt"],
//!     ffu::Caller::InProcess { verbosity: &mut |_verbose| {} },
//! );
//! assert_eq!(status, 0);
//! ```
//!
//! Exit status: 0 success (also `--help` and `--version`); 1 no plan possible, or
//! violations found; 2 bad input or usage.

// The command line is the one place that talks to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

pub use cli::{run, Caller};
