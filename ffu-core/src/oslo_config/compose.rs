//! Composing a service's configuration changes over an upgrade path: what an option set at
//! the starting release becomes at the target.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::error::{Error, NoPlan, Result};
use crate::extension::ConfigAction;
use crate::release::ReleaseId;

/// What happens to one option (as named at the starting release) over the whole path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ComposedChange {
    /// `rename`, `remove` or `default`.
    pub action: ConfigAction,
    /// The option as named at the starting release, `SECTION.name`.
    pub from: String,
    /// The names it has at the target, for a rename (more than one where a release reads
    /// the old name into several options).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// The new default, for `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The file the change applies to, where it is not the service's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The release of the last step that composed into it.
    pub release: String,
    /// Each step that composed into it, `RELEASE: description`, in release order.
    pub steps: Vec<String>,
}

/// An option removed in one release whose name comes back in a later one (a rename to it,
/// or a new default): its value in an old file may not mean what the new option means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Reintroduced {
    /// The option, `SECTION.name`.
    pub option: String,
    /// The release that removed it.
    pub removed_in: String,
    /// The release that brings the name back.
    pub back_in: String,
}

/// A service's configuration changes composed from one release to another: a rename of a
/// rename is one rename, a rename then a removal is a removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConfigDiff {
    /// The service.
    pub service: String,
    /// The starting release.
    pub from: String,
    /// The target release.
    pub to: String,
    /// The composed changes, sorted by option.
    pub changes: Vec<ComposedChange>,
    /// Names removed and later brought back, flagged for a person to check.
    pub reintroduced: Vec<Reintroduced>,
}

/// Where an option named at the start stands so far.
#[derive(Debug, Clone)]
struct Track {
    /// Its current names; empty once removed.
    names: Vec<String>,
    removed: bool,
    file: Option<String>,
    /// The release of the last step.
    release: String,
    steps: Vec<String>,
}

impl Catalog {
    /// The configuration changes of `service` composed over the releases after `from` up
    /// to `to`.
    ///
    /// # Errors
    /// [`Error::UnknownService`]; [`Error::NoPlan`] for an unknown release or a `to` before
    /// `from` (as `ffu plan` says them).
    ///
    /// # Example
    /// ```
    /// let catalog = ffu_core::Catalog::openstack();
    /// let diff = catalog.config_diff("nova", "rocky", "stein")?;
    /// assert!(diff.changes.iter().any(|c| c.from == "DEFAULT.rpc_backend"));
    /// # Ok::<(), ffu_core::Error>(())
    /// ```
    pub fn config_diff(&self, service: &str, from: &str, to: &str) -> Result<ConfigDiff> {
        let service_id = self
            .service_id(service)
            .ok_or_else(|| Error::UnknownService {
                name: service.to_owned(),
            })?;
        let (start, end) = (self.resolve_release(from)?, self.resolve_release(to)?);
        if end < start {
            return Err(NoPlan::Downgrade {
                from: from.to_owned(),
                to: to.to_owned(),
            }
            .into());
        }
        let mut by_release: BTreeMap<ReleaseId, Vec<&crate::ConfigChange>> = BTreeMap::new();
        for change in self.config_changes() {
            if change.service == service_id && change.release > start && change.release <= end {
                by_release.entry(change.release).or_default().push(change);
            }
        }
        let mut state = Composer::default();
        for (release, changes) in by_release {
            state.release(&self.release(release).name, &changes);
        }
        Ok(state.finish(service, from, to))
    }
}

#[derive(Default)]
struct Composer {
    /// Every option met, by its name at the start.
    tracks: BTreeMap<String, Track>,
    /// Defaults by current name: (value, release, file).
    defaults: BTreeMap<String, (String, String, Option<String>)>,
    /// Names removed, and where.
    removed: BTreeMap<String, String>,
    reintroduced: Vec<Reintroduced>,
}

impl Composer {
    /// Applies one release's changes, all at once: a rename within a release reads the
    /// names as they were before it.
    fn release(&mut self, release: &str, changes: &[&crate::ConfigChange]) {
        let mut renames: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut removals = Vec::new();
        for change in changes {
            let Some(from) = change.from.as_deref() else {
                continue;
            };
            match change.action {
                ConfigAction::Rename => {
                    let to = change.to.as_deref().unwrap_or_default();
                    renames.entry(from).or_default().push(to);
                    self.track(from, change.file.as_ref());
                    self.back(to, release);
                }
                ConfigAction::Remove => {
                    removals.push(from);
                    self.track(from, change.file.as_ref());
                }
                ConfigAction::Default => {
                    let value = change.value.clone().unwrap_or_default();
                    self.back(from, release);
                    self.defaults.insert(
                        from.to_owned(),
                        (value, release.to_owned(), change.file.clone()),
                    );
                }
            }
        }
        for track in self.tracks.values_mut() {
            let mut names = Vec::new();
            for name in &track.names {
                if let Some(targets) = renames.get(name.as_str()) {
                    for target in targets {
                        track.steps.push(format!("{release}: {name} -> {target}"));
                        release.clone_into(&mut track.release);
                        names.push((*target).to_owned());
                    }
                } else if removals.contains(&name.as_str()) {
                    track.steps.push(format!("{release}: {name} removed"));
                    release.clone_into(&mut track.release);
                } else {
                    names.push(name.clone());
                }
            }
            if names.is_empty() && !track.names.is_empty() {
                track.removed = true;
            }
            track.names = names;
        }
        for name in removals {
            self.removed.insert(name.to_owned(), release.to_owned());
        }
    }

    /// Starts following `name`, unless an option already goes by it.
    fn track(&mut self, name: &str, file: Option<&String>) {
        let known = self
            .tracks
            .values()
            .any(|t| t.names.iter().any(|n| n == name));
        if !known {
            self.tracks.entry(name.to_owned()).or_insert_with(|| Track {
                names: vec![name.to_owned()],
                removed: false,
                file: file.cloned(),
                release: String::new(),
                steps: Vec::new(),
            });
        }
    }

    /// Flags `name` when a release brings it back after another removed it.
    fn back(&mut self, name: &str, release: &str) {
        if let Some(removed_in) = self.removed.remove(name) {
            self.reintroduced.push(Reintroduced {
                option: name.to_owned(),
                removed_in,
                back_in: release.to_owned(),
            });
        }
    }

    fn finish(self, service: &str, from: &str, to: &str) -> ConfigDiff {
        let mut changes = Vec::new();
        for (start, track) in self.tracks {
            if track.steps.is_empty() {
                continue;
            }
            let (action, to) = if track.removed {
                (ConfigAction::Remove, Vec::new())
            } else if track.names == [start.clone()] {
                continue;
            } else {
                (ConfigAction::Rename, track.names)
            };
            changes.push(ComposedChange {
                action,
                from: start,
                to,
                value: None,
                file: track.file,
                release: track.release,
                steps: track.steps,
            });
        }
        for (option, (value, release, file)) in self.defaults {
            let steps = vec![format!("{release}: default of {option} becomes {value}")];
            changes.push(ComposedChange {
                action: ConfigAction::Default,
                from: option,
                to: Vec::new(),
                value: Some(value),
                file,
                release,
                steps,
            });
        }
        changes.sort_by(|a, b| (&a.from, a.action).cmp(&(&b.from, b.action)));
        ConfigDiff {
            service: service.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            changes,
            reintroduced: self.reintroduced,
        }
    }
}

impl ConfigDiff {
    /// The diff for a person: a line per change, `via` the steps that composed into it.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{} configuration, {} -> {}: {} changes\n",
            self.service,
            self.from,
            self.to,
            self.changes.len()
        );
        for change in &self.changes {
            let file = change
                .file
                .as_deref()
                .map(|f| format!(" (in {f})"))
                .unwrap_or_default();
            let what = match change.action {
                ConfigAction::Rename => {
                    format!("rename {} -> {}", change.from, change.to.join(", "))
                }
                ConfigAction::Remove => format!("remove {}", change.from),
                ConfigAction::Default => format!(
                    "default {} = {}",
                    change.from,
                    change.value.as_deref().unwrap_or_default()
                ),
            };
            let _ = writeln!(text, "{what}{file}  [{}]", change.steps.join("; "));
        }
        for back in &self.reintroduced {
            let _ = writeln!(
                text,
                "check {}: removed in {}, back in {} (an old value may not mean the same)",
                back.option, back.removed_in, back.back_in
            );
        }
        text
    }

    /// The diff as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a diff of strings serializes");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(changes: &str) -> Catalog {
        let yaml = format!(
            "format: ffu-catalog/1\nname: t\nreleases: [{{name: a}}, {{name: b}}, {{name: c}}, {{name: d}}]\n\
             services: [{{name: s, components: [{{name: s-api, role: control}}]}}]\nconfig_changes:\n{changes}"
        );
        Catalog::from_yaml_str(&yaml, "t.yaml").unwrap()
    }

    #[test]
    fn a_rename_of_a_rename_is_one_rename() {
        let cat = catalog(
            "  - {service: s, release: b, action: rename, from: DEFAULT.x, to: g.x}\n\
             \x20 - {service: s, release: c, action: rename, from: g.x, to: h.y}\n",
        );
        let diff = cat.config_diff("s", "a", "d").unwrap();
        assert_eq!(
            diff.to_text(),
            "s configuration, a -> d: 1 changes\n\
             rename DEFAULT.x -> h.y  [b: DEFAULT.x -> g.x; c: g.x -> h.y]\n"
        );
        // From b on, only the second rename is left.
        let diff = cat.config_diff("s", "b", "d").unwrap();
        assert_eq!(diff.changes[0].from, "g.x");
        assert_eq!(diff.changes[0].to, ["h.y"]);
    }

    #[test]
    fn a_rename_then_a_removal_is_a_removal() {
        let cat = catalog(
            "  - {service: s, release: b, action: rename, from: DEFAULT.x, to: g.x}\n\
             \x20 - {service: s, release: d, action: remove, from: g.x}\n",
        );
        let diff = cat.config_diff("s", "a", "d").unwrap();
        assert_eq!(
            diff.to_text(),
            "s configuration, a -> d: 1 changes\n\
             remove DEFAULT.x  [b: DEFAULT.x -> g.x; d: g.x removed]\n"
        );
        // Up to c only, the rename stands.
        let diff = cat.config_diff("s", "a", "c").unwrap();
        assert_eq!(diff.changes[0].action, ConfigAction::Rename);
    }

    #[test]
    fn a_removal_then_a_reintroduction_is_flagged() {
        let cat = catalog(
            "  - {service: s, release: b, action: remove, from: g.x}\n\
             \x20 - {service: s, release: d, action: rename, from: g.old, to: g.x}\n",
        );
        let diff = cat.config_diff("s", "a", "d").unwrap();
        assert_eq!(
            diff.to_text(),
            "s configuration, a -> d: 2 changes\n\
             rename g.old -> g.x  [d: g.old -> g.x]\n\
             remove g.x  [b: g.x removed]\n\
             check g.x: removed in b, back in d (an old value may not mean the same)\n"
        );
    }

    #[test]
    fn one_name_read_into_two_options_renames_to_both() {
        let cat = catalog(
            "  - {service: s, release: b, action: rename, from: DEFAULT.x, to: g.x}\n\
             \x20 - {service: s, release: b, action: rename, from: DEFAULT.x, to: h.x}\n",
        );
        let diff = cat.config_diff("s", "a", "b").unwrap();
        assert_eq!(diff.changes[0].to, ["g.x", "h.x"]);
    }

    #[test]
    fn the_generated_changes_load_without_repeating_the_hand_written_ones() {
        let hand = Catalog::openstack();
        let full = Catalog::openstack_with_config();
        assert!(full.config_changes().len() > hand.config_changes().len() + 500);
        let mut seen = std::collections::HashSet::new();
        for c in full.config_changes() {
            let key = (c.service, c.release, c.action, c.from.clone(), c.to.clone());
            assert!(seen.insert(key), "repeated: {c:?}");
        }
        let diff = full.config_diff("nova", "newton", "queens").unwrap();
        assert!(diff
            .changes
            .iter()
            .any(|c| c.from == "DEFAULT.scheduler_driver" && c.to == ["scheduler.driver"]));
    }

    #[test]
    fn bad_requests_are_errors() {
        let cat = catalog("  - {service: s, release: b, action: remove, from: g.x}\n");
        assert!(matches!(
            cat.config_diff("nope", "a", "b"),
            Err(Error::UnknownService { .. })
        ));
        assert!(cat.config_diff("s", "zz", "b").unwrap_err().is_no_plan());
        assert!(cat.config_diff("s", "c", "b").unwrap_err().is_no_plan());
    }
}
