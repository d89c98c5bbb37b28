//! `ffu._native.main`: the `ffu` command line (the root crate's [`ffu::run`]), run in the
//! Python process. `python -m ffu` and the `ffu` console script call it, so that the
//! commands exist once, in Rust.
//!
//! The command writes to the process's file descriptors 1 and 2, and reads `-` from
//! descriptor 0, as the binary does; Python's `sys.stdout` and `sys.stderr` are flushed
//! first, so that what Python printed before comes first. Its log events go through the
//! module's bridge to Python's `logging` (logger `ffu`), which a handler on `sys.stderr`
//! shows while the command runs: warnings as `warning: MESSAGE`, as the binary shows them,
//! and with `-v` (debug) or `-vv` (trace) every event as `LEVEL ffu: MESSAGE`.

use std::ffi::OsString;

use pyo3::prelude::*;

use crate::errors::{guarded, Failure};
use crate::{convert, logging};

/// The exit status of a command that panicked, as the binary's (the panic hook has printed
/// the message on stderr, as it does in the binary).
const PANIC_STATUS: u8 = 101;

/// Python's numeric levels for the `-v` count: warnings, debug, trace (`TRACE` events come
/// through the bridge at 5).
fn python_level(verbose: u8) -> u8 {
    match verbose {
        0 => 30,
        1 => 10,
        _ => 5,
    }
}

/// Runs the `ffu` command line with `argv` (the arguments after the program name, as
/// `sys.argv[1:]`) and returns its exit status: 0 success, 1 no plan possible or violations
/// found, 2 bad input or usage (101 if the command panicked, as the binary).
///
/// The GIL is released while the command runs.
#[pyfunction]
pub(crate) fn main(py: Python<'_>, argv: &Bound<'_, PyAny>) -> PyResult<u8> {
    let mut command_line = vec![OsString::from("ffu")];
    command_line.extend(convert::os_str_list(argv, "argv", "argv")?);
    // Rust writes to the descriptors, under whatever Python has buffered.
    let sys = py.import("sys")?;
    for name in ["stdout", "stderr"] {
        let stream = sys.getattr(name)?;
        if !stream.is_none() {
            stream.call_method0("flush")?;
        }
    }
    logging::sync_level(py);
    let mut shown: Option<ShownLogs> = None;
    let status = py.detach(|| {
        guarded(|| {
            let mut verbosity = |verbose: u8| {
                shown = Python::attach(|py| match ShownLogs::install(py, verbose) {
                    Ok(shown) => Some(shown),
                    // The command runs all the same, its events unseen.
                    Err(err) => {
                        err.write_unraisable(py, None);
                        None
                    }
                });
            };
            let caller = ffu::Caller::InProcess {
                verbosity: &mut verbosity,
            };
            Ok::<_, Failure>(ffu::run(command_line, caller))
        })
        .unwrap_or(PANIC_STATUS)
    });
    if let Some(shown) = shown {
        shown.remove(py)?;
    }
    logging::sync_level(py);
    Ok(status)
}

/// The handler that shows the command's log events on `sys.stderr` while it runs, and the
/// `ffu` logger's level to restore when it ends.
struct ShownLogs {
    logger: Py<PyAny>,
    handler: Option<Py<PyAny>>,
    level: Py<PyAny>,
}

impl ShownLogs {
    /// Sets the `ffu` logger's level for the `-v` count and, when `sys.stderr` exists, adds a
    /// handler that writes there in the command line's format.
    fn install(py: Python<'_>, verbose: u8) -> PyResult<Self> {
        let logging_module = py.import("logging")?;
        let logger = logging_module.call_method1("getLogger", ("ffu",))?;
        let level = logger.getattr("level")?;
        let stderr = py.import("sys")?.getattr("stderr")?;
        let handler = if stderr.is_none() {
            None
        } else {
            let handler = logging_module.call_method1("StreamHandler", (stderr,))?;
            handler.call_method1("setFormatter", (CommandLineFormat { verbose },))?;
            logger.call_method1("addHandler", (&handler,))?;
            Some(handler.unbind())
        };
        logger.call_method1("setLevel", (python_level(verbose),))?;
        logging::sync_level(py);
        Ok(ShownLogs {
            logger: logger.unbind(),
            handler,
            level: level.unbind(),
        })
    }

    /// Takes the handler away and puts the logger's level back.
    fn remove(self, py: Python<'_>) -> PyResult<()> {
        let logger = self.logger.bind(py);
        if let Some(handler) = &self.handler {
            logger.call_method1("removeHandler", (handler,))?;
            handler.call_method0(py, "close")?;
        }
        logger.call_method1("setLevel", (self.level,))?;
        Ok(())
    }
}

/// The formatter of the command's handler (a `logging.Formatter` in all that a handler
/// asks of one): `warning: MESSAGE` or `error: MESSAGE` without `-v`, like the binary's
/// lines; `LEVEL ffu: MESSAGE` with it.
#[pyclass(frozen, module = "ffu._native")]
struct CommandLineFormat {
    verbose: u8,
}

#[pymethods]
impl CommandLineFormat {
    fn format(&self, record: &Bound<'_, PyAny>) -> PyResult<String> {
        let level: i64 = record.getattr("levelno")?.extract()?;
        let message: String = record.call_method0("getMessage")?.extract()?;
        if self.verbose == 0 {
            let label = if level >= 40 { "error" } else { "warning" };
            return Ok(format!("{label}: {message}"));
        }
        let label = match level {
            40.. => "ERROR",
            30..=39 => "WARNING",
            20..=29 => "INFO",
            10..=19 => "DEBUG",
            _ => "TRACE",
        };
        let name: String = record.getattr("name")?.extract()?;
        Ok(format!("{label} {name}: {message}"))
    }
}
