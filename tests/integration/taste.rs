//! Item-level taste (`docs/model.md` §2b-5b) on the tiny scenario: with a taste weight, viewers
//! watch the items that match their taste longer; with taste drift, their taste moves towards
//! what they watched, so that a feed which keeps showing what they watched shows items that
//! match it, though the platform never reads taste; without taste nothing of it is written.

use crate::{ENGAGEMENT_AND_RANDOM, Table, Workspace, tiny_scenario};

/// Runs the tiny scenario with 8 taste dimensions and the given `viewer` keys, per user.
fn users(ws: &Workspace, out: &str, sets: &[&str]) -> Table {
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let mut args = vec!["--no-plot", "--per-user", "--set", "catalog.taste_dimensions=8"];
    for s in sets {
        args.extend(["--set", s]);
    }
    Table::read(&ws.run_ok(&scenario, out, &args).join("users.csv"))
}

/// The mean of column `name` over the arm's viewers who have a value.
fn mean(users: &Table, arm: &str, name: &str) -> f64 {
    let values: Vec<f64> = users
        .rows_where("arm", arm)
        .into_iter()
        .filter_map(|r| users.num(r, name))
        .collect();
    assert!(!values.is_empty(), "no {name} in arm {arm}");
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn viewers_watch_items_that_match_their_taste_longer() {
    let ws = Workspace::empty();
    let no_drift = "viewer.taste_drift_rate=0";
    let weighted = users(&ws, "weighted", &["viewer.taste_weight=2", no_drift]);
    let unweighted = users(&ws, "unweighted", &["viewer.taste_weight=0", no_drift]);
    for arm in ["engagement", "random"] {
        // Seconds watched lean towards matching items only when the match enters the logit.
        let gap = |t: &Table| mean(t, arm, "watched_match") - mean(t, arm, "shown_match");
        assert!(
            gap(&weighted) > 0.4,
            "{arm}: watched - shown match {}",
            gap(&weighted)
        );
        assert!(gap(&unweighted).abs() < 0.1, "{arm}: {}", gap(&unweighted));
        // Without drift the taste never moves.
        assert_eq!(mean(&weighted, arm, "taste_shift"), 0.0);
    }
}

#[test]
fn taste_drifts_towards_what_was_watched() {
    let ws = Workspace::empty();
    // No taste weight: the feed cannot pick by taste, and the match of what it shows is 0 on
    // average for a taste that does not move.
    let no_weight = "viewer.taste_weight=0";
    let still = users(&ws, "still", &["viewer.taste_drift_rate=0", no_weight]);
    let drifting = users(&ws, "drifting", &["viewer.taste_drift_rate=0.3", no_weight]);
    assert!(mean(&drifting, "engagement", "taste_shift") > 0.5);
    let shown = |t: &Table| mean(t, "engagement", "shown_match");
    assert!(shown(&still).abs() < 0.04, "{}", shown(&still));
    // The engagement feed keeps showing the creators and topics the viewer watched; a taste
    // that moved towards them matches what it shows.
    assert!(
        shown(&drifting) > shown(&still) + 0.04,
        "shown match with drift {} against {}",
        shown(&drifting),
        shown(&still)
    );
}

#[test]
fn without_taste_no_taste_column_is_written() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let mut args = vec!["--no-plot", "--per-user"];
    for s in [
        "catalog.taste_dimensions=0",
        "viewer.taste_weight=0",
        "viewer.taste_drift_rate=0",
    ] {
        args.extend(["--set", s]);
    }
    let out = ws.run_ok(&scenario, "out", &args);
    let header = Table::read(&out.join("users.csv")).header;
    assert!(
        !header.iter().any(|c| c.contains("match") || c == "taste_shift"),
        "{header:?}"
    );
    for c in [
        "top_interest",
        "second_interest",
        "top_interest_start",
        "second_interest_start",
    ] {
        assert!(header.iter().any(|h| h == c), "{c} missing from {header:?}");
    }
}

#[test]
fn taste_keys_are_refused_out_of_range() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let validate = |sets: &[&str]| {
        let mut cmd = crate::rabbithole();
        cmd.args(["validate"]).arg(&scenario);
        for set in sets {
            cmd.args(["--set", set]);
        }
        cmd.output().unwrap()
    };
    for (set, key) in [
        ("catalog.taste_dimensions=65", "catalog.taste_dimensions"),
        ("catalog.new_creator_share=2", "catalog.new_creator_share"),
        ("viewer.taste_weight=21", "viewer.taste_weight"),
    ] {
        let out = validate(&[set]);
        assert_eq!(out.status.code(), Some(2), "{set}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{set}: {err}");
    }
    // One key turns taste off: without a taste space the weights have nothing to weigh and
    // are accepted whatever they are.
    let out = validate(&[
        "catalog.taste_dimensions=0",
        "viewer.taste_weight=1",
        "viewer.taste_drift_rate=0.5",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
