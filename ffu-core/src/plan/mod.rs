//! The plan: an ordered list of steps, grouped in hops, as the `ffu-plan/1` JSON document.

pub(crate) mod json;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The format tag every plan carries.
pub const PLAN_FORMAT: &str = "ffu-plan/1";

/// How the upgrade runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The control plane is stopped for the whole upgrade; workloads keep running.
    #[default]
    Offline,
    /// Servers are upgraded one by one and run mixed versions for a while (N to N+1).
    Rolling,
}

impl Mode {
    /// The mode's name as written in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Offline => "offline",
            Mode::Rolling => "rolling",
        }
    }
}

fn default_true() -> bool {
    true
}

/// What the operator allows: the policy a plan is made under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Offline or rolling.
    #[serde(default)]
    pub mode: Mode,
    /// Whether skip edges (SLURP, declared) may be used.
    #[serde(default)]
    pub skip_level: bool,
    /// Whether data plane components must stay up (default true).
    #[serde(default = "default_true")]
    pub keep_dataplane: bool,
    /// The services to upgrade; `None` for all.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// Rolling mode: how many agent hosts may be down at once, as a count (`"5"`) or a
    /// percentage of the service's agent hosts (`"10%"`); `None` for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: Mode::Offline,
            skip_level: false,
            keep_dataplane: true,
            services: None,
            max_unavailable: None,
        }
    }
}

/// One hop of the path: an upgrade from one release to the next allowed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hop {
    /// Release upgraded from.
    pub from: String,
    /// Release upgraded to.
    pub to: String,
    /// Whether the hop skips releases (a SLURP or declared edge).
    #[serde(default)]
    pub skip: bool,
    /// The releases whose migrations the hop applies (more than one on a skip hop).
    pub releases: Vec<String>,
}

/// The kind of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum StepKind {
    Precheck,
    Stop,
    Backup,
    Install,
    Config,
    Expand,
    Migrate,
    Contract,
    Data,
    Start,
    Postcheck,
    Finalize,
}

impl StepKind {
    /// The kind's name as written in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Precheck => "precheck",
            StepKind::Stop => "stop",
            StepKind::Backup => "backup",
            StepKind::Install => "install",
            StepKind::Config => "config",
            StepKind::Expand => "expand",
            StepKind::Migrate => "migrate",
            StepKind::Contract => "contract",
            StepKind::Data => "data",
            StepKind::Start => "start",
            StepKind::Postcheck => "postcheck",
            StepKind::Finalize => "finalize",
        }
    }

    /// Whether the step runs a migration.
    pub fn is_migration(self) -> bool {
        matches!(
            self,
            StepKind::Expand | StepKind::Migrate | StepKind::Contract | StepKind::Data
        )
    }

    /// Whether the step runs a schema migration (expand, migrate, contract).
    pub fn is_schema(self) -> bool {
        matches!(
            self,
            StepKind::Expand | StepKind::Migrate | StepKind::Contract
        )
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique id, such as `h0.nova.ocata.api-db-sync` or `h2.start.nova-api`.
    pub id: String,
    /// Index of the hop the step belongs to.
    pub hop: usize,
    /// What the step does.
    pub kind: StepKind,
    /// The service it concerns.
    #[serde(default)]
    pub service: Option<String>,
    /// The component it stops or starts.
    #[serde(default)]
    pub component: Option<String>,
    /// The release it concerns (the code it runs or installs).
    #[serde(default)]
    pub release: Option<String>,
    /// The catalog migration it runs.
    #[serde(default)]
    pub migration: Option<String>,
    /// The command to run, when there is one.
    #[serde(default)]
    pub command: Option<String>,
    /// Steps that must have run before it.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Why the step is there and where it is, for a person.
    #[serde(default)]
    pub reason: String,
    /// Whether this step is a point the upgrade can be rolled back to.
    #[serde(default)]
    pub rollback_point: bool,
    /// The host it runs on, for plans made from an inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// For rolling plans: what each service advertises after this step, where it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertised: Option<BTreeMap<String, Vec<String>>>,
}

impl Step {
    /// A step with only its id, hop, kind and reason set; the other fields are empty, for
    /// the caller to fill in (tools that write plans themselves use this too).
    pub fn new(id: String, hop: usize, kind: StepKind, reason: String) -> Step {
        Step {
            id,
            hop,
            kind,
            service: None,
            component: None,
            release: None,
            migration: None,
            command: None,
            requires: Vec::new(),
            reason,
            rollback_point: false,
            host: None,
            advertised: None,
        }
    }
}

/// A plan in the `ffu-plan/1` format.
///
/// A `Plan` comes from the planner ([`crate::Catalog::plan`]) or from parsing a document
/// ([`Plan::from_json`]); only the first is known to be safe, and [`crate::verify()`] checks
/// either against the rules V1 to V11 (DESIGN.md, "The safety rules").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Plan {
    /// Always [`PLAN_FORMAT`].
    pub format: String,
    /// The name of the catalog it was made from.
    pub catalog: String,
    /// Release upgraded from.
    pub from: String,
    /// Release upgraded to.
    pub to: String,
    /// The policy it was made under.
    #[serde(default)]
    pub policy: Policy,
    /// The releases passed through, `from` first and `to` last.
    pub path: Vec<String>,
    /// The hops, in order.
    pub hops: Vec<Hop>,
    /// Migrations of the upgraded releases and services that the databases already hold
    /// (plans made from a database's state, [`crate::PlanRequest::with_state`]): the plan
    /// leaves them out, and [`crate::verify()`] counts them as done. Written only when not
    /// empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<String>,
    /// The steps, in execution order.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Parses a plan document; `file` names it in error messages.
    ///
    /// # Errors
    /// [`Error::BadPlan`] when the text is not an `ffu-plan/1` document.
    pub fn from_json(text: &str, file: &str) -> Result<Plan> {
        let plan: Plan = serde_json::from_str(text).map_err(|err| Error::BadPlan {
            file: file.to_owned(),
            message: err.to_string(),
            source: Some(err.into()),
        })?;
        if plan.format != PLAN_FORMAT {
            return Err(Error::BadPlan {
                file: file.to_owned(),
                message: format!("format is {:?}, expected {PLAN_FORMAT:?}", plan.format),
                source: None,
            });
        }
        Ok(plan)
    }

    /// Builds a plan from its parts; for tools that write plans themselves and then check
    /// them with [`crate::verify()`].
    pub fn new(
        catalog: &str,
        from: &str,
        to: &str,
        policy: Policy,
        path: Vec<String>,
        hops: Vec<Hop>,
        steps: Vec<Step>,
    ) -> Plan {
        Plan {
            format: PLAN_FORMAT.to_owned(),
            catalog: catalog.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            policy,
            path,
            hops,
            applied: Vec::new(),
            steps,
        }
    }

    /// The plan as compact JSON; the same plan always gives the same bytes.
    pub fn to_json(&self) -> String {
        json::plan_to_string(self, self.steps.as_slice())
    }

    /// The plan as indented JSON, for people reading it.
    pub fn to_json_pretty(&self) -> String {
        // Serializing plain data to a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the plan as compact JSON (the bytes of [`Plan::to_json`]).
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_json<W: std::io::Write>(&self, mut writer: W) -> std::io::Result<()> {
        json::write_plan(self, self.steps.as_slice(), &mut writer)
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the plan has no steps (from and to are the same release).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}
