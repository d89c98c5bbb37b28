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

mod common;

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
    Policy,
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

// ---------------------------------------------------------------------------------------
// Settings and randomness

#[derive(Debug, Clone, Copy)]
struct Settings {
    seed: u64,
    cases: usize,
    only: Option<usize>,
}

fn settings() -> Settings {
    let number = |name: &str| -> Option<u64> {
        let text = std::env::var(name).ok()?;
        let trimmed = text.trim();
        let parsed = match trimmed.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => trimmed.parse().ok(),
        };
        Some(parsed.unwrap_or_else(|| panic!("{name}={text:?} is not a number")))
    };
    let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    Settings {
        seed: number("FFU_FUZZ_SEED").unwrap_or(DEFAULT_SEED),
        cases: number("FFU_FUZZ_CASES").map_or(DEFAULT_CASES, to_usize),
        only: number("FFU_FUZZ_CASE").map(to_usize),
    }
}

impl Settings {
    /// The case numbers to run, out of `count`.
    fn cases(self, count: usize) -> Vec<usize> {
        match self.only {
            Some(case) => vec![case],
            None => (0..count).collect(),
        }
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one case: from the run's seed, the target and the case number only, so that
/// `FFU_FUZZ_CASE` reproduces a case without running those before it.
fn case_seed(seed: u64, target: &str, case: usize) -> u64 {
    let mut hash = seed;
    for byte in target.bytes() {
        hash = splitmix(hash ^ u64::from(byte));
    }
    splitmix(hash ^ case as u64)
}

/// xorshift64*: small, fast, and the same on every platform (proptest's runner would
/// shrink, which a mutation of a 90 KB document does not need).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(splitmix(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn percent(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------
// Panics: caught, with their message and place, and not printed for every case

thread_local! {
    /// The message and place of the last panic on this thread.
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Fuzzing threads are named with this prefix; their panics are recorded, not printed (a
/// panic common to many cases would bury the report).
const WORKER: &str = "fuzz-";

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let worker = std::thread::current()
                .name()
                .is_some_and(|name| name.starts_with(WORKER));
            if worker {
                let place = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_owned());
                LAST_PANIC.with(|last| *last.borrow_mut() = format!("{message}{place}"));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `work`, turning a panic into its message.
fn guarded<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(work))
        .map_err(|_| LAST_PANIC.with(|last| std::mem::take(&mut *last.borrow_mut())))
}

// ---------------------------------------------------------------------------------------
// Findings

/// A broken promise: which rule, and what happened.
#[derive(Debug)]
struct Broken {
    rule: String,
    detail: String,
}

fn broken(rule: impl Into<String>, detail: impl Into<String>) -> Broken {
    Broken {
        rule: rule.into(),
        detail: clip(&detail.into(), 400),
    }
}

/// `text` cut to about `max` bytes, saying how long it was.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &text[..end], text.len())
}

/// The files of one case's input, by relative name, to save when it breaks a rule.
type Files = Vec<(String, Vec<u8>)>;

struct Finding {
    rule: String,
    case: usize,
    detail: String,
    saved: Option<PathBuf>,
}

/// What one target found, shared between its worker thread and the test's thread.
struct Findings {
    target: &'static str,
    settings: Settings,
    list: Mutex<Vec<Finding>>,
    ran: AtomicUsize,
    /// Cases whose input the reader accepted (and which went on to the next commands).
    accepted: AtomicUsize,
    /// The slowest case: how long it took, and its number.
    slowest: Mutex<(Duration, usize)>,
    /// How the binary's runs ended ("exit 0", "signal 6", "killed"), and how often.
    endings: Mutex<BTreeMap<String, usize>>,
}

impl Findings {
    fn new(target: &'static str, settings: Settings) -> Findings {
        Findings {
            target,
            settings,
            list: Mutex::new(Vec::new()),
            ran: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
            slowest: Mutex::new((Duration::ZERO, 0)),
            endings: Mutex::new(BTreeMap::new()),
        }
    }

    fn record(&self, case: usize, found: Broken, files: &[(String, Vec<u8>)]) {
        let mut list = self
            .list
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let same = list.iter().filter(|f| f.rule == found.rule).count();
        let saved = (same < SAVED_PER_RULE).then(|| self.save(case, files));
        list.push(Finding {
            rule: found.rule,
            case,
            detail: found.detail,
            saved,
        });
    }

    fn count_ending(&self, outcome: &Outcome) {
        let how = match (outcome.code, outcome.signal) {
            _ if outcome.timed_out => "killed (hang)".to_owned(),
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("signal {signal}"),
            (None, None) => "unknown".to_owned(),
        };
        *self
            .endings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(how)
            .or_default() += 1;
    }

    /// Saves a case's files under `target/tmp/fuzz-failures/TARGET/`.
    fn save(&self, case: usize, files: &[(String, Vec<u8>)]) -> PathBuf {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("fuzz-failures")
            .join(self.target)
            .join(format!("seed-{:#x}-case-{case}", self.settings.seed));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, bytes) in files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(&path, bytes);
        }
        dir
    }

    /// Prints what ran, and fails listing every broken rule with examples.
    // The numbers are printed for people reading `--nocapture` output, and a failure's
    // reproducers must reach them before the panic.
    #[allow(clippy::print_stderr)]
    fn finish(&self, started: Instant) {
        let list = self
            .list
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let seconds = started.elapsed().as_secs_f64();
        let (slowest, slowest_case) = *self
            .slowest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        eprintln!(
            "fuzz {}: {} cases ({} accepted) in {seconds:.1} s (seed {:#x}; slowest: case {slowest_case}, {slowest:.2?}), {} broken",
            self.target,
            self.ran.load(Ordering::Relaxed),
            self.accepted.load(Ordering::Relaxed),
            self.settings.seed,
            list.len()
        );
        let endings = self
            .endings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !endings.is_empty() {
            let shown: Vec<String> = endings
                .iter()
                .map(|(how, count)| format!("{how}: {count}"))
                .collect();
            eprintln!("fuzz {}: runs of ffu: {}", self.target, shown.join(", "));
        }
        if list.is_empty() {
            return;
        }
        let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for finding in list.iter() {
            by_rule.entry(&finding.rule).or_default().push(finding);
        }
        let mut report = String::new();
        for (rule, findings) in &by_rule {
            let _ = writeln!(
                report,
                "\n[{}] {rule}: {} cases",
                self.target,
                findings.len()
            );
            for finding in findings.iter().take(SAVED_PER_RULE) {
                let _ = writeln!(report, "  case {}: {}", finding.case, finding.detail);
                if let Some(saved) = &finding.saved {
                    let _ = writeln!(report, "    input: {}", saved.display());
                }
                let _ = writeln!(
                    report,
                    "    again: FFU_FUZZ_SEED={:#x} FFU_FUZZ_CASE={} cargo test --test fuzz {}",
                    self.settings.seed, finding.case, self.target
                );
            }
        }
        eprintln!("{report}");
        panic!(
            "fuzz {}: {} broken promises in {} rules (listed above)",
            self.target,
            list.len(),
            by_rule.len()
        );
    }
}

/// The test's view of a worker: which case runs, with which input, so that a hang can be
/// reported with its input.
struct Progress {
    tx: mpsc::Sender<usize>,
    current: Arc<Mutex<(usize, Files)>>,
    started: RefCell<Instant>,
}

impl Progress {
    fn begin(&self, case: usize, files: &[(String, Vec<u8>)]) {
        *self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (case, files.to_vec());
        *self.started.borrow_mut() = Instant::now();
        let _ = self.tx.send(case);
    }

    /// Counts the case, and records it if it was slow.
    fn end(&self, findings: &Findings) {
        let took = self.started.borrow().elapsed();
        findings.ran.fetch_add(1, Ordering::Relaxed);
        let current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (case, files) = (current.0, &current.1);
        {
            let mut slowest = findings
                .slowest
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if took > slowest.0 {
                *slowest = (took, case);
            }
        }
        let bytes: usize = files.iter().map(|(_, data)| data.len()).sum();
        let limit = SLOW + SLOW_PER_BYTE * u32::try_from(bytes).unwrap_or(u32::MAX);
        if took > limit {
            findings.record(
                case,
                broken(
                    "a case is slow",
                    format!(
                        "it took {took:.1?} for {bytes} bytes of input (the limit is {limit:.1?})"
                    ),
                ),
                files,
            );
        }
    }
}

/// Runs an in-process target on a worker thread, and fails the test if a case runs longer
/// than [`HANG`] (the thread is left behind: a reader in an endless loop cannot be stopped)
/// or if anything broke.
fn fuzz_in_process(target: &'static str, body: impl FnOnce(&Findings, &Progress) + Send + 'static) {
    install_panic_hook();
    let settings = settings();
    let findings = Arc::new(Findings::new(target, settings));
    let (tx, rx) = mpsc::channel();
    let current = Arc::new(Mutex::new((0, Vec::new())));
    let progress = Progress {
        tx,
        current: Arc::clone(&current),
        started: RefCell::new(Instant::now()),
    };
    let started = Instant::now();
    let worker_findings = Arc::clone(&findings);
    let worker = std::thread::Builder::new()
        .name(format!("{WORKER}{target}"))
        // Deep documents are refused by the parsers' own limits; the stack is the size of
        // the main thread's, as the CLI has it.
        .stack_size(8 << 20)
        .spawn(move || body(&worker_findings, &progress))
        .expect("spawn the fuzzing thread");
    loop {
        match rx.recv_timeout(HANG) {
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let (case, files) = current
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                findings.record(
                    case,
                    broken("hang", format!("the case ran longer than {HANG:?}")),
                    &files,
                );
                findings.finish(started);
                return;
            }
        }
    }
    if let Err(panic) = worker.join() {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        panic!("fuzz {target}: the harness itself failed: {message}");
    }
    findings.finish(started);
}

// ---------------------------------------------------------------------------------------
// What errors must look like

/// The file an error names, for the variants that name one.
fn error_file(err: &Error) -> Option<String> {
    match err {
        Error::Io { path, .. } => Some(path.display().to_string()),
        Error::Parse { file, .. }
        | Error::Invalid { file, .. }
        | Error::Cycle { file, .. }
        | Error::BadPlan { file, .. } => Some(file.clone()),
        _ => None,
    }
}

/// Checks the lines of a message: one line, or (with `chain`) a first line followed by
/// lines indented by two spaces; each at most [`MAX_LINE`] + `allowance` bytes.
fn check_lines(message: &str, chain: bool, allowance: usize) -> Option<Broken> {
    let limit = MAX_LINE + allowance;
    // A value shown raw can end the line early ("\r"), or recolour or rewrite the terminal
    // (ESC): a clear line shows such characters escaped.
    if let Some(control) = message
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Some(broken(
            "the error holds a raw control character",
            format!("{control:?} in {message:?}"),
        ));
    }
    let mut lines = message.split('\n');
    let first = lines.next().unwrap_or_default();
    if first.trim().is_empty() {
        return Some(broken(
            "the error's first line is empty",
            format!("{message:?}"),
        ));
    }
    if first.len() > limit {
        return Some(broken(
            format!("an error line is longer than {MAX_LINE} bytes plus its file names"),
            format!("{} bytes: {first}", first.len()),
        ));
    }
    for line in lines {
        if !chain || !line.starts_with("  ") {
            return Some(broken("the error is not one line", format!("{message:?}")));
        }
        if line.len() > limit {
            return Some(broken(
                format!("an error line is longer than {MAX_LINE} bytes plus its file names"),
                format!("{} bytes (a line of the chain): {line}", line.len()),
            ));
        }
    }
    None
}

/// Checks an error of a reader: it names an accepted file, shows it, and is one bounded
/// line.
fn check_reader_error(err: &Error, accepted: &dyn Fn(&str) -> bool) -> Option<Broken> {
    // As the CLI and Python show it: the error's own text keeps values whole, as data.
    let message = ffu_core::error_text(&err.to_string(), false).into_owned();
    let Some(file) = error_file(err) else {
        return Some(broken("a reader's error names no file", message));
    };
    if file.is_empty() {
        return Some(broken("the error names an empty file", message));
    }
    if !accepted(&file) {
        return Some(broken(
            "the error names another file than the one read",
            format!("names {file:?}: {message}"),
        ));
    }
    let shown_file = ffu_core::error_text(&file, false);
    if !message.contains(&*shown_file) {
        return Some(broken("the message does not show its file", message));
    }
    check_lines(&message, false, 2 * file.len())
}

/// Checks an error of planning or verification: one bounded line, or an order cycle's chain.
fn check_plan_error(err: &Error) -> Option<Broken> {
    let chain = matches!(err, Error::NoPlan(NoPlan::OrderCycle { .. }));
    let allowance = error_file(err).map_or(0, |file| 2 * file.len());
    check_lines(
        &ffu_core::error_text(&err.to_string(), chain),
        chain,
        allowance,
    )
}

// ---------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Yaml,
    Json,
    Python,
}

/// A value to put where a document has another: as data, or as raw text for what data
/// cannot hold (deep nesting, numbers out of range, NaN, YAML tags and aliases).
enum Weird {
    Data(Value),
    Raw(String),
}

/// Strings that are odd in a name, an id, a command or a path. No device or pipe path:
/// the in-process readers have no memory limit, and those are the binary's test.
const ODD_STRINGS: &[&str] = &[
    "",
    " ",
    "no-such-release",
    "2099.1",
    "newton2",
    "\0",
    "a\0b",
    "line\nbreak",
    "tab\there",
    "\u{feff}queens",
    "Queens",
    "é",
    "🦀",
    "\u{202e}reversed",
    "../../etc/passwd",
    "%s%n%x",
    "{{x}}",
    "'\"",
    "\\",
    "-",
    "*",
    "&a",
    "null",
    "~",
    "true",
    "x.y.z",
    " leading",
    "trailing ",
];

const JSON_RAW: &[&str] = &[
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "1.7976931348623157e309",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\u0000\"",
    "01",
    "0x10",
    "+1",
    "1.",
    ".5",
    "tru",
    "nul",
    "\"unterminated",
    "[1,]",
    "{\"a\":1,}",
    "[1 2]",
    "}",
    "]",
    "{\"a\":1,\"a\":2}",
];

const YAML_RAW: &[&str] = &[
    ".nan",
    "-.inf",
    ".inf",
    "0x10",
    "0o17",
    "1_000",
    "~",
    "*undefined",
    "&anchor value",
    "!!binary aGVsbG8=",
    "!!int 3",
    "!!str",
    "!!map {}",
    "!custom-tag x",
    "'single ''quoted'''",
    "\"\\x00\"",
    "\"\\ud800\"",
    "\"\\U0010FFFF\"",
    "'unterminated",
    "\"unterminated",
    "? complex",
    "|\n  literal block",
    ">-\n  folded",
    "2016-10-06T00:00:00Z",
    "1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "[a, b",
    "{a: 1",
    "[&a x, *a, *a]",
    "- item",
    "key: value: more",
    "@reserved",
    "`backtick",
    "%TAG ! tag:x,2000:",
    "---",
    "...",
    "{<<: {a: 1}}",
    "{a: 1, a: 2}",
];

const PYTHON_RAW: &[&str] = &[
    "None",
    "('a', 'b')",
    "['a']",
    "(cli.EXPAND_BRANCH,)",
    "'''triple",
    "\"\"\"doc",
    "f'{x}'",
    "'a' 'b'",
    "b'bytes'",
    "r'raw'",
    "u'uni'",
    "'unterminated",
    "123",
    "-1",
    "(('a',),)",
    "'\\x00'",
    "'é'",
    "()",
    "[]",
    "{'a': 1}",
    "'a' # comment",
    "'a'; revision = 'b'",
    "\\",
];

/// Bytes that mean something to a parser.
const INTERESTING: &[u8] = b"\0\xff\r\n\t {}[]:,\"'&*!|>-#%@`?\\=()";

fn huge_string(rng: &mut Rng) -> String {
    let length = *rng.pick(&[100, 1000, 5000, 70_000, 70_000, 1_100_000]);
    let unit = *rng.pick(&["x", "é", "ab-", "0"]);
    unit.repeat(length / unit.len())
}

fn deep(rng: &mut Rng, syntax: Syntax) -> String {
    let depth = *rng.pick(&[64, 129, 1000, 20_000, 200_000]);
    match (syntax, rng.below(2)) {
        (_, 0) => format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        (Syntax::Json, _) => format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)),
        (Syntax::Yaml, _) => format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth)),
        (Syntax::Python, _) => format!("{}'a'{}", "(".repeat(depth), ",)".repeat(depth)),
    }
}

fn from_pool(rng: &mut Rng, pool: &[String], otherwise: &str) -> String {
    if pool.is_empty() {
        otherwise.to_owned()
    } else {
        rng.pick(pool).clone()
    }
}

/// A name that is almost one of the document's.
fn near_miss(rng: &mut Rng, name: &str) -> String {
    match rng.below(5) {
        0 => format!("{name}x"),
        1 => name.to_uppercase(),
        2 => format!("{name} "),
        3 => name.chars().rev().collect(),
        _ => name.chars().skip(1).collect(),
    }
}

fn weird(rng: &mut Rng, syntax: Syntax, pool: &[String]) -> Weird {
    match rng.below(16) {
        0 | 1 => Weird::Data(Value::String(huge_string(rng))),
        2..=4 => Weird::Data(Value::String(from_pool(rng, pool, "nova"))),
        5 => {
            let name = from_pool(rng, pool, "queens");
            Weird::Data(Value::String(near_miss(rng, &name)))
        }
        6 => Weird::Data(Value::String((*rng.pick(ODD_STRINGS)).to_owned())),
        7 => Weird::Data(
            rng.pick(&[
                json!(-1),
                json!(0),
                json!(i64::MIN),
                json!(u64::MAX),
                json!(1e308),
                json!(-0.5),
                json!(4_294_967_296_u64),
            ])
            .clone(),
        ),
        8 => Weird::Data(rng.pick(&[Value::Null, json!(true), json!(false)]).clone()),
        9 => Weird::Data(
            rng.pick(&[json!([]), json!({}), json!([[]]), json!({"bogus": 1})])
                .clone(),
        ),
        10 => Weird::Raw(deep(rng, syntax)),
        11 | 12 => Weird::Raw(
            (*rng.pick(match syntax {
                Syntax::Json => JSON_RAW,
                Syntax::Yaml => YAML_RAW,
                Syntax::Python => PYTHON_RAW,
            }))
            .to_owned(),
        ),
        13 => Weird::Data(json!([
            from_pool(rng, pool, "a"),
            from_pool(rng, pool, "b")
        ])),
        14 => Weird::Data(Value::String(format!(
            "{}-no-such",
            from_pool(rng, pool, "x")
        ))),
        _ => Weird::Data(json!({"name": from_pool(rng, pool, "n"), "bogus_field": true})),
    }
}

/// The text of a weird value where a scalar is written.
fn weird_text(rng: &mut Rng, syntax: Syntax, pool: &[String]) -> String {
    match weird(rng, syntax, pool) {
        Weird::Raw(raw) => raw,
        Weird::Data(value) => match syntax {
            // JSON is YAML's flow style.
            Syntax::Json | Syntax::Yaml => value.to_string(),
            Syntax::Python => python_literal(&value),
        },
    }
}

fn python_literal(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_literal).collect();
            format!("({},)", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// The strings of a document, as names to put elsewhere in it.
fn string_pool(value: &Value, pool: &mut Vec<String>) {
    match value {
        Value::String(s) if s.len() < 200 => pool.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| string_pool(v, pool)),
        Value::Object(map) => map.values().for_each(|v| string_pool(v, pool)),
        _ => {}
    }
}

/// Words of a text, as names to put elsewhere in it (for documents kept only as text).
fn word_pool(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .filter(|w| w.len() >= 3)
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words.truncate(2000);
    words
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn all_paths(value: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(path.clone());
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(Seg::Index(index));
                all_paths(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                path.push(Seg::Key(key.clone()));
                all_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(root: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut node = root;
    for seg in path {
        node = match seg {
            Seg::Key(key) => node.get_mut(key.as_str())?,
            Seg::Index(index) => node.get_mut(*index)?,
        };
    }
    Some(node)
}

/// Places `weird` at `node`; raw text goes in as a marker string, replaced after writing.
fn place(node: &mut Value, weird: Weird, raws: &mut Vec<String>) {
    *node = match weird {
        Weird::Data(value) => value,
        Weird::Raw(raw) => {
            raws.push(raw);
            Value::String(format!("@@RAW{}@@", raws.len() - 1))
        }
    };
}

/// One structural mutation of a parsed document.
fn mutate_tree(
    rng: &mut Rng,
    root: &mut Value,
    syntax: Syntax,
    pool: &[String],
    raws: &mut Vec<String>,
) {
    let mut paths = Vec::new();
    all_paths(root, &mut Vec::new(), &mut paths);
    if rng.percent(35) {
        reorder_items(rng, root, &paths);
        return;
    }
    let path = rng.pick(&paths).clone();
    let op = rng.below(10);
    let (parent_path, last) = match path.split_last() {
        Some((last, parent)) => (parent.to_vec(), Some(last.clone())),
        None => (Vec::new(), None),
    };
    match op {
        // Drop the node from its parent.
        4 if last.is_some() => {
            if let Some(parent) = node_mut(root, &parent_path) {
                match (parent, last) {
                    (Value::Object(map), Some(Seg::Key(key))) => {
                        map.remove(&key);
                    }
                    (Value::Array(items), Some(Seg::Index(index))) if index < items.len() => {
                        items.remove(index);
                    }
                    _ => {}
                }
            }
        }
        // Duplicate a list item (a duplicate name, id or host), or copy a sibling's value.
        5 if last.is_some() => {
            if let Some(parent) = node_mut(root, &parent_path) {
                match parent {
                    Value::Array(items) if !items.is_empty() => {
                        let item = items[rng.below(items.len())].clone();
                        let at = rng.below(items.len() + 1);
                        items.insert(at, item);
                    }
                    Value::Object(map) if !map.is_empty() => {
                        let keys: Vec<String> = map.keys().cloned().collect();
                        let from = rng.pick(&keys).clone();
                        let to = rng.pick(&keys).clone();
                        let value = map[&from].clone();
                        map.insert(to, value);
                    }
                    _ => {}
                }
            }
        }
        // An unknown field, or a known one where it does not belong.
        6 => {
            let key = match rng.below(4) {
                0 => "bogus".to_owned(),
                1 => "x-vendor".to_owned(),
                2 => from_pool(rng, pool, "name"),
                _ => "Name".to_owned(),
            };
            let value = weird(rng, syntax, pool);
            let target = match node_mut(root, &path) {
                Some(Value::Object(_)) => path.clone(),
                _ => parent_path.clone(),
            };
            if let Some(Value::Object(map)) = node_mut(root, &target) {
                let mut slot = Value::Null;
                place(&mut slot, value, raws);
                map.insert(key, slot);
            }
        }
        // Reorder a list (releases out of order, steps out of order).
        7 => {
            let target = match node_mut(root, &path) {
                Some(Value::Array(_)) => path.clone(),
                _ => parent_path.clone(),
            };
            if let Some(Value::Array(items)) = node_mut(root, &target) {
                if items.len() >= 2 {
                    let a = rng.below(items.len());
                    let b = rng.below(items.len());
                    items.swap(a, b);
                }
            }
        }
        // Empty it.
        8 => {
            if let Some(node) = node_mut(root, &path) {
                match node {
                    Value::Array(items) => items.clear(),
                    Value::Object(map) => map.clear(),
                    other => *other = Value::String(String::new()),
                }
            }
        }
        // A control character in a string (a name, a kind): an error that shows the value
        // must not break its line or write to the terminal.
        3 => {
            // Fields of a fixed set of values half the time: a parser names an unknown
            // one in its message.
            let fixed: Vec<&Vec<Seg>> = paths
                .iter()
                .filter(|p| {
                    matches!(p.last(), Some(Seg::Key(k)) if ["kind", "role", "mode", "action", "skip_level", "format"].contains(&k.as_str()))
                })
                .collect();
            let path = if !fixed.is_empty() && rng.percent(50) {
                (*rng.pick(&fixed)).clone()
            } else {
                path
            };
            let control =
                *rng.pick(&["\n", "\nerror: forged line", "\r", "\u{1b}[31m", "\t", "\0"]);
            if let Some(Value::String(text)) = node_mut(root, &path) {
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.insert_str(at, control);
            }
        }
        // Wrap it in a list or a mapping: the right data at the wrong depth.
        9 => {
            if let Some(node) = node_mut(root, &path) {
                let inner = node.take();
                *node = if rng.percent(50) {
                    Value::Array(vec![inner])
                } else {
                    json!({ "name": inner })
                };
            }
        }
        // Replace it with a weird value.
        _ => {
            let value = weird(rng, syntax, pool);
            if let Some(node) = node_mut(root, &path) {
                place(node, value, raws);
            }
        }
    }
}

/// A mutation that keeps a document well formed but changes what it says: an item of one
/// of its lists (a long list more likely: a plan's steps, a catalog's migrations) moved,
/// dropped, or copied under a new name, or a field of it given the value of the same field
/// of another item (a step moved to another hop, a migration to another release).
fn reorder_items(rng: &mut Rng, root: &mut Value, paths: &[Vec<Seg>]) {
    let lists: Vec<(&Vec<Seg>, usize)> = paths
        .iter()
        .filter_map(|path| {
            let mut node = &*root;
            for seg in path {
                node = match seg {
                    Seg::Key(key) => node.get(key.as_str())?,
                    Seg::Index(index) => node.get(*index)?,
                };
            }
            node.as_array()
                .filter(|items| items.len() >= 2)
                .map(|items| (path, items.len()))
        })
        .collect();
    let total: usize = lists.iter().map(|(_, len)| len).sum();
    if total == 0 {
        return;
    }
    let mut ticket = rng.below(total);
    let mut chosen = lists[0].0.clone();
    for (path, len) in &lists {
        if ticket < *len {
            chosen = (*path).clone();
            break;
        }
        ticket -= len;
    }
    let Some(Value::Array(items)) = node_mut(root, &chosen) else {
        return;
    };
    let a = rng.below(items.len());
    let b = rng.below(items.len());
    match rng.below(5) {
        0 => {
            let item = items.remove(a);
            items.insert(b.min(items.len()), item);
        }
        1 => {
            items.remove(a);
        }
        2 => {
            // A copy under a new id or name, so that it is not refused as a duplicate.
            let mut item = items[a].clone();
            if let Some(map) = item.as_object_mut() {
                for key in ["id", "name"] {
                    if let Some(Value::String(name)) = map.get_mut(key) {
                        name.push_str("-copy");
                    }
                }
            }
            items.insert(b, item);
        }
        _ => {
            // One field of item a takes the value item b has for it.
            let Some(keys) = items[a]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
            else {
                return;
            };
            if keys.is_empty() {
                return;
            }
            let key = rng.pick(&keys).clone();
            if let Some(value) = items[b].get(&key).cloned() {
                if let Some(map) = items[a].as_object_mut() {
                    map.insert(key, value);
                }
            }
        }
    }
}

/// A YAML scalar for a string: plain where YAML reads it back as that string, else quoted
/// (a JSON string is a YAML double-quoted scalar).
fn yaml_string(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
            .contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

fn yaml_scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(yaml_string(s)),
        Value::Array(items) if items.is_empty() => Some("[]".to_owned()),
        Value::Object(map) if map.is_empty() => Some("{}".to_owned()),
        Value::Array(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    }
}

/// Block-style YAML, as people write catalogs and inventories.
fn to_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if let Some(scalar) = yaml_scalar(item) {
                    let _ = writeln!(out, "{pad}{}: {scalar}", yaml_string(key));
                } else {
                    let _ = writeln!(out, "{pad}{}:", yaml_string(key));
                    to_yaml(item, indent + 2, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Some(scalar) = yaml_scalar(item) {
                    let _ = writeln!(out, "{pad}- {scalar}");
                } else {
                    let _ = writeln!(out, "{pad}-");
                    to_yaml(item, indent + 2, out);
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", yaml_scalar(other).unwrap_or_default());
        }
    }
}

/// Writes a (mutated) tree in its syntax, with the raw texts put in place of their markers.
fn write_tree(rng: &mut Rng, value: &Value, syntax: Syntax, raws: &[String]) -> String {
    let mut text = match syntax {
        Syntax::Json if rng.percent(50) => serde_json::to_string_pretty(value).unwrap_or_default(),
        // Flow style YAML, which is JSON, now and then.
        Syntax::Json | Syntax::Yaml if syntax == Syntax::Json || rng.percent(25) => {
            value.to_string()
        }
        _ => {
            let mut out = String::new();
            to_yaml(value, 0, &mut out);
            out
        }
    };
    for (index, raw) in raws.iter().enumerate() {
        text = text.replace(&format!("\"@@RAW{index}@@\""), raw);
    }
    text
}

/// One mutation of the lines of a text.
fn mutate_lines(rng: &mut Rng, text: &str, syntax: Syntax, pool: &[String], other: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let at = rng.below(lines.len());
    match rng.below(10) {
        0 => {
            let line = lines[at].clone();
            let to = rng.below(lines.len() + 1);
            lines.insert(to, line);
        }
        1 if lines.len() > 1 => {
            lines.remove(at);
        }
        2 => {
            let other_at = rng.below(lines.len());
            lines.swap(at, other_at);
        }
        3 => {
            let line = &mut lines[at];
            match rng.below(4) {
                0 => line.insert(0, ' '),
                1 => line.insert_str(0, "   "),
                2 => line.insert(0, '\t'),
                _ => {
                    let trimmed = line.trim_start().to_owned();
                    *line = trimmed;
                }
            }
        }
        // A value replaced, on a line that assigns one; for Python, mostly the revision
        // variables that the importer reads.
        4..=6 => {
            let separator = if syntax == Syntax::Python {
                " = "
            } else {
                ": "
            };
            let candidates: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(separator))
                .filter(|&i| {
                    syntax != Syntax::Python
                        || rng.percent(20)
                        || ["revision", "down_revision", "depends_on", "branch_labels"]
                            .iter()
                            .any(|name| lines[i].starts_with(name))
                })
                .collect();
            if !candidates.is_empty() {
                let line_at = *rng.pick(&candidates);
                let value = if syntax == Syntax::Python && rng.percent(50) {
                    // Another script's revision (a duplicate or a cycle), or several.
                    let a = from_pool(rng, pool, "abc");
                    let b = from_pool(rng, pool, "def");
                    rng.pick(&[
                        format!("'{a}'"),
                        format!("('{a}', '{b}')"),
                        format!("['{a}']"),
                    ])
                    .clone()
                } else {
                    weird_text(rng, syntax, pool)
                };
                let line = &lines[line_at];
                let cut = line.find(separator).unwrap_or(0) + separator.len();
                let mut new = line[..cut].to_owned();
                new.push_str(&value);
                if syntax == Syntax::Json && line.trim_end().ends_with(',') {
                    new.push(',');
                }
                lines[line_at] = new;
            }
        }
        7 => {
            let indent: String = lines[at].chars().take_while(|c| *c == ' ').collect();
            let value = weird_text(rng, syntax, pool);
            let line = match syntax {
                Syntax::Yaml => format!("{indent}bogus_field: {value}"),
                Syntax::Json => format!("{indent}\"bogus\": {value},"),
                Syntax::Python => format!("revision = {value}"),
            };
            lines.insert(at, line);
        }
        8 => {
            let end = (at + 1 + rng.below(20)).min(lines.len());
            let block: Vec<String> = lines[at..end].to_vec();
            let to = rng.below(lines.len() + 1);
            lines.splice(to..to, block);
        }
        _ => {
            let theirs: Vec<&str> = other.split('\n').collect();
            let from = rng.below(theirs.len());
            let end = (from + 1 + rng.below(10)).min(theirs.len());
            let to = rng.below(lines.len() + 1);
            lines.splice(to..to, theirs[from..end].iter().map(|s| (*s).to_owned()));
        }
    }
    lines.join("\n")
}

/// One mutation of bytes.
fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    let at = rng.below(len + 1);
    match rng.below(13) {
        0 if len > 0 => data[at.min(len - 1)] ^= 1 << rng.below(8),
        1 if len > 0 => data[at.min(len - 1)] = *rng.pick(INTERESTING),
        2 => {
            let count = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..count).map(|_| *rng.pick(INTERESTING)).collect();
            data.splice(at..at, bytes);
        }
        3 => {
            let end = (at + 1 + rng.below(64)).min(len);
            data.drain(at.min(end)..end);
        }
        4 => {
            let end = (at + 1 + rng.below(256)).min(len);
            let chunk = data[at.min(end)..end].to_vec();
            let to = rng.below(len + 1);
            data.splice(to..to, chunk);
        }
        5 if !other.is_empty() => {
            let from = rng.below(other.len());
            let end = (from + 1 + rng.below(512)).min(other.len());
            data.splice(at..at, other[from..end].iter().copied());
        }
        6 => data.truncate(at),
        7 => data.insert(at, 0),
        8 => {
            let invalid = *rng.pick(&[
                &b"\xff"[..],
                &b"\xc3"[..],
                &b"\xed\xa0\x80"[..],
                &b"\xf4\x90\x80\x80"[..],
                &b"\xc0\x80"[..],
                &b"\x80"[..],
            ]);
            data.splice(at..at, invalid.iter().copied());
        }
        9 => {
            let crlf: Vec<u8> = data
                .iter()
                .flat_map(|&b| {
                    if b == b'\n' {
                        vec![b'\r', b'\n']
                    } else {
                        vec![b]
                    }
                })
                .collect();
            *data = crlf;
        }
        10 => {
            let bom = *rng.pick(&[&b"\xef\xbb\xbf"[..], &b"\xff\xfe"[..], &b"\xfe\xff"[..]]);
            data.splice(0..0, bom.iter().copied());
        }
        _ => {
            // A chunk repeated, up to MAX_REPEAT bytes: many small items.
            let end = (at + 1 + rng.below(64)).min(len);
            let chunk = data[at.min(end)..end].to_vec();
            if !chunk.is_empty() {
                let times = 1 + rng.below(MAX_REPEAT) / chunk.len();
                data.splice(at..at, chunk.repeat(times));
            }
        }
    }
}

/// A document to mutate: its text, and where it has one, its parsed tree.
struct Seed {
    name: String,
    text: String,
    tree: Option<Value>,
    pool: Vec<String>,
}

impl Seed {
    fn new(name: &str, text: String, tree: Option<Value>) -> Seed {
        let mut pool = Vec::new();
        if let Some(tree) = &tree {
            string_pool(tree, &mut pool);
        }
        pool.extend(word_pool(&text));
        pool.sort();
        pool.dedup();
        Seed {
            name: name.to_owned(),
            text,
            tree,
            pool,
        }
    }
}

/// One to three mutations of a seed: structure, lines or bytes.
fn mutate(rng: &mut Rng, seed: &Seed, syntax: Syntax, other: &str) -> Vec<u8> {
    let mut text = seed.text.clone();
    let mut bytes: Option<Vec<u8>> = None;
    if let (Some(tree), true) = (&seed.tree, rng.percent(45)) {
        let mut tree = tree.clone();
        let mut raws = Vec::new();
        for _ in 0..=rng.below(3) {
            mutate_tree(rng, &mut tree, syntax, &seed.pool, &mut raws);
        }
        text = write_tree(rng, &tree, syntax, &raws);
        if rng.percent(70) {
            return text.into_bytes();
        }
    }
    for _ in 0..=rng.below(3) {
        if rng.percent(55) && bytes.is_none() {
            text = mutate_lines(rng, &text, syntax, &seed.pool, other);
        } else {
            let data = bytes.get_or_insert_with(|| text.as_bytes().to_vec());
            mutate_bytes(rng, data, other.as_bytes());
        }
    }
    bytes.unwrap_or_else(|| text.into_bytes())
}

// ---------------------------------------------------------------------------------------
// The documents

fn data_text(name: &str) -> String {
    std::fs::read_to_string(common::data(name)).expect("test data")
}

/// The catalog's JSON as a tree.
fn tree_of(catalog: &Catalog) -> Value {
    serde_json::from_str(&catalog.to_json().expect("show the catalog")).expect("its JSON")
}

/// Catalogs as YAML or JSON text: the embedded one and those of `tests/data`.
fn catalog_seeds(syntax: Syntax) -> Vec<Seed> {
    let texts = [
        ("openstack", Catalog::openstack_yaml().to_owned()),
        ("small", data_text("small.yaml")),
        ("alembic-test", data_text("alembic-test.yaml")),
    ];
    texts
        .into_iter()
        .map(|(name, yaml)| {
            let catalog = Catalog::from_yaml_str(&yaml, name).expect("a seed catalog loads");
            let tree = tree_of(&catalog);
            match syntax {
                Syntax::Json => {
                    let json = catalog.to_json().expect("show the catalog");
                    Seed::new(&format!("{name}.json"), json, Some(tree))
                }
                _ => Seed::new(&format!("{name}.yaml"), yaml, Some(tree)),
            }
        })
        .collect()
}

/// Inventories of realistic clouds, as trees (written as YAML or JSON when used).
fn inventory_trees() -> Vec<(&'static str, Value)> {
    let pike = |names: &[&str]| -> Value {
        Value::Object(
            names
                .iter()
                .map(|n| ((*n).to_owned(), json!("pike")))
                .collect::<Map<String, Value>>(),
        )
    };
    let at = |release: &str, names: &[&str]| -> Value {
        Value::Object(
            names
                .iter()
                .map(|n| ((*n).to_owned(), json!(release)))
                .collect::<Map<String, Value>>(),
        )
    };
    vec![
        (
            // A pike cloud with a network node: neutron-server and the L3 agent on one host.
            "network-node",
            json!({
                "format": "ffu-inventory/1",
                "hosts": [
                    {"name": "ctl-[1:3]", "components": pike(&[
                        "keystone-api", "glance-api", "cinder-api", "cinder-scheduler",
                        "nova-api", "nova-conductor", "nova-scheduler", "neutron-server",
                        "heat-api", "heat-engine"])},
                    {"name": "net-1", "components": pike(&[
                        "neutron-server", "neutron-l3-agent", "neutron-dhcp-agent",
                        "neutron-metadata-agent", "neutron-openvswitch-agent", "ovs-vswitchd"])},
                    {"name": "cmp-[a:c]-[01:16]", "components": pike(&[
                        "nova-compute", "neutron-openvswitch-agent", "libvirt-guests",
                        "ovs-vswitchd"])},
                    {"name": "spare-1"},
                ]
            }),
        ),
        (
            // A 2023.1 cloud with placement and ironic, computes in a stepped range.
            "antelope",
            json!({
                "format": "ffu-inventory/1",
                "hosts": [
                    {"name": "ctl-[01:03]", "components": at("2023.1", &[
                        "keystone-api", "glance-api", "placement-api", "nova-api",
                        "nova-conductor", "nova-scheduler", "nova-novncproxy", "neutron-server",
                        "ironic-api", "ironic-conductor", "cinder-api", "cinder-scheduler",
                        "cinder-volume"])},
                    {"name": "cmp-[000:200:10]", "components": at("2023.1", &[
                        "nova-compute", "neutron-openvswitch-agent", "libvirt-guests",
                        "ovs-vswitchd"])},
                ]
            }),
        ),
        (
            // A small newton cloud.
            "newton",
            json!({
                "format": "ffu-inventory/1",
                "hosts": [
                    {"name": "ctl-1", "components": at("newton", &[
                        "keystone-api", "glance-api", "nova-api", "nova-conductor",
                        "nova-scheduler", "nova-consoleauth", "neutron-server"])},
                    {"name": "cmp-[1:4]", "components": at("newton", &[
                        "nova-compute", "libvirt-guests", "neutron-openvswitch-agent"])},
                ]
            }),
        ),
    ]
}

/// Inventories as text: the trees written as YAML (or JSON), and those of `tests/data`.
fn inventory_seeds(syntax: Syntax) -> Vec<Seed> {
    let mut seeds: Vec<Seed> = inventory_trees()
        .into_iter()
        .map(|(name, tree)| {
            let text = if syntax == Syntax::Json {
                serde_json::to_string_pretty(&tree).expect("JSON")
            } else {
                let mut out = String::new();
                to_yaml(&tree, 0, &mut out);
                out
            };
            Seed::new(name, text, Some(tree))
        })
        .collect();
    if syntax == Syntax::Yaml {
        for name in ["inventory-pike.yaml", "inventory-mixed.yaml"] {
            seeds.push(Seed::new(name, data_text(name), None));
        }
    }
    seeds
}

/// Plans the planner made, as JSON, with the catalog each was made from.
fn plan_seeds() -> Vec<(Seed, Arc<Catalog>)> {
    let openstack = Arc::new(Catalog::openstack());
    let small = Arc::new(
        Catalog::from_yaml_str(&data_text("small.yaml"), "small.yaml").expect("small catalog"),
    );
    let alembic = Arc::new(
        Catalog::from_yaml_str(&data_text("alembic-test.yaml"), "alembic-test.yaml")
            .expect("alembic-test catalog"),
    );
    let skip = Policy {
        skip_level: true,
        ..Policy::default()
    };
    let rolling = Policy {
        mode: Mode::Rolling,
        max_unavailable: Some("10%".to_owned()),
        ..Policy::default()
    };
    let inventory = Inventory::from_yaml_str(
        &openstack,
        &data_text("inventory-pike.yaml"),
        "inventory-pike.yaml",
    )
    .expect("pike inventory");
    let plans = [
        (
            "newton-queens",
            &openstack,
            openstack.plan("newton", "queens", &Policy::default()),
        ),
        (
            "antelope-epoxy",
            &openstack,
            openstack.plan("2023.1", "2025.1", &skip),
        ),
        (
            "pike-queens-rolling",
            &openstack,
            openstack.plan_inventory(&inventory, "queens", &rolling),
        ),
        (
            "inventory-pike-queens",
            &openstack,
            openstack.plan_inventory(&inventory, "queens", &Policy::default()),
        ),
        ("small", &small, small.plan("r1", "r4", &skip)),
        (
            "alembic-test",
            &alembic,
            alembic.plan("r1", "r3", &Policy::default()),
        ),
    ];
    plans
        .into_iter()
        .map(|(name, catalog, plan)| {
            let plan = plan.unwrap_or_else(|err| panic!("seed plan {name}: {err}"));
            let text = plan.to_json();
            let tree = serde_json::from_str(&text).expect("plan JSON");
            (Seed::new(name, text, Some(tree)), Arc::clone(catalog))
        })
        .collect()
}

/// The files under `dir`, by relative `/`-separated name.
fn read_tree(dir: &Path) -> Files {
    fn walk(dir: &Path, prefix: &str, out: &mut Files) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read test data")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if path.is_dir() {
                walk(&path, &rel, out);
            } else {
                out.push((rel, std::fs::read(&path).expect("read test data")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out
}

/// Writes files into a fresh `dir`.
fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("case dir");
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("case subdir");
        }
        std::fs::write(&path, bytes).expect("case file");
    }
}

/// Catalogs split into fragments joined by `include:`: the root first. Each has the
/// files a mutated `include:` list may name to make a loop or a chain too deep.
fn include_sets() -> Vec<Files> {
    let yaml = |value: &Value| {
        let mut out = String::new();
        to_yaml(value, 0, &mut out);
        out.into_bytes()
    };
    let json = |value: &Value| serde_json::to_vec_pretty(value).expect("JSON");
    let split = |catalog: &Catalog| -> Files {
        let Value::Object(tree) = tree_of(catalog) else {
            unreachable!("a catalog is a mapping")
        };
        let mut root = Map::new();
        let mut services = Map::new();
        let mut migrations = Map::new();
        let mut rest = Map::new();
        for (key, value) in tree {
            match key.as_str() {
                "format" | "name" | "releases" | "skip_level" | "edges" => {
                    root.insert(key, value);
                }
                "services" => {
                    services.insert(key, value);
                }
                "migrations" => {
                    migrations.insert(key, value);
                }
                _ => {
                    rest.insert(key, value);
                }
            }
        }
        root.insert(
            "include".to_owned(),
            json!(["services.yaml", "frag/migrations.json"]),
        );
        // Paths in a fragment are relative to the fragment.
        migrations.insert("include".to_owned(), json!(["../rest.yaml"]));
        vec![
            ("root.yaml".to_owned(), yaml(&Value::Object(root))),
            ("services.yaml".to_owned(), yaml(&Value::Object(services))),
            (
                "frag/migrations.json".to_owned(),
                json(&Value::Object(migrations)),
            ),
            ("rest.yaml".to_owned(), yaml(&Value::Object(rest))),
        ]
    };
    let alembic = import_alembic(
        &common::data("alembic/generated"),
        "demo",
        &AlembicLayout::Single {
            release: "r2".to_owned(),
        },
    )
    .expect("import the generated scripts");
    let alembic_root = "format: ffu-catalog/1\nname: demo\ninclude: [fragment.yaml]\nreleases: [{name: r1}, {name: r2}]\nservices:\n  - name: demo\n    components: [{name: demo-server, role: control}]\n";
    let mut sets = vec![
        split(&Catalog::openstack()),
        split(&Catalog::from_yaml_str(&data_text("small.yaml"), "small.yaml").expect("small")),
        vec![
            ("root.yaml".to_owned(), alembic_root.as_bytes().to_vec()),
            ("fragment.yaml".to_owned(), alembic.to_yaml().into_bytes()),
        ],
        vec![("root.yaml".to_owned(), data_text("small.yaml").into_bytes())],
    ];
    // Always there, for mutated includes to name: a loop, and a chain deeper than allowed.
    for set in &mut sets {
        set.push((
            "loop-a.yaml".to_owned(),
            b"include: [loop-b.yaml]\n".to_vec(),
        ));
        set.push((
            "loop-b.yaml".to_owned(),
            b"include: [loop-a.yaml]\n".to_vec(),
        ));
        for depth in 0..20 {
            set.push((
                format!("chain/{depth}.yaml"),
                format!("include: [{}.yaml]\n", depth + 1).into_bytes(),
            ));
        }
    }
    sets
}

/// Odd `include:` entries, relative to the root's directory.
fn odd_includes() -> Vec<String> {
    vec![
        "missing.yaml".to_owned(),
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
        "root.yaml".to_owned(),
        "frag".to_owned(),
        "/nonexistent/x.yaml".to_owned(),
        "loop-a.yaml".to_owned(),
        "chain/0.yaml".to_owned(),
        "a".repeat(300),
        "x/".repeat(2100),
        "services.yaml".to_owned(),
        "fragment.yaml\0".to_owned(),
    ]
}

// ---------------------------------------------------------------------------------------
// What follows a successful read

/// A policy for a plan, now and then odd.
fn random_policy(rng: &mut Rng, catalog: &Catalog) -> Policy {
    let services = rng.percent(15).then(|| {
        let mut names: Vec<String> = catalog
            .services()
            .iter()
            .filter(|_| rng.percent(50))
            .map(|s| s.name.clone())
            .collect();
        if rng.percent(20) {
            names.push("no-such-service".to_owned());
        }
        names
    });
    let rolling = rng.percent(25);
    Policy {
        mode: if rolling {
            Mode::Rolling
        } else {
            Mode::Offline
        },
        skip_level: rng.percent(30),
        keep_dataplane: rng.percent(90),
        services,
        max_unavailable: (rolling && rng.percent(50)).then(|| {
            (*rng.pick(&[
                "1",
                "2",
                "10%",
                "0",
                "0%",
                "-1",
                "abc",
                "100%",
                "1000%",
                "99999999999999999999",
                "",
            ]))
            .to_owned()
        }),
    }
}

/// A plan the planner made: it must pass its own verification, come back equal through
/// JSON, and render.
fn check_own_plan(catalog: &Catalog, plan: &Plan) -> Option<Broken> {
    let outcome = guarded(|| {
        let json = plan.to_json();
        let again = Plan::from_json(&json, "own-plan.json");
        let violations = verify(catalog, plan);
        let _ = render::text(plan, Some(catalog));
        let _ = render::dot(plan);
        (again, violations)
    });
    let (again, violations) = match outcome {
        Ok(result) => result,
        Err(panic) => return Some(broken("panic with a plan the planner made", panic)),
    };
    match again {
        Ok(again) if again == *plan => {}
        Ok(_) => {
            return Some(broken(
                "the planner's plan changes through to_json and from_json",
                format!("{} -> {}", plan.from, plan.to),
            ))
        }
        Err(err) => {
            return Some(broken(
                "the planner's plan does not read back from its JSON",
                err.to_string(),
            ))
        }
    }
    match violations {
        Ok(list) if list.is_empty() => None,
        Ok(list) => {
            let shown: Vec<String> = list.iter().take(3).map(ToString::to_string).collect();
            Some(broken(
                "the planner's plan fails its own verify",
                format!(
                    "{} -> {} ({:?}): {} violations: {}",
                    plan.from,
                    plan.to,
                    plan.policy.mode,
                    list.len(),
                    shown.join(" | ")
                ),
            ))
        }
        Err(err) => Some(broken("verify refuses the planner's plan", err.to_string())),
    }
}

/// A loaded catalog, used as the next commands would: shown (and loaded again), and
/// planned between two of its releases.
fn exercise_catalog(rng: &mut Rng, catalog: &Catalog) -> Option<Broken> {
    let shown = guarded(|| {
        if rng.percent(50) {
            catalog
                .to_json()
                .map(|text| Catalog::from_json_str(&text, "shown.json"))
        } else {
            catalog
                .to_yaml()
                .map(|text| Catalog::from_yaml_str(&text, "shown.yaml"))
        }
    });
    match shown {
        Err(panic) => return Some(broken("panic in showing a catalog", panic)),
        Ok(Err(err)) => return Some(broken("a loaded catalog cannot be shown", err.to_string())),
        Ok(Ok(Err(err))) => {
            return Some(broken(
                "a shown catalog does not load again",
                err.to_string(),
            ))
        }
        Ok(Ok(Ok(_))) => {}
    }
    let releases: Vec<String> = catalog.releases().iter().map(|r| r.name.clone()).collect();
    if releases.is_empty() || rng.percent(30) {
        return None;
    }
    let a = rng.below(releases.len());
    let b = rng.below(releases.len());
    let (from, to) = if rng.percent(85) {
        (&releases[a.min(b)], &releases[a.max(b)])
    } else {
        (&releases[a], &releases[b])
    };
    let policy = random_policy(rng, catalog);
    match guarded(|| catalog.plan(from, to, &policy)) {
        Err(panic) => Some(broken(
            "panic in planning",
            format!("{from} -> {to}: {panic}"),
        )),
        Ok(Err(err)) => check_plan_error(&err),
        Ok(Ok(plan)) => check_own_plan(catalog, &plan),
    }
}

// ---------------------------------------------------------------------------------------
// The in-process targets

/// Catalogs from text, YAML or JSON.
fn fuzz_catalog_text(target: &'static str, syntax: Syntax) {
    fuzz_in_process(target, move |findings, progress| {
        let seeds = catalog_seeds(syntax);
        let name = if syntax == Syntax::Json {
            "fuzz-case.json"
        } else {
            "fuzz-case.yaml"
        };
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let seed = rng.pick(&seeds);
            let other = &rng.pick(&seeds).text;
            let bytes = mutate(&mut rng, seed, syntax, other);
            let files = vec![(name.to_owned(), bytes)];
            progress.begin(case, &files);
            // The text readers take `str`; invalid UTF-8 reaches them as replacement
            // characters (the file readers see the bytes: the `catalog_files` target).
            let text = String::from_utf8_lossy(&files[0].1);
            let loaded = guarded(|| match syntax {
                Syntax::Json => Catalog::from_json_str(&text, name),
                _ => Catalog::from_yaml_str(&text, name),
            });
            let found = match loaded {
                Err(panic) => Some(broken("panic in reading a catalog", panic)),
                Ok(Err(err)) => check_reader_error(&err, &|file| file == name),
                Ok(Ok(catalog)) => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    exercise_catalog(&mut rng, &catalog)
                }
            };
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

#[test]
fn catalog_yaml() {
    fuzz_catalog_text("catalog_yaml", Syntax::Yaml);
}

#[test]
fn catalog_json() {
    fuzz_catalog_text("catalog_json", Syntax::Json);
}

/// A case of the include sets: one file mutated, or the root's `include:` list (then also
/// the odd entry put in it).
fn mutate_include_set(
    rng: &mut Rng,
    set: &[(String, Vec<u8>)],
    other: &str,
) -> (Files, Option<String>) {
    let mut files = set.to_vec();
    if rng.percent(25) {
        // An odd entry in the root's `include:` (written as YAML flow, which every root
        // here can take in place of its own list: a duplicate key is an error too).
        let odd = odd_includes();
        let entry = rng.pick(&odd).clone();
        let line = format!("include: [{}]\n", Value::String(entry.clone()));
        let root = &mut files[0].1;
        let text = String::from_utf8_lossy(root).into_owned();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("include:"))
            .collect();
        *root = format!("{line}{}\n", kept.join("\n")).into_bytes();
        return (files, Some(entry));
    }
    // The root half the time, else a fragment (not the loop or chain files).
    let fragments = files
        .iter()
        .take_while(|(name, _)| !name.starts_with("loop-"))
        .count();
    let index = if rng.percent(50) {
        0
    } else {
        rng.below(fragments)
    };
    let (name, bytes) = &files[index];
    let syntax = if has_extension(name, "json") {
        Syntax::Json
    } else {
        Syntax::Yaml
    };
    let seed = Seed::new(name, String::from_utf8_lossy(bytes).into_owned(), None);
    files[index].1 = mutate(rng, &seed, syntax, other);
    (files, None)
}

#[test]
fn catalog_files() {
    let target = "catalog_files";
    fuzz_in_process(target, move |findings, progress| {
        let sets = include_sets();
        let dir = common::temp_dir("fuzz-catalog-files");
        let case_dir = dir.join("case");
        let prefix = case_dir.display().to_string();
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let set = rng.pick(&sets);
            let other_set = rng.pick(&sets);
            let other = String::from_utf8_lossy(&rng.pick(other_set).1).into_owned();
            let (files, _) = mutate_include_set(&mut rng, set, &other);
            progress.begin(case, &files);
            write_files(&case_dir, &files);
            let root = case_dir.join("root.yaml");
            let loaded = guarded(|| Catalog::from_path(&root));
            let accepted =
                |file: &str| file.starts_with(&prefix) || file.starts_with("/nonexistent");
            let found = match loaded {
                Err(panic) => Some(broken("panic in reading a catalog file", panic)),
                Ok(Err(err)) => check_reader_error(&err, &accepted),
                Ok(Ok(catalog)) => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    exercise_catalog(&mut rng, &catalog)
                }
            };
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

#[test]
fn inventories() {
    let target = "inventories";
    fuzz_in_process(target, move |findings, progress| {
        let catalog = Catalog::openstack();
        let yaml = inventory_seeds(Syntax::Yaml);
        let json = inventory_seeds(Syntax::Json);
        let releases: Vec<String> = catalog.releases().iter().map(|r| r.name.clone()).collect();
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let syntax = if rng.percent(25) {
                Syntax::Json
            } else {
                Syntax::Yaml
            };
            let seeds = if syntax == Syntax::Json { &json } else { &yaml };
            let seed = rng.pick(seeds);
            let other = &rng.pick(&yaml).text;
            let name = if syntax == Syntax::Json {
                "fuzz-inventory.json"
            } else {
                "fuzz-inventory.yaml"
            };
            let files = vec![(name.to_owned(), mutate(&mut rng, seed, syntax, other))];
            progress.begin(case, &files);
            let text = String::from_utf8_lossy(&files[0].1);
            let loaded = guarded(|| match syntax {
                Syntax::Json => Inventory::from_json_str(&catalog, &text, name),
                _ => Inventory::from_yaml_str(&catalog, &text, name),
            });
            let found = match loaded {
                Err(panic) => Some(broken("panic in reading an inventory", panic)),
                Ok(Err(err)) => check_reader_error(&err, &|file| file == name),
                Ok(Ok(inventory)) if inventory.hosts().len() <= MAX_PLANNED_HOSTS => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    let to = if rng.percent(50) {
                        "queens".to_owned()
                    } else {
                        rng.pick(&releases).clone()
                    };
                    let policy = random_policy(&mut rng, &catalog);
                    let planned = guarded(|| {
                        let _ = catalog.negotiate(&inventory);
                        catalog.plan_inventory(&inventory, &to, &policy)
                    });
                    match planned {
                        Err(panic) => Some(broken("panic in planning an inventory", panic)),
                        Ok(Err(err)) => check_plan_error(&err),
                        Ok(Ok(plan)) => check_own_plan(&catalog, &plan),
                    }
                }
                Ok(Ok(_)) => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

#[test]
fn plans() {
    let target = "plans";
    fuzz_in_process(target, move |findings, progress| {
        let seeds = plan_seeds();
        let name = "fuzz-plan.json";
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let (seed, catalog) = rng.pick(&seeds);
            let other = &rng.pick(&seeds).0.text;
            let files = vec![(name.to_owned(), mutate(&mut rng, seed, Syntax::Json, other))];
            progress.begin(case, &files);
            let text = String::from_utf8_lossy(&files[0].1);
            let found = match guarded(|| Plan::from_json(&text, name)) {
                Err(panic) => Some(broken("panic in reading a plan", panic)),
                Ok(Err(err)) => check_reader_error(&err, &|file| file == name),
                Ok(Ok(plan)) => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    // What `ffu verify` does, and what Python's Plan.from_json(...).to_text()
                    // and .to_json() do with a plan nobody checked.
                    let used = guarded(|| {
                        let verified = verify(catalog, &plan);
                        let _ = render::text(&plan, Some(catalog));
                        let _ = render::dot(&plan);
                        let again = Plan::from_json(&plan.to_json(), name);
                        (verified, again)
                    });
                    match used {
                        Err(panic) => Some(broken("panic in verifying or writing a plan", panic)),
                        Ok((Err(err), _)) => check_plan_error(&err),
                        Ok((Ok(_), Err(err))) => Some(broken(
                            "a plan read does not read back from its own JSON",
                            err.to_string(),
                        )),
                        Ok((Ok(_), Ok(again))) if again != plan => Some(broken(
                            "a plan read changes through to_json and from_json",
                            String::new(),
                        )),
                        Ok(_) => None,
                    }
                }
            };
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

fn has_extension(name: &str, extension: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case(extension))
}

/// Script names of a directory snapshot.
fn scripts(files: &[(String, Vec<u8>)]) -> Vec<usize> {
    (0..files.len())
        .filter(|&i| has_extension(&files[i].0, "py"))
        .collect()
}

/// One to three mutations of an alembic directory: a script's text, or whole scripts.
fn mutate_alembic(rng: &mut Rng, snapshot: &[(String, Vec<u8>)], pool: &[String]) -> Files {
    let mut files = snapshot.to_vec();
    for _ in 0..=rng.below(3) {
        let list = scripts(&files);
        if list.is_empty() {
            break;
        }
        let index = *rng.pick(&list);
        match rng.below(10) {
            0 => {
                files.remove(index);
            }
            1 => {
                // The same revision twice.
                let copy = files[index].1.clone();
                files.push((format!("copy_{}", files[index].0), copy));
            }
            2 => {
                // Out of the `<release>/<expand|contract>/` layout.
                let base = files[index]
                    .0
                    .rsplit('/')
                    .next()
                    .unwrap_or("x.py")
                    .to_owned();
                let dirs = [
                    "",
                    "weird/",
                    "a/b/c/d/e/",
                    "newton/sideways/",
                    "ocata/expand/deeper/",
                ];
                files[index].0 = format!("{}{base}", rng.pick(&dirs));
            }
            3 => {
                let junk = *rng.pick(&[
                    &b""[..],
                    &b"revision = 'init'\n"[..],
                    &b"\xff\xfe"[..],
                    &b"revision = '"[..],
                ]);
                let name = *rng.pick(&["__init__.py", ".hidden.py", "empty.py", "notes.txt"]);
                files.push((name.to_owned(), junk.to_vec()));
            }
            _ => {
                let text = String::from_utf8_lossy(&files[index].1).into_owned();
                let seed = Seed {
                    name: files[index].0.clone(),
                    text,
                    tree: None,
                    pool: pool.to_vec(),
                };
                let other_index = *rng.pick(&list);
                let other = String::from_utf8_lossy(&files[other_index].1).into_owned();
                files[index].1 = mutate(rng, &seed, Syntax::Python, &other);
            }
        }
    }
    files
}

#[test]
fn alembic_scripts() {
    let target = "alembic_scripts";
    fuzz_in_process(target, move |findings, progress| {
        let generated = read_tree(&common::data("alembic/generated"));
        let neutron = read_tree(&common::data("alembic/neutron"));
        // Revision ids, to make duplicates and cycles.
        let pool = |files: &Files| -> Vec<String> {
            files
                .iter()
                .filter_map(|(name, _)| {
                    name.rsplit('/')
                        .next()?
                        .split('_')
                        .next()
                        .map(str::to_owned)
                })
                .collect()
        };
        let pools = [pool(&generated), pool(&neutron)];
        let dir = common::temp_dir("fuzz-alembic");
        let case_dir = dir.join("case");
        let prefix = case_dir.display().to_string();
        for case in findings.settings.cases(findings.settings.cases) {
            let mut rng = Rng::new(case_seed(findings.settings.seed, target, case));
            let which = rng.below(2);
            let snapshot = if which == 0 { &generated } else { &neutron };
            let files = mutate_alembic(&mut rng, snapshot, &pools[which]);
            let releases_dirs = if which == 0 {
                rng.percent(15)
            } else {
                rng.percent(85)
            };
            let layout = if releases_dirs {
                AlembicLayout::ReleaseDirs
            } else {
                let huge = "r".repeat(5000);
                let releases = ["r2", "", "newton", "no such", huge.as_str()];
                AlembicLayout::Single {
                    release: (*rng.pick(&releases)).to_owned(),
                }
            };
            let service = *rng.pick(&["neutron", "demo", "", "a b"]);
            progress.begin(case, &files);
            write_files(&case_dir, &files);
            let imported = guarded(|| {
                import_alembic(&case_dir, service, &layout).map(|import| {
                    let json = import.to_json();
                    let _ = import.to_yaml();
                    serde_json::from_str::<Value>(&json).is_ok()
                })
            });
            let found = match imported {
                Err(panic) => Some(broken("panic in importing alembic scripts", panic)),
                Ok(Err(err)) => check_reader_error(&err, &|file| file.starts_with(&prefix)),
                Ok(Ok(true)) => {
                    findings.accepted.fetch_add(1, Ordering::Relaxed);
                    None
                }
                Ok(Ok(false)) => Some(broken(
                    "an alembic import writes JSON that does not parse",
                    String::new(),
                )),
            };
            if let Some(found) = found {
                findings.record(case, found, &files);
            }
            progress.end(findings);
        }
    });
}

// ---------------------------------------------------------------------------------------
// The binary

/// How one run of the binary ended.
struct Outcome {
    code: Option<i32>,
    signal: Option<i32>,
    stderr: String,
    timed_out: bool,
}

/// Runs `ffu ARGS` in `dir`, under the address-space limit, killed after [`HANG`]; stdin
/// is empty, stdout discarded, stderr kept in `stderr_file`.
fn run_ffu(dir: &Path, args: &[std::ffi::OsString], stderr_file: &Path) -> Outcome {
    use std::os::unix::process::ExitStatusExt as _;
    let stderr = std::fs::File::create(stderr_file).expect("stderr file");
    // `ulimit -v` sets RLIMIT_AS for the shell, which `exec` turns into ffu: no unsafe
    // `pre_exec` and no crate for it.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_ffu"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("run ffu");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ffu") {
            break Some(status);
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr =
        String::from_utf8_lossy(&std::fs::read(stderr_file).unwrap_or_default()).into_owned();
    Outcome {
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        stderr,
        timed_out: status.is_none(),
    }
}

/// Checks a run of the binary: exit 0, 1 or 2; no panic, no memory exhaustion; on 1 and
/// 2 one bounded `error:` line (after warnings, before a chain's indented lines) that names
/// one of the files `names` where it says where (`error: FILE[:LINE:COLUMN]: ...`), or,
/// for an error about a command-line argument, the value given (one of `arguments`).
fn check_run(outcome: &Outcome, names: &[String], arguments: &[String]) -> Option<Broken> {
    let stderr = &outcome.stderr;
    if outcome.timed_out {
        return Some(broken(
            format!("ffu hangs (killed after {} s)", HANG.as_secs()),
            stderr.clone(),
        ));
    }
    if let Some(signal) = outcome.signal {
        return Some(broken(
            format!("ffu dies by signal {signal}"),
            stderr.clone(),
        ));
    }
    if stderr.contains("panicked") {
        return Some(broken("ffu panics", stderr.clone()));
    }
    if stderr.contains("out of memory") || stderr.contains("memory allocation") {
        return Some(broken(
            "ffu reaches the memory limit (reads without bound)",
            stderr.clone(),
        ));
    }
    let code = outcome.code.unwrap_or(-1);
    if !(0..=2).contains(&code) {
        return Some(broken(format!("ffu exits with {code}"), stderr.clone()));
    }
    if code == 0 {
        return None;
    }
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.starts_with("warning: "))
        .collect();
    let Some(first) = lines.first() else {
        return Some(broken(
            format!("exit {code} without an error message"),
            String::new(),
        ));
    };
    if !first.starts_with("error: ") {
        return Some(broken(
            "the error message does not start with `error:`",
            stderr.clone(),
        ));
    }
    let allowance = 2 * names.iter().map(String::len).max().unwrap_or(0);
    if let Some(found) = check_lines(&lines.join("\n"), code == 1, allowance) {
        return Some(found);
    }
    // The file comes first: `error: FILE[:LINE:COLUMN]: ...`.
    let place = first
        .trim_start_matches("error: ")
        .split(": ")
        .next()
        .unwrap_or_default();
    let names_a_file = names
        .iter()
        .any(|name| !name.is_empty() && place.contains(name.as_str()));
    let names_an_argument = arguments.iter().any(|value| {
        first.contains(&format!("{value:?}"))
            || (!value.is_empty() && first.contains(value.as_str()))
    });
    if !names_a_file && !names_an_argument {
        return Some(broken(
            format!("exit {code}: the error line names no file given"),
            format!("{} (files: {})", first, names.join(", ")),
        ));
    }
    None
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(Into::into).collect()
}

/// The documents the binary's cases start from.
struct CliCorpus {
    /// Catalog files, each a set of files (the root first) with its syntax, and the tree
    /// of a single file.
    catalogs: Vec<(Files, Syntax, Option<Value>)>,
    /// Release names of each seed catalog, by root file name.
    releases: BTreeMap<String, Vec<String>>,
    inventories: Vec<(Seed, Syntax)>,
    /// Plans, with the catalog file each needs (none for the embedded catalog).
    plans: Vec<(Seed, Option<(String, String)>)>,
    alembic: Vec<(Files, Vec<String>)>,
}

fn cli_corpus() -> CliCorpus {
    let mut catalogs = Vec::new();
    let mut releases = BTreeMap::new();
    for syntax in [Syntax::Yaml, Syntax::Json] {
        for seed in catalog_seeds(syntax) {
            if let Some(Value::Array(list)) = seed.tree.as_ref().and_then(|t| t.get("releases")) {
                let names = list
                    .iter()
                    .filter_map(|r| r.get("name")?.as_str().map(str::to_owned))
                    .collect();
                releases.insert(seed.name.clone(), names);
            }
            catalogs.push((
                vec![(seed.name.clone(), seed.text.into_bytes())],
                syntax,
                seed.tree,
            ));
        }
    }
    for set in include_sets() {
        catalogs.push((set, Syntax::Yaml, None));
    }
    let mut inventories: Vec<(Seed, Syntax)> = inventory_seeds(Syntax::Yaml)
        .into_iter()
        .map(|s| (s, Syntax::Yaml))
        .collect();
    inventories.extend(
        inventory_seeds(Syntax::Json)
            .into_iter()
            .map(|s| (s, Syntax::Json)),
    );
    let plans = plan_seeds()
        .into_iter()
        .map(|(seed, catalog)| {
            let file = match catalog.name() {
                "small" => Some(("small.yaml".to_owned(), data_text("small.yaml"))),
                "alembic-test" => Some((
                    "alembic-test.yaml".to_owned(),
                    data_text("alembic-test.yaml"),
                )),
                _ => None,
            };
            (seed, file)
        })
        .collect();
    let alembic = ["alembic/generated", "alembic/neutron"]
        .iter()
        .map(|dir| {
            let files = read_tree(&common::data(dir));
            let pool = files
                .iter()
                .filter_map(|(name, _)| {
                    name.rsplit('/')
                        .next()?
                        .split('_')
                        .next()
                        .map(str::to_owned)
                })
                .collect();
            (files, pool)
        })
        .collect();
    CliCorpus {
        catalogs,
        releases,
        inventories,
        plans,
        alembic,
    }
}

/// One run of the binary: its arguments, the files it needs (relative to its directory),
/// the names its errors may give, and whether it must succeed.
struct CliCase {
    args: Vec<String>,
    files: Files,
    names: Vec<String>,
    must_succeed: bool,
    /// For a plan written with `-o`: verify it with the binary too.
    then_verify: Option<Vec<String>>,
}

/// The unmutated documents through the binary: every one must succeed.
fn cli_baseline(corpus: &CliCorpus) -> Vec<CliCase> {
    let mut cases = Vec::new();
    let case = |args: &[&str], files: Files, names: &[&str]| CliCase {
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        files,
        names: names.iter().map(|s| (*s).to_owned()).collect(),
        must_succeed: true,
        then_verify: None,
    };
    for (files, _, _) in &corpus.catalogs {
        let root = files[0].0.clone();
        cases.push(case(
            &["catalog", "validate", &root],
            files.clone(),
            &[&root],
        ));
    }
    for (seed, syntax) in &corpus.inventories {
        let name = if *syntax == Syntax::Json {
            "inventory.json"
        } else {
            "inventory.yaml"
        };
        let to = if seed.name == "antelope" {
            "2025.1"
        } else {
            "queens"
        };
        let mut planned = case(
            &[
                "plan",
                "--inventory",
                name,
                "--to",
                to,
                "--format",
                "json",
                "-o",
                "plan.json",
            ],
            vec![(name.to_owned(), seed.text.clone().into_bytes())],
            &[name],
        );
        planned.then_verify = Some(vec!["verify".to_owned(), "plan.json".to_owned()]);
        cases.push(planned);
    }
    for (seed, catalog) in &corpus.plans {
        let mut files = vec![("plan.json".to_owned(), seed.text.clone().into_bytes())];
        let mut args = vec!["verify", "plan.json"];
        if let Some((name, text)) = catalog {
            files.push((name.clone(), text.clone().into_bytes()));
            args.extend(["--catalog", name.as_str()]);
        }
        cases.push(case(&args, files, &["plan.json"]));
    }
    for (index, (files, _)) in corpus.alembic.iter().enumerate() {
        let files = files
            .iter()
            .map(|(n, b)| (format!("scripts/{n}"), b.clone()))
            .collect();
        let args: &[&str] = if index == 0 {
            &[
                "import",
                "alembic",
                "scripts",
                "--service",
                "demo",
                "--release",
                "r2",
            ]
        } else {
            &["import", "alembic", "scripts", "--service", "neutron"]
        };
        cases.push(case(args, files, &["scripts"]));
    }
    cases
}

/// A mutated case for the binary.
fn cli_mutated(rng: &mut Rng, corpus: &CliCorpus) -> CliCase {
    let mut case = CliCase {
        args: Vec::new(),
        files: Vec::new(),
        names: Vec::new(),
        must_succeed: false,
        then_verify: None,
    };
    let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match rng.below(10) {
        // A catalog validated, or planned with.
        kind @ 0..=3 => {
            let (set, syntax, tree) = rng.pick(&corpus.catalogs);
            let other = String::from_utf8_lossy(&rng.pick(&corpus.catalogs).0[0].1).into_owned();
            let (files, odd_entry) = if set.len() > 1 {
                mutate_include_set(rng, set, &other)
            } else {
                let seed = Seed::new(
                    &set[0].0,
                    String::from_utf8_lossy(&set[0].1).into_owned(),
                    tree.clone(),
                );
                let bytes = mutate(rng, &seed, *syntax, &other);
                (vec![(set[0].0.clone(), bytes)], None)
            };
            let root = files[0].0.clone();
            // An error may name any file of the set (by its path from the root's
            // directory, which ends with its name), or the odd include entry.
            case.names = files
                .iter()
                .map(|(name, _)| name.rsplit('/').next().unwrap_or(name).to_owned())
                .chain(odd_entry)
                .collect();
            case.files = files;
            if kind < 2 {
                case.args = args(&["catalog", "validate", &root]);
            } else {
                let names = corpus
                    .releases
                    .get(&root)
                    .cloned()
                    .unwrap_or_else(|| vec!["r1".to_owned(), "r2".to_owned()]);
                let a = rng.below(names.len());
                let b = rng.below(names.len());
                let mut from = names[a.min(b)].clone();
                let to = names[a.max(b)].clone();
                if rng.percent(10) {
                    (*rng.pick(&["no-such", "", "Newton"])).clone_into(&mut from);
                }
                case.args = args(&["plan", "--catalog", &root, "--from", &from, "--to", &to]);
                add_plan_options(rng, &mut case.args);
            }
        }
        // An inventory planned, and the plan verified.
        4 | 5 => {
            let (seed, syntax) = rng.pick(&corpus.inventories);
            let other = &rng.pick(&corpus.inventories).0.text;
            let name = if *syntax == Syntax::Json {
                "inventory.json"
            } else {
                "inventory.yaml"
            };
            case.files = vec![(name.to_owned(), mutate(rng, seed, *syntax, other))];
            case.names = vec![name.to_owned()];
            let to = if rng.percent(60) {
                "queens"
            } else {
                *rng.pick(&["rocky", "2024.1", "2025.1", "zed"])
            };
            case.args = args(&["plan", "--inventory", name, "--to", to]);
            case.args
                .extend(args(&["--format", "json", "-o", "plan.json"]));
            add_plan_options(rng, &mut case.args);
            case.then_verify = Some(args(&["verify", "plan.json"]));
        }
        // A plan verified.
        6..=8 => {
            let (seed, catalog) = rng.pick(&corpus.plans);
            let other = &rng.pick(&corpus.plans).0.text;
            case.files = vec![(
                "plan.json".to_owned(),
                mutate(rng, seed, Syntax::Json, other),
            )];
            case.names = vec!["plan.json".to_owned()];
            case.args = args(&["verify", "plan.json"]);
            if let Some((name, text)) = catalog {
                case.files.push((name.clone(), text.clone().into_bytes()));
                case.args.extend(args(&["--catalog", name]));
                case.names.push(name.clone());
            }
            if rng.percent(30) {
                case.args.extend(args(&["--format", "json"]));
            }
        }
        // Alembic scripts imported.
        _ => {
            let which = rng.below(corpus.alembic.len());
            let (snapshot, pool) = &corpus.alembic[which];
            case.files = mutate_alembic(rng, snapshot, pool)
                .into_iter()
                .map(|(n, b)| (format!("scripts/{n}"), b))
                .collect();
            case.names = vec!["scripts".to_owned()];
            case.args = args(&["import", "alembic", "scripts", "--service", "neutron"]);
            if which == 0 || rng.percent(15) {
                let release = *rng.pick(&["r2", "", "no such"]);
                case.args.extend(args(&["--release", release]));
            }
            if rng.percent(50) {
                case.args.extend(args(&["--format", "json"]));
            }
        }
    }
    case
}

fn add_plan_options(rng: &mut Rng, args: &mut Vec<String>) {
    if rng.percent(25) {
        args.extend(["--mode".to_owned(), "rolling".to_owned()]);
        if rng.percent(50) {
            // With `=`, so that "-1" is a value and not an option.
            let value = *rng.pick(&["1", "10%", "0", "-1", "abc", "1000%"]);
            args.push(format!("--max-unavailable={value}"));
        }
    }
    if rng.percent(30) {
        args.push("--skip-level".to_owned());
    }
    if rng.percent(15) {
        let services = *rng.pick(&["nova,neutron", "nova", "no-such", ",", "keystone,keystone"]);
        args.extend(["--services".to_owned(), services.to_owned()]);
    }
    if !args.iter().any(|a| a == "--format") && rng.percent(40) {
        args.extend([
            "--format".to_owned(),
            (*rng.pick(&["json", "text", "dot"])).to_owned(),
        ]);
    }
}

/// The values given to the options that name releases, services and policies: an error
/// about one of them names it rather than a file.
fn argument_values(args: &[String]) -> Vec<String> {
    let mut values = Vec::new();
    for (index, arg) in args.iter().enumerate() {
        let next = args.get(index + 1).cloned().unwrap_or_default();
        match arg.as_str() {
            "--from" | "--to" | "--release" => values.push(next),
            "--services" => values.extend(next.split(',').map(str::to_owned)),
            _ => {
                if let Some(value) = arg.strip_prefix("--max-unavailable=") {
                    values.push(value.to_owned());
                }
            }
        }
    }
    values
}

/// Runs one case in `dir` and records what it broke.
fn run_cli_case(case: &CliCase, number: usize, work: &Path, findings: &Findings) {
    let dir = work.join("case");
    write_files(&dir, &case.files);
    let stderr_file = work.join("stderr.txt");
    let args: Vec<std::ffi::OsString> = case.args.iter().map(Into::into).collect();
    let outcome = run_ffu(&dir, &args, &stderr_file);
    findings.count_ending(&outcome);
    let command = format!("ffu {}", case.args.join(" "));
    if outcome.code == Some(0) {
        findings.accepted.fetch_add(1, Ordering::Relaxed);
    }
    let arguments = argument_values(&case.args);
    let mut found = check_run(&outcome, &case.names, &arguments);
    if found.is_none() && case.must_succeed && outcome.code != Some(0) {
        found = Some(broken(
            "an unmutated document fails",
            format!("{command}: {}", outcome.stderr),
        ));
    }
    if found.is_none() && outcome.code == Some(0) {
        if let Some(verify_args) = &case.then_verify {
            let args: Vec<std::ffi::OsString> = verify_args.iter().map(Into::into).collect();
            let verified = run_ffu(&dir, &args, &stderr_file);
            findings.count_ending(&verified);
            found = check_run(&verified, &["plan.json".to_owned()], &[]);
            if found.is_none() && verified.code != Some(0) {
                found = Some(broken(
                    "a plan ffu wrote fails ffu verify",
                    format!("{command}, then ffu verify plan.json: {}", verified.stderr),
                ));
            }
        }
    }
    if let Some(mut found) = found {
        if !found.detail.starts_with("ffu ") {
            found.detail = clip(&format!("{command}: {}", found.detail), 600);
        }
        let mut files = case.files.clone();
        files.push((
            "COMMAND".to_owned(),
            format!("cd {}/ && {command}\n", "<this dir>").into_bytes(),
        ));
        findings.record(number, found, &files);
    }
    findings.ran.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn cli_sample() {
    let target = "cli_sample";
    install_panic_hook();
    let settings = settings();
    let findings = Findings::new(target, settings);
    let started = Instant::now();
    let corpus = cli_corpus();
    // Case numbers below `baseline.len()` are the unmutated documents; the mutated ones
    // follow, each from its own seed.
    let baseline = cli_baseline(&corpus);
    let count = baseline.len() + settings.cases / CLI_SHARE;
    let numbers = settings.cases(count);
    let next = AtomicUsize::new(0);
    let dir = common::temp_dir("fuzz-cli");
    std::thread::scope(|scope| {
        for worker in 0..2 {
            let work = dir.join(format!("worker-{worker}"));
            let (next, numbers, baseline, corpus, findings) =
                (&next, &numbers, &baseline, &corpus, &findings);
            scope.spawn(move || {
                while let Some(&number) = numbers.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Some(case) = baseline.get(number) {
                        run_cli_case(case, number, &work, findings);
                    } else {
                        let mut rng = Rng::new(case_seed(settings.seed, target, number));
                        let case = cli_mutated(&mut rng, corpus);
                        run_cli_case(&case, number, &work, findings);
                    }
                }
            });
        }
    });
    findings.finish(started);
}

/// Devices, named pipes and other files that are no documents: exit 2 naming them, soon,
/// and within the memory limit.
#[test]
fn cli_special_files() {
    let target = "cli_special_files";
    install_panic_hook();
    let findings = Findings::new(target, settings());
    let started = Instant::now();
    let dir = common::temp_dir("fuzz-special");
    let small = data_text("small.yaml");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(path, text).expect("write");
    };
    let mkfifo = |name: &str| {
        let status = Command::new("mkfifo")
            .arg(dir.join(name))
            .status()
            .expect("mkfifo");
        assert!(status.success(), "mkfifo {name}");
    };
    mkfifo("fifo.yaml");
    write("root-fifo.yaml", &format!("{small}include: [fifo.yaml]\n"));
    write("include-empty.yaml", &format!("{small}include: [\"\"]\n"));
    write(
        "scripts/1a2b3c4d5e6f_create_accounts.py",
        &String::from_utf8_lossy(
            &std::fs::read(common::data(
                "alembic/generated/1a2b3c4d5e6f_create_accounts.py",
            ))
            .expect("script"),
        ),
    );
    mkfifo("scripts/fifo.py");
    for depth in 0..20 {
        write(
            &format!("chain/{depth}.yaml"),
            &format!("include: [{}.yaml]\n", depth + 1),
        );
    }
    write("deep.yaml", &format!("{small}include: [chain/0.yaml]\n"));
    std::os::unix::fs::symlink("loop-2.yaml", dir.join("loop-1.yaml")).expect("link");
    std::os::unix::fs::symlink("loop-1.yaml", dir.join("loop-2.yaml")).expect("link");
    write("empty.yaml", "");
    let not_utf8: std::ffi::OsString =
        std::os::unix::ffi::OsStringExt::from_vec(b"\xff-name.yaml".to_vec());
    std::fs::write(dir.join(&not_utf8), "format: ffu-catalog/1\n").expect("write");

    let validate = |file: &str| os(&["catalog", "validate", file]);
    let cases: Vec<(&str, Vec<std::ffi::OsString>, Vec<String>)> = vec![
        (
            "a device without a size as a catalog",
            validate("/dev/zero"),
            vec!["/dev/zero".into()],
        ),
        (
            "a device without a size as a plan",
            os(&["verify", "/dev/zero"]),
            vec!["/dev/zero".into()],
        ),
        (
            "a device without a size as an inventory",
            os(&["plan", "--inventory", "/dev/zero", "--to", "queens"]),
            vec!["/dev/zero".into()],
        ),
        // A named pipe given on the command line is read as `cat` reads it: ffu waits for
        // its writer (that is how `--catalog <(...)` works). What a document names must be
        // a regular file, which the next two cases hold.
        (
            "a named pipe as an include",
            validate("root-fifo.yaml"),
            vec!["fifo.yaml".into()],
        ),
        (
            "a named pipe among alembic scripts",
            os(&[
                "import",
                "alembic",
                "scripts",
                "--service",
                "demo",
                "--release",
                "r1",
            ]),
            vec!["scripts".into()],
        ),
        (
            "an empty include",
            validate("include-empty.yaml"),
            vec!["include-empty.yaml".into()],
        ),
        (
            "a directory as a catalog",
            validate("chain"),
            vec!["chain".into()],
        ),
        (
            "links in a loop",
            validate("loop-1.yaml"),
            vec!["loop-1.yaml".into()],
        ),
        (
            "includes nested too deep",
            validate("deep.yaml"),
            vec!["chain/".into()],
        ),
        (
            "a file name that is not UTF-8",
            vec!["catalog".into(), "validate".into(), not_utf8.clone()],
            vec!["-name.yaml".into()],
        ),
        (
            "an empty file",
            validate("empty.yaml"),
            vec!["empty.yaml".into()],
        ),
        (
            "an empty catalog on stdin",
            validate("-"),
            vec!["<stdin>".into()],
        ),
    ];
    std::thread::scope(|scope| {
        for (number, (label, args, names)) in cases.iter().enumerate() {
            let (dir, findings) = (&dir, &findings);
            scope.spawn(move || {
                let stderr_file = dir.join(format!("stderr-{number}.txt"));
                let outcome = run_ffu(dir, args, &stderr_file);
                findings.count_ending(&outcome);
                let mut found = check_run(&outcome, names, &[]);
                if found.is_none() && outcome.code != Some(2) {
                    found = Some(broken("not refused with exit 2", outcome.stderr.clone()));
                }
                if let Some(mut found) = found {
                    let shown: Vec<String> = args
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect();
                    found.detail = clip(
                        &format!("{label}: ffu {}: {}", shown.join(" "), found.detail),
                        600,
                    );
                    findings.record(number, found, &[]);
                }
                findings.ran.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    findings.finish(started);
}
