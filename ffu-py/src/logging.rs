//! Forwards the core's `tracing` events to Python's `logging`, under the logger `ffu`, so
//! that deployment tools see them in their own logs.
//!
//! Taking the GIL for every event would be wasteful when the logger drops it anyway, so the
//! layer keeps the logger's effective level in an atomic, refreshed at every call into the
//! native module ([`sync_level`]), and forwards only events at or above it. Python's own
//! `Logger.isEnabledFor` then has the last word (it also knows `logging.disable`).

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Once;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// The Python logger name every event goes to.
const LOGGER: &str = "ffu";

/// Python's numeric level for `logging.WARNING`, the default of an unconfigured logger.
const WARNING: u8 = 30;

/// The `ffu` logger's effective level, as last read from Python.
static EFFECTIVE_LEVEL: AtomicU8 = AtomicU8::new(WARNING);

static PY_LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Installs the forwarding layer as the process's `tracing` subscriber, once. Another
/// subscriber already set (by a Rust program embedding Python) is left in place.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(PythonLogging);
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Reads the `ffu` logger's effective level, so that the events of the call about to run
/// are forwarded as Python wants. Called at every entry into the core.
pub(crate) fn sync_level(py: Python<'_>) {
    let level = logger(py)
        .and_then(|logger| {
            logger
                .bind(py)
                .call_method0("getEffectiveLevel")?
                .extract::<u8>()
        })
        .unwrap_or(WARNING);
    EFFECTIVE_LEVEL.store(level, Ordering::Relaxed);
}

fn logger(py: Python<'_>) -> PyResult<&Py<PyAny>> {
    PY_LOGGER.get_or_try_init(py, || {
        Ok(py
            .import("logging")?
            .call_method1("getLogger", (LOGGER,))?
            .unbind())
    })
}

/// Python's numeric level for a `tracing` level (`TRACE` is below `logging.DEBUG`, as 5).
fn python_level(level: Level) -> u8 {
    match level {
        Level::TRACE => 5,
        Level::DEBUG => 10,
        Level::INFO => 20,
        Level::WARN => 30,
        Level::ERROR => 40,
    }
}

/// Whether events and spans of `metadata` would reach an enabled Python logger.
fn wanted(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("ffu")
        && python_level(*metadata.level()) >= EFFECTIVE_LEVEL.load(Ordering::Relaxed)
}

/// The layer: formats each event as `span{fields}: message key=value` and hands it to the
/// Python logger with the Rust file and line.
struct PythonLogging;

/// A span's fields, formatted once when it is created.
struct SpanFields(String);

impl<S> Layer<S> for PythonLogging
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // "Sometimes": the Python level can change between calls, so `enabled` must be asked
        // every time rather than its first answer cached.
        if metadata.target().starts_with("ffu") {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        wanted(metadata)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut()
                .insert(SpanFields(fields.rest.trim_start().to_owned()));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let mut text = String::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                text.push_str(span.name());
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                    if !fields.is_empty() {
                        let _ = write!(text, "{{{fields}}}");
                    }
                }
                text.push_str(": ");
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        text.push_str(&fields.message);
        text.push_str(if fields.message.is_empty() {
            fields.rest.trim_start()
        } else {
            &fields.rest
        });
        let level = python_level(*metadata.level());
        Python::attach(|py| {
            // A failing handler is Python's business (logging reports it itself); an error
            // here must not turn into an exception of the call that logged.
            let _ = emit(py, level, metadata, &text);
        });
    }
}

fn emit(py: Python<'_>, level: u8, metadata: &Metadata<'_>, text: &str) -> PyResult<()> {
    let logger = logger(py)?.bind(py);
    if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    let record = logger.call_method1(
        "makeRecord",
        (
            LOGGER,
            level,
            metadata.file().unwrap_or("<rust>"),
            metadata.line().unwrap_or(0),
            text,
            PyTuple::empty(py),
            py.None(),
            metadata.module_path().unwrap_or(""),
        ),
    )?;
    logger.call_method1("handle", (record,))?;
    Ok(())
}

/// Collects an event's or span's fields: the `message` apart, the others as ` key=value`.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}
