//! Maintenance windows (DESIGN §10): a plan split into windows that each end at a safe
//! point, within a time limit and a number of hosts.
//!
//! A *safe point* is a place between two steps where the cloud serves: every instance
//! (component on a host) that the plan stops or starts runs, the control instances of each
//! service all run one release, and no agent batch is half done (the skew between agents
//! and control stays within `max_skew`, which V11 already holds at every step). The start
//! and the end of a plan are safe points. Windows are filled greedily: each takes as many
//! stretches between safe points as fit its limits. A stretch that alone does not fit (the
//! offline part of an FFU, which cannot be split) is [`NoFit`].

use std::collections::BTreeMap;
use std::fmt;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::estimate::{human, unit_ends};
use crate::plan::{Plan, Step, StepKind};
use crate::service::Role;
use crate::verify::Violation;

/// One maintenance window of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// From 0.
    pub index: usize,
    /// The id of its first step.
    pub first_step: String,
    /// The id of its last step (after which the cloud serves).
    pub last_step: String,
    /// Seconds it takes.
    pub estimate_s: u64,
    /// The state it ends in: `serving`, with each service's release.
    pub state: String,
    /// How many hosts its steps touch.
    #[serde(default)]
    pub hosts: usize,
}

/// The limits windows are cut to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimits {
    /// Seconds a window may take.
    pub limit_s: u64,
    /// Hosts a window may touch; `None`: any number.
    pub max_hosts: Option<usize>,
}

/// A stretch between two safe points that does not fit one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoFit {
    /// Its first step.
    pub first_step: String,
    /// Its last step.
    pub last_step: String,
    /// Seconds it needs.
    pub needs_s: u64,
    /// The limit.
    pub limit_s: u64,
    /// Hosts it touches, and the limit on them.
    pub hosts: (usize, Option<usize>),
    /// Its hops (`from -> to`) with their seconds, costliest first.
    pub hops: Vec<(String, u64)>,
    /// Its services with the seconds of their steps, costliest first.
    pub services: Vec<(String, u64)>,
}

impl fmt::Display for NoFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |items: &[(String, u64)]| {
            items
                .iter()
                .take(3)
                .map(|(name, seconds)| format!("{name} {}", human(*seconds)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.needs_s > self.limit_s {
            write!(
                f,
                "the stretch from {} to {} cannot be split (the cloud does not serve in between) and needs {} ({} s), more than the window of {} ({} s); costliest hops: {}; costliest services: {}",
                self.first_step,
                self.last_step,
                human(self.needs_s),
                self.needs_s,
                human(self.limit_s),
                self.limit_s,
                list(&self.hops),
                list(&self.services)
            )
        } else {
            write!(
                f,
                "the stretch from {} to {} cannot be split and touches {} hosts, more than {} a window",
                self.first_step,
                self.last_step,
                self.hosts.0,
                self.hosts.1.unwrap_or(0)
            )
        }
    }
}

/// Parses a duration: `4h`, `90m`, `1h30m`, `45s`, or whole seconds (`3600`).
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(seconds);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut any = false;
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            number.push(ch);
            continue;
        }
        let unit = match ch {
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let value: u64 = number.parse().ok()?;
        total = total.checked_add(value.checked_mul(unit)?)?;
        number.clear();
        any = true;
    }
    (any && number.is_empty()).then_some(total)
}

/// Where the cloud serves, between the steps of a plan.
struct Serving<'a> {
    /// Per instance: its service's index in `services`, whether it is a control instance,
    /// and the release it runs (`None`: stopped).
    instances: Vec<(usize, bool, Option<&'a str>)>,
    index: FxHashMap<(&'a str, Option<&'a str>), usize>,
    /// Per service: running control instances per release.
    releases: Vec<BTreeMap<&'a str, usize>>,
    services: Vec<&'a str>,
    stopped: usize,
    /// Services whose control instances run more than one release.
    mixed: usize,
}

impl<'a> Serving<'a> {
    fn new(plan: &'a Plan, catalog: &'a Catalog) -> Serving<'a> {
        let mut serving = Serving {
            instances: Vec::new(),
            index: FxHashMap::default(),
            releases: Vec::new(),
            services: Vec::new(),
            stopped: 0,
            mixed: 0,
        };
        let initial = plan.from.as_str();
        for step in &plan.steps {
            let (StepKind::Stop | StepKind::Start, Some(component)) =
                (step.kind, step.component.as_deref())
            else {
                continue;
            };
            let key = (component, step.host.as_deref());
            if serving.index.contains_key(&key) {
                continue;
            }
            let found = catalog
                .component_id(component)
                .map(|id| catalog.component(id));
            let control = found.is_some_and(|c| c.role == Role::Control);
            let service = found.map_or(component, |c| catalog.service(c.service).name.as_str());
            let service = if let Some(at) = serving.services.iter().position(|s| *s == service) {
                at
            } else {
                serving.services.push(service);
                serving.releases.push(BTreeMap::new());
                serving.services.len() - 1
            };
            serving.index.insert(key, serving.instances.len());
            serving.instances.push((service, control, Some(initial)));
            if control {
                *serving.releases[service].entry(initial).or_default() += 1;
            }
        }
        serving
    }

    fn set(&mut self, step: &'a Step, hop_to: &'a str) {
        let running = match step.kind {
            StepKind::Stop => None,
            StepKind::Start => Some(step.release.as_deref().unwrap_or(hop_to)),
            _ => return,
        };
        let Some(component) = step.component.as_deref() else {
            return;
        };
        let Some(&at) = self.index.get(&(component, step.host.as_deref())) else {
            return;
        };
        let (service, control, before) = self.instances[at];
        if before == running {
            return;
        }
        match (before, running) {
            (Some(_), None) => self.stopped += 1,
            (None, Some(_)) => self.stopped -= 1,
            _ => {}
        }
        if control {
            let releases = &mut self.releases[service];
            let was_mixed = releases.len() > 1;
            if let Some(before) = before {
                if let Some(count) = releases.get_mut(before) {
                    *count -= 1;
                    if *count == 0 {
                        releases.remove(before);
                    }
                }
            }
            if let Some(now) = running {
                *releases.entry(now).or_default() += 1;
            }
            let is_mixed = releases.len() > 1;
            match (was_mixed, is_mixed) {
                (false, true) => self.mixed += 1,
                (true, false) => self.mixed -= 1,
                _ => {}
            }
        }
        self.instances[at].2 = running;
    }

    fn serves(&self) -> bool {
        self.stopped == 0 && self.mixed == 0
    }

    fn state(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for (service, releases) in self.services.iter().zip(&self.releases) {
            if let Some(release) = releases.keys().next() {
                parts.push(format!("{service} {release}"));
            }
        }
        format!("serving: {}", parts.join(", "))
    }
}

/// The safe points of `plan`: per unit end (index after its last step, in order), whether
/// the cloud serves there, its time, and the state there.
fn safe_points(plan: &Plan, catalog: &Catalog) -> Vec<(usize, u64, Option<String>)> {
    let mut serving = Serving::new(plan, catalog);
    let mut points = Vec::new();
    let mut at = 0;
    for (end, seconds) in unit_ends(&plan.steps) {
        for step in &plan.steps[at..end] {
            let hop_to = plan.hops.get(step.hop).map_or(plan.to.as_str(), |h| &h.to);
            serving.set(step, hop_to);
        }
        at = end;
        let state = (serving.serves() || end == plan.steps.len()).then(|| serving.state());
        points.push((end, seconds, state));
    }
    points
}

/// The windows of `plan` within `limits`.
///
/// # Errors
/// [`NoFit`] for the first stretch between safe points that alone exceeds a limit.
///
/// # Complexity
/// O(S) for S steps, plus the distinct hosts of each window.
pub fn split(
    plan: &Plan,
    catalog: &Catalog,
    limits: WindowLimits,
) -> Result<Vec<Window>, Box<NoFit>> {
    let steps = &plan.steps;
    let mut windows = Vec::new();
    let (mut window_first, mut window_time) = (0usize, 0u64);
    let mut window_hosts: FxHashSet<&str> = FxHashSet::default();
    let (mut stretch_start, mut stretch_s) = (0usize, 0u64);
    let mut last_state = String::new();
    let close =
        |windows: &mut Vec<Window>, start: usize, end: usize, seconds, hosts, state: &str| {
            windows.push(Window {
                index: windows.len(),
                first_step: steps[start].id.clone(),
                last_step: steps[end - 1].id.clone(),
                estimate_s: seconds,
                state: state.to_owned(),
                hosts,
            });
        };
    for (end, seconds, state) in safe_points(plan, catalog) {
        stretch_s = stretch_s.saturating_add(seconds);
        let Some(state) = state else {
            continue;
        };
        // A stretch from one safe point to the next.
        let stretch: FxHashSet<&str> = steps[stretch_start..end]
            .iter()
            .filter_map(|s| s.host.as_deref())
            .collect();
        let too_many = |count: usize| limits.max_hosts.is_some_and(|max| count > max);
        if stretch_s > limits.limit_s || too_many(stretch.len()) {
            return Err(Box::new(no_fit(
                plan,
                stretch_start,
                end,
                stretch_s,
                stretch.len(),
                limits,
            )));
        }
        let union = window_hosts.len()
            + stretch
                .iter()
                .filter(|h| !window_hosts.contains(*h))
                .count();
        if window_first < stretch_start
            && (window_time.saturating_add(stretch_s) > limits.limit_s || too_many(union))
        {
            close(
                &mut windows,
                window_first,
                stretch_start,
                window_time,
                window_hosts.len(),
                &last_state,
            );
            window_first = stretch_start;
            window_time = 0;
            window_hosts.clear();
        }
        window_time = window_time.saturating_add(stretch_s);
        window_hosts.extend(stretch);
        last_state = state;
        stretch_start = end;
        stretch_s = 0;
    }
    if window_first < steps.len() {
        close(
            &mut windows,
            window_first,
            steps.len(),
            window_time,
            window_hosts.len(),
            &last_state,
        );
    }
    Ok(windows)
}

fn no_fit(
    plan: &Plan,
    start: usize,
    end: usize,
    needs_s: u64,
    hosts: usize,
    limits: WindowLimits,
) -> NoFit {
    // By the schedule: a batch's hosts run in parallel, so a unit's time counts once for
    // its hop and once for each service with a step in it.
    let mut hops: BTreeMap<String, u64> = BTreeMap::new();
    let mut services: BTreeMap<String, u64> = BTreeMap::new();
    let mut at = 0;
    for (unit_end, seconds) in unit_ends(&plan.steps) {
        let unit = at..unit_end;
        at = unit_end;
        if unit.end <= start || unit.start >= end {
            continue;
        }
        let steps = &plan.steps[unit];
        if let Some(hop) = plan.hops.get(steps[0].hop) {
            let cost = hops
                .entry(format!("{} -> {}", hop.from, hop.to))
                .or_default();
            *cost = cost.saturating_add(seconds);
        }
        let mut seen: Vec<&str> = Vec::new();
        for step in steps {
            if let Some(service) = step.service.as_deref() {
                if !seen.contains(&service) {
                    seen.push(service);
                    let cost = services.entry(service.to_owned()).or_default();
                    *cost = cost.saturating_add(seconds);
                }
            }
        }
    }
    let sorted = |map: BTreeMap<String, u64>| {
        let mut list: Vec<(String, u64)> = map.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list
    };
    NoFit {
        first_step: plan.steps[start].id.clone(),
        last_step: plan.steps[end - 1].id.clone(),
        needs_s,
        limit_s: limits.limit_s,
        hosts: (hosts, limits.max_hosts),
        hops: sorted(hops),
        services: sorted(services),
    }
}

/// V17: the windows cover the steps in order, one after the other, and each ends at a safe
/// point, within the plan's limits.
pub(crate) fn check(plan: &Plan, catalog: &Catalog) -> Vec<Violation> {
    let mut violations = Vec::new();
    if plan.windows.is_empty() {
        return violations;
    }
    let position: FxHashMap<&str, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let safe: FxHashMap<usize, bool> = safe_points(plan, catalog)
        .into_iter()
        .map(|(end, _, state)| (end, state.is_some()))
        .collect();
    let mut next = 0;
    for window in &plan.windows {
        let (Some(&first), Some(&last)) = (
            position.get(window.first_step.as_str()),
            position.get(window.last_step.as_str()),
        ) else {
            violations.push(Violation {
                rule: "V17",
                message: format!(
                    "window {} names a step the plan does not have",
                    window.index
                ),
                steps: vec![window.first_step.clone(), window.last_step.clone()],
            });
            continue;
        };
        if first != next || last < first {
            violations.push(Violation {
                rule: "V17",
                message: format!(
                    "window {} does not start right after the previous window",
                    window.index
                ),
                steps: vec![window.first_step.clone()],
            });
        }
        if !safe.get(&(last + 1)).copied().unwrap_or(false) {
            violations.push(Violation {
                rule: "V17",
                message: format!(
                    "window {} ends after {}, where the cloud does not serve (a component stopped, a service at two releases, or a batch half done)",
                    window.index, window.last_step
                ),
                steps: vec![window.last_step.clone()],
            });
        }
        if let Some(limit) = plan.window_s {
            if window.estimate_s > limit {
                violations.push(Violation {
                    rule: "V17",
                    message: format!(
                        "window {} takes {} s, more than the limit of {limit} s",
                        window.index, window.estimate_s
                    ),
                    steps: vec![window.first_step.clone()],
                });
            }
        }
        next = last + 1;
    }
    if next != plan.steps.len() {
        violations.push(Violation {
            rule: "V17",
            message: "the windows do not cover every step".to_owned(),
            steps: Vec::new(),
        });
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("4h"), Some(14_400));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("2d"), Some(172_800));
        assert_eq!(parse_duration("4x"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("4h3"), None);
        assert_eq!(parse_duration(""), None);
    }
}
