//! The plan over time as SVG (DESIGN §10, `ffu plan --format svg`): a row per service (and
//! one per service's agent hosts), a bar per step coloured by its kind and placed by the
//! steps' `estimate_s` on the schedule of [`crate::estimate`] (the steps of one agent batch
//! side by side, each host's one after the other), the control plane's downtime shaded, the
//! maintenance windows drawn, a time axis and a legend.
//!
//! The document is built with the `svg` crate's elements, which escape text. Large plans
//! stay small: the hosts of a service's agents share one row, steps of one row, kind and
//! time (one step per host of a batch) are one bar, and bars of one row and kind that follow
//! each other without a gap (a stop per host, one host after the other) are merged. So
//! the size grows with the number of services, batches and phases, not with hosts.

use std::ops::Range;

use std::fmt::Write as _;

use rustc_hash::{FxHashMap, FxHashSet};
use svg::node::element::{Group, Line, Rectangle, Text, Title};
use svg::Document;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::estimate::{estimate_with_downtime, human, unit_ends};
use crate::plan::{Plan, StepKind};

/// Left column for the rows' labels, in pixels.
const LABEL_W: f64 = 230.0;
/// Width of the time axis, in pixels.
const PLOT_W: f64 = 1000.0;
/// Height of a row.
const ROW_H: f64 = 20.0;
/// Space above the rows: the title and the windows' labels.
const TOP: f64 = 56.0;
/// Right margin.
const RIGHT: f64 = 20.0;

/// Each kind's colour (the legend lists the kinds a plan uses, in this order).
const KIND_COLOURS: &[(StepKind, &str)] = &[
    (StepKind::Precheck, "#9e9e9e"),
    (StepKind::Stop, "#d62728"),
    (StepKind::Backup, "#8c564b"),
    (StepKind::Repos, "#bcbd22"),
    (StepKind::Install, "#1f77b4"),
    (StepKind::Config, "#17becf"),
    (StepKind::Expand, "#ff7f0e"),
    (StepKind::Migrate, "#e377c2"),
    (StepKind::Contract, "#9467bd"),
    (StepKind::Data, "#7f3f00"),
    (StepKind::Start, "#2ca02c"),
    (StepKind::Postcheck, "#636363"),
    (StepKind::Finalize, "#393b79"),
    (StepKind::Task, "#e7ba52"),
    (StepKind::Restore, "#843c39"),
];

/// Fill of the control plane's downtime.
const DOWN_FILL: &str = "#ff4d4d";

fn colour(kind: StepKind) -> &'static str {
    KIND_COLOURS
        .iter()
        .find(|(of, _)| *of == kind)
        .map_or("#000000", |(_, colour)| colour)
}

/// Text from a plan, fit for XML 1.0: the writer escapes `&`, `<` and `>`; control
/// characters (which a JSON plan may hold) have no place in XML at all.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// One row: a service's control steps, a service's agent hosts, or steps of no service.
struct Row {
    label: String,
    service: Option<String>,
}

/// One bar: steps of one row and kind over `start..end` seconds.
struct Bar {
    row: usize,
    kind: StepKind,
    start: u64,
    end: u64,
    steps: usize,
    hosts: usize,
    first: usize,
    last_host: Option<usize>,
}

/// The plan's timeline as an SVG document.
///
/// `catalog` (the one the plan was made from) tells which components are control
/// components, for the downtime.
///
/// # Errors
/// [`Error::BadPlan`] when a window of the plan names a step the plan does not have.
///
/// # Complexity
/// O(S·log S) for S steps (the estimate's schedule, then bars sorted by row and time).
///
/// # Example
/// ```
/// let catalog = ffu_core::Catalog::openstack();
/// let plan = catalog.plan("newton", "ocata", &ffu_core::Policy::default()).unwrap();
/// let svg = ffu_core::timeline::svg(&plan, &catalog).unwrap();
/// assert!(svg.starts_with("<svg"));
/// ```
// One document built top to bottom, in commented sections (schedule, rows, bars, downtime,
// windows, axis, legend) that share the scale and the rows; pieces would pass them all along.
#[allow(clippy::too_many_lines)]
pub fn svg(plan: &Plan, catalog: &Catalog) -> Result<String> {
    let steps = &plan.steps;
    let (time, down) = estimate_with_downtime(plan, catalog);
    let units = unit_ends(steps);

    // Where each step starts and ends: units one after the other; in a batch, each host's
    // steps one after the other from the batch's start.
    let mut span = vec![(0_u64, 0_u64); steps.len()];
    let mut unit_range: Vec<(Range<usize>, u64, u64)> = Vec::with_capacity(units.len());
    let mut clock = 0_u64;
    let mut begin = 0;
    for &(end, seconds) in &units {
        if end - begin == 1 {
            span[begin] = (clock, clock.saturating_add(seconds));
        } else {
            let mut lanes: FxHashMap<Option<&str>, u64> = FxHashMap::default();
            for (index, step) in steps.iter().enumerate().take(end).skip(begin) {
                let lane = lanes.entry(step.host.as_deref()).or_insert(clock);
                let figure = step
                    .estimate_s
                    .unwrap_or_else(|| crate::estimate::default_seconds(step.kind));
                span[index] = (*lane, lane.saturating_add(figure));
                *lane = span[index].1;
            }
        }
        unit_range.push((begin..end, clock, clock.saturating_add(seconds)));
        clock = clock.saturating_add(seconds);
        begin = end;
    }
    let total = clock.max(1);

    // Rows, in order of first appearance.
    let mut rows: Vec<Row> = Vec::new();
    let mut row_of: FxHashMap<(Option<&str>, bool), usize> = FxHashMap::default();
    let mut hosts_of_row: Vec<FxHashSet<&str>> = Vec::new();
    let mut step_row = Vec::with_capacity(steps.len());
    for step in steps {
        let agents = step.batch.is_some();
        let key = (step.service.as_deref(), agents);
        let row = *row_of.entry(key).or_insert_with(|| {
            let name = step.service.as_deref().map_or("plan", |s| s);
            rows.push(Row {
                label: if agents {
                    format!("{} agents", clean(name))
                } else {
                    clean(name)
                },
                service: step.service.clone(),
            });
            hosts_of_row.push(FxHashSet::default());
            rows.len() - 1
        });
        if let Some(host) = step.host.as_deref() {
            hosts_of_row[row].insert(host);
        }
        step_row.push(row);
    }

    // Bars: steps of one row, kind and span are one bar.
    let mut bars: Vec<Bar> = Vec::new();
    let mut bar_of: FxHashMap<(usize, StepKind, u64, u64), usize> = FxHashMap::default();
    for (index, step) in steps.iter().enumerate() {
        let (start, end) = span[index];
        let key = (step_row[index], step.kind, start, end);
        let bar = *bar_of.entry(key).or_insert_with(|| {
            bars.push(Bar {
                row: key.0,
                kind: key.1,
                start,
                end,
                steps: 0,
                hosts: 0,
                first: index,
                last_host: None,
            });
            bars.len() - 1
        });
        bars[bar].steps += 1;
        if step.host.is_some() {
            bars[bar].hosts += 1;
            bars[bar].last_host = Some(index);
        }
    }
    // Then bars of one row and kind that follow each other without a gap are one.
    bars.sort_by_key(|bar| (bar.row, bar.start, bar.end));
    let mut merged: Vec<Bar> = Vec::with_capacity(bars.len());
    for bar in bars {
        match merged.last_mut() {
            Some(last) if last.row == bar.row && last.kind == bar.kind && last.end == bar.start => {
                last.end = bar.end;
                last.steps += bar.steps;
                last.hosts += bar.hosts;
                last.last_host = bar.last_host.or(last.last_host);
            }
            _ => merged.push(bar),
        }
    }

    let x = |seconds: u64| {
        #[allow(clippy::cast_precision_loss)] // seconds far below 2^52
        let at = LABEL_W + seconds as f64 * PLOT_W / total as f64;
        (at * 10.0).round() / 10.0
    };
    #[allow(clippy::cast_precision_loss)]
    let row_y = |row: usize| TOP + row as f64 * ROW_H;
    #[allow(clippy::cast_precision_loss)]
    let rows_bottom = TOP + rows.len() as f64 * ROW_H;
    let axis_y = rows_bottom + 8.0;
    let legend_y = axis_y + 40.0;
    let kinds_used: Vec<StepKind> = KIND_COLOURS
        .iter()
        .map(|(kind, _)| *kind)
        .filter(|kind| merged.iter().any(|bar| bar.kind == *kind))
        .collect();
    // Legend: the kinds, then downtime and window, six to a line.
    let legend_items = kinds_used.len() + 2;
    #[allow(clippy::cast_precision_loss)]
    let legend_lines = legend_items.div_ceil(6) as f64;
    let height = legend_y + legend_lines * 20.0 + 10.0;
    let width = LABEL_W + PLOT_W + RIGHT;

    let mut document = Document::new()
        .set("width", width)
        .set("height", height)
        .set("viewBox", (0, 0, width, height))
        .set("font-family", "sans-serif")
        .set("font-size", 11)
        .add(
            Rectangle::new()
                .set("class", "background")
                .set("width", width)
                .set("height", height)
                .set("fill", "#ffffff"),
        );
    let windows = if plan.windows.is_empty() {
        String::new()
    } else {
        format!(", {} windows", plan.windows.len())
    };
    document = document.add(
        Text::new(clean(&format!(
            "{} -> {} ({}): {} steps, {} total, control plane down {}{windows}",
            plan.from,
            plan.to,
            plan.policy.mode.as_str(),
            steps.len(),
            human(time.total_s),
            human(time.control_plane_downtime_s),
        )))
        .set("class", "title")
        .set("x", 8)
        .set("y", 18)
        .set("font-size", 14)
        .set("font-weight", "bold"),
    );

    // Rows: a band each, its label on the left.
    let mut row_group = Group::new().set("class", "rows");
    for (index, row) in rows.iter().enumerate() {
        let hosts = hosts_of_row[index].len();
        let label = if hosts > 1 {
            format!("{} ({hosts} hosts)", row.label)
        } else {
            row.label.clone()
        };
        row_group = row_group.add(
            Group::new()
                .set("class", "row")
                .set("data-row", index)
                .add(
                    Rectangle::new()
                        .set("x", LABEL_W)
                        .set("y", row_y(index))
                        .set("width", PLOT_W)
                        .set("height", ROW_H)
                        .set("fill", if index % 2 == 0 { "#f4f4f4" } else { "#ffffff" }),
                )
                .add(
                    Text::new(label)
                        .set("class", "row-label")
                        .set("x", LABEL_W - 6.0)
                        .set("y", row_y(index) + ROW_H * 0.7)
                        .set("text-anchor", "end"),
                ),
        );
    }
    document = document.add(row_group);

    // Downtime: per service, the runs of units during which its control plane is down,
    // shaded over its rows.
    let mut down_group = Group::new().set("class", "downtime");
    for (index, row) in rows.iter().enumerate() {
        let Some(service) = row.service.as_deref() else {
            continue;
        };
        let mut run: Option<(u64, u64)> = None;
        let shade = |from: u64, to: u64| {
            Rectangle::new()
                .set("class", "down")
                .set("x", x(from))
                .set("y", row_y(index))
                .set("width", (x(to) - x(from)).max(0.5))
                .set("height", ROW_H)
                .set("fill", DOWN_FILL)
                .set("fill-opacity", 0.25)
                .add(Title::new(format!(
                    "{}: control plane down {} ({} s)",
                    clean(service),
                    human(to - from),
                    to - from
                )))
        };
        for ((_, start, end), services) in unit_range.iter().zip(&down) {
            let is_down = services.iter().any(|name| name == service);
            run = match (run, is_down) {
                (Some((from, _)), true) => Some((from, *end)),
                (None, true) => Some((*start, *end)),
                (Some((from, to)), false) => {
                    down_group = down_group.add(shade(from, to));
                    None
                }
                (None, false) => None,
            };
        }
        if let Some((from, to)) = run {
            down_group = down_group.add(shade(from, to));
        }
    }
    document = document.add(down_group);

    // Bars.
    let mut bar_group = Group::new().set("class", "bars");
    for bar in &merged {
        let first = &steps[bar.first];
        let mut title = format!(
            "{} {}: {} ({} s)",
            bar.kind.as_str(),
            first.id,
            human(bar.end - bar.start),
            bar.end - bar.start
        );
        if bar.steps > 1 {
            title = format!(
                "{} x{}: {} ... ({} s from {})",
                bar.kind.as_str(),
                bar.steps,
                first.id,
                bar.end - bar.start,
                human(bar.start)
            );
            if bar.hosts > 1 {
                let _ = write!(title, ", {} host steps", bar.hosts);
            }
        }
        bar_group = bar_group.add(
            Rectangle::new()
                .set("class", format!("bar kind-{}", bar.kind.as_str()))
                .set("data-kind", bar.kind.as_str())
                .set("data-row", bar.row)
                .set("data-steps", bar.steps)
                .set("x", x(bar.start))
                .set("y", row_y(bar.row) + 3.0)
                .set("width", (x(bar.end) - x(bar.start)).max(1.0))
                .set("height", ROW_H - 6.0)
                .set("fill", colour(bar.kind))
                .add(Title::new(clean(&title))),
        );
    }
    document = document.add(bar_group);

    // Windows: a line where each begins, its number and time above the rows.
    let mut window_group = Group::new().set("class", "windows");
    let position: FxHashMap<&str, usize> = if plan.windows.is_empty() {
        FxHashMap::default()
    } else {
        steps
            .iter()
            .enumerate()
            .map(|(index, step)| (step.id.as_str(), index))
            .collect()
    };
    for window in &plan.windows {
        let find = |id: &str| {
            position.get(id).copied().ok_or_else(|| Error::BadPlan {
                file: "the plan".to_owned(),
                message: format!(
                    "window {} names step {id:?}, which the plan does not have",
                    window.index + 1
                ),
                source: None,
            })
        };
        let (first, last) = (find(&window.first_step)?, find(&window.last_step)?);
        let start = span[first].0;
        let end = unit_range
            .iter()
            .find(|(range, _, _)| range.contains(&last))
            .map_or(span[last].1, |unit| unit.2);
        window_group = window_group.add(
            Group::new()
                .set("class", "window")
                .set("data-window", window.index)
                .add(
                    Rectangle::new()
                        .set("x", x(start))
                        .set("y", TOP - 16.0)
                        .set("width", (x(end) - x(start)).max(1.0))
                        .set("height", 12)
                        .set("fill", "#3366cc")
                        .set("fill-opacity", 0.2)
                        .set("stroke", "#3366cc"),
                )
                .add(
                    Line::new()
                        .set("x1", x(start))
                        .set("x2", x(start))
                        .set("y1", TOP - 16.0)
                        .set("y2", rows_bottom)
                        .set("stroke", "#3366cc")
                        .set("stroke-dasharray", "4 3"),
                )
                .add(
                    Text::new(format!(
                        "window {}: {}",
                        window.index + 1,
                        human(window.estimate_s)
                    ))
                    .set("x", x(start) + 3.0)
                    .set("y", TOP - 6.0)
                    .set("font-size", 9),
                )
                .add(Title::new(clean(&format!(
                    "window {}: {} to {}, {}",
                    window.index + 1,
                    window.first_step,
                    window.last_step,
                    window.state
                )))),
        );
    }
    document = document.add(window_group);

    // The time axis: about ten ticks at a round interval.
    let tick = [
        1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    ]
    .into_iter()
    .find(|tick| total / tick <= 10)
    .unwrap_or_else(|| total.div_ceil(10));
    let mut axis = Group::new().set("class", "axis").add(
        Line::new()
            .set("x1", LABEL_W)
            .set("x2", LABEL_W + PLOT_W)
            .set("y1", axis_y)
            .set("y2", axis_y)
            .set("stroke", "#000000"),
    );
    let mut at = 0;
    while at <= total {
        axis = axis
            .add(
                Line::new()
                    .set("class", "tick")
                    .set("x1", x(at))
                    .set("x2", x(at))
                    .set("y1", axis_y)
                    .set("y2", axis_y + 5.0)
                    .set("stroke", "#000000"),
            )
            .add(
                Text::new(human(at))
                    .set("x", x(at))
                    .set("y", axis_y + 17.0)
                    .set("text-anchor", "middle")
                    .set("font-size", 10),
            );
        at += tick;
    }
    axis = axis.add(
        Text::new("time from the start (by the steps' estimate_s)")
            .set("x", LABEL_W)
            .set("y", axis_y + 31.0)
            .set("font-size", 10),
    );
    document = document.add(axis);

    // The legend.
    let mut legend = Group::new().set("class", "legend");
    let mut items: Vec<(String, &str, f64)> = kinds_used
        .iter()
        .map(|kind| (kind.as_str().to_owned(), colour(*kind), 1.0))
        .collect();
    items.push(("control plane down".to_owned(), DOWN_FILL, 0.25));
    items.push(("maintenance window".to_owned(), "#3366cc", 0.2));
    for (index, (label, fill, opacity)) in items.into_iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let (left, top) = (
            LABEL_W + (index % 6) as f64 * 160.0,
            legend_y + (index / 6) as f64 * 20.0,
        );
        legend = legend.add(
            Group::new()
                .set("class", "legend-item")
                .add(
                    Rectangle::new()
                        .set("x", left)
                        .set("y", top)
                        .set("width", 14)
                        .set("height", 12)
                        .set("fill", fill)
                        .set("fill-opacity", opacity),
                )
                .add(Text::new(label).set("x", left + 18.0).set("y", top + 10.0)),
        );
    }
    document = document.add(legend);
    let mut out = document.to_string();
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    fn parse(text: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(text).expect("the timeline is XML")
    }

    fn with_class<'a>(
        doc: &'a roxmltree::Document<'a>,
        class: &'a str,
    ) -> impl Iterator<Item = roxmltree::Node<'a, 'a>> + 'a {
        doc.descendants().filter(move |node| {
            node.attribute("class")
                .is_some_and(|value| value.split(' ').any(|part| part == class))
        })
    }

    #[test]
    fn newton_to_queens_draws_rows_bars_downtime_and_a_legend() {
        let catalog = Catalog::openstack();
        let plan = catalog
            .plan("newton", "queens", &Policy::default())
            .unwrap();
        let text = svg(&plan, &catalog).unwrap();
        let doc = parse(&text);
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let labels: Vec<&str> = with_class(&doc, "row-label")
            .filter_map(|node| node.text())
            .map(str::trim)
            .collect();
        for service in ["keystone", "nova", "neutron", "glance", "cinder"] {
            assert!(
                labels.contains(&service),
                "no row for {service}: {labels:?}"
            );
        }
        let bars: Vec<_> = with_class(&doc, "bar").collect();
        assert!(bars.len() >= 20, "{} bars", bars.len());
        for kind in ["stop", "backup", "install", "migrate", "start"] {
            assert!(
                bars.iter()
                    .any(|bar| bar.attribute("data-kind") == Some(kind)),
                "no {kind} bar"
            );
            assert!(with_class(&doc, "legend-item").any(|item| item
                .descendants()
                .any(|n| n.text().map(str::trim) == Some(kind))));
        }
        // Every step counted once.
        let counted: usize = bars
            .iter()
            .map(|bar| {
                bar.attribute("data-steps")
                    .unwrap()
                    .parse::<usize>()
                    .unwrap()
            })
            .sum();
        assert_eq!(counted, plan.steps.len());
        assert!(with_class(&doc, "down").count() >= 1);
        assert!(with_class(&doc, "tick").count() >= 2);
        // Bars stay within the axis.
        for bar in &bars {
            let x: f64 = bar.attribute("x").unwrap().parse().unwrap();
            let width: f64 = bar.attribute("width").unwrap().parse().unwrap();
            assert!(x >= LABEL_W && x + width <= LABEL_W + PLOT_W + 1.0);
        }
    }

    #[test]
    fn a_window_naming_no_step_is_an_error_naming_it() {
        let catalog = Catalog::openstack();
        let mut plan = catalog.plan("newton", "ocata", &Policy::default()).unwrap();
        plan.windows.push(crate::windows::Window {
            index: 0,
            first_step: "nope".to_owned(),
            last_step: plan.steps[0].id.clone(),
            estimate_s: 1,
            state: "serving".to_owned(),
            hosts: 0,
        });
        let err = svg(&plan, &catalog).unwrap_err().to_string();
        assert!(err.contains("\"nope\""), "{err}");
    }

    #[test]
    fn control_characters_and_markup_in_ids_stay_xml() {
        let catalog = Catalog::openstack();
        let mut plan = catalog.plan("newton", "ocata", &Policy::default()).unwrap();
        plan.steps[0].id = "a<b>&\"c\u{1}".to_owned();
        parse(&svg(&plan, &catalog).unwrap());
    }
}
