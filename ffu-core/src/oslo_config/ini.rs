//! Rewriting an oslo.config INI file for a later release: renames and group moves applied,
//! removed options kept as marked comments, everything else (comments, blank lines, order,
//! values, line endings) as it was.
//!
//! The file is read the way oslo.config's own parser (`oslo_config.iniparser`) reads it: a
//! line that starts with white space continues the value above it, a blank line ends a
//! value, `#` and `;` start comments, and a key is separated from its value by the first
//! `=` or `:`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::compose::ComposedChange;
use crate::catalog::Catalog;
use crate::error::{Error, Location, Result};
use crate::extension::ConfigAction;

/// The marker that starts every line of a removed option kept as a comment.
pub const REMOVED_MARKER: &str = "#ffu-removed";

/// An option of the file that no release on the path reads any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RemovedOption {
    /// Its section.
    pub section: String,
    /// Its name.
    pub option: String,
    /// Its value as written (lines of a multi-line value joined with `\n`).
    pub value: String,
    /// Its line in the file.
    pub line: u64,
    /// The release that removed it.
    pub release: String,
}

/// An option of the file written under its new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MovedOption {
    /// `SECTION.name` as it was.
    pub from: String,
    /// `SECTION.name` as it is now.
    pub to: String,
    /// Its line in the file.
    pub line: u64,
}

/// A configuration file rewritten for a later release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MigratedConfig {
    /// The new text.
    pub text: String,
    /// The options renamed or moved, in file order.
    pub moved: Vec<MovedOption>,
    /// The options removed (kept in the text as comments starting with
    /// [`REMOVED_MARKER`]), in file order.
    pub removed: Vec<RemovedOption>,
}

/// One option's lines: its key line and the lines that continue its value.
#[derive(Debug)]
struct Entry<'a> {
    section: String,
    key: String,
    /// The key line and the continuation lines, with their line endings.
    lines: Vec<&'a str>,
    value: String,
    line: u64,
}

#[derive(Debug)]
enum Block<'a> {
    /// A section header (its line) and its name.
    Header(&'a str, String),
    Entry(Entry<'a>),
    /// A blank or comment line.
    Other(&'a str),
}

impl Catalog {
    /// `text`, an oslo.config INI file of `service` at release `from`, rewritten for `to`;
    /// `file` names it in messages. Only the changes to the service's own file apply.
    ///
    /// # Errors
    /// As [`Catalog::config_diff`]; [`Error::Parse`] for a line oslo.config would refuse
    /// (naming the file and line); [`Error::Invalid`] when an option is set under two names
    /// that become the same option, naming both places.
    pub fn migrate_config(
        &self,
        text: &str,
        file: &str,
        service: &str,
        from: &str,
        to: &str,
    ) -> Result<MigratedConfig> {
        let diff = self.config_diff(service, from, to)?;
        let changes: BTreeMap<&str, &ComposedChange> = diff
            .changes
            .iter()
            .filter(|c| c.file.is_none() && c.action != ConfigAction::Default)
            .map(|c| (c.from.as_str(), c))
            .collect();
        let blocks = parse(text, file)?;
        refuse_conflicts(&blocks, &changes, file)?;
        Ok(rewrite(&blocks, &changes))
    }
}

/// The file's blocks, or the first line oslo.config's parser would refuse.
fn parse<'a>(text: &'a str, file: &str) -> Result<Vec<Block<'a>>> {
    let error = |line: usize, message: &str| Error::Parse {
        file: file.to_owned(),
        location: Some(Location {
            line: line as u64 + 1,
            column: 1,
        }),
        message: format!("not an oslo.config INI file: {message}"),
        source: None,
    };
    let mut blocks: Vec<Block<'a>> = Vec::new();
    let mut section: Option<String> = None;
    // Whether the last block is an entry whose value a continuation line may extend.
    let mut open = false;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end();
        if line.is_empty() {
            blocks.push(Block::Other(raw));
            open = false;
        } else if line.starts_with([' ', '\t']) {
            let Some(Block::Entry(entry)) = blocks.last_mut().filter(|_| open) else {
                return Err(error(
                    index,
                    "a continuation line without an option above it",
                ));
            };
            entry.lines.push(raw);
            entry.value.push('\n');
            entry.value.push_str(line.trim_start());
        } else if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']').filter(|n| !n.trim().is_empty()) else {
                return Err(error(index, "a section header must be [NAME]"));
            };
            section = Some(name.to_owned());
            blocks.push(Block::Header(raw, name.to_owned()));
            open = false;
        } else if line.starts_with(['#', ';']) {
            blocks.push(Block::Other(raw));
            open = false;
        } else {
            let split = line.find(['=', ':']);
            let Some(split) = split else {
                return Err(error(index, "a line that is no section, option or comment"));
            };
            let key = line[..split].trim();
            if key.is_empty() {
                return Err(error(index, "an option without a name"));
            }
            let Some(section) = &section else {
                return Err(error(index, "an option before the first section header"));
            };
            blocks.push(Block::Entry(Entry {
                section: section.clone(),
                key: key.to_owned(),
                lines: vec![raw],
                value: line[split + 1..].trim().to_owned(),
                line: index as u64 + 1,
            }));
            open = true;
        }
    }
    Ok(blocks)
}

/// What an entry is called at the target: its new names, none when removed.
fn targets(entry: &Entry<'_>, changes: &BTreeMap<&str, &ComposedChange>) -> Vec<String> {
    let name = format!("{}.{}", entry.section, entry.key);
    match changes.get(name.as_str()) {
        Some(change) if change.action == ConfigAction::Rename => change.to.clone(),
        Some(_) => Vec::new(),
        None => vec![name],
    }
}

/// Refuses a file that sets one option under two names (its old and new one, or two old
/// ones): which value would win is oslo.config's choice, not ffu's.
fn refuse_conflicts(
    blocks: &[Block<'_>],
    changes: &BTreeMap<&str, &ComposedChange>,
    file: &str,
) -> Result<()> {
    let mut owner: BTreeMap<String, &Entry<'_>> = BTreeMap::new();
    for block in blocks {
        let Block::Entry(entry) = block else { continue };
        for target in targets(entry, changes) {
            match owner.get(&target) {
                Some(first) if (&first.section, &first.key) != (&entry.section, &entry.key) => {
                    return Err(Error::Invalid {
                        file: file.to_owned(),
                        location: Some(Location {
                            line: entry.line,
                            column: 1,
                        }),
                        item: format!("option {target}"),
                        message: format!(
                            "set twice: as [{}] {} at {file}:{} and as [{}] {} at {file}:{}; keep one of them",
                            first.section, first.key, first.line, entry.section, entry.key, entry.line
                        ),
                        source: None,
                    });
                }
                Some(_) => {}
                None => {
                    owner.insert(target, entry);
                }
            }
        }
    }
    Ok(())
}

/// The entry's lines with its key replaced by `key`.
fn renamed_lines(entry: &Entry<'_>, key: &str) -> Vec<String> {
    let mut lines: Vec<String> = entry.lines.iter().map(|l| (*l).to_owned()).collect();
    // The key line starts with the key (oslo.config strips it); what follows stays as it is.
    let start = lines[0].find(entry.key.as_str()).unwrap_or(0);
    lines[0].replace_range(start..start + entry.key.len(), key);
    lines
}

/// The rewritten text: renames within a section in place, moves to the end of the target
/// section (created at the end of the file when absent), removals as marked comments.
fn rewrite(blocks: &[Block<'_>], changes: &BTreeMap<&str, &ComposedChange>) -> MigratedConfig {
    let mut moved = Vec::new();
    let mut removed = Vec::new();
    // Lines moved into each section, in file order, and what stays in place.
    let mut arriving: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut kept: Vec<Vec<String>> = Vec::with_capacity(blocks.len());
    for block in blocks {
        let entry = match block {
            Block::Header(line, _) | Block::Other(line) => {
                kept.push(vec![(*line).to_owned()]);
                continue;
            }
            Block::Entry(entry) => entry,
        };
        let name = format!("{}.{}", entry.section, entry.key);
        let Some(change) = changes.get(name.as_str()) else {
            kept.push(entry.lines.iter().map(|l| (*l).to_owned()).collect());
            continue;
        };
        if change.action == ConfigAction::Remove {
            removed.push(RemovedOption {
                section: entry.section.clone(),
                option: entry.key.clone(),
                value: entry.value.clone(),
                line: entry.line,
                release: change.release.clone(),
            });
            let marker = format!("{REMOVED_MARKER}({}) ", change.release);
            kept.push(entry.lines.iter().map(|l| format!("{marker}{l}")).collect());
            continue;
        }
        let mut here = Vec::new();
        for target in &change.to {
            let (section, key) = target.split_once('.').unwrap_or(("DEFAULT", target));
            moved.push(MovedOption {
                from: name.clone(),
                to: target.clone(),
                line: entry.line,
            });
            let lines = renamed_lines(entry, key);
            if section == entry.section {
                here.extend(lines);
            } else {
                arriving
                    .entry(section.to_owned())
                    .or_default()
                    .extend(lines);
            }
        }
        kept.push(here);
    }
    MigratedConfig {
        text: assemble(blocks, kept, arriving),
        moved,
        removed,
    }
}

/// The kept lines, with the arriving ones at the end of the last header of their section
/// (before its trailing blank lines), and new sections at the end of the file.
fn assemble(
    blocks: &[Block<'_>],
    kept: Vec<Vec<String>>,
    mut arriving: BTreeMap<String, Vec<String>>,
) -> String {
    // The index of the block after each section's last stretch: where its arrivals go.
    let mut last_header: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, block) in blocks.iter().enumerate() {
        if let Block::Header(_, name) = block {
            last_header.insert(name, index);
        }
    }
    let mut insert_at: BTreeMap<usize, String> = BTreeMap::new();
    for (name, &header) in &last_header {
        if !arriving.contains_key(*name) {
            continue;
        }
        let mut end = blocks[header + 1..]
            .iter()
            .position(|b| matches!(b, Block::Header(..)))
            .map_or(blocks.len(), |p| header + 1 + p);
        // Before the blank lines that end the section.
        while end > header + 1 && matches!(&blocks[end - 1], Block::Other(l) if l.trim().is_empty())
        {
            end -= 1;
        }
        insert_at.insert(end, (*name).to_owned());
    }
    let mut text = String::new();
    for (index, lines) in kept.into_iter().enumerate() {
        if let Some(section) = insert_at.get(&index) {
            push_lines(&mut text, arriving.remove(section).unwrap_or_default());
        }
        push_lines(&mut text, lines);
    }
    if let Some(section) = insert_at.get(&blocks.len()) {
        push_lines(&mut text, arriving.remove(section).unwrap_or_default());
    }
    for (section, lines) in arriving {
        if !text.is_empty() && !text.ends_with("\n\n") {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
        }
        text.push('[');
        text.push_str(&section);
        text.push_str("]\n");
        push_lines(&mut text, lines);
    }
    text
}

/// Appends lines, each ending in a line break (the file's last line may have had none).
fn push_lines(text: &mut String, lines: Vec<String>) {
    for line in lines {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let yaml = "format: ffu-catalog/1\nname: t\nreleases: [{name: a}, {name: b}, {name: c}]\n\
            services: [{name: s, components: [{name: s-api, role: control}]}]\nconfig_changes:\n\
            \x20 - {service: s, release: b, action: rename, from: DEFAULT.scheduler_driver, to: scheduler.driver}\n\
            \x20 - {service: s, release: b, action: rename, from: DEFAULT.old_name, to: DEFAULT.new_name}\n\
            \x20 - {service: s, release: c, action: rename, from: vnc.vncserver_listen, to: vnc.server_listen}\n\
            \x20 - {service: s, release: c, action: remove, from: DEFAULT.rpc_backend}\n\
            \x20 - {service: s, release: c, action: rename, from: DEFAULT.filters, to: filter_scheduler.enabled_filters}\n";
        Catalog::from_yaml_str(yaml, "t.yaml").unwrap()
    }

    const FILE: &str = "\
# nova.conf of a deployment
[DEFAULT]
# the scheduler
scheduler_driver = filter_scheduler
old_name: 5
rpc_backend = rabbit
filters = RetryFilter,
    AvailabilityZoneFilter
debug = true

[vnc]
vncserver_listen = 0.0.0.0

[scheduler]
max_attempts = 3
";

    #[test]
    fn renames_moves_and_removals_keep_the_rest() {
        let migrated = catalog()
            .migrate_config(FILE, "nova.conf", "s", "a", "c")
            .unwrap();
        assert_eq!(
            migrated.text,
            "\
# nova.conf of a deployment
[DEFAULT]
# the scheduler
new_name: 5
#ffu-removed(c) rpc_backend = rabbit
debug = true

[vnc]
server_listen = 0.0.0.0

[scheduler]
max_attempts = 3
driver = filter_scheduler

[filter_scheduler]
enabled_filters = RetryFilter,
    AvailabilityZoneFilter
"
        );
        assert_eq!(
            migrated.removed,
            [RemovedOption {
                section: "DEFAULT".into(),
                option: "rpc_backend".into(),
                value: "rabbit".into(),
                line: 6,
                release: "c".into(),
            }]
        );
        assert_eq!(migrated.moved.len(), 4);
    }

    #[test]
    fn an_option_under_its_old_and_new_name_is_refused_naming_both() {
        let text = "[DEFAULT]\nscheduler_driver = a\n[scheduler]\ndriver = b\n";
        let err = catalog()
            .migrate_config(text, "nova.conf", "s", "a", "c")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "nova.conf:4:1: option scheduler.driver: set twice: as [DEFAULT] scheduler_driver at nova.conf:2 and as [scheduler] driver at nova.conf:4; keep one of them"
        );
    }

    #[test]
    fn repeated_keys_stay_together_and_unchanged_files_stay_byte_for_byte() {
        let text = "[DEFAULT]\r\nfilters = a\r\nfilters = b\r\nother = 1";
        let migrated = catalog().migrate_config(text, "f", "s", "a", "b").unwrap();
        assert_eq!(migrated.text, text);
        let migrated = catalog().migrate_config(text, "f", "s", "a", "c").unwrap();
        assert_eq!(
            migrated.text,
            "[DEFAULT]\r\nother = 1\n\n[filter_scheduler]\nenabled_filters = a\r\nenabled_filters = b\r\n"
        );
    }

    #[test]
    fn lines_oslo_config_refuses_are_errors_naming_the_line() {
        for (text, message) in [
            ("key = 1\n", "f:1:1: not an oslo.config INI file: an option before the first section header"),
            ("[DEFAULT]\n  indented\n", "f:2:1: not an oslo.config INI file: a continuation line without an option above it"),
            ("[DEFAULT\n", "f:1:1: not an oslo.config INI file: a section header must be [NAME]"),
            ("[DEFAULT]\njust words\n", "f:2:1: not an oslo.config INI file: a line that is no section, option or comment"),
            ("[DEFAULT]\n= 3\n", "f:2:1: not an oslo.config INI file: an option without a name"),
        ] {
            let err = catalog().migrate_config(text, "f", "s", "a", "c").unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }
}
