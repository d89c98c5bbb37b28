//! V16, the rule a recovery plan is checked by (`ffu verify` of a plan with
//! `"recovery": true`).

use rustc_hash::FxHashSet;

use super::Recovers;
use crate::plan::{Plan, StepKind};
use crate::verify::Violation;

/// V16: every database changed by an irreversible step since the last rollback point is
/// restored from that backup before any service starts, and every component starts at the
/// backup's release (and every component the recovery stops starts again).
pub(crate) fn check(plan: &Plan) -> Vec<Violation> {
    let mut violations = Vec::new();
    let Some(recovers) = &plan.recovers else {
        violations.push(violation(
            "a recovery plan must say what it recovers (\"recovers\")".to_owned(),
            Vec::new(),
        ));
        return violations;
    };
    restored_before_any_start(plan, recovers, &mut violations);
    everything_at_the_backups_release(plan, recovers, &mut violations);
    stopped_ones_start_again(plan, &mut violations);
    violations
}

fn violation(message: String, steps: Vec<String>) -> Violation {
    Violation {
        rule: "V16",
        message,
        steps,
    }
}

/// Each changed service's databases restored, whole, from its backup, before the first start.
fn restored_before_any_start(plan: &Plan, recovers: &Recovers, out: &mut Vec<Violation>) {
    let first_start = plan
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Start)
        .unwrap_or(plan.steps.len());
    for change in &recovers.changed {
        if change.release != recovers.release {
            out.push(violation(
                format!(
                    "{}'s backup {} is at {}, but the recovery starts {}",
                    change.service, change.backup, change.release, recovers.release
                ),
                vec![change.backup.clone()],
            ));
        }
        let restore = plan.steps.iter().position(|s| {
            s.kind == StepKind::Restore
                && s.restores.as_deref() == Some(change.backup.as_str())
                && s.service.as_deref() == Some(change.service.as_str())
                && s.command.as_deref().is_some_and(|c| !c.trim().is_empty())
                && s.databases
                    .as_ref()
                    .is_some_and(|dbs| change.databases.iter().all(|db| dbs.contains(db)))
        });
        match restore {
            None => out.push(violation(
                format!(
                    "{}'s databases ({}) were changed by {} but are not restored from backup {}",
                    change.service,
                    change.databases.join(", "),
                    change.steps.join(", "),
                    change.backup
                ),
                change.steps.clone(),
            )),
            Some(index) if index > first_start => out.push(violation(
                format!(
                    "{}'s databases are restored after a service starts",
                    change.service
                ),
                vec![
                    plan.steps[index].id.clone(),
                    plan.steps[first_start].id.clone(),
                ],
            )),
            Some(_) => {}
        }
    }
}

/// Every start and install at the release the recovery goes back to.
fn everything_at_the_backups_release(plan: &Plan, recovers: &Recovers, out: &mut Vec<Violation>) {
    for step in &plan.steps {
        if matches!(step.kind, StepKind::Start | StepKind::Install)
            && step.release.as_deref() != Some(recovers.release.as_str())
        {
            out.push(violation(
                format!(
                    "{} {} is at {}, not at the backup's release {}",
                    step.kind.as_str(),
                    step.component
                        .as_deref()
                        .or(step.service.as_deref())
                        .unwrap_or("?"),
                    step.release.as_deref().unwrap_or("no release"),
                    recovers.release
                ),
                vec![step.id.clone()],
            ));
        }
    }
}

/// Every instance the recovery stops started again later (walked from the end, so that a
/// 10,000-host recovery is checked in linear time).
fn stopped_ones_start_again(plan: &Plan, out: &mut Vec<Violation>) {
    let mut started_later: FxHashSet<(Option<&str>, Option<&str>)> = FxHashSet::default();
    let mut never_started = Vec::new();
    for step in plan.steps.iter().rev() {
        let instance = (step.component.as_deref(), step.host.as_deref());
        match step.kind {
            StepKind::Start => {
                started_later.insert(instance);
            }
            StepKind::Stop if !started_later.contains(&instance) => never_started.push(step),
            _ => {}
        }
    }
    for step in never_started.into_iter().rev() {
        out.push(violation(
            format!(
                "{} is stopped and never started again",
                step.component.as_deref().unwrap_or("?")
            ),
            vec![step.id.clone()],
        ));
    }
}
