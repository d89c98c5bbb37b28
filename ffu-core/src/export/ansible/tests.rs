use super::*;
use crate::plan::{Policy, StepKind};

/// A step of `kind` on `host` (its id `ID@HOST` when `host` is given), of service `svc`.
fn step(id: &str, kind: StepKind, host: Option<&str>, batch: Option<usize>) -> Step {
    let full = host.map_or_else(|| id.to_owned(), |h| format!("{id}@{h}"));
    let mut step = Step::new(full, 0, kind, format!("why {id} {host:?}"));
    step.service = Some("svc".to_owned());
    step.host = host.map(str::to_owned);
    step.batch = batch;
    step
}

fn plan(steps: Vec<Step>) -> Plan {
    Plan::new("t", "a", "b", Policy::default(), vec![], vec![], steps)
}

fn site(plan: &Plan, options: &AnsibleOptions) -> serde_json::Value {
    let exported = export(plan, None, options).unwrap();
    let site = &exported
        .files
        .iter()
        .find(|(n, _)| n == "site.yml")
        .unwrap()
        .1;
    serde_saphyr::from_str(site).unwrap()
}

fn with_command(mut step: Step, command: &str) -> Step {
    step.command = Some(command.to_owned());
    step
}

#[test]
fn batches_become_one_serial_play_and_host_families_one_task() {
    let mut steps = vec![with_command(
        step("h0.m", StepKind::Migrate, Some("c1"), None),
        "m",
    )];
    for (batch, hosts) in [(1, ["a", "b"].as_slice()), (2, &["c", "d"]), (3, &["e"])] {
        for kind in [StepKind::Stop, StepKind::Start] {
            for host in hosts {
                let id = format!("h0.{}.agent", kind.as_str());
                steps.push(with_command(step(&id, kind, Some(host), Some(batch)), "x"));
            }
        }
    }
    let plan = plan(steps);
    let site = site(&plan, &AnsibleOptions::default());
    let plays = site.as_array().unwrap();
    assert_eq!(plays.len(), 2);
    assert_eq!(plays[0]["hosts"], serde_json::json!(["c1"]));
    assert_eq!(plays[0]["tasks"][0]["name"], "h0.m@c1");
    assert_eq!(plays[1]["serial"], serde_json::json!([2, 2, 1]));
    assert_eq!(
        plays[1]["hosts"],
        serde_json::json!(["a", "b", "c", "d", "e"])
    );
    let names: Vec<&str> = plays[1]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "h0.stop.agent@{{ inventory_hostname }}",
            "h0.start.agent@{{ inventory_hostname }}"
        ]
    );
    assert_eq!(
        plays[1]["tasks"][0]["tags"],
        serde_json::json!(["hop0", "stop", "svc"])
    );
}

#[test]
fn actions_follow_templates_commands_units_else_debug() {
    let mut stop = step("h0.stop.api", StepKind::Stop, Some("h"), None);
    stop.unit = Some("api.service".to_owned());
    stop.disable = true;
    let backup = with_command(step("h0.backup", StepKind::Backup, None, None), "dump {x}");
    let data = with_command(
        step("h0.data", StepKind::Data, None, None),
        "svc-manage db online_data_migrations",
    );
    let install = step("h0.install", StepKind::Install, Some("h"), None);
    let check = with_command(step("h0.check", StepKind::Precheck, None, None), "ok");
    let plan = plan(vec![stop, backup, data, install, check]);
    let options = AnsibleOptions {
        commands: vec![CommandTemplate::parse("backup=save {service} {step} on {host}").unwrap()],
        ..AnsibleOptions::default()
    };
    let exported = export(&plan, None, &options).unwrap();
    assert_eq!(exported.manual, ["h0.install@h"]);
    let site = site(&plan, &options);
    let tasks: Vec<&serde_json::Value> = site
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["tasks"].as_array().unwrap())
        .collect();
    assert_eq!(
        tasks[0]["ansible.builtin.service"],
        serde_json::json!({"name": "api.service", "state": "stopped", "enabled": false})
    );
    assert_eq!(
        tasks[1]["ansible.builtin.shell"]["cmd"],
        "save svc h0.backup on {{ inventory_hostname }}"
    );
    assert_eq!(tasks[2]["until"], "ffu_data.rc != 1");
    assert_eq!(tasks[2]["failed_when"], "ffu_data.rc != 0");
    assert!(tasks[3]["ansible.builtin.debug"]["msg"]
        .as_str()
        .unwrap()
        .contains("--command install=TEMPLATE"));
    assert_eq!(tasks[4]["changed_when"], false);
    // Hostless steps run on the service's bootstrap group.
    assert_eq!(site[1]["hosts"], serde_json::json!(["ffu_svc_bootstrap"]));
}

#[test]
fn braces_reach_ansible_literally() {
    let plan = plan(vec![with_command(
        step("h0.t", StepKind::Task, None, None),
        "awk '{print $1}' {{ x }}",
    )]);
    let site = site(&plan, &AnsibleOptions::default());
    assert_eq!(
        site[0]["tasks"][0]["ansible.builtin.shell"]["cmd"],
        "awk '{{ '{' }}print $1}' {{ '{' }}{{ '{' }} x }}"
    );
}

#[test]
fn journal_wraps_each_step_in_a_claim_and_a_record() {
    let plan = plan(vec![with_command(
        step("h0.t", StepKind::Task, Some("h"), None),
        "run it",
    )]);
    let options = AnsibleOptions {
        journal: Some("sqlite:/j.db".to_owned()),
        ..AnsibleOptions::default()
    };
    let site = site(&plan, &options);
    let plays = site.as_array().unwrap();
    assert_eq!(plays.len(), 3, "lock, the step, unlock");
    assert_eq!(plays[0]["hosts"], serde_json::json!(["localhost"]));
    let block = &plays[1]["tasks"][0];
    assert_eq!(block["name"], "h0.t@h");
    let inner = block["block"].as_array().unwrap();
    assert_eq!(inner[0]["name"], "h0.t@h");
    let claim = inner[0]["vars"]["ffu_journal_command"].as_str().unwrap();
    assert!(
        claim.starts_with("( 'ffu' journal start --db 'sqlite:/j.db'")
            && claim.ends_with(" 'h0.t@h' ) 2>&1; echo \"ffu-exit=$?\""),
        "{claim}"
    );
    assert_eq!(inner[1]["ansible.builtin.shell"]["cmd"], "run it");
    assert_eq!(inner[1]["when"], CLAIMED);
    assert!(inner[2]["vars"]["ffu_journal_command"]
        .as_str()
        .unwrap()
        .contains("journal done"));
    assert!(block["rescue"][0]["vars"]["ffu_journal_command"]
        .as_str()
        .unwrap()
        .contains("journal fail --db 'sqlite:/j.db'"));
}

#[test]
fn plan_and_inventory_must_match() {
    let catalog = Catalog::openstack();
    let inventory =
        Inventory::from_hosts(&catalog, &[("ctl-1", &[("nova-api", "newton")])]).unwrap();
    let other_catalog = plan(vec![step("h0.x", StepKind::Stop, Some("ctl-1"), None)]);
    let err = export(
        &other_catalog,
        Some((&catalog, &inventory)),
        &AnsibleOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("catalog \"t\""), "{err}");
    let mut on_unknown = plan(vec![step("h0.x", StepKind::Stop, Some("cmp-9"), None)]);
    on_unknown.catalog = "openstack".to_owned();
    let err = export(
        &on_unknown,
        Some((&catalog, &inventory)),
        &AnsibleOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "step \"h0.x@cmp-9\" runs on host \"cmp-9\", which the inventory does not list"
        ),
        "{err}"
    );
}
