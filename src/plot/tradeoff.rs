//! `tradeoff.svg`: the engagement/diversity trade-off, one point per arm at its mean
//! `feed_entropy` and mean `watch_minutes` at the end of the run, with 95 % interval whiskers
//! from `summary.csv`, each point labelled with its arm beside it, clear of every point, whisker
//! and label ([`place_labels`]; a point and its whiskers are a cross, so a label can sit in a
//! quarter of it), boxes as wide as the bold text set in the bundled font; the entropy axis is
//! zoomed to the arms.

use super::data::{ALL, Estimate, Run};
use super::style::{self, Area, Frame, arm_colour};
use crate::metrics::Metric;
use plotters::prelude::*;

/// One arm's point.
struct Arm {
    name: String,
    /// Its place among the run's arms: its marker.
    idx: usize,
    colour: RGBColor,
    entropy: Estimate,
    watch: Estimate,
}

/// The trade-off chart, when `summary.csv` has both metrics for some arm.
pub fn tradeoff(run: &Run) -> Option<String> {
    render(run).map(|(svg, _)| svg)
}

/// Where the trade-off chart of `run` puts each arm's point (with its whiskers) and its label,
/// in pixels: what a test checks for overlaps; empty when the chart does not apply.
pub fn layout(run: &Run) -> Layout {
    render(run).map(|(_, layout)| layout).unwrap_or_default()
}

/// The boxes of a trade-off chart, in pixels.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Each point with its whiskers, as two bars per arm drawn (its horizontal whisker and its
    /// vertical one, each 5 pixels either side of the line, both holding the marker).
    pub points: Vec<Rect>,
    /// Each label; `None` when no free place was found.
    pub labels: Vec<Option<Rect>>,
}

/// The chart and its layout.
fn render(run: &Run) -> Option<(String, Layout)> {
    let arms: Vec<Arm> = run
        .arms
        .iter()
        .enumerate()
        .filter_map(|(idx, a)| {
            Some(Arm {
                name: a.clone(),
                idx,
                colour: arm_colour(run, a),
                entropy: run.estimate(a, ALL, Metric::FeedEntropy.name())?,
                watch: run.estimate(a, ALL, Metric::WatchMinutes.name())?,
            })
        })
        .collect();
    if arms.is_empty() {
        return None;
    }
    let names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
    let frame = Frame {
        title: "Engagement against feed diversity, per arm",
        legend: style::arm_legend(run, &names),
        note: "Each point: an arm at the end of the run, mean over replicates of the viewers' mean; whiskers: 95 % interval over replicates. Up is more minutes watched (what an engagement-optimising feed maximises); right is a more varied feed.".to_string(),
    };
    let mut layout = Layout::default();
    let svg = style::render(run, &frame, |area| layout = draw(area, &arms));
    Some((svg, layout))
}

/// Draws the axes, each arm's point with its whiskers, and the labels where
/// [`place_labels`] puts them; returns where points and labels are.
fn draw(area: &Area<'_>, arms: &[Arm]) -> Layout {
    let y_max = arms.iter().map(|a| a.watch.hi()).fold(0.0, f64::max);
    // Entropy zoomed to the arms (with a margin), so close arms do not merge into one blob;
    // minutes from 0, where a feed that holds no one would be.
    let x_lo = arms.iter().map(|a| a.entropy.lo()).fold(1.0, f64::min);
    let x_hi = arms.iter().map(|a| a.entropy.hi()).fold(0.0, f64::max);
    let pad = (0.15 * (x_hi - x_lo)).max(0.02);
    let chart = style::axes(
        area,
        (x_lo - pad).max(0.0)..(x_hi + pad).min(1.0),
        0.0..style::upper(y_max),
        "feed entropy at the end (0 = one topic, 1 = all topics evenly)",
        "minutes watched per viewer",
        &style::tick,
    );
    for arm in arms {
        draw_point(area, &chart, arm);
    }
    // Labels in pixels beside their points, clear of every point, whisker and label. A point
    // and its whiskers form a cross, not a box: with two replicates an interval can span the
    // whole chart, and the quarters between the arms of the cross are still free.
    let (x_range, y_range) = chart.plotting_area().get_pixel_range();
    let bars: Vec<[Rect; 2]> = arms.iter().map(|arm| cross(&chart, arm)).collect();
    let sizes: Vec<(i32, i32)> = arms
        .iter()
        .map(|a| (style::bold_text_width(&a.name, 14.0) * 11 / 10, 17))
        .collect();
    let points: Vec<(i32, i32)> = arms
        .iter()
        .map(|a| chart.backend_coord(&(a.entropy.mean, a.watch.mean)))
        .collect();
    let bounds = Rect {
        x0: x_range.start,
        y0: y_range.start,
        x1: x_range.end,
        y1: y_range.end,
    };
    let labels = place_labels(&bars, &points, &sizes, bounds);
    for ((arm, &label), &point) in arms.iter().zip(&labels).zip(&points) {
        if let Some(label) = label {
            draw_label(area, arm, label, point);
        }
    }
    Layout {
        points: bars.into_iter().flatten().collect(),
        labels,
    }
}

/// Draws an arm's point, its whiskers over it (so short intervals still show) and their caps.
fn draw_point(area: &Area<'_>, chart: &style::Chart<'_, '_>, arm: &Arm) {
    let plot = chart.plotting_area();
    let (x, y) = (arm.entropy.mean, arm.watch.mean);
    let stroke = arm.colour.stroke_width(2);
    style::marker(plot, (x, y), arm.idx, arm.colour);
    let whiskers = [
        vec![(arm.entropy.lo(), y), (arm.entropy.hi(), y)],
        vec![(x, arm.watch.lo()), (x, arm.watch.hi())],
    ];
    for w in whiskers {
        plot.draw(&PathElement::new(w, stroke)).expect(style::DRAW);
    }
    let (px, py) = chart.backend_coord(&(x, y));
    let (lo_x, _) = chart.backend_coord(&(arm.entropy.lo(), y));
    let (hi_x, _) = chart.backend_coord(&(arm.entropy.hi(), y));
    let (_, lo_y) = chart.backend_coord(&(x, arm.watch.lo()));
    let (_, hi_y) = chart.backend_coord(&(x, arm.watch.hi()));
    let base = area.get_base_pixel();
    let mut caps = Vec::new();
    if arm.entropy.interval.is_some() {
        caps.extend([[(lo_x, py - 3), (lo_x, py + 3)], [(hi_x, py - 3), (hi_x, py + 3)]]);
    }
    if arm.watch.interval.is_some() {
        caps.extend([[(px - 3, lo_y), (px + 3, lo_y)], [(px - 3, hi_y), (px + 3, hi_y)]]);
    }
    // A whisker is clipped to the plotting area; its cap is drawn only where the whisker
    // ends inside it (an interval can reach past the axis, e.g. below 0 minutes).
    let (xs, ys) = plot.get_pixel_range();
    let inside = |x: i32, y: i32| xs.contains(&x) && (ys.start..=ys.end).contains(&y);
    for [(x0, y0), (x1, y1)] in caps {
        if !inside((x0 + x1) / 2, (y0 + y1) / 2) {
            continue;
        }
        let cap = vec![(x0 - base.0, y0 - base.1), (x1 - base.0, y1 - base.1)];
        area.draw(&PathElement::new(cap, stroke)).expect(style::DRAW);
    }
}

/// An arm's point with its whiskers, in pixels, as two bars: its horizontal whisker and its
/// vertical one, each 5 pixels either side of the line, both holding the marker.
fn cross(chart: &style::Chart<'_, '_>, arm: &Arm) -> [Rect; 2] {
    let (px, py) = chart.backend_coord(&(arm.entropy.mean, arm.watch.mean));
    let (x0, y0) = chart.backend_coord(&(arm.entropy.lo(), arm.watch.hi()));
    let (x1, y1) = chart.backend_coord(&(arm.entropy.hi(), arm.watch.lo()));
    let across = Rect {
        x0: x0.min(px) - 5,
        y0: py - 5,
        x1: x1.max(px) + 5,
        y1: py + 5,
    };
    let along = Rect {
        x0: px - 5,
        y0: y0.min(py) - 5,
        x1: px + 5,
        y1: y1.max(py) + 5,
    };
    [across, along]
}

/// Draws an arm's label in its place (`label`, in pixels) beside its point (`(px, py)`).
fn draw_label(area: &Area<'_>, arm: &Arm, label: Rect, (px, py): (i32, i32)) {
    let base = area.get_base_pixel();
    // A label that could not sit beside its point is tied to it by a thin line, from the
    // point to the label's nearest edge. One level with its point, at the end of its
    // horizontal whisker, reads as the point's without a line.
    let (cx, cy) = ((label.x0 + label.x1) / 2, (label.y0 + label.y1) / 2);
    let level = (cy - py).abs() <= 1;
    if !level && ((cx - px).abs() > label.x1 - label.x0 || (cy - py).abs() > 40) {
        let end = (px.clamp(label.x0, label.x1), py.clamp(label.y0, label.y1));
        let line = vec![(px - base.0, py - base.1), (end.0 - base.0, end.1 - base.1)];
        area.draw(&PathElement::new(line, arm.colour.mix(0.6).stroke_width(1)))
            .expect(style::DRAW);
    }
    style::draw_text(
        area,
        &arm.name,
        (label.x0 - base.0, label.y0 - base.1),
        &style::bold(14.0).color(&arm.colour),
    );
}

/// Places each point's label (of `sizes`, in pixels) inside `bounds`, clear of every point's
/// cross (`bars`: the point with its horizontal and vertical whiskers) and of the labels placed
/// before it: first beside the cross, right or left, then in a quarter between the cross's
/// arms next to the point, then above or below the cross, then at the free place nearest to
/// the point. None only when no place in `bounds` is free.
fn place_labels(
    bars: &[[Rect; 2]],
    points: &[(i32, i32)],
    sizes: &[(i32, i32)],
    bounds: Rect,
) -> Vec<Option<Rect>> {
    let mut taken: Vec<Rect> = bars.iter().flatten().copied().collect();
    let mut placed = Vec::with_capacity(points.len());
    for (([across, along], &(px, py)), &(w, h)) in bars.iter().zip(points).zip(sizes) {
        let own = Rect {
            x0: across.x0.min(along.x0),
            y0: across.y0.min(along.y0),
            x1: across.x1.max(along.x1),
            y1: across.y1.max(along.y1),
        };
        let mut candidates = vec![(own.x1 + 4, py - h / 2), (own.x0 - 4 - w, py - h / 2)];
        let (right, left, above, below) = (along.x1 + 3, along.x0 - 3 - w, across.y0 - 3 - h, across.y1 + 3);
        candidates.extend([(right, above), (right, below), (left, above), (left, below)]);
        for k in 0..6 {
            let (up, down) = (own.y0 - h - 18 * k, own.y1 + 18 * k);
            candidates.extend([(px + 4, up), (px + 4, down), (px - 4 - w, up), (px - 4 - w, down)]);
        }
        let rect = |(x, y): (i32, i32)| Rect {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
        };
        let inside =
            |r: &Rect| r.x0 >= bounds.x0 && r.x1 <= bounds.x1 && r.y0 >= bounds.y0 && r.y1 <= bounds.y1;
        let free = |r: &Rect| inside(r) && !taken.iter().any(|t| t.overlaps(r));
        let beside = candidates.into_iter().map(rect).find(|r| free(r));
        // Else the free place nearest to the point, on a grid of 4 pixels.
        let nearest = || {
            (bounds.y0..=bounds.y1 - h)
                .step_by(4)
                .flat_map(|y| (bounds.x0..=bounds.x1 - w).step_by(4).map(move |x| (x, y)))
                .map(rect)
                .filter(|r| free(r))
                .min_by_key(|r| {
                    let (dx, dy) = ((r.x0 + r.x1) / 2 - px, (r.y0 + r.y1) / 2 - py);
                    dx * dx + dy * dy
                })
        };
        let label = beside.or_else(nearest);
        if let Some(l) = label {
            taken.push(l);
        }
        placed.push(label);
    }
    placed
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    /// Whether the two rectangles share any area (touching edges do not).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: i32, y: i32) -> Rect {
        Rect {
            x0: x - 5,
            y0: y - 5,
            x1: x + 5,
            y1: y + 5,
        }
    }

    /// The worst case, every arm at one point (as in ampliganda, where boosts move the point
    /// by less than a pixel), and eight arms close together (dsa_alternatives), on a small
    /// chart: no label overlaps another label or any point.
    #[test]
    fn labels_never_overlap_each_other_or_the_points() {
        let bounds = Rect {
            x0: 0,
            y0: 0,
            x1: 320,
            y1: 120,
        };
        let same: Vec<(i32, i32)> = vec![(160, 60); 12];
        let close: Vec<(i32, i32)> = (0..8).map(|i| (150 + 3 * i, 50 + 2 * (i % 3))).collect();
        let corner: Vec<(i32, i32)> = (0..5).map(|i| (310, 5 + i)).collect();
        for points in [same, close, corner] {
            let boxes: Vec<Rect> = points.iter().map(|&(x, y)| square(x, y)).collect();
            let bars: Vec<[Rect; 2]> = boxes.iter().map(|&b| [b, b]).collect();
            let sizes: Vec<(i32, i32)> = (0..points.len()).map(|i| (40 + 5 * i as i32, 17)).collect();
            let labels: Vec<Rect> = place_labels(&bars, &points, &sizes, bounds)
                .into_iter()
                .map(|l| l.expect("a free place"))
                .collect();
            for (i, a) in labels.iter().enumerate() {
                assert!(a.x0 >= 0 && a.x1 <= 320 && a.y0 >= 0 && a.y1 <= 120, "{a:?}");
                assert!(!boxes.iter().any(|b| b.overlaps(a)), "label {i} on a point");
                for b in &labels[i + 1..] {
                    assert!(!a.overlaps(b), "{a:?} and {b:?} overlap");
                }
            }
        }
    }

    /// Whiskers as long as the chart (two replicates of a tiny run): their bounding boxes
    /// cover everything, but a label still finds a place in a quarter of its cross, clear of
    /// every bar and of the other labels.
    #[test]
    fn whiskers_across_the_whole_chart_leave_the_quarters_free() {
        let bounds = Rect {
            x0: 0,
            y0: 0,
            x1: 320,
            y1: 120,
        };
        let points = [(60, 20), (160, 60), (260, 100)];
        let bars: Vec<[Rect; 2]> = points
            .iter()
            .map(|&(x, y)| {
                let across = Rect {
                    x0: -10,
                    y0: y - 5,
                    x1: 330,
                    y1: y + 5,
                };
                let along = Rect {
                    x0: x - 5,
                    y0: -10,
                    x1: x + 5,
                    y1: 130,
                };
                [across, along]
            })
            .collect();
        let sizes = [(60, 17); 3];
        let labels: Vec<Rect> = place_labels(&bars, &points, &sizes, bounds)
            .into_iter()
            .map(|l| l.expect("a free place"))
            .collect();
        for (i, (a, &(px, py))) in labels.iter().zip(&points).enumerate() {
            assert!(a.x0 >= 0 && a.x1 <= 320 && a.y0 >= 0 && a.y1 <= 120, "{a:?}");
            assert!(
                !bars.iter().flatten().any(|b| b.overlaps(a)),
                "label {i} on a whisker"
            );
            assert!(
                labels[i + 1..].iter().all(|b| !a.overlaps(b)),
                "label {i} overlaps"
            );
            // Next to its own point, within a label's size.
            let (cx, cy) = ((a.x0 + a.x1) / 2, (a.y0 + a.y1) / 2);
            assert!(
                (cx - px).abs() <= 60 && (cy - py).abs() <= 30,
                "label {i} at {a:?}"
            );
        }
    }
}
