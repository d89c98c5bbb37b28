//! Where a service's database stands: which of the catalog's migrations it holds.

/// Where one service's database stands: which migrations of the catalog it holds.
///
/// [`crate::sql::discover()`] reads it from a database; a caller that tracks applied
/// migrations itself makes one with [`ServiceState::applied`]. The planner takes it per
/// service ([`crate::PlanRequest::with_state`]) and plans only what remains.
///
/// Serializes as `ffu discover --format json` writes it: `release`, `applied`, `pending`,
/// and, when there are any, `legacy_version`, `same_schema_until`, `applied_revisions` and
/// `pending_revisions` (DESIGN §12).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ServiceState {
    /// The newest release all of whose migrations of the service (and of every release
    /// before it) are applied; `None` when not even the first release's are.
    pub release: Option<String>,
    /// Where the service has a per-revision history (DESIGN §12): the newest release whose
    /// schema is the same as `release`'s, when newer (the releases after `release` up to it
    /// bring no revision, so no database can tell them apart; `release` is the oldest, so
    /// that a plan from this state skips nothing the code may still need).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_schema_until: Option<String>,
    /// The applied migrations (catalog ids), in catalog order: the heads recorded in
    /// `alembic_version` and everything they require within the service.
    pub applied: Vec<String>,
    /// The service's other migrations, still to run, in catalog order.
    pub pending: Vec<String>,
    /// The sqlalchemy-migrate version recorded in `migrate_version` under the service's
    /// name as `repository_id`, if any (projects before their move to alembic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_version: Option<i64>,
    /// The revisions (alembic ids) already applied of pending migrations that the catalog
    /// knows revision by revision (DESIGN §12): a database stopped partway through a
    /// release's step. The plan's step of such a migration applies only the others.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied_revisions: Vec<String>,
    /// The revisions of the service's pending migrations still to apply, in catalog order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_revisions: Vec<String>,
}

impl ServiceState {
    /// A state with `applied` migrations (catalog ids) and nothing else known: what a
    /// caller that tracks applied migrations itself gives [`crate::PlanRequest::with_state`].
    pub fn applied<I, S>(applied: I) -> ServiceState
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ServiceState {
            applied: applied.into_iter().map(Into::into).collect(),
            ..ServiceState::default()
        }
    }
}
