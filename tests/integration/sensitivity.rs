//! `sensitivity`: a small-budget study of the shipped quick start with the shipped parameters
//! file, its files and their shape; a 2-shard run merged equals the whole run byte for byte;
//! a cohort's and a creator group's outputs equal `run`'s summary; and refusals of bad input
//! (exit status 2, naming the file, the key and what is allowed).

use crate::{Table, Workspace, rabbithole};
use std::path::{Path, PathBuf};

/// The budget of a test: 60 viewers, 10 minutes, 1 replicate; 4 trajectories of the 15
/// parameters (64 simulations) and 8 samples for the top 2 (32): about a second.
const SMALL: [&str; 14] = [
    "--users",
    "60",
    "--set",
    "feed.minutes=10",
    "--set",
    "scenario.replicates=1",
    "--trajectories",
    "4",
    "--samples",
    "8",
    "--top",
    "2",
    "--bootstrap",
    "200",
];

fn root(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs `sensitivity` on the quick start with `SMALL` and `extra`, into `out`.
fn study(ws: &Workspace, out: &str, extra: &[&str]) -> PathBuf {
    let out = ws.path(out);
    rabbithole()
        .arg("sensitivity")
        .arg(root("scenarios/quickstart.toml"))
        .arg("--ranges")
        .arg(root("sensitivity/viewer_assumptions.toml"))
        .args(SMALL)
        .args(["--quiet", "--threads", "2", "--out"])
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    out
}

#[test]
fn a_small_study_of_the_quick_start_writes_every_file() {
    let ws = Workspace::empty();
    let out = study(&ws, "s", &[]);
    let morris = Table::read(&out.join("morris.csv"));
    // 5 metrics × (2 arms + 1 difference) × 15 parameters.
    assert_eq!(morris.rows.len(), 5 * 3 * 15);
    for row in &morris.rows {
        let (m, lo, hi) = (
            morris.num(row, "mu_star"),
            morris.num(row, "mu_star_lo"),
            morris.num(row, "mu_star_hi"),
        );
        if let (Some(m), Some(lo), Some(hi)) = (m, lo, hi) {
            assert!(m >= 0.0 && lo <= m + 1e-12 && m <= hi + 1e-12, "{row:?}");
        }
    }
    let sobol = Table::read(&out.join("sobol.csv"));
    assert_eq!(sobol.rows.len(), 5 * 3 * 2);
    // The Sobol parameters are those of the screening's top.
    let evaluations = Table::read(&out.join("evaluations.csv"));
    assert_eq!(evaluations.rows.len(), 4 * 16 + 8 * 4);
    // Watch minutes of the difference are paired: the column is engagement − random exactly.
    for row in &evaluations.rows {
        let d = evaluations
            .num(row, "watch_minutes[engagement - random]")
            .unwrap();
        let e = evaluations.num(row, "watch_minutes[engagement]").unwrap();
        let r = evaluations.num(row, "watch_minutes[random]").unwrap();
        assert!((d - (e - r)).abs() < 1e-9, "{row:?}");
    }
    for file in [
        "report.html",
        "manifest.json",
        "tornado-watch_minutes-engagement-vs-random.svg",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains(" of 96 evaluations engagement had more minutes watched"),
        "{report}"
    );
}

#[test]
fn two_shards_merged_equal_the_whole_study() {
    let ws = Workspace::empty();
    let keys = ["--parameters", "viewer.taste_weight,population.initial_follows"];
    let whole = study(&ws, "whole", &keys);
    let a = study(&ws, "a", &[&keys[..], &["--shard", "1/2"]].concat());
    let b = study(&ws, "b", &[&keys[..], &["--shard", "2/2"]].concat());
    let merged = ws.path("merged");
    rabbithole()
        .args(["merge", "--quiet", "--out"])
        .arg(&merged)
        .arg(&b)
        .arg(&a)
        .assert()
        .success();
    let mut names: Vec<String> = std::fs::read_dir(&whole)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "manifest.json")
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in &names {
        let (w, m) = (
            std::fs::read(whole.join(name)).unwrap(),
            std::fs::read(merged.join(name)).unwrap(),
        );
        assert!(w == m, "{name} differs");
    }
    // A missing shard is named, and nothing is written.
    let out = rabbithole()
        .args(["merge", "--out"])
        .arg(ws.path("half"))
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 2/2 is missing"));
    assert!(!ws.path("half").exists());
}

/// A study of `scenario` (its `small` copy, with `extra`) at two points of `viewer.taste_weight`
/// alone, then `run` of the same copy at the first point: the study's directory, the first
/// evaluation's outputs (by column) and `run`'s `summary.csv`, whose values they must equal.
fn study_and_run(
    ws: &Workspace,
    scenario: &Path,
    small: &[&str],
    extra: &[&str],
) -> (PathBuf, Outputs, Table) {
    let out = ws.path("study");
    rabbithole()
        .arg("sensitivity")
        .arg(scenario)
        .arg("--ranges")
        .arg(root("sensitivity/viewer_assumptions.toml"))
        .args(small)
        .args(["--trajectories", "0", "--samples", "2", "--bootstrap", "20"])
        .args(["--parameters", "viewer.taste_weight"])
        .args(extra)
        .args(["--quiet", "--threads", "2", "--out"])
        .arg(&out)
        .assert()
        .success();
    let evaluations = Table::read(&out.join("evaluations.csv"));
    let weight = evaluations
        .text(&evaluations.rows[0], "viewer.taste_weight")
        .to_string();
    let set = format!("viewer.taste_weight={weight}");
    let run = ws.run_ok(scenario, "run", &[small, &["--set", &set]].concat());
    let summary = Table::read(&run.join("summary.csv"));
    (out, Outputs(evaluations), summary)
}

/// A study's `evaluations.csv`, read at its first evaluation.
struct Outputs(Table);

impl Outputs {
    fn get(&self, column: &str) -> f64 {
        self.0.num(&self.0.rows[0], column).unwrap()
    }
}

/// The small copy of `minors_sensitive.toml` of the cohort test: 40 viewers, one day.
const MINORS: [&str; 6] = [
    "--users",
    "40",
    "--set",
    "feed.days=1",
    "--set",
    "scenario.replicates=1",
];

#[test]
fn a_cohort_study_takes_the_cohorts_final_values_as_run_reports_them() {
    let ws = Workspace::empty();
    let scenario = root("scenarios/minors_sensitive.toml");
    let extra = ["--metric", "sensitive_share", "--cohort", "minors"];
    // The same simulation through `run`: its summary's minors rows are the study's outputs.
    let (out, study, summary) = study_and_run(&ws, &scenario, &MINORS, &extra);
    let share = |arm: &str, cohort: &str| {
        let r = summary
            .rows
            .iter()
            .find(|r| summary.text(r, "arm") == arm && summary.text(r, "cohort") == cohort)
            .unwrap_or_else(|| panic!("no {cohort} row for {arm}"));
        summary.num(r, "sensitive_share_mean").unwrap()
    };
    let (engagement, cap) = (share("engagement", "minors"), share("sensitive_cap", "minors"));
    assert!(
        engagement != share("engagement", "all"),
        "the cohorts must differ"
    );
    assert!((study.get("sensitive_share[engagement (minors)]") - engagement).abs() < 1e-6);
    let diff = study.get("sensitive_share[sensitive_cap - engagement (minors)]");
    assert!(
        (diff - (cap - engagement)).abs() < 1e-6,
        "{diff} {cap} {engagement}"
    );
    assert!(
        out.join("tornado-sensitive_share-sensitive_cap-vs-engagement__minors_.svg")
            .is_file()
    );
    // A cohort the scenario does not have is named, with those it has.
    let e = rabbithole()
        .arg("sensitivity")
        .arg(root("scenarios/quickstart.toml"))
        .arg("--ranges")
        .arg(root("sensitivity/viewer_assumptions.toml"))
        .args([
            "--users",
            "20",
            "--set",
            "feed.minutes=5",
            "--set",
            "scenario.replicates=1",
        ])
        .args([
            "--trajectories",
            "0",
            "--samples",
            "2",
            "--parameters",
            "viewer.taste_weight",
        ])
        .args(["--cohort", "minors", "--quiet", "--out"])
        .arg(ws.path("none"))
        .output()
        .unwrap();
    assert!(!e.status.success());
    let e = String::from_utf8_lossy(&e.stderr);
    assert!(
        e.contains("the scenario has no cohort minors (it has: all)"),
        "{e}"
    );
}

/// The small copy of `group_pushed_down.toml` of the per-group test: 40 viewers, 10 minutes of
/// warm-up and 10 of use.
const PUSHED_DOWN: [&str; 8] = [
    "--users",
    "40",
    "--set",
    "population.warmup_minutes=10",
    "--set",
    "feed.minutes=10",
    "--set",
    "scenario.replicates=1",
];

#[test]
fn a_per_group_metric_is_the_groups_final_value_as_run_reports_it() {
    let ws = Workspace::empty();
    let scenario = root("scenarios/group_pushed_down.toml");
    let extra = [
        "--metric",
        "group_exposure_minority",
        "--metric",
        "group_amplification_reach_minority",
    ];
    // The same simulation through `run`: its summary's group columns are the study's outputs.
    let (out, study, summary) = study_and_run(&ws, &scenario, &PUSHED_DOWN, &extra);
    let mean = |arm: &str, column: &str| {
        let r = summary
            .rows
            .iter()
            .find(|r| summary.text(r, "arm") == arm && summary.text(r, "cohort") == "all")
            .unwrap_or_else(|| panic!("no row for {arm}"));
        summary.num(r, &format!("{column}_mean")).unwrap()
    };
    let exposure = "group_exposure_minority";
    let (base, pushed) = (mean("baseline", exposure), mean("pushed_down", exposure));
    assert!(pushed < base, "the push-down must show: {pushed} {base}");
    assert!((study.get(&format!("{exposure}[baseline]")) - base).abs() < 1e-6);
    let diff = study.get(&format!("{exposure}[pushed_down - baseline]"));
    assert!((diff - (pushed - base)).abs() < 1e-6, "{diff} {pushed} {base}");
    let reach = "group_amplification_reach_minority";
    let capped = mean("reach_cap", reach);
    assert!((study.get(&format!("{reach}[reach_cap]")) - capped).abs() < 1e-6);
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains("pushed_down had more impressions from creator group minority than baseline"),
        "{report}"
    );
}

/// Runs `sensitivity` with `ranges` and `extra`, expects exit status 2 and returns stderr.
fn refused(ws: &Workspace, ranges: &Path, extra: &[&str]) -> String {
    let out = rabbithole()
        .arg("sensitivity")
        .arg(root("scenarios/quickstart.toml"))
        .arg("--ranges")
        .arg(ranges)
        .args(["--quiet", "--out"])
        .arg(ws.path("out"))
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{extra:?}");
    assert!(!ws.path("out").exists());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_input_exits_2_naming_file_key_and_what_is_allowed() {
    let ws = Workspace::empty();
    let one = |key: &str, min: &str, max: &str| {
        format!("[[parameter]]\nkey = \"{key}\"\nmin = {min}\nmax = {max}\nsource = \"test\"\n")
    };
    let unknown = ws.write("unknown.toml", &one("viewer.taste_wieght", "0", "1"));
    let e = refused(&ws, &unknown, &[]);
    assert!(
        e.contains("unknown.toml: parameter[0]: viewer.taste_wieght"),
        "{e}"
    );
    let empty = ws.write("empty.toml", &one("viewer.taste_weight", "1", "1"));
    let e = refused(&ws, &empty, &[]);
    assert!(
        e.contains(
            "empty.toml: parameter[0].max: viewer.taste_weight: the range must be finite with min < max"
        ),
        "{e}"
    );
    let good = ws.write("good.toml", &one("viewer.taste_weight", "0", "2"));
    let e = refused(&ws, &good, &["--shard", "3/2"]);
    assert!(e.contains("expected I/N with 1 <= I <= N"), "{e}");
    let e = refused(&ws, &good, &["--shard", "1/2"]);
    assert!(e.contains("--parameters"), "{e}");
    let e = refused(&ws, &good, &["--parameters", "viewer.x"]);
    assert!(
        e.contains("viewer.x is not a parameter of the file; allowed: viewer.taste_weight"),
        "{e}"
    );
    let e = refused(&ws, &good, &["--metric", "watch_hours"]);
    assert!(e.contains("allowed: ") && e.contains("watch_minutes"), "{e}");
    let e = refused(&ws, &good, &["--metric", "group_exposure_elders"]);
    assert!(
        e.contains(
            "--metric group_exposure_elders: the scenario has no creator group elders (it has: majority, minority)"
        ),
        "{e}"
    );
    let e = refused(&ws, &good, &["--cohort", "kids"]);
    assert!(e.contains("--cohort kids: unknown cohort; allowed: all, "), "{e}");
    let e = refused(&ws, &good, &["--levels-typo"]);
    assert!(e.contains("--levels-typo"), "{e}");
}
