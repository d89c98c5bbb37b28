//! The id index of a catalog's migrations.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::migration::MigrationId;

/// Migration ids to their indices, storing only the indices: the ids themselves stay in
/// the list they index, which every lookup is given.
///
/// A map from `String` would hold a second copy of every id, a hundred thousand small
/// allocations for a large catalog, made while loading it.
///
/// # Invariants
/// Every index in the table is an index of the list it was built over, and the table holds
/// each id once; the list's ids may move (into the catalog's model) as long as they keep
/// their positions and contents.
#[derive(Debug, Clone, Default)]
pub(crate) struct MigrationIndex {
    table: HashTable<MigrationId>,
}

fn hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl MigrationIndex {
    pub(crate) fn with_capacity(capacity: usize) -> MigrationIndex {
        MigrationIndex {
            table: HashTable::with_capacity(capacity),
        }
    }

    /// Adds `index`, whose id is `ids(index)`; if that id is indexed already, returns the
    /// index that has it and adds nothing.
    ///
    /// # Complexity
    /// O(1) expected.
    pub(crate) fn insert<'a>(
        &mut self,
        index: MigrationId,
        ids: impl Fn(MigrationId) -> &'a str,
    ) -> Result<(), MigrationId> {
        let id = ids(index);
        let entry = self.table.entry(
            hash(id),
            |&other| ids(other) == id,
            |&other| hash(ids(other)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(existing) => Err(*existing.get()),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                vacant.insert(index);
                Ok(())
            }
        }
    }

    /// The index of the migration with this id.
    ///
    /// # Complexity
    /// O(1) expected.
    pub(crate) fn get<'a>(
        &self,
        id: &str,
        ids: impl Fn(MigrationId) -> &'a str,
    ) -> Option<MigrationId> {
        self.table
            .find(hash(id), |&other| ids(other) == id)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted_and_refuses_duplicates() {
        let ids = ["a", "b", "a", "c"];
        let by_index = |id: MigrationId| ids[id.index()];
        let mut index = MigrationIndex::with_capacity(1);
        assert_eq!(index.insert(MigrationId(0), by_index), Ok(()));
        assert_eq!(index.insert(MigrationId(1), by_index), Ok(()));
        assert_eq!(index.insert(MigrationId(2), by_index), Err(MigrationId(0)));
        assert_eq!(index.insert(MigrationId(3), by_index), Ok(()));
        assert_eq!(index.get("c", by_index), Some(MigrationId(3)));
        assert_eq!(index.get("b", by_index), Some(MigrationId(1)));
        assert_eq!(index.get("z", by_index), None);
    }
}
