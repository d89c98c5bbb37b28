//! What errors must look like.

use super::*;

/// The file an error names, for the variants that name one.
pub(crate) fn error_file(err: &Error) -> Option<String> {
    match err {
        Error::Io { path, .. } => Some(path.display().to_string()),
        Error::Parse { file, .. }
        | Error::Invalid { file, .. }
        | Error::Cycle { file, .. }
        | Error::BadPlan { file, .. } => Some(file.clone()),
        _ => None,
    }
}

/// Checks the lines of a message: one line, or (with `chain`) a first line followed by
/// lines indented by two spaces; each at most [`MAX_LINE`] + `allowance` bytes.
pub(crate) fn check_lines(message: &str, chain: bool, allowance: usize) -> Option<Broken> {
    let limit = MAX_LINE + allowance;
    // A value shown raw can end the line early ("\r"), or recolour or rewrite the terminal
    // (ESC): a clear line shows such characters escaped.
    if let Some(control) = message
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Some(broken(
            "the error holds a raw control character",
            format!("{control:?} in {message:?}"),
        ));
    }
    let mut lines = message.split('\n');
    let first = lines.next().unwrap_or_default();
    if first.trim().is_empty() {
        return Some(broken(
            "the error's first line is empty",
            format!("{message:?}"),
        ));
    }
    if first.len() > limit {
        return Some(broken(
            format!("an error line is longer than {MAX_LINE} bytes plus its file names"),
            format!("{} bytes: {first}", first.len()),
        ));
    }
    for line in lines {
        if !chain || !line.starts_with("  ") {
            return Some(broken("the error is not one line", format!("{message:?}")));
        }
        if line.len() > limit {
            return Some(broken(
                format!("an error line is longer than {MAX_LINE} bytes plus its file names"),
                format!("{} bytes (a line of the chain): {line}", line.len()),
            ));
        }
    }
    None
}

/// Checks an error of a reader: it names an accepted file, shows it, and is one bounded
/// line.
pub(crate) fn check_reader_error(err: &Error, accepted: &dyn Fn(&str) -> bool) -> Option<Broken> {
    // As the CLI and Python show it: the error's own text keeps values whole, as data.
    let message = ffu_core::error_text(&err.to_string(), false).into_owned();
    let Some(file) = error_file(err) else {
        return Some(broken("a reader's error names no file", message));
    };
    if file.is_empty() {
        return Some(broken("the error names an empty file", message));
    }
    if !accepted(&file) {
        return Some(broken(
            "the error names another file than the one read",
            format!("names {file:?}: {message}"),
        ));
    }
    let shown_file = ffu_core::error_text(&file, false);
    if !message.contains(&*shown_file) {
        return Some(broken("the message does not show its file", message));
    }
    check_lines(&message, false, 2 * file.len())
}

/// Checks an error of planning or verification: one bounded line, or an order cycle's chain.
pub(crate) fn check_plan_error(err: &Error) -> Option<Broken> {
    let chain = matches!(err, Error::NoPlan(NoPlan::OrderCycle { .. }));
    let allowance = error_file(err).map_or(0, |file| 2 * file.len());
    check_lines(
        &ffu_core::error_text(&err.to_string(), chain),
        chain,
        allowance,
    )
}
