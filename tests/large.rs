//! A catalog large enough for the planner and the JSON writer to split their work over
//! two threads: the plan must still pass the verifier, be deterministic, and read back.

#[path = "../benches/support/synthetic.rs"]
#[allow(dead_code)]
mod synthetic;

use ffu_core::{verify, Catalog, Plan, Policy};

#[test]
fn a_large_plan_built_on_two_threads_is_safe_and_deterministic() {
    // 12 releases x 200 services x 10 migrations: 22,000 migrations, over the threshold.
    let document = synthetic::catalog(12, 200, 10).to_string();
    let catalog = Catalog::from_json_str(&document, "large.json").unwrap();
    assert!(catalog.migrations().len() > 20_000);
    let first = &catalog.releases()[0].name;
    let last = &catalog.releases()[catalog.releases().len() - 1].name;
    for skip_level in [false, true] {
        let policy = Policy {
            skip_level,
            ..Policy::default()
        };
        let plan = catalog.plan(first, last, &policy).unwrap();
        assert_eq!(verify(&catalog, &plan).unwrap(), []);
        let json = plan.to_json();
        assert_eq!(json, serde_json::to_string(&plan).unwrap());
        assert_eq!(Plan::from_json(&json, "plan.json").unwrap(), plan);
        assert_eq!(catalog.plan(first, last, &policy).unwrap().to_json(), json);
    }
}
