//! The one error type of `ffu_core`.
//!
//! Errors fall in families that callers treat differently (the CLI maps them to exit
//! codes, the Python bindings to exception classes):
//! - bad input: a catalog, plan, state or request that cannot be read or cannot be
//!   ([`Error::Io`], [`Error::Parse`], [`Error::Invalid`], [`Error::Cycle`],
//!   [`Error::BadPolicy`], [`Error::Unsupported`], [`Error::BadPlan`],
//!   [`Error::UnknownService`], [`Error::BadState`]);
//! - databases and the journal: [`Error::Database`], [`Error::JournalMismatch`],
//!   [`Error::JournalLocked`], [`Error::JournalStep`], [`Error::JournalPlan`];
//! - output: a document ffu made that cannot be written ([`Error::Serialize`]; not expected
//!   in practice);
//! - no plan possible: the inputs are well formed but no safe plan exists
//!   ([`Error::NoPlan`]), with the evidence kept as data in [`NoPlan`].
//!
//! Every error that another one caused keeps it as its [`std::error::Error::source`]
//! (the parser's error behind [`Error::Parse`], the driver's behind [`Error::Database`],
//! the operating system's behind [`Error::Io`], ...). The `Display` text already includes
//! what the source says, so printing the whole chain would say it twice: the source is
//! there to be inspected (downcast), as the Python bindings do to set `__cause__`.

use std::fmt;
use std::path::PathBuf;

/// An error that caused another, kept as its `source`: the parser's, the driver's, the
/// operating system's.
pub(crate) type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A position in a source file, 1-based, as the parser reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line number, starting at 1.
    pub line: u64,
    /// Column number, starting at 1.
    pub column: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Renders `file`, `file:line:col` for error prefixes.
pub(crate) struct Place<'a>(pub(crate) &'a str, pub(crate) Option<Location>);

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(loc) => write!(f, "{}:{loc}", self.0),
            None => f.write_str(self.0),
        }
    }
}

/// Everything that can go wrong in `ffu_core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{}: cannot read file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A document is not valid YAML or JSON, or does not have the expected shape
    /// (an unknown field, a missing field, a value of the wrong type).
    #[error("{}: {message}", Place(file, *location))]
    Parse {
        /// The file (or `<string>`) being read.
        file: String,
        /// Where the parser stopped, when it says.
        location: Option<Location>,
        /// The parser's message, first line only.
        message: String,
        /// The parser's error, when a parser gave one (not for a document refused before
        /// parsing, such as one over the size limit).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A catalog is well formed but breaks a rule (a duplicate name, an unknown reference,
    /// versions out of order, ...). `item` names the offending item.
    #[error("{}: {item}: {message}", Place(file, *location))]
    Invalid {
        /// The file that holds the item.
        file: String,
        /// Where the item is written, found by searching the file for it.
        location: Option<Location>,
        /// The offending item, such as `migration nova.ocata.db-sync`.
        item: String,
        /// What is wrong, in one sentence.
        message: String,
        /// The error behind it, when there is one (an included file that cannot be read, a
        /// version that is not semver).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Items of a catalog depend on each other in a cycle (migrations through `requires`,
    /// services through `after`).
    #[error("{file}: {what} depend on each other in a cycle: cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// The file of the catalog.
        file: String,
        /// What kind of items: `migrations (requires)` or `services (after)`.
        what: &'static str,
        /// The items along the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A policy value is malformed (such as `max_unavailable: "ten"`).
    #[error("bad policy: {message}")]
    BadPolicy {
        /// What is wrong, naming the value.
        message: String,
    },
    /// The request asks for something this version of ffu does not do yet (a rolling SLURP
    /// upgrade, a database backend ffu does not know).
    #[error("unsupported: {what}")]
    Unsupported {
        /// What was asked.
        what: String,
    },
    /// A plan document cannot be read as an `ffu-plan/1` plan.
    #[error("{file}: not a valid ffu-plan/1 document: {message}")]
    BadPlan {
        /// The file (or `<string>`).
        file: String,
        /// What is wrong.
        message: String,
        /// The JSON parser's error, when the document is not the plan's shape.
        #[source]
        source: Option<Source>,
    },
    /// A service name that the catalog does not know, wherever it is given: to discovery,
    /// in a policy's `services`.
    ///
    /// Bad input, not [`NoPlan`]: the name resolves to nothing, as an unknown migration in
    /// a state ([`Error::BadState`]) does; no fact of the catalog forbids a plan. (An
    /// unknown *release* stays [`NoPlan::UnknownRelease`]: it is the request itself, and
    /// the design counts a plan to or from a release that does not exist among the plans
    /// that cannot exist.) So `ffu plan --services x` and `ffu discover --service x` both
    /// exit 2, with or without `--db`.
    #[error("unknown service {name:?}: the catalog has no such service")]
    UnknownService {
        /// The name as given.
        name: String,
    },
    /// A database could not be opened, read or written.
    #[error("{target}: database error: {message}")]
    Database {
        /// The database: its path, or what a connection reaches.
        target: String,
        /// What the database said (its driver's error, as text), or what ffu found wrong
        /// in what it read.
        message: String,
        /// The driver's error (rusqlite's, or the Python DB-API driver's exception), when
        /// one caused this; `None` when ffu found the problem itself (no such file, an
        /// unexpected value in a table).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A journal was made for another plan than the one given: resuming would mix them.
    #[error("{target}: the journal was made for plan checksum {journal}, not for this plan (checksum {plan}); use the journal's plan or a new journal")]
    JournalMismatch {
        /// The journal's database.
        target: String,
        /// The checksum recorded in the journal.
        journal: String,
        /// The checksum of the plan given.
        plan: String,
    },
    /// Another runner holds the journal's lock and it has not expired.
    #[error("{target}: the journal is locked by {owner:?} for {expires_in_s} more seconds")]
    JournalLocked {
        /// The journal's database.
        target: String,
        /// The runner that holds the lock.
        owner: String,
        /// Seconds until the lock expires and may be taken over.
        expires_in_s: i64,
    },
    /// A journal transition that the step's state does not allow, or an unknown step.
    #[error("{target}: step {step:?}: {message}")]
    JournalStep {
        /// The journal's database.
        target: String,
        /// The step id as given.
        step: String,
        /// Why the transition is refused.
        message: String,
    },
    /// A journal opened without a plan cannot give one: there is no journal, or it was
    /// made before journals kept their plan.
    #[error("{target}: {message}")]
    JournalPlan {
        /// The journal's database.
        target: String,
        /// What is missing, and what to do.
        message: String,
    },
    /// A database state given to the planner that cannot be (an unknown migration, an
    /// applied migration whose requirement is not applied, nothing to start from).
    #[error("bad database state: {message}")]
    BadState {
        /// What is wrong, naming the service and migration.
        message: String,
    },
    /// A plan cannot be exported for an execution engine as asked: a plan and an inventory
    /// that do not match, a bad `--command` template. The message names the item.
    #[error("{message}")]
    Export {
        /// What is wrong, naming the step, host or argument.
        message: String,
    },
    /// A document that ffu made (a catalog as JSON or YAML) could not be serialized. Not
    /// expected in practice: the documents are plain data.
    #[error("cannot write {what}: {source}")]
    Serialize {
        /// The document and its format, such as `the catalog as YAML`.
        what: &'static str,
        /// The serializer's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No safe plan exists for the request; the evidence says why.
    #[error("{0}")]
    NoPlan(#[from] NoPlan),
}

impl Error {
    /// True when the error means "no plan is possible" rather than "bad input".
    pub fn is_no_plan(&self) -> bool {
        matches!(self, Error::NoPlan(_))
    }

    /// The error with `source` kept as the one that caused it, for the variants that keep
    /// one ([`Error::Parse`], [`Error::Invalid`], [`Error::Database`]); others are returned
    /// unchanged.
    pub(crate) fn caused_by(mut self, cause: impl Into<Source>) -> Error {
        if let Error::Parse { source, .. }
        | Error::Invalid { source, .. }
        | Error::Database { source, .. } = &mut self
        {
            *source = Some(cause.into());
        }
        self
    }
}

/// Why no plan can exist, kept as data so that callers can render or inspect the evidence
/// (in the spirit of pubgrub's derivation trees and petgraph's `Cycle`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoPlan {
    /// A release name that the catalog does not know.
    UnknownRelease {
        /// The name as given.
        name: String,
        /// Known names close to it, if any.
        suggestions: Vec<String>,
    },
    /// The target comes before the current release: ffu never plans downgrades.
    Downgrade {
        /// Current release.
        from: String,
        /// Requested target.
        to: String,
    },
    /// No chain of allowed upgrade edges leads from `from` to `to`.
    Unreachable {
        /// Current release.
        from: String,
        /// Requested target.
        to: String,
        /// The furthest release reachable.
        furthest: String,
    },
    /// Within one hop, the ordering facts form a cycle, so no order satisfies them all.
    /// Each element is one fact: "a must come before b because ...".
    OrderCycle {
        /// The hop, as `from -> to`.
        hop: String,
        /// The facts along the cycle; the last one leads back to the first.
        facts: Vec<OrderFact>,
    },
    /// A migration depends on something outside the services the policy includes.
    ExcludedDependency {
        /// The migration that depends.
        migration: String,
        /// What it depends on (a migration or component).
        needs: String,
        /// The service of that dependency, excluded by the policy.
        service: String,
    },
    /// A database already holds a migration of a release after the target: planning to
    /// that target would be a downgrade.
    AheadOfTarget {
        /// The applied migration.
        migration: String,
        /// Its release.
        release: String,
        /// The target release.
        to: String,
    },
    /// An inventory in which no host runs a component of the services to upgrade (outside
    /// the data plane), so there is no release to start from.
    NothingToUpgrade {
        /// The inventory's file.
        inventory: String,
    },
    /// An inventory in which a component to upgrade already runs a release after the
    /// target: reaching the target would downgrade it.
    InventoryAheadOfTarget {
        /// The inventory's file.
        inventory: String,
        /// The host that runs it.
        host: String,
        /// The component.
        component: String,
        /// The release it runs.
        release: String,
        /// The target release.
        to: String,
    },
    /// A step runs before something it requires: the phases of the procedure put its
    /// requirement later (a catalog task that requires a migration of its own hop while it
    /// runs before the migrations).
    RequirementLater {
        /// The step that requires.
        step: String,
        /// Where it runs (its phase and hop).
        step_place: String,
        /// The step it requires.
        requires: String,
        /// Where that one runs.
        requires_place: String,
    },
    /// An inventory runs a component that the target no longer has and that cannot simply
    /// go away (the linuxbridge agent, removed in 2025.1: a change of ML2 driver first).
    ComponentRemoved {
        /// The host that runs it.
        host: String,
        /// The component.
        component: String,
        /// Its last release, before the target.
        until: String,
        /// What must change first (the catalog's `removal_needs`).
        needs: String,
    },
}

/// One ordering fact of a [`NoPlan::OrderCycle`]: `before` must run before `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFact {
    /// The step that must come first.
    pub before: String,
    /// The step that must come after it.
    pub after: String,
    /// Why, such as `nova is after placement (service order)`.
    pub because: String,
}

impl fmt::Display for NoPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoPlan::UnknownRelease { name, suggestions } => {
                write!(f, "unknown release {name:?}")?;
                if !suggestions.is_empty() {
                    write!(f, "; did you mean {}?", suggestions.join(" or "))?;
                }
                Ok(())
            }
            NoPlan::Downgrade { from, to } => write!(
                f,
                "cannot plan from {from} to {to}: {to} comes before {from}, and downgrades are not supported (database migrations are not reversible)"
            ),
            NoPlan::Unreachable { from, to, furthest } => write!(
                f,
                "no chain of upgrade edges leads from {from} to {to}; the furthest release reachable is {furthest}"
            ),
            NoPlan::OrderCycle { hop, facts } => {
                let chain: Vec<&str> = facts
                    .iter()
                    .map(|fact| fact.before.as_str())
                    .chain(facts.first().map(|fact| fact.before.as_str()))
                    .collect();
                write!(f, "no order satisfies hop {hop}: cycle: {}", chain.join(" -> "))?;
                for fact in facts {
                    write!(f, "\n  {} before {}: {}", fact.before, fact.after, fact.because)?;
                }
                Ok(())
            }
            NoPlan::ExcludedDependency { migration, needs, service } => write!(
                f,
                "migration {migration} needs {needs} of service {service}, which the policy excludes"
            ),
            NoPlan::AheadOfTarget { migration, release, to } => write!(
                f,
                "the database already has {migration} of {release}, after the target {to}: downgrades are not supported (database migrations are not reversible)"
            ),
            NoPlan::NothingToUpgrade { inventory } => write!(
                f,
                "nothing to upgrade: no host of {inventory} runs a component of the services to upgrade (outside the data plane), so there is no release to start from"
            ),
            NoPlan::InventoryAheadOfTarget {
                inventory,
                host,
                component,
                release,
                to,
            } => write!(
                f,
                "{component} on {host} ({inventory}) already runs {release}, after the target {to}: downgrades are not supported"
            ),
            NoPlan::RequirementLater {
                step,
                step_place,
                requires,
                requires_place,
            } => write!(
                f,
                "{step} requires {requires}, which runs later: {step} runs in {step_place}, {requires} in {requires_place}"
            ),
            NoPlan::ComponentRemoved {
                host,
                component,
                until,
                needs,
            } => write!(
                f,
                "{component} on {host} exists only up to {until}, before the target, and cannot simply be removed on the way: {needs}"
            ),
        }
    }
}

impl std::error::Error for NoPlan {}

/// The result type of `ffu_core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::{Catalog, Inventory, Policy};

    /// A fresh directory for one test, removed when the test is done with it.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let path =
                std::env::temp_dir().join(format!("ffu-error-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const HEAD: &str = "format: ffu-catalog/1\nname: t\nreleases: [{name: a}, {name: b}]\n";

    fn policy_with(services: &[&str]) -> Policy {
        Policy {
            services: Some(services.iter().map(|&s| s.to_owned()).collect()),
            ..Policy::default()
        }
    }

    #[test]
    fn an_unknown_service_is_one_error_wherever_it_is_named() {
        let catalog = Catalog::openstack();
        let in_policy = catalog
            .plan("newton", "ocata", &policy_with(&["nova", "nope"]))
            .unwrap_err();
        let dir = TempDir::new("unknown-service");
        let in_discovery =
            crate::sql::discover_sqlite(&dir.0.join("none.db"), &catalog, &["nope".to_owned()])
                .unwrap_err();
        for err in [&in_policy, &in_discovery] {
            assert!(
                matches!(err, Error::UnknownService { name } if name == "nope"),
                "{err:?}"
            );
            assert!(!err.is_no_plan(), "bad input, not `no plan`: {err}");
            assert_eq!(
                err.to_string(),
                "unknown service \"nope\": the catalog has no such service"
            );
        }
    }

    #[test]
    fn an_inventory_with_nothing_to_upgrade_says_so() {
        let catalog = Catalog::openstack();
        // Only a data plane component runs: no release to start from.
        let inventory =
            Inventory::from_hosts(&catalog, &[("cmp-1", &[("ovs-vswitchd", "pike")])]).unwrap();
        let err = catalog
            .plan_request(&crate::PlanRequest::from_inventory(
                &inventory,
                "queens",
                &Policy::default(),
            ))
            .unwrap_err();
        let file = inventory.file().to_owned();
        assert!(
            matches!(&err, Error::NoPlan(NoPlan::NothingToUpgrade { inventory }) if *inventory == file),
            "{err:?}"
        );
        assert!(err.is_no_plan());
        assert_eq!(
            err.to_string(),
            format!("nothing to upgrade: no host of {file} runs a component of the services to upgrade (outside the data plane), so there is no release to start from")
        );
    }

    #[test]
    fn a_serialization_error_keeps_the_serializer_error() {
        let cause = serde_json::from_str::<u8>("x").unwrap_err();
        let text = cause.to_string();
        let err = Error::Serialize {
            what: "the catalog as JSON",
            source: Box::new(cause),
        };
        assert_eq!(
            err.to_string(),
            format!("cannot write the catalog as JSON: {text}")
        );
        assert!(!err.is_no_plan());
        assert!(err.source().unwrap().is::<serde_json::Error>());
    }

    #[test]
    fn a_database_error_keeps_the_driver_error() {
        let dir = TempDir::new("database");
        let catalog = Catalog::openstack();
        let services = ["nova".to_owned()];
        let garbage = dir.write("garbage.db", &"not a database ".repeat(100));
        let err = crate::sql::discover_sqlite(&garbage, &catalog, &services).unwrap_err();
        let Error::Database {
            target, message, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(target, &garbage.display().to_string());
        // The text is the driver's, as before the source was kept.
        let source = err.source().expect("the rusqlite error is kept");
        assert!(source.is::<rusqlite::Error>(), "{source:?}");
        assert_eq!(message, &source.to_string());
        assert_eq!(
            err.to_string(),
            format!("{}: database error: {source}", garbage.display())
        );
        // A problem ffu finds itself has no source.
        let missing = dir.0.join("missing.db");
        let err = crate::sql::discover_sqlite(&missing, &catalog, &services).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: database error: no such database file",
                missing.display()
            )
        );
        assert!(err.source().is_none());
    }

    #[test]
    fn parse_errors_keep_the_parser_error() {
        let json = Catalog::from_json_str("{\"format\": ", "cut.json").unwrap_err();
        assert!(
            json.to_string()
                .starts_with("cut.json:1:11: EOF while parsing"),
            "{json}"
        );
        assert!(json.source().unwrap().is::<serde_json::Error>());
        let yaml = Catalog::from_yaml_str(&format!("{HEAD}services: [\n"), "cut.yaml").unwrap_err();
        assert!(matches!(yaml, Error::Parse { .. }), "{yaml:?}");
        assert!(yaml.source().unwrap().is::<serde_saphyr::Error>());
        // A document refused before any parser ran has none.
        let dir = TempDir::new("parse");
        let binary = dir.0.join("binary.yaml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        let err = Catalog::from_path(&binary).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("not UTF-8 text (invalid byte at offset 0)"),
            "{err}"
        );
        assert!(err.source().unwrap().is::<std::str::Utf8Error>());
    }

    #[test]
    fn an_unreadable_include_keeps_the_os_error() {
        let dir = TempDir::new("include");
        let root = dir.write(
            "root.yaml",
            &format!("{HEAD}include: [missing.yaml]\nservices: []\n"),
        );
        let err = Catalog::from_path(&root).unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { item, .. } if item == "include \"missing.yaml\""),
            "{err:?}"
        );
        let source = err.source().expect("the OS error is kept");
        let io = source.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        // A fragment that does not parse: the parser's error.
        dir.write("broken.yaml", "services: [\n");
        let root = dir.write(
            "root2.yaml",
            &format!("{HEAD}include: [broken.yaml]\nservices: []\n"),
        );
        let err = Catalog::from_path(Path::new(&root)).unwrap_err();
        assert!(err.source().unwrap().is::<serde_saphyr::Error>(), "{err:?}");
    }

    #[test]
    fn a_version_that_is_not_semver_keeps_the_semver_error() {
        let text = format!(
            "{HEAD}services: [{{name: s, components: [{{name: s-api, role: control}}], versions: {{a: \"one\"}}}}]\n"
        );
        let err = Catalog::from_yaml_str(&text, "v.yaml").unwrap_err();
        assert!(err.to_string().contains("is not semver"), "{err}");
        assert!(err.source().unwrap().is::<semver::Error>(), "{err:?}");
    }

    #[test]
    fn a_plan_that_is_not_json_keeps_the_parser_error_as_its_source() {
        let err = crate::Plan::from_json("{", "p.json").unwrap_err();
        assert!(matches!(err, Error::BadPlan { .. }));
        assert!(err.source().unwrap().is::<serde_json::Error>());
        let wrong_format = crate::Plan::from_json(
            r#"{"format":"x","catalog":"c","from":"a","to":"a","policy":{"mode":"offline","skip_level":false,"keep_dataplane":true,"services":null},"path":["a"],"hops":[],"steps":[]}"#,
            "p.json",
        )
        .unwrap_err();
        assert!(wrong_format.source().is_none(), "{wrong_format}");
    }
}
