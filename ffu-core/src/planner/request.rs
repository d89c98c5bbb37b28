//! What a plan is asked for: [`PlanRequest`], and how its starting point is resolved (a
//! release, the releases an inventory's hosts run, or where the databases stand).

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::error::{Error, NoPlan, Result};
use crate::inventory::Inventory;
use crate::plan::Policy;
use crate::release::ReleaseId;
use crate::ServiceState;

/// A request for a plan: the target, the policy, where the cloud stands, and which
/// migrations its databases hold already. [`crate::Catalog::plan_request`] makes the
/// plan; [`crate::Catalog::plan_compact`] makes it as a [`crate::CompactPlan`].
///
/// ```
/// use std::collections::BTreeMap;
/// use ffu_core::{Catalog, Inventory, PlanRequest, Policy, ServiceState};
///
/// let catalog = Catalog::openstack();
/// let policy = Policy::default();
/// // From a release, as `Catalog::plan` does.
/// let plain = catalog.plan_request(&PlanRequest::from_release("newton", "queens", &policy))?;
/// assert_eq!(plain, catalog.plan("newton", "queens", &policy)?);
///
/// // From an inventory, with steps per host, and databases that hold a migration already.
/// let inventory = Inventory::from_hosts(&catalog, &[("ctl-[1:2]", &[("keystone-api", "pike")])])?;
/// let mut state = BTreeMap::new();
/// state.insert("keystone".to_owned(), ServiceState::applied(["keystone.queens.expand"]));
/// let request = PlanRequest::from_inventory(&inventory, "queens", &policy).with_state(&state);
/// let plan = catalog.plan_request(&request)?;
/// assert_eq!(plan.from, "pike");
/// assert_eq!(plan.applied, ["keystone.queens.expand"]);
/// # Ok::<(), ffu_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PlanRequest<'a> {
    to: &'a str,
    policy: &'a Policy,
    start: Start<'a>,
    state: Option<&'a BTreeMap<String, ServiceState>>,
}

/// Where the cloud of a [`PlanRequest`] stands.
#[derive(Debug, Clone, Copy)]
enum Start<'a> {
    /// Every service runs this release (a name or alias).
    Release(&'a str),
    /// The hosts of an inventory, each component at the release it runs there.
    Inventory(&'a Inventory),
    /// Where these databases stand (the request's state).
    Databases(&'a BTreeMap<String, ServiceState>),
}

impl<'a> PlanRequest<'a> {
    /// The upgrade from release `from` to release `to` (names or aliases) under `policy`.
    pub fn from_release(from: &'a str, to: &'a str, policy: &'a Policy) -> PlanRequest<'a> {
        PlanRequest {
            to,
            policy,
            start: Start::Release(from),
            state: None,
        }
    }

    /// The upgrade of the cloud that `inventory` describes to release `to`, with steps per
    /// host. Without `policy.services`, the services upgraded are those with a component in
    /// the inventory (outside the data plane). The plan starts from the oldest release any
    /// upgraded component runs; a mixed inventory is an interrupted upgrade, which the plan
    /// completes.
    pub fn from_inventory(
        inventory: &'a Inventory,
        to: &'a str,
        policy: &'a Policy,
    ) -> PlanRequest<'a> {
        PlanRequest {
            to,
            policy,
            start: Start::Inventory(inventory),
            state: None,
        }
    }

    /// The upgrade of a cloud from where its databases stand (`state`, as
    /// [`crate::sql::discover()`] reads it): the oldest release at which a service of
    /// `state` with applied migrations has a migration still to run (or its newest complete
    /// release when nothing is left). The applied migrations are left out, as with
    /// [`PlanRequest::with_state`].
    pub fn from_state(
        state: &'a BTreeMap<String, ServiceState>,
        to: &'a str,
        policy: &'a Policy,
    ) -> PlanRequest<'a> {
        PlanRequest {
            to,
            policy,
            start: Start::Databases(state),
            state: Some(state),
        }
    }

    /// The same request for a cloud whose databases already hold some migrations: `state`
    /// says, per service, which. The plan leaves them out and lists them in
    /// [`crate::Plan::applied`] (for [`crate::verify()`]); the stops, installs and starts of
    /// hops whose migrations were all applied stay (the code still has to be installed).
    /// `None` (a caller with an optional state) leaves the request as it is.
    #[must_use]
    pub fn with_state(
        mut self,
        state: impl Into<Option<&'a BTreeMap<String, ServiceState>>>,
    ) -> PlanRequest<'a> {
        if let Some(state) = state.into() {
            self.state = Some(state);
        }
        self
    }

    /// The target release, as given.
    pub fn to(&self) -> &'a str {
        self.to
    }

    /// The policy.
    pub fn policy(&self) -> &'a Policy {
        self.policy
    }

    /// The inventory, when the request plans per host.
    pub fn inventory(&self) -> Option<&'a Inventory> {
        match self.start {
            Start::Inventory(inventory) => Some(inventory),
            Start::Release(_) | Start::Databases(_) => None,
        }
    }
}

impl PlanRequest<'_> {
    /// The span the planning of this request logs in: `plan{from, to}`,
    /// `plan_inventory{hosts, to}`, or `plan_with_state{to}` with a state.
    pub(super) fn span(&self) -> tracing::Span {
        let to = self.to;
        match (self.start, self.state) {
            (Start::Release(from), None) => tracing::debug_span!("plan", from, to),
            (Start::Inventory(inventory), _) => {
                tracing::debug_span!("plan_inventory", hosts = inventory.hosts().len(), to)
            }
            (Start::Release(_) | Start::Databases(_), _) => {
                tracing::debug_span!("plan_with_state", to)
            }
        }
    }
}

/// A request resolved against a catalog: where the plan starts, under which policy (with an
/// inventory, its services filled in), and the migrations already applied (empty, or one
/// flag per catalog migration).
pub(super) struct Resolved {
    pub(super) from: ReleaseId,
    pub(super) policy: Policy,
    pub(super) applied: Vec<bool>,
    /// Revisions the databases hold of migrations still to run (DESIGN §12).
    pub(super) applied_revisions: Vec<String>,
    /// Per service, the release whose code it runs now: `from`, or in a mixed inventory
    /// the oldest release one of its components runs. (What its databases hold does not
    /// say which code is installed, so a database state leaves it at `from`.)
    pub(super) current: Vec<ReleaseId>,
}

/// Resolves `request`'s starting point and applied migrations.
pub(super) fn resolve(catalog: &Catalog, request: &PlanRequest<'_>) -> Result<Resolved> {
    let applied_of_request = || match request.state {
        Some(state) => applied_of_state(catalog, state),
        None => Ok(Vec::new()),
    };
    let mut policy = request.policy.clone();
    let (from, applied) = match request.start {
        Start::Release(name) => {
            let applied = applied_of_request()?;
            (catalog.resolve_release(name)?, applied)
        }
        Start::Databases(state) => {
            let applied = applied_of_request()?;
            (start_of_state(catalog, state, &applied)?, applied)
        }
        Start::Inventory(inventory) => {
            policy.services = Some(inventory_services(catalog, inventory, request.policy)?);
            let from = start_of_inventory(catalog, inventory, &policy)?;
            (from, applied_of_request()?)
        }
    };
    if request.state.is_some() {
        check_applied(catalog, &applied, from, request.to)?;
    }
    let mut current = vec![from; catalog.services().len()];
    if let Some(inventory) = request.inventory() {
        inventory_current(catalog, inventory, from, &mut current);
    }
    let applied_revisions = match request.state {
        Some(state) => revisions_of_state(catalog, state, &applied)?,
        None => Vec::new(),
    };
    Ok(Resolved {
        from,
        policy,
        applied,
        applied_revisions,
        current,
    })
}

/// Each service's oldest release among its upgraded components in `inventory`.
fn inventory_current(
    catalog: &Catalog,
    inventory: &Inventory,
    from: ReleaseId,
    current: &mut [ReleaseId],
) {
    let mut oldest: Vec<Option<ReleaseId>> = vec![None; current.len()];
    for (_, component, release) in inventory.placements() {
        let data = catalog.component(component);
        if data.role.is_upgraded() {
            let slot = &mut oldest[data.service.index()];
            *slot = Some(slot.map_or(release, |seen| seen.min(release)));
        }
    }
    for (slot, oldest) in current.iter_mut().zip(oldest) {
        *slot = oldest.unwrap_or(from).max(from);
    }
}

/// The services a plan from `inventory` upgrades: those of `policy.services`, each of which
/// must run on some host outside the data plane (its migrations need a host to run on), or
/// without a list, every service the inventory shows deployed there (ffu never upgrades the
/// data plane).
fn inventory_services(
    catalog: &Catalog,
    inventory: &Inventory,
    policy: &Policy,
) -> Result<Vec<String>> {
    let mut deployed = vec![false; catalog.services().len()];
    for (_, component, _) in inventory.placements() {
        let component = catalog.component(component);
        if component.role.is_upgraded() {
            deployed[component.service.index()] = true;
        }
    }
    let Some(services) = &policy.services else {
        return Ok(catalog
            .services()
            .iter()
            .zip(&deployed)
            .filter(|(_, deployed)| **deployed)
            .map(|(service, _)| service.name.clone())
            .collect());
    };
    for name in services {
        let absent = catalog
            .service_id(name)
            .is_some_and(|service| !deployed[service.index()]);
        if absent {
            return Err(Error::BadPolicy {
                message: format!(
                    "service {name} runs on no host of {} (outside the data plane): with an inventory, its migrations need a host to run on",
                    inventory.file()
                ),
            });
        }
    }
    Ok(services.clone())
}

/// Refuses a request whose inventory has a component to upgrade (of an `included` service,
/// outside the data plane) that runs a release after the target `to`: the first such
/// instance, in inventory order.
pub(super) fn check_not_ahead(
    catalog: &Catalog,
    request: &PlanRequest<'_>,
    included: &[bool],
    to: ReleaseId,
) -> Result<()> {
    let Some(inventory) = request.inventory() else {
        return Ok(());
    };
    let ahead = inventory.placements().find(|&(_, component, release)| {
        let data = catalog.component(component);
        included[data.service.index()] && data.role.is_upgraded() && release > to
    });
    if let Some((host, component, release)) = ahead {
        return Err(NoPlan::InventoryAheadOfTarget {
            inventory: inventory.file().to_owned(),
            host: inventory.hosts()[host].name.clone(),
            component: catalog.component(component).name.clone(),
            release: catalog.release(release).name.clone(),
            to: catalog.release(to).name.clone(),
        }
        .into());
    }
    // A component that ends before the target and cannot simply go away (the catalog
    // says what must change first): no plan until it is replaced.
    let stranded = inventory.placements().find_map(|(host, component, _)| {
        let data = catalog.component(component);
        let until = data.until.filter(|&until| until < to)?;
        let needs = data.removal_needs.as_ref()?;
        included[data.service.index()].then_some((host, data, until, needs))
    });
    match stranded {
        None => Ok(()),
        Some((host, data, until, needs)) => Err(NoPlan::ComponentRemoved {
            host: inventory.hosts()[host].name.clone(),
            component: data.name.clone(),
            until: catalog.release(until).name.clone(),
            needs: needs.clone(),
        }
        .into()),
    }
}

/// The oldest release an upgraded component of `inventory` runs.
fn start_of_inventory(
    catalog: &Catalog,
    inventory: &Inventory,
    policy: &Policy,
) -> Result<ReleaseId> {
    let included = catalog.included_services(policy)?;
    inventory
        .placements()
        .filter(|&(_, component, _)| {
            let data = catalog.component(component);
            included[data.service.index()] && data.role.is_upgraded()
        })
        .map(|(_, _, release)| release)
        .min()
        .ok_or_else(|| {
            NoPlan::NothingToUpgrade {
                inventory: inventory.file().to_owned(),
            }
            .into()
        })
}

/// The migrations `state` says are applied, as one flag per catalog migration.
fn applied_of_state(
    catalog: &Catalog,
    state: &BTreeMap<String, ServiceState>,
) -> Result<Vec<bool>> {
    let mut applied = vec![false; catalog.migrations().len()];
    let bad = |message: String| Error::BadState { message };
    for (name, service_state) in state {
        let service = catalog.service_id(name).ok_or_else(|| {
            bad(format!(
                "unknown service {name:?}: the catalog has no such service"
            ))
        })?;
        for id in &service_state.applied {
            let migration = catalog.migration_id(id).ok_or_else(|| {
                bad(format!(
                    "{name}: applied migration {id:?} is not in the catalog"
                ))
            })?;
            if catalog.migration(migration).service != service {
                return Err(bad(format!(
                    "{name}: applied migration {id:?} belongs to service {}",
                    catalog.service(catalog.migration(migration).service).name
                )));
            }
            applied[migration.index()] = true;
        }
    }
    Ok(applied)
}

/// The revisions `state` says are applied of migrations not applied as a whole; each must be
/// a revision of such a migration of its service.
fn revisions_of_state(
    catalog: &Catalog,
    state: &BTreeMap<String, ServiceState>,
    applied: &[bool],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (name, service_state) in state {
        if service_state.applied_revisions.is_empty() {
            continue;
        }
        // Known to exist: `applied_of_state` looked the service up first.
        let Some(service) = catalog.service_id(name) else {
            continue;
        };
        for revision in &service_state.applied_revisions {
            let known = catalog.migrations_of(service).iter().any(|&m| {
                !applied[m.index()] && catalog.migration(m).revision_names().any(|r| r == revision)
            });
            if !known {
                return Err(Error::BadState {
                    message: format!(
                        "{name}: applied revision {revision:?} is not a revision of a migration still to run"
                    ),
                });
            }
            out.push(revision.clone());
        }
    }
    Ok(out)
}

/// Refuses applied migrations after the target `to` (a downgrade) and applied migrations
/// whose requirement after `from` is not applied (no database gets there).
fn check_applied(catalog: &Catalog, applied: &[bool], from: ReleaseId, to: &str) -> Result<()> {
    let to_id = catalog.resolve_release(to)?;
    for (index, migration) in catalog.migrations().iter().enumerate() {
        if !applied[index] {
            continue;
        }
        if migration.release > to_id {
            return Err(NoPlan::AheadOfTarget {
                migration: migration.id.clone(),
                release: catalog.release(migration.release).name.clone(),
                to: catalog.release(to_id).name.clone(),
            }
            .into());
        }
        for &required in &migration.requires {
            let other = catalog.migration(required);
            if !applied[required.index()] && other.release > from {
                return Err(Error::BadState {
                    message: format!(
                        "{} is applied but {} (which it requires, of {}) is not",
                        migration.id,
                        other.id,
                        catalog.release(other.release).name
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Where a plan from `state` starts: for each service with applied migrations, the
/// release before its first migration still to run (or its newest applied release);
/// the oldest of those.
fn start_of_state(
    catalog: &Catalog,
    state: &BTreeMap<String, ServiceState>,
    applied: &[bool],
) -> Result<ReleaseId> {
    let mut start: Option<ReleaseId> = None;
    let mut unknown = Vec::new();
    for name in state.keys() {
        let Some(service) = catalog.service_id(name) else {
            continue;
        };
        let own = catalog.migrations_of(service);
        if !own.iter().any(|m| applied[m.index()]) {
            if !own.is_empty() {
                unknown.push(name.as_str());
            }
            continue;
        }
        let first_pending = own
            .iter()
            .filter(|m| !applied[m.index()])
            .map(|&m| catalog.migration(m).release)
            .min();
        let here = match first_pending {
            Some(release) if release.index() == 0 => {
                return Err(Error::BadState {
                    message: format!(
                        "{name} has migrations of {} still to run, the catalog's first release: give the release to start from",
                        catalog.release(release).name
                    ),
                })
            }
            Some(release) => ReleaseId(release.0 - 1),
            None => own
                .iter()
                .map(|&m| catalog.migration(m).release)
                .max()
                .unwrap_or(ReleaseId(0)),
        };
        start = Some(start.map_or(here, |s| s.min(here)));
    }
    if let (Some(start), false) = (start, unknown.is_empty()) {
        tracing::warn!(
            "the databases hold no migration of {}: planned as if at {} already",
            unknown.join(", "),
            catalog.release(start).name
        );
    }
    start.ok_or_else(|| Error::BadState {
        message: "no service of the state has an applied migration, so it does not tell where the cloud stands: give the release to start from".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_state_leaves_the_request_as_it_is() {
        let catalog = Catalog::openstack();
        let policy = Policy::default();
        let mut state = BTreeMap::new();
        state.insert(
            "keystone".to_owned(),
            ServiceState::applied(["keystone.pike.expand"]),
        );
        let none: Option<&BTreeMap<String, ServiceState>> = None;
        let from_state = PlanRequest::from_state(&state, "queens", &policy).with_state(none);
        let plan = catalog.plan_request(&from_state).unwrap();
        assert_eq!(plan.applied, ["keystone.pike.expand"]);
        let from_release = PlanRequest::from_release("ocata", "queens", &policy).with_state(none);
        assert!(catalog
            .plan_request(&from_release)
            .unwrap()
            .applied
            .is_empty());
    }
}
