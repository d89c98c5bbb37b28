//! V14 databases: a backup step that names its `databases` names only databases of its
//! service that exist at the step's release (the release its databases are backed up at:
//! the step's `release`, else the release its hop starts from). A name the service does
//! not have at all is a violation too. A backup without `databases` (an older plan) or
//! without a service (V9's concern) is not judged.

use super::{Context, Violation};
use crate::plan::StepKind;

/// V14, in step order, per backup step in the order it names its databases.
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    for (index, step) in context.steps() {
        let (StepKind::Backup, Some(names)) = (step.kind, step.databases.as_ref()) else {
            continue;
        };
        let Some(service) = context.service[index] else {
            continue;
        };
        let data = catalog.service(service);
        let release = context.release[index]
            .or_else(|| catalog.release_id(&context.plan.hops[step.hop].from));
        for name in names {
            let message = match data.databases.iter().find(|d| d.name == *name) {
                None => format!(
                    "step {} backs up {name:?}, which is not a database of {}",
                    step.id, data.name
                ),
                Some(database) => match release {
                    Some(release) if !database.exists_at(release) => format!(
                        "step {} backs up {name}, which {} does not have at {}",
                        step.id,
                        data.name,
                        catalog.release(release).name
                    ),
                    _ => continue,
                },
            };
            out.push(Violation::at("V14", message, &step.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{kit_with, messages, offline, step};
    use crate::{Catalog, Policy};

    /// The kit with databases for compute, one of them only from r2 on.
    fn catalog() -> Catalog {
        kit_with(
            "    after: [ident]\n",
            "    after: [ident]\n    databases: [compute, {name: compute_cell0, since: r2}]\n",
        )
    }

    #[test]
    fn backups_name_the_databases_there() {
        let catalog = catalog();
        let mut plan = offline(&catalog, "r1", "r3", false);
        step(&mut plan, "h0.backup.compute").databases = Some(vec!["compute".into()]);
        step(&mut plan, "h1.backup.compute").databases =
            Some(vec!["compute".into(), "compute_cell0".into()]);
        assert_eq!(messages(&catalog, &plan, "V14"), Vec::<String>::new());
    }

    #[test]
    fn a_backup_naming_a_database_not_there_yet_or_unknown() {
        let catalog = catalog();
        let mut plan = offline(&catalog, "r1", "r3", false);
        step(&mut plan, "h0.backup.compute").databases = Some(vec![
            "compute".into(),
            "compute_cell0".into(),
            "nope".into(),
        ]);
        // Without a release, the backup is of the databases as the hop starts (r2).
        let h1 = step(&mut plan, "h1.backup.compute");
        h1.databases = Some(vec!["compute_cell0".into()]);
        h1.release = None;
        step(&mut plan, "h0.backup.ident").databases = Some(vec!["compute".into()]);
        assert_eq!(
            messages(&catalog, &plan, "V14"),
            [
                "step h0.backup.ident backs up \"compute\", which is not a database of ident",
                "step h0.backup.compute backs up compute_cell0, which compute does not have at r1",
                "step h0.backup.compute backs up \"nope\", which is not a database of compute",
            ]
        );
    }

    #[test]
    fn a_newton_backup_naming_nova_cell0() {
        // nova_cell0 comes with Ocata's cells v2: a backup before the newton -> ocata hop
        // cannot name it.
        let catalog = Catalog::openstack();
        let mut plan = catalog.plan("newton", "pike", &Policy::default()).unwrap();
        let databases = |names: &[&str]| Some(names.iter().map(|&n| n.to_owned()).collect());
        step(&mut plan, "h0.backup.nova").databases =
            databases(&["nova_api", "nova", "nova_cell0"]);
        step(&mut plan, "h1.backup.nova").databases =
            databases(&["nova_api", "nova", "nova_cell0"]);
        assert_eq!(
            messages(&catalog, &plan, "V14"),
            ["step h0.backup.nova backs up nova_cell0, which nova does not have at newton"]
        );
    }
}
