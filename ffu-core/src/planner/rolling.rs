//! The steps of a rolling upgrade: N to N+1 per hop, servers upgraded one host at a time
//! while the others keep serving, and API extensions gated until every server is upgraded.
//!
//! Hop 0 first runs the catalog's `precheck_start` tasks (phase `precheck`) and finishes the
//! starting release: the blocking data migrations of every service's current release, with
//! the code already installed (phase `prepare`, DESIGN §8, V12). Every hop then runs the
//! `prepare` tasks of its services, and per service in service order (after the neutron and
//! nova rolling upgrade guides, and kolla-ansible's `rolling_upgrade.yml`):
//! 1. with an inventory, the bootstrap host's servers stopped (`stop`, then the
//!    `after_stop` tasks): the hop's migrations run there with the new code. It is the only
//!    stop before the migrations, so an `on: all` `after_stop` task runs on hosts whose
//!    servers still serve;
//! 2. a backup, when the service has a contract or irreversible migration in the hop
//!    (`backup`), and the new code installed on the bootstrap host (`install`);
//! 3. the `before_migrations` tasks, the expand (and plain `migrate`) migrations, online
//!    (old servers keep working), the `after_migrations` tasks (`migrations`);
//! 4. the readiness check of the new release, on hop 0 the `before_start` tasks (settings
//!    such as nova's `[upgrade_levels]compute = auto` stay until converge), then the control
//!    components: host by host (stop, install, start), or, when the service gives a
//!    `restart_order` (nova: conductor first, api last), each component across all its
//!    hosts before the next (`start`);
//! 5. migrations that need a component running (now at the new release), still `start`:
//!    they run against the servers just started;
//! 6. the agents, in batches of at most `max_unavailable` hosts (`start`);
//! 7. the data migrations and the contract migrations, once every component runs the new
//!    release (`finalize` on an intermediate hop; on the last hop they are the target's and
//!    belong to `converge`, followed by the service's `converge` tasks and the removal of
//!    its temporary settings);
//! 8. `finalize`: the new release's API extensions are enabled.
//!
//! Stops, installs and starts of the restart all carry `start`: a rolling upgrade
//! interleaves them host by host, and the restart is the start phase of the hop. So within
//! each service's part of a hop the phases never go back (V13). Stops do not `disable`: a
//! host is down for seconds, not for the whole upgrade.
//!
//! With `skip_level` (SLURP), the control plane still steps through every release, but
//! agents that their service's `max_skew` lets lag stay where they are until they must move:
//! in the hop with a contract of their service (V6), in the hop after which the control
//! plane would leave them too far behind (V11), or in the last hop. Then they go straight to
//! the hop's release, so a nova compute host restarts once per SLURP interval.
//!
//! Every step after which what a service advertises changes carries `advertised`. Rolling
//! plans have no `repos`, `config` (catalog configuration changes) or `postcheck` steps yet.

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::error::{NoPlan, Result};
use crate::migration::{MigrationId, MigrationKind};
use crate::plan::{CodeSide, Mode, Phase, Policy, Step, StepKind};
use crate::release::ReleaseId;
use crate::service::{Role, ServiceId};
use crate::task::TaskPhase;

use super::fleet::Fleet;
use super::layout::{HopLayout, Layout};
use super::order::order_migrations;
use super::outline::StepList;
use super::steps::{migration_step, Stage, StepPlace};
use super::tasks::{extras, Tasks};

/// Builds the steps of a rolling plan along `layout` (every hop N to N+1), upgrading the
/// instances of `fleet` under `policy` (its backup command, and `skip_level`: agents that
/// may lag go from SLURP to SLURP).
pub(super) fn build_steps(
    catalog: &Catalog,
    layout: &Layout,
    policy: &Policy,
    fleet: Fleet,
) -> Result<StepList> {
    needed_components_placed(catalog, layout, &fleet)?;
    let mut builder = Rolling {
        catalog,
        layout,
        policy,
        fleet,
        steps: StepList::with_capacity(0, 0),
        phase: Phase::Precheck,
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
        builder.hop(layout.hop(index))?;
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
    /// The hop in the layout (its index, releases, migrations, whether it is the last).
    layout: HopLayout<'a>,
    index: usize,
    hop: &'a crate::plan::Hop,
    end: ReleaseId,
    /// Where the hop's migration steps stand.
    place: StepPlace<'a>,
}

struct Rolling<'a> {
    catalog: &'a Catalog,
    layout: &'a Layout,
    policy: &'a Policy,
    /// The instances, each at the release it runs so far.
    fleet: Fleet,
    steps: StepList,
    /// The phase the steps being added belong to.
    phase: Phase,
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
    /// gives each service's migrations in a safe order), on hop 0 the checks and the
    /// starting release, the `prepare` tasks, then each service's part, in service order.
    fn hop(&mut self, hop: HopLayout<'_>) -> Result<()> {
        let (catalog, layout) = (self.catalog, self.layout);
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
            layout: hop,
            index: hop.index,
            hop: hop.hop,
            end: hop.end,
            place: layout.place(catalog, &hop, &in_hop),
        };
        if hop.index == 0 {
            self.phase = Phase::Precheck;
            self.tasks(&hop, TaskPhase::PrecheckStart, &taking_part);
            self.phase = Phase::Prepare;
            for &id in &layout.starting {
                self.migration(&context, id, Stage::Starting, Phase::Prepare, "");
            }
        }
        self.tasks(&hop, TaskPhase::Prepare, &taking_part);
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

    /// Adds the steps of the `services`' catalog tasks of `phase` in `hop`; after the
    /// `converge` ones, the removal of the temporary settings the plan's tasks made.
    fn tasks(&mut self, hop: &HopLayout<'_>, phase: TaskPhase, services: &[ServiceId]) {
        let tasks = Tasks {
            catalog: self.catalog,
            layout: self.layout,
            // Without an inventory, a task runs once, on no named host.
            hosts: self.fleet.has_hosts().then_some(&self.fleet),
            mode: Mode::Rolling,
        };
        tasks.add(&mut self.steps, hop, phase, services);
        if phase == TaskPhase::Converge {
            tasks.undo_temporary(&mut self.steps, hop, services);
        }
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
            if let Some(step) = self.steps.built.last_mut() {
                let name = self.catalog.service(service).name.clone();
                step.advertised
                    .get_or_insert_with(BTreeMap::new)
                    .insert(name, now.clone());
            }
            self.advertised[service.index()] = now;
        }
    }

    /// Adds a step of `service` in the current phase; it runs on the service's bootstrap
    /// host unless the caller names another.
    fn push(
        &mut self,
        hop: usize,
        kind: StepKind,
        id: String,
        service: ServiceId,
        reason: String,
    ) -> &mut Step {
        let mut step = Step::new(id, hop, kind, reason).in_phase(self.phase);
        step.service = Some(self.catalog.service(service).name.clone());
        // Steps of the whole service (backup, checks, finalize) run on its bootstrap host;
        // steps on a host say which.
        step.host = self.fleet.bootstrap_name(service);
        self.steps.add(step)
    }

    /// The step of migration `id` at `stage`, in `phase`, on its service's bootstrap host,
    /// with `note` added to its reason.
    fn migration(
        &mut self,
        context: &HopContext<'_>,
        id: MigrationId,
        stage: Stage,
        phase: Phase,
        note: &str,
    ) {
        let migration = self.catalog.migration(id);
        let mut step = migration_step(&context.place.at(stage), migration);
        step.host = self.fleet.bootstrap_name(migration.service);
        step.phase = Some(phase);
        step.reason.push_str(note);
        self.steps.add(step);
    }

    fn migrations(&mut self, context: &HopContext<'_>, list: &[MigrationId]) {
        for &migration in list {
            let kind = self.catalog.migration(migration).kind;
            let note = match kind {
                MigrationKind::Expand | MigrationKind::Migrate if self.phase == Phase::Start => {
                    "; once the control plane runs the new release, which it needs running"
                }
                MigrationKind::Expand | MigrationKind::Migrate => {
                    "; online, before any server restarts"
                }
                MigrationKind::Data => "; once every component runs the new release",
                MigrationKind::Contract => "; once no component runs the old release",
            };
            // The last hop's data migrations are the target's: converge (DESIGN §8).
            let stage = if kind == MigrationKind::Data && self.phase == Phase::Converge {
                Stage::Converge
            } else {
                Stage::Hop
            };
            self.migration(context, migration, stage, self.phase, note);
        }
    }

    /// Upgrades the placements at `indices` (on one host, or one batch of hosts): stop them
    /// all, install once per host, start them all at the hop's release. `batch`: the agent
    /// batch they belong to.
    fn upgrade(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        indices: &[usize],
        what: &str,
        batch: Option<usize>,
    ) {
        self.stop(context, service, indices, what, batch);
        let hosts: Vec<Option<u32>> = indices
            .iter()
            .map(|&i| self.fleet.placements[i].host)
            .collect();
        self.install(context, service, hosts, "", batch);
        self.start(context, service, indices, what, batch);
    }

    /// Fills in what a stop or start of the component of placement `index` carries besides
    /// its name: the service manager's unit, the tool's own facts, its agent batch.
    fn component_fields(&mut self, index: usize, batch: Option<usize>) {
        let catalog = self.catalog;
        let data = catalog.component(self.fleet.placements[index].component);
        let x = extras(&catalog.service(data.service).x, &data.x);
        if let Some(step) = self.steps.built.last_mut() {
            step.unit.clone_from(&data.unit);
            step.x = x;
            step.batch = batch;
        }
    }

    /// Stops the placements at `indices` that run. They are not disabled: the host is
    /// back within the minute, and a reboot meanwhile starts code the schema still serves.
    fn stop(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        indices: &[usize],
        what: &str,
        batch: Option<usize>,
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
            self.component_fields(i, batch);
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
        batch: Option<usize>,
    ) {
        let catalog = self.catalog;
        let hop = context.index;
        let release = catalog.release(context.end).name.clone();
        let data = catalog.service(service);
        let name = data.name.clone();
        let version_number = data.versions[context.end.index()]
            .as_ref()
            .map(ToString::to_string);
        let version = version_number
            .as_ref()
            .map_or_else(String::new, |v| format!(" {v}"));
        let x = extras(&data.x, &crate::extras::Extras::new());
        hosts.dedup();
        // Without an inventory there is one place to install to: once per service and hop.
        hosts.retain(|&host| self.installed.insert((service, host, hop)));
        for host in hosts {
            let suffix = self.fleet.host_suffix(host);
            let host_name = host.map(|h| self.fleet.host_name(h).to_owned());
            let on = host_name
                .as_deref()
                .map_or_else(String::new, |h| format!(" on {h}"));
            let step = self.push(
                hop,
                StepKind::Install,
                format!("h{hop}.install.{name}{suffix}"),
                service,
                format!("install {name}{version} ({release}){on}{why}"),
            );
            step.release = Some(release.clone());
            step.host = host_name;
            step.version.clone_from(&version_number);
            step.x.clone_from(&x);
            step.batch = batch;
        }
    }

    /// Starts the placements at `indices` at the hop's release (those it still has).
    fn start(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        indices: &[usize],
        what: &str,
        batch: Option<usize>,
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
            self.component_fields(i, batch);
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
        if !catalog.upgrades_service(service) {
            // Shared infrastructure: nothing to restart or finalize, only its own tasks.
            self.infra_tasks(context, service);
            return;
        }
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
        let backup = own.iter().any(|&m| catalog.migration(m).needs_backup());
        self.controls(context, service, online, backup);
        self.migrations(context, after_controls);
        let contract = by_kind(&[MigrationKind::Contract]);
        let lagging = self.agents(context, service, !contract.is_empty());
        // What waits for every component at the new release: on the last hop, the
        // target's own converge; before, the hop's finalize.
        let last = context.layout.last;
        self.phase = if last {
            Phase::Converge
        } else {
            Phase::Finalize
        };
        self.migrations(context, &by_kind(&[MigrationKind::Data]));
        self.migrations(context, &contract);
        if last {
            self.tasks(&context.layout, TaskPhase::Converge, &[service]);
            self.postcheck(context, service);
        }
        self.phase = Phase::Finalize;
        self.finalize(context, service, lagging);
    }

    /// The tasks of a service that ffu does not upgrade (only `infra` components), each
    /// phase's at its place in the service's part of the hop.
    fn infra_tasks(&mut self, context: &HopContext<'_>, service: ServiceId) {
        let hop = context.layout;
        let phases = [
            (Phase::Stop, TaskPhase::AfterStop),
            (Phase::Migrations, TaskPhase::BeforeMigrations),
            (Phase::Migrations, TaskPhase::AfterMigrations),
            (Phase::Start, TaskPhase::BeforeStart),
        ];
        for (phase, task_phase) in phases {
            self.phase = phase;
            self.tasks(&hop, task_phase, &[service]);
        }
        if hop.last {
            self.phase = Phase::Converge;
            self.tasks(&hop, TaskPhase::Converge, &[service]);
        }
    }

    /// The agents of `service` that move in this hop, in batches of hosts; returns whether
    /// some stay behind (SLURP: their skew allows it). `contract`: whether the service has
    /// a contract migration in the hop, which needs every component at the new release.
    fn agents(&mut self, context: &HopContext<'_>, service: ServiceId, contract: bool) -> bool {
        let catalog = self.catalog;
        let mut agents = stale(catalog, context, service, &self.fleet, Role::Agent);
        let before = agents.len();
        if self.policy.skip_level && !contract && !context.layout.last {
            let next = self.layout.path[context.index + 2];
            agents.retain(|&i| self.must_move(i, context.end, next));
        }
        let lagging = agents.len() < before;
        let groups = self.fleet.group_by_host(&agents);
        let batch = self.fleet.max_unavailable.batch(groups.len());
        for (number, hosts) in groups.chunks(batch).enumerate() {
            let indices: Vec<usize> = hosts.iter().flatten().copied().collect();
            self.upgrade(context, service, &indices, "agent", Some(number + 1));
        }
        lagging
    }

    /// Whether the agent of placement `index` must move to `end` in this hop, which another
    /// hop to `next` follows: it is new or goes away, or staying behind would leave it
    /// further behind the control plane than its service's `max_skew` allows, now or once
    /// the control plane runs `next` (V11).
    fn must_move(&self, index: usize, end: ReleaseId, next: ReleaseId) -> bool {
        let catalog = self.catalog;
        let placement = &self.fleet.placements[index];
        let component = catalog.component(placement.component);
        let Some(running) = placement.release else {
            return true;
        };
        if !component.exists_at(end) || !component.exists_at(next) {
            return true;
        }
        let skew = catalog.service(component.service).max_skew;
        let too_far = |control: ReleaseId| {
            control.index() - running.index() > skew.allowed_lag(catalog.releases(), control)
        };
        too_far(end) || too_far(next)
    }

    /// The rollback point before the service's migrations of the hop: its databases that
    /// exist at the hop's start, with the policy's backup command.
    fn backup(&mut self, context: &HopContext<'_>, service: ServiceId) {
        let data = self.catalog.service(service);
        let name = data.name.clone();
        let start = context.layout.start;
        let databases = data.databases_at(start);
        let command = (!databases.is_empty()).then(|| {
            self.policy
                .backup_command(&databases, &name, &context.hop.from)
        });
        let databases: Vec<String> = databases.into_iter().map(str::to_owned).collect();
        let x = extras(&data.x, &crate::extras::Extras::new());
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
        step.databases = Some(databases);
        step.x = x;
    }
    /// The online migrations, the readiness check and the control components.
    ///
    /// With an inventory, the migrations run on the bootstrap host with the new code, so
    /// it is upgraded first: its servers stop, the new code is installed, the online
    /// migrations and the check run, and its servers start at the new release (keystone's
    /// "Upgrading without downtime": the first node is upgraded and runs `db_sync --expand`
    /// and `--migrate` before the other nodes; nova's rolling upgrade guide likewise runs
    /// `nova-manage db sync` with the new code before any service restarts).
    ///
    /// The backup (`backup`: whether the hop needs one) comes once the bootstrap host is
    /// stopped, as offline: phases stop, backup, install, migrations, start.
    fn controls(
        &mut self,
        context: &HopContext<'_>,
        service: ServiceId,
        online: &[MigrationId],
        backup: bool,
    ) {
        let bootstrap = self.fleet.bootstrap(service);
        let rounds = self.restart_rounds(context, service);
        let on_bootstrap: Vec<usize> = rounds
            .iter()
            .flatten()
            .copied()
            .filter(|&i| bootstrap.is_some() && self.fleet.placements[i].host == bootstrap)
            .collect();
        let hop = context.layout;
        self.phase = Phase::Stop;
        self.stop(context, service, &on_bootstrap, "control plane", None);
        self.tasks(&hop, TaskPhase::AfterStop, &[service]);
        if backup {
            self.phase = Phase::Backup;
            self.backup(context, service);
        }
        if bootstrap.is_some() {
            self.phase = Phase::Install;
            self.install(
                context,
                service,
                vec![bootstrap],
                ", the bootstrap host: the hop's migrations run there with the new code",
                None,
            );
        }
        self.phase = Phase::Migrations;
        self.tasks(&hop, TaskPhase::BeforeMigrations, &[service]);
        self.migrations(context, online);
        self.tasks(&hop, TaskPhase::AfterMigrations, &[service]);
        self.phase = Phase::Start;
        self.precheck(context, service);
        self.tasks(&hop, TaskPhase::BeforeStart, &[service]);
        for round in rounds {
            if round.iter().all(|i| on_bootstrap.contains(i)) {
                // Stopped and given the new code before the migrations.
                self.start(context, service, &round, "control plane", None);
            } else {
                self.upgrade(context, service, &round, "control plane", None);
            }
        }
    }

    /// The service's stale control instances in the rounds they restart in: without a
    /// `restart_order`, host by host (each host down once), the bootstrap host first;
    /// with one, one instance at a time, each component across all its hosts before the
    /// next (nova: "start nova-conductor first and nova-api last"), the bootstrap host
    /// first within each component.
    fn restart_rounds(&self, context: &HopContext<'_>, service: ServiceId) -> Vec<Vec<usize>> {
        let catalog = self.catalog;
        let mut stale = stale(catalog, context, service, &self.fleet, Role::Control);
        let bootstrap = self.fleet.bootstrap(service);
        // Stable sorts: inventory order is kept where nothing else decides.
        stale.sort_by_key(|&i| bootstrap.is_none() || self.fleet.placements[i].host != bootstrap);
        if catalog.service(service).restart_order.is_empty() {
            return self.fleet.group_by_host(&stale);
        }
        self.fleet
            .sort_in_restart_order(catalog, service, &mut stale);
        stale.into_iter().map(|i| vec![i]).collect()
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
        step.code = Some(CodeSide::Target);
        step.code_release = Some(context.hop.to.clone());
    }

    /// In the last hop's converge, once every component of `service` runs the target: the
    /// check that they all do and report up (as the offline plan's post-checks).
    fn postcheck(&mut self, context: &HopContext<'_>, service: ServiceId) {
        let name = self.catalog.service(service).name.clone();
        let hop = context.index;
        let release = context.hop.to.clone();
        let reason = format!("confirm every {name} component runs {release} and reports up");
        let step = self.push(
            hop,
            StepKind::Postcheck,
            format!("h{hop}.postcheck.{name}"),
            service,
            reason,
        );
        step.release = Some(release);
    }

    /// Finalize: the new release's extensions are switched on, and the consumers that may
    /// use them are named.
    /// `lagging`: whether some of its agents stay at an older release (SLURP).
    fn finalize(&mut self, context: &HopContext<'_>, service: ServiceId, lagging: bool) {
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
        let every = if lagging { "server" } else { "component" };
        let mut reason = format!(
            "every {name} {every} runs {}: enable its new API extensions",
            context.hop.to
        );
        if lagging {
            reason.push_str(
                "; its agents stay behind within max_skew, until the hop they must move in",
            );
        }
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
    // The starting release's own migrations too: they run with the components as deployed.
    for &migration in layout.migrations.iter().flatten().chain(&layout.starting) {
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
