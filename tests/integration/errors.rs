//! Bad input: every refusal exits with status 2, names the file, key and line where there is
//! one, and leaves no results directory (nor a half-written one) behind. An existing results
//! directory is kept unless `--force`.

use crate::{ENGAGEMENT_AND_RANDOM, Workspace, rabbithole, refused, tiny_scenario};
use std::path::Path;

/// Runs `rabbithole run SCENARIO --out <ws>/out --quiet ARGS...`, expects exit status 2, a
/// message containing each of `needles`, and nothing new in the workspace.
fn assert_refused(ws: &Workspace, scenario: &Path, args: &[&str], needles: &[&str]) {
    let before = ws.entries();
    let stderr = refused(ws, scenario, args);
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "stderr should name {needle:?} (args {args:?}):\n{stderr}"
        );
    }
    assert_eq!(ws.entries(), before, "the run left files behind");
}

#[test]
fn unknown_key_is_refused_with_its_name_and_line() {
    let ws = Workspace::empty();
    let scenario = ws.write("typo.toml", "[scenario]\nname = \"x\"\n[population]\nusres = 5\n");
    assert_refused(&ws, &scenario, &[], &["typo.toml", "usres", "line 4"]);
}

#[test]
fn unknown_section_is_refused_with_its_name_and_line() {
    let ws = Workspace::empty();
    let scenario = ws.write(
        "typo.toml",
        "[scenario]\nname = \"x\"\n\n[populaton]\nusers = 5\n",
    );
    assert_refused(&ws, &scenario, &[], &["typo.toml", "populaton", "line 4"]);
}

#[test]
fn unknown_policy_kind_is_refused_with_its_line() {
    let ws = Workspace::empty();
    let scenario = ws.write(
        "kind.toml",
        "[[arms]]\nname = \"a\"\npolicy = { kind = \"engagment\" }\n",
    );
    assert_refused(&ws, &scenario, &[], &["kind.toml", "engagment", "line 3"]);
}

#[test]
fn negative_number_of_viewers_is_refused() {
    let ws = Workspace::empty();
    let scenario = ws.write("neg.toml", "[scenario]\nname = \"x\"\n[population]\nusers = -5\n");
    assert_refused(&ws, &scenario, &[], &["neg.toml", "users", "line 4"]);
}

#[test]
fn zero_viewers_is_refused_with_the_rule() {
    let ws = Workspace::empty();
    let scenario = ws.write("zero.toml", "[population]\n\nusers = 0\n");
    assert_refused(
        &ws,
        &scenario,
        &[],
        &["zero.toml:3", "population.users", "between 1"],
    );
}

#[test]
fn probability_above_one_is_refused_with_key_line_and_rule() {
    let ws = Workspace::empty();
    let scenario = ws.write(
        "prob.toml",
        "[scenario]\nname = \"x\"\n[population]\nminor_share = 1.5\n",
    );
    assert_refused(
        &ws,
        &scenario,
        &[],
        &["prob.toml:4", "population.minor_share", "between 0 and 1", "1.5"],
    );
}

#[test]
fn missing_file_is_refused_with_its_name() {
    let ws = Workspace::empty();
    assert_refused(&ws, &ws.path("missing.toml"), &[], &["missing.toml"]);
}

#[test]
fn non_toml_file_is_refused_with_its_name_and_line() {
    let ws = Workspace::empty();
    let scenario = ws.write("notes.toml", "# a note\nthis is not TOML at all\n{]\n");
    assert_refused(&ws, &scenario, &[], &["notes.toml", "line 2"]);
}

#[test]
fn set_with_an_unknown_key_is_refused() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    assert_refused(
        &ws,
        &scenario,
        &["--set", "population.usres=5"],
        &["--set", "usres"],
    );
    assert_refused(
        &ws,
        &scenario,
        &["--set", "populaton.users=5"],
        &["--set", "populaton"],
    );
    assert_refused(&ws, &scenario, &["--set", "arms.nope.name=x"], &["--set", "nope"]);
}

#[test]
fn set_without_equals_is_refused() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    assert_refused(
        &ws,
        &scenario,
        &["--set", "population.users"],
        &["--set", "population.users", "KEY=VALUE"],
    );
}

#[test]
fn set_out_of_range_is_refused_with_the_key() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    assert_refused(
        &ws,
        &scenario,
        &["--set", "population.minor_share=1.5"],
        &["population.minor_share", "between 0 and 1", "--set"],
    );
    assert_refused(
        &ws,
        &scenario,
        &["--set", "population.users=-5"],
        &["--set", "population.users"],
    );
    assert_refused(
        &ws,
        &scenario,
        &["--set", "population.users=many"],
        &["--set", "population.users"],
    );
}

#[test]
fn bad_flag_values_are_refused() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    assert_refused(&ws, &scenario, &["--threads", "0"], &["--threads"]);
    assert_refused(&ws, &scenario, &["--users", "0"], &["population.users"]);
    assert_refused(&ws, &scenario, &["--replicates", "0"], &["scenario.replicates"]);
    assert_refused(&ws, &scenario, &["--seed", "minus-one"], &["--seed"]);
    assert_refused(&ws, &scenario, &["--no-such-flag"], &["--no-such-flag"]);
}

/// Regression: a bad `--set` next to `--seed` was reported as `--set scenario.seed=3
/// population.usres=5`, blaming `--set` for an argument the user gave as `--seed` and not
/// saying which `--set` was wrong.
#[test]
fn bad_set_names_only_the_bad_argument() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let assert = rabbithole()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(ws.path("out"))
        .args(["--quiet", "--seed", "3", "--set", "population.users=300"])
        .args(["--set", "population.usres=5"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("population.usres=5"), "{stderr}");
    assert!(
        !stderr.contains("scenario.seed") && !stderr.contains("population.users=300"),
        "only the bad --set should be named:\n{stderr}"
    );
}

/// Regression: `--users 0` was reported as "population.users ... (from --set)", though the
/// user never passed `--set`.
#[test]
fn users_flag_out_of_range_is_not_blamed_on_set() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let assert = rabbithole()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(ws.path("out"))
        .args(["--quiet", "--users", "0"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("population.users"), "{stderr}");
    assert!(
        !stderr.contains("--set"),
        "the user passed --users, not --set:\n{stderr}"
    );
}

/// Regression: unknown keys in the table of a policy without parameters (`random`) were
/// silently ignored, so `policy = { kind = "random", exploration = 0.1 }` ran as if the
/// key meant something.
#[test]
fn unknown_key_in_a_random_policy_is_refused() {
    let ws = Workspace::empty();
    let scenario = ws.write(
        "rnd.toml",
        "[[arms]]\nname = \"a\"\npolicy = { kind = \"random\", exploration = 0.1 }\n",
    );
    assert_refused(&ws, &scenario, &[], &["rnd.toml", "exploration", "line 3"]);
}

#[test]
fn existing_results_directory_is_kept_without_force() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.path("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("mine.txt"), "keep me").unwrap();

    let assert = rabbithole()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("--force") && stderr.contains("out"), "{stderr}");
    assert_eq!(std::fs::read_to_string(out.join("mine.txt")).unwrap(), "keep me");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "files were added");
    assert_eq!(ws.entries(), ["out", "tiny.toml"]);
}

#[test]
fn existing_results_directory_is_replaced_with_force() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.path("out");
    // A results directory (it has a manifest); --force replaces nothing else.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("manifest.json"), "{}").unwrap();
    std::fs::write(out.join("mine.txt"), "old").unwrap();

    ws.run_ok(&scenario, "out", &["--force", "--replicates", "1"]);
    assert!(
        !out.join("mine.txt").exists(),
        "the old directory was not replaced"
    );
    for file in ["manifest.json", "timeseries.csv", "summary.csv"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert_eq!(ws.entries(), ["out", "tiny.toml"], "leftovers beside the results");
}

#[test]
fn force_with_bad_input_keeps_the_existing_directory() {
    let ws = Workspace::empty();
    let scenario = ws.write("prob.toml", "[population]\nminor_share = 1.5\n");
    let out = ws.path("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("mine.txt"), "keep me").unwrap();
    rabbithole()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--force"])
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(out.join("mine.txt")).unwrap(), "keep me");
}

/// Regression: `--out FILE --force` on an existing regular file renamed the file aside,
/// moved the results in, then failed to delete the file as a directory: exit status 1 with
/// the results written anyway and a hidden `.FILE.old-<pid>` left behind. Either refusing
/// (status 2, file kept) or replacing it cleanly (status 0) is fine; not both halves.
#[test]
fn force_onto_a_regular_file_is_all_or_nothing() {
    let ws = Workspace::empty();
    let scenario = ws.write("tiny.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let out = ws.write("out", "a file, not a results directory");
    let output = rabbithole()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--force", "--replicates", "1"])
        .output()
        .unwrap();
    match output.status.code() {
        Some(0) => assert!(out.join("summary.csv").is_file()),
        Some(2) => assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "a file, not a results directory"
        ),
        other => panic!(
            "expected status 0 or 2, got {other:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
    assert_eq!(ws.entries(), ["out", "tiny.toml"], "leftovers beside the results");
}

#[test]
fn protections_and_bots_name_their_key_and_what_is_allowed() {
    let ws = Workspace::empty();
    let arm = |protections: &str| {
        tiny_scenario(&format!(
            "[[arms]]\nname = \"p\"\npolicy = {{ kind = \"engagement\" }}\nprotections = {{ {protections} }}\n"
        ))
    };
    let cases: [(String, &[&str]); 6] = [
        (
            arm("minor_curfew_start = 25, minor_curfew_end = 6"),
            &[
                "arms.0.protections.minor_curfew_start",
                "hour from 0 to below 24",
                "25",
            ],
        ),
        (
            arm("minor_curfew_start = 22"),
            &[
                "arms.0.protections.minor_curfew_end",
                "must be given with minor_curfew_start",
            ],
        ),
        (
            arm("sensitive_cap = 1.5"),
            &["arms.0.protections.sensitive_cap", "between 0 and 1"],
        ),
        (
            tiny_scenario(
                "[[catalog.topics]]\nname = \"a\"\n[[catalog.topics]]\nname = \"b\"\n[[arms]]\nname = \"p\"\npolicy = { kind = \"random\" }\nprotections = { minor_educational_feed = true }\n",
            ),
            &["arms.0.protections.minor_educational_feed", "educational = true"],
        ),
        (
            tiny_scenario(&format!(
                "{ENGAGEMENT_AND_RANDOM}[[bots]]\nname = \"b\"\nrule = \"linger\"\ntopic = \"cooking\"\n"
            )),
            &["bots.0.topic", "must name a topic", "comedy", "\"cooking\""],
        ),
        (
            tiny_scenario(&format!(
                "{ENGAGEMENT_AND_RANDOM}[[bots]]\nname = \"b\"\nrule = \"linger_switch\"\ntopic = \"food\"\n"
            )),
            &["bots.0.switch_topic", "is needed by rule"],
        ),
    ];
    for (n, (text, needles)) in cases.iter().enumerate() {
        let scenario = ws.write(&format!("bad{n}.toml"), text);
        let mut needles = needles.to_vec();
        let name = format!("bad{n}.toml");
        needles.push(&name);
        assert_refused(&ws, &scenario, &[], &needles);
    }
}
