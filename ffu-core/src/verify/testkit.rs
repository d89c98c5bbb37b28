//! What the verifier's unit tests share: a tiny catalog that has something for every rule,
//! plans the planner makes from it (safe, so each test breaks one thing), and small edits
//! of those plans by step id.

use crate::catalog::Catalog;
use crate::plan::{Mode, Phase, Plan, Policy, Step, StepKind};

use super::{verify, Violation};

/// Four releases (r2 and r4 SLURP, so r2 -> r4 is a skip edge), two services, `compute`
/// `after` `ident`:
/// - ident: one control component; r2 brings a reversible expand and a contract.
/// - compute: a control component, an agent and a data plane component; r2 brings a
///   migrate that needs `ident-api` running and a blocking data migration; r3 and r4 a
///   migrate each; extensions `base`, `extra` (requires base), `fresh` (new in r2,
///   requires base), `legacy` (gone after r1) and `needs-legacy` (requires legacy).
pub(super) const KIT: &str = r#"
format: ffu-catalog/1
name: kit
releases: [{name: r1}, {name: r2, slurp: true}, {name: r3}, {name: r4, slurp: true}]
skip_level: slurp
services:
  - name: ident
    components: [{name: ident-api, role: control}]
  - name: compute
    after: [ident]
    components:
      - {name: compute-api, role: control}
      - {name: compute-agent, role: agent}
      - {name: guests, role: dataplane}
migrations:
  - {id: ident.r2.expand, service: ident, release: r2, kind: expand, command: "ident-manage expand", reversible: true}
  - {id: ident.r2.contract, service: ident, release: r2, kind: contract, command: "ident-manage contract", requires: [ident.r2.expand]}
  - {id: compute.r2.sync, service: compute, release: r2, kind: migrate, command: "compute-manage sync", needs_running: [ident-api]}
  - {id: compute.r2.online, service: compute, release: r2, kind: data, command: "compute-manage online", requires: [compute.r2.sync]}
  - {id: compute.r3.sync, service: compute, release: r3, kind: migrate, command: "compute-manage sync"}
  - {id: compute.r4.sync, service: compute, release: r4, kind: migrate, command: "compute-manage sync"}
extensions:
  - {service: compute, name: base}
  - {service: compute, name: extra, requires: [base]}
  - {service: compute, name: fresh, since: r2, requires: [base]}
  - {service: compute, name: legacy, until: r1}
  - {service: compute, name: needs-legacy, requires: [legacy]}
"#;

/// The [`KIT`] catalog.
pub(super) fn kit() -> Catalog {
    Catalog::from_yaml_str(KIT, "kit.yaml").unwrap()
}

/// The [`KIT`] catalog with `from` replaced by `to` in its text (one change, which must
/// apply).
pub(super) fn kit_with(from: &str, to: &str) -> Catalog {
    assert!(KIT.contains(from), "{from:?} is not in the kit");
    Catalog::from_yaml_str(&KIT.replacen(from, to, 1), "kit.yaml").unwrap()
}

/// The planner's offline plan, with skip edges allowed or not.
pub(super) fn offline(catalog: &Catalog, from: &str, to: &str, skip_level: bool) -> Plan {
    let policy = Policy {
        skip_level,
        ..Policy::default()
    };
    catalog.plan(from, to, &policy).unwrap()
}

/// The planner's rolling plan.
pub(super) fn rolling(catalog: &Catalog, from: &str, to: &str) -> Plan {
    let policy = Policy {
        mode: Mode::Rolling,
        ..Policy::default()
    };
    catalog.plan(from, to, &policy).unwrap()
}

/// Every violation, as (rule, message).
pub(super) fn violations(catalog: &Catalog, plan: &Plan) -> Vec<(&'static str, String)> {
    verify(catalog, plan)
        .unwrap()
        .into_iter()
        .map(|Violation { rule, message, .. }| (rule, message))
        .collect()
}

/// The messages of `rule`'s violations, in report order.
pub(super) fn messages(catalog: &Catalog, plan: &Plan, rule: &str) -> Vec<String> {
    verify(catalog, plan)
        .unwrap()
        .into_iter()
        .filter(|v| v.rule == rule)
        .map(|v| v.message)
        .collect()
}

/// The violations of `rule`, with their steps.
pub(super) fn of_rule(catalog: &Catalog, plan: &Plan, rule: &str) -> Vec<Violation> {
    verify(catalog, plan)
        .unwrap()
        .into_iter()
        .filter(|v| v.rule == rule)
        .collect()
}

/// Where step `id` stands.
pub(super) fn index(plan: &Plan, id: &str) -> usize {
    plan.steps
        .iter()
        .position(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// Step `id`, to edit.
pub(super) fn step<'p>(plan: &'p mut Plan, id: &str) -> &'p mut Step {
    let at = index(plan, id);
    &mut plan.steps[at]
}

/// Takes step `id` out of the plan; the steps that required it require what it required
/// instead (a plan written without it: a dangling requirement is not the fault under test).
pub(super) fn remove(plan: &mut Plan, id: &str) -> Step {
    let moved = take(plan, id);
    for step in &mut plan.steps {
        if let Some(at) = step.requires.iter().position(|r| r == id) {
            step.requires.remove(at);
            for required in &moved.requires {
                if !step.requires.contains(required) {
                    step.requires.push(required.clone());
                }
            }
        }
    }
    moved
}

/// Takes step `id` out of the plan, leaving the other steps as they are.
fn take(plan: &mut Plan, id: &str) -> Step {
    let at = index(plan, id);
    plan.steps.remove(at)
}

/// Moves step `id` to just before step `before` (its hop and `requires` unchanged).
pub(super) fn move_before(plan: &mut Plan, id: &str, before: &str) {
    let moved = take(plan, id);
    let at = index(plan, before);
    plan.steps.insert(at, moved);
}

/// Moves step `id` to just after step `after` (its hop and `requires` unchanged).
pub(super) fn move_after(plan: &mut Plan, id: &str, after: &str) {
    let moved = take(plan, id);
    let at = index(plan, after);
    plan.steps.insert(at + 1, moved);
}

/// The step ids of the plan, in order (to show a plan in a failing assertion).
pub(super) fn ids(plan: &Plan) -> Vec<&str> {
    plan.steps.iter().map(|s| s.id.as_str()).collect()
}

#[test]
fn the_kit_plans_are_safe() {
    let catalog = kit();
    for (from, to) in [
        ("r1", "r2"),
        ("r1", "r3"),
        ("r1", "r4"),
        ("r2", "r4"),
        ("r3", "r4"),
    ] {
        for skip in [false, true] {
            let plan = offline(&catalog, from, to, skip);
            assert_eq!(violations(&catalog, &plan), [], "{:?}", ids(&plan));
        }
        let plan = rolling(&catalog, from, to);
        assert_eq!(violations(&catalog, &plan), [], "{:?}", ids(&plan));
    }
}

/// The kit's tasks (DESIGN §8), put before its `extensions` by [`kit_with_tasks`]:
/// - `ident.health`: a health check before hop 0 touches anything (current code);
/// - `compute.r2.cell0`: before r2's migrations, creates what `compute.r2.sync` needs;
/// - `compute.r2.workaround`: a temporary setting before the starts;
/// - `compute.r2.discover`: in converge, on every host, after the cell and the sync.
pub(super) const KIT_TASKS: &str = r#"tasks:
  - {id: ident.health, service: ident, phase: precheck_start, command: "ident-status check", reason: "the cloud is healthy before anything is touched"}
  - {id: compute.r2.cell0, service: compute, release: r2, phase: before_migrations, command: "compute-manage cell0", reason: "r2's sync needs the cell0 database"}
  - {id: compute.r2.workaround, service: compute, release: r2, phase: before_start, reason: "controllers start before the computes", config: {file: /etc/compute.conf, section: workarounds, option: skip_check, action: set, value: "true", temporary: true}}
  - {id: compute.r2.discover, service: compute, release: r2, phase: converge, on: all, command: "compute-manage discover", requires: [compute.r2.cell0, compute.r2.sync], reason: "hosts are found once they run r2"}
extensions:
"#;

/// The [`KIT`] catalog with [`KIT_TASKS`].
pub(super) fn kit_with_tasks() -> Catalog {
    kit_with("extensions:\n", KIT_TASKS)
}

/// The plan as the planner lays it out in phases (DESIGN §8): the planner does so itself
/// now, so this only checks that it did (every step has a phase), for the tests written
/// against phased plans.
pub(super) fn phased(_catalog: &Catalog, plan: Plan) -> Plan {
    assert!(
        plan.steps.iter().all(|step| step.phase.is_some()),
        "the planner left a step without a phase"
    );
    plan
}

/// A step of `catalog`'s task `id` in hop `hop` and `phase`, with the task's code (a
/// `config` step for a configuration edit).
pub(super) fn task_step(catalog: &Catalog, id: &str, hop: usize, phase: Phase) -> Step {
    let task = catalog.task(
        catalog
            .task_id(id)
            .unwrap_or_else(|| panic!("no task {id}")),
    );
    let kind = if task.config.is_some() {
        StepKind::Config
    } else {
        StepKind::Task
    };
    let mut step = Step::new(format!("h{hop}.{id}"), hop, kind, "test".into()).in_phase(phase);
    step.service = Some(catalog.service(task.service).name.clone());
    step.task = Some(id.to_owned());
    step.command = task.command.clone();
    step.config = task.config.clone();
    step.code = Some(task.code);
    step
}

/// The offline r1 -> r2 plan of [`kit_with_tasks`], with its tasks where the planner puts
/// them (the health check first, the cell before the first migration, the temporary
/// setting before the starts, and in converge the discovery, then the setting's removal),
/// their steps renamed `h0.<task>` and `h0.<task>.unset` as the tests name them.
pub(super) fn plan_with_tasks(catalog: &Catalog) -> Plan {
    let mut plan = phased(catalog, offline(catalog, "r1", "r2", false));
    let rename = |id: &str| -> String {
        if let Some(task) = id.strip_prefix("h0.task.") {
            format!("h0.{task}")
        } else if let Some(task) = id.strip_prefix("h0.undo.") {
            format!("h0.{task}.unset")
        } else {
            id.to_owned()
        }
    };
    for step in &mut plan.steps {
        step.id = rename(&step.id);
        for required in &mut step.requires {
            *required = rename(required);
        }
    }
    plan
}
