//! `ffu export ansible` of a rolling hop over 10,000 hosts (3 controllers, the rest
//! computes, 5% at a time) from the embedded OpenStack catalog, with the inventory and a
//! journal (every step a block of journal calls): the export alone, the plan made once.
//! Prints the playbook's size (bytes of `site.yml`, `inventory.yml` and `plan.json`; plays
//! and tasks) before the timing.
//!
//! Run: `cargo bench --bench export` (`-- --quick` for a fast look).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ffu_core::export::ansible::{export, AnsibleOptions};
use ffu_core::{Catalog, Mode, PlanRequest, Policy};

#[path = "support/fleet.rs"]
mod fleet_inventory;
use fleet_inventory::inventory;

fn benches(c: &mut Criterion) {
    let catalog = Catalog::openstack();
    let mut group = c.benchmark_group("export");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let hosts = 10_000;
    let fleet = inventory(&catalog, hosts);
    let rolling = Policy {
        mode: Mode::Rolling,
        max_unavailable: Some("5%".into()),
        ..Policy::default()
    };
    let plan = catalog
        .plan_request(&PlanRequest::from_inventory(&fleet, "queens", &rolling))
        .expect("plan");
    let options = AnsibleOptions {
        journal: Some("sqlite:/var/lib/ffu/journal.db".to_owned()),
        ..AnsibleOptions::default()
    };
    let out = export(&plan, Some((&catalog, &fleet)), &options).expect("export");
    let sizes: Vec<String> = out
        .files
        .iter()
        .map(|(name, text)| format!("{name} {} bytes", text.len()))
        .collect();
    // The figures the bench exists for, besides the time.
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
        "export of a rolling pike -> queens plan, {hosts} hosts, {} steps: {}; {} plays, {} tasks",
        plan.steps.len(),
        sizes.join(", "),
        out.plays,
        out.tasks
    );
    }
    group.throughput(Throughput::Elements(hosts as u64));
    group.bench_function(BenchmarkId::new("ansible_rolling_journal", hosts), |b| {
        b.iter(|| {
            export(black_box(&plan), Some((&catalog, &fleet)), &options)
                .unwrap()
                .files
                .len()
        });
    });
    group.finish();
}

criterion_group!(export_benches, benches);
criterion_main!(export_benches);
