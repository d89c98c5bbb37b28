//! Turning a merged document into a validated [`Catalog`], checking every rule on the way.
//!
//! [`build`] takes the document's sections in order, one step each: the head (format and
//! name), releases, skip edges, services with their components, migrations, extensions and
//! configuration changes. Each section names what it found in a [`Context`] or a table of
//! its own ([`Services`]) for the sections after it; the first broken rule, in that order
//! and in document order within a section, is the error.

use rustc_hash::FxHashMap as HashMap;

use super::document::{
    CatalogDoc, DatabaseDoc, MaxSkewDoc, MigrationDoc, ServiceDoc, CATALOG_FORMAT,
};
use super::index::MigrationIndex;
use super::load::{Loaded, Origins, SourceFile};
use super::Catalog;
use crate::error::{Error, Result};
use crate::extension::{ConfigAction, ConfigChange, Extension};
use crate::migration::{Migration, MigrationId, MigrationKind};
use crate::release::{Release, ReleaseId, SkipEdge, SkipLevel};
use crate::service::{Component, ComponentId, Database, MaxSkew, Role, Service, ServiceId};
use crate::text::needs_escape;

/// Builds errors that name the file an item came from and where it is written there.
pub(super) struct Reporter<'a> {
    files: &'a [SourceFile],
}

impl Reporter<'_> {
    /// An error about `item`; the location is that of `needle` within the item (whose
    /// name is the last word of `item`), or of the item itself.
    pub(super) fn invalid(
        &self,
        file_index: usize,
        item: String,
        needle: &str,
        message: String,
    ) -> Error {
        let anchor = item.rsplit(' ').next().unwrap_or("").to_owned();
        self.invalid_near(file_index, item, &anchor, needle, message)
    }

    /// As [`Reporter::invalid`], with the anchor to search from given explicitly.
    fn invalid_near(
        &self,
        file_index: usize,
        item: String,
        anchor: &str,
        needle: &str,
        message: String,
    ) -> Error {
        let file = &self.files[file_index];
        let location = if anchor == item || anchor.is_empty() {
            file.locate(needle)
        } else {
            file.locate_within(anchor, needle)
        };
        Error::Invalid {
            file: file.name.clone(),
            location,
            item,
            message,
            source: None,
        }
    }
}

/// What every section after the releases looks things up in: where errors point, which
/// file each item came from, and the releases.
pub(super) struct Context<'a> {
    pub(super) report: Reporter<'a>,
    pub(super) origins: &'a Origins,
    pub(super) releases: &'a [Release],
    pub(super) release_by_name: &'a HashMap<String, ReleaseId>,
}

impl Context<'_> {
    /// The name of the catalog's own file (not of a fragment), for errors about the whole.
    pub(super) fn root(&self) -> &str {
        &self.report.files[0].name
    }

    /// The release with this name or alias, or an error about `item` (of file `file`)
    /// naming an unknown one.
    pub(super) fn release(
        &self,
        name: &str,
        file: usize,
        item: &dyn Fn() -> String,
    ) -> Result<ReleaseId> {
        self.release_by_name.get(name).copied().ok_or_else(|| {
            self.report
                .invalid(file, item(), name, format!("unknown release {name:?}"))
        })
    }

    /// A lifetime's bounds (`since`, `until`), resolved in that order, and checked.
    pub(super) fn lifetime(
        &self,
        since: Option<&str>,
        until: Option<&str>,
        file: usize,
        item: &dyn Fn() -> String,
    ) -> Result<(Option<ReleaseId>, Option<ReleaseId>)> {
        let since = since.map(|r| self.release(r, file, item)).transpose()?;
        let until = until.map(|r| self.release(r, file, item)).transpose()?;
        self.check_bounds(since, until, file, item)?;
        Ok((since, until))
    }

    /// Refuses an `until` before the `since`.
    fn check_bounds(
        &self,
        since: Option<ReleaseId>,
        until: Option<ReleaseId>,
        file: usize,
        item: &dyn Fn() -> String,
    ) -> Result<()> {
        if let (Some(since), Some(until)) = (since, until) {
            if until < since {
                let until_name = &self.releases[until.index()].name;
                return Err(self.report.invalid(
                    file,
                    item(),
                    until_name,
                    format!(
                        "`until: {until_name}` comes before `since: {}`",
                        self.releases[since.index()].name
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Validates a loaded document and builds the catalog.
pub(super) fn build(loaded: Loaded) -> Result<Catalog> {
    let Loaded {
        mut doc,
        files,
        mut origins,
    } = loaded;
    let report = Reporter { files: &files };
    let name = check_head(&doc, &report)?;
    let carriers = super::revisions::fold(&mut doc, &mut origins, &report)?;
    let (releases, release_by_name) = build_releases(&doc, &origins, &report)?;
    let context = Context {
        report,
        origins: &origins,
        releases: &releases,
        release_by_name: &release_by_name,
    };
    let skip_level = doc.skip_level.unwrap_or_default();
    let skip_edges = build_edges(&doc, &context, skip_level)?;
    let services = build_services(&doc, &context)?;
    let mut migrations = build_migrations(&mut doc, &context, &services)?;
    for carrier in carriers {
        let migration = &mut migrations.list[carrier.index];
        migration.revisions = carrier.revisions;
        if carrier.command_to_revision.is_some() {
            migration.command_to_revision = carrier.command_to_revision;
        }
    }
    let histories = build_histories(&doc, &context, &services)?;
    let plain_text = migrations.plain && names_are_plain(&releases, &services);
    let extensions = build_extensions(&doc, &context, &services.by_name)?;
    let config_changes = build_config_changes(&doc, &context, &services.by_name)?;
    let (tasks, task_by_id) = super::tasks::build_tasks(&doc, &context, &services, &migrations)?;
    Ok(Catalog {
        name,
        file: files[0].name.clone(),
        releases,
        release_by_name,
        skip_level,
        skip_edges,
        services: services.list,
        service_by_name: services.by_name,
        components: services.components,
        component_by_name: services.component_by_name,
        migrations: migrations.list,
        migration_by_id: migrations.by_id,
        migrations_by_service: migrations.by_service,
        extensions,
        plain_text,
        config_changes,
        tasks,
        task_by_id,
        histories,
        sources: files,
    })
}

/// The `histories` entries: known service and releases, `from <= to`, one per service.
fn build_histories(
    doc: &CatalogDoc,
    context: &Context<'_>,
    services: &Services,
) -> Result<Vec<crate::migration::History>> {
    let mut out: Vec<crate::migration::History> = Vec::with_capacity(doc.histories.len());
    for (index, history) in doc.histories.iter().enumerate() {
        let file = context.origins.histories[index];
        let item = || format!("history of {}", history.service);
        let report = &context.report;
        let service = *services.by_name.get(&history.service).ok_or_else(|| {
            report.invalid(
                file,
                item(),
                &history.service,
                format!("unknown service {:?}", history.service),
            )
        })?;
        let release = |name: &str| {
            context.release_by_name.get(name).copied().ok_or_else(|| {
                report.invalid(file, item(), name, format!("unknown release {name:?}"))
            })
        };
        let (from, to) = (release(&history.from)?, release(&history.to)?);
        if from > to {
            return Err(report.invalid(
                file,
                item(),
                &history.from,
                format!("from {} is after to {}", history.from, history.to),
            ));
        }
        if out.iter().any(|h| h.service == service) {
            return Err(report.invalid(
                file,
                item(),
                &history.service,
                format!("a second history of service {}", history.service),
            ));
        }
        out.push(crate::migration::History {
            service,
            from,
            to,
            sources: history.sources.clone(),
        });
    }
    Ok(out)
}

/// The catalog's name, once the format is known to be `ffu-catalog/1`.
fn check_head(doc: &CatalogDoc, report: &Reporter<'_>) -> Result<String> {
    match doc.format.as_deref() {
        Some(CATALOG_FORMAT) => {}
        Some(other) => {
            return Err(report.invalid(
                0,
                "format".into(),
                other,
                format!("unsupported format {other:?}; expected {CATALOG_FORMAT:?}"),
            ))
        }
        None => {
            return Err(report.invalid(
                0,
                "format".into(),
                "",
                format!("missing `format: {CATALOG_FORMAT}`"),
            ))
        }
    }
    match doc.name.as_deref() {
        Some(name) if !name.trim().is_empty() => Ok(name.to_owned()),
        _ => Err(report.invalid(0, "name".into(), "name", "the catalog needs a name".into())),
    }
}

/// Whether no release, service or component name needs escaping in JSON (the catalog's
/// plain-text flag, with its migrations').
fn names_are_plain(releases: &[Release], services: &Services) -> bool {
    let plain = |text: &str| !needs_escape(text.as_bytes());
    releases.iter().all(|r| plain(&r.name))
        && services.list.iter().all(|s| plain(&s.name))
        && services.components.iter().all(|c| plain(&c.name))
}

fn build_releases(
    doc: &CatalogDoc,
    origins: &Origins,
    report: &Reporter<'_>,
) -> Result<(Vec<Release>, HashMap<String, ReleaseId>)> {
    if doc.releases.is_empty() {
        return Err(report.invalid(
            0,
            "releases".into(),
            "releases",
            "the catalog has no releases".into(),
        ));
    }
    if doc.releases.len() > u32::MAX as usize {
        return Err(report.invalid(0, "releases".into(), "releases", "too many releases".into()));
    }
    let mut by_name = HashMap::default();
    let mut releases = Vec::with_capacity(doc.releases.len());
    for (index, release) in doc.releases.iter().enumerate() {
        let file = origins.releases[index];
        let id = ReleaseId(index as u32);
        let item = format!("release {}", release.name);
        if release.name.trim().is_empty() {
            return Err(report.invalid(
                file,
                format!("release #{}", index + 1),
                "name",
                "empty name".into(),
            ));
        }
        for name in std::iter::once(&release.name).chain(&release.aliases) {
            if by_name.insert(name.clone(), id).is_some() {
                return Err(report.invalid(
                    file,
                    item,
                    name,
                    format!("duplicate release name or alias {name:?}"),
                ));
            }
        }
        if let Some(date) = &release.date {
            if !is_iso_date(date) {
                return Err(report.invalid(
                    file,
                    item,
                    date,
                    format!("date {date:?} is not YYYY-MM-DD"),
                ));
            }
        }
        releases.push(Release {
            name: release.name.clone(),
            aliases: release.aliases.clone(),
            date: release.date.clone(),
            slurp: release.slurp,
        });
    }
    Ok((releases, by_name))
}

fn build_edges(
    doc: &CatalogDoc,
    context: &Context<'_>,
    skip_level: SkipLevel,
) -> Result<Vec<SkipEdge>> {
    let mut edges = Vec::new();
    for (index, edge) in doc.edges.iter().enumerate() {
        let file = context.origins.edges[index];
        let item = || format!("edge {} -> {}", edge.from, edge.to);
        let from = context.release(&edge.from, file, &item)?;
        let to = context.release(&edge.to, file, &item)?;
        if to <= from {
            return Err(context.report.invalid_near(
                file,
                item(),
                "edges",
                &edge.from,
                "the edge goes backwards or nowhere; upgrade edges must go forward".into(),
            ));
        }
        edges.push(SkipEdge {
            from,
            to,
            reason: edge
                .reason
                .clone()
                .unwrap_or_else(|| "declared edge".into()),
        });
    }
    if skip_level == SkipLevel::Slurp {
        let releases = context.releases;
        let slurps: Vec<usize> = (0..releases.len()).filter(|&i| releases[i].slurp).collect();
        for pair in slurps.windows(2) {
            edges.push(SkipEdge {
                from: ReleaseId(pair[0] as u32),
                to: ReleaseId(pair[1] as u32),
                reason: "SLURP".into(),
            });
        }
    }
    // A skip edge of one release (N -> N+1) adds nothing; keep only real skips, once each.
    edges.retain(|edge| edge.to.0 > edge.from.0 + 1);
    edges.sort_by_key(|edge| (edge.from, edge.to));
    edges.dedup_by_key(|edge| (edge.from, edge.to));
    Ok(edges)
}

/// The services and components of a catalog, with their name tables: what migrations,
/// extensions and configuration changes look their names up in.
pub(super) struct Services {
    pub(super) list: Vec<Service>,
    pub(super) by_name: HashMap<String, ServiceId>,
    pub(super) components: Vec<Component>,
    pub(super) component_by_name: HashMap<String, ComponentId>,
}

/// The services, in catalog order, each with its components; `after` among them acyclic.
fn build_services(doc: &CatalogDoc, context: &Context<'_>) -> Result<Services> {
    // Every name first: `after` may name a service written further down.
    let mut built = Services {
        list: Vec::with_capacity(doc.services.len()),
        by_name: name_services(doc, context)?,
        components: Vec::new(),
        component_by_name: HashMap::default(),
    };
    for (index, service_doc) in doc.services.iter().enumerate() {
        let service = built.build_service(context, index, service_doc)?;
        built.list.push(service);
    }
    check_service_cycle(&built.list, context)?;
    Ok(built)
}

/// Each service's id by name; refuses empty and repeated names.
fn name_services(doc: &CatalogDoc, context: &Context<'_>) -> Result<HashMap<String, ServiceId>> {
    let mut service_by_name =
        HashMap::with_capacity_and_hasher(doc.services.len(), rustc_hash::FxBuildHasher);
    for (index, service) in doc.services.iter().enumerate() {
        let file = context.origins.services[index];
        if service.name.trim().is_empty() {
            return Err(context.report.invalid(
                file,
                format!("service #{}", index + 1),
                "name",
                "empty name".into(),
            ));
        }
        if service_by_name
            .insert(service.name.clone(), ServiceId(index as u32))
            .is_some()
        {
            return Err(context.report.invalid(
                file,
                format!("service {}", service.name),
                &service.name,
                "duplicate service name".into(),
            ));
        }
    }
    Ok(service_by_name)
}

impl Services {
    /// The service written at `index`, its components added to the component tables.
    fn build_service(
        &mut self,
        context: &Context<'_>,
        index: usize,
        service_doc: &ServiceDoc,
    ) -> Result<Service> {
        let file = context.origins.services[index];
        let id = ServiceId(index as u32);
        let item = || format!("service {}", service_doc.name);
        let after = self.service_after(context, id, service_doc, file, &item)?;
        let (since, until) = context.lifetime(
            service_doc.since.as_deref(),
            service_doc.until.as_deref(),
            file,
            &item,
        )?;
        let upgrade_check_since = upgrade_check_since(context, service_doc, file, &item)?;
        let versions = service_versions(context, service_doc, (since, until), file, &item)?;
        let components = self.add_components(context, id, service_doc, file, &item)?;
        let restart_order = self.restart_order(context, &components, service_doc, file, &item)?;
        let databases = resolve_databases(&service_doc.databases, context, file, &item)?;
        let max_skew = match &service_doc.max_skew {
            None => MaxSkew::default(),
            Some(MaxSkewDoc::Releases(count)) => MaxSkew::Releases(*count),
            Some(MaxSkewDoc::Named(name)) if name == "slurp" => MaxSkew::Slurp,
            Some(MaxSkewDoc::Named(name)) => {
                return Err(context.report.invalid(
                    file,
                    item(),
                    name,
                    format!("max_skew {name:?} is neither a number of releases nor `slurp`"),
                ))
            }
        };
        Ok(Service {
            name: service_doc.name.clone(),
            after,
            since,
            until,
            versions,
            upgrade_check: service_doc.upgrade_check.clone(),
            upgrade_check_since,
            databases,
            max_skew,
            components,
            restart_order,
            x: service_doc.x.0.clone(),
        })
    }

    /// The service's `restart_order`: names of its own components, each once, naming every
    /// control component (a rolling upgrade restarts them in that order).
    fn restart_order(
        &self,
        context: &Context<'_>,
        components: &[ComponentId],
        service_doc: &ServiceDoc,
        file: usize,
        item: &dyn Fn() -> String,
    ) -> Result<Vec<ComponentId>> {
        if service_doc.restart_order.is_empty() {
            return Ok(Vec::new());
        }
        let mut order: Vec<ComponentId> = Vec::with_capacity(service_doc.restart_order.len());
        for name in &service_doc.restart_order {
            let found = self
                .component_by_name
                .get(name)
                .copied()
                .filter(|id| components.contains(id));
            let Some(id) = found else {
                return Err(context.report.invalid(
                    file,
                    item(),
                    name,
                    format!(
                        "`restart_order` names {name:?}, which is not a component of this service"
                    ),
                ));
            };
            if order.contains(&id) {
                return Err(context.report.invalid(
                    file,
                    item(),
                    name,
                    format!("`restart_order` names {name:?} twice"),
                ));
            }
            order.push(id);
        }
        let unnamed = components
            .iter()
            .find(|&&id| self.components[id.index()].role == Role::Control && !order.contains(&id));
        if let Some(&id) = unnamed {
            let name = &self.components[id.index()].name;
            return Err(context.report.invalid(
                file,
                item(),
                "restart_order",
                format!("`restart_order` leaves out the control component {name}: it must name every one"),
            ));
        }
        Ok(order)
    }

    /// The services that service `id` comes after; refuses unknown names and itself.
    fn service_after(
        &self,
        context: &Context<'_>,
        id: ServiceId,
        service_doc: &ServiceDoc,
        file: usize,
        item: &dyn Fn() -> String,
    ) -> Result<Vec<ServiceId>> {
        let mut after = Vec::with_capacity(service_doc.after.len());
        for other in &service_doc.after {
            let other_id = self.by_name.get(other).copied().ok_or_else(|| {
                context.report.invalid(
                    file,
                    item(),
                    other,
                    format!("`after` names unknown service {other:?}"),
                )
            })?;
            if other_id == id {
                return Err(context.report.invalid(
                    file,
                    item(),
                    other,
                    "a service cannot come after itself".into(),
                ));
            }
            after.push(other_id);
        }
        Ok(after)
    }

    /// Adds the components of service `service` to the tables; refuses empty names and
    /// names used before (in any service), and checks each one's lifetime.
    fn add_components(
        &mut self,
        context: &Context<'_>,
        service: ServiceId,
        service_doc: &ServiceDoc,
        file: usize,
        item: &dyn Fn() -> String,
    ) -> Result<Vec<ComponentId>> {
        let mut component_ids = Vec::with_capacity(service_doc.components.len());
        for component in &service_doc.components {
            let component_item = || format!("component {}", component.name);
            if component.name.trim().is_empty() {
                return Err(context.report.invalid(
                    file,
                    item(),
                    "components",
                    "a component has an empty name".into(),
                ));
            }
            let component_id = ComponentId(self.components.len() as u32);
            if self
                .component_by_name
                .insert(component.name.clone(), component_id)
                .is_some()
            {
                return Err(context.report.invalid(
                    file,
                    component_item(),
                    &component.name,
                    "duplicate component name (names are unique across services)".into(),
                ));
            }
            let (since, until) = context.lifetime(
                component.since.as_deref(),
                component.until.as_deref(),
                file,
                &component_item,
            )?;
            let duration_s = match component.duration_s {
                None => None,
                Some(duration) if duration.is_finite() && duration >= 0.0 => {
                    // Finite and non-negative: `as` saturates what is larger than u64.
                    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
                    let seconds = duration.ceil() as u64;
                    Some(seconds)
                }
                Some(duration) => {
                    return Err(context.report.invalid(
                        file,
                        component_item(),
                        "duration_s",
                        format!("duration_s {duration} is not a non-negative number"),
                    ))
                }
            };
            self.components.push(Component {
                name: component.name.clone(),
                service,
                role: component.role,
                since,
                until,
                unit: component.unit.clone(),
                removal_needs: component.removal_needs.clone(),
                duration_s,
                x: component.x.0.clone(),
            });
            component_ids.push(component_id);
        }
        Ok(component_ids)
    }
}

/// The release from which a service's upgrade check exists; refuses one without a check.
fn upgrade_check_since(
    context: &Context<'_>,
    service_doc: &ServiceDoc,
    file: usize,
    item: &dyn Fn() -> String,
) -> Result<Option<ReleaseId>> {
    let upgrade_check_since = service_doc
        .upgrade_check_since
        .as_deref()
        .map(|r| context.release(r, file, item))
        .transpose()?;
    if upgrade_check_since.is_some() && service_doc.upgrade_check.is_none() {
        return Err(context.report.invalid(
            file,
            item(),
            "upgrade_check_since",
            "`upgrade_check_since` without `upgrade_check`".into(),
        ));
    }
    Ok(upgrade_check_since)
}

/// A service's version at each release (by release index): semver, within the service's
/// lifetime `(since, until)`, and increasing along the releases.
fn service_versions(
    context: &Context<'_>,
    service_doc: &ServiceDoc,
    (since, until): (Option<ReleaseId>, Option<ReleaseId>),
    file: usize,
    item: &dyn Fn() -> String,
) -> Result<Vec<Option<semver::Version>>> {
    let mut versions: Vec<Option<semver::Version>> = vec![None; context.releases.len()];
    for (release_name, version_text) in &service_doc.versions {
        let release = context.release(release_name, file, item)?;
        let version = semver::Version::parse(version_text).map_err(|err| {
            context
                .report
                .invalid(
                    file,
                    item(),
                    version_text,
                    format!("version {version_text:?} for {release_name} is not semver: {err}"),
                )
                .caused_by(err)
        })?;
        let lifetime_ok = since.is_none_or(|s| s <= release) && until.is_none_or(|u| release <= u);
        if !lifetime_ok {
            return Err(context.report.invalid(
                file,
                item(),
                release_name,
                format!("has a version for {release_name}, outside its lifetime"),
            ));
        }
        versions[release.index()] = Some(version);
    }
    check_versions_increase(&versions, context, file, item)?;
    Ok(versions)
}

/// Refuses a version that is not greater than the one of an earlier release.
fn check_versions_increase(
    versions: &[Option<semver::Version>],
    context: &Context<'_>,
    file: usize,
    item: &dyn Fn() -> String,
) -> Result<()> {
    let releases = context.releases;
    let mut last: Option<(usize, &semver::Version)> = None;
    for (release_index, version) in versions.iter().enumerate() {
        if let Some(version) = version {
            if let Some((previous_index, previous)) = last {
                if version <= previous {
                    let release_name = &releases[release_index].name;
                    return Err(context.report.invalid(
                        file,
                        item(),
                        &version.to_string(),
                        format!(
                            "version {version} for {release_name} does not increase on {previous} for {}",
                            releases[previous_index].name
                        ),
                    ));
                }
            }
            last = Some((release_index, version));
        }
    }
    Ok(())
}

/// A service's databases, their lifetimes resolved and checked; a name given twice is an
/// error (a backup would dump it twice).
fn resolve_databases(
    databases: &[DatabaseDoc],
    context: &Context<'_>,
    file: usize,
    item: &dyn Fn() -> String,
) -> Result<Vec<Database>> {
    let mut resolved: Vec<Database> = Vec::with_capacity(databases.len());
    for database in databases {
        let (name, since, until) = match database {
            DatabaseDoc::Name(name) => (name, None, None),
            DatabaseDoc::Lifetime(lifetime) => (
                &lifetime.name,
                lifetime.since.as_deref(),
                lifetime.until.as_deref(),
            ),
        };
        let database_item = || format!("{}: database {name}", item());
        if resolved.iter().any(|other| other.name == *name) {
            return Err(context.report.invalid(
                file,
                database_item(),
                "databases",
                "duplicate database name".into(),
            ));
        }
        let (since, until) = context.lifetime(since, until, file, &database_item)?;
        resolved.push(Database {
            name: name.clone(),
            since,
            until,
        });
    }
    Ok(resolved)
}

/// Refuses a cycle in `after` among services.
fn check_service_cycle(services: &[Service], context: &Context<'_>) -> Result<()> {
    let service_edges: Vec<Vec<usize>> = services
        .iter()
        .map(|s| s.after.iter().map(|a| a.index()).collect())
        .collect();
    match find_cycle(&service_edges) {
        Some(cycle) => Err(Error::Cycle {
            file: context.root().to_owned(),
            what: "services (after)",
            cycle: cycle
                .into_iter()
                .map(|i| services[i].name.clone())
                .collect(),
        }),
        None => Ok(()),
    }
}

/// The migrations of a catalog, with the lookups the catalog keeps of them.
pub(super) struct Migrations {
    pub(super) list: Vec<Migration>,
    pub(super) by_id: MigrationIndex,
    /// Migrations of each service, in catalog order.
    by_service: Vec<Vec<MigrationId>>,
    /// Whether no migration id or command needs escaping in JSON.
    plain: bool,
}

/// The migrations, every name in them resolved and every rule about them checked;
/// `requires` among them acyclic. Their ids and commands move out of `doc`, and its list
/// of migrations is freed.
fn build_migrations(
    doc: &mut CatalogDoc,
    context: &Context<'_>,
    services: &Services,
) -> Result<Migrations> {
    let written = doc.migrations.as_slice();
    // Neither needs the other, and each is a pass over every migration: a large catalog
    // has them done side by side.
    let (by_id, release_of) = crate::parallel::join(
        written.len(),
        || index_migrations(written, context),
        || migration_releases(written, context.release_by_name),
    );
    let by_id = by_id?;
    let task_ids: HashMap<String, crate::task::TaskId> = doc
        .tasks
        .iter()
        .enumerate()
        .map(|(index, task)| (task.id.clone(), crate::task::TaskId(index as u32)))
        .collect();
    let lookups = MigrationLookups {
        context,
        task_ids: &task_ids,
        services,
        written,
        by_id: &by_id,
        release_of: &release_of,
    };
    let mut migrations = lookups.resolve_all()?;
    let plain = move_strings(&mut migrations, &mut doc.migrations);
    check_migration_cycle(&migrations, std::mem::take(&mut doc.migrations), context)?;
    let mut by_service = vec![Vec::new(); services.list.len()];
    for (index, migration) in migrations.iter().enumerate() {
        by_service[migration.service.index()].push(MigrationId(index as u32));
    }
    Ok(Migrations {
        list: migrations,
        by_id,
        by_service,
        plain,
    })
}

/// The id index, built once and kept as the catalog's lookup table; refuses empty and
/// repeated ids.
fn index_migrations(written: &[MigrationDoc], context: &Context<'_>) -> Result<MigrationIndex> {
    let id_of = |id: MigrationId| written[id.index()].id.as_str();
    let mut index_by_id = MigrationIndex::with_capacity(written.len());
    for (index, migration) in written.iter().enumerate() {
        let file = context.origins.migrations[index];
        if migration.id.trim().is_empty() {
            return Err(context.report.invalid(
                file,
                format!("migration #{}", index + 1),
                "id",
                "empty id".into(),
            ));
        }
        if index_by_id
            .insert(MigrationId(index as u32), id_of)
            .is_err()
        {
            return Err(context.report.invalid(
                file,
                format!("migration {}", migration.id),
                &migration.id,
                "duplicate migration id".into(),
            ));
        }
    }
    Ok(index_by_id)
}

/// Each migration's release, resolved once (`None` when unknown): requirements look at
/// their target's. Catalogs list a service's migrations of one release together, so a name
/// is most often the one before it, and a string comparison spares a hash lookup.
fn migration_releases(
    written: &[MigrationDoc],
    release_by_name: &HashMap<String, ReleaseId>,
) -> Vec<Option<ReleaseId>> {
    let mut previous_release: Option<(&str, Option<ReleaseId>)> = None;
    written
        .iter()
        .map(|m| match previous_release {
            Some((name, release)) if name == m.release => release,
            _ => {
                let release = release_by_name.get(m.release.as_str()).copied();
                previous_release = Some((&m.release, release));
                release
            }
        })
        .collect()
}

/// What resolving the names of a migration looks in.
struct MigrationLookups<'a> {
    context: &'a Context<'a>,
    /// The tasks' ids, which a migration may require too.
    task_ids: &'a HashMap<String, crate::task::TaskId>,
    services: &'a Services,
    /// The migrations as written.
    written: &'a [MigrationDoc],
    by_id: &'a MigrationIndex,
    /// Each written migration's release, `None` when it names an unknown one.
    release_of: &'a [Option<ReleaseId>],
}

impl MigrationLookups<'_> {
    /// Every migration, its names resolved (its id and command still empty: they move out
    /// of the document afterwards). A large catalog resolves its halves side by side; the
    /// first error in document order wins, as in one pass over all of them.
    fn resolve_all(&self) -> Result<Vec<Migration>> {
        let count = self.written.len();
        let mut migrations = Vec::with_capacity(count);
        let middle = count / 2;
        let (first_half, second_half) = crate::parallel::join(
            count,
            || self.resolve(0..middle, &mut migrations),
            || {
                let mut tail = Vec::with_capacity(count - middle);
                self.resolve(middle..count, &mut tail).map(|()| tail)
            },
        );
        // An error in the first half comes first in document order.
        migrations.extend(first_half.and(second_half)?);
        Ok(migrations)
    }

    /// Resolves the names of the migrations in `range` into `migrations`, in order.
    fn resolve(
        &self,
        range: std::ops::Range<usize>,
        migrations: &mut Vec<Migration>,
    ) -> Result<()> {
        // As with releases, a service's migrations come together: the name before is
        // most often the same.
        let mut previous_service: Option<(&str, ServiceId)> = None;
        for index in range {
            let m = &self.written[index];
            let service = match previous_service {
                Some((name, service)) if name == m.service => service,
                _ => {
                    let service = self.service(index)?;
                    previous_service = Some((&m.service, service));
                    service
                }
            };
            migrations.push(self.resolve_one(index, service)?);
        }
        Ok(())
    }

    /// The service of the migration written at `index`.
    fn service(&self, index: usize) -> Result<ServiceId> {
        let m = &self.written[index];
        self.services
            .by_name
            .get(m.service.as_str())
            .copied()
            .ok_or_else(|| {
                self.context.report.invalid(
                    self.context.origins.migrations[index],
                    format!("migration {}", m.id),
                    &m.service,
                    format!("unknown service {:?}", m.service),
                )
            })
    }

    /// The migration written at `index`, of service `service`.
    fn resolve_one(&self, index: usize, service: ServiceId) -> Result<Migration> {
        let m = &self.written[index];
        let file = self.context.origins.migrations[index];
        let item = || format!("migration {}", m.id);
        let report = &self.context.report;
        let release = self.release_of[index].ok_or_else(|| {
            report.invalid(
                file,
                item(),
                &m.release,
                format!("unknown release {:?}", m.release),
            )
        })?;
        if !self.services.list[service.index()].exists_at(release) {
            return Err(report.invalid(
                file,
                item(),
                &m.id,
                format!(
                    "release {} is outside the lifetime of service {}",
                    m.release, m.service
                ),
            ));
        }
        let (requires, requires_tasks) = self.requires(m, release, file, &item)?;
        let needs_running = self.needs_running(m, release, file, &item)?;
        if let Some(duration) = m.duration_s {
            if !duration.is_finite() || duration < 0.0 {
                return Err(report.invalid(
                    file,
                    item(),
                    "duration_s",
                    format!("duration_s {duration} is not a non-negative number"),
                ));
            }
        }
        Ok(Migration {
            // Moved out of the document later, once nothing borrows it any more.
            id: String::new(),
            service,
            release,
            kind: m.kind,
            command: String::new(),
            requires,
            requires_tasks,
            blocking: m.kind == MigrationKind::Data && m.blocking,
            needs_running,
            reversible: m.reversible,
            duration_s: m.duration_s,
            // Moved out of the document later, with the id and the command.
            x: crate::extras::Extras::new(),
            revisions: Vec::new(),
            command_to_revision: m.command_to_revision.clone(),
        })
    }

    /// The migrations `m` (of release `release`) requires; refuses unknown ones and ones
    /// that can never run before it.
    fn requires(
        &self,
        m: &MigrationDoc,
        release: ReleaseId,
        file: usize,
        item: &dyn Fn() -> String,
    ) -> Result<(Vec<MigrationId>, Vec<crate::task::TaskId>)> {
        let written = self.written;
        let id_of = |id: MigrationId| written[id.index()].id.as_str();
        let report = &self.context.report;
        let mut requires = Vec::with_capacity(m.requires.len());
        let mut requires_tasks = Vec::new();
        for required in &m.requires {
            if let (None, Some(&task)) = (
                self.by_id.get(required, id_of),
                self.task_ids.get(required.as_str()),
            ) {
                requires_tasks.push(task);
                continue;
            }
            let required_id = self.by_id.get(required, id_of).ok_or_else(|| {
                report.invalid(
                    file,
                    item(),
                    required,
                    format!("requires {required:?}, which is neither a migration nor a task"),
                )
            })?;
            let required_index = required_id.index();
            let other = &written[required_index];
            let other_release = self.release_of[required_index];
            if other_release.is_some_and(|r| r > release) {
                return Err(report.invalid(
                    file,
                    item(),
                    required,
                    format!(
                        "requires {required} of the later release {}, which can never run first",
                        other.release
                    ),
                ));
            }
            // Within one service and release the kind fixes the order; a requirement
            // against it could never be met, so say so now rather than at planning time.
            if other.service == m.service
                && other_release == Some(release)
                && other.kind.phase() > m.kind.phase()
            {
                return Err(report.invalid(
                    file,
                    item(),
                    required,
                    format!(
                        "{} migration requires {required}, a {} migration of the same service and release, but {} runs after {}",
                        m.kind.as_str(),
                        other.kind.as_str(),
                        other.kind.as_str(),
                        m.kind.as_str()
                    ),
                ));
            }
            requires.push(MigrationId(required_index as u32));
        }
        Ok((requires, requires_tasks))
    }

    /// The components `m` (of release `release`) needs running; refuses unknown ones and
    /// ones that do not exist at its release.
    fn needs_running(
        &self,
        m: &MigrationDoc,
        release: ReleaseId,
        file: usize,
        item: &dyn Fn() -> String,
    ) -> Result<Vec<ComponentId>> {
        let report = &self.context.report;
        let services = self.services;
        let mut needs_running = Vec::with_capacity(m.needs_running.len());
        for component_name in &m.needs_running {
            let component = services
                .component_by_name
                .get(component_name)
                .copied()
                .ok_or_else(|| {
                    report.invalid(
                        file,
                        item(),
                        component_name,
                        format!("needs unknown component {component_name:?} running"),
                    )
                })?;
            let component_data = &services.components[component.index()];
            if !component_data.exists_at(release)
                || !services.list[component_data.service.index()].exists_at(release)
            {
                return Err(report.invalid(
                    file,
                    item(),
                    component_name,
                    format!(
                        "needs {component_name} running, but it does not exist at {}",
                        self.context.releases[release.index()].name
                    ),
                ));
            }
            needs_running.push(component);
        }
        Ok(needs_running)
    }
}

/// Moves each migration's id and command from the document into the model, and says
/// whether JSON has to escape none of them.
///
/// The strings move rather than being copied: a large catalog has a hundred thousand
/// migrations, and the document is dropped right after validation. Meanwhile they are
/// looked at once, for the catalog's plain-text flag. A large catalog moves its halves side
/// by side.
fn move_strings(migrations: &mut [Migration], written: &mut [MigrationDoc]) -> bool {
    let move_half = |migrations: &mut [Migration], written: &mut [MigrationDoc]| {
        let mut plain = true;
        for (migration, written) in migrations.iter_mut().zip(written) {
            migration.id = std::mem::take(&mut written.id);
            migration.command = std::mem::take(&mut written.command);
            migration.x = std::mem::take(&mut written.x);
            plain &= !needs_escape(migration.id.as_bytes())
                && !needs_escape(migration.command.as_bytes());
        }
        plain
    };
    let count = migrations.len();
    let middle = count / 2;
    let (first, second) = migrations.split_at_mut(middle);
    let (written_first, written_second) = written.split_at_mut(middle);
    let (first_plain, second_plain) = crate::parallel::join(
        count,
        || move_half(first, written_first),
        || move_half(second, written_second),
    );
    first_plain && second_plain
}

/// Refuses a cycle in `requires` among migrations. The check walks every requirement; a
/// large catalog frees `written` (what is left of the migrations' document, a hundred
/// thousand small lists) beside it.
fn check_migration_cycle(
    migrations: &[Migration],
    written: Vec<MigrationDoc>,
    context: &Context<'_>,
) -> Result<()> {
    let find_cycle = || {
        find_cycle_by(migrations.len(), |node, index| {
            migrations[node].requires.get(index).map(|r| r.index())
        })
    };
    let (cycle, ()) = crate::parallel::join(migrations.len(), find_cycle, move || drop(written));
    match cycle {
        Some(cycle) => Err(Error::Cycle {
            file: context.root().to_owned(),
            what: "migrations (requires)",
            cycle: cycle
                .into_iter()
                .map(|i| migrations[i].id.clone())
                .collect(),
        }),
        None => Ok(()),
    }
}

fn build_extensions(
    doc: &CatalogDoc,
    context: &Context<'_>,
    service_by_name: &HashMap<String, ServiceId>,
) -> Result<Vec<Extension>> {
    let report = &context.report;
    let mut seen: HashMap<(ServiceId, &str), usize> = HashMap::default();
    let mut extensions = Vec::with_capacity(doc.extensions.len());
    for (index, e) in doc.extensions.iter().enumerate() {
        let file = context.origins.extensions[index];
        let item = || format!("{} extension {}", e.service, e.name);
        let service = service_by_name.get(&e.service).copied().ok_or_else(|| {
            report.invalid(
                file,
                item(),
                &e.service,
                format!("unknown service {:?}", e.service),
            )
        })?;
        if seen.insert((service, e.name.as_str()), index).is_some() {
            return Err(report.invalid(file, item(), &e.name, "duplicate extension".into()));
        }
        let (since, until) =
            context.lifetime(e.since.as_deref(), e.until.as_deref(), file, &item)?;
        let mut consumed_by = Vec::with_capacity(e.consumed_by.len());
        for consumer in &e.consumed_by {
            consumed_by.push(service_by_name.get(consumer).copied().ok_or_else(|| {
                report.invalid(
                    file,
                    item(),
                    consumer,
                    format!("consumed by unknown service {consumer:?}"),
                )
            })?);
        }
        extensions.push(Extension {
            service,
            name: e.name.clone(),
            since,
            until,
            requires: e.requires.clone(),
            consumed_by,
        });
    }
    for (index, e) in doc.extensions.iter().enumerate() {
        let service = extensions[index].service;
        for required in &e.requires {
            if !seen.contains_key(&(service, required.as_str())) {
                return Err(report.invalid(
                    context.origins.extensions[index],
                    format!("{} extension {}", e.service, e.name),
                    required,
                    format!("requires unknown extension {required:?} of {}", e.service),
                ));
            }
        }
    }
    Ok(extensions)
}

fn build_config_changes(
    doc: &CatalogDoc,
    context: &Context<'_>,
    service_by_name: &HashMap<String, ServiceId>,
) -> Result<Vec<ConfigChange>> {
    let mut changes = Vec::with_capacity(doc.config_changes.len());
    for (index, c) in doc.config_changes.iter().enumerate() {
        let file = context.origins.config_changes[index];
        let option = c.from.as_deref().unwrap_or("");
        let item = || {
            format!(
                "{} config change {} {}",
                c.service,
                action_name(c.action),
                option
            )
        };
        let service = service_by_name.get(&c.service).copied().ok_or_else(|| {
            context.report.invalid(
                file,
                item(),
                &c.service,
                format!("unknown service {:?}", c.service),
            )
        })?;
        let release = context.release(&c.release, file, &item)?;
        let missing = match c.action {
            _ if c.from.is_none() => Some("from"),
            ConfigAction::Rename if c.to.is_none() => Some("to"),
            ConfigAction::Default if c.value.is_none() => Some("value"),
            _ => None,
        };
        if let Some(field) = missing {
            return Err(context.report.invalid(
                file,
                item(),
                &c.service,
                format!("a {} change needs `{field}`", action_name(c.action)),
            ));
        }
        changes.push(ConfigChange {
            service,
            release,
            action: c.action,
            from: c.from.clone(),
            to: c.to.clone(),
            value: c.value.clone(),
            file: c.file.clone(),
        });
    }
    Ok(changes)
}

fn action_name(action: ConfigAction) -> &'static str {
    match action {
        ConfigAction::Rename => "rename",
        ConfigAction::Remove => "remove",
        ConfigAction::Default => "default",
    }
}

fn is_iso_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    matches!(
        (number(year, 4), number(month, 2), number(day, 2)),
        (Some(_), Some(1..=12), Some(1..=31))
    )
}

/// Finds a cycle in a graph given as adjacency lists (`edges[a]` = nodes `a` depends on);
/// returns the nodes along it with the first repeated at the end.
///
/// # Complexity
/// O(V + E), iterative (no recursion, so deep chains cannot overflow the stack).
pub(crate) fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    find_cycle_by(edges.len(), |node, index| edges[node].get(index).copied())
}

/// [`find_cycle`] over a graph given by a function: `edge(node, i)` is the `i`-th node that
/// `node` depends on, or `None` past the last (so that callers need not build lists).
pub(crate) fn find_cycle_by(
    count: usize,
    edge: impl Fn(usize, usize) -> Option<usize>,
) -> Option<Vec<usize>> {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let mut color = vec![WHITE; count];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..count {
        if color[start] != WHITE {
            continue;
        }
        color[start] = GREY;
        stack.push((start, 0));
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(target) = edge(node, *next) {
                *next += 1;
                match color[target] {
                    WHITE => {
                        color[target] = GREY;
                        stack.push((target, 0));
                    }
                    GREY => {
                        let begin = stack.iter().position(|&(n, _)| n == target).unwrap_or(0);
                        let mut cycle: Vec<usize> =
                            stack[begin..].iter().map(|&(n, _)| n).collect();
                        cycle.push(target);
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                color[node] = BLACK;
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cycle_with_its_members() {
        let edges = vec![vec![1], vec![2], vec![0], vec![]];
        assert_eq!(find_cycle(&edges), Some(vec![0, 1, 2, 0]));
        assert_eq!(find_cycle(&[vec![1], vec![], vec![0, 1]]), None);
    }

    #[test]
    fn iso_dates() {
        assert!(is_iso_date("2016-10-06"));
        assert!(!is_iso_date("2016-13-06"));
        assert!(!is_iso_date("16-10-06"));
        assert!(!is_iso_date("yesterday"));
    }
}
