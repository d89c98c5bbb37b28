//! The journal through the `ffu` binary: a runner killed (SIGKILL) at step boundaries and
//! in the middle of steps, restarted each time, ends with the same journal as a clean run,
//! every step done exactly once and in plan order.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ffu, temp_dir, write};
use ffu_core::sql::{StepRecord, StepState};
use ffu_core::{Catalog, Journal, Plan, Policy};

fn plan() -> Plan {
    Catalog::openstack()
        .plan("newton", "pike", &Policy::default())
        .expect("plan")
}

fn steps(db: &Path, plan: &Plan) -> Vec<StepRecord> {
    Journal::open_sqlite(db, plan)
        .expect("journal")
        .steps()
        .expect("steps")
}

/// Spawns `ffu ARGS`, waits `delay`, then SIGKILLs it (it may have finished by then).
fn spawn_and_kill(args: &[&str], delay: Duration) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ffu"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffu starts");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// Ids and states, the part of a journal that must not depend on kills.
fn shape(steps: &[StepRecord]) -> Vec<(String, usize, StepState)> {
    steps
        .iter()
        .map(|s| (s.id.clone(), s.position, s.state))
        .collect()
}

#[test]
#[allow(clippy::print_stderr)] // the kill counts, shown with --nocapture
fn killed_runner_resumes_with_no_step_lost_or_repeated() {
    let started = Instant::now();
    let dir = temp_dir("journal-fault");
    let plan = plan();
    let plan_path = write(&dir, "plan.json", &plan.to_json());
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    let clean_steps = clean_run(&dir.join("clean.db"), &plan);

    // The faulty run, through the binary.
    let db = dir.join("journal.db");
    let mut run = FaultyRun::new(&db, &plan, &plan_path);
    let init = run.ffu(&["journal", "init"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    for round in 0u64.. {
        assert!(round < 20 * ids.len() as u64, "the run does not end");
        let delay = Duration::from_micros((round % 9) * 2500);
        if round % 4 == 1 {
            run.kill_next(delay);
            continue;
        }
        let Some(step) = run.next() else {
            break;
        };
        match round % 4 {
            2 => {
                // The runner dies in the middle of the step: no `done`.
                run.kills += 1;
                run.killed_mid_step.push(step);
            }
            3 => run.kill_done(&step, delay),
            _ => {
                let done = run.ffu(&["journal", "done", &step]);
                assert_eq!(done.code, 0, "{}", done.stderr);
            }
        }
    }

    run.check(&clean_steps, &ids);
    eprintln!(
        "{} steps, {} kills ({} killed `next` had committed, {} killed `done` had committed), {} mid-step kills, {:.1} s",
        ids.len(),
        run.kills,
        run.next_commits_raced,
        run.done_commits_raced,
        run.killed_mid_step.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The journal of a clean run of `plan`, in process, every step done at its first attempt.
fn clean_run(db: &Path, plan: &Plan) -> Vec<StepRecord> {
    let mut clean = Journal::open_sqlite(db, plan).expect("clean journal");
    while let Some(step) = clean.next("clean", Duration::from_secs(60)).unwrap() {
        clean.done(&step).unwrap();
    }
    let clean_steps = clean.steps().unwrap();
    assert!(clean_steps.iter().all(|s| s.attempts == 1));
    clean_steps
}

/// A run of a plan through the binary with runners killed: its journal, and what it saw.
struct FaultyRun<'a> {
    db: &'a Path,
    plan: &'a Plan,
    /// The options every journal command takes: `--db` and `--plan`.
    base: [String; 4],
    /// How many times a `next` gave each step (seen, or committed before a kill).
    expected: HashMap<String, u32>,
    /// The steps `next` printed, in order.
    executed: Vec<String>,
    /// The steps whose runner died in their middle.
    killed_mid_step: Vec<String>,
    kills: usize,
    /// Killed `done`s that had committed.
    done_commits_raced: usize,
    /// Killed `next`s that had committed.
    next_commits_raced: usize,
}

impl<'a> FaultyRun<'a> {
    fn new(db: &'a Path, plan: &'a Plan, plan_path: &str) -> FaultyRun<'a> {
        FaultyRun {
            db,
            plan,
            base: [
                "--db".to_owned(),
                format!("sqlite:{}", db.display()),
                "--plan".to_owned(),
                plan_path.to_owned(),
            ],
            expected: HashMap::new(),
            executed: Vec::new(),
            killed_mid_step: Vec::new(),
            kills: 0,
            done_commits_raced: 0,
            next_commits_raced: 0,
        }
    }

    /// `command` with the journal's options.
    fn args(&self, command: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = command.iter().map(|s| (*s).to_owned()).collect();
        args.extend(self.base.iter().cloned());
        args
    }

    /// Runs `ffu COMMAND` on the journal to its end.
    fn ffu(&self, command: &[&str]) -> common::Run {
        let args = self.args(command);
        ffu(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Starts `ffu COMMAND` on the journal and kills it after `delay`.
    fn spawn_and_kill(&mut self, command: &[&str], delay: Duration) {
        let args = self.args(command);
        spawn_and_kill(&args.iter().map(String::as_str).collect::<Vec<_>>(), delay);
        self.kills += 1;
    }

    fn steps(&self) -> Vec<StepRecord> {
        steps(self.db, self.plan)
    }

    /// Kills `next` at a random point: it commits entirely or not at all.
    fn kill_next(&mut self, delay: Duration) {
        let before = self.steps();
        self.spawn_and_kill(&["journal", "next"], delay);
        let after = self.steps();
        let changed: Vec<(&StepRecord, &StepRecord)> =
            before.iter().zip(&after).filter(|(b, a)| b != a).collect();
        assert!(
            changed.len() <= 1,
            "one transition changed several steps: {changed:?}"
        );
        if let Some((b, a)) = changed.first() {
            assert_eq!(a.state, StepState::Running);
            assert_eq!(a.attempts, b.attempts + 1);
            *self.expected.entry(a.id.clone()).or_default() += 1;
            self.next_commits_raced += 1;
        }
    }

    /// The step `next` gives, counted; `None` when the plan is done.
    fn next(&mut self) -> Option<String> {
        let next = self.ffu(&["journal", "next"]);
        assert_eq!(next.code, 0, "next failed: {}", next.stderr);
        let step = next.stdout.trim().to_owned();
        if step.is_empty() {
            return None;
        }
        *self.expected.entry(step.clone()).or_default() += 1;
        self.executed.push(step.clone());
        Some(step)
    }

    /// `done` killed right after it starts, racing its commit; when it lost, the runner
    /// restarts and repeats `done` (its work was finished).
    fn kill_done(&mut self, step: &str, delay: Duration) {
        self.spawn_and_kill(&["journal", "done", step], delay);
        let state = self
            .steps()
            .into_iter()
            .find(|s| s.id == step)
            .expect("step in journal")
            .state;
        if state == StepState::Done {
            self.done_commits_raced += 1;
        } else {
            assert_eq!(state, StepState::Running);
            let done = self.ffu(&["journal", "done", step]);
            assert_eq!(done.code, 0, "{}", done.stderr);
        }
    }

    /// The journal at the end against the clean run's, `ids` the plan's step ids.
    fn check(&self, clean_steps: &[StepRecord], ids: &[&str]) {
        let last = self.steps();
        // Same journal as the clean run: same steps, same order, all done.
        assert_eq!(shape(&last), shape(clean_steps));
        assert!(last.iter().all(|s| s.state == StepState::Done));
        // Attempts: one per time a `next` gave the step (seen or committed before a kill).
        for s in &last {
            assert_eq!(s.attempts, self.expected[&s.id], "attempts of {}", s.id);
        }
        for id in &self.killed_mid_step {
            let s = last.iter().find(|s| &s.id == id).unwrap();
            assert!(s.attempts >= 2, "{id} was re-run after its runner died");
        }
        // Steps ran in plan order; a step ran again only right after its own interruption.
        let mut order = self.executed.clone();
        order.dedup();
        assert_eq!(order, ids, "steps ran out of order, twice or never");
        // Finished in plan order.
        let finished: Vec<i64> = last.iter().map(|s| s.finished_at.unwrap()).collect();
        assert!(finished.windows(2).all(|w| w[0] <= w[1]));
    }
}

#[test]
fn journal_cli_refuses_another_plan_and_a_held_lock() {
    let dir = temp_dir("journal-cli");
    let plan = plan();
    let plan_path = write(&dir, "plan.json", &plan.to_json());
    let other = Catalog::openstack()
        .plan("newton", "ocata", &Policy::default())
        .unwrap();
    let other_path = write(&dir, "other.json", &other.to_json());
    let db_file = dir.join("j.db").display().to_string();
    let db = format!("sqlite:{db_file}");

    let next = ffu(&[
        "journal", "next", "--db", &db, "--plan", &plan_path, "--owner", "a",
    ]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert_eq!(next.stdout.trim(), plan.steps[0].id);

    // A second runner is kept out while the lock holds.
    let locked = ffu(&[
        "journal", "next", "--db", &db, "--plan", &plan_path, "--owner", "b",
    ]);
    assert_eq!(locked.code, 2);
    assert!(
        locked.stderr.contains("locked by \"a\""),
        "{}",
        locked.stderr
    );

    // A different plan is refused, naming both checksums.
    let refused = ffu(&["journal", "status", "--db", &db, "--plan", &other_path]);
    assert_eq!(refused.code, 2);
    let (ours, theirs) = (
        ffu_core::sql::plan_checksum(&plan),
        ffu_core::sql::plan_checksum(&other),
    );
    assert!(
        refused.stderr.contains(&ours) && refused.stderr.contains(&theirs),
        "{}",
        refused.stderr
    );

    // Done on a step that is not running is bad input.
    let early = ffu(&[
        "journal",
        "done",
        "--db",
        &db,
        "--plan",
        &plan_path,
        &plan.steps[1].id,
    ]);
    assert_eq!(early.code, 2, "{}", early.stderr);

    // A stale lock is taken over, with a warning naming its owner.
    let stale = ffu(&[
        "journal",
        "next",
        "--db",
        &db,
        "--plan",
        &plan_path,
        "--owner",
        "a",
        "--lock-ttl",
        "0",
    ]);
    assert_eq!(stale.stdout.trim(), plan.steps[0].id);
    let takeover = ffu(&[
        "journal", "next", "--db", &db, "--plan", &plan_path, "--owner", "b",
    ]);
    assert_eq!(takeover.code, 0, "{}", takeover.stderr);
    assert!(
        takeover.stderr.starts_with(&format!(
            "warning: {db_file}: taking over the journal lock of \"a\", expired "
        )),
        "{}",
        takeover.stderr
    );
    assert_eq!(takeover.stdout.trim(), plan.steps[0].id);

    let status = ffu(&[
        "journal", "status", "--db", &db, "--plan", &plan_path, "--format", "json",
    ]);
    let value: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(value["steps"][0]["attempts"], 3);
    assert_eq!(value["steps"][0]["state"], "running");

    // Next prints nothing once every step is done.
    let mut journal = Journal::open_sqlite(&dir.join("j.db"), &plan).unwrap();
    journal.done(&plan.steps[0].id).unwrap();
    while let Some(step) = journal.next("b", Duration::from_secs(60)).unwrap() {
        journal.done(&step).unwrap();
    }
    let end = ffu(&[
        "journal", "next", "--db", &db, "--plan", &plan_path, "--owner", "b",
    ]);
    assert_eq!((end.code, end.stdout.as_str()), (0, ""));
}

/// The journal keeps its plan: `init` stores it, and every other command runs on the
/// database alone; `next --format json` gives the plan's steps themselves.
#[test]
fn journal_keeps_its_plan_and_next_gives_steps() {
    let dir = temp_dir("journal-keeps-plan");
    let plan = plan();
    let plan_path = write(&dir, "plan.json", &plan.to_json());
    let db_file = dir.join("j.db");
    let db = format!("sqlite:{}", db_file.display());

    // No journal yet: without a plan, a clear error naming the database, no file made.
    let missing = ffu(&["journal", "status", "--db", &db]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no such journal") && missing.stderr.contains("init"),
        "{}",
        missing.stderr
    );
    assert!(!db_file.exists());
    let init = ffu(&["journal", "init", "--db", &db]);
    assert_eq!(init.code, 2, "{}", init.stderr);
    assert!(init.stderr.contains("--plan"), "{}", init.stderr);

    let init = ffu(&["journal", "init", "--db", &db, "--plan", &plan_path]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let next = ffu(&[
        "journal", "next", "--db", &db, "--owner", "a", "--format", "json",
    ]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    let value: serde_json::Value = serde_json::from_str(&next.stdout).unwrap();
    let first = &plan.steps[0];
    assert_eq!(value[0]["id"], first.id.as_str());
    assert_eq!(value[0]["kind"], serde_json::to_value(first.kind).unwrap());
    assert_eq!(
        value[0]["command"],
        serde_json::to_value(&first.command).unwrap()
    );
    assert_eq!(value[0]["hop"], first.hop);
    assert_eq!(value[0]["attempt"], 1);
    // Text output as before: the id.
    let done = ffu(&["journal", "done", "--db", &db, &first.id]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let next = ffu(&["journal", "next", "--db", &db, "--owner", "a"]);
    assert_eq!(next.stdout.trim(), plan.steps[1].id);
    let next = ffu(&["journal", "next", "--db", &db, "--owner", "a", "--max", "3"]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    let status = ffu(&["journal", "status", "--db", &db]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.contains("1 done"), "{}", status.stdout);

    // A journal made before journals kept their plan: it opens, and says what is missing
    // when the plan is needed; given the plan once, it keeps it.
    let conn = rusqlite::Connection::open(&db_file).unwrap();
    conn.execute("DROP TABLE ffu_plan", []).unwrap();
    drop(conn);
    let status = ffu(&["journal", "status", "--db", &db]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    let old = ffu(&[
        "journal", "next", "--db", &db, "--owner", "a", "--format", "json",
    ]);
    assert_eq!(old.code, 2, "{}", old.stderr);
    assert!(
        old.stderr.contains("made before journals kept their plan")
            && old.stderr.contains("--plan"),
        "{}",
        old.stderr
    );
    let once = ffu(&["journal", "status", "--db", &db, "--plan", &plan_path]);
    assert_eq!(once.code, 0, "{}", once.stderr);
    let next = ffu(&[
        "journal", "next", "--db", &db, "--owner", "a", "--format", "json",
    ]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    let value: serde_json::Value = serde_json::from_str(&next.stdout).unwrap();
    assert_eq!(value[0]["id"], plan.steps[1].id.as_str());
}
