//! The real-procedure model (DESIGN §8) on a small catalog written for it: tasks in every
//! phase, the starting release finished first, converge, temporary settings, a tool's own
//! `x-...` facts, and the errors of a catalog or request that cannot work.

use ffu_core::{
    Catalog, CodeSide, ConfigEditAction, Error, Inventory, NoPlan, Phase, Plan, PlanRequest,
    Policy, StepKind,
};

/// Releases a, b, c; one service `db` with a control component and an agent; each
/// release brings a schema migration and a blocking data migration; tasks in every phase.
const CATALOG: &str = r#"
format: ffu-catalog/1
name: procedure
releases: [{name: a}, {name: b}, {name: c}]
services:
  - name: db
    databases: [db, {name: db_cell0, since: b}]
    restart_order: [db-worker, db-api]
    x-package: python3-db
    components:
      - {name: db-api, role: control, unit: db-api.service, x-container: db_api}
      - {name: db-worker, role: control}
      - {name: db-agent, role: agent}
      - {name: db-bus, role: infra}
migrations:
  - {id: db.a.data, service: db, release: a, kind: data, command: "db-manage data"}
  - {id: db.b.sync, service: db, release: b, kind: migrate, command: "db-manage sync", x-timeout: 600}
  - {id: db.b.data, service: db, release: b, kind: data, command: "db-manage data"}
  - {id: db.c.sync, service: db, release: c, kind: migrate, command: "db-manage sync"}
  - {id: db.c.data, service: db, release: c, kind: data, command: "db-manage data"}
tasks:
  - {id: db.health, service: db, phase: precheck_start, command: "db-status", reason: "the cloud is healthy before anything is touched"}
  - {id: db.purge, service: db, release: b, phase: prepare, command: "db-manage purge", reason: "stale rows pin the new release to old versions"}
  - {id: db.cell0, service: db, release: b, phase: before_migrations, command: "create db_cell0", reason: "the sync needs the cell0 database"}
  - {id: db.verify, service: db, release: c, phase: after_migrations, command: "db-manage verify", requires: [db.c.sync], reason: "the schema is the one c expects"}
  - {id: db.workaround, service: db, phase: before_start, since: c, reason: "new controllers start before old agents report", config: {file: /etc/db/db.conf, section: workarounds, option: skip_check, action: set, value: "True", temporary: true}}
  - {id: db.discover, service: db, phase: converge, release: c, on: all, command: "db-manage discover", reason: "agents are back: map them", x-retries: 3}
"#;

fn catalog() -> Catalog {
    Catalog::from_yaml_str(CATALOG, "procedure.yaml").unwrap()
}

fn ids(plan: &Plan) -> Vec<&str> {
    plan.steps.iter().map(|step| step.id.as_str()).collect()
}

#[test]
fn an_offline_plan_runs_its_phases_in_order_with_every_task_in_place() {
    let plan = catalog().plan("a", "c", &Policy::default()).unwrap();
    assert_eq!(
        ids(&plan),
        [
            "h0.task.db.health",
            "h0.db.a.data",
            "h0.task.db.purge",
            "h0.stop.db-agent",
            "h0.stop.db-api",
            "h0.stop.db-worker",
            "h0.backup.db",
            "h0.install.db",
            "h0.task.db.cell0",
            "h0.db.b.sync",
            "h0.db.b.data",
            "h1.backup.db",
            "h1.install.db",
            "h1.db.c.sync",
            "h1.task.db.verify",
            "h1.task.db.workaround",
            "h1.start.db-worker",
            "h1.start.db-api",
            "h1.start.db-agent",
            "h1.db.c.data",
            "h1.task.db.discover",
            "h1.undo.db.workaround",
            "h1.postcheck.db",
        ]
    );
    let phases: Vec<Phase> = plan.steps.iter().map(|step| step.phase.unwrap()).collect();
    for hop in 0..2 {
        let of_hop: Vec<Phase> = plan
            .steps
            .iter()
            .zip(&phases)
            .filter(|(step, _)| step.hop == hop)
            .map(|(_, &phase)| phase)
            .collect();
        assert!(
            of_hop.windows(2).all(|pair| pair[0] <= pair[1]),
            "{of_hop:?}"
        );
    }
    assert!(ffu_core::verify(&catalog(), &plan).unwrap().is_empty());
}

#[test]
fn steps_carry_what_a_tool_needs_as_data() {
    let plan = catalog().plan("a", "c", &Policy::default()).unwrap();
    let step = |id: &str| plan.steps.iter().find(|step| step.id == id).unwrap();

    let starting = step("h0.db.a.data");
    assert_eq!(
        (
            starting.phase,
            starting.code,
            starting.code_release.as_deref()
        ),
        (Some(Phase::Prepare), Some(CodeSide::Current), Some("a"))
    );
    let api_stop = step("h0.stop.db-api");
    assert!(api_stop.disable);
    assert_eq!(api_stop.unit.as_deref(), Some("db-api.service"));
    let x = api_stop.x.as_ref().unwrap();
    assert_eq!(x["x-package"], "python3-db");
    assert_eq!(x["x-container"], "db_api");

    // The cell0 database exists from b on: a backup at a must not name it.
    assert_eq!(
        step("h0.backup.db").databases.as_deref(),
        Some(&["db".to_owned()][..])
    );
    assert_eq!(
        step("h1.backup.db").databases.as_deref(),
        Some(&["db".to_owned(), "db_cell0".to_owned()][..])
    );
    assert_eq!(
        step("h1.backup.db").command.as_deref(),
        Some("mysqldump --single-transaction --databases db db_cell0 > db-b.sql")
    );
    let sync = step("h0.db.b.sync");
    assert_eq!(sync.x.as_ref().unwrap()["x-timeout"], 600);
    assert_eq!(
        (sync.code, sync.code_release.as_deref()),
        (Some(CodeSide::Target), Some("b"))
    );
    assert_eq!(step("h1.db.c.data").phase, Some(Phase::Converge));
    assert_eq!(step("h1.task.db.verify").requires, ["h1.db.c.sync"]);
    let set = step("h1.task.db.workaround");
    assert_eq!(set.kind, StepKind::Config);
    let edit = set.config.as_ref().unwrap();
    assert_eq!((edit.action, edit.temporary), (ConfigEditAction::Set, true));
    let undo = step("h1.undo.db.workaround");
    assert_eq!(
        undo.config.as_ref().unwrap().action,
        ConfigEditAction::Unset
    );
    // Its own requirement (the setting it removes), then the step before it (the chain).
    assert_eq!(
        undo.requires,
        ["h1.task.db.workaround", "h1.task.db.discover"]
    );
    assert!(step("h1.start.db-api").enable);
}

#[test]
fn policy_templates_fill_the_backup_and_repository_commands() {
    let policy = Policy {
        backup_command: Some("pg_dump {databases} -f {dir}/{service}-{release}.dump".into()),
        backup_dir: Some("/srv/backups".into()),
        repo_command: Some("tripleo-repos -b {release} current".into()),
        ..Policy::default()
    };
    let plan = catalog().plan("a", "c", &policy).unwrap();
    let step = |id: &str| plan.steps.iter().find(|step| step.id == id).unwrap();
    assert_eq!(
        step("h1.backup.db").command.as_deref(),
        Some("pg_dump db db_cell0 -f /srv/backups/db-b.dump")
    );
    assert_eq!(
        step("h0.repos").command.as_deref(),
        Some("tripleo-repos -b b current")
    );
    assert_eq!(step("h1.repos").phase, Some(Phase::Repos));
    // Each hop switches its package sources right before its installs.
    let position = |id: &str| plan.steps.iter().position(|s| s.id == id).unwrap();
    assert_eq!(position("h1.repos") + 1, position("h1.install.db"));
}

#[test]
fn with_an_inventory_tasks_run_on_the_bootstrap_host_or_on_every_host() {
    let inventory = Inventory::from_yaml_str(
        &catalog(),
        "format: ffu-inventory/1\nhosts:\n  - {name: ctl-1, components: {db-api: a, db-worker: a}}\n  - {name: ctl-2, components: {db-api: a}}\n  - {name: cmp-1, components: {db-agent: a}}\n",
        "hosts.yaml",
    )
    .unwrap();
    let policy = Policy::default();
    let plan = catalog()
        .plan_request(&PlanRequest::from_inventory(&inventory, "c", &policy))
        .unwrap();
    let task_steps: Vec<(&str, Option<&str>)> = plan
        .steps
        .iter()
        .filter(|step| step.task.is_some())
        .map(|step| (step.id.as_str(), step.host.as_deref()))
        .collect();
    assert_eq!(
        task_steps,
        [
            ("h0.task.db.health", Some("ctl-1")),
            ("h0.task.db.purge", Some("ctl-1")),
            ("h0.task.db.cell0", Some("ctl-1")),
            ("h1.task.db.verify", Some("ctl-1")),
            ("h1.task.db.workaround", Some("ctl-1")),
            ("h1.task.db.discover@ctl-1", Some("ctl-1")),
            ("h1.task.db.discover@ctl-2", Some("ctl-2")),
            ("h1.task.db.discover@cmp-1", Some("cmp-1")),
            ("h1.undo.db.workaround", Some("ctl-1")),
        ]
    );
    let batch: Vec<Option<usize>> = plan
        .steps
        .iter()
        .filter(|step| step.host.as_deref() == Some("cmp-1") && step.kind == StepKind::Start)
        .map(|step| step.batch)
        .collect();
    assert_eq!(batch, [Some(1)]);
    assert!(ffu_core::verify(&catalog(), &plan).unwrap().is_empty());
}

#[test]
fn a_task_whose_requirement_runs_later_makes_no_plan() {
    let text = CATALOG.replace(
        "phase: before_migrations, command: \"create db_cell0\"",
        "phase: before_migrations, requires: [db.b.sync], command: \"create db_cell0\"",
    );
    let catalog = Catalog::from_yaml_str(&text, "later.yaml").unwrap();
    let error = catalog.plan("a", "c", &Policy::default()).unwrap_err();
    assert!(matches!(
        error,
        Error::NoPlan(NoPlan::RequirementLater { .. })
    ));
    assert_eq!(
        error.to_string(),
        "h0.task.db.cell0 requires h0.db.b.sync, which runs later: h0.task.db.cell0 runs in the migrations phase of hop 0, h0.db.b.sync in the migrations of hop 0"
    );
}

/// The first line of the error of loading `text` as a catalog.
fn catalog_error(text: &str) -> String {
    Catalog::from_yaml_str(text, "bad.yaml")
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_tasks_and_fields_are_refused_naming_the_item() {
    let cases = [
        (
            CATALOG.replace("x-package: python3-db", "pakage: python3-db"),
            "unknown field `pakage`",
        ),
        (
            CATALOG.replace("requires: [db.c.sync]", "requires: [db.c.snyc]"),
            "task db.verify: `requires` names \"db.c.snyc\", which is neither a task nor a migration",
        ),
        (
            CATALOG.replace("{id: db.purge,", "{id: db.b.sync,"),
            "task db.b.sync: a migration has this id already",
        ),
        (
            CATALOG.replace("restart_order: [db-worker, db-api]", "restart_order: [db-api]"),
            "`restart_order` leaves out the control component db-worker",
        ),
        (
            CATALOG.replace("reason: \"the schema is the one c expects\"", "reason: \"\""),
            "task db.verify: a task needs a `reason`",
        ),
        (
            CATALOG.replace("phase: converge, release: c", "phase: convergence, release: c"),
            "unknown variant `convergence`",
        ),
        (
            CATALOG.replace("    restart_order:", "    max_skew: sometimes\n    restart_order:"),
            "max_skew \"sometimes\" is neither a number of releases nor `slurp`",
        ),
    ];
    for (text, expected) in cases {
        let message = catalog_error(&text);
        assert!(
            message.contains(expected),
            "{message}\n  should contain: {expected}"
        );
    }
}

#[test]
fn a_component_that_needs_a_change_before_its_removal_stops_the_plan() {
    let text = CATALOG.replace(
        "{name: db-agent, role: agent}",
        "{name: db-agent, role: agent}\n      - {name: old-agent, role: agent, until: b, removal_needs: \"move to db-agent first\"}",
    );
    let catalog = Catalog::from_yaml_str(&text, "removal.yaml").unwrap();
    let inventory = Inventory::from_yaml_str(
        &catalog,
        "format: ffu-inventory/1\nhosts:\n  - {name: ctl-1, components: {db-api: a, db-worker: a}}\n  - {name: net-1, components: {old-agent: a}}\n",
        "hosts.yaml",
    )
    .unwrap();
    let policy = Policy::default();
    let error = catalog
        .plan_request(&PlanRequest::from_inventory(&inventory, "c", &policy))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "old-agent on net-1 exists only up to b, before the target, and cannot simply be removed on the way: move to db-agent first"
    );
    // Up to its last release, the plan exists.
    assert!(catalog
        .plan_request(&PlanRequest::from_inventory(&inventory, "b", &policy))
        .is_ok());
}

#[test]
fn a_migration_may_require_a_task_of_its_hop() {
    let text = CATALOG.replace(
        "command: \"db-manage sync\", x-timeout: 600}",
        "command: \"db-manage sync\", x-timeout: 600, requires: [db.cell0]}",
    );
    let catalog = Catalog::from_yaml_str(&text, "requires-task.yaml").unwrap();
    let plan = catalog.plan("a", "c", &Policy::default()).unwrap();
    let sync = plan.steps.iter().find(|s| s.id == "h0.db.b.sync").unwrap();
    assert_eq!(sync.requires, ["h0.task.db.cell0"]);
    assert!(
        sync.reason.contains("; requires db.cell0"),
        "{}",
        sync.reason
    );
    // The same requirement on a task that converges after everything starts cannot hold.
    let later = CATALOG.replace(
        "{id: db.c.sync, service: db, release: c, kind: migrate, command: \"db-manage sync\"}",
        "{id: db.c.sync, service: db, release: c, kind: migrate, command: \"db-manage sync\", requires: [db.discover]}",
    );
    let catalog = Catalog::from_yaml_str(&later, "later.yaml").unwrap();
    assert_eq!(
        catalog.plan("a", "c", &Policy::default()).unwrap_err().to_string(),
        "h1.db.c.sync requires h1.task.db.discover, which runs later: h1.db.c.sync runs in the migrations of hop 1, h1.task.db.discover in the converge phase of hop 1"
    );
}
