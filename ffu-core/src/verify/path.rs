//! V1 path: the path starts at `from`, ends at `to`, goes strictly forward; every hop is
//! N -> N+1 or a declared skip edge, skip edges only where the policy allows them (never in
//! rolling mode, where mixed versions are only supported between adjacent releases); the
//! path has the fewest hops possible; and the plan's `hops` match the path (ends, skip flag
//! and the releases each hop applies).
//!
//! All V1 violations are plan-wide: they name no step.

use petgraph::algo::dijkstra;
use petgraph::graph::{DiGraph, NodeIndex};

use super::{Context, Violation};
use crate::plan::Mode;
use crate::release::ReleaseId;

fn v1(message: String) -> Violation {
    Violation::plan_wide("V1", message)
}

/// V1, in this order: known ends, known releases on the path, its ends, each edge, the
/// number of hops, then the plan's hops against the path.
pub(super) fn check(context: &Context, out: &mut Vec<Violation>) {
    let plan = context.plan;
    let (Some(from), Some(to)) = (context.from, context.to) else {
        out.push(v1(format!(
            "unknown release in from {:?} or to {:?}",
            plan.from, plan.to
        )));
        return;
    };
    let Some(ids) = resolve_path(context, out) else {
        return;
    };
    if ids.first() != Some(&from) || ids.last() != Some(&to) {
        out.push(v1(format!(
            "the path must start at {} and end at {}",
            plan.from, plan.to
        )));
    }
    check_edges(context, &ids, out);
    check_hop_count(context, from, to, &ids, out);
    check_hops_match_path(context, &ids, out);
}

/// The path's releases as ids, or `None` (reported) at the first unknown one.
fn resolve_path(context: &Context, out: &mut Vec<Violation>) -> Option<Vec<ReleaseId>> {
    let mut ids = Vec::with_capacity(context.plan.path.len());
    for name in &context.plan.path {
        let Some(id) = context.catalog.release_id(name) else {
            out.push(v1(format!("the path names unknown release {name:?}")));
            return None;
        };
        ids.push(id);
    }
    Some(ids)
}

/// Whether the policy lets the path use skip edges: only offline, with `skip_level`.
fn skips_allowed(context: &Context) -> bool {
    context.plan.policy.skip_level && context.plan.policy.mode != Mode::Rolling
}

/// Each consecutive pair goes forward, by one release or over a skip edge the catalog
/// declares and the policy allows.
fn check_edges(context: &Context, ids: &[ReleaseId], out: &mut Vec<Violation>) {
    let catalog = context.catalog;
    // Mixed versions are only supported between adjacent releases, so a rolling
    // upgrade never skips, whatever skip_level says.
    let rolling = context.plan.policy.mode == Mode::Rolling;
    let skips_allowed = skips_allowed(context);
    for pair in ids.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (a_name, b_name) = (&catalog.release(a).name, &catalog.release(b).name);
        if b <= a {
            out.push(v1(format!("hop {a_name} -> {b_name} does not go forward")));
        } else if b.index() > a.index() + 1 {
            let declared = catalog
                .skip_edges()
                .iter()
                .any(|e| e.from == a && e.to == b);
            if !declared {
                out.push(v1(format!(
                    "hop {a_name} -> {b_name} skips releases but no such edge is allowed"
                )));
            } else if rolling {
                out.push(v1(format!("hop {a_name} -> {b_name} skips releases, but a rolling upgrade goes one release at a time")));
            } else if !skips_allowed {
                out.push(v1(format!("hop {a_name} -> {b_name} skips releases but the policy does not allow skip-level upgrades")));
            }
        }
    }
}

/// The path has no more hops than the shortest allowed one, and does not go backwards.
fn check_hop_count(
    context: &Context,
    from: ReleaseId,
    to: ReleaseId,
    ids: &[ReleaseId],
    out: &mut Vec<Violation>,
) {
    if from > to {
        out.push(v1(format!(
            "{} comes before {}: downgrades are not plans",
            context.plan.to, context.plan.from
        )));
        return;
    }
    let hops = ids.len().saturating_sub(1);
    if let Some(fewest) = fewest_hops(context, from, to, skips_allowed(context)) {
        if hops > fewest {
            out.push(v1(format!(
                "the path has {hops} hops, but {fewest} are enough"
            )));
        }
    }
}

/// Shortest number of hops, by Dijkstra over the allowed edges (unit weights).
fn fewest_hops(context: &Context, from: ReleaseId, to: ReleaseId, skips: bool) -> Option<usize> {
    let catalog = context.catalog;
    let count = catalog.releases().len();
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(count, count);
    for _ in 0..count {
        graph.add_node(());
    }
    for index in 1..count {
        graph.add_edge(NodeIndex::new(index - 1), NodeIndex::new(index), ());
    }
    if skips {
        for edge in catalog.skip_edges() {
            graph.add_edge(
                NodeIndex::new(edge.from.index()),
                NodeIndex::new(edge.to.index()),
                (),
            );
        }
    }
    let distances = dijkstra(
        &graph,
        NodeIndex::new(from.index()),
        Some(NodeIndex::new(to.index())),
        |_| 1usize,
    );
    distances.get(&NodeIndex::new(to.index())).copied()
}

/// One hop per edge of the path, each with the path's ends, the releases it applies and
/// its skip flag.
fn check_hops_match_path(context: &Context, ids: &[ReleaseId], out: &mut Vec<Violation>) {
    let (catalog, plan) = (context.catalog, context.plan);
    if plan.hops.len() != ids.len().saturating_sub(1) {
        out.push(v1(format!(
            "the plan has {} hops for a path of {} releases",
            plan.hops.len(),
            ids.len()
        )));
        return;
    }
    for (index, hop) in plan.hops.iter().enumerate() {
        let (a, b) = (ids[index], ids[index + 1]);
        let expected: Vec<&str> = if a < b {
            (a.index() + 1..=b.index())
                .map(|i| catalog.releases()[i].name.as_str())
                .collect()
        } else {
            Vec::new()
        };
        let same_ends =
            catalog.release_id(&hop.from) == Some(a) && catalog.release_id(&hop.to) == Some(b);
        let releases_ok = hop.releases.len() == expected.len()
            && hop
                .releases
                .iter()
                .zip(&expected)
                .all(|(r, e)| catalog.release_id(r) == catalog.release_id(e));
        if !same_ends || !releases_ok || hop.skip != (b.index() > a.index() + 1) {
            out.push(v1(format!(
                "hop {index} ({} -> {}) does not match the path, its releases or its skip flag",
                hop.from, hop.to
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{kit, messages, offline, rolling};

    #[test]
    fn planned_paths_are_clean() {
        let catalog = kit();
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", false), "V1").is_empty());
        assert!(messages(&catalog, &offline(&catalog, "r1", "r4", true), "V1").is_empty());
        assert!(messages(&catalog, &rolling(&catalog, "r1", "r4"), "V1").is_empty());
    }

    #[test]
    fn an_unknown_end_stops_the_path_check() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        plan.from = "r0".into();
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            [r#"unknown release in from "r0" or to "r3""#]
        );
    }

    #[test]
    fn an_unknown_release_on_the_path() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        plan.path[1] = "r2.5".into();
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            [r#"the path names unknown release "r2.5""#]
        );
    }

    #[test]
    fn the_path_must_join_from_and_to() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        plan.path.pop();
        plan.hops.pop();
        plan.steps.retain(|s| s.hop == 0);
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            ["the path must start at r1 and end at r3"]
        );
    }

    #[test]
    fn a_skip_edge_needs_the_policy_and_offline_mode() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r2", "r4", true);
        assert_eq!(plan.path, ["r2", "r4"]);
        plan.policy.skip_level = false;
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            ["hop r2 -> r4 skips releases but the policy does not allow skip-level upgrades"]
        );
        plan.policy.skip_level = true;
        plan.policy.mode = crate::plan::Mode::Rolling;
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            ["hop r2 -> r4 skips releases, but a rolling upgrade goes one release at a time"]
        );
    }

    #[test]
    fn a_skip_needs_a_declared_edge() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", true);
        plan.path.remove(1);
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            [
                "hop r1 -> r3 skips releases but no such edge is allowed",
                "the plan has 2 hops for a path of 2 releases",
            ]
        );
    }

    #[test]
    fn going_back_and_taking_more_hops_than_needed() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        plan.path = ["r1", "r2", "r1", "r2", "r3"].map(String::from).to_vec();
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            [
                "hop r2 -> r1 does not go forward",
                "the path has 4 hops, but 2 are enough",
                "the plan has 2 hops for a path of 5 releases",
            ]
        );
        // Where skipping is allowed, one hop is enough for r2 -> r4.
        let mut plan = offline(&catalog, "r2", "r4", false);
        plan.policy.skip_level = true;
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            ["the path has 2 hops, but 1 are enough"]
        );
    }

    #[test]
    fn a_downgrade_is_not_a_plan() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r2", false);
        (plan.from, plan.to) = ("r2".into(), "r1".into());
        plan.path = vec!["r2".into(), "r1".into()];
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            [
                "hop r2 -> r1 does not go forward",
                "r1 comes before r2: downgrades are not plans",
                "hop 0 (r1 -> r2) does not match the path, its releases or its skip flag",
            ]
        );
    }

    #[test]
    fn each_hop_matches_the_path() {
        let catalog = kit();
        let mut plan = offline(&catalog, "r1", "r3", false);
        plan.hops[1].skip = true;
        plan.hops[0].releases.push("r3".into());
        assert_eq!(
            messages(&catalog, &plan, "V1"),
            [
                "hop 0 (r1 -> r2) does not match the path, its releases or its skip flag",
                "hop 1 (r2 -> r3) does not match the path, its releases or its skip flag",
            ]
        );
    }
}
