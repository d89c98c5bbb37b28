//! # ffu-core: plans fast-forward upgrades of multi-service clouds
//!
//! Operators must move a cloud from release N to N+k, but each project only supports N to
//! N+1. A *fast-forward upgrade* passes through every intermediate release offline: the
//! control plane is stopped, each release's database migrations run in a safe order, the
//! workloads keep running, and only the target release is started.
//!
//! `ffu-core` models releases, services, components and migrations as a [`Catalog`],
//! computes a safe [`Plan`] with [`Catalog::plan`], explains every step, and checks any plan
//! (its own or one written by hand) against the safety rules with [`verify()`].
//!
//! ```
//! use ffu_core::{verify, Catalog, Policy};
//!
//! let catalog = Catalog::openstack();
//! let plan = catalog.plan("newton", "queens", &Policy::default())?;
//! assert_eq!(plan.path, ["newton", "ocata", "pike", "queens"]);
//! for step in plan.steps.iter().take(3) {
//!     println!("{:10} {:40} {}", step.kind.as_str(), step.id, step.reason);
//! }
//! assert!(verify(&catalog, &plan)?.is_empty());
//! # Ok::<(), ffu_core::Error>(())
//! ```
//!
//! Custom catalogs load from YAML or JSON ([`Catalog::from_path`],
//! [`Catalog::from_yaml_str`]); the format is `ffu-catalog/1`, and plans are `ffu-plan/1`
//! JSON documents ([`Plan::to_json`], [`Plan::from_json`]). Every start other than a
//! release (an inventory of hosts, the state of the databases) is a [`PlanRequest`] for
//! [`Catalog::plan_request`]; a tool that only wants the document of a large plan can have
//! [`Catalog::plan_compact`] make it as a [`CompactPlan`], which writes its migration steps
//! straight from the catalog instead of building them.

#![warn(missing_docs)]

mod alembic;
mod catalog;
mod error;
pub mod estimate;
pub mod export;
mod extension;
mod extras;
mod input;
mod inventory;
mod migration;
mod oslo_config;
mod parallel;
mod plan;
mod planner;
pub mod recovery;
mod release;
pub mod render;
pub mod schema;
mod service;
pub mod sql;
mod state;
mod task;
mod text;
pub mod timeline;
mod verify;
pub mod windows;

pub use alembic::{import_alembic, AlembicImport, AlembicLayout};
pub use catalog::{Catalog, CATALOG_FORMAT};
pub use error::{Error, Location, NoPlan, OrderFact, Result};
pub use extension::{ConfigAction, ConfigChange, Extension, Negotiated};
pub use extras::{Extras, EXTRA_PREFIX};
pub use input::{read_document, read_document_from, MAX_DOCUMENT_BYTES};
pub use inventory::{Host, Inventory, INVENTORY_FORMAT};
pub use migration::{History, Migration, MigrationId, MigrationKind, Revision};
pub use oslo_config::{
    import_oslo_config, ComposedChange, ConfigDiff, MigratedConfig, MovedOption, OsloConfigImport,
    Reintroduced, RemovedOption, REMOVED_MARKER,
};
pub use plan::{
    CodeSide, ConfigEdit, ConfigEditAction, Hop, Mode, Phase, Plan, Policy, Step, StepKind,
    DEFAULT_BACKUP_COMMAND, PLAN_FORMAT,
};
pub use planner::{CompactPlan, PlanRequest};
pub use release::{Release, ReleaseId, SkipEdge, SkipLevel};
pub use service::{Component, ComponentId, Database, MaxSkew, Role, Service, ServiceId};
pub use sql::backend::Backend;
pub use sql::journal::Journal;
pub use state::ServiceState;
pub use task::{Requirement, Task, TaskHosts, TaskId, TaskMode, TaskPhase};
pub use text::{error_text, fill_template};
pub use verify::{verify, verify_document, Violation};

/// The architecture of ffu: layers, data flow, the safety rules and where each concept
/// lives (the repository's `DESIGN.md`).
#[doc = include_str!("../../DESIGN.md")]
pub mod design {}

/// The README's Rust examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
