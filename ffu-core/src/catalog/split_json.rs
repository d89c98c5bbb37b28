//! Parsing a large JSON catalog's migrations on two threads.
//!
//! In a catalog of 94,000 migrations the migrations list is nearly all of the document, and
//! parsing it is most of loading. JSON does not say where a list's elements start, so the
//! list is split by a guess that is then proved:
//!
//! 1. a scan of the document's head (string-aware, tracking depth) finds the `[` of the
//!    top-level `migrations` member;
//! 2. from the middle of the rest, the first `,` between a `}` and a `{` is the *split*;
//!    a second thread parses the elements after it, up to the list's `]`;
//! 3. meanwhile this thread parses the elements from the list's `[` one by one, exactly as
//!    the whole-document parse would, and must land on the split's comma right after an
//!    element: that proves the split is a boundary between two elements of this very list,
//!    so the second thread's elements are the ones the whole parse would have read;
//! 4. the rest of the document (everything but the list's elements) is parsed as usual, by
//!    the second thread once it has found where the list ends.
//!
//! Anything unexpected (the split inside a string or an element, a malformed element, a
//! duplicate member, an escaped key) gives `None`, and the caller parses the whole document
//! on one thread: that parse, and so every error message, is the same as ever, and the
//! result of this one is equal to it whenever this one succeeds.

use super::document::{CatalogDoc, MigrationDoc};

/// How far past the middle to look for the split before giving up.
const SPLIT_SEARCH_BYTES: usize = 1 << 16;

/// The document parsed with its migrations list split over two threads, or `None` if that
/// is not possible or not worth it (the caller then parses it whole). `capacity` bounds how
/// many migrations the document holds (see `document::migrations_bound`).
pub(crate) fn parse(text: &str, capacity: usize) -> Option<CatalogDoc> {
    // Splitting costs a search for the split point: only worth it when the halves are
    // large enough to go to two threads.
    if capacity < crate::parallel::PARALLEL_FROM {
        return None;
    }
    let open = top_level_list(text.as_bytes(), b"migrations")?;
    parse_split_after(text, capacity, open, open + (text.len() - open) / 2)
}

/// [`parse`] with the list's `[` at `open` and the split searched from `from` on, any
/// size: the tests try every `from`.
fn parse_split_after(text: &str, capacity: usize, open: usize, from: usize) -> Option<CatalogDoc> {
    let bytes = text.as_bytes();
    let split = split_point(bytes, from.max(open + 1))?;
    // The second thread's share of the bound, by bytes, with a margin: its list is appended
    // to the first's, which is reserved for the whole bound.
    let share =
        u64::try_from(capacity).ok()? * (bytes.len() - split) as u64 / (bytes.len() - open) as u64;
    let share = usize::try_from(share).ok()?;
    // The second thread, which has less to do (this one searched for the split), also
    // parses the outline once it knows where the list ends.
    let (first, second) = crate::parallel::join(
        capacity,
        || elements(text, open + 1, Some(split), capacity),
        || {
            let (rest, close) = elements(text, split + 1, None, share + share / 8 + 16)?;
            let mut outline = String::with_capacity(open + 2 + (text.len() - close));
            outline.push_str(&text[..=open]);
            outline.push_str(&text[close..]);
            // A second `migrations` member fails this parse (serde refuses duplicate fields).
            let doc: CatalogDoc = serde_json::from_str(&outline).ok()?;
            Some((rest, doc))
        },
    );
    let (mut migrations, _) = first?;
    let (rest, mut doc) = second?;
    migrations.extend(rest);
    doc.migrations = migrations;
    Some(doc)
}

/// Where the string starting at `bytes[start] == b'"'` ends: the index after its closing
/// quote.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    loop {
        match *bytes.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes
        .get(at)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        at += 1;
    }
    at
}

/// The index of the `[` that opens the value of the top-level member `key`, when the
/// document is an object, that member is a list, and its key is written without escapes.
/// Stops at the first such member: a second one makes the outline's parse fail.
fn top_level_list(bytes: &[u8], key: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    // Inside the top-level object, right after `{` or `,`: the next string is a key.
    let mut key_expected = false;
    let mut at = skip_whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let end = string_end(bytes, at)?;
                if key_expected && &bytes[at + 1..end - 1] == key {
                    let colon = skip_whitespace(bytes, end);
                    if bytes.get(colon) != Some(&b':') {
                        return None;
                    }
                    let value = skip_whitespace(bytes, colon + 1);
                    return (bytes.get(value) == Some(&b'[')).then_some(value);
                }
                key_expected = false;
                at = end;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                key_expected = depth == 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                key_expected = false;
            }
            b',' => key_expected = depth == 1,
            _ => {}
        }
        at += 1;
    }
    None
}

/// The first `,` at or after `from` whose neighbours (past whitespace) are `}` before and
/// `{` after: a likely boundary between two objects of a list, to be proved by the parse.
fn split_point(bytes: &[u8], from: usize) -> Option<usize> {
    let end = bytes.len().min(from + SPLIT_SEARCH_BYTES);
    (from..end).find(|&at| {
        bytes[at] == b','
            && bytes.get(skip_whitespace(bytes, at + 1)) == Some(&b'{')
            && bytes[..at]
                .iter()
                .rev()
                .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                == Some(&b'}')
    })
}

/// One migration parsed from `text[at..]`, and the index just after it.
fn element(text: &str, at: usize) -> Option<(MigrationDoc, usize)> {
    let mut stream = serde_json::Deserializer::from_str(&text[at..]).into_iter::<MigrationDoc>();
    let migration = stream.next()?.ok()?;
    Some((migration, at + stream.byte_offset()))
}

/// The list's elements from `start` (just after its `[` or a comma) and where they stop:
/// with `split`, at that comma, which must directly follow an element (the proof that the
/// split is one of this list's element boundaries); without, at the list's closing `]`.
fn elements(
    text: &str,
    start: usize,
    split: Option<usize>,
    capacity: usize,
) -> Option<(Vec<MigrationDoc>, usize)> {
    let bytes = text.as_bytes();
    let mut migrations = Vec::with_capacity(capacity);
    let mut at = skip_whitespace(bytes, start);
    loop {
        // `element` needs an object here; `]` (an empty list) or anything else fails it.
        let (migration, end) = element(text, at)?;
        migrations.push(migration);
        let next = skip_whitespace(bytes, end);
        if let Some(split) = split.filter(|&split| next >= split) {
            return (next == split).then_some((migrations, next));
        }
        match bytes.get(next)? {
            b',' => at = skip_whitespace(bytes, next + 1),
            b']' if split.is_none() => return Some((migrations, next)),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::catalog::document::migrations_bound;

    /// The document as the whole-document parse reads it, as comparable text.
    fn whole(text: &str) -> Option<String> {
        let doc: CatalogDoc = serde_json::from_str(text).ok()?;
        Some(serde_json::to_string(&doc).expect("a document serializes"))
    }

    /// Every split tried, from every position of the document: each either gives up or
    /// gives exactly the whole parse. Returns how many splits succeeded.
    fn check_every_split(text: &str) -> usize {
        let expected = whole(text);
        let Some(open) = top_level_list(text.as_bytes(), b"migrations") else {
            return 0;
        };
        let mut succeeded = 0;
        for from in open..text.len() {
            if let Some(doc) = parse_split_after(text, migrations_bound(text), open, from) {
                let got = serde_json::to_string(&doc).expect("a document serializes");
                assert_eq!(
                    Some(&got),
                    expected.as_ref(),
                    "split searched from {from} in {text}"
                );
                succeeded += 1;
            }
        }
        succeeded
    }

    fn migration(index: usize, command: &str) -> String {
        format!(
            r#"{{"id":"m{index}","service":"nova","release":"b","kind":"migrate","command":{}}}"#,
            serde_json::to_string(command).unwrap()
        )
    }

    fn document(migrations: &[String], after: &str) -> String {
        format!(
            r#"{{"format":"ffu-catalog/1","name":"t","releases":[{{"name":"a"}},{{"name":"b"}}],"services":[{{"name":"nova","components":[{{"name":"nova-api","role":"control"}}]}}],"migrations":[{}]{after}}}"#,
            migrations.join(",")
        )
    }

    #[test]
    fn a_split_between_elements_gives_the_whole_parse() {
        let migrations: Vec<String> = (0..6)
            .map(|n| migration(n, "nova-manage db sync"))
            .collect();
        let text = document(&migrations, "");
        // Five boundaries between six elements, each found from the positions before it.
        assert!(check_every_split(&text) > 0);
        let open = top_level_list(text.as_bytes(), b"migrations").unwrap();
        let doc = parse_split_after(&text, 16, open, open + 1).unwrap();
        assert_eq!(doc.migrations.len(), 6);
        assert_eq!(doc.migrations[5].id, "m5");
    }

    #[test]
    fn lookalike_boundaries_inside_strings_and_lists_are_refused() {
        let migrations = vec![
            migration(0, r#"echo "},{"id":"x"}"#),
            migration(1, r"\\},{\\"),
            migration(2, "}, {"),
            migration(3, "plain"),
        ];
        // An array of objects after the list, where a split can also land.
        let after =
            r#","extensions":[{"service":"nova","name":"e1"},{"service":"nova","name":"e2"}]"#;
        let text = document(&migrations, after);
        assert!(check_every_split(&text) > 0);
    }

    #[test]
    fn pretty_printed_documents_split_too() {
        let doc: serde_json::Value = serde_json::from_str(&document(
            &(0..5).map(|n| migration(n, "x")).collect::<Vec<_>>(),
            "",
        ))
        .unwrap();
        let text = serde_json::to_string_pretty(&doc).unwrap();
        assert!(check_every_split(&text) > 0);
    }

    #[test]
    fn documents_the_whole_parse_refuses_are_refused() {
        let good = migration(1, "x");
        let cases = [
            // an unknown field holding objects, a trailing comma, a duplicate list
            document(
                &[
                    migration(0, "x"),
                    r#"{"id":"m9","junk":[{},{}]}"#.into(),
                    good.clone(),
                ],
                "",
            ),
            format!("{},", document(&[migration(0, "x"), good.clone()], "")),
            document(&[migration(0, "x"), good.clone()], r#","migrations":[]"#),
            document(&[migration(0, "x"), good.clone(), String::new()], ""),
            document(&[migration(0, "x"), good.clone()], r#","bogus":1"#),
        ];
        for text in &cases {
            assert_eq!(whole(text), None, "{text}");
            assert_eq!(check_every_split(text), 0, "{text}");
        }
    }

    #[test]
    fn an_escaped_key_is_not_found_and_the_whole_parse_takes_it() {
        let text = document(&[migration(0, "x"), migration(1, "y")], "")
            .replace(r#""migrations""#, r#""migr\u0061tions""#);
        assert!(whole(&text).is_some());
        assert_eq!(top_level_list(text.as_bytes(), b"migrations"), None);
    }

    #[test]
    fn large_documents_take_the_split_and_small_ones_do_not() {
        let small = document(&[migration(0, "x"), migration(1, "y")], "");
        assert!(parse(&small, 2).is_none());
        let migrations: Vec<String> = (0..20_000)
            .map(|n| migration(n, "nova-manage db sync"))
            .collect();
        let large = document(&migrations, "");
        assert!(migrations_bound(&large) >= crate::parallel::PARALLEL_FROM);
        // On one core as on two: the halves run one after the other there.
        let doc = parse(&large, migrations_bound(&large)).expect("the split is taken");
        let got = serde_json::to_string(&doc).unwrap();
        assert_eq!(Some(got), whole(&large));
    }

    /// Text for a command: JSON's structural characters, quotes and backslashes.
    fn command() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("}"),
                Just("{"),
                Just(","),
                Just("\""),
                Just("\\"),
                Just(" "),
                Just("a"),
                Just("]")
            ],
            0..8,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Documents of hostile commands, with or without a damaged byte: wherever the
        /// split is searched from, the result is the whole parse's or nothing.
        #[test]
        fn every_split_agrees_with_the_whole_parse(
            commands in proptest::collection::vec(command(), 1..6),
            damage in proptest::option::of((any::<prop::sample::Index>(), prop_oneof![Just(b','), Just(b'}'), Just(b'"'), Just(b'\\')])),
        ) {
            let migrations: Vec<String> =
                commands.iter().enumerate().map(|(n, c)| migration(n, c)).collect();
            let mut text = document(&migrations, "").into_bytes();
            if let Some((at, byte)) = damage {
                let at = at.index(text.len());
                text[at] = byte;
            }
            let text = String::from_utf8(text).unwrap();
            let succeeded = check_every_split(&text);
            // An intact document of two or more migrations has a boundary to split at.
            prop_assert!(damage.is_some() || commands.len() < 2 || succeeded > 0);
        }
    }
}
