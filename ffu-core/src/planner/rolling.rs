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
use crate::plan::{Step, StepKind};
use crate::release::ReleaseId;
use crate::service::{Role, ServiceId};

use super::fleet::Fleet;
use super::layout::{HopLayout, Layout};
use super::order::order_migrations;
use super::steps::{migration_step, StepPlace};

/// Builds the steps of a rolling plan along `layout` (every hop N to N+1), upgrading the
/// instances of `fleet`.
pub(super) fn build_steps(catalog: &Catalog, layout: &Layout, fleet: Fleet) -> Result<Vec<Step>> {
    needed_components_placed(catalog, layout, &fleet)?;
    let mut builder = Rolling {
        catalog,
        fleet,
        steps: Vec::new(),
        enabled: vec![None; catalog.services().len()],
        advertised: vec![Vec::new(); catalog.services().len()],
        installed: std::collections::HashSet::new(),
        has_extensions: (0..catalog.services().len())
            .map(|s| catalog.extensions().iter().any(|e| e.service.index() == s))
            .collect(),
    };
    // What each service advertises at the start: the extensions its servers all support,
    // up to the oldest release among them (nothing newer was finalized yet).
    for &service in &layout.service_order {
        let releases = server_releases(catalog, &builder.fleet, service);
        // A service with no server yet has nothing switched on beyond the starting release.
        builder.enabled[service.index()] = releases.iter().min().copied().or(Some(layout.from()));
        builder.advertised[service.index()] = catalog
            .negotiate_releases(service, &releases, builder.enabled[service.index()])
            .advertised;
    }
    for index in 0..layout.hops.len() {
        builder.hop(layout, layout.hop(index))?;
    }
    Ok(builder.steps)
}

/// Refuses a migration that needs a component of another service whose part of the hop
/// comes later: a rolling upgrade finishes one service's part before the next one starts.
fn check_cross_service_requirements(
    catalog: &Catalog,
    layout: &Layout,
    hop: &HopLayout<'_>,
    service: ServiceId,
    own: &[MigrationId],
    done: &[bool],
) -> Result<()> {
    for &migration in own {
        for &required in &catalog.migration(migration).requires {
            let other = catalog.migration(required).service;
            if other != service
                && layout.hop_of_migration[required.index()] == Some(hop.index as u32)
                && !done[other.index()]
            {
                return Err(NoPlan::OrderCycle {
                    hop: format!("{} -> {}", hop.hop.from, hop.hop.to),
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
    Ok(())
}

/// A hop as the steps of one service see it.
struct HopContext<'a> {
    index: usize,
    hop: &'a crate::plan::Hop,
    end: ReleaseId,
    /// Where the hop's migration steps stand.
    place: StepPlace<'a>,
}

struct Rolling<'a> {
    catalog: &'a Catalog,
    /// The instances, each at the release it runs so far.
    fleet: Fleet,
    steps: Vec<Step>,
    /// Per service: the newest release whose extensions are switched on.
    enabled: Vec<Option<ReleaseId>>,
    /// Per service: what it advertises now.
    advertised: Vec<Vec<String>>,
    /// Per service: whether it has API extensions at all.
    has_extensions: Vec<bool>,
    /// (service, host, hop) that already have the new code installed.
    installed: std::collections::HashSet<(ServiceId, Option<u32>, usize)>,
}

impl Rolling<'_> {
    /// One hop: the whole hop's order first (it proves the ordering facts consistent and
    /// gives each service's migrations in a safe order), then each service's part, in
    /// service order.
    fn hop(&mut self, layout: &Layout, hop: HopLayout<'_>) -> Result<()> {
        let catalog = self.catalog;
        let taking_part: Vec<ServiceId> = layout
            .service_order
            .iter()
            .copied()
            .filter(|&s| catalog.service(s).exists_at(hop.end))
            .collect();
        let label = format!("{} -> {}", hop.hop.from, hop.hop.to);
        let ordered = order_migrations(catalog, &taking_part, hop.migrations, &label)?;
        let mut in_hop = vec![false; catalog.services().len()];
        for service in &taking_part {
            in_hop[service.index()] = true;
        }
        let context = HopContext {
            index: hop.index,
            hop: hop.hop,
            end: hop.end,
            place: layout.place(catalog, &hop, &in_hop),
        };
        let mut done = vec![false; catalog.services().len()];
        for &service in &taking_part {
            let own: Vec<MigrationId> = ordered
                .iter()
                .copied()
                .filter(|&m| catalog.migration(m).service == service)
                .collect();
            check_cross_service_requirements(catalog, layout, &hop, service, &own, &done)?;
            self.service(&context, service, &own);
            done[service.index()] = true;
        }
        Ok(())
    }

    /// Records `advertised` on the last step when the service's set changed.
    fn renegotiate(&mut self, service: ServiceId) {
        // Most services have no extensions; skip the scan over the fleet for them.
        if !self.has_extensions[service.index()] {
            return;
        }
        let releases = server_releases(self.catalog, &self.fleet, service);
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
        step.host = self.fleet.bootstrap_name(service);
        self.steps.push(step);
        let last = self.steps.len() - 1;
        &mut self.steps[last]
    }

    fn migrations(&mut self, context: &HopContext<'_>, list: &[MigrationId]) {
        for &migration in list {
            let mut step = migration_step(&context.place, self.catalog.migration(migration));
            step.host = self
                .fleet
                .bootstrap_name(self.catalog.migration(migration).service);
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
        what: &str,
    ) {
        self.stop(context, service, indices, what);
        let hosts: Vec<Option<u32>> = indices
            .iter()
            .map(|&i| self.fleet.placements[i].host)
            .collect();
        self.install(context, service, hosts, "");
        self.start(context, service, indices, what);
    }

    /// Stops the placements at `indices` that run.
    fn stop(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        indices: &[usize],
        what: &str,
    ) {
        let catalog = self.catalog;
        let hop = context.index;
        let name = catalog.service(service).name.clone();
        for &i in indices {
            let placement = &self.fleet.placements[i];
            let Some(running) = placement.release else {
                continue;
            };
            let component = catalog.component(placement.component).name.clone();
            let suffix = self.fleet.host_suffix(placement.host);
            let host = placement.host.map(|h| self.fleet.host_name(h).to_owned());
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
            let suffix = self.fleet.host_suffix(host);
            let host_name = host.map(|h| self.fleet.host_name(h).to_owned());
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
        what: &str,
    ) {
        let catalog = self.catalog;
        let hop = context.index;
        let release = catalog.release(context.end).name.clone();
        let name = catalog.service(service).name.clone();
        for &i in indices {
            let placement = self.fleet.placements[i].clone();
            if !catalog
                .component(placement.component)
                .exists_at(context.end)
            {
                // Removed in the new release: stopped above, not started again.
                self.fleet.placements[i].release = None;
                self.renegotiate(service);
                continue;
            }
            let component = catalog.component(placement.component).name.clone();
            let suffix = self.fleet.host_suffix(placement.host);
            let host = placement.host.map(|h| self.fleet.host_name(h).to_owned());
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
            self.fleet.placements[i].release = Some(context.end);
            // Only servers (control components) decide what the API offers.
            if catalog.component(placement.component).role == Role::Control {
                self.renegotiate(service);
            }
        }
    }

    /// One service's part of a hop, in the order of the module's doc.
    fn service(&mut self, context: &HopContext<'_>, service: ServiceId, own: &[MigrationId]) {
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
        self.controls(context, service, online);
        self.migrations(context, after_controls);
        // Agents, in batches of hosts.
        let agents = stale(catalog, context, service, &self.fleet, Role::Agent);
        let groups = self.fleet.group_by_host(&agents);
        let batch = self.fleet.max_unavailable.batch(groups.len());
        for hosts in groups.chunks(batch) {
            let indices: Vec<usize> = hosts.iter().flatten().copied().collect();
            self.upgrade(context, service, &indices, "agent");
        }
        self.migrations(context, &by_kind(&[MigrationKind::Data]));
        self.migrations(context, &by_kind(&[MigrationKind::Contract]));
        self.finalize(context, service);
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
    fn controls(&mut self, context: &HopContext<'_>, service: ServiceId, online: &[MigrationId]) {
        let stale = stale(self.catalog, context, service, &self.fleet, Role::Control);
        let mut controls = self.fleet.group_by_host(&stale);
        let bootstrap = self.fleet.bootstrap(service);
        let first = bootstrap.and_then(|host| {
            let at = controls
                .iter()
                .position(|group| self.fleet.placements[group[0]].host == Some(host))?;
            Some(controls.remove(at))
        });
        if let Some(group) = &first {
            self.stop(context, service, group, "control plane");
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
            self.start(context, service, group, "control plane");
        }
        for group in controls {
            self.upgrade(context, service, &group, "control plane");
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
    fn finalize(&mut self, context: &HopContext<'_>, service: ServiceId) {
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
        self.renegotiate(service);
    }
}

/// With an inventory, every component a migration needs running must run on some host:
/// a rolling upgrade starts components only where they are deployed (an offline upgrade
/// starts them for a while on the bootstrap host instead).
fn needed_components_placed(catalog: &Catalog, layout: &Layout, fleet: &Fleet) -> Result<()> {
    if fleet.placements.iter().all(|p| p.host.is_none()) {
        return Ok(());
    }
    // Once over the fleet, not once per migration: a large catalog meets a large fleet.
    let mut placed = vec![false; catalog.components().len()];
    for placement in &fleet.placements {
        placed[placement.component.index()] = true;
    }
    for &migration in layout.migrations.iter().flatten() {
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
    fleet: &Fleet,
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

/// The releases the service's control components run, deduplicated.
fn server_releases(catalog: &Catalog, fleet: &Fleet, service: ServiceId) -> Vec<ReleaseId> {
    let mut releases: Vec<ReleaseId> = fleet
        .placements
        .iter()
        .filter(|p| {
            let component = catalog.component(p.component);
            component.service == service && component.role == Role::Control
        })
        .filter_map(|p| p.release)
        .collect();
    releases.sort_unstable();
    releases.dedup();
    releases
}
