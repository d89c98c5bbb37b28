//! The shape of a plan before its steps: the path of releases, its hops, which migrations
//! each hop runs, and the order of the services. The builders (`offline`, `rolling`) read
//! it hop by hop ([`Layout::hop`]); the outline keeps what migration steps need of it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::catalog::Catalog;
use crate::migration::MigrationId;
use crate::plan::Hop;
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
    /// `applied` marks (empty, or one flag per catalog migration).
    pub(super) fn new(
        catalog: &Catalog,
        path: Vec<ReleaseId>,
        included: &[bool],
        applied: &[bool],
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
        Layout {
            service_order: service_order(catalog, included),
            path,
            hops,
            migrations,
            hop_of_migration,
            applied: already_applied,
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
        }
    }
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
