//! Bar charts from `summary.csv`: clusters of bars, one bar per arm with its 95 % interval,
//! and an optional reference per cluster. `sensitive.svg` (`sensitive_share` by cohort) and
//! `group-exposure.svg` (each creator group's share of impressions against its share of the
//! catalog) are drawn here; the amplification panel of `boosted.svg` uses the same helper.

use super::data::{ALL, Estimate, Run};
use super::style::{self, Area, Frame, Swatch, arm_colour, font};
use crate::metrics::Metric;
use crate::metrics::columns::{GROUP_CATALOG_SHARE, GROUP_EXPOSURE};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// One bar: an arm's estimate, in the unit of the chart.
pub struct Bar {
    pub colour: RGBColor,
    pub estimate: Estimate,
}

/// A group of bars under one label.
pub struct Cluster {
    pub label: String,
    pub bars: Vec<Bar>,
}

/// The y axis of a bar chart.
pub struct YAxis<'a> {
    pub desc: &'a str,
    pub format: &'a dyn Fn(&f64) -> String,
    /// How the value above a bar is written.
    pub value: &'a dyn Fn(f64) -> String,
    /// A horizontal line across the whole chart (amplification 1 = the baseline).
    pub rule: Option<f64>,
}

/// The chart bars are drawn on: clusters at 0.5, 1.5, … on x, the chart's unit on y.
type BarChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws `clusters` in `area`; `x_desc` names what the clusters are.
pub fn draw(area: &Area<'_>, clusters: &[Cluster], x_desc: &str, y: &YAxis<'_>) {
    let top = clusters
        .iter()
        .flat_map(|c| c.bars.iter().map(|b| b.estimate.hi()))
        .chain(y.rule)
        .fold(0.0, f64::max);
    let n = clusters.len().max(1) as f64;
    let widest = clusters.iter().map(|c| c.bars.len()).max().unwrap_or(1).max(1) as f64;
    // Labels too wide for their cluster alternate between two rows.
    let slot = (area.dim_in_pixel().0 as f64 - 114.0) / n;
    let stagger = clusters
        .iter()
        .any(|c| f64::from(style::text_width(&c.label, 14.0)) > slot - 6.0);
    let mut chart = bar_axes(area, n, top, stagger, x_desc, y);
    let base = area.get_base_pixel();
    for (i, cluster) in clusters.iter().enumerate() {
        // Bars are as wide in every cluster, and centred in theirs.
        let slot = 0.76 / widest;
        let left = i as f64 + 0.5 - slot * cluster.bars.len() as f64 / 2.0;
        for (j, bar) in cluster.bars.iter().enumerate() {
            let x0 = left + j as f64 * slot + 0.08 * slot;
            let x1 = left + (j + 1) as f64 * slot - 0.08 * slot;
            draw_bar(&chart, area, (x0, x1), bar, y);
        }
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        let row = if stagger { 18 * (i as i32 % 2) } else { 0 };
        style::draw_centred(
            area,
            &cluster.label,
            (px - base.0, py + 8 + row - base.1),
            &font(14.0),
        );
    }
    if let Some(r) = y.rule {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, r), (n, r)],
                8,
                5,
                style::INK.stroke_width(1),
            ))
            .expect(style::DRAW);
    }
}

/// The axes of a bar chart with `n` clusters and values up to `top`: no x ticks (the
/// clusters are labelled by `draw`), and room for two rows of labels when they `stagger`.
fn bar_axes<'a, 'b>(
    area: &'a Area<'b>,
    n: f64,
    top: f64,
    stagger: bool,
    x_desc: &str,
    y: &YAxis<'_>,
) -> BarChart<'a, 'b> {
    let mut chart = ChartBuilder::on(area)
        .margin_left(12)
        .margin_right(28)
        .margin_top(10)
        .margin_bottom(4)
        .x_label_area_size(if stagger { 70 } else { 52 })
        .y_label_area_size(74)
        .build_cartesian_2d(0.0..n, 0.0..style::upper(top) * 1.06)
        .expect(style::DRAW);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_desc(x_desc)
        .y_desc(y.desc)
        .axis_desc_style(font(14.0))
        .label_style(font(12.0))
        .y_label_formatter(y.format)
        .y_labels(6)
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
        .axis_style(style::MUTED)
        .draw()
        .expect(style::DRAW);
    chart
}

/// One bar from `x0` to `x1`: its body, its interval's whiskers and its value above it.
fn draw_bar(chart: &BarChart<'_, '_>, area: &Area<'_>, (x0, x1): (f64, f64), bar: &Bar, y: &YAxis<'_>) {
    let e = bar.estimate;
    chart
        .plotting_area()
        .draw(&Rectangle::new(
            [(x0, 0.0), (x1, e.mean)],
            bar.colour.mix(0.85).filled(),
        ))
        .expect(style::DRAW);
    // An outline, so light colours (the palette's yellow) still read on white.
    chart
        .plotting_area()
        .draw(&Rectangle::new(
            [(x0, 0.0), (x1, e.mean)],
            bar.colour.stroke_width(1),
        ))
        .expect(style::DRAW);
    if e.interval.is_some() {
        draw_whiskers(chart, (x0, x1), e);
    }
    // The value above the bar, where the bar is wide enough to carry it.
    let text = (y.value)(e.mean);
    let (px0, _) = chart.backend_coord(&(x0, 0.0));
    let (px1, py) = chart.backend_coord(&(x1, e.hi()));
    if px1 - px0 >= style::text_width(&text, 12.0) {
        let base = area.get_base_pixel();
        let pos = ((px0 + px1) / 2 - base.0, py - 18 - base.1);
        style::draw_centred(area, &text, pos, &font(12.0));
    }
}

/// The 95 % interval of a bar from `x0` to `x1`: a line from low to high, capped at both ends.
fn draw_whiskers(chart: &BarChart<'_, '_>, (x0, x1): (f64, f64), e: Estimate) {
    let mid = (x0 + x1) / 2.0;
    let cap = (x1 - x0) / 4.0;
    // Ink over a white halo, so whiskers show on dark bars too.
    let halo = WHITE.stroke_width(4);
    let ink = style::INK.stroke_width(2);
    for path in [
        vec![(mid, e.lo()), (mid, e.hi())],
        vec![(mid - cap, e.lo()), (mid + cap, e.lo())],
        vec![(mid - cap, e.hi()), (mid + cap, e.hi())],
    ] {
        for stroke in [halo, ink] {
            chart
                .plotting_area()
                .draw(&PathElement::new(path.clone(), stroke))
                .expect(style::DRAW);
        }
    }
}

/// A bar's percentage: one decimal.
pub fn one_decimal_percent(v: f64) -> String {
    format!("{v:.1}\u{a0}%")
}

/// `estimate` scaled by `factor` (shares to percentages).
pub fn scaled(estimate: Estimate, factor: f64) -> Estimate {
    Estimate {
        mean: estimate.mean * factor,
        interval: estimate.interval.map(|(lo, hi)| (lo * factor, hi * factor)),
    }
}

/// `sensitive.svg`: the share of impressions that are sensitive, per arm, by cohort; drawn in a
/// scenario with the safety features (minors, protections, bots) when some arm was shown
/// sensitive content.
pub fn sensitive(run: &Run) -> Option<String> {
    // Sensitive content is the point of scenarios with minors and protections only.
    if !super::story::safety(run) {
        return None;
    }
    let clusters: Vec<Cluster> = run
        .cohorts
        .iter()
        .map(|cohort| Cluster {
            label: cohort_label(cohort),
            bars: run
                .arms
                .iter()
                .filter_map(|a| {
                    Some(Bar {
                        colour: arm_colour(run, a),
                        estimate: scaled(run.estimate(a, cohort, Metric::SensitiveShare.name())?, 100.0),
                    })
                })
                .collect(),
        })
        .filter(|c| !c.bars.is_empty())
        .collect();
    let shown = clusters
        .iter()
        .flat_map(|c| &c.bars)
        .any(|b| b.estimate.hi() > 0.0);
    if !shown {
        return None;
    }
    let by = if clusters.len() > 1 { " by cohort" } else { "" };
    let title = format!("Sensitive content in the feed{by}");
    let frame = Frame {
        title: &title,
        legend: arm_blocks(run),
        note: "Share of each viewer's impressions that are flagged sensitive (topics such as eating disorders, self-harm, depression), mean over viewers at the end of the run, averaged over replicates; whiskers: 95 % interval over replicates.".to_string(),
    };
    let y = YAxis {
        desc: "impressions that are sensitive (%)",
        format: &style::percent,
        value: &one_decimal_percent,
        rule: None,
    };
    Some(style::render(run, &frame, |area| {
        draw(area, &clusters, "cohort of viewers", &y)
    }))
}

/// `group-exposure.svg`: each creator group's share of impressions per arm, beside its
/// share of the catalog; drawn when there are two groups or more and the scenario is about them
/// (its own groups, or a target or boost naming them).
pub fn group_exposure(run: &Run) -> Option<String> {
    let groups = run.groups();
    if groups.len() < 2 || !super::story::uses_groups(run) {
        return None;
    }
    let clusters: Vec<Cluster> = groups
        .iter()
        .map(|g| {
            // The catalog is the same for every arm: the first arm's share stands for it.
            let catalog = run
                .arms
                .iter()
                .find_map(|a| run.estimate(a, ALL, &GROUP_CATALOG_SHARE.column(g)));
            let catalog = catalog.map(|e| Bar {
                colour: style::CATALOG,
                estimate: scaled(e, 100.0),
            });
            let exposure = GROUP_EXPOSURE.column(g);
            let arms = run.arms.iter().filter_map(|a| {
                Some(Bar {
                    colour: arm_colour(run, a),
                    estimate: scaled(run.estimate(a, ALL, &exposure)?, 100.0),
                })
            });
            Cluster {
                label: g.clone(),
                bars: catalog.into_iter().chain(arms).collect(),
            }
        })
        .collect();
    if clusters.iter().all(|c| c.bars.is_empty()) {
        return None;
    }
    let mut legend = vec![(Swatch::Block(style::CATALOG), "share of the catalog".to_string())];
    legend.extend(arm_blocks(run));
    let frame = Frame {
        title: "Exposure of creator groups against their share of the catalog",
        legend,
        note: "Grey: the group's share of the catalog's items. Coloured: its share of all impressions so far under each arm at the end of the run, averaged over replicates; whiskers: 95 % interval over replicates. A bar lower than the grey one means the group is shown less than its place in the catalog.".to_string(),
    };
    let y = YAxis {
        desc: "share of items or impressions (%)",
        format: &style::percent,
        value: &one_decimal_percent,
        rule: None,
    };
    Some(style::render(run, &frame, |area| {
        draw(area, &clusters, "creator group", &y)
    }))
}

/// Legend entries for bars: a block of each arm's colour.
fn arm_blocks(run: &Run) -> Vec<(Swatch, String)> {
    run.arms
        .iter()
        .map(|a| (Swatch::Block(arm_colour(run, a)), a.clone()))
        .collect()
}

/// How a cohort is named under its bars.
fn cohort_label(cohort: &str) -> String {
    if cohort == ALL {
        "all viewers".to_string()
    } else {
        cohort.replace('_', " ")
    }
}
