//! Habit and return (`docs/model.md` §5c) on a tiny seven-day scenario: habit grows by the
//! documented curve with daily use and fades without it, a feed that satisfies more keeps
//! more viewers coming back on later days, and bad values of the keys are refused.

use crate::{ENGAGEMENT_AND_RANDOM, Table, Workspace, rabbithole, v1_viewer};
use std::path::PathBuf;

/// 150 viewers, seven days of at most about 10 minutes of use each (no cap on minutes).
fn week(extra: &str) -> String {
    format!(
        r#"[scenario]
name = "week"
seed = 11
replicates = 2

[population]
users = 150
budget_median_minutes = 10

[catalog]
items = 600
creators = 60

[feed]
days = 7
{extra}
{ENGAGEMENT_AND_RANDOM}"#
    )
}

/// Runs [`week`] with `extra` and returns the results directory.
fn run(ws: &Workspace, name: &str, extra: &str) -> PathBuf {
    run_with(ws, name, extra, &[])
}

/// [`run`] with `args` on the command line before `--per-user`.
fn run_with(ws: &Workspace, name: &str, extra: &str, args: &[&str]) -> PathBuf {
    let scenario = ws.write(&format!("{name}.toml"), &week(extra));
    let args: Vec<&str> = args.iter().copied().chain(["--per-user"]).collect();
    ws.run_ok(&scenario, name, &args)
}

/// The [`week`]'s `[viewer]` with habit, and with satisfaction (weight 4) or without (0).
fn habit_and_satisfaction(satisfaction: f64) -> String {
    format!(
        "[viewer]\nhabit_return_weight = 2.0\nsatisfaction_return_weight = {satisfaction:?}\n\
         day_return_probability = 0.75\n"
    )
}

/// `metric`'s mean in `summary.csv` for `arm`.
fn summary(out: &std::path::Path, arm: &str, metric: &str) -> f64 {
    let t = Table::read(&out.join("summary.csv"));
    let row = t
        .rows_where("arm", arm)
        .into_iter()
        .find(|r| t.text(r, "cohort") == "all")
        .expect("an `all` row");
    t.num(row, &format!("{metric}_mean")).expect("a value")
}

#[test]
fn habit_follows_the_documented_curve_with_daily_use_and_fades_without() {
    let ws = Workspace::empty();
    // Every day used: seven gains of α = 0.044 from 0.5, h = 1 − 0.5 · 0.956⁷.
    let every = run(&ws, "every", "[viewer]\nday_return_probability = 1.0\n");
    let users = Table::read(&every.join("users.csv"));
    let expected = 1.0 - 0.5 * 0.956f64.powi(7);
    for row in &users.rows {
        assert_eq!(users.num(row, "active_days"), Some(7.0));
        assert_eq!(users.num(row, "days"), Some(7.0));
        let h = users.num(row, "habit").unwrap();
        assert!((h - expected).abs() < 1e-5, "habit {h}, expected {expected}");
    }
    // No later day used: day 1's gain, then six days of fading by δ = 0.044.
    let never = run(&ws, "never", "[viewer]\nday_return_probability = 0.0\n");
    let users = Table::read(&never.join("users.csv"));
    let expected = (0.5 + 0.044 * 0.5) * 0.956f64.powi(6);
    for row in &users.rows {
        assert_eq!(users.num(row, "active_days"), Some(1.0));
        assert_eq!(users.num(row, "days"), Some(7.0));
        let h = users.num(row, "habit").unwrap();
        assert!((h - expected).abs() < 1e-5, "habit {h}, expected {expected}");
    }
    assert!((summary(&never, "random", "active_day_share") - 1.0 / 7.0).abs() < 1e-5);
}

#[test]
fn a_satisfying_feed_keeps_more_viewers_coming_back() {
    let ws = Workspace::empty();
    // Habit alone: both arms make the same day draws with the same habit, so they use the same
    // days (common random numbers), whatever the feed.
    let habit = run(&ws, "habit", &habit_and_satisfaction(0.0));
    let days = |out, arm| summary(out, arm, "active_day_share");
    assert_eq!(days(&habit, "engagement"), days(&habit, "random"));
    assert!(days(&habit, "random") < 1.0);

    // Satisfaction too: the engagement feed's better days bring viewers back more often, and
    // more days of use build more habit.
    let both = run(&ws, "both", &habit_and_satisfaction(4.0));
    let (e, r) = (days(&both, "engagement"), days(&both, "random"));
    assert!(e > r + 0.05, "active_day_share: engagement {e}, random {r}");
    let (he, hr) = (
        summary(&both, "engagement", "habit"),
        summary(&both, "random", "habit"),
    );
    assert!(he > hr, "habit: engagement {he}, random {hr}");
}

/// The mechanism under the v1 viewer ([`crate::V1_VIEWER`], the week's 10-minute budget kept):
/// after a good session the viewer comes back the same day more often, so satisfaction raises
/// the engagement feed's sessions a day relative to the random feed's. Under the calibrated
/// defaults the engagement feed's viewers spend the 10-minute budget in about 1.5 sessions a
/// day (the random feed's in about 4.3), so the budget, not the return probability, sets their
/// sessions, and satisfaction moved the ratio by about 2 %, downwards (engagement over random 0.354 with
/// satisfaction and 0.361 without, which failed this assertion when it ran at the defaults);
/// under the v1 viewer it is 0.34 against 0.30.
#[test]
fn satisfaction_brings_viewers_back_the_same_day_more_often() {
    let ws = Workspace::empty();
    let v1 = v1_viewer(&["--set", "population.budget_median_minutes=10"]);
    let habit = run_with(&ws, "habit", &habit_and_satisfaction(0.0), &v1);
    let both = run_with(&ws, "both", &habit_and_satisfaction(4.0), &v1);
    let sessions = |out, arm| summary(out, arm, "sessions_per_day");
    let gain = |out| sessions(out, "engagement") / sessions(out, "random");
    assert!(
        gain(&both) > gain(&habit),
        "sessions per day, engagement over random: {} with satisfaction, {} without",
        gain(&both),
        gain(&habit)
    );
}

#[test]
fn bad_habit_values_are_refused_with_key_and_range() {
    let ws = Workspace::empty();
    for (table, key, value, range) in [
        ("viewer", "habit_return_weight", "-1.0", "between 0 and 20"),
        ("viewer", "satisfaction_return_weight", "21.0", "between 0 and 20"),
        ("viewer", "day_return_probability", "1.5", "between 0 and 1"),
        ("viewer", "habit_gain", "-0.1", "between 0 and 1"),
        ("viewer", "habit_decay", "2.0", "between 0 and 1"),
        ("population", "initial_habit", "1.1", "between 0 and 1"),
    ] {
        let file = ws.write("bad.toml", &format!("[{table}]\n{key} = {value}\n"));
        let out = rabbithole().arg("validate").arg(&file).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        for needle in ["bad.toml", &format!("{table}.{key}"), range] {
            assert!(stderr.contains(needle), "{needle:?} not in:\n{stderr}");
        }
    }
}
