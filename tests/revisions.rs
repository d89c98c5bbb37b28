//! Per-revision histories (DESIGN §12): a catalog that lists a service's alembic revisions
//! one by one plans one step per service, release and kind carrying its `revisions`;
//! discovery counts revisions, so a database stopped partway through a release has exactly
//! its missing revisions pending; `verify` (V2) holds a step to its revisions.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use common::{ffu, temp_dir, write};
use ffu_core::sql::discover_sqlite;
use ffu_core::{verify, Catalog, PlanRequest, Policy};

/// `ident` runs `ident-manage db_sync --expand` and `--contract` each release; its
/// revisions: r1 expand e1, contract c1; r2 expand e2a -> e2b, contract c2; r3 expand e3.
/// The history covers r1..r3, so r3's contract (no revision) applies none.
const CATALOG: &str = r#"
format: ffu-catalog/1
name: revisions
releases: [{name: r0}, {name: r1}, {name: r2}, {name: r3}, {name: r4}]
services:
  - name: ident
    components: [{name: ident-api, role: control}]
histories:
  - {service: ident, from: r1, to: r3, sources: [ident-1.0.0-py3-none-any.whl]}
migrations:
  - {id: ident.r0.migrate, service: ident, release: r0, kind: migrate, command: "ident-manage db_sync"}
  - {id: ident.r1.expand, service: ident, release: r1, kind: expand, command: "ident-manage db_sync --expand"}
  - {id: ident.r1.contract, service: ident, release: r1, kind: contract, command: "ident-manage db_sync --contract", requires: [ident.r1.expand]}
  - {id: ident.r2.expand, service: ident, release: r2, kind: expand, command: "ident-manage db_sync --expand"}
  - {id: ident.r2.contract, service: ident, release: r2, kind: contract, command: "ident-manage db_sync --contract", requires: [ident.r2.expand]}
  - {id: ident.r3.expand, service: ident, release: r3, kind: expand, command: "ident-manage db_sync --expand"}
  - {id: ident.r3.contract, service: ident, release: r3, kind: contract, command: "ident-manage db_sync --contract", requires: [ident.r3.expand]}
  - {id: ident.r4.expand, service: ident, release: r4, kind: expand, command: "ident-manage db_sync --expand"}
  - {id: ident.alembic.e1, revision: e1, service: ident, release: r1, kind: expand, command: "ident-manage db_sync --expand", command_to_revision: "alembic upgrade {revision}"}
  - {id: ident.alembic.c1, revision: c1, service: ident, release: r1, kind: contract, command: "ident-manage db_sync --contract", requires: [ident.alembic.e1]}
  - {id: ident.alembic.e2a, revision: e2a, service: ident, release: r2, kind: expand, command: "ident-manage db_sync --expand", requires: [ident.alembic.e1]}
  - {id: ident.alembic.e2b, revision: e2b, service: ident, release: r2, kind: expand, command: "ident-manage db_sync --expand", requires: [ident.alembic.e2a]}
  - {id: ident.alembic.c2, revision: c2, service: ident, release: r2, kind: contract, command: "ident-manage db_sync --contract", requires: [ident.alembic.c1, ident.alembic.e2b]}
  - {id: ident.alembic.e3, revision: e3, service: ident, release: r3, kind: expand, command: "ident-manage db_sync --expand", requires: [ident.alembic.e2b]}
"#;

fn catalog() -> Catalog {
    Catalog::from_yaml_str(CATALOG, "revisions.yaml").unwrap()
}

fn database(path: &Path, heads: &[&str]) {
    let _ = std::fs::remove_file(path);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    )
    .unwrap();
    for head in heads {
        conn.execute("INSERT INTO alembic_version VALUES (?1)", [head])
            .unwrap();
    }
}

fn ident() -> Vec<String> {
    vec!["ident".to_owned()]
}

#[test]
fn revisions_fold_into_the_projects_steps() {
    let catalog = catalog();
    // The per-revision migrations folded into the hand-written steps: no migration of its own.
    assert!(catalog.migration_id("ident.alembic.e2a").is_none());
    let names = |id: &str| -> Vec<String> {
        let m = catalog.migration(catalog.migration_id(id).unwrap());
        m.revision_names().map(str::to_owned).collect()
    };
    assert_eq!(names("ident.r2.expand"), ["e2a", "e2b"]);
    assert_eq!(names("ident.r2.contract"), ["c2"]);
    assert!(names("ident.r3.contract").is_empty());
    let r1 = catalog.migration(catalog.migration_id("ident.r1.expand").unwrap());
    assert_eq!(
        r1.command_to_revision.as_deref(),
        Some("alembic upgrade {revision}")
    );
    let history = catalog
        .history_of(catalog.service_id("ident").unwrap())
        .unwrap();
    assert_eq!(history.sources, ["ident-1.0.0-py3-none-any.whl"]);

    let policy = Policy::default();
    let plan = catalog.plan("r1", "r3", &policy).unwrap();
    let step = plan
        .steps
        .iter()
        .find(|s| s.migration.as_deref() == Some("ident.r2.expand"))
        .unwrap();
    assert_eq!(
        step.command.as_deref(),
        Some("ident-manage db_sync --expand")
    );
    assert_eq!(step.revisions, ["e2a", "e2b"]);
    assert!(verify(&catalog, &plan).unwrap().is_empty());
    // The compact writer writes the same document as the built plan.
    let shared = Arc::new(catalog.clone());
    let compact = shared
        .plan_compact(&PlanRequest::from_release("r1", "r3", &policy))
        .unwrap();
    assert_eq!(compact.to_json(), plan.to_json());

    // V2 counts revisions: a step that leaves one out is refused.
    let mut wrong = plan.clone();
    let index = wrong
        .steps
        .iter()
        .position(|s| s.migration.as_deref() == Some("ident.r2.expand"))
        .unwrap();
    wrong.steps[index].revisions.remove(0);
    let messages: Vec<String> = verify(&catalog, &wrong)
        .unwrap()
        .into_iter()
        .map(|v| v.message)
        .collect();
    assert_eq!(
        messages,
        [format!(
            "step {} runs ident.r2.expand but misses revisions e2a",
            wrong.steps[index].id
        )]
    );
}

#[test]
fn discovery_counts_revisions() {
    let dir = temp_dir("revisions-discover");
    let catalog = catalog();
    let db = dir.join("ident.db");

    // Both branch heads of r2: exactly r2 (r3 brings e3).
    database(&db, &["e2b", "c2"]);
    let state = &discover_sqlite(&db, &catalog, &ident()).unwrap()["ident"];
    assert_eq!(state.release.as_deref(), Some("r2"));
    assert_eq!(
        state.applied,
        [
            "ident.r0.migrate",
            "ident.r1.expand",
            "ident.r1.contract",
            "ident.r2.expand",
            "ident.r2.contract"
        ]
    );
    assert_eq!(
        state.pending,
        ["ident.r3.expand", "ident.r3.contract", "ident.r4.expand"]
    );
    assert_eq!(state.pending_revisions, ["e3"]);
    assert!(state.applied_revisions.is_empty());

    // The whole history: r3 (its contract applies no revision), not r4 (after the history).
    database(&db, &["e3", "c2"]);
    let state = &discover_sqlite(&db, &catalog, &ident()).unwrap()["ident"];
    assert_eq!(state.release.as_deref(), Some("r3"));
    assert_eq!(state.pending, ["ident.r4.expand"]);

    // Stopped partway through r2's expand: r1, with r2's missing revisions pending.
    database(&db, &["e2a", "c1"]);
    let state = discover_sqlite(&db, &catalog, &ident()).unwrap();
    let ident_state = &state["ident"];
    assert_eq!(ident_state.release.as_deref(), Some("r1"));
    assert_eq!(ident_state.applied_revisions, ["e2a"]);
    assert_eq!(ident_state.pending_revisions, ["e2b", "c2", "e3"]);

    // A plan from there runs r2's expand once, for its missing revision only.
    let policy = Policy::default();
    let plan = catalog
        .plan_request(&PlanRequest::from_state(&state, "r3", &policy))
        .unwrap();
    assert_eq!(plan.from, "r1");
    assert_eq!(plan.applied_revisions, ["e2a"]);
    let step = plan
        .steps
        .iter()
        .find(|s| s.migration.as_deref() == Some("ident.r2.expand"))
        .unwrap();
    assert_eq!(step.revisions, ["e2b"]);
    assert!(verify(&catalog, &plan).unwrap().is_empty());
    let shared = Arc::new(catalog.clone());
    let compact = shared
        .plan_compact(&PlanRequest::from_state(&state, "r3", &policy))
        .unwrap();
    assert_eq!(compact.to_json(), plan.to_json());

    // The CLI says the same, in JSON.
    let catalog_file = write(&dir, "catalog.yaml", CATALOG);
    let run = ffu(&[
        "discover",
        "--db",
        &format!("sqlite:{}", db.display()),
        "--service",
        "ident",
        "--catalog",
        &catalog_file,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: BTreeMap<String, serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["ident"]["pending_revisions"],
        serde_json::json!(["e2b", "c2", "e3"])
    );
}

#[test]
fn bad_revisions_are_refused_with_their_place() {
    let twice = CATALOG.replace("revision: e2b,", "revision: e2a,");
    let err = Catalog::from_yaml_str(&twice, "revisions.yaml").unwrap_err();
    assert!(
        err.to_string()
            .contains("revision e2a of service ident is listed twice"),
        "{err}"
    );
    let unknown = CATALOG.replace("{service: ident, from: r1", "{service: idnet, from: r1");
    let err = Catalog::from_yaml_str(&unknown, "revisions.yaml").unwrap_err();
    assert!(
        err.to_string().contains("unknown service \"idnet\""),
        "{err}"
    );
}

/// The embedded catalog's revisions of `service` up to and including `release`, and their
/// heads (those no other of them requires): what `alembic_version` holds in a database
/// made by that release's code.
fn heads_at(catalog: &Catalog, service: &str, release: &str) -> Vec<String> {
    let service = catalog.service_id(service).unwrap();
    let release = catalog.release_id(release).unwrap();
    let revisions: Vec<&ffu_core::Revision> = catalog
        .migrations_of(service)
        .iter()
        .map(|&m| catalog.migration(m))
        .filter(|m| m.release <= release)
        .flat_map(|m| m.revisions.iter())
        .collect();
    revisions
        .iter()
        .filter(|r| !revisions.iter().any(|o| o.requires.contains(&r.name)))
        .map(|r| r.name.clone())
        .collect()
}

/// Real `alembic_version` values, from the projects' wheels: `ffu discover` on a database
/// made by release R's code says R, exactly where a later release changes the schema (and
/// otherwise the newest release with the same schema, which no database can tell apart).
#[test]
fn the_embedded_catalog_reads_real_heads_exactly() {
    let dir = temp_dir("revisions-real");
    let catalog = Catalog::openstack();
    let db = dir.join("real.db");

    // keystone 27.0.0 (2025.1): EXPAND_HEAD and CONTRACT_HEAD of its wheel, the schema of
    // 2024.1 (47147121), which 2024.2 and 2025.1 leave as it is and 2025.2 changes
    // (e8725d6fa226): 2024.1 to 2025.1, and discovery names the oldest.
    database(&db, &["47147121", "c88cdce8f248"]);
    let state = &discover_sqlite(&db, &catalog, &["keystone".to_owned()]).unwrap()["keystone"];
    assert_eq!(state.release.as_deref(), Some("2024.1"));
    assert_eq!(state.same_schema_until.as_deref(), Some("2025.1"));
    assert!(state.applied_revisions.is_empty());
    assert_eq!(state.pending_revisions[0], "e8725d6fa226");
    assert_eq!(state.pending[0], "keystone.2024.2.expand");

    // nova 2025.1: its main database at 2903cd72dc14 (what the harness's nova-manage db sync
    // of 2025.1 leaves) and its API database, read together.
    let api = dir.join("nova_api.db");
    database(
        &api,
        &heads_at(&catalog, "nova", "2025.1")
            .iter()
            .map(String::as_str)
            .filter(|h| *h != "2903cd72dc14")
            .collect::<Vec<_>>(),
    );
    database(&db, &["2903cd72dc14"]);
    let nova = ["nova".to_owned()];
    let state =
        &ffu_core::sql::discover_sqlite_many(&[&api, &db], &catalog, &nova).unwrap()["nova"];
    // Exactly 2025.1, which brings 2903cd72dc14; 2025.2 and 2026.1 bring nova no revision.
    assert_eq!(state.release.as_deref(), Some("2025.1"));
    assert_eq!(state.same_schema_until.as_deref(), Some("2026.1"));

    // Stopped partway through 2025.1's nova-manage db sync: 2024.1, the last schema complete
    // (2024.2 has the same), with d60bddf7a903 applied and 2903cd72dc14 pending.
    database(&db, &["d60bddf7a903"]);
    let state = ffu_core::sql::discover_sqlite_many(&[&api, &db], &catalog, &nova).unwrap();
    let nova_state = &state["nova"];
    assert_eq!(nova_state.release.as_deref(), Some("2024.1"));
    assert_eq!(nova_state.same_schema_until.as_deref(), Some("2024.2"));
    assert_eq!(nova_state.applied_revisions, ["d60bddf7a903"]);
    assert_eq!(nova_state.pending_revisions[0], "2903cd72dc14");
    // The plan from there runs 2025.1's db sync once, for the missing revision only.
    let policy = Policy::default();
    let plan = catalog
        .plan_request(&PlanRequest::from_state(&state, "2025.1", &policy))
        .unwrap();
    let step = plan
        .steps
        .iter()
        .find(|s| s.migration.as_deref() == Some("nova.2025.1.db-sync"))
        .unwrap();
    assert_eq!(step.command.as_deref(), Some("nova-manage db sync"));
    assert_eq!(step.revisions, ["2903cd72dc14"]);
    assert!(verify(&catalog, &plan).unwrap().is_empty());

    // Every release of every history: the heads of R's revisions read as R where R brings a
    // revision, else as the last release before it that does; R lies within release ..=
    // same_schema_until.
    let names: Vec<&str> = catalog.releases().iter().map(|r| r.name.as_str()).collect();
    for service in [
        "keystone",
        "cinder",
        "placement",
        "neutron",
        "ironic",
        "heat",
        "nova",
    ] {
        let id = catalog.service_id(service).unwrap();
        let history = catalog.history_of(id).unwrap();
        let brings = |release: usize| {
            catalog.migrations_of(id).iter().any(|&m| {
                let m = catalog.migration(m);
                m.release.index() == release && !m.revisions.is_empty()
            })
        };
        for r in history.from.index()..=history.to.index() {
            let heads = heads_at(&catalog, service, names[r]);
            if heads.is_empty() {
                continue;
            }
            database(&db, &heads.iter().map(String::as_str).collect::<Vec<_>>());
            let state = &discover_sqlite(&db, &catalog, &[service.to_owned()]).unwrap()[service];
            let mut expected = r;
            while expected > history.from.index() && !brings(expected) {
                expected -= 1;
            }
            assert_eq!(
                state.release.as_deref(),
                Some(names[expected]),
                "{service} at {} (heads {heads:?})",
                names[r]
            );
            let until = state
                .same_schema_until
                .as_deref()
                .unwrap_or(names[expected]);
            let until = names.iter().position(|n| *n == until).unwrap();
            assert!(
                r <= until,
                "{service} at {}: until {}",
                names[r],
                names[until]
            );
        }
    }
}

/// Without a step of their own in the catalog, a service's revisions of one release, kind
/// and command fold into the first of them; a requirement naming a later one names it then.
#[test]
fn revisions_without_a_step_fold_into_the_first() {
    let text = r#"
format: ffu-catalog/1
name: bare
releases: [{name: r1}, {name: r2}]
services:
  - name: net
    components: [{name: net-server, role: control}]
  - name: img
    components: [{name: img-api, role: control}]
migrations:
  - {id: net.alembic.a, revision: a, service: net, release: r2, kind: expand, command: "net-db upgrade --expand", duration_s: 2}
  - {id: net.alembic.b, revision: b, service: net, release: r2, kind: expand, command: "net-db upgrade --expand", requires: [net.alembic.a], duration_s: 3}
  - {id: net.alembic.c, revision: c, service: net, release: r2, kind: contract, command: "net-db upgrade --contract", requires: [net.alembic.b]}
  - {id: img.r2.sync, service: img, release: r2, kind: migrate, command: "img-manage db sync", requires: [net.alembic.b]}
"#;
    let catalog = Catalog::from_yaml_str(text, "bare.yaml").unwrap();
    let ids: Vec<&str> = catalog.migrations().iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["net.alembic.a", "net.alembic.c", "img.r2.sync"]);
    let expand = catalog.migration(catalog.migration_id("net.alembic.a").unwrap());
    assert_eq!(expand.revision_names().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(expand.duration_s, Some(5.0));
    let required = |id: &str| -> Vec<String> {
        let m = catalog.migration(catalog.migration_id(id).unwrap());
        m.requires
            .iter()
            .map(|&r| catalog.migration(r).id.clone())
            .collect()
    };
    assert_eq!(required("net.alembic.c"), ["net.alembic.a"]);
    assert_eq!(required("img.r2.sync"), ["net.alembic.a"]);
    let contract = catalog.migration(catalog.migration_id("net.alembic.c").unwrap());
    assert_eq!(contract.revisions[0].requires, ["b"]);
    let plan = catalog.plan("r1", "r2", &Policy::default()).unwrap();
    assert!(verify(&catalog, &plan).unwrap().is_empty());
}
