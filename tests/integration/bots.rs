//! Audit bots: a lingering bot's feed narrows to its topic under `engagement` and not under
//! `random`; after a switch, the feed follows it within a reported number of impressions;
//! bots are a cohort of their own and stay out of `all`; `bot_summary.csv` sums `bots.csv`
//! up per bot group, and merged shards give it byte for byte.

use crate::sweep::merge_ok;
use crate::{ENGAGEMENT_AND_RANDOM, TINY_USERS, Table, Workspace, explain_csv, rabbithole, tiny_scenario};
use std::path::{Path, PathBuf};

const BOTS: &str = r#"
[[bots]]
name = "gaming"
rule = "linger"
topic = "gaming"
count = 3
minutes = 30

[[bots]]
name = "gaming_then_food"
rule = "linger_switch"
topic = "gaming"
switch_topic = "food"
switch_minute = 20
count = 3
minutes = 60

[[bots]]
name = "clicker"
rule = "random"
topic = "gaming"
count = 2
minutes = 30
"#;

/// Writes the tiny scenario's two arms with [`BOTS`] as `bots.toml` in `ws`.
fn bots_scenario(ws: &Workspace) -> PathBuf {
    ws.write(
        "bots.toml",
        &tiny_scenario(&format!("{ENGAGEMENT_AND_RANDOM}{BOTS}")),
    )
}

/// The rows of `bots.csv` for bots named `name` in `arm`.
fn bot_rows<'t>(bots: &'t Table, arm: &str, name: &str) -> Vec<&'t [String]> {
    bots.rows
        .iter()
        .filter(|r| bots.text(r, "arm") == arm && bots.text(r, "name") == name)
        .map(Vec::as_slice)
        .collect()
}

#[test]
fn audit_bots_narrow_under_engagement_and_follow_a_switch() {
    let ws = Workspace::empty();
    let out = ws.run_ok(&bots_scenario(&ws), "out", &[]);
    let bots = Table::read(&out.join("bots.csv"));
    // One row per (arm, replicate, bot): 8 bots, 2 arms, 2 replicates.
    assert_eq!(bots.rows.len(), 8 * 2 * 2);

    // A lingering bot's feed narrows to its topic under engagement, within its 30 minutes...
    for row in bot_rows(&bots, "engagement", "gaming") {
        let minutes = bots.num(row, "minutes_to_narrow").expect("the feed narrowed");
        assert!(minutes > 0.0 && minutes < 30.0, "{minutes}");
        assert!(bots.num(row, "topic_share").unwrap() >= 0.8);
    }
    // ... and never under a random feed, which does not read what it watched.
    for row in bot_rows(&bots, "random", "gaming") {
        assert_eq!(bots.num(row, "minutes_to_narrow"), None);
        assert!(bots.num(row, "topic_share").unwrap() < 0.8);
    }
    // After its switch, the engagement feed follows the bot within a finite number of
    // impressions, reported; the random feed does not.
    for row in bot_rows(&bots, "engagement", "gaming_then_food") {
        let n = bots
            .num(row, "impressions_to_follow_switch")
            .expect("the feed followed");
        assert!(n >= 1.0, "{n}");
        let minutes = bots.num(row, "minutes_to_follow_switch").unwrap();
        assert!(minutes > 0.0 && minutes <= 40.0, "{minutes}");
        assert!(bots.num(row, "minutes_to_narrow").unwrap() < 20.0);
    }
    for row in bot_rows(&bots, "random", "gaming_then_food") {
        assert_eq!(bots.num(row, "impressions_to_follow_switch"), None);
    }
    for row in bot_rows(&bots, "engagement", "clicker") {
        assert_eq!(bots.text(row, "rule"), "random");
    }

    // Bots are the cohort `bot`, and not in `all`.
    let summary = Table::read(&out.join("summary.csv"));
    let users = |cohort: &str| {
        let row = summary
            .rows
            .iter()
            .find(|r| summary.text(r, "arm") == "engagement" && summary.text(r, "cohort") == cohort)
            .unwrap_or_else(|| panic!("no {cohort} row"));
        summary.num(row, "users").unwrap()
    };
    assert_eq!(users("all"), TINY_USERS as f64);
    assert_eq!(users("bot"), 8.0);
}

#[test]
fn bots_are_marked_in_users_csv_and_explained_like_viewers() {
    let ws = Workspace::empty();
    let scenario = bots_scenario(&ws);
    let out = ws.run_ok(&scenario, "out", &["--per-user", "--replicates", "1"]);
    let users = Table::read(&out.join("users.csv"));
    let bots: Vec<&Vec<String>> = users
        .rows
        .iter()
        .filter(|r| users.text(r, "bot") == "1")
        .collect();
    assert_eq!(bots.len(), 8 * 2);
    assert!(
        bots.iter()
            .all(|r| users.text(r, "user").parse::<usize>().unwrap() >= TINY_USERS)
    );
    // `bots.csv` names the bots by the same ids.
    let bot_file = Table::read(&out.join("bots.csv"));
    let ids = |table: &Table, rows: Vec<&Vec<String>>, col: &str| {
        let mut ids: Vec<String> = rows.iter().map(|r| table.text(r, col).to_string()).collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&bot_file, bot_file.rows.iter().collect(), "bot"),
        ids(&users, bots.clone(), "user")
    );
    // The first bot lingers on gaming: `explain` shows its feed filling with gaming.
    let args = ["--arm", "engagement", "--user", "200", "--steps", "60"];
    let feed = explain_csv(&ws, &scenario, &args, "bot.csv");
    let late = &feed.rows[feed.rows.len() - 20..];
    let gaming = late.iter().filter(|r| feed.text(r, "topic") == "gaming").count();
    assert!(gaming >= 16, "{gaming} of the last 20");
    let refused = rabbithole()
        .arg("explain")
        .arg(&scenario)
        .args(["--arm", "engagement", "--user", "208"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("plus the 8 bots"), "{stderr}");
}

/// The columns of `bot_summary.csv`, as README.md and docs/scenarios.md list them.
const BOT_SUMMARY_COLUMNS: [&str; 24] = [
    "arm",
    "policy",
    "name",
    "rule",
    "topics",
    "switch_topic",
    "switch_minute",
    "bots",
    "replicates",
    "narrowed_share_mean",
    "narrowed_share_lo",
    "narrowed_share_hi",
    "minutes_to_narrow_mean",
    "minutes_to_narrow_lo",
    "minutes_to_narrow_hi",
    "followed_switch_share_mean",
    "followed_switch_share_lo",
    "followed_switch_share_hi",
    "impressions_to_follow_switch_mean",
    "impressions_to_follow_switch_lo",
    "impressions_to_follow_switch_hi",
    "minutes_to_follow_switch_mean",
    "minutes_to_follow_switch_lo",
    "minutes_to_follow_switch_hi",
];

/// Mean and 95 % interval over the two replicates of [`tiny_scenario`] (t = 12.706 for one
/// degree of freedom); `None` without values, no interval with one. A `share`'s interval is
/// Wilson's with the effective sample size n* = p(1 − p) / se² (docs/model.md §10).
fn mean_and_interval(values: &[f64], share: bool) -> Option<(f64, Option<(f64, f64)>)> {
    const T: f64 = 12.706;
    match values {
        [] => None,
        [x] => Some((*x, None)),
        [x, y] => {
            let mean = (x + y) / 2.0;
            // The standard error s / √2 with s² = (x − y)² / 2.
            let se = (x - y).abs() / 2.0;
            if !share || se == 0.0 {
                return Some((mean, Some((mean - T * se, mean + T * se))));
            }
            let n = mean * (1.0 - mean) / (se * se);
            let k = T * T / n;
            let centre = (mean + k / 2.0) / (1.0 + k);
            let half = T / (1.0 + k) * (se * se + k / (4.0 * n)).sqrt();
            Some((mean, Some((centre - half, centre + half))))
        }
        _ => panic!("tiny scenarios have two replicates"),
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    (n > 0).then(|| (values[(n - 1) / 2] + values[n / 2]) / 2.0)
}

/// Checks one metric of a `bot_summary.csv` row against `per_replicate` (one value or none
/// per replicate), to the six decimals written.
fn check_metric(summary: &Table, row: &[String], metric: &str, per_replicate: &[Option<f64>]) {
    let values: Vec<f64> = per_replicate.iter().flatten().copied().collect();
    let cell = |suffix: &str| summary.num(row, &format!("{metric}_{suffix}"));
    let close = |got: Option<f64>, want: Option<f64>, what: &str| match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() <= 1.5e-6, "{metric}_{what}: {g} against {w}"),
        (g, w) => assert_eq!(g, w, "{metric}_{what}"),
    };
    let (mean, interval) = match mean_and_interval(&values, metric.ends_with("_share")) {
        Some((mean, interval)) => (Some(mean), interval),
        None => (None, None),
    };
    close(cell("mean"), mean, "mean");
    close(cell("lo"), interval.map(|i| i.0), "lo");
    close(cell("hi"), interval.map(|i| i.1), "hi");
}

/// `bot_summary.csv` recomputed from `bots.csv`: per (arm, group), per replicate the share of
/// bots that narrowed (or followed the switch) and the median over those that did, then the
/// mean and 95 % interval over replicates.
#[test]
fn bot_summary_csv_sums_up_bots_csv_per_arm_and_bot_group() {
    let ws = Workspace::empty();
    let out = ws.run_ok(&bots_scenario(&ws), "out", &[]);
    let bots = Table::read(&out.join("bots.csv"));
    let summary = Table::read(&out.join("bot_summary.csv"));
    assert_eq!(summary.header, BOT_SUMMARY_COLUMNS);
    let keys: Vec<(&str, &str)> = summary
        .rows
        .iter()
        .map(|r| (summary.text(r, "arm"), summary.text(r, "name")))
        .collect();
    let groups = ["gaming", "gaming_then_food", "clicker"];
    let expected: Vec<(&str, &str)> = ["engagement", "random"]
        .iter()
        .flat_map(|&arm| groups.iter().map(move |&g| (arm, g)))
        .collect();
    assert_eq!(keys, expected);
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"bot_summary.csv\""), "{manifest}");

    let mut followed_somewhere = false;
    for row in &summary.rows {
        let (arm, name) = (summary.text(row, "arm"), summary.text(row, "name"));
        let switching = summary.text(row, "rule") == "linger_switch";
        assert_eq!(summary.text(row, "replicates"), "2");
        // Per replicate: (share, median) of a bots.csv column over the group's bots.
        let per_replicate = |column: &str| -> (Vec<Option<f64>>, Vec<Option<f64>>) {
            (0..2)
                .map(|replicate| {
                    let rows: Vec<&[String]> = bot_rows(&bots, arm, name)
                        .into_iter()
                        .filter(|r| bots.text(r, "replicate") == replicate.to_string())
                        .collect();
                    assert_eq!(summary.num(row, "bots"), Some(rows.len() as f64));
                    let values: Vec<f64> = rows.iter().filter_map(|r| bots.num(r, column)).collect();
                    (Some(values.len() as f64 / rows.len() as f64), median(values))
                })
                .unzip()
        };
        let (narrowed, minutes) = per_replicate("minutes_to_narrow");
        check_metric(&summary, row, "narrowed_share", &narrowed);
        check_metric(&summary, row, "minutes_to_narrow", &minutes);
        let (followed, impressions) = per_replicate("impressions_to_follow_switch");
        let (_, follow_minutes) = per_replicate("minutes_to_follow_switch");
        // Only a switching group has values after a switch.
        let only_switching = |v: Vec<Option<f64>>| if switching { v } else { vec![None, None] };
        check_metric(&summary, row, "followed_switch_share", &only_switching(followed));
        check_metric(
            &summary,
            row,
            "impressions_to_follow_switch",
            &only_switching(impressions),
        );
        check_metric(
            &summary,
            row,
            "minutes_to_follow_switch",
            &only_switching(follow_minutes),
        );
        followed_somewhere |= switching && summary.num(row, "impressions_to_follow_switch_mean").is_some();
    }
    // The checks above compared real values: the engagement feed followed the switch, and a
    // lingering bot's feed narrowed under engagement in every replicate and never under random.
    assert!(followed_somewhere);
    let share = |arm: &str| {
        let row = summary
            .rows
            .iter()
            .find(|r| summary.text(r, "arm") == arm)
            .unwrap();
        summary.num(row, "narrowed_share_mean")
    };
    assert_eq!(share("engagement"), Some(1.0));
    assert_eq!(share("random"), Some(0.0));
}

#[test]
fn no_bot_summary_csv_without_bots() {
    let ws = Workspace::empty();
    let out = ws.run_ok(
        &ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM)),
        "out",
        &[],
    );
    assert!(out.join("summary.csv").is_file());
    assert!(!out.join("bots.csv").exists() && !out.join("bot_summary.csv").exists());
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(!manifest.contains("bot_summary.csv"), "{manifest}");
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A run split into two shards (one replicate each) and merged gives the unsharded run's
/// `bot_summary.csv`, byte for byte, and lists it in the merged manifest.
#[test]
fn merged_shards_give_the_unsharded_bot_summary_csv() {
    let ws = Workspace::empty();
    let scenario = bots_scenario(&ws);
    let whole = ws.run_ok(&scenario, "whole", &["--no-plot"]);
    for i in 1..=2 {
        let shard = ws.run_ok(
            &scenario,
            &format!("shard-{i}"),
            &["--no-plot", "--shard", &format!("{i}/2")],
        );
        // Each shard sums up its own replicate only.
        let summary = Table::read(&shard.join("bot_summary.csv"));
        assert_eq!(summary.text(&summary.rows[0], "replicates"), "1");
    }
    let merged = merge_ok(&ws, &["shard-1", "shard-2"]);
    let (a, b) = (
        read(&whole.join("bot_summary.csv")),
        read(&merged.join("bot_summary.csv")),
    );
    assert!(
        a == b,
        "bot_summary.csv differs after merging:\n{}\n{}",
        String::from_utf8_lossy(&a),
        String::from_utf8_lossy(&b)
    );
    let manifest = std::fs::read_to_string(merged.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"bot_summary.csv\""), "{manifest}");
}
