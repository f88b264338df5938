//! Today's model stays reachable: the quick start as it was before the viewer of issue 14
//! (build 179c0f3), run with the settings that turn every later mechanism off, reproduces that
//! build's results.
//!
//! `tests/compat/<case>/scenario.toml` is a frozen copy of a shipped scenario with those
//! settings, and `expected/` holds the model's outputs that build wrote for it (users.csv and
//! timeseries.csv; summary.csv is derived from them, and its intervals are a reporting choice
//! that may change). Columns added since are not in the expected files and are not compared;
//! every column that is must come out byte for byte the same, row by row. Unlike the golden results these files are never
//! rewritten: a failure means the documented settings no longer give the old model.

use crate::rabbithole;
use std::path::{Path, PathBuf};

/// The repository's root: scenarios are named relative to it.
fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn quickstart_with_the_old_model_settings_reproduces_the_old_results() {
    check("quickstart_v1");
}

/// Runs `tests/compat/<case>/scenario.toml` and compares each expected CSV file's columns.
fn check(case: &str) {
    let dir = repository().join("tests/compat").join(case);
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let out = tmp.path().join("run");
    let run = rabbithole()
        .current_dir(repository())
        .arg("run")
        .arg(dir.join("scenario.toml"))
        .args(["--per-user", "--no-plot", "--quiet", "--threads", "2", "--out"])
        .arg(&out)
        .output()
        .expect("running rabbithole");
    assert!(
        run.status.success(),
        "{case}: run failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut problems = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir.join("expected"))
        .expect("the expected files")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "{case}: no expected files");
    for expected in names {
        let name = expected.file_name().unwrap().to_string_lossy().into_owned();
        if let Err(problem) = compare_columns(&expected, &out.join(&name)) {
            problems.push(format!("{name}: {problem}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{case} (tests/compat/{case}/) no longer reproduces the old model's results:\n{}",
        problems.join("\n")
    );
}

/// Every column of `expected` must be in `actual`, with the same cells row by row; columns only
/// `actual` has are ignored.
fn compare_columns(expected: &Path, actual: &Path) -> Result<(), String> {
    let (expected_header, expected_rows) = read(expected)?;
    let (actual_header, actual_rows) = read(actual)?;
    if expected_rows.len() != actual_rows.len() {
        return Err(format!(
            "{} rows, expected {}",
            actual_rows.len(),
            expected_rows.len()
        ));
    }
    let mut columns = Vec::new();
    for (e, name) in expected_header.iter().enumerate() {
        match actual_header.iter().position(|a| a == name) {
            Some(a) => columns.push((e, a, name)),
            None => return Err(format!("column {name:?} is missing")),
        }
    }
    for (row, (e_row, a_row)) in expected_rows.iter().zip(&actual_rows).enumerate() {
        for &(e, a, name) in &columns {
            if e_row[e] != a_row[a] {
                return Err(format!(
                    "data row {}, column {name:?}: {:?}, expected {:?}",
                    row + 1,
                    &a_row[a],
                    &e_row[e]
                ));
            }
        }
    }
    Ok(())
}

/// The header and the rows of a CSV file.
fn read(path: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let rows = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((header, rows))
}

#[test]
fn the_v1_viewer_of_the_tests_is_the_documented_block_of_defaults_before_calibration() {
    let docs = std::fs::read_to_string(repository().join("docs/scenarios.md")).unwrap();
    let section = docs
        .split("## The defaults before calibration")
        .nth(1)
        .expect("docs/scenarios.md has the section");
    let block = section
        .split("```toml")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the section has a toml block");
    let (mut table, mut documented) = (String::new(), Vec::new());
    for line in block.lines().map(|l| l.split('#').next().unwrap().trim()) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = name.to_string();
        } else if let Some((key, value)) = line.split_once('=') {
            documented.push(format!("{table}.{}={}", key.trim(), value.trim()));
        }
    }
    let mut pinned: Vec<String> = crate::V1_VIEWER
        .iter()
        .filter(|a| **a != "--set")
        .map(|a| a.to_string())
        .collect();
    documented.sort();
    pinned.sort();
    assert_eq!(pinned, documented);
}
