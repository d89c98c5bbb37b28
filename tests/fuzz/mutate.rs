//! Mutations of documents: bytes, lines and the parsed tree.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Yaml,
    Json,
    Python,
}

/// A value to put where a document has another: as data, or as raw text for what data
/// cannot hold (deep nesting, numbers out of range, NaN, YAML tags and aliases).
pub(crate) enum Weird {
    Data(Value),
    Raw(String),
}

/// Strings that are odd in a name, an id, a command or a path. No device or pipe path:
/// the in-process readers have no memory limit, and those are the binary's test.
pub(crate) const ODD_STRINGS: &[&str] = &[
    "",
    " ",
    "no-such-release",
    "2099.1",
    "newton2",
    "\0",
    "a\0b",
    "line\nbreak",
    "tab\there",
    "\u{feff}queens",
    "Queens",
    "é",
    "🦀",
    "\u{202e}reversed",
    "../../etc/passwd",
    "%s%n%x",
    "{{x}}",
    "'\"",
    "\\",
    "-",
    "*",
    "&a",
    "null",
    "~",
    "true",
    "x.y.z",
    " leading",
    "trailing ",
];

pub(crate) const JSON_RAW: &[&str] = &[
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "1.7976931348623157e309",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\u0000\"",
    "01",
    "0x10",
    "+1",
    "1.",
    ".5",
    "tru",
    "nul",
    "\"unterminated",
    "[1,]",
    "{\"a\":1,}",
    "[1 2]",
    "}",
    "]",
    "{\"a\":1,\"a\":2}",
];

pub(crate) const YAML_RAW: &[&str] = &[
    ".nan",
    "-.inf",
    ".inf",
    "0x10",
    "0o17",
    "1_000",
    "~",
    "*undefined",
    "&anchor value",
    "!!binary aGVsbG8=",
    "!!int 3",
    "!!str",
    "!!map {}",
    "!custom-tag x",
    "'single ''quoted'''",
    "\"\\x00\"",
    "\"\\ud800\"",
    "\"\\U0010FFFF\"",
    "'unterminated",
    "\"unterminated",
    "? complex",
    "|\n  literal block",
    ">-\n  folded",
    "2016-10-06T00:00:00Z",
    "1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "[a, b",
    "{a: 1",
    "[&a x, *a, *a]",
    "- item",
    "key: value: more",
    "@reserved",
    "`backtick",
    "%TAG ! tag:x,2000:",
    "---",
    "...",
    "{<<: {a: 1}}",
    "{a: 1, a: 2}",
];

pub(crate) const PYTHON_RAW: &[&str] = &[
    "None",
    "('a', 'b')",
    "['a']",
    "(cli.EXPAND_BRANCH,)",
    "'''triple",
    "\"\"\"doc",
    "f'{x}'",
    "'a' 'b'",
    "b'bytes'",
    "r'raw'",
    "u'uni'",
    "'unterminated",
    "123",
    "-1",
    "(('a',),)",
    "'\\x00'",
    "'é'",
    "()",
    "[]",
    "{'a': 1}",
    "'a' # comment",
    "'a'; revision = 'b'",
    "\\",
];

/// Bytes that mean something to a parser.
pub(crate) const INTERESTING: &[u8] = b"\0\xff\r\n\t {}[]:,\"'&*!|>-#%@`?\\=()";

pub(crate) fn huge_string(rng: &mut Rng) -> String {
    let length = *rng.pick(&[100, 1000, 5000, 70_000, 70_000, 1_100_000]);
    let unit = *rng.pick(&["x", "é", "ab-", "0"]);
    unit.repeat(length / unit.len())
}

pub(crate) fn deep(rng: &mut Rng, syntax: Syntax) -> String {
    let depth = *rng.pick(&[64, 129, 1000, 20_000, 200_000]);
    match (syntax, rng.below(2)) {
        (_, 0) => format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        (Syntax::Json, _) => format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)),
        (Syntax::Yaml, _) => format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth)),
        (Syntax::Python, _) => format!("{}'a'{}", "(".repeat(depth), ",)".repeat(depth)),
    }
}

pub(crate) fn from_pool(rng: &mut Rng, pool: &[String], otherwise: &str) -> String {
    if pool.is_empty() {
        otherwise.to_owned()
    } else {
        rng.pick(pool).clone()
    }
}

/// A name that is almost one of the document's.
pub(crate) fn near_miss(rng: &mut Rng, name: &str) -> String {
    match rng.below(5) {
        0 => format!("{name}x"),
        1 => name.to_uppercase(),
        2 => format!("{name} "),
        3 => name.chars().rev().collect(),
        _ => name.chars().skip(1).collect(),
    }
}

pub(crate) fn weird(rng: &mut Rng, syntax: Syntax, pool: &[String]) -> Weird {
    match rng.below(16) {
        0 | 1 => Weird::Data(Value::String(huge_string(rng))),
        2..=4 => Weird::Data(Value::String(from_pool(rng, pool, "nova"))),
        5 => {
            let name = from_pool(rng, pool, "queens");
            Weird::Data(Value::String(near_miss(rng, &name)))
        }
        6 => Weird::Data(Value::String((*rng.pick(ODD_STRINGS)).to_owned())),
        7 => Weird::Data(
            rng.pick(&[
                json!(-1),
                json!(0),
                json!(i64::MIN),
                json!(u64::MAX),
                json!(1e308),
                json!(-0.5),
                json!(4_294_967_296_u64),
            ])
            .clone(),
        ),
        8 => Weird::Data(rng.pick(&[Value::Null, json!(true), json!(false)]).clone()),
        9 => Weird::Data(
            rng.pick(&[json!([]), json!({}), json!([[]]), json!({"bogus": 1})])
                .clone(),
        ),
        10 => Weird::Raw(deep(rng, syntax)),
        11 | 12 => Weird::Raw(
            (*rng.pick(match syntax {
                Syntax::Json => JSON_RAW,
                Syntax::Yaml => YAML_RAW,
                Syntax::Python => PYTHON_RAW,
            }))
            .to_owned(),
        ),
        13 => Weird::Data(json!([
            from_pool(rng, pool, "a"),
            from_pool(rng, pool, "b")
        ])),
        14 => Weird::Data(Value::String(format!(
            "{}-no-such",
            from_pool(rng, pool, "x")
        ))),
        _ => Weird::Data(json!({"name": from_pool(rng, pool, "n"), "bogus_field": true})),
    }
}

/// The text of a weird value where a scalar is written.
pub(crate) fn weird_text(rng: &mut Rng, syntax: Syntax, pool: &[String]) -> String {
    match weird(rng, syntax, pool) {
        Weird::Raw(raw) => raw,
        Weird::Data(value) => match syntax {
            // JSON is YAML's flow style.
            Syntax::Json | Syntax::Yaml => value.to_string(),
            Syntax::Python => python_literal(&value),
        },
    }
}

pub(crate) fn python_literal(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_literal).collect();
            format!("({},)", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// The strings of a document, as names to put elsewhere in it.
pub(crate) fn string_pool(value: &Value, pool: &mut Vec<String>) {
    match value {
        Value::String(s) if s.len() < 200 => pool.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| string_pool(v, pool)),
        Value::Object(map) => map.values().for_each(|v| string_pool(v, pool)),
        _ => {}
    }
}

/// Words of a text, as names to put elsewhere in it (for documents kept only as text).
pub(crate) fn word_pool(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .filter(|w| w.len() >= 3)
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words.truncate(2000);
    words
}

#[derive(Debug, Clone)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

pub(crate) fn all_paths(value: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(path.clone());
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(Seg::Index(index));
                all_paths(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                path.push(Seg::Key(key.clone()));
                all_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

pub(crate) fn node_mut<'a>(root: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut node = root;
    for seg in path {
        node = match seg {
            Seg::Key(key) => node.get_mut(key.as_str())?,
            Seg::Index(index) => node.get_mut(*index)?,
        };
    }
    Some(node)
}

/// Places `weird` at `node`; raw text goes in as a marker string, replaced after writing.
pub(crate) fn place(node: &mut Value, weird: Weird, raws: &mut Vec<String>) {
    *node = match weird {
        Weird::Data(value) => value,
        Weird::Raw(raw) => {
            raws.push(raw);
            Value::String(format!("@@RAW{}@@", raws.len() - 1))
        }
    };
}

/// One structural mutation of a parsed document.
pub(crate) fn mutate_tree(
    rng: &mut Rng,
    root: &mut Value,
    syntax: Syntax,
    pool: &[String],
    raws: &mut Vec<String>,
) {
    let mut paths = Vec::new();
    all_paths(root, &mut Vec::new(), &mut paths);
    if rng.percent(35) {
        reorder_items(rng, root, &paths);
        return;
    }
    let path = rng.pick(&paths).clone();
    let op = rng.below(10);
    let (parent, last) = match path.split_last() {
        Some((last, parent)) => (parent.to_vec(), Some(last.clone())),
        None => (Vec::new(), None),
    };
    let spot = Spot { path, parent, last };
    match op {
        // Drop the node from its parent.
        4 if spot.last.is_some() => drop_node(root, spot),
        // Duplicate a list item (a duplicate name, id or host), or copy a sibling's value.
        5 if spot.last.is_some() => duplicate_sibling(rng, root, &spot),
        // An unknown field, or a known one where it does not belong.
        6 => add_field(rng, root, &spot, syntax, pool, raws),
        // Reorder a list (releases out of order, steps out of order).
        7 => swap_items(rng, root, &spot),
        // Empty it.
        8 => empty_node(root, &spot.path),
        // A control character in a string (a name, a kind): an error that shows the value
        // must not break its line or write to the terminal.
        3 => insert_control(rng, root, &paths, spot.path),
        // Wrap it in a list or a mapping: the right data at the wrong depth.
        9 => wrap_node(rng, root, &spot.path),
        // Replace it with a weird value.
        _ => {
            let value = weird(rng, syntax, pool);
            if let Some(node) = node_mut(root, &spot.path) {
                place(node, value, raws);
            }
        }
    }
}

/// The node a mutation of the tree picked: its path, its parent's, and its last segment
/// (`None` for the root).
struct Spot {
    path: Vec<Seg>,
    parent: Vec<Seg>,
    last: Option<Seg>,
}

/// Drops the node at `spot` from its parent.
fn drop_node(root: &mut Value, spot: Spot) {
    if let Some(parent) = node_mut(root, &spot.parent) {
        match (parent, spot.last) {
            (Value::Object(map), Some(Seg::Key(key))) => {
                map.remove(&key);
            }
            (Value::Array(items), Some(Seg::Index(index))) if index < items.len() => {
                items.remove(index);
            }
            _ => {}
        }
    }
}

/// In the parent of `spot`: a list item copied to a place of the list, or a field's value
/// copied to another field.
fn duplicate_sibling(rng: &mut Rng, root: &mut Value, spot: &Spot) {
    if let Some(parent) = node_mut(root, &spot.parent) {
        match parent {
            Value::Array(items) if !items.is_empty() => {
                let item = items[rng.below(items.len())].clone();
                let at = rng.below(items.len() + 1);
                items.insert(at, item);
            }
            Value::Object(map) if !map.is_empty() => {
                let keys: Vec<String> = map.keys().cloned().collect();
                let from = rng.pick(&keys).clone();
                let to = rng.pick(&keys).clone();
                let value = map[&from].clone();
                map.insert(to, value);
            }
            _ => {}
        }
    }
}

/// A field with a weird value added to the mapping at `spot`, or else to its parent.
fn add_field(
    rng: &mut Rng,
    root: &mut Value,
    spot: &Spot,
    syntax: Syntax,
    pool: &[String],
    raws: &mut Vec<String>,
) {
    let key = match rng.below(4) {
        0 => "bogus".to_owned(),
        1 => "x-vendor".to_owned(),
        2 => from_pool(rng, pool, "name"),
        _ => "Name".to_owned(),
    };
    let value = weird(rng, syntax, pool);
    let target = match node_mut(root, &spot.path) {
        Some(Value::Object(_)) => spot.path.clone(),
        _ => spot.parent.clone(),
    };
    if let Some(Value::Object(map)) = node_mut(root, &target) {
        let mut field = Value::Null;
        place(&mut field, value, raws);
        map.insert(key, field);
    }
}

/// Two items swapped in the list at `spot`, or else in its parent.
fn swap_items(rng: &mut Rng, root: &mut Value, spot: &Spot) {
    let target = match node_mut(root, &spot.path) {
        Some(Value::Array(_)) => spot.path.clone(),
        _ => spot.parent.clone(),
    };
    if let Some(Value::Array(items)) = node_mut(root, &target) {
        if items.len() >= 2 {
            let a = rng.below(items.len());
            let b = rng.below(items.len());
            items.swap(a, b);
        }
    }
}

/// The node at `path` emptied: no items, no fields, or an empty string.
fn empty_node(root: &mut Value, path: &[Seg]) {
    if let Some(node) = node_mut(root, path) {
        match node {
            Value::Array(items) => items.clear(),
            Value::Object(map) => map.clear(),
            other => *other = Value::String(String::new()),
        }
    }
}

/// A control character inserted in the string at `path`, or half the time in a field of a
/// fixed set of values (a parser names an unknown one in its message).
fn insert_control(rng: &mut Rng, root: &mut Value, paths: &[Vec<Seg>], path: Vec<Seg>) {
    let fixed: Vec<&Vec<Seg>> = paths
        .iter()
        .filter(|p| {
            matches!(p.last(), Some(Seg::Key(k)) if ["kind", "role", "mode", "action", "skip_level", "format"].contains(&k.as_str()))
        })
        .collect();
    let path = if !fixed.is_empty() && rng.percent(50) {
        (*rng.pick(&fixed)).clone()
    } else {
        path
    };
    let control = *rng.pick(&["\n", "\nerror: forged line", "\r", "\u{1b}[31m", "\t", "\0"]);
    if let Some(Value::String(text)) = node_mut(root, &path) {
        let mut at = rng.below(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, control);
    }
}

/// The node at `path` wrapped in a list or in a mapping.
fn wrap_node(rng: &mut Rng, root: &mut Value, path: &[Seg]) {
    if let Some(node) = node_mut(root, path) {
        let inner = node.take();
        *node = if rng.percent(50) {
            Value::Array(vec![inner])
        } else {
            json!({ "name": inner })
        };
    }
}

/// A mutation that keeps a document well formed but changes what it says: an item of one
/// of its lists (a long list more likely: a plan's steps, a catalog's migrations) moved,
/// dropped, or copied under a new name, or a field of it given the value of the same field
/// of another item (a step moved to another hop, a migration to another release).
pub(crate) fn reorder_items(rng: &mut Rng, root: &mut Value, paths: &[Vec<Seg>]) {
    let lists: Vec<(&Vec<Seg>, usize)> = paths
        .iter()
        .filter_map(|path| {
            let mut node = &*root;
            for seg in path {
                node = match seg {
                    Seg::Key(key) => node.get(key.as_str())?,
                    Seg::Index(index) => node.get(*index)?,
                };
            }
            node.as_array()
                .filter(|items| items.len() >= 2)
                .map(|items| (path, items.len()))
        })
        .collect();
    let total: usize = lists.iter().map(|(_, len)| len).sum();
    if total == 0 {
        return;
    }
    let mut ticket = rng.below(total);
    let mut chosen = lists[0].0.clone();
    for (path, len) in &lists {
        if ticket < *len {
            chosen = (*path).clone();
            break;
        }
        ticket -= len;
    }
    let Some(Value::Array(items)) = node_mut(root, &chosen) else {
        return;
    };
    let a = rng.below(items.len());
    let b = rng.below(items.len());
    match rng.below(5) {
        0 => {
            let item = items.remove(a);
            items.insert(b.min(items.len()), item);
        }
        1 => {
            items.remove(a);
        }
        2 => {
            // A copy under a new id or name, so that it is not refused as a duplicate.
            let mut item = items[a].clone();
            if let Some(map) = item.as_object_mut() {
                for key in ["id", "name"] {
                    if let Some(Value::String(name)) = map.get_mut(key) {
                        name.push_str("-copy");
                    }
                }
            }
            items.insert(b, item);
        }
        _ => {
            // One field of item a takes the value item b has for it.
            let Some(keys) = items[a]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
            else {
                return;
            };
            if keys.is_empty() {
                return;
            }
            let key = rng.pick(&keys).clone();
            if let Some(value) = items[b].get(&key).cloned() {
                if let Some(map) = items[a].as_object_mut() {
                    map.insert(key, value);
                }
            }
        }
    }
}

/// A YAML scalar for a string: plain where YAML reads it back as that string, else quoted
/// (a JSON string is a YAML double-quoted scalar).
pub(crate) fn yaml_string(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
            .contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

pub(crate) fn yaml_scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(yaml_string(s)),
        Value::Array(items) if items.is_empty() => Some("[]".to_owned()),
        Value::Object(map) if map.is_empty() => Some("{}".to_owned()),
        Value::Array(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    }
}

/// Block-style YAML, as people write catalogs and inventories.
pub(crate) fn to_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if let Some(scalar) = yaml_scalar(item) {
                    let _ = writeln!(out, "{pad}{}: {scalar}", yaml_string(key));
                } else {
                    let _ = writeln!(out, "{pad}{}:", yaml_string(key));
                    to_yaml(item, indent + 2, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Some(scalar) = yaml_scalar(item) {
                    let _ = writeln!(out, "{pad}- {scalar}");
                } else {
                    let _ = writeln!(out, "{pad}-");
                    to_yaml(item, indent + 2, out);
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", yaml_scalar(other).unwrap_or_default());
        }
    }
}

/// Writes a (mutated) tree in its syntax, with the raw texts put in place of their markers.
pub(crate) fn write_tree(rng: &mut Rng, value: &Value, syntax: Syntax, raws: &[String]) -> String {
    let mut text = match syntax {
        Syntax::Json if rng.percent(50) => serde_json::to_string_pretty(value).unwrap_or_default(),
        // Flow style YAML, which is JSON, now and then.
        Syntax::Json | Syntax::Yaml if syntax == Syntax::Json || rng.percent(25) => {
            value.to_string()
        }
        _ => {
            let mut out = String::new();
            to_yaml(value, 0, &mut out);
            out
        }
    };
    for (index, raw) in raws.iter().enumerate() {
        text = text.replace(&format!("\"@@RAW{index}@@\""), raw);
    }
    text
}

/// One mutation of the lines of a text.
pub(crate) fn mutate_lines(
    rng: &mut Rng,
    text: &str,
    syntax: Syntax,
    pool: &[String],
    other: &str,
) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let at = rng.below(lines.len());
    match rng.below(10) {
        0 => {
            let line = lines[at].clone();
            let to = rng.below(lines.len() + 1);
            lines.insert(to, line);
        }
        1 if lines.len() > 1 => {
            lines.remove(at);
        }
        2 => {
            let other_at = rng.below(lines.len());
            lines.swap(at, other_at);
        }
        3 => reindent(rng, &mut lines[at]),
        // A value replaced, on a line that assigns one; for Python, mostly the revision
        // variables that the importer reads.
        4..=6 => replace_value(rng, &mut lines, syntax, pool),
        7 => {
            let indent: String = lines[at].chars().take_while(|c| *c == ' ').collect();
            let value = weird_text(rng, syntax, pool);
            let line = match syntax {
                Syntax::Yaml => format!("{indent}bogus_field: {value}"),
                Syntax::Json => format!("{indent}\"bogus\": {value},"),
                Syntax::Python => format!("revision = {value}"),
            };
            lines.insert(at, line);
        }
        8 => {
            let end = (at + 1 + rng.below(20)).min(lines.len());
            let block: Vec<String> = lines[at..end].to_vec();
            let to = rng.below(lines.len() + 1);
            lines.splice(to..to, block);
        }
        _ => {
            let theirs: Vec<&str> = other.split('\n').collect();
            let from = rng.below(theirs.len());
            let end = (from + 1 + rng.below(10)).min(theirs.len());
            let to = rng.below(lines.len() + 1);
            lines.splice(to..to, theirs[from..end].iter().map(|s| (*s).to_owned()));
        }
    }
    lines.join("\n")
}

/// Indentation added to `line`, or taken away.
fn reindent(rng: &mut Rng, line: &mut String) {
    match rng.below(4) {
        0 => line.insert(0, ' '),
        1 => line.insert_str(0, "   "),
        2 => line.insert(0, '\t'),
        _ => {
            let trimmed = line.trim_start().to_owned();
            *line = trimmed;
        }
    }
}

/// The value of a line that assigns one replaced; for Python, mostly the revision
/// variables that the importer reads.
fn replace_value(rng: &mut Rng, lines: &mut [String], syntax: Syntax, pool: &[String]) {
    let separator = if syntax == Syntax::Python {
        " = "
    } else {
        ": "
    };
    let candidates: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(separator))
        .filter(|&i| {
            syntax != Syntax::Python
                || rng.percent(20)
                || ["revision", "down_revision", "depends_on", "branch_labels"]
                    .iter()
                    .any(|name| lines[i].starts_with(name))
        })
        .collect();
    if !candidates.is_empty() {
        let line_at = *rng.pick(&candidates);
        let value = if syntax == Syntax::Python && rng.percent(50) {
            // Another script's revision (a duplicate or a cycle), or several.
            let a = from_pool(rng, pool, "abc");
            let b = from_pool(rng, pool, "def");
            rng.pick(&[
                format!("'{a}'"),
                format!("('{a}', '{b}')"),
                format!("['{a}']"),
            ])
            .clone()
        } else {
            weird_text(rng, syntax, pool)
        };
        let line = &lines[line_at];
        let cut = line.find(separator).unwrap_or(0) + separator.len();
        let mut new = line[..cut].to_owned();
        new.push_str(&value);
        if syntax == Syntax::Json && line.trim_end().ends_with(',') {
            new.push(',');
        }
        lines[line_at] = new;
    }
}

/// One mutation of bytes.
pub(crate) fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    let at = rng.below(len + 1);
    match rng.below(13) {
        0 if len > 0 => data[at.min(len - 1)] ^= 1 << rng.below(8),
        1 if len > 0 => data[at.min(len - 1)] = *rng.pick(INTERESTING),
        2 => {
            let count = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..count).map(|_| *rng.pick(INTERESTING)).collect();
            data.splice(at..at, bytes);
        }
        3 => {
            let end = (at + 1 + rng.below(64)).min(len);
            data.drain(at.min(end)..end);
        }
        4 => {
            let end = (at + 1 + rng.below(256)).min(len);
            let chunk = data[at.min(end)..end].to_vec();
            let to = rng.below(len + 1);
            data.splice(to..to, chunk);
        }
        5 if !other.is_empty() => {
            let from = rng.below(other.len());
            let end = (from + 1 + rng.below(512)).min(other.len());
            data.splice(at..at, other[from..end].iter().copied());
        }
        6 => data.truncate(at),
        7 => data.insert(at, 0),
        8 => {
            let invalid = *rng.pick(&[
                &b"\xff"[..],
                &b"\xc3"[..],
                &b"\xed\xa0\x80"[..],
                &b"\xf4\x90\x80\x80"[..],
                &b"\xc0\x80"[..],
                &b"\x80"[..],
            ]);
            data.splice(at..at, invalid.iter().copied());
        }
        9 => {
            let crlf: Vec<u8> = data
                .iter()
                .flat_map(|&b| {
                    if b == b'\n' {
                        vec![b'\r', b'\n']
                    } else {
                        vec![b]
                    }
                })
                .collect();
            *data = crlf;
        }
        10 => {
            let bom = *rng.pick(&[&b"\xef\xbb\xbf"[..], &b"\xff\xfe"[..], &b"\xfe\xff"[..]]);
            data.splice(0..0, bom.iter().copied());
        }
        _ => {
            // A chunk repeated, up to MAX_REPEAT bytes: many small items.
            let end = (at + 1 + rng.below(64)).min(len);
            let chunk = data[at.min(end)..end].to_vec();
            if !chunk.is_empty() {
                let times = 1 + rng.below(MAX_REPEAT) / chunk.len();
                data.splice(at..at, chunk.repeat(times));
            }
        }
    }
}

/// A document to mutate: its text, and where it has one, its parsed tree.
pub(crate) struct Seed {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) tree: Option<Value>,
    pub(crate) pool: Vec<String>,
}

impl Seed {
    pub(crate) fn new(name: &str, text: String, tree: Option<Value>) -> Seed {
        let mut pool = Vec::new();
        if let Some(tree) = &tree {
            string_pool(tree, &mut pool);
        }
        pool.extend(word_pool(&text));
        pool.sort();
        pool.dedup();
        Seed {
            name: name.to_owned(),
            text,
            tree,
            pool,
        }
    }
}

/// One to three mutations of a seed: structure, lines or bytes.
pub(crate) fn mutate(rng: &mut Rng, seed: &Seed, syntax: Syntax, other: &str) -> Vec<u8> {
    let mut text = seed.text.clone();
    let mut bytes: Option<Vec<u8>> = None;
    if let (Some(tree), true) = (&seed.tree, rng.percent(45)) {
        let mut tree = tree.clone();
        let mut raws = Vec::new();
        for _ in 0..=rng.below(3) {
            mutate_tree(rng, &mut tree, syntax, &seed.pool, &mut raws);
        }
        text = write_tree(rng, &tree, syntax, &raws);
        if rng.percent(70) {
            return text.into_bytes();
        }
    }
    for _ in 0..=rng.below(3) {
        if rng.percent(55) && bytes.is_none() {
            text = mutate_lines(rng, &text, syntax, &seed.pool, other);
        } else {
            let data = bytes.get_or_insert_with(|| text.as_bytes().to_vec());
            mutate_bytes(rng, data, other.as_bytes());
        }
    }
    bytes.unwrap_or_else(|| text.into_bytes())
}
