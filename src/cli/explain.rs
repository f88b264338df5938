//! `explain`: one viewer's recommendations, with the parameters behind each.

use super::Failure;
use clap::Args;
use rabbithole::catalog::Catalog;
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
    /// Print CSV instead of a table.
    #[arg(long)]
    csv: bool,
    /// Override any scenario key by its dotted path, e.g. population.users=500.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
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
            n => format!(" plus the {n} bots"),
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
    let records = engine::trace(&scenario, arm, args.replicate, args.user, args.steps);
    let catalog = Catalog::generate(&scenario, args.replicate);
    let rows = explain::rows(&records, &catalog);
    let bytes = if args.csv {
        explain::to_csv(&rows)
    } else {
        let mut text = format!(
            "{}: arm {} ({}), viewer {}, replicate {}: {} impressions\n\
             rank = position by the final score among candidates not shown recently; base = by the score before re-ranking\n",
            args.scenario.display(),
            args.arm,
            scenario.arms[arm].policy.kind(),
            args.user,
            args.replicate,
            rows.len()
        );
        text.push_str(&explain::to_text(&rows));
        if rows.len() < args.steps as usize {
            text.push_str(&format!(
                "(the viewer stopped using the app after {} impressions)\n",
                rows.len()
            ));
        }
        text.into_bytes()
    };
    std::io::stdout()
        .write_all(&bytes)
        .map_err(|e| Failure::Run(format!("cannot write to standard output: {e}")))
}
