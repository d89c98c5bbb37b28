//! The plan over time as SVG (DESIGN §10, `ffu plan --format svg`): a row per service (and
//! one, "SERVICE per host", for its steps that run on many hosts side by side: its agents'
//! batches, a step copied to every host), a bar per step coloured by its kind and placed by the
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
pub fn svg(plan: &Plan, catalog: &Catalog) -> Result<String> {
    let (time, down) = estimate_with_downtime(plan, catalog);
    let timeline = Timeline::new(plan, &down);
    let document = timeline
        .canvas()
        .add(timeline.title(time.total_s, time.control_plane_downtime_s))
        .add(timeline.rows())
        .add(timeline.downtime())
        .add(timeline.bars())
        .add(timeline.windows()?)
        .add(timeline.axis())
        .add(timeline.legend());
    let mut out = document.to_string();
    out.push('\n');
    Ok(out)
}

/// A unit of the schedule (a step, or a batch's steps): its steps, start and end (s).
type Unit = (Range<usize>, u64, u64);

/// What the drawing shares: the schedule, the rows and bars, and the vertical layout.
struct Timeline<'a> {
    plan: &'a Plan,
    /// Per unit of the schedule, the services whose control plane is down during it.
    down: &'a [Vec<String>],
    /// Each step's start and end, in seconds from the plan's start.
    span: Vec<(u64, u64)>,
    /// The schedule's units (a step, or a batch's steps): their steps, start and end.
    units: Vec<Unit>,
    /// The schedule's length, at least 1 s.
    total: u64,
    rows: Vec<Row>,
    /// Per row, the hosts its steps run on.
    hosts_of_row: Vec<usize>,
    bars: Vec<Bar>,
}

impl<'a> Timeline<'a> {
    fn new(plan: &'a Plan, down: &'a [Vec<String>]) -> Timeline<'a> {
        let (span, units, total) = schedule(plan);
        let (rows, hosts_of_row, step_row) = rows_of(plan);
        let bars = bars_of(plan, &span, &step_row);
        Timeline {
            plan,
            down,
            span,
            units,
            total,
            rows,
            hosts_of_row,
            bars,
        }
    }

    fn x(&self, seconds: u64) -> f64 {
        #[allow(clippy::cast_precision_loss)] // seconds far below 2^52
        let at = LABEL_W + seconds as f64 * PLOT_W / self.total as f64;
        (at * 10.0).round() / 10.0
    }

    #[allow(clippy::cast_precision_loss)]
    fn row_y(row: usize) -> f64 {
        TOP + row as f64 * ROW_H
    }

    fn rows_bottom(&self) -> f64 {
        Timeline::row_y(self.rows.len())
    }

    fn axis_y(&self) -> f64 {
        self.rows_bottom() + 8.0
    }

    fn legend_y(&self) -> f64 {
        self.axis_y() + 40.0
    }

    /// The kinds the bars use, in the legend's order.
    fn kinds_used(&self) -> Vec<StepKind> {
        KIND_COLOURS
            .iter()
            .map(|(kind, _)| *kind)
            .filter(|kind| self.bars.iter().any(|bar| bar.kind == *kind))
            .collect()
    }

    /// The empty document, sized for the rows and the legend (the kinds, then downtime and
    /// window, six to a line).
    fn canvas(&self) -> Document {
        #[allow(clippy::cast_precision_loss)]
        let legend_lines = (self.kinds_used().len() + 2).div_ceil(6) as f64;
        let height = self.legend_y() + legend_lines * 20.0 + 10.0;
        let width = LABEL_W + PLOT_W + RIGHT;
        Document::new()
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
            )
    }

    fn title(&self, total_s: u64, downtime_s: u64) -> Text {
        let plan = self.plan;
        let windows = if plan.windows.is_empty() {
            String::new()
        } else {
            format!(", {} windows", plan.windows.len())
        };
        Text::new(clean(&format!(
            "{} -> {} ({}): {} steps, {} total, control plane down {}{windows}",
            plan.from,
            plan.to,
            plan.policy.mode.as_str(),
            plan.steps.len(),
            human(total_s),
            human(downtime_s),
        )))
        .set("class", "title")
        .set("x", 8)
        .set("y", 18)
        .set("font-size", 14)
        .set("font-weight", "bold")
    }

    /// Rows: a band each, its label on the left.
    fn rows(&self) -> Group {
        let mut group = Group::new().set("class", "rows");
        for (index, row) in self.rows.iter().enumerate() {
            let hosts = self.hosts_of_row[index];
            let label = if hosts > 1 {
                format!("{} ({hosts} hosts)", row.label)
            } else {
                row.label.clone()
            };
            group = group.add(
                Group::new()
                    .set("class", "row")
                    .set("data-row", index)
                    .add(
                        Rectangle::new()
                            .set("x", LABEL_W)
                            .set("y", Timeline::row_y(index))
                            .set("width", PLOT_W)
                            .set("height", ROW_H)
                            .set("fill", if index % 2 == 0 { "#f4f4f4" } else { "#ffffff" }),
                    )
                    .add(
                        Text::new(label)
                            .set("class", "row-label")
                            .set("x", LABEL_W - 6.0)
                            .set("y", Timeline::row_y(index) + ROW_H * 0.7)
                            .set("text-anchor", "end"),
                    ),
            );
        }
        group
    }

    /// Downtime: per service, the runs of units during which its control plane is down,
    /// shaded over its rows.
    fn downtime(&self) -> Group {
        let mut group = Group::new().set("class", "downtime");
        for (index, row) in self.rows.iter().enumerate() {
            let Some(service) = row.service.as_deref() else {
                continue;
            };
            let mut run: Option<(u64, u64)> = None;
            for ((_, start, end), services) in self.units.iter().zip(self.down) {
                let is_down = services.iter().any(|name| name == service);
                run = match (run, is_down) {
                    (Some((from, _)), true) => Some((from, *end)),
                    (None, true) => Some((*start, *end)),
                    (Some((from, to)), false) => {
                        group = group.add(self.shade(index, service, from, to));
                        None
                    }
                    (None, false) => None,
                };
            }
            if let Some((from, to)) = run {
                group = group.add(self.shade(index, service, from, to));
            }
        }
        group
    }

    fn shade(&self, row: usize, service: &str, from: u64, to: u64) -> Rectangle {
        Rectangle::new()
            .set("class", "down")
            .set("x", self.x(from))
            .set("y", Timeline::row_y(row))
            .set("width", (self.x(to) - self.x(from)).max(0.5))
            .set("height", ROW_H)
            .set("fill", DOWN_FILL)
            .set("fill-opacity", 0.25)
            .add(Title::new(format!(
                "{}: control plane down {} ({} s)",
                clean(service),
                human(to - from),
                to - from
            )))
    }

    fn bars(&self) -> Group {
        let mut group = Group::new().set("class", "bars");
        for bar in &self.bars {
            group = group.add(
                Rectangle::new()
                    .set("class", format!("bar kind-{}", bar.kind.as_str()))
                    .set("data-kind", bar.kind.as_str())
                    .set("data-row", bar.row)
                    .set("data-steps", bar.steps)
                    .set("x", self.x(bar.start))
                    .set("y", Timeline::row_y(bar.row) + 3.0)
                    .set("width", (self.x(bar.end) - self.x(bar.start)).max(1.0))
                    .set("height", ROW_H - 6.0)
                    .set("fill", colour(bar.kind))
                    .add(Title::new(clean(&bar_title(
                        bar,
                        &self.plan.steps[bar.first].id,
                    )))),
            );
        }
        group
    }

    /// Windows: a line where each begins, its number and time above the rows.
    fn windows(&self) -> Result<Group> {
        let mut group = Group::new().set("class", "windows");
        if self.plan.windows.is_empty() {
            return Ok(group);
        }
        let position: FxHashMap<&str, usize> = self
            .plan
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| (step.id.as_str(), index))
            .collect();
        for window in &self.plan.windows {
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
            let start = self.span[first].0;
            let end = self
                .units
                .iter()
                .find(|(range, _, _)| range.contains(&last))
                .map_or(self.span[last].1, |unit| unit.2);
            group = group.add(self.window(window, start, end));
        }
        Ok(group)
    }

    fn window(&self, window: &crate::windows::Window, start: u64, end: u64) -> Group {
        Group::new()
            .set("class", "window")
            .set("data-window", window.index)
            .add(
                Rectangle::new()
                    .set("x", self.x(start))
                    .set("y", TOP - 16.0)
                    .set("width", (self.x(end) - self.x(start)).max(1.0))
                    .set("height", 12)
                    .set("fill", "#3366cc")
                    .set("fill-opacity", 0.2)
                    .set("stroke", "#3366cc"),
            )
            .add(
                Line::new()
                    .set("x1", self.x(start))
                    .set("x2", self.x(start))
                    .set("y1", TOP - 16.0)
                    .set("y2", self.rows_bottom())
                    .set("stroke", "#3366cc")
                    .set("stroke-dasharray", "4 3"),
            )
            .add(
                Text::new(format!(
                    "window {}: {}",
                    window.index + 1,
                    human(window.estimate_s)
                ))
                .set("x", self.x(start) + 3.0)
                .set("y", TOP - 6.0)
                .set("font-size", 9),
            )
            .add(Title::new(clean(&format!(
                "window {}: {} to {}, {}",
                window.index + 1,
                window.first_step,
                window.last_step,
                window.state
            ))))
    }

    /// The time axis: about ten ticks at a round interval.
    fn axis(&self) -> Group {
        let (total, axis_y) = (self.total, self.axis_y());
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
                        .set("x1", self.x(at))
                        .set("x2", self.x(at))
                        .set("y1", axis_y)
                        .set("y2", axis_y + 5.0)
                        .set("stroke", "#000000"),
                )
                .add(
                    Text::new(human(at))
                        .set("x", self.x(at))
                        .set("y", axis_y + 17.0)
                        .set("text-anchor", "middle")
                        .set("font-size", 10),
                );
            at += tick;
        }
        axis.add(
            Text::new("time from the start (by the steps' estimate_s)")
                .set("x", LABEL_W)
                .set("y", axis_y + 31.0)
                .set("font-size", 10),
        )
    }

    fn legend(&self) -> Group {
        let mut legend = Group::new().set("class", "legend");
        let mut items: Vec<(String, &str, f64)> = self
            .kinds_used()
            .iter()
            .map(|kind| (kind.as_str().to_owned(), colour(*kind), 1.0))
            .collect();
        items.push(("control plane down".to_owned(), DOWN_FILL, 0.25));
        items.push(("maintenance window".to_owned(), "#3366cc", 0.2));
        for (index, (label, fill, opacity)) in items.into_iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let (left, top) = (
                LABEL_W + (index % 6) as f64 * 160.0,
                self.legend_y() + (index / 6) as f64 * 20.0,
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
        legend
    }
}

/// Where each step starts and ends: units one after the other; in a batch, each host's
/// steps one after the other from the batch's start. Also each unit's range, start and
/// end, and the schedule's length (at least 1 s).
fn schedule(plan: &Plan) -> (Vec<(u64, u64)>, Vec<Unit>, u64) {
    let steps = &plan.steps;
    let units = unit_ends(steps);
    let mut span = vec![(0_u64, 0_u64); steps.len()];
    let mut unit_range: Vec<Unit> = Vec::with_capacity(units.len());
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
    (span, unit_range, clock.max(1))
}

/// The rows, in order of first appearance (a service's steps one at a time, its steps in
/// batches, steps of no service); per row how many hosts it has; each step's row.
fn rows_of(plan: &Plan) -> (Vec<Row>, Vec<usize>, Vec<usize>) {
    let mut rows: Vec<Row> = Vec::new();
    let mut row_of: FxHashMap<(Option<&str>, bool), usize> = FxHashMap::default();
    let mut hosts_of_row: Vec<FxHashSet<&str>> = Vec::new();
    let mut step_row = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let batched = step.batch.is_some();
        let key = (step.service.as_deref(), batched);
        let row = *row_of.entry(key).or_insert_with(|| {
            let name = step.service.as_deref().map_or("plan", |s| s);
            rows.push(Row {
                label: if batched {
                    format!("{} per host", clean(name))
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
    let hosts = hosts_of_row.iter().map(FxHashSet::len).collect();
    (rows, hosts, step_row)
}

/// The bars: steps of one row, kind and span are one bar; then bars of one row and kind
/// that follow each other without a gap are one.
fn bars_of(plan: &Plan, span: &[(u64, u64)], step_row: &[usize]) -> Vec<Bar> {
    let mut bars: Vec<Bar> = Vec::new();
    let mut bar_of: FxHashMap<(usize, StepKind, u64, u64), usize> = FxHashMap::default();
    for (index, step) in plan.steps.iter().enumerate() {
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
    merged
}

/// A bar's tooltip: its kind, first step and time, and for a merged bar how many steps.
fn bar_title(bar: &Bar, first_id: &str) -> String {
    if bar.steps == 1 {
        return format!(
            "{} {}: {} ({} s)",
            bar.kind.as_str(),
            first_id,
            human(bar.end - bar.start),
            bar.end - bar.start
        );
    }
    let mut title = format!(
        "{} x{}: {} ... ({} s from {})",
        bar.kind.as_str(),
        bar.steps,
        first_id,
        bar.end - bar.start,
        human(bar.start)
    );
    if bar.hosts > 1 {
        let _ = write!(title, ", {} host steps", bar.hosts);
    }
    title
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
