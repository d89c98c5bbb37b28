//! [`CompactPlan`]: a plan whose migration steps stay references into the catalog until
//! they are asked for, and its JSON writer, which writes them straight from the catalog
//! through one [`MigrationText`] per thread.

use std::ops::Range;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::plan::json::{self as plan_json, StepRef, StepSource};
use crate::plan::Plan;

use super::outline::{Outline, Slot};
use super::steps::{MigrationText, Requires};

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
        // A migration step's strings are the catalog's (checked once for characters JSON
        // escapes); a built step's are not.
        let plain = self.catalog.plain_text();
        let mut first = true;
        self.each_step(range, true, &mut |step| {
            if !first {
                out.push(',');
            }
            first = false;
            if plain && step.rare.is_none() {
                plan_json::plain_step(out, step);
            } else {
                plan_json::step(out, step);
            }
        });
    }

    fn each_step(
        &self,
        range: Range<usize>,
        with_requires: bool,
        visit: &mut dyn FnMut(&StepRef<'_>),
    ) {
        let (catalog, outline) = (self.catalog, self.outline);
        let mut text = MigrationText::default();
        let mut requires = Requires::default();
        for index in range {
            match outline.slots[index] {
                Slot::Built(built_index) => {
                    let built = &outline.built[built_index as usize];
                    if !with_requires {
                        visit(&StepRef::from(built));
                        continue;
                    }
                    outline.built_requires(catalog, index, &built.requires, &mut requires);
                    visit(&StepRef {
                        requires: requires.as_slice(),
                        ..StepRef::from(built)
                    });
                }
                Slot::Migration {
                    hop,
                    migration,
                    stage,
                } => {
                    let place = outline.place(catalog, hop, stage);
                    let migration = catalog.migration(migration);
                    text.fill(&place, migration);
                    if with_requires {
                        outline.chain_migration_text(catalog, index, &mut text);
                    }
                    visit(&text.step_ref(&place, migration));
                }
            }
        }
    }
}

/// A plan that keeps its migration steps as references into its catalog, and builds them
/// only when they are asked for.
///
/// [`Catalog::plan_compact`] makes one. It is the same plan as [`Catalog::plan_request`]
/// makes: [`CompactPlan::to_json`] gives the same bytes as [`Plan::to_json`] of
/// [`CompactPlan::to_plan`], without building the steps of its migrations (most of a
/// large plan's steps), which is what a tool that only wants the document saves.
///
/// ```
/// use std::sync::Arc;
/// use ffu_core::{Catalog, PlanRequest, Policy};
///
/// let catalog = Arc::new(Catalog::openstack());
/// let policy = Policy::default();
/// let compact = catalog.plan_compact(&PlanRequest::from_release("newton", "queens", &policy))?;
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
    pub(super) fn new(catalog: Arc<Catalog>, outline: Outline) -> CompactPlan {
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

    /// The plan as text for a person at a terminal: the text of [`crate::render::text`] of
    /// [`CompactPlan::to_plan`], without building the steps of its migrations.
    pub fn to_text(&self) -> String {
        crate::render::text_of_steps(&self.outline.head, &self.steps(), Some(&self.catalog))
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
                let compact = catalog
                    .plan_compact(&crate::PlanRequest::from_release(
                        "a",
                        "c",
                        &Policy::default(),
                    ))
                    .unwrap();
                assert_eq!(
                    compact.to_json(),
                    serde_json::to_string(&plan).unwrap(),
                    "{weird:?} as string {field}"
                );
            }
        }
    }
}
