//! Plans of the embedded OpenStack catalog replayed against what the peers' procedures do
//! (TripleO's Newton to Queens FFU, nova's rolling upgrade documentation, kolla-ansible and
//! the charms; every fact and its source is in `research/peer-procedures.md`): each test
//! asserts the steps a real procedure needs, in its order, and that `verify` accepts the
//! plan.

mod common;

use common::{data, plan_json};
use ffu_core::{verify, Catalog, CodeSide, ConfigEditAction, Phase, Plan, Step, StepKind};

/// The position of step `id` in `plan`; a missing step fails the test, named.
fn position(plan: &Plan, id: &str) -> usize {
    plan.steps
        .iter()
        .position(|s| s.id == id)
        .unwrap_or_else(|| panic!("{id} missing from the plan"))
}

fn step<'a>(plan: &'a Plan, id: &str) -> &'a Step {
    &plan.steps[position(plan, id)]
}

/// Asserts that the steps `ids` are all in `plan`, in this order.
fn assert_in_order(plan: &Plan, ids: &[&str]) {
    let positions: Vec<usize> = ids.iter().map(|id| position(plan, id)).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "expected in this order: {ids:?}, found at {positions:?}"
    );
}

/// The positions of the steps that match `wanted`.
fn positions_of(plan: &Plan, wanted: impl Fn(&Step) -> bool) -> Vec<usize> {
    (0..plan.steps.len())
        .filter(|&index| wanted(&plan.steps[index]))
        .collect()
}

fn assert_verified(plan: &Plan) {
    assert_eq!(verify(&Catalog::openstack(), plan).unwrap(), []);
}

/// The steps the peers' Newton to Queens FFU needs (research/peer-procedures.md), in their
/// order: Newton's online data migrations with Newton code before anything stops (TripleO
/// step 5, Ocata's migration 345), cell0 created before the cells v2 setup, the stale
/// cinder services purged with the old code once stopped, placement then conductor first
/// and api last among nova's starts, the target's data migrations after the starts
/// (TripleO's converge), then `discover_hosts` and the post-checks.
#[test]
fn newton_to_queens_replays_what_the_peers_do() {
    let plan = plan_json(&["--from", "newton", "--to", "queens"]);
    assert_in_order(
        &plan,
        &[
            "h0.task.nova.precheck.archive-deleted-rows",
            "h0.nova.newton.online-data-migrations",
            "h0.stop.nova-compute",
            "h0.stop.nova-api",
            "h0.task.cinder.purge-service-records",
            "h0.backup.nova",
            "h0.install.nova",
            "h0.task.nova.ocata.create-cell0-db",
            "h0.nova.ocata.simple-cell-setup",
            "h0.nova.ocata.api-db-sync",
            "h0.nova.ocata.db-sync",
            "h0.nova.ocata.online-data-migrations",
            "h2.task.cinder.bump-versions",
            "h2.precheck.nova",
            "h2.start.nova-placement-api",
            "h2.start.nova-conductor",
            "h2.start.nova-api",
            "h2.start.nova-compute",
            "h2.nova.queens.online-data-migrations",
            "h2.task.nova.discover-hosts-by-service",
            "h2.postcheck.nova",
        ],
    );
    let newton = step(&plan, "h0.nova.newton.online-data-migrations");
    assert_eq!(
        (newton.code, newton.code_release.as_deref()),
        (Some(CodeSide::Current), Some("newton"))
    );
    assert!(step(&plan, "h0.stop.nova-api").disable);
    // The newton backup cannot name nova_cell0, which ocata creates.
    assert_eq!(
        step(&plan, "h0.backup.nova").databases.as_deref(),
        Some(&["nova_api".to_owned(), "nova".to_owned()][..])
    );
    assert_eq!(
        step(&plan, "h2.install.nova").version.as_deref(),
        Some("17.0.0")
    );
    assert_verified(&plan);
}

/// TripleO's Newton to Queens FFU on three controllers and two computes
/// (`fast_forward_upgrade_playbook`, research/peer-procedures.md): the intermediate releases
/// (ocata, pike) get their package sources and packages on the bootstrap node only, where
/// their migrations run; queens goes to every host; every unit is stopped and disabled on
/// every host before the first backup; the controllers (the whole role) start before the
/// computes, which start in batches; the converge steps come after the last compute.
#[test]
fn newton_to_queens_on_three_controllers_runs_intermediate_releases_on_the_bootstrap_node() {
    let inventory = data("inventory-newton.yaml");
    let plan = plan_json(&[
        "--inventory",
        inventory.to_str().unwrap(),
        "--to",
        "queens",
        "--repo-command",
        "tripleo-repos -b {release} current",
    ]);
    assert_eq!(plan.path, ["newton", "ocata", "pike", "queens"]);
    let hosts_of = |kind: StepKind, hop: usize| -> Vec<&str> {
        let mut hosts: Vec<&str> = plan
            .steps
            .iter()
            .filter(|s| s.kind == kind && s.hop == hop)
            .filter_map(|s| s.host.as_deref())
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts
    };
    for hop in [0, 1] {
        assert_eq!(hosts_of(StepKind::Repos, hop), ["ctl-1"], "hop {hop}");
        assert_eq!(hosts_of(StepKind::Install, hop), ["ctl-1"], "hop {hop}");
        assert_eq!(hosts_of(StepKind::Migrate, hop), ["ctl-1"], "hop {hop}");
    }
    let everyone = ["cmp-1", "cmp-2", "ctl-1", "ctl-2", "ctl-3"];
    assert_eq!(hosts_of(StepKind::Repos, 2), everyone);
    assert_eq!(hosts_of(StepKind::Install, 2), everyone);
    assert_eq!(
        step(&plan, "h2.repos@cmp-2").command.as_deref(),
        Some("tripleo-repos -b queens current")
    );
    // Every install names the package version, the computes' too.
    for install in plan.steps.iter().filter(|s| s.kind == StepKind::Install) {
        assert!(install.version.is_some(), "{} has no version", install.id);
    }

    // Stopped and disabled everywhere before the first backup.
    let stops = positions_of(&plan, |s| s.kind == StepKind::Stop);
    assert_eq!(stops.len(), 3 * 18 + 2 * 2, "every unit of the inventory");
    assert!(stops.iter().all(|&at| plan.steps[at].disable));
    let first_backup = positions_of(&plan, |s| s.kind == StepKind::Backup)[0];
    assert!(stops.iter().all(|&at| at < first_backup));

    // Controllers first, then the computes, in batches, then converge.
    let nova_api_starts = positions_of(&plan, |s| {
        s.kind == StepKind::Start && s.component.as_deref() == Some("nova-api")
    });
    let compute_starts = positions_of(&plan, |s| {
        s.kind == StepKind::Start && s.component.as_deref() == Some("nova-compute")
    });
    assert_eq!((nova_api_starts.len(), compute_starts.len()), (3, 2));
    assert!(nova_api_starts.iter().max() < compute_starts.iter().min());
    assert!(compute_starts
        .iter()
        .all(|&at| plan.steps[at].batch.is_some()));
    let converge = positions_of(&plan, |s| s.phase == Some(Phase::Converge));
    assert!(compute_starts.iter().max() < converge.iter().min());
    assert_in_order(
        &plan,
        &[
            "h2.start.nova-compute@cmp-2",
            "h2.nova.queens.online-data-migrations",
            "h2.task.nova.discover-hosts-by-service",
        ],
    );
    // A check that every keystone node holds the fernet keys runs on each of them.
    for host in ["ctl-1", "ctl-2", "ctl-3"] {
        let id = format!("h0.task.keystone.precheck.fernet-keys@{host}");
        assert_eq!(step(&plan, &id).phase, Some(Phase::Precheck));
    }
    assert_verified(&plan);
}

/// Nova's rolling upgrade (doc/source/user/upgrade.rst): the previous release's online data
/// migrations finished first, `[upgrade_levels]compute=auto` before the first restart,
/// placement before any nova service, conductor first and api last, computes after the
/// control plane, then the data migrations and the pin removed (with a reload) once every
/// compute runs the new code.
#[test]
fn ocata_to_pike_rolling_follows_novas_upgrade_order() {
    let plan = plan_json(&["--from", "ocata", "--to", "pike", "--mode", "rolling"]);
    assert_in_order(
        &plan,
        &[
            "h0.nova.ocata.online-data-migrations",
            "h0.nova.pike.api-db-sync",
            "h0.nova.pike.db-sync",
            "h0.task.nova.upgrade-levels-compute-auto",
            "h0.start.nova-placement-api",
            "h0.start.nova-conductor",
            "h0.start.nova-scheduler",
            "h0.start.nova-api",
            "h0.start.nova-compute",
            "h0.nova.pike.online-data-migrations",
            "h0.undo.nova.upgrade-levels-compute-auto",
            "h0.postcheck.nova",
            "h0.finalize.nova",
        ],
    );
    let nova_starts = positions_of(&plan, |s| {
        s.kind == StepKind::Start && s.service.as_deref() == Some("nova")
    });
    let conductor = position(&plan, "h0.start.nova-conductor");
    let api = position(&plan, "h0.start.nova-api");
    let control = |at: &usize| {
        let component = plan.steps[*at].component.as_deref();
        !matches!(component, Some("nova-compute" | "nova-placement-api"))
    };
    assert!(nova_starts
        .iter()
        .filter(|at| control(at))
        .all(|&at| (conductor..=api).contains(&at)));
    // nova-cert is gone in pike: stopped, never started again.
    assert!(plan.steps.iter().any(|s| s.id == "h0.stop.nova-cert"));
    assert!(!plan.steps.iter().any(|s| s.id == "h0.start.nova-cert"));
    let pin = step(&plan, "h0.task.nova.upgrade-levels-compute-auto");
    let edit = pin.config.as_ref().expect("a config edit");
    assert_eq!(
        (edit.section.as_str(), edit.option.as_str(), edit.action),
        ("upgrade_levels", "compute", ConfigEditAction::Set)
    );
    let unpin = step(&plan, "h0.undo.nova.upgrade-levels-compute-auto");
    assert_eq!(
        unpin.config.as_ref().unwrap().action,
        ConfigEditAction::Unset
    );
    assert_eq!(unpin.phase, Some(Phase::Converge));
    assert_verified(&plan);
}

/// Victoria to Xena, offline: from Wallaby on, nova refuses to start while the compute
/// records are older than allowed, so an FFU that starts the controllers first sets
/// `[workarounds]disable_compute_service_check_for_ffu` (puppet-nova `nova::workarounds`)
/// before the starts and removes it in converge; placement's and nova's Victoria data
/// migrations run with Victoria code before anything stops.
#[test]
fn victoria_to_xena_sets_the_ffu_workaround_only_until_the_computes_are_back() {
    let plan = plan_json(&["--from", "victoria", "--to", "xena"]);
    assert_eq!(plan.path, ["victoria", "wallaby", "xena"]);
    assert_in_order(
        &plan,
        &[
            "h0.placement.victoria.online-data-migrations",
            "h0.nova.victoria.online-data-migrations",
            "h0.stop.nova-compute",
            "h0.stop.placement-api",
            "h0.backup.placement",
            "h0.placement.wallaby.db-sync",
            "h0.nova.wallaby.api-db-sync",
            "h1.nova.xena.db-sync",
            "h1.task.nova.disable-compute-service-check-for-ffu",
            "h1.start.placement-api",
            "h1.start.nova-conductor",
            "h1.start.nova-api",
            "h1.start.nova-compute",
            "h1.nova.xena.online-data-migrations",
            "h1.undo.nova.disable-compute-service-check-for-ffu",
            "h1.postcheck.nova",
        ],
    );
    for id in [
        "h0.placement.victoria.online-data-migrations",
        "h0.nova.victoria.online-data-migrations",
    ] {
        let data = step(&plan, id);
        assert_eq!(
            (data.code, data.code_release.as_deref()),
            (Some(CodeSide::Current), Some("victoria")),
            "{id}"
        );
    }
    let workaround = step(&plan, "h1.task.nova.disable-compute-service-check-for-ffu");
    let edit = workaround.config.as_ref().expect("a config edit");
    assert!(edit.temporary);
    assert_eq!(
        (edit.section.as_str(), edit.option.as_str()),
        ("workarounds", "disable_compute_service_check_for_ffu")
    );
    // Set once, on the last hop only: the intermediate release never starts.
    let set = positions_of(&plan, |s| {
        s.task.as_deref() == Some("nova.disable-compute-service-check-for-ffu")
            && s.kind == StepKind::Config
            && s.phase != Some(Phase::Converge)
    });
    assert_eq!(set.len(), 1);
    assert_verified(&plan);
}

/// 2023.1 to 2025.1 with `--skip-level`, offline: two SLURP hops, each applying the
/// skipped release's migrations then its own with the SLURP release's code (nova's
/// upgrade docs: a SLURP release's code carries the intermediate release's migrations);
/// no intermediate release is ever installed; the starting release's data migrations
/// first; the FFU workaround while the computes lag.
#[test]
fn slurp_to_slurp_offline_installs_only_slurp_releases() {
    let plan = plan_json(&["--from", "2023.1", "--to", "2025.1", "--skip-level"]);
    assert_eq!(plan.path, ["2023.1", "2024.1", "2025.1"]);
    assert!(plan.hops.iter().all(|hop| hop.skip));
    let installed: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Install)
        .map(|s| s.release.as_deref().unwrap())
        .collect();
    assert!(installed.iter().all(|r| ["2024.1", "2025.1"].contains(r)));
    assert_in_order(
        &plan,
        &[
            "h0.nova.2023.1.online-data-migrations",
            "h0.stop.nova-api",
            "h0.install.nova",
            "h0.nova.2023.2.api-db-sync",
            "h0.nova.2023.2.db-sync",
            "h0.nova.2023.2.online-data-migrations",
            "h0.nova.2024.1.api-db-sync",
            "h0.nova.2024.1.db-sync",
            "h1.install.nova",
            "h1.nova.2024.2.db-sync",
            "h1.nova.2025.1.db-sync",
            "h1.task.nova.disable-compute-service-check-for-ffu",
            "h1.start.nova-api",
            "h1.start.nova-compute",
            "h1.nova.2025.1.online-data-migrations",
            "h1.undo.nova.disable-compute-service-check-for-ffu",
        ],
    );
    // The skipped release's migrations run with the SLURP release's code.
    let skipped = step(&plan, "h0.nova.2023.2.db-sync");
    assert_eq!(
        (skipped.code, skipped.code_release.as_deref()),
        (Some(CodeSide::Target), Some("2024.1"))
    );
    assert_verified(&plan);
}

/// SLURP rolling (2024.1 to 2025.1 with `--skip-level`): the control plane steps through
/// 2024.2, nova's computes (`max_skew: slurp`) go straight to 2025.1, each restarted once.
#[test]
fn slurp_rolling_restarts_each_compute_once() {
    let plan = plan_json(&[
        "--from",
        "2024.1",
        "--to",
        "2025.1",
        "--mode",
        "rolling",
        "--skip-level",
    ]);
    assert_eq!(plan.path, ["2024.1", "2024.2", "2025.1"]);
    let compute_starts: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Start && s.component.as_deref() == Some("nova-compute"))
        .map(|s| s.release.as_deref().unwrap())
        .collect();
    assert_eq!(compute_starts, ["2025.1"]);
    assert_verified(&plan);
}
