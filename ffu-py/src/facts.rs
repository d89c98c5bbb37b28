//! Catalog facts and step fields as the plain dicts of `ffu._types` (`ConfigEdit`,
//! `TaskInfo`, `ServiceInfo`, ...): conversion only, for tools that map steps to their own
//! actions without walking `Catalog.to_dict()`.
//!
//! Every key of a `TypedDict` is always present (None where the catalog gives nothing), so
//! that `info["unit"]` never raises and the `TypedDict`s need no `NotRequired` (which
//! Python 3.9 lacks).

use ffu_core::{
    Catalog, Component, ConfigEdit, Database, Extras, MaxSkew, ReleaseId, Requirement, Service,
    Task,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert;

/// A configuration edit (`ffu.ConfigEdit`): `file`, `section`, `option`, `action`,
/// `value`, `to`, `temporary`.
pub(crate) fn config_edit<'py>(py: Python<'py>, edit: &ConfigEdit) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("file", &edit.file)?;
    dict.set_item("section", &edit.section)?;
    dict.set_item("option", &edit.option)?;
    dict.set_item("action", edit.action.as_str())?;
    dict.set_item("value", &edit.value)?;
    dict.set_item("to", &edit.to)?;
    dict.set_item("temporary", edit.temporary)?;
    Ok(dict)
}

/// A tool's own `x-...` facts as a dict (empty when there are none: catalog items always
/// have the mapping; a step's `x` is None instead, as in the plan document).
fn extras<'py>(py: Python<'py>, x: &Extras) -> PyResult<Bound<'py, PyAny>> {
    convert::to_python(py, x)
}

fn release_name(catalog: &Catalog, release: Option<ReleaseId>) -> Option<&str> {
    release.map(|id| catalog.release(id).name.as_str())
}

/// One catalog task (`ffu.TaskInfo`).
pub(crate) fn task<'py>(
    py: Python<'py>,
    catalog: &Catalog,
    task: &Task,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("id", &task.id)?;
    dict.set_item("service", &catalog.service(task.service).name)?;
    dict.set_item("release", release_name(catalog, task.release))?;
    dict.set_item("since", release_name(catalog, task.since))?;
    dict.set_item("until", release_name(catalog, task.until))?;
    dict.set_item("phase", task.phase.as_str())?;
    dict.set_item("code", task.code.as_str())?;
    dict.set_item("on", task.on.as_str())?;
    dict.set_item("command", &task.command)?;
    let config = task
        .config
        .as_ref()
        .map(|edit| config_edit(py, edit))
        .transpose()?;
    dict.set_item("config", config)?;
    let requires: Vec<&str> = task
        .requires
        .iter()
        .map(|requirement| match *requirement {
            Requirement::Migration(id) => catalog.migration(id).id.as_str(),
            Requirement::Task(id) => catalog.task(id).id.as_str(),
        })
        .collect();
    dict.set_item("requires", requires)?;
    dict.set_item("mode", task.mode.as_str())?;
    dict.set_item("reason", &task.reason)?;
    dict.set_item("duration_s", task.duration_s)?;
    dict.set_item("x", extras(py, &task.x)?)?;
    Ok(dict)
}

/// One component of a service (`ffu.ComponentInfo`).
fn component<'py>(
    py: Python<'py>,
    catalog: &Catalog,
    component: &Component,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("name", &component.name)?;
    dict.set_item("role", component.role.as_str())?;
    dict.set_item("unit", &component.unit)?;
    dict.set_item("since", release_name(catalog, component.since))?;
    dict.set_item("until", release_name(catalog, component.until))?;
    dict.set_item("removal_needs", &component.removal_needs)?;
    dict.set_item("x", extras(py, &component.x)?)?;
    Ok(dict)
}

/// One database of a service (`ffu.DatabaseInfo`).
fn database<'py>(
    py: Python<'py>,
    catalog: &Catalog,
    database: &Database,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("name", &database.name)?;
    dict.set_item("since", release_name(catalog, database.since))?;
    dict.set_item("until", release_name(catalog, database.until))?;
    Ok(dict)
}

/// A service with its components and databases (`ffu.ServiceInfo`).
pub(crate) fn service<'py>(
    py: Python<'py>,
    catalog: &Catalog,
    service: &Service,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("name", &service.name)?;
    dict.set_item("since", release_name(catalog, service.since))?;
    dict.set_item("until", release_name(catalog, service.until))?;
    let after: Vec<&str> = service
        .after
        .iter()
        .map(|&id| catalog.service(id).name.as_str())
        .collect();
    dict.set_item("after", after)?;
    // Only the releases the catalog gives a version for, in release order.
    let versions = PyDict::new(py);
    for (release, version) in catalog.releases().iter().zip(&service.versions) {
        if let Some(version) = version {
            versions.set_item(&release.name, version.to_string())?;
        }
    }
    dict.set_item("versions", versions)?;
    dict.set_item("upgrade_check", &service.upgrade_check)?;
    let databases = PyList::empty(py);
    for each in &service.databases {
        databases.append(database(py, catalog, each)?)?;
    }
    dict.set_item("databases", databases)?;
    let components = PyList::empty(py);
    for &id in &service.components {
        components.append(component(py, catalog, catalog.component(id))?)?;
    }
    dict.set_item("components", components)?;
    match service.max_skew {
        MaxSkew::Releases(count) => dict.set_item("max_skew", count)?,
        MaxSkew::Slurp => dict.set_item("max_skew", "slurp")?,
    }
    let restart_order: Vec<&str> = service
        .restart_order
        .iter()
        .map(|&id| catalog.component(id).name.as_str())
        .collect();
    dict.set_item("restart_order", restart_order)?;
    dict.set_item("x", extras(py, &service.x)?)?;
    Ok(dict)
}
