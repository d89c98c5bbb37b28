//! Renderings of a plan for people: text for a terminal, and Graphviz DOT.

use std::fmt::Write as _;

use crate::catalog::Catalog;
use crate::plan::json::{StepRef, StepSource};
use crate::plan::{Hop, Plan};

/// The plan as text for a person at a terminal: the path, what stays up, then per hop its
/// numbered steps with their command and reason.
///
/// `catalog` (the one the plan was made from) supplies what stays up; without it that line
/// is left out.
///
/// # Example
/// ```
/// let catalog = ffu_core::Catalog::openstack();
/// let plan = catalog.plan("newton", "ocata", &ffu_core::Policy::default()).unwrap();
/// let text = ffu_core::render::text(&plan, Some(&catalog));
/// assert!(text.contains("Hop 1 of 1: newton -> ocata"));
/// ```
pub fn text(plan: &Plan, catalog: Option<&Catalog>) -> String {
    text_of_steps(plan, plan.steps.as_slice(), catalog)
}

/// [`text`] of the plan `head` (every field but its steps) with the steps of `steps`: one
/// renderer for built plans and for [`crate::CompactPlan`]s.
pub(crate) fn text_of_steps(
    head: &Plan,
    steps: &(impl StepSource + ?Sized),
    catalog: Option<&Catalog>,
) -> String {
    let count = steps.count();
    let mut out = String::with_capacity(count * 160 + 256);
    write_header(&mut out, head, count, catalog);
    let width = count.to_string().len();
    let indent = " ".repeat(width + 2 + 10);
    let mut current_hop = usize::MAX;
    let mut current_phase = None;
    let mut number = 0;
    let mut next_window = 0;
    steps.each_step(0..count, false, &mut |step| {
        number += 1;
        if let Some(window) = head.windows.get(next_window) {
            if window.first_step == step.id {
                next_window += 1;
                let hosts = if window.hosts > 0 {
                    format!(", {} hosts", window.hosts)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "\n=== Window {} of {}: {} ({} s){hosts}; ends after {}, {}",
                    window.index + 1,
                    head.windows.len(),
                    crate::estimate::human(window.estimate_s),
                    window.estimate_s,
                    window.last_step,
                    window.state
                );
                // The hop heading again, inside the window.
                current_hop = usize::MAX;
            }
        }
        if step.hop != current_hop {
            current_hop = step.hop;
            current_phase = None;
            if let Some(hop) = head.hops.get(step.hop) {
                write_hop_heading(&mut out, hop, step.hop, head.hops.len());
            }
        }
        // A heading where the phase changes (rolling plans interleave phases per service,
        // so they get more headings than offline ones).
        if step.phase.is_some() && step.phase != current_phase {
            current_phase = step.phase;
            if let Some(phase) = step.phase {
                let _ = writeln!(out, "  -- {}", phase.as_str());
            }
        }
        write_step_line(&mut out, number, width, step);
        if let Some(command) = step.command {
            let _ = writeln!(out, "{indent}$ {command}");
        }
        if !step.reason.is_empty() {
            let _ = writeln!(out, "{indent}{}", step.reason);
        }
    });
    if count == 0 {
        let _ = writeln!(out, "\nNothing to do: {} is already the target.", head.from);
    }
    out
}

/// The line that opens hop `index` of `hops`.
fn write_hop_heading(out: &mut String, hop: &Hop, index: usize, hops: usize) {
    let _ = write!(
        out,
        "\nHop {} of {hops}: {} -> {}",
        index + 1,
        hop.from,
        hop.to
    );
    if hop.skip {
        let _ = write!(out, " (skip-level: applies {})", hop.releases.join(", "));
    }
    out.push('\n');
}

/// One step's first line: its number, kind and id, then its host (unless the id already
/// ends in `@host`), whether it is a rollback point, and which release's code runs it.
/// Written piece by piece: a plan of 100,000 steps makes this the renderer's hot loop.
fn write_step_line(out: &mut String, number: usize, width: usize, step: &StepRef<'_>) {
    let _ = write!(
        out,
        "{number:>width$}. {:<9} {}",
        step.kind.as_str(),
        step.id
    );
    if let Some(host) = step.host {
        let in_id = step
            .id
            .strip_suffix(host)
            .is_some_and(|rest| rest.ends_with('@'));
        if !in_id {
            out.push_str("  @");
            out.push_str(host);
        }
    }
    if step.rollback_point {
        out.push_str("  [rollback point]");
    }
    if let (Some(code), Some(release)) = (step.code, step.code_release) {
        out.push_str("  [");
        out.push_str(code.as_str());
        out.push_str(" code: ");
        out.push_str(release);
        out.push(']');
    }
    out.push('\n');
}

/// The lines before the first hop: the plan in one line, its path, what the databases
/// already hold and what stays up.
fn write_header(out: &mut String, plan: &Plan, steps: usize, catalog: Option<&Catalog>) {
    let _ = writeln!(
        out,
        "Plan {} -> {} ({}, catalog {}): {} hop{}, {} steps",
        plan.from,
        plan.to,
        plan.policy.mode.as_str(),
        plan.catalog,
        plan.hops.len(),
        if plan.hops.len() == 1 { "" } else { "s" },
        steps
    );
    let _ = writeln!(out, "Path: {}", plan.path.join(" -> "));
    if !plan.applied.is_empty() {
        // Long alembic histories would drown the plan: name a few, count the rest.
        const SHOWN: usize = 5;
        let mut names = plan.applied[..plan.applied.len().min(SHOWN)].join(", ");
        if plan.applied.len() > SHOWN {
            let _ = write!(names, " and {} more", plan.applied.len() - SHOWN);
        }
        let _ = writeln!(
            out,
            "Already applied (left out): {} migration{}: {names}",
            plan.applied.len(),
            if plan.applied.len() == 1 { "" } else { "s" }
        );
    }
    if let Some(catalog) = catalog {
        let up: Vec<String> = catalog
            .components()
            .iter()
            .filter(|c| !c.role.is_upgraded())
            .filter(|c| {
                plan.policy
                    .services
                    .as_ref()
                    .is_none_or(|names| names.contains(&catalog.service(c.service).name))
            })
            .map(|c| format!("{} ({})", c.name, catalog.service(c.service).name))
            .collect();
        if !up.is_empty() {
            let _ = writeln!(out, "Stays up the whole time: {}", up.join(", "));
        }
    }
}

/// The plan as a Graphviz DOT digraph: one cluster per hop, steps in order, and dashed
/// edges for `requires` (but the step right before, which the order draws).
pub fn dot(plan: &Plan) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::with_capacity(plan.steps.len() * 120 + 128);
    let _ = writeln!(
        out,
        "digraph \"{}\" {{",
        quote(&format!("ffu {} -> {}", plan.from, plan.to))
    );
    let _ = writeln!(
        out,
        "  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];"
    );
    let mut current_hop = usize::MAX;
    for step in &plan.steps {
        if step.hop != current_hop {
            if current_hop != usize::MAX {
                let _ = writeln!(out, "  }}");
            }
            current_hop = step.hop;
            let label = plan
                .hops
                .get(step.hop)
                .map(|h| format!("{} -> {}", h.from, h.to))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  subgraph cluster_{} {{\n    label=\"{}\";",
                step.hop,
                quote(&label)
            );
        }
        let style = if step.rollback_point {
            ", style=bold"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    \"{}\" [label=\"{}\\n{}\"{style}];",
            quote(&step.id),
            step.kind.as_str(),
            quote(&step.id)
        );
    }
    if current_hop != usize::MAX {
        let _ = writeln!(out, "  }}");
    }
    for pair in plan.steps.windows(2) {
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\";",
            quote(&pair[0].id),
            quote(&pair[1].id)
        );
    }
    for (index, step) in plan.steps.iter().enumerate() {
        // The step before it is drawn already (a solid edge).
        let before = index.checked_sub(1).map(|i| plan.steps[i].id.as_str());
        for required in step.requires.iter().filter(|r| Some(r.as_str()) != before) {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [style=dashed];",
                quote(required),
                quote(&step.id)
            );
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    #[test]
    fn an_empty_plan_says_there_is_nothing_to_do() {
        let catalog = Catalog::openstack();
        let plan = catalog.plan("zed", "zed", &Policy::default()).unwrap();
        let text = text(&plan, None);
        assert_eq!(text, "Plan zed -> zed (offline, catalog openstack): 0 hops, 0 steps\nPath: zed\n\nNothing to do: zed is already the target.\n");
    }

    #[test]
    fn dot_quotes_names() {
        let catalog = Catalog::openstack();
        let plan = catalog
            .plan(
                "zed",
                "2023.1",
                &Policy {
                    services: Some(vec!["heat".into()]),
                    ..Policy::default()
                },
            )
            .unwrap();
        let dot = dot(&plan);
        assert!(dot.starts_with("digraph \"ffu zed -> 2023.1\" {\n"));
        assert!(dot.ends_with("}\n"));
    }
}
