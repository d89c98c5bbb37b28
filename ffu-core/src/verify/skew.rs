//! V11 skew: after no step does a running `agent` component lag a running `control`
//! component of the same service by more than the service's `max_skew` releases (default
//! 1). Judged after every step that stops or starts a component of the service, on the
//! fleet the replay (`replay.rs`) keeps; reported once per service and hop.

use super::fleet::Fleet;
use super::{Context, Violation};
use crate::plan::Step;
use crate::release::ReleaseId;
use crate::service::{ComponentId, MaxSkew, Role, ServiceId};

/// V11, with the (hop, service) pairs already reported.
pub(super) struct SkewCheck {
    /// `hop * services + service`: whether a violation was reported.
    reported: Vec<bool>,
}

impl SkewCheck {
    pub(super) fn new(context: &Context) -> SkewCheck {
        let slots = context.catalog.services().len() * context.plan.hops.len().max(1);
        SkewCheck {
            reported: vec![false; slots],
        }
    }

    /// V11 for `service`, after `step` touched one of its components.
    pub(super) fn check(
        &mut self,
        context: &Context,
        fleet: &Fleet,
        service: ServiceId,
        step: &Step,
        out: &mut Vec<Violation>,
    ) {
        let catalog = context.catalog;
        let data = catalog.service(service);
        let (Some(control), Some((agent, component))) =
            newest_control_oldest_agent(context, fleet, service)
        else {
            return;
        };
        let lag = control.index().saturating_sub(agent.index());
        let slot = step.hop * catalog.services().len() + service.index();
        let allowed = data.max_skew.allowed_lag(catalog.releases(), control);
        if lag <= allowed || self.reported.get(slot).copied().unwrap_or(true) {
            return;
        }
        self.reported[slot] = true;
        // `slurp` allows a lag that depends on the control release: say how much.
        let limit = match data.max_skew {
            MaxSkew::Releases(count) => format!("max_skew {count}"),
            MaxSkew::Slurp => format!("max_skew slurp allows ({allowed})"),
        };
        out.push(Violation::at(
            "V11",
            format!(
                "after step {}, {} runs {} while a {} control component runs {}: {lag} releases behind, more than {limit}",
                step.id,
                catalog.component(component).name,
                catalog.release(agent).name,
                data.name,
                catalog.release(control).name,
            ),
            &step.id,
        ));
    }
}

/// The newest release a control component of `service` runs, and the oldest release an
/// agent of it runs, with that agent (the first in catalog order, on a tie).
fn newest_control_oldest_agent(
    context: &Context,
    fleet: &Fleet,
    service: ServiceId,
) -> (Option<ReleaseId>, Option<(ReleaseId, ComponentId)>) {
    let catalog = context.catalog;
    let mut newest_control: Option<ReleaseId> = None;
    let mut oldest_agent: Option<(ReleaseId, ComponentId)> = None;
    for &component in &catalog.service(service).components {
        match catalog.component(component).role {
            Role::Control => {
                newest_control = newest_control.max(fleet.newest_release(component));
            }
            Role::Agent => {
                if let Some(oldest) = fleet.oldest_release(component) {
                    if oldest_agent.is_none_or(|(current, _)| oldest < current) {
                        oldest_agent = Some((oldest, component));
                    }
                }
            }
            Role::Dataplane | Role::Infra => {}
        }
    }
    (newest_control, oldest_agent)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{kit, kit_with, messages, of_rule, offline, rolling};

    #[test]
    fn planned_skews_are_within_bounds() {
        let catalog = kit();
        assert!(messages(&catalog, &rolling(&catalog, "r1", "r4"), "V11").is_empty());
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", true), "V11").is_empty());
    }

    /// The rolling r1 -> r3 plan without hop 0's compute-agent upgrade: the agent stays at
    /// r1 while the control plane reaches r3.
    fn agent_left_behind(catalog: &crate::Catalog) -> crate::Plan {
        let mut plan = rolling(catalog, "r1", "r3");
        plan.steps
            .retain(|s| !(s.hop == 0 && s.component.as_deref() == Some("compute-agent")));
        plan
    }

    #[test]
    fn an_agent_two_releases_behind_is_reported_once() {
        let catalog = kit();
        let v11 = of_rule(&catalog, &agent_left_behind(&catalog), "V11");
        assert_eq!(v11.len(), 1, "{v11:?}");
        assert_eq!(
            v11[0].message,
            "after step h1.start.compute-api, compute-agent runs r1 while a compute control component runs r3: 2 releases behind, more than max_skew 1"
        );
        assert_eq!(v11[0].steps, ["h1.start.compute-api"]);
    }

    #[test]
    fn max_skew_slurp_allows_back_to_the_previous_slurp_release() {
        // r2 and r4 are SLURP releases: with compute-agent left at r1, a control plane at
        // r3 may lead by 1 (back to r2), at r4 by 2 (back to r2).
        let catalog = kit_with(
            "  - name: compute\n",
            "  - name: compute\n    max_skew: slurp\n",
        );
        let mut plan = rolling(&catalog, "r1", "r4");
        plan.steps
            .retain(|s| s.component.as_deref() != Some("compute-agent"));
        assert_eq!(
            messages(&catalog, &plan, "V11"),
            [
                "after step h1.start.compute-api, compute-agent runs r1 while a compute control component runs r3: 2 releases behind, more than max_skew slurp allows (1)",
                "after step h2.start.compute-api, compute-agent runs r1 while a compute control component runs r4: 3 releases behind, more than max_skew slurp allows (2)",
            ]
        );
    }

    #[test]
    fn max_skew_allows_more() {
        let catalog = kit_with(
            "  - name: compute\n",
            "  - name: compute\n    max_skew: 2\n",
        );
        assert_eq!(
            messages(&catalog, &agent_left_behind(&catalog), "V11"),
            Vec::<String>::new()
        );
    }
}
