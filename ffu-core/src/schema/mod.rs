//! The JSON Schemas of ffu's three documents (`ffu schema catalog|inventory|plan`), for
//! editors and for tools that check a document before they hand it over.
//!
//! Written by hand beside the types they describe (`catalog/document.rs`,
//! `inventory.rs`, `plan/`), and held to them both ways: `tests/schema_drift.rs` makes ffu's
//! own reader refuse an unknown field in every kind of object of the three documents and
//! checks that the fields it names are exactly the schema's properties (so a field added
//! to a type without its schema fails the build's tests); `ffu-py/tests/test_schema.py`
//! validates every catalog, inventory and plan of the repository with Python's
//! `jsonschema`, and checks that a misspelt field, a wrong kind or a missing field fails, as
//! they fail in ffu.

/// The documents that have a schema.
pub const DOCUMENTS: [&str; 3] = ["catalog", "inventory", "plan"];

/// The JSON Schema (draft 2020-12) of `document` (`catalog`, `inventory` or `plan`).
pub fn schema(document: &str) -> Option<&'static str> {
    Some(match document {
        "catalog" => include_str!("catalog.schema.json"),
        "inventory" => include_str!("inventory.schema.json"),
        "plan" => include_str!("plan.schema.json"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_json_and_names_its_format() {
        for document in DOCUMENTS {
            let value: serde_json::Value = serde_json::from_str(schema(document).unwrap()).unwrap();
            let format = &value["properties"]["format"]["const"];
            assert_eq!(format, &format!("ffu-{document}/1"));
        }
        assert!(schema("nope").is_none());
    }
}
