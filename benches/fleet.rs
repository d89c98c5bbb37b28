//! Plans per host: a rolling hop and an offline FFU over five hops, for fleets of 1,000
//! and 10,000 hosts (3 controllers, the rest computes) from the embedded OpenStack catalog,
//! each planned and verified.
//!
//! Run: `cargo bench --bench fleet` (`-- --quick` for a fast look).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ffu_core::{verify, Catalog, Mode, PlanRequest, Policy};

#[path = "support/fleet.rs"]
mod fleet_inventory;
use fleet_inventory::inventory;

fn benches(c: &mut Criterion) {
    let catalog = Catalog::openstack();
    let mut group = c.benchmark_group("fleet");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for hosts in [1_000, 10_000] {
        let fleet = inventory(&catalog, hosts);
        group.throughput(Throughput::Elements(hosts as u64));
        let rolling = Policy {
            mode: Mode::Rolling,
            max_unavailable: Some("5%".into()),
            ..Policy::default()
        };
        group.bench_function(
            BenchmarkId::new("rolling_hop_plan_and_verify", hosts),
            |b| {
                b.iter(|| {
                    let plan = catalog
                        .plan_request(&PlanRequest::from_inventory(
                            black_box(&fleet),
                            "queens",
                            &rolling,
                        ))
                        .unwrap();
                    assert!(verify(&catalog, &plan).unwrap().is_empty());
                    plan.steps.len()
                });
            },
        );
        let offline = Policy::default();
        group.bench_function(
            BenchmarkId::new("offline_5_hops_plan_and_verify", hosts),
            |b| {
                b.iter(|| {
                    let plan = catalog
                        .plan_request(&PlanRequest::from_inventory(
                            black_box(&fleet),
                            "ussuri",
                            &offline,
                        ))
                        .unwrap();
                    assert!(verify(&catalog, &plan).unwrap().is_empty());
                    plan.steps.len()
                });
            },
        );
    }
    group.finish();
}

criterion_group!(fleet_benches, benches);
criterion_main!(fleet_benches);
