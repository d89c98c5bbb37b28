//! Recovery (DESIGN §10, V16): the journal walked to many points of real plans, a recovery
//! plan asked for at each, checked by V16 and against the backups it must name; mutated
//! recovery plans fail V16.

mod common;

use std::collections::BTreeMap;

use common::{data, ffu, plan_json, temp_dir};
use ffu_core::recovery::{recovery_plan, RecoveryOptions};
use ffu_core::sql::StepState;
use ffu_core::{verify, Catalog, Phase, Plan, StepKind};

fn recover(catalog: &Catalog, plan: &Plan, done: usize, failed: bool) -> Plan {
    let mut states = vec![StepState::Pending; plan.steps.len()];
    for state in &mut states[..done] {
        *state = StepState::Done;
    }
    if failed && done < states.len() {
        states[done] = StepState::Failed;
    }
    recovery_plan(
        catalog,
        plan,
        &states,
        &RecoveryOptions {
            restore_command: None,
            checksum: "test",
            file: "plan.json",
        },
    )
    .unwrap_or_else(|err| panic!("recovery after {done} steps: {err}"))
}

/// The backups a recovery after the first `begun` steps must restore, by service,
/// worked out on its own: per service, its last backup that is done, when an irreversible
/// step of the stopping hop began after it.
fn expected_backups(
    catalog: &Catalog,
    plan: &Plan,
    begun: usize,
    done: usize,
) -> BTreeMap<String, String> {
    let hop = plan.steps[begun - 1].hop;
    let mut last_backup: BTreeMap<String, String> = BTreeMap::new();
    let mut expected = BTreeMap::new();
    for (index, step) in plan.steps[..begun].iter().enumerate() {
        let service = step.service.clone().unwrap_or_default();
        if step.kind == StepKind::Backup && index < done {
            last_backup.insert(service.clone(), step.id.clone());
            expected.remove(&service);
        }
        let reversible = step
            .migration
            .as_deref()
            .and_then(|id| catalog.migration_id(id))
            .is_some_and(|id| catalog.migration(id).reversible);
        let irreversible = step.kind.is_migration()
            && step.phase != Some(Phase::Prepare)
            && (step.kind == StepKind::Contract || !reversible);
        if step.hop == hop && irreversible {
            expected.insert(service.clone(), last_backup[&service].clone());
        }
    }
    expected
}

fn walk(catalog: &Catalog, plan: &Plan, stride: usize) -> usize {
    let mut restores = 0;
    let last_hop_starts: Vec<usize> = (0..plan.steps.len())
        .filter(|&i| {
            plan.steps[i].kind == StepKind::Start && plan.steps[i].hop + 1 == plan.hops.len()
        })
        .collect();
    let mut points: Vec<usize> = (1..plan.steps.len()).step_by(stride).collect();
    points.push(plan.steps.len() - 1);
    for done in points {
        for failed in [false, true] {
            let recovery = recover(catalog, plan, done, failed);
            assert!(recovery.recovery);
            let violations = verify(catalog, &recovery).unwrap();
            assert!(violations.is_empty(), "after {done} steps: {violations:?}");
            // Through JSON and back, the same plan and the same verdict.
            let again = Plan::from_json(&recovery.to_json(), "r.json").unwrap();
            assert_eq!(again, recovery);
            let stood = recovery.recovers.as_ref().unwrap();
            let begun = done + usize::from(failed);
            let serving = last_hop_starts.iter().all(|&i| i < done);
            if serving {
                assert!(stood.serving, "after {done} steps");
                assert!(stood.changed.is_empty());
                continue;
            }
            let hop = plan.steps[begun - 1].hop;
            assert_eq!(stood.hop, hop);
            assert_eq!(stood.release, plan.hops[hop].from);
            let named: BTreeMap<String, String> = stood
                .changed
                .iter()
                .map(|c| (c.service.clone(), c.backup.clone()))
                .collect();
            assert_eq!(
                named,
                expected_backups(catalog, plan, begun, done),
                "after {done} steps"
            );
            for step in &recovery.steps {
                if step.kind == StepKind::Start {
                    assert_eq!(step.release.as_deref(), Some(stood.release.as_str()));
                }
            }
            restores += stood.changed.len();
        }
    }
    restores
}

#[test]
fn offline_plans_recover_from_every_point() {
    let catalog = Catalog::openstack();
    let plan = plan_json(&["--from", "newton", "--to", "queens"]);
    assert!(walk(&catalog, &plan, 1) > 0);
    let plan = plan_json(&["--from", "2023.1", "--to", "2025.1", "--skip-level"]);
    assert!(walk(&catalog, &plan, 3) > 0);
}

#[test]
fn rolling_plans_with_an_inventory_recover_from_many_points() {
    let catalog = Catalog::openstack();
    let inventory = data("inventory-pike.yaml");
    let plan = plan_json(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "--to",
        "rocky",
        "--mode",
        "rolling",
        "--max-unavailable",
        "25%",
    ]);
    assert!(walk(&catalog, &plan, 23) > 0);
    let inventory = data("inventory-newton.yaml");
    let plan = plan_json(&["--inventory", inventory.to_str().unwrap(), "--to", "pike"]);
    assert!(walk(&catalog, &plan, 9) > 0);
}

/// A recovery plan that restores something, from a real offline plan.
fn restoring_recovery() -> (Catalog, Plan) {
    let catalog = Catalog::openstack();
    let plan = plan_json(&["--from", "newton", "--to", "pike"]);
    let contract = plan
        .steps
        .iter()
        .position(|s| s.hop == 1 && s.kind == StepKind::Contract)
        .unwrap();
    let recovery = recover(&catalog, &plan, contract + 1, false);
    assert!(!recovery.recovers.as_ref().unwrap().changed.is_empty());
    assert!(verify(&catalog, &recovery).unwrap().is_empty());
    (catalog, recovery)
}

fn v16(catalog: &Catalog, plan: &Plan) -> usize {
    verify(catalog, plan)
        .unwrap()
        .iter()
        .filter(|v| v.rule == "V16")
        .count()
}

#[test]
fn mutated_recovery_plans_fail_v16() {
    let (catalog, good) = restoring_recovery();
    let restore = good
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Restore)
        .unwrap();
    let start = good
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Start)
        .unwrap();

    let mut dropped = good.clone();
    dropped.steps.remove(restore);
    assert!(v16(&catalog, &dropped) > 0, "restore dropped");

    let mut late = good.clone();
    let step = late.steps.remove(restore);
    late.steps.push(step);
    assert!(v16(&catalog, &late) > 0, "restore after a start");

    let mut wrong_release = good.clone();
    wrong_release.steps[start].release = Some("pike".into());
    assert!(
        v16(&catalog, &wrong_release) > 0,
        "start at another release"
    );

    let mut wrong_backup = good.clone();
    wrong_backup.steps[restore].restores = Some("h0.backup.nova".into());
    assert!(
        v16(&catalog, &wrong_backup) > 0,
        "restore of another backup"
    );

    let mut no_command = good.clone();
    no_command.steps[restore].command = None;
    assert!(v16(&catalog, &no_command) > 0, "restore without a command");

    let mut missing_db = good.clone();
    missing_db.steps[restore].databases = Some(Vec::new());
    assert!(v16(&catalog, &missing_db) > 0, "restore of no database");

    let mut unrecorded = good.clone();
    unrecorded.recovers = None;
    assert!(v16(&catalog, &unrecorded) > 0, "no recovers");

    let mut not_restarted = good.clone();
    let stopped_component = not_restarted
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Stop)
        .map(|i| not_restarted.steps[i].component.clone());
    if let Some(component) = stopped_component {
        not_restarted
            .steps
            .retain(|s| !(s.kind == StepKind::Start && s.component == component));
        assert!(v16(&catalog, &not_restarted) > 0, "stopped, never started");
    }
}

#[test]
fn ffu_recover_reads_the_journal_and_its_plan_passes_verify() {
    let dir = temp_dir("recover-cli");
    let plan_path = dir.join("plan.json");
    let db = format!("sqlite:{}", dir.join("journal.db").display());
    let plan_file = plan_path.to_str().unwrap();
    let run = ffu(&[
        "plan",
        "--from",
        "newton",
        "--to",
        "pike",
        "--services",
        "keystone,glance",
        "--format",
        "json",
        "-o",
        plan_file,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        ffu(&["journal", "init", "--db", &db, "--plan", plan_file]).code,
        0
    );
    let plan = Plan::from_json(&std::fs::read_to_string(&plan_path).unwrap(), "p").unwrap();
    // Run up to and including hop 1's first contract, which fails.
    let contract = plan
        .steps
        .iter()
        .position(|s| s.hop == 1 && s.kind == StepKind::Contract)
        .unwrap();
    for step in &plan.steps[..contract] {
        let next = ffu(&["journal", "next", "--db", &db, "--plan", plan_file]);
        assert_eq!(next.stdout.trim(), step.id);
        assert_eq!(
            ffu(&["journal", "done", "--db", &db, "--plan", plan_file, &step.id]).code,
            0
        );
    }
    let next = ffu(&["journal", "next", "--db", &db, "--plan", plan_file]);
    assert_eq!(
        ffu(&[
            "journal",
            "fail",
            "--db",
            &db,
            "--plan",
            plan_file,
            next.stdout.trim()
        ])
        .code,
        0
    );

    let recovery_path = dir.join("recovery.json");
    let run = ffu(&[
        "recover",
        "--plan",
        plan_file,
        "--journal",
        &db,
        "--format",
        "json",
        "-o",
        recovery_path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let recovery = Plan::from_json(&std::fs::read_to_string(&recovery_path).unwrap(), "r").unwrap();
    assert!(recovery.recovery);
    let changed = &recovery.recovers.as_ref().unwrap().changed;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].service, "keystone");
    assert_eq!(changed[0].backup, "h1.backup.keystone");
    assert_eq!(changed[0].release, "ocata");
    let restore = recovery
        .steps
        .iter()
        .find(|s| s.kind == StepKind::Restore)
        .unwrap();
    assert_eq!(
        restore.command.as_deref(),
        Some("mysql -e 'DROP DATABASE IF EXISTS keystone' && mysql < keystone-ocata.sql")
    );
    let run = ffu(&["verify", recovery_path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "ok: {} steps, 1 hops, no violation of V16\n",
            recovery.steps.len()
        )
    );

    // A mutated recovery plan is exit 1 with V16.
    let mut broken = recovery.clone();
    broken.steps.retain(|s| s.kind != StepKind::Restore);
    std::fs::write(&recovery_path, broken.to_json()).unwrap();
    let run = ffu(&["verify", recovery_path.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("V16"), "{}", run.stdout);

    // Text output names the backup.
    let run = ffu(&["recover", "--plan", plan_file, "--journal", &db]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("Recovery: the run stopped in hop 1; back to ocata\nRestore keystone (keystone) from backup h1.backup.keystone: changed by h1.keystone.pike.expand, h1.keystone.pike.migrate, h1.keystone.pike.contract\n"), "{}", run.stdout);
}

#[test]
fn recover_errors_are_exit_2_naming_the_input() {
    let dir = temp_dir("recover-errors");
    let plan_path = dir.join("plan.json");
    let plan_file = plan_path.to_str().unwrap();
    let run = ffu(&[
        "plan",
        "--from",
        "newton",
        "--to",
        "ocata",
        "--services",
        "keystone",
        "--format",
        "json",
        "-o",
        plan_file,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let missing = format!("sqlite:{}", dir.join("none.db").display());
    let run = ffu(&["recover", "--plan", plan_file, "--journal", &missing]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("none.db"), "{}", run.stderr);
    let run = ffu(&["recover", "--plan", plan_file, "--journal", "postgres://x"]);
    assert_eq!(run.code, 2);
    // A custom backup command whose restore cannot be derived.
    let custom = dir.join("custom.json");
    let run = ffu(&[
        "plan",
        "--from",
        "newton",
        "--to",
        "ocata",
        "--services",
        "keystone",
        "--backup-command",
        "snapshot {service}",
        "--format",
        "json",
        "-o",
        custom.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let db = format!("sqlite:{}", dir.join("j.db").display());
    let custom_file = custom.to_str().unwrap();
    let plan = Plan::from_json(&std::fs::read_to_string(&custom).unwrap(), "p").unwrap();
    let contract = plan
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Contract)
        .unwrap();
    for step in &plan.steps[..=contract] {
        let next = ffu(&["journal", "next", "--db", &db, "--plan", custom_file]);
        assert_eq!(next.stdout.trim(), step.id);
        ffu(&[
            "journal",
            "done",
            "--db",
            &db,
            "--plan",
            custom_file,
            &step.id,
        ]);
    }
    let run = ffu(&["recover", "--plan", custom_file, "--journal", &db]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("h0.backup.keystone") && run.stderr.contains("snapshot keystone"),
        "{}",
        run.stderr
    );
    let run = ffu(&[
        "recover",
        "--plan",
        custom_file,
        "--journal",
        &db,
        "--restore-command",
        "restore {service} {release} {databases}",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("\"command\":\"restore keystone newton keystone\""),
        "{}",
        run.stdout
    );
}

#[test]
fn a_restore_comes_after_every_instance_of_its_service_is_stopped_even_untouched_ones() {
    let catalog = Catalog::openstack();
    let inventory = data("inventory-pike.yaml");
    let plan = plan_json(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "--to",
        "queens",
        "--mode",
        "rolling",
        "--services",
        "keystone,nova",
        "--max-unavailable",
        "50%",
    ]);
    // Stop after nova's schema migrations, before any nova instance was restarted.
    let nova_sync = plan
        .steps
        .iter()
        .position(|s| s.migration.as_deref() == Some("nova.queens.db-sync"))
        .unwrap();
    let recovery = recover(&catalog, &plan, nova_sync + 1, false);
    assert!(verify(&catalog, &recovery).unwrap().is_empty());
    let restore = recovery
        .steps
        .iter()
        .position(|s| s.restores.as_deref() == Some("h0.backup.nova"))
        .unwrap();
    let stopped: Vec<&str> = recovery.steps[..restore]
        .iter()
        .filter(|s| s.kind == StepKind::Stop)
        .map(|s| s.id.as_str())
        .collect();
    for host in 1..=120 {
        let id = format!("r.stop.nova-compute@cmp-{host:03}");
        assert!(
            stopped.contains(&id.as_str()),
            "{id} is not stopped before nova's restore"
        );
    }
    // ctl-1, the bootstrap host, was stopped by the plan already.
    for id in ["r.stop.nova-api@ctl-3", "r.stop.nova-conductor@ctl-3"] {
        assert!(stopped.contains(&id), "{id}");
    }
    // And every one starts again at pike.
    let starts = recovery
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Start && s.component.as_deref() == Some("nova-compute"))
        .count();
    assert_eq!(starts, 120);
}
