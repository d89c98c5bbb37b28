//! What may run, or must run, while a step runs: judged on the fleet that the replay
//! (`replay.rs`) keeps step by step.
//!
//! - **V6 offline**: in offline mode every schema migration runs while all `control`
//!   components of its service are stopped (except those in its `needs_running`); in
//!   rolling mode a `contract` runs only once no (non data plane) component of that service
//!   runs an older release than the hop's target.
//! - **V7 data plane**: with `keep_dataplane`, no step stops a `dataplane` component.
//! - **V8 needs running**: a migration's `needs_running` components run, at the hop's
//!   target release, when it starts; in offline mode, those a hop needed are stopped again
//!   (or run at the next hop's release) before the next hop's first migration.

use super::fleet::Fleet;
use super::{Context, Violation};
use crate::migration::{Migration, MigrationId, MigrationKind};
use crate::plan::{CodeSide, Mode, Step};
use crate::release::ReleaseId;
use crate::service::{ComponentId, Role};

/// V7: a stop step must not stop a data plane component while the policy keeps the data
/// plane up.
pub(super) fn check_stop(
    context: &Context,
    component: ComponentId,
    step: &Step,
    out: &mut Vec<Violation>,
) {
    let data = context.catalog.component(component);
    if context.plan.policy.keep_dataplane && data.role == Role::Dataplane {
        out.push(Violation::at(
            "V7",
            format!(
                "step {} stops data plane component {}, which must keep running",
                step.id, data.name
            ),
            &step.id,
        ));
    }
}

/// V8 and V6 at the migration steps, with what V8 remembers between them.
pub(super) struct MigrationChecks {
    offline: bool,
    /// Per hop: the components its migrations needed running (with repeats).
    needed_in_hop: Vec<Vec<ComponentId>>,
    /// Per hop: whether its first migration has been seen.
    first_migration_seen: Vec<bool>,
}

impl MigrationChecks {
    pub(super) fn new(context: &Context) -> MigrationChecks {
        let hops = context.plan.hops.len();
        MigrationChecks {
            offline: context.plan.policy.mode == Mode::Offline,
            needed_in_hop: vec![Vec::new(); hops],
            first_migration_seen: vec![false; hops],
        }
    }

    /// Checks migration `id`, run by `step`, on the fleet as it is when the step starts:
    /// V8 (the previous hop's needs stopped, this migration's needs running), then V6.
    pub(super) fn check(
        &mut self,
        context: &Context,
        fleet: &Fleet,
        step: &Step,
        id: MigrationId,
        out: &mut Vec<Violation>,
    ) {
        let migration = context.catalog.migration(id);
        if step.code == Some(CodeSide::Current) {
            // The starting release's own work (DESIGN §8, V12): what it needs runs at that
            // release, as everything does before the first stop; nothing to stop later.
            let mut unrecorded = Vec::new();
            check_needs_running(
                context,
                fleet,
                step,
                migration,
                Some(migration.release),
                &mut unrecorded,
                out,
            );
            return;
        }
        let target = context.hop_target[step.hop];
        if self.offline && !self.first_migration_seen[step.hop] {
            self.first_migration_seen[step.hop] = true;
            self.check_previous_hop_stopped(context, fleet, step, migration, target, out);
        }
        self.check_needs_running(context, fleet, step, migration, target, out);
        if !migration.kind.is_schema() {
            return;
        }
        if self.offline {
            check_offline_schema(context, fleet, step, migration, out);
        } else if migration.kind == MigrationKind::Contract {
            check_rolling_contract(context, fleet, step, migration, target, out);
        }
    }

    /// V8, second half: what the previous hop started for its migrations must be stopped
    /// again before this hop's first migration, unless it was restarted at this hop's
    /// release.
    fn check_previous_hop_stopped(
        &self,
        context: &Context,
        fleet: &Fleet,
        step: &Step,
        migration: &Migration,
        target: Option<ReleaseId>,
        out: &mut Vec<Violation>,
    ) {
        if step.hop == 0 {
            return;
        }
        for &component in &self.needed_in_hop[step.hop - 1] {
            if fleet.running_other_than(component, target) {
                out.push(Violation::at(
                    "V8",
                    format!(
                        "{} still runs from hop {} when hop {}'s first migration {} starts",
                        context.catalog.component(component).name,
                        step.hop - 1,
                        step.hop,
                        migration.id
                    ),
                    &step.id,
                ));
            }
        }
    }

    /// V8, first half, for a migration of the hop.
    fn check_needs_running(
        &mut self,
        context: &Context,
        fleet: &Fleet,
        step: &Step,
        migration: &Migration,
        target: Option<ReleaseId>,
        out: &mut Vec<Violation>,
    ) {
        let needed = &mut self.needed_in_hop[step.hop];
        check_needs_running(context, fleet, step, migration, target, needed, out);
    }
}

/// V8, first half: each of the migration's `needs_running` components runs at `target`
/// (the hop's target release); each is added to `needed`.
fn check_needs_running(
    context: &Context,
    fleet: &Fleet,
    step: &Step,
    migration: &Migration,
    target: Option<ReleaseId>,
    needed: &mut Vec<ComponentId>,
    out: &mut Vec<Violation>,
) {
    let catalog = context.catalog;
    for &component in &migration.needs_running {
        needed.push(component);
        if target.is_some_and(|t| fleet.count(component, t) > 0) {
            continue;
        }
        let now = match fleet.any_release(component) {
            None => "is not running".to_owned(),
            Some(release) => format!("runs {}", catalog.release(release).name),
        };
        let at = target.map_or(context.plan.hops[step.hop].to.as_str(), |t| {
            catalog.release(t).name.as_str()
        });
        out.push(Violation::at(
            "V8",
            format!(
                "{} needs {} running at {at} but it {now}",
                migration.id,
                catalog.component(component).name,
            ),
            &step.id,
        ));
    }
}

/// V6, offline: no control component of the migration's service runs, except those the
/// migration needs running.
fn check_offline_schema(
    context: &Context,
    fleet: &Fleet,
    step: &Step,
    migration: &Migration,
    out: &mut Vec<Violation>,
) {
    let catalog = context.catalog;
    for &component in &catalog.service(migration.service).components {
        let data = catalog.component(component);
        if data.role == Role::Control
            && !migration.needs_running.contains(&component)
            && fleet.any_release(component).is_some()
        {
            out.push(Violation::at(
                "V6",
                format!(
                    "offline schema migration {} runs while {} is running",
                    migration.id, data.name
                ),
                &step.id,
            ));
        }
    }
}

/// V6, rolling: a contract runs only once no component of its service (the data plane
/// aside) runs a release older than the hop's target.
fn check_rolling_contract(
    context: &Context,
    fleet: &Fleet,
    step: &Step,
    migration: &Migration,
    target: Option<ReleaseId>,
    out: &mut Vec<Violation>,
) {
    let catalog = context.catalog;
    for &component in &catalog.service(migration.service).components {
        let data = catalog.component(component);
        if data.role == Role::Dataplane {
            continue;
        }
        let Some(oldest) = fleet.oldest_release(component) else {
            continue;
        };
        if target.is_some_and(|t| oldest < t) {
            out.push(Violation::at(
                "V6",
                format!(
                    "contract {} runs while {} still runs the older release {}",
                    migration.id,
                    data.name,
                    catalog.release(oldest).name
                ),
                &step.id,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{
        kit, kit_with, messages, move_before, of_rule, offline, remove, rolling, step,
    };

    #[test]
    fn the_starting_release_needs_what_runs_at_its_release() {
        // compute.r2.online needs ident-api: run first, with the current code (r2), it has
        // it at r2 before anything stops, not at the hop's target r3.
        let catalog = kit_with(
            r#"command: "compute-manage online","#,
            r#"command: "compute-manage online", needs_running: [ident-api],"#,
        );
        let plan = super::super::testkit::phased(&catalog, offline(&catalog, "r2", "r4", false));
        assert_eq!(messages(&catalog, &plan, "V8"), Vec::<String>::new());
        let mut late = plan.clone();
        move_before(&mut late, "h0.compute.r2.online", "h0.backup.compute");
        assert_eq!(
            messages(&catalog, &late, "V8"),
            ["compute.r2.online needs ident-api running at r2 but it is not running"]
        );
    }

    #[test]
    fn planned_plans_run_what_they_must() {
        let catalog = kit();
        for plan in [
            offline(&catalog, "r1", "r4", false),
            offline(&catalog, "r1", "r4", true),
            rolling(&catalog, "r1", "r4"),
        ] {
            for rule in ["V6", "V7", "V8"] {
                assert!(messages(&catalog, &plan, rule).is_empty(), "{rule}");
            }
        }
    }

    #[test]
    fn v6_offline_schema_migrations_with_the_service_stopped() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        remove(&mut plan, "h0.stop.ident-api");
        let v6 = of_rule(&catalog, &plan, "V6");
        let found: Vec<(&str, &[String])> = v6
            .iter()
            .map(|v| (v.message.as_str(), v.steps.as_slice()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "offline schema migration ident.r2.expand runs while ident-api is running",
                    &["h0.ident.r2.expand".to_owned()][..]
                ),
                (
                    "offline schema migration ident.r2.contract runs while ident-api is running",
                    &["h0.ident.r2.contract".to_owned()][..]
                ),
            ]
        );
    }

    #[test]
    fn v6_a_component_the_migration_needs_may_run() {
        let catalog = kit_with(
            r#"{id: compute.r3.sync, service: compute, release: r3, kind: migrate, command: "compute-manage sync"}"#,
            r#"{id: compute.r3.sync, service: compute, release: r3, kind: migrate, command: "compute-manage sync", needs_running: [compute-api]}"#,
        );
        let plan = offline(&catalog, "r2", "r3", false);
        assert!(plan
            .steps
            .iter()
            .any(|s| s.id == "h0.start.compute-api.for.compute.r3.sync"));
        assert_eq!(messages(&catalog, &plan, "V6"), Vec::<String>::new());
    }

    #[test]
    fn v6_rolling_contract_after_every_component_is_upgraded() {
        let catalog = kit();
        let mut plan = rolling(&catalog, "r1", "r2");
        move_before(&mut plan, "h0.ident.r2.contract", "h0.stop.ident-api");
        assert_eq!(
            messages(&catalog, &plan, "V6"),
            ["contract ident.r2.contract runs while ident-api still runs the older release r1"]
        );
    }

    #[test]
    fn v7_the_data_plane_keeps_running() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        let mut stop = step(&mut plan, "h0.stop.compute-agent").clone();
        stop.id = "h0.stop.guests".into();
        stop.component = Some("guests".into());
        plan.steps.insert(0, stop);
        let v7 = of_rule(&catalog, &plan, "V7");
        assert_eq!(v7.len(), 1, "{v7:?}");
        assert_eq!(
            v7[0].message,
            "step h0.stop.guests stops data plane component guests, which must keep running"
        );
        assert_eq!(v7[0].steps, ["h0.stop.guests"]);
        plan.policy.keep_dataplane = false;
        assert_eq!(messages(&catalog, &plan, "V7"), Vec::<String>::new());
    }

    #[test]
    fn v8_a_needed_component_is_not_started() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        remove(&mut plan, "h0.start.ident-api.for.compute.r2.sync");
        let v8 = of_rule(&catalog, &plan, "V8");
        assert_eq!(v8.len(), 1, "{v8:?}");
        assert_eq!(
            v8[0].message,
            "compute.r2.sync needs ident-api running at r2 but it is not running"
        );
        assert_eq!(v8[0].steps, ["h0.compute.r2.sync"]);
    }

    #[test]
    fn v8_a_needed_component_runs_the_wrong_release() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        step(&mut plan, "h0.start.ident-api.for.compute.r2.sync").release = Some("r1".into());
        assert_eq!(
            messages(&catalog, &plan, "V8"),
            ["compute.r2.sync needs ident-api running at r2 but it runs r1"]
        );
    }

    #[test]
    fn v8_offline_a_needed_component_is_stopped_before_the_next_hop() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        remove(&mut plan, "h0.stop.ident-api.after.compute.r2.sync");
        let v8 = of_rule(&catalog, &plan, "V8");
        assert_eq!(v8.len(), 1, "{v8:?}");
        assert_eq!(
            v8[0].message,
            "ident-api still runs from hop 0 when hop 1's first migration compute.r3.sync starts"
        );
        assert_eq!(v8[0].steps, ["h1.compute.r3.sync"]);
    }
}
