//! The one error type of `ffu_core`.
//!
//! Errors fall in families that callers treat differently (the CLI maps them to exit
//! codes, the Python bindings to exception classes):
//! - bad input: a catalog, plan or state that cannot be read or cannot be ([`Error::Io`],
//!   [`Error::Parse`], [`Error::Invalid`], [`Error::Cycle`], [`Error::BadPlan`],
//!   [`Error::BadState`]);
//! - databases and the journal: [`Error::Database`], [`Error::JournalMismatch`],
//!   [`Error::JournalLocked`], [`Error::JournalStep`];
//! - no plan possible: the inputs are well formed but no safe plan exists
//!   ([`Error::NoPlan`]), with the evidence kept as data in [`NoPlan`].

use std::fmt;
use std::path::PathBuf;

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
    /// The request asks for something this version of ffu does not do yet.
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
    },
    /// A service name that the catalog does not know (as given to discovery).
    #[error("unknown service {name:?}: the catalog has no such service")]
    UnknownService {
        /// The name as given.
        name: String,
    },
    /// A database could not be opened, read or written.
    #[error("{target}: database error: {message}")]
    Database {
        /// The database (its path).
        target: String,
        /// What the database said.
        message: String,
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
    /// A database state given to the planner that cannot be (an unknown migration, an
    /// applied migration whose requirement is not applied, nothing to start from).
    #[error("bad database state: {message}")]
    BadState {
        /// What is wrong, naming the service and migration.
        message: String,
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
    /// A service named in the policy does not exist in the catalog.
    UnknownService {
        /// The name as given.
        name: String,
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
            NoPlan::UnknownService { name } => write!(f, "unknown service {name:?} in the policy"),
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
        }
    }
}

impl std::error::Error for NoPlan {}

/// The result type of `ffu_core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
