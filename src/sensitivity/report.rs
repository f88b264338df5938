//! What a study says in words and charts: for each headline comparison (a difference between an
//! arm and the baseline; an arm's metric when the scenario has one arm), how often each sign
//! occurred over all evaluations, which assumptions move it across zero and which cannot, a
//! tornado chart, and `report.html` with the tables. Pure: the binary writes the files.

use super::analysis::Analysis;
use super::study::{Output, Plan};
use super::tornado::{self, Swing};
use crate::metrics::columns::{self, MetricDef};
use crate::plot::esc;

/// The evaluations of a study: every unit's point and outputs, in unit order.
pub struct Evaluated<'a> {
    pub plan: &'a Plan,
    pub points: &'a [Vec<Option<f64>>],
    pub y: &'a [Vec<f64>],
}

/// A share below which a parameter's third of its range is "low", and above 1 − it "high".
const THIRD: f64 = 1.0 / 3.0 + 1e-9;

/// Swing in the share of positive evaluations (between the low and high thirds of a range)
/// from which a parameter is said to decide the sign.
const DECIDES: f64 = 0.25;

impl Evaluated<'_> {
    /// Parameter `i`'s low and high third, as filters on a point.
    fn third(i: usize, high: bool) -> impl Fn(&[Option<f64>]) -> bool {
        move |p: &[Option<f64>]| p[i].is_some_and(|x| if high { x >= 1.0 - THIRD } else { x <= THIRD })
    }

    /// The finite values of output `o` at the units `pick` keeps.
    fn select(&self, o: usize, pick: &dyn Fn(&[Option<f64>]) -> bool) -> Vec<f64> {
        self.points
            .iter()
            .zip(self.y)
            .filter(|(p, y)| y[o].is_finite() && pick(p))
            .map(|(_, y)| y[o])
            .collect()
    }

    /// The mean of output `o` over all evaluations and each parameter's swing.
    pub fn swings(&self, o: usize) -> (f64, Vec<Swing>) {
        let mean = |v: Vec<f64>| super::morris::mean(v.into_iter());
        let centre = mean(self.select(o, &|_| true));
        let swings = self
            .plan
            .parameters
            .ranges
            .iter()
            .enumerate()
            .map(|(i, r)| Swing {
                parameter: r.key.clone(),
                low: mean(self.select(o, &Self::third(i, false))),
                high: mean(self.select(o, &Self::third(i, true))),
            })
            .collect();
        (centre, swings)
    }

    /// The sentences on the sign of difference output `o`.
    pub fn sign_sentences(&self, o: usize) -> Vec<String> {
        let out = &self.plan.outputs[o];
        let all = self.select(o, &|_| true);
        let (pos, neg) = (
            all.iter().filter(|&&v| v > 0.0).count(),
            all.iter().filter(|&&v| v < 0.0).count(),
        );
        let (arm, base) = out.comparison.split_once(" - ").unwrap_or((&out.comparison, "?"));
        let what = label(&out.metric);
        let mut s = vec![format!(
            "In {pos} of {} evaluations {arm} had more {what} than {base}; in {neg} less{}.",
            all.len(),
            match all.len() - pos - neg {
                0 => String::new(),
                z => format!(", in {z} the same"),
            }
        )];
        if pos == 0 || neg == 0 {
            s.push(format!(
                "No evaluated combination of the {} parameters over their ranges reverses this comparison.",
                self.plan.parameters.ranges.len()
            ));
            return s;
        }
        let share = |v: Vec<f64>| v.iter().filter(|&&x| x > 0.0).count() as f64 / v.len().max(1) as f64;
        let mut deciding = Vec::new();
        let mut not = Vec::new();
        for (i, r) in self.plan.parameters.ranges.iter().enumerate() {
            let low = self.select(o, &Self::third(i, false));
            let high = self.select(o, &Self::third(i, true));
            if low.is_empty() || high.is_empty() {
                continue;
            }
            let (a, b) = (share(low), share(high));
            if (b - a).abs() >= DECIDES {
                deciding.push(((b - a).abs(), r, a, b));
            } else {
                not.push(r.key.as_str());
            }
        }
        deciding.sort_by(|x, y| y.0.total_cmp(&x.0));
        for (_, r, a, b) in deciding.iter().take(3) {
            let p = r.parameter();
            s.push(format!(
                "The sign flips with {}: {arm} had more in {:.0} % of evaluations with it at or below {} and in {:.0} % with it at or above {} (range {} to {}).",
                r.key,
                100.0 * a,
                crate::plot::tick(&p.at(1.0 / 3.0)),
                100.0 * b,
                crate::plot::tick(&p.at(2.0 / 3.0)),
                r.min,
                r.max
            ));
        }
        if deciding.is_empty() {
            s.push("No single parameter decides the sign: it changes with combinations of them.".into());
        }
        if !not.is_empty() {
            s.push(format!(
                "On their own over their ranges these cannot reverse it (the share of evaluations with {arm} ahead differs by less than {:.0} points between the low and high third of each range): {}.",
                100.0 * DECIDES,
                not.join(", ")
            ));
        }
        s
    }
}

/// A metric's label for sentences, a per-group one's with its group (its name when unknown).
fn label(metric: &str) -> String {
    columns::find(metric).map_or(metric.to_string(), |(d, group)| {
        let label = d.label.replace(MetricDef::GROUP, group);
        label.split(" (").next().unwrap_or(metric).to_string()
    })
}

/// The outputs that get a tornado chart and a paragraph: the differences, or with one arm its
/// metrics.
pub fn comparisons(plan: &Plan) -> Vec<usize> {
    let diffs: Vec<usize> = (0..plan.outputs.len())
        .filter(|&o| plan.outputs[o].baseline.is_some())
        .collect();
    if diffs.is_empty() {
        (0..plan.outputs.len()).collect()
    } else {
        diffs
    }
}

/// The file name of output `out`'s tornado chart.
pub fn tornado_name(out: &Output) -> String {
    let clean: String = out
        .comparison
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("tornado-{}-{}.svg", out.metric, clean.replace("___", "-vs-"))
}

/// Every comparison's tornado chart, named by [`tornado_name`].
pub fn tornado_files(ev: &Evaluated<'_>, scenario: &str) -> Vec<(String, Vec<u8>)> {
    comparisons(ev.plan)
        .into_iter()
        .map(|o| {
            let out = &ev.plan.outputs[o];
            let (centre, swings) = ev.swings(o);
            let title = format!("What moves {}: {}", out.metric, out.comparison);
            let subtitle = format!("scenario {scenario}: {} evaluations", ev.y.len());
            (
                tornado_name(out),
                tornado::svg(&title, &subtitle, &label(&out.metric), centre, &swings),
            )
        })
        .collect()
}

/// `report.html`: per comparison its sentences, chart and the largest indices.
pub fn report_html(
    ev: &Evaluated<'_>,
    analysis: &Analysis,
    scenario: &str,
    charts: &[(String, Vec<u8>)],
) -> Vec<u8> {
    let plan = ev.plan;
    let s = &plan.parameters.sensitivity;
    let mut h = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sensitivity of {0}</title>\
         <style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}\
         td.n{{text-align:right}}.muted{{color:#555}}</style></head><body>\
         <h1>Sensitivity of {0}</h1><p>{1} parameters over their plausible ranges; {2} evaluations, each on the \
         scenario's seed (common random numbers: arm differences are paired). Morris screening: {3} trajectories \
         on a {4}-level grid; Sobol indices (Saltelli design, {5} base samples) for: {6}. Intervals: {7} bootstrap \
         resamples. Method: docs/sensitivity.md.</p>",
        esc(scenario),
        plan.parameters.ranges.len(),
        ev.y.len(),
        s.trajectories,
        s.levels,
        s.samples,
        esc(&plan
            .sobol
            .iter()
            .map(|&i| plan.parameters.ranges[i].key.as_str())
            .collect::<Vec<_>>()
            .join(", ")),
        s.bootstrap
    );
    for (o, (_, svg)) in comparisons(plan).into_iter().zip(charts) {
        let out = &plan.outputs[o];
        h.push_str(&format!(
            "<h2>{} · {}</h2>",
            esc(&out.metric),
            esc(&out.comparison)
        ));
        if out.baseline.is_some() {
            for sentence in ev.sign_sentences(o) {
                h.push_str(&format!("<p>{}</p>", esc(&sentence)));
            }
        }
        h.push_str(&indices_table(plan, analysis, o));
        h.push_str("<figure>");
        h.push_str(&String::from_utf8_lossy(svg));
        h.push_str("</figure>");
    }
    h.push_str("<h2>Parameters</h2><table><tr><th>key</th><th>range</th><th>source</th></tr>");
    for r in &plan.parameters.ranges {
        h.push_str(&format!(
            "<tr><td><code>{}</code></td><td>[{}, {}]</td><td class=muted>{}</td></tr>",
            esc(&r.key),
            r.min,
            r.max,
            esc(&r.source)
        ));
    }
    h.push_str("</table><p class=muted>Files: morris.csv, sobol.csv, evaluations.csv, tornado-*.svg, manifest.json.</p></body></html>\n");
    h.into_bytes()
}

/// The five parameters of largest μ* for output `o`, with their Sobol indices when computed.
fn indices_table(plan: &Plan, analysis: &Analysis, o: usize) -> String {
    let mut h = String::from(
        "<table><tr><th>parameter</th><th>μ* [95 %]</th><th>μ</th><th>σ</th><th>S1 [95 %]</th><th>ST [95 %]</th></tr>",
    );
    let k = plan.parameters.ranges.len();
    let mut order: Vec<usize> = (0..k).collect();
    if let Some(m) = analysis.morris.get(o) {
        order.sort_by(|&a, &b| m[b].mu_star.total_cmp(&m[a].mu_star).then(a.cmp(&b)));
    } else {
        order = plan.sobol.clone();
    }
    let g = |x: f64| format!("{x:.3}");
    for &i in order.iter().take(5) {
        let morris = analysis
            .morris
            .get(o)
            .map_or(["".into(), "".into(), "".into()], |m| {
                let m = m[i];
                [
                    format!("{} [{}, {}]", g(m.mu_star), g(m.mu_star_lo), g(m.mu_star_hi)),
                    g(m.mu),
                    g(m.sigma),
                ]
            });
        let sobol = plan
            .sobol
            .iter()
            .position(|&j| j == i)
            .and_then(|j| analysis.sobol.get(o).map(|s| s[j]));
        let (s1, st) = sobol.map_or((String::new(), String::new()), |s| {
            (
                format!("{} [{}, {}]", g(s.s1), g(s.s1_lo), g(s.s1_hi)),
                format!("{} [{}, {}]", g(s.st), g(s.st_lo), g(s.st_hi)),
            )
        });
        h.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{s1}</td><td class=n>{st}</td></tr>",
            esc(&plan.parameters.ranges[i].key),
            morris[0],
            morris[1],
            morris[2]
        ));
    }
    h.push_str("</table>");
    h
}
