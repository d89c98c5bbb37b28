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

    // The clean run, in process.
    let clean_db = dir.join("clean.db");
    let mut clean = Journal::open_sqlite(&clean_db, &plan).expect("clean journal");
    while let Some(step) = clean.next("clean", Duration::from_secs(60)).unwrap() {
        clean.done(&step).unwrap();
    }
    let clean_steps = clean.steps().unwrap();
    assert!(clean_steps.iter().all(|s| s.attempts == 1));

    // The faulty run, through the binary.
    let db = dir.join("journal.db");
    let db_arg = format!("sqlite:{}", db.display());
    let base = ["--db", db_arg.as_str(), "--plan", plan_path.as_str()];
    let with = |command: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = command.iter().map(|s| (*s).to_owned()).collect();
        args.extend(base.iter().map(|s| (*s).to_owned()));
        args
    };
    let init = ffu(&with(&["journal", "init"])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert_eq!(init.code, 0, "{}", init.stderr);

    let mut expected: HashMap<String, u32> = HashMap::new();
    let mut executed: Vec<String> = Vec::new();
    let mut killed_mid_step: Vec<String> = Vec::new();
    let mut kills = 0;
    let mut done_commits_raced = 0;
    let mut next_commits_raced = 0;
    for round in 0u64.. {
        assert!(round < 20 * ids.len() as u64, "the run does not end");
        let delay = Duration::from_micros((round % 9) * 2500);
        if round % 4 == 1 {
            // Kill `next` at a random point: it commits entirely or not at all.
            let before = steps(&db, &plan);
            let args = with(&["journal", "next"]);
            spawn_and_kill(&args.iter().map(String::as_str).collect::<Vec<_>>(), delay);
            kills += 1;
            let after = steps(&db, &plan);
            let changed: Vec<(&StepRecord, &StepRecord)> =
                before.iter().zip(&after).filter(|(b, a)| b != a).collect();
            assert!(
                changed.len() <= 1,
                "one transition changed several steps: {changed:?}"
            );
            if let Some((b, a)) = changed.first() {
                assert_eq!(a.state, StepState::Running);
                assert_eq!(a.attempts, b.attempts + 1);
                *expected.entry(a.id.clone()).or_default() += 1;
                next_commits_raced += 1;
            }
            continue;
        }
        let args = with(&["journal", "next"]);
        let next = ffu(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(next.code, 0, "next failed: {}", next.stderr);
        let step = next.stdout.trim().to_owned();
        if step.is_empty() {
            break;
        }
        *expected.entry(step.clone()).or_default() += 1;
        executed.push(step.clone());
        match round % 4 {
            2 => {
                // The runner dies in the middle of the step: no `done`.
                kills += 1;
                killed_mid_step.push(step);
            }
            3 => {
                // `done` killed right after it starts, racing its commit.
                let args = with(&["journal", "done", &step]);
                spawn_and_kill(&args.iter().map(String::as_str).collect::<Vec<_>>(), delay);
                kills += 1;
                let state = steps(&db, &plan)
                    .into_iter()
                    .find(|s| s.id == step)
                    .expect("step in journal")
                    .state;
                if state == StepState::Done {
                    done_commits_raced += 1;
                } else {
                    assert_eq!(state, StepState::Running);
                    // The runner restarts and repeats `done` (its work was finished).
                    let done = ffu(&args.iter().map(String::as_str).collect::<Vec<_>>());
                    assert_eq!(done.code, 0, "{}", done.stderr);
                }
            }
            _ => {
                let args = with(&["journal", "done", &step]);
                let done = ffu(&args.iter().map(String::as_str).collect::<Vec<_>>());
                assert_eq!(done.code, 0, "{}", done.stderr);
            }
        }
    }

    let last = steps(&db, &plan);
    // Same journal as the clean run: same steps, same order, all done.
    assert_eq!(shape(&last), shape(&clean_steps));
    assert!(last.iter().all(|s| s.state == StepState::Done));
    // Attempts: one per time a `next` gave the step (seen or committed before a kill).
    for s in &last {
        assert_eq!(s.attempts, expected[&s.id], "attempts of {}", s.id);
    }
    for id in &killed_mid_step {
        let s = last.iter().find(|s| &s.id == id).unwrap();
        assert!(s.attempts >= 2, "{id} was re-run after its runner died");
    }
    // Steps ran in plan order; a step ran again only right after its own interruption.
    let mut order = executed.clone();
    order.dedup();
    assert_eq!(order, ids, "steps ran out of order, twice or never");
    // Finished in plan order.
    let finished: Vec<i64> = last.iter().map(|s| s.finished_at.unwrap()).collect();
    assert!(finished.windows(2).all(|w| w[0] <= w[1]));
    eprintln!(
        "{} steps, {kills} kills ({next_commits_raced} killed `next` had committed, {done_commits_raced} killed `done` had committed), {} mid-step kills, {:.1} s",
        ids.len(),
        killed_mid_step.len(),
        started.elapsed().as_secs_f64()
    );
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
