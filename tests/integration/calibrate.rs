//! `calibrate`: recovering parameters from moments the simulator itself produced, the files
//! of a calibration directory, and refusals of bad targets files.

use crate::{Table, Workspace, rabbithole};
use rabbithole::calibrate::{Problem, targets};
use std::path::Path;

/// One engagement arm, 150 viewers, 20 minutes of use each: a few hundredths of a second per
/// simulation.
const SCENARIO: &str = r#"
[scenario]
name = "recover"
seed = 11
replicates = 1

[population]
users = 150

[catalog]
items = 1500
creators = 150

[feed]
minutes = 20

[[arms]]
name = "engagement"
policy = { kind = "engagement", exploration = 0.05 }
"#;

/// The parameters to recover, their ranges and the values the data were simulated with.
const PARAMETERS: [(&str, f64, f64, f64); 3] = [
    ("viewer.baseline_logit", -2.0, 2.0, 0.6),
    ("catalog.duration_median_seconds", 5.0, 30.0, 11.0),
    ("viewer.watch_concentration", 1.0, 10.0, 3.0),
];

/// The moments and their uncertainties; `VALUE` is replaced by the simulated value.
const MOMENTS: [(&str, f64); 5] = [
    ("watch_ratio_median", 0.01),
    ("watch_ratio_p25", 0.01),
    ("play_duration_median", 0.3),
    ("play_duration_mean", 0.3),
    ("watch_ratio_p75", 0.01),
];

/// A targets file with the moments at `values`, searching from the middle of each range.
fn targets_file(values: &[f64], max_evaluations: usize) -> String {
    let mut t = format!("[calibration]\nmax_evaluations = {max_evaluations}\nseed = 5\n");
    for ((statistic, uncertainty), value) in MOMENTS.iter().zip(values) {
        t.push_str(&format!(
            "[[moment]]\nstatistic = \"{statistic}\"\nvalue = {value}\nuncertainty = {uncertainty}\nsource = \"the simulator\"\n"
        ));
    }
    for (key, min, max, _) in PARAMETERS {
        t.push_str(&format!(
            "[[parameter]]\nkey = \"{key}\"\nmin = {min}\nmax = {max}\n"
        ));
    }
    t
}

/// The moments of the scenario at the known parameter values (the library, as calibrate does).
fn known_moments(scenario: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(scenario).unwrap();
    let targets = targets::parse_str(&targets_file(&[0.0; 5], 10), Path::new("t.toml")).unwrap();
    let problem = Problem {
        scenario_text: &text,
        scenario_path: scenario,
        overrides: Vec::new(),
        targets: &targets,
        arms: vec![0; targets.moments.len()],
        seed: 0,
    };
    let known: Vec<f64> = PARAMETERS.iter().map(|p| p.3).collect();
    let results = problem.simulate(&problem.scenario(&known).unwrap());
    problem.statistics(&results)
}

fn calibrate(
    ws: &Workspace,
    scenario: &Path,
    targets: &Path,
    out: &str,
    threads: &str,
) -> std::path::PathBuf {
    let out = ws.path(out);
    rabbithole()
        .args(["calibrate", "--quiet", "--threads", threads, "--targets"])
        .arg(targets)
        .arg(scenario)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out
}

/// Simulate with known values, calibrate from their moments: every parameter comes back
/// within 2 % of its range (the search starts 15 % to 35 % of the range away), every moment
/// within one uncertainty.
#[test]
fn calibrate_recovers_known_parameters() {
    let ws = Workspace::empty();
    let scenario = ws.write("recover.toml", SCENARIO);
    let moments = known_moments(&scenario);
    assert!(moments.iter().all(|m| m.is_finite()), "{moments:?}");
    // The default tol_x (1 % of each range) stops the search about that far from the answer;
    // 2 % needs a finer one.
    let text = targets_file(&moments, 300).replace("seed = 5\n", "seed = 5\ntol_x = 0.002\n");
    let targets = ws.write("targets.toml", &text);
    let out = calibrate(&ws, &scenario, &targets, "cal", "2");
    let params = Table::read(&out.join("parameters.csv"));
    for (row, (key, min, max, known)) in params.rows.iter().zip(PARAMETERS) {
        assert_eq!(params.text(row, "key"), key);
        let got = params.num(row, "calibrated").unwrap();
        assert!(
            (got - known).abs() <= 0.02 * (max - min),
            "{key}: calibrated {got}, simulated with {known}"
        );
    }
    let fit = Table::read(&out.join("fit.csv"));
    for row in &fit.rows {
        let z = fit.num(row, "standardised_error").unwrap();
        assert!(z.abs() < 1.0, "{row:?}");
    }
    for file in [
        "scenario.toml",
        "history.csv",
        "fit.svg",
        "convergence.svg",
        "report.html",
        "manifest.json",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    // The calibrated scenario is a scenario, with the calibrated values in it.
    let calibrated = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    assert!(calibrated.contains("duration_median_seconds"), "{calibrated}");
    rabbithole()
        .args(["validate"])
        .arg(out.join("scenario.toml"))
        .assert()
        .success();
}

/// `manifest.json` of a calibration directory.
fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

/// With the default tolerances (`tol_x` 0.01 of each range, `tol_fun` 0.05) the recovery
/// search converges long before a budget of 1,500 simulations, and says so; with the crate's
/// own tolerances (10⁻¹²), which a simulated objective never meets, it ran to the budget.
#[test]
fn calibrate_stops_when_converged_before_its_budget() {
    let ws = Workspace::empty();
    let scenario = ws.write("recover.toml", SCENARIO);
    let moments = known_moments(&scenario);
    let targets = ws.write("targets.toml", &targets_file(&moments, 1500));
    let out = calibrate(&ws, &scenario, &targets, "cal", "2");
    let m = manifest(&out);
    let evaluations = m["evaluations"].as_u64().unwrap();
    assert!(evaluations < 1500, "{m}");
    assert_eq!(m["converged"], true, "{m}");
    let stopped: Vec<&str> = m["stopped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        stopped.iter().any(|r| ["TolX", "TolFunHist"].contains(r)) && !stopped.contains(&"MaxFunctionEvals"),
        "{stopped:?}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("simulations: converged (Tol"), "{report}");
}

/// The same seed gives the same search whatever the thread count.
#[test]
fn calibrate_is_deterministic_from_its_seed() {
    let ws = Workspace::empty();
    let scenario = ws.write("recover.toml", SCENARIO);
    let targets = ws.write("targets.toml", &targets_file(&[0.5, 0.3, 15.0, 16.0, 3.0], 12));
    let one = calibrate(&ws, &scenario, &targets, "one", "1");
    let two = calibrate(&ws, &scenario, &targets, "two", "2");
    // Twelve simulations end at the budget: reported as not converged.
    let m = manifest(&one);
    assert_eq!(m["stopped"], serde_json::json!(["MaxFunctionEvals"]), "{m}");
    assert_eq!(m["converged"], false, "{m}");
    let report = std::fs::read_to_string(one.join("report.html")).unwrap();
    assert!(
        report.contains("not converged: stopped at MaxFunctionEvals"),
        "{report}"
    );
    for file in ["fit.csv", "history.csv", "parameters.csv", "scenario.toml"] {
        assert_eq!(
            std::fs::read(one.join(file)).unwrap(),
            std::fs::read(two.join(file)).unwrap(),
            "{file}"
        );
    }
}

/// A bad targets file: exit 2, the file, the key and what is allowed; nothing written.
#[test]
fn bad_targets_are_refused_with_file_and_key() {
    let ws = Workspace::empty();
    let scenario = ws.write("recover.toml", SCENARIO);
    let cases = [
        (
            "watch_ratio_median",
            "watch_ratio_mode",
            "moment[0].statistic: unknown statistic \"watch_ratio_mode\"; allowed: watch_ratio_mean",
        ),
        (
            "min = 5\n",
            "min = 50\n",
            "parameter[1].max: the range must be finite with min < max",
        ),
        (
            "key = \"viewer.baseline_logit\"",
            "key = \"viewer.baseline_logits\"",
            "parameter[0]: the scenario refuses the range's min end",
        ),
        (
            "seed = 5",
            "seed = 5\narm = \"random\"",
            "calibration.arm: no arm \"random\" in the scenario; allowed: engagement",
        ),
        (
            "seed = 5",
            "seed = 5\ntol_x = 0",
            "calibration.tol_x: must be a finite number > 0, got 0",
        ),
        (
            "seed = 5",
            "seed = 5\ntol_fun = nan",
            "calibration.tol_fun: must be a finite number > 0, got NaN",
        ),
        (
            "seed = 5",
            "seed = 5\ntol_fun = -0.1",
            "calibration.tol_fun: must be a finite number > 0, got -0.1",
        ),
        (
            "statistic = \"watch_ratio_p25\"",
            "statistic = \"watch_ratio_p25\"\narm = \"random\"",
            "moment[1].arm: no arm \"random\" in the scenario; allowed: engagement",
        ),
    ];
    for (from, to, expected) in cases {
        let text = targets_file(&[0.5, 0.3, 15.0, 16.0, 3.0], 12).replace(from, to);
        let targets = ws.write("bad.toml", &text);
        let output = rabbithole()
            .args(["calibrate", "--quiet", "--targets"])
            .arg(&targets)
            .arg(&scenario)
            .arg("--out")
            .arg(ws.path("never"))
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("bad.toml: "), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
        assert!(!ws.path("never").exists());
    }
}

/// `--fix` holds a parameter and searches the others. Held at the value the moments were
/// simulated with, the other two come back (within 2 % of their ranges) and every moment
/// within one uncertainty; held away from it, the best objective is larger: the profile of
/// the objective along a parameter is lowest at the truth. The held parameter leaves
/// `parameters.csv` and is in the calibrated scenario, the manifest and the report.
#[test]
fn a_fixed_parameter_is_held_and_the_others_are_searched() {
    let ws = Workspace::empty();
    let scenario = ws.write("recover.toml", SCENARIO);
    let moments = known_moments(&scenario);
    let text = targets_file(&moments, 300).replace("seed = 5\n", "seed = 5\ntol_x = 0.002\n");
    let targets = ws.write("targets.toml", &text);
    let held = |out: &str, seconds: f64| {
        let out = ws.path(out);
        rabbithole()
            .args(["calibrate", "--quiet", "--threads", "2", "--targets"])
            .arg(&targets)
            .arg(&scenario)
            .arg("--fix")
            .arg(format!("catalog.duration_median_seconds={seconds}"))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        out
    };
    let truth = held("truth", 11.0);
    let params = Table::read(&truth.join("parameters.csv"));
    let keys: Vec<&str> = params.rows.iter().map(|r| params.text(r, "key")).collect();
    assert_eq!(keys, ["viewer.baseline_logit", "viewer.watch_concentration"]);
    for (row, (key, min, max, known)) in params.rows.iter().zip([PARAMETERS[0], PARAMETERS[2]]) {
        let got = params.num(row, "calibrated").unwrap();
        assert!(
            (got - known).abs() <= 0.02 * (max - min),
            "{key}: {got}, simulated with {known}"
        );
    }
    let fit = Table::read(&truth.join("fit.csv"));
    for row in &fit.rows {
        assert!(fit.num(row, "standardised_error").unwrap().abs() < 1.0, "{row:?}");
    }
    let m = manifest(&truth);
    assert_eq!(
        m["fixed"],
        serde_json::json!(["catalog.duration_median_seconds=11"]),
        "{m}"
    );
    let calibrated = std::fs::read_to_string(truth.join("scenario.toml")).unwrap();
    assert!(
        calibrated.contains("duration_median_seconds = 11.0"),
        "{calibrated}"
    );
    let report = std::fs::read_to_string(truth.join("report.html")).unwrap();
    assert!(report.contains("catalog.duration_median_seconds=11"), "{report}");
    let away = manifest(&held("away", 14.0))["objective"].as_f64().unwrap();
    let at_truth = m["objective"].as_f64().unwrap();
    assert!(
        away > at_truth + 1.0,
        "objective {away} held away, {at_truth} at the truth"
    );
}

/// A bad `--fix`: exit 2, what is wrong and what is allowed; nothing written.
#[test]
fn a_bad_fix_is_refused_with_what_is_allowed() {
    let ws = Workspace::empty();
    let scenario = ws.write("recover.toml", SCENARIO);
    let targets = ws.write("targets.toml", &targets_file(&[0.5, 0.3, 15.0, 16.0, 3.0], 12));
    let cases: [(&[&str], &str); 5] = [
        (
            &["viewer.boredom_threshold=0.3"],
            "--fix viewer.boredom_threshold=0.3: viewer.boredom_threshold is not a free parameter of the targets file (or is fixed twice); allowed: viewer.baseline_logit, catalog.duration_median_seconds, viewer.watch_concentration",
        ),
        (
            &["viewer.baseline_logit"],
            "--fix viewer.baseline_logit: expected KEY=VALUE",
        ),
        (
            &["viewer.baseline_logit=high"],
            "--fix viewer.baseline_logit=high: the value must be a number, got \"high\"",
        ),
        (
            &[
                "viewer.baseline_logit=0",
                "viewer.watch_concentration=3",
                "catalog.duration_median_seconds=9",
            ],
            "catalog.duration_median_seconds is the last free parameter; a search needs at least one",
        ),
        (&["catalog.duration_median_seconds=-4"], "duration_median_seconds"),
    ];
    for (fixes, expected) in cases {
        let mut cmd = rabbithole();
        cmd.args(["calibrate", "--quiet", "--targets"])
            .arg(&targets)
            .arg(&scenario)
            .arg("--out")
            .arg(ws.path("never"));
        for fix in fixes {
            cmd.args(["--fix", fix]);
        }
        let output = cmd.assert().code(2).get_output().clone();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
        assert!(!ws.path("never").exists());
    }
}

/// A moment's own `arm` computes its statistic from that arm: the same statistic from the
/// engagement feed and from random exposure differ, in the library and in `fit.csv`.
#[test]
fn a_moment_is_compared_with_its_own_arm() {
    let ws = Workspace::empty();
    let two_arms = format!("{SCENARIO}\n[[arms]]\nname = \"random\"\npolicy = {{ kind = \"random\" }}\n");
    let scenario = ws.write("two.toml", &two_arms);
    let mut text = targets_file(&[0.5, 0.3, 15.0, 16.0, 0.8], 12);
    text.push_str(
        "[[moment]]\nstatistic = \"watch_ratio_median\"\narm = \"random\"\nvalue = 0.5\nuncertainty = 0.01\nsource = \"the simulator\"\n",
    );
    let targets_path = ws.write("arms.toml", &text);
    let parsed = targets::parse_str(&text, Path::new("arms.toml")).unwrap();
    let problem = Problem {
        scenario_text: &two_arms,
        scenario_path: &scenario,
        overrides: Vec::new(),
        targets: &parsed,
        arms: vec![0, 0, 0, 0, 0, 1],
        seed: 0,
    };
    let results = problem.simulate(&problem.scenario(&[0.6, 11.0, 3.0]).unwrap());
    let stats = problem.statistics(&results);
    let random = rabbithole::calibrate::Statistic::WatchRatioMedian.compute(&results, 1);
    assert_eq!(stats[5], random);
    assert_ne!(
        stats[5], stats[0],
        "random exposure and the engagement feed differ"
    );
    let out = calibrate(&ws, &scenario, &targets_path, "arms", "1");
    let fit = Table::read(&out.join("fit.csv"));
    assert_eq!(fit.rows.len(), 6);
    let median = |row: usize| fit.num(&fit.rows[row], "simulated").unwrap();
    assert_ne!(
        median(0),
        median(5),
        "the last moment is computed from the random arm"
    );
}

/// docs/calibration.md defines every statistic a targets file may name, and no other.
#[test]
fn every_statistic_is_documented() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/calibration.md")).unwrap();
    let section: Vec<&str> = docs
        .lines()
        .skip_while(|l| !l.starts_with("## The statistics"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect();
    let rows: Vec<&str> = section.into_iter().filter(|l| l.starts_with("| `")).collect();
    let documented: Vec<&str> = rows.iter().filter_map(|l| l.split('`').nth(1)).collect();
    let names = rabbithole::calibrate::Statistic::names();
    for name in &names {
        assert!(documented.contains(name), "{name} is not in docs/calibration.md");
    }
    assert_eq!(documented.len(), names.len(), "{documented:?}");
}

/// Issue 18's memory guard covers `calibrate` as `run`: a scenario whose viewers alone do not
/// fit (100 million, about 80 GB) is refused with exit 2 and the estimate, at once and before
/// its directory is claimed; before the guard the first generation tried to allocate them.
#[test]
fn a_calibration_that_cannot_fit_in_memory_is_refused_at_once() {
    let ws = Workspace::empty();
    let scenario = ws.write("recover.toml", SCENARIO);
    let targets = ws.write("targets.toml", &targets_file(&[0.5, 0.3, 15.0, 16.0, 3.0], 12));
    let started = std::time::Instant::now();
    let out = rabbithole()
        .args(["calibrate", "--quiet", "--threads", "2", "--targets"])
        .arg(&targets)
        .arg(&scenario)
        .args(["--set", "population.users=100000000", "--out"])
        .arg(ws.path("cal"))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the run needs about") && stderr.contains("--ignore-memory-limit"),
        "{stderr}"
    );
    assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
    assert!(!ws.path("cal").exists());
}
