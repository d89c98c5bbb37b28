//! Settings, randomness, caught panics and the findings of a run.

use super::*;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) seed: u64,
    pub(crate) cases: usize,
    pub(crate) only: Option<usize>,
}

pub(crate) fn settings() -> Settings {
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
    pub(crate) fn cases(self, count: usize) -> Vec<usize> {
        match self.only {
            Some(case) => vec![case],
            None => (0..count).collect(),
        }
    }
}

pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one case: from the run's seed, the target and the case number only, so that
/// `FFU_FUZZ_CASE` reproduces a case without running those before it.
pub(crate) fn case_seed(seed: u64, target: &str, case: usize) -> u64 {
    let mut hash = seed;
    for byte in target.bytes() {
        hash = splitmix(hash ^ u64::from(byte));
    }
    splitmix(hash ^ case as u64)
}

/// xorshift64*: small, fast, and the same on every platform (proptest's runner would
/// shrink, which a mutation of a 90 KB document does not need).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(splitmix(seed) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn percent(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// Panics: caught, with their message and place, and not printed for every case.

thread_local! {
    /// The message and place of the last panic on this thread.
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Fuzzing threads are named with this prefix; their panics are recorded, not printed (a
/// panic common to many cases would bury the report).
pub(crate) const WORKER: &str = "fuzz-";

pub(crate) fn install_panic_hook() {
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
pub(crate) fn guarded<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(work))
        .map_err(|_| LAST_PANIC.with(|last| std::mem::take(&mut *last.borrow_mut())))
}

// Findings.

/// A broken promise: which rule, and what happened.
#[derive(Debug)]
pub(crate) struct Broken {
    pub(crate) rule: String,
    pub(crate) detail: String,
}

pub(crate) fn broken(rule: impl Into<String>, detail: impl Into<String>) -> Broken {
    Broken {
        rule: rule.into(),
        detail: clip(&detail.into(), 400),
    }
}

/// `text` cut to about `max` bytes, saying how long it was.
pub(crate) fn clip(text: &str, max: usize) -> String {
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
pub(crate) type Files = Vec<(String, Vec<u8>)>;

pub(crate) struct Finding {
    pub(crate) rule: String,
    pub(crate) case: usize,
    pub(crate) detail: String,
    pub(crate) saved: Option<PathBuf>,
}

/// What one target found, shared between its worker thread and the test's thread.
pub(crate) struct Findings {
    pub(crate) target: &'static str,
    pub(crate) settings: Settings,
    pub(crate) list: Mutex<Vec<Finding>>,
    pub(crate) ran: AtomicUsize,
    /// Cases whose input the reader accepted (and which went on to the next commands).
    pub(crate) accepted: AtomicUsize,
    /// The slowest case: how long it took, and its number.
    pub(crate) slowest: Mutex<(Duration, usize)>,
    /// How the binary's runs ended ("exit 0", "signal 6", "killed"), and how often.
    pub(crate) endings: Mutex<BTreeMap<String, usize>>,
}

impl Findings {
    pub(crate) fn new(target: &'static str, settings: Settings) -> Findings {
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

    pub(crate) fn record(&self, case: usize, found: Broken, files: &[(String, Vec<u8>)]) {
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

    pub(crate) fn count_ending(&self, outcome: &Outcome) {
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
    pub(crate) fn save(&self, case: usize, files: &[(String, Vec<u8>)]) -> PathBuf {
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
    pub(crate) fn finish(&self, started: Instant) {
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
pub(crate) struct Progress {
    pub(crate) tx: mpsc::Sender<usize>,
    pub(crate) current: Arc<Mutex<(usize, Files)>>,
    pub(crate) started: RefCell<Instant>,
}

impl Progress {
    pub(crate) fn begin(&self, case: usize, files: &[(String, Vec<u8>)]) {
        *self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (case, files.to_vec());
        *self.started.borrow_mut() = Instant::now();
        let _ = self.tx.send(case);
    }

    /// Counts the case, and records it if it was slow.
    pub(crate) fn end(&self, findings: &Findings) {
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
pub(crate) fn fuzz_in_process(
    target: &'static str,
    body: impl FnOnce(&Findings, &Progress) + Send + 'static,
) {
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
