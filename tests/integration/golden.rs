//! Golden results: tiny scenarios that together use every feature, run by the binary, every
//! file they write compared byte for byte with the expected files committed under
//! `tests/golden/<case>/expected/`.
//!
//! A change to any feature's behaviour changes some byte of some file, so a refactor that
//! should not change results is checked by this test, not by comparisons run by hand. A change
//! that is meant to change results rewrites the expected files ("blesses" them) with
//!
//! ```text
//! RABBITHOLE_BLESS=1 cargo test --release golden
//! ```
//!
//! which replaces each case's `expected/` directory with what the program writes now (stale
//! files go) and changes nothing else; the commit then says why, and changes docs/model.md
//! when the model changed.
//!
//! Only provenance is masked, never a result: in `manifest.json` the values of the keys in
//! [`MANIFEST_VOLATILE`] become `"<masked>"`, and from `report.html` the provenance lines in
//! [`REPORT_VOLATILE`] are dropped. Paths are relative to the repository (the binary runs
//! there), so `scenario_file` and `explain`'s header are the same on every machine.

use crate::rabbithole;
use std::path::{Path, PathBuf};

/// The command that rewrites the expected files, quoted in every failure.
const BLESS_COMMAND: &str = "RABBITHOLE_BLESS=1 cargo test --release golden";

/// Top-level keys of `manifest.json` that change from run to run or machine to machine.
const MANIFEST_VOLATILE: [&str; 6] = [
    "version",
    "git_commit",
    "start_time",
    "wall_seconds",
    "viewer_steps_per_second",
    "command_line",
];

/// Labels of `report.html`'s provenance lines that change from run to run (the line is
/// dropped, since `git commit` is absent when the program was built outside git).
const REPORT_VOLATILE: [&str; 5] = [
    "version",
    "git commit",
    "started (UTC)",
    "wall time (s)",
    "command line",
];

/// One golden case: `tests/golden/<name>/scenario.toml`, how it is run and which viewers'
/// feeds `explain` shows (as text and as CSV).
struct Case {
    name: &'static str,
    threads: &'static str,
    /// More arguments of `run` (`--per-user`, `--no-plot`).
    run_args: &'static [&'static str],
    /// (arm, viewer id, steps) for `rabbithole explain`.
    explains: &'static [(&'static str, u32, u32)],
}

/// Every policy, switching, candidate retrieval.
const POLICIES: Case = Case {
    name: "policies",
    threads: "1",
    run_args: &["--no-plot"],
    explains: &[("engagement+switch", 0, 30), ("blend", 1, 20)],
};

/// Open, hidden, trusted-sources, slot and reach-cap boosts, coordinated accounts, exhaustive
/// retrieval.
const BOOSTS: Case = Case {
    name: "boosts",
    threads: "2",
    run_args: &["--no-plot"],
    explains: &[("open_boost", 3, 20), ("slots", 3, 20)],
};

/// Every protection, the day model, vulnerable viewers, every bot rule, `--per-user`.
const PROTECTIONS: Case = Case {
    name: "protections",
    threads: "2",
    run_args: &["--per-user", "--no-plot"],
    explains: &[("educational", 7, 20), ("limit_curfew", 40, 20)],
};

/// The charts and `report.html`, and `[day]` alone at its defaults.
const REPORT: Case = Case {
    name: "report",
    threads: "1",
    run_args: &[],
    explains: &[],
};

#[test]
fn golden_policies_and_switching() {
    check(&POLICIES);
}

#[test]
fn golden_boosts_and_coordinated_accounts() {
    check(&BOOSTS);
}

#[test]
fn golden_protections_day_model_and_bots() {
    check(&PROTECTIONS);
}

#[test]
fn golden_charts_and_report() {
    check(&REPORT);
}

/// Runs `case` and compares its files with the expected ones, or rewrites those when
/// `RABBITHOLE_BLESS=1`.
fn check(case: &Case) {
    let actual = produce(case);
    let expected_dir = repository().join("tests/golden").join(case.name).join("expected");
    if std::env::var("RABBITHOLE_BLESS").is_ok_and(|v| v == "1") {
        bless(&expected_dir, &actual);
        eprintln!("golden case {}: expected files rewritten", case.name);
        return;
    }
    let problems = compare(&expected_dir, &actual);
    assert!(
        problems.is_empty(),
        "golden case {:?} (tests/golden/{}/) differs from its expected files:\n\n{}\n\n\
         If the change is meant to change results, rewrite the expected files with\n    \
         {BLESS_COMMAND}\nand say why in the commit (and change docs/model.md if the model \
         changed).",
        case.name,
        case.name,
        problems.join("\n\n")
    );
}

/// The repository's root: the binary runs there, so paths in its output are relative.
fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file `case` writes, masked, by name (sorted): the run directory's files and the
/// output of each `explain` as `explain-<arm>-<user>.txt` and `.csv`.
fn produce(case: &Case) -> Vec<(String, Vec<u8>)> {
    let scenario = format!("tests/golden/{}/scenario.toml", case.name);
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let out = tmp.path().join("run");
    let run = rabbithole()
        .current_dir(repository())
        .args(["run", &scenario, "--quiet", "--threads", case.threads, "--out"])
        .arg(&out)
        .args(case.run_args)
        .output()
        .expect("running rabbithole");
    assert!(
        run.status.success(),
        "golden case {}: run failed: {}",
        case.name,
        String::from_utf8_lossy(&run.stderr)
    );
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&out).expect("the run directory") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        files.push((name.clone(), mask(&name, bytes)));
    }
    for &(arm, user, steps) in case.explains {
        for (ext, csv) in [("txt", false), ("csv", true)] {
            let bytes = explain(&scenario, arm, user, steps, csv);
            files.push((format!("explain-{arm}-{user}.{ext}"), bytes));
        }
    }
    files.sort();
    files
}

/// The output of `rabbithole explain SCENARIO --arm ARM --user USER --steps STEPS [--csv]`.
fn explain(scenario: &str, arm: &str, user: u32, steps: u32, csv: bool) -> Vec<u8> {
    let (user, steps) = (user.to_string(), steps.to_string());
    let mut command = rabbithole();
    // The text's width comes from COLUMNS when set: the expected files are at the default.
    command.env_remove("COLUMNS");
    command.current_dir(repository()).args([
        "explain", scenario, "--arm", arm, "--user", &user, "--steps", &steps,
    ]);
    if csv {
        command.arg("--csv");
    }
    let output = command.output().expect("running rabbithole explain");
    assert!(
        output.status.success(),
        "{scenario}: explain --arm {arm} --user {user} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// `bytes` of the file `name` with its volatile provenance masked (see the module's doc).
fn mask(name: &str, bytes: Vec<u8>) -> Vec<u8> {
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("a text file");
    match name {
        "manifest.json" => mask_manifest(&text(bytes)).into_bytes(),
        "report.html" => mask_report(&text(bytes)).into_bytes(),
        _ => bytes,
    }
}

/// `report.html` without the provenance lines labelled in [`REPORT_VOLATILE`].
fn mask_report(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| {
            !REPORT_VOLATILE
                .iter()
                .any(|label| line.starts_with(&format!("<dt>{label}</dt>")))
        })
        .collect()
}

/// `manifest.json` (pretty-printed, top-level keys indented by two spaces) with the value of
/// each key in [`MANIFEST_VOLATILE`] replaced by `"<masked>"`, whatever it spans.
fn mask_manifest(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let Some(key) = MANIFEST_VOLATILE
            .iter()
            .find(|k| line.starts_with(&format!("  \"{k}\": ")))
        else {
            out.push_str(line);
            continue;
        };
        // An array or object value ends at its closing bracket, at the key's indent.
        let mut last = line;
        if line.trim_end().ends_with(['[', '{']) {
            for next in lines.by_ref() {
                last = next;
                if next.starts_with("  ]") || next.starts_with("  }") {
                    break;
                }
            }
        }
        let comma = if last.trim_end().ends_with(',') { "," } else { "" };
        out.push_str(&format!("  \"{key}\": \"<masked>\"{comma}\n"));
    }
    out
}

/// Replaces `dir` with one holding exactly `files`.
fn bless(dir: &Path, files: &[(String, Vec<u8>)]) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// What differs between the files in `dir` and `actual`: one paragraph per file.
fn compare(dir: &Path, actual: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut expected: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| {
                e.expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        Err(e) => return vec![format!("{}: {e} (never blessed?)", dir.display())],
    };
    expected.sort();
    let mut problems = Vec::new();
    for name in &expected {
        if !actual.iter().any(|(n, _)| n == name) {
            problems.push(format!("{name}: expected, but the run no longer writes it"));
        }
    }
    for (name, bytes) in actual {
        if !expected.contains(name) {
            problems.push(format!(
                "{name}: written by the run, but not among the expected files"
            ));
            continue;
        }
        let want = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        if &want != bytes {
            problems.push(format!("{name}: {}", first_difference(&want, bytes)));
        }
    }
    problems
}

/// The first line where `expected` and `actual` differ, both shown (long lines cut).
fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let actual = String::from_utf8_lossy(actual);
    let (mut want, mut got) = (expected.split('\n'), actual.split('\n'));
    for number in 1.. {
        match (want.next(), got.next()) {
            (Some(w), Some(g)) if w == g => continue,
            (w, g) => {
                return format!(
                    "first difference at line {number}\n  expected: {}\n  actual:   {}",
                    shown(w),
                    shown(g)
                );
            }
        }
    }
    unreachable!("two different texts differ at some line")
}

/// A line as shown in a failure: cut after 300 characters, or `(end of file)`.
fn shown(line: Option<&str>) -> String {
    match line {
        None => "(end of file)".to_string(),
        Some(l) if l.chars().count() > 300 => format!("{}...", l.chars().take(300).collect::<String>()),
        Some(l) => l.to_string(),
    }
}
