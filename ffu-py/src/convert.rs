//! Conversions between core values and plain Python data, through JSON text.
//!
//! The core's documents are serde types; going through JSON text keeps the field names and
//! order exactly those of the `ffu-plan/1` and `ffu-catalog/1` formats, and Python's C JSON
//! parser builds large dicts faster than creating them object by object from Rust.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use serde::Serialize;

static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Helper for [`dumps`]: dates (as `PyYAML` loads `date: 2016-10-06`) become ISO text, as the
/// catalog format writes them; anything else that JSON cannot hold is a `TypeError`.
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
    let text = serde_json::to_string(value)
        .map_err(|err| pyo3::exceptions::PyValueError::new_err(err.to_string()))?;
    loads(py, &text)
}

/// JSON text as plain Python data.
pub(crate) fn loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let loads = LOADS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads.bind(py).call1((text,))
}

/// Plain Python data as JSON text.
///
/// # Errors
/// `TypeError` or `ValueError` from `json.dumps` when `value` holds something JSON cannot.
pub(crate) fn dumps(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = value.py();
    let dumps = DUMPS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        let module = PyModule::from_code(py, DUMPS_SOURCE, c"<ffu json>", c"ffu._json")?;
        Ok(module.getattr("dumps")?.unbind())
    })?;
    dumps.bind(py).call1((value,))?.extract()
}
