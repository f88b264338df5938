//! `comparison.csv`: the summary in long format, one row per (arm, cohort, metric), with each
//! arm's paired difference from the baseline arm.
//!
//! It is computed from the final rows as written in `timeseries.csv`, like `summary.csv`, so
//! its means are the summary's and merged shards give the same bytes as the unsharded run.

use super::{Results, WrittenFinal, arm_cohorts, is_share, num, summarised, to_bytes, written_finals};
use crate::metrics::interval::{self, Estimate};

/// The columns of `comparison.csv`.
pub const COMPARISON_COLUMNS: [&str; 11] = [
    "arm", "cohort", "metric", "mean", "lo", "hi", "diff", "diff_lo", "diff_hi", "n", "note",
];

/// `comparison.csv` of a run whose baseline arm is `baseline` (its index).
pub fn comparison_csv(results: &Results, baseline: usize) -> Vec<u8> {
    if results.finals.is_empty() {
        return Vec::new();
    }
    let (columns, finals) = written_finals(results);
    comparison_from_written(&results.arm_names, baseline, &columns, &finals)
}

/// `comparison.csv` from final rows as written; `columns` names their values. Rows are arms in
/// scenario order, cohorts in the order they first appear, metrics in column order. `mean`,
/// `lo`, `hi` are `summary.csv`'s; `diff` is the mean over replicates of the arm's value minus
/// the baseline arm's in the same replicate and cohort, with its 95 % Student-t interval over
/// those pairs; `n` counts the replicates with a value; `note` says why a cell is empty.
pub fn comparison_from_written(
    arm_names: &[String],
    baseline: usize,
    columns: &[String],
    finals: &[WrittenFinal],
) -> Vec<u8> {
    to_bytes(|w| {
        if finals.is_empty() {
            return Ok(());
        }
        w.write_record(COMPARISON_COLUMNS)?;
        let mut replicates: Vec<u32> = Vec::new();
        for r in finals {
            if !replicates.contains(&r.replicate) {
                replicates.push(r.replicate);
            }
        }
        // One value per replicate (NaN where the cohort had no row or the cell is empty).
        let values = |arm: usize, cohort: &str, c: usize| -> Vec<f64> {
            replicates
                .iter()
                .map(|&rep| {
                    finals
                        .iter()
                        .find(|r| r.arm == arm && r.cohort == cohort && r.replicate == rep)
                        .map_or(f64::NAN, |r| r.values[c])
                })
                .collect()
        };
        let summarised = summarised(columns);
        for (arm, cohort) in arm_cohorts(finals) {
            for &c in &summarised {
                let own = values(arm, &cohort, c);
                let estimate = interval::estimate(&own, is_share(&columns[c]));
                let diff = (arm != baseline)
                    .then(|| interval::paired_difference(&own, &values(baseline, &cohort, c)));
                let n = own.iter().filter(|v| !v.is_nan()).count();
                let mut rec = vec![arm_names[arm].clone(), cohort.clone(), columns[c].clone()];
                rec.extend(cells(estimate));
                rec.extend(cells(diff.flatten().and_then(|(d, _)| d)));
                rec.push(n.to_string());
                rec.push(note(estimate, diff, n));
                w.write_record(&rec)?;
            }
        }
        Ok(())
    })
}

/// The cells mean, lo, hi of an estimate: empty where there is no value or interval.
pub(super) fn cells(estimate: Estimate) -> [String; 3] {
    match estimate {
        Some((mean, Some((lo, hi)))) => [num(mean), num(lo), num(hi)],
        Some((mean, None)) => [num(mean), String::new(), String::new()],
        None => [String::new(), String::new(), String::new()],
    }
}

/// Why cells are empty (empty when none is): `diff` is None for the baseline arm itself.
fn note(estimate: Estimate, diff: Option<Option<(Estimate, usize)>>, n: usize) -> String {
    let mut notes: Vec<String> = Vec::new();
    match estimate {
        None => notes.push("no value in any replicate".into()),
        Some((_, None)) => notes.push("one replicate: no interval".into()),
        Some(_) => {}
    }
    match diff {
        None => notes.push("baseline arm".into()),
        Some(None) if estimate.is_some() => {
            notes.push("no baseline value in the same replicate: no difference".into())
        }
        Some(None) => {}
        Some(Some((_, 1))) if n > 1 => {
            notes.push("one replicate paired with the baseline: no interval for the difference".into())
        }
        Some(Some((_, pairs))) if pairs < n => notes.push(format!(
            "difference over the {pairs} replicates the baseline has a value in"
        )),
        Some(Some(_)) => {}
    }
    notes.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(arm: usize, replicate: u32, cohort: &str, values: [f64; 2]) -> WrittenFinal {
        WrittenFinal {
            arm,
            replicate,
            cohort: cohort.into(),
            viewers: 10,
            values: values.to_vec(),
        }
    }

    /// Hand-computed. `watch_minutes`: baseline 10, 12, 14, arm 11, 14, 14: differences 1, 2,
    /// 0, mean 1, s = 1, half-width 4.303/√3 = 2.484338. `in_rabbit_hole` (a share): baseline
    /// 0.1, 0.2, 0.3 and arm 0.0, 0.1, 0.2, mean 0.1, Wilson interval 0.011543 to 0.513896
    /// (as in `metrics::interval`), differences all −0.1: interval [−0.1, −0.1]. The cohort
    /// `minors` has a baseline row in replicate 0 only.
    #[test]
    fn differences_pair_each_arm_with_the_baseline_replicate_by_replicate() {
        let finals = vec![
            row(0, 0, "all", [10.0, 0.1]),
            row(1, 0, "all", [11.0, 0.0]),
            row(0, 0, "minors", [5.0, 0.5]),
            row(1, 0, "minors", [6.0, 0.5]),
            row(0, 1, "all", [12.0, 0.2]),
            row(1, 1, "all", [14.0, 0.1]),
            row(1, 1, "minors", [7.0, 0.5]),
            row(0, 2, "all", [14.0, 0.3]),
            row(1, 2, "all", [14.0, 0.2]),
        ];
        let columns = ["watch_minutes".to_string(), "in_rabbit_hole".to_string()];
        let arms = ["base".to_string(), "alt".to_string()];
        let csv = String::from_utf8(comparison_from_written(&arms, 0, &columns, &finals)).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "arm,cohort,metric,mean,lo,hi,diff,diff_lo,diff_hi,n,note"
        );
        assert_eq!(
            lines[1],
            "base,all,watch_minutes,12.000000,7.031324,16.968676,,,,3,baseline arm"
        );
        assert_eq!(
            lines[4],
            "base,minors,in_rabbit_hole,0.500000,,,,,,1,one replicate: no interval; baseline arm"
        );
        assert_eq!(
            lines[5],
            "alt,all,watch_minutes,13.000000,8.697000,17.303000,1.000000,-1.484338,3.484338,3,"
        );
        assert_eq!(
            lines[6],
            "alt,all,in_rabbit_hole,0.100000,0.011543,0.513896,-0.100000,-0.100000,-0.100000,3,"
        );
        assert_eq!(
            lines[7],
            "alt,minors,watch_minutes,6.500000,0.147000,12.853000,1.000000,,,2,\
             one replicate paired with the baseline: no interval for the difference"
        );
        assert_eq!(lines.len(), 9);
    }
}
