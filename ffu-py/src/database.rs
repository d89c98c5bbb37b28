//! Databases from Python: `ffu.discover` and `ffu.Journal` over any DB-API 2.0 connection.
//!
//! The core writes every statement with sea-query for the connection's backend and runs it
//! through the [`ffu_core::sql::Connection`] trait; [`DbApiConnection`] implements that
//! trait on the caller's connection (sqlite3, psycopg, PyMySQL, ...), so the journal's
//! logic and SQL exist once, in the core, and MySQL/MariaDB and PostgreSQL need no driver
//! inside ffu.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ffu_core::sql::{
    discover, rewrite_placeholders, Connection, ParamStyle, SqlValue, SqliteConnection, StepRecord,
    StepState,
};
use ffu_core::{Backend, Error, Journal, Plan, ServiceState};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyMapping, PyString, PyTuple};

use crate::catalog::PyCatalog;
use crate::convert;
use crate::errors::{argument_error, argument_type_error, guarded, Failure};
use crate::logging;

/// A DB-API 2.0 connection as the core's [`Connection`].
pub(crate) struct DbApiConnection {
    conn: Py<PyAny>,
    backend: Backend,
    style: ParamStyle,
    target: String,
    /// Whether the open transaction was started with an explicit `BEGIN` (the connection
    /// is in autocommit mode), so it must end with an explicit `COMMIT` or `ROLLBACK`.
    explicit: bool,
}

/// The backend a driver module speaks, from the top-level name of its module.
fn backend_of_module(module: &str) -> Option<Backend> {
    match module {
        "sqlite3" | "pysqlite2" | "apsw" => Some(Backend::Sqlite),
        "psycopg" | "psycopg2" | "pg8000" | "pgdb" => Some(Backend::Postgres),
        "pymysql" | "MySQLdb" | "mysql" | "mariadb" => Some(Backend::Mysql),
        _ => None,
    }
}

impl DbApiConnection {
    /// Wraps `conn`; `backend` (`sqlite`, `postgres`, `mysql`) overrides the guess made
    /// from the connection's module.
    pub(crate) fn new(conn: &Bound<'_, PyAny>, backend: Option<&str>) -> PyResult<Self> {
        let py = conn.py();
        let class = conn.get_type();
        let module: String = class.getattr("__module__")?.extract()?;
        let root = module.split('.').next().unwrap_or_default().to_owned();
        let backend = match backend {
            Some(name) => name
                .parse::<Backend>()
                .map_err(|err| argument_error(py, "backend", err.to_string()))?,
            None => backend_of_module(&root).ok_or_else(|| {
                argument_type_error(py, "conn", format!(
                    "cannot tell which database a {module}.{} connection talks to: pass backend=\"sqlite\", \"postgres\" or \"mysql\"",
                    class.name().map(|n| n.to_string()).unwrap_or_default()
                ))
            })?,
        };
        // The driver module's placeholder style (PEP 249 `paramstyle`).
        let declared: Option<String> = py
            .import("sys")?
            .getattr("modules")?
            .get_item(&root)
            .ok()
            .and_then(|m| m.getattr("paramstyle").ok())
            .and_then(|s| s.extract().ok());
        let style = match declared.as_deref() {
            Some("qmark") => ParamStyle::Qmark,
            Some("format" | "pyformat") => ParamStyle::Format,
            Some("numeric") => ParamStyle::Numeric,
            Some(other) => {
                return Err(argument_error(py, "conn", format!(
                    "the {root} driver's paramstyle {other:?} is not supported (qmark, format, pyformat and numeric are)"
                )))
            }
            None if backend == Backend::Sqlite => ParamStyle::Qmark,
            None => ParamStyle::Format,
        };
        Ok(DbApiConnection {
            conn: conn.clone().unbind(),
            backend,
            style,
            target: format!("{root} connection ({})", backend.as_str()),
            explicit: false,
        })
    }

    /// The driver's exception as an [`Error::Database`]: its class and text in the message,
    /// the exception itself kept as the source (it becomes the `DatabaseError`'s
    /// `__cause__`).
    fn error(&self, err: PyErr, py: Python<'_>) -> Error {
        let kind = err
            .get_type(py)
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        Error::Database {
            target: self.target.clone(),
            message: format!("{kind}: {}", err.value(py)),
            source: Some(Box::new(err)),
        }
    }

    /// Whether the connection commits every statement by itself.
    fn autocommit(conn: &Bound<'_, PyAny>) -> PyResult<bool> {
        // PyMySQL and mysqlclient: a method; psycopg and psycopg2: an attribute (PyMySQL's
        // `autocommit` is a setter method, so the method is asked first).
        if let Ok(get) = conn.getattr("get_autocommit") {
            return get.call0()?.is_truthy();
        }
        match conn.getattr("autocommit") {
            Ok(value) if value.is_instance_of::<pyo3::types::PyBool>() => value.is_truthy(),
            _ => Ok(false),
        }
    }

    /// Runs `sql` with `values` on a new cursor; `fetch` reads the rows.
    fn run(&self, sql: &str, values: &[SqlValue], fetch: bool) -> Result<RunResult, Error> {
        Python::attach(|py| {
            let result = (|| -> PyResult<RunResult> {
                let conn = self.conn.bind(py);
                let cursor = conn.call_method0("cursor")?;
                let outcome = (|| {
                    if values.is_empty() {
                        // Without parameters drivers take the text as it is.
                        cursor.call_method1("execute", (sql,))?;
                    } else {
                        let sql = rewrite_placeholders(sql, self.backend, self.style);
                        let params = values
                            .iter()
                            .map(|v| to_python(py, v))
                            .collect::<PyResult<Vec<_>>>()?;
                        let params = PyTuple::new(py, params)?;
                        cursor.call_method1("execute", (sql, params))?;
                    }
                    if fetch {
                        let rows = cursor.call_method0("fetchall")?;
                        let mut out = Vec::new();
                        for row in rows.try_iter()? {
                            let row = row?;
                            let mut values = Vec::new();
                            for value in row.try_iter()? {
                                values.push(from_python(&value?)?);
                            }
                            out.push(values);
                        }
                        Ok(RunResult::Rows(out))
                    } else {
                        let count: i64 = cursor.getattr("rowcount")?.extract().unwrap_or(-1);
                        Ok(RunResult::Changed(u64::try_from(count).unwrap_or(0)))
                    }
                })();
                // Closing is tidiness; the statement's own outcome is what counts.
                let _ = cursor.call_method0("close");
                outcome
            })();
            result.map_err(|err| self.error(err, py))
        })
    }

    fn end(&mut self, verb: &str) -> Result<(), Error> {
        let explicit = std::mem::replace(&mut self.explicit, false);
        Python::attach(|py| {
            let conn = self.conn.bind(py);
            let result = if explicit {
                conn.call_method0("cursor")
                    .and_then(|cursor| cursor.call_method1("execute", (verb.to_uppercase(),)))
                    .map(drop)
            } else {
                conn.call_method0(verb).map(drop)
            };
            result.map_err(|err| self.error(err, py))
        })
    }
}

enum RunResult {
    Changed(u64),
    Rows(Vec<Vec<SqlValue>>),
}

fn to_python<'py>(py: Python<'py>, value: &SqlValue) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::IntoPyObjectExt;
    match value {
        SqlValue::Null => Ok(py.None().into_bound(py)),
        SqlValue::Int(i) => i.into_bound_py_any(py),
        SqlValue::Text(s) => s.into_bound_py_any(py),
        SqlValue::Real(f) => f.into_bound_py_any(py),
        SqlValue::Bytes(b) => Ok(PyBytes::new(py, b).into_any()),
    }
}

/// A value a driver returned, as the core's: `bool` and `int` (and integral `Decimal`s,
/// which some MySQL drivers return for `BIGINT` sums) as integers, `bytes`-like as bytes.
fn from_python(value: &Bound<'_, PyAny>) -> PyResult<SqlValue> {
    if value.is_none() {
        return Ok(SqlValue::Null);
    }
    if let Ok(i) = value.extract::<i64>() {
        if !value.is_instance_of::<pyo3::types::PyFloat>() {
            return Ok(SqlValue::Int(i));
        }
    }
    if let Ok(f) = value.extract::<f64>() {
        return Ok(SqlValue::Real(f));
    }
    if let Ok(s) = value.extract::<String>() {
        return Ok(SqlValue::Text(s));
    }
    // Bytes by their buffer, not as a sequence of ints (whose `len()` would be trusted).
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(SqlValue::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = value.cast::<pyo3::types::PyByteArray>() {
        return Ok(SqlValue::Bytes(b.to_vec()));
    }
    // memoryview (psycopg's bytea) and anything else that converts itself to bytes.
    let converted = if value.is_instance_of::<pyo3::types::PyMemoryView>() {
        value.py().get_type::<PyBytes>().call1((value,)).ok()
    } else {
        value.call_method0("__bytes__").ok()
    };
    if let Some(b) = converted {
        if let Ok(b) = b.cast::<PyBytes>() {
            return Ok(SqlValue::Bytes(b.as_bytes().to_vec()));
        }
    }
    // Anything else with a text form.
    Ok(SqlValue::Text(value.str()?.to_string()))
}

impl Connection for DbApiConnection {
    fn backend(&self) -> Backend {
        self.backend
    }

    fn target(&self) -> &str {
        &self.target
    }

    fn begin(&mut self) -> Result<(), Error> {
        let explicit = Python::attach(|py| {
            let conn = self.conn.bind(py);
            let start = || -> PyResult<Option<&'static str>> {
                match self.backend {
                    // sqlite3 opens transactions lazily, before the first write: take the
                    // write lock at once instead, unless the caller already opened one.
                    Backend::Sqlite => {
                        let open = conn
                            .getattr("in_transaction")
                            .and_then(|v| v.is_truthy())
                            .unwrap_or(false);
                        Ok((!open).then_some("BEGIN IMMEDIATE"))
                    }
                    // Drivers not in autocommit mode open a transaction with the first
                    // statement; in autocommit mode ffu opens one itself.
                    _ => Ok(DbApiConnection::autocommit(conn)?.then_some("BEGIN")),
                }
            };
            let verb = start().map_err(|err| self.error(err, py))?;
            if let Some(verb) = verb {
                conn.call_method0("cursor")
                    .and_then(|cursor| cursor.call_method1("execute", (verb,)))
                    .map_err(|err| self.error(err, py))?;
            }
            // SQLite's explicit BEGIN ends with the connection's commit(), which sqlite3
            // issues whenever a transaction is open.
            Ok::<bool, Error>(verb == Some("BEGIN"))
        })?;
        self.explicit = explicit;
        Ok(())
    }

    fn execute(&mut self, sql: &str, values: &[SqlValue]) -> Result<u64, Error> {
        match self.run(sql, values, false)? {
            RunResult::Changed(count) => Ok(count),
            RunResult::Rows(_) => Ok(0),
        }
    }

    fn query(&mut self, sql: &str, values: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, Error> {
        match self.run(sql, values, true)? {
            RunResult::Rows(rows) => Ok(rows),
            RunResult::Changed(_) => Ok(Vec::new()),
        }
    }

    fn commit(&mut self) -> Result<(), Error> {
        self.end("commit")
    }

    fn rollback(&mut self) -> Result<(), Error> {
        self.end("rollback")
    }
}

/// A file path given for a database (str or os.PathLike), or `None` for a connection.
fn as_path(value: &Bound<'_, PyAny>) -> Option<PathBuf> {
    if value.is_instance_of::<pyo3::types::PyString>()
        || value.hasattr("__fspath__").unwrap_or(false)
    {
        value.extract::<PathBuf>().ok()
    } else {
        None
    }
}

/// The state of one service as the dict `ffu.discover` returns.
fn state_dict<'py>(py: Python<'py>, state: &ServiceState) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("release", state.release.as_deref())?;
    dict.set_item("applied", PyList::new(py, &state.applied)?)?;
    dict.set_item("pending", PyList::new(py, &state.pending)?)?;
    dict.set_item("legacy_version", state.legacy_version)?;
    dict.set_item("same_schema_until", state.same_schema_until.as_deref())?;
    dict.set_item(
        "applied_revisions",
        PyList::new(py, &state.applied_revisions)?,
    )?;
    dict.set_item(
        "pending_revisions",
        PyList::new(py, &state.pending_revisions)?,
    )?;
    Ok(dict)
}

/// Where a database stands, per service: `{"SERVICE": {"release": R or None, "applied":
/// [...], "pending": [...], "legacy_version": N or None, "same_schema_until": R or None,
/// "applied_revisions": [...], "pending_revisions": [...]}}` (the revisions: DESIGN §12).
///
/// `conn` is any DB-API 2.0 connection (its backend guessed from its module, or given as
/// `backend`), or the path of a SQLite file. Reads `alembic_version` and
/// `migrate_version`; a missing table means nothing recorded there.
#[pyfunction(name = "discover")]
#[pyo3(signature = (conn, catalog, services, *, backend = None))]
pub(crate) fn discover_state<'py>(
    py: Python<'py>,
    conn: &Bound<'py, PyAny>,
    catalog: &Bound<'py, PyCatalog>,
    services: &Bound<'py, PyAny>,
    backend: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let services = convert::str_list(services, "services", "services")?;
    logging::sync_level(py);
    let catalog = Arc::clone(&catalog.get().inner);
    let result = if let Some(path) = as_path(conn) {
        py.detach(|| guarded(|| Ok(ffu_core::sql::discover_sqlite(&path, &catalog, &services)?)))
    } else {
        let mut wrapped = DbApiConnection::new(conn, backend.as_deref())?;
        guarded(|| Ok(discover(&mut wrapped, &catalog, &services)?))
    };
    let state = result.map_err(|failure| failure.into_py_err(py, None))?;
    let out = PyDict::new(py);
    for (service, state) in &state {
        out.set_item(service, state_dict(py, state)?)?;
    }
    Ok(out)
}

/// Reads a `state=` argument: `{"SERVICE": {"applied": [...], ...}}` (what `discover`
/// returns) or `{"SERVICE": [...]}` (the applied migrations only), any mapping and any
/// iterable of str, each read item by item up to a bound.
pub(crate) fn state_arg(state: &Bound<'_, PyAny>) -> PyResult<BTreeMap<String, ServiceState>> {
    let py = state.py();
    let mapping = state.cast::<PyMapping>().map_err(|_| {
        argument_type_error(
            py,
            "state",
            format!(
                "state must be a dict of service -> {{\"applied\": [...]}} (as ffu.discover returns), not {}",
                convert::kind(state)
            ),
        )
    })?;
    let mut out = BTreeMap::new();
    for (service, value) in convert::mapping_items(mapping, "state", "state")? {
        let Ok(service) = service.cast::<PyString>() else {
            return Err(argument_type_error(
                py,
                "state",
                format!(
                    "state keys must be service names (str), not {}",
                    convert::kind(&service)
                ),
            ));
        };
        let service = service.to_cow()?.into_owned();
        let mut applied_revisions = Vec::new();
        let applied = if let Ok(entry) = value.cast::<PyMapping>() {
            // Optional: a database stopped partway through a step (DESIGN §12).
            if entry.contains("applied_revisions")? {
                applied_revisions = convert::str_list(
                    &entry.get_item("applied_revisions")?,
                    "state",
                    &format!("state[{service:?}][\"applied_revisions\"]"),
                )?;
            }
            let applied = entry.get_item("applied").map_err(|err| {
                if err.is_instance_of::<pyo3::exceptions::PyKeyError>(py) {
                    argument_error(
                        py,
                        "state",
                        format!("state[{service:?}] has no \"applied\" list"),
                    )
                } else {
                    err
                }
            })?;
            convert::str_list(
                &applied,
                "state",
                &format!("state[{service:?}][\"applied\"]"),
            )?
        } else {
            convert::str_list(&value, "state", &format!("state[{service:?}]"))?
        };
        let mut service_state = ServiceState::applied(applied);
        service_state.applied_revisions = applied_revisions;
        out.insert(service, service_state);
    }
    Ok(out)
}

/// The journal of an upgrade run: which steps of a plan are done, and the next one to
/// run, so that a runner stopped at any point resumes with no step done twice or lost.
///
/// `conn` is the path of a SQLite file (created if needed; ffu opens it itself) or any
/// DB-API 2.0 connection (sqlite3, psycopg, PyMySQL, ...; its backend guessed from its
/// module, or given as `backend`). The tables are `ffu_run`, `ffu_step`, `ffu_lock`,
/// `ffu_step_error` (the error text of failed steps) and `ffu_plan` (the plan the journal
/// keeps: without `plan`, the journal runs on the one it keeps).
/// Every transition is one transaction, committed on the connection before the method
/// returns: give the journal a connection without other work in progress.
#[pyclass(frozen, module = "ffu", name = "Journal")]
pub(crate) struct PyJournal {
    inner: Mutex<Journal>,
    checksum: String,
    /// The plan given, or the one the journal keeps once read.
    plan: std::sync::OnceLock<Arc<Plan>>,
}

/// A journal's step id argument: a `str`, or an `ffu.Step` (as `next(n=...)` gives).
fn step_arg(step: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(step) = step.cast::<crate::plan::PyStep>() {
        return Ok(step.get().step_id().to_owned());
    }
    step.extract::<String>().map_err(|_| {
        argument_type_error(
            step.py(),
            "step",
            format!(
                "a step is its id (str) or an ffu.Step, not {}",
                crate::convert::kind(step)
            ),
        )
    })
}

impl PyJournal {
    fn target(&self) -> String {
        self.inner
            .lock()
            .map(|journal| journal.target().to_owned())
            .unwrap_or_default()
    }

    /// The plan given, else the one the journal keeps (read once).
    fn plan_of(&self, py: Python<'_>) -> PyResult<Arc<Plan>> {
        if let Some(plan) = self.plan.get() {
            return Ok(Arc::clone(plan));
        }
        let plan = Arc::new(self.with(py, Journal::plan)?);
        Ok(Arc::clone(self.plan.get_or_init(|| plan)))
    }

    /// Runs `work` on the journal, without the GIL for the embedded SQLite (a DB-API
    /// connection takes it back for each statement).
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&mut Journal) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        logging::sync_level(py);
        py.detach(|| {
            guarded(|| {
                // A panic in an earlier call poisoned the lock; the journal's state lives
                // in the database, so the value is still good to use.
                let mut journal = self
                    .inner
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                Ok(work(&mut journal)?)
            })
        })
        .map_err(|failure: Failure| failure.into_py_err(py, None))
    }
}

#[pymethods]
impl PyJournal {
    #[new]
    #[pyo3(signature = (conn, plan = None, *, backend = None))]
    fn new(
        py: Python<'_>,
        conn: &Bound<'_, PyAny>,
        plan: Option<&Bound<'_, PyAny>>,
        backend: Option<String>,
    ) -> PyResult<PyJournal> {
        let plan: Option<Arc<Plan>> = plan
            .filter(|plan| !plan.is_none())
            .map(|plan| crate::plan::plan_arg(py, plan, "Journal()"))
            .transpose()?;
        logging::sync_level(py);
        let connection: Box<dyn Connection + Send> = match as_path(conn) {
            Some(path) => {
                let opened = py.detach(|| guarded(|| Ok(SqliteConnection::open(&path)?)));
                Box::new(opened.map_err(|failure| failure.into_py_err(py, None))?)
            }
            None => Box::new(DbApiConnection::new(conn, backend.as_deref())?),
        };
        let journal = py
            .detach(|| {
                guarded(|| {
                    Ok(match &plan {
                        Some(plan) => Journal::open(connection, plan)?,
                        None => Journal::open_stored(connection)?,
                    })
                })
            })
            .map_err(|failure| failure.into_py_err(py, None))?;
        let cell = std::sync::OnceLock::new();
        if let Some(plan) = plan {
            let _ = cell.set(plan);
        }
        Ok(PyJournal {
            checksum: journal.checksum().to_owned(),
            inner: Mutex::new(journal),
            plan: cell,
        })
    }

    /// The plan the journal follows: the one given, else the one the journal keeps.
    fn plan(&self, py: Python<'_>) -> PyResult<crate::plan::PyPlan> {
        let plan = self.plan_of(py)?;
        let name = format!("{} (the journal's plan)", self.target());
        Ok(crate::plan::PyPlan::built(plan, Some(name)))
    }

    /// The recovery plan from where this run stands (`ffu recover`): an `ffu.Plan` with
    /// `"recovery": true` in its document, which `Catalog.verify` checks by V16. `catalog`
    /// (else the embedded one) tells which migrations are reversible; `restore_command`
    /// replaces the restore command derived from each backup's command (placeholders
    /// `{databases}`, `{service}`, `{release}`, `{backup}`).
    #[pyo3(signature = (catalog = None, restore_command = None))]
    fn recovery_plan(
        &self,
        py: Python<'_>,
        catalog: Option<&Bound<'_, PyCatalog>>,
        restore_command: Option<String>,
    ) -> PyResult<crate::plan::PyPlan> {
        let catalog = catalog.map_or_else(
            || Arc::new(ffu_core::Catalog::openstack()),
            |c| Arc::clone(&c.get().inner),
        );
        let plan = self.plan_of(py)?;
        let recovery = self.with(py, move |journal| {
            journal.recovery_plan(&catalog, &plan, restore_command.as_deref(), "<plan>")
        })?;
        Ok(crate::plan::PyPlan::built(
            Arc::new(recovery),
            Some(format!("{} (recovery plan)", self.target())),
        ))
    }

    /// The checksum of the journal's plan (16 hex digits).
    #[getter]
    fn checksum(&self) -> &str {
        &self.checksum
    }

    /// Takes the next step to run and marks it running: a step whose runner stopped during
    /// it, else the first pending or failed one. Returns its id, or `None` when every step
    /// is done. Holds the journal's lock for `owner` for `lock_ttl` seconds (longer than
    /// any step); another owner's expired lock is taken over with a warning.
    ///
    /// With `n` (`next(n)`, or `next(owner=..., n=...)`): takes up to `n` steps under one
    /// claim (that step, then the steps after it that may run at once with it, every step
    /// they require done: the hosts of one agent batch) and returns them as the plan's `Step`s (id, host, command, kind,
    /// ...); empty when every step is done.
    #[pyo3(
        signature = (owner = None, lock_ttl = 3600.0, *, n = None),
        text_signature = "($self, owner='ffu', lock_ttl=3600.0, *, n=None)"
    )]
    fn next<'py>(
        &self,
        py: Python<'py>,
        owner: Option<&Bound<'py, PyAny>>,
        lock_ttl: f64,
        n: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // `next(50)`: the first positional argument is a number of steps, not an owner.
        let (owner, n) = match owner {
            Some(first)
                if first.is_instance_of::<pyo3::types::PyInt>()
                    && !first.is_instance_of::<pyo3::types::PyBool>() =>
            {
                if n.is_some() {
                    return Err(argument_error(
                        py,
                        "n",
                        "next takes n once: next(n) or next(n=n)".to_owned(),
                    ));
                }
                ("ffu".to_owned(), Some(first))
            }
            Some(owner) => (
                owner.extract::<String>().map_err(|_| {
                    argument_type_error(
                        py,
                        "owner",
                        format!("owner is a str, not {}", crate::convert::kind(owner)),
                    )
                })?,
                n,
            ),
            None => ("ffu".to_owned(), n),
        };
        let n: Option<i64> = match n.filter(|n| !n.is_none()) {
            None => None,
            Some(n) if n.is_instance_of::<pyo3::types::PyBool>() => {
                return Err(argument_type_error(
                    py,
                    "n",
                    "n is a number of steps (int), not a bool".to_owned(),
                ))
            }
            Some(n) => Some(n.extract::<i64>().map_err(|_| {
                argument_error(
                    py,
                    "n",
                    format!(
                        "n must be a number of steps >= 1, not {}",
                        crate::convert::kind(n)
                    ),
                )
            })?),
        };
        let ttl = Duration::try_from_secs_f64(lock_ttl).map_err(|_| {
            argument_error(
                py,
                "lock_ttl",
                format!("lock_ttl must be a number of seconds >= 0, not {lock_ttl}"),
            )
        })?;
        let Some(n) = n else {
            let next = self.with(py, |journal| journal.next(&owner, ttl))?;
            return Ok(next.into_pyobject(py)?.into_any());
        };
        let max = usize::try_from(n).ok().filter(|&n| n >= 1).ok_or_else(|| {
            argument_error(
                py,
                "n",
                format!("n must be a number of steps >= 1, not {n}"),
            )
        })?;
        let plan = self.plan_of(py)?;
        let claimed = self.with(py, |journal| journal.next_many(&owner, ttl, max, &plan))?;
        let by_id: std::collections::HashMap<&str, &ffu_core::Step> =
            plan.steps.iter().map(|s| (s.id.as_str(), s)).collect();
        let list = PyList::empty(py);
        for id in claimed {
            if let Some(step) = by_id.get(id.as_str()) {
                list.append(crate::plan::PyStep::from((*step).clone()))?;
            }
        }
        Ok(list.into_any())
    }

    /// Marks a running step done and releases the lock (done again: nothing changes).
    /// `force`: an operator's word that the step is done (by hand), whatever its state;
    /// the lock is left as it is.
    #[pyo3(signature = (step, *, force = false))]
    fn done(&self, py: Python<'_>, step: &Bound<'_, PyAny>, force: bool) -> PyResult<()> {
        let step = step_arg(step)?;
        if force {
            return self
                .with(py, |journal| journal.set_state(&step, StepState::Done))
                .map(drop);
        }
        self.with(py, |journal| journal.done(&step))
    }

    /// Marks a running step failed and releases the lock; `next` gives it again. `error`:
    /// what went wrong, kept and given by `errors`.
    #[pyo3(signature = (step, *, error = None))]
    fn fail(&self, py: Python<'_>, step: &Bound<'_, PyAny>, error: Option<String>) -> PyResult<()> {
        let step = step_arg(step)?;
        self.with(py, |journal| match &error {
            Some(error) => {
                journal.finish_keeping_lock(&step, StepState::Failed, Some(error))?;
                journal.unlock(None).map(drop)
            }
            None => journal.fail(&step),
        })
    }

    /// An operator skips a step: it counts as done, whatever its state. Returns the state
    /// it was in.
    fn skip(&self, py: Python<'_>, step: &Bound<'_, PyAny>) -> PyResult<&'static str> {
        let step = step_arg(step)?;
        self.with(py, |journal| journal.set_state(&step, StepState::Done))
            .map(StepState::as_str)
    }

    /// An operator resets a step to pending, its attempts to 0 and its error text gone.
    /// Returns the state it was in.
    fn reset(&self, py: Python<'_>, step: &Bound<'_, PyAny>) -> PyResult<&'static str> {
        let step = step_arg(step)?;
        self.with(py, |journal| journal.set_state(&step, StepState::Pending))
            .map(StepState::as_str)
    }

    /// Releases `owner`'s lock; `force`: whoever holds it (a runner that died). Returns
    /// who held it, or `None` when nobody did.
    #[pyo3(
        signature = (owner = "ffu".to_owned(), *, force = false),
        text_signature = "($self, owner='ffu', *, force=False)"
    )]
    fn unlock(&self, py: Python<'_>, owner: String, force: bool) -> PyResult<Option<String>> {
        self.with(py, |journal| {
            journal.unlock((!force).then_some(owner.as_str()))
        })
    }

    /// The error text of each failed step that has one, by step id.
    fn errors(&self, py: Python<'_>) -> PyResult<std::collections::BTreeMap<String, String>> {
        self.with(py, Journal::errors)
    }

    /// How many steps are in each state: `{"pending": n, "running": n, "done": n,
    /// "failed": n}`.
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let counts = self.with(py, Journal::status)?;
        let dict = PyDict::new(py);
        dict.set_item("pending", counts.pending)?;
        dict.set_item("running", counts.running)?;
        dict.set_item("done", counts.done)?;
        dict.set_item("failed", counts.failed)?;
        Ok(dict)
    }

    /// Every step's row, in plan order: dicts with `id`, `position`, `state`, `attempts`,
    /// `host`, `started_at` and `finished_at` (Unix milliseconds, or `None`).
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let steps: Vec<StepRecord> = self.with(py, Journal::steps)?;
        let list = PyList::empty(py);
        for step in steps {
            let dict = PyDict::new(py);
            dict.set_item("id", step.id)?;
            dict.set_item("position", step.position)?;
            dict.set_item("state", step.state.as_str())?;
            dict.set_item("attempts", step.attempts)?;
            dict.set_item("host", step.host)?;
            dict.set_item("started_at", step.started_at)?;
            dict.set_item("finished_at", step.finished_at)?;
            list.append(dict)?;
        }
        Ok(list)
    }

    fn __repr__(&self) -> String {
        format!("<ffu.Journal {} plan {}>", self.target(), self.checksum)
    }
}

/// The discovery statements for `backend` (`sqlite`, `postgres`, `mysql`), as text:
/// what `ffu discover --sql` prints.
#[pyfunction]
pub(crate) fn discovery_sql(py: Python<'_>, backend: String) -> PyResult<Vec<String>> {
    let backend = backend
        .parse::<Backend>()
        .map_err(|err| argument_error(py, "backend", err.to_string()))?;
    Ok(ffu_core::sql::discovery_queries(backend))
}

/// Migrations read from alembic revision scripts: a catalog fragment for `include:`.
#[pyclass(frozen, module = "ffu", name = "AlembicImport")]
pub(crate) struct PyAlembicImport {
    inner: ffu_core::AlembicImport,
}

#[pymethods]
impl PyAlembicImport {
    /// The revision ids in the order ffu would run them (`down_revision` and
    /// `depends_on` first; ties by file path).
    #[getter]
    fn order(&self) -> Vec<String> {
        self.inner.order()
    }

    /// What looked odd but is not an error (several heads, scripts outside the layout).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings().to_vec()
    }

    /// The fragment as YAML (`format` and `migrations`).
    fn to_yaml(&self) -> String {
        self.inner.to_yaml()
    }

    /// The fragment as indented JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The fragment as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::convert::loads(py, &self.inner.to_json())
    }

    fn __len__(&self) -> usize {
        self.inner.revisions()
    }

    fn __repr__(&self) -> String {
        format!("<ffu.AlembicImport {} revisions>", self.inner.revisions())
    }
}

/// Reads the alembic revision scripts under `directory` as text (never running them) into
/// migrations `SERVICE.alembic.<revision>` whose `requires` follow `down_revision` and
/// `depends_on`. Without `release`, the layout is neutron's `<release>/<expand|contract>/`;
/// with it, every revision is a `migrate` of that release.
#[pyfunction]
#[pyo3(signature = (directory, service, *, release = None))]
pub(crate) fn import_alembic(
    py: Python<'_>,
    directory: PathBuf,
    service: String,
    release: Option<String>,
) -> PyResult<PyAlembicImport> {
    logging::sync_level(py);
    let layout = match release {
        Some(release) => ffu_core::AlembicLayout::Single { release },
        None => ffu_core::AlembicLayout::ReleaseDirs,
    };
    let imported = py
        .detach(|| guarded(|| Ok(ffu_core::import_alembic(&directory, &service, &layout)?)))
        .map_err(|failure| failure.into_py_err(py, None))?;
    Ok(PyAlembicImport { inner: imported })
}
