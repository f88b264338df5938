//! Invariants of the result files: what must hold for every row whatever the model's
//! parameters, and agreement between `users.csv` and the last rows of `timeseries.csv`.

use crate::{ENGAGEMENT_AND_RANDOM, TINY_MINUTES, TINY_USERS, Table, Workspace, tiny_scenario};
use std::collections::BTreeMap;

/// Longest item in the tiny scenario, minutes (`catalog.duration_max_seconds` default, 180 s):
/// a viewer may finish the item under way when their minutes run out.
const LONGEST_ITEM_MINUTES: f64 = 3.0;

/// Columns of `users.csv` that are shares or distances in [0, 1].
const USER_SHARES: &[&str] = &[
    "feed_entropy",
    "top_topic_share",
    "interest_drift",
    "profile_error",
    "sensitive_share",
];

fn assert_within(table: &Table, row: &[String], name: &str, lo: f64, hi: f64) {
    if let Some(x) = table.num(row, name) {
        assert!(
            (lo..=hi).contains(&x),
            "{name} = {x} outside [{lo}, {hi}] in {row:?}"
        );
    }
}

fn per_user_run(ws: &Workspace) -> std::path::PathBuf {
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    ws.run_ok(&scenario, "out", &["--per-user"])
}

#[test]
fn users_csv_has_one_row_per_arm_replicate_and_user() {
    let ws = Workspace::empty();
    let users = Table::read(&per_user_run(&ws).join("users.csv"));
    let mut seen: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for r in &users.rows {
        let key = (
            users.text(r, "arm").to_string(),
            users.text(r, "replicate").to_string(),
        );
        seen.entry(key)
            .or_default()
            .push(users.text(r, "user").parse().unwrap());
    }
    let keys: Vec<(&str, &str)> = seen.keys().map(|(a, r)| (a.as_str(), r.as_str())).collect();
    assert_eq!(
        keys,
        [
            ("engagement", "0"),
            ("engagement", "1"),
            ("random", "0"),
            ("random", "1")
        ]
    );
    for (key, mut ids) in seen {
        ids.sort_unstable();
        assert_eq!(ids, (0..TINY_USERS).collect::<Vec<_>>(), "viewer ids of {key:?}");
    }
}

#[test]
fn users_csv_values_stay_in_range() {
    let ws = Workspace::empty();
    let users = Table::read(&per_user_run(&ws).join("users.csv"));
    let max_minutes = TINY_MINUTES + LONGEST_ITEM_MINUTES;
    for r in &users.rows {
        let minutes = users.num(r, "minutes").expect("minutes is always written");
        assert!(
            (0.0..=max_minutes).contains(&minutes),
            "minutes = {minutes} in {r:?}"
        );
        let watched = users
            .num(r, "watch_minutes")
            .expect("watch_minutes is always written");
        assert!(
            (0.0..=minutes).contains(&watched),
            "watch_minutes = {watched} beyond minutes = {minutes} in {r:?}"
        );
        for name in USER_SHARES {
            assert_within(&users, r, name, 0.0, 1.0);
        }
        for name in ["stance_start", "stance_end"] {
            assert_within(&users, r, name, -1.0, 1.0);
        }
        for flag in ["minor", "in_rabbit_hole"] {
            assert!(
                matches!(users.text(r, flag), "0" | "1"),
                "{flag} is not 0 or 1 in {r:?}"
            );
        }

        // A viewer in a rabbit hole has a top topic share at or above the threshold (0.8),
        // and got there at some minute of their use.
        let in_hole = users.text(r, "in_rabbit_hole") == "1";
        if let Some(top) = users.num(r, "top_topic_share") {
            assert_eq!(
                in_hole,
                top >= 0.8,
                "in_rabbit_hole against top_topic_share {top} in {r:?}"
            );
        }
        match users.num(r, "minutes_to_rabbit_hole") {
            Some(m) => assert!(
                (0.0..=minutes).contains(&m),
                "minutes_to_rabbit_hole = {m} in {r:?}"
            ),
            None => assert!(!in_hole, "in a rabbit hole without a minute of entry: {r:?}"),
        }
    }
}

#[test]
fn users_csv_agrees_with_the_last_timeseries_rows() {
    let ws = Workspace::empty();
    let out = per_user_run(&ws);
    let users = Table::read(&out.join("users.csv"));
    let ts = Table::read(&out.join("timeseries.csv"));
    for arm in ["engagement", "random"] {
        for replicate in ["0", "1"] {
            let last = ts
                .rows_where("arm", arm)
                .into_iter()
                .rfind(|r| ts.text(r, "replicate") == replicate)
                .expect("timeseries rows for every arm and replicate");
            let viewers: Vec<&[String]> = users
                .rows_where("arm", arm)
                .into_iter()
                .filter(|r| users.text(r, "replicate") == replicate)
                .collect();
            for (ts_name, user_name) in [
                ("mean_minutes", "minutes"),
                ("watch_minutes", "watch_minutes"),
                ("feed_entropy", "feed_entropy"),
                ("in_rabbit_hole", "in_rabbit_hole"),
                ("interest_drift", "interest_drift"),
                ("sensitive_share", "sensitive_share"),
            ] {
                // Means over the viewers with a value (feed metrics need a full window).
                let values: Vec<f64> = viewers.iter().filter_map(|r| users.num(r, user_name)).collect();
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                let expected = ts.num(last, ts_name).expect("the last row has every metric");
                assert!(
                    (mean - expected).abs() < 1e-5,
                    "{arm}/{replicate}: {ts_name} is {expected} in timeseries.csv, \
                     the mean of users.csv is {mean}"
                );
            }
        }
    }
}

#[test]
fn timeseries_values_stay_in_range() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.run_ok(&scenario, "out", &[]);
    let ts = Table::read(&out.join("timeseries.csv"));
    let groups: Vec<&String> = ts
        .header
        .iter()
        .filter(|h| h.starts_with("group_exposure_"))
        .collect();
    assert!(!groups.is_empty(), "no group_exposure_<group> columns");

    let mut previous: Option<&[String]> = None;
    for r in &ts.rows {
        for name in [
            "feed_entropy",
            "feed_entropy_p10",
            "feed_entropy_p50",
            "feed_entropy_p90",
            "top_topic_share",
            "in_rabbit_hole",
            "interest_drift",
            "profile_error",
            "sensitive_share",
            "coverage",
            "exposure_gini",
        ] {
            assert_within(&ts, r, name, 0.0, 1.0);
        }
        assert_within(&ts, r, "stance_shift", -2.0, 2.0);
        if let (Some(p10), Some(p50), Some(p90)) = (
            ts.num(r, "feed_entropy_p10"),
            ts.num(r, "feed_entropy_p50"),
            ts.num(r, "feed_entropy_p90"),
        ) {
            assert!(p10 <= p50 && p50 <= p90, "quantiles out of order in {r:?}");
        }
        let exposure: f64 = groups.iter().map(|g| ts.num(r, g).unwrap()).sum();
        assert!(
            (exposure - 1.0).abs() < 1e-5,
            "group exposures sum to {exposure} in {r:?}"
        );

        // Within an (arm, replicate), steps increase and time only accumulates.
        if let Some(p) = previous
            && ts.text(p, "arm") == ts.text(r, "arm")
            && ts.text(p, "replicate") == ts.text(r, "replicate")
        {
            let step = |row: &[String]| -> u32 { ts.text(row, "step").parse().unwrap() };
            assert!(step(r) > step(p), "steps out of order at {r:?}");
            for name in ["mean_minutes", "watch_minutes"] {
                assert!(ts.num(r, name) >= ts.num(p, name), "{name} fell at {r:?}");
            }
        }
        previous = Some(r);
    }
}
