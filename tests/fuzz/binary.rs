//! The `ffu` binary, under a time and a memory limit.

use super::*;

/// How one run of the binary ended.
pub(crate) struct Outcome {
    pub(crate) code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) stderr: String,
    pub(crate) timed_out: bool,
}

/// Runs `ffu ARGS` in `dir`, under the address-space limit, killed after [`HANG`]; stdin
/// is empty, stdout discarded, stderr kept in `stderr_file`.
pub(crate) fn run_ffu(dir: &Path, args: &[std::ffi::OsString], stderr_file: &Path) -> Outcome {
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
pub(crate) fn check_run(
    outcome: &Outcome,
    names: &[String],
    arguments: &[String],
) -> Option<Broken> {
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

pub(crate) fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(Into::into).collect()
}

/// The documents the binary's cases start from.
pub(crate) struct CliCorpus {
    /// Catalog files, each a set of files (the root first) with its syntax, and the tree
    /// of a single file.
    pub(crate) catalogs: Vec<(Files, Syntax, Option<Value>)>,
    /// Release names of each seed catalog, by root file name.
    pub(crate) releases: BTreeMap<String, Vec<String>>,
    pub(crate) inventories: Vec<(Seed, Syntax)>,
    /// Plans, with the catalog file each needs (none for the embedded catalog).
    pub(crate) plans: Vec<(Seed, Option<(String, String)>)>,
    pub(crate) alembic: Vec<(Files, Vec<String>)>,
}

pub(crate) fn cli_corpus() -> CliCorpus {
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
pub(crate) struct CliCase {
    pub(crate) args: Vec<String>,
    pub(crate) files: Files,
    pub(crate) names: Vec<String>,
    pub(crate) must_succeed: bool,
    /// For a plan written with `-o`: verify it with the binary too.
    pub(crate) then_verify: Option<Vec<String>>,
}

/// The unmutated documents through the binary: every one must succeed.
pub(crate) fn cli_baseline(corpus: &CliCorpus) -> Vec<CliCase> {
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
pub(crate) fn cli_mutated(rng: &mut Rng, corpus: &CliCorpus) -> CliCase {
    match rng.below(10) {
        // A catalog validated, or planned with.
        kind @ 0..=3 => mutated_catalog_case(rng, corpus, kind < 2),
        // An inventory planned, and the plan verified.
        4 | 5 => mutated_inventory_case(rng, corpus),
        // A plan verified.
        6..=8 => mutated_plan_case(rng, corpus),
        // Alembic scripts imported.
        _ => mutated_alembic_case(rng, corpus),
    }
}

/// A case that must not necessarily succeed, with nothing in it yet.
fn empty_case() -> CliCase {
    CliCase {
        args: Vec::new(),
        files: Vec::new(),
        names: Vec::new(),
        must_succeed: false,
        then_verify: None,
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A mutated catalog (a single file or an include set), validated or planned with.
fn mutated_catalog_case(rng: &mut Rng, corpus: &CliCorpus, validate: bool) -> CliCase {
    let mut case = empty_case();
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
    if validate {
        case.args = strings(&["catalog", "validate", &root]);
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
        case.args = strings(&["plan", "--catalog", &root, "--from", &from, "--to", &to]);
        add_plan_options(rng, &mut case.args);
    }
    case
}

/// A mutated inventory planned, and the plan verified.
fn mutated_inventory_case(rng: &mut Rng, corpus: &CliCorpus) -> CliCase {
    let mut case = empty_case();
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
    case.args = strings(&["plan", "--inventory", name, "--to", to]);
    case.args
        .extend(strings(&["--format", "json", "-o", "plan.json"]));
    add_plan_options(rng, &mut case.args);
    case.then_verify = Some(strings(&["verify", "plan.json"]));
    case
}

/// A mutated plan verified, against its catalog when it needs one.
fn mutated_plan_case(rng: &mut Rng, corpus: &CliCorpus) -> CliCase {
    let mut case = empty_case();
    let (seed, catalog) = rng.pick(&corpus.plans);
    let other = &rng.pick(&corpus.plans).0.text;
    case.files = vec![(
        "plan.json".to_owned(),
        mutate(rng, seed, Syntax::Json, other),
    )];
    case.names = vec!["plan.json".to_owned()];
    case.args = strings(&["verify", "plan.json"]);
    if let Some((name, text)) = catalog {
        case.files.push((name.clone(), text.clone().into_bytes()));
        case.args.extend(strings(&["--catalog", name]));
        case.names.push(name.clone());
    }
    if rng.percent(30) {
        case.args.extend(strings(&["--format", "json"]));
    }
    case
}

/// A directory of mutated alembic scripts imported.
fn mutated_alembic_case(rng: &mut Rng, corpus: &CliCorpus) -> CliCase {
    let mut case = empty_case();
    let which = rng.below(corpus.alembic.len());
    let (snapshot, pool) = &corpus.alembic[which];
    case.files = mutate_alembic(rng, snapshot, pool)
        .into_iter()
        .map(|(n, b)| (format!("scripts/{n}"), b))
        .collect();
    case.names = vec!["scripts".to_owned()];
    case.args = strings(&["import", "alembic", "scripts", "--service", "neutron"]);
    if which == 0 || rng.percent(15) {
        let release = *rng.pick(&["r2", "", "no such"]);
        case.args.extend(strings(&["--release", release]));
    }
    if rng.percent(50) {
        case.args.extend(strings(&["--format", "json"]));
    }
    case
}

pub(crate) fn add_plan_options(rng: &mut Rng, args: &mut Vec<String>) {
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
pub(crate) fn argument_values(args: &[String]) -> Vec<String> {
    let mut values = Vec::new();
    for (index, arg) in args.iter().enumerate() {
        let next = args.get(index + 1).cloned().unwrap_or_default();
        match arg.as_str() {
            "--from" | "--to" | "--release" | "--mode" => values.push(next),
            "--services" => values.extend(next.split(',').map(str::to_owned)),
            // An error about a combination of the policy's options names its field.
            "--skip-level" => values.push("skip_level".to_owned()),
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
pub(crate) fn run_cli_case(case: &CliCase, number: usize, work: &Path, findings: &Findings) {
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
pub(crate) fn cli_sample() {
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
pub(crate) fn cli_special_files() {
    let target = "cli_special_files";
    install_panic_hook();
    let findings = Findings::new(target, settings());
    let started = Instant::now();
    let dir = common::temp_dir("fuzz-special");
    let not_utf8 = make_special_files(&dir);
    let cases = special_cases(&not_utf8);
    std::thread::scope(|scope| {
        for (number, case) in cases.iter().enumerate() {
            let (dir, findings) = (&dir, &findings);
            scope.spawn(move || run_special_case(case, number, dir, findings));
        }
    });
    findings.finish(started);
}

/// Writes the files of [`cli_special_files`] into `dir`; returns the name that is not UTF-8.
fn make_special_files(dir: &Path) -> std::ffi::OsString {
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
    not_utf8
}

/// One case of [`cli_special_files`]: what it tries, the arguments, and the names its
/// error may give.
type SpecialCase = (&'static str, Vec<std::ffi::OsString>, Vec<String>);

/// The cases of [`cli_special_files`], over the files [`make_special_files`] wrote.
fn special_cases(not_utf8: &std::ffi::OsStr) -> Vec<SpecialCase> {
    let validate = |file: &str| os(&["catalog", "validate", file]);
    vec![
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
            vec!["catalog".into(), "validate".into(), not_utf8.to_owned()],
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
    ]
}

/// Runs one case of [`cli_special_files`] in `dir`: it must be refused with exit 2.
fn run_special_case(case: &SpecialCase, number: usize, dir: &Path, findings: &Findings) {
    let (label, args, names) = case;
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
}
