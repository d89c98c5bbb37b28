//! Synthetic `ffu-catalog/1` documents that resemble a real cloud, for benchmarks and the
//! `gen_catalog` example.
//!
//! The shape follows the embedded `openstack` catalog, scaled up:
//! - releases `r000`, `r001`, ... oldest first, every second one a SLURP release, with
//!   `skip_level: slurp`;
//! - services `s000`, `s001`, ... each with a control component, often an agent and
//!   sometimes a data plane component; `after` edges only point to services of a lower
//!   index, so the service order is acyclic (and catalog order is one topological order);
//! - for every release but the first (nothing upgrades into it) and every service,
//!   `migrations_per_service_release` migrations of mixed kinds, written in kind order
//!   (expand, migrate, data, contract), that `require` earlier migrations of the same
//!   service and release, sometimes a migration of a lower-index service of the same or an
//!   earlier release, and sometimes need a lower-index service's control
//!   component running (`needs_running`).
//!
//! Every dependency points to an earlier migration of the same (service, release, kind
//! order) or to a lower-index service, so neither `requires` nor the planner's per-hop
//! order can have a cycle: the catalog always loads, and every plan over it exists.
//! The output only depends on the three sizes (a fixed-seed xorshift drives the choices).
//!
//! With R releases, S services and M migrations per service and release, the catalog has
//! (R - 1) * S * M migrations: 40 x 200 x 12 gives 93,600 (about 13 MB of JSON).

// The module is shared by the benches and an example through `#[path]`; in those binary
// crates `pub` cannot reach further, but it states what the module offers.
#![allow(unreachable_pub)]

use serde_json::{json, Map, Value};

/// xorshift64* with a fixed seed: deterministic, dependency-free, good enough for shapes.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // xorshift must not start at zero.
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        // The modulo bias is irrelevant for synthetic shapes; the result is below `n`, so
        // it fits a usize.
        #[allow(clippy::cast_possible_truncation)]
        let value = (self.next() % n as u64) as usize;
        value
    }

    /// True with the given probability in percent.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Migration kinds in the order they run within one service and release.
const KINDS: [&str; 4] = ["expand", "migrate", "data", "contract"];

fn release_name(index: usize) -> String {
    format!("r{index:03}")
}

fn service_name(index: usize) -> String {
    format!("s{index:03}")
}

fn control_name(service: usize) -> String {
    format!("{}-api", service_name(service))
}

fn migration_id(service: usize, release: usize, position: usize) -> String {
    format!(
        "{}.{}.m{position:02}",
        service_name(service),
        release_name(release)
    )
}

/// The kinds of one service's migrations for one release, in running order: about 30%
/// expand, 30% migrate, 20% data, 20% contract.
fn kinds(rng: &mut Rng, count: usize) -> Vec<usize> {
    let mut kinds: Vec<usize> = (0..count)
        .map(|_| match rng.below(10) {
            0..=2 => 0,
            3..=5 => 1,
            6 | 7 => 2,
            _ => 3,
        })
        .collect();
    kinds.sort_unstable();
    kinds
}

fn command(service: usize, kind: usize) -> String {
    let name = service_name(service);
    match kind {
        0 => format!("{name}-manage db expand"),
        1 => format!("{name}-manage db sync"),
        2 => format!("{name}-manage db online_data_migrations"),
        _ => format!("{name}-manage db contract"),
    }
}

/// A synthetic `ffu-catalog/1` document with `releases` releases, `services` services and
/// `migrations_per_service_release` migrations per service and release (from the second
/// release on).
///
/// # Panics
/// When `releases` is 0: a catalog needs a release.
pub fn catalog(releases: usize, services: usize, migrations_per_service_release: usize) -> Value {
    assert!(releases > 0, "a catalog needs at least one release");
    let per = migrations_per_service_release;
    let mut rng = Rng::new(0x00ff_u64 << 32 | 0x5eed);
    let release_docs: Vec<Value> = (0..releases).map(release_doc).collect();
    let service_docs: Vec<Value> = (0..services)
        .map(|index| service_doc(&mut rng, index, releases))
        .collect();
    // Release 0 brings no migrations: nothing upgrades into it.
    let mut migration_docs: Vec<Value> =
        Vec::with_capacity(releases.saturating_sub(1) * services * per);
    for release in 1..releases {
        for service in 0..services {
            let own = kinds(&mut rng, per);
            for (position, &kind) in own.iter().enumerate() {
                let at = Place {
                    service,
                    release,
                    position,
                    per,
                };
                migration_docs.push(migration_doc(&mut rng, at, kind));
            }
        }
    }
    json!({
        "format": "ffu-catalog/1",
        "name": "synthetic",
        "releases": release_docs,
        "skip_level": "slurp",
        "services": service_docs,
        "migrations": migration_docs,
    })
}

/// Release `index`: two a year, as OpenStack ships them, every second one a SLURP release.
fn release_doc(index: usize) -> Value {
    let mut release = Map::new();
    release.insert("name".into(), Value::String(release_name(index)));
    // Two releases a year, as OpenStack ships them (YYYY-MM-DD while it fits).
    let year = 2010 + index / 2;
    if year <= 9999 {
        let month = if index % 2 == 0 { "04" } else { "10" };
        release.insert(
            "date".into(),
            Value::String(format!("{year}-{month}-0{}", 1 + index % 7)),
        );
    }
    if index % 4 == 2 {
        release.insert("aliases".into(), json!([format!("rel-{index:03}")]));
    }
    if index % 2 == 0 {
        release.insert("slurp".into(), Value::Bool(true));
    }
    Value::Object(release)
}

/// Service `index`: after some lower-index services, a control component, often an agent,
/// sometimes a data plane component, and a version at each of the `releases` releases.
fn service_doc(rng: &mut Rng, index: usize, releases: usize) -> Value {
    let name = service_name(index);
    let after = service_after(rng, index);
    let mut components = vec![json!({"name": control_name(index), "role": "control"})];
    if rng.chance(50) {
        components.push(json!({"name": format!("{name}-agent"), "role": "agent"}));
    }
    if rng.chance(15) {
        components.push(json!({"name": format!("{name}-dataplane"), "role": "dataplane"}));
    }
    let major = 1 + rng.below(20);
    let versions: Map<String, Value> = (0..releases)
        .map(|release| {
            (
                release_name(release),
                Value::String(format!("{}.{}.0", major + release, rng.below(3))),
            )
        })
        .collect();
    let mut service = Map::new();
    service.insert("name".into(), Value::String(name.clone()));
    if !after.is_empty() {
        service.insert(
            "after".into(),
            after
                .into_iter()
                .map(|a| Value::String(service_name(a)))
                .collect(),
        );
    }
    service.insert("versions".into(), Value::Object(versions));
    if rng.chance(50) {
        service.insert(
            "upgrade_check".into(),
            Value::String(format!("{name}-status upgrade check")),
        );
    }
    service.insert("databases".into(), json!([name]));
    service.insert("components".into(), Value::Array(components));
    Value::Object(service)
}

/// The lower-index services service `index` comes after, sorted.
fn service_after(rng: &mut Rng, index: usize) -> Vec<usize> {
    let mut after: Vec<usize> = Vec::new();
    if index > 0 {
        // Most services come after the identity service (s000), as after keystone.
        if rng.chance(70) {
            after.push(0);
        }
        for _ in 0..rng.below(3) {
            after.push(rng.below(index));
        }
        after.sort_unstable();
        after.dedup();
    }
    after
}

/// Where a migration is: its service, release and position among that service's
/// `per` migrations of that release.
#[derive(Clone, Copy)]
struct Place {
    service: usize,
    release: usize,
    position: usize,
    per: usize,
}

/// The migration at `at`, of kind `kind` (an index into [`KINDS`]).
fn migration_doc(rng: &mut Rng, at: Place, kind: usize) -> Value {
    let Place {
        service, release, ..
    } = at;
    let requires = migration_requires(rng, at);
    let mut migration = Map::new();
    migration.insert(
        "id".into(),
        Value::String(migration_id(service, release, at.position)),
    );
    migration.insert("service".into(), Value::String(service_name(service)));
    migration.insert("release".into(), Value::String(release_name(release)));
    migration.insert("kind".into(), Value::String(KINDS[kind].into()));
    migration.insert("command".into(), Value::String(command(service, kind)));
    if !requires.is_empty() {
        migration.insert(
            "requires".into(),
            requires.into_iter().map(Value::String).collect(),
        );
    }
    // Sometimes a lower-index service's control plane must be up (as nova's
    // cells setup needs keystone and placement).
    if service > 0 && rng.chance(4) {
        let other = rng.below(service);
        migration.insert("needs_running".into(), json!([control_name(other)]));
    }
    if kind == 0 && rng.chance(50) {
        migration.insert("reversible".into(), Value::Bool(true));
    }
    if rng.chance(30) {
        migration.insert("duration_s".into(), json!(5 * (1 + rng.below(120))));
    }
    Value::Object(migration)
}

/// The ids the migration at `at` requires, sorted.
fn migration_requires(rng: &mut Rng, at: Place) -> Vec<String> {
    let Place {
        service,
        release,
        position,
        per,
    } = at;
    let mut requires: Vec<String> = Vec::new();
    // Earlier migrations of the same service and release: their kind runs no
    // later than this one's, since a service's kinds are in running order.
    if position > 0 {
        if rng.chance(60) {
            requires.push(migration_id(service, release, position - 1));
        }
        if rng.chance(20) {
            let earlier = rng.below(position);
            requires.push(migration_id(service, release, earlier));
        }
    }
    // Sometimes a migration of a lower-index service (which comes earlier in the
    // service order), of this release or one of the two before, never release 0.
    if service > 0 && rng.chance(8) {
        let other = rng.below(service);
        let other_release = release - rng.below(release.min(3));
        requires.push(migration_id(other, other_release, rng.below(per)));
    }
    requires.sort_unstable();
    requires.dedup();
    requires
}
