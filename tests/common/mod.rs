//! Helpers shared by the end-to-end tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The result of one run of the `ffu` binary.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs the `ffu` binary built for this test run.
pub(crate) fn ffu(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_ffu"))
        .args(args)
        .output()
        .expect("ffu runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The plan `ffu plan --format json ARGS...` prints; a failed run fails the test with its
/// stderr.
pub(crate) fn plan_json(args: &[&str]) -> ffu_core::Plan {
    let mut full = vec!["plan", "--format", "json"];
    full.extend_from_slice(args);
    let run = ffu(&full);
    assert_eq!(run.code, 0, "ffu {full:?} failed: {}", run.stderr);
    ffu_core::Plan::from_json(&run.stdout, "stdout").expect("valid plan JSON")
}

/// A path under `tests/data`.
pub(crate) fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

/// A fresh temporary directory for one test, removed first if a previous run left it, and
/// removed again with everything in it when the test is done with it (also when it fails).
pub(crate) fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("ffu-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    TempDir(dir)
}

/// A directory removed when dropped; it derefs to its path.
pub(crate) struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path.to_string_lossy().into_owned()
}
