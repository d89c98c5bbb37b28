//! The release graph and the shortest upgrade path through it.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::catalog::Catalog;
use crate::error::NoPlan;
use crate::release::ReleaseId;

/// The releases as a graph: an edge `N -> N+1` for every release, plus the catalog's skip
/// edges when the policy allows them. Node `i` is release `i`.
pub(crate) fn release_graph(catalog: &Catalog, allow_skips: bool) -> DiGraph<ReleaseId, bool> {
    let count = catalog.releases().len();
    let mut graph = DiGraph::with_capacity(count, count * 2);
    for index in 0..count {
        graph.add_node(ReleaseId(index as u32));
    }
    for index in 1..count {
        graph.add_edge(NodeIndex::new(index - 1), NodeIndex::new(index), false);
    }
    if allow_skips {
        for edge in catalog.skip_edges() {
            graph.add_edge(
                NodeIndex::new(edge.from.index()),
                NodeIndex::new(edge.to.index()),
                true,
            );
        }
    }
    graph
}

/// The path with the fewest hops from `from` to `to` (both included).
///
/// Breadth-first search; among equally short paths it prefers the one that reaches further
/// early (larger jumps first), which is deterministic because neighbours are visited in
/// descending release order.
///
/// # Complexity
/// O(R + E) for R releases and E edges.
pub(crate) fn shortest_path(
    catalog: &Catalog,
    from: ReleaseId,
    to: ReleaseId,
    allow_skips: bool,
) -> Result<Vec<ReleaseId>, NoPlan> {
    let graph = release_graph(catalog, allow_skips);
    let mut parent: Vec<Option<usize>> = vec![None; graph.node_count()];
    let mut seen = vec![false; graph.node_count()];
    let mut queue = std::collections::VecDeque::from([from.index()]);
    seen[from.index()] = true;
    let mut furthest = from.index();
    while let Some(node) = queue.pop_front() {
        furthest = furthest.max(node);
        if node == to.index() {
            break;
        }
        let mut next: Vec<usize> = graph
            .edges(NodeIndex::new(node))
            .map(|edge| edge.target().index())
            .filter(|&target| target <= to.index())
            .collect();
        next.sort_unstable_by(|a, b| b.cmp(a));
        for target in next {
            if !seen[target] {
                seen[target] = true;
                parent[target] = Some(node);
                queue.push_back(target);
            }
        }
    }
    if !seen[to.index()] {
        return Err(NoPlan::Unreachable {
            from: catalog.release(from).name.clone(),
            to: catalog.release(to).name.clone(),
            furthest: catalog.releases()[furthest].name.clone(),
        });
    }
    let mut path = vec![to.index()];
    while let Some(previous) = parent[*path.last().unwrap_or(&from.index())] {
        path.push(previous);
    }
    path.reverse();
    Ok(path
        .into_iter()
        .map(|index| ReleaseId(index as u32))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_edges(edges: &str) -> Catalog {
        let yaml = format!(
            "format: ffu-catalog/1\nname: t\nreleases: [{{name: a}}, {{name: b, slurp: true}}, {{name: c}}, {{name: d, slurp: true}}, {{name: e}}]\nskip_level: slurp\n{edges}services: []\n"
        );
        Catalog::from_yaml_str(&yaml, "t.yaml").unwrap()
    }

    fn names(catalog: &Catalog, path: &[ReleaseId]) -> Vec<String> {
        path.iter()
            .map(|&r| catalog.release(r).name.clone())
            .collect()
    }

    #[test]
    fn without_skips_every_release_is_a_hop() {
        let catalog = with_edges("");
        let (a, e) = (
            catalog.release_id("a").unwrap(),
            catalog.release_id("e").unwrap(),
        );
        assert_eq!(
            names(&catalog, &shortest_path(&catalog, a, e, false).unwrap()),
            ["a", "b", "c", "d", "e"]
        );
    }

    #[test]
    fn slurp_and_declared_edges_shorten_the_path() {
        let catalog = with_edges("");
        let (a, e) = (
            catalog.release_id("a").unwrap(),
            catalog.release_id("e").unwrap(),
        );
        assert_eq!(
            names(&catalog, &shortest_path(&catalog, a, e, true).unwrap()),
            ["a", "b", "d", "e"]
        );
        let declared = with_edges("edges: [{from: a, to: c, reason: tested}]\n");
        let (a, d) = (
            declared.release_id("a").unwrap(),
            declared.release_id("d").unwrap(),
        );
        // Two paths of two hops (a-c-d and a-b-d): the one that jumps furthest first wins.
        assert_eq!(
            names(&declared, &shortest_path(&declared, a, d, true).unwrap()),
            ["a", "c", "d"]
        );
    }
}
