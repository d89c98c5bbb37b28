//! SQL for real databases: state discovery and the journal, built with sea-query.
//!
//! Every statement is built with [sea-query](https://docs.rs/sea-query): identifiers are
//! quoted and values are bound (or, in the text forms, quoted) by sea-query, never pasted
//! into SQL by hand. The statements exist for the three backends of [`Backend`]; ffu runs
//! them itself on SQLite (embedded, through rusqlite), and prints them for the others
//! (`ffu discover --sql --backend mysql`).

use sea_query::{
    MysqlQueryBuilder, PostgresQueryBuilder, QueryStatementWriter, SqliteQueryBuilder, Values,
};

use crate::error::Error;

pub mod discover;
pub mod journal;

/// The database flavours ffu writes SQL for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (embedded; the one ffu runs statements on itself).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
}

impl Backend {
    /// The backend's name: `sqlite`, `postgres` or `mysql`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    /// Builds a query for this backend: SQL with placeholders, and the values to bind.
    pub(crate) fn build(self, statement: &impl QueryStatementWriter) -> (String, Values) {
        match self {
            Backend::Sqlite => statement.build(SqliteQueryBuilder),
            Backend::Postgres => statement.build(PostgresQueryBuilder),
            Backend::Mysql => statement.build(MysqlQueryBuilder),
        }
    }

    /// A query for this backend as text, values quoted inline by sea-query.
    pub(crate) fn text(self, statement: &impl QueryStatementWriter) -> String {
        match self {
            Backend::Sqlite => statement.to_string(SqliteQueryBuilder),
            Backend::Postgres => statement.to_string(PostgresQueryBuilder),
            Backend::Mysql => statement.to_string(MysqlQueryBuilder),
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = Error;

    fn from_str(name: &str) -> Result<Backend, Error> {
        match name {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::Mysql),
            other => Err(Error::Unsupported {
                what: format!("database backend {other:?} (use sqlite, postgres or mysql)"),
            }),
        }
    }
}

/// The values sea-query collected, as rusqlite parameters.
pub(crate) fn bind(values: &Values) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value as Sql;
    use sea_query::Value;
    values
        .0
        .iter()
        .map(|value| match value {
            Value::Bool(Some(b)) => Sql::Integer(i64::from(*b)),
            Value::Int(Some(i)) => Sql::Integer(i64::from(*i)),
            Value::BigInt(Some(i)) => Sql::Integer(*i),
            Value::Unsigned(Some(i)) => Sql::Integer(i64::from(*i)),
            // LIMIT and OFFSET are bound as u64.
            Value::BigUnsigned(Some(i)) => Sql::Integer(i64::try_from(*i).unwrap_or(i64::MAX)),
            Value::String(Some(s)) => Sql::Text(s.clone()),
            Value::Double(Some(f)) => Sql::Real(*f),
            Value::Bytes(Some(b)) => Sql::Blob(b.clone()),
            // Only the types above are used by ffu's statements; everything else is NULL.
            _ => Sql::Null,
        })
        .collect()
}

/// Runs a statement built by sea-query on SQLite; returns the number of rows changed.
pub(crate) fn execute(
    conn: &rusqlite::Connection,
    statement: &impl QueryStatementWriter,
) -> rusqlite::Result<usize> {
    let (sql, values) = Backend::Sqlite.build(statement);
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(bind(&values)))
}

/// Runs a query built by sea-query on SQLite and maps every row.
pub(crate) fn query<T>(
    conn: &rusqlite::Connection,
    statement: &impl QueryStatementWriter,
    mut row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let (sql, values) = Backend::Sqlite.build(statement);
    let mut prepared = conn.prepare_cached(&sql)?;
    let rows = prepared.query_map(rusqlite::params_from_iter(bind(&values)), |r| row(r))?;
    rows.collect()
}

/// A rusqlite error as an [`Error::Database`] about `target`.
pub(crate) fn db_error(target: &str) -> impl Fn(rusqlite::Error) -> Error {
    let target = target.to_owned();
    move |err| Error::Database {
        target: target.clone(),
        message: err.to_string(),
    }
}

/// FNV-1a, 64 bits: a small, stable checksum (not a cryptographic one).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

pub use discover::{discover_sqlite, discovery_queries, ServiceState};
pub use journal::{
    journal_ddl, journal_statements, plan_checksum, Counts, Journal, StepRecord, StepState,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_known_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn backend_names_round_trip() {
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
            assert_eq!(backend.as_str().parse::<Backend>().unwrap(), backend);
        }
        assert!("oracle".parse::<Backend>().is_err());
    }
}
