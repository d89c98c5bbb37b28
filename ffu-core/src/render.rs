//! Renderings of a plan for people: text for a terminal, and Graphviz DOT.

use std::fmt::Write as _;

use crate::catalog::Catalog;
use crate::plan::Plan;
use crate::service::Role;

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
    let mut out = String::with_capacity(plan.steps.len() * 160 + 256);
    write_header(&mut out, plan, catalog);
    let width = plan.steps.len().to_string().len();
    let indent = " ".repeat(width + 2 + 10);
    let mut current_hop = usize::MAX;
    let mut current_phase = None;
    for (number, step) in plan.steps.iter().enumerate() {
        if step.hop != current_hop {
            current_hop = step.hop;
            current_phase = None;
            if let Some(hop) = plan.hops.get(step.hop) {
                let skip = if hop.skip {
                    format!(" (skip-level: applies {})", hop.releases.join(", "))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "\nHop {} of {}: {} -> {}{skip}",
                    step.hop + 1,
                    plan.hops.len(),
                    hop.from,
                    hop.to
                );
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
        let marker = if step.rollback_point {
            "  [rollback point]"
        } else {
            ""
        };
        // Ids of per-host steps already end in `@host`; name the host only otherwise.
        let host = step
            .host
            .as_deref()
            .filter(|h| !step.id.ends_with(&format!("@{h}")))
            .map(|h| format!("  @{h}"))
            .unwrap_or_default();
        let code = match (step.code, &step.code_release) {
            (Some(code), Some(release)) => format!("  [{} code: {release}]", code.as_str()),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{:>width$}. {:<9} {}{host}{marker}{code}",
            number + 1,
            step.kind.as_str(),
            step.id
        );
        if let Some(command) = &step.command {
            let _ = writeln!(out, "{indent}$ {command}");
        }
        if !step.reason.is_empty() {
            let _ = writeln!(out, "{indent}{}", step.reason);
        }
    }
    if plan.steps.is_empty() {
        let _ = writeln!(out, "\nNothing to do: {} is already the target.", plan.from);
    }
    out
}

/// The lines before the first hop: the plan in one line, its path, what the databases
/// already hold and what stays up.
fn write_header(out: &mut String, plan: &Plan, catalog: Option<&Catalog>) {
    let _ = writeln!(
        out,
        "Plan {} -> {} ({}, catalog {}): {} hop{}, {} steps",
        plan.from,
        plan.to,
        plan.policy.mode.as_str(),
        plan.catalog,
        plan.hops.len(),
        if plan.hops.len() == 1 { "" } else { "s" },
        plan.steps.len()
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
            .filter(|c| c.role == Role::Dataplane)
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
/// edges for `requires`.
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
    for step in &plan.steps {
        for required in &step.requires {
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
