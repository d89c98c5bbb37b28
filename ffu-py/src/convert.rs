//! Conversions between core values and plain Python data, through JSON text, and the
//! reading of Python arguments that ffu converts itself.
//!
//! The core's documents are serde types; going through JSON text keeps the field names and
//! order exactly those of the `ffu-plan/1` and `ffu-catalog/1` formats, and Python's C JSON
//! parser builds large dicts faster than creating them object by object from Rust.
//!
//! Nothing here trusts what a Python object says about itself before reading it: a list
//! argument is read item by item up to a bound (`PyO3`'s `Vec<T>` extraction reserves room
//! for `len()` items first, and `range(10**12)` then aborts the interpreter), and a
//! document is walked, to a bounded depth and size, before `json.dumps` recurses into it.

use std::fmt::Write as _;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple, PyType};
use serde::Serialize;

use crate::errors::{argument_error, argument_type_error, core_error, internal_error};

static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static DATE_TYPES: PyOnceLock<(Py<PyType>, Py<PyType>)> = PyOnceLock::new();

/// The most items ffu reads from a list argument (`services`, a service's applied
/// migrations in `state`, ...): far more than any catalog has (the largest one tested has
/// 94,000 migrations), and still quick to refuse when a generator never ends.
pub(crate) const MAX_LIST_ITEMS: usize = 1_000_000;

/// How deep a document given as plain data may nest (dicts and lists in each other), as
/// `serde_json`'s parser allows: an ffu document needs fewer than ten levels, and the walk
/// and `json.dumps` recurse once per level.
const MAX_DEPTH: usize = 128;

/// The largest document the core reads (its `MAX_DOCUMENT_BYTES`); a dict whose JSON text
/// would be larger is refused before the text is made.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024 * 1024;

/// The most digits of an int that Python writes as text (its default
/// `sys.get_int_max_str_digits()`, from 3.11; before, writing a huge int takes quadratic
/// time). No number in an ffu document comes near it.
const MAX_INT_DIGITS: usize = 4300;

/// Helper for [`dumps`]: dates (as `PyYAML` loads `date: 2016-10-06`) become ISO text, as the
/// catalog format writes them; anything else that JSON cannot hold is a `TypeError` (the
/// walk of [`dumps`] has refused such values already, naming where they are).
const DUMPS_SOURCE: &std::ffi::CStr = cr#"
import datetime
import json


def _default(value):
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} values cannot be written as JSON")


def dumps(value):
    return json.dumps(value, default=_default, ensure_ascii=False, allow_nan=False)
"#;

/// Any serde value as plain Python data (dicts, lists, str, int, float, bool, None).
pub(crate) fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    // Serializing the core's plain data types to a string cannot fail.
    let text = serde_json::to_string(value).map_err(|err| internal_error(py, err))?;
    loads(py, &text)
}

/// JSON text as plain Python data.
pub(crate) fn loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let loads = LOADS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads.bind(py).call1((text,))
}

/// Which document a plain-data argument holds: it chooses the exception of a document
/// too deep or too large (the one its text would get from the core).
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Catalog,
    Plan,
}

/// A plain-data document argument: what it is, the name errors give it (`<dict>`, or the
/// caller's `file=`), and the parameter it came in.
#[derive(Clone, Copy)]
pub(crate) struct Document<'a> {
    pub(crate) kind: Kind,
    pub(crate) file: &'a str,
    pub(crate) argument: &'a str,
}

/// Plain Python data as JSON text.
///
/// The data is first walked, without recursing deeper than [`MAX_DEPTH`] and without
/// counting more than [`MAX_DOCUMENT_BYTES`] of text, so that neither the walk nor
/// `json.dumps` meets a `RecursionError`, a reference cycle, or shared lists that would
/// write gigabytes; the errors name the item, as `migrations[3].requires`.
///
/// # Errors
/// `CatalogError` or `PlanError` (by `document.kind`) for a document nested too deeply or
/// too large; `ArgumentTypeError` for a value JSON cannot hold (a set, an object, a key
/// that is a tuple); `ArgumentError` for a float that is not finite.
pub(crate) fn dumps(value: &Bound<'_, PyAny>, document: Document<'_>) -> PyResult<String> {
    let py = value.py();
    let dates = date_types(py)?;
    let mut walk = Walk {
        dates: (dates.0.bind(py), dates.1.bind(py)),
        size: 0,
    };
    if let Err(fault) = walk.value(value, 0) {
        return Err(fault.into_py_err(py, document));
    }
    let dumps = DUMPS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        let module = PyModule::from_code(py, DUMPS_SOURCE, c"<ffu json>", c"ffu._json")?;
        Ok(module.getattr("dumps")?.unbind())
    })?;
    // What the walk lets through, json.dumps writes; what is left to fail (an int past
    // Python's 4,300-digit limit of int to str) fails as an argument error still.
    let text = dumps.bind(py).call1((value,)).map_err(|err| {
        let prefix = format!("{}: ", document.file);
        if err.is_instance_of::<pyo3::exceptions::PyTypeError>(py) {
            argument_type_error(py, document.argument, format!("{prefix}{}", err.value(py)))
        } else if err.is_instance_of::<pyo3::exceptions::PyValueError>(py) {
            argument_error(py, document.argument, format!("{prefix}{}", err.value(py)))
        } else {
            err
        }
    })?;
    text.extract()
}

fn date_types(py: Python<'_>) -> PyResult<&(Py<PyType>, Py<PyType>)> {
    DATE_TYPES.get_or_try_init(py, || {
        let datetime = py.import("datetime")?;
        let class = |name: &str| -> PyResult<Py<PyType>> {
            Ok(datetime.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok((class("date")?, class("time")?))
    })
}

/// One step of the way to an item: a dict key or a list index.
enum Part {
    Key(String),
    Index(usize),
}

/// Why a document cannot be written, and where (the path is collected from the item
/// outwards, as the walk returns).
struct Fault {
    reason: Reason,
    path: Vec<Part>,
}

enum Reason {
    TooDeep,
    TooLarge,
    /// The type name of a value JSON cannot hold.
    Value(String),
    /// The type name of a key JSON cannot hold.
    Key(String),
    /// The text of a float that is NaN or infinite.
    NotFinite(String),
    /// About how many digits an int has that is too long to write.
    HugeInt(usize),
}

impl Fault {
    fn new(reason: Reason) -> Fault {
        Fault {
            reason,
            path: Vec::new(),
        }
    }

    /// Adds the part of the path one level up.
    fn within(mut self, part: Part) -> Fault {
        self.path.push(part);
        self
    }

    /// `migrations[3].requires`; the first eight steps only, for a path 128 levels deep.
    fn place(&self) -> String {
        const SHOWN: usize = 8;
        let mut place = String::new();
        for part in self.path.iter().rev().take(SHOWN) {
            match part {
                Part::Index(index) => {
                    let _ = write!(place, "[{index}]");
                }
                // Keys of ffu documents are words (`nova-api`, `x-owner`); anything else is
                // quoted, so that the path stays readable.
                Part::Key(key)
                    if !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_')) =>
                {
                    if !place.is_empty() {
                        place.push('.');
                    }
                    place.push_str(key);
                }
                Part::Key(key) => {
                    let _ = write!(place, "[{key:?}]");
                }
            }
        }
        if self.path.len() > SHOWN {
            place.push_str("...");
        }
        place
    }

    fn into_py_err(self, py: Python<'_>, document: Document<'_>) -> PyErr {
        let place = self.place();
        let file = document.file;
        let at = if place.is_empty() {
            String::new()
        } else {
            format!("{place}: ")
        };
        // Too deep or too large is a bad document, as the core says of such text. The
        // size is the whole document's: where the count went over says nothing.
        let bad_document = |message: String, place: &str| {
            let at = if place.is_empty() {
                String::new()
            } else {
                format!("{place}: ")
            };
            let err = match (document.kind, place.is_empty()) {
                (Kind::Catalog, false) => ffu_core::Error::Invalid {
                    file: file.to_owned(),
                    location: None,
                    item: place.to_owned(),
                    message,
                    source: None,
                },
                (Kind::Catalog, true) => ffu_core::Error::Parse {
                    file: file.to_owned(),
                    location: None,
                    message,
                    source: None,
                },
                (Kind::Plan, _) => ffu_core::Error::BadPlan {
                    file: file.to_owned(),
                    message: format!("{at}{message}"),
                    source: None,
                },
            };
            core_error(py, err, None)
        };
        match self.reason {
            Reason::TooDeep => bad_document(
                format!("nested more than {MAX_DEPTH} levels deep, the most ffu reads"),
                &place,
            ),
            Reason::TooLarge => bad_document(
                format!(
                    "the document is larger than {} MiB as JSON, the most ffu reads",
                    MAX_DOCUMENT_BYTES >> 20
                ),
                "",
            ),
            Reason::Value(kind) => argument_type_error(
                py,
                document.argument,
                format!("{file}: {at}{kind} values cannot be written as JSON"),
            ),
            Reason::Key(kind) => argument_type_error(
                py,
                document.argument,
                format!("{file}: {at}keys must be str, int, float, bool or None, not {kind}"),
            ),
            Reason::NotFinite(text) => argument_error(
                py,
                document.argument,
                format!("{file}: {at}{text} is not a JSON number (JSON has no NaN or infinity)"),
            ),
            Reason::HugeInt(digits) => argument_error(
                py,
                document.argument,
                format!(
                    "{file}: {at}an int of about {digits} digits cannot be written as JSON (at most {MAX_INT_DIGITS})"
                ),
            ),
        }
    }
}

/// The walk of [`dumps`]: what `json.dumps` would write, checked without recursing deeper
/// than [`MAX_DEPTH`] and without counting more than [`MAX_DOCUMENT_BYTES`] of text.
struct Walk<'a, 'py> {
    dates: (&'a Bound<'py, PyType>, &'a Bound<'py, PyType>),
    /// The length of the text so far, counting characters (at most its bytes).
    size: usize,
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map_or_else(|_| "unknown".to_owned(), |name| name.to_string())
}

impl Walk<'_, '_> {
    fn grow(&mut self, by: usize) -> Result<(), Fault> {
        self.size = self.size.saturating_add(by);
        if self.size > MAX_DOCUMENT_BYTES {
            Err(Fault::new(Reason::TooLarge))
        } else {
            Ok(())
        }
    }

    /// A scalar as json.dumps takes it (value or key), with its length as text; `None`
    /// for anything else.
    fn scalar(value: &Bound<'_, PyAny>) -> Result<Option<usize>, Fault> {
        // bool before int: it is one.
        if value.is_none() || value.is_instance_of::<PyBool>() {
            return Ok(Some(5));
        }
        if let Ok(text) = value.cast::<PyString>() {
            let chars = text.len().unwrap_or(0);
            return Ok(Some(chars.saturating_add(2)));
        }
        if value.is_instance_of::<PyInt>() {
            if value.extract::<i64>().is_ok() || value.extract::<u64>().is_ok() {
                return Ok(Some(20));
            }
            // About 0.3 digits per bit; a huge int is counted without writing it (which
            // takes quadratic time before Python 3.11's digit limit). `int.bit_length`, not
            // the value's own method, which a subclass may have replaced.
            let bits: usize = value
                .py()
                .get_type::<PyInt>()
                .call_method1("bit_length", (value,))
                .and_then(|bits| bits.extract())
                .unwrap_or(usize::MAX);
            let digits = bits / 10 * 3 + 1;
            if digits > MAX_INT_DIGITS {
                return Err(Fault::new(Reason::HugeInt(digits)));
            }
            return Ok(Some(digits));
        }
        if let Ok(number) = value.cast::<PyFloat>() {
            let number = number.value();
            if !number.is_finite() {
                return Err(Fault::new(Reason::NotFinite(number.to_string())));
            }
            return Ok(Some(24));
        }
        Ok(None)
    }

    fn value(&mut self, value: &Bound<'_, PyAny>, depth: usize) -> Result<(), Fault> {
        if let Some(size) = Self::scalar(value)? {
            return self.grow(size);
        }
        let container = value.is_instance_of::<PyDict>()
            || value.is_instance_of::<PyList>()
            || value.is_instance_of::<PyTuple>();
        if container && depth >= MAX_DEPTH {
            return Err(Fault::new(Reason::TooDeep));
        }
        if let Ok(dict) = value.cast::<PyDict>() {
            self.grow(2)?;
            for (key, item) in dict.iter() {
                let Some(size) = Self::scalar(&key)? else {
                    return Err(Fault::new(Reason::Key(type_name(&key))));
                };
                let part = || Part::Key(key.str().map(|k| k.to_string()).unwrap_or_default());
                self.grow(size + 4).map_err(|fault| fault.within(part()))?;
                self.value(&item, depth + 1)
                    .map_err(|fault| fault.within(part()))?;
            }
            return Ok(());
        }
        if let Ok(list) = value.cast::<PyList>() {
            self.grow(2)?;
            for (index, item) in list.iter().enumerate() {
                self.grow(2)
                    .and_then(|()| self.value(&item, depth + 1))
                    .map_err(|fault| fault.within(Part::Index(index)))?;
            }
            return Ok(());
        }
        if let Ok(tuple) = value.cast::<PyTuple>() {
            self.grow(2)?;
            for (index, item) in tuple.iter().enumerate() {
                self.grow(2)
                    .and_then(|()| self.value(&item, depth + 1))
                    .map_err(|fault| fault.within(Part::Index(index)))?;
            }
            return Ok(());
        }
        // By the type, not `isinstance`, which would ask the value's own `__class__`.
        let class = value.get_type();
        if class.is_subclass(self.dates.0).unwrap_or(false)
            || class.is_subclass(self.dates.1).unwrap_or(false)
        {
            // `2016-10-06`, or a time or date-time in ISO form.
            return self.grow(34);
        }
        Err(Fault::new(Reason::Value(type_name(value))))
    }
}

/// Reads an iterable of str (a list, a tuple, a generator, ...) item by item, never
/// trusting its `len()`, and refusing a str (a str is iterable, but as letters).
///
/// `argument` is the parameter (for the exception's `argument`), `place` the item in it
/// that the messages name (`services`, `state["nova"]["applied"]`).
///
/// # Errors
/// `ArgumentTypeError` for a str, something that is not iterable, or an item that is not a
/// str; `ArgumentError` after [`MAX_LIST_ITEMS`] items. An exception that the iterable
/// raises itself (a generator's) reaches the caller as it is.
pub(crate) fn str_list(
    value: &Bound<'_, PyAny>,
    argument: &str,
    place: &str,
) -> PyResult<Vec<String>> {
    str_items(value, argument, place, |text| {
        Ok(text.to_cow()?.into_owned())
    })
}

/// As [`str_list`], but each str as the operating system's string, encoded as `os.fsencode`
/// does: a command line's arguments, whose undecodable bytes Python keeps as lone
/// surrogates (`surrogateescape`), come back as the bytes they were.
pub(crate) fn os_str_list(
    value: &Bound<'_, PyAny>,
    argument: &str,
    place: &str,
) -> PyResult<Vec<std::ffi::OsString>> {
    str_items(value, argument, place, |text| text.extract())
}

/// The items of an iterable of str, each converted by `convert` (see [`str_list`]).
fn str_items<T>(
    value: &Bound<'_, PyAny>,
    argument: &str,
    place: &str,
    convert: impl Fn(&Bound<'_, PyString>) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    let py = value.py();
    if let Ok(text) = value.cast::<PyString>() {
        return Err(argument_type_error(
            py,
            argument,
            format!(
                "{place} must be a list of str, not a str (write [{}])",
                text.repr()?
            ),
        ));
    }
    let Ok(items) = value.try_iter() else {
        return Err(argument_type_error(
            py,
            argument,
            format!("{place} must be a list of str, not {}", type_name(value)),
        ));
    };
    let mut out = Vec::new();
    for (index, item) in items.enumerate() {
        if index == MAX_LIST_ITEMS {
            return Err(argument_error(
                py,
                argument,
                format!("{place} has more than {MAX_LIST_ITEMS} items, the most ffu reads"),
            ));
        }
        let item = item?;
        let Ok(text) = item.cast::<PyString>() else {
            return Err(argument_type_error(
                py,
                argument,
                format!("{place}[{index}] must be a str, not {}", type_name(&item)),
            ));
        };
        out.push(convert(text)?);
    }
    Ok(out)
}

/// The `(key, value)` pairs of a mapping, read pair by pair up to [`MAX_LIST_ITEMS`]: a
/// dict's directly, another mapping's through `items()` (never through `list()`, which
/// reserves room for `len()` items first).
///
/// # Errors
/// `ArgumentError` after [`MAX_LIST_ITEMS`] pairs; what the mapping raises itself.
pub(crate) fn mapping_items<'py>(
    mapping: &Bound<'py, PyMapping>,
    argument: &str,
    place: &str,
) -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    let py = mapping.py();
    let too_many = || {
        argument_error(
            py,
            argument,
            format!("{place} has more than {MAX_LIST_ITEMS} items, the most ffu reads"),
        )
    };
    if let Ok(dict) = mapping.cast::<PyDict>() {
        // A dict's length is its real length.
        if dict.len() > MAX_LIST_ITEMS {
            return Err(too_many());
        }
        return Ok(dict.iter().collect());
    }
    let mut out = Vec::new();
    for pair in mapping.call_method0("items")?.try_iter()? {
        if out.len() == MAX_LIST_ITEMS {
            return Err(too_many());
        }
        let pair = pair?;
        out.push((pair.get_item(0)?, pair.get_item(1)?));
    }
    Ok(out)
}

/// The type name of `value`, for messages.
pub(crate) fn kind(value: &Bound<'_, PyAny>) -> String {
    type_name(value)
}
