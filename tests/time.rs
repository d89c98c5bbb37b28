//! Time (DESIGN §10): step estimates and `ffu estimate`.

mod common;

use common::{data, ffu, plan_json, temp_dir};
use ffu_core::estimate::{default_seconds, estimate};
use ffu_core::{Catalog, Plan, StepKind};

/// The small catalog with a catalog figure on every `compute-manage db sync`.
fn timed_catalog(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(data("small.yaml"))
        .unwrap()
        .replace(
            r#"command: "compute-manage db sync"}"#,
            r#"command: "compute-manage db sync", duration_s: 1799.5}"#,
        );
    let path = dir.join("timed.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_step_has_an_estimate_from_the_catalog_or_its_kind() {
    let dir = temp_dir("time-steps");
    let catalog_path = timed_catalog(&dir);
    let catalog = Catalog::from_path(&catalog_path).unwrap();
    let plan = plan_json(&[
        "--catalog",
        catalog_path.to_str().unwrap(),
        "--from",
        "r1",
        "--to",
        "r4",
    ]);
    for step in &plan.steps {
        let expected = if step.migration.as_deref().is_some_and(|id| {
            matches!(
                id,
                "compute.r2.sync" | "compute.r3.sync" | "compute.r4.sync"
            )
        }) {
            1800 // 1799.5 rounded up
        } else {
            default_seconds(step.kind)
        };
        assert_eq!(step.estimate_s, Some(expected), "{}", step.id);
    }
    // The library's plan has the same figures as the document.
    let library = catalog
        .plan("r1", "r4", &ffu_core::Policy::default())
        .unwrap();
    assert_eq!(library, plan);
}

#[test]
fn estimate_text_says_which_figures_are_defaults() {
    let dir = temp_dir("time-text");
    let catalog_path = timed_catalog(&dir);
    let catalog = catalog_path.to_str().unwrap();
    let run = ffu(&[
        "plan",
        "--catalog",
        catalog,
        "--from",
        "r1",
        "--to",
        "r2",
        "--format",
        "json",
        "-o",
        dir.join("plan.json").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = dir.join("plan.json");
    let run = ffu(&["estimate", "--catalog", catalog, plan.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = format!(
        "estimate of {}: r1 -> r2, offline, 17 steps
total: 1h 05m (3915 s)
control plane down: 57m 40s (3460 s)
downtime per service:
  compute: 57m 40s (3460 s)
  ident: 57m 15s (3435 s)
per hop:
  hop 0 r1 -> r2: 1h 05m (3915 s)
    stop       30s (30 s)
    backup     20m 00s (1200 s)
    install    4m 00s (240 s)
    migrations 32m 00s (1920 s)
    start      1m 45s (105 s)
    converge   7m 00s (420 s)
figures: 1 steps from the catalog's duration_s, 16 from per-kind defaults, 0 from the plan
  precheck  60 s: default
  stop      10 s: default
  backup    600 s: default
  install   120 s: measured: 1 to 3 min a release, pip install with a warm cache (research/real-openstack-on-this-machine.md)
  expand    60 s: default
  contract  60 s: default
  data      300 s: default
  start     15 s: default
  postcheck 60 s: default
figures marked \"default\" are guesses: give duration_s in the catalog for better ones
",
        plan.display()
    );
    assert_eq!(run.stdout, expected);

    let run = ffu(&[
        "estimate",
        "--catalog",
        catalog,
        "--format",
        "json",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["total_s"], 3915);
    assert_eq!(json["downtime_s"]["compute"], 3460);
    assert_eq!(json["hops"][0]["phases"][3]["phase"], "migrations");
    assert_eq!(json["figures"]["catalog"], 1);
}

#[test]
fn estimate_of_a_bad_plan_is_exit_2_naming_the_file() {
    let dir = temp_dir("time-bad");
    let path = dir.join("broken.json");
    std::fs::write(&path, "{\"format\": \"ffu-plan/1\"").unwrap();
    let run = ffu(&["estimate", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
    let run = ffu(&["estimate", dir.join("missing.json").to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
}

/// The invariants `estimate` promises, on one plan.
fn check_invariants(plan: &Plan, catalog: &Catalog) {
    let time = estimate(plan, catalog);
    let figures: Vec<u64> = plan.steps.iter().map(|s| s.estimate_s.unwrap()).collect();
    let hops: u64 = time.hops.iter().map(|hop| hop.estimate_s).sum();
    assert_eq!(time.total_s, hops, "hops sum to the total");
    for hop in &time.hops {
        let phases: u64 = hop.phases.iter().map(|phase| phase.estimate_s).sum();
        assert_eq!(hop.estimate_s, phases, "phases sum to hop {}", hop.index);
    }
    assert!(
        time.total_s <= figures.iter().sum::<u64>(),
        "parallel batches never add time"
    );
    assert!(time.total_s >= figures.iter().copied().max().unwrap_or(0));
    assert!(time.control_plane_downtime_s <= time.total_s);
    for (service, seconds) in &time.downtime_s {
        assert!(*seconds <= time.control_plane_downtime_s, "{service}");
    }
    assert_eq!(
        time.figures.catalog + time.figures.default + time.figures.plan,
        plan.steps.len()
    );
    // Determinism.
    assert_eq!(estimate(plan, catalog), time);
}

#[test]
fn estimates_of_real_plans_keep_their_invariants() {
    let catalog = Catalog::openstack();
    let inventory_newton = data("inventory-newton.yaml");
    let inventory_pike = data("inventory-pike.yaml");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--from", "newton", "--to", "2026.2"],
        vec!["--from", "2023.1", "--to", "2026.1", "--skip-level"],
        vec!["--from", "2024.1", "--to", "2024.2", "--mode", "rolling"],
        vec![
            "--inventory",
            inventory_newton.to_str().unwrap(),
            "--to",
            "queens",
        ],
        vec![
            "--inventory",
            inventory_pike.to_str().unwrap(),
            "--to",
            "rocky",
            "--mode",
            "rolling",
            "--max-unavailable",
            "10%",
        ],
    ];
    for args in cases {
        let plan = plan_json(&args);
        check_invariants(&plan, &catalog);
        let time = estimate(&plan, &catalog);
        if plan.policy.mode == ffu_core::Mode::Offline {
            assert!(time.downtime_s.contains_key("nova"), "{args:?}");
        }
    }
}

#[test]
fn a_batch_takes_as_long_as_its_slowest_host() {
    let inventory = data("inventory-pike.yaml");
    let plan = plan_json(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "--to",
        "rocky",
        "--mode",
        "rolling",
        "--max-unavailable",
        "10%",
    ]);
    let catalog = Catalog::openstack();
    let time = estimate(&plan, &catalog);
    let sequential: u64 = plan.steps.iter().map(|s| s.estimate_s.unwrap()).sum();
    // 120 computes in batches of 12: the batches' steps run in parallel.
    assert!(
        time.total_s * 2 < sequential,
        "{} vs {sequential}",
        time.total_s
    );
}

#[test]
fn an_offline_stretch_that_does_not_fit_is_exit_1_saying_what_it_needs() {
    let run = ffu(&["plan", "--from", "newton", "--to", "pike", "--window", "4h"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        run.stderr,
        "error: no plan fits the window: the stretch from h0.stop.nova-compute to h1.postcheck.nova cannot be split (the cloud does not serve in between) and needs 4h 03m (14585 s), more than the window of 4h 00m (14400 s); costliest hops: ocata -> pike 2h 09m, newton -> ocata 1h 53m; costliest services: nova 48m 20s, cinder 39m 40s, keystone 33m 00s\n"
    );
    let run = ffu(&[
        "plan", "--from", "newton", "--to", "pike", "--window", "4 hours",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--window \"4 hours\""),
        "{}",
        run.stderr
    );
}

#[test]
fn an_offline_plan_that_fits_is_one_window_ending_where_it_serves() {
    let plan = plan_json(&["--from", "newton", "--to", "pike", "--window", "30h"]);
    assert_eq!(plan.windows.len(), 1);
    assert_eq!(plan.window_s, Some(108_000));
    let window = &plan.windows[0];
    assert_eq!(window.first_step, plan.steps[0].id);
    assert_eq!(window.last_step, plan.steps.last().unwrap().id);
    assert!(window.state.starts_with("serving: "), "{}", window.state);
    let catalog = Catalog::openstack();
    assert_eq!(window.estimate_s, estimate(&plan, &catalog).total_s);
    assert!(ffu_core::verify(&catalog, &plan).unwrap().is_empty());
}

#[test]
fn rolling_windows_end_at_safe_points_within_their_limits_and_mutations_fail_v17() {
    let inventory = data("inventory-pike.yaml");
    let inventory = inventory.to_str().unwrap();
    let args = [
        "--inventory",
        inventory,
        "--to",
        "rocky",
        "--mode",
        "rolling",
        "--max-unavailable",
        "10%",
        "--window",
        "2h",
    ];
    let plan = plan_json(&args);
    let catalog = Catalog::openstack();
    assert!(plan.windows.len() > 1);
    for window in &plan.windows {
        assert!(window.estimate_s <= 7200, "{window:?}");
        assert!(window.state.starts_with("serving: "));
    }
    let total: u64 = plan.windows.iter().map(|w| w.estimate_s).sum();
    assert_eq!(total, estimate(&plan, &catalog).total_s);
    assert!(ffu_core::verify(&catalog, &plan).unwrap().is_empty());

    // A window that ends mid-way through a component's restart is unsafe.
    let mut unsafe_end = plan.clone();
    let stop = unsafe_end
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Stop && s.batch.is_none())
        .unwrap();
    unsafe_end.windows[0].last_step = unsafe_end.steps[stop].id.clone();
    unsafe_end.windows[1].first_step = unsafe_end.steps[stop + 1].id.clone();
    let rules: Vec<_> = ffu_core::verify(&catalog, &unsafe_end)
        .unwrap()
        .into_iter()
        .map(|v| v.rule)
        .collect();
    assert!(rules.contains(&"V17"), "{rules:?}");
    // A gap between windows.
    let mut gap = plan.clone();
    gap.windows.remove(1);
    assert!(ffu_core::verify(&catalog, &gap)
        .unwrap()
        .iter()
        .any(|v| v.rule == "V17"));
    // Over the limit.
    let mut over = plan.clone();
    over.windows[0].estimate_s = 7201;
    assert!(ffu_core::verify(&catalog, &over)
        .unwrap()
        .iter()
        .any(|v| v.rule == "V17"));

    // The text has a header per window.
    let mut text_args = vec!["plan"];
    text_args.extend_from_slice(&args);
    let run = ffu(&text_args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.matches("\n=== Window ").count(),
        plan.windows.len()
    );
    assert!(run
        .stdout
        .contains(&format!("=== Window 1 of {}: ", plan.windows.len())));

    // Too few hosts a window: the nova part touches every host before it serves again.
    let mut few = text_args.clone();
    few.extend_from_slice(&["--max-hosts-per-window", "40"]);
    let run = ffu(&few);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("hosts, more than 40 a window"),
        "{}",
        run.stderr
    );
}

#[test]
fn hand_written_plans_with_huge_figures_or_bad_hops_are_no_panic() {
    let dir = temp_dir("time-weird");
    let plan = dir.join("weird.json");
    std::fs::write(
        &plan,
        r#"{"format":"ffu-plan/1","catalog":"openstack","from":"newton","to":"ocata","policy":{"mode":"offline"},"path":["newton","ocata"],"hops":[],"steps":[{"id":"a","hop":7,"kind":"start","component":"nova-api","batch":1},{"id":"b","hop":7,"kind":"stop","component":"nova-api","batch":1,"host":"x","estimate_s":18446744073709551615},{"id":"c","hop":0,"kind":"restore","estimate_s":18446744073709551615}]}"#,
    )
    .unwrap();
    let run = ffu(&["estimate", plan.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("(18446744073709551615 s)"),
        "{}",
        run.stdout
    );
    let db = format!("sqlite:{}", dir.join("j.db").display());
    assert_eq!(
        ffu(&[
            "journal",
            "init",
            "--db",
            &db,
            "--plan",
            plan.to_str().unwrap()
        ])
        .code,
        0
    );
    let run = ffu(&[
        "recover",
        "--plan",
        plan.to_str().unwrap(),
        "--journal",
        &db,
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("weird.json") && run.stderr.contains("step a is in hop 7"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_components_duration_s_times_its_stops_and_starts() {
    let dir = temp_dir("time-component");
    let text = std::fs::read_to_string(data("small.yaml"))
        .unwrap()
        .replace(
            "{name: ident-api, role: control}",
            "{name: ident-api, role: control, duration_s: 44.2}",
        );
    let path = dir.join("components.yaml");
    std::fs::write(&path, &text).unwrap();
    let catalog = Catalog::from_path(&path).unwrap();
    let plan = catalog
        .plan("r1", "r2", &ffu_core::Policy::default())
        .unwrap();
    let mut seen = 0;
    for step in &plan.steps {
        if step.component.as_deref() == Some("ident-api") {
            assert_eq!(step.estimate_s, Some(45), "{}", step.id);
            seen += 1;
        } else if step.kind == StepKind::Stop {
            assert_eq!(step.estimate_s, Some(default_seconds(StepKind::Stop)));
        }
    }
    assert!(seen >= 2);
    assert_eq!(estimate(&plan, &catalog).figures.catalog, seen);
    // A negative figure is refused, naming the component.
    let bad = text.replace("duration_s: 44.2", "duration_s: -1");
    std::fs::write(&path, bad).unwrap();
    let run = ffu(&["catalog", "validate", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("component ident-api") && run.stderr.contains("duration_s"),
        "{}",
        run.stderr
    );
}
