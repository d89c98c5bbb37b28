//! The hosts a plan upgrades: every instance of a component (per host, from an inventory,
//! or one of each component without one), each service's bootstrap host, and the batches
//! in which agent hosts go down. The offline and rolling builders both place their steps
//! with it.

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::inventory::Inventory;
use crate::release::ReleaseId;
use crate::service::{ComponentId, Role, ServiceId};

/// One instance of a component: on a host (or anywhere, without an inventory), running a
/// release, or not deployed yet (`None`: a component that a later release brings).
#[derive(Debug, Clone)]
pub(super) struct Placement {
    pub(super) host: Option<u32>,
    pub(super) component: ComponentId,
    pub(super) release: Option<ReleaseId>,
}

/// How many agent hosts may be down at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MaxUnavailable {
    Count(usize),
    Percent(usize),
}

impl MaxUnavailable {
    /// Reads `max_unavailable`: a count (`"5"`) or a percentage (`"10%"`), default one host.
    pub(super) fn parse(text: Option<&str>) -> Result<MaxUnavailable> {
        let Some(text) = text else {
            return Ok(MaxUnavailable::Count(1));
        };
        let bad = || Error::BadPolicy {
            message: format!(
                "max_unavailable {text:?} is not a positive count or a percentage from 1% to 100%"
            ),
        };
        match text.strip_suffix('%') {
            Some(number) => match number.trim().parse::<usize>() {
                Ok(percent @ 1..=100) => Ok(MaxUnavailable::Percent(percent)),
                _ => Err(bad()),
            },
            None => match text.trim().parse::<usize>() {
                Ok(count @ 1..) => Ok(MaxUnavailable::Count(count)),
                _ => Err(bad()),
            },
        }
    }

    /// The batch size for `hosts` agent hosts: at least one.
    pub(super) fn batch(self, hosts: usize) -> usize {
        match self {
            MaxUnavailable::Count(count) => count.max(1),
            MaxUnavailable::Percent(percent) => (hosts * percent).div_ceil(100).max(1),
        }
    }
}

/// The instances a plan upgrades, and where each service's migrations run.
pub(super) struct Fleet {
    /// The inventory's host names (empty without an inventory).
    host_names: Vec<String>,
    pub(super) placements: Vec<Placement>,
    pub(super) max_unavailable: MaxUnavailable,
    /// Per service, its bootstrap host (see [`Fleet::bootstrap`]).
    bootstrap: Vec<Option<u32>>,
    /// Per service, the hosts that run one of its upgraded components, in inventory order
    /// (see [`Fleet::service_hosts`]).
    service_hosts: Vec<Vec<u32>>,
}

impl Fleet {
    /// The instances ffu upgrades: from the inventory (per host), or else one of every
    /// component of the `included` services, at `from` if it exists there (later ones are
    /// deployed when they arrive). The data plane is never upgraded by ffu.
    pub(super) fn new(
        catalog: &Catalog,
        inventory: Option<&Inventory>,
        included: &[bool],
        from: ReleaseId,
        max_unavailable: MaxUnavailable,
    ) -> Fleet {
        let upgraded = |component: ComponentId| {
            let data = catalog.component(component);
            included[data.service.index()] && data.role.is_upgraded()
        };
        let (host_names, placements): (Vec<String>, Vec<Placement>) = match inventory {
            Some(inventory) => (
                inventory.hosts().iter().map(|h| h.name.clone()).collect(),
                inventory
                    .placements()
                    .filter(|&(_, component, _)| upgraded(component))
                    .map(|(host, component, release)| Placement {
                        host: Some(host as u32),
                        component,
                        release: Some(release),
                    })
                    .collect(),
            ),
            None => (
                Vec::new(),
                (0..catalog.components().len() as u32)
                    .map(ComponentId)
                    .filter(|&component| upgraded(component))
                    .map(|component| {
                        let data = catalog.component(component);
                        let deployed =
                            data.exists_at(from) && catalog.service(data.service).exists_at(from);
                        Placement {
                            host: None,
                            component,
                            release: deployed.then_some(from),
                        }
                    })
                    .collect(),
            ),
        };
        let bootstrap = bootstrap_hosts(catalog, &placements);
        let service_hosts = hosts_per_service(catalog, &placements);
        Fleet {
            host_names,
            placements,
            max_unavailable,
            bootstrap,
            service_hosts,
        }
    }

    /// The name of host `host` of the inventory.
    pub(super) fn host_name(&self, host: u32) -> &str {
        &self.host_names[host as usize]
    }

    /// The hosts that run one of `service`'s upgraded components, in inventory order (none
    /// without an inventory): where a task `on: all` runs.
    pub(super) fn service_hosts(&self, service: ServiceId) -> &[u32] {
        &self.service_hosts[service.index()]
    }

    /// The service's bootstrap host, where its migrations and checks run: the first host
    /// with one of its control components, else the first with one of its agents; `None`
    /// without an inventory.
    pub(super) fn bootstrap(&self, service: ServiceId) -> Option<u32> {
        self.bootstrap[service.index()]
    }

    /// Whether some instance of `component` runs when the plan starts.
    pub(super) fn runs(&self, component: ComponentId) -> bool {
        self.placements
            .iter()
            .any(|placement| placement.component == component && placement.release.is_some())
    }

    /// [`Fleet::bootstrap`] by name.
    pub(super) fn bootstrap_name(&self, service: ServiceId) -> Option<String> {
        self.bootstrap(service)
            .map(|host| self.host_name(host).to_owned())
    }

    /// Whether the fleet comes from an inventory (its instances are on named hosts).
    pub(super) fn has_hosts(&self) -> bool {
        !self.host_names.is_empty()
    }

    /// Sorts the instances at `indices` (of `service`'s components) by the service's
    /// `restart_order`, keeping the order of hosts for each component (stable); nothing
    /// changes when the service has none.
    pub(super) fn sort_in_restart_order(
        &self,
        catalog: &Catalog,
        service: ServiceId,
        indices: &mut [usize],
    ) {
        let restart_order = &catalog.service(service).restart_order;
        if restart_order.is_empty() {
            return;
        }
        indices.sort_by_key(|&index| {
            restart_order
                .iter()
                .position(|&named| named == self.placements[index].component)
                .unwrap_or(usize::MAX)
        });
    }

    /// `@host` for a step on `host`, nothing without one.
    pub(super) fn host_suffix(&self, host: Option<u32>) -> String {
        host.map_or_else(String::new, |host| format!("@{}", self.host_name(host)))
    }

    /// The hosts that get a new release of `service` before its migrations run, in
    /// inventory order: those that run one of its control components, and its bootstrap
    /// host, where the migrations run (an agent host when the service has no control
    /// component in the inventory). Its other agent hosts get it in their batches.
    pub(super) fn early_install_hosts(&self, catalog: &Catalog, service: ServiceId) -> Vec<u32> {
        let mut hosts: Vec<u32> = self
            .placements
            .iter()
            .filter(|p| {
                let component = catalog.component(p.component);
                component.service == service && component.role == Role::Control
            })
            .filter_map(|p| p.host)
            .collect();
        hosts.dedup();
        if let Some(bootstrap) = self.bootstrap(service) {
            if !hosts.contains(&bootstrap) {
                hosts.insert(0, bootstrap);
            }
        }
        hosts
    }

    /// The placements at `indices` grouped by host, hosts in first-seen order; without an
    /// inventory each component is its own group.
    pub(super) fn group_by_host(&self, indices: &[usize]) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut position: rustc_hash::FxHashMap<u32, usize> = rustc_hash::FxHashMap::default();
        for &i in indices {
            let existing = self.placements[i]
                .host
                .and_then(|host| position.get(&host).copied());
            if let Some(group) = existing {
                groups[group].push(i);
            } else {
                if let Some(host) = self.placements[i].host {
                    position.insert(host, groups.len());
                }
                groups.push(vec![i]);
            }
        }
        groups
    }
}

/// Per service, the hosts of its placements, each once, in the placements' (inventory)
/// order. Computed once: tasks `on: all` ask for them per task and hop, and a fleet of
/// 10,000 hosts made a scan per question quadratic.
fn hosts_per_service(catalog: &Catalog, placements: &[Placement]) -> Vec<Vec<u32>> {
    let mut hosts: Vec<Vec<u32>> = vec![Vec::new(); catalog.services().len()];
    let mut seen: rustc_hash::FxHashSet<(ServiceId, u32)> = rustc_hash::FxHashSet::default();
    for placement in placements {
        let Some(host) = placement.host else {
            continue;
        };
        let service = catalog.component(placement.component).service;
        if seen.insert((service, host)) {
            hosts[service.index()].push(host);
        }
    }
    hosts
}

/// Orders `components` by the service's `restart_order` (the project's documented order,
/// such as nova's conductor first and api last); those it does not name keep their place
/// after the named ones.
pub(super) fn sort_by_restart_order(restart_order: &[ComponentId], components: &mut [ComponentId]) {
    if restart_order.is_empty() {
        return;
    }
    components.sort_by_key(|component| {
        restart_order
            .iter()
            .position(|named| named == component)
            .unwrap_or(usize::MAX)
    });
}

/// Each service's bootstrap host (see [`Fleet::bootstrap`]).
fn bootstrap_hosts(catalog: &Catalog, placements: &[Placement]) -> Vec<Option<u32>> {
    let mut bootstrap: Vec<Option<u32>> = vec![None; catalog.services().len()];
    for role in [Role::Control, Role::Agent] {
        for placement in placements {
            let component = catalog.component(placement.component);
            if component.role == role && bootstrap[component.service.index()].is_none() {
                bootstrap[component.service.index()] = placement.host;
            }
        }
    }
    bootstrap
}
