//! `sensitivity`: how much each headline metric, by arm and as a difference between arms,
//! depends on the model's assumptions over their documented plausible ranges.
//!
//! A parameters file ([`params`]) lists the free parameters (scenario keys, ranges, sources).
//! [`morris`] screens all of them by elementary effects; [`sobol`] gives variance-based indices
//! to the few that matter, from a Saltelli design. Both are generic over the model (a list of
//! points in, one output per point back), which is what lets the Ishigami test check them
//! without the simulator. [`study`] ties them to the simulator (every evaluation on the
//! scenario's seed), [`analysis`] turns evaluations into indices and tables, [`report`] into
//! the sentences, the tornado charts and the report page. No IO here.

pub mod analysis;
pub mod morris;
pub mod params;
pub mod report;
pub mod sobol;
pub mod study;
mod tornado;

#[cfg(test)]
mod ishigami;

pub use analysis::Analysis;
pub use params::{Parameters, Range, Settings};
pub use study::{Designs, Output, Plan, Study, StudyMetric};

use rayon::prelude::*;

/// One evaluation done: its unit, the parameter values applied and the outputs.
pub type Row = (usize, Vec<f64>, Vec<f64>);

/// Runs the units `units` of the study in parallel on the current rayon pool, calling `tick`
/// after each; rows come back in the order of `units`. An error names the first unit whose
/// scenario does not load.
pub fn evaluate(
    study: &Study<'_>,
    points: &[Vec<Option<f64>>],
    units: &[usize],
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<Row>, String> {
    units
        .par_iter()
        .map(|&u| {
            let point = &points[u];
            let outputs = study
                .evaluate(point)
                .map_err(|e| format!("evaluation {u} ({}): {e}", describe(study, point)))?;
            tick();
            Ok((u, study.values(point), outputs))
        })
        .collect()
}

/// The parameter settings of a point, for messages.
fn describe(study: &Study<'_>, point: &[Option<f64>]) -> String {
    study
        .plan
        .parameters
        .ranges
        .iter()
        .zip(study.values(point))
        .filter(|(_, v)| !v.is_nan())
        .map(|(r, v)| format!("{}={v}", r.key))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outputs of the rows, one vector per unit in unit order; `None` when a unit from 0 to
/// `count` − 1 is missing or repeated.
pub fn outputs_by_unit(rows: &[Row], count: usize) -> Option<Vec<Vec<f64>>> {
    let mut y: Vec<Option<Vec<f64>>> = vec![None; count];
    for (u, _, outputs) in rows {
        let slot = y.get_mut(*u)?;
        if slot.is_some() {
            return None;
        }
        *slot = Some(outputs.clone());
    }
    y.into_iter().collect()
}
