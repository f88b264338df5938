//! `docs/model.md` §10 documents every column of the result files: its metric table is the one
//! `rabbithole::metrics::columns` renders, and every column a run writes (each CSV file of a
//! run with every feature on and `--per-user`) has a row there, in the metric table or, for
//! the keys and the other files' columns, in the table that names the files it is in.

use crate::{Workspace, tiny_scenario};
use rabbithole::metrics::columns;
use std::path::{Path, PathBuf};

fn model_md() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/model.md")
}

/// The byte range of §10 in `doc`: from its heading to the next `## ` heading.
fn section10(doc: &str) -> std::ops::Range<usize> {
    let start = doc.find("\n## 10. ").expect("docs/model.md has a §10");
    let len = doc[start + 1..]
        .find("\n## ")
        .map_or(doc.len() - start, |l| l + 1);
    start..start + len
}

/// The byte range of the table whose header line starts with `header` in §10 (up to the first
/// line that is not a table row).
fn table(doc: &str, header: &str) -> Option<std::ops::Range<usize>> {
    let s10 = section10(doc);
    let start = s10.start + doc[s10.clone()].find(&format!("\n{header}"))? + 1;
    let mut end = start;
    for line in doc[start..].split_inclusive('\n') {
        if !line.starts_with('|') {
            break;
        }
        end += line.len();
    }
    Some(start..end)
}

const METRIC_HEADER: &str = "| metric |";
const OTHER_HEADER: &str = "| column | files |";

/// The first and second cells of the rows (the header and the rule left out) of a table.
fn rows(text: &str) -> Vec<(String, String)> {
    text.lines()
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.trim().trim_matches('|').split('|').map(str::trim).collect();
            let name = cells[0].trim_matches('`').to_string();
            (name, cells.get(1).copied().unwrap_or_default().to_string())
        })
        .collect()
}

/// Whether documented name `name` (`<g>` standing for a group) is column `column`.
fn names(name: &str, column: &str) -> bool {
    match name.split_once("<g>") {
        None => name == column,
        Some((prefix, suffix)) => column
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|g| !g.is_empty()),
    }
}

#[test]
fn metric_table_in_model_md_is_rendered_from_the_code() {
    let path = model_md();
    let doc = std::fs::read_to_string(&path).expect("reading docs/model.md");
    let rendered = columns::markdown_table();
    let span = table(&doc, METRIC_HEADER).expect("a metric table in docs/model.md §10");
    if std::env::var_os("RABBITHOLE_UPDATE_DOCS").is_some() {
        let updated = format!("{}{rendered}{}", &doc[..span.start], &doc[span.end..]);
        std::fs::write(&path, updated).expect("writing docs/model.md");
        return;
    }
    assert!(
        doc[span] == rendered,
        "the metric table of docs/model.md §10 is not the one src/metrics/columns.rs declares; \
         rewrite it with RABBITHOLE_UPDATE_DOCS=1 cargo test --release metric_table\n\n\
         expected:\n{rendered}"
    );
}

/// Every feature that adds columns or files: groups (by default), a target and a boost, a
/// switch, coordinated accounts, protections (the safety features) and audit bots.
const EVERYTHING: &str = r#"
[target]
topics = ["politics"]

[[arms]]
name = "engagement"
policy = { kind = "engagement" }
boosts = [{ mode = "multiplier", strength = 2.0 }]
switch = { share = 0.5, at_minute = 5, policy = { kind = "random" } }
coordinated = { share = 0.1 }
protections = { sensitive_cap = 0.2 }

[[arms]]
name = "random"
policy = { kind = "random" }

[[bots]]
name = "gaming_then_food"
rule = "linger_switch"
topic = "gaming"
switch_topic = "food"
switch_minute = 5
count = 2
minutes = 10
"#;

#[test]
fn every_column_of_every_written_csv_is_documented() {
    let doc = std::fs::read_to_string(model_md()).expect("reading docs/model.md");
    let metrics = rows(&doc[table(&doc, METRIC_HEADER).expect("a metric table")]);
    let others = rows(&doc[table(&doc, OTHER_HEADER).expect("a table of the other columns")]);
    let ws = Workspace::empty();
    let path = ws.write("everything.toml", &tiny_scenario(EVERYTHING));
    // With a taste space, so that the taste columns of `users.csv` are written too.
    let out = ws.run_ok(
        &path,
        "out",
        &["--no-plot", "--per-user", "--set", "catalog.taste_dimensions=4"],
    );

    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "bot_summary.csv",
            "bots.csv",
            "comparison.csv",
            "summary.csv",
            "timeseries.csv",
            "users.csv"
        ],
        "the scenario writes every kind of CSV file"
    );
    let mut missing = Vec::new();
    for file in &files {
        let header = crate::Table::read(&out.join(file)).header;
        for column in &header {
            // Summaries write each metric as three columns.
            let name = ["_mean", "_lo", "_hi"]
                .iter()
                .find_map(|s| column.strip_suffix(s))
                .filter(|_| file.ends_with("summary.csv"))
                .unwrap_or(column);
            let metric = ["timeseries.csv", "summary.csv"].contains(&file.as_str())
                && metrics.iter().any(|(m, _)| names(m, name));
            let other = others.iter().any(|(c, in_files)| {
                names(c, name) && (in_files == "every file" || in_files.contains(&format!("`{file}`")))
            });
            if !metric && !other {
                missing.push(format!("{file}: {column}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/model.md §10 does not document these columns:\n{}",
        missing.join("\n")
    );

    // The scenario writes every metric the table declares (so the check above saw them all).
    let timeseries = crate::Table::read(&out.join("timeseries.csv")).header;
    for def in columns::all() {
        assert!(
            timeseries.iter().any(|c| names(def.name, c)),
            "{} is not in timeseries.csv",
            def.name
        );
    }
}

/// The whole row of the table `text` that documents `column`, if any.
fn row_of<'a>(text: &'a str, column: &str) -> Option<&'a str> {
    text.lines().skip(2).find(|l| {
        let name = l.trim().trim_matches('|').split('|').next().unwrap_or_default();
        names(name.trim().trim_matches('`'), column)
    })
}

/// Whether a documentation row says when its column is empty: in so many words, or (a
/// metric) by being taken over the viewers it is defined for, such as those with a full
/// window (§10's paragraph on empty cells).
fn says_when_empty(row: &str) -> bool {
    ["empty", "with a full window", "defined for"]
        .iter()
        .any(|w| row.contains(w))
}

/// Issue 18, item 9: every column that a run leaves empty somewhere says in docs/model.md §10
/// when it is empty, and every empty cell of `comparison.csv` has its `note`.
#[test]
fn every_column_with_empty_cells_says_when() {
    let doc = std::fs::read_to_string(model_md()).expect("reading docs/model.md");
    let metrics = &doc[table(&doc, METRIC_HEADER).expect("a metric table")];
    let others = &doc[table(&doc, OTHER_HEADER).expect("a table of the other columns")];
    let ws = Workspace::empty();
    // One replicate too, where every interval is empty and says so.
    let path = ws.write("everything.toml", &tiny_scenario(EVERYTHING));
    let out = ws.run_ok(&path, "out", &["--no-plot", "--per-user"]);
    let one = ws.run_ok(&path, "one", &["--no-plot", "--replicates", "1"]);
    let mut unexplained = Vec::new();
    for (dir, file) in [
        (&out, "timeseries.csv"),
        (&out, "summary.csv"),
        (&out, "users.csv"),
        (&out, "bots.csv"),
        (&out, "bot_summary.csv"),
        (&one, "summary.csv"),
    ] {
        let t = crate::Table::read(&dir.join(file));
        for (c, column) in t.header.iter().enumerate() {
            if !t.rows.iter().any(|r| r[c].is_empty()) {
                continue;
            }
            let (name, interval) = match ["_mean", "_lo", "_hi"]
                .iter()
                .find_map(|s| column.strip_suffix(s))
            {
                Some(n) if file.ends_with("summary.csv") => (n, !column.ends_with("_mean")),
                _ => (column.as_str(), false),
            };
            // §10: a summary's interval is empty with one replicate.
            if interval && dir == &one {
                continue;
            }
            let row = row_of(metrics, name).or_else(|| row_of(others, name));
            if !row.is_some_and(says_when_empty) {
                unexplained.push(format!("{file}: {column}"));
            }
        }
    }
    let comparison = crate::Table::read(&one.join("comparison.csv"));
    let at = |name: &str| comparison.header.iter().position(|h| h == name).expect(name);
    let note = at("note");
    for row in &comparison.rows {
        for column in ["mean", "lo", "hi", "diff", "diff_lo", "diff_hi"] {
            if row[at(column)].is_empty() && row[note].is_empty() {
                unexplained.push(format!("comparison.csv: {column} of {row:?} without a note"));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "empty cells that docs/model.md §10 does not explain:\n{}",
        unexplained.join("\n")
    );
}

#[test]
fn a_group_column_is_named_by_its_pattern() {
    assert!(names("group_exposure_<g>", "group_exposure_minority"));
    assert!(!names("group_exposure_<g>", "group_exposure_"));
    assert!(!names("feed_entropy", "feed_entropy_p10"));
}
