//! The shape of a plan before its steps: the path of releases, its hops, which migrations
//! each hop runs, and the order of the services. The builders (`offline`, `rolling`) read
//! it hop by hop ([`Layout::hop`]); the outline keeps what migration steps need of it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::catalog::Catalog;
use crate::migration::{MigrationId, MigrationKind};
use crate::plan::{Hop, Mode};
use crate::release::ReleaseId;
use crate::service::ServiceId;

use super::steps::StepPlace;

/// The path of a plan and what runs in each of its hops.
pub(super) struct Layout {
    /// The releases along the path, `from` first.
    pub(super) path: Vec<ReleaseId>,
    /// The hops between consecutive releases of the path.
    pub(super) hops: Vec<Hop>,
    /// Per hop, its migrations, in catalog order.
    pub(super) migrations: Vec<Vec<MigrationId>>,
    /// Per catalog migration, the hop that runs it (`None`: not in the plan).
    pub(super) hop_of_migration: Vec<Option<u32>>,
    /// The upgraded services, in service order.
    pub(super) service_order: Vec<ServiceId>,
    /// The ids of the migrations in the path that the databases hold already, which the
    /// plan leaves out.
    pub(super) applied: Vec<String>,
    /// Revisions the databases hold of migrations the plan runs (DESIGN §12): their steps
    /// apply only the others.
    pub(super) applied_revisions: Vec<String>,
    /// The blocking data migrations of each upgraded service's current release, in service
    /// order: the starting release finished first, in hop 0 (DESIGN §8, V12).
    pub(super) starting: Vec<MigrationId>,
    /// Offline: the target release's data migrations that nothing in the last hop needs
    /// first, taken out of its `migrations` to run in the converge phase.
    pub(super) converge: Vec<MigrationId>,
    /// The plan's mode.
    pub(super) mode: Mode,
}

/// One hop of a [`Layout`], as a builder sees it.
#[derive(Clone, Copy)]
pub(super) struct HopLayout<'a> {
    /// The index of the hop (the `h{index}` of its step ids).
    pub(super) index: usize,
    pub(super) hop: &'a Hop,
    /// The release the hop starts from.
    pub(super) start: ReleaseId,
    /// The release the hop ends at.
    pub(super) end: ReleaseId,
    /// Its migrations, in catalog order.
    pub(super) migrations: &'a [MigrationId],
    /// Whether it is the last hop, which ends at the target.
    pub(super) last: bool,
}

impl Layout {
    /// The layout along `path` of the `included` services' migrations, leaving out those
    /// `applied` marks (empty, or one flag per catalog migration); `current` is each
    /// service's current release, whose blocking data migrations run first.
    pub(super) fn new(
        catalog: &Catalog,
        path: Vec<ReleaseId>,
        included: &[bool],
        applied: &[bool],
        current: &[ReleaseId],
        mode: Mode,
    ) -> Layout {
        let hop_of_release = hop_of_releases(catalog, &path);
        let (from, to) = (path[0], path[path.len() - 1]);
        let mut migrations: Vec<Vec<MigrationId>> = vec![Vec::new(); path.len().saturating_sub(1)];
        let mut hop_of_migration: Vec<Option<u32>> = vec![None; catalog.migrations().len()];
        let mut already_applied = Vec::new();
        for (index, migration) in catalog.migrations().iter().enumerate() {
            if !included[migration.service.index()]
                || migration.release <= from
                || migration.release > to
            {
                continue;
            }
            if applied.get(index).copied().unwrap_or(false) {
                already_applied.push(migration.id.clone());
            } else if let Some(hop) = hop_of_release[migration.release.index()] {
                migrations[hop].push(MigrationId(index as u32));
                hop_of_migration[index] = Some(hop as u32);
            }
        }
        let hops = path
            .windows(2)
            .map(|pair| Hop {
                from: catalog.release(pair[0]).name.clone(),
                to: catalog.release(pair[1]).name.clone(),
                skip: pair[1].index() > pair[0].index() + 1,
                releases: (pair[0].index() + 1..=pair[1].index())
                    .map(|index| catalog.releases()[index].name.clone())
                    .collect(),
            })
            .collect();
        let service_order = service_order(catalog, included);
        let starting = starting_migrations(catalog, &service_order, current, &hop_of_migration);
        let converge = match (mode, migrations.last_mut()) {
            (Mode::Offline, Some(last)) => take_converge(catalog, last, to),
            _ => Vec::new(),
        };
        Layout {
            service_order,
            path,
            hops,
            migrations,
            hop_of_migration,
            applied: already_applied,
            applied_revisions: Vec::new(),
            starting,
            converge,
            mode,
        }
    }

    /// Hop `index`.
    pub(super) fn hop(&self, index: usize) -> HopLayout<'_> {
        HopLayout {
            index,
            hop: &self.hops[index],
            start: self.path[index],
            end: self.path[index + 1],
            migrations: &self.migrations[index],
            last: index + 1 == self.hops.len(),
        }
    }

    /// The release the plan starts from.
    pub(super) fn from(&self) -> ReleaseId {
        self.path[0]
    }

    /// The release the plan ends at.
    pub(super) fn to(&self) -> ReleaseId {
        self.path[self.path.len() - 1]
    }

    /// How many migrations the plan runs.
    pub(super) fn migration_count(&self) -> usize {
        self.migrations.iter().map(Vec::len).sum()
    }

    /// Where the steps of hop `hop` stand, for the text of its migration steps; `in_hop`
    /// says per service whether it takes part in the hop.
    pub(super) fn place<'a>(
        &'a self,
        catalog: &'a Catalog,
        hop: &HopLayout<'a>,
        in_hop: &'a [bool],
    ) -> StepPlace<'a> {
        StepPlace {
            catalog,
            hop_index: hop.index,
            hop: hop.hop,
            in_hop,
            hop_of_migration: &self.hop_of_migration,
            skip_revisions: &self.applied_revisions,
            stage: super::steps::Stage::Hop,
            mode: self.mode,
        }
    }
}

/// The blocking data migrations of each service's `current` release, in service order,
/// except those the plan runs in a hop anyway.
fn starting_migrations(
    catalog: &Catalog,
    service_order: &[ServiceId],
    current: &[ReleaseId],
    hop_of_migration: &[Option<u32>],
) -> Vec<MigrationId> {
    let mut starting = Vec::new();
    for &service in service_order {
        let release = current[service.index()];
        starting.extend(
            catalog
                .migrations_of(service)
                .iter()
                .copied()
                .filter(|&id| {
                    let migration = catalog.migration(id);
                    migration.release == release
                        && migration.kind == MigrationKind::Data
                        && migration.blocking
                        && hop_of_migration[id.index()].is_none()
                }),
        );
    }
    starting
}

/// Takes out of `last` (the last hop's migrations) the data migrations of the target `to`
/// that no migration left in it requires (directly or through others), and gives them
/// back in catalog order: they run in the converge phase, once everything runs the target.
fn take_converge(
    catalog: &Catalog,
    last: &mut Vec<MigrationId>,
    to: ReleaseId,
) -> Vec<MigrationId> {
    let mut moving: Vec<bool> = last
        .iter()
        .map(|&id| {
            // One that needs a component running keeps its temporary start in the
            // migrations phase: the component may not be deployed anywhere to be running.
            let migration = catalog.migration(id);
            migration.kind == MigrationKind::Data
                && migration.release == to
                && migration.needs_running.is_empty()
        })
        .collect();
    if !moving.contains(&true) {
        return Vec::new();
    }
    // A migration that stays keeps what it requires: repeat until nothing changes (the
    // chains are short; the last hop holds a few migrations per service).
    let position: rustc_hash::FxHashMap<MigrationId, usize> = last
        .iter()
        .enumerate()
        .map(|(index, &id)| (id, index))
        .collect();
    let mut changed = true;
    while changed {
        changed = false;
        for index in 0..last.len() {
            if moving[index] {
                continue;
            }
            for required in &catalog.migration(last[index]).requires {
                if let Some(&at) = position.get(required) {
                    if moving[at] {
                        moving[at] = false;
                        changed = true;
                    }
                }
            }
        }
    }
    let mut converge = Vec::new();
    let mut kept = Vec::with_capacity(last.len());
    for (index, &id) in last.iter().enumerate() {
        if moving[index] {
            converge.push(id);
        } else {
            kept.push(id);
        }
    }
    *last = kept;
    converge
}

/// For every release, the hop whose releases contain it (`None` outside the path).
fn hop_of_releases(catalog: &Catalog, path: &[ReleaseId]) -> Vec<Option<usize>> {
    let mut hop_of = vec![None; catalog.releases().len()];
    for (hop, pair) in path.windows(2).enumerate() {
        for slot in &mut hop_of[pair[0].index() + 1..=pair[1].index()] {
            *slot = Some(hop);
        }
    }
    hop_of
}

/// The included services in service order: a topological order of `after` (acyclic by the
/// catalog's invariants), ties broken by catalog order.
fn service_order(catalog: &Catalog, included: &[bool]) -> Vec<ServiceId> {
    let count = catalog.services().len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut waiting = vec![0usize; count];
    for (index, service) in catalog.services().iter().enumerate() {
        if !included[index] {
            continue;
        }
        for earlier in &service.after {
            if included[earlier.index()] {
                dependents[earlier.index()].push(index);
                waiting[index] += 1;
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..count)
        .filter(|&i| included[i] && waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(count);
    while let Some(Reverse(index)) = ready.pop() {
        order.push(ServiceId(index as u32));
        for &dependent in &dependents[index] {
            waiting[dependent] -= 1;
            if waiting[dependent] == 0 {
                ready.push(Reverse(dependent));
            }
        }
    }
    order
}
