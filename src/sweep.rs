//! Sweeps: one scenario run at every point of a grid of parameter values.
//!
//! A grid is one or more axes (`--grid KEY=V1,V2,...`); its points are their cartesian
//! product, the first axis varying slowest. Each point is the scenario with one `--set
//! KEY=VALUE` per axis, and is written as a run directory named after its values
//! ([`Grid::dir_names`]). `sweep.csv` gathers every point's `summary.csv` into one table
//! with a column per swept key ([`sweep_csv`]). The work units of a sweep are (point,
//! replicate) pairs, point by point ([`units`]), which is what `--shard` splits.

use crate::scenario::Scenario;
use crate::shard::Shard;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a `--grid` argument, or the grid as a whole, was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("--grid {arg}: {message}")]
pub struct GridError {
    /// The argument as given.
    pub arg: String,
    /// What was wrong and what is allowed.
    pub message: String,
}

/// One axis of a grid: a dotted scenario key and the values it takes, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

impl Axis {
    /// Parses `KEY=V1,V2,...`. Values are read as `--set` values are (TOML, or else text);
    /// commas inside brackets or quotes do not split (`k=[1, 2],[3, 4]` has two values).
    pub fn parse(arg: &str) -> Result<Axis, GridError> {
        let fail = |message: String| GridError {
            arg: arg.to_string(),
            message,
        };
        let (key, raw) = arg
            .split_once('=')
            .ok_or_else(|| fail("expected KEY=V1,V2,..., e.g. population.users=500,1000".into()))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(|p| p.trim().is_empty()) {
            return Err(fail(format!("{key:?} is not a dotted scenario key")));
        }
        let values = split_values(raw).ok_or_else(|| fail("unbalanced brackets or quotes".into()))?;
        for (i, v) in values.iter().enumerate() {
            if v.is_empty() {
                return Err(fail(format!(
                    "value {} is empty; give values separated by commas",
                    i + 1
                )));
            }
            if values[..i].contains(v) {
                return Err(fail(format!("value {v} is given twice")));
            }
        }
        Ok(Axis {
            key: key.to_string(),
            values,
        })
    }
}

/// Splits at the commas outside brackets, braces and quotes; values are trimmed. `None`
/// when a bracket or a quote is not closed.
fn split_values(raw: &str) -> Option<Vec<String>> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    // After a backslash in a basic ("...") string: the next character is escaped, as in TOML.
    let mut escaped = false;
    for c in raw.chars() {
        match (quote, c) {
            _ if escaped => escaped = false,
            (Some('"'), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                values.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
        current.push(c);
    }
    if depth != 0 || quote.is_some() {
        return None;
    }
    values.push(current.trim().to_string());
    Some(values)
}

/// A value as shown in names and in `sweep.csv`: without the quotes of a TOML string.
pub fn display_value(value: &str) -> &str {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('"') || quoted('\'') {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// Longest directory name made of a point's values; longer ones are numbered instead.
const MAX_NAME: usize = 200;

/// The axes of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

impl Grid {
    /// Parses the `--grid` arguments; a key given twice is refused.
    pub fn parse(args: &[String]) -> Result<Grid, GridError> {
        let mut axes: Vec<Axis> = Vec::with_capacity(args.len());
        for arg in args {
            let axis = Axis::parse(arg)?;
            if axes.iter().any(|a| a.key == axis.key) {
                return Err(GridError {
                    arg: arg.clone(),
                    message: format!("{} is swept twice; give all its values in one --grid", axis.key),
                });
            }
            axes.push(axis);
        }
        Ok(Grid { axes })
    }

    /// The points: each a value index per axis, the first axis varying slowest.
    pub fn points(&self) -> Vec<Vec<usize>> {
        let mut points = vec![Vec::new()];
        for axis in &self.axes {
            points = points
                .into_iter()
                .flat_map(|p| {
                    (0..axis.values.len()).map(move |v| {
                        let mut q = p.clone();
                        q.push(v);
                        q
                    })
                })
                .collect();
        }
        points
    }

    /// The values of `point`, as written.
    pub fn values(&self, point: &[usize]) -> Vec<String> {
        self.axes
            .iter()
            .zip(point)
            .map(|(a, &v)| a.values[v].clone())
            .collect()
    }

    /// The `--set KEY=VALUE` overrides that make `point`.
    pub fn overrides(&self, point: &[usize]) -> Vec<String> {
        self.axes
            .iter()
            .zip(point)
            .map(|(a, &v)| format!("{}={}", a.key, a.values[v]))
            .collect()
    }

    /// The directory name of each point of `points`: `KEY=VALUE` per axis joined by commas
    /// (`population.users=500,arms.engagement.policy.exploration=0.1`), with every
    /// character other than letters, digits and `. _ + -` in keys and values replaced by
    /// `_` and a string value's quotes dropped. Names longer than 200 characters become
    /// `point-<n>` (n from 1). Two points with one name are refused.
    pub fn dir_names(&self, points: &[Vec<usize>]) -> Result<Vec<String>, GridError> {
        let width = points.len().to_string().len();
        let names: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(p, point)| {
                let name = self
                    .axes
                    .iter()
                    .zip(point)
                    .map(|(a, &v)| format!("{}={}", safe(&a.key), safe(display_value(&a.values[v]))))
                    .collect::<Vec<_>>()
                    .join(",");
                if name.len() > MAX_NAME {
                    format!("point-{:0width$}", p + 1)
                } else {
                    name
                }
            })
            .collect();
        for (i, name) in names.iter().enumerate() {
            if let Some(j) = names[..i].iter().position(|n| n == name) {
                return Err(GridError {
                    arg: self.overrides(&points[i]).join(" "),
                    message: format!(
                        "this point and {} would both be written to the directory {name:?}; make the values differ in letters or digits",
                        self.overrides(&points[j]).join(" ")
                    ),
                });
            }
        }
        Ok(names)
    }
}

/// `text` with every character other than ASCII letters, digits and `. _ + -` replaced by `_`.
fn safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The work units of a sweep whose points have `replicates[p]` replicates each: (point,
/// replicate) pairs, point by point, replicates ascending.
pub fn units(replicates: &[u32]) -> Vec<(usize, u32)> {
    replicates
        .iter()
        .enumerate()
        .flat_map(|(p, &n)| (0..n).map(move |r| (p, r)))
        .collect()
}

/// The replicates of each point that `shard` runs (all when `None`).
pub fn shard_replicates(replicates: &[u32], shard: Option<Shard>) -> Vec<Vec<u32>> {
    let mut per_point = vec![Vec::new(); replicates.len()];
    let all = units(replicates);
    let mine = match shard {
        Some(shard) => shard.select(all),
        None => all,
    };
    for (p, r) in mine {
        per_point[p].push(r);
    }
    per_point
}

/// One point of a sweep as recorded in `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    /// Its directory under the sweep directory.
    pub dir: String,
    /// Its value on each axis, as shown in `sweep.csv`.
    pub values: Vec<String>,
}

/// Which shard of a sweep a sweep directory holds, as recorded in `sweep.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepShardRecord {
    pub index: u32,
    pub count: u32,
}

/// The provenance of a sweep, written as `sweep.json` in the sweep directory.
#[derive(Debug, Clone, Serialize)]
pub struct SweepManifest {
    pub program: &'static str,
    pub version: &'static str,
    pub git_commit: Option<&'static str>,
    pub scenario_file: String,
    pub threads: usize,
    pub start_time: String,
    pub wall_seconds: f64,
    pub command_line: Vec<String>,
    /// The swept keys and their values, as given.
    pub grid: Vec<Axis>,
    /// Every point of the grid, in order, whether this shard ran it or not.
    pub points: Vec<PointRecord>,
    /// For one shard of a sweep: which one (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<SweepShardRecord>,
    pub files: Vec<String>,
    /// The style of every CSV file, the points' included (absent for the standard style).
    #[serde(skip_serializing_if = "crate::output::CsvStyle::is_standard")]
    pub csv_style: crate::output::CsvStyle,
    /// The form of the points' `timeseries.csv` (absent for the default, per replicate).
    #[serde(skip_serializing_if = "crate::output::TimeseriesForm::is_replicates")]
    pub timeseries: crate::output::TimeseriesForm,
    /// The scenario as resolved before the grid is applied (with every `--set`).
    pub scenario: Scenario,
}

/// `sweep.csv`: every point's `summary.csv` rows, each preceded by the point's directory
/// (`point`) and its value on each axis (one column per key). `points` holds, per point,
/// its record and its `summary.csv`. Columns missing from a point's summary are empty.
pub fn sweep_csv(keys: &[String], points: &[(&PointRecord, &[u8])]) -> csv::Result<Vec<u8>> {
    let mut tables = Vec::with_capacity(points.len());
    let mut columns: Vec<String> = Vec::new();
    for (_, summary) in points {
        let mut reader = csv::Reader::from_reader(*summary);
        let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
        for h in &header {
            if !columns.contains(h) {
                columns.push(h.clone());
            }
        }
        let rows = reader.records().collect::<csv::Result<Vec<_>>>()?;
        tables.push((header, rows));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(keys.iter().cloned());
    header.extend(columns.iter().cloned());
    w.write_record(&header)?;
    for ((point, _), (point_header, rows)) in points.iter().zip(&tables) {
        // Where each column of the sweep is in this point's summary.
        let at: Vec<Option<usize>> = columns
            .iter()
            .map(|c| point_header.iter().position(|h| h == c))
            .collect();
        for row in rows {
            let mut rec = vec![point.dir.clone()];
            rec.extend(point.values.iter().cloned());
            rec.extend(at.iter().map(|i| i.map_or("", |i| &row[i]).to_string()));
            w.write_record(&rec)?;
        }
    }
    Ok(w.into_inner().expect("flushing to memory cannot fail"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_split(raw: &str, expected: Option<&[&str]>) {
        let got = split_values(raw);
        let expected = expected.map(|e| e.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(got, expected, "{raw}");
    }

    #[test]
    fn values_split_at_top_level_commas() {
        check_split("1,2, 3", Some(&["1", "2", "3"]));
        check_split("[1, 2],[3]", Some(&["[1, 2]", "[3]"]));
        check_split("\"a,b\",c", Some(&["\"a,b\"", "c"]));
        check_split("{ a = 1, b = 2 }", Some(&["{ a = 1, b = 2 }"]));
        check_split("[1,2", None);
        check_split("1],2", None);
        check_split("\"a", None);
    }

    fn grid(args: &[&str]) -> Result<Grid, GridError> {
        Grid::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn points_are_the_cartesian_product_first_axis_slowest() {
        let g = grid(&["a.x=1,2", "b.y=p,q,r"]).unwrap();
        let points = g.points();
        assert_eq!(points.len(), 6);
        assert_eq!(g.overrides(&points[0]), ["a.x=1", "b.y=p"]);
        assert_eq!(g.overrides(&points[1]), ["a.x=1", "b.y=q"]);
        assert_eq!(g.overrides(&points[5]), ["a.x=2", "b.y=r"]);
        let names = g.dir_names(&points).unwrap();
        assert_eq!(names[1], "a.x=1,b.y=q");
    }

    #[test]
    fn an_escaped_quote_stays_inside_its_string() {
        // As TOML and --set read it: a backslash escapes a quote in a basic string only.
        let g = grid(&[r#"d="a\"b","c""#, r#"e='x\',"y""#]).unwrap();
        assert_eq!(g.axes[0].values, [r#""a\"b""#, r#""c""#]);
        assert_eq!(g.axes[1].values, [r#"'x\'"#, r#""y""#]);
    }

    #[test]
    fn names_are_filesystem_safe() {
        let g = grid(&["s.t=\"a/b c\",\"x\"", "v=[1, 2]"]).unwrap();
        let names = g.dir_names(&g.points()).unwrap();
        assert_eq!(names, ["s.t=a_b_c,v=_1__2_", "s.t=x,v=_1__2_"]);
    }

    #[test]
    fn long_names_are_numbered_and_clashing_names_refused() {
        let long = format!("k={}", "9".repeat(250));
        let g = grid(&[long.as_str()]).unwrap();
        assert_eq!(g.dir_names(&g.points()).unwrap(), ["point-1"]);
        let g = grid(&["k=\"a b\",\"a/b\""]).unwrap();
        let err = g.dir_names(&g.points()).unwrap_err();
        assert!(err.message.contains("a_b"), "{err}");
    }

    #[test]
    fn bad_grids_are_refused_with_the_argument() {
        let msg = |args: &[&str]| grid(args).unwrap_err().to_string();
        assert!(msg(&["population.users"]).starts_with("--grid population.users: expected KEY=V1,V2"));
        assert!(msg(&["a..b=1"]).contains("not a dotted scenario key"));
        assert!(msg(&["a=1,,2"]).contains("value 2 is empty"));
        assert!(msg(&["a=\"x\\\""]).contains("unbalanced"));
        assert!(msg(&["a=1,1"]).contains("value 1 is given twice"));
        assert!(msg(&["a=1", "a=2"]).contains("a is swept twice"));
        assert!(msg(&["a=[1"]).contains("unbalanced"));
    }

    #[test]
    fn units_are_point_major_and_shards_split_them() {
        assert_eq!(units(&[2, 1]), [(0, 0), (0, 1), (1, 0)]);
        let first = shard_replicates(&[2, 2], Shard::new(1, 3));
        let second = shard_replicates(&[2, 2], Shard::new(2, 3));
        assert_eq!(first, [vec![0], vec![1]]);
        assert_eq!(second, [vec![1], vec![]]);
        assert_eq!(shard_replicates(&[2], None), [vec![0, 1]]);
    }

    #[test]
    fn sweep_csv_prefixes_every_summary_row_with_its_point() {
        let a = PointRecord {
            dir: "k=1".into(),
            values: vec!["1".into()],
        };
        let b = PointRecord {
            dir: "k=2".into(),
            values: vec!["2".into()],
        };
        let bytes = sweep_csv(
            &["k".to_string()],
            &[
                (&a, b"arm,x_mean\ne,0.5\nr,0.1\n"),
                (&b, b"arm,x_mean,y_mean\ne,0.7,1\n"),
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "point,k,arm,x_mean,y_mean\nk=1,1,e,0.5,\nk=1,1,r,0.1,\nk=2,2,e,0.7,1\n"
        );
    }
}
