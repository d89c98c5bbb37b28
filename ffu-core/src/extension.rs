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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// What one service may advertise, and why the rest is withheld.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Negotiated {
    /// Extensions every running server supports, closed under `requires`, sorted.
    pub advertised: Vec<String>,
    /// Extensions some server supports but that are not advertised, with the reason,
    /// sorted by name.
    pub withheld: Vec<(String, String)>,
}

impl crate::Catalog {
    /// Whether extension `extension` of its service exists at `release`.
    pub fn extension_exists_at(&self, extension: &Extension, release: ReleaseId) -> bool {
        release.within(extension.since, extension.until)
    }

    /// What `service` may advertise while its servers run `releases` and the extensions of
    /// releases up to `enabled` are switched on (a rolling upgrade's finalize step moves
    /// `enabled` forward; `None` means no limit).
    ///
    /// An extension is advertised when every release in `releases` supports it, it belongs
    /// to a release no later than `enabled`, and everything it `requires` is advertised too.
    ///
    /// # Complexity
    /// O(E x (R + Q)) for E extensions of the service, R releases and Q requirements.
    ///
    /// # Example
    /// ```
    /// let catalog = ffu_core::Catalog::openstack();
    /// let neutron = catalog.service_id("neutron").unwrap();
    /// let (queens, rocky) = (catalog.release_id("queens").unwrap(), catalog.release_id("rocky").unwrap());
    /// let mixed = catalog.negotiate_releases(neutron, &[queens, rocky], None);
    /// assert!(!mixed.advertised.contains(&"binding-extended".to_owned()));
    /// let upgraded = catalog.negotiate_releases(neutron, &[rocky], None);
    /// assert!(upgraded.advertised.contains(&"binding-extended".to_owned()));
    /// ```
    pub fn negotiate_releases(
        &self,
        service: ServiceId,
        releases: &[ReleaseId],
        enabled: Option<ReleaseId>,
    ) -> Negotiated {
        let own: Vec<&Extension> = self
            .extensions()
            .iter()
            .filter(|e| e.service == service)
            .collect();
        if releases.is_empty() {
            return Negotiated::default();
        }
        let mut withheld: Vec<(String, String)> = Vec::new();
        let mut candidates: Vec<&Extension> = Vec::new();
        for extension in &own {
            let missing = releases
                .iter()
                .find(|&&r| !self.extension_exists_at(extension, r));
            let any = releases
                .iter()
                .any(|&r| self.extension_exists_at(extension, r));
            if let Some(&release) = missing {
                if any {
                    withheld.push((
                        extension.name.clone(),
                        format!(
                            "a server runs {}, which does not support it",
                            self.release(release).name
                        ),
                    ));
                }
                continue;
            }
            if let (Some(enabled), Some(since)) = (enabled, extension.since) {
                if since > enabled {
                    withheld.push((
                        extension.name.clone(),
                        format!(
                            "new in {}: enabled only after the finalize step",
                            self.release(since).name
                        ),
                    ));
                    continue;
                }
            }
            candidates.push(extension);
        }
        // Close under `requires`: drop what needs a missing extension, until nothing changes.
        let mut advertised: Vec<&Extension> = candidates;
        loop {
            let before = advertised.len();
            let names: Vec<&str> = advertised.iter().map(|e| e.name.as_str()).collect();
            let (keep, drop): (Vec<&Extension>, Vec<&Extension>) = advertised
                .iter()
                .partition(|e| e.requires.iter().all(|r| names.contains(&r.as_str())));
            for extension in drop {
                let missing: Vec<&str> = extension
                    .requires
                    .iter()
                    .map(String::as_str)
                    .filter(|r| !names.contains(r))
                    .collect();
                withheld.push((
                    extension.name.clone(),
                    format!("requires {}, which is withheld", missing.join(", ")),
                ));
            }
            advertised = keep;
            if advertised.len() == before {
                break;
            }
        }
        let mut advertised: Vec<String> = advertised.iter().map(|e| e.name.clone()).collect();
        advertised.sort();
        withheld.sort();
        Negotiated {
            advertised,
            withheld,
        }
    }
}

impl crate::Catalog {
    /// What each service may advertise now, given where its servers stand in `inventory`:
    /// the extensions every running control component's release supports, closed under
    /// `requires`. Services without extensions or without servers are left out.
    ///
    /// # Example
    /// ```
    /// use ffu_core::{Catalog, Inventory};
    /// let catalog = Catalog::openstack();
    /// let mixed = Inventory::from_hosts(&catalog, &[
    ///     ("ctl-1", &[("neutron-server", "rocky")]),
    ///     ("ctl-2", &[("neutron-server", "queens")]),
    /// ]).unwrap();
    /// let now = catalog.negotiate(&mixed);
    /// assert!(!now["neutron"].advertised.contains(&"binding-extended".to_owned()));
    /// ```
    pub fn negotiate(
        &self,
        inventory: &crate::Inventory,
    ) -> std::collections::BTreeMap<String, Negotiated> {
        let mut releases: Vec<Vec<ReleaseId>> = vec![Vec::new(); self.services().len()];
        for (_, component, release) in inventory.placements() {
            let data = self.component(component);
            if data.role == crate::Role::Control {
                releases[data.service.index()].push(release);
            }
        }
        let mut result = std::collections::BTreeMap::new();
        for (index, service) in self.services().iter().enumerate() {
            let running = &mut releases[index];
            let id = ServiceId(index as u32);
            if running.is_empty() || !self.extensions().iter().any(|e| e.service == id) {
                continue;
            }
            running.sort_unstable();
            running.dedup();
            result.insert(
                service.name.clone(),
                self.negotiate_releases(id, running, None),
            );
        }
        result
    }
}
