//! How long a plan takes (DESIGN §10): every step's `estimate_s`, and [`Estimate`], the
//! plan's total time, the control plane's downtime per service, and the time per hop and
//! per phase.
//!
//! A step's figure is its catalog migration's or task's `duration_s` where the catalog
//! gives one, else the default of its kind from [`DEFAULTS`]. The defaults are guesses,
//! and every output that uses them says so.
//!
//! # The schedule
//! Steps run one after the other, in plan order, except the steps of one agent batch (a run
//! of consecutive steps of one hop and service with the same `batch`): their hosts work in
//! parallel, each host's steps one after the other, and the batch takes as long as its
//! slowest host.
//! Steps that run once on a bootstrap host (migrations, tasks with `on: bootstrap`) are one
//! step each in the plan, so they count once.
//!
//! # Downtime
//! A service's control plane is down while some `control` component of it has every
//! instance stopped (an instance per host the plan names for it; one without hosts). A
//! stop or start takes effect when it ends; during a batch the state is that before it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::migration::Migration;
use crate::plan::chain::Link;
use crate::plan::{Plan, Step, StepKind};
use crate::service::Role;
use crate::task::Task;

/// The default duration of a step of one kind, where the catalog gives none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KindDefault {
    /// The step kind.
    pub kind: StepKind,
    /// Seconds.
    pub seconds: u64,
    /// Where the figure comes from: `"default"` (a guess) or the source of a measurement.
    pub source: &'static str,
}

/// The per-kind defaults: the one place they are kept. Each is a guess (`"default"`)
/// unless `source` names a measurement. Real times depend on database size and hardware;
/// give `duration_s` in the catalog where a better figure is known.
pub const DEFAULTS: &[KindDefault] = &[
    KindDefault { kind: StepKind::Precheck, seconds: 60, source: "default" },
    KindDefault { kind: StepKind::Stop, seconds: 10, source: "default" },
    KindDefault { kind: StepKind::Backup, seconds: 600, source: "default" },
    KindDefault { kind: StepKind::Repos, seconds: 30, source: "default" },
    // research/real-openstack-on-this-machine.md: installing one service's release from
    // PyPI with its upper constraints took "about 1 to 3 minutes a release on a warm pip
    // cache" (a measurement on this project's test machine, not a packaged deployment).
    KindDefault {
        kind: StepKind::Install,
        seconds: 120,
        source: "measured: 1 to 3 min a release, pip install with a warm cache (research/real-openstack-on-this-machine.md)",
    },
    KindDefault { kind: StepKind::Config, seconds: 5, source: "default" },
    // The same research measured nova 2025.1's schema syncs on an empty SQLite database at
    // about 12 s together: a floor, not a figure for a populated database.
    KindDefault { kind: StepKind::Expand, seconds: 60, source: "default" },
    KindDefault { kind: StepKind::Migrate, seconds: 60, source: "default" },
    KindDefault { kind: StepKind::Contract, seconds: 60, source: "default" },
    KindDefault { kind: StepKind::Data, seconds: 300, source: "default" },
    KindDefault { kind: StepKind::Start, seconds: 15, source: "default" },
    KindDefault { kind: StepKind::Postcheck, seconds: 60, source: "default" },
    KindDefault { kind: StepKind::Finalize, seconds: 10, source: "default" },
    KindDefault { kind: StepKind::Task, seconds: 30, source: "default" },
    KindDefault { kind: StepKind::Restore, seconds: 900, source: "default" },
];

/// The default duration of a step of `kind`, in seconds.
pub fn default_seconds(kind: StepKind) -> u64 {
    DEFAULTS
        .iter()
        .find(|entry| entry.kind == kind)
        .map_or(60, |entry| entry.seconds)
}

/// Whole seconds of a catalog `duration_s` (validated finite and non-negative), rounded up.
fn seconds_of(duration: f64) -> u64 {
    // A validated duration is finite and non-negative; `as` saturates anything larger.
    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
    let seconds = duration.ceil() as u64;
    seconds
}

/// The estimate of a migration's step.
pub(crate) fn migration_estimate(migration: &Migration) -> u64 {
    migration.duration_s.map_or_else(
        || default_seconds(crate::planner::migration_step_kind(migration.kind)),
        seconds_of,
    )
}

/// The estimate of a task's step of `kind`.
pub(crate) fn task_estimate(task: &Task, kind: StepKind) -> u64 {
    task.duration_s
        .map_or_else(|| default_seconds(kind), seconds_of)
}

/// The catalog's figure for a stop or start of `step`'s component, if it gives one.
fn component_estimate(catalog: &Catalog, step: &Step) -> Option<u64> {
    if !matches!(step.kind, StepKind::Stop | StepKind::Start) {
        return None;
    }
    let id = catalog.component_id(step.component.as_deref()?)?;
    catalog.component(id).duration_s
}

/// Fills in `estimate_s` of every step that has none: a stop or start from its component's
/// `duration_s`, else the default of its kind.
pub(crate) fn fill_defaults(catalog: &Catalog, steps: &mut [Step]) {
    // Most catalogs give no component figures: then no step needs a look-up.
    let components = catalog.components().iter().any(|c| c.duration_s.is_some());
    for step in steps {
        if step.estimate_s.is_none() {
            let figure = if components {
                component_estimate(catalog, step)
            } else {
                None
            };
            step.estimate_s = Some(figure.unwrap_or_else(|| default_seconds(step.kind)));
        }
    }
}

/// Where a step's figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The catalog's `duration_s` of its migration or task.
    Catalog,
    /// The default of its kind.
    Default,
    /// The plan's own `estimate_s`, which is neither (a plan written by a tool).
    Plan,
}

/// The time of one hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HopEstimate {
    /// The hop's index.
    pub index: usize,
    /// Release upgraded from.
    pub from: String,
    /// Release upgraded to.
    pub to: String,
    /// Seconds the hop takes.
    pub estimate_s: u64,
    /// Seconds per phase of the hop, in phase order (`"none"` for steps without a phase).
    pub phases: Vec<PhaseEstimate>,
}

/// The time of one phase of a hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseEstimate {
    /// The phase's name.
    pub phase: String,
    /// Seconds.
    pub estimate_s: u64,
}

/// How many steps took their figure from where.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FigureSources {
    /// Steps whose figure is the catalog's `duration_s` (of their migration, task or
    /// component).
    pub catalog: usize,
    /// Steps whose figure is the default of their kind.
    pub default: usize,
    /// Steps whose figure the plan gives and is neither.
    pub plan: usize,
    /// The kinds whose defaults were used, with their figures and sources.
    pub defaults_used: Vec<KindDefault>,
}

/// How long a plan takes: [`estimate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// Seconds from the first step to the last.
    pub total_s: u64,
    /// Seconds during which some service's control plane is down.
    pub control_plane_downtime_s: u64,
    /// Per service (by name), seconds during which its control plane is down; services
    /// that are never down are left out.
    pub downtime_s: BTreeMap<String, u64>,
    /// Per hop, its time and its phases' times.
    pub hops: Vec<HopEstimate>,
    /// Where the figures come from.
    pub figures: FigureSources,
}

/// One unit of the schedule: a step, or a batch of steps that run in parallel.
struct Unit {
    /// The indices of its steps.
    steps: std::ops::Range<usize>,
    /// Seconds it takes.
    seconds: u64,
    /// Per step of the unit, whether it is on the slowest host (its time counts for the
    /// hop's phases).
    critical: Vec<bool>,
}

/// Where each unit of the schedule of `steps` ends (the index after its last step) and
/// how long it takes: for maintenance windows, which end only between units.
pub(crate) fn unit_ends(steps: &[Step]) -> Vec<(usize, u64)> {
    units(steps)
        .into_iter()
        .map(|unit| (unit.steps.end, unit.seconds))
        .collect()
}

/// The schedule of `steps`: sequential, except batches.
fn units(steps: &[Step]) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut index = 0;
    while index < steps.len() {
        let step = &steps[index];
        let mut end = index + 1;
        let link = Link::of(step);
        while end < steps.len() && link.same_run(&Link::of(&steps[end])) {
            end += 1;
        }
        if end == index + 1 {
            units.push(Unit {
                steps: index..end,
                seconds: step
                    .estimate_s
                    .unwrap_or_else(|| default_seconds(step.kind)),
                critical: vec![true],
            });
        } else {
            // Lanes per host, in order of first appearance.
            let mut lanes: Vec<(Option<&str>, u64)> = Vec::new();
            let mut lane_of = Vec::with_capacity(end - index);
            for step in &steps[index..end] {
                let host = step.host.as_deref();
                let lane = if let Some(lane) = lanes.iter().position(|(name, _)| *name == host) {
                    lane
                } else {
                    lanes.push((host, 0));
                    lanes.len() - 1
                };
                // Saturating: a hand-written plan may give any figure.
                lanes[lane].1 = lanes[lane].1.saturating_add(
                    step.estimate_s
                        .unwrap_or_else(|| default_seconds(step.kind)),
                );
                lane_of.push(lane);
            }
            let (slowest, seconds) =
                lanes
                    .iter()
                    .enumerate()
                    .fold((0, 0), |best, (lane, &(_, seconds))| {
                        if seconds > best.1 {
                            (lane, seconds)
                        } else {
                            best
                        }
                    });
            units.push(Unit {
                steps: index..end,
                seconds,
                critical: lane_of.iter().map(|&lane| lane == slowest).collect(),
            });
        }
        index = end;
    }
    units
}

/// Where `step`'s figure comes from, judged against `catalog`.
fn source_of(catalog: &Catalog, step: &Step) -> Source {
    let Some(figure) = step.estimate_s else {
        return Source::Default;
    };
    let from_catalog = if let Some(seconds) = component_estimate(catalog, step) {
        #[allow(clippy::cast_precision_loss)] // whole seconds, far below 2^52
        Some(seconds as f64)
    } else if let Some(id) = step.migration.as_deref() {
        catalog
            .migration_id(id)
            .and_then(|id| catalog.migration(id).duration_s)
    } else if let Some(id) = step.task.as_deref() {
        catalog
            .task_id(id)
            .and_then(|id| catalog.task(id).duration_s)
    } else {
        None
    };
    match from_catalog {
        Some(duration) if seconds_of(duration) == figure => Source::Catalog,
        _ if figure == default_seconds(step.kind) => Source::Default,
        _ => Source::Plan,
    }
}

/// Where the figures of `steps` come from.
fn figure_sources(catalog: &Catalog, steps: &[Step]) -> FigureSources {
    let mut figures = FigureSources::default();
    let mut used = [false; 16];
    for step in steps {
        match source_of(catalog, step) {
            Source::Catalog => figures.catalog += 1,
            Source::Plan => figures.plan += 1,
            Source::Default => {
                figures.default += 1;
                if let Some(at) = DEFAULTS.iter().position(|entry| entry.kind == step.kind) {
                    used[at] = true;
                }
            }
        }
    }
    figures.defaults_used = DEFAULTS
        .iter()
        .zip(used)
        .filter_map(|(entry, used)| used.then_some(*entry))
        .collect();
    figures
}

/// How long `plan` takes, by its steps' `estimate_s` (a step without one takes the default
/// of its kind); `catalog` tells figures from defaults and which components are `control`.
///
/// Invariants (tested): `total_s` is the sum of the hops' `estimate_s`, and each hop's is
/// the sum of its phases'; `total_s` is at most the sum of all steps' figures and at least
/// the largest one; no service's downtime exceeds `control_plane_downtime_s`, which does
/// not exceed `total_s`.
///
/// # Complexity
/// O(S·B) for S steps and B hosts in the largest batch.
///
/// # Example
/// ```
/// use ffu_core::{estimate::estimate, Catalog, Policy};
/// let catalog = Catalog::openstack();
/// let plan = catalog.plan("newton", "pike", &Policy::default()).unwrap();
/// let time = estimate(&plan, &catalog);
/// assert_eq!(time.total_s, time.hops.iter().map(|hop| hop.estimate_s).sum::<u64>());
/// ```
pub fn estimate(plan: &Plan, catalog: &Catalog) -> Estimate {
    walk(plan, catalog, None)
}

/// [`estimate`], also recording per unit of the schedule (in order) the services whose
/// control plane is down during it, sorted: the timeline shades them.
pub(crate) fn estimate_with_downtime(
    plan: &Plan,
    catalog: &Catalog,
) -> (Estimate, Vec<Vec<String>>) {
    let mut down = Vec::new();
    let estimate = walk(plan, catalog, Some(&mut down));
    (estimate, down)
}

/// The schedule of `plan`, with the downtime per unit recorded in `record` when given.
// One pass over the schedule whose state (stopped instances, hops' phases) the parts share.
#[allow(clippy::too_many_lines)]
fn walk(plan: &Plan, catalog: &Catalog, mut record: Option<&mut Vec<Vec<String>>>) -> Estimate {
    let steps = &plan.steps;
    let mut hops: Vec<HopEstimate> = plan
        .hops
        .iter()
        .enumerate()
        .map(|(index, hop)| HopEstimate {
            index,
            from: hop.from.clone(),
            to: hop.to.clone(),
            estimate_s: 0,
            phases: Vec::new(),
        })
        .collect();
    // Instances of each control component, and which are stopped.
    // Sets, not lists: a component of 10,000 compute hosts has 10,000 instances.
    let mut instances: FxHashMap<&str, FxHashSet<Option<&str>>> = FxHashMap::default();
    for step in steps {
        if let (StepKind::Stop | StepKind::Start, Some(component)) =
            (step.kind, step.component.as_deref())
        {
            instances
                .entry(component)
                .or_default()
                .insert(step.host.as_deref());
        }
    }
    let control = |component: &str| {
        catalog
            .component_id(component)
            .map(|id| catalog.component(id))
            .filter(|component| component.role == Role::Control)
            .map(|component| catalog.service(component.service).name.as_str())
    };
    let mut stopped: FxHashMap<&str, FxHashSet<Option<&str>>> = FxHashMap::default();
    let mut down_services: BTreeMap<String, u64> = BTreeMap::new();
    let mut control_plane_downtime_s = 0;
    let mut total_s = 0;
    let figures = figure_sources(catalog, steps);
    for unit in units(steps) {
        total_s = u64::saturating_add(total_s, unit.seconds);
        // Downtime during the unit: the state before it.
        let mut any_down = false;
        let mut down_now: Vec<&str> = Vec::new();
        for (component, hosts) in &stopped {
            if let Some(service) = control(component) {
                if hosts.len() >= instances.get(component).map_or(1, FxHashSet::len)
                    && !down_now.contains(&service)
                {
                    down_now.push(service);
                }
            }
        }
        if let Some(record) = record.as_deref_mut() {
            let mut names: Vec<String> = down_now.iter().map(|&name| name.to_owned()).collect();
            names.sort_unstable();
            record.push(names);
        }
        for service in down_now {
            any_down = true;
            let down = down_services.entry(service.to_owned()).or_default();
            *down = down.saturating_add(unit.seconds);
        }
        if any_down {
            control_plane_downtime_s = u64::saturating_add(control_plane_downtime_s, unit.seconds);
        }
        for (offset, index) in unit.steps.clone().enumerate() {
            let step = &steps[index];
            let seconds = step
                .estimate_s
                .unwrap_or_else(|| default_seconds(step.kind));
            if let Some(hop) = hops.get_mut(step.hop) {
                let share = if unit.critical[offset] { seconds } else { 0 };
                hop.estimate_s = hop.estimate_s.saturating_add(share);
                let phase = step.phase.map_or("none", |phase| phase.as_str());
                match hop.phases.iter_mut().find(|entry| entry.phase == phase) {
                    Some(entry) => entry.estimate_s = entry.estimate_s.saturating_add(share),
                    None => hop.phases.push(PhaseEstimate {
                        phase: phase.to_owned(),
                        estimate_s: share,
                    }),
                }
            }
            let (Some(component), kind) = (step.component.as_deref(), step.kind) else {
                continue;
            };
            let host = step.host.as_deref();
            let hosts = stopped.entry(component).or_default();
            match kind {
                StepKind::Stop => {
                    hosts.insert(host);
                }
                StepKind::Start => {
                    hosts.remove(&host);
                }
                _ => {}
            }
        }
    }
    // A step whose hop is out of range counted towards no hop; the total counts it, so the
    // hops sum to the total only for plans whose steps name their hops (every planned one).
    Estimate {
        total_s,
        control_plane_downtime_s,
        downtime_s: down_services,
        hops,
        figures,
    }
}

/// `seconds` for a person: `2h 05m`, `4m 10s`, `42s`.
pub fn human(seconds: u64) -> String {
    let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m {rest:02}s")
    } else {
        format!("{rest}s")
    }
}

impl Estimate {
    /// The estimate as JSON (deterministic: the same estimate gives the same bytes).
    pub fn to_json(&self) -> String {
        // Serializing plain data to a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The estimate for a person: the total, the downtime, each hop with its phases, and
    /// which figures are defaults.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "total: {} ({} s)", human(self.total_s), self.total_s);
        let _ = writeln!(
            out,
            "control plane down: {} ({} s)",
            human(self.control_plane_downtime_s),
            self.control_plane_downtime_s
        );
        if !self.downtime_s.is_empty() {
            out.push_str("downtime per service:\n");
            for (service, seconds) in &self.downtime_s {
                let _ = writeln!(out, "  {service}: {} ({seconds} s)", human(*seconds));
            }
        }
        out.push_str("per hop:\n");
        for hop in &self.hops {
            let _ = writeln!(
                out,
                "  hop {} {} -> {}: {} ({} s)",
                hop.index,
                hop.from,
                hop.to,
                human(hop.estimate_s),
                hop.estimate_s
            );
            for phase in &hop.phases {
                let _ = writeln!(
                    out,
                    "    {:<10} {} ({} s)",
                    phase.phase,
                    human(phase.estimate_s),
                    phase.estimate_s
                );
            }
        }
        let figures = &self.figures;
        let _ = writeln!(
            out,
            "figures: {} steps from the catalog's duration_s, {} from per-kind defaults, {} from the plan",
            figures.catalog, figures.default, figures.plan
        );
        for entry in &figures.defaults_used {
            let _ = writeln!(
                out,
                "  {:<9} {} s: {}",
                entry.kind.as_str(),
                entry.seconds,
                entry.source
            );
        }
        if figures.default > 0 {
            out.push_str(
                "figures marked \"default\" are guesses: give duration_s in the catalog for better ones\n",
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    #[test]
    fn every_kind_has_one_default() {
        for entry in DEFAULTS {
            assert_eq!(
                DEFAULTS
                    .iter()
                    .filter(|other| other.kind == entry.kind)
                    .count(),
                1
            );
        }
        assert_eq!(DEFAULTS.len(), 15);
    }

    #[test]
    fn offline_control_plane_is_down_most_of_the_time() {
        let catalog = Catalog::openstack();
        let plan = catalog
            .plan("newton", "queens", &Policy::default())
            .unwrap();
        assert!(plan.steps.iter().all(|step| step.estimate_s.is_some()));
        let time = estimate(&plan, &catalog);
        assert!(time.control_plane_downtime_s > 0);
        assert!(time.control_plane_downtime_s <= time.total_s);
        assert!(time.downtime_s.contains_key("nova"));
        let phases: u64 = time
            .hops
            .iter()
            .flat_map(|hop| &hop.phases)
            .map(|phase| phase.estimate_s)
            .sum();
        assert_eq!(phases, time.total_s);
    }
}
