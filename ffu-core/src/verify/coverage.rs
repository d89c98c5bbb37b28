//! V2 coverage: every migration of every included service (`policy.services`, or all) whose
//! release r satisfies from < r <= to appears exactly once, as a step of its own kind, in the
//! hop whose `releases` contain r; no other migration appears. A migration the plan lists
//! as `applied` (the databases already hold it) must not run, and must itself be in scope.
//!
//! A step that runs a catalog migration with the current code (`"code": "current"`) is the
//! starting release's own work (DESIGN §8): outside `from < r`, it is neither counted nor
//! reported here, but judged by V12 (`starting.rs`).

use super::{Context, Violation};

/// V2, in this order: each migration step on its own (known, kind, hop), the `applied`
/// list, then each catalog migration's count.
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    if context.from.is_none() || context.to.is_none() {
        return;
    }
    let seen = check_migration_steps(context, out);
    check_applied_list(context, out);
    check_each_migration_once(context, &seen, out);
}

/// Checks every step that runs a migration (by kind or by naming one): the migration is
/// known, the step has its kind, and its hop applies its release. Returns, per catalog
/// migration, the steps that run it.
fn check_migration_steps(context: &Context, out: &mut Vec<Violation>) -> Vec<Vec<usize>> {
    let catalog = context.catalog;
    let mut seen: Vec<Vec<usize>> = vec![Vec::new(); catalog.migrations().len()];
    for (index, step) in context.steps() {
        if !step.kind.is_migration() && step.migration.is_none() || context.runs_current_code(index)
        {
            continue;
        }
        let Some(id) = context.migration[index] else {
            let message = match &step.migration {
                Some(name) => format!(
                    "step {} runs migration {name:?}, which the catalog does not have",
                    step.id
                ),
                None => format!(
                    "step {} is a {} step without a migration",
                    step.id,
                    step.kind.as_str()
                ),
            };
            out.push(Violation::at("V2", message, &step.id));
            continue;
        };
        seen[id.index()].push(index);
        let migration = catalog.migration(id);
        if migration.kind.as_str() != step.kind.as_str() {
            out.push(Violation::at(
                "V2",
                format!(
                    "step {} runs {} as {}, but it is a {} migration",
                    step.id,
                    migration.id,
                    step.kind.as_str(),
                    migration.kind.as_str()
                ),
                &step.id,
            ));
        }
        check_revisions(context, step, migration, out);
        let hop = &context.plan.hops[step.hop];
        let in_hop = hop
            .releases
            .iter()
            .any(|r| catalog.release_id(r) == Some(migration.release));
        if !in_hop {
            out.push(Violation::at(
                "V2",
                format!(
                    "step {} runs {} of release {} in hop {} -> {}, whose releases do not contain it",
                    step.id,
                    migration.id,
                    catalog.release(migration.release).name,
                    hop.from,
                    hop.to
                ),
                &step.id,
            ));
        }
    }
    seen
}

/// A migration step applies exactly the revisions of its migration that the databases do
/// not hold yet (the plan's `applied_revisions`), in the catalog's order (DESIGN §12).
fn check_revisions(
    context: &Context,
    step: &crate::plan::Step,
    migration: &crate::migration::Migration,
    out: &mut Vec<Violation>,
) {
    if migration.revisions.is_empty() && step.revisions.is_empty() {
        return;
    }
    let applied = &context.plan.applied_revisions;
    let expected: Vec<&str> = migration
        .revision_names()
        .filter(|r| !applied.iter().any(|a| a == r))
        .collect();
    if step
        .revisions
        .iter()
        .map(String::as_str)
        .eq(expected.iter().copied())
    {
        return;
    }
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|r| !step.revisions.iter().any(|s| s == r))
        .collect();
    let extra: Vec<&str> = step
        .revisions
        .iter()
        .map(String::as_str)
        .filter(|r| !expected.contains(r))
        .collect();
    let message = if missing.is_empty() && extra.is_empty() {
        format!(
            "step {} lists the revisions of {} out of order: they run as {}",
            step.id,
            migration.id,
            expected.join(", ")
        )
    } else {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("misses revisions {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            parts.push(format!(
                "lists revisions {} that it does not apply",
                extra.join(", ")
            ));
        }
        format!(
            "step {} runs {} but {}",
            step.id,
            migration.id,
            parts.join(" and ")
        )
    };
    out.push(Violation::at("V2", message, &step.id));
}

/// Every migration listed as applied exists, and belongs to an upgraded release and service;
/// every revision listed as applied is one of a migration the plan runs.
fn check_applied_list(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    for name in &context.plan.applied_revisions {
        let known = catalog.migrations().iter().enumerate().any(|(index, m)| {
            !context.applied[index]
                && context.included[m.service.index()]
                && context.in_upgraded_releases(m.release)
                && m.revision_names().any(|r| r == name)
        });
        if !known {
            out.push(Violation::plan_wide(
                "V2",
                format!(
                    "the plan lists revision {name:?} as applied, but no migration it runs has that revision"
                ),
            ));
        }
    }
    for name in &context.plan.applied {
        let known = catalog.migration_id(name);
        let in_scope = known.is_some_and(|id| {
            let migration = catalog.migration(id);
            context.included[migration.service.index()]
                && context.in_upgraded_releases(migration.release)
        });
        if in_scope {
            continue;
        }
        let message = match known {
            None => format!(
                "the plan lists {name:?} as applied, but the catalog has no such migration"
            ),
            Some(_) => format!(
                "the plan lists {name} as applied, but it is outside the releases or services upgraded"
            ),
        };
        out.push(Violation::plan_wide("V2", message));
    }
}

/// Every catalog migration in scope runs exactly once (none if applied); none out of scope
/// runs.
fn check_each_migration_once(context: &Context, seen: &[Vec<usize>], out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    let ids = |steps: &[usize]| steps.iter().map(|&i| context.id(i)).collect::<Vec<_>>();
    for (index, migration) in catalog.migrations().iter().enumerate() {
        let in_scope = context.included[migration.service.index()]
            && context.in_upgraded_releases(migration.release);
        let steps = &seen[index];
        if in_scope && context.applied[index] {
            if !steps.is_empty() {
                out.push(Violation::new(
                    "V2",
                    format!(
                        "migration {} runs, but the plan lists it as already applied",
                        migration.id
                    ),
                    ids(steps),
                ));
            }
            continue;
        }
        match (in_scope, steps.len()) {
            (true, 1) | (false, 0) => {}
            (true, 0) => out.push(Violation::plan_wide(
                "V2",
                format!(
                    "migration {} ({} {}) is missing",
                    migration.id,
                    catalog.service(migration.service).name,
                    catalog.release(migration.release).name
                ),
            )),
            (true, _) => out.push(Violation::new(
                "V2",
                format!("migration {} runs {} times", migration.id, steps.len()),
                ids(steps),
            )),
            (false, _) => out.push(Violation::new(
                "V2",
                format!(
                    "migration {} does not belong in this plan (outside the releases or services upgraded)",
                    migration.id
                ),
                ids(steps),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{kit, messages, of_rule, offline, remove, rolling, step};
    use crate::plan::StepKind;

    #[test]
    fn planned_migrations_are_covered() {
        let catalog = kit();
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", true), "V2").is_empty());
        assert!(messages(&catalog, &rolling(&catalog, "r1", "r3"), "V2").is_empty());
    }

    #[test]
    fn a_missing_migration() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        remove(&mut plan, "h0.compute.r2.online");
        assert_eq!(
            messages(&catalog, &plan, "V2"),
            ["migration compute.r2.online (compute r2) is missing"]
        );
    }

    #[test]
    fn a_migration_run_twice() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        let mut again = step(&mut plan, "h0.compute.r2.online").clone();
        again.id = "h0.compute.r2.online.again".into();
        plan.steps.push(again);
        let v2 = of_rule(&catalog, &plan, "V2");
        assert_eq!(v2.len(), 1, "{v2:?}");
        assert_eq!(v2[0].message, "migration compute.r2.online runs 2 times");
        assert_eq!(
            v2[0].steps,
            ["h0.compute.r2.online", "h0.compute.r2.online.again"]
        );
    }

    #[test]
    fn a_migration_step_of_the_wrong_kind_or_hop() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        step(&mut plan, "h0.compute.r2.sync").kind = StepKind::Expand;
        step(&mut plan, "h1.compute.r3.sync").hop = 0;
        assert_eq!(
            messages(&catalog, &plan, "V2"),
            [
                "step h0.compute.r2.sync runs compute.r2.sync as expand, but it is a migrate migration",
                "step h1.compute.r3.sync runs compute.r3.sync of release r3 in hop r1 -> r2, whose releases do not contain it",
            ]
        );
    }

    #[test]
    fn a_migration_step_must_name_a_catalog_migration() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        step(&mut plan, "h0.install.ident").kind = StepKind::Migrate;
        step(&mut plan, "h0.compute.r2.online").migration = Some("compute.r2.nope".into());
        assert_eq!(
            messages(&catalog, &plan, "V2"),
            [
                "step h0.install.ident is a migrate step without a migration",
                r#"step h0.compute.r2.online runs migration "compute.r2.nope", which the catalog does not have"#,
                "migration compute.r2.online (compute r2) is missing",
            ]
        );
    }

    #[test]
    fn a_migration_outside_the_upgraded_services() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        plan.policy.services = Some(vec!["compute".into()]);
        assert_eq!(
            messages(&catalog, &plan, "V2"),
            [
                "migration ident.r2.expand does not belong in this plan (outside the releases or services upgraded)",
                "migration ident.r2.contract does not belong in this plan (outside the releases or services upgraded)",
            ]
        );
    }

    #[test]
    fn applied_migrations() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        plan.applied = ["compute.r3.sync", "compute.r4.sync", "nope"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            messages(&catalog, &plan, "V2"),
            [
                "the plan lists compute.r4.sync as applied, but it is outside the releases or services upgraded",
                r#"the plan lists "nope" as applied, but the catalog has no such migration"#,
                "migration compute.r3.sync runs, but the plan lists it as already applied",
            ]
        );
    }
}
