//! Charts of a metric over minutes of use, one line per arm, each point a step averaged over
//! replicates: feed narrowing (`feed_entropy` with its p10-p90 band), the share of viewers in
//! a rabbit hole, and the share of boosted content.

use super::data::{ALL, Point, Run};
use super::style::{self, Area, Frame, Swatch, arm_colour};
use crate::metrics::Metric;
use plotters::prelude::*;

/// One line of a chart over minutes.
pub struct Line {
    pub arm: String,
    /// The arm's place among the run's arms: its colour and marker.
    pub idx: usize,
    pub colour: RGBColor,
    pub points: Vec<Point>,
    pub dashed: bool,
}

impl Line {
    /// `arm`'s line through `points`, in its colour and with its marker.
    pub fn new(run: &Run, arm: &str, points: Vec<Point>, dashed: bool) -> Line {
        Line {
            arm: arm.to_string(),
            idx: run.arms.iter().position(|a| a == arm).unwrap_or(0),
            colour: arm_colour(run, arm),
            points,
            dashed,
        }
    }
}

/// The band of `arm`'s share `metric` in percent: its 95 % interval over replicates at each
/// step, kept within 0-100 %.
pub fn share_band(run: &Run, arm: &str, metric: Metric) -> Band {
    let points = run
        .curve_interval(arm, ALL, metric.name())
        .into_iter()
        .map(|(x, lo, hi)| (x, (100.0 * lo).max(0.0), (100.0 * hi).min(100.0)))
        .collect();
    Band {
        colour: arm_colour(run, arm),
        points,
    }
}

/// Markers along each line: this many per line, staggered between arms so that lines that
/// coincide (two arms with the same feed) still show every arm's marker.
const MARKERS: usize = 6;

/// A shaded band between two curves of an arm: (minutes, low, high).
pub struct Band {
    pub colour: RGBColor,
    pub points: Vec<(f64, f64, f64)>,
}

/// The most arms whose percentile bands a chart shades.
const MAX_BANDS: usize = 3;

/// The x axis of every chart over minutes.
pub const MINUTES: &str = "minutes of use (mean over viewers)";

/// The y axis of a chart over minutes.
pub struct YAxis<'a> {
    pub desc: &'a str,
    pub max: f64,
    pub format: &'a dyn Fn(&f64) -> String,
}

/// Draws `lines` and `bands` against minutes of use in `area`.
pub fn draw(area: &Area<'_>, y: &YAxis<'_>, lines: &[Line], bands: &[Band]) {
    let x_max = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(0.0, f64::max);
    let mut chart = style::axes(
        area,
        0.0..style::upper(x_max),
        0.0..y.max,
        MINUTES,
        y.desc,
        y.format,
    );
    for band in bands {
        let mut outline: Vec<(f64, f64)> = band.points.iter().map(|&(x, _, hi)| (x, hi)).collect();
        outline.extend(band.points.iter().rev().map(|&(x, lo, _)| (x, lo)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                band.colour.mix(0.14).filled(),
            )))
            .expect(style::DRAW);
    }
    for line in lines {
        if line.dashed {
            let stroke = line.colour.stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(line.points.iter().copied(), 7, 5, stroke))
                .expect(style::DRAW);
        } else {
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().copied(),
                    line.colour.stroke_width(3),
                ))
                .expect(style::DRAW);
        }
    }
    // Each arm's markers, over the lines, at its own fractions of the x axis.
    let mut ranks: Vec<usize> = lines.iter().map(|l| l.idx).collect();
    ranks.sort_unstable();
    ranks.dedup();
    for line in lines {
        let rank = ranks.iter().position(|&i| i == line.idx).unwrap_or(0);
        for k in 0..MARKERS {
            let x = x_max * (k as f64 + (rank as f64 + 0.5) / ranks.len() as f64) / MARKERS as f64;
            let nearest = line
                .points
                .iter()
                .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()));
            if let Some(&at) = nearest {
                style::marker(chart.plotting_area(), at, line.idx, line.colour);
            }
        }
    }
}

/// `feed-narrowing.svg`: mean `feed_entropy` per arm over minutes of use, with the band from
/// the 10th to the 90th percentile of viewers.
pub fn feed_narrowing(run: &Run) -> Option<String> {
    if !run.has_series(Metric::FeedEntropy.name()) {
        return None;
    }
    let mut lines = Vec::new();
    let mut bands = Vec::new();
    for arm in &run.arms {
        let points = run.curve(arm, ALL, Metric::FeedEntropy.name());
        if points.is_empty() {
            continue;
        }
        let p10 = run.curve(arm, ALL, Metric::FeedEntropyP10.name());
        let p90 = run.curve(arm, ALL, Metric::FeedEntropyP90.name());
        if !p10.is_empty() && p10.len() == p90.len() {
            let points = p10.iter().zip(&p90).map(|(lo, hi)| (lo.0, lo.1, hi.1)).collect();
            bands.push(Band {
                colour: arm_colour(run, arm),
                points,
            });
        }
        lines.push(Line::new(run, arm, points, false));
    }
    if lines.is_empty() {
        return None;
    }
    let window = run.window().map_or("the last impressions".to_string(), |w| {
        format!("the last {w} impressions")
    });
    // Past a few arms the bands hide each other and the lines: leave them to the CSV.
    let band = if bands.is_empty() {
        String::new()
    } else if lines.len() > MAX_BANDS {
        bands.clear();
        format!(
            " With more than {MAX_BANDS} arms the 10th-90th percentile bands are left out (columns feed_entropy_p10 and feed_entropy_p90 of timeseries.csv)."
        )
    } else {
        " The shaded band runs from the 10th to the 90th percentile of viewers.".to_string()
    };
    let frame = Frame {
        title: "Feed narrowing over minutes of use",
        legend: style::arm_legend(run, &arms_of(&lines)),
        note: format!(
            "Line: mean over viewers of the topic entropy of {window} (1 = spread evenly over all topics, 0 = a single topic), averaged over replicates; it starts once viewers have seen that many.{band}"
        ),
    };
    let y = YAxis {
        desc: "feed entropy (0 = one topic, 1 = all evenly)",
        max: 1.0,
        format: &style::tick,
    };
    Some(style::render(run, &frame, |area| draw(area, &y, &lines, &bands)))
}

/// `rabbit-hole.svg`: the share of viewers in a rabbit hole now (solid) and ever so far
/// (dashed), per arm over minutes of use.
pub fn rabbit_hole(run: &Run) -> Option<String> {
    if !run.has_series(Metric::InRabbitHole.name()) {
        return None;
    }
    let (mut lines, mut bands) = (Vec::new(), Vec::new());
    for arm in &run.arms {
        for (metric, dashed) in [(Metric::InRabbitHole, false), (Metric::RabbitHoleEver, true)] {
            let points: Vec<Point> = run
                .curve(arm, ALL, metric.name())
                .into_iter()
                .map(|(x, y)| (x, 100.0 * y))
                .collect();
            if !points.is_empty() {
                lines.push(Line::new(run, arm, points, dashed));
                bands.push(share_band(run, arm, metric));
            }
        }
    }
    if lines.is_empty() {
        return None;
    }
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let mut legend = style::arm_legend(run, &arms_of(&lines));
    let threshold = run
        .manifest_field("/scenario/metrics/rabbit_hole_threshold")
        .and_then(|v| v.as_f64())
        .map_or("most".to_string(), |t| format!("at least {:.0} %", 100.0 * t));
    let window = run
        .window()
        .map_or(String::new(), |w| format!(" of their last {w} impressions"));
    let ever = lines.iter().any(|l| l.dashed);
    if ever {
        legend.push((Swatch::Line(style::MUTED), "in a rabbit hole now".into()));
        legend.push((Swatch::Dashed(style::MUTED), "ever so far".into()));
    }
    let frame = Frame {
        title: "Viewers in a rabbit hole over minutes of use",
        legend,
        note: format!(
            "A viewer is in a rabbit hole when {threshold}{window} come from one topic. Share of all viewers, averaged over replicates; shaded: its 95 % interval over replicates. Markers, staggered between arms, show lines that coincide.{}",
            if ever {
                " Dashed: share who have been in one at some point so far."
            } else {
                ""
            }
        ),
    };
    let y = YAxis {
        desc: "viewers in a rabbit hole (%)",
        max: style::upper(top.max(10.0)).min(100.0),
        format: &style::percent,
    };
    Some(style::render(run, &frame, |area| draw(area, &y, &lines, &bands)))
}

/// The arms that have a line, in order, each once.
pub fn arms_of(lines: &[Line]) -> Vec<String> {
    let mut arms: Vec<String> = Vec::new();
    for l in lines {
        if !arms.contains(&l.arm) {
            arms.push(l.arm.clone());
        }
    }
    arms
}
