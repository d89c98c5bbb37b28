//! V9 rollback: in each hop, a `backup` step of the service (a rollback point, carrying
//! `service`) comes before its first `contract` or non-reversible migration. Reported once
//! per service and hop, at the first such migration. The starting release's migrations,
//! run with the current code before anything stops (DESIGN §8), are not part of the upgrade
//! and need no backup here.

use super::{Context, Violation};
use crate::migration::MigrationKind;
use crate::plan::StepKind;

/// V9, in step order.
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    let services = catalog.services().len();
    // Per (hop, service), `hop * services + service`.
    let mut backup_seen = vec![false; context.plan.hops.len() * services];
    let mut reported = vec![false; context.plan.hops.len() * services];
    for (index, step) in context.steps() {
        if step.kind == StepKind::Backup {
            if let Some(service) = context.service[index] {
                backup_seen[step.hop * services + service.index()] = true;
            }
            continue;
        }
        let Some(id) = context.migration[index] else {
            continue;
        };
        if context.runs_current_code(index) {
            continue;
        }
        let migration = catalog.migration(id);
        let slot = step.hop * services + migration.service.index();
        if !migration.needs_backup() || backup_seen[slot] || reported[slot] {
            continue;
        }
        reported[slot] = true;
        let why = if migration.kind == MigrationKind::Contract {
            "contract"
        } else {
            "not reversible"
        };
        out.push(Violation::at(
            "V9",
            format!(
                "{} ({why}) runs in hop {} with no earlier backup of {} in that hop",
                migration.id,
                step.hop,
                catalog.service(migration.service).name
            ),
            &step.id,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{kit, messages, move_after, of_rule, offline, remove, rolling};

    #[test]
    fn planned_backups_come_first() {
        let catalog = kit();
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", false), "V9").is_empty());
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", true), "V9").is_empty());
        assert!(messages(&catalog, &rolling(&catalog, "r1", "r4"), "V9").is_empty());
    }

    #[test]
    fn a_contract_needs_a_backup_first() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        move_after(&mut plan, "h0.backup.ident", "h0.ident.r2.contract");
        let v9 = of_rule(&catalog, &plan, "V9");
        assert_eq!(v9.len(), 1, "{v9:?}");
        assert_eq!(
            v9[0].message,
            "ident.r2.contract (contract) runs in hop 0 with no earlier backup of ident in that hop"
        );
        assert_eq!(v9[0].steps, ["h0.ident.r2.contract"]);
    }

    #[test]
    fn an_irreversible_migration_needs_a_backup_once_per_service_and_hop() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        remove(&mut plan, "h0.backup.compute");
        remove(&mut plan, "h1.backup.compute");
        assert_eq!(
            messages(&catalog, &plan, "V9"),
            [
                "compute.r2.sync (not reversible) runs in hop 0 with no earlier backup of compute in that hop",
                "compute.r3.sync (not reversible) runs in hop 1 with no earlier backup of compute in that hop",
            ]
        );
    }
}
