//! Result files: pure serialisers (`*_csv`, [`manifest_json`]; the audit bots' files in
//! `bots.rs`), the impression log's streaming writer, and the functions that touch the disk,
//! [`write_run_dir`] (with [`begin_run_dir`] and [`finish_run_dir`] for a file written as the
//! run goes), which write into a temporary directory beside the target and rename it into
//! place, so a run directory is complete or absent.

use crate::engine::{Cohort, Results, TimeRow};
use crate::metrics::columns::{GROUP_METRICS, Summary, Unit, find as metric_of_column};
use crate::metrics::{Metric, interval};
use serde::Serialize;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

mod bots;
mod comparison;
mod csv_style;
mod impressions;
mod mean;

pub use bots::{bot_summary_csv, bots_csv};
pub use comparison::{comparison_csv, comparison_from_written};
pub use csv_style::{CsvStyle, restyle, style_of_manifest, to_standard, to_style};
pub use impressions::{
    BATCH_ROWS as IMPRESSION_BATCH_ROWS, COLUMNS as IMPRESSION_COLUMNS, ImpressionWriter, impressions_parquet,
};
pub use mean::{MEAN_KEYS, TimeseriesForm, timeseries_mean_csv};

/// `n` and `noun`, plural unless `n` is 1: "1 arm", "2 arms", "0 arms". Every count printed
/// for a person goes through it.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A number as written in every CSV: six decimals, empty for NaN (no value).
fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.6}")
    }
}

/// The metric columns' names, then the group columns', in column order.
fn value_columns(results: &Results) -> Vec<String> {
    let mut cols: Vec<String> = Metric::written(results.safety)
        .map(|m| m.name().to_string())
        .collect();
    cols.extend(group_columns(results));
    cols
}

/// The group columns: each per-group metric over all groups, in [`GROUP_METRICS`] order.
fn group_columns(results: &Results) -> impl Iterator<Item = String> + '_ {
    GROUP_METRICS
        .iter()
        .flat_map(|d| results.group_names.iter().map(|g| d.column(g)))
}

/// A row's values in the order of [`value_columns`].
fn row_values(results: &Results, r: &TimeRow) -> Vec<f64> {
    Metric::written(results.safety)
        .map(|m| r[m])
        .chain(r.group_values().into_iter().flatten().copied())
        .collect()
}

fn to_bytes(build: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    build(&mut w).expect("writing CSV to memory cannot fail");
    w.into_inner().expect("flushing to memory cannot fail")
}

/// `timeseries.csv`: one row per (arm, replicate, step).
pub fn timeseries_csv(results: &Results) -> Vec<u8> {
    to_bytes(|w| {
        let mut header: Vec<String> = TIMESERIES_KEYS.iter().map(|k| k.to_string()).collect();
        if results.timeseries.is_empty() {
            header.extend(group_columns(results));
        } else {
            header.extend(value_columns(results));
        }
        w.write_record(&header)?;
        for r in &results.timeseries {
            let mut rec = vec![
                results.arm_names[r.arm].clone(),
                r.replicate.to_string(),
                r.cohort.name().to_string(),
                r.step.to_string(),
                r.viewers.to_string(),
            ];
            rec.extend(row_values(results, r).into_iter().map(num));
            w.write_record(&rec)?;
        }
        Ok(())
    })
}

/// The number a CSV cell holds: `x` rounded to the six decimals it is written with (NaN stays
/// NaN, written empty).
fn as_written(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else {
        num(x).parse().expect("a formatted number parses")
    }
}

/// The key columns of `timeseries.csv`, before the value columns.
pub const TIMESERIES_KEYS: [&str; 5] = ["arm", "replicate", "cohort", "step", "viewers"];

/// One (replicate, arm, cohort)'s final `timeseries.csv` row, as written: what `summary.csv`
/// is computed from, by a run and by `merge` alike.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenFinal {
    /// Index of the arm in the scenario.
    pub arm: usize,
    pub replicate: u32,
    pub cohort: String,
    pub viewers: u32,
    /// The value columns (all but [`TIMESERIES_KEYS`]) in header order; NaN where empty.
    pub values: Vec<f64>,
}

/// `summary.csv`: one row per (arm, cohort); each headline metric's mean and 95 % interval
/// over replicates, from each replicate's final row as written in `timeseries.csv` (six
/// decimals), so that merged shards give the same bytes.
pub fn summary_csv(results: &Results) -> Vec<u8> {
    if results.finals.is_empty() {
        return Vec::new();
    }
    let (columns, finals) = written_finals(results);
    summary_from_written(&results.arm_names, &results.policies, &columns, &finals)
}

/// The value columns and each final row as written in `timeseries.csv`.
fn written_finals(results: &Results) -> (Vec<String>, Vec<WrittenFinal>) {
    let columns = value_columns(results);
    let finals: Vec<WrittenFinal> = results
        .finals
        .iter()
        .map(|r| WrittenFinal {
            arm: r.arm,
            replicate: r.replicate,
            cohort: r.cohort.name().to_string(),
            viewers: r.viewers,
            values: row_values(results, r).into_iter().map(as_written).collect(),
        })
        .collect();
    (columns, finals)
}

/// The columns `summary.csv` summarises, as the metric's definition says; a column the table
/// does not know (a run written by another version) is summarised.
fn summarised(columns: &[String]) -> Vec<usize> {
    (0..columns.len())
        .filter(|&c| metric_of_column(&columns[c]).is_none_or(|(d, _)| d.summary == Summary::MeanInterval))
        .collect()
}

/// Whether `column` is a share, whose interval stays inside [0, 1].
fn is_share(column: &str) -> bool {
    metric_of_column(column).is_some_and(|(d, _)| d.unit == Unit::Share)
}

/// `summary.csv` from final rows as written; `columns` names their values. Rows are per
/// (arm, cohort), arms in scenario order, cohorts in the order they first appear; values
/// are taken in the order of `finals` (replicate order).
pub fn summary_from_written(
    arm_names: &[String],
    policies: &[String],
    columns: &[String],
    finals: &[WrittenFinal],
) -> Vec<u8> {
    to_bytes(|w| {
        if finals.is_empty() {
            return Ok(());
        }
        let summarised = summarised(columns);
        let mut header = vec![
            "arm".to_string(),
            "cohort".into(),
            "policy".into(),
            "users".into(),
            "users_min".into(),
            "users_max".into(),
            "replicates".into(),
        ];
        for &c in &summarised {
            let n = &columns[c];
            header.extend([format!("{n}_mean"), format!("{n}_lo"), format!("{n}_hi")]);
        }
        w.write_record(&header)?;
        for (arm, cohort) in arm_cohorts(finals) {
            let rows: Vec<&WrittenFinal> = finals
                .iter()
                .filter(|r| r.arm == arm && r.cohort == cohort)
                .collect();
            // Cohort sizes can differ by replicate; the mean is reported.
            let users = rows.iter().map(|r| f64::from(r.viewers)).sum::<f64>() / rows.len() as f64;
            let counts = rows.iter().map(|r| r.viewers);
            let mut rec = vec![
                arm_names[arm].clone(),
                cohort.clone(),
                policies[arm].clone(),
                format!("{users:.1}").trim_end_matches(".0").to_string(),
                counts.clone().min().unwrap_or(0).to_string(),
                counts.max().unwrap_or(0).to_string(),
                rows.len().to_string(),
            ];
            for &c in &summarised {
                let values: Vec<f64> = rows.iter().map(|r| r.values[c]).collect();
                rec.extend(mean_interval_cells(&values, is_share(&columns[c])));
            }
            w.write_record(&rec)?;
        }
        Ok(())
    })
}

/// The cells `<metric>_mean`, `<metric>_lo`, `<metric>_hi` of `values` over replicates (NaN
/// left out): empty where there is no value, and the interval empty with one value; a
/// `share`'s interval stays inside [0, 1] ([`interval::share_interval`]).
fn mean_interval_cells(values: &[f64], share: bool) -> [String; 3] {
    comparison::cells(interval::estimate(values, share))
}

/// The (arm, cohort) pairs of the final rows, arms in scenario order, cohorts in the order
/// they first appear.
fn arm_cohorts(finals: &[WrittenFinal]) -> Vec<(usize, String)> {
    let mut pairs: Vec<(usize, String)> = Vec::new();
    for r in finals {
        if !pairs.iter().any(|(a, c)| *a == r.arm && *c == r.cohort) {
            pairs.push((r.arm, r.cohort.clone()));
        }
    }
    pairs.sort_by_key(|&(arm, _)| arm);
    pairs
}

/// `users.csv`: one row per (arm, replicate, user) at the end of the run; in a scenario with
/// the safety features, audit bots included, with the columns `vulnerable` and `bot`; with a
/// taste space, the taste columns last.
pub fn users_csv(results: &Results) -> Vec<u8> {
    to_bytes(|w| {
        let header = [
            "arm",
            "replicate",
            "user",
            "minor",
            "switcher",
            "minutes",
            "watch_minutes",
            "impressions",
            "sessions",
            "days",
            "feed_entropy",
            "top_topic_share",
            "in_rabbit_hole",
            "minutes_to_rabbit_hole",
            "interest_drift",
            "profile_error",
            "sensitive_share",
            "stance_start",
            "stance_end",
            "follows",
            "top_interest",
            "second_interest",
            "top_interest_start",
            "second_interest_start",
            "follows_initial",
            "active_days",
            "habit",
        ];
        let safety: &[&str] = if results.safety {
            &["vulnerable", "bot"]
        } else {
            &[]
        };
        let taste: &[&str] = if results.taste {
            &["taste_shift", "shown_match", "watched_match"]
        } else {
            &[]
        };
        w.write_record(header.iter().chain(safety).chain(taste))?;
        for u in &results.user_rows {
            let mut rec = vec![
                results.arm_names[u.arm].clone(),
                u.replicate.to_string(),
                u.user.to_string(),
                u8::from(u.minor).to_string(),
                u8::from(u.switcher).to_string(),
                num(u.minutes),
                num(u.watch_minutes),
                u.impressions.to_string(),
                u.sessions.to_string(),
                u.days.to_string(),
                num(u.feed_entropy),
                num(u.top_topic_share),
                u8::from(u.in_rabbit_hole).to_string(),
                num(u.minutes_to_rabbit_hole),
                num(u.interest_drift),
                num(u.profile_error),
                num(u.sensitive_share),
                num(u.stance_start),
                num(u.stance_end),
                u.follows.to_string(),
                results.topic_names[u.top_interest as usize].clone(),
                results.topic_names[u.second_interest as usize].clone(),
                results.topic_names[u.top_interest_start as usize].clone(),
                results.topic_names[u.second_interest_start as usize].clone(),
                u.follows_initial.to_string(),
                u.active_days.to_string(),
                num(u.habit),
            ];
            if results.safety {
                rec.extend([u8::from(u.vulnerable).to_string(), u8::from(u.bot).to_string()]);
            }
            if let Some(taste) = u.taste {
                rec.extend(taste.map(num));
            }
            w.write_record(&rec)?;
        }
        Ok(())
    })
}

/// The provenance of a run, written as `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub program: &'static str,
    pub version: &'static str,
    pub git_commit: Option<&'static str>,
    pub scenario_file: String,
    pub seed: u64,
    pub replicates: u32,
    pub users: u32,
    pub threads: usize,
    pub start_time: String,
    pub wall_seconds: f64,
    pub viewer_steps: u64,
    pub viewer_steps_per_second: f64,
    pub command_line: Vec<String>,
    pub files: Vec<String>,
    /// The style of the CSV files (absent for the standard style, comma-separated).
    #[serde(skip_serializing_if = "CsvStyle::is_standard")]
    pub csv_style: CsvStyle,
    /// The form of `timeseries.csv` (absent for the default, one row per replicate).
    #[serde(skip_serializing_if = "TimeseriesForm::is_replicates")]
    pub timeseries: TimeseriesForm,
    /// For one shard of a run: which one, and the replicates it ran (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::ShardRecord>,
    /// The scenario as resolved: every default filled in, every override applied.
    pub scenario: crate::scenario::Scenario,
}

/// `manifest.json`, pretty-printed.
pub fn manifest_json(manifest: &Manifest) -> Vec<u8> {
    json_file(manifest)
}

/// `value` as a pretty-printed JSON file (the manifests), ending in a newline.
pub fn json_file<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("manifests always serialise");
    bytes.push(b'\n');
    bytes
}

/// The files that mark a directory as one `run`, `merge` or `sweep` wrote, which `--force`
/// may replace.
pub const RESULTS_MARKERS: [&str; 2] = ["manifest.json", "sweep.json"];

/// The directory that holds `dir` (`.` for a bare name) and `dir`'s own name.
pub fn parent_and_name(dir: &Path) -> io::Result<(PathBuf, String)> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no directory", dir.display()),
        )
    })?;
    Ok((parent, name.to_string_lossy().into_owned()))
}

/// The temporary directory this process writes `dir` into: `.<name>.tmp-<pid>` beside it.
pub fn temp_dir(dir: &Path) -> io::Result<PathBuf> {
    let (parent, name) = parent_and_name(dir)?;
    Ok(parent.join(format!(".{name}.tmp-{}", std::process::id())))
}

/// Refuses `dir` when it exists, unless `force` and it is a results or sweep directory (it
/// holds one of [`RESULTS_MARKERS`]): `--force` never deletes anything else.
pub fn check_replaceable(dir: &Path, force: bool) -> io::Result<()> {
    let refuse = |why: String| Err(io::Error::new(io::ErrorKind::AlreadyExists, why));
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return refuse(format!(
            "{} exists and is not a results directory; choose another --out",
            dir.display()
        ));
    }
    if !force {
        return refuse(format!("{} exists; pass --force to replace it", dir.display()));
    }
    if !RESULTS_MARKERS.iter().any(|m| dir.join(m).is_file()) {
        return refuse(format!(
            "{} is not a results or sweep directory (it has no {}), so --force does not replace it; choose another --out",
            dir.display(),
            RESULTS_MARKERS.join(" or ")
        ));
    }
    Ok(())
}

/// Writes `files` (name, bytes) as the run directory `dir`, atomically.
///
/// The files go to a temporary directory beside `dir`, which is renamed into place only when
/// all are written. An existing `dir` is refused unless `force` and it is a results or sweep
/// directory ([`check_replaceable`], checked again here, as the directory may have appeared
/// since), and then replaced only after the new one is complete.
pub fn write_run_dir(dir: &Path, files: &[(&str, Vec<u8>)], force: bool) -> io::Result<()> {
    begin_run_dir(dir)?;
    finish_run_dir(dir, files, force)
}

/// Creates the temporary directory of `dir` ([`temp_dir`]), empty, for a run that writes
/// files into it as it goes (`impressions.parquet`); returns its path. [`finish_run_dir`]
/// adds the other files and renames it into place.
pub fn begin_run_dir(dir: &Path) -> io::Result<PathBuf> {
    let (parent, _) = parent_and_name(dir)?;
    std::fs::create_dir_all(&parent)?;
    let tmp = temp_dir(dir)?;
    // A leftover of an earlier process with the same id.
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir(&tmp)?;
    Ok(tmp)
}

/// Writes `files` into the temporary directory [`begin_run_dir`] created, beside what is
/// already there, and renames it into place as `dir` (see [`write_run_dir`]); removes it on
/// failure.
pub fn finish_run_dir(dir: &Path, files: &[(&str, Vec<u8>)], force: bool) -> io::Result<()> {
    let tmp = temp_dir(dir)?;
    let result = (|| {
        check_replaceable(dir, force)?;
        let (parent, name) = parent_and_name(dir)?;
        for (file, bytes) in files {
            // A name may hold subdirectories (the point directories of a sweep).
            if let Some(sub) = Path::new(file).parent() {
                std::fs::create_dir_all(tmp.join(sub))?;
            }
            std::fs::write(tmp.join(file), bytes)?;
        }
        if dir.exists() {
            let old = parent.join(format!(".{name}.old-{}", std::process::id()));
            std::fs::rename(dir, &old)?;
            std::fs::rename(&tmp, dir)?;
            std::fs::remove_dir_all(&old)?;
        } else {
            std::fs::rename(&tmp, dir)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// A short plain-text table of the headline metrics, for the terminal.
pub fn headline_table(results: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:>9} {:>8} {:>10} {:>10} {:>8}",
        "arm", "watch min", "entropy", "in hole %", "ever %", "drift"
    );
    for (arm, name) in results.arm_names.iter().enumerate() {
        let finals: Vec<&TimeRow> = results
            .finals
            .iter()
            .filter(|r| r.arm == arm && r.cohort == Cohort::All)
            .collect();
        let mean = |m: Metric| finals.iter().map(|r| r[m]).sum::<f64>() / finals.len().max(1) as f64;
        let _ = writeln!(
            out,
            "{:<16} {:>9.1} {:>8.3} {:>10.1} {:>10.1} {:>8.3}",
            name,
            mean(Metric::WatchMinutes),
            mean(Metric::FeedEntropy),
            100.0 * mean(Metric::InRabbitHole),
            100.0 * mean(Metric::RabbitHoleEver),
            mean(Metric::InterestDrift),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dir_is_written_whole_and_not_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("results").join("x");
        write_run_dir(&dir, &[("a.csv", b"1\n".to_vec())], false).unwrap();
        assert_eq!(std::fs::read(dir.join("a.csv")).unwrap(), b"1\n");
        let err = write_run_dir(&dir, &[("a.csv", b"2\n".to_vec())], false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(dir.join("a.csv")).unwrap(), b"1\n");
        // --force replaces a results directory only: this one has no manifest yet.
        let err = write_run_dir(&dir, &[("b.csv", b"3\n".to_vec())], true).unwrap_err();
        assert!(
            err.to_string().contains("not a results or sweep directory"),
            "{err}"
        );
        assert_eq!(std::fs::read(dir.join("a.csv")).unwrap(), b"1\n");
        std::fs::write(dir.join("manifest.json"), b"{}\n").unwrap();
        write_run_dir(&dir, &[("b.csv", b"3\n".to_vec())], true).unwrap();
        assert!(!dir.join("a.csv").exists());
        assert_eq!(std::fs::read(dir.join("b.csv")).unwrap(), b"3\n");
        // No temporary directories are left behind.
        let names: Vec<_> = std::fs::read_dir(tmp.path().join("results")).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn numbers_have_fixed_precision_and_nan_is_empty() {
        assert_eq!(num(0.5), "0.500000");
        assert_eq!(num(f64::NAN), "");
    }
}
