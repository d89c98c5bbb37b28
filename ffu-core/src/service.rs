//! Services and their components.

use serde::{Deserialize, Serialize};

use crate::release::ReleaseId;

/// Index of a service in its catalog (catalog order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub(crate) u32);

impl ServiceId {
    /// The position of the service in the catalog, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Index of a component in its catalog (catalog order, across services).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId(pub(crate) u32);

impl ComponentId {
    /// The position of the component in the catalog, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a component does during an upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Control plane: stopped while its service's schema migrations run offline.
    Control,
    /// A per-host agent (nova-compute, neutron agents): upgraded after the control plane.
    Agent,
    /// Carries workloads (guests, virtual switches): never stopped by default.
    Dataplane,
}

impl Role {
    /// The role's name as written in catalogs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Control => "control",
            Role::Agent => "agent",
            Role::Dataplane => "dataplane",
        }
    }
}

/// A service of the cloud, such as `nova`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Service {
    /// Unique name.
    pub name: String,
    /// Services whose steps come first within a hop.
    pub after: Vec<ServiceId>,
    /// First release that has the service, if not the first release of the catalog.
    pub since: Option<ReleaseId>,
    /// Last release that has the service, if it was retired.
    pub until: Option<ReleaseId>,
    /// The service's version per release, indexed by release; `None` where not given.
    pub versions: Vec<Option<semver::Version>>,
    /// The service's own readiness check, such as `nova-status upgrade check`.
    pub upgrade_check: Option<String>,
    /// First release whose code has `upgrade_check` (most `*-status` commands came in
    /// stein), if later than the service.
    pub upgrade_check_since: Option<ReleaseId>,
    /// Its databases, for backups.
    pub databases: Vec<Database>,
    /// How many releases an agent may lag the control plane of this service.
    pub max_skew: u32,
    /// Components, in catalog order.
    pub components: Vec<ComponentId>,
}

/// A database of a service, and the releases at which it exists (nova's `nova_cell0`
/// comes with Ocata's cells v2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// Its name, as a backup command names it.
    pub name: String,
    /// First release that has it, if later than its service.
    pub since: Option<ReleaseId>,
    /// Last release that has it, if it was dropped.
    pub until: Option<ReleaseId>,
}

impl Database {
    /// Whether the database exists at `release`.
    pub fn exists_at(&self, release: ReleaseId) -> bool {
        release.within(self.since, self.until)
    }
}

impl Service {
    /// The command that backs up the service's databases that exist at `release` (named
    /// `release_name`), or `None` when it has none there.
    pub fn backup_command(&self, release: ReleaseId, release_name: &str) -> Option<String> {
        let names: Vec<&str> = self
            .databases
            .iter()
            .filter(|database| database.exists_at(release))
            .map(|database| database.name.as_str())
            .collect();
        (!names.is_empty()).then(|| {
            format!(
                "mysqldump --single-transaction --databases {} > {}-{release_name}.sql",
                names.join(" "),
                self.name
            )
        })
    }

    /// The readiness check command at `release`, if the service has one there.
    pub fn upgrade_check_at(&self, release: ReleaseId) -> Option<&str> {
        let available = self
            .upgrade_check_since
            .is_none_or(|since| since <= release);
        self.upgrade_check.as_deref().filter(|_| available)
    }

    /// Whether the service exists at `release`.
    pub fn exists_at(&self, release: ReleaseId) -> bool {
        release.within(self.since, self.until)
    }
}

/// A process (or set of processes) of a service, such as `nova-compute`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Component {
    /// Unique name across the catalog.
    pub name: String,
    /// The service it belongs to.
    pub service: ServiceId,
    /// What it does during an upgrade.
    pub role: Role,
    /// First release that has it, if later than its service's.
    pub since: Option<ReleaseId>,
    /// Last release that has it, if it was removed.
    pub until: Option<ReleaseId>,
}

impl Component {
    /// Whether the component exists at `release` (ignoring its service's own bounds).
    pub fn exists_at(&self, release: ReleaseId) -> bool {
        release.within(self.since, self.until)
    }
}
