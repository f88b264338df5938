//! The corpus of bad scenarios in `tests/bad_scenarios/`: one file per class of mistake
//! (TOML syntax, unknown sections, keys, policy kinds and policy keys, wrong types, numbers out
//! of range, NaN and infinity, bad topic lists and arms, bad `--set` values, text that is not
//! UTF-8). Each file ends with what `validate` must say: `# expect: TEXT` lines, each of which
//! stderr must contain, and `# set: KEY=VALUE` lines passed as `--set`. Every file must exit
//! with status 2, name itself (or the `--set` argument at fault) and never panic.

use crate::rabbithole;
use std::path::{Path, PathBuf};

/// The corpus directory.
fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_scenarios")
}

/// `rabbithole validate PATH --set ...`: its exit status and stderr.
fn validate(path: &Path, sets: &[String]) -> (Option<i32>, String) {
    let mut cmd = rabbithole();
    cmd.arg("validate").arg(path);
    for set in sets {
        cmd.args(["--set", set]);
    }
    let output = cmd.output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The values of the `# PREFIX: VALUE` lines of a corpus file.
fn directives(text: &str, prefix: &str) -> Vec<String> {
    let prefix = format!("# {prefix}: ");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_bad_scenario_is_refused_with_what_it_must_say() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let (sets, expects) = (directives(&text, "set"), directives(&text, "expect"));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!expects.is_empty(), "{name} says nothing it expects");
        let (code, stderr) = validate(path, &sets);
        // A bad --set value is blamed on the argument, everything else on the file.
        let blamed = if stderr.contains("--set ") {
            "--set "
        } else {
            name.as_str()
        };
        let mut needles = expects.clone();
        needles.push(blamed.to_string());
        let missing: Vec<&String> = needles.iter().filter(|e| !stderr.contains(e.as_str())).collect();
        if code != Some(2) || stderr.contains("panicked") || !missing.is_empty() {
            failures.push(format!("{name}: exit {code:?}, missing {missing:?}\n{stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_missing_or_unreadable_scenario_is_named() {
    let missing = corpus().join("no_such_file.toml");
    let (code, stderr) = validate(&missing, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no_such_file.toml"), "{stderr}");
    // A directory where a file belongs.
    let (code, stderr) = validate(&corpus(), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("bad_scenarios"), "{stderr}");
}
