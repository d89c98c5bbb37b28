//! The timeline (DESIGN §10, `--format svg`) at the command line: drawn for real plans, the
//! same from `ffu plan` and from `ffu estimate PLAN.json`, bad input exit 2. Its drawing is
//! tested in ffu-core (src/timeline.rs) and rendered to PNG in ffu-py/tests/test_timeline.py.

mod common;

use common::{data, ffu, temp_dir};

fn bars(svg: &str) -> Vec<(String, usize)> {
    let doc = roxmltree::Document::parse(svg).expect("the timeline is XML");
    doc.descendants()
        .filter(|node| {
            node.attribute("class")
                .is_some_and(|class| class.starts_with("bar "))
        })
        .map(|node| {
            (
                node.attribute("data-kind").unwrap().to_owned(),
                node.attribute("data-steps").unwrap().parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn plan_and_estimate_draw_the_same_timeline() {
    let dir = temp_dir("timeline-same");
    let json = dir.join("plan.json");
    let run = ffu(&[
        "plan",
        "--from",
        "newton",
        "--to",
        "queens",
        "--format",
        "json",
        "-o",
        json.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let drawn = ffu(&[
        "plan", "--from", "newton", "--to", "queens", "--format", "svg",
    ]);
    assert_eq!(drawn.code, 0, "{}", drawn.stderr);
    let again = ffu(&["estimate", json.to_str().unwrap(), "--format", "svg"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(drawn.stdout, again.stdout);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let bars = bars(&drawn.stdout);
    let steps: usize = bars.iter().map(|(_, steps)| steps).sum();
    assert_eq!(steps, plan["steps"].as_array().unwrap().len());
}

#[test]
fn an_inventory_plan_with_windows_draws_its_windows_and_per_host_rows() {
    let inventory = data("inventory-pike.yaml");
    let run = ffu(&[
        "plan",
        "--inventory",
        inventory.to_str().unwrap(),
        "--to",
        "rocky",
        "--mode",
        "rolling",
        "--max-unavailable",
        "10%",
        "--window",
        "2h",
        "--format",
        "svg",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = roxmltree::Document::parse(&run.stdout).unwrap();
    let windows = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("window"))
        .count();
    assert!(windows > 1, "{windows} windows");
    assert!(doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("row-label"))
        .any(|n| n.text().is_some_and(|t| t.contains("per host"))));
}

#[test]
fn a_window_naming_no_step_is_exit_2_naming_it() {
    let dir = temp_dir("timeline-bad");
    let run = ffu(&[
        "plan", "--from", "newton", "--to", "pike", "--window", "30h", "--format", "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = run
        .stdout
        .replacen("\"first_step\":\"", "\"first_step\":\"no-such-", 1);
    assert_ne!(text, run.stdout);
    let path = dir.join("bad-window.json");
    std::fs::write(&path, text).unwrap();
    let run = ffu(&["estimate", path.to_str().unwrap(), "--format", "svg"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("bad-window.json"), "{}", run.stderr);
    assert!(run.stderr.contains("no-such-"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let run = ffu(&[
        "estimate",
        dir.join("missing.json").to_str().unwrap(),
        "--format",
        "svg",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
}
