//! A run directory's tables as the charts read them: `timeseries.csv` averaged over replicates
//! step by step, `summary.csv` looked up by (arm, cohort, metric), and the few manifest fields
//! the charts and the report show. Only columns that exist are read, so the charts follow the
//! files (a merged run, a run with columns other issues added, an older run).

use super::PlotError;
use crate::metrics::Metric;
use crate::metrics::columns::GROUP_EXPOSURE;
use std::collections::BTreeMap;

/// A CSV file held as text, with its columns by name. Empty cells are "no value".
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<csv::StringRecord>,
}

impl Table {
    /// Parses `bytes`; `file` names the file in errors.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Table, PlotError> {
        let bad = |e: csv::Error| PlotError::Csv {
            file: file.to_string(),
            message: e.to_string(),
        };
        let mut reader = csv::Reader::from_reader(bytes);
        let header = reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader.records().collect::<Result<Vec<_>, _>>().map_err(bad)?;
        Ok(Table { header, rows })
    }

    /// The column names, in file order.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The rows, in file order.
    pub fn rows(&self) -> &[csv::StringRecord] {
        &self.rows
    }

    /// The cell of column `name` in `row`, when the file has the column and the cell a value.
    pub fn get<'a>(&self, row: &'a csv::StringRecord, name: &str) -> Option<&'a str> {
        self.text(row, self.col(name)).filter(|t| !t.is_empty())
    }

    /// The number in column `name` of `row`, when there is one.
    pub fn num(&self, row: &csv::StringRecord, name: &str) -> Option<f64> {
        self.number(row, self.col(name))
    }

    /// Index of column `name`, if the file has it.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn text<'a>(&self, row: &'a csv::StringRecord, col: Option<usize>) -> Option<&'a str> {
        col.and_then(|c| row.get(c))
    }

    fn number(&self, row: &csv::StringRecord, col: Option<usize>) -> Option<f64> {
        self.text(row, col)
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|x| x.is_finite())
    }
}

/// A summary value: the mean over replicates and, with two or more replicates, its 95 %
/// interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub interval: Option<(f64, f64)>,
}

impl Estimate {
    /// The interval's low end, or the mean when there is no interval.
    pub fn lo(&self) -> f64 {
        self.interval.map_or(self.mean, |(lo, _)| lo)
    }

    /// The interval's high end, or the mean when there is no interval.
    pub fn hi(&self) -> f64 {
        self.interval.map_or(self.mean, |(_, hi)| hi)
    }
}

/// One point of a curve: minutes of use and the metric, both averaged over replicates at one
/// step.
pub type Point = (f64, f64);

/// At most this many points per curve: more add bytes, not detail, at chart resolution.
const MAX_POINTS: usize = 600;

/// Everything the charts and the report read from a run directory.
#[derive(Debug, Clone)]
pub struct Run {
    /// The scenario's name (the manifest's, else the directory's).
    pub name: String,
    /// The scenario's description; empty when none.
    pub description: String,
    /// The manifest as written, when there is one.
    pub manifest: Option<serde_json::Value>,
    /// Arms in scenario order (the order of `summary.csv`, else of `timeseries.csv`).
    pub arms: Vec<String>,
    /// Cohorts in the order the files give them; `all` first when present.
    pub cohorts: Vec<String>,
    /// Replicates per arm (the largest count in `timeseries.csv`).
    pub replicates: usize,
    /// The policy kind of each arm, from `summary.csv` (empty when unknown).
    pub policies: BTreeMap<String, String>,
    pub timeseries: Table,
    pub summary: Table,
    /// `comparison.csv` and `bot_summary.csv`, when the directory has them.
    pub comparison: Option<Table>,
    pub bots: Option<Table>,
    /// (step, row index) of `timeseries` by (arm, cohort), one list per replicate, by step.
    series: BTreeMap<(String, String), Vec<Replicate>>,
}

/// One replicate's rows of an arm and cohort: (step, row index of `timeseries`), by step.
type Replicate = Vec<(u64, usize)>;

/// The cohort every run has: all viewers.
pub const ALL: &str = "all";

impl Run {
    /// Builds a run from the files' bytes. `fallback_name` names the scenario when there is no
    /// manifest (the directory's name).
    pub fn parse(
        timeseries: &[u8],
        summary: &[u8],
        manifest: Option<&[u8]>,
        fallback_name: &str,
    ) -> Result<Run, PlotError> {
        let timeseries = Table::parse("timeseries.csv", timeseries)?;
        let summary = Table::parse("summary.csv", summary)?;
        let manifest: Option<serde_json::Value> = manifest
            .map(|bytes| serde_json::from_slice(bytes).map_err(|e| PlotError::Manifest(e.to_string())))
            .transpose()?;
        require_columns(&timeseries, &summary)?;
        let scenario = manifest.as_ref().and_then(|m| m.pointer("/scenario/scenario"));
        let field = |key: &str| {
            scenario
                .and_then(|s| s.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let name = field("name").unwrap_or_else(|| fallback_name.to_string());
        let description = field("description").unwrap_or_default();

        let mut arms = Vec::new();
        let mut cohorts = Vec::new();
        let mut policies = BTreeMap::new();
        let (s_arm, s_cohort, s_policy) = (summary.col("arm"), summary.col("cohort"), summary.col("policy"));
        for row in &summary.rows {
            let arm = summary.text(row, s_arm).unwrap_or_default().to_string();
            push_new(&mut cohorts, summary.text(row, s_cohort).unwrap_or(ALL));
            if let Some(p) = summary.text(row, s_policy) {
                policies.entry(arm.clone()).or_insert_with(|| p.to_string());
            }
            push_new(&mut arms, &arm);
        }
        let (series, replicates) = series(&timeseries, &mut arms, &mut cohorts);
        if let Some(pos) = cohorts.iter().position(|c| c == ALL) {
            let all = cohorts.remove(pos);
            cohorts.insert(0, all);
        }
        Ok(Run {
            name,
            description,
            manifest,
            arms,
            cohorts,
            replicates,
            policies,
            timeseries,
            summary,
            comparison: None,
            bots: None,
            series,
        })
    }

    /// Whether `timeseries.csv` holds means over replicates (`--timeseries mean`): it has a
    /// `replicates` column and no `replicate` column.
    pub fn is_mean_form(&self) -> bool {
        self.has_series("replicates") && !self.has_series("replicate")
    }

    /// Whether `timeseries.csv` has column `name`.
    pub fn has_series(&self, name: &str) -> bool {
        self.timeseries.col(name).is_some()
    }

    /// A curve of `column` against minutes of use for one arm and cohort: at each step, the mean
    /// over replicates of `mean_minutes` and of `column` (over the replicates that have a value).
    /// A replicate that has ended (all its viewers have used their minutes) counts with its
    /// last row, so the mean does not jump when replicates end at different steps. Steps where
    /// no replicate has a value are left out; long curves are thinned evenly, keeping the last
    /// point.
    pub fn curve(&self, arm: &str, cohort: &str, column: &str) -> Vec<Point> {
        let points = self.per_step(arm, cohort, column, |x, values| {
            Some((x, values.iter().sum::<f64>() / values.len() as f64))
        });
        thin(points)
    }

    /// The 95 % interval over replicates of the curve [`Run::curve`] draws, as (minutes, low,
    /// high), at the steps where two or more replicates have a value.
    /// In a `timeseries.csv` averaged over replicates (`--timeseries mean`), the interval is the
    /// file's own (`<column>_lo`, `<column>_hi`).
    pub fn curve_interval(&self, arm: &str, cohort: &str, column: &str) -> Vec<(f64, f64, f64)> {
        if self.is_mean_form() {
            let lo = self.per_step(arm, cohort, &format!("{column}_lo"), |x, v| Some((x, v[0])));
            let hi = self.per_step(arm, cohort, &format!("{column}_hi"), |x, v| Some((x, v[0])));
            let band = lo
                .into_iter()
                .zip(hi)
                .filter(|((x, _), (x_hi, _))| x == x_hi)
                .map(|((x, lo), (_, hi))| (x, lo, hi))
                .collect();
            return thin(band);
        }
        let band = self.per_step(arm, cohort, column, |x, values| {
            let (_, interval) = crate::metrics::mean_interval(values)?;
            interval.map(|(lo, hi)| (x, lo, hi))
        });
        thin(band)
    }

    /// `at(minutes, values)` at each step of one arm and cohort, where `values` are the
    /// replicates' values of `column` and `minutes` the mean over replicates of `mean_minutes`.
    /// A replicate that has ended (all its viewers have used their minutes) counts with its
    /// last row, so the mean does not jump when replicates end at different steps. Steps where
    /// no replicate has a value are left out.
    fn per_step<T>(
        &self,
        arm: &str,
        cohort: &str,
        column: &str,
        at: impl Fn(f64, &[f64]) -> Option<T>,
    ) -> Vec<T> {
        let (Some(x_col), Some(y_col)) = (
            self.timeseries.col(Metric::MeanMinutes.name()),
            self.timeseries.col(column),
        ) else {
            return Vec::new();
        };
        let Some(reps) = self.series.get(&(arm.to_string(), cohort.to_string())) else {
            return Vec::new();
        };
        let mut steps: Vec<u64> = reps.iter().flatten().map(|&(step, _)| step).collect();
        steps.sort_unstable();
        steps.dedup();
        let mut points = Vec::with_capacity(steps.len());
        let mut rows = Vec::with_capacity(reps.len());
        for step in steps {
            // Each replicate's row at this step, or its last row before it.
            rows.clear();
            rows.extend(reps.iter().filter_map(|rep| {
                let n = rep.partition_point(|&(s, _)| s <= step);
                (n > 0).then(|| &self.timeseries.rows[rep[n - 1].1])
            }));
            let values = |col: usize| -> Vec<f64> {
                rows.iter()
                    .filter_map(|r| self.timeseries.number(r, Some(col)))
                    .collect()
            };
            let (xs, ys) = (values(x_col), values(y_col));
            if xs.is_empty() || ys.is_empty() {
                continue;
            }
            if let Some(p) = at(xs.iter().sum::<f64>() / xs.len() as f64, &ys) {
                points.push(p);
            }
        }
        points
    }

    /// The summary of `metric` for one arm and cohort (`<metric>_mean`, `_lo`, `_hi`), when
    /// `summary.csv` has a value.
    pub fn estimate(&self, arm: &str, cohort: &str, metric: &str) -> Option<Estimate> {
        let s = &self.summary;
        let (c_arm, c_cohort) = (s.col("arm"), s.col("cohort"));
        let row = s
            .rows
            .iter()
            .find(|r| s.text(r, c_arm) == Some(arm) && s.text(r, c_cohort).unwrap_or(ALL) == cohort)?;
        let mean = s.number(row, s.col(&format!("{metric}_mean")))?;
        let lo = s.number(row, s.col(&format!("{metric}_lo")));
        let hi = s.number(row, s.col(&format!("{metric}_hi")));
        Some(Estimate {
            mean,
            interval: lo.zip(hi),
        })
    }

    /// The metrics `summary.csv` gives (every `<metric>_mean` column), in file order.
    pub fn summary_metrics(&self) -> Vec<String> {
        self.summary
            .header()
            .iter()
            .filter_map(|h| h.strip_suffix("_mean"))
            .map(str::to_string)
            .collect()
    }

    /// The creator groups named by `group_exposure_<g>` columns, in file order.
    pub fn groups(&self) -> Vec<String> {
        self.summary_metrics()
            .iter()
            .filter_map(|m| GROUP_EXPOSURE.group_of(m).map(str::to_string))
            .collect()
    }

    /// A manifest field by JSON pointer (`/seed`), when there is one.
    pub fn manifest_field(&self, pointer: &str) -> Option<&serde_json::Value> {
        self.manifest.as_ref().and_then(|m| m.pointer(pointer))
    }

    /// Viewers per replicate: the manifest's `users`, else `summary.csv`'s.
    pub fn users(&self) -> Option<u64> {
        if let Some(u) = self.manifest_field("/users").and_then(|v| v.as_u64()) {
            return Some(u);
        }
        let s = &self.summary;
        let row = s.rows.first()?;
        s.number(row, s.col("users")).map(|u| u.round() as u64)
    }

    /// The window of the feed metrics in impressions, from the manifest.
    pub fn window(&self) -> Option<u64> {
        self.manifest_field("/scenario/metrics/window")
            .and_then(|v| v.as_u64())
    }
}

/// Fails naming the first column the charts need that a file lacks.
fn require_columns(timeseries: &Table, summary: &Table) -> Result<(), PlotError> {
    for (file, table, required) in [
        (
            "timeseries.csv",
            timeseries,
            &["arm", "step", Metric::MeanMinutes.name()][..],
        ),
        ("summary.csv", summary, &["arm"][..]),
    ] {
        for column in required {
            if table.col(column).is_none() {
                return Err(PlotError::MissingColumn {
                    file: file.to_string(),
                    column: column.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// The rows of `timeseries` by (arm, cohort), one list per replicate sorted by step, and the
/// largest number of replicates of any; adds arms and cohorts not seen yet.
fn series(
    timeseries: &Table,
    arms: &mut Vec<String>,
    cohorts: &mut Vec<String>,
) -> (BTreeMap<(String, String), Vec<Replicate>>, usize) {
    let (t_arm, t_cohort, t_step, t_rep) = (
        timeseries.col("arm"),
        timeseries.col("cohort"),
        timeseries.col("step"),
        timeseries.col("replicate"),
    );
    let mut series: BTreeMap<(String, String), BTreeMap<String, Replicate>> = BTreeMap::new();
    for (i, row) in timeseries.rows.iter().enumerate() {
        let arm = timeseries.text(row, t_arm).unwrap_or_default();
        let cohort = timeseries.text(row, t_cohort).unwrap_or(ALL);
        push_new(arms, arm);
        push_new(cohorts, cohort);
        let rep = timeseries.text(row, t_rep).unwrap_or("0");
        let Some(step) = timeseries.text(row, t_step).and_then(|s| s.parse::<u64>().ok()) else {
            continue;
        };
        series
            .entry((arm.to_string(), cohort.to_string()))
            .or_default()
            .entry(rep.to_string())
            .or_default()
            .push((step, i));
    }
    // Averaged over replicates (`--timeseries mean`), the count is the file's own.
    let mut replicates = match (t_rep, timeseries.col("replicates")) {
        (None, Some(count)) => timeseries
            .rows
            .iter()
            .filter_map(|r| timeseries.text(r, Some(count))?.parse::<usize>().ok())
            .max()
            .unwrap_or(0),
        _ => 0,
    };
    let series = series
        .into_iter()
        .map(|(key, reps)| {
            replicates = replicates.max(reps.len());
            let mut reps: Vec<Replicate> = reps.into_values().collect();
            for rows in &mut reps {
                rows.sort_unstable();
            }
            (key, reps)
        })
        .collect();
    (series, replicates)
}

fn push_new(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

/// Keeps at most [`MAX_POINTS`] evenly spaced points, always the first and the last.
fn thin<T: Copy + PartialEq>(points: Vec<T>) -> Vec<T> {
    let n = points.len();
    if n <= MAX_POINTS {
        return points;
    }
    let stride = n.div_ceil(MAX_POINTS);
    let last = points[n - 1];
    let mut kept: Vec<T> = points.into_iter().step_by(stride).collect();
    if kept.last() != Some(&last) {
        kept.push(last);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMESERIES: &str = "\
arm,replicate,cohort,step,mean_minutes,feed_entropy
a,0,all,0,1.0,
a,1,all,0,3.0,
a,0,all,1,2.0,0.5
a,1,all,1,4.0,
b,0,all,0,1.0,0.9
";
    const SUMMARY: &str = "\
arm,cohort,policy,users,feed_entropy_mean,feed_entropy_lo,feed_entropy_hi
b,all,random,10,0.9,,
a,all,engagement,10,0.5,0.4,0.6
";

    fn run() -> Run {
        Run::parse(TIMESERIES.as_bytes(), SUMMARY.as_bytes(), None, "dir").unwrap()
    }

    #[test]
    fn curves_average_over_replicates_and_skip_empty_cells() {
        let run = run();
        assert_eq!(run.curve("a", ALL, "feed_entropy"), [(3.0, 0.5)]);
        assert_eq!(run.curve("a", ALL, "mean_minutes"), [(2.0, 2.0), (3.0, 3.0)]);
        assert!(run.curve("a", ALL, "no_such_column").is_empty());
        assert!(run.curve("c", ALL, "feed_entropy").is_empty());
    }

    #[test]
    fn a_replicate_that_ended_counts_with_its_last_row() {
        let ts =
            "arm,replicate,step,mean_minutes,in_rabbit_hole\na,0,0,1.0,0.0\na,1,0,1.0,0.2\na,1,1,3.0,0.4\n";
        let run = Run::parse(ts.as_bytes(), SUMMARY.as_bytes(), None, "x").unwrap();
        assert_eq!(run.curve("a", ALL, "in_rabbit_hole"), [(1.0, 0.1), (2.0, 0.2)]);
        // Values 0 and 0.2 at step 0, 0 and 0.4 at step 1: mean ± 12.706 × sd / sqrt 2.
        let band = run.curve_interval("a", ALL, "in_rabbit_hole");
        assert_eq!(band.len(), 2);
        let (x, lo, hi) = band[1];
        assert_eq!(x, 2.0);
        assert!(
            (hi - 0.2 - 12.706 * 0.2).abs() < 1e-3 && (0.2 - lo - 12.706 * 0.2).abs() < 1e-3,
            "{lo} {hi}"
        );
    }

    #[test]
    fn a_timeseries_of_means_is_drawn_with_its_own_interval() {
        let ts = "arm,cohort,step,replicates,viewers,mean_minutes,mean_minutes_lo,mean_minutes_hi,in_rabbit_hole,in_rabbit_hole_lo,in_rabbit_hole_hi\n\
                  a,all,0,3,10.000000,1.0,0.5,1.5,0.1,0.05,0.2\n\
                  a,all,1,3,10.000000,2.0,1.5,2.5,0.3,,\n";
        let run = Run::parse(ts.as_bytes(), SUMMARY.as_bytes(), None, "x").unwrap();
        assert!(run.is_mean_form());
        assert_eq!(run.replicates, 3);
        assert_eq!(run.curve("a", ALL, "in_rabbit_hole"), [(1.0, 0.1), (2.0, 0.3)]);
        assert_eq!(run.curve_interval("a", ALL, "in_rabbit_hole"), [(1.0, 0.05, 0.2)]);
    }

    #[test]
    fn arms_follow_the_summary_and_the_name_falls_back() {
        let run = run();
        assert_eq!(run.arms, ["b", "a"]);
        assert_eq!(run.cohorts, [ALL]);
        assert_eq!(run.replicates, 2);
        assert_eq!(run.name, "dir");
        assert_eq!(run.policies["a"], "engagement");
        assert_eq!(run.users(), Some(10));
    }

    #[test]
    fn estimates_carry_their_interval_when_there_is_one() {
        let run = run();
        let a = run.estimate("a", ALL, "feed_entropy").unwrap();
        assert_eq!((a.mean, a.lo(), a.hi()), (0.5, 0.4, 0.6));
        let b = run.estimate("b", ALL, "feed_entropy").unwrap();
        assert_eq!(b.interval, None);
        assert_eq!(b.lo(), 0.9);
        assert!(run.estimate("a", ALL, "watch_minutes").is_none());
    }

    #[test]
    fn missing_required_columns_are_named() {
        let err = Run::parse(b"arm,step\n", SUMMARY.as_bytes(), None, "x").unwrap_err();
        assert!(err.to_string().contains("mean_minutes"), "{err}");
    }

    #[test]
    fn thinning_keeps_the_ends() {
        let points: Vec<Point> = (0..1500).map(|i| (f64::from(i), 0.0)).collect();
        let kept = thin(points);
        assert!(kept.len() <= MAX_POINTS + 1);
        assert_eq!(kept.first(), Some(&(0.0, 0.0)));
        assert_eq!(kept.last(), Some(&(1499.0, 0.0)));
    }
}
