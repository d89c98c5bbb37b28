//! V16, the rule a recovery plan is checked by (`ffu verify` of a plan with
//! `"recovery": true`).

use crate::plan::{Plan, StepKind};
use crate::verify::Violation;

/// V16: every database changed by an irreversible step since the last rollback point is
/// restored from that backup before any service starts, and every component starts at the
/// backup's release (and every component the recovery stops starts again).
#[allow(clippy::too_many_lines)] // one rule, read best in one place
pub(crate) fn check(plan: &Plan) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut violation = |message: String, steps: Vec<String>| {
        violations.push(Violation {
            rule: "V16",
            message,
            steps,
        });
    };
    let Some(recovers) = &plan.recovers else {
        violation(
            "a recovery plan must say what it recovers (\"recovers\")".to_owned(),
            Vec::new(),
        );
        return violations;
    };
    let first_start = plan
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Start)
        .unwrap_or(plan.steps.len());
    for change in &recovers.changed {
        if change.release != recovers.release {
            violation(
                format!(
                    "{}'s backup {} is at {}, but the recovery starts {}",
                    change.service, change.backup, change.release, recovers.release
                ),
                vec![change.backup.clone()],
            );
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
            None => violation(
                format!(
                    "{}'s databases ({}) were changed by {} but are not restored from backup {}",
                    change.service,
                    change.databases.join(", "),
                    change.steps.join(", "),
                    change.backup
                ),
                change.steps.clone(),
            ),
            Some(index) if index > first_start => violation(
                format!(
                    "{}'s databases are restored after a service starts",
                    change.service
                ),
                vec![
                    plan.steps[index].id.clone(),
                    plan.steps[first_start].id.clone(),
                ],
            ),
            Some(_) => {}
        }
    }
    for step in &plan.steps {
        if matches!(step.kind, StepKind::Start | StepKind::Install)
            && step.release.as_deref() != Some(recovers.release.as_str())
        {
            violation(
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
            );
        }
    }
    for (index, step) in plan.steps.iter().enumerate() {
        if step.kind != StepKind::Stop {
            continue;
        }
        let restarted = plan.steps[index + 1..].iter().any(|later| {
            later.kind == StepKind::Start
                && later.component == step.component
                && later.host == step.host
        });
        if !restarted {
            violation(
                format!(
                    "{} is stopped and never started again",
                    step.component.as_deref().unwrap_or("?")
                ),
                vec![step.id.clone()],
            );
        }
    }
    violations
}
