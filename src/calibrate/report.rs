//! The files of a calibration directory, each serialised from a [`Calibration`] (pure: the
//! binary writes them): `scenario.toml` (the calibrated scenario, every key resolved),
//! `fit.csv`, `parameters.csv`, `history.csv`, `fit.svg`, `convergence.svg` and `report.html`.

use super::fit::Calibration;
use super::targets::Targets;
use crate::plot::esc;
use crate::plot::{INK, MUTED, bold, font};
use plotters::prelude::*;

/// A number for a CSV cell: empty for NaN, else the shortest text that reads back equal.
fn cell(x: f64) -> String {
    if x.is_nan() { String::new() } else { x.to_string() }
}

/// (simulated − value) / uncertainty.
fn z(targets: &Targets, i: usize, simulated: f64) -> f64 {
    let m = &targets.moments[i];
    (simulated - m.value) / m.uncertainty
}

fn csv_bytes(header: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// `fit.csv`: one row per moment.
pub fn fit_csv(targets: &Targets, cal: &Calibration) -> Vec<u8> {
    let rows = targets
        .moments
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let s = cal.best.simulated[i];
            vec![
                Targets::name(m).to_string(),
                m.statistic.clone(),
                m.source.clone(),
                cell(m.value),
                cell(m.uncertainty),
                cell(s),
                cell(z(targets, i, s)),
                if m.fit { "yes" } else { "no" }.to_string(),
                m.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    csv_bytes(
        &[
            "target",
            "statistic",
            "source",
            "value",
            "uncertainty",
            "simulated",
            "standardised_error",
            "fitted",
            "note",
        ],
        rows,
    )
}

/// `parameters.csv`: one row per free parameter, with its range and calibrated value.
pub fn parameters_csv(targets: &Targets, cal: &Calibration) -> Vec<u8> {
    let rows = targets
        .parameters
        .iter()
        .zip(&cal.best.values)
        .map(|(p, &x)| vec![p.key.clone(), cell(p.min), cell(p.max), cell(x)])
        .collect();
    csv_bytes(&["key", "min", "max", "calibrated"], rows)
}

/// `history.csv`: one row per generation, with the best vector so far.
pub fn history_csv(targets: &Targets, cal: &Calibration) -> Vec<u8> {
    let mut header = vec![
        "generation",
        "evaluations",
        "sigma",
        "best_objective",
        "overall_best_objective",
    ];
    header.extend(targets.parameters.iter().map(|p| p.key.as_str()));
    let rows = cal
        .history
        .iter()
        .map(|g| {
            let mut row = vec![
                g.generation.to_string(),
                g.evaluations.to_string(),
                cell(g.sigma),
                cell(g.best),
                cell(g.overall),
            ];
            row.extend(g.values.iter().map(|&x| cell(x)));
            row
        })
        .collect();
    csv_bytes(&header, rows)
}

/// `scenario.toml`: the calibrated scenario, every key resolved.
pub fn scenario_toml(cal: &Calibration) -> Vec<u8> {
    toml::to_string(&cal.scenario)
        .expect("a scenario serialises to TOML")
        .into_bytes()
}

const DRAW: &str = "drawing into a string cannot fail";

/// `fit.svg`: each moment's standardised error, with the band ±1.
pub fn fit_svg(targets: &Targets, cal: &Calibration) -> Vec<u8> {
    let zs: Vec<f64> = (0..targets.moments.len())
        .map(|i| z(targets, i, cal.best.simulated[i]))
        .collect();
    let top = zs
        .iter()
        .filter(|v| v.is_finite())
        .fold(2.0f64, |a, &v| a.max(v.abs()))
        * 1.1;
    let n = zs.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 580)).into_drawing_area();
        root.fill(&WHITE).expect(DRAW);
        let names: Vec<String> = targets
            .moments
            .iter()
            .map(|m| Targets::name(m).to_string())
            .collect();
        let mut chart = ChartBuilder::on(&root)
            .caption("Fit per target: (simulated − target) / uncertainty", bold(18.0))
            .margin(16)
            .x_label_area_size(150)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, -top..top)
            .expect(DRAW);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.max(1))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_label_style(font(11.0).transform(FontTransform::Rotate90))
            .y_desc("standardised error")
            .label_style(font(12.0))
            .draw()
            .expect(DRAW);
        let band = RGBColor(0xE8, 0xF1, 0xF8);
        chart
            .draw_series([Rectangle::new(
                [(-0.5, -1.0), (n as f64 - 0.5, 1.0)],
                band.filled(),
            )])
            .expect(DRAW);
        chart
            .draw_series(LineSeries::new([(-0.5, 0.0), (n as f64 - 0.5, 0.0)], INK))
            .expect(DRAW);
        let blue = RGBColor(0x00, 0x72, 0xB2);
        chart
            .draw_series(
                zs.iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_finite())
                    .map(|(i, &v)| {
                        let colour = if targets.moments[i].fit { blue } else { MUTED };
                        Rectangle::new(
                            [(i as f64 - 0.3, 0.0), (i as f64 + 0.3, v.clamp(-top, top))],
                            colour.filled(),
                        )
                    }),
            )
            .expect(DRAW);
        root.present().expect(DRAW);
    }
    svg.into_bytes()
}

/// `convergence.svg`: the best objective so far against simulations run (log scale).
pub fn convergence_svg(cal: &Calibration) -> Vec<u8> {
    let points: Vec<(f64, f64)> = cal
        .history
        .iter()
        .map(|g| (g.evaluations as f64, g.overall.max(1e-6).log10()))
        .collect();
    let x_max = points.last().map_or(1.0, |p| p.0).max(1.0);
    let (lo, hi) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (lo, hi) = if lo > hi {
        (0.0, 1.0)
    } else {
        (lo.floor(), hi.ceil().max(lo.floor() + 1.0))
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 580)).into_drawing_area();
        root.fill(&WHITE).expect(DRAW);
        let mut chart = ChartBuilder::on(&root)
            .caption("Convergence: best Σ z² so far", bold(18.0))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, lo..hi)
            .expect(DRAW);
        chart
            .configure_mesh()
            .x_desc("simulations run")
            .y_desc("best objective (log10)")
            .y_label_formatter(&|y| format!("1e{y:.0}"))
            .label_style(font(12.0))
            .draw()
            .expect(DRAW);
        let blue = RGBColor(0x00, 0x72, 0xB2);
        chart
            .draw_series(LineSeries::new(points.clone(), blue.stroke_width(2)))
            .expect(DRAW);
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, blue.filled())))
            .expect(DRAW);
        root.present().expect(DRAW);
    }
    svg.into_bytes()
}

/// How the search stopped, in words: "converged (TolX)" or "not converged: stopped at
/// MaxFunctionEvals".
pub fn stop_text(cal: &Calibration) -> String {
    let reasons = cal.stopped.join(", ");
    if reasons.is_empty() {
        "not converged".to_string()
    } else if cal.converged {
        format!("converged ({reasons})")
    } else {
        format!("not converged: stopped at {reasons}")
    }
}

/// `report.html`: the fit table, the parameters (and those `--fix` held), the charts and how
/// the search stopped.
pub fn report_html(
    name: &str,
    targets: &Targets,
    cal: &Calibration,
    fixed: &[String],
    fit_svg: &[u8],
    convergence_svg: &[u8],
) -> Vec<u8> {
    let mut h = String::new();
    h.push_str(&format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Calibration of {0}</title>\
         <style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}\
         td.n{{text-align:right}}.muted{{color:#555}}</style></head><body>\
         <h1>Calibration of {0}</h1><p>Method of simulated moments, CMA-ES: objective Σ z² = {1:.3} \
         over the fitted targets after {2} simulations: {3}.</p>",
        esc(name),
        cal.best.objective,
        cal.history.last().map_or(0, |g| g.evaluations),
        esc(&stop_text(cal))
    ));
    if !fixed.is_empty() {
        h.push_str(&format!(
            "<p>Held fixed, not searched (<code>--fix</code>): {}.</p>",
            esc(&fixed.join(", "))
        ));
    }
    h.push_str("<h2>Fit per target</h2><table><tr><th>target</th><th>value</th><th>uncertainty</th><th>simulated</th><th>z</th><th>fitted</th><th>source</th></tr>");
    for (i, m) in targets.moments.iter().enumerate() {
        let s = cal.best.simulated[i];
        h.push_str(&format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.4}</td><td class=n>{:.2}</td><td>{}</td><td class=muted>{}{}</td></tr>",
            esc(Targets::name(m)),
            m.value,
            m.uncertainty,
            s,
            z(targets, i, s),
            if m.fit { "yes" } else { "no" },
            esc(&m.source),
            m.note.as_ref().map_or(String::new(), |n| format!("<br>{}", esc(n)))
        ));
    }
    h.push_str(
        "</table><h2>Calibrated parameters</h2><table><tr><th>key</th><th>range</th><th>calibrated</th></tr>",
    );
    for (p, x) in targets.parameters.iter().zip(&cal.best.values) {
        h.push_str(&format!(
            "<tr><td><code>{}</code></td><td>[{}, {}]</td><td class=n>{:.4}</td></tr>",
            esc(&p.key),
            p.min,
            p.max,
            x
        ));
    }
    h.push_str("</table>");
    for svg in [fit_svg, convergence_svg] {
        h.push_str("<figure>");
        h.push_str(&String::from_utf8_lossy(svg));
        h.push_str("</figure>");
    }
    h.push_str("<p class=muted>Files: scenario.toml (the calibrated scenario), fit.csv, parameters.csv, history.csv, manifest.json. Definitions: docs/calibration.md.</p></body></html>\n");
    h.into_bytes()
}
