//! V10 extensions (rolling plans): at every step a service advertises only extensions that
//! all of its running servers' releases support, closed under `requires`; a new extension
//! appears only after a `finalize` step that follows the last upgrade (start) of that
//! service's components.
//!
//! What a service advertises is what the plan says: the `advertised` set of the last step
//! that gave one for it, and before any, what its servers may advertise before the first
//! step. "Running servers" are the service's running `control` components (DESIGN.md, V10:
//! "running servers'"), on the fleet the replay (`replay.rs`) keeps.
//!
//! The verifier negotiates on its own ([`may_advertise`]), from the rule, and does not call
//! the planner's negotiation (`Catalog::negotiate_releases`): the planner and its judge must
//! not share the code under test.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::fleet::Fleet;
use super::{Context, Violation};
use crate::catalog::Catalog;
use crate::extension::Extension;
use crate::plan::{Step, StepKind};
use crate::release::ReleaseId;
use crate::service::ServiceId;

/// What `service` may advertise while its servers run `releases`: the extensions that every
/// one of those releases supports (`since <= release <= until`), less those that require,
/// directly or through their requirements, one that is not supported: the largest such
/// set closed under `requires`. Nothing while no server runs.
pub(super) fn may_advertise<'c>(
    catalog: &'c Catalog,
    service: ServiceId,
    releases: &[ReleaseId],
) -> BTreeSet<&'c str> {
    if releases.is_empty() {
        return BTreeSet::new();
    }
    let supported: HashMap<&str, &Extension> = catalog
        .extensions()
        .iter()
        .filter(|e| e.service == service && releases.iter().all(|&r| supports(e, r)))
        .map(|e| (e.name.as_str(), e))
        .collect();
    supported
        .keys()
        .copied()
        .filter(|name| requirements_supported(name, &supported))
        .collect()
}

/// Whether `release` has `extension`: it is no earlier than `since` and no later than
/// `until`, where given.
fn supports(extension: &Extension, release: ReleaseId) -> bool {
    extension.since.is_none_or(|since| since <= release)
        && extension.until.is_none_or(|until| release <= until)
}

/// Whether `name` and everything it requires, directly or not, are in `supported`.
fn requirements_supported(name: &str, supported: &HashMap<&str, &Extension>) -> bool {
    let mut seen: HashSet<&str> = HashSet::default();
    seen.insert(name);
    let mut pending = vec![name];
    while let Some(next) = pending.pop() {
        let Some(extension) = supported.get(next) else {
            return false;
        };
        for required in &extension.requires {
            if seen.insert(required.as_str()) {
                pending.push(required.as_str());
            }
        }
    }
    true
}

/// What each service advertises as the replay goes, and whether a finalize came after its
/// last upgrade.
pub(super) struct Advertising<'c> {
    /// Per service: what it advertises now.
    declared: Vec<Vec<String>>,
    /// Per service: everything it advertised at some point so far. An extension that comes
    /// back (a rolling upgrade that replaces a service's only server, such as neutron-server
    /// by neutron-api in 2025.2, advertises nothing for a moment) is not a new one.
    seen: Vec<std::collections::BTreeSet<String>>,
    /// Per service: whether a finalize step came after its last start.
    finalized: Vec<bool>,
    /// Per (service, hop): the index of the last step of the hop that starts one of the
    /// service's components. A finalize before it comes too early: it does not follow the
    /// last upgrade, and does not finalize.
    last_start: HashMap<(ServiceId, usize), usize>,
    /// Per service: whether the catalog gives it extensions.
    has_extensions: Vec<bool>,
    /// What a service's servers may advertise, by the releases they run: a fleet moves
    /// through few such sets, and is checked at every step that touches the service.
    may_advertise: HashMap<(ServiceId, Vec<ReleaseId>), BTreeSet<&'c str>>,
}

impl<'c> Advertising<'c> {
    /// Before the first step: each service with extensions advertises what its running
    /// servers may.
    pub(super) fn new(context: &Context<'c>, fleet: &Fleet) -> Advertising<'c> {
        let catalog = context.catalog;
        let services = catalog.services().len();
        let has_extensions: Vec<bool> = (0..services)
            .map(|s| catalog.extensions().iter().any(|e| e.service.index() == s))
            .collect();
        let mut initial: Vec<Vec<String>> = vec![Vec::new(); services];
        for (service, _) in has_extensions.iter().enumerate().filter(|(_, has)| **has) {
            let service_id = ServiceId(service as u32);
            let running = fleet.server_releases(service_id);
            initial[service] = may_advertise(catalog, service_id, &running)
                .into_iter()
                .map(str::to_owned)
                .collect();
        }
        Advertising {
            declared: initial.clone(),
            seen: initial
                .iter()
                .map(|set| set.iter().cloned().collect())
                .collect(),
            finalized: vec![false; services],
            last_start: last_starts(context),
            has_extensions,
            may_advertise: HashMap::default(),
        }
    }

    /// V10 after `step` (at `index`), the fleet already updated by it: first what it starts
    /// advertising, then whether the services it concerns advertise only what their running
    /// servers support.
    pub(super) fn check(
        &mut self,
        context: &Context<'c>,
        fleet: &Fleet,
        index: usize,
        step: &Step,
        out: &mut Vec<Violation>,
    ) {
        self.note_upgrade_or_finalize(context, index, step);
        let mut services = self.check_new_extensions(context, step, out);
        if let Some(component) = context.component[index] {
            services.push(context.catalog.component(component).service);
        }
        for service in services {
            self.check_supported(context, fleet, service, step, out);
        }
    }

    /// A start upgrades a component of its service (a finalize must follow again); a
    /// finalize step finalizes its service, unless one of the service's components still
    /// starts later in the hop.
    fn note_upgrade_or_finalize(&mut self, context: &Context, index: usize, step: &Step) {
        match (step.kind, context.component[index]) {
            (StepKind::Start, Some(component)) => {
                let service = context.catalog.component(component).service;
                self.finalized[service.index()] = false;
            }
            (StepKind::Finalize, _) => {
                if let Some(service) = context.service[index] {
                    let later_start = self
                        .last_start
                        .get(&(service, step.hop))
                        .is_some_and(|&last| last > index);
                    self.finalized[service.index()] = !later_start;
                }
            }
            _ => {}
        }
    }

    /// The step's `advertised` sets replace what their services advertise; an extension
    /// that is new (never advertised before in the plan, nor before its first step) must
    /// wait for a finalize. Returns the services the step gives a set for (known ones, in
    /// name order).
    fn check_new_extensions(
        &mut self,
        context: &Context,
        step: &Step,
        out: &mut Vec<Violation>,
    ) -> Vec<ServiceId> {
        let mut services = Vec::new();
        let Some(advertised) = &step.advertised else {
            return services;
        };
        for (name, extensions) in advertised {
            let Some(service) = context.catalog.service_id(name) else {
                continue;
            };
            let seen = &self.seen[service.index()];
            let fresh: Vec<&str> = extensions
                .iter()
                .filter(|e| !seen.contains(e.as_str()))
                .map(String::as_str)
                .collect();
            if !fresh.is_empty() && !self.finalized[service.index()] {
                out.push(Violation::at(
                    "V10",
                    format!(
                        "step {} starts advertising {} of {name} before a finalize step that follows the last upgrade of {name}",
                        step.id,
                        fresh.join(", "),
                    ),
                    &step.id,
                ));
            }
            self.declared[service.index()].clone_from(extensions);
            self.seen[service.index()].extend(extensions.iter().cloned());
            services.push(service);
        }
        services
    }

    /// What `service` advertises after `step` is what its running servers may advertise
    /// (when any runs). A wrong set is reported once, then narrowed to what is allowed.
    fn check_supported(
        &mut self,
        context: &Context<'c>,
        fleet: &Fleet,
        service: ServiceId,
        step: &Step,
        out: &mut Vec<Violation>,
    ) {
        if !self.has_extensions[service.index()] {
            return;
        }
        let running = fleet.server_releases(service);
        // With no server running nobody advertises anything; the rule is about what
        // running servers offer.
        if running.is_empty() {
            return;
        }
        let allowed = self
            .may_advertise
            .entry((service, running))
            .or_insert_with_key(|(service, running)| {
                may_advertise(context.catalog, *service, running)
            });
        let declared = &mut self.declared[service.index()];
        let beyond: Vec<&str> = declared
            .iter()
            .map(String::as_str)
            .filter(|e| !allowed.contains(e))
            .collect();
        if beyond.is_empty() {
            return;
        }
        out.push(Violation::at(
            "V10",
            format!(
                "after step {}, {} advertises {}, which not every running server supports (or whose requirements are missing)",
                step.id,
                context.catalog.service(service).name,
                beyond.join(", ")
            ),
            &step.id,
        ));
        // Report a wrong set once, not at every later step.
        declared.retain(|e| allowed.contains(e.as_str()));
    }
}

/// Per (service, hop), the index of the last step that starts one of the service's
/// components in that hop.
fn last_starts(context: &Context) -> HashMap<(ServiceId, usize), usize> {
    let mut last = HashMap::default();
    for (index, step) in context.plan.steps.iter().enumerate() {
        if let (StepKind::Start, Some(component)) = (step.kind, context.component[index]) {
            let service = context.catalog.component(component).service;
            last.insert((service, step.hop), index);
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{kit, kit_with, messages, of_rule, offline, rolling, step};
    use super::may_advertise;
    use crate::catalog::Catalog;
    use crate::inventory::Inventory;
    use crate::plan::{Mode, Plan, Policy, StepKind};
    use crate::release::ReleaseId;

    fn advertised(catalog: &Catalog, service: &str, releases: &[&str]) -> Vec<String> {
        let releases: Vec<ReleaseId> = releases
            .iter()
            .map(|r| catalog.release_id(r).unwrap())
            .collect();
        may_advertise(catalog, catalog.service_id(service).unwrap(), &releases)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    fn set(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn what_servers_may_advertise() {
        let catalog = kit();
        // Every release of the servers supports it...
        assert_eq!(
            advertised(&catalog, "compute", &["r1"]),
            set(&["base", "extra", "legacy", "needs-legacy"])
        );
        assert_eq!(
            advertised(&catalog, "compute", &["r2"]),
            set(&["base", "extra", "fresh"])
        );
        assert_eq!(
            advertised(&catalog, "compute", &["r1", "r2"]),
            set(&["base", "extra"])
        );
        // ... and what it requires (needs-legacy exists at r2, legacy does not).
        assert!(!advertised(&catalog, "compute", &["r3"]).contains(&"needs-legacy".to_owned()));
        // No server, nothing; no extensions, nothing.
        assert_eq!(advertised(&catalog, "compute", &[]), set(&[]));
        assert_eq!(advertised(&catalog, "ident", &["r1"]), set(&[]));
    }

    #[test]
    fn requirements_are_followed_through_chains_and_cycles() {
        let catalog = kit_with(
            "  - {service: compute, name: base}\n",
            "  - {service: compute, name: base}\n  - {service: compute, name: a, requires: [b]}\n  - {service: compute, name: b, requires: [a]}\n  - {service: compute, name: c, requires: [d]}\n  - {service: compute, name: d, requires: [needs-legacy]}\n",
        );
        assert_eq!(
            advertised(&catalog, "compute", &["r1"]),
            set(&[
                "a",
                "b",
                "base",
                "c",
                "d",
                "extra",
                "legacy",
                "needs-legacy"
            ])
        );
        assert_eq!(
            advertised(&catalog, "compute", &["r2"]),
            set(&["a", "b", "base", "extra", "fresh"])
        );
    }

    /// The verifier's negotiation is its own, but it answers the rule as the planner's
    /// does: on every window of one to three consecutive releases of the OpenStack
    /// catalog, and on every pair of releases, for every service.
    #[test]
    fn agrees_with_the_planners_negotiation() {
        let catalog = Catalog::openstack();
        let releases: Vec<ReleaseId> = (0..catalog.releases().len())
            .map(|r| ReleaseId(r as u32))
            .collect();
        let mut sets: Vec<Vec<ReleaseId>> = Vec::new();
        for width in 1..=3 {
            sets.extend(releases.windows(width).map(<[ReleaseId]>::to_vec));
        }
        for (i, &a) in releases.iter().enumerate() {
            sets.extend(releases[i + 1..].iter().map(|&b| vec![a, b]));
        }
        for index in 0..catalog.services().len() {
            let service = crate::service::ServiceId(index as u32);
            for running in &sets {
                let ours: Vec<&str> = may_advertise(&catalog, service, running)
                    .into_iter()
                    .collect();
                let planner = catalog
                    .negotiate_releases(service, running, None)
                    .advertised;
                assert_eq!(ours, planner, "{running:?}");
            }
        }
    }

    #[test]
    fn planned_rolling_plans_advertise_what_they_may() {
        let catalog = kit();
        for (from, to) in [("r1", "r2"), ("r1", "r4"), ("r2", "r4")] {
            assert!(messages(&catalog, &rolling(&catalog, from, to), "V10").is_empty());
        }
        // Offline plans advertise nothing, and V10 is not asked.
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", false), "V10").is_empty());
    }

    #[test]
    fn a_new_extension_before_finalize() {
        let catalog = kit();
        let mut plan = rolling(&catalog, "r1", "r2");
        let finalized = step(&mut plan, "h0.finalize.compute").advertised.take();
        assert_eq!(
            finalized.as_ref().unwrap()["compute"],
            ["base", "extra", "fresh"]
        );
        step(&mut plan, "h0.start.compute-api").advertised = finalized;
        let v10 = of_rule(&catalog, &plan, "V10");
        assert_eq!(v10.len(), 1, "{v10:?}");
        assert_eq!(
            v10[0].message,
            "step h0.start.compute-api starts advertising fresh of compute before a finalize step that follows the last upgrade of compute"
        );
        assert_eq!(v10[0].steps, ["h0.start.compute-api"]);
    }

    #[test]
    fn a_finalize_before_the_last_upgrade_does_not_finalize() {
        let catalog = kit();
        let mut plan = rolling(&catalog, "r1", "r2");
        let finalize = plan
            .steps
            .iter()
            .position(|s| s.id == "h0.finalize.compute")
            .unwrap();
        let last_start = plan
            .steps
            .iter()
            .rposition(|s| {
                s.kind == StepKind::Start && s.hop == 0 && s.service.as_deref() == Some("compute")
            })
            .unwrap();
        assert!(last_start < finalize);
        // The finalize (with what it starts advertising) moves before the last start.
        let moved = plan.steps.remove(finalize);
        plan.steps.insert(last_start, moved);
        let v10 = of_rule(&catalog, &plan, "V10");
        assert_eq!(v10.len(), 1, "{v10:?}");
        assert_eq!(
            v10[0].message,
            "step h0.finalize.compute starts advertising fresh of compute before a finalize step that follows the last upgrade of compute"
        );
    }

    /// The planner's rolling r1 -> r2 plan, with `extensions` as what compute advertises
    /// after its first server runs r2.
    fn advertising_at_first_start(catalog: &Catalog, extensions: &[&str]) -> Plan {
        let mut plan = rolling(catalog, "r1", "r2");
        let start = step(&mut plan, "h0.start.compute-api");
        let advertised = start.advertised.as_mut().unwrap();
        assert_eq!(advertised["compute"], ["base", "extra"]);
        advertised.insert("compute".into(), set(extensions));
        plan
    }

    #[test]
    fn an_extension_the_servers_no_longer_support() {
        let catalog = kit();
        let plan = advertising_at_first_start(&catalog, &["base", "extra", "legacy"]);
        // Reported once: the set is narrowed to what is allowed afterwards.
        assert_eq!(
            messages(&catalog, &plan, "V10"),
            ["after step h0.start.compute-api, compute advertises legacy, which not every running server supports (or whose requirements are missing)"]
        );
    }

    #[test]
    fn an_extension_whose_requirement_is_withheld() {
        let catalog = kit();
        // needs-legacy exists at r2, but legacy, which it requires, does not.
        let plan = advertising_at_first_start(&catalog, &["base", "extra", "needs-legacy"]);
        assert_eq!(
            messages(&catalog, &plan, "V10"),
            ["after step h0.start.compute-api, compute advertises needs-legacy, which not every running server supports (or whose requirements are missing)"]
        );
    }

    #[test]
    fn every_running_server_must_support_it() {
        // Two compute servers: after the first runs r2, the other still runs r1, which has
        // no `fresh`; `legacy` went with r2.
        let catalog = kit();
        let inventory = Inventory::from_hosts(
            &catalog,
            &[
                ("ctl-[1:2]", &[("ident-api", "r1"), ("compute-api", "r1")]),
                ("cmp-1", &[("compute-agent", "r1"), ("guests", "r1")]),
            ],
        )
        .unwrap();
        let policy = Policy {
            mode: Mode::Rolling,
            ..Policy::default()
        };
        let mut plan = catalog
            .plan_request(&crate::PlanRequest::from_inventory(
                &inventory, "r2", &policy,
            ))
            .unwrap();
        assert!(messages(&catalog, &plan, "V10").is_empty());
        let first_start = plan
            .steps
            .iter()
            .position(|s| {
                s.kind == StepKind::Start && s.component.as_deref() == Some("compute-api")
            })
            .unwrap();
        let id = plan.steps[first_start].id.clone();
        let host = plan.steps[first_start].host.clone().unwrap();
        assert_eq!(
            plan.steps[first_start].advertised.as_ref().unwrap()["compute"],
            ["base", "extra"],
            "{id} on {host}"
        );
        plan.steps[first_start]
            .advertised
            .as_mut()
            .unwrap()
            .insert("compute".into(), set(&["base", "extra", "legacy"]));
        assert_eq!(
            messages(&catalog, &plan, "V10"),
            [format!("after step {id}, compute advertises legacy, which not every running server supports (or whose requirements are missing)")]
        );
        // `fresh` at that step: new before the finalize, and not supported by the server
        // that still runs r1.
        plan.steps[first_start]
            .advertised
            .as_mut()
            .unwrap()
            .insert("compute".into(), set(&["base", "extra", "fresh"]));
        assert_eq!(
            messages(&catalog, &plan, "V10"),
            [
                format!("step {id} starts advertising fresh of compute before a finalize step that follows the last upgrade of compute"),
                format!("after step {id}, compute advertises fresh, which not every running server supports (or whose requirements are missing)"),
            ]
        );
    }

    #[test]
    fn advertising_the_initial_set_again_is_nothing_new() {
        // Before any step says otherwise, compute advertises what its r1 servers may;
        // saying so again (while they still run r1) starts nothing new.
        let catalog = kit();
        let mut plan = rolling(&catalog, "r1", "r2");
        let initial = advertised(&catalog, "compute", &["r1"]);
        assert_eq!(initial, set(&["base", "extra", "legacy", "needs-legacy"]));
        step(&mut plan, "h0.backup.compute").advertised =
            Some([("compute".to_owned(), initial)].into_iter().collect());
        assert_eq!(messages(&catalog, &plan, "V10"), Vec::<String>::new());
    }
}
