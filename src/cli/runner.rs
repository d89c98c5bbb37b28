//! `ffu journal start|lock|unlock|skip|reset`: the journal for runners that run steps in an
//! order of their own (`ansible-playbook` through an exported playbook), and for operators.
//!
//! A runner is named by the process that runs the whole run: `--runner ansible-playbook`
//! finds the outermost `ansible-playbook` among this process's ancestors (its workers are
//! forks of it, with the same command line), so every step of one run has one owner, and
//! two runs at once have two. The owner is written as `NAME pid PID (started TICKS) on
//! HOST`; a lock whose owner on this host is no longer running (its process is gone, or
//! the pid now belongs to a process started at another time) is taken over at once.
//! Without Linux's `/proc`, the owner is this process's parent and the lock's expiry alone
//! decides.

use std::time::Duration;

use clap::Args;
use ffu_core::sql::{Start, StepState};

use super::{emit, open_journal, Failure, JournalArgs};

/// Who runs the steps.
#[derive(Debug, Args)]
pub(super) struct RunnerArgs {
    /// The program that runs the whole run (the outermost ancestor process of that name
    /// holds the lock), such as ansible-playbook.
    #[arg(long, value_name = "NAME", default_value = "ffu")]
    runner: String,
    /// Seconds after which the lock of a runner on another host may be taken over.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    lock_ttl: u64,
}

/// `ffu journal start`: claim one step.
#[derive(Debug, Args)]
pub(super) struct StartArgs {
    #[command(flatten)]
    journal: JournalArgs,
    #[command(flatten)]
    runner: RunnerArgs,
    /// The host the step runs on, recorded with it.
    #[arg(long, value_name = "HOST")]
    host: Option<String>,
    /// Refuse a step that has had this many attempts already.
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
    /// The step id.
    step: String,
}

/// `ffu journal lock|unlock`.
#[derive(Debug, Args)]
pub(super) struct LockArgs {
    #[command(flatten)]
    journal: JournalArgs,
    #[command(flatten)]
    runner: RunnerArgs,
    /// Unlock: break the lock whoever holds it (a runner that died on another host).
    #[arg(long)]
    force: bool,
}

/// Reads `/proc/PID/stat`: (parent pid, start time in clock ticks since boot).
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last `)`.
    let fields: Vec<&str> = text[text.rfind(')')? + 1..].split_whitespace().collect();
    // Field 4 is the parent, field 22 the start time; `fields[0]` is field 3.
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// Whether process `pid`'s command line is `name` (or an interpreter running `name`).
fn runs(pid: u32, name: &str) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    cmdline.split(|&b| b == 0).take(2).any(|arg| {
        let arg = String::from_utf8_lossy(arg);
        arg.rsplit('/').next() == Some(name)
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The owner name of this run: its outermost ancestor named `runner`, else the parent.
fn owner(runner: &str) -> String {
    let mut found = None;
    let mut pid = std::process::id();
    // Bounded: a process tree is never this deep, and a loop in a bad /proc cannot hang us.
    for _ in 0..64 {
        let Some((parent, started)) = stat(pid) else {
            break;
        };
        if runs(pid, runner) {
            found = Some((pid, started));
        }
        if parent <= 1 {
            break;
        }
        pid = parent;
    }
    let (pid, started) = found.unwrap_or_else(|| {
        let parent = stat(std::process::id()).map_or(0, |(p, _)| p);
        (parent, stat(parent).map_or(0, |(_, s)| s))
    });
    format!("{runner} pid {pid} (started {started}) on {}", hostname())
}

/// Whether the runner `owner` names still runs: on this host, its process must exist with
/// the same start time; elsewhere, it is taken to run (the lock's expiry decides).
fn alive(owner: &str) -> bool {
    let parsed = (|| {
        let (_, rest) = owner.split_once(" pid ")?;
        let (pid, rest) = rest.split_once(" (started ")?;
        let (started, host) = rest.split_once(") on ")?;
        Some((pid.parse::<u32>().ok()?, started.parse::<u64>().ok()?, host))
    })();
    match parsed {
        Some((pid, started, host)) if host == hostname() => {
            stat(pid).is_some_and(|(_, s)| s == started)
        }
        _ => true,
    }
}

/// A lock refused, with what to do about it.
fn locked(err: ffu_core::Error) -> Failure {
    let hint = matches!(err, ffu_core::Error::JournalLocked { .. });
    let Failure::BadInput(message) = Failure::from(err) else {
        unreachable!("journal errors are bad input")
    };
    Failure::BadInput(if hint {
        format!("{message}: another run is going on; if that runner is dead, `ffu journal unlock --force` breaks its lock")
    } else {
        message
    })
}

pub(super) fn start(args: &StartArgs) -> Result<(), Failure> {
    let mut journal = open_journal(&args.journal)?;
    let outcome = journal
        .start(
            &args.step,
            args.host.as_deref(),
            &owner(&args.runner.runner),
            Duration::from_secs(args.runner.lock_ttl),
            &alive,
            args.max_attempts,
        )
        .map_err(locked)?;
    emit(None, |out| match outcome {
        Start::Run { .. } => writeln!(out, "run"),
        Start::Done => writeln!(out, "done"),
    })
}

pub(super) fn lock(args: &LockArgs) -> Result<(), Failure> {
    let mut journal = open_journal(&args.journal)?;
    let me = owner(&args.runner.runner);
    journal
        .lock(&me, Duration::from_secs(args.runner.lock_ttl), &alive)
        .map_err(locked)?;
    emit(None, |out| writeln!(out, "ok: journal locked by {me}"))
}

pub(super) fn unlock(args: &LockArgs) -> Result<(), Failure> {
    let mut journal = open_journal(&args.journal)?;
    let me = owner(&args.runner.runner);
    let held = journal
        .unlock((!args.force).then_some(me.as_str()))
        .map_err(locked)?;
    emit(None, |out| match held {
        Some(holder) if args.force => writeln!(out, "ok: broke the lock of {holder}"),
        Some(_) => writeln!(out, "ok: unlocked"),
        None => writeln!(out, "ok: the journal was not locked"),
    })
}

/// An operator's decision: `Done` (done by hand, or skipped) or `Pending` (reset).
pub(super) fn set_state(journal: &JournalArgs, step: &str, to: StepState) -> Result<(), Failure> {
    let before = open_journal(journal)?.set_state(step, to)?;
    emit(None, |out| {
        writeln!(out, "ok: {step}: {} -> {}", before.as_str(), to.as_str())
    })
}

/// `ffu journal done`.
#[derive(Debug, Args)]
pub(super) struct DoneArgs {
    #[command(flatten)]
    step: super::JournalStepArgs,
    /// Keep the journal's lock: the runner holds it for its whole run (`start`).
    #[arg(long)]
    keep_lock: bool,
    /// An operator's word: the step is done (by hand), whatever its state.
    #[arg(long, conflicts_with = "keep_lock")]
    force: bool,
}

/// `ffu journal fail`.
#[derive(Debug, Args)]
pub(super) struct FailArgs {
    #[command(flatten)]
    step: super::JournalStepArgs,
    /// Keep the journal's lock: the runner holds it for its whole run (`start`).
    #[arg(long)]
    keep_lock: bool,
    /// What went wrong, kept and shown by `status`.
    #[arg(long, value_name = "TEXT")]
    error: Option<String>,
}

pub(super) fn done(args: &DoneArgs) -> Result<(), Failure> {
    let step = &args.step.step;
    if args.force {
        return set_state(&args.step.journal, step, StepState::Done);
    }
    let mut journal = open_journal(&args.step.journal)?;
    if args.keep_lock {
        Ok(journal.finish_keeping_lock(step, StepState::Done, None)?)
    } else {
        Ok(journal.done(step)?)
    }
}

pub(super) fn fail(args: &FailArgs) -> Result<(), Failure> {
    let step = &args.step.step;
    let mut journal = open_journal(&args.step.journal)?;
    if args.keep_lock || args.error.is_some() {
        journal.finish_keeping_lock(step, StepState::Failed, args.error.as_deref())?;
        if !args.keep_lock {
            // As `fail` without an error text: the lock goes with the step.
            journal.unlock(None)?;
        }
        Ok(())
    } else {
        Ok(journal.fail(step)?)
    }
}

/// What `status` adds to its counts: the running and failed steps (with their host and
/// error text) and who holds the lock.
pub(super) fn write_status_details(
    out: &mut dyn std::io::Write,
    steps: &[ffu_core::sql::StepRecord],
    errors: &std::collections::BTreeMap<String, String>,
    lock: Option<&(String, i64)>,
) -> std::io::Result<()> {
    for step in steps {
        if !matches!(step.state, StepState::Running | StepState::Failed) {
            continue;
        }
        let on = step
            .host
            .as_deref()
            .map(|h| format!(" on {h}"))
            .unwrap_or_default();
        write!(
            out,
            "{} {}{on} (attempt {})",
            step.state.as_str(),
            step.id,
            step.attempts
        )?;
        match errors.get(&step.id) {
            Some(error) => writeln!(out, ": {}", error.replace('\n', " | "))?,
            None => writeln!(out)?,
        }
    }
    if let Some((owner, _)) = lock {
        writeln!(out, "locked by {owner}")?;
    }
    Ok(())
}

/// `ffu journal next [--max N] [--format json]`: the next step, or up to N steps that may
/// run at once (every step they require done: the hosts of one batch); as ids, one a line,
/// or as the plan's steps in JSON.
pub(super) fn next(
    args: &JournalArgs,
    owner: &str,
    lock_ttl: u64,
    max: usize,
    format: super::ReportFormat,
) -> Result<(), Failure> {
    let json = matches!(format, super::ReportFormat::Json);
    // The plan is read only when it is needed: which steps run together, or the steps.
    let (mut journal, plan) = super::open_journal_plan(args, max > 1 || json)?;
    let ttl = Duration::from_secs(lock_ttl);
    let steps = match &plan {
        Some(plan) if max > 1 => journal.next_many(owner, ttl, max, plan)?,
        _ => journal.next(owner, ttl)?.into_iter().collect(),
    };
    let Some(plan) = plan.filter(|_| json) else {
        return emit(None, |out| {
            for step in &steps {
                writeln!(out, "{step}")?;
            }
            Ok(())
        });
    };
    let attempts: std::collections::HashMap<String, u32> = if steps.is_empty() {
        std::collections::HashMap::new()
    } else {
        journal
            .steps()?
            .into_iter()
            .map(|record| (record.id, record.attempts))
            .collect()
    };
    let by_id: std::collections::HashMap<&str, &ffu_core::Step> =
        plan.steps.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut list = Vec::with_capacity(steps.len());
    for id in &steps {
        let mut value = by_id.get(id.as_str()).map_or_else(
            || serde_json::json!({ "id": id }),
            |step| serde_json::to_value(step).unwrap_or_else(|_| serde_json::json!({ "id": id })),
        );
        if let Some(object) = value.as_object_mut() {
            object.insert("attempt".to_owned(), attempts.get(id).copied().into());
        }
        list.push(value);
    }
    emit(None, |out| {
        serde_json::to_writer_pretty(&mut *out, &list)?;
        writeln!(out)
    })
}
