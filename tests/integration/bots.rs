//! Audit bots: a lingering bot's feed narrows to its topic under `engagement` and not under
//! `random`; after a switch, the feed follows it within a reported number of impressions;
//! bots are a cohort of their own and stay out of `all`.

use crate::{ENGAGEMENT_AND_RANDOM, TINY_USERS, Table, Workspace, explain_csv, rabbithole, tiny_scenario};

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
    let text = tiny_scenario(&format!("{ENGAGEMENT_AND_RANDOM}{BOTS}"));
    let out = ws.run_ok(&ws.write("bots.toml", &text), "out", &[]);
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
    let scenario = ws.write(
        "bots.toml",
        &tiny_scenario(&format!("{ENGAGEMENT_AND_RANDOM}{BOTS}")),
    );
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
