//! V13 phases: steps appear in phase order (offline, within each hop; rolling, within each
//! service's part of a hop), and a task runs in its phase, on its hosts, with its code,
//! after what it requires.
//!
//! A plan without any `phase` (written by an older tool) is not checked; in a plan with
//! phases, a step without one is left out of the order (it cannot be placed).
//!
//! - **Hops**: `precheck` belongs to hop 0 (the checks before anything is touched);
//!   offline, `start` and `converge` to the last hop (everything starts once, at the
//!   target). Reported once per phase and hop.
//! - **Order**: the first step whose phase is earlier than a previous step's is reported,
//!   once per hop (rolling: per hop and service; a step that concerns no service is left
//!   out).
//! - **Tasks** (steps carrying `task`): the task is in the catalog; the step is in the plan
//!   phase of the task's catalog phase ([`crate::task::TaskPhase::plan_phase`]), except the
//!   step that removes a temporary setting again, which belongs to `converge`; it runs the
//!   task's `code`; an `on: bootstrap` task has at most one step per hop, an `on: all` task,
//!   in a plan with hosts, one step per host and hop, each naming its host; and each
//!   migration or task it `requires` that the plan runs comes before it (those of the same
//!   hop, when there are any there, else one of another hop).

use rustc_hash::FxHashMap as HashMap;

use super::{Context, Violation};
use crate::plan::{ConfigEditAction, Mode, Phase, Step};
use crate::service::ServiceId;
use crate::task::{Requirement, Task, TaskHosts, TaskId};

/// V13, in this order: phases in the wrong hop, phase order (each in step order), then each task step (in step order),
/// then the hosts of each task (per task in catalog order, per hop).
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    if !context.phased {
        return;
    }
    check_phase_hops(context, out);
    check_phase_order(context, out);
    let runs = Runs::new(context);
    for (index, step) in context.steps() {
        let Some(name) = step.task.as_deref() else {
            continue;
        };
        match context.catalog.task_id(name) {
            Some(task) => check_task_step(context, &runs, index, task, out),
            None => out.push(Violation::at(
                "V13",
                format!(
                    "step {} runs task {name:?}, which the catalog does not have",
                    step.id
                ),
                &step.id,
            )),
        }
    }
    check_task_hosts(context, &runs, out);
}

/// `precheck` only in hop 0; offline, `start` and `converge` only in the last hop. Reported
/// at the first step of each phase and hop.
fn check_phase_hops(context: &Context, out: &mut Vec<Violation>) {
    let offline = context.plan.policy.mode == Mode::Offline;
    let last = context.plan.hops.len().saturating_sub(1);
    let mut reported: Vec<(Phase, usize)> = Vec::new();
    for step in &context.plan.steps {
        let Some(phase) = step.phase else { continue };
        let wrong = match phase {
            Phase::Precheck => step.hop != 0,
            Phase::Start | Phase::Converge => offline && step.hop != last,
            _ => false,
        };
        if !wrong || reported.contains(&(phase, step.hop)) {
            continue;
        }
        reported.push((phase, step.hop));
        let belongs = if phase == Phase::Precheck {
            "hop 0, before anything is touched".to_owned()
        } else {
            format!("the last hop ({last}), once everything runs the target")
        };
        out.push(Violation::at(
            "V13",
            format!(
                "step {} is in phase {} in hop {}: that phase belongs to {belongs}",
                step.id,
                phase.as_str(),
                step.hop
            ),
            &step.id,
        ));
    }
}

/// Offline, per hop; rolling, per hop and service: no step's phase is earlier than a
/// previous step's. Reported once per group, at the first step out of order.
fn check_phase_order(context: &Context, out: &mut Vec<Violation>) {
    let rolling = context.plan.policy.mode == Mode::Rolling;
    // Per group: the latest phase so far and the step that reached it, and whether the
    // group was reported.
    let mut latest: HashMap<(usize, Option<ServiceId>), (Phase, usize, bool)> = HashMap::default();
    for (index, step) in context.steps() {
        let Some(phase) = step.phase else { continue };
        let service = context.step_service(index);
        if rolling && service.is_none() {
            continue;
        }
        let group = (step.hop, service.filter(|_| rolling));
        let slot = latest.entry(group).or_insert((phase, index, false));
        let (highest, at, reported) = *slot;
        if phase >= highest {
            *slot = (phase, index, reported);
            continue;
        }
        if reported {
            continue;
        }
        slot.2 = true;
        let part = match service.filter(|_| rolling) {
            Some(service) => format!(
                "{}'s part of hop {}",
                context.catalog.service(service).name,
                step.hop
            ),
            None => format!("hop {}", step.hop),
        };
        out.push(Violation::new(
            "V13",
            format!(
                "step {} (phase {}) comes after {} (phase {}) in {part}: phases run in order",
                step.id,
                phase.as_str(),
                context.plan.steps[at].id,
                highest.as_str()
            ),
            vec![step.id.clone(), context.id(at)],
        ));
    }
}

/// Where the plan runs each catalog migration and task.
struct Runs {
    /// Per catalog migration, the steps that run it.
    migrations: Vec<Vec<usize>>,
    /// Per catalog task, the steps that run it (not those that remove its temporary
    /// setting again).
    tasks: Vec<Vec<usize>>,
}

impl Runs {
    fn new(context: &Context) -> Runs {
        let catalog = context.catalog;
        let mut runs = Runs {
            migrations: vec![Vec::new(); catalog.migrations().len()],
            tasks: vec![Vec::new(); catalog.tasks().len()],
        };
        for (index, step) in context.steps() {
            if let Some(id) = context.migration[index] {
                runs.migrations[id.index()].push(index);
            }
            // The removal of a temporary setting carries its task's id, but it does not run
            // the task: a task that requires it needs the setting made, not taken away.
            if let Some(id) = step.task.as_deref().and_then(|t| catalog.task_id(t)) {
                if !is_removal(catalog.task(id), step) {
                    runs.tasks[id.index()].push(index);
                }
            }
        }
        runs
    }
}

/// Whether `step` takes a temporary setting of `task` away again (in converge).
fn is_removal(task: &Task, step: &Step) -> bool {
    task.is_temporary()
        && step
            .config
            .as_ref()
            .is_some_and(|edit| edit.action == ConfigEditAction::Unset)
}

/// A task step's phase, code and requirements.
fn check_task_step(
    context: &Context,
    runs: &Runs,
    index: usize,
    id: TaskId,
    out: &mut Vec<Violation>,
) {
    let step = &context.plan.steps[index];
    let task = context.catalog.task(id);
    let removal = is_removal(task, step);
    let expected = if removal {
        Phase::Converge
    } else {
        task.phase.plan_phase()
    };
    if step.phase != Some(expected) {
        let actual = step.phase.map_or("without a phase".to_owned(), |p| {
            format!("in phase {}", p.as_str())
        });
        let why = if removal {
            "the removal of a temporary setting".to_owned()
        } else {
            format!("catalog phase {}", task.phase.as_str())
        };
        out.push(Violation::at(
            "V13",
            format!(
                "step {} runs task {} {actual}, but it belongs in phase {} ({why})",
                step.id,
                task.id,
                expected.as_str()
            ),
            &step.id,
        ));
    }
    // The removal of a temporary setting runs once everything runs the target, whatever
    // code the setting was made for.
    if !removal && step.code != Some(task.code) {
        let actual = step
            .code
            .map_or("without saying whose code".to_owned(), |c| {
                format!("with the {} code", c.as_str())
            });
        out.push(Violation::at(
            "V13",
            format!(
                "step {} runs task {} {actual}, but the catalog says the {} code runs it",
                step.id,
                task.id,
                task.code.as_str()
            ),
            &step.id,
        ));
    }
    check_task_requires(context, runs, index, task, out);
}

/// Each migration or task `task` requires that the plan runs comes before step `index`:
/// all its steps of the same hop, or if it has none there, one of its steps.
fn check_task_requires(
    context: &Context,
    runs: &Runs,
    index: usize,
    task: &Task,
    out: &mut Vec<Violation>,
) {
    let catalog = context.catalog;
    let step = &context.plan.steps[index];
    for requirement in &task.requires {
        let (name, steps) = match *requirement {
            Requirement::Migration(id) => (&catalog.migration(id).id, &runs.migrations[id.index()]),
            Requirement::Task(id) => (&catalog.task(id).id, &runs.tasks[id.index()]),
        };
        let same_hop: Vec<usize> = steps
            .iter()
            .copied()
            .filter(|&at| context.plan.steps[at].hop == step.hop)
            .collect();
        let late = if same_hop.is_empty() {
            steps.iter().copied().min().filter(|&first| first > index)
        } else {
            same_hop.iter().copied().find(|&at| at > index)
        };
        if let Some(at) = late {
            out.push(Violation::new(
                "V13",
                format!(
                    "step {} runs task {} before {}, which runs {name}: {} requires it",
                    step.id, task.id, context.plan.steps[at].id, task.id
                ),
                vec![step.id.clone(), context.id(at)],
            ));
        }
    }
}

/// Per task (catalog order), per hop: an `on: bootstrap` task has at most one step; an
/// `on: all` task, in a plan with hosts, has steps that each name a host, one per host.
/// The removal of a temporary setting is not counted (it is the setting's second step).
fn check_task_hosts(context: &Context, runs: &Runs, out: &mut Vec<Violation>) {
    let with_hosts = context.plan.steps.iter().any(|step| step.host.is_some());
    for (index, task) in context.catalog.tasks().iter().enumerate() {
        let mut per_hop: Vec<(usize, Vec<usize>)> = Vec::new();
        for &at in &runs.tasks[index] {
            let step = &context.plan.steps[at];
            if is_removal(task, step) {
                continue;
            }
            match per_hop.iter_mut().find(|(hop, _)| *hop == step.hop) {
                Some((_, steps)) => steps.push(at),
                None => per_hop.push((step.hop, vec![at])),
            }
        }
        for (hop, steps) in per_hop {
            match task.on {
                TaskHosts::Bootstrap if steps.len() > 1 => out.push(Violation::new(
                    "V13",
                    format!(
                        "task {} (on: bootstrap) runs {} times in hop {hop}: once, on the bootstrap host",
                        task.id,
                        steps.len()
                    ),
                    steps.iter().map(|&at| context.id(at)).collect(),
                )),
                TaskHosts::All if with_hosts => check_all_hosts(context, task, hop, &steps, out),
                _ => {}
            }
        }
    }
}

/// An `on: all` task's steps of one hop, in a plan with hosts: each names a host, none
/// twice.
fn check_all_hosts(
    context: &Context,
    task: &Task,
    hop: usize,
    steps: &[usize],
    out: &mut Vec<Violation>,
) {
    let mut seen: HashMap<&str, usize> = HashMap::default();
    for &at in steps {
        let step = &context.plan.steps[at];
        let Some(host) = step.host.as_deref() else {
            out.push(Violation::at(
                "V13",
                format!(
                    "step {} runs task {} (on: all) without naming its host",
                    step.id, task.id
                ),
                &step.id,
            ));
            continue;
        };
        if let Some(&first) = seen.get(host) {
            out.push(Violation::new(
                "V13",
                format!(
                    "task {} (on: all) runs twice on {host} in hop {hop}: {} and {}",
                    task.id, context.plan.steps[first].id, step.id
                ),
                vec![context.id(first), step.id.clone()],
            ));
        } else {
            seen.insert(host, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{
        kit, kit_with_tasks, messages, move_before, of_rule, offline, phased, plan_with_tasks,
        rolling, step, task_step, violations,
    };
    use crate::plan::{CodeSide, Phase};

    #[test]
    fn phased_plans_are_in_order() {
        let catalog = kit();
        for (from, to, skip) in [("r1", "r4", false), ("r1", "r4", true), ("r2", "r3", false)] {
            let plan = phased(&catalog, offline(&catalog, from, to, skip));
            assert_eq!(messages(&catalog, &plan, "V13"), Vec::<String>::new());
        }
        let catalog = kit_with_tasks();
        assert_eq!(violations(&catalog, &plan_with_tasks(&catalog)), []);
    }

    #[test]
    fn phases_out_of_order_are_reported_once_per_hop() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r1", "r3", false));
        move_before(&mut plan, "h0.backup.compute", "h0.stop.compute-agent");
        move_before(&mut plan, "h1.install.compute", "h1.backup.compute");
        let v13 = of_rule(&catalog, &plan, "V13");
        assert_eq!(
            v13.iter().map(|v| v.message.as_str()).collect::<Vec<_>>(),
            [
                "step h0.stop.compute-agent (phase stop) comes after h0.backup.compute (phase backup) in hop 0: phases run in order",
                "step h1.backup.compute (phase backup) comes after h1.install.compute (phase install) in hop 1: phases run in order",
            ]
        );
        assert_eq!(v13[0].steps, ["h0.stop.compute-agent", "h0.backup.compute"]);
    }

    #[test]
    fn phases_in_the_wrong_hop() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r1", "r3", false));
        // A readiness check in hop 0 of two, a post-check there too, a precheck in hop 1.
        step(&mut plan, "h0.compute.r2.online").phase = Some(Phase::Start);
        move_before(&mut plan, "h1.install.ident", "h1.backup.compute");
        step(&mut plan, "h1.install.ident").phase = Some(Phase::Precheck);
        let mut postcheck = step(&mut plan, "h1.postcheck.ident").clone();
        postcheck.id = "h0.postcheck.early".into();
        postcheck.hop = 0;
        let at = super::super::testkit::index(&plan, "h1.install.ident");
        plan.steps.insert(at, postcheck);
        assert_eq!(
            messages(&catalog, &plan, "V13"),
            [
                "step h0.compute.r2.online is in phase start in hop 0: that phase belongs to the last hop (1), once everything runs the target",
                "step h0.postcheck.early is in phase converge in hop 0: that phase belongs to the last hop (1), once everything runs the target",
                "step h1.install.ident is in phase precheck in hop 1: that phase belongs to hop 0, before anything is touched",
            ]
        );
    }

    #[test]
    fn rolling_phases_are_in_order_within_each_service() {
        let catalog = kit();
        let mut plan = rolling(&catalog, "r1", "r2");
        for step in &mut plan.steps {
            let finalize = step.kind == crate::StepKind::Finalize;
            step.phase = Some(if finalize {
                Phase::Finalize
            } else {
                Phase::Migrations
            });
        }
        // ident's finalize before compute's steps: each service's part is in order.
        assert_eq!(messages(&catalog, &plan, "V13"), Vec::<String>::new());
        step(&mut plan, "h0.compute.r2.online").phase = Some(Phase::Backup);
        assert_eq!(
            messages(&catalog, &plan, "V13"),
            ["step h0.compute.r2.online (phase backup) comes after h0.start.compute-agent (phase migrations) in compute's part of hop 0: phases run in order"]
        );
    }

    #[test]
    fn a_task_in_the_wrong_phase_or_with_the_wrong_code() {
        let catalog = kit_with_tasks();
        let mut plan = plan_with_tasks(&catalog);
        step(&mut plan, "h0.compute.r2.cell0").phase = Some(Phase::Install);
        step(&mut plan, "h0.ident.health").code = Some(CodeSide::Target);
        step(&mut plan, "h0.compute.r2.workaround.unset").phase = Some(Phase::Start);
        step(&mut plan, "h0.compute.r2.discover").phase = None;
        assert_eq!(
            messages(&catalog, &plan, "V13"),
            [
                "step h0.compute.r2.workaround.unset (phase start) comes after h0.compute.r2.online (phase converge) in hop 0: phases run in order",
                "step h0.ident.health runs task ident.health with the target code, but the catalog says the current code runs it",
                "step h0.compute.r2.cell0 runs task compute.r2.cell0 in phase install, but it belongs in phase migrations (catalog phase before_migrations)",
                "step h0.compute.r2.discover runs task compute.r2.discover without a phase, but it belongs in phase converge (catalog phase converge)",
                "step h0.compute.r2.workaround.unset runs task compute.r2.workaround in phase start, but it belongs in phase converge (the removal of a temporary setting)",
            ]
        );
    }

    #[test]
    fn an_unknown_task() {
        let catalog = kit_with_tasks();
        let mut plan = plan_with_tasks(&catalog);
        step(&mut plan, "h0.compute.r2.cell0").task = Some("compute.r2.nope".into());
        assert_eq!(
            messages(&catalog, &plan, "V13"),
            [
                r#"step h0.compute.r2.cell0 runs task "compute.r2.nope", which the catalog does not have"#
            ]
        );
    }

    #[test]
    fn a_task_before_what_it_requires() {
        let catalog = kit_with_tasks();
        let mut plan = plan_with_tasks(&catalog);
        move_before(&mut plan, "h0.compute.r2.discover", "h0.compute.r2.cell0");
        step(&mut plan, "h0.compute.r2.discover").phase = Some(Phase::Migrations);
        let v13 = of_rule(&catalog, &plan, "V13");
        assert_eq!(
            v13.iter().map(|v| v.message.as_str()).collect::<Vec<_>>(),
            [
                "step h0.compute.r2.discover runs task compute.r2.discover in phase migrations, but it belongs in phase converge (catalog phase converge)",
                "step h0.compute.r2.discover runs task compute.r2.discover before h0.compute.r2.cell0, which runs compute.r2.cell0: compute.r2.discover requires it",
                "step h0.compute.r2.discover runs task compute.r2.discover before h0.compute.r2.sync, which runs compute.r2.sync: compute.r2.discover requires it",
            ]
        );
        assert_eq!(
            v13[1].steps,
            ["h0.compute.r2.discover", "h0.compute.r2.cell0"]
        );
    }

    #[test]
    fn a_task_on_its_hosts() {
        let catalog = kit_with_tasks();
        let mut plan = plan_with_tasks(&catalog);
        // A bootstrap task once per hop; its temporary setting's removal does not count.
        let mut again = task_step(&catalog, "compute.r2.cell0", 0, Phase::Migrations);
        again.id = "h0.compute.r2.cell0.again".into();
        let at = super::super::testkit::index(&plan, "h0.compute.r2.cell0");
        plan.steps.insert(at + 1, again);
        // An `on: all` task in a plan with hosts: one step per host, each naming it.
        step(&mut plan, "h0.compute.r2.discover").host = Some("c1".into());
        let mut twice = task_step(&catalog, "compute.r2.discover", 0, Phase::Converge);
        twice.id = "h0.compute.r2.discover@c1".into();
        twice.host = Some("c1".into());
        let mut nowhere = task_step(&catalog, "compute.r2.discover", 0, Phase::Converge);
        nowhere.id = "h0.compute.r2.discover.nowhere".into();
        let at = super::super::testkit::index(&plan, "h0.compute.r2.discover");
        plan.steps.insert(at + 1, twice);
        plan.steps.insert(at + 2, nowhere);
        assert_eq!(
            messages(&catalog, &plan, "V13"),
            [
                "task compute.r2.cell0 (on: bootstrap) runs 2 times in hop 0: once, on the bootstrap host",
                "task compute.r2.discover (on: all) runs twice on c1 in hop 0: h0.compute.r2.discover and h0.compute.r2.discover@c1",
                "step h0.compute.r2.discover.nowhere runs task compute.r2.discover (on: all) without naming its host",
            ]
        );
    }

    #[test]
    fn plans_without_phases_are_not_checked() {
        let catalog = kit_with_tasks();
        let mut plan = plan_with_tasks(&catalog);
        move_before(&mut plan, "h0.backup.compute", "h0.stop.compute-agent");
        for step in &mut plan.steps {
            step.phase = None;
        }
        assert_eq!(messages(&catalog, &plan, "V13"), Vec::<String>::new());
    }
}
