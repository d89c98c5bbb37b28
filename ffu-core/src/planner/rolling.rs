//! The steps of a rolling upgrade: N to N+1 per hop, servers upgraded one host at a time
//! while the others keep serving, and API extensions gated until every server is upgraded.
//!
//! Per hop, per service in service order (after the neutron and nova rolling upgrade
//! guides, and kolla-ansible's `rolling_upgrade.yml`):
//! 1. a backup, when the service has a contract or irreversible migration in the hop;
//! 2. the expand (and plain `migrate`) migrations, online: old servers keep working;
//! 3. the readiness check of the new release;
//! 4. the control components, host by host: stop, install, start at the new release;
//! 5. migrations that need a component running (now at the new release);
//! 6. the agents, in batches of at most `max_unavailable` hosts;
//! 7. the data migrations, once every component runs the new release;
//! 8. the contract migrations, once no component runs the old release;
//! 9. `finalize`: the new release's API extensions are enabled.
//!
//! Every step after which what a service advertises changes carries `advertised`.

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::error::{NoPlan, Result};
use crate::migration::{MigrationId, MigrationKind};
use crate::plan::{Hop, Step, StepKind};
use crate::release::ReleaseId;
use crate::service::{ComponentId, Role, ServiceId};

use super::offline::{migration_step, StepPlace};
use super::order::order_migrations;

/// One instance of a component: on a host (or anywhere, without an inventory), running a
/// release, or not deployed yet (`None`: a component that a later release brings).
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    pub(crate) host: Option<u32>,
    pub(crate) component: ComponentId,
    pub(crate) release: Option<ReleaseId>,
}

/// How many agent hosts may be down at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaxUnavailable {
    Count(usize),
    Percent(usize),
}

impl MaxUnavailable {
    /// The batch size for `hosts` agent hosts: at least one.
    pub(crate) fn batch(self, hosts: usize) -> usize {
        match self {
            MaxUnavailable::Count(count) => count.max(1),
            MaxUnavailable::Percent(percent) => (hosts * percent).div_ceil(100).max(1),
        }
    }
}

/// Everything the rolling builder needs besides the catalog.
pub(crate) struct Fleet<'a> {
    pub(crate) host_names: &'a [String],
    pub(crate) placements: Vec<Placement>,
    pub(crate) max_unavailable: MaxUnavailable,
}

impl Fleet<'_> {
    /// Each service's bootstrap host, where its migrations and checks run: the first host
    /// with one of its control components, else the first with one of its agents; `None`
    /// for every service without an inventory.
    pub(crate) fn bootstrap_hosts(&self, catalog: &Catalog) -> Vec<Option<u32>> {
        let mut bootstrap: Vec<Option<u32>> = vec![None; catalog.services().len()];
        for role in [Role::Control, Role::Agent] {
            for placement in &self.placements {
                let component = catalog.component(placement.component);
                if component.role == role && bootstrap[component.service.index()].is_none() {
                    bootstrap[component.service.index()] = placement.host;
                }
            }
        }
        bootstrap
    }
}

/// Builds the steps of a rolling plan along `path` (every hop N to N+1).
pub(crate) fn build_steps(
    catalog: &Catalog,
    path: &[ReleaseId],
    hops: &[Hop],
    hop_migrations: &[Vec<MigrationId>],
    hop_of_migration: &[Option<u32>],
    service_order: &[ServiceId],
    mut fleet: Fleet<'_>,
) -> Result<Vec<Step>> {
    needed_components_placed(catalog, hop_migrations, &fleet)?;
    let mut builder = Rolling {
        catalog,
        bootstrap: fleet.bootstrap_hosts(catalog),
        steps: Vec::new(),
        enabled: vec![None; catalog.services().len()],
        advertised: vec![Vec::new(); catalog.services().len()],
        host_names: fleet.host_names,
        installed: std::collections::HashSet::new(),
        has_extensions: (0..catalog.services().len())
            .map(|s| catalog.extensions().iter().any(|e| e.service.index() == s))
            .collect(),
    };
    // What each service advertises at the start: the extensions its servers all support,
    // up to the oldest release among them (nothing newer was finalized yet).
    for &service in service_order {
        let releases = builder.server_releases(&fleet.placements, service);
        // A service with no server yet has nothing switched on beyond the starting release.
        builder.enabled[service.index()] = releases.iter().min().copied().or(path.first().copied());
        builder.advertised[service.index()] = catalog
            .negotiate_releases(service, &releases, builder.enabled[service.index()])
            .advertised;
    }
    for (index, hop) in hops.iter().enumerate() {
        let end = path[index + 1];
        let taking_part: Vec<ServiceId> = service_order
            .iter()
            .copied()
            .filter(|&s| catalog.service(s).exists_at(end))
            .collect();
        let label = format!("{} -> {}", hop.from, hop.to);
        // The whole hop's order first: it proves the ordering facts consistent and gives
        // each service's migrations in a safe order.
        let ordered = order_migrations(catalog, &taking_part, &hop_migrations[index], &label)?;
        let mut in_hop = vec![false; catalog.services().len()];
        for service in &taking_part {
            in_hop[service.index()] = true;
        }
        let mut done = vec![false; catalog.services().len()];
        for &service in &taking_part {
            let own: Vec<MigrationId> = ordered
                .iter()
                .copied()
                .filter(|&m| catalog.migration(m).service == service)
                .collect();
            for &migration in &own {
                for &required in &catalog.migration(migration).requires {
                    let other = catalog.migration(required).service;
                    if other != service
                        && hop_of_migration[required.index()] == Some(index as u32)
                        && !done[other.index()]
                    {
                        return Err(NoPlan::OrderCycle {
                            hop: label,
                            facts: vec![crate::error::OrderFact {
                                before: catalog.migration(required).id.clone(),
                                after: catalog.migration(migration).id.clone(),
                                because: format!(
                                    "{} requires it, but a rolling upgrade finishes {} before {} starts",
                                    catalog.migration(migration).id,
                                    catalog.service(service).name,
                                    catalog.service(other).name
                                ),
                            }],
                        }
                        .into());
                    }
                }
            }
            let context = HopContext {
                index,
                hop,
                end,
                in_hop: &in_hop,
                hop_of_migration,
            };
            builder.service(&context, service, &own, &mut fleet);
            done[service.index()] = true;
        }
    }
    Ok(builder.steps)
}

struct HopContext<'a> {
    index: usize,
    hop: &'a Hop,
    end: ReleaseId,
    in_hop: &'a [bool],
    hop_of_migration: &'a [Option<u32>],
}

struct Rolling<'a> {
    catalog: &'a Catalog,
    steps: Vec<Step>,
    /// Per service: the newest release whose extensions are switched on.
    enabled: Vec<Option<ReleaseId>>,
    /// Per service: what it advertises now.
    advertised: Vec<Vec<String>>,
    host_names: &'a [String],
    /// Per service: its bootstrap host (with an inventory), where its migrations run.
    bootstrap: Vec<Option<u32>>,
    /// Per service: whether it has API extensions at all.
    has_extensions: Vec<bool>,
    /// (service, host, hop) that already have the new code installed.
    installed: std::collections::HashSet<(ServiceId, Option<u32>, usize)>,
}

impl Rolling<'_> {
    /// The releases the service's control components run, deduplicated.
    fn server_releases(&self, placements: &[Placement], service: ServiceId) -> Vec<ReleaseId> {
        let mut releases: Vec<ReleaseId> = placements
            .iter()
            .filter(|p| {
                let component = self.catalog.component(p.component);
                component.service == service && component.role == Role::Control
            })
            .filter_map(|p| p.release)
            .collect();
        releases.sort_unstable();
        releases.dedup();
        releases
    }

    /// Records `advertised` on the last step when the service's set changed.
    fn renegotiate(&mut self, placements: &[Placement], service: ServiceId) {
        // Most services have no extensions; skip the scan over the fleet for them.
        if !self.has_extensions[service.index()] {
            return;
        }
        let releases = self.server_releases(placements, service);
        let now = self
            .catalog
            .negotiate_releases(service, &releases, self.enabled[service.index()])
            .advertised;
        if now != self.advertised[service.index()] {
            if let Some(step) = self.steps.last_mut() {
                let name = self.catalog.service(service).name.clone();
                step.advertised
                    .get_or_insert_with(BTreeMap::new)
                    .insert(name, now.clone());
            }
            self.advertised[service.index()] = now;
        }
    }

    /// The service's bootstrap host by name, with an inventory.
    fn bootstrap_name(&self, service: ServiceId) -> Option<String> {
        self.bootstrap[service.index()].map(|h| self.host_names[h as usize].clone())
    }

    fn host_suffix(&self, host: Option<u32>) -> String {
        host.map_or_else(String::new, |h| format!("@{}", self.host_names[h as usize]))
    }

    fn push(
        &mut self,
        hop: usize,
        kind: StepKind,
        id: String,
        service: ServiceId,
        reason: String,
    ) -> &mut Step {
        let mut step = Step::new(id, hop, kind, reason);
        step.service = Some(self.catalog.service(service).name.clone());
        // Steps of the whole service (backup, checks, finalize) run on its bootstrap host;
        // steps on a host say which.
        step.host = self.bootstrap_name(service);
        self.steps.push(step);
        let last = self.steps.len() - 1;
        &mut self.steps[last]
    }

    fn migrations(&mut self, context: &HopContext<'_>, list: &[MigrationId]) {
        for &migration in list {
            let place = StepPlace {
                catalog: self.catalog,
                hop_index: context.index,
                hop: context.hop,
                in_hop: context.in_hop,
                hop_of_migration: context.hop_of_migration,
            };
            let mut step = migration_step(&place, self.catalog.migration(migration));
            step.host = self.bootstrap_name(self.catalog.migration(migration).service);
            step.reason
                .push_str(match self.catalog.migration(migration).kind {
                    MigrationKind::Expand | MigrationKind::Migrate => {
                        "; online, before any server restarts"
                    }
                    MigrationKind::Data => "; once every component runs the new release",
                    MigrationKind::Contract => "; once no component runs the old release",
                });
            self.steps.push(step);
        }
    }

    /// Upgrades the placements at `indices` (on one host, or one batch of hosts):
    /// stop them all, install once per host, start them all at `end`.
    fn upgrade(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        indices: &[usize],
        fleet: &mut Fleet<'_>,
        what: &str,
    ) {
        self.stop(context, service, indices, fleet, what);
        let hosts: Vec<Option<u32>> = indices.iter().map(|&i| fleet.placements[i].host).collect();
        self.install(context, service, hosts, "");
        self.start(context, service, indices, fleet, what);
    }

    /// Stops the placements at `indices` that run.
    fn stop(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        indices: &[usize],
        fleet: &Fleet<'_>,
        what: &str,
    ) {
        let catalog = self.catalog;
        let hop = context.index;
        let name = catalog.service(service).name.clone();
        for &i in indices {
            let placement = &fleet.placements[i];
            let Some(running) = placement.release else {
                continue;
            };
            let component = catalog.component(placement.component).name.clone();
            let suffix = self.host_suffix(placement.host);
            let host = placement.host.map(|h| self.host_names[h as usize].clone());
            let old = catalog.release(running).name.clone();
            let step = self.push(hop, StepKind::Stop, format!("h{hop}.stop.{component}{suffix}"), service, format!("stop {component} ({name} {what}, {old}) to upgrade it; the others keep serving"));
            step.component = Some(component);
            step.release = Some(old);
            step.host = host;
        }
    }

    /// Installs the hop's release of `service` on `hosts`, once per host and hop;
    /// `why` is added to the reason.
    fn install(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        mut hosts: Vec<Option<u32>>,
        why: &str,
    ) {
        let catalog = self.catalog;
        let hop = context.index;
        let release = catalog.release(context.end).name.clone();
        let name = catalog.service(service).name.clone();
        hosts.dedup();
        // Without an inventory there is one place to install to: once per service and hop.
        hosts.retain(|&host| self.installed.insert((service, host, hop)));
        for host in hosts {
            let suffix = self.host_suffix(host);
            let host_name = host.map(|h| self.host_names[h as usize].clone());
            let version = catalog.service(service).versions[context.end.index()]
                .as_ref()
                .map_or_else(String::new, |v| format!(" {v}"));
            let step = self.push(
                hop,
                StepKind::Install,
                format!("h{hop}.install.{name}{suffix}"),
                service,
                format!(
                    "install {name}{version} ({release}){}{why}",
                    host_name
                        .as_deref()
                        .map_or_else(String::new, |h| format!(" on {h}"))
                ),
            );
            step.release = Some(release.clone());
            step.host = host_name;
        }
    }

    /// Starts the placements at `indices` at the hop's release (those it still has).
    fn start(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        indices: &[usize],
        fleet: &mut Fleet<'_>,
        what: &str,
    ) {
        let catalog = self.catalog;
        let hop = context.index;
        let release = catalog.release(context.end).name.clone();
        let name = catalog.service(service).name.clone();
        for &i in indices {
            let placement = fleet.placements[i].clone();
            if !catalog
                .component(placement.component)
                .exists_at(context.end)
            {
                // Removed in the new release: stopped above, not started again.
                fleet.placements[i].release = None;
                self.renegotiate(&fleet.placements, service);
                continue;
            }
            let component = catalog.component(placement.component).name.clone();
            let suffix = self.host_suffix(placement.host);
            let host = placement.host.map(|h| self.host_names[h as usize].clone());
            let reason = if placement.release.is_none() {
                format!("start {component} at {release}: new in this release")
            } else if what == "agent" {
                format!("start {component} at {release}; within max_skew of its control plane")
            } else {
                format!("start {component} at {release}; {name} runs mixed versions until every server runs it")
            };
            let step = self.push(
                hop,
                StepKind::Start,
                format!("h{hop}.start.{component}{suffix}"),
                service,
                reason,
            );
            step.component = Some(component);
            step.release = Some(release.clone());
            step.host = host;
            fleet.placements[i].release = Some(context.end);
            // Only servers (control components) decide what the API offers.
            if catalog.component(placement.component).role == Role::Control {
                self.renegotiate(&fleet.placements, service);
            }
        }
    }

    /// One service's part of a hop, in the order of the module's doc.
    fn service(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        own: &[MigrationId],
        fleet: &mut Fleet<'_>,
    ) {
        let catalog = self.catalog;
        let by_kind = |kinds: &[MigrationKind]| -> Vec<MigrationId> {
            own.iter()
                .copied()
                .filter(|&m| kinds.contains(&catalog.migration(m).kind))
                .collect()
        };
        // The schema migrations run online before the servers restart, except from the
        // first one that needs a component running: it, and everything after it (so that
        // `requires` still holds), waits until the control plane runs the new release.
        let schema = by_kind(&[MigrationKind::Expand, MigrationKind::Migrate]);
        let split = schema
            .iter()
            .position(|&m| !catalog.migration(m).needs_running.is_empty())
            .unwrap_or(schema.len());
        let (online, after_controls) = schema.split_at(split);
        if own.iter().any(|&m| catalog.migration(m).needs_backup()) {
            self.backup(context, service);
        }
        self.controls(context, service, online, fleet);
        self.migrations(context, after_controls);
        // Agents, in batches of hosts.
        let agents = stale(catalog, context, service, fleet, Role::Agent);
        let groups = group_by_host(&fleet.placements, &agents);
        let batch = fleet.max_unavailable.batch(groups.len());
        for hosts in groups.chunks(batch) {
            let indices: Vec<usize> = hosts.iter().flatten().copied().collect();
            self.upgrade(context, service, &indices, fleet, "agent");
        }
        self.migrations(context, &by_kind(&[MigrationKind::Data]));
        self.migrations(context, &by_kind(&[MigrationKind::Contract]));
        self.finalize(context, service, fleet);
    }

    /// The rollback point before the service's migrations of the hop.
    fn backup(&mut self, context: &HopContext<'_>, service: ServiceId) {
        let data = self.catalog.service(service);
        let name = data.name.clone();
        let before = self
            .catalog
            .release_id(&context.hop.from)
            .unwrap_or(context.end);
        let command = data.backup_command(before, &context.hop.from);
        let hop = context.index;
        let step = self.push(
            hop,
            StepKind::Backup,
            format!("h{hop}.backup.{name}"),
            service,
            format!(
                "rollback point: back up {name}'s databases before its {} migrations",
                context.hop.to
            ),
        );
        step.release = Some(context.hop.from.clone());
        step.command = command;
        step.rollback_point = true;
    }

    /// The online migrations, the readiness check and the control components, one host at
    /// a time.
    ///
    /// With an inventory, the migrations run on the bootstrap host with the new code, so
    /// it is upgraded first: its servers stop, the new code is installed, the online
    /// migrations and the check run, and its servers start at the new release (keystone's
    /// "Upgrading without downtime": the first node is upgraded and runs `db_sync --expand`
    /// and `--migrate` before the other nodes; nova's rolling upgrade guide likewise runs
    /// `nova-manage db sync` with the new code before any service restarts).
    fn controls(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        online: &[MigrationId],
        fleet: &mut Fleet<'_>,
    ) {
        let stale = stale(self.catalog, context, service, fleet, Role::Control);
        let mut controls = group_by_host(&fleet.placements, &stale);
        let bootstrap = self.bootstrap[service.index()];
        let first = bootstrap.and_then(|host| {
            let at = controls
                .iter()
                .position(|group| fleet.placements[group[0]].host == Some(host))?;
            Some(controls.remove(at))
        });
        if let Some(group) = &first {
            self.stop(context, service, group, fleet, "control plane");
        }
        if bootstrap.is_some() {
            self.install(
                context,
                service,
                vec![bootstrap],
                ", the bootstrap host: the hop's migrations run there with the new code",
            );
        }
        self.migrations(context, online);
        self.precheck(context, service);
        if let Some(group) = &first {
            self.start(context, service, group, fleet, "control plane");
        }
        for group in controls {
            self.upgrade(context, service, &group, fleet, "control plane");
        }
    }

    /// The service's readiness check at the hop's release, where the release has one.
    fn precheck(&mut self, context: &HopContext<'_>, service: ServiceId) {
        let data = self.catalog.service(service);
        let Some(check) = data.upgrade_check_at(context.end) else {
            return;
        };
        let (name, check) = (data.name.clone(), check.to_owned());
        let hop = context.index;
        let step = self.push(
            hop,
            StepKind::Precheck,
            format!("h{hop}.precheck.{name}"),
            service,
            format!(
                "{name} readiness check at {} before its servers restart",
                context.hop.to
            ),
        );
        step.release = Some(context.hop.to.clone());
        step.command = Some(check);
    }

    /// Finalize: the new release's extensions are switched on, and the consumers that may
    /// use them are named.
    fn finalize(&mut self, context: &HopContext<'_>, service: ServiceId, fleet: &Fleet<'_>) {
        let catalog = self.catalog;
        let name = catalog.service(service).name.clone();
        let before = catalog.release_id(&context.hop.from).unwrap_or(context.end);
        self.enabled[service.index()] = Some(context.end);
        let consumers: Vec<String> = catalog
            .extensions()
            .iter()
            .filter(|e| {
                e.service == service && e.since.is_some_and(|s| s > before && s <= context.end)
            })
            .filter(|e| !e.consumed_by.is_empty())
            .map(|e| {
                let users: Vec<&str> = e
                    .consumed_by
                    .iter()
                    .map(|&c| catalog.service(c).name.as_str())
                    .collect();
                format!("{} may use {} from here", users.join(", "), e.name)
            })
            .collect();
        let mut reason = format!(
            "every {name} component runs {}: enable its new API extensions",
            context.hop.to
        );
        if !consumers.is_empty() {
            reason.push_str("; ");
            reason.push_str(&consumers.join("; "));
        }
        let hop = context.index;
        let step = self.push(
            hop,
            StepKind::Finalize,
            format!("h{hop}.finalize.{name}"),
            service,
            reason,
        );
        step.release = Some(context.hop.to.clone());
        self.renegotiate(&fleet.placements, service);
    }
}

/// With an inventory, every component a migration needs running must run on some host:
/// a rolling upgrade starts components only where they are deployed (an offline upgrade
/// starts them for a while on the bootstrap host instead).
fn needed_components_placed(
    catalog: &Catalog,
    hop_migrations: &[Vec<MigrationId>],
    fleet: &Fleet<'_>,
) -> Result<()> {
    if fleet.placements.iter().all(|p| p.host.is_none()) {
        return Ok(());
    }
    // Once over the fleet, not once per migration: a large catalog meets a large fleet.
    let mut placed = vec![false; catalog.components().len()];
    for placement in &fleet.placements {
        placed[placement.component.index()] = true;
    }
    for &migration in hop_migrations.iter().flatten() {
        let migration = catalog.migration(migration);
        for &component in &migration.needs_running {
            if !placed[component.index()] {
                return Err(crate::error::Error::Unsupported {
                    what: format!(
                        "a rolling upgrade in which {} needs {} running, but no host of the inventory runs it: add it to the inventory, or plan offline",
                        migration.id,
                        catalog.component(component).name
                    ),
                });
            }
        }
    }
    Ok(())
}

/// What a hop touches of `service`'s components with `role`: instances behind the new
/// release, instances of components the new release removes (to stop), and components it
/// brings (to start).
fn stale(
    catalog: &Catalog,
    context: &HopContext<'_>,
    service: ServiceId,
    fleet: &Fleet<'_>,
    role: Role,
) -> Vec<usize> {
    (0..fleet.placements.len())
        .filter(|&i| {
            let p = &fleet.placements[i];
            let component = catalog.component(p.component);
            let exists = component.exists_at(context.end);
            component.service == service
                && component.role == role
                && match p.release {
                    Some(release) => release < context.end || !exists,
                    None => exists,
                }
        })
        .collect()
}

/// The placements at `indices` grouped by host, hosts in first-seen order.
fn group_by_host(placements: &[Placement], indices: &[usize]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut position: std::collections::HashMap<Option<u32>, usize> =
        std::collections::HashMap::new();
    for &i in indices {
        let host = placements[i].host;
        // Without an inventory each component is its own "host".
        let key = host.map(Some);
        if let Some(group) = key.and_then(|k| position.get(&k).copied()) {
            groups[group].push(i);
        } else {
            if let Some(k) = key {
                position.insert(k, groups.len());
            }
            groups.push(vec![i]);
        }
    }
    groups
}
