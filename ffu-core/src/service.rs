//! Services and their components.

use serde::{Deserialize, Serialize};

use crate::extras::Extras;
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
    /// Shared infrastructure (message bus, cache, database server): never stopped or
    /// started by the planner; only a catalog task acts on it.
    Infra,
}

impl Role {
    /// The role's name as written in catalogs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Control => "control",
            Role::Agent => "agent",
            Role::Dataplane => "dataplane",
            Role::Infra => "infra",
        }
    }

    /// Whether the upgrade stops, installs and starts components of this role (control
    /// and agent); the data plane and infrastructure keep running untouched.
    pub fn is_upgraded(self) -> bool {
        matches!(self, Role::Control | Role::Agent)
    }
}

/// How far a service's agents may lag its control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxSkew {
    /// At most this many releases.
    Releases(u32),
    /// Back to the previous SLURP release (nova from 2023.1 on: computes may run the
    /// previous SLURP release); one release where there is no previous SLURP release.
    Slurp,
}

impl MaxSkew {
    /// How many releases an agent may lag a control component that runs `control`, among
    /// the catalog's `releases`: the count, or for `slurp` the distance back to the latest
    /// SLURP release before `control` (1 when there is none).
    pub fn allowed_lag(self, releases: &[crate::release::Release], control: ReleaseId) -> usize {
        match self {
            MaxSkew::Releases(count) => count as usize,
            MaxSkew::Slurp => releases[..control.index()]
                .iter()
                .rposition(|release| release.slurp)
                .map_or(1, |previous| control.index() - previous),
        }
    }
}

impl Default for MaxSkew {
    fn default() -> Self {
        MaxSkew::Releases(1)
    }
}

impl std::fmt::Display for MaxSkew {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxSkew::Releases(count) => write!(formatter, "{count}"),
            MaxSkew::Slurp => formatter.write_str("slurp"),
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
    /// How far an agent may lag the control plane of this service.
    pub max_skew: MaxSkew,
    /// Components, in catalog order.
    pub components: Vec<ComponentId>,
    /// The order in which the control components restart in a rolling upgrade, as the
    /// project documents it (nova: conductor first, api last); empty: catalog order.
    pub restart_order: Vec<ComponentId>,
    /// A tool's own facts (`x-...` fields), carried into the steps of the service.
    pub x: Extras,
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
    /// The names of the service's databases that exist at `release`, in catalog order:
    /// what a backup at that release dumps.
    pub fn databases_at(&self, release: ReleaseId) -> Vec<&str> {
        self.databases
            .iter()
            .filter(|database| database.exists_at(release))
            .map(|database| database.name.as_str())
            .collect()
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
    /// The service manager's name for it (a systemd unit such as
    /// `openstack-nova-conductor`), when the catalog gives one.
    pub unit: Option<String>,
    /// What a cloud running it must change before it can be upgraded past `until` (the
    /// linuxbridge agent: a change of ML2 driver); `None` when it simply goes away.
    pub removal_needs: Option<String>,
    /// Seconds a stop or a start of it takes (the catalog's `duration_s`, rounded up to
    /// whole seconds), when the catalog gives it.
    pub duration_s: Option<u64>,
    /// A tool's own facts (`x-...` fields), carried into the steps of the component.
    pub x: Extras,
}

impl Component {
    /// Whether the component exists at `release` (ignoring its service's own bounds).
    pub fn exists_at(&self, release: ReleaseId) -> bool {
        release.within(self.since, self.until)
    }
}
