//! The catalog: releases, services, components, migrations, extensions and configuration
//! changes, loaded from an `ffu-catalog/1` document and validated.
//!
//! # Where `Catalog`'s API lives
//!
//! [`Catalog`] is the model every other part reads, and its methods are written next to
//! the code they belong to:
//!
//! - **loading** ([`Catalog::openstack`], [`Catalog::from_path`],
//!   [`Catalog::from_yaml_str`], [`Catalog::from_json_str`]): here, over `load` (reading
//!   files, merging `include:` fragments, parsing; a large JSON catalog's migrations on two
//!   threads in `split_json`) into the document's shapes of `document`, then `validate`,
//!   which checks every rule and builds the model (the migration id table is `index`);
//! - **lookups** (names, ids, releases, services, components, migrations, extensions,
//!   configuration changes, skip edges) and **writing the catalog back**
//!   ([`Catalog::to_json`], [`Catalog::to_yaml`]): here;
//! - **negotiation** ([`Catalog::negotiate_releases`], [`Catalog::negotiate`],
//!   [`Catalog::extension_exists_at`]): `negotiate`;
//! - **planning** ([`Catalog::plan`], [`Catalog::plan_request`], [`Catalog::plan_compact`],
//!   each for a [`crate::PlanRequest`]): the planner (`crate::planner`), which owns the
//!   algorithm.
//!
//! What takes a catalog without being one of its methods: checking a plan
//! ([`crate::verify()`]), reading an inventory against it ([`crate::Inventory`]), reading
//! what a database holds ([`crate::sql::discover()`]) and rendering a plan for people
//! ([`crate::render::text`]).

mod document;
mod embedded;
mod index;
mod load;
mod negotiate;
mod revisions;
mod split_json;
mod tasks;
mod validate;

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

pub use document::CATALOG_FORMAT;
// Shared with the inventory loader, which reads documents the same way.
pub(crate) use load::{json_error, yaml_error, yaml_options};

use crate::error::{Error, Result};
use crate::extension::{ConfigChange, Extension};
use crate::migration::{Migration, MigrationId};
use crate::release::{Release, ReleaseId, SkipEdge, SkipLevel};
use crate::service::{Component, ComponentId, Service, ServiceId};
use crate::task::{Task, TaskId};
pub(crate) use load::{SourceFile, Syntax};
pub(crate) use tasks::edit_of_change;

/// A validated catalog.
///
/// # Invariants
/// A `Catalog` only comes from loading and validation, so it always holds:
/// - release names and aliases are unique, and releases are in upgrade order;
/// - service names, component names (across services), migration ids and
///   (service, extension) pairs are unique;
/// - every reference (`after`, `since`, `until`, `requires`, `needs_running`, ...) resolves;
/// - `since <= until` everywhere, versions increase along releases, and every migration's
///   release lies within its service's lifetime;
/// - `requires` among migrations and `after` among services are acyclic, and a migration
///   never requires one of a later release.
#[derive(Debug, Clone)]
pub struct Catalog {
    name: String,
    file: String,
    releases: Vec<Release>,
    release_by_name: HashMap<String, ReleaseId>,
    skip_level: SkipLevel,
    skip_edges: Vec<SkipEdge>,
    services: Vec<Service>,
    service_by_name: HashMap<String, ServiceId>,
    components: Vec<Component>,
    component_by_name: HashMap<String, ComponentId>,
    migrations: Vec<Migration>,
    migration_by_id: index::MigrationIndex,
    /// Migrations of each service, in catalog order.
    migrations_by_service: Vec<Vec<MigrationId>>,
    extensions: Vec<Extension>,
    config_changes: Vec<ConfigChange>,
    /// The tasks (DESIGN §8), in catalog order.
    tasks: Vec<Task>,
    task_by_id: HashMap<String, TaskId>,
    /// The services' per-revision histories (DESIGN §12), in catalog order.
    histories: Vec<crate::migration::History>,
    /// The files it was loaded from, to show the catalog again.
    sources: Vec<SourceFile>,
    /// Whether no release, service or component name, migration id or command needs
    /// escaping in JSON (by [`crate::text::needs_escape`], computed while validating, which
    /// looks at every one of them anyway). It is for output only: the compact plan writer
    /// (`planner::compact`) then copies a migration step's strings into the plan's JSON
    /// without scanning them, most of a large plan's document. Nothing in the model
    /// depends on it.
    plain_text: bool,
}

impl Catalog {
    /// The OpenStack catalog compiled into ffu: releases from newton on, the core services,
    /// their real commands, with sources cited in the file, and the alembic revisions of
    /// each service's steps from 2023.1 on (`ffu-core/catalog/revisions/*.yaml`, written by
    /// `scripts/alembic-fragments.py`, DESIGN §12).
    ///
    /// # Example
    /// ```
    /// let catalog = ffu_core::Catalog::openstack();
    /// assert_eq!(catalog.name(), "openstack");
    /// assert!(catalog.release_id("antelope").is_some());
    /// ```
    pub fn openstack() -> Catalog {
        Catalog::embedded(&[embedded::REVISION_FRAGMENTS])
    }

    /// [`Catalog::openstack`] with the configuration changes generated from each project's
    /// own option definitions (`ffu-core/catalog/config/*.yaml`, written by
    /// `scripts/oslo-config-fragments.py`) merged in as `include:` fragments are: what
    /// `ffu config diff` and `ffu config migrate` use without `--catalog`.
    ///
    /// [`Catalog::openstack`] leaves them out: they are a thousand changes, and parsing them
    /// and planning a config step for each doubled the time of `ffu plan --from newton --to
    /// 2026.2`.
    pub fn openstack_with_config() -> Catalog {
        Catalog::embedded(&[embedded::REVISION_FRAGMENTS, embedded::CONFIG_FRAGMENTS])
    }

    /// The embedded root catalog with `fragments` merged in.
    fn embedded(fragments: &[&[(&str, &str)]]) -> Catalog {
        let fragments: Vec<(&str, &str)> =
            fragments.iter().flat_map(|f| f.iter().copied()).collect();
        let loaded = load::load_embedded(
            embedded::OPENSTACK_YAML,
            "<embedded openstack catalog>",
            &fragments,
        );
        // The embedded text is checked by the test suite, so this cannot fail in a release.
        loaded
            .and_then(validate::build)
            .expect("the embedded OpenStack catalog and its fragments are valid")
    }

    /// The text of the embedded OpenStack catalog, as YAML (without the generated
    /// per-revision migrations and configuration changes, which are fragments of their own).
    pub fn openstack_yaml() -> &'static str {
        embedded::OPENSTACK_YAML
    }

    /// Whether every release, service and component name, migration id and command is
    /// written in JSON as it is (nothing in it needs escaping): for the compact plan
    /// writer, which then copies a migration step's strings without scanning them.
    pub(crate) fn plain_text(&self) -> bool {
        self.plain_text
    }

    /// Loads a catalog file (YAML, or JSON when the name ends in `.json`), with the fragments
    /// it includes.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be read, [`Error::Parse`] when it is not a catalog
    /// document, [`Error::Invalid`] or [`Error::Cycle`] when it breaks a rule.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Catalog> {
        let loaded = load::load_file(path.as_ref())?;
        validate::build(loaded)
    }

    /// Parses a catalog from YAML text; `file` names it in error messages.
    ///
    /// # Errors
    /// As [`Catalog::from_path`], without `include:` (a string has no directory).
    ///
    /// # Example
    /// ```
    /// let yaml = r#"
    /// format: ffu-catalog/1
    /// name: tiny
    /// releases: [{name: a}, {name: b}]
    /// services:
    ///   - name: db
    ///     components: [{name: db-api, role: control}]
    /// migrations:
    ///   - {id: db.b.sync, service: db, release: b, kind: migrate, command: "db-manage sync"}
    /// "#;
    /// let catalog = ffu_core::Catalog::from_yaml_str(yaml, "tiny.yaml").unwrap();
    /// assert_eq!(catalog.migrations().len(), 1);
    /// ```
    pub fn from_yaml_str(text: &str, file: &str) -> Result<Catalog> {
        validate::build(load::load_text(text, file, Syntax::Yaml)?)
    }

    /// Parses a catalog from JSON text; `file` names it in error messages.
    ///
    /// # Errors
    /// As [`Catalog::from_yaml_str`].
    pub fn from_json_str(text: &str, file: &str) -> Result<Catalog> {
        validate::build(load::load_text(text, file, Syntax::Json)?)
    }

    /// The catalog's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file the catalog was loaded from, for messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Releases in upgrade order.
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// One release.
    pub fn release(&self, id: ReleaseId) -> &Release {
        &self.releases[id.index()]
    }

    /// The release with this name or alias.
    pub fn release_id(&self, name: &str) -> Option<ReleaseId> {
        self.release_by_name.get(name).copied()
    }

    /// Which skip edges the catalog declares implicitly.
    pub fn skip_level(&self) -> SkipLevel {
        self.skip_level
    }

    /// Every allowed edge beyond `N -> N+1`: declared edges and, with `skip_level: slurp`,
    /// the edges between consecutive SLURP releases; sorted by `(from, to)`.
    pub fn skip_edges(&self) -> &[SkipEdge] {
        &self.skip_edges
    }

    /// Services in catalog order.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// One service.
    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.index()]
    }

    /// Whether ffu upgrades `service` at all: it has a control or agent component, or
    /// migrations (whose code must be installed). A service of only `infra` components
    /// (mariadb, rabbitmq, memcached) gets no install, backup or post-check steps; it is
    /// there for its units and its tasks.
    pub fn upgrades_service(&self, service: ServiceId) -> bool {
        !self.migrations_by_service[service.index()].is_empty()
            || self
                .service(service)
                .components
                .iter()
                .any(|&component| self.component(component).role.is_upgraded())
    }

    /// The service with this name.
    pub fn service_id(&self, name: &str) -> Option<ServiceId> {
        self.service_by_name.get(name).copied()
    }

    /// All components, in catalog order.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// One component.
    pub fn component(&self, id: ComponentId) -> &Component {
        &self.components[id.index()]
    }

    /// The component with this name.
    pub fn component_id(&self, name: &str) -> Option<ComponentId> {
        self.component_by_name.get(name).copied()
    }

    /// All migrations, in catalog order.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// One migration.
    pub fn migration(&self, id: MigrationId) -> &Migration {
        &self.migrations[id.index()]
    }

    /// The migration with this id.
    pub fn migration_id(&self, id: &str) -> Option<MigrationId> {
        self.migration_by_id
            .get(id, |found| &self.migrations[found.index()].id)
    }

    /// The services' schema histories known revision by revision (DESIGN §12).
    pub fn histories(&self) -> &[crate::migration::History] {
        &self.histories
    }

    /// The schema history of one service known revision by revision, if the catalog has
    /// one (DESIGN §12).
    pub fn history_of(&self, service: ServiceId) -> Option<&crate::migration::History> {
        self.histories.iter().find(|h| h.service == service)
    }

    /// The migrations of one service, in catalog order.
    pub fn migrations_of(&self, service: ServiceId) -> &[MigrationId] {
        &self.migrations_by_service[service.index()]
    }

    /// API extensions, in catalog order.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// Configuration changes, in catalog order.
    pub fn config_changes(&self) -> &[ConfigChange] {
        &self.config_changes
    }

    /// The tasks: actions of a real upgrade that are not migrations, in catalog order.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// One task.
    pub fn task(&self, id: TaskId) -> &Task {
        &self.tasks[id.index()]
    }

    /// The task with this id.
    pub fn task_id(&self, id: &str) -> Option<TaskId> {
        self.task_by_id.get(id).copied()
    }

    /// The configuration file of `service` a change without a `file` edits:
    /// `/etc/SERVICE/SERVICE.conf`, where every project of the catalog keeps it.
    pub fn default_config_file(&self, service: ServiceId) -> String {
        let name = &self.service(service).name;
        format!("/etc/{name}/{name}.conf")
    }

    /// The catalog (with its fragments merged) as an `ffu-catalog/1` JSON document.
    ///
    /// # Errors
    /// [`Error::Serialize`], never in practice: serialization of plain data cannot fail.
    pub fn to_json(&self) -> Result<String> {
        let document = load::reparse(&self.sources)?;
        serde_json::to_string_pretty(&document).map_err(|err| Error::Serialize {
            what: "the catalog as JSON",
            source: Box::new(err),
        })
    }

    /// The catalog (with its fragments merged) as an `ffu-catalog/1` YAML document.
    ///
    /// # Errors
    /// [`Error::Serialize`], never in practice: serialization of plain data cannot fail.
    pub fn to_yaml(&self) -> Result<String> {
        let document = load::reparse(&self.sources)?;
        serde_saphyr::to_string(&document).map_err(|err| Error::Serialize {
            what: "the catalog as YAML",
            source: Box::new(err),
        })
    }

    /// Names of releases close to `name` (edit distance at most 2), for suggestions.
    pub(crate) fn similar_release_names(&self, name: &str) -> Vec<String> {
        // Short names are close to each other anyway; allow fewer edits for them.
        let limit = if name.chars().count() <= 4 { 1 } else { 2 };
        let mut close: Vec<(usize, &String)> = self
            .release_by_name
            .keys()
            .map(|candidate| (edit_distance(candidate, name), candidate))
            .filter(|(distance, _)| *distance <= limit)
            .collect();
        close.sort();
        close
            .into_iter()
            .take(3)
            .map(|(_, candidate)| candidate.clone())
            .collect()
    }
}

/// Levenshtein distance, for "did you mean" suggestions on short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_loads_and_has_the_required_facts() {
        let catalog = Catalog::openstack();
        let names: Vec<&str> = catalog.releases().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"newton"));
        assert_eq!(names.last(), Some(&"2026.2"));
        let slurp: Vec<&str> = catalog
            .releases()
            .iter()
            .filter(|r| r.slurp)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(slurp, ["2023.1", "2024.1", "2025.1", "2026.1"]);
        for alias in [
            "antelope",
            "bobcat",
            "caracal",
            "dalmatian",
            "epoxy",
            "flamingo",
            "gazpacho",
        ] {
            assert!(catalog.release_id(alias).is_some(), "{alias}");
        }
        for service in [
            "keystone",
            "glance",
            "cinder",
            "placement",
            "nova",
            "neutron",
            "heat",
            "ironic",
        ] {
            assert!(catalog.service_id(service).is_some(), "{service}");
        }
        let placement = catalog.service(catalog.service_id("placement").unwrap());
        assert_eq!(placement.since, catalog.release_id("stein"));
        assert_eq!(catalog.skip_level(), SkipLevel::Slurp);
    }

    #[test]
    fn round_trips_through_json_and_yaml() {
        let catalog = Catalog::openstack();
        let json = Catalog::from_json_str(&catalog.to_json().unwrap(), "again.json").unwrap();
        let yaml = Catalog::from_yaml_str(&catalog.to_yaml().unwrap(), "again.yaml").unwrap();
        for other in [json, yaml] {
            assert_eq!(other.migrations(), catalog.migrations());
            assert_eq!(other.services(), catalog.services());
            assert_eq!(other.releases(), catalog.releases());
        }
    }

    #[test]
    fn suggestions_are_close_names() {
        let catalog = Catalog::openstack();
        assert_eq!(catalog.similar_release_names("queenz"), ["queens"]);
        assert!(catalog.similar_release_names("zzzzzzzz").is_empty());
    }
}
