//! The planner: from a catalog and a [`PlanRequest`] to an ordered, explained plan.
//!
//! The algorithm, per request, and where each part lives:
//! 1. resolve where the cloud stands (a release, an inventory, the databases) and refuse
//!    downgrades ([`request`]);
//! 2. find the path with the fewest hops in the release graph ([`path`]);
//! 3. put each included migration in the hop whose releases contain it ([`layout`]: the
//!    path, its hops and what each runs, the one value the builders read);
//! 4. decide the instances upgraded, each service's bootstrap host and the agent batches
//!    ([`fleet`]);
//! 5. per hop, order the migrations ([`order`]) and surround them with the stop, backup,
//!    install, config, temporary start and final start steps ([`offline`]), or upgrade
//!    the services one after the other, host by host ([`rolling`]); a migration's step is
//!    made in one place ([`steps`]);
//! 6. keep each migration's step as a slot naming it ([`outline`]), built when a [`Plan`]
//!    is wanted ([`Catalog::plan_request`]) or written straight into the JSON of a
//!    [`CompactPlan`] ([`compact`], [`Catalog::plan_compact`]).
//!
//! `offline`, `rolling` and `compact` depend on the shared modules (`layout`, `fleet`,
//! `steps`, `outline`), never on each other.

mod compact;
mod fleet;
mod layout;
mod offline;
mod order;
mod outline;
mod path;
mod request;
mod rolling;
mod steps;
mod tasks;

pub use compact::CompactPlan;
pub use request::PlanRequest;
pub(crate) use steps::step_kind as migration_step_kind;

use std::sync::Arc;

use crate::catalog::Catalog;
use crate::error::{Error, NoPlan, Result};
use crate::plan::{Mode, Plan, Policy};
use crate::release::ReleaseId;

use fleet::{Fleet, MaxUnavailable};
use layout::Layout;
use outline::{Outline, StepList};

impl Catalog {
    /// Plans the upgrade from release `from` to release `to` (names or aliases) under
    /// `policy`: the simple call; [`Catalog::plan_request`] takes every other start (an
    /// inventory, the databases' state).
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
        self.plan_request(&PlanRequest::from_release(from, to, policy))
    }

    /// Plans what `request` asks for, every step built.
    ///
    /// With an inventory, offline, every component is stopped on every host, the
    /// migrations run once on a bootstrap host (the first host with a control component of
    /// the service), and each service's control components start on every host, then its
    /// agents in batches of `max_unavailable` hosts; rolling, each hop upgrades the control
    /// components host by host and the agents in batches. Instances already at a hop's
    /// release are left alone.
    ///
    /// # Errors
    /// As [`Catalog::plan`]; [`Error::BadState`] for a state with an unknown service or
    /// migration, an applied migration whose requirement is not applied, or no release to
    /// start from; [`NoPlan::AheadOfTarget`] when a database holds a migration after the
    /// target; [`Error::BadPolicy`] when, with an inventory, a service of the policy runs on
    /// no host; [`NoPlan::NothingToUpgrade`] when no upgraded component runs anywhere;
    /// [`NoPlan::InventoryAheadOfTarget`] when one runs a release after the target.
    pub fn plan_request(&self, request: &PlanRequest<'_>) -> Result<Plan> {
        Ok(self.outline(request)?.into_plan(self))
    }

    /// The plan of [`Catalog::plan_request`] as a [`CompactPlan`], which builds the steps of
    /// its migrations only when they are asked for: [`CompactPlan::to_json`] writes them
    /// straight from the catalog.
    ///
    /// # Errors
    /// As [`Catalog::plan_request`].
    pub fn plan_compact(self: &Arc<Self>, request: &PlanRequest<'_>) -> Result<CompactPlan> {
        Ok(CompactPlan::new(Arc::clone(self), self.outline(request)?))
    }

    /// The outline of the plan `request` asks for: resolve, lay out, build.
    fn outline(&self, request: &PlanRequest<'_>) -> Result<Outline> {
        let _span = request.span().entered();
        let resolved = request::resolve(self, request)?;
        let policy = &resolved.policy;
        let from = resolved.from;
        let to = self.resolve_release(request.to())?;
        if to < from {
            return Err(NoPlan::Downgrade {
                from: self.release(from).name.clone(),
                to: self.release(to).name.clone(),
            }
            .into());
        }
        let max_unavailable = MaxUnavailable::parse(policy.max_unavailable.as_deref())?;
        let included = self.included_services(policy)?;
        request::check_not_ahead(self, request, &included, to)?;
        // A rolling upgrade goes one release at a time: mixed versions are only supported
        // between adjacent releases. With `skip_level`, only the agents that may lag skip
        // releases (the rolling builder keeps them back); the control plane does not.
        let allow_skips = policy.skip_level && policy.mode == Mode::Offline;
        let path = path::shortest_path(self, from, to, allow_skips)?;
        tracing::debug!(hops = path.len() - 1, "path found");
        self.check_excluded_dependencies(&included, from, to)?;
        let mut layout = Layout::new(
            self,
            path,
            &included,
            &resolved.applied,
            &resolved.current,
            policy.mode,
        );
        layout.applied_revisions = resolved.applied_revisions;
        let inventory = request.inventory();
        // The instances are only looked at with an inventory or in a rolling upgrade.
        let fleet = || Fleet::new(self, inventory, &included, from, max_unavailable);
        let (steps, in_hop) = match (policy.mode, inventory) {
            (Mode::Offline, None) => {
                let built = offline::build_steps(self, &layout, policy, None)?;
                (built.steps, built.in_hop)
            }
            (Mode::Offline, Some(_)) => {
                let built = offline::build_steps(self, &layout, policy, Some(&fleet()))?;
                (built.steps, built.in_hop)
            }
            (Mode::Rolling, _) => (
                rolling::build_steps(self, &layout, policy, fleet())?,
                Vec::new(),
            ),
        };
        tasks::check_requirements(self, &steps.built, &steps.slots, |slot| {
            let outline::Slot::Migration {
                hop,
                migration,
                stage,
            } = *slot
            else {
                return (String::new(), None);
            };
            let data = self.migration(migration);
            if data.requires_tasks.is_empty() {
                return (format!("h{hop}.{}", data.id), None);
            }
            let hop = hop as usize;
            let place = steps::StepPlace {
                catalog: self,
                hop_index: hop,
                hop: &layout.hops[hop],
                in_hop: in_hop.get(hop).map_or(&[], Vec::as_slice),
                hop_of_migration: &layout.hop_of_migration,
                skip_revisions: &layout.applied_revisions,
                stage,
                mode: policy.mode,
            };
            let step = steps::migration_step(&place, data);
            (step.id, Some(step.requires))
        })?;
        tracing::debug!(steps = steps.slots.len(), "plan built");
        Ok(self.finish_outline(policy, layout, steps, in_hop))
    }

    /// The outline of a plan along `layout` with `steps`.
    fn finish_outline(
        &self,
        policy: &Policy,
        layout: Layout,
        steps: StepList,
        in_hop: Vec<Vec<bool>>,
    ) -> Outline {
        let names = |id: ReleaseId| self.release(id).name.clone();
        let mut head = Plan::new(
            self.name(),
            &names(layout.from()),
            &names(layout.to()),
            policy.clone(),
            layout.path.iter().map(|&id| names(id)).collect(),
            layout.hops,
            Vec::new(),
        );
        head.applied = layout.applied;
        head.applied_revisions = layout.applied_revisions;
        Outline::new(self, head, steps, in_hop, layout.hop_of_migration)
    }

    pub(super) fn resolve_release(&self, name: &str) -> Result<ReleaseId> {
        self.release_id(name).ok_or_else(|| {
            NoPlan::UnknownRelease {
                name: name.to_owned(),
                suggestions: self.similar_release_names(name),
            }
            .into()
        })
    }

    pub(super) fn included_services(&self, policy: &Policy) -> Result<Vec<bool>> {
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
            // The starting release's blocking data migrations run too (hop 0, DESIGN §8).
            let starting = migration.release == from
                && migration.kind == crate::migration::MigrationKind::Data
                && migration.blocking;
            if !included[migration.service.index()]
                || (migration.release <= from && !starting)
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
}
