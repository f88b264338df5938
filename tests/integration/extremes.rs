//! Every numeric key of the plain sections documented in `docs/scenarios.md`, at the least
//! and the greatest value its table allows, either runs (five viewers, twenty steps) or is
//! refused with exit status 2, never a panic. The keys and ranges are read from the tables,
//! so a key added there is tested without touching this file; a range that cannot be read
//! must be listed in [`NOT_NUMERIC`].

use crate::rabbithole;
use std::path::Path;

/// Keys whose range is not two numbers (names, lists, ranges tied to other keys).
const NOT_NUMERIC: [&str; 10] = [
    "scenario.name",
    "scenario.description",
    "scenario.baseline",
    "catalog.topics",
    "catalog.groups",
    "population.initial_follows",
    "catalog.duration_max_seconds",
    "viewer.boredom_threshold",
    "feed.explore_candidates",
    "feed.retrieval",
];

/// The sections whose keys apply without another table (`[target]`, `[day]`, arms and bots
/// need one of their own).
const PLAIN: [&str; 7] = [
    "scenario",
    "catalog",
    "population",
    "viewer",
    "recommender",
    "feed",
    "metrics",
];

/// Keys whose greatest value sizes the run (viewers, items, steps, days, warm-up): checked at
/// it with `validate` only, which must accept it or refuse it with exit 2.
const SIZES: [&str; 9] = [
    "scenario.replicates",
    "catalog.items",
    "catalog.creators",
    "catalog.arrivals_per_step",
    "population.users",
    "population.warmup_minutes",
    "feed.days",
    "feed.max_steps",
    "feed.minutes",
];

/// (key, least, greatest) of every row of the plain sections' tables.
fn documented() -> Vec<(String, Option<(String, String)>)> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md")).unwrap();
    let mut section = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## `[").and_then(|h| h.strip_suffix("]`")) {
            section = PLAIN.contains(&h).then(|| h.to_string());
        } else if line.starts_with('#') {
            section = None;
        } else if let (Some(s), Some(row)) = (&section, line.strip_prefix("| `")) {
            let cells: Vec<&str> = row.split(" | ").collect();
            let key = format!("{s}.{}", cells[0].trim_end_matches('`'));
            let range = cells.last().unwrap().trim_end_matches(" |").trim();
            let range = range.split(',').next().unwrap().trim();
            let bounds = if let Some(rest) = range.strip_prefix("> ") {
                rest.parse::<f64>()
                    .ok()
                    .map(|_| ("1e-9".to_string(), "1e300".to_string()))
            } else {
                let mut ends = range.splitn(2, " to ");
                let number = |t: &str| {
                    let t = t.split_whitespace().next()?;
                    let value = match t.split_once('/') {
                        Some((a, b)) => a.parse::<f64>().ok()? / b.parse::<f64>().ok()?,
                        None => t.parse::<f64>().ok()?,
                    };
                    Some(if t.contains('/') {
                        value.to_string()
                    } else {
                        t.to_string()
                    })
                };
                match (ends.next().and_then(number), ends.next().and_then(number)) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                }
            };
            out.push((key, bounds));
        }
    }
    out
}

#[test]
fn every_numeric_key_at_its_documented_bounds_runs_or_is_refused() {
    let keys = documented();
    assert!(keys.len() > 60, "read {} keys from docs/scenarios.md", keys.len());
    let unread: Vec<&String> = keys
        .iter()
        .filter(|(k, b)| b.is_none() && !NOT_NUMERIC.contains(&k.as_str()))
        .map(|(k, _)| k)
        .collect();
    assert!(unread.is_empty(), "ranges that cannot be read: {unread:?}");
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let tiny = [
        "population.users=5",
        "feed.max_steps=20",
        "scenario.replicates=1",
        "catalog.items=200",
        "catalog.creators=20",
        "catalog.arrivals_per_step=0",
    ];
    let mut failures = Vec::new();
    let (mut tried, mut ran) = (0, 0);
    for (key, bounds) in &keys {
        let Some((least, greatest)) = bounds else { continue };
        for (which, value) in [("least", least), ("greatest", greatest)] {
            let validate_only = which == "greatest" && SIZES.contains(&key.as_str());
            let mut cmd = rabbithole();
            if validate_only {
                cmd.arg("validate").arg(&scenario);
            } else {
                cmd.arg("run")
                    .arg(&scenario)
                    .arg("--out")
                    .arg(dir.path().join("out"))
                    .args(["--quiet", "--no-plot", "--force", "--threads", "1"]);
                for set in tiny {
                    cmd.args(["--set", set]);
                }
            }
            let output = cmd.args(["--set", &format!("{key}={value}")]).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            tried += 1;
            ran += usize::from(output.status.success());
            if !matches!(output.status.code(), Some(0 | 2)) || stderr.contains("panicked") {
                failures.push(format!("{key}={value}: {:?}\n{stderr}", output.status.code()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The tiny base itself must run, or every value would be refused and prove nothing.
    assert!(tried > 120 && ran * 4 > tried * 3, "{ran} of {tried} ran");
}
