//! `timeseries.csv` averaged over replicates (`--timeseries mean`): one row per (arm, cohort,
//! step) instead of one per replicate as well, for scenarios whose per-replicate file is large.
//!
//! Each value is the mean over replicates of the cells the per-replicate file would hold (six
//! decimals, as written, empty ones left out); `--timeseries mean-interval` adds the 95 %
//! interval `summary.csv` gives (`<column>_lo`, `<column>_hi`), at three times the columns. A replicate whose viewers have all used their minutes has no
//! rows after its last step; it counts with its last row, as in the charts, so the mean does
//! not jump when replicates end at different steps.

use super::{Results, as_written, is_share, mean_interval_cells, num, row_values, to_bytes, value_columns};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which form of `timeseries.csv` a run wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeseriesForm {
    /// One row per (arm, replicate, cohort, step) (the default).
    #[default]
    Replicates,
    /// One row per (arm, cohort, step): the mean over replicates.
    Mean,
    /// As `Mean`, each value followed by its 95 % interval over replicates.
    MeanInterval,
}

impl TimeseriesForm {
    /// Whether this is the default form (which manifests leave unsaid).
    pub fn is_replicates(&self) -> bool {
        *self == TimeseriesForm::Replicates
    }
}

/// The key columns of the averaged `timeseries.csv`, before the value columns.
pub const MEAN_KEYS: [&str; 5] = ["arm", "cohort", "step", "replicates", "viewers"];

/// One replicate's rows of an arm and cohort: (step, viewers, values as written), by step.
type Rows = Vec<(u32, u32, Vec<f64>)>;

/// `timeseries.csv` averaged over replicates: rows by arm (scenario order), cohort (order of
/// first appearance), step; `replicates` counts the replicates with a row at or before the
/// step, `viewers` is their mean cohort size; with `intervals`, each value column `c` is
/// followed by `c_lo`, `c_hi`.
pub fn timeseries_mean_csv(results: &Results, intervals: bool) -> Vec<u8> {
    let columns = if results.timeseries.is_empty() {
        super::group_columns(results).collect()
    } else {
        value_columns(results)
    };
    // (arm, cohort order) -> replicate -> rows, so that arms and cohorts keep their order.
    let mut cohorts: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<(usize, usize), BTreeMap<u32, Rows>> = BTreeMap::new();
    for r in &results.timeseries {
        let name = r.cohort.name();
        let c = cohorts.iter().position(|&n| n == name).unwrap_or_else(|| {
            cohorts.push(name);
            cohorts.len() - 1
        });
        let values = row_values(results, r).into_iter().map(as_written).collect();
        groups
            .entry((r.arm, c))
            .or_default()
            .entry(r.replicate)
            .or_default()
            .push((r.step, r.viewers, values));
    }
    let shares: Vec<bool> = columns.iter().map(|c| is_share(c)).collect();
    to_bytes(|w| {
        let mut header: Vec<String> = MEAN_KEYS.iter().map(|k| k.to_string()).collect();
        for c in &columns {
            header.push(c.clone());
            if intervals {
                header.extend([format!("{c}_lo"), format!("{c}_hi")]);
            }
        }
        w.write_record(&header)?;
        for ((arm, c), reps) in &groups {
            let mut reps: Vec<Rows> = reps.values().cloned().collect();
            for rows in &mut reps {
                rows.sort_by_key(|&(step, _, _)| step);
            }
            for step in steps(&reps) {
                // Each replicate's row at this step, or its last row before it.
                let rows: Vec<&(u32, u32, Vec<f64>)> = reps
                    .iter()
                    .filter_map(|rows| {
                        let n = rows.partition_point(|&(s, _, _)| s <= step);
                        (n > 0).then(|| &rows[n - 1])
                    })
                    .collect();
                let viewers = rows.iter().map(|r| f64::from(r.1)).sum::<f64>() / rows.len() as f64;
                let mut rec = vec![
                    results.arm_names[*arm].clone(),
                    cohorts[*c].to_string(),
                    step.to_string(),
                    rows.len().to_string(),
                    num(viewers),
                ];
                for (col, &share) in shares.iter().enumerate() {
                    let values: Vec<f64> = rows.iter().map(|r| r.2[col]).collect();
                    let [mean, lo, hi] = mean_interval_cells(&values, share);
                    rec.push(mean);
                    if intervals {
                        rec.extend([lo, hi]);
                    }
                }
                w.write_record(&rec)?;
            }
        }
        Ok(())
    })
}

/// The steps any replicate has a row at, ascending.
fn steps(reps: &[Rows]) -> Vec<u32> {
    let mut steps: Vec<u32> = reps.iter().flatten().map(|&(s, _, _)| s).collect();
    steps.sort_unstable();
    steps.dedup();
    steps
}
