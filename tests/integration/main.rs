//! Integration tests: the `rabbithole` binary run on tiny scenarios written into a temporary
//! directory, checked through what a user sees (files, columns, exit codes, messages).
//!
//! Every run passes `--out` inside its own temporary directory and `--quiet`, and scenarios are
//! small (a few hundred viewers, a quarter of an hour of use), so the whole crate runs in
//! seconds. This file holds the shared fixtures; the modules hold the tests.

mod agreement;
mod alternatives;
mod ampliganda;
mod analysts;
mod bad_scenarios;
mod bots;
mod calibrate;
mod collaborative;
mod compat;
mod effects;
mod errors;
mod explain_text;
mod extremes;
mod following;
mod fuzz;
mod golden;
mod habit;
mod impressions;
mod invariants;
mod memory;
mod minors;
mod output_docs;
mod plot;
mod reproducibility;
mod robustness;
mod run;
mod scenario_docs;
mod sensitivity;
mod sweep;
mod taste;

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The two arms most tests compare: a watch-time-optimising feed and a random one.
pub const ENGAGEMENT_AND_RANDOM: &str = r#"
[[arms]]
name = "engagement"
policy = { kind = "engagement", exploration = 0.05 }

[[arms]]
name = "random"
policy = { kind = "random" }
"#;

/// The v1 viewer: `--set`s of the eight defaults of use as they were before their calibration
/// (issue 16), the block of docs/scenarios.md "The defaults before calibration" (a test checks
/// they agree). A test of a mechanism whose size depends on how viewers use the app (how long
/// items are, how much of them is watched, how long sessions last) states it under this viewer,
/// so that a recalibration of use moves the README's figures, not the mechanism's test.
pub const V1_VIEWER: [&str; 16] = [
    "--set",
    "catalog.duration_median_seconds=18.0",
    "--set",
    "catalog.duration_sigma=0.6",
    "--set",
    "population.budget_median_minutes=180.0",
    "--set",
    "viewer.baseline_logit=-0.5",
    "--set",
    "viewer.duration_weight=0.5",
    "--set",
    "viewer.watch_concentration=4.0",
    "--set",
    "viewer.boredom_threshold=0.4",
    "--set",
    "viewer.return_probability=0.8",
];

/// `args` after the [`V1_VIEWER`] `--set`s.
pub fn v1_viewer<'a>(args: &[&'a str]) -> Vec<&'a str> {
    V1_VIEWER.iter().chain(args).copied().collect()
}

/// A scenario that runs in a fraction of a second: 200 viewers, 15 minutes of use each, two
/// replicates, 800 items. `extra` is appended (arms, more tables).
pub fn tiny_scenario(extra: &str) -> String {
    format!(
        r#"[scenario]
name = "tiny"
seed = 7
replicates = 2

[population]
users = 200

[catalog]
items = 800
creators = 80

[feed]
minutes = 15
{extra}"#
    )
}

/// Minutes of use per viewer in [`tiny_scenario`].
pub const TINY_MINUTES: f64 = 15.0;

/// Viewers in [`tiny_scenario`].
pub const TINY_USERS: usize = 200;

/// A temporary directory that holds scenario files and results directories.
pub struct Workspace {
    dir: TempDir,
}

impl Workspace {
    pub fn empty() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The path of `name` inside the workspace.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to `name` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("writing a scenario file");
        path
    }

    /// Names of the entries of the workspace, sorted (hidden ones included).
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("reading the workspace")
            .map(|e| {
                e.expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// Runs `rabbithole run SCENARIO --out OUT --quiet ARGS...`, expects success and returns
    /// the results directory.
    pub fn run_ok(&self, scenario: &Path, out: &str, args: &[&str]) -> PathBuf {
        let out = self.path(out);
        rabbithole()
            .arg("run")
            .arg(scenario)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .args(args)
            .assert()
            .success();
        out
    }
}

/// Runs `rabbithole run SCENARIO --out <ws>/out --quiet ARGS...`, expects exit status 2 and no
/// results directory, and returns stderr.
pub fn refused(ws: &Workspace, scenario: &Path, args: &[&str]) -> String {
    let output = rabbithole()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(ws.path("out"))
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "args {args:?}");
    assert!(!ws.path("out").exists(), "a results directory was created");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `rabbithole` binary built by cargo for this test crate.
pub fn rabbithole() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rabbithole"))
}

/// Runs `rabbithole explain SCENARIO ARGS... --csv`, expects success, saves the output as
/// `name` in the workspace and parses it.
pub fn explain_csv(ws: &Workspace, scenario: &Path, args: &[&str], name: &str) -> Table {
    let output = rabbithole()
        .arg("explain")
        .arg(scenario)
        .args(args)
        .arg("--csv")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = ws.path(name);
    std::fs::write(&path, &output.stdout).unwrap();
    Table::read(&path)
}

/// A CSV file read as text: the header and the records, addressed by column name.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads `path`; panics with the path when it is missing or not CSV.
    pub fn read(path: &Path) -> Table {
        let mut reader =
            csv::Reader::from_path(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        let header = reader
            .headers()
            .unwrap_or_else(|e| panic!("{}: bad header: {e}", path.display()))
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| {
                r.unwrap_or_else(|e| panic!("{}: bad record: {e}", path.display()))
                    .iter()
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        Table { header, rows }
    }

    /// Index of column `name`; panics listing the columns when there is none.
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name:?} in {:?}", self.header))
    }

    /// The text of column `name` in `row`.
    pub fn text<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        &row[self.col(name)]
    }

    /// The number in column `name` of `row`; `None` when empty (no value yet).
    pub fn num(&self, row: &[String], name: &str) -> Option<f64> {
        let text = self.text(row, name);
        if text.is_empty() {
            None
        } else {
            Some(
                text.parse()
                    .unwrap_or_else(|e| panic!("column {name}: {text:?} is not a number: {e}")),
            )
        }
    }

    /// The rows whose column `name` is `value`.
    pub fn rows_where<'a>(&'a self, name: &str, value: &str) -> Vec<&'a [String]> {
        let c = self.col(name);
        self.rows
            .iter()
            .filter(|r| r[c] == value)
            .map(Vec::as_slice)
            .collect()
    }

    /// The one row whose column `name` is `value`.
    pub fn row_where(&self, name: &str, value: &str) -> &[String] {
        let rows = self.rows_where(name, value);
        assert_eq!(rows.len(), 1, "expected one row with {name} = {value:?}");
        rows[0]
    }
}
