//! Property tests over random catalogs: every plan the planner makes passes the
//! independent verifier, plans are deterministic, a compact plan is the same plan, and
//! mutating a valid plan is caught with the right rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use ffu_core::{
    verify, Catalog, Error, Inventory, Mode, NoPlan, Plan, PlanRequest, Policy, ServiceState,
    StepKind,
};
use proptest::prelude::*;
use serde_json::{json, Value};

const KINDS: [&str; 4] = ["expand", "migrate", "data", "contract"];

/// The shape of a random catalog, drawn by proptest and turned into JSON.
#[derive(Debug, Clone)]
struct Shape {
    releases: usize,
    slurp: Vec<bool>,
    services: Vec<ServiceShape>,
}

/// One migration's draws: (kind index, requires an earlier one of its group, seed of a
/// cross-service requirement, seed of a component it needs running, reversible).
type MigrationDraw = (usize, bool, u8, u8, bool);

/// One task's draws: (phase index in `TASK_PHASES`, lifetime seed, on every host, edit seed,
/// requires the service's task before it).
type TaskDraw = (usize, u8, bool, u8, bool);

/// The task phases of DESIGN §8, in their order.
const TASK_PHASES: [&str; 7] = [
    "precheck_start",
    "prepare",
    "after_stop",
    "before_migrations",
    "after_migrations",
    "before_start",
    "converge",
];

#[derive(Debug, Clone)]
struct ServiceShape {
    after: Vec<usize>,
    since: usize,
    roles: Vec<&'static str>,
    /// Per release (from `since`): the migrations' random draws.
    migrations: Vec<Vec<MigrationDraw>>,
    tasks: Vec<TaskDraw>,
    /// The release from which the service's second database exists, as a seed.
    second_database: u8,
}

fn shape() -> impl Strategy<Value = Shape> {
    (2usize..7, 1usize..5).prop_flat_map(|(releases, services)| {
        let service = (
            prop::collection::vec(any::<bool>(), services),
            0..releases,
            prop::collection::vec(
                prop::sample::select(vec!["control", "control", "agent", "dataplane"]),
                1..4,
            ),
            prop::collection::vec(
                prop::collection::vec(
                    (
                        0usize..4,
                        any::<bool>(),
                        any::<u8>(),
                        any::<u8>(),
                        any::<bool>(),
                    ),
                    0..4,
                ),
                releases,
            ),
            prop::collection::vec(
                (
                    0usize..7,
                    any::<u8>(),
                    any::<bool>(),
                    any::<u8>(),
                    any::<bool>(),
                ),
                0..4,
            ),
            any::<u8>(),
        );
        (
            prop::collection::vec(any::<bool>(), releases),
            prop::collection::vec(service, services),
        )
            .prop_map(move |(slurp, raw)| Shape {
                releases,
                slurp,
                services: raw
                    .into_iter()
                    .enumerate()
                    .map(
                        |(
                            index,
                            (after_mask, since, roles, migrations, tasks, second_database),
                        )| {
                            ServiceShape {
                                // `after` only points at earlier services, so it is acyclic.
                                after: (0..index).filter(|&j| after_mask[j]).collect(),
                                since: if index == 0 { 0 } else { since },
                                roles,
                                migrations,
                                tasks,
                                second_database,
                            }
                        },
                    )
                    .collect(),
            })
    })
}

fn release_name(index: usize) -> String {
    format!("r{index}")
}

/// Builds a valid `ffu-catalog/1` document from a shape.
fn catalog_json(shape: &Shape) -> Value {
    let releases: Vec<Value> = (0..shape.releases)
        .map(|r| json!({"name": release_name(r), "slurp": shape.slurp[r]}))
        .collect();
    let mut services = Vec::new();
    let mut migrations: Vec<Value> = Vec::new();
    // (id, service, release, kind index) of every migration so far, to draw requirements.
    let mut made: Vec<Made> = Vec::new();
    for (s, service) in shape.services.iter().enumerate() {
        services.push(service_json(s, service, shape.releases));
        for release in service.since.max(1)..shape.releases {
            let group_start = made.len();
            for (n, &draw) in service.migrations[release].iter().enumerate() {
                let at = MigrationAt {
                    service: s,
                    release,
                    n,
                    group_start,
                };
                let (migration, id) = migration_json(shape, at, draw, &made);
                migrations.push(migration);
                made.push((id, s, release, draw.0));
            }
        }
    }
    json!({
        "format": "ffu-catalog/1", "name": "random", "releases": releases, "skip_level": "slurp",
        "services": services, "migrations": migrations, "extensions": extensions_json(shape),
        "tasks": tasks_json(shape),
    })
}

/// The services' random tasks: each in a drawn phase, for one release of the service's or
/// for all of them from its first, once or on every host, a command or a configuration
/// edit (temporary or not), and sometimes requiring the service's task before it (which
/// the phases may put later: the planner then refuses the plan, which `plan_for` allows).
fn tasks_json(shape: &Shape) -> Vec<Value> {
    let mut tasks = Vec::new();
    for (s, service) in shape.services.iter().enumerate() {
        for (n, &(phase, lifetime, on_all, edit, requires)) in service.tasks.iter().enumerate() {
            let phase = TASK_PHASES[phase];
            let mut task = json!({
                "id": format!("s{s}.t{n}"), "service": format!("s{s}"), "phase": phase,
                "reason": format!("random task {n} of s{s}"),
            });
            let first = service.since.max(1);
            if lifetime % 2 == 0 && first < shape.releases {
                let release = first + usize::from(lifetime) % (shape.releases - first);
                task["release"] = json!(release_name(release));
            } else {
                task["since"] = json!(release_name(service.since));
            }
            if on_all {
                task["on"] = json!("all");
            }
            if edit % 3 == 0 {
                let temporary = edit % 2 == 0 && phase != "converge";
                task["config"] = json!({
                    "file": format!("/etc/s{s}.conf"), "section": "upgrade",
                    "option": format!("o{n}"), "action": "set", "value": "1",
                    "temporary": temporary,
                });
            } else {
                task["command"] = json!(format!("s{s}-task {n}"));
            }
            if requires && n > 0 {
                task["requires"] = json!([format!("s{s}.t{}", n - 1)]);
            }
            tasks.push(task);
        }
    }
    tasks
}

/// A migration made so far: (id, service, release, kind index).
type Made = (String, usize, usize, usize);

/// Where a migration goes: its service and release, its position among that service's
/// migrations of that release, and where that group starts among those made so far.
#[derive(Clone, Copy)]
struct MigrationAt {
    service: usize,
    release: usize,
    n: usize,
    group_start: usize,
}

/// Service `s`, with its components (`s{s}-c{c}`).
fn service_json(s: usize, service: &ServiceShape, releases: usize) -> Value {
    let components: Vec<Value> = service
        .roles
        .iter()
        .enumerate()
        .map(|(c, role)| json!({"name": format!("s{s}-c{c}"), "role": role}))
        .collect();
    // Odd services' agents may lag back to the previous SLURP release, which rolling plans
    // with skip_level use.
    let max_skew = if s % 2 == 1 { json!("slurp") } else { json!(1) };
    // A second database that arrives in a later release (as nova_cell0 does in ocata), so
    // that backups before it must leave it out.
    let second = (service.since + usize::from(service.second_database % 3)).min(releases - 1);
    json!({
        "name": format!("s{s}"),
        "after": service.after.iter().map(|a| format!("s{a}")).collect::<Vec<_>>(),
        "since": release_name(service.since),
        "max_skew": max_skew,
        "components": components,
        "databases": [format!("s{s}"), {"name": format!("s{s}_extra"), "since": release_name(second)}],
    })
}

/// The migration drawn as `draw` at `at`, and its id.
fn migration_json(
    shape: &Shape,
    at: MigrationAt,
    draw: MigrationDraw,
    made: &[Made],
) -> (Value, String) {
    let MigrationAt {
        service: s,
        release,
        n,
        ..
    } = at;
    let (kind, _, cross, needs, reversible) = draw;
    let id = format!("s{s}.r{release}.m{n}");
    let requires = migration_requires(at, draw, made);
    // Catalogs of an even number of releases have commands that JSON must
    // escape, so that plans are written both ways (see `CompactPlan`).
    let command = if shape.releases % 2 == 0 && n % 2 == 1 {
        format!("sh -c \"s{s}-manage step {n}\" \\\n\t")
    } else {
        format!("s{s}-manage step {n}")
    };
    let mut migration = json!({
        "id": id, "service": format!("s{s}"), "release": release_name(release),
        "kind": KINDS[kind], "command": command,
        "requires": requires, "reversible": reversible,
    });
    // Sometimes a control component of this or an earlier service must run.
    if needs % 4 == 0 {
        if let Some(control) = control_to_run(shape, s, release, needs) {
            migration["needs_running"] = json!([control]);
        }
    }
    if kind == 2 && cross % 5 == 1 {
        migration["blocking"] = json!(false);
    }
    (migration, id)
}

/// What the migration drawn as `draw` at `at` requires, of the migrations `made` so far.
fn migration_requires(at: MigrationAt, draw: MigrationDraw, made: &[Made]) -> Vec<String> {
    let (kind, same, cross, ..) = draw;
    let mut requires = Vec::new();
    // An earlier migration of the same service and release whose kind does not
    // come later.
    if same {
        if let Some((other, ..)) = made[at.group_start..]
            .iter()
            .rev()
            .find(|(_, _, _, k)| KINDS_PHASE[*k] <= KINDS_PHASE[kind])
        {
            requires.push(other.clone());
        }
    }
    // A migration of an earlier service, same or earlier release.
    if cross % 3 == 0 {
        let candidates: Vec<&String> = made
            .iter()
            .filter(|(_, os, or, _)| *os < at.service && *or <= at.release)
            .map(|(id, ..)| id)
            .collect();
        if !candidates.is_empty() {
            requires.push(candidates[cross as usize % candidates.len()].clone());
        }
    }
    requires
}

/// A control component of service `s` or of an earlier one there from the start, that
/// exists at `release`, drawn by `needs`; `None` when there is none.
fn control_to_run(shape: &Shape, s: usize, release: usize, needs: u8) -> Option<String> {
    let control: Vec<String> = shape.services[..=s]
        .iter()
        .enumerate()
        .filter(|(o, other)| other.since <= release && (*o == s || other.since == 0))
        .flat_map(|(o, other)| {
            other
                .roles
                .iter()
                .enumerate()
                .filter(|(_, r)| **r == "control")
                .map(move |(c, _)| format!("s{o}-c{c}"))
        })
        .collect();
    if control.is_empty() {
        None
    } else {
        Some(control[needs as usize % control.len()].clone())
    }
}

/// Extensions: per service, a chain e0 <- e1 <- e2 (each requires the one before),
/// arriving in later and later releases, so that rolling plans have something to gate.
fn extensions_json(shape: &Shape) -> Vec<Value> {
    let mut extensions = Vec::new();
    for (s, service) in shape.services.iter().enumerate() {
        for e in 0..3usize {
            let since = (service.since + e).min(shape.releases - 1);
            let mut extension = json!({"service": format!("s{s}"), "name": format!("e{e}"), "since": release_name(since)});
            if e > 0 {
                extension["requires"] = json!([format!("e{}", e - 1)]);
            }
            extensions.push(extension);
        }
    }
    extensions
}

/// Phase of each kind in `KINDS` order (expand, migrate, data, contract).
const KINDS_PHASE: [u8; 4] = [0, 1, 2, 3];

fn load(shape: &Shape) -> Catalog {
    let text = catalog_json(shape).to_string();
    Catalog::from_json_str(&text, "random.json")
        .unwrap_or_else(|err| panic!("generated catalog is valid: {err}\n{text}"))
}

/// A plan from `from` to `to`, or `None` when a policy excludes a needed service.
fn plan_for(
    catalog: &Catalog,
    from: usize,
    to: usize,
    skip: bool,
    services: Option<Vec<String>>,
) -> Option<Plan> {
    let policy = Policy {
        skip_level: skip,
        services,
        ..Policy::default()
    };
    match catalog.plan(&release_name(from), &release_name(to), &policy) {
        Ok(plan) => Some(plan),
        Err(Error::NoPlan(NoPlan::ExcludedDependency { .. } | NoPlan::RequirementLater { .. })) => {
            None
        }
        Err(err) => panic!("planning failed: {err}"),
    }
}

/// A random inventory over the components of the services that exist at release `from`:
/// each host runs a random mix of them (a host may run a service's control components and
/// its agents together, as a network node or an all-in-one does), all at `from`. `mask`
/// draws host by host which components it runs; a host that would run nothing is left out.
fn inventory_for(
    shape: &Shape,
    catalog: &Catalog,
    from: usize,
    hosts: usize,
    mask: u64,
) -> Option<Inventory> {
    let release = release_name(from);
    let (components, roles): (Vec<String>, Vec<&str>) = shape
        .services
        .iter()
        .enumerate()
        .filter(|(_, service)| service.since <= from)
        .flat_map(|(s, service)| {
            service
                .roles
                .iter()
                .enumerate()
                .map(move |(c, role)| (format!("s{s}-c{c}"), *role))
        })
        .unzip();
    let width = components.len().max(1);
    let names: Vec<String> = (0..hosts).map(|h| format!("host-{h}")).collect();
    let placed: Vec<Vec<(&str, &str)>> = (0..hosts)
        .map(|h| {
            components
                .iter()
                .enumerate()
                .filter(|(c, _)| mask.rotate_left(((h * width + c) % 64) as u32) & 1 == 1)
                // Something to upgrade: a cloud of data plane only has no release to start
                // from (an error the planner reports, tested elsewhere).
                .filter(|_| roles.iter().any(|role| *role != "dataplane"))
                .map(|(_, name)| (name.as_str(), release.as_str()))
                .collect()
        })
        .collect();
    let table: Vec<(&str, &[(&str, &str)])> = names
        .iter()
        .zip(&placed)
        .filter(|(_, placed)| !placed.is_empty())
        .map(|(name, placed)| (name.as_str(), placed.as_slice()))
        .collect();
    let upgradable = table
        .iter()
        .flat_map(|(_, placed)| placed.iter())
        .any(|(component, _)| {
            roles[components.iter().position(|c| c == component).unwrap()] != "dataplane"
        });
    if !upgradable {
        return None;
    }
    Some(
        Inventory::from_hosts(catalog, &table)
            .unwrap_or_else(|err| panic!("generated inventory is valid: {err}")),
    )
}

/// The plan's steps in a random order (drawn from `seed`) that keeps every step after all
/// it `requires`. Only the steps that may run first require nothing: the first step, and
/// the hosts of its batch.
fn in_an_order_requires_allow(plan: &Plan, seed: u64) -> Plan {
    let first_run = plan
        .steps
        .iter()
        .take_while(|s| {
            s.batch.is_some() && s.batch == plan.steps[0].batch && s.hop == plan.steps[0].hop
        })
        .count()
        .max(1);
    let position: HashMap<&str, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut waiting: Vec<usize> = plan.steps.iter().map(|s| s.requires.len()).collect();
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); plan.steps.len()];
    for (index, step) in plan.steps.iter().enumerate() {
        assert!(
            index < first_run || !step.requires.is_empty(),
            "{} requires nothing",
            step.id
        );
        for required in &step.requires {
            unblocks[position[required.as_str()]].push(index);
        }
    }
    let mut ready: Vec<usize> = (0..plan.steps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut state = seed | 1;
    let mut order = Vec::with_capacity(plan.steps.len());
    while !ready.is_empty() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let index = ready.swap_remove((state >> 33) as usize % ready.len());
        order.push(index);
        for &next in &unblocks[index] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(next);
            }
        }
    }
    assert_eq!(order.len(), plan.steps.len(), "the requires have a cycle");
    let mut reordered = plan.clone();
    reordered.steps = order.into_iter().map(|i| plan.steps[i].clone()).collect();
    reordered
}

fn rules(catalog: &Catalog, plan: &Plan) -> Vec<&'static str> {
    verify(catalog, plan)
        .expect("the plan is readable")
        .into_iter()
        .map(|v| v.rule)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_plan_passes_the_verifier(shape in shape(), a in 0usize..7, b in 0usize..7, skip: bool, subset: u8) {
        let catalog = load(&shape);
        let (from, to) = (a.min(b) % shape.releases, a.max(b) % shape.releases);
        let (from, to) = (from.min(to), from.max(to));
        let services = (subset % 3 == 0).then(|| {
            (0..shape.services.len()).filter(|s| (subset >> (s + 2)) & 1 == 0).map(|s| format!("s{s}")).collect()
        });
        if let Some(plan) = plan_for(&catalog, from, to, skip, services) {
            let violations = verify(&catalog, &plan).unwrap();
            prop_assert!(violations.is_empty(), "{violations:#?}\n{}", plan.to_json());
        }
    }

    /// Estimates add up (hops to the total, phases to hops, downtime within the total, the
    /// schedule never longer than every step in a row), and the recovery from any point of
    /// the run passes V16 and names a backup for every service it restores.
    #[test]
    fn every_plan_has_honest_estimates_and_a_recovery_from_any_point(shape in shape(), a in 0usize..7, b in 0usize..7, rolling: bool, point: u16, failed: bool) {
        let catalog = load(&shape);
        let (from, to) = (a.min(b) % shape.releases, a.max(b) % shape.releases);
        let policy = Policy {
            mode: if rolling { ffu_core::Mode::Rolling } else { ffu_core::Mode::Offline },
            ..Policy::default()
        };
        let Ok(plan) = catalog.plan(&release_name(from), &release_name(to), &policy) else {
            return Ok(());
        };
        let time = ffu_core::estimate::estimate(&plan, &catalog);
        let figures: u64 = plan.steps.iter().map(|s| s.estimate_s.unwrap()).sum();
        prop_assert_eq!(time.total_s, time.hops.iter().map(|h| h.estimate_s).sum::<u64>());
        for hop in &time.hops {
            prop_assert_eq!(hop.estimate_s, hop.phases.iter().map(|p| p.estimate_s).sum::<u64>());
        }
        prop_assert!(time.total_s <= figures);
        prop_assert!(time.control_plane_downtime_s <= time.total_s);
        prop_assert!(time.downtime_s.values().all(|&d| d <= time.control_plane_downtime_s));
        if plan.steps.is_empty() {
            return Ok(());
        }
        let done = usize::from(point) % plan.steps.len();
        let mut states = vec![ffu_core::sql::StepState::Pending; plan.steps.len()];
        for state in &mut states[..done] {
            *state = ffu_core::sql::StepState::Done;
        }
        if failed {
            states[done] = ffu_core::sql::StepState::Failed;
        }
        let options = ffu_core::recovery::RecoveryOptions { restore_command: None, checksum: "c", file: "p" };
        let recovery = ffu_core::recovery::recovery_plan(&catalog, &plan, &states, &options);
        let recovery = recovery.map_err(|err| TestCaseError::fail(format!("after {done}: {err}")))?;
        let violations = verify(&catalog, &recovery).unwrap();
        prop_assert!(violations.is_empty(), "{violations:#?}");
        for change in &recovery.recovers.as_ref().unwrap().changed {
            let backup = plan.steps.iter().position(|s| s.id == change.backup).unwrap();
            prop_assert!(backup < done && plan.steps[backup].kind == StepKind::Backup);
        }
    }

    #[test]
    fn every_rolling_plan_passes_the_verifier(shape in shape(), a in 0usize..7, b in 0usize..7, batch in 1usize..4, skip in proptest::bool::ANY) {
        let catalog = load(&shape);
        let (from, to) = (a.min(b) % shape.releases, a.max(b) % shape.releases);
        let (from, to) = (from.min(to), from.max(to));
        let policy = Policy { mode: ffu_core::Mode::Rolling, skip_level: skip, max_unavailable: Some(batch.to_string()), ..Policy::default() };
        match catalog.plan(&release_name(from), &release_name(to), &policy) {
            Ok(plan) => {
                let violations = verify(&catalog, &plan).unwrap();
                prop_assert!(violations.is_empty(), "{violations:#?}\n{}", plan.to_json());
                // Advertising a later release's extension early is caught.
                if let Some(finalize) = plan.steps.iter().position(|s| s.kind == StepKind::Finalize && s.advertised.is_some()) {
                    let start = plan.steps[..finalize].iter().rposition(|s| s.kind == StepKind::Start && s.service == plan.steps[finalize].service);
                    if let Some(start) = start {
                        let mut early = plan.clone();
                        early.steps[start].advertised = early.steps[finalize].advertised.clone();
                        let grows = early.steps[finalize].advertised.as_ref().is_some_and(|a| a.values().any(|v| !v.is_empty()));
                        if grows {
                            prop_assert!(rules(&catalog, &early).contains(&"V10"));
                        }
                    }
                }
            }
            // A migration of one service requiring one of a service upgraded later in the
            // hop has no rolling order; a task requiring one its phase puts later neither:
            // both are explained, not planned.
            Err(Error::NoPlan(NoPlan::OrderCycle { .. } | NoPlan::RequirementLater { .. })) => {}
            Err(err) => panic!("planning failed: {err}"),
        }
    }

    #[test]
    fn every_inventory_plan_passes_the_verifier(shape in shape(), from in 0usize..7, to in 0usize..7, hosts in 1usize..5, mask: u64, rolling: bool, batch in 1usize..3) {
        let catalog = load(&shape);
        let (from, to) = (from.min(to) % shape.releases, from.max(to) % shape.releases);
        let (from, to) = (from.min(to), from.max(to));
        let Some(inventory) = inventory_for(&shape, &catalog, from, hosts, mask) else {
            return Ok(());
        };
        let policy = Policy {
            mode: if rolling { Mode::Rolling } else { Mode::Offline },
            // Rolling SLURP upgrades too (odd services' agents may lag).
            skip_level: rolling && mask & 1 == 1,
            max_unavailable: Some(batch.to_string()),
            ..Policy::default()
        };
        match catalog.plan_request(&PlanRequest::from_inventory(&inventory, &release_name(to), &policy)) {
            Ok(plan) => {
                // Read back from its document, as `ffu verify` reads it: a repeated step id
                // is unreadable input there, not a violation.
                let plan = Plan::from_json(&plan.to_json(), "random-plan.json").unwrap();
                let violations = verify(&catalog, &plan).unwrap_or_else(|err| panic!("{err}\n{}", plan.to_json()));
                prop_assert!(violations.is_empty(), "{violations:#?}\n{}", plan.to_json());
                // The requires say all of the order: a runner that starts steps in any order
                // they allow (batches' hosts interleaved) runs a plan that passes too.
                let reordered = in_an_order_requires_allow(&plan, mask);
                let violations = verify(&catalog, &reordered).unwrap();
                prop_assert!(violations.is_empty(), "{violations:#?}\n{}", reordered.to_json());
                // Every step of a plan per host says where it runs.
                let homeless: Vec<&str> = plan.steps.iter().filter(|s| s.host.is_none()).map(|s| s.id.as_str()).collect();
                prop_assert!(homeless.is_empty(), "steps without a host: {homeless:?}\n{}", plan.to_json());
                // Each migration runs where its hop's code was installed before it (the starting
                // release's own run with the code already there).
                for (index, step) in plan.steps.iter().enumerate().filter(|(_, s)| s.kind.is_migration() && s.code != Some(ffu_core::CodeSide::Current)) {
                    let installed = plan.steps[..index].iter().any(|s| {
                        s.kind == StepKind::Install && s.hop == step.hop && s.service == step.service && s.host == step.host
                    });
                    prop_assert!(installed, "{} runs before its code is installed on {:?}\n{}", step.id, step.host, plan.to_json());
                }
            }
            Err(Error::NoPlan(
                NoPlan::OrderCycle { .. } | NoPlan::ExcludedDependency { .. } | NoPlan::RequirementLater { .. },
            )) => {}
            // A component a migration needs running that no host runs.
            Err(Error::Unsupported { what }) if rolling && what.contains("no host of the inventory runs it") => {}
            Err(err) => panic!("planning failed: {err}"),
        }
    }

    #[test]
    fn plans_from_a_database_state_leave_out_exactly_what_is_applied(shape in shape(), skip: bool, seed: u64) {
        let catalog = load(&shape);
        let migrations = catalog.migrations();
        // A state a real database can be in: a random set, closed under `requires`.
        let mut applied: Vec<bool> = (0..migrations.len()).map(|i| (seed >> (i % 64)) & 1 == 1).collect();
        let mut stack: Vec<usize> = (0..migrations.len()).filter(|&i| applied[i]).collect();
        while let Some(i) = stack.pop() {
            for required in &migrations[i].requires {
                if !std::mem::replace(&mut applied[required.index()], true) {
                    stack.push(required.index());
                }
            }
        }
        let mut state: BTreeMap<String, ServiceState> = BTreeMap::new();
        for (index, migration) in migrations.iter().enumerate() {
            let service = catalog.service(migration.service).name.clone();
            let entry = state.entry(service).or_default();
            if applied[index] {
                *entry = ServiceState::applied(entry.applied.iter().cloned().chain([migration.id.clone()]));
            }
        }
        let last = release_name(shape.releases - 1);
        let mode = if seed >> 63 == 1 { ffu_core::Mode::Rolling } else { ffu_core::Mode::Offline };
        // SLURP only offline here (rolling SLURP plans are drawn with an inventory above).
        let policy = Policy { skip_level: skip && mode == ffu_core::Mode::Offline, mode, ..Policy::default() };
        let plan = match catalog.plan_request(&PlanRequest::from_release(&release_name(0), &last, &policy).with_state(&state)) {
            Ok(plan) => plan,
            // As without a state: some rolling hops have no order, which is explained.
            Err(Error::NoPlan(NoPlan::OrderCycle { .. })) if mode == ffu_core::Mode::Rolling => return Ok(()),
            Err(Error::NoPlan(NoPlan::RequirementLater { .. })) => return Ok(()),
            Err(err) => panic!("planning failed: {err}"),
        };
        let violations = verify(&catalog, &plan).unwrap();
        prop_assert!(violations.is_empty(), "{violations:#?}\n{}", plan.to_json());
        // Computed here independently: what runs is what is after `from` and not applied.
        let first = catalog.release_id(&release_name(0)).unwrap();
        let (mut expected_run, mut expected_applied) = (BTreeSet::new(), BTreeSet::new());
        for (index, migration) in migrations.iter().enumerate() {
            if migration.release > first {
                if applied[index] { &mut expected_applied } else { &mut expected_run }.insert(migration.id.clone());
            }
        }
        // The starting release's own data migrations run with the current code besides.
        let run: BTreeSet<String> = plan
            .steps
            .iter()
            .filter(|s| s.code != Some(ffu_core::CodeSide::Current))
            .filter_map(|s| s.migration.clone())
            .collect();
        prop_assert_eq!(run, expected_run);
        prop_assert_eq!(plan.applied.iter().cloned().collect::<BTreeSet<_>>(), expected_applied);
        // Forgetting one applied migration makes it missing: V2.
        if !plan.applied.is_empty() {
            let mut forgotten = plan.clone();
            forgotten.applied.remove(seed as usize % plan.applied.len());
            prop_assert!(rules(&catalog, &forgotten).contains(&"V2"));
        }
        // A state that no database can be in (an applied migration whose requirement is
        // not applied) is refused.
        if let Some((index, required)) = migrations.iter().enumerate().find_map(|(i, m)| {
            m.requires.iter().find(|r| catalog.migration(**r).release > first).map(|r| (i, *r))
        }) {
            let mut broken = state.clone();
            let service = catalog.service(migrations[index].service).name.clone();
            let other = catalog.service(catalog.migration(required).service).name.clone();
            broken.insert(service.clone(), ServiceState::applied([migrations[index].id.clone()]));
            if other != service {
                broken.insert(other, ServiceState::default());
            }
            let err = catalog.plan_request(&PlanRequest::from_release(&release_name(0), &last, &policy).with_state(&broken)).unwrap_err();
            prop_assert!(matches!(err, Error::BadState { .. }), "{err}");
        }
    }

    #[test]
    fn a_compact_plan_is_the_same_plan(shape in shape(), a in 0usize..7, b in 0usize..7, skip: bool, subset: u8) {
        let catalog = Arc::new(load(&shape));
        let (from, to) = (a.min(b) % shape.releases, a.max(b) % shape.releases);
        let services: Option<Vec<String>> = (subset % 3 == 0).then(|| {
            (0..shape.services.len()).filter(|s| (subset >> (s + 2)) & 1 == 0).map(|s| format!("s{s}")).collect()
        });
        let policy = Policy { skip_level: skip, services, ..Policy::default() };
        let (from, to) = (release_name(from), release_name(to));
        match (catalog.plan(&from, &to, &policy), catalog.plan_compact(&PlanRequest::from_release(&from, &to, &policy))) {
            (Ok(plan), Ok(compact)) => {
                // serde's writer of the built plan is the independent judge of the bytes.
                let json = compact.to_json();
                prop_assert_eq!(&json, &serde_json::to_string(&plan).unwrap());
                let mut streamed = Vec::new();
                compact.write_json(&mut streamed).unwrap();
                prop_assert_eq!(String::from_utf8(streamed).unwrap(), json);
                prop_assert_eq!(compact.len(), plan.steps.len());
                let mut head = plan.clone();
                head.steps.clear();
                prop_assert_eq!(compact.without_steps(), &head);
                prop_assert_eq!(&compact.to_plan(), &plan);
                // The text of the compact plan is the built plan's.
                prop_assert_eq!(compact.to_text(), ffu_core::render::text(&plan, Some(&catalog)));
                prop_assert_eq!(compact.into_plan(), plan);
            }
            (Err(err), Err(compact_err)) => prop_assert_eq!(err.to_string(), compact_err.to_string()),
            (plan, compact) => prop_assert!(false, "plan {:?} but compact {:?}", plan.map(|p| p.len()), compact.map(|c| c.len())),
        }
    }

    #[test]
    fn plans_are_deterministic(shape in shape(), skip: bool) {
        let catalog = load(&shape);
        let last = shape.releases - 1;
        let first = plan_for(&catalog, 0, last, skip, None).map(|p| p.to_json());
        let again = plan_for(&load(&shape), 0, last, skip, None).map(|p| p.to_json());
        prop_assert_eq!(first, again);
    }

    #[test]
    fn mutations_are_caught(shape in shape(), skip: bool, pick: usize) {
        let catalog = load(&shape);
        let Some(plan) = plan_for(&catalog, 0, shape.releases - 1, skip, None) else { return Ok(()) };

        // A migration dropped: V2.
        let migration_steps: Vec<usize> = (0..plan.steps.len()).filter(|&i| plan.steps[i].kind.is_migration()).collect();
        if !migration_steps.is_empty() {
            let mut mutated = plan.clone();
            mutated.steps.remove(migration_steps[pick % migration_steps.len()]);
            prop_assert!(rules(&catalog, &mutated).contains(&"V2"));
        }

        // Two dependent steps swapped: V3.
        let dependent: Vec<(usize, usize)> = plan
            .steps
            .iter()
            .enumerate()
            .flat_map(|(i, step)| {
                step.requires.iter().filter_map(|r| plan.steps.iter().position(|s| &s.id == r)).map(move |j| (j, i))
            })
            .collect();
        if !dependent.is_empty() {
            let (j, i) = dependent[pick % dependent.len()];
            let mut mutated = plan.clone();
            mutated.steps.swap(i, j);
            prop_assert!(rules(&catalog, &mutated).contains(&"V3"));
        }

        // A backup dropped: V9.
        let backups: Vec<usize> = (0..plan.steps.len()).filter(|&i| plan.steps[i].kind == StepKind::Backup).collect();
        if !backups.is_empty() {
            let mut mutated = plan.clone();
            mutated.steps.remove(backups[pick % backups.len()]);
            prop_assert!(rules(&catalog, &mutated).contains(&"V9"));
        }

        // A blocking data migration moved after a later release's schema migration: V4.
        let late: Vec<(usize, usize)> = plan
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == StepKind::Data)
            .filter_map(|(i, data)| {
                let migration = catalog.migration(catalog.migration_id(data.migration.as_deref()?)?);
                if !migration.blocking {
                    return None;
                }
                let later = plan.steps.iter().enumerate().skip(i).find(|(_, s)| {
                    s.kind.is_schema()
                        && s.service == data.service
                        && s.release.as_deref().and_then(|r| catalog.release_id(r)) > Some(migration.release)
                })?;
                Some((i, later.0))
            })
            .collect();
        if !late.is_empty() {
            let (data, schema) = late[pick % late.len()];
            let mut mutated = plan.clone();
            let step = mutated.steps.remove(data);
            mutated.steps.insert(schema, step);
            prop_assert!(rules(&catalog, &mutated).contains(&"V4"));
        }

        // A data plane component stopped: V7.
        if let Some(component) = catalog.components().iter().find(|c| c.role == ffu_core::Role::Dataplane) {
            let mut mutated = plan.clone();
            if let Some(first) = mutated.steps.first().cloned() {
                let mut stop = first;
                stop.id = "stop-dataplane".into();
                stop.kind = StepKind::Stop;
                stop.component = Some(component.name.clone());
                stop.service = Some(catalog.service(component.service).name.clone());
                stop.migration = None;
                stop.requires.clear();
                mutated.steps.insert(0, stop);
                prop_assert!(rules(&catalog, &mutated).contains(&"V7"));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The procedure's rules (DESIGN §8) on random catalogs with tasks: a starting-release
    /// data migration dropped (V12), a converge step moved before its service's last start
    /// (V15), a backup naming a database that does not exist yet at its release (V14).
    #[test]
    fn procedure_mutations_are_caught(shape in shape(), from in 0usize..7, skip: bool, pick: usize) {
        let catalog = load(&shape);
        let last = shape.releases - 1;
        let Some(plan) = plan_for(&catalog, from % last.max(1), last, skip, None) else { return Ok(()) };
        prop_assert!(rules(&catalog, &plan).is_empty());

        let starting: Vec<usize> = positions(&plan, |s| s.kind == StepKind::Data && s.code == Some(ffu_core::CodeSide::Current));
        if !starting.is_empty() {
            let mut mutated = plan.clone();
            mutated.steps.remove(starting[pick % starting.len()]);
            prop_assert!(rules(&catalog, &mutated).contains(&"V12"), "{}", plan.to_json());
        }

        let converge: Vec<(usize, usize)> = positions(&plan, |s| s.phase == Some(ffu_core::Phase::Converge))
            .into_iter()
            .filter_map(|at| {
                let service = &plan.steps[at].service;
                let last_start = plan.steps[..at].iter().rposition(|s| s.kind == StepKind::Start && &s.service == service)?;
                Some((at, last_start))
            })
            .collect();
        if !converge.is_empty() {
            let (at, last_start) = converge[pick % converge.len()];
            let mut mutated = plan.clone();
            let step = mutated.steps.remove(at);
            mutated.steps.insert(last_start, step);
            prop_assert!(rules(&catalog, &mutated).contains(&"V15"), "{} before {}\n{}", plan.steps[at].id, plan.steps[last_start].id, plan.to_json());
        }

        // Each service's second database arrives in a later release (see `service_json`).
        let early_backups: Vec<(usize, String)> = positions(&plan, |s| s.kind == StepKind::Backup)
            .into_iter()
            .filter_map(|at| {
                let step = &plan.steps[at];
                let extra = format!("{}_extra", step.service.as_deref()?);
                let named = step.databases.as_ref()?.contains(&extra);
                (!named).then_some((at, extra))
            })
            .collect();
        if !early_backups.is_empty() {
            let (at, extra) = early_backups[pick % early_backups.len()].clone();
            let mut mutated = plan.clone();
            mutated.steps[at].databases.get_or_insert_with(Vec::new).push(extra);
            prop_assert!(rules(&catalog, &mutated).contains(&"V14"), "{}", plan.to_json());
        }
    }
}

/// Removes step `id`; the steps that required it require what it required instead (a
/// dangling requirement is V3's, not the fault under test).
fn remove_step(plan: &mut Plan, id: &str) {
    let at = plan.steps.iter().position(|s| s.id == id).unwrap();
    let removed = plan.steps.remove(at);
    for step in &mut plan.steps {
        if let Some(index) = step.requires.iter().position(|r| r == id) {
            step.requires
                .splice(index..=index, removed.requires.iter().cloned());
        }
    }
}

/// The positions of the steps of `plan` that match `wanted`.
fn positions(plan: &Plan, wanted: impl Fn(&ffu_core::Step) -> bool) -> Vec<usize> {
    (0..plan.steps.len())
        .filter(|&at| wanted(&plan.steps[at]))
        .collect()
}

#[test]
fn a_migration_run_while_its_control_plane_runs_breaks_v6() {
    let catalog = Catalog::openstack();
    let mut plan = catalog.plan("newton", "ocata", &Policy::default()).unwrap();
    remove_step(&mut plan, "h0.stop.nova-api");
    let violations = verify(&catalog, &plan).unwrap();
    assert!(!violations.is_empty());
    assert!(violations.iter().all(|v| v.rule == "V6"), "{violations:?}");
    assert_eq!(
        violations[0].message,
        "offline schema migration nova.ocata.simple-cell-setup runs while nova-api is running"
    );
}

#[test]
fn service_order_broken_breaks_v5() {
    let catalog = Catalog::openstack();
    let mut plan = catalog.plan("newton", "ocata", &Policy::default()).unwrap();
    let keystone = plan
        .steps
        .iter()
        .position(|s| s.id == "h0.keystone.ocata.expand")
        .unwrap();
    let step = plan.steps.remove(keystone);
    let last_migration = plan
        .steps
        .iter()
        .rposition(|s| s.kind.is_migration())
        .unwrap();
    plan.steps.insert(last_migration + 1, step);
    let rules: Vec<&str> = verify(&catalog, &plan)
        .unwrap()
        .into_iter()
        .map(|v| v.rule)
        .collect();
    assert!(rules.contains(&"V5"), "{rules:?}");
}

#[test]
fn a_longer_path_than_needed_breaks_v1() {
    let catalog = Catalog::openstack();
    let long = catalog
        .plan("2023.1", "2025.1", &Policy::default())
        .unwrap();
    let mut relabelled = long.clone();
    relabelled.policy.skip_level = true;
    let violations = verify(&catalog, &relabelled).unwrap();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].rule, "V1");
    assert_eq!(
        violations[0].message,
        "the path has 4 hops, but 2 are enough"
    );
}
