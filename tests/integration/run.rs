//! `rabbithole run` and `rabbithole validate` on good input: which files a run writes, their
//! columns, the manifest, and the flags that change the scenario (`--set`, `--users`,
//! `--replicates`).

use crate::{ENGAGEMENT_AND_RANDOM, TINY_USERS, Table, Workspace, rabbithole, tiny_scenario};
use std::path::Path;

/// Creator groups with names of our own, so `group_exposure_<group>` columns can be checked.
const GROUPS: &str = r#"
[[catalog.groups]]
name = "alpha"
share = 0.7

[[catalog.groups]]
name = "beta"
share = 0.3
"#;

/// Every metric column of `timeseries.csv` (docs/model.md §10 defines each).
const TIMESERIES_COLUMNS: &[&str] = &[
    "arm",
    "replicate",
    "step",
    "mean_minutes",
    "feed_entropy",
    "feed_entropy_p10",
    "feed_entropy_p50",
    "feed_entropy_p90",
    "top_topic_share",
    "in_rabbit_hole",
    "minutes_to_rabbit_hole",
    "watch_minutes",
    "interest_drift",
    "profile_error",
    "sensitive_share",
    "stance_shift",
    "coverage",
    "exposure_gini",
    "group_exposure_alpha",
    "group_exposure_beta",
];

/// Headline metrics that `summary.csv` gives as `_mean`, `_lo`, `_hi`.
const SUMMARY_METRICS: &[&str] = &[
    "mean_minutes",
    "feed_entropy",
    "top_topic_share",
    "in_rabbit_hole",
    "minutes_to_rabbit_hole",
    "watch_minutes",
    "interest_drift",
    "profile_error",
    "sensitive_share",
    "stance_shift",
    "coverage",
    "exposure_gini",
    "group_exposure_alpha",
    "group_exposure_beta",
];

fn has_column(table: &Table, name: &str) -> bool {
    table.header.iter().any(|h| h == name)
}

#[test]
fn run_writes_the_result_files_with_the_spec_columns() {
    let ws = Workspace::empty();
    let scenario = ws.write(
        "tiny.toml",
        &tiny_scenario(&format!("{GROUPS}{ENGAGEMENT_AND_RANDOM}")),
    );
    // The charts a run draws by default are checked in plot.rs.
    let out = ws.run_ok(&scenario, "out", &["--no-plot"]);

    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["comparison.csv", "manifest.json", "summary.csv", "timeseries.csv"]
    );

    let ts = Table::read(&out.join("timeseries.csv"));
    for name in TIMESERIES_COLUMNS {
        assert!(
            has_column(&ts, name),
            "timeseries.csv lacks {name}: {:?}",
            ts.header
        );
    }
    assert_eq!(&ts.header[..5], ["arm", "replicate", "cohort", "step", "viewers"]);
    // One row per (arm, replicate, cohort, step), every arm and replicate present; without
    // switching or cohort settings the only cohort is `all`.
    assert!(ts.rows.iter().all(|r| ts.text(r, "cohort") == "all"));
    let mut keys: Vec<(String, String, u32)> = ts
        .rows
        .iter()
        .map(|r| {
            (
                ts.text(r, "arm").to_string(),
                ts.text(r, "replicate").to_string(),
                ts.text(r, "step").parse().unwrap(),
            )
        })
        .collect();
    let n_rows = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n_rows, "a (arm, replicate, step) appears twice");
    for arm in ["engagement", "random"] {
        for rep in ["0", "1"] {
            assert!(
                keys.iter().any(|(a, r, _)| a == arm && r == rep),
                "no rows for arm {arm} replicate {rep}"
            );
        }
    }

    let summary = Table::read(&out.join("summary.csv"));
    assert_eq!(summary.header[0], "arm");
    for metric in SUMMARY_METRICS {
        for suffix in ["mean", "lo", "hi"] {
            let name = format!("{metric}_{suffix}");
            assert!(
                has_column(&summary, &name),
                "summary.csv lacks {name}: {:?}",
                summary.header
            );
        }
    }
    let arms: Vec<&str> = summary.rows.iter().map(|r| summary.text(r, "arm")).collect();
    assert_eq!(
        arms,
        ["engagement", "random"],
        "one row per arm, in scenario order"
    );
    for row in &summary.rows {
        // With two replicates every headline metric has a mean and an interval around it.
        let mean = summary.num(row, "feed_entropy_mean").unwrap();
        let lo = summary.num(row, "feed_entropy_lo").unwrap();
        let hi = summary.num(row, "feed_entropy_hi").unwrap();
        assert!(lo <= mean && mean <= hi, "interval [{lo}, {hi}] around {mean}");
    }
}

#[test]
fn users_csv_is_written_only_with_per_user() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let without = ws.run_ok(&scenario, "without", &["--replicates", "1"]);
    assert!(!without.join("users.csv").exists());
    let with = ws.run_ok(&scenario, "with", &["--replicates", "1", "--per-user"]);
    let users = Table::read(&with.join("users.csv"));
    assert_eq!(&users.header[..3], ["arm", "replicate", "user"]);
    assert_eq!(users.rows.len(), 2 * TINY_USERS);
    // The other files do not depend on --per-user.
    for file in ["timeseries.csv", "summary.csv"] {
        assert_eq!(
            std::fs::read(without.join(file)).unwrap(),
            std::fs::read(with.join(file)).unwrap(),
            "{file} changed with --per-user"
        );
    }
}

#[test]
fn manifest_records_the_resolved_scenario_and_the_run() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.run_ok(
        &scenario,
        "out",
        &["--seed", "99", "--replicates", "1", "--threads", "2"],
    );
    let text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).expect("manifest.json is JSON");

    assert_eq!(m["seed"], 99);
    assert_eq!(m["replicates"], 1);
    assert_eq!(m["threads"], 2);
    assert_eq!(m["version"], env!("CARGO_PKG_VERSION"));
    assert!(m["start_time"].as_str().is_some_and(|s| !s.is_empty()), "{m}");
    assert!(m["wall_seconds"].as_f64().is_some_and(|s| s >= 0.0), "{m}");
    let command_line: Vec<&str> = m["command_line"]
        .as_array()
        .expect("command_line is a list")
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        command_line.contains(&"run") && command_line.contains(&"--seed"),
        "{command_line:?}"
    );

    // The scenario as resolved: overrides applied, keys left out of the file filled in.
    let s = &m["scenario"];
    assert_eq!(s["scenario"]["name"], "tiny");
    assert_eq!(s["scenario"]["seed"], 99);
    assert_eq!(s["scenario"]["replicates"], 1);
    assert_eq!(s["population"]["users"], TINY_USERS);
    assert_eq!(s["feed"]["minutes"], 15.0);
    assert!(
        s["population"]["minor_share"].is_number(),
        "defaults are filled in: {s}"
    );
    assert_eq!(s["metrics"]["window"], 20);
    let arms = s["arms"].as_array().expect("arms is a list");
    assert_eq!(arms.len(), 2);
    assert_eq!(arms[0]["policy"]["kind"], "engagement");
}

#[test]
fn quiet_run_prints_nothing_and_leaves_only_the_results_directory() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    rabbithole()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(ws.path("out"))
        .args(["--quiet", "--replicates", "1"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    // No temporary or half-written directory is left beside the results.
    assert_eq!(ws.entries(), ["out", "tiny.toml"]);
}

#[test]
fn run_without_quiet_reports_where_the_results_are() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.path("out");
    let assert = rabbithole()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .args(["--replicates", "1"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("engagement") && stdout.contains("random"),
        "{stdout}"
    );
    assert!(stdout.contains(&out.display().to_string()), "{stdout}");
}

#[test]
fn out_directory_may_be_nested_in_missing_parents() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.run_ok(&scenario, "a/b/out", &["--replicates", "1"]);
    assert!(out.join("summary.csv").is_file());
}

#[test]
fn set_and_users_change_the_number_of_viewers() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    for (out, args) in [
        ("set", ["--set", "population.users=150"]),
        ("users", ["--users", "150"]),
    ] {
        let out = ws.run_ok(
            &scenario,
            out,
            &[&args[..], &["--replicates", "1", "--per-user"]].concat(),
        );
        let summary = Table::read(&out.join("summary.csv"));
        for row in &summary.rows {
            assert_eq!(summary.text(row, "users"), "150", "{args:?}");
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["scenario"]["population"]["users"], 150, "{args:?}");
        assert_eq!(
            Table::read(&out.join("users.csv")).rows.len(),
            2 * 150,
            "{args:?}"
        );
    }
}

#[test]
fn replicates_flag_and_set_on_a_named_arm_apply() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.run_ok(&scenario, "three", &["--replicates", "3"]);
    let summary = Table::read(&out.join("summary.csv"));
    for row in &summary.rows {
        assert_eq!(summary.text(row, "replicates"), "3");
    }

    // An arm is addressed by its name; changing its exploration changes its results only.
    let base = ws.run_ok(&scenario, "base", &["--replicates", "1"]);
    let explored = ws.run_ok(
        &scenario,
        "explored",
        &[
            "--replicates",
            "1",
            "--set",
            "arms.engagement.policy.exploration=0.5",
        ],
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(explored.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["scenario"]["arms"][0]["policy"]["exploration"], 0.5);
    let a = Table::read(&base.join("timeseries.csv"));
    let b = Table::read(&explored.join("timeseries.csv"));
    assert_ne!(
        a.rows_where("arm", "engagement"),
        b.rows_where("arm", "engagement")
    );
    // Except for its ratios to the baseline arm, which is the engagement arm.
    let own = |t: &Table| -> Vec<Vec<String>> {
        let keep: Vec<usize> = (0..t.header.len())
            .filter(|&c| {
                rabbithole::metrics::columns::find(&t.header[c])
                    .is_none_or(|(d, _)| d.reduce != rabbithole::metrics::columns::Reduction::Baseline)
            })
            .collect();
        let rows = t.rows_where("arm", "random");
        rows.iter()
            .map(|r| keep.iter().map(|&c| r[c].clone()).collect())
            .collect()
    };
    assert_eq!(own(&a), own(&b));
    assert!(
        a.header
            .iter()
            .any(|c| c.starts_with("group_amplification_reach_"))
    );
}

#[test]
fn validate_accepts_a_good_file_and_estimates_memory() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let assert = rabbithole().arg("validate").arg(&scenario).assert().success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("valid"), "{stdout}");
    assert!(stdout.contains("memory") && stdout.contains("MiB"), "{stdout}");
    // validate runs nothing and writes nothing.
    assert_eq!(ws.entries(), ["tiny.toml"]);
}

#[test]
fn validate_refuses_a_bad_file_with_status_2() {
    let ws = Workspace::empty();
    let scenario = ws.write("bad.toml", "[population]\nusers = 10\nusres = 5\n");
    let assert = rabbithole().arg("validate").arg(&scenario).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("usres") && stderr.contains("bad.toml"),
        "{stderr}"
    );

    let good = ws.write("good.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let assert = rabbithole()
        .arg("validate")
        .arg(&good)
        .args(["--set", "population.minor_share=1.5"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("population.minor_share"), "{stderr}");
}

/// The default arms' lines, as `validate` and the note name them.
const DEFAULT_ARMS: [&str; 2] = [
    r#"engagement: policy = { kind = "engagement", exploration = 0.05 }"#,
    r#"random: policy = { kind = "random" }"#,
];

#[test]
fn run_says_when_a_file_without_arms_runs_the_default_arms() {
    let ws = Workspace::empty();
    let run = |scenario: &Path, out: &str, quiet: bool| {
        let mut cmd = rabbithole();
        cmd.arg("run").arg(scenario).arg("--out").arg(ws.path(out));
        cmd.args(["--replicates", "1", "--no-plot"]);
        if quiet {
            cmd.arg("--quiet");
        }
        let output = cmd.output().unwrap();
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let none = ws.write("none.toml", &tiny_scenario(""));
    let stderr = run(&none, "none", false);
    assert!(
        stderr.contains("none.toml has no [[arms]], so it runs the default arms"),
        "{stderr}"
    );
    for line in DEFAULT_ARMS {
        assert!(stderr.contains(line), "{stderr}");
    }
    // Not with --quiet, and not when the file writes the same arms itself.
    assert_eq!(run(&none, "quiet", true), "");
    let written = ws.write("written.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let stderr = run(&written, "written", false);
    assert!(!stderr.contains("[[arms]]"), "{stderr}");
}

#[test]
fn validate_names_every_arm_and_its_policy() {
    let ws = Workspace::empty();
    let validate = |scenario: &Path| {
        let assert = rabbithole().arg("validate").arg(scenario).assert().success();
        String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
    };
    let stdout = validate(&ws.write("none.toml", &tiny_scenario("")));
    assert!(
        stdout.contains("arms (the defaults: the file has no [[arms]]):\n"),
        "{stdout}"
    );
    for line in DEFAULT_ARMS {
        assert!(stdout.contains(&format!("\n  {line}\n")), "{stdout}");
    }
    let arms = r#"
[[arms]]
name = "cal"
policy = { kind = "calibrated", weight = 0.25 }

[[arms]]
name = "chrono"
policy = { kind = "chronological" }
switch = { share = 0.5, policy = { kind = "random" } }
"#;
    let stdout = validate(&ws.write("two.toml", &tiny_scenario(arms)));
    assert!(
        stdout.contains(
            "arms:\n  cal: policy = { kind = \"calibrated\", exploration = 0.05, weight = 0.25 }\n  \
             chrono: policy = { kind = \"chronological\", following_window = 100 }; with switch to random\n"
        ),
        "{stdout}"
    );
}
