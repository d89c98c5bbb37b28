//! Reading catalog documents from text and files, and merging `include:` fragments.

use std::path::{Path, PathBuf};

use super::document::{migrations_bound, parse_presized, CatalogDoc};
use super::split_json;
use crate::error::{Error, Location, Result, Source};
use crate::input::{read_document, read_named_document, MAX_DOCUMENT_BYTES};

/// How deep `include:` may nest; deeper is surely a mistake.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The syntax of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Yaml,
    Json,
}

impl Syntax {
    /// JSON for `.json` files, YAML for everything else (YAML is a superset in spirit, and
    /// its parser gives better messages for hand-written files).
    pub(crate) fn for_path(path: &Path) -> Syntax {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Syntax::Json,
            _ => Syntax::Yaml,
        }
    }
}

/// One file that contributed to a catalog, kept to locate items in error messages.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) syntax: Syntax,
}

impl SourceFile {
    /// Where `needle` is first written in the file, as a whole word; `None` if it is not.
    pub(crate) fn locate(&self, needle: &str) -> Option<Location> {
        self.find_word(needle, 0).map(|at| self.location_of(at))
    }

    /// Where `needle` is first written after the first mention of `anchor` (the item's own
    /// name), so that an error about a service's `until: a` points into that service and
    /// not at release `a`; falls back to the anchor itself.
    pub(crate) fn locate_within(&self, anchor: &str, needle: &str) -> Option<Location> {
        let Some(item_at) = self.find_word(anchor, 0) else {
            return self.locate(needle);
        };
        let at = self.find_word(needle, item_at).unwrap_or(item_at);
        Some(self.location_of(at))
    }

    fn find_word(&self, needle: &str, from: usize) -> Option<usize> {
        if needle.is_empty() {
            return None;
        }
        let bytes = self.text.as_bytes();
        let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
        let mut start = from;
        while let Some(found) = self.text.get(start..)?.find(needle) {
            let at = start + found;
            let end = at + needle.len();
            let before_ok = at == 0 || !is_word(bytes[at - 1]);
            let after_ok = end >= bytes.len() || !is_word(bytes[end]);
            if before_ok && after_ok {
                return Some(at);
            }
            start = end;
        }
        None
    }

    fn location_of(&self, at: usize) -> Location {
        let line_start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[..at].matches('\n').count() as u64 + 1;
        let column = self.text[line_start..at].chars().count() as u64 + 1;
        Location { line, column }
    }
}

/// Parses one document.
pub(crate) fn parse_document(text: &str, file: &str, syntax: Syntax) -> Result<CatalogDoc> {
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
    if syntax == Syntax::Json {
        if let Some(doc) = split_json::parse(text, migrations_bound(text)) {
            return Ok(doc);
        }
    }
    parse_presized(text, || match syntax {
        Syntax::Json => serde_json::from_str(text).map_err(|err| json_error(file, err)),
        Syntax::Yaml => serde_saphyr::from_str_with_options(text, yaml_options(text.len()))
            .map_err(|err| yaml_error(file, err)),
    })
}

/// YAML limits: the parser's defaults stop alias bombs (aliases are capped, absolutely and
/// relative to anchors); the node and event caps grow with the input so that a large but
/// honest catalog loads, while memory stays proportional to the input.
pub(crate) fn yaml_options(input_len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // A node needs at least two bytes of input ("a\n" or "- "), so this never refuses an
    // honest document, and still bounds work by the input size.
    budget.max_nodes = budget.max_nodes.max(input_len / 2 + 1);
    budget.max_events = budget.max_events.max(input_len + 1);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(input_len + 1);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// A JSON parser's error as an [`Error::Parse`] (the location apart, the parser's error
/// kept as its source).
pub(crate) fn json_error(file: &str, err: serde_json::Error) -> Error {
    let message = err.to_string();
    // serde_json appends " at line L column C"; the location is reported separately.
    let message = match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    };
    Error::Parse {
        file: file.to_owned(),
        location: (err.line() > 0).then(|| Location {
            line: err.line() as u64,
            column: err.column() as u64,
        }),
        message,
        source: Some(Box::new(err)),
    }
}

/// A YAML parser's error as an [`Error::Parse`]: its first line (the location apart), the
/// parser's error kept as its source.
pub(crate) fn yaml_error(file: &str, err: serde_saphyr::Error) -> Error {
    let location = err.location().and_then(|loc| {
        (loc.line() > 0).then(|| Location {
            line: loc.line(),
            column: loc.column(),
        })
    });
    let rendered = err.without_snippet().to_string();
    let message = rendered
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("invalid YAML")
        .to_owned();
    Error::Parse {
        file: file.to_owned(),
        location,
        message: strip_location_suffix(&message),
        source: Some(Box::new(err)),
    }
}

/// serde-saphyr may end a message with its own "at line L, column C"; drop it, the
/// location is printed in front.
fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A catalog document with its fragments merged in, and the files they came from.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) doc: CatalogDoc,
    pub(crate) files: Vec<SourceFile>,
    /// For every item list, the index in `files` of each item's file.
    pub(crate) origins: Origins,
}

/// The file index of each item, list by list, parallel to the merged document's lists.
#[derive(Debug, Default)]
pub(crate) struct Origins {
    pub(crate) releases: Vec<usize>,
    pub(crate) edges: Vec<usize>,
    pub(crate) services: Vec<usize>,
    pub(crate) migrations: Vec<usize>,
    pub(crate) extensions: Vec<usize>,
    pub(crate) config_changes: Vec<usize>,
    pub(crate) tasks: Vec<usize>,
    pub(crate) histories: Vec<usize>,
}

/// Loads a document given as text. `include:` is refused: a string has no directory to
/// resolve fragments against.
pub(crate) fn load_text(text: &str, file: &str, syntax: Syntax) -> Result<Loaded> {
    let doc = parse_document(text, file, syntax)?;
    if !doc.include.is_empty() {
        return Err(Error::Invalid {
            file: file.to_owned(),
            location: SourceFile {
                name: file.to_owned(),
                text: text.to_owned(),
                syntax,
            }
            .locate("include"),
            item: "include".to_owned(),
            message: "a catalog given as a string cannot include files; load it from a file"
                .to_owned(),
            source: None,
        });
    }
    let mut loaded = Loaded {
        doc: CatalogDoc::default(),
        files: vec![SourceFile {
            name: file.to_owned(),
            text: text.to_owned(),
            syntax,
        }],
        origins: Origins::default(),
    };
    merge(&mut loaded, doc, 0, true)?;
    Ok(loaded)
}

/// Loads the embedded catalog: its root document and the fragments compiled in with it
/// (`(name, text)`: JSON when the name ends in `.json>`, else YAML), merged as `include:`
/// merges fragments.
pub(crate) fn load_embedded(root: &str, name: &str, fragments: &[(&str, &str)]) -> Result<Loaded> {
    let mut loaded = load_text(root, name, Syntax::Yaml)?;
    for (fragment, text) in fragments {
        let syntax = if fragment.ends_with(".json>") {
            Syntax::Json
        } else {
            Syntax::Yaml
        };
        let doc = parse_document(text, fragment, syntax)?;
        let index = loaded.files.len();
        loaded.files.push(SourceFile {
            name: (*fragment).to_owned(),
            text: (*text).to_owned(),
            syntax,
        });
        merge(&mut loaded, doc, index, false)?;
    }
    Ok(loaded)
}

/// Loads a file and, recursively, the fragments it includes.
pub(crate) fn load_file(path: &Path) -> Result<Loaded> {
    let mut loaded = Loaded {
        doc: CatalogDoc::default(),
        files: Vec::new(),
        origins: Origins::default(),
    };
    let mut stack = Vec::new();
    // The catalog named on the command line may be a pipe (`/dev/stdin`).
    let text = read_document(path)?;
    load_into(&mut loaded, path, text, &mut stack, true)?;
    Ok(loaded)
}

fn load_into(
    loaded: &mut Loaded,
    path: &Path,
    text: String,
    stack: &mut Vec<PathBuf>,
    root: bool,
) -> Result<()> {
    let name = path.display().to_string();
    // Canonical paths find include cycles through links; a pipe (`/dev/stdin`) has no
    // canonical path, and cannot include itself anyway.
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if stack.contains(&canonical) {
        let mut chain: Vec<String> = stack.iter().map(|p| p.display().to_string()).collect();
        chain.push(canonical.display().to_string());
        return Err(Error::Cycle {
            file: name,
            what: "included files",
            cycle: chain,
        });
    }
    if stack.len() >= MAX_INCLUDE_DEPTH {
        return Err(Error::Invalid {
            file: name,
            location: None,
            item: "include".to_owned(),
            message: format!("includes nest more than {MAX_INCLUDE_DEPTH} deep"),
            source: None,
        });
    }
    let syntax = Syntax::for_path(path);
    let doc = parse_document(&text, &name, syntax)?;
    let includes = doc.include.clone();
    let file_index = loaded.files.len();
    loaded.files.push(SourceFile { name, text, syntax });
    merge(loaded, doc, file_index, root)?;
    stack.push(canonical);
    let base = path.parent().unwrap_or(Path::new("."));
    for include in includes {
        let target = base.join(&include);
        // An included file must be a regular file; one that cannot be read is an error
        // of the including catalog, at its `include:` line.
        let text = read_named_document(&target, "included file")
            .map_err(|err| include_error(&loaded.files[file_index], &include, &target, err))?;
        load_into(loaded, &target, text, stack, false)?;
    }
    stack.pop();
    Ok(())
}

/// Why an included file cannot be read, said at the `include:` entry that names it.
/// The error of reading it is kept as the source (the operating system's, or the parser's).
fn include_error(including: &SourceFile, include: &str, target: &Path, err: Error) -> Error {
    let (message, source): (String, Option<Source>) = match err {
        _ if include.is_empty() => ("an empty path names no file".to_owned(), None),
        Error::Io { source, .. } => (
            format!("cannot read {}: {source}", target.display()),
            Some(Box::new(source)),
        ),
        Error::Parse {
            message, source, ..
        } => (format!("{}: {message}", target.display()), source),
        other => (other.to_string(), Some(Box::new(other))),
    };
    Error::Invalid {
        file: including.name.clone(),
        location: including.locate_within("include", include),
        item: format!("include {include:?}"),
        message,
        source,
    }
}

/// The merged document again, from the files a catalog was loaded from (for showing a
/// catalog: parsing again on demand is cheaper than keeping a second copy of every item).
pub(crate) fn reparse(files: &[SourceFile]) -> Result<CatalogDoc> {
    let mut loaded = Loaded {
        doc: CatalogDoc::default(),
        files: files.to_vec(),
        origins: Origins::default(),
    };
    for (index, file) in files.iter().enumerate() {
        let doc = parse_document(&file.text, &file.name, file.syntax)?;
        merge(&mut loaded, doc, index, index == 0)?;
    }
    // The fragments are merged in: a shown catalog that still said `include:` would
    // load them twice (duplicate ids), or not load at all from a string.
    loaded.doc.include.clear();
    Ok(loaded.doc)
}

/// Appends a document's lists to the merged catalog; the root sets the scalar fields, and a
/// fragment may repeat them only with the same values.
fn merge(loaded: &mut Loaded, doc: CatalogDoc, file_index: usize, root: bool) -> Result<()> {
    let file = &loaded.files[file_index];
    let conflict = |field: &str| Error::Invalid {
        file: file.name.clone(),
        location: file.locate(field),
        item: field.to_owned(),
        message: format!("an included fragment sets {field} differently from the root catalog"),
        source: None,
    };
    if root {
        loaded.doc.format = doc.format;
        loaded.doc.name = doc.name;
        loaded.doc.skip_level = doc.skip_level;
        loaded.doc.include = doc.include;
    } else {
        if doc.format.is_some() && doc.format != loaded.doc.format {
            return Err(conflict("format"));
        }
        if doc.name.is_some() && doc.name != loaded.doc.name {
            return Err(conflict("name"));
        }
        if doc.skip_level.is_some() && doc.skip_level != loaded.doc.skip_level {
            return Err(conflict("skip_level"));
        }
    }
    let origins = &mut loaded.origins;
    origins
        .releases
        .extend(std::iter::repeat_n(file_index, doc.releases.len()));
    origins
        .edges
        .extend(std::iter::repeat_n(file_index, doc.edges.len()));
    origins
        .services
        .extend(std::iter::repeat_n(file_index, doc.services.len()));
    origins
        .migrations
        .extend(std::iter::repeat_n(file_index, doc.migrations.len()));
    origins
        .extensions
        .extend(std::iter::repeat_n(file_index, doc.extensions.len()));
    origins
        .config_changes
        .extend(std::iter::repeat_n(file_index, doc.config_changes.len()));
    origins
        .tasks
        .extend(std::iter::repeat_n(file_index, doc.tasks.len()));
    origins
        .histories
        .extend(std::iter::repeat_n(file_index, doc.histories.len()));
    let merged = &mut loaded.doc;
    append(&mut merged.releases, doc.releases);
    append(&mut merged.edges, doc.edges);
    append(&mut merged.services, doc.services);
    append(&mut merged.migrations, doc.migrations);
    append(&mut merged.extensions, doc.extensions);
    append(&mut merged.config_changes, doc.config_changes);
    append(&mut merged.tasks, doc.tasks);
    append(&mut merged.histories, doc.histories);
    Ok(())
}

/// Appends `more` to `list`; the first document's lists are taken whole rather than copied
/// item by item (a large catalog's migrations are most of its size).
fn append<T>(list: &mut Vec<T>, mut more: Vec<T>) {
    if list.is_empty() {
        std::mem::swap(list, &mut more);
    } else {
        list.append(&mut more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile {
            name: "f.yaml".into(),
            text: text.into(),
            syntax: Syntax::Yaml,
        }
    }

    #[test]
    fn locates_whole_words_only() {
        let source = file("releases: [{name: ab}, {name: a}]\n");
        assert_eq!(
            source.locate("a"),
            Some(Location {
                line: 1,
                column: 31
            })
        );
        assert_eq!(source.locate("zz"), None);
    }

    #[test]
    fn locates_within_the_item() {
        let source = file("releases: [{name: a}]\nservices:\n  - name: s\n    until: a\n");
        assert_eq!(
            source.locate_within("s", "a"),
            Some(Location {
                line: 4,
                column: 12
            })
        );
        // Without the needle, the item itself.
        assert_eq!(
            source.locate_within("s", "q"),
            Some(Location {
                line: 3,
                column: 11
            })
        );
    }

    #[test]
    fn yaml_budget_grows_with_the_input() {
        let small = yaml_options(10);
        let large = yaml_options(100_000_000);
        let nodes = |o: &serde_saphyr::Options| o.budget.as_ref().map(|b| b.max_nodes);
        assert!(nodes(&large) > nodes(&small));
    }
}
