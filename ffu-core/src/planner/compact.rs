//! Plans whose migration steps stay references into the catalog until they are needed.
//!
//! Nearly every step of a large plan runs a migration, and such a step is a handful of the
//! catalog's strings (service, release, migration id, command) and three of its own (id,
//! reason, requirements). The planner leaves each as a [`Slot`] naming the migration and
//! its hop; [`Outline::into_plan`] builds the [`Step`]s when a [`Plan`] is wanted, and the
//! JSON writer of a [`CompactPlan`] writes them straight from the catalog, so a tool that
//! only wants the document never allocates them.

use std::ops::Range;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::migration::{Migration, MigrationId};
use crate::plan::json::{self as plan_json, StepRef, StepSource};
use crate::plan::{Plan, Step};

use super::offline::{
    migration_step, push_reason, push_step_id, step_kind, MigrationText, StepPlace,
};

/// One step of an outline, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// A step built already: its index in [`Outline::built`]. These come in index order.
    Built(u32),
    /// The step of one migration of hop `hop`.
    Migration { hop: u32, migration: MigrationId },
}

/// What the planner makes: every part of a plan, with migration steps as [`Slot`]s.
#[derive(Debug, Clone)]
pub(crate) struct Outline {
    /// The plan's fields; its `steps` are empty.
    pub(crate) head: Plan,
    /// The steps that were built, in execution order.
    pub(crate) built: Vec<Step>,
    /// Every step, in execution order.
    pub(crate) slots: Vec<Slot>,
    /// Per hop, per service, whether it takes part in the hop (for migration reasons).
    pub(crate) in_hop: Vec<Vec<bool>>,
    /// Per catalog migration, the hop that runs it (for the steps a migration requires).
    pub(crate) hop_of_migration: Vec<Option<u32>>,
}

impl Outline {
    /// The number of steps.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Where the steps of hop `hop` stand.
    fn place<'a>(&'a self, catalog: &'a Catalog, hop: u32) -> StepPlace<'a> {
        let hop = hop as usize;
        StepPlace {
            catalog,
            hop_index: hop,
            hop: &self.head.hops[hop],
            in_hop: &self.in_hop[hop],
            hop_of_migration: &self.hop_of_migration,
        }
    }

    /// The steps of `slots`, taking the built ones from `built`, which holds them in order,
    /// in a list with room for `capacity` steps.
    fn steps_of(
        &self,
        catalog: &Catalog,
        slots: &[Slot],
        built: impl Iterator<Item = Step>,
        capacity: usize,
    ) -> Vec<Step> {
        let mut built = built;
        let mut steps = Vec::with_capacity(capacity.max(slots.len()));
        for slot in slots {
            match *slot {
                Slot::Built(_) => steps.extend(built.next()),
                Slot::Migration { hop, migration } => {
                    let place = self.place(catalog, hop);
                    steps.push(migration_step(&place, catalog.migration(migration)));
                }
            }
        }
        steps
    }

    /// The plan, with every step built.
    pub(crate) fn into_plan(mut self, catalog: &Catalog) -> Plan {
        let built = std::mem::take(&mut self.built);
        let migrations = self.slots.len() - built.len();
        self.head.steps = if migrations == 0 {
            built
        } else {
            self.build_in_halves(catalog, built)
        };
        self.head
    }

    /// Every step, built a half of the slots at a time (on two threads for a large plan).
    /// The first half goes into a list with room for the whole plan, so that joining the
    /// halves moves the second half once and copies nothing else.
    fn build_in_halves(&self, catalog: &Catalog, mut built: Vec<Step>) -> Vec<Step> {
        let (first, second) = self.slots.split_at(self.slots.len() / 2);
        let first_built = first
            .iter()
            .filter(|slot| matches!(slot, Slot::Built(_)))
            .count();
        let mut second_built = built.split_off(first_built);
        let (mut steps, rest) = crate::parallel::join(
            self.slots.len() - first_built - second_built.len(),
            || self.steps_of(catalog, first, built.drain(..), self.slots.len()),
            || self.steps_of(catalog, second, second_built.drain(..), 0),
        );
        steps.extend(rest);
        steps
    }

    /// The plan, with every step built, leaving the outline as it is.
    pub(crate) fn to_plan(&self, catalog: &Catalog) -> Plan {
        self.clone().into_plan(catalog)
    }
}

/// The steps of an outline as the JSON writer sees them: migration steps are written from
/// the catalog through a [`MigrationText`] that each thread reuses.
struct OutlineSteps<'a> {
    catalog: &'a Catalog,
    outline: &'a Outline,
}

impl StepSource for OutlineSteps<'_> {
    fn count(&self) -> usize {
        self.outline.len()
    }

    fn write_steps(&self, range: Range<usize>, out: &mut String) {
        let (catalog, outline) = (self.catalog, self.outline);
        let mut text = MigrationText::default();
        for (index, slot) in outline.slots[range].iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            match *slot {
                Slot::Built(built_index) => {
                    let step = &outline.built[built_index as usize];
                    plan_json::step(out, &StepRef::from(step));
                }
                Slot::Migration { hop, migration } => {
                    let place = outline.place(catalog, hop);
                    let migration = catalog.migration(migration);
                    if catalog.plain_text() {
                        write_plain_migration_step(out, &place, migration);
                        continue;
                    }
                    text.fill(&place, migration);
                    // The fields of `offline::migration_step`, borrowed.
                    let step = StepRef {
                        id: &text.id,
                        hop: place.hop_index,
                        kind: step_kind(migration.kind),
                        service: Some(&catalog.service(migration.service).name),
                        component: None,
                        release: Some(&catalog.release(migration.release).name),
                        migration: Some(&migration.id),
                        command: Some(&migration.command),
                        requires: text.requires(),
                        reason: &text.reason,
                        rollback_point: false,
                        host: None,
                        advertised: None,
                    };
                    plan_json::step(out, &step);
                }
            }
        }
    }
}

/// Writes the JSON of a migration's step, as `plan_json::step` writes
/// `offline::migration_step`, when nothing in the catalog needs escaping: the strings go
/// straight into `out`, the step's own (id, requirements, reason) built in place.
///
/// This is most of a large plan's document. The tests hold it to serde's writing of the
/// built plan (`tests/properties.rs`, `tests/large.rs`).
fn write_plain_migration_step(out: &mut String, place: &StepPlace<'_>, migration: &Migration) {
    let StepPlace {
        catalog,
        hop_index,
        hop_of_migration,
        ..
    } = *place;
    out.push_str("{\"id\":\"");
    push_step_id(out, hop_index, &migration.id);
    out.push_str("\",\"hop\":");
    crate::text::number(out, hop_index);
    out.push_str(",\"kind\":\"");
    out.push_str(step_kind(migration.kind).as_str());
    out.push_str("\",\"service\":\"");
    out.push_str(&catalog.service(migration.service).name);
    out.push_str("\",\"component\":null,\"release\":\"");
    out.push_str(&catalog.release(migration.release).name);
    out.push_str("\",\"migration\":\"");
    out.push_str(&migration.id);
    out.push_str("\",\"command\":\"");
    out.push_str(&migration.command);
    out.push_str("\",\"requires\":[");
    let mut any_required = false;
    for &required in &migration.requires {
        if let Some(required_hop) = hop_of_migration[required.index()] {
            if any_required {
                out.push(',');
            }
            out.push('"');
            push_step_id(out, required_hop as usize, &catalog.migration(required).id);
            out.push('"');
            any_required = true;
        }
    }
    out.push_str("],\"reason\":\"");
    push_reason(out, place, migration, any_required);
    out.push_str("\",\"rollback_point\":false}");
}

/// A plan that keeps its migration steps as references into its catalog, and builds them
/// only when they are asked for.
///
/// [`Catalog::plan_compact`] makes one. It is the same plan as [`Catalog::plan`] makes:
/// [`CompactPlan::to_json`] gives the same bytes as [`Plan::to_json`] of
/// [`CompactPlan::to_plan`], without building the steps of its migrations (most of a
/// large plan's steps), which is what a tool that only wants the document saves.
///
/// ```
/// use std::sync::Arc;
/// use ffu_core::{Catalog, Policy};
///
/// let catalog = Arc::new(Catalog::openstack());
/// let compact = catalog.plan_compact("newton", "queens", &Policy::default())?;
/// let plan = catalog.plan("newton", "queens", &Policy::default())?;
/// assert_eq!(compact.len(), plan.steps.len());
/// assert_eq!(compact.to_json(), plan.to_json());
/// assert_eq!(compact.into_plan(), plan);
/// # Ok::<(), ffu_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CompactPlan {
    catalog: Arc<Catalog>,
    outline: Outline,
}

impl CompactPlan {
    pub(crate) fn new(catalog: Arc<Catalog>, outline: Outline) -> CompactPlan {
        CompactPlan { catalog, outline }
    }

    /// The catalog the plan was made from.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Every field of the plan but its steps, which are left empty here: [`CompactPlan::len`]
    /// counts them, and [`CompactPlan::to_plan`] builds them.
    pub fn without_steps(&self) -> &Plan {
        &self.outline.head
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.outline.len()
    }

    /// Whether the plan has no steps (from and to are the same release).
    pub fn is_empty(&self) -> bool {
        self.outline.len() == 0
    }

    /// The plan as compact JSON: the bytes of [`Plan::to_json`] of [`CompactPlan::to_plan`].
    pub fn to_json(&self) -> String {
        plan_json::plan_to_string(&self.outline.head, &self.steps())
    }

    /// Writes the plan as compact JSON (the bytes of [`CompactPlan::to_json`]).
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_json<W: std::io::Write>(&self, mut writer: W) -> std::io::Result<()> {
        plan_json::write_plan(&self.outline.head, &self.steps(), &mut writer)
    }

    /// The plan, with every step built.
    pub fn to_plan(&self) -> Plan {
        self.outline.to_plan(&self.catalog)
    }

    /// The plan, with every step built.
    pub fn into_plan(self) -> Plan {
        self.outline.into_plan(&self.catalog)
    }

    fn steps(&self) -> OutlineSteps<'_> {
        OutlineSteps {
            catalog: &self.catalog,
            outline: &self.outline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Policy;

    /// Three releases, two services; `base.1` and `late` are plain, every other string is
    /// given.
    fn catalog_of(
        release: &str,
        service: &str,
        component: &str,
        id: &str,
        command: &str,
    ) -> Catalog {
        let document = serde_json::json!({
            "format": "ffu-catalog/1",
            "name": "escapes",
            "releases": [{"name": "a"}, {"name": release}, {"name": "c"}],
            "services": [
                {"name": "base", "components": [{"name": component, "role": "control"}]},
                {"name": service, "after": ["base"],
                 "components": [{"name": "svc-api", "role": "control"}]},
            ],
            "migrations": [
                {"id": "base.1", "service": "base", "release": release, "kind": "migrate",
                 "command": "base-manage db sync"},
                {"id": id, "service": service, "release": release, "kind": "migrate",
                 "command": command, "requires": ["base.1"], "needs_running": [component]},
                {"id": "late", "service": service, "release": "c", "kind": "data",
                 "command": "svc-manage db online_data_migrations", "requires": [id]},
            ],
        });
        Catalog::from_json_str(&document.to_string(), "escapes.json").unwrap()
    }

    #[test]
    fn strings_that_need_escaping_anywhere_are_escaped() {
        let ordinary = ["b", "svc", "base-api", "svc.b.sync", "svc-manage db sync"];
        let [release, service, component, id, command] = ordinary;
        assert!(catalog_of(release, service, component, id, command).plain_text());
        for weird in ["q\"uote", "back\\slash", "new\nline", "tab\t", "bell\u{7}"] {
            for field in 0..ordinary.len() {
                let mut strings = ordinary;
                strings[field] = weird;
                let [release, service, component, id, command] = strings;
                let catalog = Arc::new(catalog_of(release, service, component, id, command));
                assert!(!catalog.plain_text(), "{weird:?} as string {field}");
                let plan = catalog.plan("a", "c", &Policy::default()).unwrap();
                let compact = catalog.plan_compact("a", "c", &Policy::default()).unwrap();
                assert_eq!(
                    compact.to_json(),
                    serde_json::to_string(&plan).unwrap(),
                    "{weird:?} as string {field}"
                );
            }
        }
    }
}
