//! V5 service order: where service A is `after` B, in each hop all of B's migrations come
//! before A's (on a skip hop too: each service's releases run together, service by
//! service), and B's components are started before A's. Only real starts count: the last
//! `start` of an instance (a component on its host), not the temporary starts for
//! `needs_running` that a later `stop` undoes. The migrations of the `converge` phase (the
//! target's data migrations, after every start) are ordered among themselves.
//!
//! The starting release's migrations, run with the current code before anything stops
//! (DESIGN §8), are not part of any service's migrations here: V12 places them.

use rustc_hash::FxHashSet as HashSet;

use super::{Context, Violation};
use crate::plan::{Phase, StepKind};
use crate::service::ComponentId;

/// Per (hop, service), `hop * services + service`: the first and last position of
/// something (migrations, real starts) of the service in the hop.
type Spans = Vec<Option<(usize, usize)>>;

fn widen(slot: &mut Option<(usize, usize)>, at: usize) {
    *slot = Some(slot.map_or((at, at), |(a, b)| (a.min(at), b.max(at))));
}

/// V5, per hop, per service A in catalog order, per B in A's `after`: migrations, then
/// component starts.
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    let services = catalog.services().len();
    let migrations = migration_spans(context, false);
    let converge = migration_spans(context, true);
    let starts = real_start_spans(context);
    for hop in 0..context.plan.hops.len() {
        for (a_index, a) in catalog.services().iter().enumerate() {
            for &b in &a.after {
                for (table, what) in [
                    (&migrations, "migrations"),
                    (&converge, "converge migrations"),
                    (&starts, "component starts"),
                ] {
                    let (Some((a_first, _)), Some((_, b_last))) = (
                        table[hop * services + a_index],
                        table[hop * services + b.index()],
                    ) else {
                        continue;
                    };
                    if a_first < b_last {
                        let b_name = &catalog.service(b).name;
                        out.push(Violation::new(
                            "V5",
                            format!(
                                "in hop {hop}, {} {what} must all come after {b_name}'s ({} is after {b_name}), but {} comes before {}",
                                a.name,
                                a.name,
                                context.plan.steps[a_first].id,
                                context.plan.steps[b_last].id
                            ),
                            vec![context.id(a_first), context.id(b_last)],
                        ));
                    }
                }
            }
        }
    }
}

/// Where each service's migrations stand in each hop: those of the converge phase, or
/// the others (those run with the current code left out).
fn migration_spans(context: &Context, converge: bool) -> Spans {
    let services = context.catalog.services().len();
    let mut spans = vec![None; context.plan.hops.len() * services];
    for (index, step) in context.steps() {
        if context.runs_current_code(index) || (step.phase == Some(Phase::Converge)) != converge {
            continue;
        }
        if let Some(id) = context.migration[index] {
            let service = context.catalog.migration(id).service;
            widen(&mut spans[step.hop * services + service.index()], index);
        }
    }
    spans
}

/// Where each service's real starts stand in each hop: a start is real when the instance
/// (component on its host) is not stopped again later in the plan.
fn real_start_spans(context: &Context) -> Spans {
    let services = context.catalog.services().len();
    let mut spans = vec![None; context.plan.hops.len() * services];
    let mut stopped_later: HashSet<(Option<&str>, ComponentId)> = HashSet::default();
    for (index, step) in context.steps().rev() {
        let Some(component) = context.component[index] else {
            continue;
        };
        let instance = (step.host.as_deref(), component);
        match step.kind {
            StepKind::Stop => {
                stopped_later.insert(instance);
            }
            StepKind::Start if !stopped_later.contains(&instance) => {
                let service = context.catalog.component(component).service;
                widen(&mut spans[step.hop * services + service.index()], index);
            }
            _ => {}
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{
        kit, kit_with, messages, move_after, of_rule, offline, remove, rolling,
    };

    #[test]
    fn planned_service_orders_are_clean() {
        let catalog = kit();
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", false), "V5").is_empty());
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", true), "V5").is_empty());
        assert!(messages(&catalog, &rolling(&catalog, "r1", "r4"), "V5").is_empty());
    }

    #[test]
    fn a_migration_before_those_of_a_service_it_comes_after() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        move_after(&mut plan, "h0.ident.r2.contract", "h0.compute.r2.sync");
        let v5 = of_rule(&catalog, &plan, "V5");
        assert_eq!(v5.len(), 1, "{v5:?}");
        assert_eq!(
            v5[0].message,
            "in hop 0, compute migrations must all come after ident's (compute is after ident), but h0.compute.r2.sync comes before h0.ident.r2.contract"
        );
        assert_eq!(v5[0].steps, ["h0.compute.r2.sync", "h0.ident.r2.contract"]);
    }

    #[test]
    fn a_start_before_those_of_a_service_it_comes_after() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        move_after(&mut plan, "h1.start.ident-api", "h1.start.compute-api");
        assert_eq!(
            messages(&catalog, &plan, "V5"),
            ["in hop 1, compute component starts must all come after ident's (compute is after ident), but h1.start.compute-api comes before h1.start.ident-api"]
        );
    }

    #[test]
    fn only_the_last_start_of_an_instance_counts() {
        // ident's contract needs compute-api running: the plan starts compute-api for it
        // before ident starts, and stops it again; that temporary start is no real start.
        let catalog = kit_with(
            r#"command: "ident-manage contract","#,
            r#"command: "ident-manage contract", needs_running: [compute-api],"#,
        );
        let mut plan = offline(&catalog, "r1", "r2", false);
        assert!(messages(&catalog, &plan, "V5").is_empty());
        // Without the stop after it, the early start is real, and too early.
        remove(&mut plan, "h0.stop.compute-api.after.ident.r2.contract");
        assert_eq!(
            messages(&catalog, &plan, "V5"),
            ["in hop 0, compute component starts must all come after ident's (compute is after ident), but h0.start.compute-api.for.ident.r2.contract comes before h0.start.ident-api"]
        );
    }
}
