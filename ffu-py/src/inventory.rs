//! `ffu.Inventory`: a validated inventory (`ffu-inventory/1`), which release each component
//! runs on each host.

use std::path::PathBuf;
use std::sync::Arc;

use ffu_core::{Catalog, Inventory};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::catalog::PyCatalog;
use crate::errors::guarded;
use crate::logging;

/// A validated inventory: hosts (ranges expanded, in file order) and the release each of
/// their components runs.
///
/// Load one with `from_file`, `from_yaml` or `from_json`, against a catalog; then
/// `Catalog.plan_inventory` plans per host and `Catalog.negotiate` tells what each service
/// may advertise. An inventory is used with the catalog it was loaded against.
#[pyclass(frozen, module = "ffu", name = "Inventory")]
pub(crate) struct PyInventory {
    pub(crate) inner: Arc<Inventory>,
    /// The catalog the inventory was validated against: its ids index that catalog only.
    pub(crate) catalog: Arc<Catalog>,
}

impl Drop for PyInventory {
    fn drop(&mut self) {
        crate::drop_large_in_background(&self.inner, self.inner.hosts().len());
    }
}

impl PyInventory {
    /// The inventory, if it was loaded against `catalog`; a `ValueError` otherwise (its
    /// component and release ids would mean other things in another catalog).
    pub(crate) fn for_catalog(&self, catalog: &Arc<Catalog>) -> PyResult<&Arc<Inventory>> {
        if Arc::ptr_eq(&self.catalog, catalog) {
            Ok(&self.inner)
        } else {
            Err(PyValueError::new_err(format!(
                "the inventory {} was loaded against another catalog; load it again with this one",
                self.inner.file()
            )))
        }
    }
}

/// Loads an inventory with the GIL released, panics and errors mapped.
fn load(
    py: Python<'_>,
    catalog: &PyCatalog,
    work: impl FnOnce(&Catalog) -> ffu_core::Result<Inventory> + Send,
) -> PyResult<PyInventory> {
    logging::sync_level(py);
    let shared = Arc::clone(&catalog.inner);
    let inventory = py
        .detach(|| guarded(|| Ok(work(&shared)?)))
        .map_err(|failure| failure.into_py_err(py, None))?;
    Ok(PyInventory {
        inner: Arc::new(inventory),
        catalog: shared,
    })
}

#[pymethods]
impl PyInventory {
    /// Loads an inventory file (YAML, or JSON when the name ends in `.json`) and validates
    /// it against `catalog`.
    #[staticmethod]
    fn from_file(
        py: Python<'_>,
        catalog: PyRef<'_, PyCatalog>,
        path: PathBuf,
    ) -> PyResult<PyInventory> {
        load(py, &catalog, |catalog| Inventory::from_path(catalog, &path))
    }

    /// Parses an inventory from YAML text and validates it against `catalog`; `file` names
    /// it in error messages.
    #[staticmethod]
    #[pyo3(signature = (catalog, text, *, file = "<string>".to_owned()), text_signature = "(catalog, text, *, file='<string>')")]
    fn from_yaml(
        py: Python<'_>,
        catalog: PyRef<'_, PyCatalog>,
        text: String,
        file: String,
    ) -> PyResult<PyInventory> {
        load(py, &catalog, |catalog| {
            Inventory::from_yaml_str(catalog, &text, &file)
        })
    }

    /// Parses an inventory from JSON text and validates it against `catalog`; `file` names
    /// it in error messages.
    #[staticmethod]
    #[pyo3(signature = (catalog, text, *, file = "<string>".to_owned()), text_signature = "(catalog, text, *, file='<string>')")]
    fn from_json(
        py: Python<'_>,
        catalog: PyRef<'_, PyCatalog>,
        text: String,
        file: String,
    ) -> PyResult<PyInventory> {
        load(py, &catalog, |catalog| {
            Inventory::from_json_str(catalog, &text, &file)
        })
    }

    /// Host names, ranges expanded, in file order.
    #[getter]
    fn hosts(&self) -> Vec<String> {
        self.inner
            .hosts()
            .iter()
            .map(|host| host.name.clone())
            .collect()
    }

    /// The file the inventory was loaded from (or the name given to a string).
    #[getter]
    fn file(&self) -> &str {
        self.inner.file()
    }

    fn __len__(&self) -> usize {
        self.inner.hosts().len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<ffu.Inventory {}: {} hosts>",
            self.inner.file(),
            self.inner.hosts().len()
        )
    }
}
