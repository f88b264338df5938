//! `validate`: load a scenario, say what it runs and the memory and log it will need.

use super::run::{default_arms_note, estimate, load, parts};
use super::{Failure, ValidateArgs};
use rabbithole::memory;
use rabbithole::output::count;
use rabbithole::scenario::{self, Scenario};
use std::path::Path;

/// Loads the scenario and prints what it runs, the memory it needs (predicted by a pilot
/// where the pilot can tell, and the bound) beside the memory available, and the impression
/// log's size; nothing is written.
pub(crate) fn validate(args: ValidateArgs) -> Result<(), Failure> {
    let scenario = load(&args.scenario, &args.set)?;
    let outputs = memory::Outputs {
        per_user: false,
        charts: true,
    };
    let replicates = scenario.scenario.replicates;
    let bound = estimate(&scenario, replicates, outputs, args.log);
    let pilot = memory::pilot(&scenario);
    print_what_it_runs(&args.scenario, &scenario);
    let available = memory::available();
    let fits = |e: &memory::Estimate| match available {
        Some(a) if a < e.total() => format!(
            "; more than the {} available: run refuses it without --ignore-memory-limit",
            memory::mib(a)
        ),
        Some(a) => format!("; {} available", memory::mib(a)),
        None => String::new(),
    };
    match &pilot {
        Ok(p) => print_prediction(&scenario, p, outputs, args.log.is_some(), &fits),
        Err(why) => println!("memory: no prediction ({why}); the bound below applies"),
    }
    println!(
        "memory: at most about {} if every run lasts feed.max_steps ({}; {} bytes per viewer){}",
        memory::mib(bound.total()),
        parts(&bound),
        memory::bytes_per_viewer(&scenario),
        if pilot.is_ok() && available.is_some_and(|a| a < bound.total()) {
            "; run then decides by the prediction".to_string()
        } else {
            fits(&bound)
        }
    );
    if scenario.arms.len() > 1 {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "memory: run puts up to {} arms side by side (one per thread; this machine has {}), each beyond the first adding about {} while the memory allows; one at a time with --threads 1 or --log impressions",
            threads.min(scenario.arms.len()),
            count(threads as u64, "thread"),
            memory::mib(memory::arm_bytes(&scenario))
        );
    }
    print_log_size(&scenario, pilot.as_ref().ok(), args.log.is_some());
    Ok(())
}

/// `validate`'s lines of what the scenario at `path` runs: its size, its topics, its arms.
fn print_what_it_runs(path: &Path, scenario: &Scenario) {
    let items = u64::from(scenario.catalog.items) + scenario.n_arrivals();
    println!(
        "{}: valid. {}, {}, {}{}, {}, {} at the start ({} with arrivals), {} of use each",
        path.display(),
        count(scenario.arms.len() as u64, "arm"),
        count(scenario.scenario.replicates, "replicate"),
        count(scenario.population.users, "viewer"),
        match scenario.n_bots() {
            0 => String::new(),
            n => format!(" and {}", count(n, "audit bot")),
        },
        count(scenario.n_topics() as u64, "topic"),
        count(scenario.catalog.items, "item"),
        items,
        count(scenario.feed.days, "day")
    );
    let names: Vec<&str> = scenario.catalog.topics.iter().map(|t| t.name.as_str()).collect();
    let listed = std::fs::read_to_string(path).is_ok_and(|t| scenario::writes_topics(&t));
    println!(
        "topics{}: {}",
        if listed {
            " (listed in the file)"
        } else {
            " (the defaults)"
        },
        names.join(", ")
    );
    if listed {
        println!("{}", scenario::replaced_defaults_note());
    }
    println!(
        "arms{}:",
        if default_arms_note(path, scenario).is_some() {
            " (the defaults: the file has no [[arms]])"
        } else {
            ""
        }
    );
    for arm in &scenario.arms {
        println!("  {}", arm.describe());
    }
}

/// `validate`'s line of the impression log's size, bounded and, with a `pilot`, predicted;
/// `counted` when the memory lines above include it.
fn print_log_size(scenario: &Scenario, pilot: Option<&memory::Pilot>, counted: bool) {
    let replicates = scenario.scenario.replicates;
    let log = memory::LogSize::of(scenario, replicates);
    let predicted_log = pilot.map(|p| memory::LogSize::predicted(scenario, replicates, p));
    println!(
        "impression log (run --log impressions): {}at most {} (feed.max_steps per viewer), a file of at most {}; written as the run goes, so it holds at most {}{}",
        match predicted_log {
            Some(p) => format!(
                "about {} predicted, a file of about {}; ",
                count(p.impressions, "impression"),
                memory::mib(p.file_bytes())
            ),
            None => String::new(),
        },
        count(log.impressions, "impression"),
        memory::mib(log.file_bytes()),
        memory::mib(log.bytes()),
        if counted {
            " (counted above)"
        } else {
            "; validate --log impressions counts it above"
        }
    );
}

/// `validate`'s line of the memory predicted from the pilot `p`, with the impression log when
/// `log`, and `fits` (how it compares with the memory available).
fn print_prediction(
    scenario: &Scenario,
    p: &memory::Pilot,
    outputs: memory::Outputs,
    log: bool,
    fits: &dyn Fn(&memory::Estimate) -> String,
) {
    let replicates = scenario.scenario.replicates;
    let rows = memory::time_rows_for_steps(scenario, replicates, &p.steps);
    let mut predicted = memory::estimate_for_rows(scenario, replicates, outputs, rows);
    if log {
        predicted = predicted.with_impression_log(memory::LogSize::predicted(scenario, replicates, p));
    }
    let steps: Vec<String> = scenario
        .arms
        .iter()
        .zip(&p.steps)
        .map(|(arm, steps)| format!("{} {steps}", arm.name))
        .collect();
    println!(
        "memory: about {} predicted ({}; steps per run from a pilot of at most {} viewer-steps: {}){}",
        memory::mib(predicted.total()),
        parts(&predicted),
        p.work,
        steps.join(", "),
        fits(&predicted)
    );
}
