//! V12 starting release: every blocking data migration of a service's current release runs
//! in hop 0, with the current code, in the `prepare` phase, before anything is stopped and
//! before that service's first schema migration (DESIGN §8: nova's Ocata schema refuses to
//! run while Newton's online data migrations are pending).
//!
//! A service's current release is `from`, unless the plan shows a later one (a mixed
//! inventory or a database state: [`Context::current`]). Only services the policy includes
//! and that have a step in the plan are asked for their starting migrations, and only in a
//! plan that carries phases (a plan written by an older tool has none, and no such steps).
//!
//! Every step that runs a migration with the current code is judged here whatever the
//! plan: V2, V5 and V9 leave such steps out, so a step marked so must be one of these.

use super::{Context, Violation};
use crate::migration::{MigrationId, MigrationKind};
use crate::plan::{Phase, StepKind};
use crate::service::ServiceId;

/// V12, in this order: each step that runs a migration with the current code (in step
/// order), then, per service in catalog order, each starting migration the plan lacks.
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    let firsts = Firsts::new(context);
    for (index, _) in context.steps() {
        if context.runs_current_code(index) {
            check_current_code_step(context, &firsts, index, out);
        }
    }
    if context.phased {
        check_starting_migrations_present(context, out);
    }
}

/// Where the plan first stops something the cloud was running, and where each service's
/// first schema migration (of the hops, not with the current code) stands.
struct Firsts {
    stop: Option<usize>,
    schema: Vec<Option<usize>>,
}

impl Firsts {
    fn new(context: &Context) -> Firsts {
        let catalog = context.catalog;
        let mut firsts = Firsts {
            stop: None,
            schema: vec![None; catalog.services().len()],
        };
        // A component started for a while (a migration needs it running) and stopped again
        // leaves the cloud as it was: that stop is no stop of the cloud.
        let mut started: Vec<(Option<&str>, Option<&str>)> = Vec::new();
        for (index, step) in context.steps() {
            let place = (step.component.as_deref(), step.host.as_deref());
            match step.kind {
                StepKind::Start if firsts.stop.is_none() => started.push(place),
                StepKind::Stop => match started.iter().position(|&seen| seen == place) {
                    Some(at) if firsts.stop.is_none() => {
                        started.swap_remove(at);
                    }
                    _ => {
                        firsts.stop.get_or_insert(index);
                    }
                },
                _ => {}
            }
            let Some(id) = context.migration[index] else {
                continue;
            };
            let migration = catalog.migration(id);
            if migration.kind.is_schema() && !context.runs_current_code(index) {
                firsts.schema[migration.service.index()].get_or_insert(index);
            }
        }
        firsts
    }
}

/// A step running a migration with the current code runs a data migration of its service's
/// current release, with that release's code, in hop 0's `prepare` phase, before the first
/// stop and before the service's first schema migration.
fn check_current_code_step(
    context: &Context,
    firsts: &Firsts,
    index: usize,
    out: &mut Vec<Violation>,
) {
    let catalog = context.catalog;
    let step = &context.plan.steps[index];
    let Some(id) = context.migration[index] else {
        return;
    };
    let migration = catalog.migration(id);
    let service = catalog.service(migration.service);
    let mut report = |message: String, steps: Vec<String>| {
        out.push(Violation::new("V12", message, steps));
    };
    if migration.kind != MigrationKind::Data {
        report(
            format!(
                "step {} runs {} migration {} with the current code: only the starting release's data migrations run so",
                step.id,
                migration.kind.as_str(),
                migration.id
            ),
            vec![step.id.clone()],
        );
    }
    if let Some(current) = context.current[migration.service.index()] {
        let current_name = &catalog.release(current).name;
        if migration.release != current {
            report(
                format!(
                    "step {} runs {} of {} with the current code, but {}'s current release is {current_name}",
                    step.id,
                    migration.id,
                    catalog.release(migration.release).name,
                    service.name
                ),
                vec![step.id.clone()],
            );
        } else if let Some(code) = step.code_release.as_deref().filter(|c| c != current_name) {
            report(
                format!(
                    "step {} runs {} with the code of {code}, but {}'s current code is {current_name}'s",
                    step.id, migration.id, service.name
                ),
                vec![step.id.clone()],
            );
        }
    }
    let misplaced = step.hop != 0 || (context.phased && step.phase != Some(Phase::Prepare));
    if misplaced {
        report(
            format!(
                "step {} runs {} with the current code in hop {}, {}: the starting release's migrations run in hop 0's prepare phase",
                step.id,
                migration.id,
                step.hop,
                step.phase.map_or("without a phase".to_owned(), |p| format!("phase {}", p.as_str()))
            ),
            vec![step.id.clone()],
        );
    }
    if let Some(stop) = firsts.stop.filter(|&stop| stop < index) {
        report(
            format!(
                "step {} runs {} with the current code after {} has stopped something: the starting release's migrations run before anything stops",
                step.id,
                migration.id,
                context.plan.steps[stop].id
            ),
            vec![step.id.clone(), context.id(stop)],
        );
    }
    let first_schema = firsts.schema[migration.service.index()];
    if let Some(schema) = first_schema.filter(|&schema| schema < index) {
        report(
            format!(
                "step {} runs {} after {}, {}'s first schema migration: the starting release's data migrations come first",
                step.id,
                migration.id,
                context.plan.steps[schema].id,
                service.name
            ),
            vec![step.id.clone(), context.id(schema)],
        );
    }
}

/// Per included service with a step in the plan, in catalog order: each blocking data
/// migration of its current release (where the service exists) has a step that runs it
/// with the current code. Where that step stands is [`check_current_code_step`]'s concern.
fn check_starting_migrations_present(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    let services = catalog.services().len();
    let mut has_step = vec![false; services];
    let mut run_current = vec![false; catalog.migrations().len()];
    for (index, _) in context.steps() {
        if let Some(service) = context.step_service(index) {
            has_step[service.index()] = true;
        }
        if let (true, Some(id)) = (context.runs_current_code(index), context.migration[index]) {
            run_current[id.index()] = true;
        }
    }
    for (index, data) in catalog.services().iter().enumerate() {
        let service = ServiceId(index as u32);
        let Some(current) = context.current[index] else {
            continue;
        };
        if !context.included[index] || !has_step[index] || !data.exists_at(current) {
            continue;
        }
        for &id in catalog.migrations_of(service) {
            if is_starting(context, id, current) && !run_current[id.index()] {
                out.push(Violation::plan_wide(
                    "V12",
                    format!(
                        "{}, a blocking data migration of {}'s current release {}, does not run with the current code in hop 0 before {}'s schema migrations",
                        catalog.migration(id).id,
                        data.name,
                        catalog.release(current).name,
                        data.name
                    ),
                ));
            }
        }
    }
}

/// Whether `id` is a blocking data migration of `current`.
fn is_starting(context: &Context, id: MigrationId, current: crate::release::ReleaseId) -> bool {
    let migration = context.catalog.migration(id);
    migration.release == current && migration.kind == MigrationKind::Data && migration.blocking
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{
        index, kit, messages, move_after, offline, phased, remove, step, violations,
    };
    use crate::plan::CodeSide;

    #[test]
    fn phased_plans_finish_the_starting_release_first() {
        let catalog = kit();
        for (from, to, skip) in [("r1", "r2", false), ("r2", "r4", false), ("r2", "r4", true)] {
            let plan = phased(&catalog, offline(&catalog, from, to, skip));
            assert_eq!(violations(&catalog, &plan), [], "{from} -> {to}");
        }
    }

    #[test]
    fn a_dropped_starting_migration() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r2", "r4", false));
        remove(&mut plan, "h0.compute.r2.online");
        // V2 does not miss it (r2 is not after `from`): V12 alone does.
        assert_eq!(
            violations(&catalog, &plan),
            [(
                "V12",
                "compute.r2.online, a blocking data migration of compute's current release r2, does not run with the current code in hop 0 before compute's schema migrations".to_owned()
            )]
        );
    }

    #[test]
    fn a_starting_migration_after_a_stop_and_a_schema_migration() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r2", "r4", false));
        move_after(&mut plan, "h0.compute.r2.online", "h0.compute.r3.sync");
        assert_eq!(
            messages(&catalog, &plan, "V12"),
            [
                "step h0.compute.r2.online runs compute.r2.online with the current code after h0.stop.compute-agent has stopped something: the starting release's migrations run before anything stops",
                "step h0.compute.r2.online runs compute.r2.online after h0.compute.r3.sync, compute's first schema migration: the starting release's data migrations come first",
            ]
        );
    }

    #[test]
    fn a_component_started_for_a_while_and_stopped_again_stops_nothing() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r2", "r4", false));
        // A starting-release migration that needs a component the cloud does not run: the
        // planner starts it for a while and stops it again before the next one.
        let mut stop = step(&mut plan, "h0.stop.compute-agent").clone();
        stop.id = "h0.stop.compute-agent.after.x".into();
        let mut start = stop.clone();
        start.id = "h0.start.compute-agent.for.x".into();
        start.kind = crate::plan::StepKind::Start;
        let first = index(&plan, "h0.compute.r2.online");
        plan.steps.insert(first, stop.clone());
        plan.steps.insert(first, start);
        assert_eq!(messages(&catalog, &plan, "V12"), Vec::<String>::new());
        // The same stop without the start before it stops what the cloud runs.
        plan.steps
            .retain(|step| step.id != "h0.start.compute-agent.for.x");
        assert_eq!(
            messages(&catalog, &plan, "V12"),
            ["step h0.compute.r2.online runs compute.r2.online with the current code after h0.stop.compute-agent.after.x has stopped something: the starting release's migrations run before anything stops"]
        );
    }

    #[test]
    fn the_current_code_runs_only_the_starting_release() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r1", "r3", false));
        step(&mut plan, "h1.compute.r3.sync").code = Some(CodeSide::Current);
        assert_eq!(
            messages(&catalog, &plan, "V12"),
            [
                "step h1.compute.r3.sync runs migrate migration compute.r3.sync with the current code: only the starting release's data migrations run so",
                "step h1.compute.r3.sync runs compute.r3.sync of r3 with the current code, but compute's current release is r1",
                "step h1.compute.r3.sync runs compute.r3.sync with the current code in hop 1, phase migrations: the starting release's migrations run in hop 0's prepare phase",
                "step h1.compute.r3.sync runs compute.r3.sync with the current code after h0.stop.compute-agent has stopped something: the starting release's migrations run before anything stops",
                "step h1.compute.r3.sync runs compute.r3.sync after h0.compute.r2.sync, compute's first schema migration: the starting release's data migrations come first",
            ]
        );
        // Marking a migration so does not hide it from V2.
        assert_eq!(
            messages(&catalog, &plan, "V2"),
            ["migration compute.r3.sync (compute r3) is missing"]
        );
    }

    #[test]
    fn the_code_release_is_the_current_one() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r2", "r4", false));
        step(&mut plan, "h0.compute.r2.online").code_release = Some("r3".into());
        assert_eq!(
            messages(&catalog, &plan, "V12"),
            ["step h0.compute.r2.online runs compute.r2.online with the code of r3, but compute's current code is r2's"]
        );
    }

    #[test]
    fn plans_without_phases_are_not_asked_for_the_starting_release() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r2", "r4", false);
        for step in &mut plan.steps {
            step.phase = None;
        }
        assert_eq!(messages(&catalog, &plan, "V12"), Vec::<String>::new());
    }

    #[test]
    fn services_without_steps_are_not_asked() {
        let catalog = kit();
        let mut plan = phased(&catalog, offline(&catalog, "r2", "r4", false));
        plan.steps
            .retain(|s| s.service.as_deref() != Some("compute"));
        plan.steps.retain(|s| {
            !s.component
                .as_deref()
                .is_some_and(|c| c.starts_with("compute"))
        });
        assert_eq!(messages(&catalog, &plan, "V12"), Vec::<String>::new());
    }
}
