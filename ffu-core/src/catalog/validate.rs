//! Turning a merged document into a validated [`Catalog`], checking every rule on the way.

use rustc_hash::FxHashMap as HashMap;

use super::document::{CatalogDoc, DatabaseDoc, MigrationDoc, CATALOG_FORMAT};
use super::index::MigrationIndex;
use super::load::{Loaded, Origins, SourceFile};
use super::Catalog;
use crate::error::{Error, Result};
use crate::extension::{ConfigAction, ConfigChange, Extension};
use crate::migration::{Migration, MigrationId, MigrationKind};
use crate::release::{Release, ReleaseId, SkipEdge, SkipLevel};
use crate::service::{Component, ComponentId, Database, Service, ServiceId};

/// Resolves a release name for an item of a file, or says which item named an unknown one.
type ResolveRelease<'a> = dyn Fn(&str, usize, &dyn Fn() -> String) -> Result<ReleaseId> + 'a;

/// Builds errors that name the file an item came from and where it is written there.
struct Reporter<'a> {
    files: &'a [SourceFile],
}

impl Reporter<'_> {
    /// An error about `item`; the location is that of `needle` within the item (whose
    /// name is the last word of `item`), or of the item itself.
    fn invalid(&self, file_index: usize, item: String, needle: &str, message: String) -> Error {
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

/// Validates a loaded document and builds the catalog.
pub(super) fn build(loaded: Loaded) -> Result<Catalog> {
    let Loaded {
        mut doc,
        files,
        origins,
    } = loaded;
    let report = Reporter { files: &files };
    let root = &files[0];

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
    let name = match doc.name.as_deref() {
        Some(name) if !name.trim().is_empty() => name.to_owned(),
        _ => {
            return Err(report.invalid(0, "name".into(), "name", "the catalog needs a name".into()))
        }
    };

    let (releases, release_by_name) = build_releases(&doc, &origins, &report)?;
    let resolve_release = |name: &str, file: usize, item: &dyn Fn() -> String| {
        release_by_name
            .get(name)
            .copied()
            .ok_or_else(|| report.invalid(file, item(), name, format!("unknown release {name:?}")))
    };
    let skip_level = doc.skip_level.unwrap_or_default();
    let skip_edges = build_edges(
        &doc,
        &origins,
        &report,
        &releases,
        skip_level,
        &resolve_release,
    )?;

    // Services and components.
    let mut service_by_name =
        HashMap::with_capacity_and_hasher(doc.services.len(), rustc_hash::FxBuildHasher);
    for (index, service) in doc.services.iter().enumerate() {
        let file = origins.services[index];
        if service.name.trim().is_empty() {
            return Err(report.invalid(
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
            return Err(report.invalid(
                file,
                format!("service {}", service.name),
                &service.name,
                "duplicate service name".into(),
            ));
        }
    }
    let mut services = Vec::with_capacity(doc.services.len());
    let mut components = Vec::new();
    let mut component_by_name = HashMap::default();
    for (index, service_doc) in doc.services.iter().enumerate() {
        let file = origins.services[index];
        let id = ServiceId(index as u32);
        let item = || format!("service {}", service_doc.name);
        let mut after = Vec::with_capacity(service_doc.after.len());
        for other in &service_doc.after {
            let other_id = service_by_name.get(other).copied().ok_or_else(|| {
                report.invalid(
                    file,
                    item(),
                    other,
                    format!("`after` names unknown service {other:?}"),
                )
            })?;
            if other_id == id {
                return Err(report.invalid(
                    file,
                    item(),
                    other,
                    "a service cannot come after itself".into(),
                ));
            }
            after.push(other_id);
        }
        let since = service_doc
            .since
            .as_deref()
            .map(|r| resolve_release(r, file, &item))
            .transpose()?;
        let until = service_doc
            .until
            .as_deref()
            .map(|r| resolve_release(r, file, &item))
            .transpose()?;
        check_bounds(since, until, &releases, file, &item, &report)?;
        let upgrade_check_since = service_doc
            .upgrade_check_since
            .as_deref()
            .map(|r| resolve_release(r, file, &item))
            .transpose()?;
        if upgrade_check_since.is_some() && service_doc.upgrade_check.is_none() {
            return Err(report.invalid(
                file,
                item(),
                "upgrade_check_since",
                "`upgrade_check_since` without `upgrade_check`".into(),
            ));
        }
        let mut versions: Vec<Option<semver::Version>> = vec![None; releases.len()];
        for (release_name, version_text) in &service_doc.versions {
            let release = resolve_release(release_name, file, &item)?;
            let version = semver::Version::parse(version_text).map_err(|err| {
                report
                    .invalid(
                        file,
                        item(),
                        version_text,
                        format!("version {version_text:?} for {release_name} is not semver: {err}"),
                    )
                    .caused_by(err)
            })?;
            let lifetime_ok =
                since.is_none_or(|s| s <= release) && until.is_none_or(|u| release <= u);
            if !lifetime_ok {
                return Err(report.invalid(
                    file,
                    item(),
                    release_name,
                    format!("has a version for {release_name}, outside its lifetime"),
                ));
            }
            versions[release.index()] = Some(version);
        }
        let mut last: Option<(usize, &semver::Version)> = None;
        for (release_index, version) in versions.iter().enumerate() {
            if let Some(version) = version {
                if let Some((previous_index, previous)) = last {
                    if version <= previous {
                        let release_name = &releases[release_index].name;
                        return Err(report.invalid(
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
        let mut component_ids = Vec::with_capacity(service_doc.components.len());
        for component in &service_doc.components {
            let component_item = || format!("component {}", component.name);
            if component.name.trim().is_empty() {
                return Err(report.invalid(
                    file,
                    item(),
                    "components",
                    "a component has an empty name".into(),
                ));
            }
            let component_id = ComponentId(components.len() as u32);
            if component_by_name
                .insert(component.name.clone(), component_id)
                .is_some()
            {
                return Err(report.invalid(
                    file,
                    component_item(),
                    &component.name,
                    "duplicate component name (names are unique across services)".into(),
                ));
            }
            let c_since = component
                .since
                .as_deref()
                .map(|r| resolve_release(r, file, &component_item))
                .transpose()?;
            let c_until = component
                .until
                .as_deref()
                .map(|r| resolve_release(r, file, &component_item))
                .transpose()?;
            check_bounds(c_since, c_until, &releases, file, &component_item, &report)?;
            components.push(Component {
                name: component.name.clone(),
                service: id,
                role: component.role,
                since: c_since,
                until: c_until,
            });
            component_ids.push(component_id);
        }
        services.push(Service {
            name: service_doc.name.clone(),
            after,
            since,
            until,
            versions,
            upgrade_check: service_doc.upgrade_check.clone(),
            upgrade_check_since,
            databases: resolve_databases(
                &service_doc.databases,
                &resolve_release,
                file,
                &item,
                &releases,
                &report,
            )?,
            max_skew: service_doc.max_skew.unwrap_or(1),
            components: component_ids,
        });
    }
    let service_names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    let service_edges: Vec<Vec<usize>> = services
        .iter()
        .map(|s| s.after.iter().map(|a| a.index()).collect())
        .collect();
    if let Some(cycle) = find_cycle(&service_edges) {
        return Err(Error::Cycle {
            file: root.name.clone(),
            what: "services (after)",
            cycle: cycle
                .into_iter()
                .map(|i| service_names[i].to_owned())
                .collect(),
        });
    }

    let (migrations, migration_by_id, plain_migrations) = build_migrations(
        &mut doc,
        &origins,
        &report,
        &releases,
        &release_by_name,
        &service_by_name,
        &component_by_name,
        &services,
        &components,
    )?;
    // The cycle check walks every requirement; a large catalog frees what is left of its
    // migrations' document (a hundred thousand small lists) beside it.
    let find_cycle = || {
        find_cycle_by(migrations.len(), |node, index| {
            migrations[node].requires.get(index).map(|r| r.index())
        })
    };
    let written = std::mem::take(&mut doc.migrations);
    let (cycle, ()) = crate::parallel::join(migrations.len(), find_cycle, move || drop(written));
    let mut migrations_by_service = vec![Vec::new(); services.len()];
    for (index, migration) in migrations.iter().enumerate() {
        migrations_by_service[migration.service.index()].push(MigrationId(index as u32));
    }
    if let Some(cycle) = cycle {
        return Err(Error::Cycle {
            file: root.name.clone(),
            what: "migrations (requires)",
            cycle: cycle
                .into_iter()
                .map(|i| migrations[i].id.clone())
                .collect(),
        });
    }

    let plain = |text: &str| !crate::plan_json::needs_escape(text.as_bytes());
    let plain_text = plain_migrations
        && releases.iter().all(|r| plain(&r.name))
        && services.iter().all(|s| plain(&s.name))
        && components.iter().all(|c| plain(&c.name));
    let extensions = build_extensions(
        &doc,
        &origins,
        &report,
        &service_by_name,
        &resolve_release,
        &releases,
    )?;
    let config_changes =
        build_config_changes(&doc, &origins, &report, &service_by_name, &resolve_release)?;

    Ok(Catalog {
        name,
        file: root.name.clone(),
        releases,
        release_by_name,
        skip_level,
        skip_edges,
        services,
        service_by_name,
        components,
        component_by_name,
        migrations,
        migration_by_id,
        migrations_by_service,
        extensions,
        plain_text,
        config_changes,
        sources: files,
    })
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
    origins: &Origins,
    report: &Reporter<'_>,
    releases: &[Release],
    skip_level: SkipLevel,
    resolve_release: &ResolveRelease<'_>,
) -> Result<Vec<SkipEdge>> {
    let mut edges = Vec::new();
    for (index, edge) in doc.edges.iter().enumerate() {
        let file = origins.edges[index];
        let item = || format!("edge {} -> {}", edge.from, edge.to);
        let from = resolve_release(&edge.from, file, &item)?;
        let to = resolve_release(&edge.to, file, &item)?;
        if to <= from {
            return Err(report.invalid_near(
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

fn check_bounds(
    since: Option<ReleaseId>,
    until: Option<ReleaseId>,
    releases: &[Release],
    file: usize,
    item: &dyn Fn() -> String,
    report: &Reporter<'_>,
) -> Result<()> {
    if let (Some(since), Some(until)) = (since, until) {
        if until < since {
            let until_name = &releases[until.index()].name;
            return Err(report.invalid(
                file,
                item(),
                until_name,
                format!(
                    "`until: {until_name}` comes before `since: {}`",
                    releases[since.index()].name
                ),
            ));
        }
    }
    Ok(())
}

/// A service's databases, their lifetimes resolved and checked; a name given twice is an
/// error (a backup would dump it twice).
fn resolve_databases(
    databases: &[DatabaseDoc],
    resolve_release: &ResolveRelease<'_>,
    file: usize,
    item: &dyn Fn() -> String,
    releases: &[Release],
    report: &Reporter<'_>,
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
            return Err(report.invalid(
                file,
                database_item(),
                "databases",
                "duplicate database name".into(),
            ));
        }
        let since = since
            .map(|r| resolve_release(r, file, &database_item))
            .transpose()?;
        let until = until
            .map(|r| resolve_release(r, file, &database_item))
            .transpose()?;
        check_bounds(since, until, releases, file, &database_item, report)?;
        resolved.push(Database {
            name: name.clone(),
            since,
            until,
        });
    }
    Ok(resolved)
}

#[allow(clippy::too_many_arguments)]
fn build_migrations(
    doc: &mut CatalogDoc,
    origins: &Origins,
    report: &Reporter<'_>,
    releases: &[Release],
    release_by_name: &HashMap<String, ReleaseId>,
    service_by_name: &HashMap<String, ServiceId>,
    component_by_name: &HashMap<String, ComponentId>,
    services: &[Service],
    components: &[Component],
) -> Result<(Vec<Migration>, MigrationIndex, bool)> {
    let documented = &doc.migrations;
    let id_of = |id: MigrationId| documented[id.index()].id.as_str();
    // The id index is built once and kept as the catalog's lookup table.
    let build_index = || -> Result<MigrationIndex> {
        let mut index_by_id = MigrationIndex::with_capacity(documented.len());
        for (index, migration) in documented.iter().enumerate() {
            let file = origins.migrations[index];
            if migration.id.trim().is_empty() {
                return Err(report.invalid(
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
                return Err(report.invalid(
                    file,
                    format!("migration {}", migration.id),
                    &migration.id,
                    "duplicate migration id".into(),
                ));
            }
        }
        Ok(index_by_id)
    };
    // Each migration's release, resolved once: requirements look at their target's.
    // Catalogs list a service's migrations of one release together, so a name is most
    // often the one before it, and a string comparison spares a hash lookup.
    let resolve_releases = || -> Vec<Option<ReleaseId>> {
        let mut previous_release: Option<(&str, Option<ReleaseId>)> = None;
        documented
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
    };
    // Neither needs the other, and each is a pass over every migration: a large catalog
    // has them done side by side.
    let (index_by_id, release_of) =
        crate::parallel::join(documented.len(), build_index, resolve_releases);
    let index_by_id = index_by_id?;
    // Resolves the names of the migrations in `range` into `migrations`, in order; the
    // first error in that order wins, as in one pass over all of them.
    let resolve = |range: std::ops::Range<usize>, migrations: &mut Vec<Migration>| -> Result<()> {
        let mut previous_service: Option<(&str, ServiceId)> = None;
        for index in range {
            let m = &doc.migrations[index];
            let file = origins.migrations[index];
            let item = || format!("migration {}", m.id);
            let service = match previous_service {
                Some((name, service)) if name == m.service => service,
                _ => {
                    let service = service_by_name
                        .get(m.service.as_str())
                        .copied()
                        .ok_or_else(|| {
                            report.invalid(
                                file,
                                item(),
                                &m.service,
                                format!("unknown service {:?}", m.service),
                            )
                        })?;
                    previous_service = Some((&m.service, service));
                    service
                }
            };
            let release = release_of[index].ok_or_else(|| {
                report.invalid(
                    file,
                    item(),
                    &m.release,
                    format!("unknown release {:?}", m.release),
                )
            })?;
            if !services[service.index()].exists_at(release) {
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
            let mut requires = Vec::with_capacity(m.requires.len());
            for required in &m.requires {
                let required_id = index_by_id.get(required, id_of).ok_or_else(|| {
                    report.invalid(
                        file,
                        item(),
                        required,
                        format!("requires unknown migration {required:?}"),
                    )
                })?;
                let required_index = required_id.index();
                let other = &doc.migrations[required_index];
                let other_release = release_of[required_index];
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
            let mut needs_running = Vec::with_capacity(m.needs_running.len());
            for component_name in &m.needs_running {
                let component =
                    component_by_name
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
                let component_data = &components[component.index()];
                if !component_data.exists_at(release)
                    || !services[component_data.service.index()].exists_at(release)
                {
                    return Err(report.invalid(
                        file,
                        item(),
                        component_name,
                        format!(
                            "needs {component_name} running, but it does not exist at {}",
                            releases[release.index()].name
                        ),
                    ));
                }
                needs_running.push(component);
            }
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
            migrations.push(Migration {
                // Moved out of the document below, once nothing borrows it any more.
                id: String::new(),
                service,
                release,
                kind: m.kind,
                command: String::new(),
                requires,
                blocking: m.kind == MigrationKind::Data && m.blocking,
                needs_running,
                reversible: m.reversible,
                duration_s: m.duration_s,
            });
        }
        Ok(())
    };
    let count = doc.migrations.len();
    let mut migrations = Vec::with_capacity(count);
    let middle = count / 2;
    let (first_half, second_half) = crate::parallel::join(
        count,
        || resolve(0..middle, &mut migrations),
        || {
            let mut tail = Vec::with_capacity(count - middle);
            resolve(middle..count, &mut tail).map(|()| tail)
        },
    );
    // An error in the first half comes first in document order.
    migrations.extend(first_half.and(second_half)?);
    // The strings move into the model rather than being copied: a large catalog has a
    // hundred thousand migrations, and the document is dropped right after validation.
    // Meanwhile they are looked at once, to know whether JSON has to escape any of them.
    let move_strings = |migrations: &mut [Migration], written: &mut [MigrationDoc]| {
        let mut plain = true;
        for (migration, written) in migrations.iter_mut().zip(written) {
            migration.id = std::mem::take(&mut written.id);
            migration.command = std::mem::take(&mut written.command);
            plain &= !crate::plan_json::needs_escape(migration.id.as_bytes())
                && !crate::plan_json::needs_escape(migration.command.as_bytes());
        }
        plain
    };
    let (first, second) = migrations.split_at_mut(middle);
    let (written_first, written_second) = doc.migrations.split_at_mut(middle);
    let (first_plain, second_plain) = crate::parallel::join(
        count,
        || move_strings(first, written_first),
        || move_strings(second, written_second),
    );
    let plain = first_plain && second_plain;
    Ok((migrations, index_by_id, plain))
}

fn build_extensions(
    doc: &CatalogDoc,
    origins: &Origins,
    report: &Reporter<'_>,
    service_by_name: &HashMap<String, ServiceId>,
    resolve_release: &ResolveRelease<'_>,
    releases: &[Release],
) -> Result<Vec<Extension>> {
    let mut seen: HashMap<(ServiceId, &str), usize> = HashMap::default();
    let mut extensions = Vec::with_capacity(doc.extensions.len());
    for (index, e) in doc.extensions.iter().enumerate() {
        let file = origins.extensions[index];
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
        let since = e
            .since
            .as_deref()
            .map(|r| resolve_release(r, file, &item))
            .transpose()?;
        let until = e
            .until
            .as_deref()
            .map(|r| resolve_release(r, file, &item))
            .transpose()?;
        check_bounds(since, until, releases, file, &item, report)?;
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
                    origins.extensions[index],
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
    origins: &Origins,
    report: &Reporter<'_>,
    service_by_name: &HashMap<String, ServiceId>,
    resolve_release: &ResolveRelease<'_>,
) -> Result<Vec<ConfigChange>> {
    let mut changes = Vec::with_capacity(doc.config_changes.len());
    for (index, c) in doc.config_changes.iter().enumerate() {
        let file = origins.config_changes[index];
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
            report.invalid(
                file,
                item(),
                &c.service,
                format!("unknown service {:?}", c.service),
            )
        })?;
        let release = resolve_release(&c.release, file, &item)?;
        let missing = match c.action {
            _ if c.from.is_none() => Some("from"),
            ConfigAction::Rename if c.to.is_none() => Some("to"),
            ConfigAction::Default if c.value.is_none() => Some("value"),
            _ => None,
        };
        if let Some(field) = missing {
            return Err(report.invalid(
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
