//! The charts and report of a sweep directory, drawn from `sweep.csv` (and `sweep.json`
//! when present): each headline metric against each swept key, one line per arm through the
//! grid's points with its 95 % interval band and a marker at each point, and `report.html`,
//! a page with every chart, the grid and a link to each point's own report.
//!
//! With two or more swept keys, a chart against one key has a line per arm and per value of
//! the other keys: the arm sets the colour and the marker, the other keys' values the dash.
//! A key whose values are all numbers is a numeric axis; any other key is one tick per value
//! in grid order.

use super::PlotError;
use super::data::{ALL, Estimate, Table};
use super::labels;
use super::report::esc;
use super::style::{self, Area, Frame, Swatch};
use crate::metrics::Metric;
use plotters::prelude::*;
use std::fmt::Write as _;

/// The metrics a sweep charts: those of the terminal's headline table.
const HEADLINE: [Metric; 5] = [
    Metric::WatchMinutes,
    Metric::FeedEntropy,
    Metric::InRabbitHole,
    Metric::RabbitHoleEver,
    Metric::InterestDrift,
];

/// A sweep directory's table and grid, as the charts read them.
pub struct Sweep {
    /// The scenario's name (`sweep.json`'s, else the directory's).
    pub name: String,
    /// The scenario's description; empty when none.
    pub description: String,
    /// The swept keys, in grid order.
    pub keys: Vec<String>,
    /// Each key's values in the order the points give them.
    pub values: Vec<Vec<String>>,
    /// Arms in the order `sweep.csv` gives them.
    pub arms: Vec<String>,
    /// Point directories, in order.
    pub points: Vec<String>,
    pub table: Table,
}

impl Sweep {
    /// Reads `sweep.csv` and, when given, `sweep.json`; without it, the swept keys are the
    /// columns between `point` and `arm`.
    pub fn parse(csv: &[u8], manifest: Option<&[u8]>, fallback_name: &str) -> Result<Sweep, PlotError> {
        let table = Table::parse("sweep.csv", csv)?;
        let manifest: Option<serde_json::Value> = manifest
            .map(|b| serde_json::from_slice(b).map_err(|e| PlotError::Manifest(e.to_string())))
            .transpose()?;
        for column in ["point", "arm"] {
            if table.col(column).is_none() {
                return Err(PlotError::MissingColumn {
                    file: "sweep.csv".to_string(),
                    column: column.to_string(),
                });
            }
        }
        let from_manifest = manifest
            .as_ref()
            .and_then(|m| m.get("grid")?.as_array().cloned())
            .map(|axes| {
                axes.iter()
                    .filter_map(|a| a.get("key")?.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            });
        let keys = from_manifest.unwrap_or_else(|| {
            let (p, a) = (table.col("point").unwrap_or(0), table.col("arm").unwrap_or(0));
            table.header().get(p + 1..a).unwrap_or_default().to_vec()
        });
        let scenario = |field: &str| {
            manifest
                .as_ref()
                .and_then(|m| m.pointer(&format!("/scenario/scenario/{field}"))?.as_str())
                .map(str::to_string)
        };
        let (mut values, mut arms, mut points) = (vec![Vec::new(); keys.len()], Vec::new(), Vec::new());
        for row in table.rows() {
            for (key, seen) in keys.iter().zip(&mut values) {
                push_new(seen, table.get(row, key).unwrap_or_default());
            }
            push_new(&mut arms, table.get(row, "arm").unwrap_or_default());
            push_new(&mut points, table.get(row, "point").unwrap_or_default());
        }
        Ok(Sweep {
            name: scenario("name").unwrap_or_else(|| fallback_name.to_string()),
            description: scenario("description").unwrap_or_default(),
            keys,
            values,
            arms,
            points,
            table,
        })
    }

    /// The rows for all viewers.
    fn all_rows(&self) -> impl Iterator<Item = &csv::StringRecord> {
        self.table
            .rows()
            .iter()
            .filter(|r| self.table.get(r, "cohort").unwrap_or(ALL) == ALL)
    }

    /// `metric`'s estimate in `row`.
    fn estimate(&self, row: &csv::StringRecord, metric: &str) -> Option<Estimate> {
        let mean = self.table.num(row, &format!("{metric}_mean"))?;
        let lo = self.table.num(row, &format!("{metric}_lo"));
        let hi = self.table.num(row, &format!("{metric}_hi"));
        Some(Estimate {
            mean,
            interval: lo.zip(hi),
        })
    }

    /// The headline metrics some point has a non-zero value of.
    pub fn metrics(&self) -> Vec<&'static str> {
        HEADLINE
            .iter()
            .map(|m| m.name())
            .filter(|m| {
                self.all_rows()
                    .any(|r| self.estimate(r, m).is_some_and(|e| e.mean != 0.0))
            })
            .collect()
    }

    /// Whether every value of key `k` is a number.
    fn numeric(&self, k: usize) -> bool {
        self.values[k]
            .iter()
            .all(|v| v.parse::<f64>().is_ok_and(f64::is_finite))
    }

    /// Where value `v` of key `k` sits on the x axis: the number, or its place in grid order.
    fn x(&self, k: usize, v: &str) -> Option<f64> {
        if self.numeric(k) {
            v.parse().ok()
        } else {
            self.values[k].iter().position(|x| x == v).map(|i| i as f64)
        }
    }

    /// The subtitle of every chart.
    fn subtitle(&self) -> String {
        format!(
            "sweep of scenario {} \u{b7} {}",
            self.name,
            crate::output::count(self.points.len() as u64, "point")
        )
    }
}

fn push_new(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

/// One line of a sweep chart: an arm at one combination of the other keys' values.
struct Line {
    arm: usize,
    /// Which combination of the other keys' values (0 when there are none), and its label.
    other: usize,
    other_label: String,
    /// (x, estimate), by x.
    points: Vec<(f64, Estimate)>,
}

/// The lines of `metric` against key `k`.
fn lines(sweep: &Sweep, k: usize, metric: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for row in sweep.all_rows() {
        let arm = sweep.table.get(row, "arm").unwrap_or_default();
        let arm = sweep.arms.iter().position(|a| a == arm).unwrap_or(0);
        let Some(x) = sweep.x(k, sweep.table.get(row, &sweep.keys[k]).unwrap_or_default()) else {
            continue;
        };
        let Some(e) = sweep.estimate(row, metric) else {
            continue;
        };
        let label = sweep
            .keys
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != k)
            .map(|(_, key)| format!("{key}={}", sweep.table.get(row, key).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", ");
        push_new(&mut others, &label);
        let other = others.iter().position(|o| *o == label).unwrap_or(0);
        match lines.iter_mut().find(|l| l.arm == arm && l.other == other) {
            Some(line) => line.points.push((x, e)),
            None => lines.push(Line {
                arm,
                other,
                other_label: label,
                points: vec![(x, e)],
            }),
        }
    }
    for line in &mut lines {
        line.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    lines
}

/// The file name of the chart of `metric` against `key`.
pub fn chart_file(metric: &str, key: &str) -> String {
    let key: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("sweep-{metric}-by-{key}.svg")
}

/// The chart of `metric` against key `k`, when some point has a value.
pub fn chart(sweep: &Sweep, k: usize, metric: &str) -> Option<String> {
    let lines = lines(sweep, k, metric);
    if lines.is_empty() {
        return None;
    }
    let (label, unit) = labels::describe(metric);
    let scale = if unit == Some(labels::Unit::Share) {
        100.0
    } else {
        1.0
    };
    let mut legend: Vec<(Swatch, String)> = Vec::new();
    for (i, arm) in sweep.arms.iter().enumerate() {
        if lines.iter().any(|l| l.arm == i) {
            legend.push((Swatch::Marked(style::colour(i), i), arm.clone()));
        }
    }
    let mut others: Vec<(usize, &str)> = lines.iter().map(|l| (l.other, l.other_label.as_str())).collect();
    others.sort_unstable();
    others.dedup();
    if others.len() > 1 {
        for (i, text) in &others {
            legend.push((Swatch::Pattern(style::MUTED, *i), text.to_string()));
        }
    }
    let key = &sweep.keys[k];
    let frame = Frame {
        title: &title(&label, key),
        legend,
        note: format!(
            "Each point: one grid point of the sweep, the mean over replicates for all viewers at the end of the run (sweep.csv, column {metric}_mean); shaded band: its 95 % interval over replicates.{}",
            if others.len() > 1 {
                " Colour and marker: the arm; dash: the values of the other swept keys."
            } else {
                ""
            }
        ),
    };
    let y_desc = labels::with_unit(&label, unit);
    Some(style::render_with(&sweep.subtitle(), &frame, |area| {
        draw(area, sweep, k, &lines, scale, &y_desc);
    }))
}

/// A chart's title: the metric's label without its explanation in brackets, capitalised,
/// against the key.
fn title(label: &str, key: &str) -> String {
    let short = label.split(" (").next().unwrap_or(label);
    let mut chars = short.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{} against {key}", chars.as_str())
}

/// Draws `lines` against key `k` in `area`, values times `scale`.
fn draw(area: &Area<'_>, sweep: &Sweep, k: usize, lines: &[Line], scale: f64, y_desc: &str) {
    let all = || lines.iter().flat_map(|l| l.points.iter());
    let y_max = all().map(|(_, e)| scale * e.hi()).fold(0.0, f64::max);
    let y_min = all().map(|(_, e)| scale * e.lo()).fold(0.0, f64::min);
    let (x_lo, x_hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (x, _)| {
        (lo.min(*x), hi.max(*x))
    });
    let numeric = sweep.numeric(k);
    let pad = if numeric {
        (0.05 * (x_hi - x_lo)).max(1e-9)
    } else {
        0.5
    };
    let values = &sweep.values[k];
    let category = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 {
            values.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let x_format: &dyn Fn(&f64) -> String = if numeric { &style::tick } else { &category };
    let n_ticks = if numeric { 10 } else { 2 * values.len() + 2 };
    let chart = style::axes_x(
        area,
        (x_lo - pad)..(x_hi + pad),
        y_min.min(0.0)..style::upper(y_max),
        (&sweep.keys[k], x_format, n_ticks),
        y_desc,
        &style::tick,
    );
    let plot = chart.plotting_area();
    for line in lines {
        let colour = style::colour(line.arm);
        let band: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|(x, e)| (*x, scale * e.hi()))
            .chain(line.points.iter().rev().map(|(x, e)| (*x, scale * e.lo())))
            .collect();
        plot.draw(&Polygon::new(band, colour.mix(0.14).filled()))
            .expect(style::DRAW);
        let path: Vec<(f64, f64)> = line.points.iter().map(|(x, e)| (*x, scale * e.mean)).collect();
        let (on, off) = style::dash(line.other);
        if off == 0 {
            plot.draw(&PathElement::new(path.clone(), colour.stroke_width(2)))
                .expect(style::DRAW);
        } else {
            let dashed = DashedLineSeries::new(path.clone(), on, off, colour.stroke_width(2));
            for segment in dashed {
                plot.draw(&segment).expect(style::DRAW);
            }
        }
        for &at in &path {
            style::marker(plot, at, line.arm, colour);
        }
    }
}

/// Every chart of the sweep and its report, as (file name, bytes).
pub fn render(sweep: &Sweep) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for metric in sweep.metrics() {
        for (k, key) in sweep.keys.iter().enumerate() {
            if let Some(svg) = chart(sweep, k, metric) {
                files.push((chart_file(metric, key), svg.into_bytes()));
            }
        }
    }
    let charts: Vec<(&str, &str)> = files
        .iter()
        .map(|(f, b)| (f.as_str(), std::str::from_utf8(b).unwrap_or_default()))
        .collect();
    let report = html(sweep, &charts);
    files.push((super::REPORT.to_string(), report));
    files
}

/// The sweep's report page: the grid, every chart inline and a link to each point's report.
fn html(sweep: &Sweep, charts: &[(&str, &str)]) -> Vec<u8> {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{}: rabbithole sweep report</title>\n<style>{}</style>\n</head>\n<body>",
        esc(&sweep.name),
        super::report::STYLE
    );
    let _ = writeln!(h, "<h1>Sweep of {}</h1>", esc(&sweep.name));
    if !sweep.description.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(&sweep.description));
    }
    h.push_str("<p class=\"lead\">The scenario run at every point of a grid; each chart shows a headline metric at the end of the run against one swept key (table: <a href=\"sweep.csv\">sweep.csv</a>).</p>\n<table>\n<thead><tr><th>swept key</th><th>values</th></tr></thead>\n<tbody>\n");
    for (key, values) in sweep.keys.iter().zip(&sweep.values) {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            esc(key),
            esc(&values.join(", "))
        );
    }
    h.push_str("</tbody>\n</table>\n<h2>Charts</h2>\n");
    for (file, svg) in charts {
        let _ = writeln!(h, "<figure id=\"{}\">", esc(file.trim_end_matches(".svg")));
        h.push_str(super::report::strip_prolog(svg));
        let _ = writeln!(
            h,
            "<figcaption>File <a href=\"{0}\">{0}</a> in this directory.</figcaption>\n</figure>",
            esc(file)
        );
    }
    h.push_str("<h2>Points</h2>\n<p>Each point is a run directory with its own report.</p>\n<ul>\n");
    for point in &sweep.points {
        let _ = writeln!(
            h,
            "<li><a href=\"{0}/{1}\">{0}</a></li>",
            esc(point),
            super::REPORT
        );
    }
    h.push_str("</ul>\n</body>\n</html>\n");
    h.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = r#"point,u,mode,arm,cohort,watch_minutes_mean,watch_minutes_lo,watch_minutes_hi,interest_drift_mean
"u=2,mode=x",2,x,a,all,10,9,11,0
"u=2,mode=x",2,x,a,minors,99,99,99,0
"u=2,mode=x",2,x,b,all,20,18,22,0
"u=10,mode=x",10,x,a,all,30,,,0
"u=10,mode=y",10,y,a,all,40,39,41,0
"#;

    /// A line as (arm, other keys' values, (x, mean) points).
    type Summary<'a> = (usize, &'a str, Vec<(f64, f64)>);

    fn sweep() -> Sweep {
        Sweep::parse(CSV.as_bytes(), None, "dir").unwrap()
    }

    #[test]
    fn keys_values_and_metrics_come_from_the_table() {
        let s = sweep();
        assert_eq!(s.keys, ["u", "mode"]);
        assert_eq!(s.values, [vec!["2", "10"], vec!["x", "y"]]);
        assert_eq!(s.arms, ["a", "b"]);
        assert_eq!(s.points.len(), 3);
        // interest_drift is 0 everywhere: not charted.
        assert_eq!(s.metrics(), ["watch_minutes"]);
        assert!(s.numeric(0) && !s.numeric(1));
    }

    #[test]
    fn a_line_per_arm_and_other_value_sorted_by_x_for_all_viewers() {
        let s = sweep();
        let by_u = lines(&s, 0, "watch_minutes");
        let summary: Vec<Summary<'_>> = by_u
            .iter()
            .map(|l| {
                (
                    l.arm,
                    l.other_label.as_str(),
                    l.points.iter().map(|(x, e)| (*x, e.mean)).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (0, "mode=x", vec![(2.0, 10.0), (10.0, 30.0)]),
                (1, "mode=x", vec![(2.0, 20.0)]),
                (0, "mode=y", vec![(10.0, 40.0)]),
            ]
        );
        // A key of words is placed by grid order.
        let by_mode = lines(&s, 1, "watch_minutes");
        assert_eq!(by_mode[2].points[1].0, 1.0);
        assert_eq!(by_mode[2].points[1].1.mean, 40.0);
        assert_eq!(by_u[0].points[1].1.interval, None);
    }

    #[test]
    fn charts_and_report_name_the_key_and_the_arms() {
        let files = render(&sweep());
        let names: Vec<&str> = files.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            names,
            [
                "sweep-watch_minutes-by-u.svg",
                "sweep-watch_minutes-by-mode.svg",
                "report.html"
            ]
        );
        let svg = String::from_utf8(files[0].1.clone()).unwrap();
        assert_eq!(title("feed entropy (1 = even)", "k"), "Feed entropy against k");
        for needle in ["Minutes watched", "against u", "mode=y", "\na\n", "\nb\n"] {
            assert!(svg.contains(needle), "{needle}");
        }
        let report = String::from_utf8(files[2].1.clone()).unwrap();
        assert!(report.contains("href=\"u=2,mode=x/report.html\""), "{report}");
    }
}
