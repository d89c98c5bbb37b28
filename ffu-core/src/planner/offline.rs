//! The steps of an offline fast-forward upgrade.
//!
//! The shape follows what deployment tools do (TripleO's `fast_forward_upgrade` steps,
//! openstack-ansible's leap upgrades; sources in DESIGN.md):
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
use crate::migration::{Migration, MigrationId};
use crate::plan::{BackupCommands, CodeSide, Mode, Phase, Policy, Step, StepKind};
use crate::release::ReleaseId;
use crate::service::{ComponentId, Role, ServiceId};
use crate::task::TaskPhase;

use super::fleet::{sort_by_restart_order, Fleet};
use super::layout::{HopLayout, Layout};
use super::order::order_migrations;
use super::outline::StepList;
use super::steps::{migration_step, Stage};
use super::tasks::{extras, Tasks};

/// The steps of an offline plan, and per hop, per service, whether it takes part in the
/// hop (which the reasons of its migration steps name).
pub(super) struct OfflineSteps {
    pub(super) steps: StepList,
    pub(super) in_hop: Vec<Vec<bool>>,
}

/// Builds every step of an offline upgrade along `layout`, hop by hop. With `hosts` (an
/// inventory's fleet), stops and starts are per host, migrations run on each service's
/// bootstrap host and agents start in batches at the end; without, migration steps are
/// left as slots for the outline to build or write when wanted.
pub(super) fn build_steps(
    catalog: &Catalog,
    layout: &Layout,
    policy: &Policy,
    hosts: Option<&Fleet>,
) -> Result<OfflineSteps> {
    let taking_part = taking_part(catalog, layout);
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
    // within its hop, so each hop begins in the same state. The plan is built in two
    // contiguous halves of the migrations (on two threads when large), joined in order.
    let build_range = |range: std::ops::Range<usize>, capacity: Capacity| -> Result<StepList> {
        let mut builder = Builder {
            catalog,
            layout,
            policy,
            backups: BackupCommands::of(policy),
            hosts,
            tasks: Tasks {
                catalog,
                layout,
                hosts,
                mode: Mode::Offline,
            },
            steps: StepList::with_capacity(capacity.built, capacity.slots),
            running: vec![false; catalog.components().len()],
            phase: Phase::Precheck,
        };
        for index in range {
            builder.hop(layout.hop(index), &taking_part[index], &in_hop[index])?;
        }
        Ok(builder.steps)
    };
    let hop_count = layout.hops.len();
    let capacity = |range: std::ops::Range<usize>| {
        step_capacity(catalog, hosts, range.len(), &layout.migrations[range])
    };
    let split = split_hop(layout);
    // The first half is built into a list with room for the whole plan, so that joining
    // the halves moves the second half once and copies nothing else.
    let (first, second) = crate::parallel::join(
        layout.migration_count(),
        || build_range(0..split, capacity(0..hop_count)),
        || build_range(split..hop_count, capacity(split..hop_count)),
    );
    let mut steps = first?;
    steps.append(second?);
    Ok(OfflineSteps { steps, in_hop })
}

/// The services taking part in each hop, in service order: those that exist at its end,
/// and those with migrations in it.
fn taking_part(catalog: &Catalog, layout: &Layout) -> Vec<Vec<ServiceId>> {
    (0..layout.hops.len())
        .map(|index| {
            let hop = layout.hop(index);
            let mut has_migrations = vec![false; catalog.services().len()];
            for &migration in hop.migrations {
                has_migrations[catalog.migration(migration).service.index()] = true;
            }
            layout
                .service_order
                .iter()
                .copied()
                .filter(|&s| catalog.service(s).exists_at(hop.end) || has_migrations[s.index()])
                .collect()
        })
        .collect()
}

/// The hop where the second half of the plan starts: the first after half the migrations
/// (every hop in the first half when there is only one).
fn split_hop(layout: &Layout) -> usize {
    let hop_count = layout.hops.len();
    if hop_count < 2 {
        return hop_count;
    }
    let total = layout.migration_count();
    let mut seen = 0;
    layout
        .migrations
        .iter()
        .position(|migrations| {
            seen += migrations.len();
            seen * 2 >= total
        })
        .map_or(hop_count / 2, |index| index + 1)
        .clamp(1, hop_count - 1)
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
    hosts: Option<&Fleet>,
    hops: usize,
    migrations: &[Vec<MigrationId>],
) -> Capacity {
    let migration_count: usize = migrations.iter().map(Vec::len).sum();
    let temporary: usize = migrations
        .iter()
        .flatten()
        .map(|&id| 2 * catalog.migration(id).needs_running.len())
        .sum();
    let per_hop =
        4 * catalog.services().len() + catalog.config_changes().len() + catalog.tasks().len();
    let instances = hosts.map_or(catalog.components().len(), |fleet| fleet.placements.len());
    let others = temporary + hops * per_hop + 4 * instances + 3 * catalog.services().len() + 64;
    Capacity {
        built: if hosts.is_some() {
            others + migration_count
        } else {
            others
        },
        slots: others + migration_count,
    }
}

struct Builder<'a> {
    catalog: &'a Catalog,
    layout: &'a Layout,
    policy: &'a Policy,
    /// The policy's backup command, its directory filled in once.
    backups: BackupCommands,
    /// The hosts, when planning from an inventory.
    hosts: Option<&'a Fleet>,
    tasks: Tasks<'a>,
    steps: StepList,
    /// Components started temporarily for a migration and still running.
    running: Vec<bool>,
    /// The phase the steps being added belong to.
    phase: Phase,
}

impl Builder<'_> {
    /// Every step of one hop, phase by phase (DESIGN §8): on the first, the checks on the
    /// running cloud, the starting release finished and the stops; then the backups,
    /// package sources, installs, configuration changes and migrations, each phase with its
    /// tasks; on the last, the starts and the converge phase.
    fn hop(
        &mut self,
        hop: HopLayout<'_>,
        taking_part: &[ServiceId],
        in_hop: &[bool],
    ) -> Result<()> {
        let catalog = self.catalog;
        let label = format!("{} -> {}", hop.hop.from, hop.hop.to);
        let ordered = order_migrations(catalog, taking_part, hop.migrations, &label)?;
        let tasks = self.tasks;
        if hop.index == 0 {
            tasks.add(&mut self.steps, &hop, TaskPhase::PrecheckStart, taking_part);
            self.phase = Phase::Prepare;
            self.starting_migrations(&hop, in_hop);
        }
        tasks.add(&mut self.steps, &hop, TaskPhase::Prepare, taking_part);
        self.phase = Phase::Stop;
        if hop.index == 0 {
            match self.hosts {
                Some(fleet) => self.stop_hosts(fleet),
                None => self.stop_everything(hop.start),
            }
        }
        tasks.add(&mut self.steps, &hop, TaskPhase::AfterStop, taking_part);
        self.phase = Phase::Backup;
        self.backups(&hop, taking_part);
        self.phase = Phase::Repos;
        self.repos(&hop);
        self.phase = Phase::Install;
        self.installs(&hop, taking_part);
        self.phase = Phase::Config;
        self.config_changes(&hop, taking_part);
        self.phase = Phase::Migrations;
        tasks.add(
            &mut self.steps,
            &hop,
            TaskPhase::BeforeMigrations,
            taking_part,
        );
        self.migrations(&hop, &ordered, in_hop);
        tasks.add(
            &mut self.steps,
            &hop,
            TaskPhase::AfterMigrations,
            taking_part,
        );
        if hop.last {
            self.phase = Phase::Start;
            tasks.add(&mut self.steps, &hop, TaskPhase::BeforeStart, taking_part);
            match self.hosts {
                Some(fleet) => self.start_hosts(fleet, hop.index, hop.end),
                None => self.start_everything(hop.index, hop.end),
            }
            self.phase = Phase::Converge;
            self.converge(&hop, taking_part, in_hop);
        }
        Ok(())
    }

    /// Adds a built step of `kind` in hop `hop`, in the current phase.
    fn push(&mut self, hop: usize, kind: StepKind, id: String, reason: String) -> &mut Step {
        let phase = self.phase;
        self.steps
            .add(Step::new(id, hop, kind, reason).in_phase(phase))
    }

    /// Fills in what a stop or start of `component` carries besides its name: the service
    /// manager's unit and the tool's own facts.
    fn component_fields(&mut self, component: ComponentId) {
        let catalog = self.catalog;
        let data = catalog.component(component);
        let x = extras(&catalog.service(data.service).x, &data.x);
        if let Some(step) = self.steps.built.last_mut() {
            step.unit.clone_from(&data.unit);
            step.x = x;
        }
    }

    /// Hop 0's `prepare` phase: the blocking data migrations of every service's current
    /// release, run with the code already installed before anything stops (V12).
    fn starting_migrations(&mut self, hop: &HopLayout<'_>, in_hop: &[bool]) {
        let (catalog, layout) = (self.catalog, self.layout);
        for &id in &layout.starting {
            let migration = catalog.migration(id);
            // Everything still runs; a component the migration needs that no host runs
            // is started for it (at the release whose code is there) and stopped again.
            let absent: Vec<ComponentId> = migration
                .needs_running
                .iter()
                .copied()
                .filter(|&component| self.hosts.is_some_and(|fleet| !fleet.runs(component)))
                .collect();
            for &component in &absent {
                self.temporary(0, StepKind::Start, component, migration.release, migration);
            }
            self.migration(hop, id, in_hop, Stage::Starting);
            for &component in &absent {
                self.temporary(0, StepKind::Stop, component, migration.release, migration);
            }
        }
    }

    /// The step of migration `id` at `stage` of `hop`: a slot without an inventory; with
    /// one, built, on the service's bootstrap host.
    fn migration(&mut self, hop: &HopLayout<'_>, id: MigrationId, in_hop: &[bool], stage: Stage) {
        let catalog = self.catalog;
        if self.hosts.is_none() {
            self.steps.migration(hop.index, id, stage);
        } else {
            let migration = catalog.migration(id);
            let place = self.layout.place(catalog, hop, in_hop).at(stage);
            let mut step = migration_step(&place, migration);
            step.host = self.bootstrap_name(migration.service);
            self.steps.add(step);
        }
    }

    /// The `repos` phase, when the policy has a repository command: the hop's release on
    /// the bootstrap hosts, or on every host for the target (TripleO's `tripleo-repos`,
    /// switched per release of a fast-forward upgrade).
    fn repos(&mut self, hop: &HopLayout<'_>) {
        let Some(command) = self.policy.repo_command_for(&hop.hop.to) else {
            return;
        };
        let release = hop.hop.to.clone();
        let hosts: Vec<Option<String>> = match self.hosts {
            None => vec![None],
            Some(fleet) => repo_hosts(self.catalog, fleet, self.layout, hop.last),
        };
        for host in hosts {
            let (id, reason) = match &host {
                Some(host) => (
                    format!("h{}.repos@{host}", hop.index),
                    format!("switch {host}'s package sources to {release} before its installs"),
                ),
                None => (
                    format!("h{}.repos", hop.index),
                    format!("switch the package sources to {release} before the hop's installs"),
                ),
            };
            let step = self.push(hop.index, StepKind::Repos, id, reason);
            step.release = Some(release.clone());
            step.command = Some(command.clone());
            step.host = host;
        }
    }

    /// The converge phase of the last hop: the target's data migrations (they block nothing
    /// now, so the control plane came back before them), the converge tasks, the temporary
    /// settings removed, then the post-checks.
    fn converge(&mut self, hop: &HopLayout<'_>, taking_part: &[ServiceId], in_hop: &[bool]) {
        let (catalog, layout) = (self.catalog, self.layout);
        for &service in taking_part {
            for &id in &layout.converge {
                if catalog.migration(id).service == service {
                    self.migration(hop, id, in_hop, Stage::Converge);
                }
            }
        }
        let tasks = self.tasks;
        tasks.add(&mut self.steps, hop, TaskPhase::Converge, taking_part);
        tasks.undo_temporary(&mut self.steps, hop, taking_part);
        self.postchecks(hop.index, hop.end);
    }

    /// Every service's post-check at the target, on its bootstrap host when planning hosts.
    fn postchecks(&mut self, hop: usize, to: ReleaseId) {
        let (catalog, layout) = (self.catalog, self.layout);
        let release = self.release_name(to).to_owned();
        for &service in &layout.service_order {
            let data = catalog.service(service);
            if !data.exists_at(to) || !catalog.upgrades_service(service) {
                continue;
            }
            let name = &data.name;
            let host = self.bootstrap_name(service);
            let reason = format!("confirm every {name} component runs {release} and reports up");
            let step = self.push(
                hop,
                StepKind::Postcheck,
                format!("h{hop}.postcheck.{name}"),
                reason,
            );
            step.service = Some(name.clone());
            step.release = Some(release.clone());
            step.host = host;
        }
    }

    /// A step on one host: id `h{hop}.{kind}.{subject}@{host}`, with its service, release
    /// and, for starts and stops, its component (`subject`).
    #[allow(
        clippy::too_many_arguments,
        reason = "the fields of the step, each named at the call"
    )]
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
        step.disable = kind == StepKind::Stop;
        step.enable = kind == StepKind::Start;
        if kind != StepKind::Install {
            step.component = Some(subject.to_owned());
            if let Some(component) = self.catalog.component_id(subject) {
                self.component_fields(component);
            }
        }
    }

    /// The name of the service's bootstrap host, when planning hosts.
    fn bootstrap_name(&self, service: ServiceId) -> Option<String> {
        self.hosts?.bootstrap_name(service)
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

    /// Hop 0 without an inventory: every agent and control component stopped, consumers
    /// first.
    fn stop_everything(&mut self, from: ReleaseId) {
        let (catalog, layout) = (self.catalog, self.layout);
        for &service in layout.service_order.iter().rev() {
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
                    let reason = format!("{reason}; disabled too, so that a reboot cannot start old code on a newer schema (TripleO stops and disables)");
                    let step = self.push(0, StepKind::Stop, format!("h0.stop.{name}"), reason);
                    step.service = Some(service_name.clone());
                    step.component = Some(name.clone());
                    step.release = Some(release);
                    step.disable = true;
                    self.component_fields(component);
                }
            }
        }
    }

    /// A backup of every service about to run a contract or irreversible migration: the
    /// rollback point of the hop.
    fn backups(&mut self, hop_layout: &HopLayout<'_>, services: &[ServiceId]) {
        let catalog = self.catalog;
        let (hop, start, end) = (hop_layout.index, hop_layout.start, hop_layout.end);
        let mut needs = vec![false; catalog.services().len()];
        // The target's data migrations run later, in converge, but still under this hop's
        // rollback point.
        let converge: &[MigrationId] = if hop_layout.last {
            &self.layout.converge
        } else {
            &[]
        };
        for &migration in hop_layout.migrations.iter().chain(converge) {
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
            let databases = data.databases_at(start);
            let command =
                (!databases.is_empty()).then(|| self.backups.command(&databases, name, &before));
            let databases: Vec<String> = databases.into_iter().map(str::to_owned).collect();
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
            step.databases = (!databases.is_empty()).then_some(databases);
            step.x = extras(&data.x, &crate::extras::Extras::new());
        }
    }

    /// The hop's release of every service taking part: on the last hop, the target.
    fn installs(&mut self, hop_layout: &HopLayout<'_>, services: &[ServiceId]) {
        let catalog = self.catalog;
        let (hop, end, last) = (hop_layout.index, hop_layout.end, hop_layout.last);
        for &service in services {
            let data = catalog.service(service);
            if !data.exists_at(end) || !catalog.upgrades_service(service) {
                continue;
            }
            let name = &data.name;
            let release = self.release_name(end).to_owned();
            let version_number = data.versions[end.index()].as_ref().map(ToString::to_string);
            let version = version_number
                .as_ref()
                .map_or_else(String::new, |version| format!(" {version}"));
            let x = extras(&data.x, &crate::extras::Extras::new());
            let reason = if last {
                format!("install {name}{version} ({release}), the target release, on every host")
            } else {
                format!("install {name}{version} ({release}) code to run its migrations; it is not started at this release")
            };
            match self.hosts {
                // On the last hop, every control host (and the bootstrap host) gets the
                // target release now; agent hosts get it in their batches at the end.
                Some(fleet) if last => {
                    for host in fleet.early_install_hosts(catalog, service) {
                        let host_name = fleet.host_name(host).to_owned();
                        let step = self.push(
                            hop,
                            StepKind::Install,
                            format!("h{hop}.install.{name}@{host_name}"),
                            format!("install {name}{version} ({release}), the target release, on {host_name}"),
                        );
                        step.service = Some(name.clone());
                        step.release = Some(release.clone());
                        step.host = Some(host_name);
                        step.version.clone_from(&version_number);
                        step.x.clone_from(&x);
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
                    step.version = version_number;
                    step.x = x;
                }
            }
        }
    }

    /// The configuration changes of the releases the hop passes through.
    fn config_changes(&mut self, hop_layout: &HopLayout<'_>, services: &[ServiceId]) {
        let catalog = self.catalog;
        let (hop, start, end) = (hop_layout.index, hop_layout.start, hop_layout.end);
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
            let file = change
                .file
                .clone()
                .unwrap_or_else(|| catalog.default_config_file(change.service));
            step.config = Some(crate::catalog::edit_of_change(change, file));
            count += 1;
        }
    }

    /// The hop's migrations in their safe order, each component a migration needs running
    /// started just before it and stopped once the next one no longer needs it.
    fn migrations(&mut self, hop: &HopLayout<'_>, ordered: &[MigrationId], in_hop: &[bool]) {
        let catalog = self.catalog;
        let (hop_index, end) = (hop.index, hop.end);
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
            self.migration(hop, id, in_hop, Stage::Hop);
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
        self.component_fields(component);
    }

    /// Hop 0 with an inventory: every agent and control instance stopped, host by host,
    /// consumers first.
    fn stop_hosts(&mut self, fleet: &Fleet) {
        let (catalog, layout) = (self.catalog, self.layout);
        for &service in layout.service_order.iter().rev() {
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
                    let host_name = fleet.host_name(host).to_owned();
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
    fn start_hosts(&mut self, fleet: &Fleet, hop: usize, to: ReleaseId) {
        let (catalog, layout) = (self.catalog, self.layout);
        let release = self.release_name(to).to_owned();
        for &service in &layout.service_order {
            let data = catalog.service(service);
            if !data.exists_at(to) {
                continue;
            }
            let name = &data.name;
            self.precheck(hop, service, to);
            for index in restart_ordered(catalog, fleet, service, to) {
                self.start_instance(fleet, hop, index, to, |component, host| {
                    format!("start {component} ({name} control plane) on {host} at the target release {release}")
                });
            }
            self.start_agent_batches(fleet, hop, service, to);
        }
    }

    /// The service's agents at `to`, in batches of `max_unavailable` hosts (hosts in
    /// inventory order): each host of a batch gets the code, then its agents start.
    fn start_agent_batches(
        &mut self,
        fleet: &Fleet,
        hop: usize,
        service: ServiceId,
        to: ReleaseId,
    ) {
        let catalog = self.catalog;
        let name = &catalog.service(service).name;
        let release = self.release_name(to).to_owned();
        let hosts = fleet.group_by_host(&placements_at(catalog, fleet, service, Role::Agent, to));
        // A host that also runs one of the service's control components (a network node
        // with neutron-server and its agents, an all-in-one), or where its migrations ran,
        // got the target code before the migrations: one install per host and release.
        let installed = fleet.early_install_hosts(catalog, service);
        let version = catalog.service(service).versions[to.index()]
            .as_ref()
            .map(ToString::to_string);
        let shown_version = version
            .as_ref()
            .map_or_else(String::new, |version| format!(" {version}"));
        let batch = fleet.max_unavailable.batch(hosts.len());
        for (number, chunk) in hosts.chunks(batch).enumerate() {
            for group in chunk {
                let Some(host) = fleet.placements[group[0]].host else {
                    continue;
                };
                if installed.contains(&host) {
                    continue;
                }
                let host_name = fleet.host_name(host).to_owned();
                let reason = format!(
                    "install {name}{shown_version} ({release}) on agent host {host_name}, batch {}",
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
                self.mark_batch(number + 1);
                if let Some(step) = self.steps.built.last_mut() {
                    step.version.clone_from(&version);
                }
            }
            for &index in chunk.iter().flatten() {
                self.start_instance(fleet, hop, index, to, |component, host| {
                    format!(
                        "start {component} ({name} agent) on {host} at {release}, batch {}",
                        number + 1
                    )
                });
                self.mark_batch(number + 1);
            }
        }
    }

    /// Starts instance `index` of the fleet at `release`, with the reason `reason` gives
    /// for the component's and the host's names.
    fn start_instance(
        &mut self,
        fleet: &Fleet,
        hop: usize,
        index: usize,
        release: ReleaseId,
        reason: impl Fn(&str, &str) -> String,
    ) {
        let catalog = self.catalog;
        let placement = &fleet.placements[index];
        let component = catalog.component(placement.component);
        let host_name = placement
            .host
            .map(|h| fleet.host_name(h).to_owned())
            .unwrap_or_default();
        let reason = reason(&component.name, &host_name);
        let release = self.release_name(release).to_owned();
        let service = &catalog.service(component.service).name;
        self.on_host(
            hop,
            StepKind::Start,
            &component.name,
            host_name,
            service,
            release,
            reason,
        );
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
        step.release = Some(release.clone());
        step.command = Some(check.to_owned());
        step.host = host;
        step.code = Some(CodeSide::Target);
        step.code_release = Some(release);
    }

    /// Marks the last step added as one of agent batch `number` (from 1).
    fn mark_batch(&mut self, number: usize) {
        if let Some(step) = self.steps.built.last_mut() {
            step.batch = Some(number);
        }
    }

    /// The last hop without an inventory: per service in service order, its readiness
    /// check, its control components (in `restart_order`), then its agents (the post-checks
    /// come in converge).
    fn start_everything(&mut self, hop: usize, to: ReleaseId) {
        let (catalog, layout) = (self.catalog, self.layout);
        let release = self.release_name(to).to_owned();
        for &service in &layout.service_order {
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
                let mut components = self.components(service, role, to);
                if role == Role::Control {
                    sort_by_restart_order(&data.restart_order, &mut components);
                }
                for component in components {
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
                    step.enable = true;
                    self.component_fields(component);
                }
            }
        }
    }
}

/// The hosts whose package sources a hop switches, in inventory order: every host of the
/// fleet on the last hop (all of them get the target), else the bootstrap hosts, where
/// the intermediate releases' migrations run (TripleO: `ffu_packages_apply` on the
/// bootstrap node only).
fn repo_hosts(
    catalog: &Catalog,
    fleet: &Fleet,
    layout: &Layout,
    last: bool,
) -> Vec<Option<String>> {
    let mut hosts: Vec<u32> = if last {
        fleet
            .placements
            .iter()
            .filter_map(|placement| placement.host)
            .collect()
    } else {
        layout
            .service_order
            .iter()
            .filter_map(|&service| fleet.bootstrap(service))
            .collect()
    };
    let _ = catalog;
    hosts.sort_unstable();
    hosts.dedup();
    hosts
        .into_iter()
        .map(|host| Some(fleet.host_name(host).to_owned()))
        .collect()
}

/// The fleet's control instances of `service` at `release`, in inventory order, each
/// host's in the service's restart order.
fn restart_ordered(
    catalog: &Catalog,
    fleet: &Fleet,
    service: ServiceId,
    release: ReleaseId,
) -> Vec<usize> {
    let mut indices = placements_at(catalog, fleet, service, Role::Control, release);
    fleet.sort_in_restart_order(catalog, service, &mut indices);
    indices
}

/// The indices of the fleet's instances of `service`'s components with `role` that exist
/// at `release`, in inventory order.
fn placements_at(
    catalog: &Catalog,
    fleet: &Fleet,
    service: ServiceId,
    role: Role,
    release: ReleaseId,
) -> Vec<usize> {
    (0..fleet.placements.len())
        .filter(|&index| {
            let component = catalog.component(fleet.placements[index].component);
            component.service == service && component.role == role && component.exists_at(release)
        })
        .collect()
}
