//! Recovery from a run that stopped (DESIGN §10): from where the journal says a plan stands,
//! the steps back to a serving cloud, and rule V16 that checks them.
//!
//! Where the run stands is the hop H of the last step that began (done, running or
//! failed; a step that began may have changed something, so it counts as if it ran). R is
//! the release hop H started from.
//! - Before any irreversible step of hop H (a contract, or a migration the catalog does not
//!   call reversible; the starting release's own data migrations in `prepare` run the
//!   current code and do not count) the databases are still usable by R: the plan stops
//!   what runs at another release, reinstalls R where the hop installed its target, and
//!   starts everything at R.
//! - After one, each service changed by an irreversible step since its last rollback point
//!   (its last `backup` step that is done) also gets its databases restored from that
//!   backup, by the restore command matching the backup's command, before anything starts.
//! - When the run stopped after every start of the last hop was done, the cloud serves at
//!   the target already: the plan only checks it (restoring would lose what was written
//!   since).
//!
//! Configuration edits of the interrupted hop are not undone: restore configuration from
//! the configuration management that wrote it.

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::plan::chain::Chain;
use crate::plan::{Hop, Phase, Plan, Step, StepKind, PLAN_FORMAT};
use crate::sql::journal::StepState;

mod check;
mod steps;
mod walk;

pub(crate) use check::check;
use steps::Recovering;
use walk::Walked;

/// In a recovery plan: where the interrupted run stood and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovers {
    /// The checksum of the interrupted plan (as its journal records it).
    pub plan: String,
    /// The hop the run stopped in.
    pub hop: usize,
    /// The release everything starts at: the one the hop started from (or the target,
    /// when the cloud serves at it already).
    pub release: String,
    /// Whether the cloud serves at the target already (nothing is restored).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub serving: bool,
    /// Every service changed by an irreversible step since its last rollback point.
    pub changed: Vec<Changed>,
}

/// A service whose databases an irreversible step changed since its last rollback point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changed {
    /// The service.
    pub service: String,
    /// Its databases, as the backup names them.
    pub databases: Vec<String>,
    /// The backup step (of the interrupted plan) of its last rollback point.
    pub backup: String,
    /// The release that backup was taken at.
    pub release: String,
    /// The irreversible steps that began since the backup.
    pub steps: Vec<String>,
}

/// What a recovery needs besides the plan and where it stands.
#[derive(Debug, Clone, Default)]
pub struct RecoveryOptions<'a> {
    /// The command that restores a backup, with the placeholders `{databases}`
    /// (space-separated), `{service}`, `{release}` and `{backup}` (the backup step's
    /// command); `None`: derived from the backup's command (`mysqldump ... > FILE` and
    /// `pg_dump ... > FILE` are known).
    pub restore_command: Option<&'a str>,
    /// The checksum of the interrupted plan, for `recovers.plan`.
    pub checksum: &'a str,
    /// The plan's file, for error messages.
    pub file: &'a str,
}

/// The restore command matching a backup's `command`, for `databases`.
fn derived_restore(command: &str, databases: &[String]) -> Option<String> {
    let (dump, file) = command.rsplit_once(" > ")?;
    let file = file.trim();
    if file.is_empty() || file.contains(' ') {
        return None;
    }
    if dump.contains("mysqldump") {
        // A dump made with --databases recreates its databases; dropping them first
        // removes the tables that newer migrations added.
        let drops: Vec<String> = databases
            .iter()
            .map(|db| format!("DROP DATABASE IF EXISTS {db}"))
            .collect();
        return Some(format!("mysql -e '{}' && mysql < {file}", drops.join("; ")));
    }
    if dump.contains("pg_dump") && databases.len() == 1 {
        let db = &databases[0];
        return Some(format!(
            "dropdb --if-exists {db} && createdb {db} && psql -v ON_ERROR_STOP=1 -d {db} -f {file}"
        ));
    }
    None
}

/// An instance: a component on a host (or without hosts).
type Instance = (String, Option<String>);

/// Whether `step` is irreversible: a contract, or a migration the catalog does not call
/// reversible (one it does not know counts as irreversible), outside `prepare`.
fn irreversible(catalog: &Catalog, step: &Step) -> bool {
    if !step.kind.is_migration() || step.phase == Some(Phase::Prepare) {
        return false;
    }
    if step.kind == StepKind::Contract {
        return true;
    }
    !step
        .migration
        .as_deref()
        .and_then(|id| catalog.migration_id(id))
        .is_some_and(|id| catalog.migration(id).reversible)
}

fn at(id: &str, host: Option<&str>) -> String {
    match host {
        Some(host) => format!("{id}@{host}"),
        None => id.to_owned(),
    }
}

/// The recovery plan of `plan` whose steps stand at `states` (one per step, in plan order,
/// as the journal holds them).
///
/// # Errors
/// [`Error::BadPlan`] naming the step when the states do not fit the plan, a service
/// changed irreversibly has no backup that is done, or no restore command can be derived
/// from a backup's command (give [`RecoveryOptions::restore_command`]).
///
/// # Complexity
/// O(S log S) for S steps.
pub fn recovery_plan(
    catalog: &Catalog,
    plan: &Plan,
    states: &[StepState],
    options: &RecoveryOptions<'_>,
) -> Result<Plan> {
    let bad = |message: String| Error::BadPlan {
        file: options.file.to_owned(),
        message,
        source: None,
    };
    check_states(plan, states).map_err(bad)?;
    let last_begun = states
        .iter()
        .rposition(|state| *state != StepState::Pending);
    let hop = last_begun.map_or(0, |index| plan.steps[index].hop);
    let Some(hop_data) = plan.hops.get(hop) else {
        // A plan without hops: nothing to recover.
        return Ok(finish(
            recovery_head(plan, &plan.from, &plan.from),
            0,
            true,
            Vec::new(),
            options,
        ));
    };
    let (start_release, target) = (hop_data.from.clone(), hop_data.to.clone());
    let serving = last_begun.is_some() && serves_at_target(plan, states, hop);
    let Some(last) = last_begun.filter(|_| !serving) else {
        // Nothing began (the cloud serves at `from`), or everything started at the target.
        let release = if serving { target } else { plan.from.clone() };
        let mut recovery = recovery_head(plan, &release, &release);
        for service in services_in_order(plan) {
            recovery
                .steps
                .push(postcheck(catalog, &service, &release, Vec::new()));
        }
        Chain::add_to(&mut recovery.steps);
        return Ok(finish(recovery, hop, serving, Vec::new(), options));
    };
    let walked = Walked::of(catalog, plan, states, last, hop);
    let changed = walked.changed_services(hop, &start_release).map_err(bad)?;
    let mut recovering = Recovering::new(catalog, &start_release, hop, &changed);
    let stops_of = recovering.stop(&walked);
    recovering.restore(&walked, &changed, &stops_of, options)?;
    let install_of = recovering.reinstall(&walked);
    recovering.start(plan, &walked, &install_of);
    recovering.check(&walked.service_order);
    let mut recovery = recovery_head(plan, &target, &start_release);
    recovery.steps = recovering.steps;
    crate::plan::chain::batch_host_copies(&mut recovery.steps);
    Chain::add_to(&mut recovery.steps);
    crate::estimate::fill_defaults(catalog, &mut recovery.steps);
    Ok(finish(recovery, hop, false, changed, options))
}

/// Refuses states that do not fit the plan, or a plan whose steps name hops it lacks.
fn check_states(plan: &Plan, states: &[StepState]) -> std::result::Result<(), String> {
    if states.len() != plan.steps.len() {
        return Err(format!(
            "the journal holds {} steps, the plan {}",
            states.len(),
            plan.steps.len()
        ));
    }
    if let Some(step) = plan.steps.iter().find(|step| step.hop >= plan.hops.len()) {
        return Err(format!(
            "step {} is in hop {}, but the plan has {} hops",
            step.id,
            step.hop,
            plan.hops.len()
        ));
    }
    Ok(())
}

/// Whether the cloud serves at the target: `hop` is the last and each of its starts is done.
fn serves_at_target(plan: &Plan, states: &[StepState], hop: usize) -> bool {
    let mut starts = (0..plan.steps.len())
        .filter(|&i| plan.steps[i].hop == hop && plan.steps[i].kind == StepKind::Start)
        .peekable();
    hop + 1 == plan.hops.len()
        && starts.peek().is_some()
        && starts.all(|i| states[i] == StepState::Done)
}

/// `recovery` with its `recovers` section.
fn finish(
    mut recovery: Plan,
    hop: usize,
    serving: bool,
    changed: Vec<Changed>,
    options: &RecoveryOptions<'_>,
) -> Plan {
    recovery.recovers = Some(Recovers {
        plan: options.checksum.to_owned(),
        hop,
        release: recovery.to.clone(),
        serving,
        changed,
    });
    recovery
}

fn services_in_order(plan: &Plan) -> Vec<String> {
    let mut services: Vec<String> = Vec::new();
    for step in &plan.steps {
        if let Some(service) = &step.service {
            if !services.contains(service) {
                services.push(service.clone());
            }
        }
    }
    services
}

fn postcheck(catalog: &Catalog, service: &str, release: &str, requires: Vec<String>) -> Step {
    let mut step = Step::new(
        format!("r.postcheck.{service}"),
        0,
        StepKind::Postcheck,
        format!("check that {service} serves at {release}"),
    )
    .in_phase(Phase::Converge);
    step.service = Some(service.to_owned());
    step.release = Some(release.to_owned());
    // The service's readiness check, where its release has one.
    step.command = catalog.service_id(service).and_then(|id| {
        let data = catalog.service(id);
        let release = catalog.release_id(release)?;
        if data
            .upgrade_check_since
            .is_some_and(|since| release < since)
        {
            return None;
        }
        data.upgrade_check.clone()
    });
    step.requires = requires;
    step.estimate_s = Some(crate::estimate::default_seconds(StepKind::Postcheck));
    step
}

/// The head of a recovery plan from `from` back to `to`.
fn recovery_head(plan: &Plan, from: &str, to: &str) -> Plan {
    let path = if from == to {
        vec![from.to_owned()]
    } else {
        vec![from.to_owned(), to.to_owned()]
    };
    let hops = vec![Hop {
        from: from.to_owned(),
        to: to.to_owned(),
        skip: false,
        releases: Vec::new(),
    }];
    let mut head = Plan::new(
        &plan.catalog,
        from,
        to,
        plan.policy.clone(),
        path,
        hops,
        Vec::new(),
    );
    debug_assert_eq!(head.format, PLAN_FORMAT);
    head.recovery = true;
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_commands_match_their_backups() {
        let dbs = vec!["nova".to_owned(), "nova_api".to_owned()];
        assert_eq!(
            derived_restore("mysqldump --single-transaction --databases nova nova_api > /b/nova-pike.sql", &dbs).unwrap(),
            "mysql -e 'DROP DATABASE IF EXISTS nova; DROP DATABASE IF EXISTS nova_api' && mysql < /b/nova-pike.sql"
        );
        assert_eq!(
            derived_restore("pg_dump keystone > k.sql", &dbs[..1]).unwrap(),
            "dropdb --if-exists nova && createdb nova && psql -v ON_ERROR_STOP=1 -d nova -f k.sql"
        );
        assert!(derived_restore("backup-tool nova", &dbs).is_none());
    }
}
