//! `ffu.Catalog`: a validated catalog, and the entry point for planning and verifying.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use ffu_core::{Catalog, Mode, Negotiated, PlanRequest, Policy};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};

use crate::convert;
use crate::errors::{argument_error, argument_type_error, guarded, Request};
use crate::facts;
use crate::inventory::PyInventory;
use crate::logging;
use crate::plan::{PyPlan, PyViolation};

/// A validated catalog of releases, services, components and migrations.
///
/// Load one with `Catalog.openstack()` (the embedded `OpenStack` catalog), `from_file`,
/// `from_yaml`, `from_json` or `from_dict`; then `plan` upgrades and `verify` plans.
#[pyclass(frozen, module = "ffu", name = "Catalog")]
pub(crate) struct PyCatalog {
    pub(crate) inner: Arc<Catalog>,
}

impl Drop for PyCatalog {
    fn drop(&mut self) {
        crate::drop_large_in_background(&self.inner, self.inner.migrations().len());
    }
}

impl From<Catalog> for PyCatalog {
    fn from(catalog: Catalog) -> Self {
        PyCatalog {
            inner: Arc::new(catalog),
        }
    }
}

/// Loads a catalog with the GIL released, panics and errors mapped.
fn load(
    py: Python<'_>,
    work: impl FnOnce() -> ffu_core::Result<Catalog> + Send,
) -> PyResult<PyCatalog> {
    logging::sync_level(py);
    py.detach(|| guarded(|| Ok(work()?)))
        .map(PyCatalog::from)
        .map_err(|failure| failure.into_py_err(py, None))
}

/// The keyword arguments of `plan` and `plan_inventory` that make their policy.
struct PolicyArgs<'a, 'py> {
    mode: &'a str,
    skip_level: bool,
    keep_dataplane: bool,
    services: Option<&'a Bound<'py, PyAny>>,
    max_unavailable: Option<&'a Bound<'py, PyAny>>,
    repo_command: Option<&'a Bound<'py, PyAny>>,
    backup_command: Option<&'a Bound<'py, PyAny>>,
    backup_dir: Option<&'a Bound<'py, PyAny>>,
}

/// The policy of `plan` and `plan_inventory`, from their keyword arguments.
fn policy(py: Python<'_>, args: &PolicyArgs<'_, '_>) -> PyResult<Policy> {
    Ok(Policy {
        mode: parse_mode(py, args.mode)?,
        skip_level: args.skip_level,
        keep_dataplane: args.keep_dataplane,
        services: args
            .services
            .map(|names| convert::str_list(names, "services", "services"))
            .transpose()?,
        max_unavailable: args.max_unavailable.map(max_unavailable_arg).transpose()?,
        repo_command: args
            .repo_command
            .map(|value| text_arg(value, "repo_command", "a command template"))
            .transpose()?,
        backup_command: args
            .backup_command
            .map(|value| text_arg(value, "backup_command", "a command template"))
            .transpose()?,
        backup_dir: args
            .backup_dir
            .map(|value| text_arg(value, "backup_dir", "a directory"))
            .transpose()?,
    })
}

/// A str argument that ffu reads itself (rather than by `PyO3`'s extraction), so that
/// another type is an `ArgumentTypeError` naming the argument, as for `services`. Only a
/// str: a path object would be accepted by `str()`, but the policy goes into the plan
/// document as text, and `backup_dir` is written into shell commands as given.
fn text_arg(value: &Bound<'_, PyAny>, argument: &str, what: &str) -> PyResult<String> {
    match value.cast::<PyString>() {
        // A lone surrogate cannot become UTF-8 text (nor part of a plan document).
        Ok(text) => text
            .to_cow()
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| {
                argument_error(
                    value.py(),
                    argument,
                    format!("{argument} is not valid Unicode text (it has a lone surrogate)"),
                )
            }),
        Err(_) => Err(argument_type_error(
            value.py(),
            argument,
            format!(
                "{argument} must be a str ({what}), not {}",
                convert::kind(value)
            ),
        )),
    }
}

fn parse_mode(py: Python<'_>, mode: &str) -> PyResult<Mode> {
    match mode {
        "offline" => Ok(Mode::Offline),
        "rolling" => Ok(Mode::Rolling),
        other => Err(argument_error(
            py,
            "mode",
            format!("mode must be \"offline\" or \"rolling\", not {other:?}"),
        )),
    }
}

/// A count of hosts as an int (`5`) or a str (`"5"`, `"10%"`), as the core reads it. Only
/// those: `str()` of anything else (a list nested two thousand deep) could raise anything.
fn max_unavailable_arg(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = value.py();
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.to_cow()?.into_owned());
    }
    // A bool is an int to Python, but `True` hosts is surely a mistake.
    if value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>() {
        return value.extract::<i64>().map(|n| n.to_string()).map_err(|_| {
            argument_error(
                py,
                "max_unavailable",
                "max_unavailable is too large a number of hosts",
            )
        });
    }
    Err(argument_type_error(
        py,
        "max_unavailable",
        format!(
            "max_unavailable must be a count of hosts (an int, or a str such as \"5\" or \"10%\"), not {}",
            convert::kind(value)
        ),
    ))
}

impl PyCatalog {
    /// `Catalog::negotiate` with the GIL released, panics mapped.
    fn negotiated(
        &self,
        py: Python<'_>,
        inventory: &PyInventory,
    ) -> PyResult<BTreeMap<String, Negotiated>> {
        let inventory = Arc::clone(inventory.for_catalog(py, &self.inner)?);
        logging::sync_level(py);
        let catalog = &self.inner;
        py.detach(|| guarded(|| Ok(catalog.negotiate(&inventory))))
            .map_err(|failure| failure.into_py_err(py, None))
    }
}

#[pymethods]
impl PyCatalog {
    /// The `OpenStack` catalog compiled into ffu.
    #[staticmethod]
    fn openstack(py: Python<'_>) -> PyResult<PyCatalog> {
        load(py, || Ok(Catalog::openstack()))
    }

    /// Loads a catalog file: YAML, or JSON when the name ends in `.json`, with the
    /// fragments it includes.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<PyCatalog> {
        load(py, || Catalog::from_path(&path))
    }

    /// The embedded catalog with the configuration changes generated from each project's
    /// option definitions (what `ffu config` uses without `--catalog`).
    #[staticmethod]
    fn openstack_with_config(py: Python<'_>) -> PyResult<PyCatalog> {
        load(py, || Ok(Catalog::openstack_with_config()))
    }

    /// Parses a catalog from YAML text; `file` names it in error messages.
    #[staticmethod]
    #[pyo3(signature = (text, *, file = "<string>".to_owned()), text_signature = "(text, *, file='<string>')")]
    fn from_yaml(py: Python<'_>, text: String, file: String) -> PyResult<PyCatalog> {
        load(py, || Catalog::from_yaml_str(&text, &file))
    }

    /// Parses a catalog from JSON text; `file` names it in error messages.
    #[staticmethod]
    #[pyo3(signature = (text, *, file = "<string>".to_owned()), text_signature = "(text, *, file='<string>')")]
    fn from_json(py: Python<'_>, text: String, file: String) -> PyResult<PyCatalog> {
        load(py, || Catalog::from_json_str(&text, &file))
    }

    /// Builds a catalog from plain data (as `json.load` or `yaml.safe_load` give it);
    /// `file` names it in error messages.
    #[staticmethod]
    #[pyo3(signature = (data, *, file = "<dict>".to_owned()), text_signature = "(data, *, file='<dict>')")]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>, file: String) -> PyResult<PyCatalog> {
        let text = convert::dumps(
            data,
            convert::Document {
                kind: convert::Kind::Catalog,
                file: &file,
                argument: "data",
            },
        )?;
        load(py, || Catalog::from_json_str(&text, &file))
    }

    /// The catalog's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The file the catalog was loaded from (or the name given to a string).
    #[getter]
    fn file(&self) -> &str {
        self.inner.file()
    }

    /// Release names, in upgrade order.
    #[getter]
    fn releases(&self) -> Vec<String> {
        self.inner
            .releases()
            .iter()
            .map(|release| release.name.clone())
            .collect()
    }

    /// Service names, in catalog order.
    #[getter]
    fn services(&self) -> Vec<String> {
        self.inner
            .services()
            .iter()
            .map(|service| service.name.clone())
            .collect()
    }

    /// Each release in upgrade order, as a dict: `name`, `aliases` (other accepted names),
    /// `date` (`YYYY-MM-DD` or None) and `slurp` (whether it may be upgraded to the next
    /// SLURP release directly).
    #[getter]
    fn release_details<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .releases()
            .iter()
            .map(|release| {
                let details = PyDict::new(py);
                details.set_item("name", &release.name)?;
                details.set_item("aliases", &release.aliases)?;
                details.set_item("date", &release.date)?;
                details.set_item("slurp", release.slurp)?;
                Ok(details)
            })
            .collect()
    }

    /// The catalog's tasks (the actions of an upgrade that are not migrations), in catalog
    /// order, as dicts (`ffu.TaskInfo`): `id`, `service`, `release` (None: every hop whose
    /// end lies within `since` and `until`), `since`, `until`, `phase` (the catalog's, such
    /// as `before_migrations`), `code` (`current` or `target`), `on` (`bootstrap` or
    /// `all`), `command`, `config` (an `ffu.ConfigEdit`, or None), `requires` (task and
    /// migration ids), `mode` (`any`, `offline` or `rolling`), `reason`, `duration_s` and
    /// `x` (the tool's own `x-...` fields).
    #[getter]
    fn tasks<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let catalog = &self.inner;
        catalog
            .tasks()
            .iter()
            .map(|task| facts::task(py, catalog, task))
            .collect()
    }

    /// What the catalog knows of the service `name`, as a dict (`ffu.ServiceInfo`): `name`,
    /// `since`, `until`, `after` (services whose steps come first), `versions` (release to
    /// version, where given), `upgrade_check`, `databases` (each `name`, `since`, `until`),
    /// `components` (each `name`, `role`, `unit`, `since`, `until`, `removal_needs`, `x`),
    /// `max_skew` (a number of releases, or `"slurp"`), `restart_order` (component names;
    /// empty: catalog order) and `x`.
    ///
    /// An unknown name raises `ArgumentError`.
    fn service_info<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let name = text_arg(name, "name", "a service name")?;
        let catalog = &self.inner;
        let Some(id) = catalog.service_id(&name) else {
            return Err(argument_error(
                py,
                "name",
                format!(
                    "unknown service {name:?}; the catalog {:?} has {}",
                    catalog.name(),
                    self.services().join(", ")
                ),
            ));
        };
        facts::service(py, catalog, catalog.service(id))
    }

    /// How big the catalog is: the number of `releases`, `services`, `components`,
    /// `migrations`, `extensions` and `config_changes`.
    fn stats(&self) -> BTreeMap<&'static str, usize> {
        let catalog = &self.inner;
        BTreeMap::from([
            ("releases", catalog.releases().len()),
            ("services", catalog.services().len()),
            ("components", catalog.components().len()),
            ("migrations", catalog.migrations().len()),
            ("extensions", catalog.extensions().len()),
            ("config_changes", catalog.config_changes().len()),
        ])
    }

    /// Plans the upgrade from `from_` to `to` (release names or aliases).
    ///
    /// With `state` (what `ffu.discover` returns, or `{service: [applied migration ids]}`),
    /// the migrations the databases already hold are left out and listed in
    /// `Plan.applied`; `from_` may then be `None`, to start where the databases stand.
    ///
    /// The policy's command templates (DESIGN §8), kept in `Plan.policy`: `repo_command`
    /// switches a host's package sources to a release (`{release}`; each hop then gets
    /// `repos` steps before its installs), `backup_command` backs up a service's databases
    /// (`{databases}`, `{dir}`, `{service}`, `{release}`; None for a `mysqldump`), and
    /// `backup_dir` is its `{dir}` (None for `.`).
    ///
    /// The planning runs without the GIL, so other Python threads go on meanwhile.
    #[pyo3(signature = (from_, to, *, mode = "offline", skip_level = false, keep_dataplane = true, services = None, max_unavailable = None, state = None, repo_command = None, backup_command = None, backup_dir = None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the Python signature is the policy's fields as keywords"
    )]
    fn plan(
        &self,
        py: Python<'_>,
        from_: Option<String>,
        to: String,
        mode: &str,
        skip_level: bool,
        keep_dataplane: bool,
        services: Option<Bound<'_, PyAny>>,
        max_unavailable: Option<Bound<'_, PyAny>>,
        state: Option<Bound<'_, PyAny>>,
        repo_command: Option<Bound<'_, PyAny>>,
        backup_command: Option<Bound<'_, PyAny>>,
        backup_dir: Option<Bound<'_, PyAny>>,
    ) -> PyResult<PyPlan> {
        let policy = policy(
            py,
            &PolicyArgs {
                mode,
                skip_level,
                keep_dataplane,
                services: services.as_ref(),
                max_unavailable: max_unavailable.as_ref(),
                repo_command: repo_command.as_ref(),
                backup_command: backup_command.as_ref(),
                backup_dir: backup_dir.as_ref(),
            },
        )?;
        let state = state.as_ref().map(crate::database::state_arg).transpose()?;
        let request = match (&from_, &state) {
            (Some(from), _) => PlanRequest::from_release(from, &to, &policy),
            (None, Some(state)) => PlanRequest::from_state(state, &to, &policy),
            (None, None) => {
                return Err(argument_type_error(
                    py,
                    "from_",
                    "plan() needs from_ (the release the cloud runs), or state= to start where its databases stand",
                ))
            }
        }
        .with_state(state.as_ref());
        logging::sync_level(py);
        let catalog = &self.inner;
        // The plan is kept compact: its migration steps are built only if Python asks for
        // them (`to_json` writes them straight from the catalog).
        py.detach(|| guarded(|| Ok(PyPlan::compact(catalog.plan_compact(&request)?))))
            .map_err(|failure| {
                failure.into_py_err(
                    py,
                    Some(Request {
                        from: from_.as_deref(),
                        to: &to,
                    }),
                )
            })
    }

    /// Plans the upgrade of the cloud that `inventory` describes to `to`, with steps per
    /// host. Without `services`, the services upgraded are those with a component in the
    /// inventory; the plan starts from the oldest release any of them runs (a mixed
    /// inventory is an interrupted upgrade, which the plan completes).
    ///
    /// With `state` (as for `plan`), the migrations the databases already hold are left
    /// out and listed in `Plan.applied`. `repo_command`, `backup_command` and `backup_dir`
    /// are as for `plan`.
    ///
    /// The planning runs without the GIL, so other Python threads go on meanwhile.
    #[pyo3(signature = (inventory, to, *, mode = "offline", skip_level = false, keep_dataplane = true, services = None, max_unavailable = None, state = None, repo_command = None, backup_command = None, backup_dir = None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the Python signature is the policy's fields as keywords"
    )]
    fn plan_inventory(
        &self,
        py: Python<'_>,
        inventory: PyRef<'_, PyInventory>,
        to: String,
        mode: &str,
        skip_level: bool,
        keep_dataplane: bool,
        services: Option<Bound<'_, PyAny>>,
        max_unavailable: Option<Bound<'_, PyAny>>,
        state: Option<Bound<'_, PyAny>>,
        repo_command: Option<Bound<'_, PyAny>>,
        backup_command: Option<Bound<'_, PyAny>>,
        backup_dir: Option<Bound<'_, PyAny>>,
    ) -> PyResult<PyPlan> {
        let policy = policy(
            py,
            &PolicyArgs {
                mode,
                skip_level,
                keep_dataplane,
                services: services.as_ref(),
                max_unavailable: max_unavailable.as_ref(),
                repo_command: repo_command.as_ref(),
                backup_command: backup_command.as_ref(),
                backup_dir: backup_dir.as_ref(),
            },
        )?;
        let state = state.as_ref().map(crate::database::state_arg).transpose()?;
        let inventory = Arc::clone(inventory.for_catalog(py, &self.inner)?);
        logging::sync_level(py);
        let catalog = &self.inner;
        let plan = py
            .detach(|| {
                guarded(|| {
                    let request = PlanRequest::from_inventory(&inventory, &to, &policy)
                        .with_state(state.as_ref());
                    Ok(PyPlan::compact(catalog.plan_compact(&request)?))
                })
            })
            .map_err(|failure| failure.into_py_err(py, None))?;
        Ok(plan)
    }

    /// What each service may advertise now, given where its servers stand in `inventory`:
    /// per service (those with extensions and servers), the advertised extensions, sorted.
    fn negotiate(
        &self,
        py: Python<'_>,
        inventory: PyRef<'_, PyInventory>,
    ) -> PyResult<BTreeMap<String, Vec<String>>> {
        Ok(self
            .negotiated(py, &inventory)?
            .into_iter()
            .map(|(service, negotiated)| (service, negotiated.advertised))
            .collect())
    }

    /// As `negotiate`, with the reasons: per service, a dict with `advertised` (sorted
    /// names) and `withheld` (name to the reason it is not advertised).
    fn negotiate_details<'py>(
        &self,
        py: Python<'py>,
        inventory: PyRef<'_, PyInventory>,
    ) -> PyResult<BTreeMap<String, Bound<'py, PyDict>>> {
        self.negotiated(py, &inventory)?
            .into_iter()
            .map(|(service, negotiated)| {
                let details = PyDict::new(py);
                details.set_item("advertised", negotiated.advertised)?;
                let withheld = PyDict::new(py);
                for (name, reason) in negotiated.withheld {
                    withheld.set_item(name, reason)?;
                }
                details.set_item("withheld", withheld)?;
                Ok((service, details))
            })
            .collect()
    }

    /// Checks a plan (a `Plan`, or a plan document as a dict) against the safety rules;
    /// an empty list means the plan is safe.
    fn verify(&self, py: Python<'_>, plan: &Bound<'_, PyAny>) -> PyResult<Vec<PyViolation>> {
        let (plan, file) = crate::plan::named_plan_arg(py, plan, "verify()")?;
        logging::sync_level(py);
        let catalog = &self.inner;
        let violations = py
            .detach(|| guarded(|| Ok(ffu_core::verify_document(catalog, &plan, &file)?)))
            .map_err(|failure| failure.into_py_err(py, None))?;
        Ok(violations.into_iter().map(PyViolation::from).collect())
    }

    /// The configuration changes of `service` composed from `from_` to `to`, as a dict:
    /// `service`, `from`, `to`, `changes` (each with `action`, `from`, `to`, `value`,
    /// `file`, `release`, `steps`) and `reintroduced`.
    #[pyo3(signature = (service, from_, to))]
    fn config_diff<'py>(
        &self,
        py: Python<'py>,
        service: &str,
        from_: &str,
        to: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let catalog = &self.inner;
        let text = py
            .detach(|| guarded(|| Ok(catalog.config_diff(service, from_, to)?.to_json())))
            .map_err(|failure| failure.into_py_err(py, None))?;
        convert::loads(py, &text)
    }

    /// `text`, an oslo.config INI file of `service` at `from_`, rewritten for `to`, as a
    /// dict: `text` (the new file), `moved` and `removed` (the options renamed and removed,
    /// with their lines; removed ones stay in the text as `#ffu-removed(RELEASE)` comments).
    #[pyo3(
        signature = (text, service, from_, to, *, file = "<string>".to_owned()),
        text_signature = "($self, text, service, from_, to, *, file='<string>')"
    )]
    fn migrate_config<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        service: &str,
        from_: &str,
        to: &str,
        file: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let catalog = &self.inner;
        let json = py
            .detach(|| {
                guarded(|| {
                    let migrated = catalog.migrate_config(text, &file, service, from_, to)?;
                    Ok(serde_json::to_string(&migrated).expect("strings serialize"))
                })
            })
            .map_err(|failure| failure.into_py_err(py, None))?;
        convert::loads(py, &json)
    }

    /// The catalog (its fragments merged) as an `ffu-catalog/1` JSON document.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        let catalog = &self.inner;
        py.detach(|| guarded(|| Ok(catalog.to_json()?)))
            .map_err(|failure| failure.into_py_err(py, None))
    }

    /// The catalog (its fragments merged) as an `ffu-catalog/1` YAML document.
    fn to_yaml(&self, py: Python<'_>) -> PyResult<String> {
        let catalog = &self.inner;
        py.detach(|| guarded(|| Ok(catalog.to_yaml()?)))
            .map_err(|failure| failure.into_py_err(py, None))
    }

    /// The catalog (its fragments merged) as plain data, the `ffu-catalog/1` document.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = self.to_json(py)?;
        convert::loads(py, &text)
    }

    fn __repr__(&self) -> String {
        format!(
            "<ffu.Catalog {}: {} releases, {} services, {} migrations>",
            self.inner.name(),
            self.inner.releases().len(),
            self.inner.services().len(),
            self.inner.migrations().len()
        )
    }
}
