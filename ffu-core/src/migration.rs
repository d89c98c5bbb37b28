//! Database migrations.

use serde::{Deserialize, Serialize};

use crate::extras::Extras;
use crate::release::ReleaseId;
use crate::service::{ComponentId, ServiceId};

/// Index of a migration in its catalog (catalog order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MigrationId(pub(crate) u32);

impl MigrationId {
    /// The position of the migration in the catalog, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The kind of a migration, which fixes its place within one service and release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationKind {
    /// Additive schema change, safe while old code runs.
    Expand,
    /// Schema change that old code may not survive (a plain `db sync`).
    Migrate,
    /// Removes what old code needed; runs last.
    Contract,
    /// Data migration (`online_data_migrations`), not a schema change.
    Data,
}

impl MigrationKind {
    /// The kind's name as written in catalogs and plans.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationKind::Expand => "expand",
            MigrationKind::Migrate => "migrate",
            MigrationKind::Contract => "contract",
            MigrationKind::Data => "data",
        }
    }

    /// Whether the migration changes the schema (everything but `data`).
    pub fn is_schema(self) -> bool {
        self != MigrationKind::Data
    }

    /// Position within one service and release: expand, migrate, data, contract.
    ///
    /// DESIGN V3 only fixes expand < migrate < contract and data after expand and migrate;
    /// data goes before contract because contract removes what old code (and the data
    /// migration's source columns) needed, as glance's expand/migrate/contract and
    /// keystone's `db_sync --expand/--migrate/--contract` do.
    pub(crate) fn phase(self) -> u8 {
        match self {
            MigrationKind::Expand => 0,
            MigrationKind::Migrate => 1,
            MigrationKind::Data => 2,
            MigrationKind::Contract => 3,
        }
    }
}

/// One migration: a command that a release's code brings for one service.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Migration {
    /// Unique id, such as `nova.ocata.api-db-sync`.
    pub id: String,
    /// The service whose database it changes.
    pub service: ServiceId,
    /// The release whose code brings it.
    pub release: ReleaseId,
    /// Its kind.
    pub kind: MigrationKind,
    /// The command to run.
    pub command: String,
    /// Migrations (of any service) that must run first.
    pub requires: Vec<MigrationId>,
    /// Catalog tasks that must run first (nova's cells v2 setup needs the cell0 database
    /// a task creates).
    pub requires_tasks: Vec<crate::task::TaskId>,
    /// For data migrations: must finish before the service's later-release schema migrations.
    pub blocking: bool,
    /// Components that must be up, at the hop's target release, while it runs.
    pub needs_running: Vec<ComponentId>,
    /// Whether it can be undone without restoring a backup.
    pub reversible: bool,
    /// Estimated duration in seconds.
    pub duration_s: Option<f64>,
    /// A tool's own facts (`x-...` fields), carried into the migration's step.
    pub x: Extras,
    /// The alembic revisions its command applies, in the order they run (DESIGN §12):
    /// gathered from the catalog's per-revision migrations of the same service, release,
    /// kind and command. Empty for a migration the catalog knows only as a whole.
    pub revisions: Vec<Revision>,
    /// The project's command that stops at one revision (`{revision}` in it stands for the
    /// revision), where the catalog gives one (`command_to_revision`).
    pub command_to_revision: Option<String>,
}

/// One alembic revision that a migration's command applies (DESIGN §12).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Revision {
    /// The revision id, as `alembic_version` records it.
    pub name: String,
    /// The revisions of the same service it requires (`down_revision`, `depends_on`), by
    /// revision id.
    pub requires: Vec<String>,
}

impl Migration {
    /// The revision ids its command applies, in order (empty when the catalog knows the
    /// migration only as a whole).
    pub fn revision_names(&self) -> impl Iterator<Item = &str> {
        self.revisions.iter().map(|r| r.name.as_str())
    }

    /// Whether a `backup` of its service must come before it (DESIGN V9).
    pub fn needs_backup(&self) -> bool {
        self.kind == MigrationKind::Contract || !self.reversible
    }
}

/// A service's schema history, known revision by revision over a span of releases
/// (DESIGN §12): the catalog's `histories` entry, written by a generator that read each
/// release's code.
///
/// Within the span, a migration of the service without revisions applies none, so
/// [`crate::sql::discover()`] counts it applied once every revision of its release and the
/// releases before is; before the span, the history's first revisions stand for everything
/// older (alembic's initial revisions replace the history before them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct History {
    /// The service.
    pub service: ServiceId,
    /// The first release read.
    pub from: ReleaseId,
    /// The last release read.
    pub to: ReleaseId,
    /// What it was read from (wheel file names, for example).
    pub sources: Vec<String>,
}
