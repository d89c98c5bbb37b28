//! Which instances run, and at which release, at a point of the plan; and who runs before
//! the first step.
//!
//! An instance is a component on a host (or anywhere, for plans without hosts). Without
//! hosts, a component runs at `from` when it (and its service) exists there; with hosts, an
//! instance runs at the release its first step stops it at, or not at all if its first step
//! starts it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::Context;
use crate::catalog::Catalog;
use crate::plan::StepKind;
use crate::release::ReleaseId;
use crate::service::{ComponentId, Role, ServiceId};

/// A component on a host (`None`: anywhere, for plans without hosts).
pub(super) type Instance<'a> = (Option<&'a str>, ComponentId);

/// Which instances run, and at which release: per instance, and counted per component and
/// release so that "is any instance of X running (at R)" is cheap on a fleet of thousands.
pub(super) struct Fleet<'a> {
    catalog: &'a Catalog,
    releases: usize,
    instances: HashMap<Instance<'a>, ReleaseId>,
    /// `counts[component * releases + release]`: running instances.
    counts: Vec<u32>,
}

impl<'a> Fleet<'a> {
    /// Nothing runs.
    pub(super) fn new(catalog: &'a Catalog) -> Fleet<'a> {
        let releases = catalog.releases().len();
        Fleet {
            catalog,
            releases,
            instances: HashMap::default(),
            counts: vec![0; catalog.components().len() * releases],
        }
    }

    /// What runs before the plan's first step, which starts at `from`. A plan whose steps
    /// name hosts describes its fleet itself (by the first step of each instance);
    /// otherwise every component that exists at `from` runs once, somewhere.
    pub(super) fn at_start(context: &Context<'a>, from: ReleaseId) -> Fleet<'a> {
        let catalog = context.catalog;
        let mut fleet = Fleet::new(catalog);
        let per_host = context.plan.steps.iter().any(|step| step.host.is_some());
        if !per_host {
            for (index, component) in catalog.components().iter().enumerate() {
                if component.exists_at(from) && catalog.service(component.service).exists_at(from) {
                    fleet.set((None, ComponentId(index as u32)), Some(from));
                }
            }
        }
        let mut first_seen: HashSet<(&str, ComponentId)> = HashSet::default();
        for (index, step) in context.steps() {
            let (Some(host), Some(component)) = (step.host.as_deref(), context.component[index])
            else {
                continue;
            };
            if first_seen.insert((host, component)) && step.kind == StepKind::Stop {
                let release = context.release[index].unwrap_or(from);
                fleet.set((Some(host), component), Some(release));
            }
        }
        fleet
    }

    /// Runs `instance` at `release`, or stops it (`None`).
    pub(super) fn set(&mut self, instance: Instance<'a>, release: Option<ReleaseId>) {
        let component = instance.1.index();
        if let Some(old) = self.instances.remove(&instance) {
            self.counts[component * self.releases + old.index()] -= 1;
        }
        if let Some(new) = release {
            self.instances.insert(instance, new);
            self.counts[component * self.releases + new.index()] += 1;
        }
    }

    /// How many instances of `component` run `release`.
    pub(super) fn count(&self, component: ComponentId, release: ReleaseId) -> u32 {
        self.counts[component.index() * self.releases + release.index()]
    }

    fn row(&self, component: ComponentId) -> &[u32] {
        let start = component.index() * self.releases;
        &self.counts[start..start + self.releases]
    }

    /// The oldest release an instance of `component` runs.
    pub(super) fn oldest_release(&self, component: ComponentId) -> Option<ReleaseId> {
        self.row(component)
            .iter()
            .position(|&n| n > 0)
            .map(|r| ReleaseId(r as u32))
    }

    /// The newest release an instance of `component` runs.
    pub(super) fn newest_release(&self, component: ComponentId) -> Option<ReleaseId> {
        self.row(component)
            .iter()
            .rposition(|&n| n > 0)
            .map(|r| ReleaseId(r as u32))
    }

    /// A release an instance of `component` runs (the newest), if any runs.
    pub(super) fn any_release(&self, component: ComponentId) -> Option<ReleaseId> {
        self.newest_release(component)
    }

    /// Whether an instance runs at a release other than `release`.
    pub(super) fn running_other_than(
        &self,
        component: ComponentId,
        release: Option<ReleaseId>,
    ) -> bool {
        self.row(component)
            .iter()
            .enumerate()
            .any(|(r, &n)| n > 0 && Some(ReleaseId(r as u32)) != release)
    }

    /// The releases the service's servers (control components) run, ascending,
    /// deduplicated.
    pub(super) fn server_releases(&self, service: ServiceId) -> Vec<ReleaseId> {
        let mut running = vec![false; self.releases];
        for &component in &self.catalog.service(service).components {
            if self.catalog.component(component).role == Role::Control {
                for (r, &n) in self.row(component).iter().enumerate() {
                    running[r] |= n > 0;
                }
            }
        }
        (0..self.releases)
            .filter(|&r| running[r])
            .map(|r| ReleaseId(r as u32))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{kit, offline};
    use super::super::Context;
    use super::Fleet;
    use crate::inventory::Inventory;

    #[test]
    fn without_hosts_every_component_runs_once_at_from() {
        let catalog = kit();
        let plan = offline(&catalog, "r2", "r3", false);
        let context = Context::new(&catalog, &plan, "p.json").unwrap();
        let fleet = Fleet::at_start(&context, context.from.unwrap());
        let r2 = catalog.release_id("r2").unwrap();
        for component in catalog.components() {
            let id = catalog.component_id(&component.name).unwrap();
            assert_eq!(fleet.count(id, r2), 1, "{}", component.name);
            assert_eq!(fleet.oldest_release(id), Some(r2));
        }
        let compute = catalog.service_id("compute").unwrap();
        assert_eq!(fleet.server_releases(compute), [r2]);
    }

    #[test]
    fn with_hosts_each_instance_runs_what_its_first_stop_says() {
        let catalog = kit();
        let inventory = Inventory::from_hosts(
            &catalog,
            &[
                ("ctl-1", &[("ident-api", "r2"), ("compute-api", "r2")]),
                ("ctl-2", &[("ident-api", "r1"), ("compute-api", "r1")]),
            ],
        )
        .unwrap();
        let plan = catalog
            .plan_request(&crate::PlanRequest::from_inventory(
                &inventory,
                "r2",
                &crate::Policy::default(),
            ))
            .unwrap();
        let context = Context::new(&catalog, &plan, "p.json").unwrap();
        let fleet = Fleet::at_start(&context, context.from.unwrap());
        let compute_api = catalog.component_id("compute-api").unwrap();
        let (r1, r2) = (
            catalog.release_id("r1").unwrap(),
            catalog.release_id("r2").unwrap(),
        );
        assert_eq!(fleet.oldest_release(compute_api), Some(r1));
        assert_eq!(fleet.newest_release(compute_api), Some(r2));
        assert_eq!(
            fleet.server_releases(catalog.service_id("compute").unwrap()),
            [r1, r2]
        );
        // No host named the agent: it runs nowhere.
        let agent = catalog.component_id("compute-agent").unwrap();
        assert_eq!(fleet.any_release(agent), None);
    }
}
