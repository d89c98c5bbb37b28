//! Criterion benchmarks of the database side on SQLite:
//!
//! - `discover/neutron_heads/138` and `discover/neutron_every_row/138`:
//!   [`discover_sqlite`] of a database holding the full alembic history of a real neutron
//!   release (`tests/data/alembic/neutron`, 138 revisions, imported with
//!   [`import_alembic`] into a catalog, as `tests/alembic.rs` does), with `alembic_version`
//!   holding the two newest heads (what alembic leaves) or, for comparison, one row per
//!   revision; throughput in revisions mapped per second;
//! - `journal/next_done/N`: a full `next` + `done` loop over a fresh journal file (WAL,
//!   each transition one transaction) for the embedded OpenStack plan newton -> 2026.2
//!   (719 steps) and a synthetic plan of 2,000 steps; throughput in transitions per
//!   second (two per step);
//! - `journal/open/N`: opening a fresh journal, which records the plan's N steps.
//!
//! Run: `cargo bench --bench journal` (`-- --quick` for a fast look, well under a minute).

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use ffu_core::sql::discover_sqlite;
use ffu_core::{import_alembic, AlembicLayout, Catalog, Journal, Plan, Policy, Step, StepKind};

/// The release directories of neutron 25.0.0's migrations, oldest first.
const NEUTRON_RELEASES: [&str; 19] = [
    "liberty", "mitaka", "newton", "ocata", "pike", "queens", "rocky", "stein", "train", "ussuri",
    "victoria", "wallaby", "xena", "yoga", "zed", "2023.1", "2023.2", "2024.1", "2024.2",
];

/// A scratch directory of this bench, made anew.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-journal-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// The neutron history as a catalog: the imported fragment, included by a catalog that
/// declares the releases and the service.
fn neutron_catalog(dir: &Path) -> Catalog {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/alembic/neutron");
    let import = import_alembic(&data, "neutron", &AlembicLayout::ReleaseDirs).expect("import");
    std::fs::write(dir.join("neutron.yaml"), import.to_yaml()).expect("fragment");
    let mut catalog =
        String::from("format: ffu-catalog/1\nname: neutron\ninclude: [neutron.yaml]\nreleases:\n");
    for release in NEUTRON_RELEASES {
        writeln!(catalog, "  - name: \"{release}\"").expect("write to a String");
    }
    catalog.push_str(
        "services:\n  - name: neutron\n    components:\n      - {name: neutron-server, role: control}\n",
    );
    std::fs::write(dir.join("catalog.yaml"), catalog).expect("catalog");
    Catalog::from_path(dir.join("catalog.yaml")).expect("neutron catalog")
}

/// A SQLite database whose `alembic_version` holds these revisions.
fn alembic_database(path: &Path, revisions: &[String]) {
    let _ = std::fs::remove_file(path);
    let conn = rusqlite::Connection::open(path).expect("database");
    conn.execute_batch(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    )
    .expect("table");
    for revision in revisions {
        conn.execute("INSERT INTO alembic_version VALUES (?1)", [revision])
            .expect("row");
    }
}

fn discovery(c: &mut Criterion) {
    let dir = scratch("discover");
    let catalog = neutron_catalog(&dir);
    let migrations = catalog.migrations();
    let revision = |id: &str| id.strip_prefix("neutron.alembic.").unwrap().to_owned();
    // The heads: revisions no other revision requires (the expand head of 2024.2 and the
    // contract head, which ends at newton).
    let mut required = vec![false; migrations.len()];
    for migration in migrations {
        for req in &migration.requires {
            required[req.index()] = true;
        }
    }
    let heads: Vec<String> = migrations
        .iter()
        .zip(&required)
        .filter(|(_, &req)| !req)
        .map(|(m, _)| revision(&m.id))
        .collect();
    assert_eq!(heads.len(), 2, "two branch heads: {heads:?}");
    let every: Vec<String> = migrations.iter().map(|m| revision(&m.id)).collect();
    let services = vec!["neutron".to_owned()];

    let mut group = c.benchmark_group("discover");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(migrations.len() as u64));
    for (label, rows) in [("neutron_heads", &heads), ("neutron_every_row", &every)] {
        let db = dir.join(format!("{label}.db"));
        alembic_database(&db, rows);
        let state = discover_sqlite(&db, &catalog, &services).expect("discover");
        assert_eq!(state["neutron"].release.as_deref(), Some("2024.2"));
        assert_eq!(state["neutron"].applied.len(), migrations.len());
        group.bench_function(BenchmarkId::new(label, migrations.len()), |b| {
            b.iter(|| {
                discover_sqlite(black_box(&db), &catalog, &services)
                    .expect("discover")
                    .len()
            });
        });
    }
    group.finish();
}

/// A plan of `steps` migrate steps.
fn synthetic_plan(steps: usize) -> Plan {
    Plan::new(
        "speed",
        "a",
        "b",
        Policy::default(),
        vec![],
        vec![],
        (0..steps)
            .map(|i| Step::new(format!("h0.step-{i}"), 0, StepKind::Migrate, String::new()))
            .collect(),
    )
}

/// A fresh journal file for `plan` at `path` (any earlier one and its WAL removed).
fn fresh_journal(path: &Path, plan: &Plan) -> Journal {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Journal::open_sqlite(path, plan).expect("journal")
}

/// Runs every step: `next` then `done` until `next` gives none; returns the transitions.
fn run_all(journal: &mut Journal) -> u64 {
    let mut transitions = 0;
    while let Some(step) = journal
        .next("bench", Duration::from_secs(3600))
        .expect("next")
    {
        journal.done(&step).expect("done");
        transitions += 2;
    }
    transitions
}

fn journal(c: &mut Criterion) {
    let dir = scratch("journal");
    let openstack = Catalog::openstack()
        .plan("newton", "2026.2", &Policy::default())
        .expect("newton -> 2026.2 plan");
    let plans = [
        ("openstack", openstack),
        ("synthetic", synthetic_plan(2_000)),
    ];

    let mut group = c.benchmark_group("journal");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for (label, plan) in &plans {
        let steps = plan.steps.len();
        let path = dir.join(format!("{label}.db"));
        // Check once that a run gives every step.
        let mut check = fresh_journal(&path, plan);
        assert_eq!(run_all(&mut check), 2 * steps as u64);
        assert_eq!(check.status().expect("status").done, steps);
        drop(check);

        group.throughput(Throughput::Elements(2 * steps as u64));
        group.bench_function(BenchmarkId::new(format!("next_done_{label}"), steps), |b| {
            b.iter_batched(
                || fresh_journal(&path, plan),
                |mut journal| {
                    run_all(&mut journal);
                    journal
                },
                BatchSize::PerIteration,
            );
        });
        group.throughput(Throughput::Elements(steps as u64));
        group.bench_function(BenchmarkId::new(format!("open_{label}"), steps), |b| {
            b.iter_batched(
                || {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                    }
                },
                |()| Journal::open_sqlite(black_box(&path), plan).expect("journal"),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(journal_benches, discovery, journal);
criterion_main!(journal_benches);
