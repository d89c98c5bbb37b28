//! The steps of an offline fast-forward upgrade.
//!
//! The shape follows what deployment tools do (TripleO's `fast_forward_upgrade` steps,
//! openstack-ansible's leap upgrades; see shared/research):
//! - hop 0 first stops every agent and control component, consumers first (reverse
//!   service order); data plane components keep running;
//! - each hop takes a backup of every service about to run a contract or irreversible
//!   migration, installs the hop's release, applies configuration changes, then runs the
//!   migrations in their safe order, starting a component only around the migrations
//!   that need it running;
//! - the last hop starts the services in service order, each after its readiness check
//!   (`nova-status upgrade check` "performs a release-specific readiness check before
//!   restarting services with new code", nova docs), control components before agents.

use crate::catalog::Catalog;
use crate::error::Result;
use crate::migration::{Migration, MigrationId, MigrationKind};
use crate::plan::{Hop, Step, StepKind};
use crate::release::ReleaseId;
use crate::service::{ComponentId, Role, ServiceId};

use super::compact::Slot;
use super::order::order_migrations;
use super::rolling::{Fleet, Placement};

/// The steps a planner made: those built, and every step in order, where the offline
/// planner leaves a migration's step as a [`Slot::Migration`] when there is no inventory
/// (the rolling planner builds every step).
pub(super) struct PlannedSteps {
    pub(super) built: Vec<Step>,
    pub(super) slots: Vec<Slot>,
    /// Per hop, per service, whether it takes part in the hop.
    pub(super) in_hop: Vec<Vec<bool>>,
}

/// Builds every step of the plan, hop by hop.
pub(super) fn build_steps(
    catalog: &Catalog,
    path: &[ReleaseId],
    hops: &[Hop],
    hop_migrations: &[Vec<MigrationId>],
    hop_of_migration: &[Option<u32>],
    service_order: &[ServiceId],
) -> Result<PlannedSteps> {
    build(
        catalog,
        path,
        hops,
        hop_migrations,
        hop_of_migration,
        service_order,
        None,
    )
}

/// The steps of an offline upgrade of the hosts of an inventory: stops and starts per
/// host, migrations on each service's bootstrap host, agents in batches at the end.
pub(super) fn build_host_steps(
    catalog: &Catalog,
    path: &[ReleaseId],
    hops: &[Hop],
    hop_migrations: &[Vec<MigrationId>],
    hop_of_migration: &[Option<u32>],
    service_order: &[ServiceId],
    fleet: &Fleet<'_>,
) -> Result<PlannedSteps> {
    build(
        catalog,
        path,
        hops,
        hop_migrations,
        hop_of_migration,
        service_order,
        Some(fleet),
    )
}

#[allow(clippy::too_many_arguments)]
fn build(
    catalog: &Catalog,
    path: &[ReleaseId],
    hops: &[Hop],
    hop_migrations: &[Vec<MigrationId>],
    hop_of_migration: &[Option<u32>],
    service_order: &[ServiceId],
    fleet: Option<&Fleet<'_>>,
) -> Result<PlannedSteps> {
    // Each service's bootstrap host, where its migrations run.
    let bootstrap = fleet.map_or_else(
        || vec![None; catalog.services().len()],
        |fleet| fleet.bootstrap_hosts(catalog),
    );
    let none = || PlannedSteps {
        built: Vec::new(),
        slots: Vec::new(),
        in_hop: Vec::new(),
    };
    let (Some(&from), Some(&to)) = (path.first(), path.last()) else {
        return Ok(none());
    };
    if path.len() < 2 {
        return Ok(none());
    }
    // The services taking part in each hop: those that exist at its end, and those with
    // migrations in it.
    let taking_part: Vec<Vec<ServiceId>> = (0..hops.len())
        .map(|index| {
            let mut has_migrations = vec![false; catalog.services().len()];
            for &migration in &hop_migrations[index] {
                has_migrations[catalog.migration(migration).service.index()] = true;
            }
            service_order
                .iter()
                .copied()
                .filter(|&s| {
                    catalog.service(s).exists_at(path[index + 1]) || has_migrations[s.index()]
                })
                .collect()
        })
        .collect();
    let in_hop: Vec<Vec<bool>> = taking_part
        .iter()
        .map(|services| {
            let mut in_hop = vec![false; catalog.services().len()];
            for service in services {
                in_hop[service.index()] = true;
            }
            in_hop
        })
        .collect();
    // Hops are independent once the path is known: every temporary start is stopped again
    // within its hop, so each hop begins in the same state. A large plan is built on two
    // threads, a contiguous half of the migrations each, and joined in order.
    let total: usize = hop_migrations.iter().map(Vec::len).sum();
    let build_range = |range: std::ops::Range<usize>, capacity: Capacity| -> Result<Builder<'_>> {
        let mut builder = Builder {
            catalog,
            steps: Vec::with_capacity(capacity.built),
            slots: Vec::with_capacity(capacity.slots),
            running: vec![false; catalog.components().len()],
            hop_of_migration,
            fleet,
            bootstrap: &bootstrap,
        };
        for index in range {
            if index == 0 {
                match fleet {
                    Some(fleet) => builder.stop_hosts(fleet, service_order),
                    None => builder.stop_everything(from, service_order),
                }
            }
            let last = index + 1 == hops.len();
            builder.hop(
                index,
                &hops[index],
                path[index],
                path[index + 1],
                &hop_migrations[index],
                &taking_part[index],
                &in_hop[index],
                last,
            )?;
            if last {
                match fleet {
                    Some(fleet) => builder.start_hosts(fleet, index, to, service_order),
                    None => builder.start_everything(index, to, service_order),
                }
            }
        }
        Ok(builder)
    };
    let capacity = |range: std::ops::Range<usize>| {
        step_capacity(catalog, fleet, range.len(), &hop_migrations[range])
    };
    let finish = |builder: Builder<'_>, in_hop: Vec<Vec<bool>>| PlannedSteps {
        built: builder.steps,
        slots: builder.slots,
        in_hop,
    };
    if hops.len() < 2 {
        return Ok(finish(
            build_range(0..hops.len(), capacity(0..hops.len()))?,
            in_hop,
        ));
    }
    let mut seen = 0;
    let split = hop_migrations
        .iter()
        .position(|migrations| {
            seen += migrations.len();
            seen * 2 >= total
        })
        .map_or(hops.len() / 2, |index| index + 1)
        .clamp(1, hops.len() - 1);
    // The first half is built into a list with room for the whole plan, so that joining
    // the halves moves the second half once and copies nothing else.
    let (first, second) = crate::parallel::join(
        total,
        || build_range(0..split, capacity(0..hops.len())),
        || build_range(split..hops.len(), capacity(split..hops.len())),
    );
    let mut first = first?;
    let second = second?;
    let offset = first.steps.len() as u32;
    first.steps.extend(second.steps);
    first
        .slots
        .extend(second.slots.into_iter().map(|slot| match slot {
            Slot::Built(index) => Slot::Built(index + offset),
            migration @ Slot::Migration { .. } => migration,
        }));
    Ok(finish(first, in_hop))
}

/// How many steps a builder reserves room for: built, and in all.
#[derive(Clone, Copy)]
struct Capacity {
    built: usize,
    slots: usize,
}

/// An upper estimate of the steps of `hops` hops applying `migrations`: a step per
/// migration and per temporary start and stop around it, per hop a backup, an install and
/// a readiness check of every service and its configuration changes, and the stops and
/// starts of every component (on every host of an inventory) at the ends.
///
/// Reserving it up front spares a large plan the copies of a doubling list (tens of
/// megabytes into freshly faulted pages); an estimate too high costs only address space.
/// Without an inventory, migration steps are slots only.
fn step_capacity(
    catalog: &Catalog,
    fleet: Option<&Fleet<'_>>,
    hops: usize,
    migrations: &[Vec<MigrationId>],
) -> Capacity {
    let migration_count: usize = migrations.iter().map(Vec::len).sum();
    let temporary: usize = migrations
        .iter()
        .flatten()
        .map(|&id| 2 * catalog.migration(id).needs_running.len())
        .sum();
    let per_hop = 3 * catalog.services().len() + catalog.config_changes().len();
    let instances = fleet.map_or(catalog.components().len(), |fleet| fleet.placements.len());
    let others = temporary + hops * per_hop + 4 * instances + 3 * catalog.services().len() + 64;
    Capacity {
        built: if fleet.is_some() {
            others + migration_count
        } else {
            others
        },
        slots: others + migration_count,
    }
}

struct Builder<'a> {
    catalog: &'a Catalog,
    /// The hosts, when planning from an inventory.
    fleet: Option<&'a Fleet<'a>>,
    /// Per service, the host its migrations run on.
    bootstrap: &'a [Option<u32>],
    /// The steps built so far.
    steps: Vec<Step>,
    /// Every step so far, in order.
    slots: Vec<Slot>,
    /// Components started temporarily for a migration and still running.
    running: Vec<bool>,
    hop_of_migration: &'a [Option<u32>],
}

impl Builder<'_> {
    /// Every step of one hop but the final starts.
    #[allow(clippy::too_many_arguments)]
    fn hop(
        &mut self,
        index: usize,
        hop: &Hop,
        start: ReleaseId,
        end: ReleaseId,
        migrations: &[MigrationId],
        taking_part: &[ServiceId],
        in_hop: &[bool],
        last: bool,
    ) -> Result<()> {
        let catalog = self.catalog;
        let label = format!("{} -> {}", hop.from, hop.to);
        let ordered = order_migrations(catalog, taking_part, migrations, &label)?;
        self.backups(index, start, end, taking_part, migrations);
        self.installs(index, end, last, taking_part);
        self.config_changes(index, start, end, taking_part);
        self.migrations(index, hop, end, &ordered, in_hop);
        Ok(())
    }

    /// Adds a built step.
    fn add(&mut self, step: Step) -> &mut Step {
        self.slots.push(Slot::Built(self.steps.len() as u32));
        self.steps.push(step);
        let last = self.steps.len() - 1;
        &mut self.steps[last]
    }

    fn push(&mut self, hop: usize, kind: StepKind, id: String, reason: String) -> &mut Step {
        self.add(Step::new(id, hop, kind, reason))
    }

    /// A step on one host: id `h{hop}.{kind}.{subject}@{host}`, with its service, release
    /// and, for starts and stops, its component (`subject`).
    #[allow(clippy::too_many_arguments)]
    fn on_host(
        &mut self,
        hop: usize,
        kind: StepKind,
        subject: &str,
        host: String,
        service: &str,
        release: String,
        reason: String,
    ) {
        let id = format!("h{hop}.{}.{subject}@{host}", kind.as_str());
        let step = self.push(hop, kind, id, reason);
        step.service = Some(service.to_owned());
        step.release = Some(release);
        step.host = Some(host);
        if kind != StepKind::Install {
            step.component = Some(subject.to_owned());
        }
    }

    fn release_name(&self, release: ReleaseId) -> &str {
        &self.catalog.release(release).name
    }

    /// Components of a service that exist at `release` with the given role, in catalog order.
    fn components(&self, service: ServiceId, role: Role, release: ReleaseId) -> Vec<ComponentId> {
        self.catalog
            .service(service)
            .components
            .iter()
            .copied()
            .filter(|&c| {
                let component = self.catalog.component(c);
                component.role == role && component.exists_at(release)
            })
            .collect()
    }

    fn stop_everything(&mut self, from: ReleaseId, service_order: &[ServiceId]) {
        let catalog = self.catalog;
        for &service in service_order.iter().rev() {
            if !catalog.service(service).exists_at(from) {
                continue;
            }
            let service_name = &catalog.service(service).name;
            for role in [Role::Agent, Role::Control] {
                for component in self.components(service, role, from) {
                    let name = &catalog.component(component).name;
                    let reason = match role {
                        Role::Agent => format!(
                            "stop {name} ({service_name} agent) before the offline upgrade: agents come back at the target release, after the control plane"
                        ),
                        _ => format!(
                            "stop {name} ({service_name} control plane) so that its schema migrations run offline; consumers stop first (reverse service order)"
                        ),
                    };
                    let release = self.release_name(from).to_owned();
                    let step = self.push(0, StepKind::Stop, format!("h0.stop.{name}"), reason);
                    step.service = Some(service_name.clone());
                    step.component = Some(name.clone());
                    step.release = Some(release);
                }
            }
        }
    }

    fn backups(
        &mut self,
        hop: usize,
        start: ReleaseId,
        end: ReleaseId,
        services: &[ServiceId],
        migrations: &[MigrationId],
    ) {
        let catalog = self.catalog;
        let mut needs = vec![false; catalog.services().len()];
        for &migration in migrations {
            let migration = catalog.migration(migration);
            if migration.needs_backup() {
                needs[migration.service.index()] = true;
            }
        }
        for &service in services {
            if !needs[service.index()] {
                continue;
            }
            let data = catalog.service(service);
            let name = &data.name;
            let before = self.release_name(start).to_owned();
            let target = self.release_name(end).to_owned();
            let command = data.backup_command(start, &before);
            let reason = format!(
                "rollback point: back up {name}'s databases at {before}; its {target} migrations cannot be undone (no database downgrade: restore from backup is the only way back)"
            );
            let host = self.bootstrap_name(service);
            let step = self.push(
                hop,
                StepKind::Backup,
                format!("h{hop}.backup.{name}"),
                reason,
            );
            step.service = Some(name.clone());
            step.release = Some(before);
            step.command = command;
            step.rollback_point = true;
            step.host = host;
        }
    }

    /// The name of the service's bootstrap host, when planning hosts.
    fn bootstrap_name(&self, service: ServiceId) -> Option<String> {
        let fleet = self.fleet?;
        self.bootstrap[service.index()].map(|h| fleet.host_names[h as usize].clone())
    }

    /// The hosts that get the target release of `service` before its migrations on the
    /// last hop, in inventory order: those that run one of its control components, and its
    /// bootstrap host, where the migrations run (an agent host when the service has no
    /// control component in the inventory). Its other agent hosts get it in their batches.
    fn early_install_hosts(&self, fleet: &Fleet<'_>, service: ServiceId) -> Vec<u32> {
        let catalog = self.catalog;
        let mut hosts: Vec<u32> = fleet
            .placements
            .iter()
            .filter(|p| {
                let component = catalog.component(p.component);
                component.service == service && component.role == Role::Control
            })
            .filter_map(|p| p.host)
            .collect();
        hosts.dedup();
        if let Some(bootstrap) = self.bootstrap[service.index()] {
            if !hosts.contains(&bootstrap) {
                hosts.insert(0, bootstrap);
            }
        }
        hosts
    }

    fn installs(&mut self, hop: usize, end: ReleaseId, last: bool, services: &[ServiceId]) {
        let catalog = self.catalog;
        for &service in services {
            let data = catalog.service(service);
            if !data.exists_at(end) {
                continue;
            }
            let name = &data.name;
            let release = self.release_name(end).to_owned();
            let version = data.versions[end.index()]
                .as_ref()
                .map_or_else(String::new, |version| format!(" {version}"));
            let reason = if last {
                format!("install {name}{version} ({release}), the target release, on every host")
            } else {
                format!("install {name}{version} ({release}) code to run its migrations; it is not started at this release")
            };
            match self.fleet {
                // On the last hop, every control host (and the bootstrap host) gets the
                // target release now; agent hosts get it in their batches at the end.
                Some(fleet) if last => {
                    for host in self.early_install_hosts(fleet, service) {
                        let host_name = fleet.host_names[host as usize].clone();
                        let step = self.push(
                            hop,
                            StepKind::Install,
                            format!("h{hop}.install.{name}@{host_name}"),
                            format!("install {name}{version} ({release}), the target release, on {host_name}"),
                        );
                        step.service = Some(name.clone());
                        step.release = Some(release.clone());
                        step.host = Some(host_name);
                    }
                }
                _ => {
                    let host = self.bootstrap_name(service);
                    let step = self.push(
                        hop,
                        StepKind::Install,
                        format!("h{hop}.install.{name}"),
                        reason,
                    );
                    step.service = Some(name.clone());
                    step.release = Some(release);
                    step.host = host;
                }
            }
        }
    }

    fn config_changes(
        &mut self,
        hop: usize,
        start: ReleaseId,
        end: ReleaseId,
        services: &[ServiceId],
    ) {
        let catalog = self.catalog;
        let mut taking_part = vec![false; catalog.services().len()];
        for service in services {
            taking_part[service.index()] = true;
        }
        let mut count = 0;
        for change in catalog.config_changes() {
            if !taking_part[change.service.index()]
                || change.release <= start
                || change.release > end
            {
                continue;
            }
            let name = &catalog.service(change.service).name;
            let release = self.release_name(change.release).to_owned();
            let reason = format!("{name} configuration for {release}: {}", change.describe());
            let step = self.push(
                hop,
                StepKind::Config,
                format!("h{hop}.config.{name}.{count}"),
                reason,
            );
            step.service = Some(name.clone());
            step.release = Some(release);
            count += 1;
        }
    }

    fn migrations(
        &mut self,
        hop_index: usize,
        hop: &Hop,
        end: ReleaseId,
        ordered: &[MigrationId],
        in_hop: &[bool],
    ) {
        let catalog = self.catalog;
        let mut temporarily_running: Vec<ComponentId> = Vec::new();
        for (position, &id) in ordered.iter().enumerate() {
            let migration = catalog.migration(id);
            for &component in &migration.needs_running {
                if !self.running[component.index()] {
                    self.running[component.index()] = true;
                    temporarily_running.push(component);
                    self.temporary(hop_index, StepKind::Start, component, end, migration);
                }
            }
            // Without an inventory a migration's step is only the catalog's, and is left
            // for when it is wanted; with one, it says which host it runs on.
            if self.fleet.is_none() {
                self.slots.push(Slot::Migration {
                    hop: hop_index as u32,
                    migration: id,
                });
            } else {
                let place = StepPlace {
                    catalog,
                    hop_index,
                    hop,
                    in_hop,
                    hop_of_migration: self.hop_of_migration,
                };
                let mut step = migration_step(&place, migration);
                step.host = self.bootstrap_name(migration.service);
                self.add(step);
            }
            // Stop what was started for this migration as soon as the next one no longer
            // needs it: a control component left running would break the offline rule for
            // its own service's next schema migration.
            let next_needs: &[ComponentId] = ordered
                .get(position + 1)
                .map_or(&[], |&next| &catalog.migration(next).needs_running);
            let mut index = 0;
            while index < temporarily_running.len() {
                let component = temporarily_running[index];
                if next_needs.contains(&component) {
                    index += 1;
                } else {
                    temporarily_running.swap_remove(index);
                    self.running[component.index()] = false;
                    self.temporary(hop_index, StepKind::Stop, component, end, migration);
                }
            }
        }
    }

    fn temporary(
        &mut self,
        hop: usize,
        kind: StepKind,
        component: ComponentId,
        end: ReleaseId,
        migration: &Migration,
    ) {
        let catalog = self.catalog;
        let data = catalog.component(component);
        let name = &data.name;
        let release = self.release_name(end).to_owned();
        let (id, reason) = if kind == StepKind::Start {
            (
                format!("h{hop}.start.{name}.for.{}", migration.id),
                format!(
                    "start {name} at {release} for a while: {} needs it running",
                    migration.id
                ),
            )
        } else {
            (
                format!("h{hop}.stop.{name}.after.{}", migration.id),
                format!("stop {name} again: the migrations that needed it running are done"),
            )
        };
        let service = catalog.service(data.service).name.clone();
        let host = self.bootstrap_name(data.service);
        let id = match &host {
            Some(host) => format!("{id}@{host}"),
            None => id,
        };
        let step = self.push(hop, kind, id, reason);
        step.service = Some(service);
        step.component = Some(name.clone());
        step.release = Some(release);
        step.host = host;
    }

    /// Hop 0 with an inventory: every agent and control instance stopped, host by host,
    /// consumers first.
    fn stop_hosts(&mut self, fleet: &Fleet<'_>, service_order: &[ServiceId]) {
        let catalog = self.catalog;
        for &service in service_order.iter().rev() {
            let service_name = &catalog.service(service).name;
            for role in [Role::Agent, Role::Control] {
                for placement in &fleet.placements {
                    let component = catalog.component(placement.component);
                    let (Some(release), Some(host)) = (placement.release, placement.host) else {
                        continue;
                    };
                    if component.service != service || component.role != role {
                        continue;
                    }
                    let host_name = fleet.host_names[host as usize].clone();
                    let name = &component.name;
                    let what = if role == Role::Agent {
                        "agent"
                    } else {
                        "control plane"
                    };
                    let reason = format!("stop {name} ({service_name} {what}) on {host_name} before the offline upgrade");
                    let release = self.release_name(release).to_owned();
                    self.on_host(
                        0,
                        StepKind::Stop,
                        name,
                        host_name,
                        service_name,
                        release,
                        reason,
                    );
                }
            }
        }
    }

    /// The last hop with an inventory: per service in service order, its readiness check,
    /// its control components on every host, then its agents in batches of hosts.
    fn start_hosts(
        &mut self,
        fleet: &Fleet<'_>,
        hop: usize,
        to: ReleaseId,
        service_order: &[ServiceId],
    ) {
        let catalog = self.catalog;
        let release = self.release_name(to).to_owned();
        for &service in service_order {
            let data = catalog.service(service);
            if !data.exists_at(to) {
                continue;
            }
            let name = &data.name;
            self.precheck(hop, service, to);
            let starts = |role: Role| -> Vec<&Placement> {
                fleet
                    .placements
                    .iter()
                    .filter(|p| {
                        let component = catalog.component(p.component);
                        component.service == service
                            && component.role == role
                            && component.exists_at(to)
                    })
                    .collect()
            };
            for placement in starts(Role::Control) {
                let component = &catalog.component(placement.component).name;
                let host_name = placement
                    .host
                    .map(|h| fleet.host_names[h as usize].clone())
                    .unwrap_or_default();
                let reason = format!("start {component} ({name} control plane) on {host_name} at the target release {release}");
                self.on_host(
                    hop,
                    StepKind::Start,
                    component,
                    host_name,
                    name,
                    release.clone(),
                    reason,
                );
            }
            let agents = starts(Role::Agent);
            // The agents of each host, hosts in inventory order.
            let mut hosts: Vec<u32> = Vec::new();
            let mut on_host: rustc_hash::FxHashMap<u32, Vec<&Placement>> =
                rustc_hash::FxHashMap::default();
            for placement in &agents {
                if let Some(host) = placement.host {
                    let list = on_host.entry(host).or_default();
                    if list.is_empty() {
                        hosts.push(host);
                    }
                    list.push(placement);
                }
            }
            // A host that also runs one of the service's control components (a network
            // node with neutron-server and its agents, an all-in-one), or where its
            // migrations ran, got the target code above: one install per host and release.
            let installed = self.early_install_hosts(fleet, service);
            let batch = fleet.max_unavailable.batch(hosts.len());
            for (number, chunk) in hosts.chunks(batch).enumerate() {
                for &host in chunk.iter().filter(|host| !installed.contains(host)) {
                    let host_name = fleet.host_names[host as usize].clone();
                    let reason = format!(
                        "install {name} ({release}) on agent host {host_name}, batch {}",
                        number + 1
                    );
                    self.on_host(
                        hop,
                        StepKind::Install,
                        name,
                        host_name,
                        name,
                        release.clone(),
                        reason,
                    );
                }
                for placement in chunk.iter().flat_map(|host| on_host[host].iter().copied()) {
                    let component = &catalog.component(placement.component).name;
                    let host_name = placement
                        .host
                        .map(|h| fleet.host_names[h as usize].clone())
                        .unwrap_or_default();
                    let reason = format!(
                        "start {component} ({name} agent) on {host_name} at {release}, batch {}",
                        number + 1
                    );
                    self.on_host(
                        hop,
                        StepKind::Start,
                        component,
                        host_name,
                        name,
                        release.clone(),
                        reason,
                    );
                }
            }
            let host = self.bootstrap_name(service);
            let step = self.push(
                hop,
                StepKind::Postcheck,
                format!("h{hop}.postcheck.{name}"),
                format!("confirm every {name} component runs {release} and reports up"),
            );
            step.service = Some(name.clone());
            step.release = Some(release.clone());
            step.host = host;
        }
    }

    /// The service's readiness check at `to` before its services start, on its bootstrap
    /// host when planning hosts; nothing when the release has no check.
    fn precheck(&mut self, hop: usize, service: ServiceId, to: ReleaseId) {
        let data = self.catalog.service(service);
        let Some(check) = data.upgrade_check_at(to) else {
            return;
        };
        let name = &data.name;
        let release = self.release_name(to).to_owned();
        let host = self.bootstrap_name(service);
        let reason = format!("{name} readiness check at {release} before its services start");
        let step = self.push(
            hop,
            StepKind::Precheck,
            format!("h{hop}.precheck.{name}"),
            reason,
        );
        step.service = Some(name.clone());
        step.release = Some(release);
        step.command = Some(check.to_owned());
        step.host = host;
    }

    fn start_everything(&mut self, hop: usize, to: ReleaseId, service_order: &[ServiceId]) {
        let catalog = self.catalog;
        let release = self.release_name(to).to_owned();
        for &service in service_order {
            let data = catalog.service(service);
            if !data.exists_at(to) {
                continue;
            }
            let name = &data.name;
            self.precheck(hop, service, to);
            let after: Vec<&str> = data
                .after
                .iter()
                .map(|&s| catalog.service(s).name.as_str())
                .collect();
            let order_note = if after.is_empty() {
                String::new()
            } else {
                format!("; after {} (service order)", after.join(", "))
            };
            for role in [Role::Control, Role::Agent] {
                for component in self.components(service, role, to) {
                    let component_name = &catalog.component(component).name;
                    let what = if role == Role::Control {
                        "control plane"
                    } else {
                        "agent, after its control plane"
                    };
                    let reason = format!("start {component_name} ({name} {what}) at the target release {release}{order_note}");
                    let step = self.push(
                        hop,
                        StepKind::Start,
                        format!("h{hop}.start.{component_name}"),
                        reason,
                    );
                    step.service = Some(name.clone());
                    step.component = Some(component_name.clone());
                    step.release = Some(release.clone());
                }
            }
        }
        for &service in service_order {
            let data = catalog.service(service);
            if !data.exists_at(to) {
                continue;
            }
            let name = &data.name;
            let reason = format!("confirm every {name} component runs {release} and reports up");
            let step = self.push(
                hop,
                StepKind::Postcheck,
                format!("h{hop}.postcheck.{name}"),
                reason,
            );
            step.service = Some(name.clone());
            step.release = Some(release.clone());
        }
    }
}

/// Where a migration's step stands, which its text depends on besides the migration.
#[derive(Clone, Copy)]
pub(crate) struct StepPlace<'a> {
    pub(crate) catalog: &'a Catalog,
    /// The index of the hop.
    pub(crate) hop_index: usize,
    pub(crate) hop: &'a Hop,
    /// Per service, whether it takes part in the hop.
    pub(crate) in_hop: &'a [bool],
    /// Per catalog migration, the hop that runs it (for the steps it requires).
    pub(crate) hop_of_migration: &'a [Option<u32>],
}

/// The step of one migration, built from its [`MigrationText`].
pub(super) fn migration_step(place: &StepPlace<'_>, migration: &Migration) -> Step {
    let catalog = place.catalog;
    let mut text = MigrationText {
        id: String::with_capacity(migration.id.len() + 6),
        reason: String::with_capacity(128),
        requires: Vec::with_capacity(migration.requires.len()),
        required: 0,
    };
    text.fill(place, migration);
    text.requires.truncate(text.required);
    let service = catalog.service(migration.service);
    Step {
        id: text.id,
        hop: place.hop_index,
        kind: step_kind(migration.kind),
        service: Some(service.name.clone()),
        component: None,
        release: Some(catalog.release(migration.release).name.clone()),
        migration: Some(migration.id.clone()),
        command: Some(migration.command.clone()),
        requires: text.requires,
        reason: text.reason,
        rollback_point: false,
        host: None,
        advertised: None,
    }
}

/// The kind of a migration's step.
pub(crate) fn step_kind(kind: MigrationKind) -> StepKind {
    match kind {
        MigrationKind::Expand => StepKind::Expand,
        MigrationKind::Migrate => StepKind::Migrate,
        MigrationKind::Contract => StepKind::Contract,
        MigrationKind::Data => StepKind::Data,
    }
}

/// The strings of a migration's step that are not the catalog's own: its id, its reason and
/// the ids of the steps it requires. The JSON writer of a [`crate::CompactPlan`] keeps one
/// and refills it for every migration, so that writing a step allocates nothing.
#[derive(Default)]
pub(crate) struct MigrationText {
    pub(crate) id: String,
    pub(crate) reason: String,
    /// The first `required` are this step's; the rest are buffers kept for later steps.
    requires: Vec<String>,
    required: usize,
}

impl MigrationText {
    /// The ids of the steps the migration's step requires.
    pub(crate) fn requires(&self) -> &[String] {
        &self.requires[..self.required]
    }

    /// Replaces the text with that of `migration`'s step at `place`. This runs once per
    /// migration (a hundred thousand times for a large catalog), so the strings are built
    /// with `push_str` rather than `format!`.
    pub(crate) fn fill(&mut self, place: &StepPlace<'_>, migration: &Migration) {
        self.id.clear();
        push_step_id(&mut self.id, place.hop_index, &migration.id);
        self.required = 0;
        for &required in &migration.requires {
            if let Some(hop) = place.hop_of_migration[required.index()] {
                let id = &place.catalog.migration(required).id;
                match self.requires.get_mut(self.required) {
                    Some(buffer) => {
                        buffer.clear();
                        push_step_id(buffer, hop as usize, id);
                    }
                    None => self.requires.push(step_id(hop as usize, id)),
                }
                self.required += 1;
            }
        }
        self.reason.clear();
        push_reason(&mut self.reason, place, migration, self.required > 0);
    }
}

/// Appends the reason of `migration`'s step at `place` (`any_required`: whether the step
/// requires another).
pub(crate) fn push_reason(
    reason: &mut String,
    place: &StepPlace<'_>,
    migration: &Migration,
    any_required: bool,
) {
    let StepPlace {
        catalog,
        hop,
        in_hop,
        ..
    } = *place;
    let service = catalog.service(migration.service);
    let release = &catalog.release(migration.release).name;
    reason.push_str(&service.name);
    reason.push_str(match migration.kind {
        MigrationKind::Expand => " schema expand for ",
        MigrationKind::Migrate => " schema for ",
        MigrationKind::Contract => " schema contract for ",
        MigrationKind::Data => " data migration for ",
    });
    reason.push_str(release);
    if migration.kind == MigrationKind::Data && migration.blocking {
        reason.push_str("; blocking: must finish before ");
        reason.push_str(&service.name);
        reason.push_str("'s later schema migrations");
    }
    push_list(
        reason,
        "; after ",
        service
            .after
            .iter()
            .filter(|s| in_hop[s.index()])
            .map(|&s| catalog.service(s).name.as_str()),
        " (service order)",
    );
    if any_required {
        push_list(
            reason,
            "; requires ",
            migration
                .requires
                .iter()
                .map(|&r| catalog.migration(r).id.as_str()),
            "",
        );
    }
    if hop.skip && release != &hop.to {
        reason.push_str("; skip-level hop: runs with ");
        reason.push_str(&hop.to);
        reason.push_str(" code");
    }
    push_list(
        reason,
        "; needs ",
        migration
            .needs_running
            .iter()
            .map(|&c| catalog.component(c).name.as_str()),
        " running",
    );
}

/// The id of a migration's step: `h{hop}.{migration id}` (built by hand: this runs once per
/// migration and `format!` costs more than the rest of the step).
fn step_id(hop: usize, migration: &str) -> String {
    let mut id = String::with_capacity(migration.len() + 6);
    push_step_id(&mut id, hop, migration);
    id
}

/// Appends the id of a migration's step to `out`.
pub(crate) fn push_step_id(out: &mut String, hop: usize, migration: &str) {
    out.push('h');
    crate::text::number(out, hop);
    out.push('.');
    out.push_str(migration);
}

/// Appends `prefix`, the items joined by ", ", and `suffix`, when there are items.
fn push_list<'a>(
    out: &mut String,
    prefix: &str,
    items: impl Iterator<Item = &'a str>,
    suffix: &str,
) {
    let mut first = true;
    for item in items {
        out.push_str(if first { prefix } else { ", " });
        out.push_str(item);
        first = false;
    }
    if !first {
        out.push_str(suffix);
    }
}
