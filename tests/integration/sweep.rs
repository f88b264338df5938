//! Sweeps, shards and merge: a sweep or a run split into shards and merged gives the same
//! bytes as the unsharded command; incomplete or duplicated parts are refused by name, with
//! exit status 2 and nothing written.

use crate::plot::names_in;
use crate::{ENGAGEMENT_AND_RANDOM, Table, Workspace, rabbithole};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// 150 viewers, 10 minutes of use, 3 replicates: a fraction of a second per run.
fn scenario() -> String {
    format!(
        r#"[scenario]
name = "small"
seed = 11
replicates = 3

[population]
users = 150

[catalog]
items = 600
creators = 60

[feed]
minutes = 10
{ENGAGEMENT_AND_RANDOM}"#
    )
}

const GRID: [&str; 4] = [
    "--grid",
    "population.users=100,150",
    "--grid",
    "arms.engagement.policy.exploration=0.05,0.3",
];

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).expect("reading a result file");
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Files whose bytes record provenance (times, command lines, the parts), and so differ.
const PROVENANCE: [&str; 3] = ["manifest.json", "sweep.json", "report.html"];

/// The same files in both directories, and the same bytes in all but [`PROVENANCE`]: every
/// CSV file and chart.
fn assert_same_files(whole: &Path, merged: &Path) {
    let (a, b) = (files(whole), files(merged));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the merged directory holds other files"
    );
    let mut csv = 0;
    for (file, bytes) in &a {
        if PROVENANCE.iter().any(|p| file.ends_with(p)) {
            continue;
        }
        csv += usize::from(file.extension().is_some_and(|e| e == "csv"));
        assert!(bytes == &b[file], "{} differs after merging", file.display());
    }
    assert!(csv > 0, "no CSV file was compared");
}

/// Runs `rabbithole sweep SCENARIO --out <ws>/OUT --quiet` over [`GRID`] with `args`, and
/// expects success.
fn sweep_ok(ws: &Workspace, scenario: &Path, out: &str, args: &[&str]) -> PathBuf {
    let out = ws.path(out);
    rabbithole()
        .arg("sweep")
        .arg(scenario)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .args(GRID)
        .args(args)
        .assert()
        .success();
    out
}

/// Runs `rabbithole merge <ws>/PARTS... --out <ws>/merged --quiet`, expects success and
/// returns the merged directory.
pub(crate) fn merge_ok(ws: &Workspace, parts: &[&str]) -> PathBuf {
    let out = ws.path("merged");
    rabbithole()
        .arg("merge")
        .args(parts.iter().map(|p| ws.path(p)))
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    out
}

/// Runs `rabbithole merge PARTS... --out OUT --quiet`, expects exit status 2, no `out`,
/// nothing new in the workspace, and returns stderr.
fn merge_refused(ws: &Workspace, parts: &[&str]) -> String {
    let before = ws.entries();
    let assert = rabbithole()
        .arg("merge")
        .args(parts.iter().map(|p| ws.path(p)))
        .arg("--out")
        .arg(ws.path("merged"))
        .arg("--quiet")
        .assert()
        .code(2);
    assert!(!ws.path("merged").exists(), "merge wrote its output");
    assert_eq!(ws.entries(), before, "merge left files behind");
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// Runs `run --shard I/3` for each I into `shard-I`.
fn run_shards(ws: &Workspace, scenario: &Path) {
    for i in 1..=3 {
        ws.run_ok(scenario, &format!("shard-{i}"), &["--shard", &format!("{i}/3")]);
    }
}

#[test]
fn a_sweep_in_three_shards_merges_to_the_same_bytes() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    let whole = sweep_ok(&ws, &scenario, "whole", &["--per-user"]);
    for i in 1..=3 {
        let part = sweep_ok(
            &ws,
            &scenario,
            &format!("part-{i}"),
            &["--shard", &format!("{i}/3"), "--per-user"],
        );
        assert!(!part.join("sweep.csv").exists(), "a shard wrote sweep.csv");
    }
    let merged = merge_ok(&ws, &["part-1", "part-2", "part-3"]);
    assert_same_files(&whole, &merged);

    // sweep.csv: a row per (point, arm, cohort), a column per swept key, the point's summary.
    let sweep = Table::read(&merged.join("sweep.csv"));
    assert_eq!(sweep.rows.len(), 4 * 2);
    let point = "population.users=150,arms.engagement.policy.exploration=0.3";
    let rows = sweep.rows_where("point", point);
    assert_eq!(rows.len(), 2);
    assert_eq!(sweep.text(rows[0], "population.users"), "150");
    assert_eq!(sweep.text(rows[0], "arms.engagement.policy.exploration"), "0.3");
    let summary = Table::read(&merged.join(point).join("summary.csv"));
    let engagement = summary.row_where("arm", "engagement");
    for column in [
        "users",
        "watch_minutes_mean",
        "feed_entropy_lo",
        "in_rabbit_hole_hi",
    ] {
        assert_eq!(
            sweep.text(rows[0], column),
            summary.text(engagement, column),
            "{column}"
        );
    }
    assert_eq!(summary.text(engagement, "users"), "150");
}

#[test]
fn a_run_in_three_shards_merges_to_the_unsharded_run() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    let whole = ws.run_ok(&scenario, "whole", &["--per-user"]);
    for i in 1..=3 {
        let shard = format!("{i}/3");
        ws.run_ok(
            &scenario,
            &format!("shard-{i}"),
            &["--shard", &shard, "--per-user"],
        );
    }
    let merged = merge_ok(&ws, &["shard-1", "shard-2", "shard-3"]);
    assert_same_files(&whole, &merged);
    let manifest = std::fs::read_to_string(merged.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"parts\""), "{manifest}");
}

/// Audit bots and protections: `bots.csv` and the cohort rows merge like the rest.
#[test]
fn a_run_with_bots_in_two_shards_merges_to_the_unsharded_run() {
    let ws = Workspace::empty();
    let text = crate::tiny_scenario(
        r#"
[[arms]]
name = "engagement"
policy = { kind = "engagement" }

[[arms]]
name = "capped"
policy = { kind = "engagement" }
protections = { sensitive_cap = 0.1, minor_daily_minutes = 10 }

[[bots]]
name = "linger"
rule = "linger"
topic = "gaming"
count = 2
minutes = 20
"#,
    );
    let scenario = ws.write("bots.toml", &text);
    let whole = ws.run_ok(&scenario, "whole", &[]);
    assert!(whole.join("bots.csv").is_file());
    for i in 1..=2 {
        ws.run_ok(&scenario, &format!("shard-{i}"), &["--shard", &format!("{i}/2")]);
    }
    let merged = merge_ok(&ws, &["shard-1", "shard-2"]);
    assert_same_files(&whole, &merged);
}

#[test]
fn a_missing_shard_is_named_and_nothing_is_merged() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    run_shards(&ws, &scenario);
    let stderr = merge_refused(&ws, &["shard-1", "shard-3"]);
    assert!(stderr.contains("shard 2/3 is missing"), "{stderr}");
}

#[test]
fn a_duplicated_shard_is_named_and_nothing_is_merged() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    run_shards(&ws, &scenario);
    ws.run_ok(&scenario, "again", &["--shard", "2/3"]);
    let stderr = merge_refused(&ws, &["shard-1", "shard-2", "shard-3", "again"]);
    assert!(
        stderr.contains("shard 2/3 is given more than once") && stderr.contains("again"),
        "{stderr}"
    );
}

#[test]
fn shards_of_another_seed_or_a_whole_run_are_refused() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    run_shards(&ws, &scenario);
    ws.run_ok(&scenario, "seed", &["--shard", "2/3", "--seed", "12"]);
    let stderr = merge_refused(&ws, &["shard-1", "seed", "shard-3"]);
    assert!(
        stderr.contains("seed") && stderr.contains("scenario.seed"),
        "{stderr}"
    );
    ws.run_ok(&scenario, "whole", &[]);
    let stderr = merge_refused(&ws, &["shard-1", "whole"]);
    assert!(stderr.contains("is not a shard"), "{stderr}");
}

#[test]
fn a_missing_sweep_shard_is_named_and_nothing_is_merged() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    for i in [1, 3] {
        sweep_ok(
            &ws,
            &scenario,
            &format!("part-{i}"),
            &["--shard", &format!("{i}/3")],
        );
    }
    let stderr = merge_refused(&ws, &["part-1", "part-3"]);
    assert!(stderr.contains("shard 2/3 is missing"), "{stderr}");
}

#[test]
fn a_bad_grid_point_is_refused_before_anything_runs() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    let before = ws.entries();
    for (grid, needle) in [
        ("population.users=100,0", "population.users must be between 1"),
        ("population.usres=1,2", "--grid population.usres"),
        ("population.users", "expected KEY=V1,V2"),
    ] {
        let assert = rabbithole()
            .arg("sweep")
            .arg(&scenario)
            .arg("--out")
            .arg(ws.path("out"))
            .args(["--quiet", "--grid", grid])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains(needle), "--grid {grid}: {stderr}");
        assert_eq!(ws.entries(), before, "--grid {grid} left files behind");
    }
}

#[test]
fn a_sweep_that_cannot_fit_in_memory_is_refused_unless_told_to_go_on() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    // Runs that last ten million steps each: viewers who always come back scroll their whole
    // budget on each of 10,000 days, so the guard's bound, tens of GB of rows, is what they
    // need, and the pilot (`memory::predict`), finding every viewer still scrolling after
    // its first 200 steps, leaves it at that.
    let long = [
        "--set",
        "feed.max_steps=10000000",
        "--set",
        "catalog.arrivals_per_step=0",
        "--set",
        "feed.minutes=10000000",
        "--set",
        "feed.days=10000",
        "--set",
        "viewer.return_probability=1",
        "--set",
        "viewer.day_return_probability=1",
    ];
    let started = std::time::Instant::now();
    let assert = rabbithole()
        .arg("sweep")
        .arg(&scenario)
        .arg("--out")
        .arg(ws.path("out"))
        .arg("--quiet")
        .args(GRID)
        .args(long)
        .assert()
        .code(2);
    assert!(started.elapsed().as_secs_f64() < 1.0, "{:?}", started.elapsed());
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    for needle in [
        "the run needs about",
        "result rows",
        "more than the",
        "--ignore-memory-limit",
    ] {
        assert!(stderr.contains(needle), "{needle:?}: {stderr}");
    }
    assert_eq!(
        ws.entries(),
        ["small.toml"],
        "the refused sweep left files behind"
    );
    // The same bound, but ten minutes of use end each run after a few hundred steps: the
    // pilot predicts as much, and the sweep runs without --ignore-memory-limit.
    let short = [
        "--set",
        "feed.max_steps=10000000",
        "--set",
        "catalog.arrivals_per_step=0",
        "--no-plot",
    ];
    let out = sweep_ok(&ws, &scenario, "out", &short);
    assert!(out.join("sweep.json").is_file());
}

/// `plot` on a sweep directory draws each headline metric against each swept key, one line
/// per arm (and per value of the other key), and a report linking every point's; `sweep`
/// draws the same bytes itself.
#[test]
fn plot_draws_a_sweep_against_each_swept_key() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    let bare = sweep_ok(&ws, &scenario, "bare", &["--no-plot"]);
    assert!(
        !names_in(&bare)
            .iter()
            .any(|n| n.ends_with(".svg") || n == "report.html"),
        "--no-plot drew charts: {:?}",
        names_in(&bare)
    );
    rabbithole()
        .arg("plot")
        .arg(&bare)
        .arg("--quiet")
        .assert()
        .success();
    let drawn = sweep_ok(&ws, &scenario, "drawn", &[]);
    let (users, exploration) = ("population.users", "arms.engagement.policy.exploration");
    for metric in [
        "watch_minutes",
        "feed_entropy",
        "in_rabbit_hole",
        "rabbit_hole_ever",
    ] {
        for (key, other, values) in [
            (users, exploration, ["0.05", "0.3"]),
            (exploration, users, ["100", "150"]),
        ] {
            let file = format!("sweep-{metric}-by-{key}.svg");
            let svg = std::fs::read_to_string(bare.join(&file))
                .unwrap_or_else(|e| panic!("{file}: {e}; the sweep has {:?}", names_in(&bare)));
            assert!(
                std::fs::read_to_string(drawn.join(&file)).unwrap() == svg,
                "{file}: sweep and plot draw different charts"
            );
            // Both arms, in their colours; the key on the x axis; a dash per other value.
            for needle in ["\nengagement\n", "\nrandom\n", "#0072B2", "#D55E00", "small"] {
                assert!(svg.contains(needle), "{file} does not show {needle:?}");
            }
            assert!(svg.contains(&format!("\n{key}\n")), "{file}: no axis {key}");
            for v in values {
                assert!(
                    svg.contains(&format!("{other}={v}")),
                    "{file}: no line for {other}={v}"
                );
            }
        }
    }
    let report = std::fs::read_to_string(bare.join("report.html")).unwrap();
    assert!(report.contains("Sweep of small"), "{report}");
    assert_eq!(
        report.matches("<svg").count(),
        names_in(&bare).iter().filter(|n| n.ends_with(".svg")).count()
    );
    for point in [
        "population.users=100,arms.engagement.policy.exploration=0.05",
        "population.users=150,arms.engagement.policy.exploration=0.3",
    ] {
        assert!(
            report.contains(&format!("href=\"{point}/report.html\"")),
            "no link to {point}"
        );
        assert!(
            drawn.join(point).join("report.html").exists(),
            "{point} has no report"
        );
    }
}

/// `rabbithole sweep SCENARIO --out <ws>/OUT --quiet ARGS...` (no [`GRID`]): exit status
/// and stderr.
fn sweep_with(ws: &Workspace, scenario: &Path, out: &str, args: &[&str]) -> (Option<i32>, String) {
    let output = rabbithole()
        .arg("sweep")
        .arg(scenario)
        .arg("--out")
        .arg(ws.path(out))
        .args(["--quiet", "--no-plot"])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `sweep --users --seed` mean what they mean for `run`: a one-point sweep gives the bytes
/// of the run with the same flags; a flag that breaks a rule is named, and a flag and a
/// grid axis on one key are refused.
#[test]
fn sweep_takes_users_and_seed_as_run_does() {
    let ws = Workspace::empty();
    let scenario = ws.write("small.toml", &scenario());
    let flags = ["--users", "40", "--seed", "5"];
    let grid = ["--grid", "arms.engagement.policy.exploration=0.2"];
    let (code, stderr) = sweep_with(&ws, &scenario, "sweep", &[&flags[..], &grid].concat());
    assert_eq!(code, Some(0), "{stderr}");
    let set = ["--set", "arms.engagement.policy.exploration=0.2", "--no-plot"];
    let run = ws.run_ok(&scenario, "run", &[&flags[..], &set].concat());
    let point = ws.path("sweep").join("arms.engagement.policy.exploration=0.2");
    for name in ["summary.csv", "timeseries.csv"] {
        let (a, b) = (
            std::fs::read(point.join(name)).unwrap(),
            std::fs::read(run.join(name)).unwrap(),
        );
        assert!(a == b, "{name} differs between the sweep's point and the run");
    }
    let summary = Table::read(&point.join("summary.csv"));
    assert!(summary.rows.iter().all(|r| summary.text(r, "users") == "40"));

    let (code, stderr) = sweep_with(&ws, &scenario, "bad", &["--users", "0", grid[0], grid[1]]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--users 0: population.users must be"), "{stderr}");
    let grid_users = ["--users", "40", "--grid", "population.users=10,20"];
    let (code, stderr) = sweep_with(&ws, &scenario, "bad", &grid_users);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--grid population.users and the flag"),
        "{stderr}"
    );
    assert!(!ws.path("bad").exists());
}
