//! `ffu.Inventory`: a validated inventory (`ffu-inventory/1`), which release each component
//! runs on each host.

use std::path::PathBuf;
use std::sync::Arc;

use ffu_core::{Catalog, Error, Inventory};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyMapping, PyString, PyTuple};

use crate::catalog::PyCatalog;
use crate::convert;
use crate::errors::{argument_error, argument_type_error, core_error, guarded};
use crate::logging;

/// A validated inventory: hosts (ranges expanded, in file order) and the release each of
/// their components runs.
///
/// Load one with `from_file`, `from_yaml`, `from_json` or `from_dict`, against a catalog; then
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
    /// The inventory, if it was loaded against `catalog`; an `ArgumentError` otherwise (its
    /// component and release ids would mean other things in another catalog).
    pub(crate) fn for_catalog(
        &self,
        py: Python<'_>,
        catalog: &Arc<Catalog>,
    ) -> PyResult<&Arc<Inventory>> {
        if Arc::ptr_eq(&self.catalog, catalog) {
            Ok(&self.inner)
        } else {
            Err(argument_error(
                py,
                "inventory",
                format!(
                    "the inventory {} was loaded against another catalog; load it again with this one",
                    self.inner.file()
                ),
            ))
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

    /// Builds an inventory from plain data (a deployment tool's own host table, or what
    /// `yaml.safe_load` gives) and validates it against `catalog`; `file` names it in
    /// error messages, which name the item as `hosts[3].components.nova-api`.
    #[staticmethod]
    #[pyo3(signature = (catalog, data, *, file = "<dict>".to_owned()), text_signature = "(catalog, data, *, file='<dict>')")]
    fn from_dict(
        py: Python<'_>,
        catalog: PyRef<'_, PyCatalog>,
        data: &Bound<'_, PyAny>,
        file: String,
    ) -> PyResult<PyInventory> {
        let document = read_document(data, &file)?;
        load(py, &catalog, |catalog| document.load(catalog, &file))
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

/// The most host entries a document may have: each gives at least one host, and the core
/// refuses more than a million hosts.
const MAX_HOST_ENTRIES: usize = 1_000_000;

/// An `ffu-inventory/1` document read from plain data, its shape checked.
struct Document {
    format: Option<String>,
    hosts: Vec<HostEntry>,
}

/// One entry of `hosts`: a name pattern and the components of every host it gives, in the
/// order written.
struct HostEntry {
    pattern: String,
    components: Vec<(String, String)>,
}

/// A bad inventory document, about `item` (such as `hosts[3].components.nova-api`).
fn invalid(py: Python<'_>, file: &str, item: String, message: String) -> PyErr {
    core_error(
        py,
        Error::Invalid {
            file: file.to_owned(),
            location: None,
            item,
            message,
            source: None,
        },
        None,
    )
}

/// The str at `item`, or a `CatalogError` saying what `what` should be.
fn text(value: &Bound<'_, PyAny>, file: &str, item: String, what: &str) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(text) => Ok(text.to_cow()?.into_owned()),
        Err(_) => Err(invalid(
            value.py(),
            file,
            item,
            format!("expected {what} (str), not {}", convert::kind(value)),
        )),
    }
}

/// Reads the shape of an inventory document, as the core's parser would (the same fields,
/// unknown ones refused), naming each item by its path instead of a line and column of
/// JSON text that nobody wrote. Validation against the catalog is the core's.
fn read_document(data: &Bound<'_, PyAny>, file: &str) -> PyResult<Document> {
    let py = data.py();
    let mapping = data.cast::<PyMapping>().map_err(|_| {
        argument_type_error(
            py,
            "data",
            format!(
                "Inventory.from_dict() takes a dict (an ffu-inventory/1 document), not {}",
                convert::kind(data)
            ),
        )
    })?;
    let mut document = Document {
        format: None,
        hosts: Vec::new(),
    };
    for (key, value) in convert::mapping_items(mapping, "data", "data")? {
        let key = text(&key, file, "document".to_owned(), "a field name")?;
        match key.as_str() {
            "format" if value.is_none() => {}
            "format" => {
                document.format = Some(text(&value, file, key, "a format name")?);
            }
            "hosts" => document.hosts = read_hosts(&value, file)?,
            _ => {
                return Err(invalid(
                    py,
                    file,
                    key.clone(),
                    format!("unknown field `{key}`, expected `format` or `hosts`"),
                ))
            }
        }
    }
    Ok(document)
}

fn read_hosts(value: &Bound<'_, PyAny>, file: &str) -> PyResult<Vec<HostEntry>> {
    let py = value.py();
    // A list's or tuple's length is its real length.
    let entries: Vec<Bound<'_, PyAny>> = if let Ok(list) = value.cast::<PyList>() {
        if list.len() > MAX_HOST_ENTRIES {
            return Err(too_many_hosts(py, file));
        }
        list.iter().collect()
    } else if let Ok(tuple) = value.cast::<PyTuple>() {
        if tuple.len() > MAX_HOST_ENTRIES {
            return Err(too_many_hosts(py, file));
        }
        tuple.iter().collect()
    } else {
        return Err(invalid(
            py,
            file,
            "hosts".to_owned(),
            format!("expected a list of hosts, not {}", convert::kind(value)),
        ));
    };
    let mut hosts = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let at = format!("hosts[{index}]");
        let Ok(mapping) = entry.cast::<PyMapping>() else {
            return Err(invalid(
                py,
                file,
                at,
                format!(
                    "expected a host (a dict with name and components), not {}",
                    convert::kind(entry)
                ),
            ));
        };
        let mut pattern = None;
        let mut components = Vec::new();
        for (key, value) in convert::mapping_items(mapping, "data", &at)? {
            let key = text(&key, file, at.clone(), "a field name")?;
            match key.as_str() {
                "name" => pattern = Some(text(&value, file, format!("{at}.name"), "a host name")?),
                "components" if value.is_none() => {}
                "components" => components = read_components(&value, file, &at)?,
                _ => {
                    return Err(invalid(
                        py,
                        file,
                        format!("{at}.{key}"),
                        format!("unknown field `{key}`, expected `name` or `components`"),
                    ))
                }
            }
        }
        let Some(pattern) = pattern else {
            return Err(invalid(py, file, at, "missing field `name`".to_owned()));
        };
        hosts.push(HostEntry {
            pattern,
            components,
        });
    }
    Ok(hosts)
}

fn too_many_hosts(py: Python<'_>, file: &str) -> PyErr {
    invalid(
        py,
        file,
        "hosts".to_owned(),
        format!("more than {MAX_HOST_ENTRIES} hosts, the most an inventory may have"),
    )
}

fn read_components(
    value: &Bound<'_, PyAny>,
    file: &str,
    at: &str,
) -> PyResult<Vec<(String, String)>> {
    let item = format!("{at}.components");
    let Ok(mapping) = value.cast::<PyMapping>() else {
        return Err(invalid(
            value.py(),
            file,
            item,
            format!(
                "expected a map from component names to release names, not {}",
                convert::kind(value)
            ),
        ));
    };
    convert::mapping_items(mapping, "data", &item)?
        .into_iter()
        .map(|(component, release)| {
            let component = text(&component, file, item.clone(), "a component name")?;
            let release = text(
                &release,
                file,
                format!("{item}.{component}"),
                "a release name",
            )?;
            Ok((component, release))
        })
        .collect()
}

impl Document {
    /// The document as JSON text, for the core's parser: the inventory then carries the
    /// caller's `file` name, as one read from a file does.
    fn to_json(&self) -> String {
        // Writing strings to JSON cannot fail.
        let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
        let mut out = String::from("{");
        if let Some(format) = &self.format {
            out.push_str("\"format\":");
            out.push_str(&quoted(format));
            out.push(',');
        }
        out.push_str("\"hosts\":[");
        for (index, host) in self.hosts.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            out.push_str(&quoted(&host.pattern));
            out.push_str(",\"components\":{");
            for (position, (component, release)) in host.components.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                out.push_str(&quoted(component));
                out.push(':');
                out.push_str(&quoted(release));
            }
            out.push_str("}}");
        }
        out.push_str("]}");
        out
    }

    /// Validates the document against `catalog`; an error names the item by its path.
    fn load(&self, catalog: &Catalog, file: &str) -> ffu_core::Result<Inventory> {
        Inventory::from_json_str(catalog, &self.to_json(), file).map_err(|err| match err {
            // Places in the text made here mean nothing to the caller: the path does.
            Error::Invalid {
                item,
                message,
                source,
                ..
            } => Error::Invalid {
                file: file.to_owned(),
                location: None,
                item: self.path_of(catalog, &item),
                message,
                source,
            },
            Error::Parse {
                message, source, ..
            } => Error::Parse {
                file: file.to_owned(),
                location: None,
                message,
                source,
            },
            other => other,
        })
    }

    /// The path (`hosts[3].components.nova-api`) of the item a core error names (`host
    /// PATTERN`, `host #4` for a host without a name, `hosts`).
    ///
    /// The entry is the one with that pattern. Which of its components is wrong, if one
    /// is, the core says for each alone (under a plain host name, so that nothing is
    /// expanded); if the entry's name is wrong too, that comes first, as in the core. Runs
    /// only once loading has failed.
    fn path_of(&self, catalog: &Catalog, item: &str) -> String {
        if let Some(number) = item.strip_prefix("host #") {
            if let Some(index) = number.parse::<usize>().ok().and_then(|n| n.checked_sub(1)) {
                return format!("hosts[{index}].name");
            }
        }
        let Some(pattern) = item.strip_prefix("host ") else {
            return item.to_owned();
        };
        let entries: Vec<usize> = (0..self.hosts.len())
            .filter(|&index| self.hosts[index].pattern == pattern)
            .collect();
        let Some(&first) = entries.first() else {
            // A host name that two patterns give (`cmp-[1:2]` and `cmp-2`): the message
            // names both.
            return "hosts".to_owned();
        };
        if Inventory::from_hosts(catalog, &[(pattern, &[])]).is_err() {
            return format!("hosts[{first}].name");
        }
        for &index in &entries {
            for (component, release) in &self.hosts[index].components {
                let alone = [(component.as_str(), release.as_str())];
                if Inventory::from_hosts(catalog, &[("host", &alone)]).is_err() {
                    return format!("hosts[{index}].components.{component}");
                }
            }
        }
        // The name is right but clashes (a pattern written twice, or the hosts over the
        // limit): the second entry of a pair is the one in the way.
        format!("hosts[{}].name", entries.get(1).copied().unwrap_or(first))
    }
}
