//! One end-to-end test per planning scenario, through the `ffu` binary and the library.

mod common;

use common::{data, ffu, plan_json};
use ffu_core::{verify, Catalog, Plan, Policy, StepKind};

fn migration_ids(plan: &Plan) -> Vec<&str> {
    plan.steps
        .iter()
        .filter_map(|s| s.migration.as_deref())
        .collect()
}

#[test]
fn newton_to_queens_passes_every_release_offline() {
    let plan = plan_json(&["--from", "newton", "--to", "queens"]);
    assert_eq!(plan.path, ["newton", "ocata", "pike", "queens"]);
    assert_eq!(plan.hops.len(), 3);
    assert!(plan.hops.iter().all(|h| !h.skip && h.releases.len() == 1));
    let catalog = Catalog::openstack();
    assert_eq!(verify(&catalog, &plan).unwrap(), []);

    let ids = migration_ids(&plan);
    let position = |id: &str| {
        ids.iter()
            .position(|m| *m == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    // Nova: cells v2 set up before the ocata API database sync (its migration 030 refuses
    // to run otherwise), API database before the main database, then the blocking data
    // migrations before the next release's schema.
    assert!(position("nova.ocata.simple-cell-setup") < position("nova.ocata.api-db-sync"));
    assert!(position("nova.ocata.api-db-sync") < position("nova.ocata.db-sync"));
    assert!(position("nova.ocata.online-data-migrations") < position("nova.pike.api-db-sync"));
    // Keystone comes first in every hop.
    assert!(position("keystone.ocata.contract") < position("nova.ocata.simple-cell-setup"));
    // Placement did not exist before stein: nothing of it here.
    assert!(!ids.iter().any(|m| m.starts_with("placement.")));

    // Every control component is stopped before the first migration, the data plane never.
    // (The starting release's own data migrations run before, while everything runs.)
    let first_migration = plan
        .steps
        .iter()
        .position(|s| s.kind.is_migration() && s.phase == Some(ffu_core::Phase::Migrations))
        .unwrap();
    let stopped: Vec<&str> = plan.steps[..first_migration]
        .iter()
        .filter(|s| s.kind == StepKind::Stop)
        .filter_map(|s| s.component.as_deref())
        .collect();
    assert!(
        stopped.contains(&"nova-api")
            && stopped.contains(&"neutron-server")
            && stopped.contains(&"nova-compute")
    );
    assert!(!plan
        .steps
        .iter()
        .any(|s| s.component.as_deref() == Some("libvirt-guests")));
    // Only the target release is started, and nova after placement's former home, nova-api
    // after keystone.
    let starts: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Start)
        .map(|s| {
            (
                s.component.as_deref().unwrap(),
                s.release.as_deref().unwrap(),
            )
        })
        .collect();
    assert!(starts.iter().all(|(_, release)| *release == "queens"));
    let start_of = |c: &str| starts.iter().position(|(name, _)| *name == c).unwrap();
    assert!(start_of("keystone-api") < start_of("nova-api"));
    assert!(start_of("nova-api") < start_of("nova-compute"));
}

#[test]
fn text_output_explains_each_step() {
    let run = ffu(&[
        "plan",
        "--from",
        "newton",
        "--to",
        "ocata",
        "--services",
        "keystone",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = "\
Plan newton -> ocata (offline, catalog openstack): 1 hop, 13 steps
Path: newton -> ocata

Hop 1 of 1: newton -> ocata
  -- precheck
 1. task      h0.task.keystone.precheck.fernet-keys  [current code: newton]
              $ test -n \"$(ls -A /etc/keystone/fernet-keys 2>/dev/null)\" || grep -Eq '^[[:space:]]*provider[[:space:]]*=[[:space:]]*uuid[[:space:]]*$' /etc/keystone/keystone.conf
              keystone's default token provider becomes fernet in 11.0.0 (Ocata) and the uuid provider is removed in 14.0.0 (Rocky; see keystone.precheck.token-provider-uuid): unless [token]provider is explicitly uuid (allowed up to Queens), every keystone node needs the same fernet keys in [fernet_tokens]key_repository (default /etc/keystone/fernet-keys/) before the upgrade; create them with keystone-manage fernet_setup and distribute them (keystone/conf/token.py @10.0.0/@11.0.0) (keystone task, precheck_start phase, current code)
 2. task      h0.task.keystone.precheck.token-provider-pki  [current code: newton]
              $ ! grep -Eq '^[[:space:]]*provider[[:space:]]*=[[:space:]]*pkiz?[[:space:]]*$' /etc/keystone/keystone.conf
              the pki and pkiz token providers are gone in keystone 11.0.0 (Ocata) (setup.cfg keystone.token.provider entry points @10.0.0 vs @11.0.0): switch [token]provider to fernet first (keystone task, precheck_start phase, current code)
  -- stop
 3. stop      h0.stop.keystone-api
              stop keystone-api (keystone control plane) so that its schema migrations run offline; consumers stop first (reverse service order); disabled too, so that a reboot cannot start old code on a newer schema (TripleO stops and disables)
  -- backup
 4. backup    h0.backup.keystone  [rollback point]
              $ mysqldump --single-transaction --databases keystone > keystone-newton.sql
              rollback point: back up keystone's databases at newton; its ocata migrations cannot be undone (no database downgrade: restore from backup is the only way back)
  -- install
 5. install   h0.install.keystone
              install keystone 11.0.0 (ocata), the target release, on every host
  -- config
 6. config    h0.config.keystone.0
              keystone configuration for ocata: default of token.provider becomes fernet
  -- migrations
 7. task      h0.task.keystone.mysql-trust-function-creators  [target code: ocata]
              $ mysql -e 'SET GLOBAL log_bin_trust_function_creators=1'
              keystone-manage db_sync --expand creates triggers; on MySQL that needs SUPER or log_bin_trust_function_creators=1 (keystone doc/source/admin/upgrading.rst warning; kolla-ansible keystone upgrade.yml sets it) (keystone task, before_migrations phase, target code)
 8. expand    h0.keystone.ocata.expand  [target code: ocata]
              $ keystone-manage db_sync --expand
              keystone schema expand for ocata
 9. migrate   h0.keystone.ocata.migrate  [target code: ocata]
              $ keystone-manage db_sync --migrate
              keystone schema for ocata; requires keystone.ocata.expand
10. contract  h0.keystone.ocata.contract  [target code: ocata]
              $ keystone-manage db_sync --contract
              keystone schema contract for ocata; requires keystone.ocata.migrate
  -- start
11. start     h0.start.keystone-api
              start keystone-api (keystone control plane) at the target release ocata
  -- converge
12. task      h0.task.keystone.mysql-trust-function-creators-off  [target code: ocata]
              $ mysql -e 'SET GLOBAL log_bin_trust_function_creators=0'
              undo keystone.mysql-trust-function-creators once keystone's migrations are done (kolla-ansible keystone upgrade.yml 'Disable log_bin_trust_function_creators function'); skip it if the server had it set to 1 before the upgrade (keystone task, converge phase, target code)
13. postcheck h0.postcheck.keystone
              confirm every keystone component runs ocata and reports up
";
    assert_eq!(run.stdout, expected);
}

#[test]
fn slurp_hops_need_skip_level() {
    let without = plan_json(&["--from", "2023.1", "--to", "2025.1"]);
    assert_eq!(
        without.path,
        ["2023.1", "2023.2", "2024.1", "2024.2", "2025.1"]
    );
    assert!(without.hops.iter().all(|h| !h.skip));

    let with = plan_json(&["--from", "antelope", "--to", "epoxy", "--skip-level"]);
    assert_eq!(with.path, ["2023.1", "2024.1", "2025.1"]);
    assert!(with.hops.iter().all(|h| h.skip));
    assert_eq!(with.hops[0].releases, ["2023.2", "2024.1"]);
    assert_eq!(with.hops[1].releases, ["2024.2", "2025.1"]);

    // The same migrations run either way; a skip hop runs each service's two releases
    // together, in release order.
    let catalog = Catalog::openstack();
    let mut a = migration_ids(&without);
    let mut b = migration_ids(&with);
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    assert_eq!(verify(&catalog, &with).unwrap(), []);
    assert_eq!(verify(&catalog, &without).unwrap(), []);
    let ids = migration_ids(&with);
    let position = |id: &str| ids.iter().position(|m| *m == id).unwrap();
    assert!(position("nova.2023.2.online-data-migrations") < position("nova.2024.1.api-db-sync"));

    // A skip-level plan checked under a policy that forbids skips breaks V1.
    let mut forbidden = with.clone();
    forbidden.policy.skip_level = false;
    let violations = verify(&catalog, &forbidden).unwrap();
    assert!(
        !violations.is_empty() && violations.iter().all(|v| v.rule == "V1"),
        "{violations:?}"
    );
}

#[test]
fn a_service_that_appears_mid_path_joins_at_its_first_release() {
    let plan = plan_json(&["--from", "rocky", "--to", "train"]);
    let catalog = Catalog::openstack();
    assert_eq!(verify(&catalog, &plan).unwrap(), []);
    // Placement exists from stein on: nothing to stop at rocky, installed and migrated in
    // the stein hop (its data copied out of nova_api first), started at train.
    assert!(!plan
        .steps
        .iter()
        .any(|s| s.kind == StepKind::Stop && s.service.as_deref() == Some("placement")));
    let placement: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.service.as_deref() == Some("placement") && s.kind.is_migration())
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        placement,
        [
            "h0.placement.stein.copy-from-nova-api",
            "h0.placement.stein.db-sync",
            "h0.placement.stein.online-data-migrations",
            "h1.placement.train.db-sync",
            "h1.placement.train.online-data-migrations",
        ]
    );
    // nova-placement-api was part of nova until stein: stopped, never started again.
    assert!(plan
        .steps
        .iter()
        .any(|s| s.kind == StepKind::Stop && s.component.as_deref() == Some("nova-placement-api")));
    assert!(
        !plan
            .steps
            .iter()
            .any(|s| s.kind == StepKind::Start
                && s.component.as_deref() == Some("nova-placement-api"))
    );
    assert!(plan
        .steps
        .iter()
        .any(|s| s.kind == StepKind::Start && s.component.as_deref() == Some("placement-api")));
}

#[test]
fn a_migration_that_needs_a_component_running_gets_it_for_just_that_long() {
    let catalog = data("small.yaml");
    let catalog_arg = catalog.to_str().unwrap();
    let plan = plan_json(&["--catalog", catalog_arg, "--from", "r1", "--to", "r4"]);
    let around: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .filter(|s| s.hop == 1)
        .map(|s| (s.kind.as_str(), s.id.as_str()))
        .skip_while(|(_, id)| *id != "h1.ident.r3.expand")
        .take(5)
        .collect();
    assert_eq!(
        around,
        [
            ("expand", "h1.ident.r3.expand"),
            ("start", "h1.start.ident-api.for.sched.r3.sync"),
            ("migrate", "h1.sched.r3.sync"),
            ("stop", "h1.stop.ident-api.after.sched.r3.sync"),
            ("migrate", "h1.compute.r3.sync"),
        ]
    );
    let start = plan
        .steps
        .iter()
        .find(|s| s.id == "h1.start.ident-api.for.sched.r3.sync")
        .unwrap();
    assert_eq!(start.release.as_deref(), Some("r3"));
    let loaded = Catalog::from_path(&catalog).unwrap();
    assert_eq!(verify(&loaded, &plan).unwrap(), []);
    assert_eq!(
        ffu(&["verify", "--catalog", catalog_arg, "-"]).code,
        2,
        "no plan on stdin is bad input"
    );
}

#[test]
fn contradictory_order_is_explained_as_a_cycle() {
    let dir = common::temp_dir("cycle");
    let file = common::write(
        &dir,
        "cycle.yaml",
        r#"format: ffu-catalog/1
name: cyc
releases: [{name: a}, {name: b}]
services:
  - {name: x, components: [{name: x-api, role: control}]}
  - {name: y, after: [x], components: [{name: y-api, role: control}]}
migrations:
  - {id: x.b.sync, service: x, release: b, kind: migrate, command: "x sync", requires: [y.b.sync]}
  - {id: y.b.sync, service: y, release: b, kind: migrate, command: "y sync"}
"#,
    );
    let run = ffu(&["plan", "--catalog", &file, "--from", "a", "--to", "b"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: no plan possible: no order satisfies hop a -> b: cycle: y.b.sync -> x.b.sync -> y.b.sync\n  \
         y.b.sync before x.b.sync: x.b.sync requires y.b.sync\n  \
         x.b.sync before y.b.sync: y is after x (service order)\n"
    );
}

#[test]
fn a_requires_cycle_in_the_catalog_is_bad_input() {
    let dir = common::temp_dir("requires-cycle");
    let file = common::write(
        &dir,
        "c.yaml",
        r#"format: ffu-catalog/1
name: c
releases: [{name: a}, {name: b}]
services: [{name: x, components: []}]
migrations:
  - {id: m1, service: x, release: b, kind: migrate, command: "one", requires: [m2]}
  - {id: m2, service: x, release: b, kind: migrate, command: "two", requires: [m1]}
"#,
    );
    let run = ffu(&["catalog", "validate", &file]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, format!("error: {file}: migrations (requires) depend on each other in a cycle: cycle: m1 -> m2 -> m1\n"));
}

#[test]
fn a_downgrade_is_refused_with_the_reason() {
    let run = ffu(&["plan", "--from", "queens", "--to", "newton"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: no plan possible: cannot plan from queens to newton: newton comes before queens, and downgrades are not supported (database migrations are not reversible)\n"
    );
}

#[test]
fn an_inventory_with_a_component_past_the_target_is_a_downgrade_refused_with_its_host() {
    let dir = std::env::temp_dir().join(format!("ffu-ahead-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inventory = dir.join("ahead.yaml");
    std::fs::write(
        &inventory,
        "format: ffu-inventory/1\nhosts:\n  - name: ctl-1\n    components: {nova-api: pike, keystone-api: pike}\n  - name: ctl-2\n    components: {nova-api: rocky}\n",
    )
    .unwrap();
    let file = inventory.display().to_string();
    for mode in ["offline", "rolling"] {
        let run = ffu(&[
            "plan",
            "--inventory",
            &file,
            "--to",
            "queens",
            "--mode",
            mode,
        ]);
        assert_eq!(run.code, 1, "{mode}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!("error: no plan possible: nova-api on ctl-2 ({file}) already runs rocky, after the target queens: downgrades are not supported\n")
        );
    }
    // The services left out are not judged: keystone alone plans from pike.
    let run = ffu(&[
        "plan",
        "--inventory",
        &file,
        "--to",
        "queens",
        "--services",
        "keystone",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_release_is_named_with_suggestions() {
    let run = ffu(&["plan", "--from", "newtn", "--to", "queens"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: no plan possible: unknown release \"newtn\"; did you mean newton?\n"
    );
}

#[test]
fn same_release_is_an_empty_plan() {
    let plan = Catalog::openstack()
        .plan("zed", "zed", &Policy::default())
        .unwrap();
    assert!(plan.is_empty());
    assert_eq!(plan.path, ["zed"]);
    assert_eq!(verify(&Catalog::openstack(), &plan).unwrap(), []);
}

#[test]
fn excluding_a_service_another_one_needs_is_explained() {
    let catalog = Catalog::from_path(data("small.yaml")).unwrap();
    let policy = Policy {
        services: Some(vec!["sched".into()]),
        ..Policy::default()
    };
    let err = catalog.plan("r1", "r4", &policy).unwrap_err();
    assert_eq!(
        err.to_string(),
        "migration sched.r3.sync needs component ident-api running of service ident, which the policy excludes"
    );
}

#[test]
fn plans_are_byte_identical_across_runs() {
    let a = ffu(&[
        "plan", "--from", "newton", "--to", "2026.2", "--format", "json",
    ]);
    let b = ffu(&[
        "plan", "--from", "newton", "--to", "2026.2", "--format", "json",
    ]);
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn verify_reports_violations_with_exit_1() {
    let dir = common::temp_dir("verify");
    let mut plan = plan_json(&["--from", "newton", "--to", "pike"]);
    plan.steps.retain(|s| s.id != "h1.nova.pike.db-sync");
    let file = common::write(&dir, "plan.json", &plan.to_json());
    let run = ffu(&["verify", &file]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "V2: migration nova.pike.db-sync (nova pike) is missing\n\
         V3: step h1.start.keystone-api requires h1.nova.pike.db-sync, which is not in the plan\n    \
         steps: h1.start.keystone-api\n\
         V3: step h1.nova.pike.online-data-migrations requires h1.nova.pike.db-sync, which is not in the plan\n    \
         steps: h1.nova.pike.online-data-migrations\n"
    );
    assert_eq!(
        run.stderr,
        format!("error: {file}: the plan breaks the safety rules (3 violations)\n")
    );
}

#[test]
fn dot_output_is_a_digraph_with_a_cluster_per_hop() {
    let run = ffu(&[
        "plan", "--from", "newton", "--to", "pike", "--format", "dot",
    ]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("digraph \"ffu newton -> pike\" {"));
    assert_eq!(run.stdout.matches("subgraph cluster_").count(), 2);
    // A requirement on a step further back is dashed; one on the step right before is the
    // order's solid edge already.
    assert!(run.stdout.contains(
        "\"h1.nova.pike.db-sync\" -> \"h1.nova.pike.online-data-migrations\" [style=dashed];"
    ));
    assert!(run
        .stdout
        .contains("\"h0.nova.ocata.simple-cell-setup\" -> \"h0.nova.ocata.api-db-sync\";"));
    assert!(!run.stdout.contains(
        "\"h0.nova.ocata.simple-cell-setup\" -> \"h0.nova.ocata.api-db-sync\" [style=dashed];"
    ));
}

#[test]
fn output_file_is_written_whole_or_not_at_all() {
    let dir = common::temp_dir("output");
    let target = dir.join("plan.json");
    let ok = ffu(&[
        "plan",
        "--from",
        "newton",
        "--to",
        "ocata",
        "--format",
        "json",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(ok.code, 0);
    assert!(Plan::from_json(&std::fs::read_to_string(&target).unwrap(), "plan.json").is_ok());
    let failed = dir.join("failed.json");
    let bad = ffu(&[
        "plan",
        "--from",
        "newton",
        "--to",
        "nowhere",
        "-o",
        failed.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, 1);
    assert!(!failed.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left behind"
    );
}

/// `-o` into something that is not a regular file writes into it: renaming a finished
/// temporary file over a named pipe (or `/dev/null`, as root) would replace it with a
/// regular file. Through a symbolic link, the file it points to is replaced (or created).
#[cfg(target_os = "linux")]
#[test]
fn output_into_a_pipe_or_through_a_link_keeps_the_pipe_and_the_link() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;

    let dir = common::temp_dir("output-special");
    let args = [
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
    ];
    let expected = ffu(&args[..args.len() - 1]);
    assert_eq!(expected.code, 0);
    // Small enough for the pipe's buffer, so that ffu never waits for this test to read.
    assert!(expected.stdout.len() < 16 * 1024);

    let pipe = dir.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    // Opened for reading and writing, a pipe does not wait for a writer (Linux), and ffu's
    // open for writing does not wait for a reader.
    let mut pipe_end = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&pipe)
        .unwrap();
    let into_pipe = ffu(&[&args[..], &[pipe.to_str().unwrap()]].concat());
    assert_eq!(into_pipe.code, 0, "{}", into_pipe.stderr);
    // Checked before reading: had the pipe been replaced, nothing would come to read.
    assert!(std::fs::symlink_metadata(&pipe)
        .unwrap()
        .file_type()
        .is_fifo());
    let mut written = vec![0; expected.stdout.len()];
    pipe_end.read_exact(&mut written).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), expected.stdout);

    let target = dir.join("target.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let through_link = ffu(&[&args[..], &[link.to_str().unwrap()]].concat());
    assert_eq!(through_link.code, 0, "{}", through_link.stderr);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), expected.stdout);

    // A relative link to a file not there yet, in another directory: the file is created.
    std::fs::create_dir(dir.join("plans")).unwrap();
    let dangling = dir.join("next.json");
    std::os::unix::fs::symlink("plans/next.json", &dangling).unwrap();
    let through_dangling = ffu(&[&args[..], &[dangling.to_str().unwrap()]].concat());
    assert_eq!(through_dangling.code, 0, "{}", through_dangling.stderr);
    assert!(std::fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(dir.join("plans/next.json")).unwrap(),
        expected.stdout
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        5,
        "no temporary file left behind"
    );
    assert_eq!(std::fs::read_dir(dir.join("plans")).unwrap().count(), 1);
}

/// `nova_cell0` comes with Ocata's cells v2: a Newton backup that names it fails (mysqldump
/// exits non-zero on a database that does not exist) before the first migration.
#[test]
fn backups_name_only_the_databases_that_exist_at_their_release() {
    let catalog = Catalog::openstack();
    let plan = catalog.plan("newton", "pike", &Policy::default()).unwrap();
    let nova_backups: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Backup && s.service.as_deref() == Some("nova"))
        .map(|s| (s.id.as_str(), s.command.as_deref().unwrap()))
        .collect();
    assert_eq!(
        nova_backups,
        [
            (
                "h0.backup.nova",
                "mysqldump --single-transaction --databases nova_api nova > nova-newton.sql"
            ),
            (
                "h1.backup.nova",
                "mysqldump --single-transaction --databases nova_api nova nova_cell0 > nova-ocata.sql"
            ),
        ]
    );
}

/// A named change to a plan document and the message it must cause.
type Mutation = (&'static str, fn(&mut serde_json::Value), &'static str);

/// Every error about an unusable plan names its file (it said the literal word "plan").
#[test]
fn verify_names_the_plan_file_in_every_error() {
    let catalog = Catalog::openstack();
    let plan = catalog.plan("newton", "ocata", &Policy::default()).unwrap();
    let mut document: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    // The mutations below edit the first step: make it the first stop (the plan begins
    // with the checks on the running cloud).
    let first_stop = plan
        .steps
        .iter()
        .position(|s| s.id == "h0.stop.nova-compute")
        .unwrap();
    document["steps"]
        .as_array_mut()
        .unwrap()
        .swap(0, first_stop);
    let mutations: [Mutation; 4] = [
        (
            "duplicate",
            |p| {
                let first = p["steps"][0].clone();
                p["steps"].as_array_mut().unwrap().push(first);
            },
            "step id \"h0.stop.nova-compute\" appears more than once",
        ),
        (
            "policy",
            |p| p["policy"]["services"] = serde_json::json!(["nope"]),
            "policy names unknown service \"nope\"",
        ),
        (
            "hop",
            |p| p["steps"][0]["hop"] = serde_json::json!(7),
            "step h0.stop.nova-compute is in hop 7, but the plan has 1 hops",
        ),
        (
            "service",
            |p| p["steps"][0]["service"] = serde_json::json!("nope"),
            "step h0.stop.nova-compute names unknown service \"nope\"",
        ),
    ];
    let dir = common::temp_dir("verify-names");
    for (name, mutate, message) in mutations {
        let mut bad = document.clone();
        mutate(&mut bad);
        let file = common::write(&dir, &format!("{name}.json"), &bad.to_string());
        let run = ffu(&["verify", &file]);
        assert_eq!(
            (run.code, run.stderr),
            (
                2,
                format!("error: {file}: not a valid ffu-plan/1 document: {message}\n")
            ),
            "{name}"
        );
    }
}

#[test]
fn the_generated_option_changes_become_config_steps_on_request() {
    let scheduler_driver = |plan: &Plan| {
        plan.steps
            .iter()
            .filter(|step| {
                step.config.as_ref().is_some_and(|edit| {
                    edit.section == "DEFAULT" && edit.option == "scheduler_driver"
                })
            })
            .map(|step| {
                let edit = step.config.as_ref().expect("filtered on config");
                (step.hop, step.release.clone(), edit.to.clone())
            })
            .collect::<Vec<_>>()
    };
    let args = ["--from", "newton", "--to", "queens", "--services", "nova"];
    // nova 15 (ocata) reads [DEFAULT]scheduler_driver as [scheduler]driver: generated from
    // its wheel into ffu-core/catalog/config/nova.yaml, carried by the first hop.
    let with: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--with-config-changes"])
        .collect();
    let plan = plan_json(&with);
    assert_eq!(
        scheduler_driver(&plan),
        [(
            0,
            Some("ocata".to_owned()),
            Some("scheduler.driver".to_owned())
        )]
    );
    assert_eq!(
        verify(&Catalog::openstack_with_config(), &plan).unwrap(),
        []
    );
    // The planning catalog leaves them out by default.
    assert_eq!(scheduler_driver(&plan_json(&args)), []);
    let both = ffu(&[
        "plan",
        "--to",
        "queens",
        "--catalog",
        "x.yaml",
        "--with-config-changes",
    ]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}

#[test]
fn a_starting_migration_needing_a_service_left_out_is_refused() {
    // b's starting release r1 has a blocking data migration that needs a's API: an inventory
    // without a leaves a out of the plan, which that migration cannot do without.
    let catalog = Catalog::from_yaml_str(
        "format: ffu-catalog/1\nname: t\nreleases: [{name: r1}, {name: r2}]\n\
         services:\n\
         \x20 - {name: a, components: [{name: a-api, role: control}]}\n\
         \x20 - {name: b, components: [{name: b-api, role: control}]}\n\
         migrations:\n\
         \x20 - {id: b.r1.online, service: b, release: r1, kind: data, command: b-manage online, needs_running: [a-api]}\n",
        "t.yaml",
    )
    .unwrap();
    let inventory =
        ffu_core::Inventory::from_hosts(&catalog, &[("ctl-1", &[("b-api", "r1")])]).unwrap();
    let result = catalog.plan_request(&ffu_core::PlanRequest::from_inventory(
        &inventory,
        "r2",
        &Policy::default(),
    ));
    let Err(ffu_core::Error::NoPlan(no_plan)) = result else {
        panic!("planned: {result:?}");
    };
    assert_eq!(
        no_plan.to_string(),
        "migration b.r1.online needs component a-api running of service a, which the policy excludes"
    );
}
