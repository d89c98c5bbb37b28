//! A catalog from JSON text.
#![no_main]

use ffu_core::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Catalog::from_json_str(text, "fuzz.json") {
        Ok(catalog) => ffu_fuzz::exercise_catalog(&catalog),
        Err(err) => ffu_fuzz::check_reader_error(&err, "fuzz.json"),
    }
});
