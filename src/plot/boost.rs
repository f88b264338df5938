//! `boosted.svg`: exposure to the boost's target set. On the left, `boosted_share` per arm
//! over minutes of use; on the right, each arm's `amplification_ratio` (its boosted share over
//! the baseline arm's, Huszar et al. 2022) with its 95 % interval. Drawn only when the files
//! have these columns and some arm was shown boosted content.

use super::bars::{self, Bar, Cluster};
use super::data::{ALL, Point, Run};
use super::lines::{self, Line};
use super::style::{self, Frame, arm_colour};
use crate::metrics::Metric;

/// The boosted-exposure chart, when it applies.
pub fn boosted(run: &Run) -> Option<String> {
    let lines: Vec<Line> = run
        .arms
        .iter()
        .map(|a| {
            let points = run
                .curve(a, ALL, Metric::BoostedShare.name())
                .into_iter()
                .map(|(x, y)| (x, 100.0 * y))
                .collect::<Vec<Point>>();
            Line::new(run, a, points, false)
        })
        .filter(|l| !l.points.is_empty())
        .collect();
    let ratios: Vec<Cluster> = run
        .arms
        .iter()
        .filter_map(|a| {
            Some(Cluster {
                label: a.clone(),
                bars: vec![Bar {
                    colour: arm_colour(run, a),
                    estimate: run.estimate(a, ALL, Metric::AmplificationRatio.name())?,
                }],
            })
        })
        .collect();
    let shown = lines.iter().flat_map(|l| &l.points).any(|p| p.1 > 0.0)
        || run
            .arms
            .iter()
            .filter_map(|a| run.estimate(a, ALL, Metric::BoostedShare.name()))
            .any(|e| e.mean > 0.0);
    if !shown {
        return None;
    }
    let baseline = run
        .manifest_field("/scenario/scenario/baseline")
        .and_then(|v| v.as_str())
        .map_or("the baseline arm".to_string(), |b| {
            format!("the baseline arm ({b})")
        });
    let mut note = "Left: share of impressions from the boost's target set (measured in every arm, boosted or not), mean over viewers, averaged over replicates; shaded: its 95 % interval over replicates.".to_string();
    if !ratios.is_empty() {
        note.push_str(&format!(
            " Right: amplification ratio at the end of the run, each arm's boosted share divided by {baseline}'s (1 = no amplification); whiskers: 95 % interval over replicates."
        ));
    }
    let frame = Frame {
        title: "Exposure to boosted content and its amplification",
        legend: style::arm_legend(run, &run.arms),
        note,
    };
    let top = lines
        .iter()
        .flat_map(|l| &l.points)
        .map(|p| p.1)
        .fold(0.0, f64::max);
    Some(style::render(run, &frame, |area| {
        let (left, right) = if ratios.is_empty() || lines.is_empty() {
            (area.clone(), None)
        } else {
            let (l, r) = area.split_horizontally(style::WIDTH as i32 * 58 / 100);
            (l, Some(r))
        };
        if !lines.is_empty() {
            let y = lines::YAxis {
                desc: "impressions from the boosted set (%)",
                max: style::upper(top),
                format: &style::percent,
            };
            let bands: Vec<lines::Band> = lines
                .iter()
                .map(|l| lines::share_band(run, &l.arm, Metric::BoostedShare))
                .collect();
            lines::draw(&left, &y, &lines, &bands);
        }
        if !ratios.is_empty() {
            let ratio_format = |v: &f64| format!("{v:.1}");
            let y = bars::YAxis {
                desc: "amplification ratio (x baseline)",
                format: &ratio_format,
                value: &|v| format!("{v:.2}"),
                rule: Some(1.0),
            };
            bars::draw(right.as_ref().unwrap_or(&left), &ratios, "arm", &y);
        }
    }))
}
