//! The verifier: checks any plan (made by ffu, another tool or a person) against the safety
//! rules V1 to V11 of the design, and reports every violation with the steps involved.
//!
//! It is written from the rules, not from the planner: the property tests use it as the
//! independent judge of the planner's output.

use rustc_hash::FxHashMap as HashMap;
use std::fmt;

use petgraph::algo::dijkstra;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::migration::{MigrationId, MigrationKind};
use crate::plan::{Mode, Plan, Step, StepKind};
use crate::release::ReleaseId;
use crate::service::{ComponentId, Role, ServiceId};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule, `V1` to `V11`.
    pub rule: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The ids of the steps involved (empty for plan-wide rules such as the path).
    pub steps: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.message)
    }
}

/// Checks `plan` against rules V1 to V11 using `catalog`, and returns every violation found,
/// in rule order then step order. An empty list means the plan is safe.
///
/// # Errors
/// [`Error::BadPlan`] when the plan cannot be checked at all: it names another catalog,
/// repeats a step id, points at a hop that does not exist, or names a service, component
/// or release the catalog does not know.
///
/// # Complexity
/// O(N log N + M) for N steps and M catalog migrations.
///
/// # Example
/// ```
/// use ffu_core::{verify, Catalog, Policy};
/// let catalog = Catalog::openstack();
/// let mut plan = catalog.plan("newton", "pike", &Policy::default()).unwrap();
/// plan.steps.retain(|step| step.kind != ffu_core::StepKind::Backup);
/// let violations = verify(&catalog, &plan).unwrap();
/// assert!(violations.iter().all(|v| v.rule == "V9"));
/// ```
pub fn verify(catalog: &Catalog, plan: &Plan) -> Result<Vec<Violation>> {
    verify_document(catalog, plan, "<plan>")
}

/// [`verify`] for a plan read from `file` (a path, or a name such as `<stdin>`), which
/// errors about an unreadable plan name.
///
/// # Errors
/// As [`verify`], naming `file`.
///
/// # Example
/// ```
/// use ffu_core::{verify_document, Catalog, Policy};
/// let catalog = Catalog::openstack();
/// let mut plan = catalog.plan("newton", "ocata", &Policy::default()).unwrap();
/// plan.steps.push(plan.steps[0].clone());
/// let err = verify_document(&catalog, &plan, "p.json").unwrap_err();
/// assert!(err.to_string().starts_with("p.json: not a valid ffu-plan/1 document: step id"));
/// ```
pub fn verify_document(catalog: &Catalog, plan: &Plan, file: &str) -> Result<Vec<Violation>> {
    let _span = tracing::debug_span!("verify", steps = plan.steps.len()).entered();
    let context = Context::new(catalog, plan, file)?;
    let mut violations = Vec::new();
    context.check_path(&mut violations);
    context.check_coverage(&mut violations);
    context.check_order(&mut violations);
    context.check_blocking_data(&mut violations);
    context.check_service_order(&mut violations);
    context.check_running_rules(&mut violations);
    context.check_backups(&mut violations);
    Ok(violations)
}

/// The plan resolved against the catalog.
struct Context<'a> {
    catalog: &'a Catalog,
    plan: &'a Plan,
    from: Option<ReleaseId>,
    to: Option<ReleaseId>,
    included: Vec<bool>,
    /// Per step: its service, component, release and migration, resolved.
    service: Vec<Option<ServiceId>>,
    component: Vec<Option<ComponentId>>,
    release: Vec<Option<ReleaseId>>,
    migration: Vec<Option<MigrationId>>,
    position: HashMap<&'a str, usize>,
    /// Per hop: its target release.
    hop_target: Vec<Option<ReleaseId>>,
    /// Per catalog migration: whether the plan says the databases already hold it.
    applied: Vec<bool>,
}

fn bad(plan_file: &str, message: String) -> Error {
    Error::BadPlan {
        file: plan_file.to_owned(),
        message,
    }
}

impl<'a> Context<'a> {
    fn new(catalog: &'a Catalog, plan: &'a Plan, file: &str) -> Result<Context<'a>> {
        if plan.catalog != catalog.name() {
            return Err(bad(
                file,
                format!(
                    "the plan was made for catalog {:?}, not {:?}",
                    plan.catalog,
                    catalog.name()
                ),
            ));
        }
        let mut included = vec![plan.policy.services.is_none(); catalog.services().len()];
        for name in plan.policy.services.iter().flatten() {
            let id = catalog
                .service_id(name)
                .ok_or_else(|| bad(file, format!("policy names unknown service {name:?}")))?;
            included[id.index()] = true;
        }
        let mut position =
            HashMap::with_capacity_and_hasher(plan.steps.len(), rustc_hash::FxBuildHasher);
        let count = plan.steps.len();
        let (mut service, mut component, mut release, mut migration) = (
            Vec::with_capacity(count),
            Vec::with_capacity(count),
            Vec::with_capacity(count),
            Vec::with_capacity(count),
        );
        for (index, step) in plan.steps.iter().enumerate() {
            if position.insert(step.id.as_str(), index).is_some() {
                return Err(bad(
                    file,
                    format!("step id {:?} appears more than once", step.id),
                ));
            }
            if step.hop >= plan.hops.len() {
                return Err(bad(
                    file,
                    format!(
                        "step {} is in hop {}, but the plan has {} hops",
                        step.id,
                        step.hop,
                        plan.hops.len()
                    ),
                ));
            }
            let lookup = |what: &str,
                          name: &Option<String>,
                          find: &dyn Fn(&str) -> Option<u32>|
             -> Result<Option<u32>> {
                name.as_deref()
                    .map(|n| {
                        find(n).ok_or_else(|| {
                            bad(file, format!("step {} names unknown {what} {n:?}", step.id))
                        })
                    })
                    .transpose()
            };
            service.push(
                lookup("service", &step.service, &|n| {
                    catalog.service_id(n).map(|i| i.index() as u32)
                })?
                .map(ServiceId),
            );
            component.push(
                lookup("component", &step.component, &|n| {
                    catalog.component_id(n).map(|i| i.index() as u32)
                })?
                .map(ComponentId),
            );
            release.push(
                lookup("release", &step.release, &|n| {
                    catalog.release_id(n).map(|i| i.index() as u32)
                })?
                .map(ReleaseId),
            );
            // An unknown migration is a coverage violation (V2), not unreadable input.
            migration.push(
                step.migration
                    .as_deref()
                    .and_then(|m| catalog.migration_id(m)),
            );
        }
        let hop_target = plan
            .hops
            .iter()
            .map(|hop| catalog.release_id(&hop.to))
            .collect();
        // Unknown applied migrations are V2 violations, reported by check_coverage.
        let mut applied = vec![false; catalog.migrations().len()];
        for id in plan.applied.iter().filter_map(|m| catalog.migration_id(m)) {
            applied[id.index()] = true;
        }
        Ok(Context {
            catalog,
            plan,
            from: catalog.release_id(&plan.from),
            to: catalog.release_id(&plan.to),
            included,
            service,
            component,
            release,
            migration,
            position,
            hop_target,
            applied,
        })
    }

    fn steps(&self) -> impl Iterator<Item = (usize, &'a Step)> {
        self.plan.steps.iter().enumerate()
    }

    fn id(&self, index: usize) -> String {
        self.plan.steps[index].id.clone()
    }

    /// V1: the path starts at `from`, ends at `to`, goes forward over allowed edges only,
    /// has the fewest hops, and the hops match it.
    fn check_path(&self, out: &mut Vec<Violation>) {
        let v1 = |message: String| Violation {
            rule: "V1",
            message,
            steps: Vec::new(),
        };
        let (Some(from), Some(to)) = (self.from, self.to) else {
            out.push(v1(format!(
                "unknown release in from {:?} or to {:?}",
                self.plan.from, self.plan.to
            )));
            return;
        };
        let path = &self.plan.path;
        let mut ids = Vec::with_capacity(path.len());
        for name in path {
            let Some(id) = self.catalog.release_id(name) else {
                out.push(v1(format!("the path names unknown release {name:?}")));
                return;
            };
            ids.push(id);
        }
        if ids.first() != Some(&from) || ids.last() != Some(&to) {
            out.push(v1(format!(
                "the path must start at {} and end at {}",
                self.plan.from, self.plan.to
            )));
        }
        // Mixed versions are only supported between adjacent releases, so a rolling
        // upgrade never skips, whatever skip_level says.
        let rolling = self.plan.policy.mode == Mode::Rolling;
        let skips_allowed = self.plan.policy.skip_level && !rolling;
        for pair in ids.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (a_name, b_name) = (&self.catalog.release(a).name, &self.catalog.release(b).name);
            if b <= a {
                out.push(v1(format!("hop {a_name} -> {b_name} does not go forward")));
            } else if b.index() > a.index() + 1 {
                let declared = self
                    .catalog
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
        if from <= to {
            let fewest = self.fewest_hops(from, to, skips_allowed);
            let hops = ids.len().saturating_sub(1);
            if let Some(fewest) = fewest {
                if hops > fewest {
                    out.push(v1(format!(
                        "the path has {hops} hops, but {fewest} are enough"
                    )));
                }
            }
        } else {
            out.push(v1(format!(
                "{} comes before {}: downgrades are not plans",
                self.plan.to, self.plan.from
            )));
        }
        if self.plan.hops.len() != ids.len().saturating_sub(1) {
            out.push(v1(format!(
                "the plan has {} hops for a path of {} releases",
                self.plan.hops.len(),
                ids.len()
            )));
            return;
        }
        for (index, hop) in self.plan.hops.iter().enumerate() {
            let (a, b) = (ids[index], ids[index + 1]);
            let expected: Vec<&str> = if a < b {
                (a.index() + 1..=b.index())
                    .map(|i| self.catalog.releases()[i].name.as_str())
                    .collect()
            } else {
                Vec::new()
            };
            let same_ends = self.catalog.release_id(&hop.from) == Some(a)
                && self.catalog.release_id(&hop.to) == Some(b);
            let releases_ok = hop.releases.len() == expected.len()
                && hop
                    .releases
                    .iter()
                    .zip(&expected)
                    .all(|(r, e)| self.catalog.release_id(r) == self.catalog.release_id(e));
            if !same_ends || !releases_ok || hop.skip != (b.index() > a.index() + 1) {
                out.push(v1(format!(
                    "hop {index} ({} -> {}) does not match the path, its releases or its skip flag",
                    hop.from, hop.to
                )));
            }
        }
    }

    /// Shortest number of hops, by Dijkstra over the allowed edges (unit weights).
    fn fewest_hops(&self, from: ReleaseId, to: ReleaseId, skips: bool) -> Option<usize> {
        let count = self.catalog.releases().len();
        let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(count, count);
        for _ in 0..count {
            graph.add_node(());
        }
        for index in 1..count {
            graph.add_edge(NodeIndex::new(index - 1), NodeIndex::new(index), ());
        }
        if skips {
            for edge in self.catalog.skip_edges() {
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

    /// V2: every migration that must run appears exactly once, in the right hop, with its
    /// kind; no other migration appears.
    fn check_coverage(&self, out: &mut Vec<Violation>) {
        let (Some(from), Some(to)) = (self.from, self.to) else {
            return;
        };
        let mut seen: Vec<Vec<usize>> = vec![Vec::new(); self.catalog.migrations().len()];
        for (index, step) in self.steps() {
            if step.kind.is_migration() || step.migration.is_some() {
                let Some(id) = self.migration[index] else {
                    let message = match &step.migration {
                        Some(name) => format!(
                            "step {} runs migration {name:?}, which the catalog does not have",
                            step.id
                        ),
                        None => format!(
                            "step {} is a {} step without a migration",
                            step.id,
                            step.kind.as_str()
                        ),
                    };
                    out.push(Violation {
                        rule: "V2",
                        message,
                        steps: vec![step.id.clone()],
                    });
                    continue;
                };
                seen[id.index()].push(index);
                let migration = self.catalog.migration(id);
                if migration.kind.as_str() != step.kind.as_str() {
                    out.push(Violation {
                        rule: "V2",
                        message: format!(
                            "step {} runs {} as {}, but it is a {} migration",
                            step.id,
                            migration.id,
                            step.kind.as_str(),
                            migration.kind.as_str()
                        ),
                        steps: vec![step.id.clone()],
                    });
                }
                let hop = &self.plan.hops[step.hop];
                let in_hop = hop
                    .releases
                    .iter()
                    .any(|r| self.catalog.release_id(r) == Some(migration.release));
                if !in_hop {
                    out.push(Violation {
                        rule: "V2",
                        message: format!(
                            "step {} runs {} of release {} in hop {} -> {}, whose releases do not contain it",
                            step.id, migration.id, self.catalog.release(migration.release).name, hop.from, hop.to
                        ),
                        steps: vec![step.id.clone()],
                    });
                }
            }
        }
        for name in &self.plan.applied {
            let known = self.catalog.migration_id(name);
            let in_scope = known.is_some_and(|id| {
                let migration = self.catalog.migration(id);
                self.included[migration.service.index()]
                    && migration.release > from
                    && migration.release <= to
            });
            if !in_scope {
                out.push(Violation {
                    rule: "V2",
                    message: match known {
                        None => format!("the plan lists {name:?} as applied, but the catalog has no such migration"),
                        Some(_) => format!("the plan lists {name} as applied, but it is outside the releases or services upgraded"),
                    },
                    steps: Vec::new(),
                });
            }
        }
        for (index, migration) in self.catalog.migrations().iter().enumerate() {
            let in_scope = self.included[migration.service.index()]
                && migration.release > from
                && migration.release <= to;
            let steps = &seen[index];
            if in_scope && self.applied[index] {
                if !steps.is_empty() {
                    out.push(Violation {
                        rule: "V2",
                        message: format!(
                            "migration {} runs, but the plan lists it as already applied",
                            migration.id
                        ),
                        steps: steps.iter().map(|&i| self.id(i)).collect(),
                    });
                }
                continue;
            }
            let expected = in_scope;
            match (expected, steps.len()) {
                (true, 1) | (false, 0) => {}
                (true, 0) => out.push(Violation {
                    rule: "V2",
                    message: format!("migration {} ({} {}) is missing", migration.id, self.catalog.service(migration.service).name, self.catalog.release(migration.release).name),
                    steps: Vec::new(),
                }),
                (true, _) => out.push(Violation {
                    rule: "V2",
                    message: format!("migration {} runs {} times", migration.id, steps.len()),
                    steps: steps.iter().map(|&i| self.id(i)).collect(),
                }),
                (false, _) => out.push(Violation {
                    rule: "V2",
                    message: format!("migration {} does not belong in this plan (outside the releases or services upgraded)", migration.id),
                    steps: steps.iter().map(|&i| self.id(i)).collect(),
                }),
            }
        }
    }

    /// Positions of the migration steps, by migration (first occurrence).
    fn migration_positions(&self) -> Vec<Option<usize>> {
        let mut positions = vec![None; self.catalog.migrations().len()];
        for (index, id) in self.migration.iter().enumerate() {
            if let Some(id) = id {
                positions[id.index()].get_or_insert(index);
            }
        }
        positions
    }

    /// V3: requirements first; a service's releases in order; within a service and release,
    /// expand < migrate < contract, and data after expand and migrate.
    fn check_order(&self, out: &mut Vec<Violation>) {
        for (index, step) in self.steps() {
            for required in &step.requires {
                match self.position.get(required.as_str()) {
                    Some(&at) if at < index => {}
                    Some(_) => out.push(Violation {
                        rule: "V3",
                        message: format!(
                            "step {} comes before {required}, which it requires",
                            step.id
                        ),
                        steps: vec![step.id.clone(), required.clone()],
                    }),
                    None => out.push(Violation {
                        rule: "V3",
                        message: format!(
                            "step {} requires {required}, which is not in the plan",
                            step.id
                        ),
                        steps: vec![step.id.clone()],
                    }),
                }
            }
        }
        let positions = self.migration_positions();
        // An applied migration ran before the plan: so must everything it requires.
        if let Some(from) = self.from {
            for (index, migration) in self.catalog.migrations().iter().enumerate() {
                if !self.applied[index] {
                    continue;
                }
                for required in &migration.requires {
                    let other = self.catalog.migration(*required);
                    if !self.applied[required.index()] && other.release > from {
                        out.push(Violation {
                            rule: "V3",
                            message: format!(
                                "{} is listed as applied, but {}, which it requires, is not",
                                migration.id, other.id
                            ),
                            steps: positions[required.index()]
                                .map(|at| self.id(at))
                                .into_iter()
                                .collect(),
                        });
                    }
                }
            }
        }
        for (index, id) in self.migration.iter().enumerate() {
            let Some(id) = id else { continue };
            for required in &self.catalog.migration(*id).requires {
                if let Some(at) = positions[required.index()] {
                    if at > index {
                        out.push(Violation {
                            rule: "V3",
                            message: format!(
                                "{} runs before {}, which it requires",
                                self.catalog.migration(*id).id,
                                self.catalog.migration(*required).id
                            ),
                            steps: vec![self.id(index), self.id(at)],
                        });
                    }
                }
            }
        }
        // Per service: releases never go back; per (service, release): kind order.
        let mut latest: HashMap<ServiceId, (ReleaseId, usize)> = HashMap::default();
        let mut by_group: HashMap<(ServiceId, ReleaseId), Vec<(usize, MigrationKind)>> =
            HashMap::default();
        for (index, id) in self.migration.iter().enumerate() {
            let Some(id) = id else { continue };
            let migration = self.catalog.migration(*id);
            match latest.get(&migration.service) {
                Some(&(release, at)) if release > migration.release => out.push(Violation {
                    rule: "V3",
                    message: format!(
                        "{} of {} runs after a {} migration of the same service",
                        migration.id,
                        self.catalog.release(migration.release).name,
                        self.catalog.release(release).name
                    ),
                    steps: vec![self.id(at), self.id(index)],
                }),
                _ => {
                    latest.insert(migration.service, (migration.release, index));
                }
            }
            by_group
                .entry((migration.service, migration.release))
                .or_default()
                .push((index, migration.kind));
        }
        let mut groups: Vec<_> = by_group.into_iter().collect();
        groups.sort_by_key(|(key, _)| *key);
        for ((service, release), members) in groups {
            let rules = [
                (MigrationKind::Expand, MigrationKind::Migrate),
                (MigrationKind::Expand, MigrationKind::Contract),
                (MigrationKind::Migrate, MigrationKind::Contract),
                (MigrationKind::Expand, MigrationKind::Data),
                (MigrationKind::Migrate, MigrationKind::Data),
            ];
            for (earlier, later) in rules {
                let last_earlier = members
                    .iter()
                    .filter(|(_, k)| *k == earlier)
                    .map(|&(at, _)| at)
                    .max();
                let first_later = members
                    .iter()
                    .filter(|(_, k)| *k == later)
                    .map(|&(at, _)| at)
                    .min();
                let (Some(a), Some(b)) = (last_earlier, first_later) else {
                    continue;
                };
                if b < a {
                    out.push(Violation {
                        rule: "V3",
                        message: format!(
                            "{} {} migration {} runs before {} migration {} of the same release {}",
                            self.catalog.service(service).name,
                            later.as_str(),
                            self.plan.steps[b].id,
                            earlier.as_str(),
                            self.plan.steps[a].id,
                            self.catalog.release(release).name
                        ),
                        steps: vec![self.id(b), self.id(a)],
                    });
                }
            }
        }
    }

    /// V4: a blocking data migration of (service, r) comes before every schema migration of
    /// that service in a later release.
    fn check_blocking_data(&self, out: &mut Vec<Violation>) {
        let mut per_service: HashMap<ServiceId, Vec<usize>> = HashMap::default();
        for (index, id) in self.migration.iter().enumerate() {
            if let Some(id) = id {
                per_service
                    .entry(self.catalog.migration(*id).service)
                    .or_default()
                    .push(index);
            }
        }
        let mut services: Vec<_> = per_service.into_iter().collect();
        services.sort_by_key(|(service, _)| *service);
        for (_, steps) in services {
            for &data_at in &steps {
                let data = self
                    .catalog
                    .migration(self.migration[data_at].unwrap_or(MigrationId(0)));
                if data.kind != MigrationKind::Data || !data.blocking {
                    continue;
                }
                for &schema_at in &steps {
                    let schema = self
                        .catalog
                        .migration(self.migration[schema_at].unwrap_or(MigrationId(0)));
                    if schema.kind.is_schema()
                        && schema.release > data.release
                        && schema_at < data_at
                    {
                        out.push(Violation {
                            rule: "V4",
                            message: format!(
                                "{} ({}) runs before the blocking data migration {} ({}) has finished",
                                schema.id,
                                self.catalog.release(schema.release).name,
                                data.id,
                                self.catalog.release(data.release).name
                            ),
                            steps: vec![self.id(schema_at), self.id(data_at)],
                        });
                    }
                }
            }
        }
    }

    /// V5: per hop, all migrations of B before those of A when A is after B, and B's
    /// components really started before A's.
    fn check_service_order(&self, out: &mut Vec<Violation>) {
        let hops = self.plan.hops.len();
        let services = self.catalog.services().len();
        // (first, last) migration position per (hop, service).
        let mut span: Vec<Option<(usize, usize)>> = vec![None; hops * services];
        // (first, last) real start position per (hop, service).
        let mut starts: Vec<Option<(usize, usize)>> = vec![None; hops * services];
        let widen = |slot: &mut Option<(usize, usize)>, at: usize| {
            *slot = Some(slot.map_or((at, at), |(a, b)| (a.min(at), b.max(at))));
        };
        for (index, step) in self.steps() {
            if let Some(id) = self.migration[index] {
                let service = self.catalog.migration(id).service;
                widen(&mut span[step.hop * services + service.index()], index);
            }
        }
        // A start is real when the instance (component on its host) is not stopped again
        // later in the plan.
        let mut stopped_later: rustc_hash::FxHashSet<(Option<&str>, ComponentId)> =
            rustc_hash::FxHashSet::default();
        for (index, step) in self.steps().collect::<Vec<_>>().into_iter().rev() {
            let Some(component) = self.component[index] else {
                continue;
            };
            let instance = (step.host.as_deref(), component);
            match step.kind {
                StepKind::Stop => {
                    stopped_later.insert(instance);
                }
                StepKind::Start if !stopped_later.contains(&instance) => {
                    let service = self.catalog.component(component).service;
                    widen(&mut starts[step.hop * services + service.index()], index);
                }
                _ => {}
            }
        }
        for hop in 0..hops {
            for (a_index, a) in self.catalog.services().iter().enumerate() {
                for &b in &a.after {
                    for (table, what) in [(&span, "migrations"), (&starts, "component starts")] {
                        let (Some((a_first, _)), Some((_, b_last))) = (
                            table[hop * services + a_index],
                            table[hop * services + b.index()],
                        ) else {
                            continue;
                        };
                        if a_first < b_last {
                            out.push(Violation {
                                rule: "V5",
                                message: format!(
                                    "in hop {hop}, {} {what} must all come after {}'s ({} is after {}), but {} comes before {}",
                                    a.name,
                                    self.catalog.service(b).name,
                                    a.name,
                                    self.catalog.service(b).name,
                                    self.plan.steps[a_first].id,
                                    self.plan.steps[b_last].id
                                ),
                                steps: vec![self.id(a_first), self.id(b_last)],
                            });
                        }
                    }
                }
            }
        }
    }

    /// V6, V7, V8, V10 and V11, by replaying which instances run, and at which release.
    ///
    /// An instance is a component on a host (or anywhere, for plans without hosts).
    /// Without hosts, a component runs at `from` when it exists there; on a host, it runs
    /// at the release its first step stops it at, or not at all if its first step starts it.
    fn check_running_rules(&self, out: &mut Vec<Violation>) {
        let Some(from) = self.from else { return };
        let catalog = self.catalog;
        let releases = catalog.releases().len();
        let offline = self.plan.policy.mode == Mode::Offline;
        let rolling = !offline;
        let mut state = Fleet::new(catalog, releases);
        // A plan whose steps name hosts describes its fleet itself (first touches below);
        // otherwise every component that exists at `from` runs once, somewhere.
        let per_host = self.plan.steps.iter().any(|step| step.host.is_some());
        for (index, component) in catalog.components().iter().enumerate() {
            if !per_host
                && component.exists_at(from)
                && catalog.service(component.service).exists_at(from)
            {
                state.set((None, ComponentId(index as u32)), Some(from));
            }
        }
        let mut first_seen: rustc_hash::FxHashSet<(&str, ComponentId)> =
            rustc_hash::FxHashSet::default();
        for (index, step) in self.steps() {
            let (Some(host), Some(component)) = (step.host.as_deref(), self.component[index])
            else {
                continue;
            };
            if first_seen.insert((host, component)) && step.kind == StepKind::Stop {
                let release = self.release[index].unwrap_or(from);
                state.set((Some(host), component), Some(release));
            }
        }
        // What each service advertises (rolling plans), and whether a finalize came after
        // its last upgrade.
        let mut declared: Vec<Vec<String>> = vec![Vec::new(); catalog.services().len()];
        let mut initial: Vec<Vec<String>> = vec![Vec::new(); catalog.services().len()];
        let mut finalized = vec![false; catalog.services().len()];
        let has_extensions: Vec<bool> = (0..catalog.services().len())
            .map(|s| catalog.extensions().iter().any(|e| e.service.index() == s))
            .collect();
        if rolling {
            for (service, flags) in has_extensions.iter().enumerate() {
                if *flags {
                    let running = state.server_releases(ServiceId(service as u32));
                    let negotiated = catalog.negotiate_releases(
                        ServiceId(service as u32),
                        &running,
                        running.first().copied(),
                    );
                    initial[service].clone_from(&negotiated.advertised);
                    declared[service] = negotiated.advertised;
                }
            }
        }
        let mut needed_in_hop: Vec<Vec<ComponentId>> = vec![Vec::new(); self.plan.hops.len()];
        let mut first_migration_seen = vec![false; self.plan.hops.len()];
        let mut skew_reported = vec![false; catalog.services().len() * self.plan.hops.len().max(1)];
        for (index, step) in self.steps() {
            let host = step.host.as_deref();
            let mut touched: Option<ServiceId> = None;
            match (step.kind, self.component[index]) {
                (StepKind::Stop, Some(component)) => {
                    if self.plan.policy.keep_dataplane
                        && catalog.component(component).role == Role::Dataplane
                    {
                        out.push(Violation {
                            rule: "V7",
                            message: format!(
                                "step {} stops data plane component {}, which must keep running",
                                step.id,
                                catalog.component(component).name
                            ),
                            steps: vec![step.id.clone()],
                        });
                    }
                    state.set((host, component), None);
                    touched = Some(catalog.component(component).service);
                }
                (StepKind::Start, Some(component)) => {
                    state.set(
                        (host, component),
                        self.release[index].or(self.hop_target[step.hop]),
                    );
                    let service = catalog.component(component).service;
                    finalized[service.index()] = false;
                    touched = Some(service);
                }
                (StepKind::Finalize, _) => {
                    if let Some(service) = self.service[index] {
                        finalized[service.index()] = true;
                    }
                }
                _ => {}
            }
            if let Some(service) = touched {
                self.check_skew(&state, service, step, &mut skew_reported, out);
            }
            if rolling {
                self.check_advertised(
                    &state,
                    step,
                    &mut declared,
                    &initial,
                    &finalized,
                    &has_extensions,
                    out,
                );
            }
            let Some(id) = self.migration[index] else {
                continue;
            };
            let migration = catalog.migration(id);
            let target = self.hop_target[step.hop];
            // V8 (second half): what the previous hop started must be stopped again before
            // this hop's first migration, unless it was restarted at this hop's release.
            if offline && !first_migration_seen[step.hop] {
                first_migration_seen[step.hop] = true;
                if step.hop > 0 {
                    for &component in &needed_in_hop[step.hop - 1] {
                        if state.running_other_than(component, target) {
                            out.push(Violation {
                                rule: "V8",
                                message: format!(
                                    "{} still runs from hop {} when hop {}'s first migration {} starts",
                                    catalog.component(component).name,
                                    step.hop - 1,
                                    step.hop,
                                    migration.id
                                ),
                                steps: vec![step.id.clone()],
                            });
                        }
                    }
                }
            }
            for &component in &migration.needs_running {
                needed_in_hop[step.hop].push(component);
                if target.is_none_or(|t| state.count(component, t) == 0) {
                    out.push(Violation {
                        rule: "V8",
                        message: format!(
                            "{} needs {} running at {} but it {}",
                            migration.id,
                            catalog.component(component).name,
                            self.plan.hops[step.hop].to,
                            match state.any_release(component) {
                                None => "is not running".to_owned(),
                                Some(release) => format!("runs {}", catalog.release(release).name),
                            }
                        ),
                        steps: vec![step.id.clone()],
                    });
                }
            }
            if !migration.kind.is_schema() {
                continue;
            }
            for &component in &catalog.service(migration.service).components {
                let data = catalog.component(component);
                if offline {
                    if data.role == Role::Control
                        && !migration.needs_running.contains(&component)
                        && state.any_release(component).is_some()
                    {
                        out.push(Violation {
                            rule: "V6",
                            message: format!(
                                "offline schema migration {} runs while {} is running",
                                migration.id, data.name
                            ),
                            steps: vec![step.id.clone()],
                        });
                    }
                } else if migration.kind == MigrationKind::Contract && data.role != Role::Dataplane
                {
                    if let Some(oldest) = state.oldest_release(component) {
                        if target.is_some_and(|t| oldest < t) {
                            out.push(Violation {
                                rule: "V6",
                                message: format!(
                                    "contract {} runs while {} still runs the older release {}",
                                    migration.id,
                                    data.name,
                                    catalog.release(oldest).name
                                ),
                                steps: vec![step.id.clone()],
                            });
                        }
                    }
                }
            }
        }
    }

    /// V11: no running agent lags a running control component of its service by more
    /// than the service's `max_skew` releases.
    fn check_skew(
        &self,
        state: &Fleet,
        service: ServiceId,
        step: &Step,
        reported: &mut [bool],
        out: &mut Vec<Violation>,
    ) {
        let catalog = self.catalog;
        let data = catalog.service(service);
        let mut newest_control: Option<ReleaseId> = None;
        let mut oldest_agent: Option<(ReleaseId, ComponentId)> = None;
        for &component in &data.components {
            match catalog.component(component).role {
                Role::Control => {
                    newest_control = newest_control.max(state.newest_release(component));
                }
                Role::Agent => {
                    if let Some(oldest) = state.oldest_release(component) {
                        if oldest_agent.is_none_or(|(current, _)| oldest < current) {
                            oldest_agent = Some((oldest, component));
                        }
                    }
                }
                Role::Dataplane => {}
            }
        }
        let (Some(control), Some((agent, component))) = (newest_control, oldest_agent) else {
            return;
        };
        let lag = control.index().saturating_sub(agent.index());
        let slot = step.hop * catalog.services().len() + service.index();
        if lag > data.max_skew as usize && !reported.get(slot).copied().unwrap_or(true) {
            reported[slot] = true;
            out.push(Violation {
                rule: "V11",
                message: format!(
                    "after step {}, {} runs {} while a {} control component runs {}: {lag} releases behind, more than max_skew {}",
                    step.id,
                    catalog.component(component).name,
                    catalog.release(agent).name,
                    data.name,
                    catalog.release(control).name,
                    data.max_skew
                ),
                steps: vec![step.id.clone()],
            });
        }
    }

    /// V10: what each service advertises is supported by all its running servers, closed
    /// under `requires`, and new extensions appear only after a finalize step that follows
    /// the service's last upgrade.
    #[allow(clippy::too_many_arguments)]
    fn check_advertised(
        &self,
        state: &Fleet,
        step: &Step,
        declared: &mut [Vec<String>],
        initial: &[Vec<String>],
        finalized: &[bool],
        has_extensions: &[bool],
        out: &mut Vec<Violation>,
    ) {
        let catalog = self.catalog;
        let mut services: Vec<ServiceId> = Vec::new();
        if let Some(advertised) = &step.advertised {
            for (name, extensions) in advertised {
                let Some(service) = catalog.service_id(name) else {
                    continue;
                };
                let fresh: Vec<&String> = extensions
                    .iter()
                    .filter(|e| {
                        !declared[service.index()].contains(e)
                            && !initial[service.index()].contains(e)
                    })
                    .collect();
                if !fresh.is_empty() && !finalized[service.index()] {
                    out.push(Violation {
                        rule: "V10",
                        message: format!(
                            "step {} starts advertising {} of {} before a finalize step that follows the last upgrade of {}",
                            step.id,
                            fresh.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "),
                            name,
                            name
                        ),
                        steps: vec![step.id.clone()],
                    });
                }
                declared[service.index()].clone_from(extensions);
                services.push(service);
            }
        }
        if let Some(component) = step
            .component
            .as_deref()
            .and_then(|c| catalog.component_id(c))
        {
            services.push(catalog.component(component).service);
        }
        for service in services {
            if !has_extensions[service.index()] {
                continue;
            }
            let running = state.server_releases(service);
            // With no server running nobody advertises anything; the rule is about what
            // running servers offer.
            if running.is_empty() {
                continue;
            }
            let allowed = catalog
                .negotiate_releases(service, &running, None)
                .advertised;
            let beyond: Vec<&str> = declared[service.index()]
                .iter()
                .filter(|e| !allowed.contains(e))
                .map(String::as_str)
                .collect();
            if !beyond.is_empty() {
                out.push(Violation {
                    rule: "V10",
                    message: format!(
                        "after step {}, {} advertises {}, which not every running server supports (or whose requirements are missing)",
                        step.id,
                        catalog.service(service).name,
                        beyond.join(", ")
                    ),
                    steps: vec![step.id.clone()],
                });
                // Report a wrong set once, not at every later step.
                declared[service.index()].retain(|e| allowed.contains(e));
            }
        }
    }

    /// V9: a backup of the service, in the same hop, before its first contract or
    /// irreversible migration.
    fn check_backups(&self, out: &mut Vec<Violation>) {
        let services = self.catalog.services().len();
        let mut backup_seen = vec![false; self.plan.hops.len() * services];
        let mut reported = vec![false; self.plan.hops.len() * services];
        for (index, step) in self.steps() {
            if step.kind == StepKind::Backup {
                if let Some(service) = self.service[index] {
                    backup_seen[step.hop * services + service.index()] = true;
                }
                continue;
            }
            let Some(id) = self.migration[index] else {
                continue;
            };
            let migration = self.catalog.migration(id);
            let slot = step.hop * services + migration.service.index();
            if migration.needs_backup() && !backup_seen[slot] && !reported[slot] {
                reported[slot] = true;
                out.push(Violation {
                    rule: "V9",
                    message: format!(
                        "{} ({}) runs in hop {} with no earlier backup of {} in that hop",
                        migration.id,
                        if migration.kind == MigrationKind::Contract {
                            "contract"
                        } else {
                            "not reversible"
                        },
                        step.hop,
                        self.catalog.service(migration.service).name
                    ),
                    steps: vec![step.id.clone()],
                });
            }
        }
    }
}

/// Which instances run, and at which release: per instance, and counted per component and
/// release so that "is any instance of X running (at R)" is cheap on a fleet of thousands.
struct Fleet<'a> {
    catalog: &'a Catalog,
    releases: usize,
    instances: HashMap<(Option<&'a str>, ComponentId), ReleaseId>,
    /// `counts[component * releases + release]`: running instances.
    counts: Vec<u32>,
}

impl<'a> Fleet<'a> {
    fn new(catalog: &'a Catalog, releases: usize) -> Fleet<'a> {
        Fleet {
            catalog,
            releases,
            instances: HashMap::default(),
            counts: vec![0; catalog.components().len() * releases],
        }
    }

    fn set(&mut self, key: (Option<&'a str>, ComponentId), release: Option<ReleaseId>) {
        let component = key.1.index();
        if let Some(old) = self.instances.remove(&key) {
            self.counts[component * self.releases + old.index()] -= 1;
        }
        if let Some(new) = release {
            self.instances.insert(key, new);
            self.counts[component * self.releases + new.index()] += 1;
        }
    }

    fn count(&self, component: ComponentId, release: ReleaseId) -> u32 {
        self.counts[component.index() * self.releases + release.index()]
    }

    fn row(&self, component: ComponentId) -> &[u32] {
        let start = component.index() * self.releases;
        &self.counts[start..start + self.releases]
    }

    fn oldest_release(&self, component: ComponentId) -> Option<ReleaseId> {
        self.row(component)
            .iter()
            .position(|&n| n > 0)
            .map(|r| ReleaseId(r as u32))
    }

    fn newest_release(&self, component: ComponentId) -> Option<ReleaseId> {
        self.row(component)
            .iter()
            .rposition(|&n| n > 0)
            .map(|r| ReleaseId(r as u32))
    }

    fn any_release(&self, component: ComponentId) -> Option<ReleaseId> {
        self.newest_release(component)
    }

    /// Whether an instance runs at a release other than `release`.
    fn running_other_than(&self, component: ComponentId, release: Option<ReleaseId>) -> bool {
        self.row(component)
            .iter()
            .enumerate()
            .any(|(r, &n)| n > 0 && Some(ReleaseId(r as u32)) != release)
    }

    /// The releases the service's control components run, ascending, deduplicated.
    fn server_releases(&self, service: ServiceId) -> Vec<ReleaseId> {
        let mut running = vec![false; self.releases];
        for &component in &self.catalog.service(service).components {
            if self.catalog.component(component).role == Role::Control {
                for (r, &n) in self.row(component).iter().enumerate() {
                    running[r] |= n > 0;
                }
            }
        }
        (0..self.releases)
            .filter(|&r| running[r])
            .map(|r| ReleaseId(r as u32))
            .collect()
    }
}
