//! Criterion benchmarks of the path `ffu plan --catalog big.json --format json` takes, on
//! synthetic catalogs (`benches/support/synthetic.rs`) of three sizes, each ten times the
//! previous one in migrations:
//!
//! - `load`: [`Catalog::from_json_str`], parsing and validation of the JSON text;
//! - `plan`: [`Catalog::plan`] from the first release to the last, default policy, and
//!   [`Catalog::plan_compact`] of the same (what the CLI's JSON output and Python use);
//! - `to_json`: [`Plan::to_json`], and [`CompactPlan::to_json`] of the same plan;
//! - `verify`: [`ffu_core::verify`] of that plan.
//!
//! Benchmark ids carry the number of migrations (`load/from_json_str/93600`), and every
//! group reports throughput in migrations per second, so that linear growth shows as a
//! constant throughput. Quick run: `cargo bench --bench plan -- --quick`; one size:
//! `cargo bench --bench plan -- /93600`.
//!
//! Fixtures are built lazily, the first time a benchmark of their size runs, so that a
//! filter that skips the large size also skips generating it (the large one takes about
//! 10 s and 2 GB to generate). Under `cargo test` only the small size runs, once.

#[path = "support/synthetic.rs"]
mod synthetic;

use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ffu_core::{verify, Catalog, CompactPlan, Plan, PlanRequest, Policy};

/// One catalog size: releases x services x migrations per service and release.
#[derive(Clone, Copy)]
struct Size {
    releases: usize,
    services: usize,
    per: usize,
}

impl Size {
    /// Migrations in the catalog: release 0 brings none.
    fn migrations(self) -> usize {
        (self.releases - 1) * self.services * self.per
    }

    fn last_release(self) -> String {
        format!("r{:03}", self.releases - 1)
    }
}

/// Small (5,400 migrations), medium (93,600: the 40 x 200 x 12) and large (936,000:
/// ten times the medium one, about 135 MB of JSON).
const SIZES: [Size; 3] = [
    Size {
        releases: 10,
        services: 50,
        per: 12,
    },
    Size {
        releases: 40,
        services: 200,
        per: 12,
    },
    Size {
        releases: 40,
        services: 2000,
        per: 12,
    },
];

/// The inputs of one size, each built on first use.
struct Fixture {
    size: Size,
    text: OnceCell<String>,
    catalog: OnceCell<Arc<Catalog>>,
    plan: OnceCell<Plan>,
    compact: OnceCell<CompactPlan>,
}

impl Fixture {
    fn new(size: Size) -> Fixture {
        Fixture {
            size,
            text: OnceCell::new(),
            catalog: OnceCell::new(),
            plan: OnceCell::new(),
            compact: OnceCell::new(),
        }
    }

    fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let Size {
                releases,
                services,
                per,
            } = self.size;
            serde_json::to_string(&synthetic::catalog(releases, services, per))
                .expect("JSON of plain data")
        })
    }

    fn catalog(&self) -> &Arc<Catalog> {
        self.catalog.get_or_init(|| {
            let catalog = Catalog::from_json_str(self.text(), "synthetic.json")
                .expect("the synthetic catalog is valid");
            assert_eq!(catalog.migrations().len(), self.size.migrations());
            Arc::new(catalog)
        })
    }

    fn compact(&self) -> &CompactPlan {
        self.compact.get_or_init(|| {
            let compact = self
                .catalog()
                .plan_compact(&PlanRequest::from_release(
                    "r000",
                    &self.size.last_release(),
                    &Policy::default(),
                ))
                .expect("a plan exists over a synthetic catalog");
            assert_eq!(compact.to_json(), self.plan().to_json());
            compact
        })
    }

    fn plan(&self) -> &Plan {
        self.plan.get_or_init(|| {
            let catalog = self.catalog();
            let plan = catalog
                .plan("r000", &self.size.last_release(), &Policy::default())
                .expect("a plan exists over a synthetic catalog");
            let violations = verify(catalog, &plan).expect("the plan can be checked");
            assert!(
                violations.is_empty(),
                "the plan breaks the rules: {:?}",
                &violations[..violations.len().min(5)]
            );
            plan
        })
    }
}

/// Sampling for one size: the bigger ones run a few flat samples instead of criterion's
/// default 100 linear ones, so that a full run stays within minutes.
fn configure(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    size: Size,
) {
    group.throughput(Throughput::Elements(size.migrations() as u64));
    match size.migrations() {
        0..=10_000 => {
            group
                .sample_size(30)
                .measurement_time(Duration::from_secs(3))
                .warm_up_time(Duration::from_secs(1));
        }
        10_001..=100_000 => {
            group
                .sampling_mode(SamplingMode::Flat)
                .sample_size(10)
                .measurement_time(Duration::from_secs(5))
                .warm_up_time(Duration::from_secs(1));
        }
        _ => {
            group
                .sampling_mode(SamplingMode::Flat)
                .sample_size(10)
                .measurement_time(Duration::from_secs(20))
                .warm_up_time(Duration::from_millis(1));
        }
    }
}

fn benches(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`, `--all-targets`)
    // criterion runs each routine once as a smoke test, in an unoptimized build: the small
    // size is enough there (the medium one would take 8 s, the large one minutes and GBs).
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let sizes = if benchmarking {
        &SIZES[..]
    } else {
        &SIZES[..1]
    };
    for &size in sizes {
        let fixture = Fixture::new(size);
        let id = |function: &str| BenchmarkId::new(function, size.migrations());

        let mut group = c.benchmark_group("load");
        configure(&mut group, size);
        group.bench_function(id("from_json_str"), |b| {
            let text = fixture.text();
            b.iter(|| Catalog::from_json_str(black_box(text), "synthetic.json").expect("valid"));
        });
        group.finish();

        let mut group = c.benchmark_group("plan");
        configure(&mut group, size);
        group.bench_function(id("first_to_last"), |b| {
            let catalog = fixture.catalog();
            let last = size.last_release();
            b.iter(|| {
                catalog
                    .plan(black_box("r000"), black_box(&last), &Policy::default())
                    .expect("a plan")
            });
        });
        group.bench_function(id("compact_first_to_last"), |b| {
            let catalog = fixture.catalog();
            let last = size.last_release();
            b.iter(|| {
                catalog
                    .plan_compact(&PlanRequest::from_release(
                        black_box("r000"),
                        black_box(&last),
                        &Policy::default(),
                    ))
                    .expect("a plan")
            });
        });
        group.finish();

        let mut group = c.benchmark_group("to_json");
        configure(&mut group, size);
        group.bench_function(id("plan_to_json"), |b| {
            let plan = fixture.plan();
            b.iter(|| black_box(plan).to_json());
        });
        group.bench_function(id("compact_to_json"), |b| {
            let compact = fixture.compact();
            b.iter(|| black_box(compact).to_json());
        });
        group.finish();

        let mut group = c.benchmark_group("verify");
        configure(&mut group, size);
        group.bench_function(id("verify"), |b| {
            let catalog = fixture.catalog();
            let plan = fixture.plan();
            b.iter(|| verify(black_box(catalog), black_box(plan)).expect("checkable"));
        });
        group.finish();
    }
}

criterion_group!(plan_benches, benches);
criterion_main!(plan_benches);
