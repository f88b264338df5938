//! `tradeoff.svg`: the engagement/diversity trade-off, one point per arm at its mean
//! `feed_entropy` and mean `watch_minutes` at the end of the run, with 95 % interval whiskers
//! from `summary.csv`, each point labelled with its arm.

use super::data::{ALL, Estimate, Run};
use super::style::{self, Area, Frame, arm_colour};
use crate::metrics::Metric;
use plotters::prelude::*;

/// One arm's point.
struct Arm {
    name: String,
    colour: RGBColor,
    entropy: Estimate,
    watch: Estimate,
}

/// The trade-off chart, when `summary.csv` has both metrics for some arm.
pub fn tradeoff(run: &Run) -> Option<String> {
    let arms: Vec<Arm> = run
        .arms
        .iter()
        .filter_map(|a| {
            Some(Arm {
                name: a.clone(),
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
    Some(style::render(run, &frame, |area| draw(area, &arms)))
}

fn draw(area: &Area<'_>, arms: &[Arm]) {
    let y_max = arms.iter().map(|a| a.watch.hi()).fold(0.0, f64::max);
    let chart = style::axes(
        area,
        0.0..1.0,
        0.0..style::upper(y_max),
        "feed entropy at the end (0 = one topic, 1 = all topics evenly)",
        "minutes watched per viewer",
        &style::tick,
    );
    let plot = chart.plotting_area();
    for arm in arms {
        let (x, y) = (arm.entropy.mean, arm.watch.mean);
        let stroke = arm.colour.stroke_width(2);
        plot.draw(&Circle::new((x, y), 4, arm.colour.filled()))
            .expect(style::DRAW);
        // Whiskers with caps, drawn over the point so short intervals still show.
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
        for [(x0, y0), (x1, y1)] in caps {
            let cap = vec![(x0 - base.0, y0 - base.1), (x1 - base.0, y1 - base.1)];
            area.draw(&PathElement::new(cap, stroke)).expect(style::DRAW);
        }
    }
    // Labels in pixels beside their points, clear of every point, whisker and label.
    let base = area.get_base_pixel();
    let (x_range, y_range) = chart.plotting_area().get_pixel_range();
    let boxes: Vec<Rect> = arms
        .iter()
        .map(|arm| {
            let (x0, y0) = chart.backend_coord(&(arm.entropy.lo(), arm.watch.hi()));
            let (x1, y1) = chart.backend_coord(&(arm.entropy.hi(), arm.watch.lo()));
            Rect {
                x0: x0 - 5,
                y0: y0 - 5,
                x1: x1 + 5,
                y1: y1 + 5,
            }
        })
        .collect();
    let mut taken = boxes.clone();
    for (arm, own) in arms.iter().zip(&boxes) {
        let (px, py) = chart.backend_coord(&(arm.entropy.mean, arm.watch.mean));
        let (w, h) = (style::text_width(&arm.name, 14.0) * 11 / 10, 17);
        let mut candidates = vec![(own.x1 + 4, py - h / 2), (own.x0 - 4 - w, py - h / 2)];
        for k in 0..6 {
            let (up, down) = (own.y0 - h - 18 * k, own.y1 + 18 * k);
            candidates.extend([(px + 4, up), (px + 4, down), (px - 4 - w, up), (px - 4 - w, down)]);
        }
        let inside = |r: &Rect| {
            r.x0 >= x_range.start && r.x1 <= x_range.end && r.y0 >= y_range.start && r.y1 <= y_range.end
        };
        let rects: Vec<Rect> = candidates
            .into_iter()
            .map(|(x, y)| Rect {
                x0: x,
                y0: y,
                x1: x + w,
                y1: y + h,
            })
            .filter(inside)
            .collect();
        let Some(label) = rects
            .iter()
            .find(|r| !taken.iter().any(|t| t.overlaps(r)))
            .or(rects.first())
            .copied()
        else {
            continue;
        };
        taken.push(label);
        style::draw_text(
            area,
            &arm.name,
            (label.x0 - base.0, label.y0 - base.1),
            &style::bold(14.0).color(&arm.colour),
        );
    }
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl Rect {
    fn overlaps(&self, other: &Rect) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }
}
