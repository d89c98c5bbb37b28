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

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::plan::chain::Chain;
use crate::plan::{Hop, Phase, Plan, Step, StepKind, PLAN_FORMAT};
use crate::service::Role;
use crate::sql::journal::StepState;
use crate::verify::Violation;

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
#[allow(clippy::too_many_lines)]
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
    if states.len() != plan.steps.len() {
        return Err(bad(format!(
            "the journal holds {} steps, the plan {}",
            states.len(),
            plan.steps.len()
        )));
    }
    if let Some(step) = plan.steps.iter().find(|step| step.hop >= plan.hops.len()) {
        return Err(bad(format!(
            "step {} is in hop {}, but the plan has {} hops",
            step.id,
            step.hop,
            plan.hops.len()
        )));
    }
    let last_begun = states
        .iter()
        .rposition(|state| *state != StepState::Pending);
    let hop = last_begun.map_or(0, |index| plan.steps[index].hop);
    let Some(hop_data) = plan.hops.get(hop) else {
        let mut empty = recovery_head(plan, &plan.from, &plan.from);
        empty.recovers = Some(Recovers {
            plan: options.checksum.to_owned(),
            hop: 0,
            release: plan.from.clone(),
            serving: true,
            changed: Vec::new(),
        });
        return Ok(empty);
    };
    let (start_release, target) = (hop_data.from.clone(), hop_data.to.clone());
    let hop_starts: Vec<usize> = (0..plan.steps.len())
        .filter(|&i| plan.steps[i].hop == hop && plan.steps[i].kind == StepKind::Start)
        .collect();
    let serving = last_begun.is_some()
        && hop + 1 == plan.hops.len()
        && !hop_starts.is_empty()
        && hop_starts.iter().all(|&i| states[i] == StepState::Done);
    if last_begun.is_none() || serving {
        // Nothing began (the cloud serves at `from`), or everything started at the target.
        let release = if serving { target } else { plan.from.clone() };
        let mut recovery = recovery_head(plan, &release, &release);
        let services = services_in_order(plan);
        for service in services {
            recovery
                .steps
                .push(postcheck(catalog, &service, &release, Vec::new()));
        }
        Chain::add_to(&mut recovery.steps);
        recovery.recovers = Some(Recovers {
            plan: options.checksum.to_owned(),
            hop,
            release,
            serving,
            changed: Vec::new(),
        });
        return Ok(recovery);
    }
    let last = last_begun.unwrap_or(0);

    // Walk what began.
    let mut running: BTreeMap<Instance, Option<String>> = BTreeMap::new(); // None: stopped
                                                                           // Every instance, first seen first; sets beside the lists keep a 10,000-host plan linear.
    let mut order: Vec<Instance> = Vec::new();
    let mut in_order: FxHashSet<Instance> = FxHashSet::default();
    let mut installed: Vec<(String, Option<String>)> = Vec::new(); // (service, host) of hop
    let mut is_installed: FxHashSet<(String, Option<String>)> = FxHashSet::default();
    let mut backups: BTreeMap<String, &Step> = BTreeMap::new();
    let mut changed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut service_order: Vec<String> = Vec::new();
    let mut seen_services: FxHashSet<&str> = FxHashSet::default();
    for step in &plan.steps {
        if let (StepKind::Stop | StepKind::Start, Some(component)) =
            (step.kind, step.component.as_deref())
        {
            let instance = (component.to_owned(), step.host.clone());
            if in_order.insert(instance.clone()) {
                order.push(instance);
            }
        }
        if let Some(service) = &step.service {
            if seen_services.insert(service) {
                service_order.push(service.clone());
            }
        }
    }
    for (index, step) in plan.steps[..=last].iter().enumerate() {
        let state = states[index];
        if state == StepState::Pending {
            continue;
        }
        let step_hop = plan.hops.get(step.hop).map_or(&target, |h| &h.to);
        match (step.kind, step.component.as_deref()) {
            (StepKind::Stop, Some(component)) => {
                running.insert((component.to_owned(), step.host.clone()), None);
            }
            (StepKind::Start, Some(component)) => {
                let release = step.release.clone().unwrap_or_else(|| step_hop.clone());
                running.insert((component.to_owned(), step.host.clone()), Some(release));
            }
            _ => {}
        }
        if step.kind == StepKind::Install && step.hop == hop {
            if let Some(service) = &step.service {
                let key = (service.clone(), step.host.clone());
                if is_installed.insert(key.clone()) {
                    installed.push(key);
                }
            }
        }
        if step.kind == StepKind::Backup && step.rollback_point && state == StepState::Done {
            if let Some(service) = &step.service {
                backups.insert(service.clone(), step);
                changed.remove(service);
            }
        }
        if step.hop == hop && irreversible(catalog, step) {
            if let Some(service) = &step.service {
                changed
                    .entry(service.clone())
                    .or_default()
                    .push(step.id.clone());
            }
        }
    }
    let mut recovery = recovery_head(plan, &target, &start_release);
    let mut changed_list = Vec::new();
    for (service, steps) in &changed {
        let Some(backup) = backups.get(service) else {
            return Err(bad(format!(
                "step {} changed {service}'s databases irreversibly, but no backup of {service} is done: restore by hand",
                steps[0]
            )));
        };
        let release = backup
            .release
            .clone()
            .unwrap_or_else(|| start_release.clone());
        if release != start_release {
            return Err(bad(format!(
                "step {} changed {service}'s databases in hop {hop}, but its last backup {} is at {release}, not {start_release}",
                steps[0], backup.id
            )));
        }
        changed_list.push(Changed {
            service: service.clone(),
            databases: backup.databases.clone().unwrap_or_default(),
            backup: backup.id.clone(),
            release,
            steps: steps.clone(),
        });
    }
    let restored: Vec<&str> = changed_list.iter().map(|c| c.service.as_str()).collect();
    let service_of = |component: &str| {
        catalog
            .component_id(component)
            .map(|id| catalog.component(id))
            .filter(|c| c.role != Role::Dataplane)
            .map(|c| catalog.service(c.service).name.clone())
    };
    // 1. Stop what runs at another release, and everything of a service to restore.
    let mut stops_of: FxHashMap<Option<String>, Vec<String>> = FxHashMap::default();
    let mut stopped: FxHashSet<&Instance> = FxHashSet::default();
    for instance in &order {
        // An instance no step that began touched still runs the release the hop started
        // from: it too must stop while its service's databases are restored.
        let release = match running.get(instance) {
            Some(Some(release)) => release,
            Some(None) => continue,
            None => &start_release,
        };
        let service = service_of(&instance.0);
        if *release != start_release || service.as_deref().is_some_and(|s| restored.contains(&s)) {
            let id = at(&format!("r.stop.{}", instance.0), instance.1.as_deref());
            let mut step = Step::new(
                id,
                0,
                StepKind::Stop,
                format!(
                    "stop {} (running at {release}) before going back to {start_release}",
                    instance.0
                ),
            )
            .in_phase(Phase::Stop);
            step.service = service;
            step.component = Some(instance.0.clone());
            step.release = Some(release.clone());
            step.host.clone_from(&instance.1);
            step.disable = true;
            stops_of
                .entry(step.service.clone())
                .or_default()
                .push(step.id.clone());
            stopped.insert(instance);
            recovery.steps.push(step);
        }
    }
    // 2. Restore the databases changed since their last rollback point.
    for change in &changed_list {
        let backup = backups[&change.service];
        let command = match options.restore_command {
            Some(template) => crate::text::fill_template(template, |name| match name {
                "service" => Some(change.service.as_str()),
                "release" => Some(change.release.as_str()),
                "backup" => backup.command.as_deref(),
                _ => None,
            })
            .replace("{databases}", &change.databases.join(" ")),
            None => backup
                .command
                .as_deref()
                .and_then(|command| derived_restore(command, &change.databases))
                .ok_or_else(|| {
                    bad(format!(
                        "cannot tell how to restore backup {} (command {:?}): give a restore command",
                        backup.id,
                        backup.command.as_deref().unwrap_or("")
                    ))
                })?,
        };
        let mut step = Step::new(
            format!("r.restore.{}", change.service),
            0,
            StepKind::Restore,
            format!(
                "restore {}'s databases from {} (taken at {}): {} changed them irreversibly",
                change.service,
                backup.id,
                change.release,
                change.steps.join(", ")
            ),
        )
        .in_phase(Phase::Restore);
        step.service = Some(change.service.clone());
        step.release = Some(change.release.clone());
        step.databases = Some(change.databases.clone());
        step.command = Some(command);
        step.restores = Some(backup.id.clone());
        // After every stop of its service (the others may run on: their databases stay).
        step.requires = stops_of
            .get(&Some(change.service.clone()))
            .cloned()
            .unwrap_or_default();
        recovery.steps.push(step);
    }
    // 3. Reinstall the release the hop started from where the hop installed its target.
    let mut install_of: FxHashMap<(&str, Option<&str>), String> = FxHashMap::default();
    for (service, host) in &installed {
        let id = at(&format!("r.install.{service}"), host.as_deref());
        install_of.insert((service.as_str(), host.as_deref()), id.clone());
        let mut step = Step::new(
            id,
            0,
            StepKind::Install,
            format!("reinstall {service} at {start_release}, the release hop {hop} started from"),
        )
        .in_phase(Phase::Install);
        step.service = Some(service.clone());
        step.release = Some(start_release.clone());
        step.host.clone_from(host);
        step.version = catalog
            .service_id(service)
            .zip(catalog.release_id(&start_release))
            .and_then(|(s, r)| {
                catalog
                    .service(s)
                    .versions
                    .get(r.index())
                    .cloned()
                    .flatten()
            })
            .map(|version| version.to_string());
        recovery.steps.push(step);
    }
    // 4. Start everything at that release, in the plan's order of starts.
    let mut starts: Vec<&Instance> = Vec::new();
    let mut in_starts: FxHashSet<&Instance> = FxHashSet::default();
    for step in &plan.steps {
        if let (StepKind::Start, Some(component)) = (step.kind, step.component.as_deref()) {
            let key = (component.to_owned(), step.host.clone());
            if let Some(instance) = in_order.get(&key) {
                if in_starts.insert(instance) {
                    starts.push(instance);
                }
            }
        }
    }
    for instance in &order {
        if in_starts.insert(instance) {
            starts.push(instance);
        }
    }
    for instance in starts {
        let now = running
            .get(instance)
            .cloned()
            .unwrap_or_else(|| Some(start_release.clone()));
        let stopped_here = stopped.contains(instance);
        if now.as_deref() == Some(start_release.as_str()) && !stopped_here {
            continue;
        }
        let Some(service) = service_of(&instance.0) else {
            continue;
        };
        let id = at(&format!("r.start.{}", instance.0), instance.1.as_deref());
        let mut step = Step::new(
            id,
            0,
            StepKind::Start,
            format!("start {} at {start_release}", instance.0),
        )
        .in_phase(Phase::Start);
        step.service = Some(service);
        step.component = Some(instance.0.clone());
        step.release = Some(start_release.clone());
        step.host.clone_from(&instance.1);
        step.enable = true;
        // After its service's restore and its reinstall on its host, where there are.
        if restored.contains(&step.service.as_deref().unwrap_or_default()) {
            step.requires.push(format!(
                "r.restore.{}",
                step.service.as_deref().unwrap_or_default()
            ));
        }
        if let Some(install) = step
            .service
            .as_deref()
            .and_then(|service| install_of.get(&(service, instance.1.as_deref())))
        {
            step.requires.push(install.clone());
        }
        recovery.steps.push(step);
    }
    // 5. Check every service.
    for service in service_order {
        let starts: Vec<String> = recovery
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Start && s.service.as_deref() == Some(&service))
            .map(|s| s.id.clone())
            .collect();
        recovery
            .steps
            .push(postcheck(catalog, &service, &start_release, starts));
    }
    Chain::add_to(&mut recovery.steps);
    crate::estimate::fill_defaults(catalog, &mut recovery.steps);
    recovery.recovers = Some(Recovers {
        plan: options.checksum.to_owned(),
        hop,
        release: start_release,
        serving: false,
        changed: changed_list,
    });
    Ok(recovery)
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

/// V16: every database changed by an irreversible step since the last rollback point is
/// restored from that backup before any service starts, and every component starts at the
/// backup's release (and every component the recovery stops starts again).
#[allow(clippy::too_many_lines)] // one rule, read best in one place
pub(crate) fn check(plan: &Plan) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut violation = |message: String, steps: Vec<String>| {
        violations.push(Violation {
            rule: "V16",
            message,
            steps,
        });
    };
    let Some(recovers) = &plan.recovers else {
        violation(
            "a recovery plan must say what it recovers (\"recovers\")".to_owned(),
            Vec::new(),
        );
        return violations;
    };
    let first_start = plan
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Start)
        .unwrap_or(plan.steps.len());
    for change in &recovers.changed {
        if change.release != recovers.release {
            violation(
                format!(
                    "{}'s backup {} is at {}, but the recovery starts {}",
                    change.service, change.backup, change.release, recovers.release
                ),
                vec![change.backup.clone()],
            );
        }
        let restore = plan.steps.iter().position(|s| {
            s.kind == StepKind::Restore
                && s.restores.as_deref() == Some(change.backup.as_str())
                && s.service.as_deref() == Some(change.service.as_str())
                && s.command.as_deref().is_some_and(|c| !c.trim().is_empty())
                && s.databases
                    .as_ref()
                    .is_some_and(|dbs| change.databases.iter().all(|db| dbs.contains(db)))
        });
        match restore {
            None => violation(
                format!(
                    "{}'s databases ({}) were changed by {} but are not restored from backup {}",
                    change.service,
                    change.databases.join(", "),
                    change.steps.join(", "),
                    change.backup
                ),
                change.steps.clone(),
            ),
            Some(index) if index > first_start => violation(
                format!(
                    "{}'s databases are restored after a service starts",
                    change.service
                ),
                vec![
                    plan.steps[index].id.clone(),
                    plan.steps[first_start].id.clone(),
                ],
            ),
            Some(_) => {}
        }
    }
    for step in &plan.steps {
        if matches!(step.kind, StepKind::Start | StepKind::Install)
            && step.release.as_deref() != Some(recovers.release.as_str())
        {
            violation(
                format!(
                    "{} {} is at {}, not at the backup's release {}",
                    step.kind.as_str(),
                    step.component
                        .as_deref()
                        .or(step.service.as_deref())
                        .unwrap_or("?"),
                    step.release.as_deref().unwrap_or("no release"),
                    recovers.release
                ),
                vec![step.id.clone()],
            );
        }
    }
    for (index, step) in plan.steps.iter().enumerate() {
        if step.kind != StepKind::Stop {
            continue;
        }
        let restarted = plan.steps[index + 1..].iter().any(|later| {
            later.kind == StepKind::Start
                && later.component == step.component
                && later.host == step.host
        });
        if !restarted {
            violation(
                format!(
                    "{} is stopped and never started again",
                    step.component.as_deref().unwrap_or("?")
                ),
                vec![step.id.clone()],
            );
        }
    }
    violations
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
