//! From evaluations to indices: the outputs of every unit (`evaluations.csv`, written and read
//! back here so that a merge of shards computes from exactly what a whole run computes from),
//! the Morris and Sobol indices per output, the parameters the screening ranks first, and the
//! `morris.csv` and `sobol.csv` tables.

use super::morris::MorrisIndex;
use super::sobol::SobolIndex;
use super::study::{Designs, Plan};
use crate::rng::{self, Purpose};

/// The indices of every output: `morris[o][i]` for parameter i, `sobol[o][j]` for the j-th
/// parameter of `plan.sobol`.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub morris: Vec<Vec<MorrisIndex>>,
    pub sobol: Vec<Vec<SobolIndex>>,
}

/// A number for a CSV cell: empty for NaN, else the shortest text that reads back equal.
pub fn cell(x: f64) -> String {
    if x.is_nan() { String::new() } else { x.to_string() }
}

fn csv_bytes(header: &[String], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Column `o` of the outputs, over `units` (a range of unit numbers).
fn column(y: &[Vec<f64>], units: std::ops::Range<usize>, o: usize) -> Vec<f64> {
    y[units].iter().map(|row| row[o]).collect()
}

/// The indices of every output from `y[unit][output]`.
pub fn analyse(plan: &Plan, designs: &Designs, y: &[Vec<f64>]) -> Analysis {
    let resamples = plan.parameters.sensitivity.bootstrap;
    let nm = designs.morris_len();
    let boot = |o: usize, step: u64| rng::stream(plan.seed, 0, o as u64, Purpose::Sensitivity, step);
    let outputs = 0..plan.outputs.len();
    let morris = match &designs.morris {
        Some(d) => outputs
            .clone()
            .map(|o| d.analyse(&column(y, 0..nm, o), resamples, &mut boot(o, 2)))
            .collect(),
        None => Vec::new(),
    };
    let sobol = match &designs.sobol {
        Some(d) => outputs
            .map(|o| d.analyse(&column(y, nm..y.len(), o), resamples, &mut boot(o, 3)))
            .collect(),
        None => Vec::new(),
    };
    Analysis { morris, sobol }
}

/// The `top` parameters of the screening: ranked by their largest μ* over the outputs, each
/// output's μ* taken relative to its largest (outputs are on different scales); ties by order.
pub fn screened(morris: &[Vec<MorrisIndex>], parameters: usize, top: usize) -> Vec<usize> {
    let mut score = vec![0.0f64; parameters];
    for per in morris {
        let max = per
            .iter()
            .map(|m| m.mu_star)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        if max > 0.0 {
            for (s, m) in score.iter_mut().zip(per) {
                if m.mu_star.is_finite() {
                    *s = s.max(m.mu_star / max);
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..parameters).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    order.truncate(top.min(parameters));
    order
}

/// `evaluations.csv`: one row per unit, `rows` as (unit, parameter values, outputs).
pub fn evaluations_csv(plan: &Plan, morris_len: usize, rows: &[super::Row]) -> Vec<u8> {
    let mut header: Vec<String> = vec!["unit".into(), "method".into()];
    header.extend(plan.parameters.ranges.iter().map(|r| r.key.clone()));
    header.extend(plan.outputs.iter().map(|o| o.column()));
    csv_bytes(
        &header,
        rows.iter().map(|(u, values, outputs)| {
            let method = if *u < morris_len { "morris" } else { "sobol" };
            let mut row = vec![u.to_string(), method.to_string()];
            row.extend(values.iter().chain(outputs).map(|&x| cell(x)));
            row
        }),
    )
}

/// Reads `evaluations.csv` back: (unit, parameter values, outputs) per row, or what is wrong.
pub fn parse_evaluations(plan: &Plan, bytes: &[u8]) -> Result<Vec<super::Row>, String> {
    let k = plan.parameters.ranges.len();
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let expected = 2 + k + plan.outputs.len();
    if header.len() != expected {
        return Err(format!("has {} columns, expected {expected}", header.len()));
    }
    let number = |s: &str| -> Result<f64, String> {
        if s.is_empty() {
            Ok(f64::NAN)
        } else {
            s.parse().map_err(|_| format!("not a number: {s:?}"))
        }
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let unit: usize = record[0]
            .parse()
            .map_err(|_| format!("not a unit number: {:?}", &record[0]))?;
        let cells: Vec<f64> = record.iter().skip(2).map(number).collect::<Result<_, _>>()?;
        rows.push((unit, cells[..k].to_vec(), cells[k..].to_vec()));
    }
    Ok(rows)
}

/// `morris.csv`: one row per (output, parameter), parameters by rank of μ* within the output.
pub fn morris_csv(plan: &Plan, analysis: &Analysis) -> Vec<u8> {
    let header: Vec<String> = [
        "metric",
        "comparison",
        "parameter",
        "mu_star",
        "mu_star_lo",
        "mu_star_hi",
        "mu",
        "sigma",
        "rank",
    ]
    .map(String::from)
    .to_vec();
    let mut rows = Vec::new();
    for (output, per) in plan.outputs.iter().zip(&analysis.morris) {
        let mut order: Vec<usize> = (0..per.len()).collect();
        order.sort_by(|&a, &b| per[b].mu_star.total_cmp(&per[a].mu_star).then(a.cmp(&b)));
        for (rank, &i) in order.iter().enumerate() {
            let m = &per[i];
            rows.push(vec![
                output.metric.clone(),
                output.comparison.clone(),
                plan.parameters.ranges[i].key.clone(),
                cell(m.mu_star),
                cell(m.mu_star_lo),
                cell(m.mu_star_hi),
                cell(m.mu),
                cell(m.sigma),
                (rank + 1).to_string(),
            ]);
        }
    }
    csv_bytes(&header, rows.into_iter())
}

/// `sobol.csv`: one row per (output, parameter given Sobol indices).
pub fn sobol_csv(plan: &Plan, analysis: &Analysis) -> Vec<u8> {
    let header: Vec<String> = [
        "metric",
        "comparison",
        "parameter",
        "S1",
        "S1_lo",
        "S1_hi",
        "ST",
        "ST_lo",
        "ST_hi",
    ]
    .map(String::from)
    .to_vec();
    let rows = plan
        .outputs
        .iter()
        .zip(&analysis.sobol)
        .flat_map(|(output, per)| {
            plan.sobol.iter().zip(per).map(|(&i, s)| {
                vec![
                    output.metric.clone(),
                    output.comparison.clone(),
                    plan.parameters.ranges[i].key.clone(),
                    cell(s.s1),
                    cell(s.s1_lo),
                    cell(s.s1_hi),
                    cell(s.st),
                    cell(s.st_lo),
                    cell(s.st_hi),
                ]
            })
        });
    csv_bytes(&header, rows)
}
