//! A direct JSON writer for plans.
//!
//! Plans of a large cloud have a hundred thousand steps and tens of megabytes of JSON;
//! writing them field by field into a buffer, with a fast path for strings that need no
//! escaping, is several times faster than going through serde. The output is
//! byte-identical to `serde_json::to_writer` of the same [`Plan`] (the tests below hold it
//! to that), so either can read what the other wrote.

use std::io::{self, Write};

use crate::plan::{Hop, Plan, Policy, Step};

/// How much JSON to gather before handing it to the writer.
const CHUNK: usize = 1 << 20;

/// Writes `plan` as compact JSON, exactly as `serde_json` would. The JSON is built in memory
/// a chunk at a time: appending to a `Vec` is much cheaper than many small writes.
pub(crate) fn write_plan<W: Write>(plan: &Plan, writer: &mut W) -> io::Result<()> {
    let mut out: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    out.extend_from_slice(b"{\"format\":");
    string(&mut out, &plan.format);
    out.extend_from_slice(b",\"catalog\":");
    string(&mut out, &plan.catalog);
    out.extend_from_slice(b",\"from\":");
    string(&mut out, &plan.from);
    out.extend_from_slice(b",\"to\":");
    string(&mut out, &plan.to);
    out.extend_from_slice(b",\"policy\":");
    policy(&mut out, &plan.policy);
    out.extend_from_slice(b",\"path\":");
    strings(&mut out, &plan.path);
    out.extend_from_slice(b",\"hops\":[");
    for (index, item) in plan.hops.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        hop(&mut out, item);
    }
    out.extend_from_slice(b"],\"steps\":[");
    for (index, item) in plan.steps.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        step(&mut out, item);
        if out.len() >= CHUNK {
            writer.write_all(&out)?;
            out.clear();
        }
    }
    out.extend_from_slice(b"]}");
    writer.write_all(&out)
}

fn policy(out: &mut Vec<u8>, policy: &Policy) {
    out.extend_from_slice(b"{\"mode\":");
    string(out, policy.mode.as_str());
    out.extend_from_slice(b",\"skip_level\":");
    boolean(out, policy.skip_level);
    out.extend_from_slice(b",\"keep_dataplane\":");
    boolean(out, policy.keep_dataplane);
    out.extend_from_slice(b",\"services\":");
    match &policy.services {
        Some(services) => strings(out, services),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn hop(out: &mut Vec<u8>, hop: &Hop) {
    out.extend_from_slice(b"{\"from\":");
    string(out, &hop.from);
    out.extend_from_slice(b",\"to\":");
    string(out, &hop.to);
    out.extend_from_slice(b",\"skip\":");
    boolean(out, hop.skip);
    out.extend_from_slice(b",\"releases\":");
    strings(out, &hop.releases);
    out.push(b'}');
}

fn step(out: &mut Vec<u8>, step: &Step) {
    out.extend_from_slice(b"{\"id\":");
    string(out, &step.id);
    out.extend_from_slice(b",\"hop\":");
    number(out, step.hop);
    out.extend_from_slice(b",\"kind\":");
    string(out, step.kind.as_str());
    for (key, value) in [
        (&b",\"service\":"[..], &step.service),
        (b",\"component\":", &step.component),
        (b",\"release\":", &step.release),
        (b",\"migration\":", &step.migration),
        (b",\"command\":", &step.command),
    ] {
        out.extend_from_slice(key);
        match value {
            Some(text) => string(out, text),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b",\"requires\":");
    strings(out, &step.requires);
    out.extend_from_slice(b",\"reason\":");
    string(out, &step.reason);
    out.extend_from_slice(b",\"rollback_point\":");
    boolean(out, step.rollback_point);
    if let Some(host) = &step.host {
        out.extend_from_slice(b",\"host\":");
        string(out, host);
    }
    if let Some(advertised) = &step.advertised {
        out.extend_from_slice(b",\"advertised\":{");
        for (index, (service, extensions)) in advertised.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            string(out, service);
            out.push(b':');
            strings(out, extensions);
        }
        out.push(b'}');
    }
    out.push(b'}');
}

fn boolean(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

fn number(out: &mut Vec<u8>, value: usize) {
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
    out.extend_from_slice(&digits[at..]);
}

fn strings(out: &mut Vec<u8>, values: &[String]) {
    out.push(b'[');
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        string(out, value);
    }
    out.push(b']');
}

/// Whether any byte is a control character, `"` or `\`. Checks eight bytes at a time with
/// the classic "has a byte less than n / equal to c" bit tricks: the scan dominates writing
/// a large plan, and most strings have nothing to escape.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        // A byte below 0x20 (only exact for bytes below 0x80; bytes at or above it never
        // need escaping and can only cause a false alarm, which the slow path settles).
        let below_space = v.wrapping_sub(ONES * 0x20) & !v & HIGH != 0;
        if below_space
            || has_zero(v ^ (ONES * u64::from(b'"')))
            || has_zero(v ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Writes a JSON string. Names and commands almost never need escaping, so the common case
/// is one scan and one copy; otherwise it escapes as `serde_json` does (short forms for
/// `\b \f \n \r \t`, `\u00XX` for other control characters, nothing else).
fn string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.push(b'"');
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        out.extend_from_slice(escape);
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::StepKind;
    use proptest::prelude::*;

    /// A small real plan with `text` in every kind of string field.
    fn plan_with(text: &str) -> Plan {
        static BASE: std::sync::OnceLock<Plan> = std::sync::OnceLock::new();
        let base = BASE.get_or_init(|| {
            let policy = Policy {
                services: Some(vec!["keystone".into()]),
                ..Policy::default()
            };
            crate::Catalog::openstack()
                .plan("newton", "pike", &policy)
                .unwrap()
        });
        let mut plan = base.clone();
        plan.steps[0].reason = text.to_owned();
        plan.steps[1].host = Some(text.to_owned());
        plan.steps[2].advertised =
            Some([(text.to_owned(), vec!["a".to_owned(), text.to_owned()])].into());
        plan.steps[3].kind = StepKind::Finalize;
        plan.policy.services = Some(vec![text.to_owned()]);
        plan
    }

    fn ours(plan: &Plan) -> String {
        let mut out = Vec::new();
        write_plan(plan, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_serde_json_on_a_real_plan() {
        let plan = plan_with("plain");
        assert_eq!(ours(&plan), serde_json::to_string(&plan).unwrap());
    }

    proptest! {
        #[test]
        fn matches_serde_json_on_any_string(text in any::<String>()) {
            let plan = plan_with(&text);
            prop_assert_eq!(ours(&plan), serde_json::to_string(&plan).unwrap());
        }

        #[test]
        fn matches_serde_json_on_control_characters(text in "[\\x00-\\x20\"\\\\a-z\u{7f}\u{e9}\u{2028}]{0,40}") {
            let plan = plan_with(&text);
            prop_assert_eq!(ours(&plan), serde_json::to_string(&plan).unwrap());
        }
    }
}
