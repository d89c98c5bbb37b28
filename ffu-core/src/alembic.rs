//! Importing alembic revision scripts as `ffu-catalog/1` migrations.
//!
//! The scripts are read as text, never run: only the module-level assignments of
//! `revision`, `down_revision`, `depends_on` and `branch_labels` matter, written as string
//! literals, tuples or lists of them, or `None` (with or without a type annotation, as
//! alembic >= 1.8 writes them).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::CATALOG_FORMAT;
use crate::error::{Error, Location, Result};
use crate::migration::MigrationKind;

/// How revisions map to releases and kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlembicLayout {
    /// Neutron-style `<release>/<expand|contract>/<rev>.py` under the directory; scripts
    /// outside that layout (such as neutron's initial revision) join the earliest release
    /// directory (the first in revision order) with a warning naming them, as `migrate`, or
    /// as `expand` where an expand revision of that release requires them (within a
    /// release, expand runs before migrate).
    ReleaseDirs,
    /// Every script is a `migrate` of this release.
    Single {
        /// The release of every revision.
        release: String,
    },
}

/// The migrations imported from a directory of alembic revision scripts: a catalog
/// fragment (`format` and `migrations` only) for `include:` into a catalog that defines the
/// service and its releases.
#[derive(Debug, Clone)]
pub struct AlembicImport {
    migrations: Vec<FragmentMigration>,
    order: Vec<String>,
    warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
struct FragmentMigration {
    id: String,
    service: String,
    release: String,
    kind: MigrationKind,
    command: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    requires: Vec<String>,
    /// The alembic revision (DESIGN §12): migrations of one service, release, kind and
    /// command fold into one step that lists its revisions.
    revision: String,
}

#[derive(Serialize)]
struct Fragment<'a> {
    format: &'static str,
    migrations: &'a [FragmentMigration],
}

impl AlembicImport {
    fn fragment(&self) -> Fragment<'_> {
        Fragment {
            format: CATALOG_FORMAT,
            migrations: &self.migrations,
        }
    }

    /// The fragment as YAML, migrations in the order ffu would run them.
    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(&self.fragment()).expect("a fragment of strings serializes")
    }

    /// The fragment as pretty-printed JSON, migrations in the order ffu would run them.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.fragment())
            .expect("a fragment of strings serializes");
        text.push('\n');
        text
    }

    /// What looked odd but is not an error (multiple heads, scripts outside the layout).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// How many revisions were imported.
    pub fn revisions(&self) -> usize {
        self.order.len()
    }

    /// The revision ids in the order ffu would run them: a topological order that follows
    /// `down_revision` and `depends_on`, ties broken by file path.
    pub fn order(&self) -> Vec<String> {
        self.order.clone()
    }
}

/// One revision script as read from its text.
#[derive(Debug)]
struct Script {
    /// The path as shown in messages (the directory joined with the relative path).
    path: PathBuf,
    /// The path relative to the directory, `/`-separated, for layout and ordering.
    rel: Vec<String>,
    revision: String,
    revision_at: Location,
    down: Vec<String>,
    down_at: Option<Location>,
    depends: Vec<String>,
    depends_at: Option<Location>,
    labels: Vec<String>,
}

/// Reads the alembic revision scripts under `dir` (recursively, `__init__.py` excepted) and
/// turns each revision into a migration `SERVICE.alembic.<revision>` whose `requires` are
/// its `down_revision`s and `depends_on`s.
///
/// # Errors
///
/// [`Error::Io`] when a file cannot be read; [`Error::Parse`] for a script without a
/// `revision` or with a value ffu cannot read as a literal; [`Error::Invalid`] for a
/// duplicate revision, a `down_revision` or `depends_on` that names no script, or a release
/// layout without any release directory; [`Error::Cycle`] when revisions form a cycle.
pub fn import_alembic(dir: &Path, service: &str, layout: &AlembicLayout) -> Result<AlembicImport> {
    let scripts = read_scripts(dir)?;
    let (requires, is_down) = link_scripts(dir, &scripts)?;
    let order = topological(dir, &scripts, &requires)?;
    let revisions = Revisions {
        scripts,
        requires,
        is_down,
        order,
    };
    let mut warnings = Vec::new();
    let placement = revisions.place(dir, layout, &mut warnings)?;
    revisions.warn_about_heads(layout, &placement, &mut warnings);
    Ok(AlembicImport {
        migrations: revisions.migrations(service, &placement),
        order: revisions
            .order
            .iter()
            .map(|&index| revisions.scripts[index].revision.clone())
            .collect(),
        warnings,
    })
}

/// Every script under `dir`, read and parsed, sorted by path.
fn read_scripts(dir: &Path) -> Result<Vec<Script>> {
    let mut files = crate::input::python_files(dir, &|name| name == "__init__.py")?;
    files.sort();
    let mut scripts = Vec::with_capacity(files.len());
    for rel in files {
        let path = rel
            .iter()
            .fold(dir.to_path_buf(), |path, part| path.join(part));
        let text = crate::input::read_named_document(&path, "alembic script")?;
        scripts.push(parse_script(&text, path, rel)?);
    }
    Ok(scripts)
}

/// Each script's requirements, as script indices in the order written (its
/// `down_revision`s, then the `depends_on`s not among them), and whether another script
/// names it as its `down_revision`. Refuses a revision defined twice and a name that no
/// script has.
fn link_scripts(dir: &Path, scripts: &[Script]) -> Result<(Vec<Vec<usize>>, Vec<bool>)> {
    // Revision ids and branch labels to script indices.
    let mut by_revision: HashMap<&str, usize> = HashMap::new();
    for (index, script) in scripts.iter().enumerate() {
        if let Some(&first) = by_revision.get(script.revision.as_str()) {
            return Err(Error::Invalid {
                file: script.path.display().to_string(),
                location: Some(script.revision_at),
                item: format!("revision {}", script.revision),
                message: format!("it is also defined in {}", scripts[first].path.display()),
                source: None,
            });
        }
        by_revision.insert(&script.revision, index);
    }
    let mut by_label: HashMap<&str, usize> = HashMap::new();
    for (index, script) in scripts.iter().enumerate() {
        for label in &script.labels {
            by_label.entry(label).or_insert(index);
        }
    }
    let mut requires: Vec<Vec<usize>> = Vec::with_capacity(scripts.len());
    for script in scripts {
        requires.push(script_requires(dir, script, &by_revision, &by_label)?);
    }
    let mut is_down = vec![false; scripts.len()];
    for script in scripts {
        for down in &script.down {
            is_down[by_revision[down.as_str()]] = true;
        }
    }
    Ok((requires, is_down))
}

/// The requirements of one script, as script indices in the order written.
fn script_requires(
    dir: &Path,
    script: &Script,
    by_revision: &HashMap<&str, usize>,
    by_label: &HashMap<&str, usize>,
) -> Result<Vec<usize>> {
    let mut needs = Vec::new();
    for down in &script.down {
        let Some(&target) = by_revision.get(down.as_str()) else {
            return Err(missing(dir, script, "down_revision", down, script.down_at));
        };
        needs.push(target);
    }
    for dep in &script.depends {
        let target = by_revision
            .get(dep.as_str())
            .or_else(|| by_label.get(dep.as_str()));
        let Some(&target) = target else {
            return Err(missing(dir, script, "depends_on", dep, script.depends_at));
        };
        if !needs.contains(&target) {
            needs.push(target);
        }
    }
    Ok(needs)
}

/// The scripts of a directory, linked and ordered: what the steps after reading them share.
struct Revisions {
    /// Sorted by path.
    scripts: Vec<Script>,
    /// Each script's requirements, as script indices.
    requires: Vec<Vec<usize>>,
    /// Whether another script names each one as its `down_revision`.
    is_down: Vec<bool>,
    /// The order ffu would run them in, as script indices.
    order: Vec<usize>,
}

/// Where each script goes.
struct Placement {
    /// Each script's release and kind; the release is `None` for a script outside the
    /// release layout, which joins `earliest`.
    placed: Vec<(Option<String>, MigrationKind)>,
    /// The release of the first script in revision order that has one.
    earliest: Option<String>,
}

impl Revisions {
    /// Each script's release and kind: from the layout, and for scripts outside a release
    /// layout the earliest release, with a warning naming them.
    fn place(
        &self,
        dir: &Path,
        layout: &AlembicLayout,
        warnings: &mut Vec<String>,
    ) -> Result<Placement> {
        let mut placed: Vec<(Option<String>, MigrationKind)> = self
            .scripts
            .iter()
            .map(|script| match layout {
                AlembicLayout::Single { release } => {
                    (Some(release.clone()), MigrationKind::Migrate)
                }
                AlembicLayout::ReleaseDirs => match script.rel.as_slice() {
                    [release, branch, _] if branch == "expand" => {
                        (Some(release.clone()), MigrationKind::Expand)
                    }
                    [release, branch, _] if branch == "contract" => {
                        (Some(release.clone()), MigrationKind::Contract)
                    }
                    _ => (None, MigrationKind::Migrate),
                },
            })
            .collect();
        let earliest = self.order.iter().find_map(|&index| placed[index].0.clone());
        let outside: Vec<usize> = (0..self.scripts.len())
            .filter(|&index| placed[index].0.is_none())
            .collect();
        if !outside.is_empty() {
            let Some(earliest) = &earliest else {
                return Err(Error::Invalid {
                    file: dir.display().to_string(),
                    location: None,
                    item: "alembic layout".to_owned(),
                    message: "no script lies in a <release>/<expand|contract>/ directory, so no release is known; import with a single release instead".to_owned(),
                    source: None,
                });
            };
            self.place_outside(&mut placed, earliest);
            warnings.push(self.outside_warning(&outside, &placed, earliest));
        }
        Ok(Placement { placed, earliest })
    }

    /// The kinds of the scripts outside the layout, which join the earliest release: as
    /// `migrate`, or as `expand` where an expand revision of that release requires them
    /// (within a release, expand runs first). Later scripts first, so that a chain of them
    /// outside the layout passes it on.
    fn place_outside(&self, placed: &mut [(Option<String>, MigrationKind)], earliest: &str) {
        for &index in self.order.iter().rev() {
            if placed[index].0.is_some() {
                continue;
            }
            let expand_needs_it = self.requires.iter().enumerate().any(|(other, needs)| {
                needs.contains(&index)
                    && placed[other].1 == MigrationKind::Expand
                    && placed[other]
                        .0
                        .as_ref()
                        .is_none_or(|release| release == earliest)
            });
            if expand_needs_it {
                placed[index].1 = MigrationKind::Expand;
            }
        }
    }

    /// The warning that names the scripts outside the layout and what they became.
    fn outside_warning(
        &self,
        outside: &[usize],
        placed: &[(Option<String>, MigrationKind)],
        earliest: &str,
    ) -> String {
        let names: Vec<String> = outside
            .iter()
            .map(|&index| {
                format!(
                    "{} (revision {}, {})",
                    self.scripts[index].rel.join("/"),
                    self.scripts[index].revision,
                    placed[index].1.as_str()
                )
            })
            .collect();
        format!(
            "{} outside the <release>/<expand|contract>/ layout, imported into the earliest release {earliest}, as expand where an expand revision requires it and as migrate otherwise: {}",
            if outside.len() == 1 { "1 script lies" } else { "scripts lie" },
            names.join(", ")
        )
    }

    /// Warns about several heads: revisions no other revision names as its `down_revision`.
    /// Neutron keeps one head per branch (expand, contract), so heads are counted per kind.
    fn warn_about_heads(
        &self,
        layout: &AlembicLayout,
        placement: &Placement,
        warnings: &mut Vec<String>,
    ) {
        let mut heads: BTreeMap<&'static str, Vec<&str>> = BTreeMap::new();
        for &index in &self.order {
            if !self.is_down[index] {
                let branch = match layout {
                    AlembicLayout::Single { .. } => "",
                    AlembicLayout::ReleaseDirs => placement.placed[index].1.as_str(),
                };
                heads
                    .entry(branch)
                    .or_default()
                    .push(&self.scripts[index].revision);
            }
        }
        for (branch, heads) in &heads {
            if heads.len() > 1 {
                let mut text = format!("{} heads", heads.len());
                if !branch.is_empty() {
                    let _ = write!(text, " in the {branch} branch");
                }
                let _ = write!(
                    text,
                    ": {} (upgrading to one head leaves the others behind)",
                    heads.join(", ")
                );
                warnings.push(text);
            }
        }
    }

    /// The fragment's migrations, in revision order.
    fn migrations(&self, service: &str, placement: &Placement) -> Vec<FragmentMigration> {
        let scripts = &self.scripts;
        let command = if service == "neutron" {
            "neutron-db-manage upgrade"
        } else {
            "alembic upgrade"
        };
        let id = |index: usize| format!("{service}.alembic.{}", scripts[index].revision);
        self.order
            .iter()
            .map(|&index| FragmentMigration {
                id: id(index),
                service: service.to_owned(),
                release: placement.placed[index]
                    .0
                    .clone()
                    .or_else(|| placement.earliest.clone())
                    .unwrap_or_default(),
                kind: placement.placed[index].1,
                command: format!("{command} {}", scripts[index].revision),
                requires: self.requires[index]
                    .iter()
                    .map(|&target| id(target))
                    .collect(),
                revision: scripts[index].revision.clone(),
            })
            .collect()
    }
}

fn missing(dir: &Path, script: &Script, field: &str, name: &str, at: Option<Location>) -> Error {
    Error::Invalid {
        file: script.path.display().to_string(),
        location: at,
        item: format!("revision {}", script.revision),
        message: format!(
            "{field} names {name}, but no script in {} has that revision",
            dir.display()
        ),
        source: None,
    }
}

/// Kahn's algorithm, the ready script with the smallest path first; on a cycle, the cycle.
fn topological(dir: &Path, scripts: &[Script], requires: &[Vec<usize>]) -> Result<Vec<usize>> {
    let mut waiting: Vec<usize> = requires.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); scripts.len()];
    for (index, needs) in requires.iter().enumerate() {
        for &target in needs {
            dependents[target].push(index);
        }
    }
    // Scripts are sorted by path, so the index is the tie-break.
    let mut ready: BinaryHeap<Reverse<usize>> = (0..scripts.len())
        .filter(|&index| waiting[index] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(scripts.len());
    while let Some(Reverse(index)) = ready.pop() {
        order.push(index);
        for &next in &dependents[index] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    if order.len() == scripts.len() {
        return Ok(order);
    }
    // Every script left waits on another one left: walk requirements until one repeats.
    let start = (0..scripts.len())
        .find(|&index| waiting[index] > 0)
        .unwrap_or(0);
    let mut seen = vec![None; scripts.len()];
    let mut path = Vec::new();
    let mut at = start;
    while seen[at].is_none() {
        seen[at] = Some(path.len());
        path.push(at);
        at = requires[at]
            .iter()
            .copied()
            .find(|&target| waiting[target] > 0)
            .unwrap_or(at);
    }
    let from = seen[at].unwrap_or(0);
    let mut cycle: Vec<String> = path[from..]
        .iter()
        .map(|&index| scripts[index].revision.clone())
        .collect();
    cycle.push(scripts[at].revision.clone());
    Err(Error::Cycle {
        file: dir.display().to_string(),
        what: "revisions (down_revision and depends_on)",
        cycle,
    })
}

/// A module-level value: `None`, a string, or a tuple or list of strings.
enum Value {
    Strings(Vec<String>),
    /// Anything else, such as `(cli.EXPAND_BRANCH,)`.
    Other,
}

fn parse_script(text: &str, path: PathBuf, rel: Vec<String>) -> Result<Script> {
    let file = path.display().to_string();
    let mut assigned = Assigned::default();
    for assignment in Assignments::new(text) {
        assigned.take(assignment, &file)?;
    }
    let Some((revision, revision_at)) = assigned.revision else {
        return Err(Error::Parse {
            file,
            location: None,
            message: "alembic script has no module-level revision assignment".to_owned(),
            source: None,
        });
    };
    Ok(Script {
        path,
        rel,
        revision,
        revision_at,
        down: assigned.down.0,
        down_at: assigned.down.1,
        depends: assigned.depends.0,
        depends_at: assigned.depends.1,
        labels: assigned.labels,
    })
}

/// A module-level assignment to one of the four names.
struct Assignment<'a> {
    name: &'a str,
    /// Where it starts.
    at: Location,
    /// The value's text, with the lines it continues onto joined by spaces, without comments.
    value: String,
}

/// The module-level assignments to the four names in a script's text, in order; lines
/// inside triple-quoted strings and indented lines are passed over.
struct Assignments<'a> {
    lines: Vec<&'a str>,
    /// The index of the next line to read.
    line_no: usize,
    /// The quote of the triple-quoted string the lines read so far end inside.
    in_string: Option<&'static str>,
}

impl<'a> Assignments<'a> {
    fn new(text: &'a str) -> Assignments<'a> {
        Assignments {
            lines: text.lines().collect(),
            line_no: 0,
            in_string: None,
        }
    }

    /// Whether `line` holds no module-level assignment: it is inside or opens a
    /// triple-quoted string, or it is indented.
    fn passes_over(&mut self, line: &str) -> bool {
        if let Some(quote) = self.in_string {
            if line.matches(quote).count() % 2 == 1 {
                self.in_string = None;
            }
            return true;
        }
        let starts_indented = line.starts_with([' ', '\t']);
        for quote in ["\"\"\"", "'''"] {
            if line.matches(quote).count() % 2 == 1 {
                self.in_string = Some(quote);
            }
        }
        starts_indented || self.in_string.is_some()
    }

    /// The value that starts with `rest`: a value in brackets may span lines, which are
    /// taken in while a bracket is open.
    fn value(&mut self, rest: &str) -> String {
        // The bracket depth is kept as lines are added, not counted again over the whole
        // value: an unclosed bracket takes in the rest of the file, and counting again
        // made that quadratic (a 40,000-line script took minutes).
        let mut value = strip_comment(rest).trim().to_owned();
        let mut brackets = Brackets::default();
        brackets.feed(&value);
        while brackets.open > 0 && self.line_no < self.lines.len() {
            let part = strip_comment(self.lines[self.line_no]).trim();
            value.push(' ');
            value.push_str(part);
            brackets.feed(part);
            self.line_no += 1;
        }
        value
    }
}

impl<'a> Iterator for Assignments<'a> {
    type Item = Assignment<'a>;

    fn next(&mut self) -> Option<Assignment<'a>> {
        while self.line_no < self.lines.len() {
            let line = self.lines[self.line_no];
            self.line_no += 1;
            if self.passes_over(line) {
                continue;
            }
            let Some((name, rest)) = assignment(line) else {
                continue;
            };
            let at = Location {
                line: self.line_no as u64,
                column: 1,
            };
            let value = self.value(rest);
            return Some(Assignment { name, at, value });
        }
        None
    }
}

/// What a script assigns to the four names, the last assignment of each winning.
#[derive(Default)]
struct Assigned {
    revision: Option<(String, Location)>,
    down: (Vec<String>, Option<Location>),
    depends: (Vec<String>, Option<Location>),
    labels: Vec<String>,
}

impl Assigned {
    /// Takes in one assignment of the script `file`; refuses a value that is not literal.
    fn take(&mut self, assignment: Assignment<'_>, file: &str) -> Result<()> {
        let Assignment { name, at, value } = assignment;
        let parsed = parse_value(&value);
        let strings = |what: &str| match &parsed {
            Value::Strings(list) => Ok(list.clone()),
            Value::Other => Err(Error::Parse {
                file: file.to_owned(),
                location: Some(at),
                message: format!(
                    "{what} is not a string, a tuple or list of strings, or None: {value}"
                ),
                source: None,
            }),
        };
        match name {
            "revision" => {
                let list = strings("revision")?;
                let [one] = list.as_slice() else {
                    return Err(Error::Parse {
                        file: file.to_owned(),
                        location: Some(at),
                        message: format!("revision is not a single string: {value}"),
                        source: None,
                    });
                };
                self.revision = Some((one.clone(), at));
            }
            "down_revision" => self.down = (strings("down_revision")?, Some(at)),
            "depends_on" => self.depends = (strings("depends_on")?, Some(at)),
            // Labels that are not literals (neutron's `cli.EXPAND_BRANCH`) cannot be named
            // by a literal `depends_on` either.
            "branch_labels" => {
                if let Value::Strings(list) = parsed {
                    self.labels = list;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// `name = value` or `name: annotation = value` at the start of a line, for the four names.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if !matches!(
        name,
        "revision" | "down_revision" | "depends_on" | "branch_labels"
    ) {
        return None;
    }
    let rest = line[name_end..].trim_start();
    let rest = if let Some(annotated) = rest.strip_prefix(':') {
        // The annotation holds no `=` (`Union[str, Sequence[str], None]`).
        &annotated[annotated.find('=')?..]
    } else {
        rest
    };
    let rest = rest.strip_prefix('=')?;
    if rest.starts_with('=') {
        return None;
    }
    Some((name, rest))
}

/// The line without a trailing `# comment` (outside string literals).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') => return &line[..at],
            _ => {}
        }
    }
    line
}

/// How deep in brackets a value is, outside string literals, as its text is fed in.
#[derive(Default)]
struct Brackets {
    quote: Option<char>,
    open: i32,
}

impl Brackets {
    fn feed(&mut self, text: &str) {
        for c in text.chars() {
            match (self.quote, c) {
                (None, '\'' | '"') => self.quote = Some(c),
                (Some(q), _) if c == q => self.quote = None,
                (None, '(' | '[') => self.open += 1,
                (None, ')' | ']') => self.open -= 1,
                _ => {}
            }
        }
    }
}

fn parse_value(text: &str) -> Value {
    let text = text.trim();
    if text == "None" {
        return Value::Strings(Vec::new());
    }
    if let Some(one) = string_literal(text) {
        return Value::Strings(vec![one]);
    }
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .or_else(|| text.strip_prefix('[').and_then(|t| t.strip_suffix(']')));
    let Some(inner) = inner else {
        return Value::Other;
    };
    let mut list = Vec::new();
    for item in inner.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        match string_literal(item) {
            Some(one) => list.push(one),
            None => return Value::Other,
        }
    }
    Value::Strings(list)
}

/// `'abc'` or `"abc"` (revision ids hold no quotes or escapes).
fn string_literal(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let inner = text[1..].strip_suffix(quote)?;
    if inner.contains(['\'', '"', '\\']) {
        return None;
    }
    Some(inner.to_owned())
}
