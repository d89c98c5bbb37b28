//! What the fuzz targets check besides "no panic, no hang, no unbounded memory" (which
//! libFuzzer checks itself): the form of errors, and that what a reader accepts works.

use std::sync::OnceLock;

use ffu_core::{render, verify, Catalog, Error, NoPlan, Plan, Policy};

/// Whether errors are held to their form: on, unless `FFU_FUZZ_NO_FORM` is set, for a long
/// run that looks for panics, hangs and memory only while a known defect of the messages
/// stands (each form defect would otherwise stop the run at once).
fn form_checks() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("FFU_FUZZ_NO_FORM").is_none())
}

/// No raw control character but line breaks: a value shown as it is can rewrite the
/// terminal (a carriage return, an escape sequence).
fn check_controls(message: &str) {
    if let Some(control) = message
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        panic!("the error holds a raw control character {control:?}: {message:?}");
    }
}

/// An error of a reader of `file`: one line that names the file, without raw control
/// characters.
///
/// The message checked is the error as the CLI and Python show it
/// ([`ffu_core::error_text`]: control characters escaped, long values cut); its length is
/// held to 1024 bytes by `tests/fuzz/`.
pub fn check_reader_error(err: &Error, file: &str) {
    if !form_checks() {
        return;
    }
    let message = ffu_core::error_text(&err.to_string(), false).into_owned();
    check_controls(&message);
    assert!(
        !message.contains('\n'),
        "the error is not one line: {message:?}"
    );
    let file = ffu_core::error_text(file, false);
    assert!(
        message.contains(&*file),
        "the error does not name {file}: {message}"
    );
}

/// An error of the planner: one line, or an order cycle's first line and its facts, each on
/// a line indented by two spaces.
pub fn check_plan_error(err: &Error) {
    if !form_checks() {
        return;
    }
    let chain = matches!(err, Error::NoPlan(NoPlan::OrderCycle { .. }));
    let message = ffu_core::error_text(&err.to_string(), chain).into_owned();
    check_controls(&message);
    if chain {
        assert!(
            message.lines().skip(1).all(|line| line.starts_with("  ")),
            "a chain line is not indented: {message:?}"
        );
    } else {
        assert!(
            !message.contains('\n'),
            "the error is not one line: {message:?}"
        );
    }
}

/// A plan the planner made: it passes its own verification, comes back equal through its
/// JSON, and renders.
pub fn check_own_plan(catalog: &Catalog, plan: &Plan) {
    let again = Plan::from_json(&plan.to_json(), "own.json").expect("the plan's JSON reads back");
    assert!(
        again == *plan,
        "the plan changes through to_json and from_json"
    );
    let violations = verify(catalog, plan).expect("verify reads the planner's plan");
    assert!(
        violations.is_empty(),
        "the planner's plan fails its own verify: {}",
        violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = render::text(plan, Some(catalog));
    let _ = render::dot(plan);
}

/// A catalog a reader accepted: it is shown and loads again, and planned from its first
/// release to its last.
pub fn exercise_catalog(catalog: &Catalog) {
    let shown = catalog.to_json().expect("a loaded catalog is shown");
    if let Err(err) = Catalog::from_json_str(&shown, "shown.json") {
        panic!("the shown catalog does not load again: {err}");
    }
    let (Some(first), Some(last)) = (catalog.releases().first(), catalog.releases().last()) else {
        return;
    };
    match catalog.plan(&first.name, &last.name, &Policy::default()) {
        Ok(plan) => check_own_plan(catalog, &plan),
        Err(err) => check_plan_error(&err),
    }
}
