//! What the planner makes: every part of a plan, with each migration's step left as a
//! [`Slot`] naming the migration and its hop until it is wanted.
//!
//! Nearly every step of a large plan runs a migration, and such a step is a handful of the
//! catalog's strings (service, release, migration id, command) and three of its own (id,
//! reason, requirements). [`Outline::into_plan`] builds the [`Step`]s when a [`Plan`] is
//! wanted; the JSON writer of a [`super::CompactPlan`] writes them straight from the
//! catalog, so a tool that only wants the document never allocates them.

use crate::catalog::Catalog;
use crate::migration::MigrationId;
use crate::plan::chain::{batch_host_copies_in, Chain, Link};
use crate::plan::{Plan, Step};

use super::steps::{migration_step, push_step_id, MigrationText, Requires, Stage, StepPlace};

/// One step of an outline, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// A step built already: its index in [`Outline::built`]. These come in index order.
    Built(u32),
    /// The step of one migration of hop `hop`, run at `stage` of the procedure.
    Migration {
        hop: u32,
        migration: MigrationId,
        stage: Stage,
    },
}

/// What the planner makes: every part of a plan, with migration steps as [`Slot`]s.
#[derive(Debug, Clone)]
pub(super) struct Outline {
    /// The plan's fields; its `steps` are empty.
    pub(super) head: Plan,
    /// The steps that were built, in execution order.
    pub(super) built: Vec<Step>,
    /// Every step, in execution order.
    pub(super) slots: Vec<Slot>,
    /// Per hop, per service, whether it takes part in the hop (for migration reasons).
    pub(super) in_hop: Vec<Vec<bool>>,
    /// Per catalog migration, the hop that runs it (for the steps a migration requires).
    pub(super) hop_of_migration: Vec<Option<u32>>,
    /// What each step waits for besides its own requirements ([`crate::plan::chain`]):
    /// added to a step's `requires` when the JSON writer writes it, or when the plan is
    /// built ([`Outline::into_plan`]).
    chain: Chain,
}

impl Outline {
    /// The outline of `head` (a plan without steps) with `steps`; `in_hop` and
    /// `hop_of_migration` as the fields say.
    pub(super) fn new(
        catalog: &Catalog,
        head: Plan,
        steps: StepList,
        in_hop: Vec<Vec<bool>>,
        hop_of_migration: Vec<Option<u32>>,
    ) -> Outline {
        let mut built = steps.built;
        crate::estimate::fill_defaults(catalog, &mut built);
        let slots = steps.slots;
        // Steps copied per host run side by side; only built steps are (migrations run once).
        batch_host_copies_in(&mut built, slots.len(), |index| match slots[index] {
            Slot::Built(built_index) => Some(built_index as usize),
            Slot::Migration { .. } => None,
        });
        let chain = Chain::of(slots.len(), |index| match slots[index] {
            Slot::Built(built_index) => Link::of(&built[built_index as usize]),
            Slot::Migration { hop, .. } => Link {
                hop: hop as usize,
                batch: None,
                host: None,
                service: None,
            },
        });
        Outline {
            head,
            built,
            slots,
            in_hop,
            hop_of_migration,
            chain,
        }
    }

    /// Appends the id of the step at slot `index` to `out`.
    fn push_slot_id(&self, catalog: &Catalog, index: usize, out: &mut String) {
        match self.slots[index] {
            Slot::Built(built_index) => out.push_str(&self.built[built_index as usize].id),
            Slot::Migration { hop, migration, .. } => {
                push_step_id(out, hop as usize, &catalog.migration(migration).id);
            }
        }
    }

    /// Adds to the requirements in `text` (of the migration step at slot `index`) the
    /// steps it waits for in the chain.
    pub(super) fn chain_migration_text(
        &self,
        catalog: &Catalog,
        index: usize,
        text: &mut MigrationText,
    ) {
        for &other in self.chain.waits(index) {
            text.require(|out| self.push_slot_id(catalog, other as usize, out));
        }
    }

    /// Fills `requires` with what the built step at slot `index` requires: its own
    /// requirements, then the steps it waits for in the chain (the JSON writer's way; a
    /// built plan gets them in [`Outline::into_plan`]).
    pub(super) fn built_requires(
        &self,
        catalog: &Catalog,
        index: usize,
        own: &[String],
        requires: &mut Requires,
    ) {
        requires.clear();
        for id in own {
            requires.push_own(|out| out.push_str(id));
        }
        for &other in self.chain.waits(index) {
            requires.wait_for(|out| self.push_slot_id(catalog, other as usize, out));
        }
    }

    /// The number of steps.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Where the steps of hop `hop` stand.
    pub(super) fn place<'a>(
        &'a self,
        catalog: &'a Catalog,
        hop: u32,
        stage: Stage,
    ) -> StepPlace<'a> {
        let hop = hop as usize;
        StepPlace {
            catalog,
            hop_index: hop,
            hop: &self.head.hops[hop],
            in_hop: &self.in_hop[hop],
            hop_of_migration: &self.hop_of_migration,
            skip_revisions: &self.head.applied_revisions,
            stage,
            mode: self.head.policy.mode,
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
                Slot::Migration {
                    hop,
                    migration,
                    stage,
                } => {
                    let place = self.place(catalog, hop, stage);
                    steps.push(migration_step(&place, catalog.migration(migration)));
                }
            }
        }
        steps
    }

    /// The plan, with every step built.
    pub(super) fn into_plan(mut self, catalog: &Catalog) -> Plan {
        let built = std::mem::take(&mut self.built);
        let migrations = self.slots.len() - built.len();
        self.head.steps = if migrations == 0 {
            built
        } else {
            self.build_in_halves(catalog, built)
        };
        // Every step built: the ids the chain names are at hand.
        let mut steps = std::mem::take(&mut self.head.steps);
        self.chain.write_into(&mut steps);
        self.head.steps = steps;
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
    pub(super) fn to_plan(&self, catalog: &Catalog) -> Plan {
        self.clone().into_plan(catalog)
    }
}

/// The steps a builder makes, in execution order: the steps it builds, and the migration
/// steps it leaves as [`Slot::Migration`]s.
#[derive(Debug, Default)]
pub(super) struct StepList {
    pub(super) built: Vec<Step>,
    pub(super) slots: Vec<Slot>,
}

impl StepList {
    /// An empty list with room for `built` built steps and `slots` steps in all.
    pub(super) fn with_capacity(built: usize, slots: usize) -> StepList {
        StepList {
            built: Vec::with_capacity(built),
            slots: Vec::with_capacity(slots),
        }
    }

    /// Adds a built step, and gives it back to be filled in.
    pub(super) fn add(&mut self, step: Step) -> &mut Step {
        self.slots.push(Slot::Built(self.built.len() as u32));
        self.built.push(step);
        let last = self.built.len() - 1;
        &mut self.built[last]
    }

    /// Adds the step of `migration` in hop `hop` at `stage`, left for when it is wanted.
    pub(super) fn migration(&mut self, hop: usize, migration: MigrationId, stage: Stage) {
        self.slots.push(Slot::Migration {
            hop: hop as u32,
            migration,
            stage,
        });
    }

    /// Appends the steps of `later` after these.
    pub(super) fn append(&mut self, later: StepList) {
        let offset = self.built.len() as u32;
        self.built.extend(later.built);
        self.slots
            .extend(later.slots.into_iter().map(|slot| match slot {
                Slot::Built(index) => Slot::Built(index + offset),
                migration @ Slot::Migration { .. } => migration,
            }));
    }
}
