//! The database flavours ffu writes SQL for: [`Backend`], public at the crate root.

use sea_query::{
    MysqlQueryBuilder, PostgresQueryBuilder, QueryStatementWriter, SqliteQueryBuilder, Values,
};

use crate::error::Error;

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
