//! Negotiation: which API extensions a service may advertise while its servers run some
//! releases (a mixed fleet during a rolling upgrade, or where an inventory stands).

use std::collections::BTreeMap;

use super::Catalog;
use crate::extension::{Extension, Negotiated};
use crate::inventory::Inventory;
use crate::release::ReleaseId;
use crate::service::{Role, ServiceId};

impl Catalog {
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
    pub fn negotiate(&self, inventory: &Inventory) -> BTreeMap<String, Negotiated> {
        let mut releases: Vec<Vec<ReleaseId>> = vec![Vec::new(); self.services().len()];
        for (_, component, release) in inventory.placements() {
            let data = self.component(component);
            if data.role == Role::Control {
                releases[data.service.index()].push(release);
            }
        }
        let mut result = BTreeMap::new();
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
