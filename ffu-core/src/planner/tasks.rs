//! The steps of catalog tasks (DESIGN §8): which tasks a hop runs in a phase, the steps they
//! make (once on the service's bootstrap host, or on every host of the service), the
//! removal of temporary settings in converge, and the check that every task's requirement
//! runs before it. Shared by the offline and rolling builders.

use rustc_hash::FxHashMap as HashMap;

use crate::catalog::Catalog;
use crate::error::{NoPlan, Result};
use crate::plan::{CodeSide, Mode, Phase, Step, StepKind};
use crate::service::ServiceId;
use crate::task::{Requirement, Task, TaskHosts, TaskId, TaskPhase};

use super::fleet::Fleet;
use super::layout::{HopLayout, Layout};
use super::outline::{Slot, StepList};

/// What places task steps: the plan's layout, its hosts and its mode.
#[derive(Clone, Copy)]
pub(super) struct Tasks<'a> {
    pub(super) catalog: &'a Catalog,
    pub(super) layout: &'a Layout,
    pub(super) hosts: Option<&'a Fleet>,
    pub(super) mode: Mode,
}

impl Tasks<'_> {
    /// Whether `task` runs in `hop`: never when its service does not exist at the hop's
    /// end; a task of a once-per-plan phase on hop 0 (`precheck_start`) or the last hop, if
    /// its release lies in the whole plan; any other in the hop whose releases hold its
    /// release (or whose end lies in its range).
    fn runs_in(&self, task: &Task, hop: &HopLayout<'_>) -> bool {
        // A service that does not exist at the hop's end has nothing for its tasks to act
        // on (a precheck of a service that arrives later, say); the placing and the
        // requirements (and the removal of a temporary setting) must agree on that.
        if !self.catalog.service(task.service).exists_at(hop.end) {
            return false;
        }
        if task.phase.once_per_plan() {
            // Checks on the running cloud come before hop 0; the converge after the last
            // hop; the settings before the first start, which offline is on the last hop
            // and rolling on the first (they stay until converge).
            let here = match task.phase {
                TaskPhase::PrecheckStart => hop.index == 0,
                TaskPhase::BeforeStart if self.mode == Mode::Rolling => hop.index == 0,
                _ => hop.last,
            };
            here && task.runs_in(self.layout.from(), self.layout.to(), self.mode)
        } else {
            task.runs_in(hop.start, hop.end, self.mode)
        }
    }

    /// The tasks of `services` (in their order; each one's tasks in catalog order) that
    /// run in `phase` of `hop`.
    pub(super) fn of_phase(
        &self,
        hop: &HopLayout<'_>,
        phase: TaskPhase,
        services: &[ServiceId],
    ) -> Vec<TaskId> {
        let catalog = self.catalog;
        if catalog.tasks().is_empty() {
            return Vec::new();
        }
        let mut found = Vec::new();
        for &service in services {
            for (index, task) in catalog.tasks().iter().enumerate() {
                if task.service == service && task.phase == phase && self.runs_in(task, hop) {
                    found.push(TaskId(index as u32));
                }
            }
        }
        found
    }

    /// Adds the steps of the `services`' tasks of `phase` in `hop`.
    pub(super) fn add(
        &self,
        steps: &mut StepList,
        hop: &HopLayout<'_>,
        phase: TaskPhase,
        services: &[ServiceId],
    ) {
        for task in self.of_phase(hop, phase, services) {
            self.add_task(steps, hop, task);
        }
    }

    /// The steps of one task: one, or one per host of its service for `on: all` with an
    /// inventory (made once and copied per host: a fleet of computes has thousands).
    pub(super) fn add_task(&self, steps: &mut StepList, hop: &HopLayout<'_>, id: TaskId) {
        let task = self.catalog.task(id);
        match (self.hosts, task.on) {
            (None, _) => {
                steps.add(self.task_step(hop, task, None));
            }
            (Some(fleet), TaskHosts::Bootstrap) => {
                let host = fleet.bootstrap_name(task.service);
                steps.add(self.task_step(hop, task, host.as_deref()));
            }
            (Some(fleet), TaskHosts::All) => {
                let template = self.task_step(hop, task, None);
                for host in service_hosts(fleet, task.service) {
                    let mut step = template.clone();
                    step.id = format!("{}@{host}", template.id);
                    step.host = Some(host.to_owned());
                    steps.add(step);
                }
            }
        }
    }

    /// The step of `task` in `hop`, on `host` when one is given (the bootstrap host).
    fn task_step(&self, hop: &HopLayout<'_>, task: &Task, host: Option<&str>) -> Step {
        let catalog = self.catalog;
        let service = catalog.service(task.service);
        let code_release = match task.code {
            CodeSide::Current => &catalog.release(hop.start).name,
            CodeSide::Target => &hop.hop.to,
        };
        let release = task
            .release
            .map_or(code_release, |release| &catalog.release(release).name);
        let kind = if task.config.is_some() {
            StepKind::Config
        } else {
            StepKind::Task
        };
        let what = task
            .config
            .as_ref()
            .map_or_else(String::new, |edit| format!("{}: ", edit.describe()));
        let reason = format!(
            "{what}{} ({} task, {} phase, {} code)",
            task.reason,
            service.name,
            task.phase.as_str(),
            task.code.as_str()
        );
        // A step per host of `on: all` gets `@host` appended by `add_task`.
        let id = format!("h{}.task.{}", hop.index, task.id);
        let mut step = Step::new(id, hop.index, kind, reason).in_phase(task.phase.plan_phase());
        step.service = Some(service.name.clone());
        step.release = Some(release.clone());
        step.command.clone_from(&task.command);
        step.task = Some(task.id.clone());
        step.code = Some(task.code);
        step.code_release = Some(code_release.clone());
        step.config.clone_from(&task.config);
        step.estimate_s = Some(crate::estimate::task_estimate(task, kind));
        step.requires = self.requirement_ids(hop, task);
        step.host = host.map(str::to_owned);
        step.x = extras(&service.x, &task.x);
        step
    }

    /// The ids of the steps `task` requires that this plan has: a migration's step, or a
    /// task's (in the hop that runs it; on every host for `on: all`).
    fn requirement_ids(&self, hop: &HopLayout<'_>, task: &Task) -> Vec<String> {
        let (catalog, layout) = (self.catalog, self.layout);
        let mut ids = Vec::new();
        for requirement in &task.requires {
            match *requirement {
                Requirement::Migration(id) => {
                    let migration = catalog.migration(id);
                    if let Some(hop) = layout.hop_of_migration[id.index()] {
                        ids.push(format!("h{hop}.{}", migration.id));
                    } else if layout.starting.contains(&id) {
                        ids.push(format!("h0.{}", migration.id));
                    }
                }
                Requirement::Task(id) => {
                    let required = catalog.task(id);
                    let Some(index) = self.hop_running(required, hop) else {
                        continue;
                    };
                    let prefix = format!("h{index}.task.{}", required.id);
                    match (self.hosts, required.on) {
                        (Some(fleet), TaskHosts::All) => ids.extend(
                            service_hosts(fleet, required.service)
                                .map(|host| format!("{prefix}@{host}")),
                        ),
                        _ => ids.push(prefix),
                    }
                }
            }
        }
        ids
    }

    /// The hop that runs `task`, as seen from a task of `hop` that requires it: the hop of
    /// its release, its once-per-plan hop, or else `hop` itself (a per-hop task).
    fn hop_running(&self, task: &Task, hop: &HopLayout<'_>) -> Option<usize> {
        let layout = self.layout;
        let hops = layout.hops.len();
        let found = (0..hops).find(|&index| self.runs_in(task, &layout.hop(index)));
        match (task.release, task.phase.once_per_plan()) {
            (None, false) => self.runs_in(task, hop).then_some(hop.index),
            _ => found,
        }
    }

    /// In converge: the temporary settings the plan's tasks made, removed again (a tool
    /// reloads the service's components to drop them).
    pub(super) fn undo_temporary(
        &self,
        steps: &mut StepList,
        hop: &HopLayout<'_>,
        services: &[ServiceId],
    ) {
        let catalog = self.catalog;
        for &service in services {
            for task in catalog.tasks() {
                if task.service != service || !task.is_temporary() {
                    continue;
                }
                let Some(made_in) = self.hop_running(task, hop) else {
                    continue;
                };
                let Some(edit) = &task.config else {
                    continue;
                };
                let name = &catalog.service(service).name;
                let reason = format!(
                    "converge: remove the temporary setting of task {} ({}); then reload {name}'s services so that they drop it",
                    task.id,
                    edit.describe()
                );
                // Removed where it was set: on every host of the service for `on: all`.
                let hosts: Vec<(Option<String>, String)> = match (self.hosts, task.on) {
                    (Some(fleet), TaskHosts::All) => service_hosts(fleet, service)
                        .map(|host| (Some(host.to_owned()), format!("@{host}")))
                        .collect(),
                    (fleet, _) => vec![(
                        fleet.and_then(|fleet| fleet.bootstrap_name(service)),
                        String::new(),
                    )],
                };
                for (host, suffix) in hosts {
                    let id = format!("h{}.undo.{}{suffix}", hop.index, task.id);
                    let mut step = Step::new(id, hop.index, StepKind::Config, reason.clone())
                        .in_phase(Phase::Converge);
                    step.service = Some(name.clone());
                    step.release = Some(hop.hop.to.clone());
                    step.task = Some(task.id.clone());
                    step.config = Some(edit.undone());
                    step.requires = vec![format!("h{made_in}.task.{}{suffix}", task.id)];
                    step.host = host;
                    step.x = extras(&catalog.service(service).x, &task.x);
                    steps.add(step);
                }
            }
        }
    }
}

/// The `x-...` fields of a step two catalog items make together, or `None`.
pub(super) fn extras(
    base: &crate::extras::Extras,
    own: &crate::extras::Extras,
) -> Option<crate::extras::Extras> {
    if base.is_empty() && own.is_empty() {
        None
    } else {
        Some(crate::extras::merged(base, own))
    }
}

/// The names of the hosts that run a component of `service`, in inventory order.
fn service_hosts(fleet: &Fleet, service: ServiceId) -> impl Iterator<Item = &str> {
    fleet
        .service_hosts(service)
        .iter()
        .map(|&host| fleet.host_name(host))
}

/// Refuses a plan where a step runs before a step it requires (a requirement on a task,
/// or a task's, that the phases put later), naming both and where they run. Only tasks
/// bring requirements outside the planner's own order (the steps of tasks, and migrations
/// that require a task), so only theirs are checked, and only the steps they name are
/// located; a plan of a catalog without tasks is not scanned at all. `slot_step` gives a
/// migration slot's id, and the ids it requires when its migration requires a task.
pub(super) fn check_requirements(
    catalog: &Catalog,
    built: &[Step],
    slots: &[Slot],
    slot_step: impl Fn(&Slot) -> (String, Option<Vec<String>>),
) -> Result<()> {
    if catalog.tasks().is_empty() {
        return Ok(());
    }
    // The checked steps, with what they require; migration slots also get their id kept,
    // as it is made here (built steps have theirs).
    let mut required: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut migration_ids: Vec<(usize, String)> = Vec::new();
    for (index, slot) in slots.iter().enumerate() {
        match slot {
            Slot::Built(built_index) => {
                let step = &built[*built_index as usize];
                if step.task.is_some() && !step.requires.is_empty() {
                    required.push((index, step.id.clone(), step.requires.clone()));
                }
            }
            other @ Slot::Migration { .. } => {
                let (id, its_requirements) = slot_step(other);
                if let Some(its_requirements) = its_requirements {
                    required.push((index, id.clone(), its_requirements));
                }
                migration_ids.push((index, id));
            }
        }
    }
    let wanted: rustc_hash::FxHashSet<&str> = required
        .iter()
        .flat_map(|(_, _, requires)| requires.iter().map(String::as_str))
        .collect();
    let mut position: HashMap<&str, usize> = HashMap::default();
    for (index, slot) in slots.iter().enumerate() {
        if let Slot::Built(built_index) = slot {
            let id = built[*built_index as usize].id.as_str();
            if wanted.contains(id) {
                position.insert(id, index);
            }
        }
    }
    for (index, id) in &migration_ids {
        if wanted.contains(id.as_str()) {
            position.insert(id.as_str(), *index);
        }
    }
    let place = |index: usize| -> String {
        match &slots[index] {
            Slot::Built(built_index) => {
                let step = &built[*built_index as usize];
                let phase = step.phase.map_or("no", |phase| phase.as_str());
                format!("the {phase} phase of hop {}", step.hop)
            }
            Slot::Migration { hop, .. } => format!("the migrations of hop {hop}"),
        }
    };
    for (index, id, requires) in required {
        for requirement in requires {
            if let Some(&at) = position.get(requirement.as_str()) {
                if at > index {
                    return Err(NoPlan::RequirementLater {
                        step: id,
                        step_place: place(index),
                        requires: requirement,
                        requires_place: place(at),
                    }
                    .into());
                }
            }
        }
    }
    Ok(())
}
