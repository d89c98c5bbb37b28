//! `--command KIND=TEMPLATE`: the operator's command for the steps of one kind.

use crate::error::{Error, Result};
use crate::plan::StepKind;

/// The placeholders a command template may use (DESIGN §9).
pub const PLACEHOLDERS: [&str; 7] = [
    "step",
    "service",
    "component",
    "unit",
    "release",
    "host",
    "action",
];

/// One piece of a template: text as written, or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(&'static str),
}

/// A command template for the steps of one kind, such as
/// `stop='systemctl disable --now {unit}'`: it fills in the command of steps that have none
/// and replaces the command of steps that have one (the default `mysqldump` of `backup`).
///
/// A placeholder is `{name}` with a lowercase name; `${VAR}` and braces around anything
/// else (`awk '{print $1}'`) are the shell's and stay as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTemplate {
    /// The kind of steps it is for.
    pub kind: StepKind,
    /// The template as given.
    pub text: String,
    pieces: Vec<Piece>,
}

impl CommandTemplate {
    /// Parses `KIND=TEMPLATE`.
    ///
    /// # Errors
    /// [`Error::Export`] naming the argument: no `=`, an unknown kind, an unknown
    /// placeholder, or an empty template.
    pub fn parse(argument: &str) -> Result<CommandTemplate> {
        let bad = |message: String| Error::Export {
            message: format!("--command {argument:?}: {message}"),
        };
        let Some((kind, text)) = argument.split_once('=') else {
            return Err(bad(
                "give KIND=TEMPLATE, such as stop='systemctl disable --now {unit}'".to_owned(),
            ));
        };
        let kind: StepKind = serde_json::from_value(serde_json::Value::String(kind.trim().to_owned()))
            .map_err(|_| bad(format!("unknown step kind {:?} (kinds: precheck, stop, backup, repos, install, config, expand, migrate, contract, data, start, postcheck, finalize, task)", kind.trim())))?;
        if text.trim().is_empty() {
            return Err(bad("the template is empty".to_owned()));
        }
        let pieces = pieces(text).map_err(bad)?;
        Ok(CommandTemplate {
            kind,
            text: text.to_owned(),
            pieces,
        })
    }

    /// The command for one step: each placeholder replaced by `value(name)`, each piece of
    /// text by `text(piece)` (the caller escapes text for its engine).
    pub fn render(
        &self,
        mut value: impl FnMut(&str) -> String,
        mut text: impl FnMut(&str) -> String,
    ) -> String {
        let mut out = String::with_capacity(self.text.len() + 32);
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(&text(t)),
                Piece::Placeholder(name) => out.push_str(&value(name)),
            }
        }
        out
    }
}

/// Splits a template into text and placeholders, refusing unknown placeholders.
fn pieces(template: &str) -> std::result::Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, from_brace) = rest.split_at(open);
        text.push_str(before);
        let name_len = from_brace[1..]
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(from_brace.len() - 1);
        let closes = from_brace[1 + name_len..].starts_with('}');
        // `${VAR}` is the shell's; so is a brace that holds anything but a lowercase name.
        if before.ends_with('$') || name_len == 0 || !closes {
            text.push('{');
            rest = &from_brace[1..];
            continue;
        }
        let name = &from_brace[1..=name_len];
        let Some(known) = PLACEHOLDERS.iter().find(|p| **p == name) else {
            return Err(format!(
                "unknown placeholder {{{name}}} (placeholders: {})",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ));
        };
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Placeholder(known));
        rest = &from_brace[name_len + 2..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &CommandTemplate) -> String {
        template.render(|name| format!("<{name}>"), str::to_owned)
    }

    #[test]
    fn placeholders_and_shell_braces() {
        let t = CommandTemplate::parse(
            "stop=systemctl stop {unit} && echo ${HOME} {x-y} '{print $1}' {",
        )
        .unwrap();
        assert_eq!(t.kind, StepKind::Stop);
        assert_eq!(
            render(&t),
            "systemctl stop <unit> && echo ${HOME} {x-y} '{print $1}' {"
        );
        let t = CommandTemplate::parse("task={step}@{host}:{action}").unwrap();
        assert_eq!(render(&t), "<step>@<host>:<action>");
    }

    #[test]
    fn bad_templates_name_the_argument() {
        for (arg, says) in [
            ("stop", "KIND=TEMPLATE"),
            ("halt=x", "unknown step kind \"halt\""),
            ("stop=  ", "empty"),
            ("stop=systemctl stop {unti}", "unknown placeholder {unti}"),
        ] {
            let err = CommandTemplate::parse(arg).unwrap_err().to_string();
            assert!(
                err.contains(says) && err.contains(&format!("{arg:?}")),
                "{err}"
            );
        }
    }
}
