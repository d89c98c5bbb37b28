//! A tool's own facts: catalog fields named `x-...`.
//!
//! A deployment tool keeps its unit names, packages or hooks in a catalog fragment without
//! forking the catalog: fields whose name starts with `x-` are accepted on services,
//! components, migrations and tasks, never interpreted, and carried into the steps they
//! produce under `"x"` (DESIGN §8).

use std::collections::BTreeMap;

/// `x-...` fields by name (the name as written, `x-` included), with their values.
pub type Extras = BTreeMap<String, serde_json::Value>;

/// The prefix of a tool's own field names.
pub const EXTRA_PREFIX: &str = "x-";

/// Whether `name` is a tool's own field name.
pub(crate) fn is_extra(name: &str) -> bool {
    name.starts_with(EXTRA_PREFIX) && name.len() > EXTRA_PREFIX.len()
}

/// The fields of `base` and then `over` (whose values win), for a step that two catalog
/// items produce together (a component's start: its service's facts and its own).
pub(crate) fn merged(base: &Extras, over: &Extras) -> Extras {
    let mut all = base.clone();
    all.extend(over.iter().map(|(key, value)| (key.clone(), value.clone())));
    all
}
