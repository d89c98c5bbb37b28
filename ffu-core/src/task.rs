//! Catalog tasks: the actions of a real upgrade that are not schema or data migrations
//! (creating nova's cell0 database, purging cinder's stale service records, discovering
//! compute hosts once they are back, a temporary setting), each placed in a phase of the
//! hop that runs it (DESIGN §8).

use serde::{Deserialize, Serialize};

use crate::extras::Extras;
use crate::plan::{CodeSide, ConfigEdit, Mode, Phase};
use crate::release::ReleaseId;
use crate::service::ServiceId;

/// Index of a task in its catalog (catalog order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub(crate) u32);

impl TaskId {
    /// The position of the task in the catalog, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// When, within a hop, a task runs: the catalog's phases (each lands in the plan phase
/// of [`TaskPhase::plan_phase`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskPhase {
    /// Before hop 0 touches anything: health checks on the running cloud.
    PrecheckStart,
    /// At the start of the hop, before anything is stopped, with the current code.
    Prepare,
    /// Once the hop's stops are done.
    AfterStop,
    /// Before the hop's first migration.
    BeforeMigrations,
    /// After the hop's last migration.
    AfterMigrations,
    /// On the last hop, before the services start.
    BeforeStart,
    /// After every service runs the target release.
    Converge,
}

impl TaskPhase {
    /// The name as written in catalogs.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskPhase::PrecheckStart => "precheck_start",
            TaskPhase::Prepare => "prepare",
            TaskPhase::AfterStop => "after_stop",
            TaskPhase::BeforeMigrations => "before_migrations",
            TaskPhase::AfterMigrations => "after_migrations",
            TaskPhase::BeforeStart => "before_start",
            TaskPhase::Converge => "converge",
        }
    }

    /// The plan phase a task of this phase runs in.
    pub fn plan_phase(self) -> Phase {
        match self {
            TaskPhase::PrecheckStart => Phase::Precheck,
            TaskPhase::Prepare => Phase::Prepare,
            TaskPhase::AfterStop => Phase::Stop,
            TaskPhase::BeforeMigrations | TaskPhase::AfterMigrations => Phase::Migrations,
            TaskPhase::BeforeStart => Phase::Start,
            TaskPhase::Converge => Phase::Converge,
        }
    }

    /// Whether the phase happens once per plan (before hop 0, or on the last hop) rather
    /// than in every hop.
    pub fn once_per_plan(self) -> bool {
        matches!(
            self,
            TaskPhase::PrecheckStart | TaskPhase::BeforeStart | TaskPhase::Converge
        )
    }
}

/// Where a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskHosts {
    /// Once, on the service's bootstrap host.
    #[default]
    Bootstrap,
    /// On every host of the service.
    All,
}

impl TaskHosts {
    /// The name as written in catalogs.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskHosts::Bootstrap => "bootstrap",
            TaskHosts::All => "all",
        }
    }
}

/// In which upgrades a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskMode {
    /// Offline and rolling.
    #[default]
    Any,
    /// Offline upgrades only.
    Offline,
    /// Rolling upgrades only.
    Rolling,
}

impl TaskMode {
    /// Whether a task of this mode runs in an upgrade of `mode`.
    pub fn allows(self, mode: Mode) -> bool {
        match self {
            TaskMode::Any => true,
            TaskMode::Offline => mode == Mode::Offline,
            TaskMode::Rolling => mode == Mode::Rolling,
        }
    }

    /// The name as written in catalogs.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskMode::Any => "any",
            TaskMode::Offline => "offline",
            TaskMode::Rolling => "rolling",
        }
    }
}

/// Something a catalog task requires: a migration or another task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// A migration.
    Migration(crate::migration::MigrationId),
    /// A task.
    Task(TaskId),
}

/// One task of the catalog.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Task {
    /// Unique id among tasks and migrations, such as `nova.ocata.create-cell0-db`.
    pub id: String,
    /// The service it belongs to.
    pub service: ServiceId,
    /// The release whose hop runs it; `None`: every hop whose end lies within `since` and
    /// `until` (for a once-per-plan phase, when the target does).
    pub release: Option<ReleaseId>,
    /// For a task without a release: the first release at which it applies.
    pub since: Option<ReleaseId>,
    /// For a task without a release: the last release at which it applies.
    pub until: Option<ReleaseId>,
    /// When it runs within the hop.
    pub phase: TaskPhase,
    /// Whose code runs it.
    pub code: CodeSide,
    /// Where it runs.
    pub on: TaskHosts,
    /// The command, if it runs one (else it is an action for the operator, or a
    /// configuration edit).
    pub command: Option<String>,
    /// The configuration edit it makes, if it is one.
    pub config: Option<ConfigEdit>,
    /// Migrations and tasks that must run first.
    pub requires: Vec<Requirement>,
    /// In which upgrades it runs.
    pub mode: TaskMode,
    /// Why it is there, citing the upstream fact.
    pub reason: String,
    /// Estimated duration in seconds.
    pub duration_s: Option<f64>,
    /// A tool's own facts (`x-...` fields), carried into the task's steps.
    pub x: Extras,
}

impl Task {
    /// Whether the task runs in the hop from `start` to `end` whose releases are those
    /// after `start` up to `end`, in an upgrade of `mode`.
    pub fn runs_in(&self, start: ReleaseId, end: ReleaseId, mode: Mode) -> bool {
        if !self.mode.allows(mode) {
            return false;
        }
        match self.release {
            Some(release) => start < release && release <= end,
            None => end.within(self.since, self.until),
        }
    }

    /// Whether it is a temporary setting, removed again in the converge phase.
    pub fn is_temporary(&self) -> bool {
        self.config.as_ref().is_some_and(|edit| edit.temporary)
    }
}
