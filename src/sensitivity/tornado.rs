//! The tornado chart of one output: for each parameter (the ten of widest swing), the mean
//! output over the evaluations with the parameter in the low third of its range and in the
//! high third, as bars from the mean over all evaluations, with the zero line: a bar that
//! crosses zero is an assumption that moves the comparison across a reversal.

use crate::plot::{Area, DRAW, Frame, INK, MUTED, Swatch, colour, font, render_with, tick};
use plotters::prelude::*;

/// One parameter's swing: its name and the mean output at the low and the high third.
pub struct Swing {
    pub parameter: String,
    pub low: f64,
    pub high: f64,
}

/// Most parameters a chart shows.
const SHOWN: usize = 10;

/// The chart of `title`, `swings` in any order, `centre` the mean over all evaluations.
pub fn svg(title: &str, subtitle: &str, unit: &str, centre: f64, swings: &[Swing]) -> Vec<u8> {
    let mut shown: Vec<&Swing> = swings
        .iter()
        .filter(|s| s.low.is_finite() && s.high.is_finite())
        .collect();
    shown.sort_by(|a, b| (b.high - b.low).abs().total_cmp(&(a.high - a.low).abs()));
    shown.truncate(SHOWN);
    let frame = Frame {
        title,
        legend: vec![
            (
                Swatch::Block(colour(0)),
                "parameter in the low third of its range".to_string(),
            ),
            (Swatch::Block(colour(1)), "in the high third".to_string()),
        ],
        note: format!(
            "Each bar runs from the mean over all evaluations ({}) to the mean over those with the \
             parameter in that third of its range; the black line is zero, so a bar that crosses it \
             marks an assumption under which the sign can change. Widest swings first.",
            tick(&centre)
        ),
    };
    render_with(subtitle, &frame, |area| draw(area, unit, centre, &shown)).into_bytes()
}

fn draw(area: &Area<'_>, unit: &str, centre: f64, shown: &[&Swing]) {
    let n = shown.len().max(1) as f64;
    let (mut lo, mut hi) = (centre.min(0.0), centre.max(0.0));
    for s in shown {
        lo = lo.min(s.low.min(s.high));
        hi = hi.max(s.low.max(s.high));
    }
    let pad = ((hi - lo) * 0.08).max(1e-9);
    let names: Vec<String> = shown.iter().map(|s| s.parameter.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .margin_left(12)
        .margin_right(28)
        .margin_top(10)
        .x_label_area_size(46)
        .y_label_area_size(300)
        .build_cartesian_2d(lo - pad..hi + pad, 0.0..n)
        .expect(DRAW);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(unit)
        .axis_desc_style(font(14.0))
        .label_style(font(12.0))
        .x_label_formatter(&|v| tick(v))
        .y_labels(shown.len().max(1) * 2 + 1)
        .y_label_formatter(&|y| {
            // Labels at the middle of each bar, the widest swing on top.
            let slot = n - y - 0.5;
            let i = slot.round();
            if (slot - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .light_line_style(WHITE)
        .axis_style(MUTED)
        .draw()
        .expect(DRAW);
    for (i, s) in shown.iter().enumerate() {
        let y = n - i as f64;
        for (end, c) in [(s.low, colour(0)), (s.high, colour(1))] {
            chart
                .draw_series([Rectangle::new(
                    [(centre, y - 0.8), (end, y - 0.2)],
                    c.mix(0.85).filled(),
                )])
                .expect(DRAW);
        }
    }
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (0.0, n)], INK.stroke_width(2)))
        .expect(DRAW);
    chart
        .draw_series(LineSeries::new([(centre, 0.0), (centre, n)], MUTED))
        .expect(DRAW);
}
