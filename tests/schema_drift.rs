//! The published JSON Schemas (`ffu schema catalog|inventory|plan`) cannot drift from the
//! documents ffu reads: for every kind of object in the three documents, a field ffu does
//! not know is refused by ffu's own reader, which names the fields it expects; those must
//! be exactly the properties the schema gives that object (and the schema must refuse
//! other properties). A field added to a Rust type without its schema, or the other way
//! round, fails here. `ffu-py/tests/test_schema.py` checks the other direction with
//! Python's `jsonschema`: real documents pass, misspelt ones fail.

use std::collections::BTreeSet;

use ffu_core::{Catalog, Inventory, Plan};
use serde_json::Value;

/// The fields ffu's reader expects where it refused `bogus`, from its message ("unknown
/// field `bogus`, expected one of a, b" or "... expected one of `a`, `b`").
fn expected_fields(message: &str) -> BTreeSet<String> {
    let (_, list) = message
        .split_once("expected one of ")
        .or_else(|| message.split_once("expected "))
        .unwrap_or_else(|| panic!("no list of expected fields in: {message}"));
    let list = list.lines().next().unwrap_or_default();
    // serde_json adds where it was: "... `z` at line 1 column 8".
    let list = list.split_once(" at line ").map_or(list, |(list, _)| list);
    list.split(", ")
        .map(|field| field.trim().trim_matches('`').to_owned())
        .collect()
}

/// The properties of the schema object at `pointer` (a JSON pointer); it must refuse
/// others.
fn schema_fields(document: &str, pointer: &str) -> BTreeSet<String> {
    let schema: Value = serde_json::from_str(ffu_core::schema::schema(document).unwrap()).unwrap();
    let object = schema
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{document} schema has nothing at {pointer}"));
    assert_eq!(
        object["additionalProperties"],
        Value::Bool(false),
        "{document} schema at {pointer} lets any property through"
    );
    let mut fields: BTreeSet<String> = object["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    // A tool's own `x-...` fields, as ffu's reader names them.
    if object["patternProperties"]
        .as_object()
        .is_some_and(|patterns| patterns.keys().any(|p| p.starts_with("^x-")))
    {
        fields.insert("x-...".to_owned());
    }
    fields
}

const CATALOG: &str = "\
format: ffu-catalog/1
name: drift
releases: [{name: a}, {name: b}]
services:
  - name: s
    databases: [{name: s_db}]
    components: [{name: s-api, role: control}]
migrations:
  - {id: m, service: s, release: b, kind: migrate, command: x}
tasks:
  - {id: t, service: s, phase: before_start, reason: r, config: {file: /etc/s.conf, section: d, option: o, action: set, value: v}}
extensions:
  - {name: e, service: s, since: a}
edges:
  - {from: a, to: b, reason: r}
config_changes:
  - {service: s, release: b, file: /etc/s.conf, action: remove, from: d.o}
";

/// Each kind of catalog object: where `bogus: 1` goes (the text it follows) and the
/// schema object that describes it.
const CATALOG_OBJECTS: [(&str, &str); 11] = [
    ("name: drift", ""),
    ("{name: a", "/properties/releases/items"),
    ("  - name: s", "/$defs/service"),
    (
        "{name: s_db",
        "/$defs/service/properties/databases/items/anyOf/1",
    ),
    ("{name: s-api", "/$defs/component"),
    ("{id: m", "/$defs/migration"),
    ("{id: t", "/$defs/task"),
    (
        "{file: /etc/s.conf",
        "/$defs/task/properties/config/anyOf/0",
    ),
    ("{name: e", "/properties/extensions/items"),
    ("{from: a", "/properties/edges/items"),
    (
        "{service: s, release: b",
        "/properties/config_changes/items",
    ),
];

#[test]
fn the_catalog_schema_has_exactly_the_fields_ffu_reads() {
    Catalog::from_yaml_str(CATALOG, "drift.yaml").expect("the base catalog is valid");
    for (after, pointer) in CATALOG_OBJECTS {
        let bogus = if after.starts_with('{') {
            format!("{after}, bogus: 1")
        } else if after.starts_with("  - ") {
            format!("{after}\n    bogus: 1")
        } else {
            format!("{after}\nbogus: 1")
        };
        let text = CATALOG.replacen(after, &bogus, 1);
        assert_ne!(text, CATALOG, "{after:?} is in the base catalog");
        let err = Catalog::from_yaml_str(&text, "drift.yaml")
            .expect_err("an unknown field is refused")
            .to_string();
        assert_eq!(
            expected_fields(&err),
            schema_fields("catalog", pointer),
            "catalog object at {pointer:?} ({err})"
        );
    }
}

#[test]
fn the_inventory_schema_has_exactly_the_fields_ffu_reads() {
    let catalog = Catalog::from_yaml_str(CATALOG, "drift.yaml").unwrap();
    let base = "format: ffu-inventory/1\nhosts:\n  - {name: h1, components: {s-api: a}}\n";
    Inventory::from_yaml_str(&catalog, base, "inv.yaml").expect("the base inventory is valid");
    for (text, pointer) in [
        (base.replace("hosts:", "bogus: 1\nhosts:"), ""),
        (
            base.replace("{name: h1", "{name: h1, bogus: 1"),
            "/properties/hosts/items",
        ),
    ] {
        let err = Inventory::from_yaml_str(&catalog, &text, "inv.yaml")
            .expect_err("an unknown field is refused")
            .to_string();
        assert_eq!(
            expected_fields(&err),
            schema_fields("inventory", pointer),
            "inventory object at {pointer:?} ({err})"
        );
    }
}

#[test]
fn the_plan_schema_has_exactly_the_fields_ffu_reads() {
    // A plan with every kind of object: a rolling plan per host, with windows, and a
    // step with a configuration edit and a recovery section.
    let catalog = Catalog::openstack();
    let plan = catalog
        .plan("newton", "ocata", &ffu_core::Policy::default())
        .unwrap();
    let mut document: Value = serde_json::from_str(&plan.to_json()).unwrap();
    document["windows"] = serde_json::json!([{"index": 0, "first_step": plan.steps[0].id,
        "last_step": plan.steps[0].id, "estimate_s": 1, "state": "serving", "hosts": 0}]);
    document["recovers"] = serde_json::json!({"plan": "c", "hop": 0, "release": "newton",
        "changed": [{"service": "nova", "databases": [], "backup": "b", "release": "newton",
        "steps": []}]});
    let config_step = document["steps"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["config"].is_object())
        .expect("a step with a configuration edit");
    Plan::from_json(&document.to_string(), "p.json").expect("the base plan is valid");
    for (pointer_in_plan, pointer) in [
        (String::new(), ""),
        ("/policy".to_owned(), "/properties/policy"),
        ("/hops/0".to_owned(), "/properties/hops/items"),
        ("/steps/0".to_owned(), "/$defs/step"),
        (
            format!("/steps/{config_step}/config"),
            "/$defs/step/properties/config/anyOf/0",
        ),
        ("/windows/0".to_owned(), "/properties/windows/items"),
        ("/recovers".to_owned(), "/properties/recovers"),
        (
            "/recovers/changed/0".to_owned(),
            "/properties/recovers/properties/changed/items",
        ),
    ] {
        let mut bogus = document.clone();
        bogus.pointer_mut(&pointer_in_plan).unwrap()["bogus"] = Value::from(1);
        let err = Plan::from_json(&bogus.to_string(), "p.json")
            .expect_err("an unknown field is refused")
            .to_string();
        assert_eq!(
            expected_fields(&err),
            schema_fields("plan", pointer),
            "plan object at {pointer_in_plan:?} ({err})"
        );
    }
}
