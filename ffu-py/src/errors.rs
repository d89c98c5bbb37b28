//! The exception hierarchy of the Python package, and the one place where core errors and
//! panics become Python exceptions.
//!
//! The classes are written in Python (below, compiled once when the module loads) because
//! `CatalogError`, `ArgumentError` and `ArgumentTypeError` derive from both `FfuError` and a
//! builtin class, which `PyO3`'s `create_exception!` cannot express. Their `__module__` is `ffu`, where the package shim
//! re-exports them, so they print and pickle as `ffu.CatalogError` and so on.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ffu_core::{Error, NoPlan};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

/// The classes, with the structured attributes each one carries. Kept in sync with
/// `python/ffu/_native.pyi`.
///
/// A class lists only the attributes that some error of its kind has. An attribute that
/// every error of the class has (`CatalogError.file`, `DatabaseError.target`,
/// `JournalError.target`, `ArgumentError.argument`) is set on each instance and has no
/// default; the others default to `None` in the class body, and are set when the error
/// says (the docstrings say which errors do).
const EXCEPTIONS_SOURCE: &std::ffi::CStr = cr#"
class FfuError(Exception):
    """Base class of every error ffu raises.

    ``no_plan`` is True when the inputs are well formed but no safe plan exists (the CLI
    exits 1 then), False for bad input (exit 2). Raised as itself (not a subclass) for an
    error of ffu's own: a bug, or a document ffu made that cannot be written.
    """

    __module__ = "ffu"
    no_plan = False


class CatalogError(FfuError, ValueError):
    """A catalog (or an inventory, or an alembic script) cannot be read, is not an
    ``ffu-catalog/1`` document, or breaks a rule.

    Attributes: ``file`` (always: the file, or ``<string>``/``<dict>``); ``line`` and
    ``column`` (1-based, where the parser or the validator says); ``item`` (the offending
    item, such as ``migration nova.ocata.db-sync``, when a rule is broken); ``cycle`` (the
    items along a dependency cycle, the first repeated at the end, with ``item`` saying
    what kind of items). A file that cannot be read has the ``OSError`` as ``__cause__``.
    """

    __module__ = "ffu"
    line = None
    column = None
    item = None
    cycle = None


class NoPathError(FfuError):
    """No upgrade path exists: an unknown release, a downgrade, no chain of edges, a
    database already past the target, or an inventory with nothing to upgrade.

    Attributes: ``from_`` and ``to`` (the request, where known); ``release`` and
    ``suggestions`` (an unknown release name and known names close to it); ``furthest``
    (the furthest release reachable); ``migration``, ``release`` and ``to`` (a migration a
    database already holds, of a release after the target); ``inventory`` (the inventory's
    file, when no host runs a component to upgrade).
    """

    __module__ = "ffu"
    no_plan = True
    from_ = None
    to = None
    release = None
    suggestions = None
    furthest = None
    migration = None
    inventory = None


class PlanError(FfuError):
    """No safe plan can be made, or a plan document or request cannot be used.

    Covers contradictory ordering facts (``cycle``: the step ids along the cycle, the first
    repeated at the end; ``facts``: dicts with ``before``, ``after`` and ``because``;
    ``hop``), a dependency on a service the policy excludes (``migration``, ``needs``,
    ``service``), a service the catalog does not have (``service``, ``no_plan`` False), a
    document that is not an ``ffu-plan/1`` plan (``file``, ``no_plan`` False), and a
    request this version does not support or a malformed policy or state (``no_plan``
    False).
    """

    __module__ = "ffu"
    file = None
    hop = None
    cycle = None
    facts = None
    migration = None
    needs = None
    service = None


class DatabaseError(FfuError):
    """A database cannot be read or written (discovery, the journal).

    Attributes: ``target`` (always: the database, a path or the connection's driver and
    backend). The driver's exception, where there is one, is in the message and is the
    ``__cause__``.
    """

    __module__ = "ffu"


class JournalError(FfuError):
    """The journal refuses a transition.

    Attributes: ``target`` (always: the journal's database); a different plan for the same
    journal: ``journal_checksum`` and ``plan_checksum``; a lock held by another runner that
    has not expired: ``owner`` and ``expires_in_s``; ``done``/``fail`` of a step that is
    not running or not in the plan: ``step``.
    """

    __module__ = "ffu"
    journal_checksum = None
    plan_checksum = None
    owner = None
    expires_in_s = None
    step = None


class ArgumentError(FfuError, ValueError):
    """An argument has a value ffu cannot use: an unknown ``mode``, a ``services`` list
    longer than any catalog's, an inventory loaded against another catalog, ...

    Also a ``ValueError``, as Python's own functions raise for such values. Attributes:
    ``argument`` (always: the parameter, such as ``services`` or ``state``).
    """

    __module__ = "ffu"


class ArgumentTypeError(FfuError, TypeError):
    """An argument has a type ffu does not take: ``services="nova"`` (a str, not a list of
    names), ``max_unavailable=[1]``, a value in a dict that JSON cannot hold, ...

    Also a ``TypeError``, as Python's own functions raise for such values. Attributes:
    ``argument`` (always: the parameter, such as ``services`` or ``state``).
    """

    __module__ = "ffu"
"#;

/// The classes, created once per interpreter.
pub(crate) struct Exceptions {
    pub(crate) ffu: Py<PyType>,
    pub(crate) catalog: Py<PyType>,
    pub(crate) no_path: Py<PyType>,
    pub(crate) plan: Py<PyType>,
    pub(crate) database: Py<PyType>,
    pub(crate) journal: Py<PyType>,
    pub(crate) argument: Py<PyType>,
    pub(crate) argument_type: Py<PyType>,
}

static EXCEPTIONS: PyOnceLock<Exceptions> = PyOnceLock::new();

/// The exception classes, compiled on first use.
pub(crate) fn exceptions(py: Python<'_>) -> PyResult<&Exceptions> {
    EXCEPTIONS.get_or_try_init(py, || {
        let module = PyModule::from_code(
            py,
            EXCEPTIONS_SOURCE,
            c"<ffu exceptions>",
            c"ffu._exceptions",
        )?;
        let class = |name: &str| -> PyResult<Py<PyType>> {
            Ok(module.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok(Exceptions {
            ffu: class("FfuError")?,
            catalog: class("CatalogError")?,
            no_path: class("NoPathError")?,
            plan: class("PlanError")?,
            database: class("DatabaseError")?,
            journal: class("JournalError")?,
            argument: class("ArgumentError")?,
            argument_type: class("ArgumentTypeError")?,
        })
    })
}

/// Adds the exception classes to the native module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let classes = exceptions(py)?;
    module.add("FfuError", classes.ffu.bind(py))?;
    module.add("CatalogError", classes.catalog.bind(py))?;
    module.add("NoPathError", classes.no_path.bind(py))?;
    module.add("PlanError", classes.plan.bind(py))?;
    module.add("DatabaseError", classes.database.bind(py))?;
    module.add("JournalError", classes.journal.bind(py))?;
    module.add("ArgumentError", classes.argument.bind(py))?;
    module.add("ArgumentTypeError", classes.argument_type.bind(py))?;
    Ok(())
}

/// A bad argument value: `ffu.ArgumentError`, also a `ValueError`. `argument` names the
/// parameter as the caller wrote it; the message should name it too.
pub(crate) fn argument_error(py: Python<'_>, argument: &str, message: impl Into<String>) -> PyErr {
    argument_exception(py, |classes| &classes.argument, argument, message.into())
}

/// An argument of a type ffu does not take: `ffu.ArgumentTypeError`, also a `TypeError`.
pub(crate) fn argument_type_error(
    py: Python<'_>,
    argument: &str,
    message: impl Into<String>,
) -> PyErr {
    argument_exception(
        py,
        |classes| &classes.argument_type,
        argument,
        message.into(),
    )
}

fn argument_exception(
    py: Python<'_>,
    class: impl FnOnce(&Exceptions) -> &Py<PyType>,
    argument: &str,
    message: String,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exception = class(exceptions(py)?).bind(py).call1((message,))?;
        exception.setattr("argument", argument)?;
        Ok(PyErr::from_value(exception))
    };
    build().unwrap_or_else(|failed| failed)
}

/// An error of ffu itself that is not the caller's doing (a value that cannot be written
/// as JSON although the core made it): a plain `ffu.FfuError`, as a panic is.
pub(crate) fn internal_error(py: Python<'_>, message: impl std::fmt::Display) -> PyErr {
    Failure::Panic(message.to_string()).into_py_err(py, None)
}

/// What the caller asked for, to fill attributes that the core error does not carry
/// (an unknown release names only itself, not the request).
#[derive(Clone, Copy)]
pub(crate) struct Request<'a> {
    /// The release to start from; `None` when the plan starts where the databases stand.
    pub(crate) from: Option<&'a str>,
    pub(crate) to: &'a str,
}

/// Why a call into the core failed: its error, or a panic (a bug in ffu).
pub(crate) enum Failure {
    Core(Error),
    Panic(String),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Core(err)
    }
}

impl Failure {
    /// The Python exception for this failure.
    pub(crate) fn into_py_err(self, py: Python<'_>, request: Option<Request<'_>>) -> PyErr {
        match self {
            Failure::Core(err) => core_error(py, err, request),
            Failure::Panic(message) => match exceptions(py) {
                Ok(classes) => PyErr::from_type(
                    classes.ffu.bind(py).clone(),
                    format!("internal error in ffu (this is a bug; please report it): {message}"),
                ),
                Err(err) => err,
            },
        }
    }
}

/// Runs `work`, turning a panic into [`Failure::Panic`] so that it reaches Python as an
/// `FfuError`, never as `PyO3`'s `PanicException` (a `BaseException` that `except Exception`
/// does not catch).
pub(crate) fn guarded<T>(work: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    // The core's values are not observed after a panic (the failed call's inputs are
    // borrowed immutably and its outputs are dropped), so unwind safety holds.
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => Err(Failure::Panic(panic_message(payload.as_ref()))),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Maps every core error to its exception class and attributes: the one mapping of
/// `ffu_core::Error` to Python.
///
/// The message is the core's `Display` (one sentence first, then the evidence); the
/// attributes carry the same facts as data.
pub(crate) fn core_error(py: Python<'_>, err: Error, request: Option<Request<'_>>) -> PyErr {
    build(py, err, request).unwrap_or_else(|failed| failed)
}

fn build(py: Python<'_>, err: Error, request: Option<Request<'_>>) -> Result<PyErr, PyErr> {
    let classes = exceptions(py)?;
    // A bad value may be a megabyte long: the message keeps its start and its length
    // (the attributes keep the values whole).
    let line_breaks = matches!(&err, Error::NoPlan(NoPlan::OrderCycle { .. }));
    let message = ffu_core::error_text(&err.to_string(), line_breaks).into_owned();
    let no_plan = err.is_no_plan();
    let attrs = PyDict::new(py);
    let mut cause = None;
    let class = match err {
        Error::NoPlan(no_plan) => no_plan_class(classes, no_plan, request, &attrs)?,
        Error::Database { .. }
        | Error::JournalMismatch { .. }
        | Error::JournalLocked { .. }
        | Error::JournalStep { .. }
        | Error::JournalPlan { .. } => storage_class(classes, err, &attrs, &mut cause)?,
        other => input_class(classes, other, &attrs, &mut cause)?,
    };
    let exception = class.bind(py).call1((message,))?;
    exception.setattr("no_plan", no_plan)?;
    for (key, value) in attrs.iter() {
        exception.setattr(key.cast_into::<pyo3::types::PyString>()?, value)?;
    }
    let err = PyErr::from_value(exception);
    err.set_cause(py, cause);
    Ok(err)
}

/// The class and attributes of an error in what the caller gave (a catalog, a plan, a
/// policy, a state); `cause` gets the Python exception behind it, if any.
fn input_class<'a>(
    classes: &'a Exceptions,
    err: Error,
    attrs: &Bound<'_, PyDict>,
    cause: &mut Option<PyErr>,
) -> PyResult<&'a Py<PyType>> {
    Ok(match err {
        Error::Io { path, source } => {
            attrs.set_item("file", path.display().to_string())?;
            *cause = Some(PyErr::from(source));
            &classes.catalog
        }
        Error::Parse {
            file,
            location,
            message: _,
            source,
        } => {
            attrs.set_item("file", file)?;
            if let Some(location) = location {
                attrs.set_item("line", location.line)?;
                attrs.set_item("column", location.column)?;
            }
            *cause = source.and_then(python_cause);
            &classes.catalog
        }
        Error::Invalid {
            file,
            location,
            item,
            message: _,
            source,
        } => {
            attrs.set_item("file", file)?;
            if let Some(location) = location {
                attrs.set_item("line", location.line)?;
                attrs.set_item("column", location.column)?;
            }
            attrs.set_item("item", item)?;
            *cause = source.and_then(python_cause);
            &classes.catalog
        }
        Error::Cycle { file, what, cycle } => {
            attrs.set_item("file", file)?;
            attrs.set_item("item", what)?;
            attrs.set_item("cycle", cycle)?;
            &classes.catalog
        }
        Error::BadPlan { file, .. } => {
            attrs.set_item("file", file)?;
            &classes.plan
        }
        Error::Unsupported { what: _ }
        | Error::BadPolicy { message: _ }
        | Error::BadState { message: _ }
        | Error::Export { message: _ } => &classes.plan,
        Error::UnknownService { name } => {
            attrs.set_item("service", name)?;
            &classes.plan
        }
        // A document ffu made that cannot be written (`Error::Serialize`) is ffu's
        // failure, not the caller's input: a plain FfuError, as `internal_error` gives. So
        // is a kind of error added to the core later, with its message.
        _ => &classes.ffu,
    })
}

/// The class and attributes of an error of a database or of the journal; `cause` gets the
/// DB-API driver's exception, if any.
fn storage_class<'a>(
    classes: &'a Exceptions,
    err: Error,
    attrs: &Bound<'_, PyDict>,
    cause: &mut Option<PyErr>,
) -> PyResult<&'a Py<PyType>> {
    Ok(match err {
        Error::Database {
            target,
            message: _,
            source,
        } => {
            attrs.set_item("target", target)?;
            *cause = source.and_then(python_cause);
            &classes.database
        }
        Error::JournalMismatch {
            target,
            journal,
            plan,
        } => {
            attrs.set_item("target", target)?;
            attrs.set_item("journal_checksum", journal)?;
            attrs.set_item("plan_checksum", plan)?;
            &classes.journal
        }
        Error::JournalLocked {
            target,
            owner,
            expires_in_s,
        } => {
            attrs.set_item("target", target)?;
            attrs.set_item("owner", owner)?;
            attrs.set_item("expires_in_s", expires_in_s)?;
            &classes.journal
        }
        Error::JournalStep {
            target,
            step,
            message: _,
        } => {
            attrs.set_item("target", target)?;
            attrs.set_item("step", step)?;
            &classes.journal
        }
        Error::JournalPlan { target, message: _ } => {
            attrs.set_item("target", target)?;
            &classes.journal
        }
        _ => &classes.ffu,
    })
}

/// The Python exception behind a core error's source, to be its `__cause__`: the
/// DB-API driver's exception, or the operating system's error as an `OSError`. Other
/// sources (a parser's, rusqlite's) have no Python counterpart; their text is in the
/// message.
fn python_cause(source: Box<dyn std::error::Error + Send + Sync>) -> Option<PyErr> {
    let source = match source.downcast::<PyErr>() {
        Ok(err) => return Some(*err),
        Err(other) => other,
    };
    source
        .downcast::<std::io::Error>()
        .ok()
        .map(|err| PyErr::from(*err))
}

fn no_plan_class<'a>(
    classes: &'a Exceptions,
    no_plan: NoPlan,
    request: Option<Request<'_>>,
    attrs: &Bound<'_, PyDict>,
) -> PyResult<&'a Py<PyType>> {
    let set_request = |from: &str, to: &str| -> PyResult<()> {
        attrs.set_item("from_", from)?;
        attrs.set_item("to", to)
    };
    Ok(match no_plan {
        NoPlan::UnknownRelease { name, suggestions } => {
            if let Some(request) = request {
                if let Some(from) = request.from {
                    attrs.set_item("from_", from)?;
                }
                attrs.set_item("to", request.to)?;
            }
            attrs.set_item("release", name)?;
            attrs.set_item("suggestions", suggestions)?;
            &classes.no_path
        }
        NoPlan::Downgrade { from, to } => {
            set_request(&from, &to)?;
            &classes.no_path
        }
        NoPlan::Unreachable { from, to, furthest } => {
            set_request(&from, &to)?;
            attrs.set_item("furthest", furthest)?;
            &classes.no_path
        }
        NoPlan::OrderCycle { hop, facts } => {
            // The cycle as the message shows it: each fact's first step, back to the start.
            let mut cycle: Vec<&str> = facts.iter().map(|fact| fact.before.as_str()).collect();
            if let Some(first) = facts.first() {
                cycle.push(first.before.as_str());
            }
            let py = attrs.py();
            let fact_dicts = facts
                .iter()
                .map(|fact| {
                    let dict = PyDict::new(py);
                    dict.set_item("before", &fact.before)?;
                    dict.set_item("after", &fact.after)?;
                    dict.set_item("because", &fact.because)?;
                    Ok(dict)
                })
                .collect::<PyResult<Vec<_>>>()?;
            attrs.set_item("hop", hop)?;
            attrs.set_item("cycle", cycle)?;
            attrs.set_item("facts", fact_dicts)?;
            &classes.plan
        }
        NoPlan::ExcludedDependency {
            migration,
            needs,
            service,
        } => {
            attrs.set_item("migration", migration)?;
            attrs.set_item("needs", needs)?;
            attrs.set_item("service", service)?;
            &classes.plan
        }
        NoPlan::AheadOfTarget {
            migration,
            release,
            to,
        } => {
            attrs.set_item("migration", migration)?;
            attrs.set_item("release", release)?;
            attrs.set_item("to", to)?;
            &classes.no_path
        }
        NoPlan::NothingToUpgrade { inventory } => {
            attrs.set_item("inventory", inventory)?;
            &classes.no_path
        }
        NoPlan::InventoryAheadOfTarget {
            inventory,
            release,
            to,
            ..
        } => {
            attrs.set_item("inventory", inventory)?;
            attrs.set_item("release", release)?;
            attrs.set_item("to", to)?;
            &classes.no_path
        }
        // A reason added to the core later: no plan, without more structure.
        _ => &classes.plan,
    })
}
