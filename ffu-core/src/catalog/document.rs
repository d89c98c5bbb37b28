//! The `ffu-catalog/1` document as written in YAML or JSON, before validation.
//!
//! Every struct denies unknown fields: a typo must not silently change a plan.

use std::cell::Cell;
use std::collections::BTreeMap;

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize};

use crate::extension::ConfigAction;
use crate::migration::MigrationKind;
use crate::release::SkipLevel;
use crate::service::Role;

/// The format tag every catalog carries.
pub const CATALOG_FORMAT: &str = "ffu-catalog/1";

// serde's `skip_serializing_if` passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(value: &bool) -> bool {
    !*value
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(value: &bool) -> bool {
    *value
}

fn default_true() -> bool {
    true
}

/// The fewest bytes one migration takes in a document: even the flow form
/// `{id: a, service: b, release: c, kind: data, command: d}` is longer.
const MIN_MIGRATION_BYTES: usize = 50;

thread_local! {
    /// The capacity to reserve for the migrations list of the document being parsed on
    /// this thread (see [`parse_presized`]); taken, and so reset, by the first list read.
    static MIGRATIONS_CAPACITY: Cell<usize> = const { Cell::new(0) };
}

/// Runs `parse` (a parse of `text`) with the migrations list reserved up front for as many
/// migrations as `text` can hold.
///
/// Neither JSON nor YAML says how long a list is, so serde grows it by doubling: for a
/// catalog of 94,000 migrations that is 30 MB of copying into freshly faulted pages, a
/// quarter of a whole `ffu plan`. The estimate is an upper bound for every document without
/// YAML aliases (each migration is a mapping, which opens with `{` or starts a line, and
/// takes at least [`MIN_MIGRATION_BYTES`]), and tight for JSON; pages of a reservation that
/// are never written cost nothing, and a list longer than the estimate still grows.
pub(crate) fn parse_presized<T>(text: &str, parse: impl FnOnce() -> T) -> T {
    MIGRATIONS_CAPACITY.with(|capacity| capacity.set(migrations_bound(text)));
    let parsed = parse();
    MIGRATIONS_CAPACITY.with(|capacity| capacity.set(0));
    parsed
}

/// How many migrations `text` can hold at most (see [`parse_presized`]).
pub(crate) fn migrations_bound(text: &str) -> usize {
    // Summed without a branch, which the compiler turns into a vector loop.
    let openings: usize = text
        .as_bytes()
        .chunks(255)
        .map(|chunk| {
            let count = chunk.iter().fold(0u8, |count, &byte| {
                count + u8::from(byte == b'{') + u8::from(byte == b'\n')
            });
            usize::from(count)
        })
        .sum();
    (openings + 1).min(text.len() / MIN_MIGRATION_BYTES)
}

fn presized_migrations<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<MigrationDoc>, D::Error> {
    struct Presized(usize);

    impl<'de> serde::de::Visitor<'de> for Presized {
        type Value = Vec<MigrationDoc>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a list of migrations")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            // A parser's own count, where it has one, is exact; the bound caps it, so that
            // no document reserves more than its size allows.
            let capacity = seq.size_hint().map_or(self.0, |count| count.min(self.0));
            let mut migrations = Vec::with_capacity(capacity);
            while let Some(migration) = seq.next_element()? {
                migrations.push(migration);
            }
            Ok(migrations)
        }
    }

    let capacity = MIGRATIONS_CAPACITY.with(Cell::take);
    deserializer.deserialize_seq(Presized(capacity))
}

/// A whole catalog document (or an included fragment).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) include: Vec<String>,
    #[serde(default)]
    pub(crate) releases: Vec<ReleaseDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) skip_level: Option<SkipLevel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) edges: Vec<EdgeDoc>,
    #[serde(default)]
    pub(crate) services: Vec<ServiceDoc>,
    #[serde(default, deserialize_with = "presized_migrations")]
    pub(crate) migrations: Vec<MigrationDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) extensions: Vec<ExtensionDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) config_changes: Vec<ConfigChangeDoc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseDoc {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) date: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) slurp: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EdgeDoc {
    pub(crate) from: String,
    pub(crate) to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceDoc {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) after: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) versions: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) upgrade_check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) upgrade_check_since: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) databases: Vec<DatabaseDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_skew: Option<u32>,
    #[serde(default)]
    pub(crate) components: Vec<ComponentDoc>,
}

/// A database of a service: its name, or its name with the releases it exists at
/// (`{name: nova_cell0, since: ocata}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum DatabaseDoc {
    Name(String),
    Lifetime(DatabaseLifetimeDoc),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatabaseLifetimeDoc {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentDoc {
    pub(crate) name: String,
    pub(crate) role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MigrationDoc {
    pub(crate) id: String,
    // Names a hundred thousand migrations repeat, kept inline (up to 24 bytes) rather than
    // each in an allocation of its own: the document only lives until validation.
    pub(crate) service: CompactString,
    pub(crate) release: CompactString,
    pub(crate) kind: MigrationKind,
    pub(crate) command: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) requires: Vec<CompactString>,
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub(crate) blocking: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs_running: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) reversible: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtensionDoc {
    pub(crate) service: String,
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) requires: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) consumed_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigChangeDoc {
    pub(crate) service: String,
    pub(crate) release: String,
    pub(crate) action: ConfigAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<String>,
}
