//! The order of migrations within a service.
//!
//! - **V3 order**: every step comes after all it `requires` (step ids), every migration after
//!   the migrations it `requires` (catalog ids), and a migration listed as applied has its
//!   requirements applied too; a service's migrations of release r come after its
//!   migrations of earlier releases; within one service and release, expand < migrate <
//!   contract, and data after expand and migrate.
//! - **V4 blocking data**: a blocking data migration of (service, r) comes before every
//!   schema migration (expand, migrate, contract) of that service in any later release.

use rustc_hash::FxHashMap as HashMap;

use super::{Context, Violation};
use crate::migration::{MigrationId, MigrationKind};
use crate::release::ReleaseId;
use crate::service::ServiceId;

/// Within one service and release, each pair (earlier, later): every `earlier` migration
/// comes before every `later` one.
const KIND_ORDER: [(MigrationKind, MigrationKind); 5] = [
    (MigrationKind::Expand, MigrationKind::Migrate),
    (MigrationKind::Expand, MigrationKind::Contract),
    (MigrationKind::Migrate, MigrationKind::Contract),
    (MigrationKind::Expand, MigrationKind::Data),
    (MigrationKind::Migrate, MigrationKind::Data),
];

/// V3, in this order: step requirements, applied migrations' requirements, migration
/// requirements, a service's releases, then kinds within a service and release.
pub(super) fn check_order(context: &Context, out: &mut Vec<Violation>) {
    check_step_requires(context, out);
    let positions = context.migration_positions();
    check_applied_requirements(context, &positions, out);
    check_migration_requires(context, &positions, out);
    check_release_order(context, out);
    check_kind_order(context, out);
}

/// Every step id a step `requires` is in the plan, before it.
fn check_step_requires(context: &Context, out: &mut Vec<Violation>) {
    for (index, step) in context.steps() {
        for required in &step.requires {
            match context.position.get(required.as_str()) {
                Some(&at) if at < index => {}
                Some(_) => out.push(Violation::new(
                    "V3",
                    format!(
                        "step {} comes before {required}, which it requires",
                        step.id
                    ),
                    vec![step.id.clone(), required.clone()],
                )),
                None => out.push(Violation::at(
                    "V3",
                    format!(
                        "step {} requires {required}, which is not in the plan",
                        step.id
                    ),
                    &step.id,
                )),
            }
        }
    }
}

/// An applied migration ran before the plan: so must everything it requires (that is not
/// older than `from` anyway).
fn check_applied_requirements(
    context: &Context,
    positions: &[Option<usize>],
    out: &mut Vec<Violation>,
) {
    let Some(from) = context.from else { return };
    let catalog = context.catalog;
    for (index, migration) in catalog.migrations().iter().enumerate() {
        if !context.applied[index] {
            continue;
        }
        for required in &migration.requires {
            let other = catalog.migration(*required);
            if !context.applied[required.index()] && other.release > from {
                out.push(Violation::new(
                    "V3",
                    format!(
                        "{} is listed as applied, but {}, which it requires, is not",
                        migration.id, other.id
                    ),
                    positions[required.index()]
                        .map(|at| context.id(at))
                        .into_iter()
                        .collect(),
                ));
            }
        }
    }
}

/// Every migration the plan runs comes after the migrations it requires that the plan runs.
fn check_migration_requires(
    context: &Context,
    positions: &[Option<usize>],
    out: &mut Vec<Violation>,
) {
    let catalog = context.catalog;
    for (index, id) in context.migration.iter().enumerate() {
        let Some(id) = id else { continue };
        for required in &catalog.migration(*id).requires {
            let Some(at) = positions[required.index()] else {
                continue;
            };
            if at > index {
                out.push(Violation::new(
                    "V3",
                    format!(
                        "{} runs before {}, which it requires",
                        catalog.migration(*id).id,
                        catalog.migration(*required).id
                    ),
                    vec![context.id(index), context.id(at)],
                ));
            }
        }
    }
}

/// A service's migrations never go back to an earlier release.
fn check_release_order(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    let mut latest: HashMap<ServiceId, (ReleaseId, usize)> = HashMap::default();
    for (index, id) in context.migration.iter().enumerate() {
        let Some(id) = id else { continue };
        let migration = catalog.migration(*id);
        match latest.get(&migration.service) {
            Some(&(release, at)) if release > migration.release => out.push(Violation::new(
                "V3",
                format!(
                    "{} of {} runs after a {} migration of the same service",
                    migration.id,
                    catalog.release(migration.release).name,
                    catalog.release(release).name
                ),
                vec![context.id(at), context.id(index)],
            )),
            _ => {
                latest.insert(migration.service, (migration.release, index));
            }
        }
    }
}

/// Within each (service, release), in that order, the kinds come as [`KIND_ORDER`] says.
fn check_kind_order(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    let mut by_group: HashMap<(ServiceId, ReleaseId), Vec<(usize, MigrationKind)>> =
        HashMap::default();
    for (index, id) in context.migration.iter().enumerate() {
        let Some(id) = id else { continue };
        let migration = catalog.migration(*id);
        by_group
            .entry((migration.service, migration.release))
            .or_default()
            .push((index, migration.kind));
    }
    let mut groups: Vec<_> = by_group.into_iter().collect();
    groups.sort_by_key(|(key, _)| *key);
    for ((service, release), members) in groups {
        for (earlier, later) in KIND_ORDER {
            let last_earlier = members
                .iter()
                .filter(|(_, k)| *k == earlier)
                .map(|&(at, _)| at)
                .max();
            let first_later = members
                .iter()
                .filter(|(_, k)| *k == later)
                .map(|&(at, _)| at)
                .min();
            let (Some(a), Some(b)) = (last_earlier, first_later) else {
                continue;
            };
            if b < a {
                out.push(Violation::new(
                    "V3",
                    format!(
                        "{} {} migration {} runs before {} migration {} of the same release {}",
                        catalog.service(service).name,
                        later.as_str(),
                        context.plan.steps[b].id,
                        earlier.as_str(),
                        context.plan.steps[a].id,
                        catalog.release(release).name
                    ),
                    vec![context.id(b), context.id(a)],
                ));
            }
        }
    }
}

/// V4: per service (in catalog order), each blocking data migration the plan runs comes
/// before every schema migration of a later release of that service.
pub(super) fn check_blocking_data(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    let mut per_service: HashMap<ServiceId, Vec<usize>> = HashMap::default();
    for (index, id) in context.migration.iter().enumerate() {
        if let Some(id) = id {
            per_service
                .entry(catalog.migration(*id).service)
                .or_default()
                .push(index);
        }
    }
    let mut services: Vec<_> = per_service.into_iter().collect();
    services.sort_by_key(|(service, _)| *service);
    let migration_at =
        |at: usize| catalog.migration(context.migration[at].unwrap_or(MigrationId(0)));
    for (_, steps) in services {
        for &data_at in &steps {
            let data = migration_at(data_at);
            if data.kind != MigrationKind::Data || !data.blocking {
                continue;
            }
            for &schema_at in &steps {
                let schema = migration_at(schema_at);
                if schema.kind.is_schema() && schema.release > data.release && schema_at < data_at {
                    out.push(Violation::new(
                        "V4",
                        format!(
                            "{} ({}) runs before the blocking data migration {} ({}) has finished",
                            schema.id,
                            catalog.release(schema.release).name,
                            data.id,
                            catalog.release(data.release).name
                        ),
                        vec![context.id(schema_at), context.id(data_at)],
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{
        kit, kit_with, messages, move_after, move_before, of_rule, offline, remove, rolling, step,
    };

    #[test]
    fn planned_orders_are_clean() {
        let catalog = kit();
        for plan in [
            offline(&catalog, "r1", "r4", false),
            offline(&catalog, "r1", "r4", true),
            rolling(&catalog, "r1", "r4"),
        ] {
            assert!(messages(&catalog, &plan, "V3").is_empty());
            assert!(messages(&catalog, &plan, "V4").is_empty());
        }
    }

    #[test]
    fn v3_a_step_after_what_it_requires() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        step(&mut plan, "h0.ident.r2.expand").requires =
            vec!["h0.ident.r2.contract".into(), "ghost".into()];
        let v3 = of_rule(&catalog, &plan, "V3");
        let found: Vec<(&str, Vec<String>)> = v3
            .iter()
            .map(|v| (v.message.as_str(), v.steps.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "step h0.ident.r2.expand comes before h0.ident.r2.contract, which it requires",
                    vec!["h0.ident.r2.expand".into(), "h0.ident.r2.contract".into()]
                ),
                (
                    "step h0.ident.r2.expand requires ghost, which is not in the plan",
                    vec!["h0.ident.r2.expand".into()]
                ),
            ]
        );
    }

    #[test]
    fn v3_contract_before_expand() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        move_before(&mut plan, "h0.ident.r2.contract", "h0.ident.r2.expand");
        assert_eq!(
            messages(&catalog, &plan, "V3"),
            [
                "step h0.ident.r2.contract comes before h0.ident.r2.expand, which it requires",
                "ident.r2.contract runs before ident.r2.expand, which it requires",
                "ident contract migration h0.ident.r2.contract runs before expand migration h0.ident.r2.expand of the same release r2",
            ]
        );
    }

    #[test]
    fn v3_data_before_migrate() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        move_before(&mut plan, "h0.compute.r2.online", "h0.compute.r2.sync");
        assert_eq!(
            messages(&catalog, &plan, "V3"),
            [
                "step h0.compute.r2.online comes before h0.compute.r2.sync, which it requires",
                // The step it followed (its requires say so).
                "step h0.compute.r2.online comes before h0.start.compute-agent, which it requires",
                "compute.r2.online runs before compute.r2.sync, which it requires",
                "compute data migration h0.compute.r2.online runs before migrate migration h0.compute.r2.sync of the same release r2",
            ]
        );
    }

    #[test]
    fn v3_a_service_never_goes_back_a_release() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        move_before(&mut plan, "h1.compute.r3.sync", "h0.compute.r2.sync");
        let v3 = of_rule(&catalog, &plan, "V3");
        let messages: Vec<&str> = v3.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "step h1.compute.r3.sync comes before h1.install.compute, which it requires",
                "compute.r2.sync of r2 runs after a r3 migration of the same service",
                "compute.r2.online of r2 runs after a r3 migration of the same service",
            ]
        );
        assert_eq!(v3[1].steps, ["h1.compute.r3.sync", "h0.compute.r2.sync"]);
    }

    #[test]
    fn v3_an_applied_migration_has_its_requirements_applied() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        remove(&mut plan, "h0.ident.r2.contract");
        plan.applied = vec!["ident.r2.contract".into()];
        let v3 = of_rule(&catalog, &plan, "V3");
        assert_eq!(v3.len(), 1, "{v3:?}");
        assert_eq!(
            v3[0].message,
            "ident.r2.contract is listed as applied, but ident.r2.expand, which it requires, is not"
        );
        assert_eq!(v3[0].steps, ["h0.ident.r2.expand"]);
    }

    #[test]
    fn v4_a_later_schema_migration_before_a_blocking_data_migration() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        move_after(&mut plan, "h0.compute.r2.online", "h1.compute.r3.sync");
        let v4 = of_rule(&catalog, &plan, "V4");
        assert_eq!(v4.len(), 1, "{v4:?}");
        assert_eq!(
            v4[0].message,
            "compute.r3.sync (r3) runs before the blocking data migration compute.r2.online (r2) has finished"
        );
        assert_eq!(v4[0].steps, ["h1.compute.r3.sync", "h0.compute.r2.online"]);
    }

    #[test]
    fn v4_a_data_migration_that_does_not_block() {
        let catalog = kit_with("kind: data,", "kind: data, blocking: false,");
        let mut plan = offline(&catalog, "r1", "r3", false);
        move_after(&mut plan, "h0.compute.r2.online", "h1.compute.r3.sync");
        assert_eq!(messages(&catalog, &plan, "V4"), Vec::<String>::new());
    }
}
