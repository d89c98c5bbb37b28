//! The order of one hop's migrations: a stable topological order of a graph whose edges
//! are the catalog's `requires`, each service's release and kind order, and the service
//! order (`after`).
//!
//! To keep the graph linear in size, "every migration of group A before every migration of
//! group B" is expressed through a barrier node between the groups rather than |A|x|B|
//! edges. Barriers never appear in the output.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use crate::catalog::Catalog;
use crate::error::{NoPlan, OrderFact};
use crate::migration::MigrationId;
use crate::service::ServiceId;

/// Why an edge exists, to explain a cycle.
#[derive(Debug, Clone, Copy)]
enum Why {
    /// The target migration requires the source migration.
    Requires,
    /// Release then kind order within one service.
    WithinService,
    /// The target's service is `after` the source's.
    ServiceOrder {
        later: ServiceId,
        earlier: ServiceId,
    },
}

/// What a node of the hop graph is.
#[derive(Debug, Clone, Copy)]
enum Node {
    Migration(MigrationId),
    /// A barrier between two consecutive groups of a service's migrations, or at its ends.
    Barrier,
}

/// Sort key of a node: (service rank, position within the service, catalog index). Among
/// the nodes ready to go, the one with the smallest key goes first.
type SortKey = (u32, u32, u32);

/// The hop graph while it is built: nodes, and edges in the order they are added.
///
/// Nodes are added in the order of their sort keys (services in rank order, each one's
/// groups in position order, a group's migrations by catalog index), so a node's index
/// orders nodes as its key does, and the topological sort compares indices only.
struct Graph {
    nodes: Vec<Node>,
    /// The key of the last node added, to check that keys only grow.
    last_key: Option<SortKey>,
    edges: Vec<Edge>,
}

/// An edge of the hop graph: from, to, and why it exists.
type Edge = (u32, u32, Why);

impl Graph {
    fn add(&mut self, node: Node, key: SortKey) -> u32 {
        debug_assert!(
            self.last_key.is_none_or(|last| last < key),
            "nodes are added in key order"
        );
        self.last_key = Some(key);
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    fn edge(&mut self, from: u32, to: u32, why: Why) {
        self.edges.push((from, to, why));
    }
}

/// The edges of a finished graph grouped by their source (compressed rows): one list for
/// the whole hop, where a list per node would be two hundred thousand small allocations
/// for a large plan. Each node's edges keep the order they were added in.
struct Successors {
    /// `targets[starts[n]..starts[n + 1]]` are the edges leaving node `n`.
    starts: Vec<u32>,
    targets: Vec<(u32, Why)>,
}

impl Successors {
    fn new(node_count: usize, edges: &[Edge]) -> Successors {
        let mut starts = vec![0u32; node_count + 1];
        for &(from, _, _) in edges {
            starts[from as usize + 1] += 1;
        }
        for node in 0..node_count {
            starts[node + 1] += starts[node];
        }
        let mut next = starts.clone();
        let mut targets = vec![(0, Why::Requires); edges.len()];
        for &(from, to, why) in edges {
            let slot = &mut next[from as usize];
            targets[*slot as usize] = (to, why);
            *slot += 1;
        }
        Successors { starts, targets }
    }

    fn of(&self, node: usize) -> &[(u32, Why)] {
        &self.targets[self.starts[node] as usize..self.starts[node + 1] as usize]
    }
}

/// Orders the migrations of one hop.
///
/// `services` lists the services taking part in the hop in service order (a topological
/// order of `after`); `migrations` holds every migration the hop applies.
///
/// # Errors
/// [`NoPlan::OrderCycle`] when the ordering facts contradict each other, with the facts
/// along one cycle.
///
/// # Complexity
/// O((M + E) log M) for M migrations and E `requires` edges.
pub(crate) fn order_migrations(
    catalog: &Catalog,
    services: &[ServiceId],
    migrations: &[MigrationId],
    hop_label: &str,
) -> Result<Vec<MigrationId>, NoPlan> {
    let graph = hop_graph(catalog, services, migrations);
    let successors = Successors::new(graph.nodes.len(), &graph.edges);
    let mut in_degree = vec![0u32; graph.nodes.len()];
    for &(_, target, _) in &graph.edges {
        in_degree[target as usize] += 1;
    }
    // Kahn's algorithm, the smallest ready index first (the smallest key: see `Graph`).
    let mut ready: BinaryHeap<Reverse<u32>> = in_degree
        .iter()
        .enumerate()
        .filter(|(_, &degree)| degree == 0)
        .map(|(node, _)| Reverse(node as u32))
        .collect();
    let mut order = Vec::with_capacity(migrations.len());
    let mut visited = 0;
    while let Some(Reverse(node)) = ready.pop() {
        visited += 1;
        if let Node::Migration(migration) = graph.nodes[node as usize] {
            order.push(migration);
        }
        for &(target, _) in successors.of(node as usize) {
            in_degree[target as usize] -= 1;
            if in_degree[target as usize] == 0 {
                ready.push(Reverse(target));
            }
        }
    }
    if visited == graph.nodes.len() {
        return Ok(order);
    }
    Err(NoPlan::OrderCycle {
        hop: hop_label.to_owned(),
        facts: explain_cycle(catalog, &graph, &successors, &in_degree),
    })
}

/// The graph of one hop: each service's migrations as a chain of groups between barriers
/// (release, then phase), the services' barriers in service order, and `requires`.
fn hop_graph(catalog: &Catalog, services: &[ServiceId], migrations: &[MigrationId]) -> Graph {
    let mut graph = Graph {
        nodes: Vec::with_capacity(migrations.len() * 2),
        last_key: None,
        edges: Vec::with_capacity(migrations.len() * 3),
    };
    // Node of each migration of the hop. A map sized to the hop, not a table over the whole
    // catalog: a table would be allocated and cleared once per hop, which grows as
    // hops x migrations and misses the cache on large catalogs.
    let mut node_of_migration: FxHashMap<MigrationId, u32> =
        FxHashMap::with_capacity_and_hasher(migrations.len(), rustc_hash::FxBuildHasher);
    let mut by_service: Vec<Vec<MigrationId>> = vec![Vec::new(); catalog.services().len()];
    for &migration in migrations {
        by_service[catalog.migration(migration).service.index()].push(migration);
    }
    // Begin and end barrier of each service taking part.
    let mut ends: Vec<Option<(u32, u32)>> = vec![None; catalog.services().len()];
    for (rank, &service) in services.iter().enumerate() {
        let own = std::mem::take(&mut by_service[service.index()]);
        ends[service.index()] = Some(service_chain(
            catalog,
            &mut graph,
            &mut node_of_migration,
            rank as u32,
            own,
        ));
    }
    for &service in services {
        let Some((begin, _)) = ends[service.index()] else {
            continue;
        };
        for &earlier in &catalog.service(service).after {
            if let Some((_, end)) = ends[earlier.index()] {
                graph.edge(
                    end,
                    begin,
                    Why::ServiceOrder {
                        later: service,
                        earlier,
                    },
                );
            }
        }
    }
    for &migration in migrations {
        let Some(&node) = node_of_migration.get(&migration) else {
            continue;
        };
        for required in &catalog.migration(migration).requires {
            if let Some(&source) = node_of_migration.get(required) {
                graph.edge(source, node, Why::Requires);
            }
        }
    }
    graph
}

/// Adds one service's migrations (`own`, the service ranked `rank` in service order) as a
/// chain: a barrier, the migrations of its first (release, phase) group, a barrier, the
/// next group, and so on. Returns the first and last barrier.
fn service_chain(
    catalog: &Catalog,
    graph: &mut Graph,
    node_of_migration: &mut FxHashMap<MigrationId, u32>,
    rank: u32,
    mut own: Vec<MigrationId>,
) -> (u32, u32) {
    let group_of = |id: MigrationId| {
        let m = catalog.migration(id);
        (m.release, m.kind.phase())
    };
    own.sort_by_key(|&id| (group_of(id), id));
    let begin = graph.add(Node::Barrier, (rank, 0, 0));
    let mut barrier = begin;
    let mut position = 1;
    for group in own.chunk_by(|&a, &b| group_of(a) == group_of(b)) {
        let next_key = (rank, position + 1, 0);
        let mut members = Vec::with_capacity(group.len());
        for &id in group {
            let node = graph.add(Node::Migration(id), (rank, position, id.0));
            node_of_migration.insert(id, node);
            graph.edge(barrier, node, Why::WithinService);
            members.push(node);
        }
        let next = graph.add(Node::Barrier, next_key);
        for &member in &members {
            graph.edge(member, next, Why::WithinService);
        }
        barrier = next;
        position += 2;
    }
    if barrier == begin {
        let end = graph.add(Node::Barrier, (rank, 1, 0));
        graph.edge(begin, end, Why::WithinService);
        barrier = end;
    }
    (begin, barrier)
}

/// Finds one cycle among the nodes Kahn's algorithm could not reach, and states it as
/// facts between migrations (barriers folded into the reason of the fact that crosses them).
fn explain_cycle(
    catalog: &Catalog,
    graph: &Graph,
    successors: &Successors,
    in_degree: &[u32],
) -> Vec<OrderFact> {
    let stuck = |node: usize| in_degree[node] > 0;
    // Predecessors among stuck nodes; every stuck node has at least one.
    let mut predecessor: Vec<Option<(u32, Why)>> = vec![None; graph.nodes.len()];
    for source in 0..graph.nodes.len() {
        if !stuck(source) {
            continue;
        }
        for &(target, why) in successors.of(source) {
            if stuck(target as usize) && predecessor[target as usize].is_none() {
                predecessor[target as usize] = Some((source as u32, why));
            }
        }
    }
    let Some(start) = (0..graph.nodes.len()).find(|&node| stuck(node)) else {
        return Vec::new();
    };
    // Walk backwards until a node repeats: the walk from its first visit is a cycle.
    let mut walk = vec![start];
    let mut position = vec![usize::MAX; graph.nodes.len()];
    position[start] = 0;
    let cycle_start = loop {
        let current = *walk.last().unwrap_or(&start);
        let Some((previous, _)) = predecessor[current] else {
            return Vec::new();
        };
        let previous = previous as usize;
        if position[previous] != usize::MAX {
            break position[previous];
        }
        position[previous] = walk.len();
        walk.push(previous);
    };
    // `walk[cycle_start..]` goes backwards along edges; turn it forwards.
    let mut cycle: Vec<usize> = walk[cycle_start..].to_vec();
    cycle.reverse();
    // Rotate so that it starts at a migration.
    if let Some(first) = cycle
        .iter()
        .position(|&n| matches!(graph.nodes[n], Node::Migration(_)))
    {
        cycle.rotate_left(first);
    }
    let name = |node: usize| match graph.nodes[node] {
        Node::Migration(id) => Some(catalog.migration(id).id.clone()),
        Node::Barrier => None,
    };
    let mut facts = Vec::new();
    let count = cycle.len();
    let mut index = 0;
    while index < count {
        let Some(before) = name(cycle[index]) else {
            index += 1;
            continue;
        };
        // Follow the cycle to the next migration, remembering the strongest reason.
        let mut because: Option<Why> = None;
        let mut step = 1;
        let after = loop {
            let node = cycle[(index + step) % count];
            let previous = cycle[(index + step - 1) % count];
            if let Some((_, why)) = predecessor[node].filter(|(p, _)| *p as usize == previous) {
                because = match (because, why) {
                    (Some(Why::ServiceOrder { .. }), _) => because,
                    _ => Some(why),
                };
            }
            if let Some(after) = name(node) {
                break after;
            }
            step += 1;
        };
        let because = match because {
            Some(Why::Requires) => format!("{after} requires {before}"),
            Some(Why::ServiceOrder { later, earlier }) => format!(
                "{} is after {} (service order)",
                catalog.service(later).name,
                catalog.service(earlier).name
            ),
            _ => describe_within_service(catalog, &before, &after),
        };
        facts.push(OrderFact {
            before,
            after,
            because,
        });
        index += step;
    }
    facts
}

fn describe_within_service(catalog: &Catalog, before: &str, after: &str) -> String {
    let (Some(a), Some(b)) = (catalog.migration_id(before), catalog.migration_id(after)) else {
        return "order within the service".to_owned();
    };
    let (a, b) = (catalog.migration(a), catalog.migration(b));
    let service = &catalog.service(a.service).name;
    if a.release == b.release {
        format!(
            "{service}: {} migrations of a release run before its {} migrations",
            a.kind.as_str(),
            b.kind.as_str()
        )
    } else {
        format!(
            "{service}: migrations of {} run before those of {}",
            catalog.release(a.release).name,
            catalog.release(b.release).name
        )
    }
}
