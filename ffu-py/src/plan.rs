//! `ffu.Plan` and its parts, `ffu.Hop` and `ffu.Step`, and `ffu.Violation`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use ffu_core::{render, Catalog, CodeSide, CompactPlan, Hop, Phase, Plan, Step, Violation};
use pyo3::basic::CompareOp;
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PySlice, PyTuple};

use crate::catalog::PyCatalog;
use crate::convert;
use crate::errors::{argument_type_error, guarded, internal_error};
use crate::facts;
use crate::inventory::PyInventory;
use crate::logging;
use ffu_core::export::ansible::{self, AnsibleOptions};
use ffu_core::export::CommandTemplate;

/// An upgrade plan (`ffu-plan/1`): the path of releases, its hops, and the steps in
/// execution order.
///
/// A plan is a sequence of its steps: `len(plan)`, `plan[0]`, `plan[-1]`, `for step in plan`.
/// Plans compare equal when their documents are equal.
#[pyclass(frozen, module = "ffu", name = "Plan")]
pub(crate) struct PyPlan {
    held: Held,
    /// The document it was read from (a path, or `<dict>`), for errors about it.
    file: Option<String>,
}

/// `sqlite:PATH` with PATH absolute: the playbook may run from anywhere.
fn absolute_journal(py: Python<'_>, db: String) -> PyResult<String> {
    let path = db
        .strip_prefix("sqlite:")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            crate::errors::argument_error(
                py,
                "journal",
                format!("unsupported journal {db:?}: give sqlite:PATH"),
            )
        })?;
    let absolute = std::path::absolute(path)
        .map_err(|err| crate::errors::argument_error(py, "journal", format!("{path}: {err}")))?;
    Ok(format!("sqlite:{}", absolute.display()))
}

/// How a plan is held.
enum Held {
    /// With every step, read from a document (no catalog made it).
    Built { plan: Arc<Plan> },
    /// As `Catalog.plan` and `Catalog.plan_inventory` made it: `to_json` writes the
    /// migration steps straight from the catalog, and the steps are built the first time
    /// Python asks for them; `to_text` uses the catalog to say what stays up.
    Compact {
        compact: Arc<CompactPlan>,
        built: OnceLock<Arc<Plan>>,
    },
}

impl Drop for PyPlan {
    fn drop(&mut self) {
        match &self.held {
            Held::Built { plan, .. } => crate::drop_large_in_background(plan, plan.steps.len()),
            Held::Compact { compact, built } => {
                crate::drop_large_in_background(compact, compact.len());
                if let Some(plan) = built.get() {
                    crate::drop_large_in_background(plan, plan.steps.len());
                }
            }
        }
    }
}

impl PyPlan {
    pub(crate) fn compact(compact: CompactPlan) -> PyPlan {
        PyPlan {
            held: Held::Compact {
                compact: Arc::new(compact),
                built: OnceLock::new(),
            },
            file: None,
        }
    }

    /// The catalog that made the plan, if one did.
    fn made_by(&self) -> Option<&Arc<Catalog>> {
        match &self.held {
            Held::Built { .. } => None,
            Held::Compact { compact, .. } => Some(compact.catalog()),
        }
    }

    /// Every field but the steps (which may be empty here: see `len`).
    fn head(&self) -> &Plan {
        match &self.held {
            Held::Built { plan, .. } => plan,
            Held::Compact { compact, .. } => compact.without_steps(),
        }
    }

    fn len(&self) -> usize {
        match &self.held {
            Held::Built { plan, .. } => plan.steps.len(),
            Held::Compact { compact, .. } => compact.len(),
        }
    }

    /// The plan with every step, built (without the GIL) the first time it is needed.
    pub(crate) fn plan(&self, py: Python<'_>) -> PyResult<&Arc<Plan>> {
        let (compact, built) = match &self.held {
            Held::Built { plan, .. } => return Ok(plan),
            Held::Compact { compact, built } => (compact, built),
        };
        if let Some(plan) = built.get() {
            return Ok(plan);
        }
        // The GIL is released before the cell is waited on: a thread building the steps
        // never needs the GIL, so one waiting for it cannot hold up the other.
        py.detach(|| guarded(|| Ok(built.get_or_init(|| Arc::new(compact.to_plan())))))
            .map_err(|failure| failure.into_py_err(py, None))
    }

    /// A plan made in Rust with every step (one a journal keeps, a recovery plan, a plan
    /// split into windows); `file` names it in errors.
    pub(crate) fn built(plan: Arc<Plan>, file: Option<String>) -> PyPlan {
        PyPlan {
            held: Held::Built { plan },
            file,
        }
    }

    fn parse(py: Python<'_>, text: &str, file: &str) -> PyResult<PyPlan> {
        logging::sync_level(py);
        py.detach(|| guarded(|| Ok(Plan::from_json(text, file)?)))
            .map(|plan| PyPlan {
                held: Held::Built {
                    plan: Arc::new(plan),
                },
                file: Some(file.to_owned()),
            })
            .map_err(|failure| failure.into_py_err(py, None))
    }
}

/// A plan argument (the parameter `plan`): an `ffu.Plan`, or a plan dict (as
/// `Plan.to_dict` gives); `what` names the function in the error for anything else.
pub(crate) fn plan_arg(py: Python<'_>, plan: &Bound<'_, PyAny>, what: &str) -> PyResult<Arc<Plan>> {
    named_plan_arg(py, plan, what).map(|(plan, _)| plan)
}

/// [`plan_arg`] with the name errors about the plan give it: the file it was read from,
/// `<dict>` for a dict, `<plan>` for a plan made in memory.
pub(crate) fn named_plan_arg(
    py: Python<'_>,
    plan: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<(Arc<Plan>, String)> {
    if let Ok(plan) = plan.cast::<PyPlan>() {
        let plan = plan.get();
        let name = plan.file.clone().unwrap_or_else(|| "<plan>".to_owned());
        return plan.plan(py).map(|built| (Arc::clone(built), name));
    }
    if plan.is_instance_of::<pyo3::types::PyDict>() || plan.cast::<pyo3::types::PyMapping>().is_ok()
    {
        let text = convert::dumps(
            plan,
            convert::Document {
                kind: convert::Kind::Plan,
                file: "<dict>",
                argument: "plan",
            },
        )?;
        logging::sync_level(py);
        return py
            .detach(|| guarded(|| Ok(Plan::from_json(&text, "<dict>")?)))
            .map(|plan| (Arc::new(plan), "<dict>".to_owned()))
            .map_err(|failure| failure.into_py_err(py, None));
    }
    Err(argument_type_error(
        py,
        "plan",
        format!(
            "{what} takes a Plan or a plan dict, not {}",
            convert::kind(plan)
        ),
    ))
}

/// Resolves a Python index (negative counts from the end) against `len` items.
fn resolve_index(index: isize, len: usize) -> PyResult<usize> {
    let len = isize::try_from(len).unwrap_or(isize::MAX);
    let resolved = if index < 0 { index + len } else { index };
    if (0..len).contains(&resolved) {
        // `resolved` is in 0..len, so it is not negative.
        Ok(resolved.unsigned_abs())
    } else {
        Err(PyIndexError::new_err("plan index out of range"))
    }
}

#[pymethods]
impl PyPlan {
    /// Parses an `ffu-plan/1` JSON document; `file` names it in error messages.
    #[staticmethod]
    #[pyo3(signature = (text, *, file = "<string>".to_owned()), text_signature = "(text, *, file='<string>')")]
    fn from_json(py: Python<'_>, text: String, file: String) -> PyResult<PyPlan> {
        PyPlan::parse(py, &text, &file)
    }

    /// Reads a plan from plain data, such as `plan.to_dict()` or `json.load(f)` gives.
    #[staticmethod]
    #[pyo3(signature = (data, *, file = "<dict>".to_owned()), text_signature = "(data, *, file='<dict>')")]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>, file: String) -> PyResult<PyPlan> {
        let text = convert::dumps(
            data,
            convert::Document {
                kind: convert::Kind::Plan,
                file: &file,
                argument: "data",
            },
        )?;
        PyPlan::parse(py, &text, &file)
    }

    /// Always `ffu-plan/1`.
    #[getter]
    fn format(&self) -> &str {
        &self.head().format
    }

    /// The name of the catalog the plan was made from.
    #[getter]
    fn catalog(&self) -> &str {
        &self.head().catalog
    }

    /// The release upgraded from (`from` in the document).
    #[getter]
    fn from_(&self) -> &str {
        &self.head().from
    }

    /// The release upgraded to.
    #[getter]
    fn to(&self) -> &str {
        &self.head().to
    }

    /// The policy the plan was made under, as a dict (`mode`, `skip_level`,
    /// `keep_dataplane`, `services`; `max_unavailable`, `repo_command`, `backup_command`
    /// and `backup_dir` where given).
    #[getter]
    fn policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.head().policy)
    }

    /// The releases passed through, `from_` first and `to` last.
    #[getter]
    fn path(&self) -> Vec<String> {
        self.head().path.clone()
    }

    /// The hops, in order.
    #[getter]
    fn hops(&self) -> Vec<PyHop> {
        self.head().hops.iter().cloned().map(PyHop::from).collect()
    }

    /// Migrations the databases already held when the plan was made (`Catalog.plan(...,
    /// state=...)`): left out of the steps, counted as done by `Catalog.verify`.
    #[getter]
    fn applied(&self) -> Vec<String> {
        self.head().applied.clone()
    }

    /// Revisions (alembic ids) the databases already hold of migrations the plan still
    /// runs: a database stopped partway through a release's step (DESIGN §12).
    #[getter]
    fn applied_revisions(&self) -> Vec<String> {
        self.head().applied_revisions.clone()
    }

    /// Whether it is a recovery plan (`Journal.recovery_plan`, `ffu recover`).
    #[getter]
    fn recovery(&self) -> bool {
        self.head().recovery
    }

    /// The steps, in execution order.
    #[getter]
    fn steps(&self, py: Python<'_>) -> PyResult<Vec<PyStep>> {
        let plan = self.plan(py)?;
        Ok(plan.steps.iter().cloned().map(PyStep::from).collect())
    }

    fn __len__(&self) -> usize {
        self.len()
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let steps = &self.plan(py)?.steps;
        if let Ok(slice) = index.cast::<PySlice>() {
            let indices = slice.indices(isize::try_from(steps.len()).unwrap_or(isize::MAX))?;
            let picked = (0..indices.slicelength).map(|n| {
                // `start + n * step` stays within 0..len for n < slicelength, by `indices`.
                let position =
                    indices.start + indices.step * isize::try_from(n).unwrap_or(isize::MAX);
                PyStep::from(steps[position.unsigned_abs()].clone())
            });
            return Ok(PyList::new(py, picked)?.into_any());
        }
        let Ok(index) = index.extract::<isize>() else {
            return Err(argument_type_error(
                py,
                "index",
                format!(
                    "plan indices must be integers or slices, not {}",
                    convert::kind(index)
                ),
            ));
        };
        let position = resolve_index(index, steps.len())?;
        Ok(Bound::new(py, PyStep::from(steps[position].clone()))?.into_any())
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<PlanIterator> {
        Ok(PlanIterator {
            plan: Arc::clone(self.plan(py)?),
            next: AtomicUsize::new(0),
        })
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Ok(other) = other.cast::<PyPlan>() else {
            return Ok(py.NotImplemented());
        };
        // Equal plans have equal documents: comparing the built plans (each built once)
        // compares every field.
        let equal = || -> PyResult<bool> {
            let (mine, theirs) = (self.plan(py)?, other.get().plan(py)?);
            Ok(Arc::ptr_eq(mine, theirs) || mine == theirs)
        };
        let answer = match op {
            CompareOp::Eq => equal()?,
            CompareOp::Ne => !equal()?,
            _ => return Ok(py.NotImplemented()),
        };
        Ok(PyBool::new(py, answer).to_owned().into_any().unbind())
    }

    /// The plan as compact `ffu-plan/1` JSON; the same plan always gives the same
    /// text (the CLI's `--format json` adds a final newline).
    fn to_json(&self, py: Python<'_>) -> String {
        match &self.held {
            Held::Built { plan, .. } => py.detach(|| plan.to_json()),
            Held::Compact { compact, .. } => py.detach(|| compact.to_json()),
        }
    }

    /// The plan as plain data (the `ffu-plan/1` document as dicts and lists).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let plan = self.plan(py)?;
        // Serializing the plan's plain data cannot fail in practice.
        let text = py
            .detach(|| serde_json::to_string(&**plan))
            .map_err(|err| internal_error(py, err))?;
        convert::loads(py, &text)
    }

    /// The plan as text for a person: the path, what stays up (known from `catalog`, or from
    /// the catalog that made the plan), then each hop's numbered steps.
    #[pyo3(signature = (catalog = None))]
    fn to_text(&self, py: Python<'_>, catalog: Option<&Bound<'_, PyCatalog>>) -> PyResult<String> {
        let catalog = catalog
            .map(|c| Arc::clone(&c.get().inner))
            .or_else(|| self.made_by().cloned());
        let plan = self.plan(py)?;
        py.detach(|| guarded(|| Ok(render::text(plan, catalog.as_deref()))))
            .map_err(|failure| failure.into_py_err(py, None))
    }

    /// The plan over time as an SVG document (`ffu plan --format svg`): a row per service
    /// and per service's agent hosts, a bar per step coloured by kind, the control plane's
    /// downtime shaded, the windows drawn, a time axis and a legend. `catalog` (else the one
    /// that made the plan, else the embedded one) tells which components are control
    /// components. A window naming a step the plan lacks raises `ffu.PlanError`.
    #[pyo3(signature = (catalog = None))]
    fn to_svg(&self, py: Python<'_>, catalog: Option<&Bound<'_, PyCatalog>>) -> PyResult<String> {
        let catalog = catalog
            .map(|c| Arc::clone(&c.get().inner))
            .or_else(|| self.made_by().cloned())
            .unwrap_or_else(|| Arc::new(ffu_core::Catalog::openstack()));
        let plan = self.plan(py)?;
        py.detach(|| guarded(|| Ok(ffu_core::timeline::svg(plan, &catalog)?)))
            .map_err(|failure| failure.into_py_err(py, None))
    }

    /// How long the plan takes (`ffu estimate --format json` as a dict): `total_s`,
    /// `control_plane_downtime_s`, `downtime_s` per service, `hops` with their `phases`, and
    /// `figures` (how many steps use the catalog's `duration_s` and which per-kind defaults).
    /// `catalog` (else the one that made the plan, else the embedded one) tells figures from
    /// defaults and which components are control components.
    #[pyo3(signature = (catalog = None))]
    fn estimate<'py>(
        &self,
        py: Python<'py>,
        catalog: Option<&Bound<'_, PyCatalog>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let catalog = catalog
            .map(|c| Arc::clone(&c.get().inner))
            .or_else(|| self.made_by().cloned())
            .unwrap_or_else(|| Arc::new(ffu_core::Catalog::openstack()));
        let plan = self.plan(py)?;
        let text = py.detach(|| ffu_core::estimate::estimate(plan, &catalog).to_json());
        convert::loads(py, &text)
    }

    /// The plan split into maintenance windows (`ffu plan --window`): a new plan whose
    /// document has `window_s`, `max_hosts_per_window` and `windows`, each window ending
    /// where the cloud serves. `window` is seconds or a duration such as `"4h"`, `"1h30m"`.
    /// A stretch that cannot be split and does not fit raises `ffu.NoPathError`, saying how
    /// long it needs and which hops and services cost most.
    #[pyo3(signature = (window, max_hosts_per_window = None, catalog = None))]
    fn with_windows(
        &self,
        py: Python<'_>,
        window: &Bound<'_, PyAny>,
        max_hosts_per_window: Option<usize>,
        catalog: Option<&Bound<'_, PyCatalog>>,
    ) -> PyResult<PyPlan> {
        let seconds = if let Ok(seconds) = window.extract::<u64>() {
            Some(seconds)
        } else if let Ok(text) = window.extract::<String>() {
            ffu_core::windows::parse_duration(&text)
        } else {
            return Err(argument_type_error(
                py,
                "window",
                "window must be seconds (int) or a duration (str, such as \"4h\")",
            ));
        };
        let seconds = seconds.filter(|&s| s > 0).ok_or_else(|| {
            crate::errors::argument_error(
                py,
                "window",
                format!("window {window} is not a duration of more than 0 (such as 4h, 90m, 1h30m or 3600)"),
            )
        })?;
        if max_hosts_per_window == Some(0) {
            return Err(crate::errors::argument_error(
                py,
                "max_hosts_per_window",
                "max_hosts_per_window must be more than 0",
            ));
        }
        let catalog = catalog
            .map(|c| Arc::clone(&c.get().inner))
            .or_else(|| self.made_by().cloned())
            .unwrap_or_else(|| Arc::new(Catalog::openstack()));
        let plan = Arc::clone(self.plan(py)?);
        let limits = ffu_core::windows::WindowLimits {
            limit_s: seconds,
            max_hosts: max_hosts_per_window,
        };
        let split = py.detach(|| ffu_core::windows::split(&plan, &catalog, limits));
        match split {
            Ok(windows) => {
                let mut windowed = (*plan).clone();
                windowed.window_s = Some(seconds);
                windowed.max_hosts_per_window = max_hosts_per_window;
                windowed.windows = windows;
                Ok(PyPlan::built(Arc::new(windowed), self.file.clone()))
            }
            Err(no_fit) => {
                let class = crate::errors::exceptions(py)?.no_path.bind(py);
                let exception = class.call1((format!("no plan fits the window: {no_fit}"),))?;
                Err(PyErr::from_value(exception))
            }
        }
    }

    /// The maintenance windows (`with_windows`), as dicts with `index`, `first_step`,
    /// `last_step`, `estimate_s`, `state` and `hosts`; empty without windows.
    #[getter]
    fn windows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.head().windows)
    }

    /// The plan as a Graphviz DOT digraph, one cluster per hop.
    fn to_dot(&self, py: Python<'_>) -> PyResult<String> {
        let plan = self.plan(py)?;
        py.detach(|| guarded(|| Ok(render::dot(plan))))
            .map_err(|failure| failure.into_py_err(py, None))
    }

    /// The plan as an Ansible playbook directory (`ffu export ansible`): file name to text
    /// (`inventory.yml`, `site.yml`, `plan.json`). `inventory` names the hosts; `journal`
    /// (`sqlite:PATH`) makes every step record itself there, so that a run started again
    /// skips what is done; `commands` maps a step kind to its command template; `ffu` is
    /// the program the playbook calls for the journal.
    #[pyo3(signature = (inventory = None, journal = None, commands = None, ffu = None))]
    fn to_ansible(
        &self,
        py: Python<'_>,
        inventory: Option<PyRef<'_, PyInventory>>,
        journal: Option<String>,
        commands: Option<BTreeMap<String, String>>,
        ffu: Option<String>,
    ) -> PyResult<BTreeMap<String, String>> {
        let journal = match journal {
            Some(db) => Some(absolute_journal(py, db)?),
            None => None,
        };
        let plan = Arc::clone(self.plan(py)?);
        let fleet = inventory.map(|i| (Arc::clone(&i.catalog), Arc::clone(&i.inner)));
        let result = py.detach(|| {
            guarded(|| {
                let commands = commands
                    .unwrap_or_default()
                    .iter()
                    .map(|(kind, template)| CommandTemplate::parse(&format!("{kind}={template}")))
                    .collect::<ffu_core::Result<Vec<_>>>()?;
                let options = AnsibleOptions {
                    journal,
                    commands,
                    ffu: ffu.unwrap_or_else(|| "ffu".to_owned()),
                };
                let fleet = fleet.as_ref().map(|(c, i)| (c.as_ref(), i.as_ref()));
                Ok(ansible::export(&plan, fleet, &options)?)
            })
        });
        let exported = result.map_err(|failure| failure.into_py_err(py, None))?;
        Ok(exported.files.into_iter().collect())
    }

    /// Pickles as its JSON document.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let from_json = py.get_type::<PyPlan>().getattr("from_json")?;
        (from_json, (self.to_json(py),)).into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        let head = self.head();
        let hops = head.hops.len();
        format!(
            "<ffu.Plan {} -> {}: {hops} hop{}, {} steps>",
            head.from,
            head.to,
            if hops == 1 { "" } else { "s" },
            self.len()
        )
    }
}

/// Iterates over a plan's steps.
#[pyclass(frozen, module = "ffu", name = "PlanIterator")]
pub(crate) struct PlanIterator {
    plan: Arc<Plan>,
    next: AtomicUsize,
}

#[pymethods]
impl PlanIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self) -> Option<PyStep> {
        let position = self.next.fetch_add(1, Ordering::Relaxed);
        self.plan.steps.get(position).cloned().map(PyStep::from)
    }
}

/// One hop of a plan's path: an upgrade from one release to the next allowed one.
#[pyclass(frozen, eq, module = "ffu", name = "Hop")]
#[derive(PartialEq)]
pub(crate) struct PyHop(Hop);

impl From<Hop> for PyHop {
    fn from(hop: Hop) -> Self {
        PyHop(hop)
    }
}

#[pymethods]
impl PyHop {
    /// The release upgraded from (`from` in the document).
    #[getter]
    fn from_(&self) -> &str {
        &self.0.from
    }

    /// The release upgraded to.
    #[getter]
    fn to(&self) -> &str {
        &self.0.to
    }

    /// Whether the hop skips releases (a SLURP or declared edge).
    #[getter]
    fn skip(&self) -> bool {
        self.0.skip
    }

    /// The releases whose migrations the hop applies (more than one on a skip hop).
    #[getter]
    fn releases(&self) -> Vec<String> {
        self.0.releases.clone()
    }

    /// The hop as plain data, as in the plan document.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.0)
    }

    fn __repr__(&self) -> String {
        let skip = if self.0.skip {
            format!(" (skip: applies {})", self.0.releases.join(", "))
        } else {
            String::new()
        };
        format!("<ffu.Hop {} -> {}{skip}>", self.0.from, self.0.to)
    }
}

/// One step of a plan, with the fields of the plan document as attributes.
#[pyclass(frozen, eq, module = "ffu", name = "Step")]
#[derive(PartialEq)]
pub(crate) struct PyStep(Step);

impl From<Step> for PyStep {
    fn from(step: Step) -> Self {
        PyStep(step)
    }
}

impl PyStep {
    /// The step's id.
    pub(crate) fn step_id(&self) -> &str {
        &self.0.id
    }
}

#[pymethods]
impl PyStep {
    /// Unique id, such as `h0.nova.ocata.api-db-sync` or `h2.start.nova-api`.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// Index of the hop the step belongs to.
    #[getter]
    fn hop(&self) -> usize {
        self.0.hop
    }

    /// What the step does: `precheck`, `stop`, `backup`, `repos`, `install`, `config`,
    /// `expand`, `migrate`, `contract`, `data`, `task`, `start`, `postcheck` or `finalize`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    /// The service it concerns.
    #[getter]
    fn service(&self) -> Option<&str> {
        self.0.service.as_deref()
    }

    /// The component it stops or starts.
    #[getter]
    fn component(&self) -> Option<&str> {
        self.0.component.as_deref()
    }

    /// The release it concerns.
    #[getter]
    fn release(&self) -> Option<&str> {
        self.0.release.as_deref()
    }

    /// The catalog migration it runs.
    #[getter]
    fn migration(&self) -> Option<&str> {
        self.0.migration.as_deref()
    }

    /// The command to run, when there is one.
    #[getter]
    fn command(&self) -> Option<&str> {
        self.0.command.as_deref()
    }

    /// Ids of the steps that must have run before it.
    #[getter]
    fn requires(&self) -> Vec<String> {
        self.0.requires.clone()
    }

    /// Why the step is there, for a person.
    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }

    /// Whether the upgrade can be rolled back to this step.
    #[getter]
    fn rollback_point(&self) -> bool {
        self.0.rollback_point
    }

    /// The host it runs on, for plans made from an inventory.
    #[getter]
    fn host(&self) -> Option<&str> {
        self.0.host.as_deref()
    }

    /// For rolling plans: what each service advertises after this step, where it changes.
    #[getter]
    fn advertised(&self) -> Option<BTreeMap<String, Vec<String>>> {
        self.0.advertised.clone()
    }

    /// The phase of its hop the step belongs to: `precheck`, `prepare`, `stop`, `backup`,
    /// `repos`, `install`, `config`, `migrations`, `start`, `converge` or `finalize`
    /// (every step the planner makes has one; None in a document without it).
    #[getter]
    fn phase(&self) -> Option<&'static str> {
        self.0.phase.map(Phase::as_str)
    }

    /// Whose code runs it, where code runs: `current` (the release the hop starts from,
    /// already installed) or `target` (the release it goes to).
    #[getter]
    fn code(&self) -> Option<&'static str> {
        self.0.code.map(CodeSide::as_str)
    }

    /// The release whose code runs it.
    #[getter]
    fn code_release(&self) -> Option<&str> {
        self.0.code_release.as_deref()
    }

    /// On migration steps the catalog knows revision by revision: the alembic revisions
    /// its command applies, in order (DESIGN §12); empty otherwise.
    #[getter]
    fn revisions(&self) -> Vec<String> {
        self.0.revisions.clone()
    }

    /// The catalog task it runs (steps of kind `task`, and `config` steps of a task).
    #[getter]
    fn task(&self) -> Option<&str> {
        self.0.task.as_deref()
    }

    /// On `stop` steps: whether the component is also disabled, so that a reboot during
    /// the upgrade does not start old code on a newer schema.
    #[getter]
    fn disable(&self) -> bool {
        self.0.disable
    }

    /// On the final `start` steps: whether the component is enabled again.
    #[getter]
    fn enable(&self) -> bool {
        self.0.enable
    }

    /// The service manager's name (a systemd unit) of the component it stops or starts,
    /// when the catalog gives one.
    #[getter]
    fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }

    /// On `install` steps: the service's version at the release installed.
    #[getter]
    fn version(&self) -> Option<&str> {
        self.0.version.as_deref()
    }

    /// On `backup` steps: the databases backed up.
    #[getter]
    fn databases(&self) -> Option<Vec<String>> {
        self.0.databases.clone()
    }

    /// On steps that run side by side on many hosts (an agent batch, a step copied to every
    /// host): their batch, from 1.
    #[getter]
    fn batch(&self) -> Option<usize> {
        self.0.batch
    }

    /// How long the step takes, in whole seconds (the catalog's `duration_s`, else the
    /// default of its kind); `None` in a plan written without it.
    #[getter]
    fn estimate_s(&self) -> Option<u64> {
        self.0.estimate_s
    }

    /// On `restore` steps of a recovery plan: the id of the backup step it restores.
    #[getter]
    fn restores(&self) -> Option<&str> {
        self.0.restores.as_deref()
    }

    /// On `config` steps: the edit, as a dict (`ffu.ConfigEdit`) with `file`, `section`,
    /// `option`, `action` (`set`, `unset`, `rename`, `remove` or `default`), `value` and
    /// `to` (None where the edit has none; the document leaves them out) and `temporary`.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.0
            .config
            .as_ref()
            .map(|edit| facts::config_edit(py, edit))
            .transpose()
    }

    /// The `x-...` fields of the catalog items that produced it (a tool's own facts, by
    /// name with the `x-`), or None when they have none.
    #[getter]
    fn x<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0
            .x
            .as_ref()
            .map(|x| convert::to_python(py, x))
            .transpose()
    }

    /// The step as plain data, as in the plan document.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!("<ffu.Step {} ({})>", self.0.id, self.0.kind.as_str())
    }
}

/// One broken safety rule, found by `Catalog.verify`.
#[pyclass(frozen, eq, module = "ffu", name = "Violation")]
#[derive(PartialEq)]
pub(crate) struct PyViolation(Violation);

impl From<Violation> for PyViolation {
    fn from(violation: Violation) -> Self {
        PyViolation(violation)
    }
}

#[pymethods]
impl PyViolation {
    /// The rule, such as `V3`.
    #[getter]
    fn rule(&self) -> &'static str {
        self.0.rule
    }

    /// What is wrong, in one sentence.
    #[getter]
    fn message(&self) -> &str {
        &self.0.message
    }

    /// The ids of the steps involved (empty for plan-wide rules such as the path).
    #[getter]
    fn steps(&self) -> Vec<String> {
        self.0.steps.clone()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("<ffu.Violation {}>", self.0)
    }
}
