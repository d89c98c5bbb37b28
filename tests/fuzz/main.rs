//! A seeded fuzzer, part of the normal `cargo test` run, for the promise that every bad
//! input gets exit status 0, 1 or 2 and one clear error line naming the file and the item;
//! never a panic, a hang or unbounded memory.
//!
//! The documents are real ones, mutated: the embedded OpenStack catalog (its YAML text, and
//! its JSON as `ffu catalog show --format json` writes it), the catalogs of `tests/data`
//! (also split into fragments joined by `include:`), inventories of realistic clouds, plans
//! the planner made, and the alembic scripts of `tests/data/alembic`. A case applies one to
//! three mutations to one of them: bytes (flip, insert, delete, splice, truncate, invalid
//! UTF-8, NUL, BOM), lines (duplicate, drop, swap, re-indent, a value replaced, an unknown
//! key), or the parsed structure (a value replaced by a huge string, a negative or huge
//! number, deep nesting, a wrong type, a name that exists elsewhere or nowhere; an unknown
//! field; a list item duplicated, dropped or swapped); for alembic also whole scripts
//! (dropped, copied, moved out of the release layout).
//!
//! What is asserted for the readers called in this process (under `catch_unwind`):
//! - no panic (in reading, nor in what follows a successful read, below);
//! - an error names its file: the error's `file` (or `path`) is not empty, is the file read
//!   or one it includes, and the message shows it;
//! - an error is one line of at most [`MAX_LINE`] bytes plus twice the length of its file
//!   name (room for a second path, as "also defined in PATH"), without raw control
//!   characters (a carriage return or an escape sequence of a value shown as it is rewrites
//!   the terminal; a tab is allowed). The only error rendered on several lines on purpose is
//!   "no plan possible" with an order cycle ([`NoPlan::OrderCycle`]): its first line, then
//!   one line per fact of the chain, each indented by two spaces. That form is allowed where
//!   a plan is made, never from a reader;
//! - what a reader accepts goes on as a user's next command would take it: a catalog is shown
//!   (and must load again) and planned between two of its releases, an inventory is planned
//!   per host, a plan is verified and rendered; a plan the planner made must pass its own
//!   verification and come back equal through `to_json` and `from_json`.
//!
//! - no case takes longer than [`SLOW`] plus [`SLOW_PER_BYTE`] for each byte of its input
//!   (work that grows faster than the input), and none hangs: a case still running after
//!   [`HANG`] ends the target with its input reported (its thread cannot be stopped, and
//!   runs on until the test binary exits).
//!
//! In-process verification errors are only held to one bounded line: `verify` takes no file
//! name, so the binary's test checks that its message names the plan file. The in-process
//! readers run without a memory limit (it would be the test binary's): unbounded reads are
//! the binary's test, which reads devices and pipes.
//!
//! For the `ffu` binary, on a sample of mutated files and on special files (devices, named
//! pipes, an empty include), each run with a time limit ([`HANG`]) and an address-space
//! limit ([`MEMORY_KB`], through `ulimit -v`): exit status 0, 1 or 2, not a signal; no
//! "panicked" and no "out of memory" (a run that reaches the limit reads without bound); on
//! exit 1 or 2, stderr holds, after any `warning:` lines, one line starting with `error:`
//! (followed only by the indented lines of a chain) that names the file given where the
//! line says where (`error: FILE[:LINE:COLUMN]: ...`), or, for an error about a command-line
//! argument (a release, a service, `--max-unavailable`), the value given; and is bounded
//! like the in-process errors. Each run's directory is its working directory and files are
//! given by relative names, as people type them (an empty include then shows as an empty
//! name).
//!
//! Every broken promise is collected with its seed and case number, its input is saved
//! under `target/tmp/fuzz-failures/`, and the test fails at its end, listing them by rule.
//! - `FFU_FUZZ_SEED=N` (decimal or 0x hex; default a fixed seed, so runs are stable) seeds
//!   every case;
//! - `FFU_FUZZ_CASES=N` cases per in-process target (default [`DEFAULT_CASES`]); the binary
//!   runs `N / CLI_SHARE` mutated cases besides its fixed ones;
//! - `FFU_FUZZ_CASE=I` runs case I only (with the same seed), to reproduce one.
//!
//! `cargo test --test fuzz -- --nocapture` shows how many cases each target ran and how
//! long it took.
//!
//! Where things are: `harness` (settings, randomness, caught panics, the findings of a run),
//! `checks` (what errors must look like), `mutate` (the mutations), `documents` (the real
//! documents cases start from), `follow` (what a successful read goes on to), `targets` (the
//! in-process tests) and `binary` (the tests of the `ffu` binary).

// The modules share this one's imports and each other's items through `use super::*`:
// they are the sections of one test program, split for reading, not separate APIs.
#![allow(clippy::wildcard_imports)]

#[path = "../common/mod.rs"]
mod common;

mod binary;
mod checks;
mod documents;
mod follow;
mod harness;
mod mutate;
mod targets;

use binary::*;
use checks::*;
use documents::*;
use follow::*;
use harness::*;
use mutate::*;
use targets::*;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant};

use ffu_core::{
    import_alembic, render, verify, AlembicLayout, Catalog, Error, Inventory, Mode, NoPlan, Plan,
    PlanRequest, Policy,
};
use serde_json::{json, Map, Value};

/// The seed of a run without `FFU_FUZZ_SEED`.
const DEFAULT_SEED: u64 = 0x00ff_0f0f_2016_1006;

/// Cases per in-process target without `FFU_FUZZ_CASES`: the whole file stays under a
/// minute in a debug build on two cores.
const DEFAULT_CASES: usize = 150;

/// The binary runs `cases / CLI_SHARE` mutated cases: a run costs about as much as six
/// in-process cases (a process, and the embedded catalog parsed again).
const CLI_SHARE: usize = 4;

/// The longest error line allowed, besides the file names in it.
const MAX_LINE: usize = 1024;

/// A run of the binary, or a case in this process, that takes longer hangs.
const HANG: Duration = Duration::from_secs(20);

/// An in-process case that takes longer than this, plus [`SLOW_PER_BYTE`] for each byte
/// of its input, is too slow: work that grows faster than the input (a quadratic loop)
/// shows here long before it hangs.
const SLOW: Duration = Duration::from_secs(5);

/// The slowest honest rate: a debug build parses YAML at about 100 KB/s (10 µs a byte),
/// twenty times slower than a release build, so a quarter-megabyte document of many small
/// items takes seconds.
const SLOW_PER_BYTE: Duration = Duration::from_micros(20);

/// The most a mutation that repeats a chunk adds: enough for a document of many items,
/// small enough that a debug build reads it in a few seconds.
const MAX_REPEAT: usize = 256 * 1024;

/// The address space a run of the binary may take, in KiB: 1 GiB, a hundred times what
/// the largest input here needs.
const MEMORY_KB: u64 = 1 << 20;

/// Inputs saved per rule and target; more of the same teach nothing.
const SAVED_PER_RULE: usize = 3;

/// Inventories with more hosts are read but not planned: a per-host plan of a million
/// hosts (which a mutated range gives) is honest work that takes minutes in a debug build.
const MAX_PLANNED_HOSTS: usize = 300;
