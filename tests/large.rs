//! A catalog large enough for the planner and the JSON writer to split their work over
//! two threads: the plan must still pass the verifier, be deterministic, and read back,
//! and a compact plan must be the same plan.

#[path = "../benches/support/synthetic.rs"]
#[allow(dead_code)]
mod synthetic;

use std::sync::Arc;

use ffu_core::{verify, Catalog, Plan, PlanRequest, Policy};

#[test]
fn a_large_plan_built_on_two_threads_is_safe_and_deterministic_and_compact_alike() {
    // 12 releases x 200 services x 10 migrations: 22,000 migrations, over the threshold.
    let document = synthetic::catalog(12, 200, 10).to_string();
    let catalog = Arc::new(Catalog::from_json_str(&document, "large.json").unwrap());
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
        // The compact plan, written on two threads too, is the same plan.
        let compact = catalog
            .plan_compact(&PlanRequest::from_release(first, last, &policy))
            .unwrap();
        assert_eq!(compact.to_json(), json);
        let mut streamed = Vec::new();
        compact.write_json(&mut streamed).unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), json);
        assert_eq!(compact.to_plan(), plan);
        assert_eq!(compact.into_plan(), plan);
    }
}

#[test]
fn a_large_json_catalog_reads_alike_split_or_whole_and_its_errors_keep_their_place() {
    // Over a megabyte, so that the migrations list is parsed on two threads; the key
    // written with an escape is not looked for, so that copy is parsed whole.
    let document = synthetic::catalog(12, 200, 10).to_string();
    assert!(document.len() > 1 << 20);
    let whole = document.replacen("\"migrations\"", "\"migr\\u0061tions\"", 1);
    let split = Catalog::from_json_str(&document, "split.json").unwrap();
    let unsplit = Catalog::from_json_str(&whole, "whole.json").unwrap();
    let (first, last) = (
        &split.releases()[0].name,
        &split.releases().last().unwrap().name,
    );
    let policy = Policy::default();
    assert_eq!(
        split.plan(first, last, &policy).unwrap().to_json(),
        unsplit.plan(first, last, &policy).unwrap().to_json()
    );

    // A bad value near the end, in the second thread's half: the error is the whole
    // parse's, placed in the whole document.
    let at = document.rfind("\"kind\":\"").unwrap() + "\"kind\":\"".len();
    let end = at + document[at..].find('"').unwrap();
    let damaged = format!("{}bogus{}", &document[..at], &document[end..]);
    let error = Catalog::from_json_str(&damaged, "damaged.json")
        .unwrap_err()
        .to_string();
    let column = at + "bogus\"".len();
    assert!(error.contains("unknown variant `bogus`"), "{error}");
    assert!(error.contains(&format!("1:{column}")), "{error}");
}

#[test]
fn of_two_bad_migrations_in_a_large_catalog_the_first_is_reported() {
    // 22,000 migrations: their names are resolved in two halves on two threads, and the
    // error must still be the first in the document's order, as in one pass.
    let mut document = synthetic::catalog(12, 200, 10);
    let migrations = document["migrations"].as_array_mut().unwrap();
    let last = migrations.len() - 100;
    migrations[100]["service"] = "nosuch-early".into();
    migrations[last]["service"] = "nosuch-late".into();
    let error = Catalog::from_json_str(&document.to_string(), "two.json")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unknown service \"nosuch-early\""),
        "{error}"
    );

    document["migrations"][100]["service"] = document["migrations"][101]["service"].clone();
    let error = Catalog::from_json_str(&document.to_string(), "one.json")
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown service \"nosuch-late\""), "{error}");
}

#[test]
fn a_duplicate_id_in_a_large_catalog_is_reported_before_any_unknown_name() {
    // The id index is built beside the pass that resolves releases (22,000 migrations);
    // a duplicate id is still the error, and not a bad name found later in the document.
    let mut document = synthetic::catalog(12, 200, 10);
    let migrations = document["migrations"].as_array_mut().unwrap();
    let last = migrations.len() - 1;
    migrations[5]["release"] = "nosuch-release".into();
    migrations[last]["id"] = migrations[last - 1]["id"].clone();
    let duplicate = migrations[last]["id"].as_str().unwrap().to_owned();
    let error = Catalog::from_json_str(&document.to_string(), "duplicate.json")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("duplicate migration id") && error.contains(&duplicate),
        "{error}"
    );
}
