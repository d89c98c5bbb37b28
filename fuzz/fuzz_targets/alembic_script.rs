//! An alembic revision script among the five others of a small history (written by the
//! real alembic: tests/data/alembic/generated), imported as one release and as the
//! neutron layout.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use ffu_core::{import_alembic, AlembicLayout};
use libfuzzer_sys::fuzz_target;

const OTHERS: &[(&str, &str)] = &[
    (
        "1a2b3c4d5e6f_create_accounts.py",
        include_str!("../../tests/data/alembic/generated/1a2b3c4d5e6f_create_accounts.py"),
    ),
    (
        "2b3c4d5e6f70_add_email.py",
        include_str!("../../tests/data/alembic/generated/2b3c4d5e6f70_add_email.py"),
    ),
    (
        "4d5e6f708192_audit_table.py",
        include_str!("../../tests/data/alembic/generated/4d5e6f708192_audit_table.py"),
    ),
    (
        "5e6f708192a3_merge_audit.py",
        include_str!("../../tests/data/alembic/generated/5e6f708192a3_merge_audit.py"),
    ),
    (
        "6f708192a3b4_after_merge.py",
        include_str!("../../tests/data/alembic/generated/6f708192a3b4_after_merge.py"),
    ),
];

/// A directory of this process with the other scripts, in which the input is written as
/// `3c4d5e6f7081_add_index.py` (the script it replaces) for each run.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ffu-fuzz-alembic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory for the scripts");
        for (name, text) in OTHERS {
            std::fs::write(dir.join(name), text).expect("write a script");
        }
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    std::fs::write(dir.join("3c4d5e6f7081_add_index.py"), data).expect("write the input");
    let prefix = dir.display().to_string();
    let layouts = [
        AlembicLayout::Single {
            release: "r2".to_owned(),
        },
        AlembicLayout::ReleaseDirs,
    ];
    for layout in &layouts {
        match import_alembic(dir, "demo", layout) {
            Ok(import) => {
                let _ = (import.to_json(), import.to_yaml());
            }
            Err(err) => ffu_fuzz::check_reader_error(&err, &prefix),
        }
    }
});
