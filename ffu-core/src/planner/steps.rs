//! The one place a migration's step is made: its id (`h{hop}.{migration}`), its reason and
//! the steps it requires, for the built plan ([`migration_step`]), for rolling plans (which
//! add to the reason) and for the JSON writer of a [`super::CompactPlan`], which refills a
//! [`MigrationText`] per step and borrows the rest from the catalog ([`MigrationText::step_ref`]).
//!
//! Every other step is made by the builder that places it (`offline`, `rolling`): their
//! ids and reasons depend on where they stand in the procedure.

use crate::catalog::Catalog;
use crate::extras::Extras;
use crate::migration::{Migration, MigrationKind};
use crate::plan::chain::OwnRequirements;
use crate::plan::json::StepRef;
use crate::plan::{CodeSide, Hop, Phase, Step, StepKind};

/// Where in the procedure a migration runs (DESIGN §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// In its hop's `migrations` phase, with the hop's target code.
    Hop,
    /// A blocking data migration of a service's current release, in hop 0's `prepare`
    /// phase with the code already installed: the starting release finished first.
    Starting,
    /// A data migration of the target release, in the `converge` phase once every service
    /// runs the target.
    Converge,
}

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
    /// Revisions the databases already hold, which a step does not list (DESIGN §12).
    pub(super) skip_revisions: &'a [String],
    /// Where in the procedure it runs.
    pub(super) stage: Stage,
    /// The plan's mode (which tasks a migration may require run).
    pub(super) mode: crate::plan::Mode,
}

impl<'a> StepPlace<'a> {
    /// The same place at `stage`.
    pub(super) fn at(self, stage: Stage) -> StepPlace<'a> {
        StepPlace { stage, ..self }
    }

    /// The phase of a migration's step here.
    fn phase(&self) -> Phase {
        match self.stage {
            Stage::Hop => Phase::Migrations,
            Stage::Starting => Phase::Prepare,
            Stage::Converge => Phase::Converge,
        }
    }

    /// Whose code runs `migration` here, and the name of its release.
    fn code(&self, migration: &'a Migration) -> (CodeSide, &'a str) {
        match self.stage {
            Stage::Starting => (
                CodeSide::Current,
                &self.catalog.release(migration.release).name,
            ),
            Stage::Hop | Stage::Converge => (CodeSide::Target, &self.hop.to),
        }
    }
}

/// The `x-...` fields of a migration's step: its service's and its own, or `None`.
fn migration_extras(catalog: &Catalog, migration: &Migration) -> Option<Extras> {
    let service = &catalog.service(migration.service).x;
    match (service.is_empty(), migration.x.is_empty()) {
        (true, true) => None,
        (false, true) => Some(service.clone()),
        (true, false) => Some(migration.x.clone()),
        (false, false) => Some(crate::extras::merged(service, &migration.x)),
    }
}

/// The step of one migration, built from its [`MigrationText`]; the same fields as
/// [`MigrationText::step_ref`] borrows (`tests/properties.rs` holds the two to the same JSON).
pub(super) fn migration_step(place: &StepPlace<'_>, migration: &Migration) -> Step {
    let catalog = place.catalog;
    let mut text = MigrationText {
        id: String::with_capacity(migration.id.len() + 6),
        reason: String::with_capacity(128),
        requires: Requires::default(),
        x: None,
    };
    text.fill(place, migration);
    let requires = text.requires.into_vec();
    let service = catalog.service(migration.service);
    let mut step = Step::new(
        text.id,
        place.hop_index,
        step_kind(migration.kind),
        text.reason,
    )
    .in_phase(place.phase());
    let (code, code_release) = place.code(migration);
    step.service = Some(service.name.clone());
    step.release = Some(catalog.release(migration.release).name.clone());
    step.migration = Some(migration.id.clone());
    step.command = Some(migration.command.clone());
    step.requires = requires;
    step.code = Some(code);
    step.code_release = Some(code_release.to_owned());
    step.x = migration_extras(catalog, migration);
    step.revisions = migration
        .revision_names()
        .filter(|r| !place.skip_revisions.iter().any(|s| s == r))
        .map(str::to_owned)
        .collect();
    step.estimate_s = Some(crate::estimate::migration_estimate(migration));
    step
}

/// The kind of a migration's step.
pub(crate) fn step_kind(kind: MigrationKind) -> StepKind {
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
    requires: Requires,
    /// The step's `x-...` fields, when its service or migration has any.
    x: Option<Extras>,
}

impl MigrationText {
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
            requires: self.requires.as_slice(),
            reason: &self.reason,
            rollback_point: false,
            host: None,
            advertised: None,
            phase: Some(place.phase()),
            code: Some(place.code(migration).0),
            code_release: Some(place.code(migration).1),
            rare: None,
            x: self.x.as_ref(),
            revisions: crate::plan::json::RevisionsRef::Catalog {
                revisions: &migration.revisions,
                skip: place.skip_revisions,
            },
            estimate_s: Some(crate::estimate::migration_estimate(migration)),
        }
    }

    /// Adds a step the migration's step waits for in the plan's chain, whose id `write`
    /// appends to a buffer, unless the migration requires it already.
    pub(super) fn require(&mut self, write: impl FnOnce(&mut String)) {
        self.requires.wait_for(write);
    }

    /// Replaces the text with that of `migration`'s step at `place`. This runs once per
    /// migration (a hundred thousand times for a large catalog), so the strings are built
    /// with `push_str` rather than `format!`.
    pub(super) fn fill(&mut self, place: &StepPlace<'_>, migration: &Migration) {
        self.id.clear();
        push_step_id(&mut self.id, place.hop_index, &migration.id);
        self.requires.clear();
        for &required in &migration.requires {
            if let Some(hop) = place.hop_of_migration[required.index()] {
                let id = &place.catalog.migration(required).id;
                self.requires
                    .push_own(|buffer| push_step_id(buffer, hop as usize, id));
            }
        }
        for &task in &migration.requires_tasks {
            if let Some(id) = task_step_id(place, task) {
                self.requires.push_own(|buffer| buffer.push_str(&id));
            }
        }
        self.reason.clear();
        let any_required = !self.requires.as_slice().is_empty();
        push_reason(&mut self.reason, place, migration, any_required);
        self.x = migration_extras(place.catalog, migration);
    }
}

/// The ids a step requires, in buffers kept from step to step (the JSON writer fills one
/// per step of a large plan): first its own requirements, then the steps it waits for in
/// the plan's chain ([`crate::plan::chain`]), those it lists already left out.
#[derive(Default)]
pub(super) struct Requires {
    /// The first `len` are this step's; the rest are buffers kept for later steps.
    ids: Vec<String>,
    len: usize,
    /// How many of them are the step's own.
    own: usize,
    own_lookup: OwnRequirements,
}

impl Requires {
    /// Empties the list (keeping its buffers).
    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.own = 0;
        self.own_lookup.forget();
    }

    /// The ids.
    pub(super) fn as_slice(&self) -> &[String] {
        &self.ids[..self.len]
    }

    /// The ids, as a list of their own.
    fn into_vec(mut self) -> Vec<String> {
        self.ids.truncate(self.len);
        self.ids
    }

    /// The next buffer, emptied, for `write` to fill.
    fn next_buffer(&mut self, write: impl FnOnce(&mut String)) {
        if self.ids.len() == self.len {
            self.ids.push(String::new());
        }
        let buffer = &mut self.ids[self.len];
        buffer.clear();
        write(buffer);
    }

    /// Adds one of the step's own requirements (before any from the chain).
    pub(super) fn push_own(&mut self, write: impl FnOnce(&mut String)) {
        self.next_buffer(write);
        self.len += 1;
        self.own = self.len;
    }

    /// Adds a step it waits for in the chain, unless its own requirements list it. The
    /// chain's are distinct: only the step's own can repeat one.
    pub(super) fn wait_for(&mut self, write: impl FnOnce(&mut String)) {
        self.next_buffer(write);
        let (own, new) = self.ids.split_at(self.len);
        if !self.own_lookup.lists(&own[..self.own], &new[0]) {
            self.len += 1;
        }
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
    if migration.kind == MigrationKind::Data && migration.blocking && place.stage != Stage::Converge
    {
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
                .map(|&r| catalog.migration(r).id.as_str())
                .chain(
                    migration
                        .requires_tasks
                        .iter()
                        .map(|&t| catalog.task(t).id.as_str()),
                ),
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
    match place.stage {
        Stage::Hop => {}
        Stage::Starting => reason.push_str(
            "; the starting release is finished first, with the code already installed and before anything stops: the next release's schema may refuse to run while they are pending (nova's Ocata migration 345)",
        ),
        Stage::Converge => reason.push_str(
            "; converge: the target's data migrations block nothing, so they run once every service runs the target and the control plane is back sooner (TripleO ffwd-upgrade converge, kolla)",
        ),
    }
}

/// The id of the step of catalog task `task` when it runs in the same hop as a migration
/// at `place` that requires it (in an earlier hop it ran before anyway); `None` otherwise.
fn task_step_id(place: &StepPlace<'_>, task: crate::task::TaskId) -> Option<String> {
    let task = place.catalog.task(task);
    let same_hop = match task.release {
        Some(release) => place
            .hop
            .releases
            .contains(&place.catalog.release(release).name),
        None => !task.phase.once_per_plan(),
    };
    (same_hop && task.mode.allows(place.mode))
        .then(|| format!("h{}.task.{}", place.hop_index, task.id))
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

#[cfg(test)]
mod tests {
    use super::Requires;

    /// The ids of `own`, then of `waits`, as a step's `requires` come out.
    fn requires_of(own: &[String], waits: &[String]) -> Vec<String> {
        let mut requires = Requires::default();
        // Filled twice: the buffers of the first step must not leak into the second.
        for _ in 0..2 {
            requires.clear();
            for id in own {
                requires.push_own(|out| out.push_str(id));
            }
            for id in waits {
                requires.wait_for(|out| out.push_str(id));
            }
        }
        requires.as_slice().to_vec()
    }

    #[test]
    fn the_chain_adds_only_what_a_step_does_not_require_itself() {
        let ids = |range: std::ops::Range<usize>| -> Vec<String> {
            range.map(|n| format!("s{n}")).collect()
        };
        // Few own requirements (searched in the list) and many (looked up in a set).
        for own in [3, 40] {
            let waits = ids(own - 2..own + 3);
            let mut expected = ids(0..own);
            expected.extend(ids(own..own + 3));
            assert_eq!(requires_of(&ids(0..own), &waits), expected, "{own} own");
        }
        assert_eq!(requires_of(&[], &ids(0..2)), ids(0..2));
    }
}
