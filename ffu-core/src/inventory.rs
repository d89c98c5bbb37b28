//! Inventories (`ffu-inventory/1`): which release each component runs on each host.
//!
//! An inventory lists hosts, with Ansible-style ranges in their names (`cmp-[001:120]`), and
//! for each host the components it runs and their release. It is validated against a
//! [`Catalog`] like a catalog is validated: every error names the file, the line and column
//! where the item is written, and the item.

use std::fmt::{self, Write as _};
use std::path::Path;

use rustc_hash::FxHashMap as HashMap;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::catalog::{json_error, yaml_error, yaml_options, Catalog, SourceFile, Syntax};
use crate::error::{Error, Result};
use crate::input::{read_document, MAX_DOCUMENT_BYTES};
use crate::release::ReleaseId;
use crate::service::{ComponentId, ServiceId};

/// The format tag every inventory carries.
pub const INVENTORY_FORMAT: &str = "ffu-inventory/1";

/// The most hosts an inventory may expand to, all patterns together; checked before any
/// host is made, so that `cmp-[0:999999999]` fails at once instead of filling memory.
const MAX_HOSTS: u64 = 1_000_000;

/// The file name of an inventory given with [`Inventory::from_hosts`].
const HOSTS_FILE: &str = "<hosts>";

/// Letters of alphabetic ranges, in Ansible's order (`string.ascii_letters`).
const LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// One host and the release each of its components runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Host {
    /// The host's name, with ranges expanded (`cmp-007`).
    pub name: String,
    /// Sorted by component id; each component at most once.
    pub components: Vec<(ComponentId, ReleaseId)>,
}

/// A validated inventory: hosts (ranges expanded, in file order), each component known to
/// the catalog and existing at the release the host runs.
///
/// # Invariants
/// An `Inventory` only comes from loading and validation against a catalog, so:
/// - it has at least one host, and at most 1,000,000;
/// - host names are unique;
/// - every component of a host exists, with its service, at the release it runs there.
#[derive(Debug, Clone)]
pub struct Inventory {
    hosts: Vec<Host>,
    file: String,
}

impl Inventory {
    /// Loads an inventory file (YAML, or JSON when the name ends in `.json`) and validates it
    /// against `catalog`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Parse`] when it is not an
    /// inventory document (bad syntax, an unknown or missing field), [`Error::Invalid`] when
    /// it breaks a rule (see [`Inventory::from_yaml_str`]).
    pub fn from_path(catalog: &Catalog, path: impl AsRef<Path>) -> Result<Inventory> {
        let path = path.as_ref();
        let text = read_document(path)?;
        load(
            catalog,
            &text,
            &path.display().to_string(),
            Syntax::for_path(path),
        )
    }

    /// Parses an inventory from YAML text and validates it against `catalog`; `file` names it
    /// in error messages.
    ///
    /// # Errors
    /// [`Error::Parse`] when the text is not an inventory document; [`Error::Invalid`] when
    /// the format tag is missing or not `ffu-inventory/1`, when there is no host, when a
    /// host range is malformed, when the ranges expand to more than 1,000,000 hosts, when a
    /// component or release is unknown, when a component or its service does not exist at
    /// the release given for it, when a host lists a component twice, or when two hosts
    /// have the same name.
    ///
    /// # Example
    /// ```
    /// use ffu_core::{Catalog, Inventory};
    ///
    /// let catalog = Catalog::openstack();
    /// let yaml = r#"
    /// format: ffu-inventory/1
    /// hosts:
    ///   - name: ctl-1
    ///     components: {keystone-api: pike, nova-api: pike, neutron-server: queens}
    ///   - name: "cmp-[001:120]"
    ///     components: {nova-compute: pike, libvirt-guests: pike}
    /// "#;
    /// let inventory = Inventory::from_yaml_str(&catalog, yaml, "inventory.yaml")?;
    /// assert_eq!(inventory.hosts().len(), 121);
    /// assert_eq!(inventory.hosts()[1].name, "cmp-001");
    /// assert_eq!(inventory.hosts()[120].name, "cmp-120");
    /// assert_eq!(inventory.uniform_release(), None); // an interrupted upgrade
    /// let nova = catalog.service_id("nova").unwrap();
    /// assert_eq!(inventory.oldest_release_of(&catalog, nova), catalog.release_id("pike"));
    /// # Ok::<(), ffu_core::Error>(())
    /// ```
    pub fn from_yaml_str(catalog: &Catalog, text: &str, file: &str) -> Result<Inventory> {
        load(catalog, text, file, Syntax::Yaml)
    }

    /// Parses an inventory from JSON text and validates it against `catalog`; `file` names it
    /// in error messages.
    ///
    /// # Errors
    /// As [`Inventory::from_yaml_str`].
    pub fn from_json_str(catalog: &Catalog, text: &str, file: &str) -> Result<Inventory> {
        load(catalog, text, file, Syntax::Json)
    }

    /// For tools and tests: (host name pattern, [(component, release)]), validated like a
    /// file (`<hosts>` as file name, without line and column).
    ///
    /// # Errors
    /// [`Error::Invalid`] as [`Inventory::from_yaml_str`] (there is no format tag to check).
    pub fn from_hosts(catalog: &Catalog, hosts: &[(&str, &[(&str, &str)])]) -> Result<Inventory> {
        let entries: Vec<Entry<'_>> = hosts
            .iter()
            .map(|&(pattern, components)| Entry {
                pattern,
                components: components.to_vec(),
            })
            .collect();
        let report = Reporter {
            file: HOSTS_FILE,
            text: "",
            syntax: Syntax::Yaml,
        };
        build(catalog, &entries, &report)
    }

    /// The hosts, ranges expanded, in file order.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The file the inventory was loaded from, for messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Every (host index, component, release) in host order then component order.
    pub fn placements(&self) -> impl Iterator<Item = (usize, ComponentId, ReleaseId)> + '_ {
        self.hosts.iter().enumerate().flat_map(|(index, host)| {
            host.components
                .iter()
                .map(move |&(component, release)| (index, component, release))
        })
    }

    /// The oldest release any component of `service` runs, if any runs.
    pub fn oldest_release_of(&self, catalog: &Catalog, service: ServiceId) -> Option<ReleaseId> {
        self.hosts
            .iter()
            .flat_map(|host| &host.components)
            .filter(|&&(component, _)| catalog.component(component).service == service)
            .map(|&(_, release)| release)
            .min()
    }

    /// Whether every placed component runs the same release: that release, or `None` when
    /// releases are mixed or no component is placed (`None` for an empty inventory).
    pub fn uniform_release(&self) -> Option<ReleaseId> {
        let mut releases = self
            .hosts
            .iter()
            .flat_map(|host| host.components.iter().map(|&(_, release)| release));
        let first = releases.next()?;
        releases.all(|release| release == first).then_some(first)
    }
}

/// The `ffu-inventory/1` document as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryDoc {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    hosts: Vec<HostDoc>,
}

/// One entry of `hosts`: a name pattern and the components of every host it gives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostDoc {
    name: String,
    /// Absent or empty for a spare host.
    #[serde(default)]
    components: Option<ComponentList>,
}

/// A `{component: release}` map, kept as pairs in file order so that the first error is the
/// first written one and a component given twice is reported rather than silently merged.
#[derive(Debug, Default)]
struct ComponentList(Vec<(String, String)>);

impl<'de> Deserialize<'de> for ComponentList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;

        impl<'de> Visitor<'de> for Pairs {
            type Value = ComponentList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from component names to release names")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(256));
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(ComponentList(pairs))
            }
        }

        deserializer.deserialize_map(Pairs)
    }
}

/// One host entry, from a document or from [`Inventory::from_hosts`].
struct Entry<'a> {
    pattern: &'a str,
    components: Vec<(&'a str, &'a str)>,
}

/// Builds errors that name the file and where the item is written there.
struct Reporter<'a> {
    file: &'a str,
    text: &'a str,
    syntax: Syntax,
}

impl Reporter<'_> {
    /// An error about `item`, located at `needle` after the first mention of `anchor`.
    fn invalid(&self, item: String, anchor: &str, needle: &str, message: String) -> Error {
        // Errors are rare: the text is copied only to locate one.
        let location = (!self.text.is_empty()).then(|| {
            let source = SourceFile {
                name: self.file.to_owned(),
                text: self.text.to_owned(),
                syntax: self.syntax,
            };
            if anchor.is_empty() {
                source.locate(needle)
            } else {
                source.locate_within(anchor, needle)
            }
        });
        Error::Invalid {
            file: self.file.to_owned(),
            location: location.flatten(),
            item,
            message,
            source: None,
        }
    }
}

/// Parses and validates a document.
fn load(catalog: &Catalog, text: &str, file: &str, syntax: Syntax) -> Result<Inventory> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::Parse {
            file: file.to_owned(),
            location: None,
            message: format!(
                "document is {} bytes, more than the limit of {MAX_DOCUMENT_BYTES}",
                text.len()
            ),
            source: None,
        });
    }
    let doc: InventoryDoc = match syntax {
        Syntax::Json => serde_json::from_str(text).map_err(|err| json_error(file, err))?,
        Syntax::Yaml => serde_saphyr::from_str_with_options(text, yaml_options(text.len()))
            .map_err(|err| yaml_error(file, err))?,
    };
    let report = Reporter { file, text, syntax };
    match doc.format.as_deref() {
        Some(INVENTORY_FORMAT) => {}
        Some(other) => {
            return Err(report.invalid(
                "format".into(),
                "",
                other,
                format!("unsupported format {other:?}; expected {INVENTORY_FORMAT:?}"),
            ))
        }
        None => {
            return Err(report.invalid(
                "format".into(),
                "",
                "",
                format!("missing `format: {INVENTORY_FORMAT}`"),
            ))
        }
    }
    let entries: Vec<Entry<'_>> = doc
        .hosts
        .iter()
        .map(|host| Entry {
            pattern: &host.name,
            components: host.components.as_ref().map_or_else(Vec::new, |list| {
                list.0
                    .iter()
                    .map(|(component, release)| (component.as_str(), release.as_str()))
                    .collect()
            }),
        })
        .collect();
    build(catalog, &entries, &report)
}

/// A host entry checked: its name pattern parsed, its components resolved once for all the
/// hosts it gives.
struct Checked<'a> {
    pattern: &'a str,
    parts: Vec<Part<'a>>,
    count: u64,
    components: Vec<(ComponentId, ReleaseId)>,
}

/// Validates entries and expands them into hosts.
fn build(catalog: &Catalog, entries: &[Entry<'_>], report: &Reporter<'_>) -> Result<Inventory> {
    if entries.is_empty() {
        return Err(report.invalid(
            "hosts".into(),
            "",
            "hosts",
            "an inventory needs at least one host".into(),
        ));
    }
    let mut checked = Vec::with_capacity(entries.len());
    let mut total: u64 = 0;
    for entry in entries {
        let pattern = entry.pattern;
        let item = || format!("host {pattern}");
        if pattern.trim().is_empty() {
            // The `name` key after the previous host's name is this host's.
            let previous = checked
                .last()
                .map_or("", |previous: &Checked<'_>| previous.pattern);
            return Err(report.invalid(
                format!("host #{}", checked.len() + 1),
                previous,
                "name",
                "a host needs a name".into(),
            ));
        }
        let (parts, count) = parse_pattern(pattern)
            .map_err(|message| report.invalid(item(), pattern, pattern, message))?;
        total = match count.checked_add(total) {
            Some(total) if total <= MAX_HOSTS => total,
            _ => {
                return Err(report.invalid(
                    item(),
                    pattern,
                    pattern,
                    format!("the inventory expands to more than {MAX_HOSTS} hosts"),
                ))
            }
        };
        let components = resolve_components(catalog, entry, report)?;
        checked.push(Checked {
            pattern,
            parts,
            count,
            components,
        });
    }

    // `total` is at most MAX_HOSTS, so it fits in memory and in usize.
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let mut hosts = Vec::with_capacity(total);
    for entry in &checked {
        expand(&entry.parts, entry.count, |name| {
            hosts.push(Host {
                name,
                components: entry.components.clone(),
            });
        });
    }

    let mut seen: HashMap<&str, usize> =
        HashMap::with_capacity_and_hasher(hosts.len(), rustc_hash::FxBuildHasher);
    let mut host_index = 0;
    for (entry_index, entry) in checked.iter().enumerate() {
        let count = usize::try_from(entry.count).unwrap_or(usize::MAX);
        for host in &hosts[host_index..host_index + count] {
            if let Some(first) = seen.insert(&host.name, entry_index) {
                let first = checked[first].pattern;
                let second = entry.pattern;
                let message = if first == second {
                    format!("duplicate host name, given twice by {first}")
                } else {
                    format!("duplicate host name, given by both {first} and {second}")
                };
                return Err(report.invalid(format!("host {}", host.name), "", second, message));
            }
        }
        host_index += count;
    }

    Ok(Inventory {
        hosts,
        file: report.file.to_owned(),
    })
}

/// Resolves the components of one entry against the catalog, sorted by id.
fn resolve_components(
    catalog: &Catalog,
    entry: &Entry<'_>,
    report: &Reporter<'_>,
) -> Result<Vec<(ComponentId, ReleaseId)>> {
    let pattern = entry.pattern;
    let item = || format!("host {pattern}");
    let mut resolved = Vec::with_capacity(entry.components.len());
    for &(name, release_name) in &entry.components {
        let component_id = catalog.component_id(name).ok_or_else(|| {
            report.invalid(item(), pattern, name, format!("unknown component {name:?}"))
        })?;
        let release = catalog.release_id(release_name).ok_or_else(|| {
            report.invalid(
                item(),
                pattern,
                release_name,
                format!("unknown release {release_name:?} for component {name}"),
            )
        })?;
        let component = catalog.component(component_id);
        let service = catalog.service(component.service);
        if !service.exists_at(release) {
            return Err(report.invalid(
                item(),
                pattern,
                name,
                format!(
                    "component {name} runs {release_name}, but its service {} does not exist at {release_name}{}",
                    service.name,
                    lifetime(catalog, service.since, service.until)
                ),
            ));
        }
        if !component.exists_at(release) {
            return Err(report.invalid(
                item(),
                pattern,
                name,
                format!(
                    "component {name} does not exist at {release_name}{}",
                    lifetime(catalog, component.since, component.until)
                ),
            ));
        }
        resolved.push((component_id, release));
    }
    resolved.sort_unstable();
    if let Some(pair) = resolved.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        let name = &catalog.component(pair[0].0).name;
        return Err(report.invalid(
            item(),
            pattern,
            name,
            format!("component {name} is listed twice"),
        ));
    }
    Ok(resolved)
}

/// ` (it exists from X to Y)`, or the part of it that applies, for messages.
fn lifetime(catalog: &Catalog, since: Option<ReleaseId>, until: Option<ReleaseId>) -> String {
    let name = |id: ReleaseId| catalog.release(id).name.as_str();
    match (since, until) {
        (Some(since), Some(until)) => {
            format!(" (it exists from {} to {})", name(since), name(until))
        }
        (Some(since), None) => format!(" (it exists from {})", name(since)),
        (None, Some(until)) => format!(" (it exists until {})", name(until)),
        (None, None) => String::new(),
    }
}

/// A piece of a host name pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part<'a> {
    /// Written as is.
    Text(&'a str),
    /// `[start:end:step]` over numbers, `length` values, zero-padded to `width` digits (0:
    /// no padding).
    Numbers {
        start: u64,
        step: u64,
        length: u64,
        width: usize,
    },
    /// `[start:end:step]` over letters, as indices into [`LETTERS`], `length` values.
    Letters {
        start: usize,
        step: usize,
        length: u64,
    },
}

/// Splits a host name pattern into text and ranges, and counts the names it gives (the
/// product of the range lengths, saturating at `u64::MAX`, which is over the cap anyway).
/// The error is the message, without the item.
fn parse_pattern(pattern: &str) -> std::result::Result<(Vec<Part<'_>>, u64), String> {
    let mut parts = Vec::new();
    let mut count: u64 = 1;
    let mut rest = pattern;
    while let Some(open) = rest.find(['[', ']']) {
        if rest.as_bytes()[open] == b']' {
            return Err("malformed host name: \"]\" without a \"[\" before it".into());
        }
        if open > 0 {
            parts.push(Part::Text(&rest[..open]));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            return Err("malformed host name: \"[\" without a \"]\" after it".into());
        };
        let part = parse_range(&after[..close])?;
        if let Part::Numbers { length, .. } | Part::Letters { length, .. } = part {
            count = count.saturating_mul(length);
        }
        parts.push(part);
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok((parts, count))
}

/// Parses the inside of one `[...]` range.
fn parse_range(inner: &str) -> std::result::Result<Part<'static>, String> {
    let malformed = |why: &str| {
        format!("malformed range [{inner}]: {why}; expected [start:end] or [start:end:step]")
    };
    if inner.contains('[') {
        return Err(malformed("ranges do not nest"));
    }
    let bounds: Vec<&str> = inner.split(':').collect();
    let (start, end, step) = match bounds[..] {
        [start, end] => (start, end, None),
        [start, end, step] => (start, end, Some(step)),
        _ => return Err(malformed("it needs one or two colons")),
    };
    // As in Ansible, an empty start means 0.
    let start = if start.is_empty() { "0" } else { start };
    if end.is_empty() {
        return Err(malformed("the end is missing"));
    }
    let step = match step.map(parse_number) {
        None => 1,
        Some(Some(0)) => {
            return Err(format!(
                "range [{inner}] has a step of 0; the step must be a positive number"
            ))
        }
        Some(Some(step)) => step,
        Some(None) => return Err(malformed("the step is not a positive number")),
    };
    let is_number = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let letter = |s: &str| match s.as_bytes() {
        [b] => LETTERS.iter().position(|l| l == b),
        _ => None,
    };
    match (letter(start), letter(end)) {
        (Some(first), Some(last)) => {
            if first > last {
                return Err(format!("range [{inner}] starts after it ends"));
            }
            let step = usize::try_from(step).unwrap_or(usize::MAX);
            return Ok(Part::Letters {
                start: first,
                step,
                length: ((last - first) / step + 1) as u64,
            });
        }
        (Some(_), None) if is_number(end) => {
            return Err(format!("range [{inner}] mixes a letter and a number"))
        }
        (None, Some(_)) if is_number(start) => {
            return Err(format!("range [{inner}] mixes a letter and a number"))
        }
        _ => {}
    }
    if !is_number(start) || !is_number(end) {
        return Err(malformed(
            "bounds must be numbers or single letters (a-z, A-Z)",
        ));
    }
    let (Some(first), Some(last)) = (parse_number(start), parse_number(end)) else {
        return Err(malformed("a bound is too large"));
    };
    let width = if start.len() > 1 && start.starts_with('0') {
        if end.len() != start.len() {
            return Err(format!(
                "range [{inner}] pads the start to {} digits but the end has {}; zero-padded bounds must have the same width",
                start.len(),
                end.len()
            ));
        }
        start.len()
    } else {
        0
    };
    if first > last {
        return Err(format!("range [{inner}] starts after it ends"));
    }
    Ok(Part::Numbers {
        start: first,
        step,
        length: (last - first) / step + 1,
        width,
    })
}

/// A number of ASCII digits only (no sign, no spaces), if it fits in a `u64`.
fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Calls `emit` with each of the `count` names a parsed pattern gives, the leftmost range
/// varying slowest (as Ansible expands them).
fn expand(parts: &[Part<'_>], count: u64, mut emit: impl FnMut(String)) {
    let capacity: usize = parts
        .iter()
        .map(|part| match *part {
            Part::Text(text) => text.len(),
            Part::Numbers {
                start,
                step,
                length,
                width,
            } => width.max(digits(start + (length - 1) * step)),
            Part::Letters { .. } => 1,
        })
        .sum();
    // The position of each part in its range, an odometer; text parts stay at 0.
    let mut positions = vec![0u64; parts.len()];
    for _ in 0..count {
        let mut name = String::with_capacity(capacity);
        for (part, &position) in parts.iter().zip(&positions) {
            match *part {
                Part::Text(text) => name.push_str(text),
                Part::Numbers {
                    start, step, width, ..
                } => {
                    let value = start + position * step;
                    // Writing to a String cannot fail.
                    let _ = write!(name, "{value:0width$}");
                }
                Part::Letters { start, step, .. } => {
                    name.push(char::from(LETTERS[start + position as usize * step]));
                }
            }
        }
        emit(name);
        for (part, position) in parts.iter().zip(positions.iter_mut()).rev() {
            let length = match *part {
                Part::Text(_) => continue,
                Part::Numbers { length, .. } | Part::Letters { length, .. } => length,
            };
            *position += 1;
            if *position < length {
                break;
            }
            *position = 0;
        }
    }
}

/// How many decimal digits `value` has.
fn digits(value: u64) -> usize {
    value.checked_ilog10().map_or(1, |log| log as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn catalog() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(Catalog::openstack)
    }

    /// Loads an inventory whose `hosts:` list is `hosts` (the first host is on line 3).
    fn load(hosts: &str) -> Result<Inventory> {
        let text = format!("format: ffu-inventory/1\nhosts:\n{hosts}");
        Inventory::from_yaml_str(catalog(), &text, "inv.yaml")
    }

    fn error(hosts: &str) -> String {
        load(hosts).unwrap_err().to_string()
    }

    fn names(pattern: &str) -> Vec<String> {
        let (parts, count) = parse_pattern(pattern).unwrap();
        let mut names = Vec::new();
        expand(&parts, count, |name| names.push(name));
        assert_eq!(names.len() as u64, count, "{pattern}");
        names
    }

    fn pattern_error(pattern: &str) -> String {
        parse_pattern(pattern).unwrap_err()
    }

    fn release(name: &str) -> ReleaseId {
        catalog().release_id(name).unwrap()
    }

    fn component(name: &str) -> ComponentId {
        catalog().component_id(name).unwrap()
    }

    #[test]
    fn ranges_expand_like_ansible() {
        assert_eq!(names("ctl-1"), ["ctl-1"]);
        assert_eq!(names("cmp-[001:003]"), ["cmp-001", "cmp-002", "cmp-003"]);
        assert_eq!(names("n[8:11]"), ["n8", "n9", "n10", "n11"]);
        assert_eq!(names("n[098:101]"), ["n098", "n099", "n100", "n101"]);
        assert_eq!(names("n[:2]"), ["n0", "n1", "n2"]);
        assert_eq!(names("[a:c].lab"), ["a.lab", "b.lab", "c.lab"]);
        assert_eq!(
            names("rack-[y:B]"),
            ["rack-y", "rack-z", "rack-A", "rack-B"]
        );
        assert_eq!(names("n[a:e:2]"), ["na", "nc", "ne"]);
        assert_eq!(names("n[01:10:2]"), ["n01", "n03", "n05", "n07", "n09"]);
        assert_eq!(names("n[1:10:4]"), ["n1", "n5", "n9"]);
        assert_eq!(names("r[1:2]-[a:b]"), ["r1-a", "r1-b", "r2-a", "r2-b"]);
        assert_eq!(names("[1:2][1:2]"), ["11", "12", "21", "22"]);
        assert_eq!(names("n[5:5]"), ["n5"]);
        assert_eq!(names("n[0000:0000]"), ["n0000"]);
        let many = names("cmp-[00001:09997]");
        assert_eq!(many.len(), 9997);
        assert_eq!(many[0], "cmp-00001");
        assert_eq!(many[9996], "cmp-09997");
    }

    #[test]
    fn malformed_ranges_are_errors() {
        let cases = [
            ("n[3:1]", "range [3:1] starts after it ends"),
            ("n[c:a]", "range [c:a] starts after it ends"),
            ("n[a:3]", "range [a:3] mixes a letter and a number"),
            ("n[1:c]", "range [1:c] mixes a letter and a number"),
            (
                "n[1:3:0]",
                "range [1:3:0] has a step of 0; the step must be a positive number",
            ),
            (
                "n[01:100]",
                "range [01:100] pads the start to 2 digits but the end has 3; zero-padded bounds must have the same width",
            ),
            ("n[1:3", "malformed host name: \"[\" without a \"]\" after it"),
            ("n1:3]", "malformed host name: \"]\" without a \"[\" before it"),
            (
                "n[1]",
                "malformed range [1]: it needs one or two colons; expected [start:end] or [start:end:step]",
            ),
            (
                "n[]",
                "malformed range []: it needs one or two colons; expected [start:end] or [start:end:step]",
            ),
            (
                "n[1:2:3:4]",
                "malformed range [1:2:3:4]: it needs one or two colons; expected [start:end] or [start:end:step]",
            ),
            (
                "n[1:]",
                "malformed range [1:]: the end is missing; expected [start:end] or [start:end:step]",
            ),
            (
                "n[1:3:x]",
                "malformed range [1:3:x]: the step is not a positive number; expected [start:end] or [start:end:step]",
            ),
            (
                "n[aa:ab]",
                "malformed range [aa:ab]: bounds must be numbers or single letters (a-z, A-Z); expected [start:end] or [start:end:step]",
            ),
            (
                "n[-1:3]",
                "malformed range [-1:3]: bounds must be numbers or single letters (a-z, A-Z); expected [start:end] or [start:end:step]",
            ),
            (
                "n[[1:2]]",
                "malformed range [[1:2]: ranges do not nest; expected [start:end] or [start:end:step]",
            ),
            (
                "n[1:99999999999999999999999]",
                "malformed range [1:99999999999999999999999]: a bound is too large; expected [start:end] or [start:end:step]",
            ),
        ];
        for (pattern, message) in cases {
            assert_eq!(pattern_error(pattern), message, "{pattern}");
        }
        // In a file, the error names the file, the place and the host.
        assert_eq!(
            error("  - name: \"cmp-[120:001]\"\n    components: {nova-compute: pike}\n"),
            "inv.yaml:3:12: host cmp-[120:001]: range [120:001] starts after it ends"
        );
    }

    #[test]
    fn the_number_of_hosts_is_capped_before_they_are_made() {
        assert_eq!(
            error("  - name: \"n[1:1000001]\"\n"),
            "inv.yaml:3:12: host n[1:1000001]: the inventory expands to more than 1000000 hosts"
        );
        // The total counts, not each pattern alone.
        assert_eq!(
            error("  - name: \"a[1:600000]\"\n  - name: \"b[1:600000]\"\n"),
            "inv.yaml:4:12: host b[1:600000]: the inventory expands to more than 1000000 hosts"
        );
        // A product that overflows is over the cap too, and nothing is allocated.
        let huge = "n[0:18446744073709551614][0:18446744073709551614]";
        assert_eq!(parse_pattern(huge).unwrap().1, u64::MAX);
        assert_eq!(
            error(&format!("  - name: \"{huge}\"\n")),
            format!("inv.yaml:3:12: host {huge}: the inventory expands to more than 1000000 hosts")
        );
    }

    #[test]
    fn the_format_tag_is_required() {
        let hosts = "hosts:\n  - {name: ctl-1, components: {nova-api: pike}}\n";
        let missing = Inventory::from_yaml_str(catalog(), hosts, "inv.yaml").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "inv.yaml: format: missing `format: ffu-inventory/1`"
        );
        let other = format!("format: ffu-inventory/2\n{hosts}");
        let other = Inventory::from_yaml_str(catalog(), &other, "inv.yaml").unwrap_err();
        assert_eq!(
            other.to_string(),
            "inv.yaml:1:9: format: unsupported format \"ffu-inventory/2\"; expected \"ffu-inventory/1\""
        );
        let catalog_tag = format!("format: ffu-catalog/1\n{hosts}");
        assert!(matches!(
            Inventory::from_yaml_str(catalog(), &catalog_tag, "inv.yaml"),
            Err(Error::Invalid { .. })
        ));
    }

    #[test]
    fn at_least_one_host_is_required() {
        for text in [
            "format: ffu-inventory/1\nhosts: []\n",
            "format: ffu-inventory/1\n",
        ] {
            let err = Inventory::from_yaml_str(catalog(), text, "inv.yaml").unwrap_err();
            let expected = if text.contains("hosts") {
                "inv.yaml:2:1: hosts: an inventory needs at least one host"
            } else {
                "inv.yaml: hosts: an inventory needs at least one host"
            };
            assert_eq!(err.to_string(), expected);
        }
        assert_eq!(
            Inventory::from_hosts(catalog(), &[])
                .unwrap_err()
                .to_string(),
            "<hosts>: hosts: an inventory needs at least one host"
        );
    }

    #[test]
    fn unknown_fields_and_wrong_shapes_are_parse_errors() {
        for hosts in [
            "  - name: ctl-1\n    component: {nova-api: pike}\n",
            "  - components: {nova-api: pike}\n",
            "  - name: ctl-1\n    components: [nova-api]\n",
        ] {
            let err = load(hosts).unwrap_err();
            assert!(matches!(err, Error::Parse { .. }), "{err}");
            assert!(err.to_string().starts_with("inv.yaml:"), "{err}");
        }
        let text = "format: ffu-inventory/1\nhosts: []\ngroups: []\n";
        let err = Inventory::from_yaml_str(catalog(), text, "inv.yaml").unwrap_err();
        assert!(matches!(err, Error::Parse { .. }), "{err}");
    }

    #[test]
    fn unknown_components_and_releases_are_errors() {
        assert_eq!(
            error("  - name: ctl-1\n    components: {keystone-api: pike, nova-apy: pike}\n"),
            "inv.yaml:4:38: host ctl-1: unknown component \"nova-apy\""
        );
        assert_eq!(
            error("  - name: \"cmp-[001:120]\"\n    components: {nova-compute: pikee}\n"),
            "inv.yaml:4:32: host cmp-[001:120]: unknown release \"pikee\" for component nova-compute"
        );
    }

    #[test]
    fn components_must_exist_at_their_release() {
        // The component was removed.
        assert_eq!(
            error("  - name: ctl-1\n    components: {nova-consoleauth: train}\n"),
            "inv.yaml:4:18: host ctl-1: component nova-consoleauth does not exist at train (it exists until stein)"
        );
        // The component is newer than the release.
        assert_eq!(
            error("  - name: ctl-1\n    components: {ironic-novncproxy: caracal}\n"),
            "inv.yaml:4:18: host ctl-1: component ironic-novncproxy does not exist at caracal (it exists from 2025.1)"
        );
        // The component's service is newer than the release.
        assert_eq!(
            error("  - name: ctl-1\n    components: {placement-api: pike}\n"),
            "inv.yaml:4:18: host ctl-1: component placement-api runs pike, but its service placement does not exist at pike (it exists from stein)"
        );
        assert!(load("  - name: ctl-1\n    components: {placement-api: stein}\n").is_ok());
    }

    #[test]
    fn release_aliases_are_accepted() {
        let inventory = load(
            "  - name: ctl-1\n    components: {nova-api: antelope, keystone-api: \"2023.1\", glance-api: 2023.1}\n",
        )
        .unwrap();
        let host = &inventory.hosts()[0];
        assert!(host.components.iter().all(|&(_, r)| r == release("2023.1")));
        assert_eq!(inventory.uniform_release(), Some(release("2023.1")));
    }

    #[test]
    fn a_component_is_given_once_per_host() {
        let json = r#"{"format": "ffu-inventory/1", "hosts": [
            {"name": "ctl-1", "components": {"nova-api": "pike", "nova-api": "queens"}}]}"#;
        let err = Inventory::from_json_str(catalog(), json, "inv.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            "inv.json:2:47: host ctl-1: component nova-api is listed twice"
        );
        let err = Inventory::from_hosts(
            catalog(),
            &[("ctl-1", &[("nova-api", "pike"), ("nova-api", "pike")])],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "<hosts>: host ctl-1: component nova-api is listed twice"
        );
        // YAML itself refuses a key given twice.
        let err = load("  - name: ctl-1\n    components: {nova-api: pike, nova-api: queens}\n")
            .unwrap_err();
        assert!(err.to_string().starts_with("inv.yaml:"), "{err}");
    }

    #[test]
    fn duplicate_hosts_are_errors() {
        assert_eq!(
            error("  - name: \"ctl-[1:3]\"\n  - name: ctl-2\n"),
            "inv.yaml:4:11: host ctl-2: duplicate host name, given by both ctl-[1:3] and ctl-2"
        );
        assert_eq!(
            error("  - name: \"cmp-[001:010]\"\n  - name: \"cmp-[005:020]\"\n"),
            "inv.yaml:4:12: host cmp-005: duplicate host name, given by both cmp-[001:010] and cmp-[005:020]"
        );
        assert_eq!(
            error("  - name: ctl-1\n  - name: ctl-1\n"),
            "inv.yaml:3:11: host ctl-1: duplicate host name, given twice by ctl-1"
        );
        // One pattern may give a name twice: a1 + 11 and a11 + 1.
        assert_eq!(
            error("  - name: \"a[1:11][1:11]\"\n"),
            "inv.yaml:3:12: host a111: duplicate host name, given twice by a[1:11][1:11]"
        );
    }

    #[test]
    fn spare_hosts_are_kept() {
        let inventory = load(
            "  - name: spare-1\n  - name: spare-2\n    components: {}\n  - name: spare-3\n    components:\n  - {name: ctl-1, components: {nova-api: pike}}\n",
        )
        .unwrap();
        let names: Vec<&str> = inventory.hosts().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["spare-1", "spare-2", "spare-3", "ctl-1"]);
        assert!(inventory.hosts()[..3]
            .iter()
            .all(|h| h.components.is_empty()));
        assert_eq!(inventory.placements().count(), 1);
        assert_eq!(inventory.uniform_release(), Some(release("pike")));
        let spares = load("  - name: spare-1\n").unwrap();
        assert_eq!(spares.uniform_release(), None);
        assert_eq!(spares.placements().count(), 0);
    }

    #[test]
    fn components_are_sorted_by_id_and_placements_follow_hosts() {
        let inventory = load(
            "  - name: \"cmp-[1:2]\"\n    components: {ovs-vswitchd: pike, nova-compute: pike, libvirt-guests: pike}\n",
        )
        .unwrap();
        let host = &inventory.hosts()[0];
        let mut sorted = host.components.clone();
        sorted.sort();
        assert_eq!(host.components, sorted);
        assert_eq!(host.components.len(), 3);
        assert_eq!(inventory.hosts()[1].components, host.components);
        let placements: Vec<_> = inventory.placements().collect();
        assert_eq!(placements.len(), 6);
        assert_eq!(placements[3], (1, host.components[0].0, release("pike")));
        assert!(placements
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
    }

    #[test]
    fn a_mixed_inventory_is_an_interrupted_upgrade() {
        let inventory = load(concat!(
            "  - name: ctl-1\n    components: {nova-api: queens, neutron-server: queens}\n",
            "  - name: \"ctl-[2:3]\"\n    components: {nova-api: pike, neutron-server: pike}\n",
            "  - name: \"cmp-[01:10]\"\n    components: {nova-compute: queens}\n",
        ))
        .unwrap();
        assert_eq!(inventory.hosts().len(), 13);
        assert_eq!(inventory.file(), "inv.yaml");
        assert_eq!(inventory.uniform_release(), None);
        let nova = catalog().service_id("nova").unwrap();
        let neutron = catalog().service_id("neutron").unwrap();
        let keystone = catalog().service_id("keystone").unwrap();
        assert_eq!(
            inventory.oldest_release_of(catalog(), nova),
            Some(release("pike"))
        );
        assert_eq!(
            inventory.oldest_release_of(catalog(), neutron),
            Some(release("pike"))
        );
        assert_eq!(inventory.oldest_release_of(catalog(), keystone), None);
        // neutron comes before nova in the catalog, so its components have smaller ids.
        assert!(component("neutron-server") < component("nova-api"));
        assert_eq!(
            inventory.hosts()[0].components,
            [
                (component("neutron-server"), release("queens")),
                (component("nova-api"), release("queens"))
            ]
        );
    }

    #[test]
    fn json_and_from_hosts_read_the_same_inventory() {
        let yaml = load("  - name: \"cmp-[1:3]\"\n    components: {nova-compute: pike}\n").unwrap();
        let json = Inventory::from_json_str(
            catalog(),
            r#"{"format": "ffu-inventory/1", "hosts": [{"name": "cmp-[1:3]", "components": {"nova-compute": "pike"}}]}"#,
            "inv.json",
        )
        .unwrap();
        let hosts = Inventory::from_hosts(catalog(), &[("cmp-[1:3]", &[("nova-compute", "pike")])])
            .unwrap();
        assert_eq!(json.hosts(), yaml.hosts());
        assert_eq!(hosts.hosts(), yaml.hosts());
        assert_eq!(hosts.file(), "<hosts>");
        assert_eq!(
            Inventory::from_hosts(catalog(), &[("ctl-1", &[("nova-api", "pikee")])])
                .unwrap_err()
                .to_string(),
            "<hosts>: host ctl-1: unknown release \"pikee\" for component nova-api"
        );
    }

    #[test]
    fn the_test_data_files_load() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
        let pike = Inventory::from_path(catalog(), data.join("inventory-pike.yaml")).unwrap();
        assert_eq!(pike.hosts().len(), 123);
        assert_eq!(pike.uniform_release(), Some(release("pike")));
        assert_eq!(pike.placements().count(), 3 * 8 + 120 * 4);
        let mixed = Inventory::from_path(catalog(), data.join("inventory-mixed.yaml")).unwrap();
        assert_eq!(mixed.hosts().len(), 123);
        assert_eq!(mixed.uniform_release(), None);
        let queens: Vec<&str> = mixed
            .hosts()
            .iter()
            .filter(|h| h.components.iter().any(|&(_, r)| r == release("queens")))
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(queens.len(), 11);
        assert_eq!(queens[0], "ctl-1");
        assert_eq!(queens[10], "cmp-010");
        let missing = Inventory::from_path(catalog(), data.join("no-such-inventory.yaml"));
        assert!(matches!(missing, Err(Error::Io { .. })));
    }

    #[test]
    fn hosts_need_a_name() {
        assert_eq!(
            error("  - {name: ctl-1}\n  - name: \"\"\n"),
            "inv.yaml:4:5: host #2: a host needs a name"
        );
        assert_eq!(
            error("  - name: \" \"\n"),
            "inv.yaml:3:5: host #1: a host needs a name"
        );
    }

    #[test]
    fn ten_thousand_hosts_load() {
        let text = concat!(
            "format: ffu-inventory/1\nhosts:\n",
            "  - name: \"ctl-[1:3]\"\n",
            "    components: {keystone-api: pike, glance-api: pike, cinder-api: pike, nova-api: pike, neutron-server: pike}\n",
            "  - name: \"cmp-[00001:09997]\"\n",
            "    components: {nova-compute: pike, neutron-openvswitch-agent: pike, libvirt-guests: pike, ovs-vswitchd: pike}\n",
        );
        let inventory = Inventory::from_yaml_str(catalog(), text, "large.yaml").unwrap();
        assert_eq!(inventory.hosts().len(), 10_000);
        assert_eq!(inventory.hosts()[3].name, "cmp-00001");
        assert_eq!(inventory.hosts()[9_999].name, "cmp-09997");
        assert_eq!(inventory.placements().count(), 3 * 5 + 9_997 * 4);
        assert_eq!(inventory.uniform_release(), Some(release("pike")));
    }
}
