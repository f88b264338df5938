//! Input the docs allow at its limits: a susceptibility of 0, shares near the largest float,
//! no item prior. Each runs (exit 0) and means what the docs say, instead of panicking or
//! writing NaN.

use crate::{ENGAGEMENT_AND_RANDOM, Table, Workspace, rabbithole, refused, tiny_scenario};
use std::path::Path;

/// The bytes of `timeseries.csv` of a run of `scenario` with `args`.
fn timeseries(ws: &Workspace, scenario: &Path, out: &str, args: &[&str]) -> Vec<u8> {
    let dir = ws.run_ok(scenario, out, &[&["--no-plot"], args].concat());
    std::fs::read(dir.join("timeseries.csv")).unwrap()
}

/// A tiny scenario with two topics of the given shares.
fn two_topics(shares: [&str; 2]) -> String {
    tiny_scenario(&format!(
        "{ENGAGEMENT_AND_RANDOM}\n[[catalog.topics]]\nname = \"a\"\nshare = {}\n\n[[catalog.topics]]\nname = \"b\"\nshare = {}\n",
        shares[0], shares[1]
    ))
}

#[test]
fn susceptibility_zero_fixes_every_viewers_interests_and_stance() {
    let ws = Workspace::empty();
    let scenario = ws.write("s.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let set = ["--set", "population.susceptibility_mean=0"];
    rabbithole()
        .arg("validate")
        .arg(&scenario)
        .args(set)
        .assert()
        .success();
    let out = ws.run_ok(
        &scenario,
        "out",
        &[&set[..], &["--per-user", "--no-plot"]].concat(),
    );
    let users = Table::read(&out.join("users.csv"));
    assert!(!users.rows.is_empty());
    for row in &users.rows {
        assert_eq!(users.num(row, "interest_drift"), Some(0.0));
        assert_eq!(users.text(row, "stance_start"), users.text(row, "stance_end"));
    }
}

#[test]
fn shares_whose_sum_overflows_mean_what_their_ratio_means() {
    // 2^1023 twice overflows a sum; scaled by a power of two they are the shares 1 and 1.
    let ws = Workspace::empty();
    let huge = ws.write("huge.toml", &two_topics(["8.9884656743115795e307"; 2]));
    let one = ws.write("one.toml", &two_topics(["1.0"; 2]));
    assert_eq!(
        timeseries(&ws, &huge, "huge", &[]),
        timeseries(&ws, &one, "one", &[])
    );
}

#[test]
fn a_huge_share_with_the_largest_concentration_runs() {
    let ws = Workspace::empty();
    let scenario = ws.write("s.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    for set in [
        vec!["catalog.topics.0.share=1e308"],
        vec![
            "catalog.topics.0.share=1e305",
            "population.interest_concentration=10000",
        ],
    ] {
        let args: Vec<&str> = set.iter().flat_map(|s| ["--set", s]).collect();
        rabbithole()
            .arg("validate")
            .arg(&scenario)
            .args(&args)
            .assert()
            .success();
        ws.run_ok(&scenario, &format!("out{}", set.len()), &args);
    }
}

#[test]
fn no_item_prior_is_the_limit_of_a_small_one() {
    // Without the limit, an unshown item's completion was 0/0 and coverage jumped (0.10 to 0.25).
    let ws = Workspace::empty();
    let scenario = ws.write("s.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let coverage = |weight: &str| {
        let set = format!("recommender.item_prior_weight={weight}");
        let out = ws.run_ok(
            &scenario,
            weight,
            &["--set", &set, "--no-plot", "--replicates", "1"],
        );
        let t = Table::read(&out.join("timeseries.csv"));
        let rows: Vec<_> = t
            .rows_where("arm", "engagement")
            .into_iter()
            .filter(|r| t.text(r, "cohort") == "all")
            .collect();
        t.num(rows[rows.len() - 1], "coverage").unwrap()
    };
    let (zero, small) = (coverage("0"), coverage("1e-9"));
    assert!(
        (zero - small).abs() < 0.02,
        "coverage {zero} with weight 0, {small} with 1e-9"
    );
}

#[test]
fn a_bad_flag_is_blamed_alone() {
    let ws = Workspace::empty();
    let scenario = ws.write("s.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let seed = "9223372036854775808";
    let msg = refused(
        &ws,
        &scenario,
        &["--seed", seed, "--users", "20", "--replicates", "1"],
    );
    assert!(
        msg.starts_with(&format!(
            "error: --seed {seed}: scenario.seed must be between 0 and"
        )),
        "{msg}"
    );
    let msg = refused(&ws, &scenario, &["--seed", seed]);
    assert!(msg.starts_with(&format!("error: --seed {seed}: ")), "{msg}");
}

#[test]
fn a_huge_value_is_not_echoed_whole() {
    let ws = Workspace::empty();
    let value = "9".repeat(5_000_000);
    let scenario = ws.write("big.toml", &format!("[population]\nusers = \"{value}\"\n"));
    let msg = refused(&ws, &scenario, &[]);
    assert!(msg.len() < 4_000, "{} bytes of message", msg.len());
    assert!(
        msg.contains("big.toml") && msg.contains("population.users"),
        "{msg}"
    );
    assert!(msg.contains("more bytes)"), "{msg}");
}

#[test]
fn force_replaces_only_a_results_directory() {
    let ws = Workspace::empty();
    let scenario = ws.write("s.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    std::fs::create_dir(ws.path("out")).unwrap();
    std::fs::write(ws.path("out/precious.txt"), "x").unwrap();
    let out = rabbithole()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--no-plot", "--force", "--out"])
        .arg(ws.path("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a results or sweep directory"));
    assert_eq!(std::fs::read_to_string(ws.path("out/precious.txt")).unwrap(), "x");
    // A results directory is replaced.
    std::fs::remove_dir_all(ws.path("out")).unwrap();
    ws.run_ok(&scenario, "out", &["--no-plot"]);
    ws.run_ok(&scenario, "out", &["--no-plot", "--force", "--seed", "3"]);
    assert_eq!(ws.entries(), ["out", "s.toml"]);
}

/// A run of a scenario long enough to be caught running (tens of seconds unless stopped).
fn start_long_run(ws: &Workspace) -> std::process::Child {
    let scenario = ws.write(
        "long.toml",
        "[scenario]\nreplicates = 1\n[population]\nusers = 100000\n[feed]\ndays = 3\n",
    );
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_rabbithole"))
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--no-plot", "--threads", "1", "--out"])
        .arg(ws.path("out"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The lock appears before the run computes anything.
    let lock = ws.path(".out.lock");
    let waited = std::time::Instant::now();
    while !lock.exists() {
        assert!(waited.elapsed().as_secs() < 20, "no lock file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

#[test]
fn a_second_run_on_the_same_out_is_refused_and_a_signal_leaves_nothing() {
    let ws = Workspace::empty();
    let mut first = Some(start_long_run(&ws));
    let scenario = ws.write("s.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let msg = refused(&ws, &scenario, &["--force"]);
    assert!(msg.contains("is being written by run"), "{msg}");
    for (signal, status) in [("-TERM", 143), ("-INT", 130)] {
        let child = first.take().unwrap_or_else(|| start_long_run(&ws));
        let killed = std::process::Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(status), "{signal}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        // No lock, no temporary directory, no results.
        assert_eq!(ws.entries(), ["long.toml", "s.toml"]);
    }
}

#[test]
fn leftovers_of_killed_runs_are_named_then_removed() {
    let ws = Workspace::empty();
    let scenario = ws.write("s.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    // What a SIGKILLed run leaves: its lock and temporary directory, of a process now gone.
    let dead = "4194399"; // above the largest Linux pid
    std::fs::create_dir(ws.path(&format!(".out.tmp-{dead}"))).unwrap();
    std::fs::write(ws.path(".out.lock"), format!("{dead}\n")).unwrap();
    let msg = refused(&ws, &scenario, &[]);
    assert!(
        msg.contains(&format!(".out.tmp-{dead}")) && msg.contains("--remove-stale"),
        "{msg}"
    );
    assert!(msg.contains("locked by a run that was killed"), "{msg}");
    ws.run_ok(&scenario, "out", &["--no-plot", "--remove-stale"]);
    assert_eq!(ws.entries(), ["out", "s.toml"]);
}

#[test]
fn a_run_that_cannot_fit_in_memory_is_refused_at_once() {
    let ws = Workspace::empty();
    let scenario = ws.write("s.toml", &tiny_scenario(ENGAGEMENT_AND_RANDOM));
    let started = std::time::Instant::now();
    let msg = refused(&ws, &scenario, &["--users", "100000000", "--replicates", "1"]);
    assert!(started.elapsed().as_secs_f64() < 1.0, "{:?}", started.elapsed());
    assert!(
        msg.contains("the run needs about") && msg.contains("--ignore-memory-limit"),
        "{msg}"
    );
    // validate compares without generating the catalog (50 million items took 14 s).
    let started = std::time::Instant::now();
    let out = rabbithole()
        .arg("validate")
        .arg(&scenario)
        .args(["--set", "catalog.items=50000000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(started.elapsed().as_secs_f64() < 1.0, "{:?}", started.elapsed());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("memory: at most about") && stdout.contains("available"),
        "{stdout}"
    );
}
