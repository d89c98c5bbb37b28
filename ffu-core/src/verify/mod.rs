//! The verifier: checks any plan (made by ffu, another tool or a person) against the safety
//! rules (DESIGN.md, "The safety rules"), and reports every violation with the steps
//! involved.
//!
//! It is written from the rules, not from the planner: the property tests use it as the
//! independent judge of the planner's output. It shares no planning code with the planner;
//! in particular it negotiates extensions (V10) itself, from the rule's definition.
//!
//! # Where each rule is checked
//!
//! | rule | what it asks | file |
//! | --- | --- | --- |
//! | V1 path | from `from` to `to`, forward, allowed edges only, fewest hops; hops match the path | `path.rs` |
//! | V2 coverage | every migration in scope exactly once, in its hop, with its kind; no other | `coverage.rs` |
//! | V3 order | `requires` first; a service's releases in order; expand < migrate < contract, data after expand and migrate | `order.rs` |
//! | V4 blocking data | a blocking data migration before the service's later-release schema migrations | `order.rs` |
//! | V5 service order | per hop, B's migrations and real starts before A's when A is `after` B | `service_order.rs` |
//! | V6 offline | offline: schema migrations with the service's control components stopped; rolling: contract only once no older release runs | `running.rs` |
//! | V7 data plane | with `keep_dataplane`, no data plane component is stopped | `running.rs` |
//! | V8 needs running | `needs_running` components up at the hop's target before the migration; offline, stopped again before the next hop's first migration | `running.rs` |
//! | V9 rollback | a backup of the service in the hop before its first contract or irreversible migration | `backups.rs` |
//! | V10 extensions | rolling: advertise only what every running server supports, closed under `requires`; new ones only after a finalize | `extensions.rs` |
//! | V11 skew | no running agent more than `max_skew` releases behind a running control component | `skew.rs` |
//! | V12 starting release | the blocking data migrations of each service's current release in hop 0's `prepare` phase, with the current code, before anything stops and before its schema migrations; the current code runs nothing else | `starting.rs` |
//! | V13 phases | offline: phases in order within a hop; rolling: within each service's part of a hop; a task in its phase, with its code, on its hosts, after what it requires | `phases.rs` |
//! | V14 databases | a backup names only databases of its service that exist at its release | `databases.rs` |
//! | V15 converge | converge steps after the last start of every component of their service; a temporary setting removed in converge | `converge.rs` |
//! | V16 recovery | not checked yet | — |
//!
//! V16 (recovery plans, which later work brings) is not checked. V12 to V15 come from the
//! project contract's real procedures (DESIGN.md section 8). A plan written by an older
//! tool carries no `phase` at all: V13 and V15 do not judge it, and V12 does not ask it
//! for the starting release's migrations (it still judges any step that runs a migration
//! with the current code, since V2, V5 and V9 leave those steps out).
//!
//! V6, V7, V8, V10 and V11 are about what runs while a step runs: `replay.rs` walks the steps
//! once, keeping the running fleet (`fleet.rs`), and asks each of those rules about every
//! step in turn. `context.rs` resolves the plan's names against the catalog first (an
//! unreadable plan is an error, not a violation).
//!
//! # Order of the report
//!
//! The families run in this order: V1, V2, V3, V4, V5, then the replay (V6, V7, V8, V10 and
//! V11 interleaved, step by step), then V9, V12, V13, V14 and V15. Within a family, the order is the one its
//! file's `check` function documents (its passes in turn, each in step order).

use std::fmt;

use crate::catalog::Catalog;
use crate::error::Result;
use crate::plan::Plan;

mod backups;
mod context;
mod converge;
mod coverage;
mod databases;
mod extensions;
mod fleet;
mod order;
mod path;
mod phases;
mod replay;
mod running;
mod service_order;
mod skew;
mod starting;

#[cfg(test)]
mod testkit;

use context::Context;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule, `V1` to `V17` (`V16`: recovery plans; `V17`: maintenance windows).
    pub rule: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The ids of the steps involved (empty for plan-wide rules such as the path).
    pub steps: Vec<String>,
}

impl Violation {
    /// A violation of `rule` that involves `steps`.
    fn new(rule: &'static str, message: String, steps: Vec<String>) -> Violation {
        Violation {
            rule,
            message,
            steps,
        }
    }

    /// A violation of `rule` at one step.
    fn at(rule: &'static str, message: String, step: &str) -> Violation {
        Violation::new(rule, message, vec![step.to_owned()])
    }

    /// A violation of `rule` that involves no step (plan-wide).
    fn plan_wide(rule: &'static str, message: String) -> Violation {
        Violation::new(rule, message, Vec::new())
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.message)
    }
}

/// Checks `plan` against rules V1 to V15 (and V17 when it has windows; a recovery plan
/// against V16 alone) using `catalog`, and returns every violation found,
/// in rule order then step order. An empty list means the plan is safe.
///
/// # Errors
/// [`crate::Error::BadPlan`] when the plan cannot be checked at all: it names another
/// catalog, repeats a step id, points at a hop that does not exist, or names a service,
/// component or release the catalog does not know.
///
/// # Complexity
/// O(N log N + M) for N steps and M catalog migrations.
///
/// # Example
/// ```
/// use ffu_core::{verify, Catalog, Policy};
/// let catalog = Catalog::openstack();
/// let mut plan = catalog.plan("newton", "pike", &Policy::default()).unwrap();
/// plan.steps.retain(|step| step.kind != ffu_core::StepKind::Backup);
/// let violations = verify(&catalog, &plan).unwrap();
/// let rules: std::collections::BTreeSet<&str> = violations.iter().map(|v| v.rule).collect();
/// // No backup before the migrations; and the steps after each backup require it.
/// assert_eq!(rules, ["V3", "V9"].into());
/// ```
pub fn verify(catalog: &Catalog, plan: &Plan) -> Result<Vec<Violation>> {
    verify_document(catalog, plan, "<plan>")
}

/// [`verify`] for a plan read from `file` (a path, or a name such as `<stdin>`), which
/// errors about an unreadable plan name.
///
/// # Errors
/// As [`verify`], naming `file`.
///
/// # Example
/// ```
/// use ffu_core::{verify_document, Catalog, Policy};
/// let catalog = Catalog::openstack();
/// let mut plan = catalog.plan("newton", "ocata", &Policy::default()).unwrap();
/// plan.steps.push(plan.steps[0].clone());
/// let err = verify_document(&catalog, &plan, "p.json").unwrap_err();
/// assert!(err.to_string().starts_with("p.json: not a valid ffu-plan/1 document: step id"));
/// ```
pub fn verify_document(catalog: &Catalog, plan: &Plan, file: &str) -> Result<Vec<Violation>> {
    let _span = tracing::debug_span!("verify", steps = plan.steps.len()).entered();
    if plan.recovery {
        // A recovery plan goes back, not forward: V16 is its rule (DESIGN §10).
        return Ok(crate::recovery::check(plan));
    }
    let context = Context::new(catalog, plan, file)?;
    let mut violations = Vec::new();
    path::check(&context, &mut violations); // V1
    coverage::check(&context, &mut violations); // V2
    order::check_order(&context, &mut violations); // V3
    order::check_blocking_data(&context, &mut violations); // V4
    service_order::check(&context, &mut violations); // V5
    replay::check(&context, &mut violations); // V6, V7, V8, V10, V11
    backups::check(&context, &mut violations); // V9
    starting::check(&context, &mut violations); // V12
    phases::check(&context, &mut violations); // V13
    databases::check(&context, &mut violations); // V14
    converge::check(&context, &mut violations); // V15
    violations.extend(crate::windows::check(plan, catalog)); // V17
    Ok(violations)
}
