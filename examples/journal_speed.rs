//! Measures the journal and discovery on SQLite.
//!
//! ```text
//! cargo run --release --example journal_speed -- [STEPS] [REVISIONS]
//! ```
//!
//! Prints journal transitions per second (`next` and `done`, each one transaction, on a
//! file database in WAL mode) for a plan of STEPS steps (default 2000), and the time of
//! one discovery on a database whose `alembic_version` maps onto a catalog of REVISIONS
//! alembic revisions (default 300) in two branches, with every revision recorded as a row
//! and with only the two branch heads.

// A measuring tool: its output is the point.
#![allow(clippy::print_stdout)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ffu_core::sql::discover_sqlite;
use ffu_core::{Catalog, Journal, Plan, Policy, Step, StepKind};

fn arg(index: usize, default: usize) -> usize {
    std::env::args()
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steps = arg(1, 2000);
    let revisions = arg(2, 300);
    let dir = std::env::temp_dir().join(format!("ffu-journal-speed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // Journal transitions.
    let plan = Plan::new(
        "speed",
        "a",
        "b",
        Policy::default(),
        vec![],
        vec![],
        (0..steps)
            .map(|i| Step::new(format!("h0.step-{i}"), 0, StepKind::Migrate, String::new()))
            .collect(),
    );
    let start = Instant::now();
    let mut journal = Journal::open_sqlite(&dir.join("journal.db"), &plan)?;
    let opened = start.elapsed();
    let start = Instant::now();
    let mut transitions = 0u32;
    while let Some(step) = journal.next("speed", Duration::from_secs(60))? {
        journal.done(&step)?;
        transitions += 2;
    }
    let elapsed = start.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let rate = f64::from(transitions) / elapsed.as_secs_f64();
    println!(
        "journal: {steps} steps recorded in {:.1} ms; {transitions} transitions in {:.1} ms: {rate:.0} transitions/s",
        opened.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3,
    );

    // Discovery.
    let mut yaml = String::from("format: ffu-catalog/1\nname: speed\nreleases:\n");
    let releases = 10;
    for r in 0..releases {
        writeln!(yaml, "  - {{name: r{r}}}")?;
    }
    yaml.push_str("services:\n  - name: net\n    components:\n      - {name: net-server, role: control}\nmigrations:\n");
    let per_release = revisions.div_ceil(releases);
    let mut last = [None::<String>, None::<String>];
    for i in 0..revisions {
        let branch = i % 2;
        let kind = if branch == 0 { "expand" } else { "contract" };
        let release = (i / per_release).min(releases - 1);
        let requires = last[branch]
            .as_ref()
            .map_or_else(|| "[]".to_owned(), |p| format!("[net.alembic.{p}]"));
        let rev = format!("{i:012x}");
        writeln!(
            yaml,
            "  - {{id: net.alembic.{rev}, service: net, release: r{release}, kind: {kind}, command: \"net-db upgrade\", requires: {requires}}}"
        )?;
        last[branch] = Some(rev);
    }
    let catalog = Catalog::from_yaml_str(&yaml, "speed.yaml")?;
    let services = vec!["net".to_owned()];
    for (label, rows) in [
        (
            "every revision a row",
            (0..revisions)
                .map(|i| format!("{i:012x}"))
                .collect::<Vec<_>>(),
        ),
        ("two branch heads", last.iter().flatten().cloned().collect()),
    ] {
        let db = dir.join(format!("discover-{}.db", rows.len()));
        let _ = std::fs::remove_file(&db);
        let conn = rusqlite::Connection::open(&db)?;
        conn.execute_batch("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")?;
        for row in &rows {
            conn.execute("INSERT INTO alembic_version VALUES (?1)", [row])?;
        }
        drop(conn);
        let runs = 50;
        let start = Instant::now();
        let mut applied = 0;
        for _ in 0..runs {
            let state = discover_sqlite(&db, &catalog, &services)?;
            applied = state["net"].applied.len();
        }
        let each = start.elapsed() / runs;
        println!(
            "discovery: {revisions} revisions, {} rows ({label}): {applied} applied, {:.3} ms per discovery",
            rows.len(),
            each.as_secs_f64() * 1e3
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
