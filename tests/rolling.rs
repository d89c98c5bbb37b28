//! Rolling upgrades: one release at a time, servers upgraded while the others serve, new
//! API extensions only after `finalize`, agents within their skew.

mod common;

use ffu_core::{verify, Catalog, Mode, Plan, Policy, StepKind};

fn rolling(from: &str, to: &str, services: &[&str]) -> (Catalog, Plan) {
    let catalog = Catalog::openstack();
    let policy = Policy {
        mode: Mode::Rolling,
        services: Some(services.iter().map(|s| (*s).to_owned()).collect()),
        ..Policy::default()
    };
    let plan = catalog.plan(from, to, &policy).unwrap();
    (catalog, plan)
}

fn rules(catalog: &Catalog, plan: &Plan) -> Vec<&'static str> {
    verify(catalog, plan)
        .unwrap()
        .into_iter()
        .map(|v| v.rule)
        .collect()
}

#[test]
fn neutron_queens_to_rocky_gates_binding_extended_until_finalize() {
    let (catalog, plan) = rolling("queens", "rocky", &["keystone", "neutron", "nova"]);
    assert_eq!(verify(&catalog, &plan).unwrap(), []);
    let kinds: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .filter(|s| s.service.as_deref() == Some("neutron"))
        .map(|s| (s.kind.as_str(), s.id.as_str()))
        .collect();
    assert_eq!(
        kinds[..6],
        [
            ("backup", "h0.backup.neutron"),
            // kolla: expand, then stop the servers only if a contract is pending.
            ("task", "h0.task.neutron.has-offline-migrations"),
            ("expand", "h0.neutron.rocky.expand"),
            ("stop", "h0.stop.neutron-server"),
            ("install", "h0.install.neutron"),
            ("start", "h0.start.neutron-server"),
        ]
    );
    assert_eq!(
        kinds[kinds.len() - 3..],
        [
            ("contract", "h0.neutron.rocky.contract"),
            ("postcheck", "h0.postcheck.neutron"),
            ("finalize", "h0.finalize.neutron")
        ]
    );
    // binding-extended (new in rocky, nova uses it for live migration) appears only on the
    // finalize step, and the reason says nova may use it from there.
    let first_advertising = plan
        .steps
        .iter()
        .find(|s| {
            s.advertised
                .as_ref()
                .is_some_and(|a| a["neutron"].iter().any(|e| e == "binding-extended"))
        })
        .unwrap();
    assert_eq!(first_advertising.kind, StepKind::Finalize);
    assert!(
        first_advertising
            .reason
            .ends_with("nova may use binding-extended from here"),
        "{}",
        first_advertising.reason
    );
}

#[test]
fn advertising_before_finalize_breaks_v10() {
    let (catalog, mut plan) = rolling("queens", "rocky", &["neutron"]);
    let finalize = plan
        .steps
        .iter()
        .position(|s| s.kind == StepKind::Finalize)
        .unwrap();
    let advertised = plan.steps[finalize].advertised.take();
    let start = plan
        .steps
        .iter()
        .position(|s| s.id == "h0.start.neutron-server")
        .unwrap();
    plan.steps[start].advertised = advertised;
    let violations = verify(&catalog, &plan).unwrap();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].rule, "V10");
    assert!(
        violations[0]
            .message
            .starts_with("step h0.start.neutron-server starts advertising binding-extended"),
        "{}",
        violations[0].message
    );
}

#[test]
fn an_agent_left_two_releases_behind_breaks_v11() {
    let (catalog, mut plan) = rolling("queens", "stein", &["nova"]);
    assert_eq!(verify(&catalog, &plan).unwrap(), []);
    // Drop the first hop's nova-compute upgrade: the agent stays at queens while the
    // control plane reaches stein.
    plan.steps
        .retain(|s| !(s.hop == 0 && s.component.as_deref() == Some("nova-compute")));
    let violations = verify(&catalog, &plan).unwrap();
    let v11: Vec<&str> = violations
        .iter()
        .filter(|v| v.rule == "V11")
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(
        v11,
        // Placement restarts first (nova's restart order); computes may lag back to the
        // previous SLURP release, and there is none before stein: one release.
        ["after step h1.start.nova-placement-api, nova-compute runs queens while a nova control component runs stein: 2 releases behind, more than max_skew slurp allows (1)"]
    );
}

#[test]
fn rolling_never_skips_a_release_and_contracts_last() {
    let (catalog, plan) = rolling("2023.1", "2024.1", &["keystone", "glance"]);
    assert_eq!(plan.path, ["2023.1", "2023.2", "2024.1"]);
    assert_eq!(rules(&catalog, &plan), Vec::<&str>::new());
    let mut moved = plan.clone();
    let contract = moved
        .steps
        .iter()
        .position(|s| s.id == "h0.keystone.2023.2.contract")
        .unwrap();
    let step = moved.steps.remove(contract);
    let first_stop = moved
        .steps
        .iter()
        .position(|s| s.id == "h0.stop.keystone-api")
        .unwrap();
    moved.steps.insert(first_stop, step);
    assert!(rules(&catalog, &moved).contains(&"V6"));
}

#[test]
fn max_unavailable_batches_agents() {
    let catalog = Catalog::openstack();
    let policy = Policy {
        mode: Mode::Rolling,
        max_unavailable: Some("0".into()),
        ..Policy::default()
    };
    let err = catalog.plan("queens", "rocky", &policy).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad policy: max_unavailable \"0\" is not a positive count or a percentage from 1% to 100%"
    );
    let run = common::ffu(&[
        "plan",
        "--from",
        "queens",
        "--to",
        "rocky",
        "--mode",
        "rolling",
        "--max-unavailable",
        "101%",
    ]);
    assert_eq!(run.code, 2);
}

fn inventory_plan(file: &str, to: &str, extra: &[&str]) -> Plan {
    let inventory = common::data(file);
    let mut args = vec![
        "plan",
        "--inventory",
        inventory.to_str().unwrap(),
        "--to",
        to,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let run = common::ffu(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    Plan::from_json(&run.stdout, "stdout").unwrap()
}

#[test]
fn neutron_servers_on_three_hosts_advertise_the_common_set_until_finalize() {
    let catalog = Catalog::openstack();
    let plan = inventory_plan(
        "inventory-pike.yaml",
        "rocky",
        &["--mode", "rolling", "--services", "keystone,neutron,nova"],
    );
    assert_eq!(plan.from, "pike");
    assert_eq!(verify(&catalog, &plan).unwrap(), []);
    // Hop queens -> rocky: neutron-server restarts on ctl-1, ctl-2, ctl-3 in turn; while
    // they are mixed nothing new is advertised; binding-extended comes with finalize.
    let hop: Vec<&ffu_core::Step> = plan.steps.iter().filter(|s| s.hop == 1).collect();
    let servers: Vec<&str> = hop
        .iter()
        .filter(|s| s.kind == StepKind::Start && s.component.as_deref() == Some("neutron-server"))
        .map(|s| s.host.as_deref().unwrap())
        .collect();
    assert_eq!(servers, ["ctl-1", "ctl-2", "ctl-3"]);
    let advertising: Vec<(&str, bool)> = hop
        .iter()
        .filter_map(|s| {
            Some((
                s.id.as_str(),
                s.advertised
                    .as_ref()?
                    .get("neutron")?
                    .iter()
                    .any(|e| e == "binding-extended"),
            ))
        })
        .collect();
    assert_eq!(advertising, [("h1.finalize.neutron", true)]);
}

#[test]
fn an_interrupted_upgrade_is_completed_from_where_each_host_stands() {
    let catalog = Catalog::openstack();
    let plan = inventory_plan("inventory-mixed.yaml", "queens", &["--mode", "rolling"]);
    assert_eq!(verify(&catalog, &plan).unwrap(), []);
    let touched = |component: &str, host: &str| {
        plan.steps
            .iter()
            .any(|s| s.component.as_deref() == Some(component) && s.host.as_deref() == Some(host))
    };
    // Already at queens: left alone. Still at pike: upgraded.
    assert!(!touched("neutron-server", "ctl-1"));
    assert!(touched("neutron-server", "ctl-2"));
    assert!(!touched("nova-compute", "cmp-001"));
    assert!(touched("nova-compute", "cmp-011"));
}

#[test]
fn agents_go_in_batches_of_max_unavailable() {
    let plan = inventory_plan(
        "inventory-pike.yaml",
        "queens",
        &[
            "--mode",
            "rolling",
            "--services",
            "nova",
            "--max-unavailable",
            "10%",
        ],
    );
    // 120 compute hosts, 10% at a time: 12 hosts stopped together, then installed, then started.
    let compute: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .filter(|s| {
            s.component.as_deref() == Some("nova-compute")
                || (s.kind == StepKind::Install
                    && s.host.as_deref().is_some_and(|h| h.starts_with("cmp")))
        })
        .map(|s| (s.kind.as_str(), s.host.as_deref().unwrap()))
        .collect();
    assert_eq!(compute.len(), 120 * 3);
    assert!(compute[..12].iter().all(|(kind, _)| *kind == "stop"));
    assert_eq!(compute[12], ("install", "cmp-001"));
    assert_eq!(compute[36], ("stop", "cmp-013"));
}

#[test]
fn offline_with_an_inventory_is_per_host_with_migrations_on_a_bootstrap_host() {
    let catalog = Catalog::openstack();
    let plan = inventory_plan("inventory-pike.yaml", "rocky", &[]);
    assert_eq!(verify(&catalog, &plan).unwrap(), []);
    let stops = plan
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Stop)
        .count();
    // 3 controllers x 8 control components + 120 computes x 2 agents.
    assert_eq!(stops, 3 * 8 + 120 * 2);
    assert!(plan
        .steps
        .iter()
        .filter(|s| s.kind.is_migration())
        .all(|s| s.host.as_deref() == Some("ctl-1")));
    assert!(!plan.steps.iter().any(|s| s
        .component
        .as_deref()
        .is_some_and(|c| c == "libvirt-guests" || c == "ovs-vswitchd")));
}

#[test]
fn extensions_command_says_what_is_withheld_and_why() {
    let inventory = common::data("inventory-mixed.yaml");
    let run = common::ffu(&["extensions", "--inventory", inventory.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // ctl-1 runs queens, ctl-2 and ctl-3 pike: only what pike supports.
    assert_eq!(
        run.stdout,
        "neutron: agent, allowed-address-pairs, availability_zone, binding, dns-integration, extra_dhcp_opt, l3-ha, port-security, provider, qos, router, router_availability_zone, trunk, trunk-details\n"
    );
    let json = common::ffu(&[
        "extensions",
        "--inventory",
        inventory.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed["neutron"][0], "agent");
}

#[test]
fn text_names_each_host_once() {
    let inventory = common::data("inventory-pike.yaml");
    let run = common::ffu(&[
        "plan",
        "--inventory",
        inventory.to_str().unwrap(),
        "--to",
        "queens",
        "--services",
        "keystone",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(". stop      h0.stop.keystone-api@ctl-1\n"),
        "{}",
        run.stdout
    );
    // Steps whose id does not name the host (migrations on the bootstrap host) say where.
    assert!(
        run.stdout
            .contains(" expand    h0.keystone.queens.expand  @ctl-1  [target code: queens]\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn rolling_skip_level_keeps_the_control_plane_one_release_at_a_time() {
    let catalog = Catalog::openstack();
    let policy = Policy {
        mode: Mode::Rolling,
        skip_level: true,
        services: Some(vec!["keystone".to_owned()]),
        ..Policy::default()
    };
    // 2023.1 -> 2024.1 is a SLURP edge. A rolling plan still goes one release at a time:
    // skip_level only lets agents that may lag skip releases (keystone has none).
    let plan = catalog.plan("2023.1", "2024.1", &policy).unwrap();
    assert_eq!(plan.path, ["2023.1", "2023.2", "2024.1"]);
    assert!(plan.hops.iter().all(|hop| !hop.skip));
    // The offline plan under the same policy takes the edge: forced onto a rolling plan,
    // that hop is a V1 violation.
    let offline = Policy {
        mode: Mode::Offline,
        ..policy.clone()
    };
    let mut skipping = catalog.plan("2023.1", "2024.1", &offline).unwrap();
    assert_eq!(skipping.path, ["2023.1", "2024.1"]);
    skipping.policy.mode = Mode::Rolling;
    let violations = verify(&catalog, &skipping).unwrap();
    assert!(
        violations.iter().any(|v| v.rule == "V1"
            && v.message
                == "hop 2023.1 -> 2024.1 skips releases, but a rolling upgrade goes one release at a time"),
        "{violations:#?}"
    );
}

/// A network node runs neutron-server and its agents; an all-in-one runs everything.
const NETWORK_NODE: &str = "format: ffu-inventory/1
hosts:
  - name: net-1
    components: {neutron-server: pike, neutron-l3-agent: pike, neutron-dhcp-agent: pike}
  - name: cmp-[1:2]
    components: {nova-compute: pike, neutron-openvswitch-agent: pike}
  - name: ctl-1
    components: {keystone-api: pike, nova-api: pike, nova-conductor: pike}
";

#[test]
fn a_host_with_a_control_component_and_agents_gets_one_install_and_verifies() {
    let dir = common::temp_dir("network-node");
    let inventory = common::write(&dir, "inv.yaml", NETWORK_NODE);
    for mode in ["offline", "rolling"] {
        let plan_file = dir.join(format!("{mode}.json"));
        let plan_file = plan_file.to_str().unwrap();
        let run = common::ffu(&[
            "plan",
            "--inventory",
            &inventory,
            "--to",
            "queens",
            "--mode",
            mode,
            "--format",
            "json",
            "-o",
            plan_file,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let run = common::ffu(&["verify", plan_file]);
        assert_eq!(run.code, 0, "{mode}: {}{}", run.stdout, run.stderr);
        let plan =
            Plan::from_json(&std::fs::read_to_string(plan_file).unwrap(), plan_file).unwrap();
        let installs: Vec<&str> = plan
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Install && s.hop == plan.hops.len() - 1)
            .filter(|s| s.service.as_deref() == Some("neutron"))
            .map(|s| s.id.as_str())
            .collect();
        let last = plan.hops.len() - 1;
        assert_eq!(
            installs,
            [
                format!("h{last}.install.neutron@net-1"),
                format!("h{last}.install.neutron@cmp-1"),
                format!("h{last}.install.neutron@cmp-2"),
            ],
            "{mode}"
        );
    }
}

#[test]
fn rolling_with_an_inventory_upgrades_the_bootstrap_host_first_and_runs_migrations_there() {
    let dir = common::temp_dir("rolling-bootstrap");
    let inventory = common::write(&dir, "inv.yaml", NETWORK_NODE);
    let run = common::ffu(&[
        "plan",
        "--inventory",
        &inventory,
        "--to",
        "queens",
        "--mode",
        "rolling",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = Plan::from_json(&run.stdout, "stdout").unwrap();
    // Every step says where it runs.
    let homeless: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.host.is_none())
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(homeless, [] as [&str; 0]);
    // nova: its API host stops, gets queens, runs the schema migrations and the readiness
    // check with it, and starts again, before anything else of nova moves.
    let nova: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .filter(|s| s.service.as_deref() == Some("nova"))
        .map(|s| (s.id.as_str(), s.host.as_deref().unwrap()))
        .take(10)
        .collect();
    assert_eq!(
        nova,
        [
            // The checks on the running cloud, then the starting release finished first,
            // with pike's code (DESIGN §8).
            ("h0.task.nova.precheck.archive-deleted-rows", "ctl-1"),
            ("h0.nova.pike.online-data-migrations", "ctl-1"),
            // nova's restart order: conductor first, api last.
            ("h0.stop.nova-conductor@ctl-1", "ctl-1"),
            ("h0.stop.nova-api@ctl-1", "ctl-1"),
            ("h0.backup.nova", "ctl-1"),
            ("h0.install.nova@ctl-1", "ctl-1"),
            ("h0.nova.queens.api-db-sync", "ctl-1"),
            ("h0.nova.queens.db-sync", "ctl-1"),
            ("h0.precheck.nova", "ctl-1"),
            // [upgrade_levels]compute=auto while computes lag (nova upgrades.rst).
            ("h0.task.nova.upgrade-levels-compute-auto@cmp-1", "cmp-1"),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Phases, restart order, tasks and SLURP in rolling mode (DESIGN §8).

use ffu_core::{Inventory, MaxSkew, Phase, PlanRequest, Violation};

/// The embedded catalog with nova's rolling facts from its upgrade guide (upgrades.rst:
/// "you must upgrade placement before any nova services", "start nova-conductor first and
/// nova-api last"; from 2023.1, computes may run the previous SLURP release). The embedded
/// catalog is patched where it does not say so yet.
fn nova_catalog() -> Catalog {
    let embedded = Catalog::openstack();
    let nova = &embedded.services()[embedded.service_id("nova").unwrap().index()];
    if nova.max_skew == MaxSkew::Slurp && !nova.restart_order.is_empty() {
        return embedded;
    }
    let text = Catalog::openstack_yaml();
    let at = text.find("  - name: nova\n").unwrap();
    let skew = at + text[at..].find("    max_skew: 1\n").unwrap();
    let patched = format!(
        "{}    max_skew: slurp\n    restart_order: [nova-placement-api, nova-conductor, nova-scheduler, nova-novncproxy, nova-consoleauth, nova-cells, nova-api]\n{}",
        &text[..skew],
        &text[skew + "    max_skew: 1\n".len()..]
    );
    Catalog::from_yaml_str(&patched, "openstack-nova-rolling.yaml").unwrap()
}

fn rolling_policy(skip_level: bool) -> Policy {
    Policy {
        mode: Mode::Rolling,
        skip_level,
        ..Policy::default()
    }
}

fn plan_hosts(
    catalog: &Catalog,
    hosts: &[(&str, &[(&str, &str)])],
    to: &str,
    policy: &Policy,
) -> Plan {
    let inventory = Inventory::from_hosts(catalog, hosts).unwrap();
    catalog
        .plan_request(&PlanRequest::from_inventory(&inventory, to, policy))
        .unwrap()
}

/// The violations, except those of V12–V15 and those about the starting release's own
/// data migrations (hop 0, phase `prepare`, current code): V12 and the exemptions DESIGN §8
/// gives those steps from V2, V5 and V9 are written on another branch.
fn violations(catalog: &Catalog, plan: &Plan) -> Vec<Violation> {
    let starting: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.phase == Some(Phase::Prepare) && s.migration.is_some())
        .map(|s| s.id.as_str())
        .collect();
    verify(catalog, plan)
        .unwrap()
        .into_iter()
        .filter(|v| !["V12", "V13", "V14", "V15"].contains(&v.rule))
        .filter(|v| !v.steps.iter().any(|id| starting.contains(&id.as_str())))
        .collect()
}

fn position(plan: &Plan, id: &str) -> usize {
    plan.steps
        .iter()
        .position(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// Every step has a phase, and within each service's part of a hop the phases never go
/// back (DESIGN §8, V13 in rolling mode).
fn assert_phases_in_order(plan: &Plan) {
    let mut latest: std::collections::HashMap<(usize, &str), (Phase, &str)> =
        std::collections::HashMap::new();
    for step in &plan.steps {
        let phase = step
            .phase
            .unwrap_or_else(|| panic!("{} has no phase", step.id));
        let Some(service) = step.service.as_deref() else {
            continue;
        };
        let entry = latest
            .entry((step.hop, service))
            .or_insert((phase, &step.id));
        assert!(
            phase >= entry.0,
            "{} ({phase:?}) after {} ({:?})",
            step.id,
            entry.1,
            entry.0
        );
        *entry = (phase, &step.id);
    }
}

const OCATA_CONTROLLER: &[(&str, &str)] = &[
    ("keystone-api", "ocata"),
    ("nova-api", "ocata"),
    ("nova-conductor", "ocata"),
    ("nova-scheduler", "ocata"),
    ("nova-novncproxy", "ocata"),
    ("nova-consoleauth", "ocata"),
    ("nova-placement-api", "ocata"),
];

#[test]
fn rolling_nova_restarts_placement_and_conductor_first_api_last_on_every_host() {
    let catalog = nova_catalog();
    let computes: &[(&str, &str)] = &[("nova-compute", "ocata"), ("libvirt-guests", "ocata")];
    let plan = plan_hosts(
        &catalog,
        &[("ctl-[1:3]", OCATA_CONTROLLER), ("cmp-[1:2]", computes)],
        "queens",
        &rolling_policy(false),
    );
    assert_eq!(violations(&catalog, &plan), []);
    assert_phases_in_order(&plan);
    for hop in 0..2 {
        let starts = |component: &str| -> Vec<usize> {
            (1..=3)
                .map(|host| position(&plan, &format!("h{hop}.start.{component}@ctl-{host}")))
                .collect()
        };
        let placement = starts("nova-placement-api");
        let conductor = starts("nova-conductor");
        let api = starts("nova-api");
        // Each component across all hosts before the next: placement, conductor, ..., api.
        assert!(placement.iter().max() < conductor.iter().min(), "hop {hop}");
        for other in ["nova-scheduler", "nova-novncproxy"] {
            let other = starts(other);
            assert!(conductor.iter().max() < other.iter().min(), "hop {hop}");
            assert!(other.iter().max() < api.iter().min(), "hop {hop}");
        }
        // keystone (before nova in service order) is done before nova starts anything.
        let keystone_done = position(&plan, &format!("h{hop}.start.keystone-api@ctl-3"));
        assert!(keystone_done < *placement.iter().min().unwrap());
    }
    // Rolling stops are short: nothing is disabled.
    assert!(plan.steps.iter().all(|s| !s.disable));
}

#[test]
fn rolling_placement_service_before_nova() {
    let catalog = nova_catalog();
    let policy = Policy {
        services: Some(vec!["placement".to_owned(), "nova".to_owned()]),
        ..rolling_policy(false)
    };
    let plan = catalog.plan("train", "victoria", &policy).unwrap();
    assert_eq!(violations(&catalog, &plan), []);
    assert_phases_in_order(&plan);
    // Each service's part (after the hop's prepare phase, which finishes the starting
    // release of every service first).
    for hop in 0..2 {
        let last_placement = plan
            .steps
            .iter()
            .rposition(|s| s.hop == hop && s.service.as_deref() == Some("placement"))
            .unwrap();
        let first_nova = plan
            .steps
            .iter()
            .position(|s| {
                s.hop == hop
                    && s.service.as_deref() == Some("nova")
                    && s.phase > Some(Phase::Prepare)
            })
            .unwrap();
        assert!(last_placement < first_nova, "hop {hop}");
    }
}

#[test]
fn rolling_steps_carry_phases_units_versions_databases_batches_and_code() {
    let (catalog, plan) = rolling("ocata", "queens", &["keystone", "nova", "neutron"]);
    assert_phases_in_order(&plan);
    for step in &plan.steps {
        match step.kind {
            StepKind::Install => assert!(step.version.is_some(), "{}", step.id),
            StepKind::Backup => assert!(step.databases.is_some(), "{}", step.id),
            StepKind::Expand | StepKind::Migrate | StepKind::Contract | StepKind::Data => {
                assert!(
                    step.code.is_some() && step.code_release.is_some(),
                    "{}",
                    step.id
                );
            }
            StepKind::Precheck => assert_eq!(step.phase, Some(Phase::Start), "{}", step.id),
            _ => {}
        }
        if step.component.as_deref() == Some("nova-compute") {
            assert_eq!(step.batch, Some(1), "{}", step.id);
        }
    }
    // The last hop's data migrations are the target's: converge.
    let data = plan
        .steps
        .iter()
        .find(|s| s.hop == 1 && s.kind == StepKind::Data && s.service.as_deref() == Some("nova"))
        .unwrap();
    assert_eq!(data.phase, Some(Phase::Converge));
    let _ = catalog;
}

/// Start steps of `component` per host.
fn starts_per_host(plan: &Plan, component: &str) -> std::collections::BTreeMap<String, usize> {
    let mut starts = std::collections::BTreeMap::new();
    for step in &plan.steps {
        if step.kind == StepKind::Start && step.component.as_deref() == Some(component) {
            *starts
                .entry(step.host.clone().unwrap_or_default())
                .or_insert(0) += 1;
        }
    }
    starts
}

const SLURP_CONTROLLER: &[(&str, &str)] = &[
    ("keystone-api", "2024.1"),
    ("nova-api", "2024.1"),
    ("nova-conductor", "2024.1"),
    ("nova-scheduler", "2024.1"),
    ("nova-novncproxy", "2024.1"),
    ("neutron-server", "2024.1"),
    ("placement-api", "2024.1"),
];
const SLURP_COMPUTE: &[(&str, &str)] = &[
    ("nova-compute", "2024.1"),
    ("neutron-openvswitch-agent", "2024.1"),
    ("libvirt-guests", "2024.1"),
];

fn at(
    release: &'static str,
    components: &[(&'static str, &str)],
) -> Vec<(&'static str, &'static str)> {
    components
        .iter()
        .map(|&(name, _)| (name, release))
        .collect()
}

#[test]
fn slurp_rolling_restarts_each_compute_once_per_slurp_interval() {
    let catalog = nova_catalog();
    let policy = rolling_policy(true);
    // 2024.1 -> 2025.1: one SLURP interval, two hops; computes restart once, at 2025.1.
    let plan = plan_hosts(
        &catalog,
        &[("ctl-1", SLURP_CONTROLLER), ("cmp-[1:3]", SLURP_COMPUTE)],
        "2025.1",
        &policy,
    );
    assert_eq!(plan.path, ["2024.1", "2024.2", "2025.1"]);
    assert!(plan.hops.iter().all(|hop| !hop.skip));
    assert_eq!(violations(&catalog, &plan), []);
    assert_phases_in_order(&plan);
    let computes = starts_per_host(&plan, "nova-compute");
    assert_eq!(computes.len(), 3);
    assert!(computes.values().all(|&count| count == 1), "{computes:?}");
    assert!(plan
        .steps
        .iter()
        .filter(|s| s.component.as_deref() == Some("nova-compute") && s.kind == StepKind::Start)
        .all(|s| s.hop == 1 && s.release.as_deref() == Some("2025.1")));
    // neutron's agents may lag one release only: they restart every hop.
    let agents = starts_per_host(&plan, "neutron-openvswitch-agent");
    assert!(agents.values().all(|&count| count == 2), "{agents:?}");
    // The nova servers still go through 2024.2.
    assert!(
        plan.steps
            .iter()
            .any(|s| s.id == "h0.start.nova-conductor@ctl-1"
                && s.release.as_deref() == Some("2024.2"))
    );

    // 2023.1 -> 2025.1: two SLURP intervals; a compute may not lag a 2024.2 control plane
    // from 2023.1 (back to the previous SLURP only), so it restarts at 2024.1 and 2025.1:
    // twice instead of four times.
    let controller = at("2023.1", SLURP_CONTROLLER);
    let compute = at("2023.1", SLURP_COMPUTE);
    let plan = plan_hosts(
        &catalog,
        &[("ctl-1", &controller), ("cmp-[1:3]", &compute)],
        "2025.1",
        &policy,
    );
    assert_eq!(plan.path.len(), 5);
    assert_eq!(violations(&catalog, &plan), []);
    assert_phases_in_order(&plan);
    let computes = starts_per_host(&plan, "nova-compute");
    assert!(computes.values().all(|&count| count == 2), "{computes:?}");
    let releases: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.id == "h1.start.nova-compute@cmp-1" || s.id == "h3.start.nova-compute@cmp-1")
        .filter_map(|s| s.release.as_deref())
        .collect();
    assert_eq!(releases, ["2024.1", "2025.1"]);
}

#[test]
fn slurp_rolling_without_an_inventory_passes_verify() {
    let catalog = nova_catalog();
    let plan = catalog
        .plan("2023.1", "2025.1", &rolling_policy(true))
        .unwrap();
    assert_eq!(violations(&catalog, &plan), []);
    assert_phases_in_order(&plan);
    assert_eq!(starts_per_host(&plan, "nova-compute")[""], 2);
    // Without SLURP, a compute restarts every hop.
    let plan = catalog
        .plan("2023.1", "2025.1", &rolling_policy(false))
        .unwrap();
    assert_eq!(starts_per_host(&plan, "nova-compute")[""], 4);
}

#[test]
fn slurp_rolling_with_max_skew_one_upgrades_agents_every_hop() {
    // The embedded catalog as it was: nova's computes lag one release at most.
    let text = Catalog::openstack_yaml().replace("max_skew: slurp", "max_skew: 1");
    let catalog = Catalog::from_yaml_str(&text, "one.yaml").unwrap();
    let plan = catalog
        .plan("2024.1", "2025.1", &rolling_policy(true))
        .unwrap();
    assert_eq!(violations(&catalog, &plan), []);
    assert_eq!(starts_per_host(&plan, "nova-compute")[""], 2);
}

#[test]
fn rolling_places_catalog_tasks_and_restart_order_in_their_phases() {
    let catalog = Catalog::from_path(common::data("rolling-tasks.yaml")).unwrap();
    let controller: &[(&str, &str)] = &[
        ("ident-api", "r1"),
        ("compute-api", "r1"),
        ("compute-conductor", "r1"),
    ];
    let plan = plan_hosts(
        &catalog,
        &[
            ("ctl-[1:2]", controller),
            ("cmp-1", &[("compute-agent", "r1")]),
        ],
        "r3",
        &rolling_policy(false),
    );
    assert_eq!(violations(&catalog, &plan), []);
    assert_phases_in_order(&plan);
    let ids: Vec<String> = plan
        .steps
        .iter()
        .map(|s| format!("{} {}", s.phase.map_or("-", Phase::as_str), s.id))
        .collect();
    let expected = EXPECTED_TASK_PLAN
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>();
    assert_eq!(ids, expected, "\n{}", ids.join("\n"));
}

/// The plan of `rolling_places_catalog_tasks_and_restart_order_in_their_phases`, phase and
/// id per step: precheck and prepare first; per service, the bootstrap host stopped and the
/// `after_stop` tasks, backup, install, migrations between their tasks, the readiness check
/// and `before_start` (hop 0), the restart in `restart_order` (conductor on every host, then
/// api), the agents; then what waits for every component (finalize, or converge on the last
/// hop with the converge tasks, the temporary setting removed and the post-check), and
/// finalize.
const EXPECTED_TASK_PLAN: &str = "
    precheck h0.task.compute.archive
    prepare h0.compute.r1.online
    prepare h0.task.compute.quiesce
    stop h0.stop.ident-api@ctl-1
    install h0.install.ident@ctl-1
    start h0.start.ident-api@ctl-1
    start h0.stop.ident-api@ctl-2
    start h0.install.ident@ctl-2
    start h0.start.ident-api@ctl-2
    finalize h0.finalize.ident
    stop h0.stop.compute-conductor@ctl-1
    stop h0.stop.compute-api@ctl-1
    stop h0.task.compute.drain@ctl-1
    stop h0.task.compute.drain@ctl-2
    stop h0.task.compute.drain@cmp-1
    backup h0.backup.compute
    install h0.install.compute@ctl-1
    migrations h0.task.compute.r2.create-db
    migrations h0.compute.r2.sync
    migrations h0.task.compute.r2.map-cells
    start h0.precheck.compute
    start h0.task.compute.pin-rpc@ctl-1
    start h0.task.compute.pin-rpc@ctl-2
    start h0.task.compute.pin-rpc@cmp-1
    start h0.start.compute-conductor@ctl-1
    start h0.stop.compute-conductor@ctl-2
    start h0.install.compute@ctl-2
    start h0.start.compute-conductor@ctl-2
    start h0.start.compute-api@ctl-1
    start h0.stop.compute-api@ctl-2
    start h0.start.compute-api@ctl-2
    start h0.stop.compute-agent@cmp-1
    start h0.install.compute@cmp-1
    start h0.start.compute-agent@cmp-1
    finalize h0.compute.r2.online
    finalize h0.finalize.compute
    prepare h1.task.compute.quiesce
    stop h1.stop.ident-api@ctl-1
    install h1.install.ident@ctl-1
    start h1.start.ident-api@ctl-1
    start h1.stop.ident-api@ctl-2
    start h1.install.ident@ctl-2
    start h1.start.ident-api@ctl-2
    converge h1.postcheck.ident
    finalize h1.finalize.ident
    stop h1.stop.compute-conductor@ctl-1
    stop h1.stop.compute-api@ctl-1
    stop h1.task.compute.drain@ctl-1
    stop h1.task.compute.drain@ctl-2
    stop h1.task.compute.drain@cmp-1
    backup h1.backup.compute
    install h1.install.compute@ctl-1
    migrations h1.compute.r3.sync
    start h1.precheck.compute
    start h1.start.compute-conductor@ctl-1
    start h1.stop.compute-conductor@ctl-2
    start h1.install.compute@ctl-2
    start h1.start.compute-conductor@ctl-2
    start h1.start.compute-api@ctl-1
    start h1.stop.compute-api@ctl-2
    start h1.start.compute-api@ctl-2
    start h1.stop.compute-agent@cmp-1
    start h1.install.compute@cmp-1
    start h1.start.compute-agent@cmp-1
    converge h1.compute.r3.online
    converge h1.task.compute.discover
    converge h1.undo.compute.pin-rpc@ctl-1
    converge h1.undo.compute.pin-rpc@ctl-2
    converge h1.undo.compute.pin-rpc@cmp-1
    converge h1.postcheck.compute
    finalize h1.finalize.compute
";

/// A SLURP catalog: r1 and r3 are SLURP releases; compute's agents may lag back to the
/// previous one. `extra` adds migrations.
fn slurp_catalog(extra: &str) -> Catalog {
    let text = format!(
        "format: ffu-catalog/1
name: slurp
releases:
  - {{name: r1, slurp: true}}
  - {{name: r2}}
  - {{name: r3, slurp: true}}
skip_level: slurp
services:
  - name: compute
    max_skew: slurp
    databases: [compute]
    components:
      - {{name: compute-api, role: control}}
      - {{name: compute-agent, role: agent}}
migrations:
  - {{id: compute.r2.sync, service: compute, release: r2, kind: migrate, command: sync}}
  - {{id: compute.r3.sync, service: compute, release: r3, kind: migrate, command: sync}}
{extra}"
    );
    Catalog::from_yaml_str(&text, "slurp.yaml").unwrap()
}

#[test]
fn slurp_agents_move_in_a_hop_with_a_contract_of_their_service() {
    let policy = rolling_policy(true);
    let agent_starts = |plan: &Plan| -> Vec<(usize, String)> {
        plan.steps
            .iter()
            .filter(|s| {
                s.kind == StepKind::Start && s.component.as_deref() == Some("compute-agent")
            })
            .map(|s| (s.hop, s.release.clone().unwrap()))
            .collect()
    };
    // No contract: the agent waits at r1 while the control plane passes r2.
    let catalog = slurp_catalog("");
    let plan = catalog.plan("r1", "r3", &policy).unwrap();
    assert_eq!(violations(&catalog, &plan), []);
    assert_eq!(agent_starts(&plan), [(1, "r3".to_owned())]);
    let finalize = plan
        .steps
        .iter()
        .find(|s| s.id == "h0.finalize.compute")
        .unwrap();
    assert!(
        finalize.reason.contains("its agents stay behind"),
        "{}",
        finalize.reason
    );
    // A contract at r2 runs only once no component runs r1 (V6): the agent moves in hop 0.
    let catalog = slurp_catalog(
        "  - {id: compute.r2.contract, service: compute, release: r2, kind: contract, command: contract, requires: [compute.r2.sync]}\n",
    );
    let plan = catalog.plan("r1", "r3", &policy).unwrap();
    assert_eq!(violations(&catalog, &plan), []);
    assert_eq!(
        agent_starts(&plan),
        [(0, "r2".to_owned()), (1, "r3".to_owned())]
    );
}
