//! Discovery on SQLite: alembic heads and sqlalchemy-migrate versions mapped onto a catalog,
//! through the library and the `ffu discover` command.

mod common;

use std::path::Path;

use common::{ffu, temp_dir, write};
use ffu_core::sql::discover_sqlite;
use ffu_core::{Catalog, PlanRequest};

/// The shared alembic-style test catalog (tests/data/alembic-test.yaml).
const CATALOG: &str = include_str!("data/alembic-test.yaml");

fn database(path: &Path, heads: &[&str], legacy: Option<(&str, i64)>) {
    let _ = std::fs::remove_file(path);
    let conn = rusqlite::Connection::open(path).unwrap();
    if !heads.is_empty() {
        conn.execute_batch(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
        )
        .unwrap();
        for head in heads {
            conn.execute("INSERT INTO alembic_version VALUES (?1)", [head])
                .unwrap();
        }
    }
    if let Some((repo, version)) = legacy {
        conn.execute_batch(
            "CREATE TABLE migrate_version (repository_id VARCHAR(250) PRIMARY KEY, repository_path TEXT, version INTEGER)",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO migrate_version VALUES (?1, '/x', ?2)",
            rusqlite::params![repo, version],
        )
        .unwrap();
    }
}

fn services(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn heads_map_onto_releases_applied_and_pending() {
    let dir = temp_dir("discover-lib");
    let catalog = Catalog::from_yaml_str(CATALOG, "catalog.yaml").unwrap();
    let db = dir.join("net.db");

    // Both r2 branch heads: r2 complete.
    database(&db, &["bbb", "ccc"], None);
    let state = discover_sqlite(&db, &catalog, &services(&["net"])).unwrap();
    let net = &state["net"];
    assert_eq!(net.release.as_deref(), Some("r2"));
    assert_eq!(
        net.applied,
        ["net.alembic.aaa", "net.alembic.bbb", "net.alembic.ccc"]
    );
    assert_eq!(net.pending, ["net.alembic.ddd", "net.alembic.eee"]);

    // In the middle of r3: the expand branch moved on, the contract branch did not.
    database(&db, &["ddd", "ccc"], Some(("img", 42)));
    let state = discover_sqlite(&db, &catalog, &services(&["net", "img"])).unwrap();
    assert_eq!(state["net"].release.as_deref(), Some("r2"));
    assert_eq!(state["net"].pending, ["net.alembic.eee"]);
    assert_eq!(state["img"].release, None);
    assert_eq!(state["img"].pending, ["img.alembic.x1"]);
    assert_eq!(state["img"].legacy_version, Some(42));

    // Only one branch of r2: r1 reached.
    database(&db, &["bbb"], None);
    let state = discover_sqlite(&db, &catalog, &services(&["net"])).unwrap();
    assert_eq!(state["net"].release.as_deref(), Some("r1"));
    assert_eq!(state["net"].applied, ["net.alembic.aaa", "net.alembic.bbb"]);

    // No alembic_version table: nothing applied.
    database(&db, &[], None);
    let state = discover_sqlite(&db, &catalog, &services(&["net"])).unwrap();
    assert_eq!(state["net"].release, None);
    assert!(state["net"].applied.is_empty());
    assert_eq!(state["net"].pending.len(), 5);

    // A service the catalog does not know is an error.
    assert!(discover_sqlite(&db, &catalog, &services(&["nope"])).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn discover_command_prints_json_and_sql() {
    let dir = temp_dir("discover-cli");
    let catalog = write(&dir, "catalog.yaml", CATALOG);
    let db = dir.join("state.db");
    database(&db, &["eee", "x1"], None);
    let db_arg = format!("sqlite:{}", db.display());
    let run = ffu(&[
        "discover",
        "--db",
        &db_arg,
        "--service",
        "net",
        "--service",
        "img",
        "--catalog",
        &catalog,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["net"]["release"], "r3");
    assert_eq!(value["net"]["applied"].as_array().unwrap().len(), 5);
    assert_eq!(value["net"]["pending"], serde_json::json!([]));
    assert_eq!(value["img"]["release"], "r1");

    let text = ffu(&[
        "discover",
        "--db",
        &db_arg,
        "--service",
        "net",
        "--catalog",
        &catalog,
    ]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .starts_with("net: release r3, 5 applied, 0 pending"),
        "{}",
        text.stdout
    );

    let sql = ffu(&["discover", "--sql", "--backend", "mysql"]);
    assert_eq!(sql.code, 0, "{}", sql.stderr);
    assert_eq!(
        sql.stdout,
        "SELECT `alembic_version`.`version_num` FROM `alembic_version`;\nSELECT `migrate_version`.`repository_id`, `migrate_version`.`repository_path`, `migrate_version`.`version` FROM `migrate_version`;\n"
    );

    let unknown = ffu(&[
        "discover",
        "--db",
        &db_arg,
        "--service",
        "nope",
        "--catalog",
        &catalog,
    ]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .starts_with("error: unknown service \"nope\""),
        "{}",
        unknown.stderr
    );
    let bad_db = ffu(&["discover", "--db", "postgres://x", "--service", "net"]);
    assert_eq!(bad_db.code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An unknown service is bad input (exit 2) wherever it is named: `ffu discover
/// --service`, `ffu plan --services` with `--db` (discovery reads it first) and without
/// (the policy names it). The last exited 1, as "no plan possible", before.
#[test]
fn an_unknown_service_is_bad_input_with_or_without_a_database() {
    let dir = temp_dir("discover-unknown-service");
    let catalog = write(&dir, "catalog.yaml", CATALOG);
    let db = dir.join("state.db");
    database(&db, &["ccc"], None);
    let db_arg = format!("sqlite:{}", db.display());
    let expected = "error: unknown service \"nope\": the catalog has no such service\n";
    let runs = [
        ffu(&[
            "discover",
            "--db",
            &db_arg,
            "--service",
            "nope",
            "--catalog",
            &catalog,
        ]),
        ffu(&[
            "plan",
            "--db",
            &db_arg,
            "--to",
            "r3",
            "--catalog",
            &catalog,
            "--services",
            "net,nope",
        ]),
        ffu(&[
            "plan",
            "--from",
            "r1",
            "--to",
            "r3",
            "--catalog",
            &catalog,
            "--services",
            "net,nope",
        ]),
    ];
    for run in runs {
        assert_eq!((run.code, run.stderr.as_str()), (2, expected));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plans_start_where_the_database_stands() {
    let dir = temp_dir("discover-plan");
    let catalog = write(&dir, "catalog.yaml", CATALOG);
    let db = dir.join("state.db");
    // In the middle of r3: ddd (r3 expand) applied, eee (r3 contract) not.
    database(&db, &["ddd", "ccc"], None);
    let db_arg = format!("sqlite:{}", db.display());
    let plan_args = [
        "plan",
        "--db",
        &db_arg,
        "--to",
        "r3",
        "--catalog",
        &catalog,
        "--services",
        "net",
    ];
    let text = ffu(&plan_args);
    assert_eq!(text.code, 0, "{}", text.stderr);
    let head: Vec<&str> = text.stdout.lines().take(3).collect();
    assert_eq!(
        head,
        [
            "Plan r2 -> r3 (offline, catalog alembic-test): 1 hop, 6 steps",
            "Path: r2 -> r3",
            "Already applied (left out): 1 migration: net.alembic.ddd",
        ]
    );

    let json = ffu(&[
        &plan_args[..],
        &["--format", "json", "-o"],
        &[&format!("{}/plan.json", dir.display())],
    ]
    .concat());
    assert_eq!(json.code, 0, "{}", json.stderr);
    let plan_path = dir.join("plan.json");
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    assert_eq!(plan["applied"], serde_json::json!(["net.alembic.ddd"]));
    let migrations: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["migration"].as_str())
        .collect();
    assert_eq!(migrations, ["net.alembic.eee"]);
    let verified = ffu(&[
        "verify",
        &plan_path.display().to_string(),
        "--catalog",
        &catalog,
    ]);
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);

    // Without the applied list the plan misses ddd: V2.
    plan.as_object_mut().unwrap().remove("applied");
    let forgot = write(&dir, "forgot.json", &plan.to_string());
    let run = ffu(&["verify", &forgot, "--catalog", &catalog]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("V2: migration net.alembic.ddd (net r3) is missing"),
        "{}",
        run.stdout
    );

    // Without --services, img (whose database holds nothing) is planned as if at r2,
    // with a warning; a target before the database is a downgrade.
    let all = ffu(&["plan", "--db", &db_arg, "--to", "r3", "--catalog", &catalog]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stderr
            .contains("the databases hold no migration of img: planned as if at r2 already"),
        "{}",
        all.stderr
    );
    let behind = ffu(&[
        "plan",
        "--db",
        &db_arg,
        "--from",
        "r1",
        "--to",
        "r2",
        "--catalog",
        &catalog,
    ]);
    assert_eq!(behind.code, 1, "{}", behind.stderr);
    assert_eq!(
        behind.stderr.lines().next().unwrap(),
        "error: no plan possible: the database already has net.alembic.ddd of r3, after the target r2: downgrades are not supported (database migrations are not reversible)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plans_per_host_leave_out_what_the_databases_hold() {
    let catalog = Catalog::openstack();
    let inventory = ffu_core::Inventory::from_path(
        &catalog,
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inventory-pike.yaml"),
    )
    .unwrap();
    let policy = ffu_core::Policy::default();
    // keystone's queens expand ran before the upgrade stopped.
    let mut state = std::collections::BTreeMap::new();
    state.insert(
        "keystone".to_owned(),
        ffu_core::ServiceState::applied(["keystone.queens.expand"]),
    );
    let plan = catalog
        .plan_request(&PlanRequest::from_inventory(&inventory, "rocky", &policy).with_state(&state))
        .unwrap();
    let full = catalog
        .plan_request(&PlanRequest::from_inventory(&inventory, "rocky", &policy))
        .unwrap();
    assert_eq!(plan.applied, ["keystone.queens.expand"]);
    let migrations = |plan: &ffu_core::Plan| -> Vec<String> {
        plan.steps
            .iter()
            .filter_map(|s| s.migration.clone())
            .collect()
    };
    let mut expected = migrations(&full);
    expected.retain(|m| m != "keystone.queens.expand");
    assert_eq!(migrations(&plan), expected);
    assert!(plan
        .steps
        .iter()
        .any(|s| s.host.as_deref() == Some("cmp-120")));
    assert_eq!(ffu_core::verify(&catalog, &plan).unwrap(), []);
    // A database ahead of the target is refused, per host too.
    state.insert(
        "keystone".to_owned(),
        ffu_core::ServiceState::applied(["keystone.stein.expand"]),
    );
    let err = catalog
        .plan_request(&PlanRequest::from_inventory(&inventory, "rocky", &policy).with_state(&state))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the database already has keystone.stein.expand of stein, after the target rocky: downgrades are not supported (database migrations are not reversible)"
    );
}
