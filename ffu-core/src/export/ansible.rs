//! A plan as an Ansible playbook directory (DESIGN §9): `inventory.yml`, `site.yml` and the
//! plan itself (`plan.json`, which the journal checks every step against).
//!
//! **Plays.** Steps keep plan order. Consecutive steps that differ only by their host (the
//! same step id before `@HOST`, the same command, component, release, ...) become one task
//! that runs on those hosts at once, named `PREFIX@{{ inventory_hostname }}`, which Ansible
//! shows as each host's step id; every other task is named by its step id. Consecutive
//! tasks on the same hosts share a play. Agent batches (steps that carry `batch`) become one
//! play over the batches' hosts with `serial` set to the batch sizes, when every batch runs
//! the same steps (the usual case); Ansible then runs the whole play on one batch after
//! the other. A playbook with one task per host and step would make Ansible evaluate every
//! task on every host of a play: quadratic in the fleet.
//!
//! **Hosts.** A step with a `host` runs there; a step without one (a plan made without an
//! inventory) runs on its service's bootstrap group `ffu_SERVICE_bootstrap`, whose host
//! `inventory.yml` asks the operator to fill in.
//!
//! **Actions.** A `--command` template for the step's kind, else the step's command, runs
//! as a shell task; else a `stop`/`start` of a component with a `unit` uses
//! `ansible.builtin.service`; else a `debug` task says what to do by hand, and the export
//! lists the step in [`AnsibleExport::manual`].
//!
//! **Journal.** With one, every step is a block: `ffu journal start` on the controller
//! claims the step (or says it is done: the block then does nothing), the action runs on
//! the host, `ffu journal done` records it; a failure records `ffu journal fail` with the
//! error and stops the run. The first play takes the journal's lock for the run, the last
//! releases it.
//!
//! Text from the plan and the templates reaches Ansible literally: every `{` is written as
//! `{{ '{' }}`, so that Jinja never reads a command's braces as a template.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashSet;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::template::CommandTemplate;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::inventory::Inventory;
use crate::plan::{Plan, Step, StepKind};

/// The variable Ansible gives the host a task runs on.
const HOST_VAR: &str = "{{ inventory_hostname }}";

/// How to export.
#[derive(Debug, Clone)]
pub struct AnsibleOptions {
    /// The journal every step records itself in, as `ffu journal --db` takes it
    /// (`sqlite:PATH`; give an absolute path, since the playbook may run from anywhere).
    pub journal: Option<String>,
    /// Commands per step kind; a later template for a kind wins.
    pub commands: Vec<CommandTemplate>,
    /// The `ffu` the playbook calls for the journal (default: `ffu`, found on `PATH`).
    pub ffu: String,
}

impl Default for AnsibleOptions {
    fn default() -> Self {
        AnsibleOptions {
            journal: None,
            commands: Vec::new(),
            ffu: "ffu".to_owned(),
        }
    }
}

/// The exported playbook directory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AnsibleExport {
    /// File name and text: `inventory.yml`, `site.yml`, `plan.json`.
    pub files: Vec<(String, String)>,
    /// The steps with nothing to run (no command, no template, no unit), which became
    /// `debug` tasks that say what to do by hand.
    pub manual: Vec<String>,
    /// How many plays and tasks `site.yml` has.
    pub plays: usize,
    /// How many tasks (a journal's block counts once).
    pub tasks: usize,
}

/// The hosts of the export and the services each runs.
struct Fleet {
    /// Host name and its services, in inventory order.
    hosts: Vec<(String, BTreeSet<String>)>,
    /// Where they come from, for messages.
    file: Option<String>,
}

impl Fleet {
    fn new(plan: &Plan, inventory: Option<(&Catalog, &Inventory)>) -> Result<Fleet> {
        let Some((catalog, inventory)) = inventory else {
            // Without an inventory the hosts the plan names (if any) are the fleet.
            let mut hosts: Vec<(String, BTreeSet<String>)> = Vec::new();
            let mut index: BTreeMap<&str, usize> = BTreeMap::new();
            for step in &plan.steps {
                if let Some(host) = &step.host {
                    let at = *index.entry(host).or_insert_with(|| {
                        hosts.push((host.clone(), BTreeSet::new()));
                        hosts.len() - 1
                    });
                    hosts[at].1.extend(step.service.clone());
                }
            }
            return Ok(Fleet { hosts, file: None });
        };
        if catalog.name() != plan.catalog {
            return Err(Error::Export {
                message: format!(
                    "the plan was made with catalog {:?}, the inventory is read with catalog {:?}: give the plan's catalog",
                    plan.catalog,
                    catalog.name()
                ),
            });
        }
        let hosts = inventory
            .hosts()
            .iter()
            .map(|host| {
                let services = host
                    .components
                    .iter()
                    .map(|&(component, _)| {
                        let service = catalog.component(component).service;
                        catalog.services()[service.index()].name.clone()
                    })
                    .collect();
                (host.name.clone(), services)
            })
            .collect();
        Ok(Fleet {
            hosts,
            file: Some(inventory.file().to_owned()),
        })
    }

    /// Where `step` runs: its host, else its service's bootstrap host (the first host of
    /// the inventory that runs the service) or group.
    fn target(&self, step: &Step, known: &BTreeSet<&str>) -> Result<String> {
        if let Some(host) = &step.host {
            if self.file.is_some() && !known.contains(host.as_str()) {
                return Err(self.mismatch(&format!(
                    "step {:?} runs on host {host:?}, which the inventory does not list",
                    step.id
                )));
            }
            return Ok(host.clone());
        }
        let Some(service) = &step.service else {
            return Ok("localhost".to_owned());
        };
        if self.file.is_none() {
            return Ok(bootstrap_group(service));
        }
        self.hosts
            .iter()
            .find(|(_, services)| services.contains(service))
            .map(|(name, _)| name.clone())
            .ok_or_else(|| {
                self.mismatch(&format!(
                    "step {:?} belongs to service {service:?}, which no host of the inventory runs",
                    step.id
                ))
            })
    }

    fn mismatch(&self, what: &str) -> Error {
        Error::Export {
            message: format!(
                "the plan and the inventory {} do not match: {what}",
                self.file.as_deref().unwrap_or("")
            ),
        }
    }
}

fn group_name(service: &str) -> String {
    let clean: String = service
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("ffu_{clean}")
}

fn bootstrap_group(service: &str) -> String {
    format!("{}_bootstrap", group_name(service))
}

/// Text as Jinja reads it back unchanged: every `{` written as an expression that gives
/// `{`, so nothing in it opens a template, a statement or a comment.
pub(crate) fn jinja_literal(text: &str) -> String {
    if !text.contains('{') {
        return text.to_owned();
    }
    text.replace('{', "{{ '{' }}")
}

/// Consecutive steps that differ only by host, run as one task.
struct Unit {
    steps: Vec<usize>,
    hosts: Vec<String>,
    /// The step id before `@HOST`, when the steps are a family across hosts.
    prefix: Option<String>,
    key: Option<String>,
    batch: Option<usize>,
    hop: usize,
    service: Option<String>,
}

/// A step's id before `@HOST` and what makes steps one family: the step with its id, host,
/// batch and reason (which names the host) left out, and its `requires` (the order, which
/// the plays keep; each host's copy waits for steps of its own host).
fn family(step: &Step) -> Option<(String, String)> {
    let host = step.host.as_deref()?;
    let prefix = step.id.strip_suffix(host)?.strip_suffix('@')?;
    let mut bare = step.clone();
    prefix.clone_into(&mut bare.id);
    bare.host = None;
    bare.batch = None;
    bare.reason.clear();
    bare.requires.clear();
    // What a service advertises after a step informs; it does not change what runs.
    bare.advertised = None;
    Some((
        prefix.to_owned(),
        serde_json::to_string(&bare).unwrap_or_default(),
    ))
}

fn units(plan: &Plan, targets: &[String]) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    // The hosts of the last unit: a unit of 10,000 hosts must not be searched per step.
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    for (index, step) in plan.steps.iter().enumerate() {
        let family = family(step);
        if let Some(last) = units.last_mut() {
            let same = matches!((&last.key, &family), (Some(a), Some((_, b))) if a == b);
            if same
                && last.batch == step.batch
                && last.service == step.service
                && seen.insert(&targets[index])
            {
                last.steps.push(index);
                last.hosts.push(targets[index].clone());
                continue;
            }
        }
        seen.clear();
        seen.insert(&targets[index]);
        let (prefix, key) = family.unzip();
        units.push(Unit {
            steps: vec![index],
            hosts: vec![targets[index].clone()],
            prefix,
            key,
            batch: step.batch,
            hop: step.hop,
            service: step.service.clone(),
        });
    }
    units
}

/// A play: its hosts, its batches' sizes (`serial`), and its units.
struct PlayPlan<'a> {
    hosts: Vec<String>,
    serial: Option<Vec<usize>>,
    units: Vec<&'a Unit>,
}

/// The units grouped in plays: batches with one play per run of alike batches, else one
/// play per run of units on the same hosts.
fn plays(units: &[Unit]) -> Vec<PlayPlan<'_>> {
    let mut plays: Vec<PlayPlan<'_>> = Vec::new();
    let mut i = 0;
    while i < units.len() {
        if units[i].batch.is_some() {
            let end = (i..units.len())
                .find(|&j| units[j].batch.is_none() || units[j].hop != units[i].hop)
                .unwrap_or(units.len());
            batch_plays(&units[i..end], &mut plays);
            i = end;
            continue;
        }
        match plays.last_mut() {
            Some(play)
                if play.serial.is_none()
                    && play.hosts == units[i].hosts
                    && play.units[0].hop == units[i].hop =>
            {
                play.units.push(&units[i]);
            }
            _ => plays.push(PlayPlan {
                hosts: units[i].hosts.clone(),
                serial: None,
                units: vec![&units[i]],
            }),
        }
        i += 1;
    }
    plays
}

/// One batch: its hosts, in order, and its units.
struct Batch<'a> {
    hosts: Vec<String>,
    units: &'a [Unit],
}

impl Batch<'_> {
    /// Every unit runs on all the batch's hosts: one task per unit serves every batch.
    fn uniform(&self) -> bool {
        self.units.iter().all(|u| {
            u.prefix.is_some() && u.hosts.len() == self.hosts.len()
                || self.hosts.len() == 1 && u.hosts.len() == 1
        })
    }

    fn signature(&self) -> Vec<Option<&str>> {
        self.units.iter().map(|u| u.key.as_deref()).collect()
    }
}

fn batch_plays<'a>(units: &'a [Unit], plays: &mut Vec<PlayPlan<'a>>) {
    let mut batches: Vec<Batch<'a>> = Vec::new();
    let mut start = 0;
    for end in 1..=units.len() {
        // One batch: a run of one batch number and service (two services' batches of one
        // number, one after the other, are two batches, as in `crate::plan::chain`).
        if end == units.len()
            || units[end].batch != units[start].batch
            || units[end].service != units[start].service
        {
            let mut hosts: Vec<String> = Vec::new();
            let mut seen: FxHashSet<&str> = FxHashSet::default();
            for unit in &units[start..end] {
                for host in &unit.hosts {
                    if seen.insert(host) {
                        hosts.push(host.clone());
                    }
                }
            }
            batches.push(Batch {
                hosts,
                units: &units[start..end],
            });
            start = end;
        }
    }
    let mut b = 0;
    while b < batches.len() {
        let first = &batches[b];
        if !first.uniform() || first.units.iter().any(|u| u.key.is_none()) {
            // Steps that differ per host within a batch: their own plays, in order.
            for unit in first.units {
                plays.push(PlayPlan {
                    hosts: unit.hosts.clone(),
                    serial: None,
                    units: vec![unit],
                });
            }
            b += 1;
            continue;
        }
        let signature = first.signature();
        let mut play = PlayPlan {
            hosts: Vec::new(),
            serial: Some(Vec::new()),
            units: first.units.iter().collect(),
        };
        while b < batches.len() && batches[b].uniform() && batches[b].signature() == signature {
            play.hosts.extend(batches[b].hosts.iter().cloned());
            play.serial
                .get_or_insert_with(Vec::new)
                .push(batches[b].hosts.len());
            b += 1;
        }
        plays.push(play);
    }
}

/// An Ansible task (or block), with only the keys it uses.
#[derive(Debug, Default, Serialize)]
struct Task {
    name: String,
    #[serde(
        rename = "ansible.builtin.shell",
        skip_serializing_if = "Option::is_none"
    )]
    shell: Option<Shell>,
    #[serde(
        rename = "ansible.builtin.command",
        skip_serializing_if = "Option::is_none"
    )]
    command: Option<Argv>,
    #[serde(
        rename = "ansible.builtin.service",
        skip_serializing_if = "Option::is_none"
    )]
    service: Option<ServiceArgs>,
    #[serde(
        rename = "ansible.builtin.debug",
        skip_serializing_if = "Option::is_none"
    )]
    debug: Option<Message>,
    #[serde(
        rename = "ansible.builtin.fail",
        skip_serializing_if = "Option::is_none"
    )]
    fail: Option<Message>,
    #[serde(
        rename = "ansible.builtin.set_fact",
        skip_serializing_if = "Option::is_none"
    )]
    set_fact: Option<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vars: Option<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    block: Option<Vec<Task>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rescue: Option<Vec<Task>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delegate_to: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    register: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    when: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retries: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_when: Option<Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed_when: Option<Condition>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Condition {
    Always(bool),
    Expression(String),
}

#[derive(Debug, Serialize)]
struct Shell {
    cmd: String,
}

#[derive(Debug, Serialize)]
struct Argv {
    argv: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ServiceArgs {
    name: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Message {
    msg: String,
}

#[derive(Debug, Serialize)]
struct Play {
    name: String,
    hosts: Vec<String>,
    gather_facts: bool,
    /// An upgrade must not go on past a failed step on any host.
    any_errors_fatal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial: Option<Vec<usize>>,
    tasks: Vec<Task>,
}

/// How many data migration rounds a step may take: `online_data_migrations` exits 1 while
/// it migrated rows and more may be left, and is run again until it exits 0.
const DATA_ROUNDS: u32 = 1000;

/// The task builder for one export.
struct Builder<'a> {
    plan: &'a Plan,
    options: &'a AnsibleOptions,
    templates: BTreeMap<StepKind, &'a CommandTemplate>,
    manual: Vec<String>,
}

impl Builder<'_> {
    /// A unit's task, for a play on `hosts` hosts.
    fn task(&mut self, unit: &Unit, play_hosts: usize) -> Task {
        let step = &self.plan.steps[unit.steps[0]];
        // A task that runs on several hosts names each host's own step.
        let reference = match (&unit.prefix, play_hosts > 1) {
            (Some(prefix), true) => format!("{}@{HOST_VAR}", jinja_literal(prefix)),
            _ => jinja_literal(&step.id),
        };
        let mut action = self.action(step, &reference);
        if action.debug.is_some() {
            for &index in &unit.steps {
                self.manual.push(self.plan.steps[index].id.clone());
            }
        }
        let tags = tags(step);
        let Some(db) = &self.options.journal else {
            action.name = reference;
            action.tags = tags;
            return action;
        };
        // The step id as a shell word: `'PREFIX@'HOST` on several hosts.
        let step_word = match (&unit.prefix, play_hosts > 1) {
            (Some(prefix), true) => format!(
                "{}{{{{ inventory_hostname | quote }}}}",
                shell_word(&format!("{prefix}@"))
            ),
            _ => shell_word(&step.id),
        };
        let journal = |verb: &str, extra: &str| {
            format!(
                "{} {extra} {step_word}",
                journal_command(self.options, db, verb)
            )
        };
        action.name = format!("{reference}: run");
        action.when = Some(CLAIMED);
        let claim = pipe_task(
            reference.clone(),
            "ffu_step_claim",
            "ffu_claim",
            &journal(
                "start",
                "--host {{ inventory_hostname | quote }} --runner ansible-playbook",
            ),
        );
        let mut done = pipe_task(
            format!("{reference}: done"),
            "ffu_step_done",
            "ffu_done",
            &journal("done", "--keep-lock"),
        );
        done.when = Some(CLAIMED);
        let mut failed = pipe_task(
            format!("{reference}: failed"),
            "ffu_step_failed",
            "ffu_failed",
            &journal("fail", "--keep-lock --error {{ ((ansible_failed_result.msg | default('failed')) ~ ' (rc ' ~ (ansible_failed_result.rc | default('none')) ~ ') ' ~ (ansible_failed_result.stderr | default('') | truncate(2000))) | quote }}"),
        );
        failed.when = Some(CLAIMED);
        let halt = Task {
            name: format!("{reference}: stop the run"),
            fail: Some(Message {
                msg: format!(
                    "step {reference} failed on {HOST_VAR}: {{{{ ansible_failed_result.msg | default('') }}}} {{{{ (ansible_failed_result.ansible_facts | default({{}})) | dict2items | map(attribute='value') | join(' ') }}}}"
                ),
            }),
            ..Task::default()
        };
        Task {
            name: reference,
            block: Some(vec![claim, action, done]),
            rescue: Some(vec![failed, halt]),
            tags,
            ..Task::default()
        }
    }

    /// What a step does: a template's or its own command, a service, or a message.
    fn action(&self, step: &Step, reference: &str) -> Task {
        let command = match self.templates.get(&step.kind) {
            Some(template) => {
                Some(template.render(|name| placeholder(step, name, reference), jinja_literal))
            }
            None => step.command.as_deref().map(jinja_literal),
        };
        if let Some(cmd) = command {
            return shell_task(step, cmd);
        }
        match (&step.unit, step.kind) {
            (Some(unit), StepKind::Stop | StepKind::Start) => {
                let stopping = step.kind == StepKind::Stop;
                let enabled = if stopping {
                    step.disable.then_some(false)
                } else {
                    step.enable.then_some(true)
                };
                Task {
                    service: Some(ServiceArgs {
                        name: jinja_literal(unit),
                        state: if stopping { "stopped" } else { "started" },
                        enabled,
                    }),
                    ..Task::default()
                }
            }
            _ => Task {
                debug: Some(Message {
                    msg: jinja_literal(&format!(
                        "by hand ({} has nothing to run; give --command {}=TEMPLATE): {}",
                        step.kind.as_str(),
                        step.kind.as_str(),
                        step.reason
                    )),
                }),
                ..Task::default()
            },
        }
    }
}

/// A shell task whose `changed_when`/`failed_when` fit the step: checks change nothing;
/// `online_data_migrations` runs again while it exits 1 (rows migrated, more may be left).
fn shell_task(step: &Step, cmd: String) -> Task {
    let check = matches!(step.kind, StepKind::Precheck | StepKind::Postcheck);
    let rounds = step.kind == StepKind::Data
        && step.command.as_deref().is_some_and(|c| {
            c.contains("online_data_migrations") || c.contains("online-data-migrations")
        });
    let mut task = Task {
        shell: Some(Shell { cmd }),
        changed_when: Some(Condition::Always(!check)),
        ..Task::default()
    };
    if rounds {
        task.register = Some("ffu_data");
        task.until = Some("ffu_data.rc != 1");
        task.retries = Some(DATA_ROUNDS);
        task.delay = Some(0);
        task.failed_when = Some(Condition::Expression("ffu_data.rc != 0".to_owned()));
    }
    task
}

/// The value of a template placeholder for `step`, as Jinja text.
fn placeholder(step: &Step, name: &str, reference: &str) -> String {
    let literal = |value: Option<&str>| jinja_literal(value.unwrap_or(""));
    match name {
        "step" => reference.to_owned(),
        "host" => HOST_VAR.to_owned(),
        "service" => literal(step.service.as_deref()),
        "component" => literal(step.component.as_deref()),
        "unit" => literal(step.unit.as_deref().or(step.component.as_deref())),
        "release" => literal(step.release.as_deref()),
        // `action` is the kind: what the template is asked to do.
        _ => step.kind.as_str().to_owned(),
    }
}

/// A step's tags: its hop (`hop0`), phase, kind and service.
fn tags(step: &Step) -> Vec<String> {
    let mut tags = vec![format!("hop{}", step.hop)];
    let more = [
        step.phase.map(|p| p.as_str().to_owned()),
        Some(step.kind.as_str().to_owned()),
        step.service.clone(),
    ];
    for tag in more.into_iter().flatten() {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

/// A map that keeps its insertion order when serialized.
struct Ordered<V>(Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Group {
    #[serde(skip_serializing_if = "Option::is_none")]
    hosts: Option<Ordered<BTreeMap<String, String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<Ordered<Group>>,
}

fn host_entries(names: &[&str]) -> Ordered<BTreeMap<String, String>> {
    Ordered(
        names
            .iter()
            .map(|n| ((*n).to_owned(), BTreeMap::new()))
            .collect(),
    )
}

/// `inventory.yml`: every host, a group per service (`ffu_SERVICE`) and its bootstrap
/// group (`ffu_SERVICE_bootstrap`, its first host); without hosts, a placeholder
/// bootstrap host per service of the plan, to fill in.
fn inventory_yaml(plan: &Plan, fleet: &Fleet) -> Result<String> {
    let mut services: Vec<&str> = Vec::new();
    for step in &plan.steps {
        if let Some(service) = step.service.as_deref() {
            if !services.contains(&service) {
                services.push(service);
            }
        }
    }
    for (_, on) in &fleet.hosts {
        for service in on {
            if !services.contains(&service.as_str()) {
                services.push(service);
            }
        }
    }
    let mut children = Vec::new();
    for service in services {
        let members: Vec<&str> = fleet
            .hosts
            .iter()
            .filter(|(_, on)| on.contains(service))
            .map(|(name, _)| name.as_str())
            .collect();
        let mut bootstrap = Ordered(Vec::new());
        if let Some(first) = members.first() {
            bootstrap.0.push(((*first).to_owned(), BTreeMap::new()));
        } else if fleet.file.is_none() {
            let mut vars = BTreeMap::new();
            vars.insert(
                "ffu_fill_in".to_owned(),
                format!("set ansible_host to the host that runs {service}'s migrations"),
            );
            bootstrap.0.push((format!("{service}-bootstrap"), vars));
        }
        children.push((
            group_name(service),
            Group {
                hosts: Some(host_entries(&members)),
                children: None,
            },
        ));
        children.push((
            bootstrap_group(service),
            Group {
                hosts: Some(bootstrap),
                children: None,
            },
        ));
    }
    let names: Vec<&str> = fleet.hosts.iter().map(|(n, _)| n.as_str()).collect();
    let mut all = Ordered(Vec::new());
    all.0.push((
        "all".to_owned(),
        Group {
            hosts: (!names.is_empty()).then(|| host_entries(&names)),
            children: Some(Ordered(children)),
        },
    ));
    yaml(&all, "the Ansible inventory as YAML")
}

fn yaml<T: Serialize>(value: &T, what: &'static str) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|err| Error::Serialize {
        what,
        source: Box::new(err),
    })
}

/// The journal's lock play, first or last: `ffu journal lock|unlock` on the controller.
fn lock_play(options: &AnsibleOptions, db: &str, verb: &str) -> Play {
    let mut task = pipe_task(
        format!("ffu journal {verb}"),
        "ffu_journal_lock",
        "ffu_lock",
        &format!(
            "{} --runner ansible-playbook",
            journal_command(options, db, verb)
        ),
    );
    task.tags = vec!["always".to_owned()];
    Play {
        name: format!("ffu journal: {verb} the journal for this run"),
        hosts: vec!["localhost".to_owned()],
        gather_facts: false,
        any_errors_fatal: true,
        serial: None,
        tasks: vec![task],
    }
}

/// `FFU journal VERB --db DB [--plan PLAN]` as shell words (Jinja-escaped).
///
/// `done` and `fail` name no plan: the step they record is running, so the journal exists
/// (`lock` and `start` made it, or checked it is this plan's, as `--start-at-task` may skip
/// the lock play), and the journal keeps its plan.
fn journal_command(options: &AnsibleOptions, db: &str, verb: &str) -> String {
    let plan = if matches!(verb, "done" | "fail") {
        ""
    } else {
        " --plan {{ (playbook_dir ~ '/plan.json') | quote }}"
    };
    format!(
        "{} journal {verb} --db {}{plan}",
        shell_word(&options.ffu),
        shell_word(db)
    )
}

/// `text` as one shell word, single-quoted, and Jinja-escaped.
fn shell_word(text: &str) -> String {
    jinja_literal(&format!("'{}'", text.replace('\'', "'\\''")))
}

/// Whether this run claimed the step: `ffu journal start` said `run` and exited 0. A claim
/// that failed leaves its registered result without that, so an earlier step's claim
/// never counts.
const CLAIMED: &str =
    "'run\\nffu-exit=0' in (ffu_claim.ansible_facts.ffu_step_claim | default(''))";

/// A task that runs `command` on the controller: a `pipe` lookup, in `set_fact` (no module
/// to ship to the host, so a journal call costs a process, not a Python start on the
/// host). The lookup gets the command's output and errors, then `ffu-exit=STATUS`: a
/// failed `ffu` fails the task with its message in the result (a failed lookup would only
/// say its status). The result is registered as `register`.
fn pipe_task(name: String, fact: &'static str, register: &'static str, command: &str) -> Task {
    let mut facts = BTreeMap::new();
    facts.insert(
        fact,
        "{{ lookup('ansible.builtin.pipe', ffu_journal_command) }}".to_owned(),
    );
    let mut vars = BTreeMap::new();
    vars.insert(
        "ffu_journal_command",
        format!("( {command} ) 2>&1; echo \"ffu-exit=$?\""),
    );
    Task {
        name,
        set_fact: Some(facts),
        vars: Some(vars),
        register: Some(register),
        failed_when: Some(Condition::Expression(format!(
            "'ffu-exit=0' not in ({register}.ansible_facts.{fact} | default(''))"
        ))),
        ..Task::default()
    }
}

/// Exports `plan` as an Ansible playbook directory; `inventory` (read with the plan's
/// catalog) names the hosts, else the plan's own hosts or a bootstrap group per service.
///
/// # Errors
/// [`Error::Export`] when the plan and the inventory do not match (a step on a host the
/// inventory does not list, a service no host runs, another catalog);
/// [`Error::Serialize`] should the YAML writer fail.
pub fn export(
    plan: &Plan,
    inventory: Option<(&Catalog, &Inventory)>,
    options: &AnsibleOptions,
) -> Result<AnsibleExport> {
    let fleet = Fleet::new(plan, inventory)?;
    let known: BTreeSet<&str> = fleet.hosts.iter().map(|(n, _)| n.as_str()).collect();
    let targets = plan
        .steps
        .iter()
        .map(|step| fleet.target(step, &known))
        .collect::<Result<Vec<_>>>()?;
    let units = units(plan, &targets);
    let mut builder = Builder {
        plan,
        options,
        templates: options.commands.iter().map(|t| (t.kind, t)).collect(),
        manual: Vec::new(),
    };
    let mut site: Vec<Play> = Vec::new();
    if let Some(db) = &options.journal {
        site.push(lock_play(options, db, "lock"));
    }
    let mut tasks = 0;
    for play in plays(&units) {
        let first = &plan.steps[play.units[0].steps[0]];
        let last_unit = play.units[play.units.len() - 1];
        let last = &plan.steps[last_unit.steps[last_unit.steps.len() - 1]];
        let hop = &plan.hops.get(first.hop);
        let name = format!(
            "hop{}{}: {} .. {}",
            first.hop,
            hop.map(|h| format!(" ({} -> {})", h.from, h.to))
                .unwrap_or_default(),
            first.id,
            last.id
        );
        let count = play.hosts.len();
        let play_tasks: Vec<Task> = play.units.iter().map(|u| builder.task(u, count)).collect();
        tasks += play_tasks.len();
        site.push(Play {
            name: jinja_literal(&name),
            hosts: play.hosts,
            gather_facts: false,
            any_errors_fatal: true,
            serial: play.serial,
            tasks: play_tasks,
        });
    }
    if let Some(db) = &options.journal {
        site.push(lock_play(options, db, "unlock"));
    }
    let plays = site.len();
    let files = vec![
        ("inventory.yml".to_owned(), inventory_yaml(plan, &fleet)?),
        (
            "site.yml".to_owned(),
            yaml(&site, "the Ansible playbook as YAML")?,
        ),
        ("plan.json".to_owned(), plan.to_json()),
    ];
    Ok(AnsibleExport {
        files,
        manual: builder.manual,
        plays,
        tasks,
    })
}

#[cfg(test)]
mod tests;
