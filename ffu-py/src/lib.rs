//! The native module `ffu._native` of the Python package `ffu`.
//!
//! A thin layer over `ffu_core`: each Python class is a frozen wrapper around a core type,
//! methods convert their arguments and delegate, long work (loading, planning, verifying,
//! rendering) runs with the GIL released, every core error becomes an `ffu.FfuError`
//! subclass in one function (`errors::core_error`), panics are caught at each call into
//! the core, and the core's `tracing` events go to Python's `logging` (logger `ffu`).
//! `main` runs the command line itself (the root crate's `ffu::run`) for `python -m ffu`.
//!
//! The Python package `ffu` (`python/ffu/__init__.py`) re-exports the public names; the
//! type stubs are `python/ffu/_native.pyi`.

// PyO3 built for abi3 before Python 3.10 cannot borrow `&str` from a Python `str`, so string
// (and path) arguments of the Python methods arrive as owned values.
#![allow(
    clippy::needless_pass_by_value,
    reason = "PyO3 passes Python arguments as owned values on abi3-py39"
)]

mod catalog;
mod cli;
mod convert;
mod database;
mod errors;
mod facts;
mod inventory;
mod logging;
mod plan;

use pyo3::prelude::*;

/// The Rust side of the module allocates with mimalloc, as the CLI does: planning a large
/// cloud makes about a million small allocations, and mimalloc's huge-page backed heap
/// halves the time (README, Speed). Python's own objects keep using Python's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Frees a large plan or catalog on a short-lived thread instead of in the caller.
///
/// Freeing a hundred thousand steps takes about as long as writing them out, and Python
/// frees an object as soon as its last reference goes, in the middle of the caller's
/// code; handing the value to a thread gives that time back. Small objects (and ones
/// still shared) are freed in place, where a thread would cost more than it saves.
///
/// Called from `Drop` with the field that is about to be dropped: the thread takes a
/// second reference and waits until the field's own reference is gone, so the value is
/// freed by the thread, whichever side runs first.
pub(crate) fn drop_large_in_background<T: Send + Sync + 'static>(
    shared: &std::sync::Arc<T>,
    size: usize,
) {
    const LARGE: usize = 20_000;
    if size < LARGE || std::sync::Arc::strong_count(shared) > 1 {
        return;
    }
    let last = std::sync::Arc::clone(shared);
    // If no thread can be started, the reference comes back in the error and is dropped
    // here: the value is then freed by the field, in place, as usual.
    let _ = std::thread::Builder::new()
        .name("ffu-free".into())
        .spawn(move || {
            lower_priority();
            while std::sync::Arc::strong_count(&last) > 1 {
                std::thread::yield_now();
            }
            drop(last);
        });
}

/// Gives the calling thread the lowest priority, so that freeing yields the cores to the
/// caller's own work (on two cores, a free running beside a two-threaded plan or load slows
/// it by a tenth) and runs in their idle time instead.
fn lower_priority() {
    // On Linux the nice value is a thread's own, and `who == 0` is the calling thread.
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; a failure leaves the
    // priority as it was, which is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

/// Panics inside the guard that wraps every call into the core, so that the tests can
/// check that a panic reaches Python as `ffu.FfuError`. Not part of the API.
#[pyfunction]
fn _test_panic(py: Python<'_>) -> PyResult<()> {
    errors::guarded(|| -> Result<(), errors::Failure> {
        panic!("test panic from ffu._native._test_panic")
    })
    .map_err(|failure| failure.into_py_err(py, None))
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install();
    logging::sync_level(module.py());
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<catalog::PyCatalog>()?;
    module.add_class::<inventory::PyInventory>()?;
    module.add_class::<plan::PyPlan>()?;
    module.add_class::<plan::PlanIterator>()?;
    module.add_class::<plan::PyHop>()?;
    module.add_class::<plan::PyStep>()?;
    module.add_class::<plan::PyViolation>()?;
    module.add_class::<database::PyJournal>()?;
    module.add_class::<database::PyAlembicImport>()?;
    module.add_function(wrap_pyfunction!(database::discover_state, module)?)?;
    module.add_function(wrap_pyfunction!(database::discovery_sql, module)?)?;
    module.add_function(wrap_pyfunction!(database::import_alembic, module)?)?;
    module.add_function(wrap_pyfunction!(cli::main, module)?)?;
    errors::register(module)?;
    module.add_function(wrap_pyfunction!(_test_panic, module)?)?;
    Ok(())
}
