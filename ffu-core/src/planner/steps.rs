//! The one place a migration's step is made: its id (`h{hop}.{migration}`), its reason and
//! the steps it requires, for the built plan ([`migration_step`]), for rolling plans (which
//! add to the reason) and for the JSON writer of a [`super::CompactPlan`], which refills a
//! [`MigrationText`] per step and borrows the rest from the catalog ([`MigrationText::step_ref`]).
//!
//! Every other step is made by the builder that places it (`offline`, `rolling`): their
//! ids and reasons depend on where they stand in the procedure.

use crate::catalog::Catalog;
use crate::migration::{Migration, MigrationKind};
use crate::plan::json::StepRef;
use crate::plan::{Hop, Step, StepKind};

/// Where a migration's step stands, which its text depends on besides the migration.
#[derive(Clone, Copy)]
pub(super) struct StepPlace<'a> {
    pub(super) catalog: &'a Catalog,
    /// The index of the hop.
    pub(super) hop_index: usize,
    pub(super) hop: &'a Hop,
    /// Per service, whether it takes part in the hop.
    pub(super) in_hop: &'a [bool],
    /// Per catalog migration, the hop that runs it (for the steps it requires).
    pub(super) hop_of_migration: &'a [Option<u32>],
}

/// The step of one migration, built from its [`MigrationText`]; the same fields as
/// [`MigrationText::step_ref`] borrows (`tests/properties.rs` holds the two to the same JSON).
pub(super) fn migration_step(place: &StepPlace<'_>, migration: &Migration) -> Step {
    let catalog = place.catalog;
    let mut text = MigrationText {
        id: String::with_capacity(migration.id.len() + 6),
        reason: String::with_capacity(128),
        requires: Vec::with_capacity(migration.requires.len()),
        required: 0,
    };
    text.fill(place, migration);
    text.requires.truncate(text.required);
    let service = catalog.service(migration.service);
    Step {
        id: text.id,
        hop: place.hop_index,
        kind: step_kind(migration.kind),
        service: Some(service.name.clone()),
        component: None,
        release: Some(catalog.release(migration.release).name.clone()),
        migration: Some(migration.id.clone()),
        command: Some(migration.command.clone()),
        requires: text.requires,
        reason: text.reason,
        rollback_point: false,
        host: None,
        advertised: None,
    }
}

/// The kind of a migration's step.
pub(super) fn step_kind(kind: MigrationKind) -> StepKind {
    match kind {
        MigrationKind::Expand => StepKind::Expand,
        MigrationKind::Migrate => StepKind::Migrate,
        MigrationKind::Contract => StepKind::Contract,
        MigrationKind::Data => StepKind::Data,
    }
}

/// The strings of a migration's step that are not the catalog's own: its id, its reason and
/// the ids of the steps it requires. The JSON writer of a [`crate::CompactPlan`] keeps one
/// and refills it for every migration, so that writing a step allocates nothing.
#[derive(Default)]
pub(super) struct MigrationText {
    id: String,
    reason: String,
    /// The first `required` are this step's; the rest are buffers kept for later steps.
    requires: Vec<String>,
    required: usize,
}

impl MigrationText {
    /// The ids of the steps the migration's step requires.
    fn requires(&self) -> &[String] {
        &self.requires[..self.required]
    }

    /// The step of `migration` at `place`, its own strings borrowed from this text (filled
    /// for it with [`MigrationText::fill`]) and the rest from the catalog: the fields of
    /// [`migration_step`], for the JSON writer.
    pub(super) fn step_ref<'a>(
        &'a self,
        place: &StepPlace<'a>,
        migration: &'a Migration,
    ) -> StepRef<'a> {
        let catalog = place.catalog;
        StepRef {
            id: &self.id,
            hop: place.hop_index,
            kind: step_kind(migration.kind),
            service: Some(&catalog.service(migration.service).name),
            component: None,
            release: Some(&catalog.release(migration.release).name),
            migration: Some(&migration.id),
            command: Some(&migration.command),
            requires: self.requires(),
            reason: &self.reason,
            rollback_point: false,
            host: None,
            advertised: None,
        }
    }

    /// Replaces the text with that of `migration`'s step at `place`. This runs once per
    /// migration (a hundred thousand times for a large catalog), so the strings are built
    /// with `push_str` rather than `format!`.
    pub(super) fn fill(&mut self, place: &StepPlace<'_>, migration: &Migration) {
        self.id.clear();
        push_step_id(&mut self.id, place.hop_index, &migration.id);
        self.required = 0;
        for &required in &migration.requires {
            if let Some(hop) = place.hop_of_migration[required.index()] {
                let id = &place.catalog.migration(required).id;
                match self.requires.get_mut(self.required) {
                    Some(buffer) => {
                        buffer.clear();
                        push_step_id(buffer, hop as usize, id);
                    }
                    None => self.requires.push(step_id(hop as usize, id)),
                }
                self.required += 1;
            }
        }
        self.reason.clear();
        push_reason(&mut self.reason, place, migration, self.required > 0);
    }
}

/// Appends the reason of `migration`'s step at `place` (`any_required`: whether the step
/// requires another).
pub(super) fn push_reason(
    reason: &mut String,
    place: &StepPlace<'_>,
    migration: &Migration,
    any_required: bool,
) {
    let StepPlace {
        catalog,
        hop,
        in_hop,
        ..
    } = *place;
    let service = catalog.service(migration.service);
    let release = &catalog.release(migration.release).name;
    reason.push_str(&service.name);
    reason.push_str(match migration.kind {
        MigrationKind::Expand => " schema expand for ",
        MigrationKind::Migrate => " schema for ",
        MigrationKind::Contract => " schema contract for ",
        MigrationKind::Data => " data migration for ",
    });
    reason.push_str(release);
    if migration.kind == MigrationKind::Data && migration.blocking {
        reason.push_str("; blocking: must finish before ");
        reason.push_str(&service.name);
        reason.push_str("'s later schema migrations");
    }
    push_list(
        reason,
        "; after ",
        service
            .after
            .iter()
            .filter(|s| in_hop[s.index()])
            .map(|&s| catalog.service(s).name.as_str()),
        " (service order)",
    );
    if any_required {
        push_list(
            reason,
            "; requires ",
            migration
                .requires
                .iter()
                .map(|&r| catalog.migration(r).id.as_str()),
            "",
        );
    }
    if hop.skip && release != &hop.to {
        reason.push_str("; skip-level hop: runs with ");
        reason.push_str(&hop.to);
        reason.push_str(" code");
    }
    push_list(
        reason,
        "; needs ",
        migration
            .needs_running
            .iter()
            .map(|&c| catalog.component(c).name.as_str()),
        " running",
    );
}

/// The id of a migration's step: `h{hop}.{migration id}` (built by hand: this runs once per
/// migration and `format!` costs more than the rest of the step).
fn step_id(hop: usize, migration: &str) -> String {
    let mut id = String::with_capacity(migration.len() + 6);
    push_step_id(&mut id, hop, migration);
    id
}

/// Appends the id of a migration's step to `out`.
pub(super) fn push_step_id(out: &mut String, hop: usize, migration: &str) {
    out.push('h');
    crate::text::number(out, hop);
    out.push('.');
    out.push_str(migration);
}

/// Appends `prefix`, the items joined by ", ", and `suffix`, when there are items.
fn push_list<'a>(
    out: &mut String,
    prefix: &str,
    items: impl Iterator<Item = &'a str>,
    suffix: &str,
) {
    let mut first = true;
    for item in items {
        out.push_str(if first { prefix } else { ", " });
        out.push_str(item);
        first = false;
    }
    if !first {
        out.push_str(suffix);
    }
}
