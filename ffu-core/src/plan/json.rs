//! A direct JSON writer for plans.
//!
//! Plans of a large cloud have a hundred thousand steps and tens of megabytes of JSON;
//! writing them field by field into a buffer, with a fast path for strings that need no
//! escaping, is several times faster than going through serde, and a large plan is written
//! in two halves on two threads. The output is byte-identical to `serde_json::to_writer`
//! of the same [`Plan`] (the tests below hold it to that), so either can read what the
//! other wrote.
//!
//! The steps come from a [`StepSource`]: a plan's list of steps, or a
//! [`crate::CompactPlan`], which writes its migration steps straight from the catalog.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;

use crate::extras::Extras;
use crate::plan::{CodeSide, ConfigEdit, Hop, Phase, Plan, Policy, Step, StepKind};
use crate::text::{needs_escape, number};

/// How much JSON to gather before handing it to a writer.
const CHUNK: usize = 1 << 20;

/// How many steps to write between looks at the buffer's size, when streaming.
const STEPS_PER_LOOK: usize = 256;

/// About how many bytes of JSON a step of a large plan takes, to reserve buffers.
const BYTES_PER_STEP: usize = 340;

/// The steps of a plan, in order, as the writer sees them.
pub(crate) trait StepSource: Sync {
    /// How many steps there are.
    fn count(&self) -> usize;

    /// Writes the steps in `range`, separated by commas, to `out`.
    fn write_steps(&self, range: Range<usize>, out: &mut String);

    /// Calls `visit` with each step in `range`, in order (for the other writers, such as
    /// the text renderer, which then need not build the steps either). Without
    /// `with_requires`, a step's `requires` may be left short (the visitor does not read
    /// them, and a compact plan computes them step by step).
    fn each_step(
        &self,
        range: Range<usize>,
        with_requires: bool,
        visit: &mut dyn FnMut(&StepRef<'_>),
    );
}

impl StepSource for [Step] {
    fn count(&self) -> usize {
        self.len()
    }

    fn write_steps(&self, range: Range<usize>, out: &mut String) {
        for (index, item) in self[range].iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            step(out, &StepRef::from(item));
        }
    }

    fn each_step(
        &self,
        range: Range<usize>,
        _with_requires: bool,
        visit: &mut dyn FnMut(&StepRef<'_>),
    ) {
        for item in &self[range] {
            visit(&StepRef::from(item));
        }
    }
}

/// The fields of one step, borrowed from wherever they are kept.
pub(crate) struct StepRef<'a> {
    pub(crate) id: &'a str,
    pub(crate) hop: usize,
    pub(crate) kind: StepKind,
    pub(crate) service: Option<&'a str>,
    pub(crate) component: Option<&'a str>,
    pub(crate) release: Option<&'a str>,
    pub(crate) migration: Option<&'a str>,
    pub(crate) command: Option<&'a str>,
    pub(crate) requires: &'a [String],
    pub(crate) reason: &'a str,
    pub(crate) rollback_point: bool,
    pub(crate) host: Option<&'a str>,
    pub(crate) advertised: Option<&'a BTreeMap<String, Vec<String>>>,
    pub(crate) phase: Option<Phase>,
    pub(crate) code: Option<CodeSide>,
    pub(crate) code_release: Option<&'a str>,
    /// The fields that only a few steps have, borrowed from a built step.
    pub(crate) rare: Option<&'a Step>,
    /// The `x-...` fields of a step written straight from the catalog.
    pub(crate) x: Option<&'a Extras>,
    /// The revisions it applies (DESIGN §12).
    pub(crate) revisions: RevisionsRef<'a>,
    /// How long the step takes, in seconds.
    pub(crate) estimate_s: Option<u64>,
}

/// A step's revisions, as a built step keeps them or as the catalog does.
#[derive(Clone, Copy)]
pub(crate) enum RevisionsRef<'a> {
    Names(&'a [String]),
    Catalog {
        revisions: &'a [crate::migration::Revision],
        /// Revisions the databases hold already, left out.
        skip: &'a [String],
    },
}

impl RevisionsRef<'_> {
    fn is_empty(&self) -> bool {
        match self {
            RevisionsRef::Names(names) => names.is_empty(),
            RevisionsRef::Catalog { revisions, skip } => {
                revisions.iter().all(|r| skip.contains(&r.name))
            }
        }
    }
}

impl<'a> From<&'a Step> for StepRef<'a> {
    fn from(step: &'a Step) -> StepRef<'a> {
        StepRef {
            id: &step.id,
            hop: step.hop,
            kind: step.kind,
            service: step.service.as_deref(),
            component: step.component.as_deref(),
            release: step.release.as_deref(),
            migration: step.migration.as_deref(),
            command: step.command.as_deref(),
            requires: &step.requires,
            reason: &step.reason,
            rollback_point: step.rollback_point,
            host: step.host.as_deref(),
            advertised: step.advertised.as_ref(),
            phase: step.phase,
            code: step.code,
            code_release: step.code_release.as_deref(),
            rare: Some(step),
            x: step.x.as_ref(),
            revisions: RevisionsRef::Names(&step.revisions),
            estimate_s: step.estimate_s,
        }
    }
}

/// The plan as compact JSON, exactly as `serde_json` would write it: every field of `head`
/// but its steps, then the steps of `steps`.
pub(crate) fn plan_to_string<S: StepSource + ?Sized>(head: &Plan, steps: &S) -> String {
    let count = steps.count();
    let mut out = String::with_capacity(count * BYTES_PER_STEP + 1024);
    write_head(head, &mut out);
    let middle = count / 2;
    let write_tail = || {
        let mut tail = String::with_capacity((count - middle) * BYTES_PER_STEP);
        steps.write_steps(middle..count, &mut tail);
        tail
    };
    let ((), tail) =
        crate::parallel::join(count, || steps.write_steps(0..middle, &mut out), write_tail);
    if middle > 0 && !tail.is_empty() {
        out.push(',');
    }
    out.push_str(&tail);
    out.push_str("]}");
    out
}

/// Writes the plan as compact JSON (the bytes of [`plan_to_string`]), a chunk at a time:
/// appending to a buffer is much cheaper than many small writes, and memory stays small.
pub(crate) fn write_plan<S: StepSource + ?Sized, W: Write>(
    head: &Plan,
    steps: &S,
    writer: &mut W,
) -> io::Result<()> {
    // Room for a look's worth of steps past the chunk.
    let mut out = String::with_capacity(CHUNK + STEPS_PER_LOOK * BYTES_PER_STEP * 2);
    write_head(head, &mut out);
    let count = steps.count();
    let mut start = 0;
    while start < count {
        let end = count.min(start + STEPS_PER_LOOK);
        if start > 0 {
            out.push(',');
        }
        steps.write_steps(start..end, &mut out);
        if out.len() >= CHUNK {
            writer.write_all(out.as_bytes())?;
            out.clear();
        }
        start = end;
    }
    out.push_str("]}");
    writer.write_all(out.as_bytes())
}

/// Everything before the first step, up to and including `"steps":[`.
fn write_head(plan: &Plan, out: &mut String) {
    out.push_str("{\"format\":");
    string(out, &plan.format);
    out.push_str(",\"catalog\":");
    string(out, &plan.catalog);
    out.push_str(",\"from\":");
    string(out, &plan.from);
    out.push_str(",\"to\":");
    string(out, &plan.to);
    out.push_str(",\"policy\":");
    policy(out, &plan.policy);
    out.push_str(",\"path\":");
    strings(out, &plan.path);
    out.push_str(",\"hops\":[");
    for (index, item) in plan.hops.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        hop(out, item);
    }
    out.push(']');
    if !plan.applied.is_empty() {
        out.push_str(",\"applied\":");
        strings(out, &plan.applied);
    }
    if !plan.applied_revisions.is_empty() {
        out.push_str(",\"applied_revisions\":");
        strings(out, &plan.applied_revisions);
    }
    if plan.recovery {
        out.push_str(",\"recovery\":true");
    }
    if let Some(recovers) = &plan.recovers {
        out.push_str(",\"recovers\":");
        serde_value(out, recovers);
    }
    if let Some(limit) = plan.window_s {
        out.push_str(",\"window_s\":");
        number(out, usize::try_from(limit).unwrap_or(usize::MAX));
    }
    if let Some(hosts) = plan.max_hosts_per_window {
        out.push_str(",\"max_hosts_per_window\":");
        number(out, hosts);
    }
    if !plan.windows.is_empty() {
        out.push_str(",\"windows\":");
        serde_value(out, &plan.windows);
    }
    out.push_str(",\"steps\":[");
}

fn policy(out: &mut String, policy: &Policy) {
    out.push_str("{\"mode\":");
    string(out, policy.mode.as_str());
    out.push_str(",\"skip_level\":");
    boolean(out, policy.skip_level);
    out.push_str(",\"keep_dataplane\":");
    boolean(out, policy.keep_dataplane);
    out.push_str(",\"services\":");
    match &policy.services {
        Some(services) => strings(out, services),
        None => out.push_str("null"),
    }
    for (key, value) in [
        (",\"max_unavailable\":", &policy.max_unavailable),
        (",\"repo_command\":", &policy.repo_command),
        (",\"backup_command\":", &policy.backup_command),
        (",\"backup_dir\":", &policy.backup_dir),
    ] {
        if let Some(value) = value {
            out.push_str(key);
            string(out, value);
        }
    }
    out.push('}');
}

fn hop(out: &mut String, hop: &Hop) {
    out.push_str("{\"from\":");
    string(out, &hop.from);
    out.push_str(",\"to\":");
    string(out, &hop.to);
    out.push_str(",\"skip\":");
    boolean(out, hop.skip);
    out.push_str(",\"releases\":");
    strings(out, &hop.releases);
    out.push('}');
}

/// Writes one step.
pub(crate) fn step(out: &mut String, step: &StepRef<'_>) {
    write_step(out, step, string);
}

/// [`step`] for a step whose strings are known to need no escaping (the catalog looked at
/// every one of its strings when it was loaded: `Catalog::plain_text`): the scan of each
/// string is skipped, which is much of the time a large plan's document takes.
pub(crate) fn plain_step(out: &mut String, step: &StepRef<'_>) {
    write_step(out, step, |out, text| {
        out.push('"');
        out.push_str(text);
        out.push('"');
    });
}

/// Writes one step, each string with `string`.
fn write_step(out: &mut String, step: &StepRef<'_>, string: impl Fn(&mut String, &str) + Copy) {
    out.push_str("{\"id\":");
    string(out, step.id);
    out.push_str(",\"hop\":");
    number(out, step.hop);
    out.push_str(",\"kind\":");
    string(out, step.kind.as_str());
    for (key, value) in [
        (",\"service\":", step.service),
        (",\"component\":", step.component),
        (",\"release\":", step.release),
        (",\"migration\":", step.migration),
        (",\"command\":", step.command),
    ] {
        out.push_str(key);
        match value {
            Some(text) => string(out, text),
            None => out.push_str("null"),
        }
    }
    out.push_str(",\"requires\":");
    strings_with(out, step.requires, string);
    out.push_str(",\"reason\":");
    string(out, step.reason);
    out.push_str(",\"rollback_point\":");
    boolean(out, step.rollback_point);
    if let Some(host) = step.host {
        out.push_str(",\"host\":");
        string(out, host);
    }
    if let Some(advertised) = step.advertised {
        out.push_str(",\"advertised\":{");
        for (index, (service, extensions)) in advertised.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            string(out, service);
            out.push(':');
            strings_with(out, extensions, string);
        }
        out.push('}');
    }
    if let Some(phase) = step.phase {
        out.push_str(",\"phase\":");
        string(out, phase.as_str());
    }
    if let Some(code) = step.code {
        out.push_str(",\"code\":");
        string(out, code.as_str());
    }
    if let Some(code_release) = step.code_release {
        out.push_str(",\"code_release\":");
        string(out, code_release);
    }
    if let Some(rare) = step.rare {
        rare_fields(out, rare, string);
    }
    if !step.revisions.is_empty() {
        out.push_str(",\"revisions\":[");
        let mut write = |index: usize, name: &str| {
            if index > 0 {
                out.push(',');
            }
            string(out, name);
        };
        match step.revisions {
            RevisionsRef::Names(names) => {
                for (index, name) in names.iter().enumerate() {
                    write(index, name);
                }
            }
            RevisionsRef::Catalog { revisions, skip } => {
                let names = revisions
                    .iter()
                    .map(|r| r.name.as_str())
                    .filter(|r| !skip.iter().any(|s| s == r));
                for (index, name) in names.enumerate() {
                    write(index, name);
                }
            }
        }
        out.push(']');
    }
    if let Some(x) = step.x {
        out.push_str(",\"x\":");
        serde_value(out, x);
    }
    if let Some(estimate) = step.estimate_s {
        out.push_str(",\"estimate_s\":");
        number(out, usize::try_from(estimate).unwrap_or(usize::MAX));
    }
    if let Some(restores) = step.rare.and_then(|rare| rare.restores.as_deref()) {
        out.push_str(",\"restores\":");
        string(out, restores);
    }
    out.push('}');
}

/// The fields that only some steps have (tasks, stops and starts, installs, backups, agent
/// batches, configuration edits), in the order `serde_json` writes them.
fn rare_fields(out: &mut String, step: &Step, string: impl Fn(&mut String, &str) + Copy) {
    if let Some(task) = &step.task {
        out.push_str(",\"task\":");
        string(out, task);
    }
    if step.disable {
        out.push_str(",\"disable\":true");
    }
    if step.enable {
        out.push_str(",\"enable\":true");
    }
    if let Some(unit) = &step.unit {
        out.push_str(",\"unit\":");
        string(out, unit);
    }
    if let Some(version) = &step.version {
        out.push_str(",\"version\":");
        string(out, version);
    }
    if let Some(databases) = &step.databases {
        out.push_str(",\"databases\":");
        strings_with(out, databases, string);
    }
    if let Some(batch) = step.batch {
        out.push_str(",\"batch\":");
        number(out, batch);
    }
    if let Some(config) = &step.config {
        out.push_str(",\"config\":");
        serde_value::<ConfigEdit>(out, config);
    }
}

/// Writes a value through `serde_json`: for the few fields whose shape is open (a tool's
/// `x-...` values) or nested, which no step of a large plan repeats.
fn serde_value<T: serde::Serialize + ?Sized>(out: &mut String, value: &T) {
    // Serializing plain data to a String cannot fail.
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

fn boolean(out: &mut String, value: bool) {
    out.push_str(if value { "true" } else { "false" });
}

fn strings(out: &mut String, values: &[String]) {
    strings_with(out, values, string);
}

fn strings_with(out: &mut String, values: &[String], string: impl Fn(&mut String, &str)) {
    out.push('[');
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        string(out, value);
    }
    out.push(']');
}

/// Writes a JSON string. Names and commands almost never need escaping, so the common case
/// is one scan and one copy; otherwise it escapes as `serde_json` does (short forms for
/// `\b \f \n \r \t`, `\u00XX` for other control characters, nothing else). Every escaped
/// byte is ASCII, so the text between escapes is sliced at character boundaries.
fn string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    if !needs_escape(text.as_bytes()) {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..index]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(short);
        }
        start = index + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
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
        plan.policy.max_unavailable = Some(text.to_owned());
        plan.policy.repo_command = Some(text.to_owned());
        plan.policy.backup_command = Some(text.to_owned());
        plan.policy.backup_dir = Some(text.to_owned());
        plan.steps[4].config = Some(crate::plan::ConfigEdit {
            file: text.to_owned(),
            section: "s".to_owned(),
            option: text.to_owned(),
            action: crate::plan::ConfigEditAction::Set,
            value: Some(text.to_owned()),
            to: None,
            temporary: true,
        });
        plan.steps[4].databases = Some(vec![text.to_owned()]);
        plan.steps[4].x = Some([(format!("x-{text}"), serde_json::Value::from(text))].into());
        plan.steps[4].task = Some(text.to_owned());
        plan.steps[4].unit = Some(text.to_owned());
        plan.steps[4].batch = Some(3);
        plan.steps[4].disable = true;
        plan.applied = vec![text.to_owned(), "keystone.ocata.db-sync".to_owned()];
        plan
    }

    fn ours(plan: &Plan) -> String {
        let mut out = Vec::new();
        write_plan(plan, plan.steps.as_slice(), &mut out).unwrap();
        let streamed = String::from_utf8(out).unwrap();
        assert_eq!(streamed, plan_to_string(plan, plan.steps.as_slice()));
        streamed
    }

    #[test]
    fn matches_serde_json_on_a_real_plan() {
        let plan = plan_with("plain");
        assert_eq!(ours(&plan), serde_json::to_string(&plan).unwrap());
    }

    #[test]
    fn the_two_threaded_writer_matches_too() {
        let mut plan = plan_with("plain");
        let template = plan.steps[4].clone();
        while plan.steps.len() < crate::parallel::PARALLEL_FROM + 1 {
            let mut step = template.clone();
            step.id = format!("copy-{}", plan.steps.len());
            plan.steps.push(step);
        }
        assert_eq!(
            plan_to_string(&plan, plan.steps.as_slice()),
            serde_json::to_string(&plan).unwrap()
        );
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
