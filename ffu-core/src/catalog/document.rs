//! The `ffu-catalog/1` document as written in YAML or JSON, before validation.
//!
//! Every struct denies unknown fields: a typo must not silently change a plan.

use std::cell::Cell;
use std::collections::BTreeMap;

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize};

use crate::extension::ConfigAction;
use crate::extras::{is_extra, Extras};
use crate::migration::MigrationKind;
use crate::plan::{CodeSide, ConfigEdit};
use crate::release::SkipLevel;
use crate::service::Role;
use crate::task::{TaskHosts, TaskMode, TaskPhase};

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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) tasks: Vec<TaskDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) histories: Vec<HistoryDoc>,
}

/// A service's schema history known revision by revision over a span of releases
/// (DESIGN §12), and what it was read from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryDoc {
    pub(crate) service: String,
    pub(crate) from: String,
    pub(crate) to: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) sources: Vec<String>,
}

/// Reads the fields a flattened extras type (`x-...`, gathered by `#[serde(flatten)]`)
/// receives: every field the item does not know lands there, and any whose name does not
/// start with `x-` is refused as unknown, so a typo is still an error. Reads them, refusing those not named `x-...`
/// with serde's "unknown field" error listing `known`.
fn extra_fields<'de, A: serde::de::MapAccess<'de>>(
    mut map: A,
    known: &'static [&'static str],
) -> Result<Extras, A::Error> {
    let mut extras = Extras::new();
    while let Some(key) = map.next_key::<String>()? {
        if !is_extra(&key) {
            return Err(serde::de::Error::unknown_field(&key, known));
        }
        extras.insert(key, map.next_value()?);
    }
    Ok(extras)
}

/// Declares the flattened extra fields of one item kind, with the item's own field names
/// for the error that refuses an unknown one.
macro_rules! extra_fields_of {
    ($name:ident, $fields:expr) => {
        #[derive(Debug, Clone, Default, Serialize)]
        #[serde(transparent)]
        pub(crate) struct $name(pub(crate) Extras);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = Extras;
                    fn expecting(
                        &self,
                        formatter: &mut std::fmt::Formatter<'_>,
                    ) -> std::fmt::Result {
                        formatter.write_str("fields named x-...")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<Extras, A::Error> {
                        extra_fields(map, $fields)
                    }
                }
                deserializer.deserialize_map(Visitor).map($name)
            }
        }
    };
}

extra_fields_of!(
    ServiceExtras,
    &[
        "name",
        "after",
        "since",
        "until",
        "versions",
        "upgrade_check",
        "upgrade_check_since",
        "databases",
        "max_skew",
        "restart_order",
        "components",
        "x-...",
    ]
);
extra_fields_of!(
    ComponentExtras,
    &[
        "name",
        "role",
        "since",
        "until",
        "unit",
        "removal_needs",
        "duration_s",
        "x-..."
    ]
);
extra_fields_of!(
    TaskExtras,
    &[
        "id",
        "service",
        "release",
        "since",
        "until",
        "phase",
        "code",
        "on",
        "command",
        "config",
        "requires",
        "mode",
        "reason",
        "duration_s",
        "x-...",
    ]
);

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
    pub(crate) max_skew: Option<MaxSkewDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) restart_order: Vec<String>,
    #[serde(default)]
    pub(crate) components: Vec<ComponentDoc>,
    #[serde(flatten)]
    pub(crate) x: ServiceExtras,
}

/// `max_skew`: a number of releases, or `slurp`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum MaxSkewDoc {
    Releases(u32),
    Named(String),
}

/// A database of a service: its name, or its name with the releases it exists at
/// (`{name: nova_cell0, since: ocata}`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum DatabaseDoc {
    Name(String),
    Lifetime(DatabaseLifetimeDoc),
}

/// Read by hand rather than `untagged`, so that a mistake inside the mapping is reported as
/// itself ("unknown field `nmae`, expected one of ...") and not as "did not match any
/// variant".
impl<'de> Deserialize<'de> for DatabaseDoc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = DatabaseDoc;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a database name, or {name, since, until}")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<DatabaseDoc, E> {
                Ok(DatabaseDoc::Name(name.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<DatabaseDoc, A::Error> {
                let deserializer = serde::de::value::MapAccessDeserializer::new(map);
                DatabaseLifetimeDoc::deserialize(deserializer).map(DatabaseDoc::Lifetime)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
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
pub(crate) struct ComponentDoc {
    pub(crate) name: String,
    pub(crate) role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) removal_needs: Option<String>,
    /// Seconds a stop or a start of it takes (an estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration_s: Option<f64>,
    #[serde(flatten)]
    pub(crate) x: ComponentExtras,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskDoc {
    pub(crate) id: String,
    pub(crate) service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) release: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<String>,
    pub(crate) phase: TaskPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<CodeSide>,
    #[serde(default, skip_serializing_if = "is_bootstrap")]
    pub(crate) on: TaskHosts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) config: Option<ConfigEdit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) requires: Vec<String>,
    #[serde(default, skip_serializing_if = "is_any_mode")]
    pub(crate) mode: TaskMode,
    pub(crate) reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration_s: Option<f64>,
    #[serde(flatten)]
    pub(crate) x: TaskExtras,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_bootstrap(on: &TaskHosts) -> bool {
    *on == TaskHosts::Bootstrap
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_any_mode(mode: &TaskMode) -> bool {
    *mode == TaskMode::Any
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct MigrationDoc {
    pub(crate) id: String,
    // Names a hundred thousand migrations repeat, kept inline (up to 24 bytes) rather than
    // each in an allocation of its own: the document only lives until validation.
    pub(crate) service: CompactString,
    pub(crate) release: CompactString,
    pub(crate) kind: MigrationKind,
    pub(crate) command: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) requires: Vec<CompactString>,
    #[serde(skip_serializing_if = "is_true")]
    pub(crate) blocking: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs_running: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) reversible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) duration_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) revision: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) command_to_revision: Option<String>,
    #[serde(flatten)]
    pub(crate) x: Extras,
}

/// The fields of a migration, as errors list them.
const MIGRATION_FIELDS: &[&str] = &[
    "id",
    "service",
    "release",
    "kind",
    "command",
    "requires",
    "blocking",
    "needs_running",
    "reversible",
    "duration_s",
    "revision",
    "command_to_revision",
    "x-...",
];

/// One field name of a migration.
enum MigrationField {
    Id,
    Service,
    Release,
    Kind,
    Command,
    Requires,
    Blocking,
    NeedsRunning,
    Reversible,
    DurationS,
    Revision,
    CommandToRevision,
    Extra(String),
}

impl<'de> Deserialize<'de> for MigrationField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = MigrationField;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a migration field name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<MigrationField, E> {
                Ok(match name {
                    "id" => MigrationField::Id,
                    "service" => MigrationField::Service,
                    "release" => MigrationField::Release,
                    "kind" => MigrationField::Kind,
                    "command" => MigrationField::Command,
                    "requires" => MigrationField::Requires,
                    "blocking" => MigrationField::Blocking,
                    "needs_running" => MigrationField::NeedsRunning,
                    "reversible" => MigrationField::Reversible,
                    "duration_s" => MigrationField::DurationS,
                    "revision" => MigrationField::Revision,
                    "command_to_revision" => MigrationField::CommandToRevision,
                    _ if is_extra(name) => MigrationField::Extra(name.to_owned()),
                    _ => return Err(E::unknown_field(name, MIGRATION_FIELDS)),
                })
            }
        }
        deserializer.deserialize_identifier(Visitor)
    }
}

/// A migration read field by field: what `#[derive(Deserialize)]` with
/// `deny_unknown_fields` would write, plus the tool's own `x-...` fields. Written out
/// because `#[serde(flatten)]` would buffer every field of every migration first (a
/// hundred thousand in a large catalog), which costs more than the rest of the parse.
impl<'de> Deserialize<'de> for MigrationDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("MigrationDoc", MIGRATION_FIELDS, MigrationVisitor)
    }
}

struct MigrationVisitor;

/// Stores a field's value, refusing a second one as serde's derive does.
fn once<'de, A: serde::de::MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(serde::de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> serde::de::Visitor<'de> for MigrationVisitor {
    type Value = MigrationDoc;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("struct MigrationDoc")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<MigrationDoc, A::Error> {
        let (mut id, mut service, mut release, mut kind, mut command) =
            (None, None, None, None, None);
        let (mut requires, mut blocking, mut needs_running) = (None, None, None);
        let (mut reversible, mut duration_s) = (None, None);
        let (mut revision, mut command_to_revision) = (None, None);
        let mut x = Extras::new();
        while let Some(field) = map.next_key::<MigrationField>()? {
            match field {
                MigrationField::Id => once(&mut id, &mut map, "id")?,
                MigrationField::Service => once(&mut service, &mut map, "service")?,
                MigrationField::Release => once(&mut release, &mut map, "release")?,
                MigrationField::Kind => once(&mut kind, &mut map, "kind")?,
                MigrationField::Command => once(&mut command, &mut map, "command")?,
                MigrationField::Requires => once(&mut requires, &mut map, "requires")?,
                MigrationField::Blocking => once(&mut blocking, &mut map, "blocking")?,
                MigrationField::NeedsRunning => {
                    once(&mut needs_running, &mut map, "needs_running")?;
                }
                MigrationField::Reversible => once(&mut reversible, &mut map, "reversible")?,
                MigrationField::DurationS => once(&mut duration_s, &mut map, "duration_s")?,
                MigrationField::Revision => once(&mut revision, &mut map, "revision")?,
                MigrationField::CommandToRevision => {
                    once(&mut command_to_revision, &mut map, "command_to_revision")?;
                }
                MigrationField::Extra(name) => {
                    if x.contains_key(&name) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate field `{name}`"
                        )));
                    }
                    let value = map.next_value()?;
                    x.insert(name, value);
                }
            }
        }
        let missing = serde::de::Error::missing_field;
        Ok(MigrationDoc {
            id: id.ok_or_else(|| missing("id"))?,
            service: service.ok_or_else(|| missing("service"))?,
            release: release.ok_or_else(|| missing("release"))?,
            kind: kind.ok_or_else(|| missing("kind"))?,
            command: command.ok_or_else(|| missing("command"))?,
            requires: requires.unwrap_or_default(),
            blocking: blocking.unwrap_or(true),
            needs_running: needs_running.unwrap_or_default(),
            reversible: reversible.unwrap_or(false),
            duration_s: duration_s.unwrap_or(None),
            revision: revision.unwrap_or(None),
            command_to_revision: command_to_revision.unwrap_or(None),
            x,
        })
    }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<String>,
}
