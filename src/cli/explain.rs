//! `explain`: one viewer's recommendations, with the parameters behind each, as CSV or as
//! text wrapped to the terminal's width.

use super::Failure;
use clap::Args;
use rabbithole::catalog::Catalog;
use rabbithole::output::count;
use rabbithole::{engine, explain, scenario};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The arm whose recommender is explained.
    #[arg(long)]
    arm: String,
    /// The viewer (0 to population.users - 1; audit bots follow, from population.users on).
    #[arg(long)]
    user: u32,
    /// Steps (impressions) to show.
    #[arg(long, default_value_t = 50)]
    steps: u32,
    /// The replicate.
    #[arg(long, default_value_t = 0)]
    replicate: u32,
    /// Print CSV instead of text (the CSV is the same whatever the width).
    #[arg(long)]
    csv: bool,
    /// The longest line of the text, in characters (at least 40) [default: the COLUMNS
    /// environment variable, else the terminal's width, else 100].
    #[arg(long, value_name = "N")]
    width: Option<usize>,
    /// Show what the platform believes about the viewer every N steps, besides at the start
    /// and at each new day (0: only then).
    #[arg(long, value_name = "N", default_value_t = 25)]
    beliefs_every: u32,
    /// Override any scenario key by its dotted path, e.g. population.users=500.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// Narrowest text `explain` lays out: the row's columns need about this much to stay legible.
const MIN_WIDTH: usize = 40;

/// Width of the text when `--width` is not given and neither `COLUMNS` nor a terminal says.
const DEFAULT_WIDTH: usize = 100;

/// `--width`, else `COLUMNS` (as shells set it), else the terminal's width when standard
/// output is one, else [`DEFAULT_WIDTH`]; never below [`MIN_WIDTH`] unless asked (refused).
fn text_width(flag: Option<usize>) -> Result<usize, Failure> {
    if let Some(w) = flag {
        if w < MIN_WIDTH {
            return Err(Failure::Input(format!(
                "--width must be at least {MIN_WIDTH}, got {w}"
            )));
        }
        return Ok(w);
    }
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok());
    let terminal = || {
        console::Term::stdout()
            .size_checked()
            .map(|(_, cols)| usize::from(cols))
    };
    Ok(columns
        .filter(|&c| c > 0)
        .or_else(terminal)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH))
}

pub(crate) fn explain(args: ExplainArgs) -> Result<(), Failure> {
    let scenario = scenario::load(&args.scenario, &args.set).map_err(|e| Failure::Input(e.to_string()))?;
    let Some(arm) = scenario.arms.iter().position(|a| a.name == args.arm) else {
        let names: Vec<&str> = scenario.arms.iter().map(|a| a.name.as_str()).collect();
        return Err(Failure::Input(format!(
            "--arm {}: no such arm in {} (arms: {})",
            args.arm,
            args.scenario.display(),
            names.join(", ")
        )));
    };
    let accounts = u64::from(scenario.population.users) + scenario.n_bots();
    if u64::from(args.user) >= accounts {
        let bots = match scenario.n_bots() {
            0 => String::new(),
            n => format!(" plus the {}", count(n, "bot")),
        };
        return Err(Failure::Input(format!(
            "--user {}: must be below population.users ({}){bots}",
            args.user, scenario.population.users
        )));
    }
    if args.replicate >= scenario.scenario.replicates {
        return Err(Failure::Input(format!(
            "--replicate {}: must be below scenario.replicates ({})",
            args.replicate, scenario.scenario.replicates
        )));
    }
    if args.steps == 0 {
        return Err(Failure::Input("--steps must be at least 1, got 0".into()));
    }
    let width = text_width(args.width)?;
    let records = engine::trace(&scenario, arm, args.replicate, args.user, args.steps);
    let catalog = Catalog::generate(&scenario, args.replicate);
    let rows = explain::rows(&records, &catalog);
    let bytes = if args.csv {
        explain::to_csv(&rows)
    } else {
        let options = explain::TextOptions {
            title: format!(
                "{}: arm {} ({}), viewer {}, replicate {}: {}",
                args.scenario.display(),
                args.arm,
                scenario.arms[arm].policy.kind(),
                args.user,
                args.replicate,
                count(rows.len() as u64, "impression")
            ),
            width,
            beliefs_every: args.beliefs_every,
            topics: &catalog.topic_names,
            viewer: args.user,
            steps: args.steps,
        };
        explain::to_text(&rows, &options).into_bytes()
    };
    std::io::stdout()
        .write_all(&bytes)
        .map_err(|e| Failure::Run(format!("cannot write to standard output: {e}")))
}
