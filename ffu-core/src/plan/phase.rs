//! What a real procedure adds to a step (DESIGN §8): the phase it belongs to, whose code
//! runs it, and the configuration edit it makes.

use serde::{Deserialize, Serialize};

/// The phases of a hop, in the order they run: every step belongs to one.
///
/// Offline, a hop's steps come in this order; rolling, each service's part of the hop does
/// (`finalize` closes a rolling hop). `precheck` holds only the checks before hop 0
/// touches anything; a release's readiness check (`nova-status upgrade check`) gates the
/// starts, so it belongs to `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Health checks on the running cloud before anything is touched.
    Precheck,
    /// Before anything stops, with the current code: the starting release finished.
    Prepare,
    /// Components stopped (and disabled).
    Stop,
    /// Databases backed up: the rollback points.
    Backup,
    /// Package sources switched to the hop's release.
    Repos,
    /// The hop's code installed.
    Install,
    /// Configuration changed for the hop's release.
    Config,
    /// Schema and data migrations, with the temporary starts around them.
    Migrations,
    /// Readiness checks and the final starts.
    Start,
    /// After every service runs the target: its data migrations, the converge tasks,
    /// temporary settings removed, the post-checks.
    Converge,
    /// Rolling: what a service advertises widened once all of it runs the new release.
    Finalize,
    /// Recovery plans only: databases restored from the backups of a rollback point.
    Restore,
}

impl Phase {
    /// The phase's name as written in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Precheck => "precheck",
            Phase::Prepare => "prepare",
            Phase::Stop => "stop",
            Phase::Backup => "backup",
            Phase::Repos => "repos",
            Phase::Install => "install",
            Phase::Config => "config",
            Phase::Migrations => "migrations",
            Phase::Start => "start",
            Phase::Converge => "converge",
            Phase::Finalize => "finalize",
            Phase::Restore => "restore",
        }
    }
}

/// Whose code runs a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeSide {
    /// The release the hop (or, for the starting release's own work, the service) starts
    /// from: the code already installed.
    Current,
    /// The release the hop goes to.
    Target,
}

impl CodeSide {
    /// The name as written in catalogs and plans.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeSide::Current => "current",
            CodeSide::Target => "target",
        }
    }
}

/// What a configuration edit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigEditAction {
    /// Set `option` to `value`.
    Set,
    /// Remove a value set earlier (a temporary setting, in converge).
    Unset,
    /// Move `option` to `to` (`SECTION.name`), keeping its value.
    Rename,
    /// Delete `option`: the release no longer reads it.
    Remove,
    /// The release changes the option's default to `value`: nothing to write, unless the
    /// old behaviour must stay.
    Default,
}

impl ConfigEditAction {
    /// The name as written in catalogs and plans.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigEditAction::Set => "set",
            ConfigEditAction::Unset => "unset",
            ConfigEditAction::Rename => "rename",
            ConfigEditAction::Remove => "remove",
            ConfigEditAction::Default => "default",
        }
    }
}

/// A configuration edit, as a deployment tool applies it: `config` on `config` steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigEdit {
    /// The file, such as `/etc/nova/nova.conf`.
    pub file: String,
    /// The section, such as `workarounds`.
    pub section: String,
    /// The option within the section.
    pub option: String,
    /// What to do.
    pub action: ConfigEditAction,
    /// The value, for `set` and `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The new `SECTION.name`, for `rename`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A setting for the duration of the upgrade only: set before it is needed and unset
    /// again in the converge phase.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub temporary: bool,
}

impl ConfigEdit {
    /// A sentence describing the edit for a person.
    pub fn describe(&self) -> String {
        let place = format!("[{}]{} in {}", self.section, self.option, self.file);
        let value = self.value.as_deref().unwrap_or("?");
        match self.action {
            ConfigEditAction::Set => format!("set {place} = {value}"),
            ConfigEditAction::Unset => format!("remove the setting {place}"),
            ConfigEditAction::Rename => {
                format!("rename {place} to {}", self.to.as_deref().unwrap_or("?"))
            }
            ConfigEditAction::Remove => format!("remove option {place}"),
            ConfigEditAction::Default => format!("the default of {place} becomes {value}"),
        }
    }

    /// The edit that takes a temporary setting away again.
    #[must_use]
    pub fn undone(&self) -> ConfigEdit {
        ConfigEdit {
            action: ConfigEditAction::Unset,
            value: None,
            to: None,
            ..self.clone()
        }
    }
}
