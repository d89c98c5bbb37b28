//! The plan: an ordered list of steps, grouped in hops, as the `ffu-plan/1` JSON document.

pub(crate) mod chain;
pub(crate) mod json;
mod phase;

pub use phase::{CodeSide, ConfigEdit, ConfigEditAction, Phase};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::extras::Extras;

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
    /// The command that switches a host's package sources to a release (`{release}` is
    /// replaced), such as `tripleo-repos -b {release} current`: each hop then gets `repos`
    /// steps before its installs. `None`: installs stay abstract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_command: Option<String>,
    /// The command that backs up a service's databases, with the placeholders
    /// `{databases}`, `{dir}`, `{service}` and `{release}`; `None` for
    /// [`DEFAULT_BACKUP_COMMAND`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_command: Option<String>,
    /// Where backups go (`{dir}` of the backup command); `None` for the working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_dir: Option<String>,
}

/// The backup command of a policy that gives none: one consistent `mysqldump` of the
/// service's databases (`--single-transaction`: `InnoDB` tables are dumped as of one moment).
pub const DEFAULT_BACKUP_COMMAND: &str =
    "mysqldump --single-transaction --databases {databases} > {dir}/{service}-{release}.sql";

impl Policy {
    /// The backup command for `service`'s `databases` at `release`.
    pub fn backup_command(&self, databases: &[&str], service: &str, release: &str) -> String {
        BackupCommands::of(self).command(databases, service, release)
    }

    /// The command that switches package sources to `release`, if the policy has one.
    pub fn repo_command_for(&self, release: &str) -> Option<String> {
        let template = self.repo_command.as_deref()?;
        Some(crate::text::fill_template(template, |name| {
            (name == "release").then_some(release)
        }))
    }
}

/// A policy's backup command with its directory filled in: made once per plan (or hop),
/// then filled per service and release.
pub(crate) struct BackupCommands {
    template: String,
}

impl BackupCommands {
    /// The backup commands of `policy`.
    pub(crate) fn of(policy: &Policy) -> BackupCommands {
        let template = policy
            .backup_command
            .as_deref()
            .unwrap_or(DEFAULT_BACKUP_COMMAND);
        // Without a directory, `{dir}/x` is just `x` (the working directory) and a bare
        // `{dir}` is `.`; a directory's own trailing slash is not doubled by `{dir}/x`.
        let template = match policy.backup_dir.as_deref() {
            None => template.replace("{dir}/", ""),
            Some(dir) if dir.ends_with('/') => template.replace("{dir}/", "{dir}"),
            Some(_) => template.to_owned(),
        };
        let dir = policy.backup_dir.as_deref().unwrap_or(".");
        let template = crate::text::fill_template(&template, |name| (name == "dir").then_some(dir));
        BackupCommands { template }
    }

    /// The command that backs up `service`'s `databases` at `release`.
    pub(crate) fn command(&self, databases: &[&str], service: &str, release: &str) -> String {
        let databases = databases.join(" ");
        crate::text::fill_template(&self.template, |name| match name {
            "databases" => Some(databases.as_str()),
            "service" => Some(service),
            "release" => Some(release),
            _ => None,
        })
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: Mode::Offline,
            skip_level: false,
            keep_dataplane: true,
            services: None,
            max_unavailable: None,
            repo_command: None,
            backup_command: None,
            backup_dir: None,
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
    /// A catalog task (DESIGN §8): an action that is not a migration.
    Task,
    /// Package sources switched to a release (`policy.repo_command`).
    Repos,
    /// Recovery plans only: databases restored from a backup (`restores` names it).
    Restore,
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
            StepKind::Task => "task",
            StepKind::Repos => "repos",
            StepKind::Restore => "restore",
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
    /// The phase of its hop it belongs to (every step the planner makes has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Whose code runs it, where code runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeSide>,
    /// The release whose code runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_release: Option<String>,
    /// The catalog task it runs (steps of kind `task`, and `config` steps of a task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// On `stop` steps: the component is also disabled, so that a reboot during the
    /// upgrade does not start old code on a newer schema.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable: bool,
    /// On the final `start` steps: the component is enabled again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable: bool,
    /// The service manager's name of the component it stops or starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// On `install` steps: the service's version at the release installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// On `backup` steps: the databases backed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<Vec<String>>,
    /// On steps that run side by side on many hosts (an agent batch, a step copied to every
    /// host): their batch, from 1. A run of consecutive steps of one hop, service and batch
    /// runs its hosts at once, each host's steps in order (see `requires`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// On `config` steps: the edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigEdit>,
    /// On migration steps whose migration the catalog knows revision by revision: the
    /// alembic revisions its command applies, in order (DESIGN §12).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<String>,
    /// The `x-...` fields of the catalog items that produced it (a tool's own facts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<Extras>,
    /// How long the step takes, in whole seconds: the catalog's `duration_s` of its
    /// migration or task, else the default of its kind ([`crate::estimate::DEFAULTS`]).
    /// Every step the planner makes has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_s: Option<u64>,
    /// On `restore` steps of a recovery plan: the id of the backup step (of the
    /// interrupted plan) whose dump it restores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restores: Option<String>,
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
            phase: None,
            code: None,
            code_release: None,
            task: None,
            disable: false,
            enable: false,
            unit: None,
            version: None,
            databases: None,
            batch: None,
            config: None,
            revisions: Vec::new(),
            x: None,
            estimate_s: None,
            restores: None,
        }
    }

    /// Sets the step's phase, for chaining.
    #[must_use]
    pub fn in_phase(mut self, phase: Phase) -> Step {
        self.phase = Some(phase);
        self
    }
}

/// A plan in the `ffu-plan/1` format.
///
/// A `Plan` comes from the planner ([`crate::Catalog::plan`]) or from parsing a document
/// ([`Plan::from_json`]); only the first is known to be safe, and [`crate::verify()`] checks
/// either against the rules V1 to V15 (DESIGN.md, "The safety rules"), V17 for its
/// maintenance windows, and V16 alone for a recovery plan.
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
    /// Revisions (alembic ids) the databases already hold of migrations the plan still runs
    /// (a database stopped partway through a release's step, DESIGN §12): the steps of those
    /// migrations list only the others in their `revisions`. Written only when not empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_revisions: Vec<String>,
    /// Whether this is a recovery plan ([`crate::recovery::recovery_plan`]): the steps back
    /// to a serving cloud from where a run stopped, checked by V16 instead of V1 to V15.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovery: bool,
    /// In a recovery plan: where the interrupted run stood and what it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovers: Option<crate::recovery::Recovers>,
    /// The time limit of a maintenance window the plan was split for (`--window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_s: Option<u64>,
    /// The most hosts a window may touch (`--max-hosts-per-window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hosts_per_window: Option<usize>,
    /// The maintenance windows ([`crate::windows::split`]); each ends at a safe point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<crate::windows::Window>,
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
            applied_revisions: Vec::new(),
            recovery: false,
            recovers: None,
            window_s: None,
            max_hosts_per_window: None,
            windows: Vec::new(),
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
