//! Ampliganda: boosts of a target set, trusted sources, and a creator group pushed down.

use crate::{Table, Workspace, rabbithole};

/// A small scenario with political content of one stance as the target; `arms` is appended.
fn scenario(arms: &str) -> String {
    format!(
        r#"[scenario]
name = "amp"
seed = 3
replicates = 3
baseline = "baseline"

[population]
users = 400
confidence_bound = 1.0
initial_follows = 0     # follows come only from the run (follow_rate below), as designed


[viewer]
stance_rate = 0.2
follow_rate = 0.3

[target]
topics = ["politics"]
stance_min = 0.5
stance_max = 1.0

[[arms]]
name = "baseline"
policy = {{ kind = "engagement" }}
{arms}"#
    )
}

fn arm(name: &str, boost: &str) -> String {
    format!("\n[[arms]]\nname = \"{name}\"\npolicy = {{ kind = \"engagement\" }}\n{boost}\n")
}

fn run(ws: &Workspace, arms: &str) -> Table {
    let path = ws.write("amp.toml", &scenario(arms));
    let out = ws.run_ok(&path, "out", &["--no-plot"]);
    Table::read(&out.join("summary.csv"))
}

fn mean(summary: &Table, arm: &str, metric: &str) -> String {
    let row = summary
        .rows
        .iter()
        .find(|r| summary.text(r, "arm") == arm && summary.text(r, "cohort") == "all")
        .unwrap_or_else(|| panic!("no row for {arm}"));
    summary.text(row, &format!("{metric}_mean")).to_string()
}

fn num(summary: &Table, arm: &str, metric: &str) -> f64 {
    mean(summary, arm, metric).parse().unwrap()
}

#[test]
fn an_arm_identical_to_the_baseline_has_ratio_one_and_the_same_stance_shift() {
    let ws = Workspace::empty();
    let summary = run(&ws, &arm("copy", ""));
    assert_eq!(mean(&summary, "copy", "amplification_ratio"), "1.000000");
    assert_eq!(mean(&summary, "baseline", "amplification_ratio"), "1.000000");
    assert_eq!(
        mean(&summary, "copy", "stance_shift"),
        mean(&summary, "baseline", "stance_shift")
    );
    assert!(num(&summary, "baseline", "boosted_share") > 0.0);
}

#[test]
fn amplification_rises_with_boost_strength() {
    let ws = Workspace::empty();
    let arms: String = [1.2, 2.0, 5.0]
        .iter()
        .map(|s| {
            arm(
                &format!("x{s}"),
                &format!("boosts = [{{ mode = \"multiplier\", strength = {s} }}]"),
            )
        })
        .collect();
    let summary = run(&ws, &arms);
    let ratios: Vec<f64> = ["x1.2", "x2", "x5"]
        .iter()
        .map(|a| num(&summary, a, "amplification_ratio"))
        .collect();
    assert!(ratios[0] > 1.0, "{ratios:?}");
    assert!(ratios[0] < ratios[1] && ratios[1] < ratios[2], "{ratios:?}");
}

#[test]
fn trusted_sources_move_stance_further_than_an_open_boost_of_as_much_exposure() {
    let ws = Workspace::empty();
    let arms = format!(
        "{}{}",
        arm(
            "open",
            "boosts = [{ mode = \"multiplier\", strength = 1.1, disclosed = true }]"
        ),
        arm(
            "trusted",
            "boosts = [{ mode = \"multiplier\", strength = 10.0, trusted_only = true }]"
        )
    );
    let summary = run(&ws, &arms);
    // The open boost shows at least as much target content...
    assert!(num(&summary, "open", "boosted_share") >= num(&summary, "trusted", "boosted_share"));
    // ...but the trusted one arrives through followed creators and moves stance further.
    assert!(
        num(&summary, "trusted", "boosted_trusted_share") > num(&summary, "open", "boosted_trusted_share")
    );
    assert!(
        num(&summary, "trusted", "stance_shift") > num(&summary, "open", "stance_shift"),
        "trusted {} against open {}",
        num(&summary, "trusted", "stance_shift"),
        num(&summary, "open", "stance_shift")
    );
}

#[test]
fn a_group_pushed_down_loses_exposure_below_its_catalog_share() {
    let ws = Workspace::empty();
    let summary = run(
        &ws,
        &arm(
            "pushed",
            "boosts = [{ mode = \"multiplier\", strength = 0.5, target = { groups = [\"minority\"], stance_min = -1.0, stance_max = 1.0 } }]",
        ),
    );
    let exposure = num(&summary, "pushed", "group_exposure_minority");
    let catalog = num(&summary, "pushed", "group_catalog_share_minority");
    assert!(
        exposure < catalog / 2.0,
        "exposure {exposure}, catalog share {catalog}"
    );
    assert!(num(&summary, "baseline", "group_exposure_minority") > catalog * 0.8);
}

#[test]
fn explain_shows_a_disclosed_boost_and_hides_a_hidden_one_but_the_manifest_has_both() {
    let ws = Workspace::empty();
    let arms = format!(
        "{}{}",
        arm(
            "open",
            "boosts = [{ name = \"open\", mode = \"multiplier\", strength = 3.0, disclosed = true }]"
        ),
        arm(
            "hidden",
            "boosts = [{ name = \"secret\", mode = \"multiplier\", strength = 3.0 }]"
        )
    );
    let path = ws.write("amp.toml", &scenario(&arms));
    let explain = |arm: &str| {
        let mut disclosed = 0;
        for user in 0..15 {
            let output = rabbithole()
                .arg("explain")
                .arg(&path)
                .args([
                    "--arm",
                    arm,
                    "--user",
                    &user.to_string(),
                    "--steps",
                    "60",
                    "--csv",
                ])
                .output()
                .unwrap();
            assert!(output.status.success());
            let text = String::from_utf8(output.stdout).unwrap();
            let header = text.lines().next().unwrap().to_string();
            if arm == "hidden" {
                assert!(
                    !header.split(',').any(|c| c == "boost"),
                    "a hidden boost is disclosed"
                );
                assert!(!text.contains("secret"));
            }
            disclosed += usize::from(header.split(',').any(|c| c == "boost"));
        }
        disclosed
    };
    assert!(explain("open") > 0, "the open boost never showed in explain");
    assert_eq!(explain("hidden"), 0);
    // The results record both boosts, with their disclosure.
    let out = ws.run_ok(&path, "out", &["--no-plot", "--replicates", "1"]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let arms = manifest["scenario"]["arms"].as_array().unwrap();
    let boost = |i: usize| &arms[i]["boosts"][0];
    assert_eq!(boost(1)["name"], "open");
    assert_eq!(boost(1)["disclosed"], true);
    assert_eq!(boost(2)["name"], "secret");
    assert_eq!(boost(2)["disclosed"], false);
    let summary = Table::read(&out.join("summary.csv"));
    assert!(num(&summary, "hidden", "amplification_ratio") > 1.0);
}
