//! Discovery: where a database stands, read from `alembic_version` and the legacy
//! sqlalchemy-migrate `migrate_version`, mapped onto a catalog.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use sea_query::{Expr, ExprTrait, Query, SelectStatement};

use super::{query, Backend, Connection, SqlValue, SqliteConnection};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::migration::MigrationId;
use crate::state::ServiceState;

/// The alembic heads query: one row per branch head.
///
/// Columns are qualified with their table: SQLite reads an unknown unqualified
/// `"column"` as a string literal, so a table without the column would answer with its
/// name instead of failing.
fn alembic_heads() -> SelectStatement {
    Query::select()
        .column(("alembic_version", "version_num"))
        .from("alembic_version")
        .to_owned()
}

/// The sqlalchemy-migrate query: one row per repository.
fn migrate_versions() -> SelectStatement {
    const TABLE: &str = "migrate_version";
    Query::select()
        .columns([
            (TABLE, "repository_id"),
            (TABLE, "repository_path"),
            (TABLE, "version"),
        ])
        .from(TABLE)
        .to_owned()
}

/// The discovery statements for `backend`, as text: the `alembic_version` heads, then the
/// legacy `migrate_version` rows. A missing table means nothing recorded there.
pub fn discovery_queries(backend: Backend) -> Vec<String> {
    vec![
        backend.text(&alembic_heads()),
        backend.text(&migrate_versions()),
    ]
}

/// Whether `table` exists in the database (in the current schema, on PostgreSQL and MySQL).
fn table_exists<C: Connection + ?Sized>(conn: &mut C, table: &str) -> Result<bool> {
    let statement = match conn.backend() {
        Backend::Sqlite => Query::select()
            .column("name")
            .from("sqlite_master")
            .and_where(Expr::col("type").eq("table"))
            .and_where(Expr::col("name").eq(table))
            .to_owned(),
        backend => Query::select()
            .column("table_name")
            .from(("information_schema", "tables"))
            .and_where(Expr::col("table_name").eq(table))
            .and_where(
                Expr::col("table_schema").eq(Expr::cust(if backend == Backend::Postgres {
                    "current_schema()"
                } else {
                    "DATABASE()"
                })),
            )
            .to_owned(),
    };
    Ok(!query(conn, &statement)?.is_empty())
}

/// Reads the state of `services` from the database behind `conn` and maps it onto
/// `catalog`.
///
/// Alembic heads map onto the catalog migrations whose id is `SERVICE.alembic.<revision>`
/// (the ids `ffu import alembic` gives). Heads that belong to no requested service are
/// ignored (one database may hold several services' tables), with a warning when no
/// catalog migration of any service has that revision. Only reads, and opens no
/// transaction.
///
/// # Errors
/// [`Error::Database`] when the database cannot be read, [`Error::UnknownService`] when a
/// service is not in the catalog.
pub fn discover<C: Connection + ?Sized>(
    conn: &mut C,
    catalog: &Catalog,
    services: &[String],
) -> Result<BTreeMap<String, ServiceState>> {
    let service_ids = service_ids(catalog, services)?;
    let (heads, legacy) = read_versions(conn)?;
    Ok(map_state(catalog, services, &service_ids, &heads, &legacy))
}

fn service_ids(catalog: &Catalog, services: &[String]) -> Result<Vec<crate::service::ServiceId>> {
    services
        .iter()
        .map(|name| {
            catalog
                .service_id(name)
                .ok_or_else(|| Error::UnknownService { name: name.clone() })
        })
        .collect()
}

/// Alembic heads, and legacy versions by repository.
type Versions = (Vec<String>, Vec<(String, i64)>);

/// The alembic heads and the legacy versions recorded in the database behind `conn`.
fn read_versions<C: Connection + ?Sized>(conn: &mut C) -> Result<Versions> {
    let bad_row = |conn: &C, table: &str| Error::Database {
        target: conn.target().to_owned(),
        message: format!("unexpected value in {table}"),
        source: None,
    };
    let mut heads = Vec::new();
    if table_exists(conn, "alembic_version")? {
        for row in query(conn, &alembic_heads())? {
            match row.first().and_then(SqlValue::as_str) {
                Some(head) => heads.push(head.to_owned()),
                None => return Err(bad_row(conn, "alembic_version")),
            }
        }
    }
    let mut legacy = Vec::new();
    if table_exists(conn, "migrate_version")? {
        for row in query(conn, &migrate_versions())? {
            let repository = row.first().and_then(SqlValue::as_str);
            let version = row.get(2).and_then(SqlValue::as_i64);
            match (repository, version) {
                (Some(repository), Some(version)) => legacy.push((repository.to_owned(), version)),
                _ => return Err(bad_row(conn, "migrate_version")),
            }
        }
    }
    tracing::debug!(
        heads = heads.len(),
        legacy = legacy.len(),
        "read {}",
        conn.target()
    );
    Ok((heads, legacy))
}

/// [`discover`] over several SQLite databases at once (opened read-only), as one: their
/// heads together. A service whose histories live in several databases (nova's API and
/// main databases) is read whole this way.
///
/// # Errors
/// As [`discover_sqlite`].
pub fn discover_sqlite_many(
    paths: &[&Path],
    catalog: &Catalog,
    services: &[String],
) -> Result<BTreeMap<String, ServiceState>> {
    let service_ids = service_ids(catalog, services)?;
    let (mut heads, mut legacy) = (Vec::new(), Vec::new());
    for path in paths {
        let (more_heads, more_legacy) =
            read_versions(&mut SqliteConnection::open_read_only(path)?)?;
        heads.extend(more_heads);
        legacy.extend(more_legacy);
    }
    Ok(map_state(catalog, services, &service_ids, &heads, &legacy))
}

/// [`discover`] on the SQLite database at `path`, opened read-only.
///
/// # Errors
/// [`Error::Database`] when the file is not a readable SQLite database,
/// [`Error::UnknownService`] when a service is not in the catalog.
pub fn discover_sqlite(
    path: &Path,
    catalog: &Catalog,
    services: &[String],
) -> Result<BTreeMap<String, ServiceState>> {
    // Unknown services first: that error is the more useful one when both apply.
    for name in services {
        if catalog.service_id(name).is_none() {
            return Err(Error::UnknownService { name: name.clone() });
        }
    }
    discover(
        &mut SqliteConnection::open_read_only(path)?,
        catalog,
        services,
    )
}

/// Maps heads and legacy versions onto the catalog, per service.
///
/// A head is a revision of a migration the catalog knows revision by revision (DESIGN §12),
/// or the revision of a migration `SERVICE.alembic.<revision>`. The revisions it requires
/// are applied with it; a migration with revisions is applied when all of them are. Within
/// a service's history ([`crate::History`]) a migration without revisions applies none, so
/// it counts as applied once every revision of its release and the releases before is, up to
/// the newest release whose revisions are applied (and before the history, once any
/// revision is).
fn map_state(
    catalog: &Catalog,
    names: &[String],
    services: &[crate::service::ServiceId],
    heads: &[String],
    legacy: &[(String, i64)],
) -> BTreeMap<String, ServiceState> {
    let mut known_revisions: HashSet<&str> = HashSet::new();
    for migration in catalog.migrations() {
        known_revisions.extend(migration.revision_names());
    }
    for head in heads {
        let known = known_revisions.contains(head.as_str())
            || catalog.services().iter().any(|s| {
                catalog
                    .migration_id(&format!("{}.alembic.{head}", s.name))
                    .is_some()
            });
        if !known {
            tracing::warn!("alembic head {head:?} is not a migration of the catalog");
        }
    }
    let mut out = BTreeMap::new();
    for (name, &service) in names.iter().zip(services) {
        let own = catalog.migrations_of(service);
        let mut applied = vec![false; catalog.migrations().len()];
        let revisions = applied_revisions(catalog, own, heads);
        let mut stack: Vec<MigrationId> = heads
            .iter()
            .filter_map(|head| catalog.migration_id(&format!("{name}.alembic.{head}")))
            .collect();
        stack.extend(own.iter().copied().filter(|&m| {
            let migration = catalog.migration(m);
            !migration.revisions.is_empty()
                && migration.revision_names().all(|r| revisions.contains(r))
        }));
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut applied[id.index()], true) {
                continue;
            }
            for &req in &catalog.migration(id).requires {
                if catalog.migration(req).service == service && !applied[req.index()] {
                    stack.push(req);
                }
            }
        }
        if !revisions.is_empty() {
            for m in implied_by_history(catalog, service, &applied) {
                applied[m.index()] = true;
            }
        }
        // The newest release R with migrations of the service such that every migration of
        // the service up to and including R is applied.
        let mut release = None;
        let mut release_id = None;
        let mut releases: Vec<_> = own.iter().map(|&m| catalog.migration(m).release).collect();
        releases.sort_unstable();
        releases.dedup();
        for r in releases {
            let complete = own
                .iter()
                .filter(|&&m| catalog.migration(m).release <= r)
                .all(|&m| applied[m.index()]);
            if !complete {
                break;
            }
            release = Some(catalog.release(r).name.clone());
            release_id = Some(r);
        }
        let same_schema_until =
            release_id.and_then(|release| same_schema_until(catalog, service, release));
        let (done, todo): (Vec<MigrationId>, Vec<MigrationId>) =
            own.iter().partition(|&&m| applied[m.index()]);
        let (mut applied_revisions, mut pending_revisions) = (Vec::new(), Vec::new());
        for &m in &todo {
            for revision in catalog.migration(m).revision_names() {
                if revisions.contains(revision) {
                    applied_revisions.push(revision.to_owned());
                } else {
                    pending_revisions.push(revision.to_owned());
                }
            }
        }
        let ids = |list: Vec<MigrationId>| -> Vec<String> {
            list.into_iter()
                .map(|m| catalog.migration(m).id.clone())
                .collect()
        };
        out.insert(
            name.clone(),
            ServiceState {
                release,
                same_schema_until,
                applied: ids(done),
                pending: ids(todo),
                legacy_version: legacy
                    .iter()
                    .find(|(repo, _)| repo == name)
                    .map(|(_, v)| *v),
                applied_revisions,
                pending_revisions,
            },
        );
    }
    out
}

/// The migrations of `service` without revisions that its history says are applied, given
/// the `applied` ones with revisions: before the history, all; inside it, those of a release
/// no later than the newest whose revisions are applied, where that release and every one
/// before it has all its revisions applied.
///
/// A release after the newest applied revisions is never implied, even where it brings no
/// revision and so leaves the same schema: the database cannot say its code ran (its data
/// migrations, its tasks), and a plan from this state must not skip it.
fn implied_by_history(
    catalog: &Catalog,
    service: crate::service::ServiceId,
    applied: &[bool],
) -> Vec<MigrationId> {
    let Some(history) = catalog.history_of(service) else {
        return Vec::new();
    };
    let own = catalog.migrations_of(service);
    let complete = |release: crate::release::ReleaseId| {
        own.iter().all(|&m| {
            let migration = catalog.migration(m);
            migration.revisions.is_empty() || migration.release > release || applied[m.index()]
        })
    };
    let newest = own
        .iter()
        .filter(|&&m| applied[m.index()] && !catalog.migration(m).revisions.is_empty())
        .map(|&m| catalog.migration(m).release)
        .max();
    own.iter()
        .copied()
        .filter(|&m| {
            let migration = catalog.migration(m);
            migration.revisions.is_empty()
                && (migration.release < history.from
                    || newest.is_some_and(|newest| migration.release <= newest)
                        && complete(migration.release))
        })
        .collect()
}

/// The newest release with the schema of `release` (the releases after it up to that one
/// bring `service` no revision), when newer and within the service's history.
fn same_schema_until(
    catalog: &Catalog,
    service: crate::service::ServiceId,
    release: crate::release::ReleaseId,
) -> Option<String> {
    let history = catalog.history_of(service)?;
    if release < history.from || release >= history.to {
        return None;
    }
    let own = catalog.migrations_of(service);
    let brings = |r: crate::release::ReleaseId| {
        own.iter().any(|&m| {
            let migration = catalog.migration(m);
            migration.release == r && !migration.revisions.is_empty()
        })
    };
    let mut newest = release;
    while newest < history.to && !brings(crate::release::ReleaseId(newest.0 + 1)) {
        newest = crate::release::ReleaseId(newest.0 + 1);
    }
    (newest > release).then(|| catalog.release(newest).name.clone())
}

/// The revisions of the migrations `own` that the heads hold: the heads among them and,
/// transitively, the revisions they require.
fn applied_revisions<'a>(
    catalog: &'a Catalog,
    own: &[MigrationId],
    heads: &'a [String],
) -> HashSet<&'a str> {
    let mut requires: HashMap<&str, &[String]> = HashMap::new();
    for &m in own {
        for revision in &catalog.migration(m).revisions {
            requires.insert(&revision.name, &revision.requires);
        }
    }
    let mut applied = HashSet::new();
    let mut stack: Vec<&str> = heads
        .iter()
        .map(String::as_str)
        .filter(|head| requires.contains_key(head))
        .collect();
    while let Some(revision) = stack.pop() {
        if !applied.insert(revision) {
            continue;
        }
        if let Some(&required) = requires.get(revision) {
            stack.extend(
                required
                    .iter()
                    .map(String::as_str)
                    .filter(|r| requires.contains_key(r) && !applied.contains(r)),
            );
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_sql_per_backend() {
        assert_eq!(
            discovery_queries(Backend::Sqlite),
            [
                r#"SELECT "alembic_version"."version_num" FROM "alembic_version""#,
                r#"SELECT "migrate_version"."repository_id", "migrate_version"."repository_path", "migrate_version"."version" FROM "migrate_version""#,
            ]
        );
        assert_eq!(
            discovery_queries(Backend::Postgres)[0],
            r#"SELECT "alembic_version"."version_num" FROM "alembic_version""#
        );
        assert_eq!(
            discovery_queries(Backend::Mysql),
            [
                "SELECT `alembic_version`.`version_num` FROM `alembic_version`",
                "SELECT `migrate_version`.`repository_id`, `migrate_version`.`repository_path`, `migrate_version`.`version` FROM `migrate_version`",
            ]
        );
    }
}
