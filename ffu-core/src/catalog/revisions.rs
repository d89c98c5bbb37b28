//! Per-revision migrations (DESIGN §12), folded before validation into one migration per
//! service, release, kind and command: the step the project's own command runs once.
//!
//! A catalog may list a service's alembic revisions one by one (`revision:` on a migration,
//! as `ffu import alembic` writes them). Where the catalog also has a migration without a
//! revision of the same service, release, kind and command (its `db sync` step), that
//! migration takes the revisions and keeps its id; otherwise the first revision's migration
//! does, and the others fold into it. Requirements naming a folded migration then name the
//! migration it folded into. Catalogs without revisions pay one scan of their migrations.

use rustc_hash::FxHashMap as HashMap;

use compact_str::CompactString;

use super::document::{CatalogDoc, MigrationDoc};
use super::load::Origins;
use super::validate::Reporter;
use crate::error::Result;
use crate::migration::{MigrationKind, Revision};

/// A migration of the folded document (by index) that carries revisions.
pub(super) struct Carrier {
    pub(super) index: usize,
    pub(super) revisions: Vec<Revision>,
    pub(super) command_to_revision: Option<String>,
}

type Key<'a> = (&'a str, &'a str, MigrationKind, &'a str);

fn key(m: &MigrationDoc) -> Key<'_> {
    (&m.service, &m.release, m.kind, &m.command)
}

/// One step's revisions: the migration that carries them (document index) and the
/// per-revision migrations folded into it, in document order.
struct Group {
    target: usize,
    members: Vec<usize>,
}

/// Folds the per-revision migrations of `doc`; returns the migrations that carry revisions,
/// by their index in the folded list.
///
/// # Errors
/// [`crate::Error::Invalid`] for an empty or repeated revision (within a service), and for a
/// revision that requires one of its own step listed after it.
pub(super) fn fold(
    doc: &mut CatalogDoc,
    origins: &mut Origins,
    report: &Reporter<'_>,
) -> Result<Vec<Carrier>> {
    let written = &doc.migrations;
    if written.iter().all(|m| m.revision.is_none()) {
        return Ok(Vec::new());
    }
    let grouping = group_revisions(written, origins, report)?;
    let carriers = revisions_of_groups(written, &grouping, origins, report)?;
    let (new_requires, durations) = rewrites(written, &grouping);
    let Grouping {
        groups, group_of, ..
    } = grouping;
    let kept = |index: usize| match group_of[index] {
        None => true,
        Some(group) => groups[group].target == index,
    };
    let mut new_requires = new_requires;
    let mut new_index = vec![usize::MAX; written.len()];
    let old = std::mem::take(&mut doc.migrations);
    let old_origins = std::mem::take(&mut origins.migrations);
    let mut folded = Vec::with_capacity(old.len());
    for (index, mut m) in old.into_iter().enumerate() {
        if !kept(index) {
            continue;
        }
        if let Some(requires) = new_requires.remove(&index) {
            m.requires = requires;
        }
        if let Some(&duration) = durations.get(&index) {
            m.duration_s = Some(duration);
        }
        m.revision = None;
        new_index[index] = folded.len();
        origins.migrations.push(old_origins[index]);
        folded.push(m);
    }
    doc.migrations = folded;
    // The carriers' indexes, from the document as written to the folded one.
    Ok(carriers
        .into_iter()
        .map(|carrier| Carrier {
            index: new_index[carrier.index],
            ..carrier
        })
        .collect())
}

/// The per-revision migrations grouped by step, and where each revision is written.
struct Grouping<'a> {
    groups: Vec<Group>,
    /// Per migration as written: its group, if it is a per-revision migration.
    group_of: Vec<Option<usize>>,
    /// The per-revision migrations by id.
    revision_doc: HashMap<&'a str, usize>,
}

/// Groups the per-revision migrations by service, release, kind and command; refuses empty
/// and repeated revisions.
fn group_revisions<'a>(
    written: &'a [MigrationDoc],
    origins: &Origins,
    report: &Reporter<'_>,
) -> Result<Grouping<'a>> {
    let mut plain: HashMap<Key<'_>, usize> = HashMap::default();
    for (index, m) in written.iter().enumerate() {
        if m.revision.is_none() {
            plain.entry(key(m)).or_insert(index);
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of_key: HashMap<Key<'_>, usize> = HashMap::default();
    let mut group_of: Vec<Option<usize>> = vec![None; written.len()];
    let mut revision_doc: HashMap<&str, usize> = HashMap::default();
    let mut seen: HashMap<(&str, &str), usize> = HashMap::default();
    for (index, m) in written.iter().enumerate() {
        let Some(revision) = &m.revision else {
            continue;
        };
        let file = origins.migrations[index];
        let item = || format!("migration {}", m.id);
        if revision.trim().is_empty() {
            return Err(report.invalid(file, item(), "revision", "empty revision".into()));
        }
        if seen.insert((&m.service, revision), index).is_some() {
            return Err(report.invalid(
                file,
                item(),
                revision,
                format!(
                    "revision {revision} of service {} is listed twice",
                    m.service
                ),
            ));
        }
        let k = key(m);
        let group = *group_of_key.entry(k).or_insert_with(|| {
            groups.push(Group {
                target: plain.get(&k).copied().unwrap_or(index),
                members: Vec::new(),
            });
            groups.len() - 1
        });
        groups[group].members.push(index);
        group_of[index] = Some(group);
        revision_doc.insert(&m.id, index);
    }
    Ok(Grouping {
        groups,
        group_of,
        revision_doc,
    })
}

/// Each group's carrier (document index), its revisions in order with their requirements
/// within the service by revision id, and its command to a revision.
fn revisions_of_groups(
    written: &[MigrationDoc],
    grouping: &Grouping<'_>,
    origins: &Origins,
    report: &Reporter<'_>,
) -> Result<Vec<Carrier>> {
    let Grouping {
        groups,
        revision_doc,
        ..
    } = grouping;
    let mut carriers: Vec<Carrier> = Vec::with_capacity(groups.len());
    for group in groups {
        let mut position: HashMap<&str, usize> = HashMap::default();
        for (at, &index) in group.members.iter().enumerate() {
            position.insert(&written[index].id, at);
        }
        let mut revisions = Vec::with_capacity(group.members.len());
        for (at, &index) in group.members.iter().enumerate() {
            let m = &written[index];
            let mut requires = Vec::new();
            for required in &m.requires {
                if position.get(required.as_str()).is_some_and(|&p| p > at) {
                    return Err(report.invalid(
                        origins.migrations[index],
                        format!("migration {}", m.id),
                        required,
                        format!(
                            "requires {required}, a revision of the same step listed after it: list a step's revisions in the order they run"
                        ),
                    ));
                }
                if let Some(&other) = revision_doc.get(required.as_str()) {
                    if written[other].service == m.service {
                        if let Some(name) = &written[other].revision {
                            requires.push(name.to_string());
                        }
                    }
                }
            }
            revisions.push(Revision {
                name: m.revision.as_deref().unwrap_or_default().to_owned(),
                requires,
            });
        }
        let command_to_revision = written[group.target]
            .command_to_revision
            .clone()
            .or_else(|| {
                group
                    .members
                    .iter()
                    .find_map(|&i| written[i].command_to_revision.clone())
            });
        carriers.push(Carrier {
            index: group.target,
            revisions,
            command_to_revision,
        });
    }
    Ok(carriers)
}

/// The new requirements of the migrations kept (by document index, where they change) and
/// the summed durations of carriers that are per-revision migrations themselves.
fn rewrites(
    written: &[MigrationDoc],
    grouping: &Grouping<'_>,
) -> (HashMap<usize, Vec<CompactString>>, HashMap<usize, f64>) {
    let Grouping {
        groups,
        group_of,
        revision_doc,
    } = grouping;
    // What each folded migration's id becomes.
    let target_id: HashMap<&str, CompactString> = revision_doc
        .iter()
        .filter_map(|(&id, &index)| {
            let target = groups[group_of[index]?].target;
            Some((id, CompactString::from(written[target].id.as_str())))
        })
        .collect();
    let kept = |index: usize| match group_of[index] {
        None => true,
        Some(group) => groups[group].target == index,
    };
    // New requirements of every kept migration: its own, and for a carrier its members',
    // each mapped to what it folded into, without itself or repeats.
    let mut new_requires: HashMap<usize, Vec<CompactString>> = HashMap::default();
    let mut members_of: HashMap<usize, &[usize]> = HashMap::default();
    for group in groups {
        members_of.insert(group.target, &group.members);
    }
    for (index, m) in written.iter().enumerate() {
        if !kept(index) {
            continue;
        }
        let members = members_of.get(&index).copied().unwrap_or(&[]);
        let names = m
            .requires
            .iter()
            .chain(members.iter().flat_map(|&i| written[i].requires.iter()));
        let touched = !members.is_empty()
            || m.requires
                .iter()
                .any(|r| target_id.contains_key(r.as_str()));
        if !touched {
            continue;
        }
        let mut out: Vec<CompactString> = Vec::new();
        for name in names {
            let mapped = target_id.get(name.as_str()).unwrap_or(name);
            if mapped.as_str() != m.id && !out.contains(mapped) {
                out.push(mapped.clone());
            }
        }
        new_requires.insert(index, out);
    }
    let durations: HashMap<usize, f64> = groups
        .iter()
        .filter(|g| written[g.target].revision.is_some())
        .filter_map(|g| {
            let known: Vec<f64> = g
                .members
                .iter()
                .filter_map(|&i| written[i].duration_s)
                .collect();
            (!known.is_empty()).then(|| (g.target, known.iter().sum()))
        })
        .collect();
    (new_requires, durations)
}
