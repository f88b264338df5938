//! The impression log (`run --log impressions`): read back with the parquet crate's reader,
//! one row per impression as `users.csv` counts them, the rows of one viewer as `explain`
//! shows them, the same bytes for any thread count, and its size stated by `validate`.

use crate::{ENGAGEMENT_AND_RANDOM, TINY_USERS, Table, Workspace, explain_csv, rabbithole, tiny_scenario};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int64Type, UInt32Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::path::Path;

/// The log's columns, in file order (`docs/model.md` §10).
const COLUMNS: [&str; 16] = [
    "arm",
    "replicate",
    "user_id",
    "step",
    "time_ms",
    "video_id",
    "topic",
    "author_id",
    "stance",
    "source",
    "watch_ratio",
    "play_time_ms",
    "duration_ms",
    "is_like",
    "is_follow",
    "is_skip",
];

/// One row of the log, as read back.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    arm: String,
    replicate: u32,
    user: u32,
    step: u32,
    time_ms: i64,
    item: u32,
    topic: String,
    creator: u32,
    stance: Option<f32>,
    source: String,
    ratio: f32,
    play_ms: i64,
    duration_ms: i64,
    like: bool,
    follow: bool,
    skip: bool,
}

/// Reads `path` with the parquet crate's Arrow reader.
fn read_log(path: &Path) -> Vec<Row> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch: RecordBatch = batch.unwrap();
        let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, COLUMNS);
        let s = |c: usize| batch.column(c).as_string::<i32>();
        let u = |c: usize| batch.column(c).as_primitive::<UInt32Type>();
        let i = |c: usize| batch.column(c).as_primitive::<Int64Type>();
        let f = |c: usize| batch.column(c).as_primitive::<Float32Type>();
        let b = |c: usize| batch.column(c).as_boolean();
        for r in 0..batch.num_rows() {
            rows.push(Row {
                arm: s(0).value(r).to_string(),
                replicate: u(1).value(r),
                user: u(2).value(r),
                step: u(3).value(r),
                time_ms: i(4).value(r),
                item: u(5).value(r),
                topic: s(6).value(r).to_string(),
                creator: u(7).value(r),
                stance: (!f(8).is_null(r)).then(|| f(8).value(r)),
                source: s(9).value(r).to_string(),
                ratio: f(10).value(r),
                play_ms: i(11).value(r),
                duration_ms: i(12).value(r),
                like: b(13).value(r),
                follow: b(14).value(r),
                skip: b(15).value(r),
            });
        }
    }
    rows
}

#[test]
fn the_log_has_a_row_per_impression_that_users_csv_counts() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.run_ok(&scenario, "out", &["--per-user", "--log", "impressions"]);
    let log = read_log(&out.join("impressions.parquet"));
    let users = Table::read(&out.join("users.csv"));
    // Per (arm, replicate, user): impressions, and seconds watched to the millisecond.
    let mut per_user: HashMap<(String, u32, u32), (u64, i64)> = HashMap::new();
    for r in &log {
        let e = per_user.entry((r.arm.clone(), r.replicate, r.user)).or_default();
        e.0 += 1;
        e.1 += r.play_ms;
    }
    let mut total = 0;
    for row in &users.rows {
        let key = (
            users.text(row, "arm").to_string(),
            users.text(row, "replicate").parse().unwrap(),
            users.text(row, "user").parse().unwrap(),
        );
        let impressions = users.num(row, "impressions").unwrap() as u64;
        let (shown, played_ms) = per_user.get(&key).copied().unwrap_or_default();
        assert_eq!(shown, impressions, "{key:?}");
        // Each row rounds to a millisecond, users.csv to 1e-6 of a minute.
        let watched_ms = users.num(row, "watch_minutes").unwrap() * 60_000.0;
        assert!(
            (played_ms as f64 - watched_ms).abs() <= 0.5 * shown as f64 + 0.1,
            "{key:?}: {played_ms} ms in the log, {watched_ms} in users.csv"
        );
        total += impressions;
    }
    assert_eq!(log.len() as u64, total);
    assert_eq!(users.rows.len(), 2 * 2 * TINY_USERS);
    // Rows are in (replicate, arm, step, viewer) order, each viewer's clock moving forward.
    let order = |r: &Row| (r.replicate, r.arm != "engagement", r.step, r.user);
    assert!(log.windows(2).all(|w| order(&w[0]) < order(&w[1])));
    for r in &log {
        assert!(
            (0.0..=1.0).contains(&r.ratio) && r.play_ms <= r.duration_ms + 1,
            "{r:?}"
        );
    }
    assert!(log.iter().any(|r| r.like) && log.iter().any(|r| r.skip) && log.iter().any(|r| r.follow));
    // Of the default topics, politics bears a stance: its items have one, the others none.
    for r in &log {
        assert_eq!(r.stance.is_some(), r.topic == "politics", "{r:?}");
        assert!(r.stance.is_none_or(|x| (-1.0..=1.0).contains(&x)), "{r:?}");
    }
    assert!(log.iter().any(|r| r.topic == "politics"));
}

#[test]
fn a_viewers_rows_are_what_explain_shows() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.run_ok(&scenario, "out", &["--log", "impressions", "--no-plot"]);
    let log = read_log(&out.join("impressions.parquet"));
    let args = [
        "--arm",
        "engagement",
        "--user",
        "3",
        "--replicate",
        "1",
        "--steps",
        "40",
    ];
    let explained = explain_csv(&ws, &scenario, &args, "explain.csv");
    let mine: Vec<&Row> = log
        .iter()
        .filter(|r| r.arm == "engagement" && r.replicate == 1 && r.user == 3)
        .take(explained.rows.len())
        .collect();
    assert_eq!(mine.len(), explained.rows.len());
    assert!(mine.len() >= 20, "a viewer of 15 minutes sees more than 20 items");
    for (r, e) in mine.iter().zip(&explained.rows) {
        let num = |c: &str| explained.num(e, c).unwrap();
        assert_eq!(r.step, num("step") as u32);
        assert_eq!(r.item, num("item") as u32);
        assert_eq!(r.topic, explained.text(e, "topic"));
        assert_eq!(r.creator, num("creator") as u32);
        assert_eq!(r.source, explained.text(e, "source"));
        assert!(
            (f64::from(r.ratio) - num("watch_fraction")).abs() <= 0.0005,
            "{r:?}"
        );
        assert!(
            (r.play_ms as f64 / 1000.0 - num("watched_seconds")).abs() <= 0.05 + 1e-9,
            "{r:?}"
        );
        assert!(
            (r.time_ms as f64 / 60_000.0 - num("minute")).abs() <= 0.0005 + 1e-9,
            "{r:?}"
        );
        assert!(
            (r.duration_ms as f64 / 1000.0 - num("duration")).abs() <= 0.05 + 1e-9,
            "{r:?}"
        );
        assert_eq!(
            [r.skip, r.like, r.follow],
            ["skipped", "liked", "followed"].map(|c| num(c) == 1.0)
        );
    }
}

#[test]
fn the_log_is_byte_identical_whatever_the_thread_count() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let args = |t: &'static str| ["--threads", t, "--log", "impressions", "--no-plot"];
    let one = ws.run_ok(&scenario, "t1", &args("1"));
    let two = ws.run_ok(&scenario, "t2", &args("2"));
    let bytes = |dir: &Path| std::fs::read(dir.join("impressions.parquet")).unwrap();
    assert!(
        bytes(&one) == bytes(&two),
        "impressions.parquet differs between 1 and 2 threads"
    );
    // Without the flag there is no log, and the other files are the same.
    let without = ws.run_ok(&scenario, "none", &["--threads", "2", "--no-plot"]);
    assert!(!without.join("impressions.parquet").exists());
    let csv = |dir: &Path| std::fs::read(dir.join("timeseries.csv")).unwrap();
    assert!(csv(&without) == csv(&two));
}

#[test]
fn validate_states_the_size_of_the_log_and_a_shard_cannot_log() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let output = rabbithole()
        .args(["validate", "--log", "impressions"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    // 2 replicates × 2 arms × 200 viewers × min(20 000 steps, 15 min / 1 s + 1 = 901).
    assert!(text.contains("at most 720800 impressions"), "{text}");
    assert!(
        text.contains("impression log") && text.contains("(counted above)"),
        "{text}"
    );
    let err = crate::refused(&ws, &scenario, &["--log", "impressions", "--shard", "1/2"]);
    assert!(err.contains("--log with --shard"), "{err}");
}

#[test]
fn every_column_of_the_log_is_documented_in_order() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/model.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc
        .find("\n| log column | type | meaning |")
        .expect("a table of the log's columns");
    let documented: Vec<&str> = doc[start + 1..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').nth(1).unwrap().trim().trim_matches('`'))
        .collect();
    let written: Vec<&str> = rabbithole::output::IMPRESSION_COLUMNS
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(documented, written);
    assert_eq!(written, COLUMNS);
}

/// `run scenarios/quickstart.toml --users 200 --log impressions` logs about 146,000
/// impressions, more than two of the batches (65,536 rows) the log is written in as the run
/// goes: it reads back whole, one row per viewer-step the manifest counts, each viewer once a
/// step, in (replicate, arm, step, viewer) order.
#[test]
fn the_quick_starts_log_of_several_batches_reads_back_whole_and_in_order() {
    let ws = Workspace::empty();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let args = [
        "--users",
        "200",
        "--log",
        "impressions",
        "--no-plot",
        "--threads",
        "2",
    ];
    let out = ws.run_ok(&scenario, "out", &args);
    let log = read_log(&out.join("impressions.parquet"));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(log.len() as u64, manifest["viewer_steps"].as_u64().unwrap());
    assert!(log.len() > 2 * 65_536, "{} rows", log.len());
    let arms = ["engagement", "random"];
    let key = |r: &Row| {
        let arm = arms
            .iter()
            .position(|a| *a == r.arm)
            .expect("an arm of the quick start");
        (r.replicate, arm, r.step, r.user)
    };
    for pair in log.windows(2) {
        assert!(key(&pair[0]) < key(&pair[1]), "{:?} then {:?}", pair[0], pair[1]);
    }
    let last = log.last().unwrap();
    assert_eq!((last.replicate, last.arm.as_str()), (4, "random"));
    assert!(log.iter().all(|r| r.user < 200));
}
