//! SQL for real databases: state discovery and the journal, built with sea-query.
//!
//! Every statement is built with [sea-query](https://docs.rs/sea-query): identifiers are
//! quoted and values are bound (or, in the text forms, quoted) by sea-query, never pasted
//! into SQL by hand. The statements exist for the three backends of [`Backend`]; ffu runs
//! them itself on SQLite (embedded, through rusqlite), and prints them for the others
//! (`ffu discover --sql --backend mysql`).
//!
//! [`Journal`](crate::Journal), [`Backend`] and
//! [`ServiceState`](crate::ServiceState) are at the crate root; this module holds the rest:
//! discovery ([`discover()`], [`discover_sqlite`], [`discovery_queries`]), the journal's
//! records ([`StepRecord`], [`StepState`], [`Counts`], [`plan_checksum`]), and the
//! [`Connection`] through which ffu runs its statements on any driver ([`SqlValue`],
//! [`SqliteConnection`], [`rewrite_placeholders`] with [`ParamStyle`]).

use std::path::Path;

use sea_query::{QueryStatementWriter, Values};

use crate::error::Error;

// Each public item has one path: `Backend` and `Journal` are re-exported at the crate root
// (the CLI and the Python bindings name them there), everything else is re-exported here,
// at the end of this file; the submodules themselves are not public.
pub(crate) mod backend;
mod discover;
pub(crate) mod journal;

pub(crate) use backend::Backend;

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// An integer (booleans too).
    Int(i64),
    /// Text.
    Text(String),
    /// A floating-point number.
    Real(f64),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl SqlValue {
    /// The value as an integer, if it is one (text holding an integer counts: some drivers
    /// return `BIGINT` or `DECIMAL` columns as text).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SqlValue::Int(i) => Some(*i),
            SqlValue::Text(text) => text.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as text, if it is text (bytes that are UTF-8 count: MySQL drivers may
    /// return `VARCHAR ... BINARY` columns as bytes).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(text) => Some(text),
            SqlValue::Bytes(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    /// The values sea-query collected for a statement.
    fn from_sea_query(values: &Values) -> Vec<SqlValue> {
        use sea_query::Value;
        values
            .0
            .iter()
            .map(|value| match value {
                Value::Bool(Some(b)) => SqlValue::Int(i64::from(*b)),
                Value::Int(Some(i)) => SqlValue::Int(i64::from(*i)),
                Value::BigInt(Some(i)) => SqlValue::Int(*i),
                Value::Unsigned(Some(i)) => SqlValue::Int(i64::from(*i)),
                // LIMIT and OFFSET are bound as u64.
                Value::BigUnsigned(Some(i)) => SqlValue::Int(i64::try_from(*i).unwrap_or(i64::MAX)),
                Value::String(Some(s)) => SqlValue::Text(s.clone()),
                Value::Double(Some(f)) => SqlValue::Real(*f),
                Value::Bytes(Some(b)) => SqlValue::Bytes(b.clone()),
                // Only the types above are used by ffu's statements; everything else is NULL.
                _ => SqlValue::Null,
            })
            .collect()
    }
}

/// A database connection that runs ffu's statements: the embedded SQLite
/// ([`SqliteConnection`]), or any other driver (the Python bindings wrap a DB-API
/// connection in one).
///
/// ffu builds every statement with sea-query for [`Connection::backend`], with the backend's
/// placeholders (`?` for SQLite and MySQL, `$1` for PostgreSQL); an implementation binds
/// `values` to them in order (rewriting the placeholders first if its driver wants another
/// style, see [`rewrite_placeholders`]). Errors are [`Error::Database`] naming
/// [`Connection::target`].
pub trait Connection {
    /// The SQL flavour of the database.
    fn backend(&self) -> Backend;
    /// What the connection reaches, for messages: a path, or a description of the server.
    fn target(&self) -> &str;
    /// Starts a transaction that takes the database's write lock at once where the backend
    /// has one (SQLite: `BEGIN IMMEDIATE`); ffu takes row locks itself on the others.
    ///
    /// # Errors
    /// [`Error::Database`].
    fn begin(&mut self) -> Result<(), Error>;
    /// Runs a statement that returns no rows; gives the number of rows changed.
    ///
    /// # Errors
    /// [`Error::Database`].
    fn execute(&mut self, sql: &str, values: &[SqlValue]) -> Result<u64, Error>;
    /// Runs a query and returns its rows.
    ///
    /// # Errors
    /// [`Error::Database`].
    fn query(&mut self, sql: &str, values: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, Error>;
    /// Commits the transaction.
    ///
    /// # Errors
    /// [`Error::Database`].
    fn commit(&mut self) -> Result<(), Error>;
    /// Rolls the transaction back.
    ///
    /// # Errors
    /// [`Error::Database`].
    fn rollback(&mut self) -> Result<(), Error>;
}

/// Runs a sea-query statement on `conn`.
pub(crate) fn execute<C: Connection + ?Sized>(
    conn: &mut C,
    statement: &impl QueryStatementWriter,
) -> Result<u64, Error> {
    let (sql, values) = conn.backend().build(statement);
    conn.execute(&sql, &SqlValue::from_sea_query(&values))
}

/// Runs a sea-query query on `conn`.
pub(crate) fn query<C: Connection + ?Sized>(
    conn: &mut C,
    statement: &impl QueryStatementWriter,
) -> Result<Vec<Vec<SqlValue>>, Error> {
    let (sql, values) = conn.backend().build(statement);
    conn.query(&sql, &SqlValue::from_sea_query(&values))
}

/// Runs `work` in one transaction on `conn`: committed when it succeeds, rolled back when
/// it fails (a failed rollback is logged; the first error is the one that counts).
pub(crate) fn transaction<C: Connection + ?Sized, T>(
    conn: &mut C,
    work: impl FnOnce(&mut C) -> Result<T, Error>,
) -> Result<T, Error> {
    conn.begin()?;
    match work(conn) {
        Ok(value) => {
            conn.commit()?;
            Ok(value)
        }
        Err(err) => {
            if let Err(rollback) = conn.rollback() {
                tracing::warn!("rollback failed after an error: {rollback}");
            }
            Err(err)
        }
    }
}

/// A placeholder style of a DB-API 2.0 driver (its module's `paramstyle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `?` (sqlite3).
    Qmark,
    /// `%s` (psycopg, PyMySQL, mysqlclient); a literal `%` is written `%%`.
    Format,
    /// `:1`, `:2`, ...
    Numeric,
    /// `$1`, `$2`, ... (PostgreSQL's own).
    Dollar,
}

/// Rewrites the placeholders of `sql`, as sea-query built it for `backend`, into `style`.
///
/// Placeholders are `?` (SQLite, MySQL) or `$N` (PostgreSQL, numbered in order) outside
/// quoted text and identifiers; quoted parts are copied unchanged (only `%` is doubled for
/// [`ParamStyle::Format`], which drivers of that style unescape everywhere).
pub fn rewrite_placeholders(sql: &str, backend: Backend, style: ParamStyle) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut count = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' && style == ParamStyle::Format {
            out.push_str("%%");
            continue;
        }
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && q == '\'' && backend != Backend::Sqlite {
                // MySQL and PostgreSQL's E'' strings escape with a backslash.
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        let placeholder = match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                out.push(c);
                continue;
            }
            '?' if backend != Backend::Postgres => true,
            '$' if backend == Backend::Postgres
                && chars.peek().is_some_and(char::is_ascii_digit) =>
            {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                true
            }
            _ => false,
        };
        if !placeholder {
            out.push(c);
            continue;
        }
        count += 1;
        match style {
            ParamStyle::Qmark => out.push('?'),
            ParamStyle::Format => out.push_str("%s"),
            ParamStyle::Numeric => {
                out.push(':');
                out.push_str(&count.to_string());
            }
            ParamStyle::Dollar => {
                out.push('$');
                out.push_str(&count.to_string());
            }
        }
    }
    out
}

/// The embedded database: SQLite through rusqlite (bundled, so no system library is
/// needed).
#[derive(Debug)]
pub struct SqliteConnection {
    conn: rusqlite::Connection,
    target: String,
}

impl SqliteConnection {
    /// Opens (creating if needed) the SQLite database at `path`, for reading and writing,
    /// with a 30 s busy timeout, WAL and `synchronous=NORMAL`: readers do not block the
    /// writer, and a killed process loses nothing committed (only a power loss may lose the
    /// last transactions, never corrupt the file).
    ///
    /// # Errors
    /// [`Error::Database`] when the file cannot be opened as a database.
    pub fn open(path: &Path) -> Result<SqliteConnection, Error> {
        let target = path.display().to_string();
        let err = db_error(&target);
        let conn = rusqlite::Connection::open(path).map_err(&err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(&err)?;
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .map_err(&err)?;
        conn.execute_batch("PRAGMA synchronous=NORMAL")
            .map_err(&err)?;
        Ok(SqliteConnection { conn, target })
    }

    /// Opens the existing SQLite database at `path` read-only.
    ///
    /// # Errors
    /// [`Error::Database`] when there is no such file or it is not a database.
    pub fn open_read_only(path: &Path) -> Result<SqliteConnection, Error> {
        let target = path.display().to_string();
        if !path.is_file() {
            return Err(Error::Database {
                target,
                message: "no such database file".to_owned(),
                source: None,
            });
        }
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_error(&target))?;
        Ok(SqliteConnection { conn, target })
    }

    fn params(values: &[SqlValue]) -> impl Iterator<Item = rusqlite::types::Value> + '_ {
        use rusqlite::types::Value as Sql;
        values.iter().map(|value| match value {
            SqlValue::Null => Sql::Null,
            SqlValue::Int(i) => Sql::Integer(*i),
            SqlValue::Text(s) => Sql::Text(s.clone()),
            SqlValue::Real(f) => Sql::Real(*f),
            SqlValue::Bytes(b) => Sql::Blob(b.clone()),
        })
    }
}

impl Connection for SqliteConnection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn target(&self) -> &str {
        &self.target
    }

    fn begin(&mut self) -> Result<(), Error> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(db_error(&self.target))
    }

    fn execute(&mut self, sql: &str, values: &[SqlValue]) -> Result<u64, Error> {
        let err = db_error(&self.target);
        let changed = self
            .conn
            .prepare_cached(sql)
            .map_err(&err)?
            .execute(rusqlite::params_from_iter(Self::params(values)))
            .map_err(&err)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, values: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, Error> {
        use rusqlite::types::ValueRef;
        let err = db_error(&self.target);
        let mut statement = self.conn.prepare_cached(sql).map_err(&err)?;
        let width = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(Self::params(values)))
            .map_err(&err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(&err)? {
            let mut values = Vec::with_capacity(width);
            for column in 0..width {
                values.push(match row.get_ref(column).map_err(&err)? {
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(i) => SqlValue::Int(i),
                    ValueRef::Real(f) => SqlValue::Real(f),
                    ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => SqlValue::Bytes(b.to_vec()),
                });
            }
            out.push(values);
        }
        Ok(out)
    }

    fn commit(&mut self) -> Result<(), Error> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(db_error(&self.target))
    }

    fn rollback(&mut self) -> Result<(), Error> {
        self.conn
            .execute_batch("ROLLBACK")
            .map_err(db_error(&self.target))
    }
}

/// A rusqlite error as an [`Error::Database`] about `target`, the rusqlite error kept as
/// its source.
pub(crate) fn db_error(target: &str) -> impl Fn(rusqlite::Error) -> Error {
    let target = target.to_owned();
    move |err| Error::Database {
        target: target.clone(),
        message: err.to_string(),
        source: Some(Box::new(err)),
    }
}

/// FNV-1a, 64 bits: a small, stable checksum (not a cryptographic one).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

pub use discover::{discover, discover_sqlite, discover_sqlite_many, discovery_queries};
pub use journal::{plan_checksum, Counts, Start, StepRecord, StepState};

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

#[cfg(test)]
mod placeholder_tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_quotes_only() {
        let pg = r#"SELECT "a?$1" FROM "t" WHERE "x" = $1 AND "y" = E'it''s $2 ?' AND "z" IN ($2, $3) LIMIT $4"#;
        assert_eq!(
            rewrite_placeholders(pg, Backend::Postgres, ParamStyle::Format),
            r#"SELECT "a?$1" FROM "t" WHERE "x" = %s AND "y" = E'it''s $2 ?' AND "z" IN (%s, %s) LIMIT %s"#
        );
        let mysql = r"SELECT `c?` FROM `t` WHERE `x` = ? AND `y` = 'a\'?%' LIMIT ?";
        assert_eq!(
            rewrite_placeholders(mysql, Backend::Mysql, ParamStyle::Format),
            r"SELECT `c?` FROM `t` WHERE `x` = %s AND `y` = 'a\'?%%' LIMIT %s"
        );
        assert_eq!(
            rewrite_placeholders(mysql, Backend::Mysql, ParamStyle::Numeric),
            r"SELECT `c?` FROM `t` WHERE `x` = :1 AND `y` = 'a\'?%' LIMIT :2"
        );
        assert_eq!(
            rewrite_placeholders("SELECT ? , ?", Backend::Sqlite, ParamStyle::Dollar),
            "SELECT $1 , $2"
        );
        assert_eq!(
            rewrite_placeholders(pg, Backend::Postgres, ParamStyle::Dollar),
            pg
        );
    }
}
