//! Configuration files across releases: option changes read from a project's own
//! oslo.config definitions, without running its code.
//!
//! [`import_oslo_config`] reads the `cfg.*Opt(...)` calls of a project's modules (from a
//! source tree or a wheel) as text, finds the groups they are registered in, and turns
//! their deprecated names into `config_changes` for a catalog. What only running code
//! could know (a name or group built at run time, options made by a library function) is
//! left out with a warning naming the file and line: the reader never guesses.

mod compose;
mod ini;
mod python;
mod resolve;
mod source;

pub use compose::{ComposedChange, ConfigDiff, Reintroduced};
pub use ini::{MigratedConfig, MovedOption, RemovedOption, REMOVED_MARKER};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::catalog::CATALOG_FORMAT;
use crate::error::{Error, Result};
use crate::extension::ConfigAction;

/// One option as read from its definition, in one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionRead {
    pub(crate) group: String,
    pub(crate) name: String,
    /// Deprecated (group, name) pairs as written: `None` is the option's own.
    pub(crate) aliases: Vec<(Option<String>, Option<String>)>,
    pub(crate) deprecated_for_removal: bool,
    /// The default, where it is a literal.
    pub(crate) default: Option<String>,
    pub(crate) file: String,
    pub(crate) line: u32,
}

impl OptionRead {
    fn in_group(&self, group: &str) -> OptionRead {
        OptionRead {
            group: group.to_owned(),
            ..self.clone()
        }
    }

    /// The deprecated names oslo.config reads this option under, as `GROUP.name`: a missing
    /// group or name in a deprecation is the option's own (oslo.config's `_get_from_namespace`).
    fn deprecated(&self) -> BTreeSet<String> {
        self.aliases
            .iter()
            .map(|(group, name)| {
                format!(
                    "{}.{}",
                    group.as_deref().unwrap_or(&self.group),
                    name.as_deref().unwrap_or(&self.name)
                )
            })
            .filter(|alias| *alias != self.key())
            .collect()
    }

    fn key(&self) -> String {
        format!("{}.{}", self.group, self.name)
    }
}

/// One configuration change of the fragment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct FragmentChange {
    #[serde(skip)]
    order: u8,
    service: String,
    release: String,
    action: ConfigAction,
    from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

/// The options of one release of a project, read statically, and the `config_changes`
/// they imply: a catalog fragment for `include:`.
///
/// Without a previous release, every deprecated name becomes a rename in this release
/// (oslo.config still reads it, so an older file may hold it). With the previous release's
/// definitions, only what changed between the two: deprecated names new in this release,
/// and deprecated names dropped in it (still a rename, for files of releases that used
/// them), options gone (`remove`, with the deprecated names that went with them), and
/// defaults written as literals that changed (`default`).
#[derive(Debug, Clone)]
pub struct OsloConfigImport {
    service: String,
    release: String,
    source: String,
    previous_source: Option<String>,
    options: Vec<OptionRead>,
    changes: Vec<FragmentChange>,
    warnings: Vec<String>,
}

/// Reads the option definitions of a release of `service` at `path` (a source tree, a
/// package directory, or a wheel) and, where given, those of the release before it at
/// `previous`.
///
/// # Errors
/// [`Error::Io`] when a path cannot be read; [`Error::Parse`] when a file is neither a
/// directory nor a zip archive, or when no option definition is found in it.
pub fn import_oslo_config(
    path: &Path,
    service: &str,
    release: &str,
    previous: Option<&Path>,
) -> Result<OsloConfigImport> {
    let mut warnings = Vec::new();
    let (options, unplaced) = read_options(path, &mut warnings)?;
    let (previous_source, previous_options) = match previous {
        Some(previous) => {
            let mut ignored = Vec::new();
            let (options, _) = read_options(previous, &mut ignored)?;
            (Some(shown_source(previous)), Some(options))
        }
        None => (None, None),
    };
    let read = Read {
        options: &options,
        unplaced: &unplaced,
    };
    let changes = changes(service, release, &read, previous_options.as_deref());
    Ok(OsloConfigImport {
        service: service.to_owned(),
        release: release.to_owned(),
        source: shown_source(path),
        previous_source,
        options,
        changes,
        warnings,
    })
}

/// A release's options, and the names of options whose group is not known statically.
struct Read<'a> {
    options: &'a [OptionRead],
    unplaced: &'a BTreeSet<String>,
}

/// The options at `path`, merged by group and name, and the names of options defined in a
/// group not known statically; an error when there are none.
fn read_options(
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<(Vec<OptionRead>, BTreeSet<String>)> {
    let modules = source::read_modules(path, warnings)?;
    let (read, unplaced) = resolve::registered_options(&modules, warnings);
    let mut merged: BTreeMap<(String, String), OptionRead> = BTreeMap::new();
    for option in read {
        match merged.entry((option.group.clone(), option.name.clone())) {
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(option);
            }
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                let kept = entry.get_mut();
                for alias in option.aliases {
                    if !kept.aliases.contains(&alias) {
                        kept.aliases.push(alias);
                    }
                }
                kept.deprecated_for_removal |= option.deprecated_for_removal;
            }
        }
    }
    if merged.is_empty() {
        return Err(Error::Parse {
            file: path.display().to_string(),
            location: None,
            message: "no oslo.config option definitions (cfg.*Opt(...) registered in a group) found: not a project's source tree, package or wheel".to_owned(),
            source: None,
        });
    }
    Ok((merged.into_values().collect(), unplaced))
}

/// The name a fragment gives its source: the file or directory name (a wheel's names the
/// version), not where it happened to be cached.
fn shown_source(path: &Path) -> String {
    path.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| path.display().to_string())
}

/// The changes of `release`, against the previous release's options where known. An option
/// that seems gone but whose name is among those defined in a group not known statically
/// is not called removed: it may only have moved where a static reader cannot follow.
fn changes(
    service: &str,
    release: &str,
    read: &Read<'_>,
    previous: Option<&[OptionRead]>,
) -> Vec<FragmentChange> {
    let options = read.options;
    let unplaced = |key: &str| {
        let name = key.rsplit('.').next().unwrap_or(key);
        read.unplaced.contains(name)
    };
    let change =
        |order: u8, action, from: &str, to: Option<&str>, value: Option<&str>| FragmentChange {
            order,
            service: service.to_owned(),
            release: release.to_owned(),
            action,
            from: from.to_owned(),
            to: to.map(str::to_owned),
            value: value.map(str::to_owned),
        };
    let mut out = BTreeSet::new();
    let old: BTreeMap<String, &OptionRead> = previous
        .unwrap_or_default()
        .iter()
        .map(|o| (o.key(), o))
        .collect();
    let new: BTreeMap<String, &OptionRead> = options.iter().map(|o| (o.key(), o)).collect();
    let new_aliases: BTreeSet<String> = options.iter().flat_map(OptionRead::deprecated).collect();
    for option in options {
        let before = old
            .get(&option.key())
            .map(|o| o.deprecated())
            .unwrap_or_default();
        for alias in option.deprecated() {
            if previous.is_none() || !before.contains(&alias) {
                out.insert(change(
                    0,
                    ConfigAction::Rename,
                    &alias,
                    Some(&option.key()),
                    None,
                ));
                // An option renamed into one with another default: a file that left the
                // old one unset now gets the new default.
                let old_default = old.get(&alias).and_then(|o| o.default.as_ref());
                if let (Some(was), Some(now)) = (old_default, &option.default) {
                    if was != now && !old.contains_key(&option.key()) {
                        out.insert(change(
                            2,
                            ConfigAction::Default,
                            &option.key(),
                            None,
                            Some(now),
                        ));
                    }
                }
            }
        }
    }
    let Some(previous) = previous else {
        return out.into_iter().collect();
    };
    for option in previous {
        let key = option.key();
        let still_read = |name: &String| new.contains_key(name) || new_aliases.contains(name);
        for alias in option.deprecated().iter().filter(|a| !still_read(a)) {
            if new.contains_key(&key) {
                out.insert(change(0, ConfigAction::Rename, alias, Some(&key), None));
            } else if !still_read(&key) && !unplaced(alias) {
                out.insert(change(1, ConfigAction::Remove, alias, None, None));
            }
        }
        if !still_read(&key) && !unplaced(&key) {
            out.insert(change(1, ConfigAction::Remove, &key, None, None));
        }
        if let (Some(now), Some(before)) = (new.get(&key), &option.default) {
            match &now.default {
                Some(value) if value != before => {
                    out.insert(change(2, ConfigAction::Default, &key, None, Some(value)));
                }
                _ => {}
            }
        }
    }
    out.into_iter().collect()
}

#[derive(Serialize)]
struct Fragment<'a> {
    format: &'static str,
    config_changes: &'a [FragmentChange],
}

#[derive(Serialize)]
struct OptionsDoc<'a> {
    service: &'a str,
    release: &'a str,
    source: &'a str,
    options: Vec<OptionDoc<'a>>,
}

#[derive(Serialize)]
struct OptionDoc<'a> {
    group: &'a str,
    name: &'a str,
    deprecated: BTreeSet<String>,
    deprecated_for_removal: bool,
    default: Option<&'a str>,
    file: &'a str,
    line: u32,
}

impl OsloConfigImport {
    /// The fragment as YAML, one change a line, headed by comments that name what was read
    /// and the options announced for removal (still read in this release).
    pub fn to_yaml(&self) -> String {
        let mut text = format!(
            "# ffu import oslo-config: {} {}, read from {}",
            self.service, self.release, self.source
        );
        if let Some(previous) = &self.previous_source {
            let _ = write!(text, " (previous release: {previous})");
        }
        let _ = writeln!(text, "\n# {} options read.", self.options.len());
        let announced: Vec<String> = self
            .options
            .iter()
            .filter(|o| o.deprecated_for_removal)
            .map(OptionRead::key)
            .collect();
        if !announced.is_empty() {
            let _ = writeln!(
                text,
                "# Deprecated for removal (still read in {}):",
                self.release
            );
            for key in announced {
                let _ = writeln!(text, "#   {key}");
            }
        }
        let _ = writeln!(text, "format: {CATALOG_FORMAT}");
        if self.changes.is_empty() {
            text.push_str("config_changes: []\n");
            return text;
        }
        text.push_str("config_changes:\n");
        for change in &self.changes {
            text.push_str(&yaml_line(change));
        }
        text
    }

    /// The fragment as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        let fragment = Fragment {
            format: CATALOG_FORMAT,
            config_changes: &self.changes,
        };
        let mut text =
            serde_json::to_string_pretty(&fragment).expect("a fragment of strings serializes");
        text.push('\n');
        text
    }

    /// Every option read, with its deprecated names (as `GROUP.name`), whether it is
    /// deprecated for removal, its literal default and where it is defined, as JSON: for
    /// checking the reader against oslo.config itself.
    pub fn options_json(&self) -> String {
        let doc = OptionsDoc {
            service: &self.service,
            release: &self.release,
            source: &self.source,
            options: self
                .options
                .iter()
                .map(|o| OptionDoc {
                    group: &o.group,
                    name: &o.name,
                    deprecated: o.deprecated(),
                    deprecated_for_removal: o.deprecated_for_removal,
                    default: o.default.as_deref(),
                    file: &o.file,
                    line: o.line,
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&doc).expect("strings serialize");
        text.push('\n');
        text
    }

    /// What could not be read statically, each naming its file and line.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// How many options (in their groups) were read.
    pub fn options(&self) -> usize {
        self.options.len()
    }

    /// How many changes the fragment holds.
    pub fn changes(&self) -> usize {
        self.changes.len()
    }
}

/// One change as a flow-style YAML line, the layout of the embedded catalog.
fn yaml_line(change: &FragmentChange) -> String {
    let action = match change.action {
        ConfigAction::Rename => "rename",
        ConfigAction::Remove => "remove",
        ConfigAction::Default => "default",
    };
    let mut line = format!(
        "  - {{service: {}, release: {}, action: {action}, from: {}",
        scalar(&change.service),
        scalar(&change.release),
        scalar(&change.from)
    );
    if let Some(to) = &change.to {
        let _ = write!(line, ", to: {}", scalar(to));
    }
    if let Some(value) = &change.value {
        let _ = write!(line, ", value: {}", scalar(value));
    }
    line.push_str("}\n");
    line
}

/// A YAML scalar: plain where it reads back as the same string, else JSON-quoted (a JSON
/// string is a YAML double-quoted scalar).
fn scalar(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).expect("a string serializes")
    }
}
