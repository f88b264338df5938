//! Replaying a run from its seed: byte-identical files whatever the thread count, the same
//! seed twice, a different seed, and common random numbers across arms and replicates.

use crate::{ENGAGEMENT_AND_RANDOM, Table, Workspace, tiny_scenario};
use std::path::Path;

pub const CSV_FILES: [&str; 3] = ["timeseries.csv", "summary.csv", "users.csv"];

pub fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
}

#[test]
fn csv_files_are_byte_identical_whatever_the_thread_count() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let one = ws.run_ok(&scenario, "t1", &["--threads", "1", "--per-user"]);
    for threads in ["2", "3"] {
        let many = ws.run_ok(
            &scenario,
            &format!("t{threads}"),
            &["--threads", threads, "--per-user"],
        );
        for file in CSV_FILES {
            assert!(
                read(&one, file) == read(&many, file),
                "{file} differs between --threads 1 and --threads {threads}"
            );
        }
    }
}

/// Protections, vulnerable minors, the time of day and audit bots keep every file, `bots.csv`
/// included, byte-identical whatever the thread count.
#[test]
fn protections_and_bots_are_byte_identical_whatever_the_thread_count() {
    let ws = Workspace::empty();
    let text = tiny_scenario(
        r#"days = 2

[[arms]]
name = "engagement"
policy = { kind = "engagement", exploration = 0.05 }

[[arms]]
name = "protected"
policy = { kind = "engagement", exploration = 0.05 }
protections = { sensitive_cap = 0.1, minor_daily_minutes = 5, minor_curfew_start = 21, minor_curfew_end = 7, minor_educational_feed = true, explicit_weight = 0.5, reset_minute = 5, reset_share = 0.5 }

[[bots]]
name = "linger"
rule = "linger_switch"
topic = "comedy"
switch_topic = "mental_health"
switch_minute = 5
count = 2
minutes = 15
minor = true

[[bots]]
name = "random"
rule = "random"
"#,
    )
    .replace("users = 200", "users = 200\nvulnerable_minor_share = 0.5");
    let scenario = ws.write("protected.toml", &text);
    let one = ws.run_ok(&scenario, "t1", &["--threads", "1", "--per-user"]);
    let two = ws.run_ok(&scenario, "t2", &["--threads", "2", "--per-user"]);
    for file in CSV_FILES.iter().chain(&["bots.csv"]) {
        assert!(
            read(&one, file) == read(&two, file),
            "{file} differs between --threads 1 and --threads 2"
        );
    }
}

/// A replicate's arms run side by side (`RunOptions::arms_at_once`) give what they give one
/// after another, rows in arm order: timeseries, finals, users, bots and plays alike.
#[test]
fn arms_side_by_side_give_the_results_of_arms_one_after_another() {
    use rabbithole::engine::{self, RunOptions};
    let ws = Workspace::empty();
    let text = tiny_scenario(&format!(
        r#"{ENGAGEMENT_AND_RANDOM}
[[arms]]
name = "chronological"
policy = {{ kind = "chronological" }}

[[bots]]
name = "random"
rule = "random"
"#
    ));
    let file = ws.write("three.toml", &text);
    let scenario = rabbithole::scenario::load(&file, &[]).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let results = |arms_at_once: usize| {
        let options = RunOptions {
            per_user: true,
            plays: true,
            arms_at_once,
            ..RunOptions::default()
        };
        // Debug text: NaN (no value) compares equal to itself there.
        format!("{:?}", pool.install(|| engine::run(&scenario, &options, &|_| {})))
    };
    let one_at_a_time = results(1);
    assert!(one_at_a_time.contains("chronological") && one_at_a_time.contains("BotRow"));
    for at_once in [2, 3] {
        assert!(
            results(at_once) == one_at_a_time,
            "{at_once} arms at once differ from one at a time"
        );
    }
}

#[test]
fn same_seed_gives_identical_files_and_another_seed_does_not() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let a = ws.run_ok(&scenario, "a", &["--seed", "5", "--per-user"]);
    let b = ws.run_ok(&scenario, "b", &["--seed", "5", "--per-user"]);
    let c = ws.run_ok(&scenario, "c", &["--seed", "6", "--per-user"]);
    for file in CSV_FILES {
        assert!(
            read(&a, file) == read(&b, file),
            "{file} differs for the same seed"
        );
        assert!(
            read(&a, file) != read(&c, file),
            "{file} is the same for seeds 5 and 6"
        );
    }
}

/// The timeseries rows of `arm`, without the arm name.
fn arm_rows(table: &Table, arm: &str) -> Vec<Vec<String>> {
    table
        .rows_where("arm", arm)
        .into_iter()
        .map(|r| r[1..].to_vec())
        .collect()
}

#[test]
fn an_arm_copied_under_another_name_gives_identical_values() {
    // The copy comes after a different arm, so state left over from one arm would show.
    let arms = format!(
        r#"{ENGAGEMENT_AND_RANDOM}
[[arms]]
name = "copy"
policy = {{ kind = "engagement", exploration = 0.05 }}
"#
    );
    let ws = Workspace::empty();
    let scenario = ws.write("crn.toml", &tiny_scenario(&arms));
    let out = ws.run_ok(&scenario, "out", &["--per-user"]);

    let ts = Table::read(&out.join("timeseries.csv"));
    let original = arm_rows(&ts, "engagement");
    assert!(!original.is_empty());
    assert_eq!(original, arm_rows(&ts, "copy"), "timeseries of the copy differs");
    assert_ne!(original, arm_rows(&ts, "random"));

    let users = Table::read(&out.join("users.csv"));
    assert_eq!(
        arm_rows(&users, "engagement"),
        arm_rows(&users, "copy"),
        "users.csv of the copy differs"
    );

    let summary = Table::read(&out.join("summary.csv"));
    assert_eq!(
        summary.row_where("arm", "engagement")[1..],
        summary.row_where("arm", "copy")[1..]
    );
}

#[test]
fn adding_an_arm_does_not_change_the_others() {
    let ws = Workspace::empty();
    let alone = ws.write(
        "alone.toml",
        &tiny_scenario(
            r#"
[[arms]]
name = "engagement"
policy = { kind = "engagement", exploration = 0.05 }
"#,
        ),
    );
    let both = ws.write("both.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let a = Table::read(&ws.run_ok(&alone, "alone", &[]).join("timeseries.csv"));
    let b = Table::read(&ws.run_ok(&both, "both", &[]).join("timeseries.csv"));
    assert_eq!(arm_rows(&a, "engagement"), arm_rows(&b, "engagement"));
}

#[test]
fn a_replicate_does_not_depend_on_how_many_follow_it() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let one = Table::read(
        &ws.run_ok(&scenario, "one", &["--replicates", "1"])
            .join("timeseries.csv"),
    );
    let three = Table::read(
        &ws.run_ok(&scenario, "three", &["--replicates", "3"])
            .join("timeseries.csv"),
    );
    assert_eq!(
        one.rows_where("replicate", "0"),
        three.rows_where("replicate", "0")
    );
    // Replicates are independent draws, not copies.
    let rep = |r: &str| -> Vec<Vec<String>> {
        three
            .rows_where("replicate", r)
            .into_iter()
            .map(|row| [&row[..1], &row[2..]].concat())
            .collect()
    };
    assert_ne!(rep("0"), rep("1"));
}
