//! The plan resolved against the catalog, once, for every rule: each step's service,
//! component, release and migration as catalog ids, where each step id stands, each hop's
//! target release, and which services and already-applied migrations the plan covers.
//!
//! A plan that cannot be resolved (another catalog, a repeated step id, a hop that does not
//! exist, an unknown service, component or release) is an [`Error::BadPlan`], not a
//! violation: no rule can judge it. An unknown migration is left unresolved here; V2 reports
//! it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::migration::MigrationId;
use crate::plan::{CodeSide, Plan, Step, StepKind};
use crate::release::ReleaseId;
use crate::service::{ComponentId, ServiceId};

/// The plan resolved against the catalog.
pub(super) struct Context<'a> {
    pub(super) catalog: &'a Catalog,
    pub(super) plan: &'a Plan,
    pub(super) from: Option<ReleaseId>,
    pub(super) to: Option<ReleaseId>,
    /// Per catalog service: whether the policy upgrades it.
    pub(super) included: Vec<bool>,
    /// Per step: its service, component, release and migration, resolved.
    pub(super) service: Vec<Option<ServiceId>>,
    pub(super) component: Vec<Option<ComponentId>>,
    pub(super) release: Vec<Option<ReleaseId>>,
    pub(super) migration: Vec<Option<MigrationId>>,
    /// Per step id: its index.
    pub(super) position: HashMap<&'a str, usize>,
    /// Per hop: its target release.
    pub(super) hop_target: Vec<Option<ReleaseId>>,
    /// Per catalog migration: whether the plan says the databases already hold it.
    pub(super) applied: Vec<bool>,
    /// Per catalog service: the release it runs when the plan starts (`None` when `from`
    /// is unknown); see [`current_releases`].
    pub(super) current: Vec<Option<ReleaseId>>,
    /// Whether any step carries a `phase` (DESIGN §8). A plan written by an older tool
    /// has none, and V12's and V13's requirements, and V15, do not apply to it.
    pub(super) phased: bool,
}

fn bad(plan_file: &str, message: String) -> Error {
    Error::BadPlan {
        file: plan_file.to_owned(),
        message,
        source: None,
    }
}

/// Per step: what its names resolve to, and where each step id stands.
struct ResolvedSteps<'a> {
    service: Vec<Option<ServiceId>>,
    component: Vec<Option<ComponentId>>,
    release: Vec<Option<ReleaseId>>,
    migration: Vec<Option<MigrationId>>,
    position: HashMap<&'a str, usize>,
}

impl<'a> Context<'a> {
    /// Resolves `plan` (read from `file`) against `catalog`.
    pub(super) fn new(catalog: &'a Catalog, plan: &'a Plan, file: &str) -> Result<Context<'a>> {
        check_same_catalog(catalog, plan, file)?;
        let included = included_services(catalog, plan, file)?;
        let steps = resolve_steps(catalog, plan, file)?;
        let hop_target = plan
            .hops
            .iter()
            .map(|hop| catalog.release_id(&hop.to))
            .collect();
        let from = catalog.release_id(&plan.from);
        let applied = applied_migrations(catalog, plan);
        let current = current_releases(catalog, plan, from, &steps.component, &steps.release);
        Ok(Context {
            catalog,
            plan,
            from,
            to: catalog.release_id(&plan.to),
            included,
            service: steps.service,
            component: steps.component,
            release: steps.release,
            migration: steps.migration,
            position: steps.position,
            hop_target,
            applied,
            current,
            phased: plan.steps.iter().any(|step| step.phase.is_some()),
        })
    }

    /// The steps with their indices.
    pub(super) fn steps(&self) -> impl DoubleEndedIterator<Item = (usize, &'a Step)> {
        self.plan.steps.iter().enumerate()
    }

    /// The id of the step at `index`.
    pub(super) fn id(&self, index: usize) -> String {
        self.plan.steps[index].id.clone()
    }

    /// Whether the plan upgrades migrations of `release`: `from < release <= to`.
    pub(super) fn in_upgraded_releases(&self, release: ReleaseId) -> bool {
        self.from.is_some_and(|from| release > from) && self.to.is_some_and(|to| release <= to)
    }

    /// The service step `index` concerns: the one it names, else that of its component,
    /// its migration or its task.
    pub(super) fn step_service(&self, index: usize) -> Option<ServiceId> {
        self.service[index]
            .or_else(|| self.component[index].map(|c| self.catalog.component(c).service))
            .or_else(|| self.migration[index].map(|m| self.catalog.migration(m).service))
            .or_else(|| {
                let task = self.plan.steps[index].task.as_deref()?;
                Some(self.catalog.task(self.catalog.task_id(task)?).service)
            })
    }

    /// Whether step `index` runs a catalog migration with the current code: the starting
    /// release's own work (DESIGN §8), which V12 judges and which stands outside V2's
    /// coverage, V5's service order and V9's backups.
    pub(super) fn runs_current_code(&self, index: usize) -> bool {
        self.migration[index].is_some() && self.plan.steps[index].code == Some(CodeSide::Current)
    }

    /// Positions of the migration steps, by catalog migration (first occurrence).
    pub(super) fn migration_positions(&self) -> Vec<Option<usize>> {
        let mut positions = vec![None; self.catalog.migrations().len()];
        for (index, id) in self.migration.iter().enumerate() {
            if let Some(id) = id {
                positions[id.index()].get_or_insert(index);
            }
        }
        positions
    }
}

fn check_same_catalog(catalog: &Catalog, plan: &Plan, file: &str) -> Result<()> {
    if plan.catalog == catalog.name() {
        return Ok(());
    }
    Err(bad(
        file,
        format!(
            "the plan was made for catalog {:?}, not {:?}",
            plan.catalog,
            catalog.name()
        ),
    ))
}

/// Per catalog service: whether `policy.services` names it (all when it names none).
fn included_services(catalog: &Catalog, plan: &Plan, file: &str) -> Result<Vec<bool>> {
    let mut included = vec![plan.policy.services.is_none(); catalog.services().len()];
    for name in plan.policy.services.iter().flatten() {
        let id = catalog
            .service_id(name)
            .ok_or_else(|| bad(file, format!("policy names unknown service {name:?}")))?;
        included[id.index()] = true;
    }
    Ok(included)
}

/// Resolves every step's names, in step order, failing at the first step that cannot be.
fn resolve_steps<'a>(catalog: &Catalog, plan: &'a Plan, file: &str) -> Result<ResolvedSteps<'a>> {
    let count = plan.steps.len();
    let mut resolved = ResolvedSteps {
        service: Vec::with_capacity(count),
        component: Vec::with_capacity(count),
        release: Vec::with_capacity(count),
        migration: Vec::with_capacity(count),
        position: HashMap::with_capacity_and_hasher(count, rustc_hash::FxBuildHasher),
    };
    for (index, step) in plan.steps.iter().enumerate() {
        if resolved.position.insert(step.id.as_str(), index).is_some() {
            return Err(bad(
                file,
                format!("step id {:?} appears more than once", step.id),
            ));
        }
        if step.hop >= plan.hops.len() {
            return Err(bad(
                file,
                format!(
                    "step {} is in hop {}, but the plan has {} hops",
                    step.id,
                    step.hop,
                    plan.hops.len()
                ),
            ));
        }
        let lookup = |what: &str, name: &Option<String>, find: &dyn Fn(&str) -> Option<u32>| {
            name.as_deref()
                .map(|n| {
                    find(n).ok_or_else(|| {
                        bad(file, format!("step {} names unknown {what} {n:?}", step.id))
                    })
                })
                .transpose()
        };
        let service = lookup("service", &step.service, &|n| {
            catalog.service_id(n).map(|i| i.index() as u32)
        })?;
        let component = lookup("component", &step.component, &|n| {
            catalog.component_id(n).map(|i| i.index() as u32)
        })?;
        let release = lookup("release", &step.release, &|n| {
            catalog.release_id(n).map(|i| i.index() as u32)
        })?;
        resolved.service.push(service.map(ServiceId));
        resolved.component.push(component.map(ComponentId));
        resolved.release.push(release.map(ReleaseId));
        // An unknown migration is a coverage violation (V2), not unreadable input.
        resolved.migration.push(
            step.migration
                .as_deref()
                .and_then(|m| catalog.migration_id(m)),
        );
    }
    Ok(resolved)
}

/// Per catalog service, the release it runs when the plan starts, as the plan shows it:
/// `from`; in a plan with hosts, the oldest release an instance of one of its upgraded
/// components is stopped at by its first step (a mixed inventory), if later. The planner
/// resolves the same from the inventory it is given.
fn current_releases(
    catalog: &Catalog,
    plan: &Plan,
    from: Option<ReleaseId>,
    components: &[Option<ComponentId>],
    releases: &[Option<ReleaseId>],
) -> Vec<Option<ReleaseId>> {
    let Some(from) = from else {
        return vec![None; catalog.services().len()];
    };
    let mut oldest: Vec<Option<ReleaseId>> = vec![None; catalog.services().len()];
    let mut first_seen: HashSet<(&str, ComponentId)> = HashSet::default();
    for (index, step) in plan.steps.iter().enumerate() {
        let (Some(host), Some(component)) = (step.host.as_deref(), components[index]) else {
            continue;
        };
        let data = catalog.component(component);
        if !first_seen.insert((host, component)) || step.kind != StepKind::Stop {
            continue;
        }
        if data.role.is_upgraded() {
            let release = releases[index].unwrap_or(from);
            let slot = &mut oldest[data.service.index()];
            *slot = Some(slot.map_or(release, |seen| seen.min(release)));
        }
    }
    // What the databases hold (`applied`) does not say which code is installed: the
    // starting release is the code's.
    oldest
        .into_iter()
        .map(|oldest| Some(oldest.unwrap_or(from).max(from)))
        .collect()
}

/// Per catalog migration: whether the plan lists it as applied. Unknown names are V2
/// violations, reported by the coverage check.
fn applied_migrations(catalog: &Catalog, plan: &Plan) -> Vec<bool> {
    let mut applied = vec![false; catalog.migrations().len()];
    for id in plan.applied.iter().filter_map(|m| catalog.migration_id(m)) {
        applied[id.index()] = true;
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{kit, offline, step};
    use super::super::verify_document;
    use crate::plan::Plan;

    /// An edit that breaks a plan, and the error it must give.
    type Case = (fn(&mut Plan), &'static str);

    fn error(plan: &Plan) -> String {
        verify_document(&kit(), plan, "p.json")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_plan_that_cannot_be_resolved_is_an_error() {
        let catalog = kit();
        let plan = offline(&catalog, "r1", "r3", false);
        let prefix = "p.json: not a valid ffu-plan/1 document: ";
        let cases: [Case; 7] = [
            (
                |p| p.catalog = "other".into(),
                r#"the plan was made for catalog "other", not "kit""#,
            ),
            (
                |p| p.policy.services = Some(vec!["nope".into()]),
                r#"policy names unknown service "nope""#,
            ),
            (
                |p| p.steps[3].id = p.steps[1].id.clone(),
                r#"step id "h0.stop.compute-api" appears more than once"#,
            ),
            (
                |p| p.steps[2].hop = 2,
                "step h0.stop.ident-api is in hop 2, but the plan has 2 hops",
            ),
            (
                |p| step(p, "h0.backup.ident").service = Some("nope".into()),
                r#"step h0.backup.ident names unknown service "nope""#,
            ),
            (
                |p| step(p, "h0.stop.ident-api").component = Some("nope".into()),
                r#"step h0.stop.ident-api names unknown component "nope""#,
            ),
            (
                |p| step(p, "h0.stop.ident-api").release = Some("r9".into()),
                r#"step h0.stop.ident-api names unknown release "r9""#,
            ),
        ];
        for (edit, message) in cases {
            let mut broken = plan.clone();
            edit(&mut broken);
            assert_eq!(error(&broken), format!("{prefix}{message}"));
        }
    }

    #[test]
    fn an_unknown_migration_is_left_to_v2() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        step(&mut plan, "h0.compute.r2.sync").migration = Some("nope".into());
        plan.applied = vec!["nope".into()];
        assert!(verify_document(&catalog, &plan, "p.json").is_ok());
    }
}
