//! Rolling upgrades: one release at a time, servers upgraded while the others serve, new
//! API extensions only after `finalize`, agents within their skew.

mod common;

use ffu_core::{verify, Catalog, Error, Mode, Plan, Policy, StepKind};

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
            ("expand", "h0.neutron.rocky.expand"),
            ("stop", "h0.stop.neutron-server"),
            ("install", "h0.install.neutron"),
            ("start", "h0.start.neutron-server"),
            ("stop", "h0.stop.neutron-openvswitch-agent"),
        ]
    );
    assert_eq!(
        kinds[kinds.len() - 2..],
        [
            ("contract", "h0.neutron.rocky.contract"),
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
        ["after step h1.start.nova-api, nova-compute runs queens while a nova control component runs stein: 2 releases behind, more than max_skew 1"]
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
            .contains("\n 1. stop      h0.stop.keystone-api@ctl-1\n"),
        "{}",
        run.stdout
    );
    // Steps whose id does not name the host (migrations on the bootstrap host) say where.
    assert!(
        run.stdout
            .contains(" expand    h0.keystone.queens.expand  @ctl-1\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn rolling_upgrades_refuse_skip_level() {
    let catalog = Catalog::openstack();
    let policy = Policy {
        mode: Mode::Rolling,
        skip_level: true,
        services: Some(vec!["keystone".to_owned()]),
        ..Policy::default()
    };
    // 2023.1 -> 2024.1 is a SLURP edge. A rolling plan goes one release at a time, and
    // rolling SLURP upgrades are not planned yet: asking for one is refused, not ignored.
    let err = catalog.plan("2023.1", "2024.1", &policy).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "unsupported: skip_level in rolling mode: rolling SLURP upgrades are not supported yet; skip_level needs offline mode"
    );
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
        .take(9)
        .collect();
    assert_eq!(
        nova,
        [
            ("h0.backup.nova", "ctl-1"),
            ("h0.stop.nova-api@ctl-1", "ctl-1"),
            ("h0.stop.nova-conductor@ctl-1", "ctl-1"),
            ("h0.install.nova@ctl-1", "ctl-1"),
            ("h0.nova.queens.api-db-sync", "ctl-1"),
            ("h0.nova.queens.db-sync", "ctl-1"),
            ("h0.precheck.nova", "ctl-1"),
            ("h0.start.nova-api@ctl-1", "ctl-1"),
            ("h0.start.nova-conductor@ctl-1", "ctl-1"),
        ]
    );
}
