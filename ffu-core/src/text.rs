//! Text: error messages cut to a readable length and safe to print, and the two small
//! pieces of JSON text that the catalog's model, the planner and the plan's JSON writer
//! share (whether a string needs escaping, and numbers written without `fmt`).
//!
//! This module is a leaf: it uses nothing else of the crate, so that the model and the
//! planner can use it without depending on the output code (`plan::json`).
//!
//! # Error text
//!
//! An error names the bad value it found, and a bad value may be a megabyte long (a
//! `requires` entry, a host name, a step id). Repeating it whole makes an error "line" of a
//! megabyte that no terminal or log shows usefully; its start and its length say enough.
//! A value may also hold control characters: a line break in a host name would forge a
//! second `error:` line, and an escape sequence would reach the operator's terminal. Parsers
//! repeat such values raw in their messages (serde's "unknown variant"), so the message is
//! made printable as a whole, here.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Values (quoted strings, or runs without white space) longer than this are cut.
const LONGEST_VALUE: usize = 100;
/// How much of a cut value is kept.
const KEPT_OF_VALUE: usize = 80;
/// Lines longer than this many bytes, after values are cut, are cut too.
const LONGEST_LINE: usize = 1000;

/// `message` as an error line for people: control characters escaped as Rust writes them
/// (`\n`, `\u{1b}`), except the line breaks of a message that has several lines by design
/// (`line_breaks`: the facts under an order cycle); every value longer than 100 characters
/// cut to its first 80 and its length (`"aaaa…" (1000000 characters)`); every line still
/// longer than 1,000 bytes cut likewise. Borrowed when nothing changes.
///
/// # Example
/// ```
/// let long = "x".repeat(1_000_000);
/// let message = format!("unknown release {long:?}");
/// assert_eq!(
///     ffu_core::error_text(&message, false),
///     format!("unknown release \"{}…\" (1000002 characters)", "x".repeat(78))
/// );
/// assert_eq!(
///     ffu_core::error_text("unknown variant `a\nerror: forged`", false),
///     "unknown variant `a\\nerror: forged`"
/// );
/// ```
pub fn error_text(message: &str, line_breaks: bool) -> Cow<'_, str> {
    let printable = |c: char| !c.is_control() || (line_breaks && c == '\n');
    if message.chars().all(printable) {
        return shorten_values(message);
    }
    let mut escaped = String::with_capacity(message.len() + 16);
    for c in message.chars() {
        if printable(c) {
            escaped.push(c);
        } else {
            escaped.extend(c.escape_debug());
        }
    }
    Cow::Owned(shorten_values(&escaped).into_owned())
}

/// `message` with long values and lines cut, as [`error_text`] does; line breaks kept.
fn shorten_values(message: &str) -> Cow<'_, str> {
    let needs_cut = message.lines().any(|line| {
        line.len() > LONGEST_VALUE
            && (line.len() > LONGEST_LINE || longest_segment(line) > LONGEST_VALUE)
    });
    if !needs_cut {
        return Cow::Borrowed(message);
    }
    let lines: Vec<String> = message.split('\n').map(shorten_line).collect();
    Cow::Owned(lines.join("\n"))
}

/// The length in characters of the longest segment of `line`.
fn longest_segment(line: &str) -> usize {
    segments(line).map(|s| s.chars().count()).max().unwrap_or(0)
}

fn shorten_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len().min(2 * LONGEST_LINE));
    for segment in segments(line) {
        let length = segment.chars().count();
        if length <= LONGEST_VALUE {
            out.push_str(segment);
            continue;
        }
        let quote = segment
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '`' | '\''));
        out.extend(segment.chars().take(KEPT_OF_VALUE - 1));
        out.push('…');
        if let Some(quote) = quote {
            if segment.len() > 1 && segment.ends_with(quote) {
                out.push(quote);
            }
        }
        let _ = write!(out, " ({length} characters)");
    }
    if out.len() > LONGEST_LINE {
        let length = out.chars().count();
        let mut end = LONGEST_LINE - 1;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        let mut cut = out[..end].to_owned();
        let _ = write!(cut, "… ({length} characters in all)");
        return cut;
    }
    out
}

/// `line` in pieces that concatenate to it: white space, quoted strings (`"..."` with
/// backslash escapes, `` `...` ``, `'...'`, each to its closing quote or the end of the
/// line) and runs of other characters up to a separator (`:`, `,`, `;`), so that the
/// punctuation after a cut value stays.
fn segments(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = line;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let end = if first.is_whitespace() {
            rest.find(|c: char| !c.is_whitespace())
                .unwrap_or(rest.len())
        } else if matches!(first, '"' | '`' | '\'') {
            closing_quote(rest, first)
        } else {
            rest.find(|c: char| c.is_whitespace() || matches!(c, '"' | '`' | ':' | ',' | ';'))
                .unwrap_or(rest.len())
        };
        let (segment, after) = rest.split_at(end.max(first.len_utf8()));
        rest = after;
        Some(segment)
    })
}

/// The end (exclusive) of the quoted string at the start of `text`, its closing quote
/// included; the end of `text` when it has none.
fn closing_quote(text: &str, quote: char) -> usize {
    let mut escaped = false;
    for (at, c) in text.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote == '"' {
            escaped = true;
        } else if c == quote {
            return at + c.len_utf8();
        }
    }
    text.len()
}

/// Whether any byte is a control character, `"` or `\`: whether JSON has to escape
/// something in a string of these bytes. A byte at or above 0x80 never needs escaping but
/// may raise a false alarm (so `true` means "look closer": the JSON writer then escapes
/// byte by byte, and the catalog's plain-text flag is merely cleared); `false` is exact.
///
/// Checks eight bytes at a time with the classic "has a byte less than n / equal to c" bit
/// tricks, the three tests folded into one branch, and the last few bytes padded to a
/// whole word: the scan dominates writing a large plan, most of its strings are short, and
/// most have nothing to escape.
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below 0x20, `"` or `\` (a byte below 0x20 is exact only for bytes below
    // 0x80; bytes at or above it never need escaping and can only cause a false alarm).
    let flagged = |v: u64| {
        let below_space = v.wrapping_sub(ONES * 0x20);
        let quote = v ^ (ONES * u64::from(b'"'));
        let backslash = v ^ (ONES * u64::from(b'\\'));
        let zero = |w: u64| w.wrapping_sub(ONES) & !w;
        ((below_space & !v) | zero(quote) | zero(backslash)) & HIGH != 0
    };
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if flagged(u64::from_le_bytes(word)) {
            return true;
        }
    }
    let rest = chunks.remainder();
    // Padded with spaces, which never need escaping.
    let mut word = [b' '; 8];
    word[..rest.len()].copy_from_slice(rest);
    flagged(u64::from_le_bytes(word))
}

/// Appends `value` in decimal, without going through `fmt` (it runs once per step: in a
/// step's id and in its JSON).
pub(crate) fn number(out: &mut String, value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// `template` with every `{name}` placeholder that `value` knows replaced by its value, in
/// one pass; a placeholder it does not know (and a lone brace) stays as written, so a shell
/// command's own braces (`${HOME}`, `awk '{print}'`) survive. The one filler of the policy's
/// command templates (backup, repos).
///
/// # Example
/// ```
/// let filled = ffu_core::fill_template("dump {service} > ${HOME}/{x}.sql", |name| {
///     (name == "service").then_some("nova")
/// });
/// assert_eq!(filled, "dump nova > ${HOME}/{x}.sql");
/// ```
pub fn fill_template<'a>(template: &str, value: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after
            .find(['{', '}'])
            .filter(|&close| after.as_bytes()[close] == b'}')
            .and_then(|close| Some((close, value(&after[..close])?)));
        if let Some((close, filled)) = known {
            out.push_str(filled);
            rest = &after[close + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            error_text("host ctl-[1:\nerror: forged]\u{1b}[31m\0", false),
            "host ctl-[1:\\nerror: forged]\\u{1b}[31m\\0"
        );
        assert_eq!(
            error_text("cycle: a -> b\n  a before b: \r", true),
            "cycle: a -> b\n  a before b: \\r"
        );
    }

    #[test]
    fn short_messages_are_left_alone() {
        let message = "error: a.yaml:3:1: migration m: requires \"n\", which no migration is";
        assert!(matches!(error_text(message, false), Cow::Borrowed(_)));
    }

    #[test]
    fn long_values_keep_their_start_and_say_their_length() {
        let id = "m".repeat(500);
        let message = format!(
            "a.yaml:9:5: migration {id}: requires \"{}\" (x)",
            "r".repeat(300)
        );
        assert_eq!(
            error_text(&message, false),
            format!(
                "a.yaml:9:5: migration {}… (500 characters): requires \"{}…\" (302 characters) (x)",
                "m".repeat(79),
                "r".repeat(78)
            )
        );
    }

    #[test]
    fn escaped_quotes_stay_inside_the_value_and_lines_stay_apart() {
        let value = format!("{:?}", format!("a\"b{}", "c".repeat(200)));
        let message = format!("first {value} end\nsecond line");
        let short = error_text(&message, true);
        assert!(short.ends_with("characters) end\nsecond line"), "{short}");
    }

    #[test]
    fn long_lines_of_short_words_are_cut_too() {
        let message = "word ".repeat(1000);
        let short = error_text(&message, false);
        assert_eq!(
            short.chars().count(),
            999 + "… (5000 characters in all)".chars().count()
        );
    }

    #[test]
    fn needs_escape_finds_every_byte_that_needs_it_wherever_it_is() {
        let naive = |bytes: &[u8]| bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        for len in 0..=17 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    // Bytes at or above 0x80 never need escaping but may raise a false
                    // alarm (the JSON writer settles it); below, the answer must be exact.
                    if byte < 0x80 {
                        assert_eq!(
                            needs_escape(&text),
                            naive(&text),
                            "{byte:#x} at {at} of {len}"
                        );
                    }
                }
            }
            assert!(!needs_escape(&vec![b'a'; len]));
        }
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for value in [0, 7, 10, 99, 100, 12_345, usize::MAX] {
            let mut out = String::from("h");
            number(&mut out, value);
            assert_eq!(out, format!("h{value}"));
        }
    }

    #[test]
    fn templates_fill_known_placeholders_and_keep_everything_else() {
        let value = |name: &str| match name {
            "a" => Some("1"),
            "empty" => Some(""),
            _ => None,
        };
        assert_eq!(fill_template("{a}-{a}", value), "1-1");
        assert_eq!(fill_template("x{empty}y", value), "xy");
        assert_eq!(fill_template("${HOME}/{b} {a", value), "${HOME}/{b} {a");
        assert_eq!(fill_template("{{a}}", value), "{1}");
        assert_eq!(
            fill_template("awk '{print $1}' {a}", value),
            "awk '{print $1}' 1"
        );
        assert_eq!(fill_template("", value), "");
    }
}
