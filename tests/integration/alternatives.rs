//! DSA-style alternative recommenders on a small copy of `scenarios/dsa_alternatives.toml`:
//! the direction of their effects against `engagement`, switching cohorts, and `explain`.

use crate::sweep::merge_ok;
use crate::{TINY_USERS, Table, Workspace, rabbithole, tiny_scenario, v1_viewer};

/// A small population under engagement and its alternatives, with a switching arm.
fn alternatives_scenario() -> String {
    r#"[scenario]
name = "alternatives"
seed = 11
replicates = 3
baseline = "engagement"

# No following at the start: the profile-free feeds (chronological reads only follows) are
# compared as they were designed, on fresh accounts. With the default following of 16
# creators the chronological feed shows those creators' new items and can hold attention as
# long as the engagement feed (README, "DSA alternatives").
[population]
users = 300
initial_follows = 0

[catalog]
items = 1500
creators = 150

[[arms]]
name = "engagement"
policy = { kind = "engagement" }

[[arms]]
name = "random"
policy = { kind = "random" }

[[arms]]
name = "chronological"
policy = { kind = "chronological" }

[[arms]]
name = "popularity"
policy = { kind = "popularity" }

[[arms]]
name = "diversified"
policy = { kind = "diversified", diversity = 0.5, topic_cap = 0.5 }

[[arms]]
name = "calibrated"
policy = { kind = "calibrated", weight = 0.5 }

[[arms]]
name = "blend"
policy = { kind = "blend", components = [
  { weight = 0.6, policy = { kind = "engagement" } },
  { weight = 0.4, policy = { kind = "popularity" } },
] }

[[arms]]
name = "switch"
policy = { kind = "engagement" }
switch = { share = 0.3, at_minute = 5, policy = { kind = "chronological" } }
"#
    .to_string()
}

fn mean(summary: &Table, arm: &str, metric: &str) -> f64 {
    let row = summary
        .rows
        .iter()
        .find(|r| summary.text(r, "arm") == arm && summary.text(r, "cohort") == "all")
        .unwrap_or_else(|| panic!("no summary row for arm {arm}"));
    summary
        .num(row, &format!("{metric}_mean"))
        .unwrap_or_else(|| panic!("{metric}_mean is empty for {arm}"))
}

/// The mechanism under the v1 viewer ([`crate::V1_VIEWER`]): whether a re-ranking of the
/// engagement feed costs watch time on this small population depends on how viewers use the
/// app (with the calibrated defaults the calibrated re-ranking holds them slightly longer here,
/// while in the DSA scenario the engagement feed leads: a result for the README, not a test).
#[test]
fn alternatives_trade_watch_time_for_diversity() {
    let ws = Workspace::empty();
    let scenario = ws.write("alt.toml", &alternatives_scenario());
    let out = ws.run_ok(&scenario, "out", &v1_viewer(&["--no-plot"]));
    let summary = Table::read(&out.join("summary.csv"));
    let m = |arm: &str, metric: &str| mean(&summary, arm, metric);

    for arm in ["diversified", "calibrated"] {
        assert!(
            m(arm, "feed_entropy") > m("engagement", "feed_entropy") + 0.05,
            "{arm} should have a more diverse feed than engagement"
        );
        assert!(
            m(arm, "in_rabbit_hole") < m("engagement", "in_rabbit_hole"),
            "{arm} should have fewer viewers in a rabbit hole than engagement"
        );
    }
    let engagement_watch = m("engagement", "watch_minutes");
    for arm in [
        "random",
        "chronological",
        "popularity",
        "diversified",
        "calibrated",
        "blend",
    ] {
        assert!(
            m(arm, "watch_minutes") < engagement_watch,
            "engagement should hold attention longest, but {arm} has {} against {engagement_watch}",
            m(arm, "watch_minutes")
        );
    }
    // Random and chronological both show topics in catalog proportions: the most diverse.
    let random = m("random", "feed_entropy");
    for arm in [
        "engagement",
        "popularity",
        "diversified",
        "calibrated",
        "blend",
        "switch",
    ] {
        assert!(
            random > m(arm, "feed_entropy"),
            "random should be more diverse than {arm}"
        );
    }
    assert!((random - m("chronological", "feed_entropy")).abs() < 0.05);
}

#[test]
fn switching_reports_switchers_and_stayers() {
    let ws = Workspace::empty();
    let scenario = ws.write("alt.toml", &alternatives_scenario());
    let out = ws.run_ok(&scenario, "out", &["--no-plot", "--replicates", "1"]);
    let summary = Table::read(&out.join("summary.csv"));
    let cohorts = |arm: &str| -> Vec<String> {
        summary
            .rows
            .iter()
            .filter(|r| summary.text(r, "arm") == arm)
            .map(|r| summary.text(r, "cohort").to_string())
            .collect()
    };
    assert_eq!(cohorts("switch"), ["all", "switchers", "stayers"]);
    assert_eq!(cohorts("engagement"), ["all"]);
    let users = |cohort: &str| {
        let row = summary
            .rows
            .iter()
            .find(|r| summary.text(r, "arm") == "switch" && summary.text(r, "cohort") == cohort)
            .unwrap();
        summary.num(row, "users").unwrap()
    };
    assert_eq!(users("switchers") + users("stayers"), users("all"));
    // About 30 % of 300 viewers switch.
    assert!(
        (60.0..=120.0).contains(&users("switchers")),
        "{}",
        users("switchers")
    );
    // Those who switch to the chronological feed see a more diverse feed than those who stay.
    let entropy = |cohort: &str| {
        let row = summary
            .rows
            .iter()
            .find(|r| summary.text(r, "arm") == "switch" && summary.text(r, "cohort") == cohort)
            .unwrap();
        summary.num(row, "feed_entropy_mean").unwrap()
    };
    assert!(entropy("switchers") > entropy("stayers") + 0.1);
    // The timeseries has the same three cohorts for the switching arm.
    let ts = Table::read(&out.join("timeseries.csv"));
    let mut ts_cohorts: Vec<&str> = ts
        .rows
        .iter()
        .filter(|r| ts.text(r, "arm") == "switch")
        .map(|r| ts.text(r, "cohort"))
        .collect();
    ts_cohorts.sort_unstable();
    ts_cohorts.dedup();
    assert_eq!(ts_cohorts, ["all", "stayers", "switchers"]);
}

/// Runs `explain` on viewer 7 and parses its CSV.
fn explain_csv(ws: &Workspace, arm: &str) -> Table {
    let scenario = ws.write("alt.toml", &alternatives_scenario());
    crate::explain_csv(
        ws,
        &scenario,
        &["--arm", arm, "--user", "7", "--steps", "40"],
        &format!("explain-{arm}.csv"),
    )
}

#[test]
fn explain_discloses_parts_that_add_up_to_the_score() {
    let ws = Workspace::empty();
    let mut ranked = 0;
    for (arm, parts) in [
        ("engagement", &["predicted_watch_seconds"][..]),
        ("diversified", &["relevance", "diversity", "topic_cap"][..]),
        ("calibrated", &["relevance", "calibration"][..]),
        ("chronological", &["recency", "following"][..]),
        ("popularity", &["trend"][..]),
    ] {
        let table = explain_csv(&ws, arm);
        for column in [
            "step",
            "minute",
            "policy",
            "item",
            "topic",
            "creator",
            "group",
            "source",
            "rank",
            "base_rank",
            "score",
            "watch_fraction",
            "skipped",
            "liked",
        ] {
            assert!(
                table.header.iter().any(|h| h == column),
                "{arm}: no column {column}"
            );
        }
        // Columns are addressed by name: none may appear twice (the item's `duration` and
        // engagement's factor of that name once did).
        let mut names = table.header.clone();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), table.header.len(), "{arm}: {:?}", table.header);
        // One row per impression, until the viewer stops using the app.
        assert!(
            !table.rows.is_empty() && table.rows.len() <= 40,
            "{arm}: {} rows",
            table.rows.len()
        );
        for row in &table.rows {
            let Some(score) = table.num(row, "score") else {
                continue; // an exploration impression is not ranked
            };
            ranked += 1;
            let sum: f64 = parts.iter().map(|p| table.num(row, p).unwrap()).sum();
            assert!(
                (sum - score).abs() <= 1e-4 * score.abs().max(1.0),
                "{arm}: parts {sum} do not add up to the score {score}"
            );
            let rank: usize = table.text(row, "rank").parse().unwrap();
            assert!(rank >= 1);
        }
    }
    assert!(ranked > 30, "most impressions are ranked, got {ranked}");
}

#[test]
fn explain_refuses_an_unknown_arm_or_viewer() {
    let ws = Workspace::empty();
    let scenario = ws.write("alt.toml", &alternatives_scenario());
    for args in [
        &["--arm", "nope", "--user", "1"][..],
        &["--arm", "engagement", "--user", "300"][..],
    ] {
        let output = rabbithole()
            .arg("explain")
            .arg(&scenario)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--arm") || stderr.contains("--user"), "{stderr}");
    }
}

#[test]
fn exhaustive_retrieval_ranks_every_visible_item() {
    let ws = Workspace::empty();
    let scenario = ws.write("alt.toml", &alternatives_scenario());
    let args = ["--arm", "engagement", "--user", "7", "--steps", "10"];
    let set = ["--set", "feed.retrieval=exhaustive"];
    let table = crate::explain_csv(&ws, &scenario, &[&args[..], &set].concat(), "exhaustive.csv");
    let mut ranked = 0;
    for row in &table.rows {
        if table.text(row, "explored") == "1" {
            continue;
        }
        ranked += 1;
        // 1,500 items at the start and 2 uploads per step: every visible one is a candidate.
        let step: usize = table.text(row, "step").parse().unwrap();
        let candidates: usize = table.text(row, "candidates").parse().unwrap();
        assert_eq!(candidates, 1500 + 2 * (step + 1));
        assert_eq!(table.text(row, "source"), "catalog");
    }
    assert!(ranked > 0);
}

/// Everyone switches in one arm and no one in another: `stayers` of the first and `switchers`
/// of the second have no viewers, so they have no rows in `timeseries.csv` or `summary.csv`
/// (not rows of empty metrics beside platform-wide ones), and the charts, the report and
/// merged shards work without them.
#[test]
fn a_cohort_without_viewers_has_no_rows() {
    let ws = Workspace::empty();
    let path = ws.write(
        "cohorts.toml",
        &tiny_scenario(
            r#"
[[arms]]
name = "everyone"
policy = { kind = "engagement" }
switch = { share = 1.0, at_minute = 5, policy = { kind = "random" } }

[[arms]]
name = "no_one"
policy = { kind = "engagement" }
switch = { share = 0.0, at_minute = 5, policy = { kind = "random" } }
"#,
        ),
    );
    let whole = ws.run_ok(&path, "whole", &[]);
    let expected = [
        ("everyone", "all"),
        ("everyone", "switchers"),
        ("no_one", "all"),
        ("no_one", "stayers"),
    ];
    let pairs = |table: &Table| {
        let mut pairs: Vec<(String, String)> = table
            .rows
            .iter()
            .map(|r| {
                (
                    table.text(r, "arm").to_string(),
                    table.text(r, "cohort").to_string(),
                )
            })
            .collect();
        pairs.dedup();
        pairs
    };
    let summary = Table::read(&whole.join("summary.csv"));
    assert_eq!(
        pairs(&summary),
        expected.map(|(a, c)| (a.to_string(), c.to_string()))
    );
    let timeseries = Table::read(&whole.join("timeseries.csv"));
    let mut in_timeseries = pairs(&timeseries);
    in_timeseries.sort();
    in_timeseries.dedup();
    assert_eq!(
        in_timeseries,
        expected.map(|(a, c)| (a.to_string(), c.to_string()))
    );
    for row in &timeseries.rows {
        assert_eq!(timeseries.text(row, "viewers"), TINY_USERS.to_string(), "{row:?}");
    }
    assert!(whole.join("report.html").is_file());

    for i in 1..=2 {
        let shard = format!("shard-{i}");
        ws.run_ok(&path, &shard, &["--no-plot", "--shard", &format!("{i}/2")]);
    }
    let merged = merge_ok(&ws, &["shard-1", "shard-2"]);
    for file in ["timeseries.csv", "summary.csv"] {
        let (a, b) = (
            std::fs::read(whole.join(file)).unwrap(),
            std::fs::read(merged.join(file)).unwrap(),
        );
        assert!(a == b, "{file} differs after merging");
    }
}
