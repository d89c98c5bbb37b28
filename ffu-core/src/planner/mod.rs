//! The planner: from a catalog, two releases and a policy to an ordered, explained plan.
//!
//! The algorithm, per request:
//! 1. resolve the releases and services, and refuse downgrades;
//! 2. find the path with the fewest hops in the release graph ([`path`]);
//! 3. put each included migration in the hop whose releases contain its release;
//! 4. per hop, order the migrations ([`order`]) and surround them with the stop, backup,
//!    install, config, temporary start and final start steps ([`offline`]);
//! 5. keep each migration's step as a slot naming it ([`compact`]), built when a [`Plan`]
//!    is wanted ([`Catalog::plan`]) or written straight into the JSON of a
//!    [`CompactPlan`] ([`Catalog::plan_compact`]).

mod compact;
mod offline;
mod order;
mod path;
mod rolling;

pub use compact::CompactPlan;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::error::{Error, NoPlan, Result};
use crate::migration::MigrationId;
use crate::plan::{Hop, Mode, Plan, Policy};
use crate::release::ReleaseId;
use crate::service::{ComponentId, Role, ServiceId};
use crate::state::ServiceState;

use compact::{Outline, Slot};

impl Catalog {
    /// Plans the upgrade from release `from` to release `to` (names or aliases) under
    /// `policy`.
    ///
    /// # Errors
    /// [`Error::NoPlan`] when no safe plan exists (an unknown release, a downgrade,
    /// contradictory ordering facts, a dependency on an excluded service), with the
    /// evidence; [`Error::UnknownService`] when the policy names a service the catalog does
    /// not have; [`Error::Unsupported`] for a mode this version does not plan.
    ///
    /// # Complexity
    /// O(M log M + S + R) for M migrations, S other steps and R releases.
    ///
    /// # Example
    /// ```
    /// use ffu_core::{Catalog, Policy};
    /// let catalog = Catalog::openstack();
    /// let plan = catalog.plan("newton", "queens", &Policy::default()).unwrap();
    /// assert_eq!(plan.path, ["newton", "ocata", "pike", "queens"]);
    /// assert!(ffu_core::verify(&catalog, &plan).unwrap().is_empty());
    /// ```
    pub fn plan(&self, from: &str, to: &str, policy: &Policy) -> Result<Plan> {
        let _span = tracing::debug_span!("plan", from, to).entered();
        let from_id = self.resolve_release(from)?;
        Ok(self
            .plan_from(from_id, to, policy, None, &[])?
            .into_plan(self))
    }

    /// The plan of [`Catalog::plan`] as a [`CompactPlan`], which builds the steps of its
    /// migrations only when they are asked for: [`CompactPlan::to_json`] writes them
    /// straight from the catalog. The same errors as [`Catalog::plan`].
    ///
    /// # Errors
    /// As [`Catalog::plan`].
    pub fn plan_compact(
        self: &Arc<Self>,
        from: &str,
        to: &str,
        policy: &Policy,
    ) -> Result<CompactPlan> {
        let _span = tracing::debug_span!("plan", from, to).entered();
        let from_id = self.resolve_release(from)?;
        let outline = self.plan_from(from_id, to, policy, None, &[])?;
        Ok(CompactPlan::new(Arc::clone(self), outline))
    }

    /// Plans the upgrade of a cloud whose databases already hold some migrations: `state`
    /// says, per service, which (as [`crate::sql::discover()`] reads it from a database). The
    /// plan leaves out the applied migrations and lists them in [`Plan::applied`] (for
    /// [`crate::verify`]); everything else is as [`Catalog::plan`] does it, including the
    /// stops, installs and starts of hops whose migrations were all applied already (the
    /// code still has to be installed).
    ///
    /// Without `from`, the plan starts where the databases stand: the oldest release at
    /// which a service of `state` with applied migrations has a migration still to run (or
    /// its newest complete release when nothing is left).
    ///
    /// # Errors
    /// As [`Catalog::plan`]; [`Error::BadState`] for an unknown service or migration, an
    /// applied migration whose requirement is not applied, or no release to start from;
    /// [`NoPlan::AheadOfTarget`] when a database holds a migration after `to`.
    ///
    /// # Example
    /// ```
    /// use std::collections::BTreeMap;
    /// use ffu_core::{Catalog, Policy, ServiceState};
    /// let catalog = Catalog::openstack();
    /// // keystone's pike expand ran before the upgrade was interrupted.
    /// let mut state = BTreeMap::new();
    /// state.insert("keystone".to_owned(), ServiceState::applied(["keystone.pike.expand"]));
    /// let plan = catalog
    ///     .plan_with_state(Some("ocata"), "queens", &Policy::default(), &state)
    ///     .unwrap();
    /// assert_eq!(plan.applied, ["keystone.pike.expand"]);
    /// assert!(plan.steps.iter().all(|s| s.migration.as_deref() != Some("keystone.pike.expand")));
    /// assert!(plan.steps.iter().any(|s| s.migration.as_deref() == Some("keystone.pike.migrate")));
    /// assert!(ffu_core::verify(&catalog, &plan).unwrap().is_empty());
    /// ```
    pub fn plan_with_state(
        &self,
        from: Option<&str>,
        to: &str,
        policy: &Policy,
        state: &BTreeMap<String, ServiceState>,
    ) -> Result<Plan> {
        let _span = tracing::debug_span!("plan_with_state", to).entered();
        let applied = self.applied_of_state(state)?;
        let from_id = match from {
            Some(name) => self.resolve_release(name)?,
            None => self.start_of_state(state, &applied)?,
        };
        self.check_applied(&applied, from_id, to)?;
        Ok(self
            .plan_from(from_id, to, policy, None, &applied)?
            .into_plan(self))
    }

    /// The migrations `state` says are applied, as one flag per catalog migration.
    fn applied_of_state(&self, state: &BTreeMap<String, ServiceState>) -> Result<Vec<bool>> {
        let mut applied = vec![false; self.migrations().len()];
        let bad = |message: String| Error::BadState { message };
        for (name, service_state) in state {
            let service = self.service_id(name).ok_or_else(|| {
                bad(format!(
                    "unknown service {name:?}: the catalog has no such service"
                ))
            })?;
            for id in &service_state.applied {
                let migration = self.migration_id(id).ok_or_else(|| {
                    bad(format!(
                        "{name}: applied migration {id:?} is not in the catalog"
                    ))
                })?;
                if self.migration(migration).service != service {
                    return Err(bad(format!(
                        "{name}: applied migration {id:?} belongs to service {}",
                        self.service(self.migration(migration).service).name
                    )));
                }
                applied[migration.index()] = true;
            }
        }
        Ok(applied)
    }

    /// Refuses applied migrations after the target `to` (a downgrade) and applied
    /// migrations whose requirement after `from_id` is not applied (no database gets
    /// there).
    fn check_applied(&self, applied: &[bool], from_id: ReleaseId, to: &str) -> Result<()> {
        let to_id = self.resolve_release(to)?;
        for (index, migration) in self.migrations().iter().enumerate() {
            if !applied[index] {
                continue;
            }
            if migration.release > to_id {
                return Err(NoPlan::AheadOfTarget {
                    migration: migration.id.clone(),
                    release: self.release(migration.release).name.clone(),
                    to: self.release(to_id).name.clone(),
                }
                .into());
            }
            for &required in &migration.requires {
                let other = self.migration(required);
                if !applied[required.index()] && other.release > from_id {
                    return Err(Error::BadState {
                        message: format!(
                            "{} is applied but {} (which it requires, of {}) is not",
                            migration.id,
                            other.id,
                            self.release(other.release).name
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
        &self,
        state: &BTreeMap<String, ServiceState>,
        applied: &[bool],
    ) -> Result<ReleaseId> {
        let mut start: Option<ReleaseId> = None;
        let mut unknown = Vec::new();
        for name in state.keys() {
            let Some(service) = self.service_id(name) else {
                continue;
            };
            let own = self.migrations_of(service);
            if !own.iter().any(|m| applied[m.index()]) {
                if !own.is_empty() {
                    unknown.push(name.as_str());
                }
                continue;
            }
            let first_pending = own
                .iter()
                .filter(|m| !applied[m.index()])
                .map(|&m| self.migration(m).release)
                .min();
            let here = match first_pending {
                Some(release) if release.index() == 0 => {
                    return Err(Error::BadState {
                        message: format!(
                            "{name} has migrations of {} still to run, the catalog's first release: give the release to start from",
                            self.release(release).name
                        ),
                    })
                }
                Some(release) => ReleaseId(release.0 - 1),
                None => own
                    .iter()
                    .map(|&m| self.migration(m).release)
                    .max()
                    .unwrap_or(ReleaseId(0)),
            };
            start = Some(start.map_or(here, |s| s.min(here)));
        }
        if let (Some(start), false) = (start, unknown.is_empty()) {
            tracing::warn!(
                "the databases hold no migration of {}: planned as if at {} already",
                unknown.join(", "),
                self.release(start).name
            );
        }
        start.ok_or_else(|| Error::BadState {
            message: "no service of the state has an applied migration, so it does not tell where the cloud stands: give the release to start from".to_owned(),
        })
    }

    /// Plans the upgrade of the cloud that `inventory` describes to release `to`, with
    /// steps per host. Without `policy.services`, the services upgraded are those with a
    /// component in the inventory.
    ///
    /// The plan starts from the oldest release any upgraded component runs; a mixed
    /// inventory is an interrupted upgrade, which the plan completes: instances already at
    /// a hop's release are left alone. Offline, every component is stopped on every host,
    /// the migrations run once on a bootstrap host (the first host with a control
    /// component of the service), and each service's control components start on every
    /// host, then its agents in batches of `max_unavailable` hosts. Rolling, each hop
    /// upgrades the control components host by host and the agents in batches.
    ///
    /// # Errors
    /// As [`Catalog::plan`]; also [`NoPlan::NothingToUpgrade`] when no upgraded component
    /// runs anywhere.
    ///
    /// # Example
    /// ```
    /// use ffu_core::{Catalog, Inventory, Policy};
    /// let catalog = Catalog::openstack();
    /// let inventory = Inventory::from_hosts(&catalog, &[
    ///     ("ctl-[1:2]", &[("keystone-api", "pike")]),
    /// ]).unwrap();
    /// let plan = catalog.plan_inventory(&inventory, "queens", &Policy::default()).unwrap();
    /// assert_eq!(plan.from, "pike");
    /// assert!(plan.steps.iter().any(|s| s.host.as_deref() == Some("ctl-2")));
    /// ```
    pub fn plan_inventory(
        &self,
        inventory: &crate::Inventory,
        to: &str,
        policy: &Policy,
    ) -> Result<Plan> {
        self.plan_hosts(inventory, to, policy, None)
    }

    /// [`Catalog::plan_inventory`] for a cloud whose databases already hold some
    /// migrations (`state`, as in [`Catalog::plan_with_state`]): the plan per host leaves
    /// them out and lists them in [`Plan::applied`]. The plan starts where the inventory
    /// says the components stand.
    ///
    /// # Errors
    /// As [`Catalog::plan_inventory`] and [`Catalog::plan_with_state`].
    pub fn plan_inventory_with_state(
        &self,
        inventory: &crate::Inventory,
        to: &str,
        policy: &Policy,
        state: &BTreeMap<String, ServiceState>,
    ) -> Result<Plan> {
        self.plan_hosts(inventory, to, policy, Some(state))
    }

    fn plan_hosts(
        &self,
        inventory: &crate::Inventory,
        to: &str,
        policy: &Policy,
        state: Option<&BTreeMap<String, ServiceState>>,
    ) -> Result<Plan> {
        let _span =
            tracing::debug_span!("plan_inventory", hosts = inventory.hosts().len(), to).entered();
        // The services the inventory shows deployed, outside the data plane (which ffu
        // never upgrades): without a list of services, those are upgraded; with one, each
        // must be among them, since its migrations need a host to run on.
        let mut deployed = vec![false; self.services().len()];
        for (_, component, _) in inventory.placements() {
            let component = self.component(component);
            if component.role != Role::Dataplane {
                deployed[component.service.index()] = true;
            }
        }
        let mut policy = policy.clone();
        if let Some(services) = &policy.services {
            for name in services {
                let absent = self
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
        } else {
            policy.services = Some(
                self.services()
                    .iter()
                    .zip(&deployed)
                    .filter(|(_, deployed)| **deployed)
                    .map(|(service, _)| service.name.clone())
                    .collect(),
            );
        }
        let policy = &policy;
        let included = self.included_services(policy)?;
        let from_id = inventory
            .placements()
            .filter(|&(_, component, _)| {
                let data = self.component(component);
                included[data.service.index()] && data.role != Role::Dataplane
            })
            .map(|(_, _, release)| release)
            .min()
            .ok_or_else(|| NoPlan::NothingToUpgrade {
                inventory: inventory.file().to_owned(),
            })?;
        let applied = match state {
            Some(state) => {
                let applied = self.applied_of_state(state)?;
                self.check_applied(&applied, from_id, to)?;
                applied
            }
            None => Vec::new(),
        };
        Ok(self
            .plan_from(from_id, to, policy, Some(inventory), &applied)?
            .into_plan(self))
    }

    /// The plan from `from_id`; `applied` (empty, or one flag per migration) marks the
    /// migrations the databases already hold, which the plan leaves out.
    fn plan_from(
        &self,
        from_id: ReleaseId,
        to: &str,
        policy: &Policy,
        inventory: Option<&crate::Inventory>,
        applied: &[bool],
    ) -> Result<Outline> {
        // Rolling SLURP upgrades (agents going from SLURP to SLURP while the control plane
        // steps through every release) are not planned yet: a rolling plan would quietly
        // leave `skip_level` out, so it is refused instead.
        if policy.skip_level && policy.mode == Mode::Rolling {
            return Err(Error::Unsupported {
                what: "skip_level in rolling mode: rolling SLURP upgrades are not supported yet; skip_level needs offline mode".to_owned(),
            });
        }
        let to_id = self.resolve_release(to)?;
        if to_id < from_id {
            return Err(NoPlan::Downgrade {
                from: self.release(from_id).name.clone(),
                to: self.release(to_id).name.clone(),
            }
            .into());
        }
        let max_unavailable = parse_max_unavailable(policy.max_unavailable.as_deref())?;
        let included = self.included_services(policy)?;
        // A rolling upgrade goes one release at a time: mixed versions are only supported
        // between adjacent releases.
        let allow_skips = policy.skip_level && policy.mode == Mode::Offline;
        let path = path::shortest_path(self, from_id, to_id, allow_skips)?;
        tracing::debug!(hops = path.len() - 1, "path found");
        self.check_excluded_dependencies(&included, from_id, to_id)?;

        let hop_of_release = hop_index_of_releases(self, &path);
        let mut hop_migrations: Vec<Vec<MigrationId>> =
            vec![Vec::new(); path.len().saturating_sub(1)];
        let mut hop_of_migration: Vec<Option<u32>> = vec![None; self.migrations().len()];
        let mut already_applied = Vec::new();
        for (index, migration) in self.migrations().iter().enumerate() {
            if included[migration.service.index()]
                && migration.release > from_id
                && migration.release <= to_id
            {
                if applied.get(index).copied().unwrap_or(false) {
                    already_applied.push(migration.id.clone());
                    continue;
                }
                if let Some(hop) = hop_of_release[migration.release.index()] {
                    hop_migrations[hop].push(MigrationId(index as u32));
                    hop_of_migration[index] = Some(hop as u32);
                }
            }
        }
        let service_order = self.service_order(&included);
        let hops: Vec<Hop> = path
            .windows(2)
            .map(|pair| Hop {
                from: self.release(pair[0]).name.clone(),
                to: self.release(pair[1]).name.clone(),
                skip: pair[1].index() > pair[0].index() + 1,
                releases: (pair[0].index() + 1..=pair[1].index())
                    .map(|index| self.releases()[index].name.clone())
                    .collect(),
            })
            .collect();
        // The instances ffu upgrades: from the inventory (per host), or else one of every
        // component of the services upgraded, at `from` if it exists there (later ones are
        // deployed when they arrive). The data plane is never upgraded by ffu.
        let host_names: Vec<String> = inventory
            .map(|inv| inv.hosts().iter().map(|h| h.name.clone()).collect())
            .unwrap_or_default();
        let placements: Vec<rolling::Placement> = match inventory {
            Some(inventory) => inventory
                .placements()
                .filter(|&(_, component, _)| {
                    let data = self.component(component);
                    included[data.service.index()] && data.role != Role::Dataplane
                })
                .map(|(host, component, release)| rolling::Placement {
                    host: Some(host as u32),
                    component,
                    release: Some(release),
                })
                .collect(),
            None => self
                .components()
                .iter()
                .enumerate()
                .filter(|(_, c)| included[c.service.index()] && c.role != Role::Dataplane)
                .map(|(index, c)| rolling::Placement {
                    host: None,
                    component: ComponentId(index as u32),
                    release: (c.exists_at(from_id) && self.service(c.service).exists_at(from_id))
                        .then_some(from_id),
                })
                .collect(),
        };
        let fleet = rolling::Fleet {
            host_names: &host_names,
            placements,
            max_unavailable,
        };
        let steps = match (policy.mode, inventory) {
            (Mode::Offline, None) => offline::build_steps(
                self,
                &path,
                &hops,
                &hop_migrations,
                &hop_of_migration,
                &service_order,
            )?,
            (Mode::Offline, Some(_)) => offline::build_host_steps(
                self,
                &path,
                &hops,
                &hop_migrations,
                &hop_of_migration,
                &service_order,
                &fleet,
            )?,
            (Mode::Rolling, _) => {
                let steps = rolling::build_steps(
                    self,
                    &path,
                    &hops,
                    &hop_migrations,
                    &hop_of_migration,
                    &service_order,
                    fleet,
                )?;
                offline::PlannedSteps {
                    slots: (0..steps.len() as u32).map(Slot::Built).collect(),
                    built: steps,
                    in_hop: Vec::new(),
                }
            }
        };
        tracing::debug!(steps = steps.slots.len(), "plan built");
        let mut head = Plan::new(
            self.name(),
            &self.release(from_id).name,
            &self.release(to_id).name,
            policy.clone(),
            path.iter()
                .map(|&id| self.release(id).name.clone())
                .collect(),
            hops,
            Vec::new(),
        );
        head.applied = already_applied;
        Ok(Outline {
            head,
            built: steps.built,
            slots: steps.slots,
            in_hop: steps.in_hop,
            hop_of_migration,
        })
    }

    fn resolve_release(&self, name: &str) -> Result<ReleaseId> {
        self.release_id(name).ok_or_else(|| {
            NoPlan::UnknownRelease {
                name: name.to_owned(),
                suggestions: self.similar_release_names(name),
            }
            .into()
        })
    }

    fn included_services(&self, policy: &Policy) -> Result<Vec<bool>> {
        match &policy.services {
            None => Ok(vec![true; self.services().len()]),
            Some(names) => {
                let mut included = vec![false; self.services().len()];
                for name in names {
                    let id = self
                        .service_id(name)
                        .ok_or_else(|| Error::UnknownService { name: name.clone() })?;
                    included[id.index()] = true;
                }
                Ok(included)
            }
        }
    }

    /// A migration that runs must not depend on a service the policy leaves out.
    fn check_excluded_dependencies(
        &self,
        included: &[bool],
        from: ReleaseId,
        to: ReleaseId,
    ) -> Result<()> {
        for migration in self.migrations() {
            if !included[migration.service.index()]
                || migration.release <= from
                || migration.release > to
            {
                continue;
            }
            for &required in &migration.requires {
                let other = self.migration(required);
                if !included[other.service.index()] && other.release > from {
                    return Err(NoPlan::ExcludedDependency {
                        migration: migration.id.clone(),
                        needs: format!("migration {}", other.id),
                        service: self.service(other.service).name.clone(),
                    }
                    .into());
                }
            }
            for &component in &migration.needs_running {
                let service = self.component(component).service;
                if !included[service.index()] {
                    return Err(NoPlan::ExcludedDependency {
                        migration: migration.id.clone(),
                        needs: format!("component {} running", self.component(component).name),
                        service: self.service(service).name.clone(),
                    }
                    .into());
                }
            }
        }
        Ok(())
    }

    /// The included services in service order: a topological order of `after` (acyclic by
    /// the catalog's invariants), ties broken by catalog order.
    pub(crate) fn service_order(&self, included: &[bool]) -> Vec<ServiceId> {
        let count = self.services().len();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut waiting = vec![0usize; count];
        for (index, service) in self.services().iter().enumerate() {
            if !included[index] {
                continue;
            }
            for earlier in &service.after {
                if included[earlier.index()] {
                    dependents[earlier.index()].push(index);
                    waiting[index] += 1;
                }
            }
        }
        let mut ready: BinaryHeap<Reverse<usize>> = (0..count)
            .filter(|&i| included[i] && waiting[i] == 0)
            .map(Reverse)
            .collect();
        let mut order = Vec::with_capacity(count);
        while let Some(Reverse(index)) = ready.pop() {
            order.push(ServiceId(index as u32));
            for &dependent in &dependents[index] {
                waiting[dependent] -= 1;
                if waiting[dependent] == 0 {
                    ready.push(Reverse(dependent));
                }
            }
        }
        order
    }
}

/// Reads `max_unavailable`: a count (`"5"`) or a percentage (`"10%"`), default one host.
fn parse_max_unavailable(text: Option<&str>) -> Result<rolling::MaxUnavailable> {
    let Some(text) = text else {
        return Ok(rolling::MaxUnavailable::Count(1));
    };
    let bad = || Error::BadPolicy {
        message: format!(
            "max_unavailable {text:?} is not a positive count or a percentage from 1% to 100%"
        ),
    };
    match text.strip_suffix('%') {
        Some(number) => match number.trim().parse::<usize>() {
            Ok(percent @ 1..=100) => Ok(rolling::MaxUnavailable::Percent(percent)),
            _ => Err(bad()),
        },
        None => match text.trim().parse::<usize>() {
            Ok(count @ 1..) => Ok(rolling::MaxUnavailable::Count(count)),
            _ => Err(bad()),
        },
    }
}

/// For every release, the hop whose releases contain it (`None` outside the path).
fn hop_index_of_releases(catalog: &Catalog, path: &[ReleaseId]) -> Vec<Option<usize>> {
    let mut hop_of = vec![None; catalog.releases().len()];
    for (hop, pair) in path.windows(2).enumerate() {
        for slot in &mut hop_of[pair[0].index() + 1..=pair[1].index()] {
            *slot = Some(hop);
        }
    }
    hop_of
}
