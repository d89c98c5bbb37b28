//! A plan document, verified against the embedded OpenStack catalog, rendered, and written
//! back.
#![no_main]

use std::sync::OnceLock;

use ffu_core::{render, verify, Catalog, Plan};
use libfuzzer_sys::fuzz_target;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::openstack)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let plan = match Plan::from_json(text, "fuzz.json") {
        Ok(plan) => plan,
        Err(err) => return ffu_fuzz::check_reader_error(&err, "fuzz.json"),
    };
    // Errors of verify name the plan "plan" for now (a known defect): only their form is
    // checked.
    if let Err(err) = verify(catalog(), &plan) {
        ffu_fuzz::check_plan_error(&err);
    }
    let _ = render::text(&plan, Some(catalog()));
    let _ = render::dot(&plan);
    let again = Plan::from_json(&plan.to_json(), "again.json").expect("a plan's JSON reads back");
    assert!(
        again == plan,
        "a plan changes through to_json and from_json"
    );
});
