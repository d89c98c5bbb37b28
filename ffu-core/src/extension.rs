//! API extensions that servers advertise, and configuration changes between releases.

use serde::{Deserialize, Serialize};

use crate::release::ReleaseId;
use crate::service::ServiceId;

/// An API extension of a service, such as neutron's `binding-extended`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extension {
    /// The service that advertises it.
    pub service: ServiceId,
    /// Its alias.
    pub name: String,
    /// First release that supports it.
    pub since: Option<ReleaseId>,
    /// Last release that supports it.
    pub until: Option<ReleaseId>,
    /// Extensions (of the same service) it requires.
    pub requires: Vec<String>,
    /// Services that consume it.
    pub consumed_by: Vec<ServiceId>,
}

/// What a configuration change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigAction {
    /// An option moves: `from` is renamed to `to`.
    Rename,
    /// An option is removed: `from` must be deleted.
    Remove,
    /// An option's default changes to `value`.
    Default,
}

/// A configuration change a release brings, such as a renamed option.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigChange {
    /// The service whose configuration changes.
    pub service: ServiceId,
    /// The release that brings the change.
    pub release: ReleaseId,
    /// What happens.
    pub action: ConfigAction,
    /// The option, as `SECTION.name`.
    pub from: Option<String>,
    /// The new option name, for renames.
    pub to: Option<String>,
    /// The new default, for `default`.
    pub value: Option<String>,
    /// The file it edits; `None` for the service's own (`/etc/SERVICE/SERVICE.conf`).
    pub file: Option<String>,
}

impl ConfigChange {
    /// A sentence describing the change for a person.
    pub fn describe(&self) -> String {
        let option = self.from.as_deref().unwrap_or("?");
        match self.action {
            ConfigAction::Rename => {
                format!(
                    "rename option {option} to {}",
                    self.to.as_deref().unwrap_or("?")
                )
            }
            ConfigAction::Remove => format!("remove option {option}"),
            ConfigAction::Default => format!(
                "default of {option} becomes {}",
                self.value.as_deref().unwrap_or("?")
            ),
        }
    }
}

/// What one service may advertise, and why the rest is withheld: the answer of
/// [`crate::Catalog::negotiate_releases`] and [`crate::Catalog::negotiate`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Negotiated {
    /// Extensions every running server supports, closed under `requires`, sorted.
    pub advertised: Vec<String>,
    /// Extensions some server supports but that are not advertised, with the reason,
    /// sorted by name.
    pub withheld: Vec<(String, String)>,
}
