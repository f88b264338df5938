//! Command-line parsing (clap), the progress bar (indicatif) and exit codes: the only place
//! that knows about either. Exit status 0 on success, 2 for bad input, 1 for a failure while
//! running.

mod calibrate;
mod claim;
mod explain;
mod merge;
mod plot;
mod run;
mod sensitivity;
mod sweep;
mod validate;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rabbithole::output::{CsvStyle, TimeseriesForm};
use rabbithole::shard::Shard;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Simulate recommendation-algorithm rabbit holes.
#[derive(Debug, Parser)]
#[command(name = "rabbithole", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and write its results directory.
    Run(RunArgs),
    /// Check a scenario file and print what a run of it would take.
    Validate(ValidateArgs),
    /// Draw the SVG charts and report.html of a results directory, beside its CSV files.
    Plot(PlotArgs),
    /// Show one viewer's recommendations with the parameters behind each (DSA Art. 27).
    Explain(explain::ExplainArgs),
    /// Run a scenario at every point of a grid of parameter values.
    Sweep(SweepArgs),
    /// Combine the shards of a run or of a sweep into the unsharded result.
    Merge(MergeArgs),
    /// Fit free scenario parameters to published usage figures (method of simulated moments).
    Calibrate(calibrate::CalibrateArgs),
    /// Sensitivity of the headline metrics and arm differences to the model's assumptions
    /// (Morris screening, Sobol indices).
    Sensitivity(sensitivity::SensitivityArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The scenario file (TOML).
    pub(crate) scenario: PathBuf,
    /// Results directory [default: results/<scenario name>].
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Master seed (overrides scenario.seed).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Replicates (overrides scenario.replicates).
    #[arg(long)]
    pub(crate) replicates: Option<u32>,
    /// Viewers (overrides population.users).
    #[arg(long)]
    pub(crate) users: Option<u32>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    /// Override any scenario key by its dotted path, e.g. population.users=500.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,
    /// Also write users.csv, one row per (arm, replicate, user).
    #[arg(long)]
    pub(crate) per_user: bool,
    /// Also write a log: `impressions` writes impressions.parquet, one row per impression
    /// (`validate --log impressions` gives its size first).
    #[arg(long, value_enum, value_name = "LOG")]
    pub(crate) log: Option<LogKind>,
    /// Run only shard I of N (replicate r goes to shard (r mod N) + 1); see `merge`.
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<Shard>,
    /// Replace an existing results directory (one with a manifest.json; nothing else).
    #[arg(long)]
    pub(crate) force: bool,
    /// Remove what killed runs left beside the output directory (temporary directories, locks).
    #[arg(long)]
    pub(crate) remove_stale: bool,
    /// Run even when the estimated memory exceeds what the machine has available.
    #[arg(long)]
    pub(crate) ignore_memory_limit: bool,
    /// No progress bar and no summary on the terminal.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Write only the data files: no SVG charts and no report.html.
    #[arg(long)]
    pub(crate) no_plot: bool,
    #[command(flatten)]
    pub(crate) data: DataArgs,
}

/// How the data files are written: `run` and `sweep`.
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct DataArgs {
    /// The CSV files' style: `standard` (comma-separated, "." decimals) or `eu`
    /// (semicolon-separated, "," decimals, for spreadsheets in European locales).
    #[arg(long, value_enum, value_name = "STYLE", default_value = "standard")]
    pub(crate) csv_style: CsvStyleArg,
    /// The form of timeseries.csv: `replicates` (one row per replicate), `mean` (one row per
    /// arm, cohort and step: the mean over replicates, about replicates times smaller) or
    /// `mean-interval` (the mean and its 95 % interval).
    #[arg(long, value_enum, value_name = "FORM", default_value = "replicates")]
    pub(crate) timeseries: TimeseriesArg,
}

/// `--csv-style`, as [`rabbithole::output::CsvStyle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CsvStyleArg {
    /// Comma-separated, "." decimal point.
    Standard,
    /// Semicolon-separated, "," decimal comma.
    Eu,
}

impl From<CsvStyleArg> for CsvStyle {
    fn from(arg: CsvStyleArg) -> CsvStyle {
        match arg {
            CsvStyleArg::Standard => CsvStyle::Standard,
            CsvStyleArg::Eu => CsvStyle::Eu,
        }
    }
}

/// `--timeseries`, as [`rabbithole::output::TimeseriesForm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TimeseriesArg {
    /// One row per (arm, replicate, cohort, step).
    Replicates,
    /// One row per (arm, cohort, step): the mean over replicates.
    Mean,
    /// The mean over replicates and its 95 % interval.
    MeanInterval,
}

impl From<TimeseriesArg> for TimeseriesForm {
    fn from(arg: TimeseriesArg) -> TimeseriesForm {
        match arg {
            TimeseriesArg::Replicates => TimeseriesForm::Replicates,
            TimeseriesArg::Mean => TimeseriesForm::Mean,
            TimeseriesArg::MeanInterval => TimeseriesForm::MeanInterval,
        }
    }
}

/// The logs `run --log` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogKind {
    /// impressions.parquet: one row per impression.
    Impressions,
}

#[derive(Debug, Args)]
pub(crate) struct PlotArgs {
    /// The results directory (written by run, sweep or merge): a run's, or a sweep's, whose
    /// charts show each headline metric against each swept key.
    pub(crate) run_dir: PathBuf,
    /// Also write each chart as PNG (twice its SVG size, text in the bundled DejaVu Sans).
    #[arg(long)]
    pub(crate) png: bool,
    /// Also write each chart as a one-page PDF (text embedded in the bundled DejaVu Sans).
    #[arg(long)]
    pub(crate) pdf: bool,
    /// Print nothing on success.
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SweepArgs {
    /// The scenario file (TOML).
    pub(crate) scenario: PathBuf,
    /// A scenario key by its dotted path and the values it takes, e.g.
    /// population.users=500,1000; repeat for a cartesian product.
    #[arg(long = "grid", value_name = "KEY=V1,V2,...", required = true)]
    pub(crate) grid: Vec<String>,
    /// Run only shard I of N of the (point, replicate) work units; see `merge`.
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<Shard>,
    /// Sweep directory [default: results/<scenario name>-sweep].
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Override any scenario key at every point, e.g. feed.days=2.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,
    /// Master seed at every point (overrides scenario.seed and --set, as `run --seed`).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Viewers at every point (overrides population.users and --set, as `run --users`).
    #[arg(long)]
    pub(crate) users: Option<u32>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    /// Also write users.csv in every point's directory.
    #[arg(long)]
    pub(crate) per_user: bool,
    /// Replace an existing sweep directory (one with a sweep.json; nothing else).
    #[arg(long)]
    pub(crate) force: bool,
    /// Remove what killed runs left beside the output directory (temporary directories, locks).
    #[arg(long)]
    pub(crate) remove_stale: bool,
    /// Run even when the estimated memory exceeds what the machine has available.
    #[arg(long)]
    pub(crate) ignore_memory_limit: bool,
    /// No progress bar and no summary on the terminal.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Write only the data files: no SVG charts and no report.html, in the points or in the
    /// sweep directory.
    #[arg(long)]
    pub(crate) no_plot: bool,
    #[command(flatten)]
    pub(crate) data: DataArgs,
}

#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The shard directories written by `run --shard`, `sweep --shard` or `sensitivity --shard`:
    /// all N of them.
    #[arg(required = true, value_name = "DIR")]
    pub(crate) parts: Vec<PathBuf>,
    /// The merged results directory.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Replace an existing results directory (one with a manifest.json; nothing else).
    #[arg(long)]
    pub(crate) force: bool,
    /// Remove what killed runs left beside the output directory (temporary directories, locks).
    #[arg(long)]
    pub(crate) remove_stale: bool,
    /// Print nothing on success.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Write only the data files: no SVG charts and no report.html.
    #[arg(long)]
    pub(crate) no_plot: bool,
    /// The merged CSV files' style [default: the parts'] (see `run --csv-style`).
    #[arg(long, value_enum, value_name = "STYLE")]
    pub(crate) csv_style: Option<CsvStyleArg>,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The scenario file (TOML).
    pub(crate) scenario: PathBuf,
    /// Override any scenario key by its dotted path, e.g. population.users=500.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,
    /// Count the log `run --log` would write in the memory estimate.
    #[arg(long, value_enum, value_name = "LOG")]
    pub(crate) log: Option<LogKind>,
}

/// A failure and the exit status it maps to.
pub(crate) enum Failure {
    /// Bad input: exit status 2.
    Input(String),
    /// Failure while running: exit status 1.
    Run(String),
}

/// Parses the arguments and runs the command; returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    claim::handle_signals();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::validate(args),
        Command::Plot(args) => plot::plot(args),
        Command::Explain(args) => explain::explain(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => merge::merge(args),
        Command::Calibrate(args) => calibrate::calibrate(args),
        Command::Sensitivity(args) => sensitivity::sensitivity(args),
    };
    match result {
        Ok(()) => 0,
        Err(Failure::Input(msg)) => {
            eprintln!("error: {}", cap_lines(&msg));
            2
        }
        Err(Failure::Run(msg)) => {
            eprintln!("error: {}", cap_lines(&msg));
            1
        }
    }
}

/// Longest line of an error message, in bytes; longer lines end in a count of what was cut.
const MAX_LINE: usize = 300;

/// `msg` with every line cut to [`MAX_LINE`] bytes: a message echoes what was given (a value,
/// the TOML line around it), which may be megabytes long.
fn cap_lines(msg: &str) -> String {
    let cap = |line: &str| {
        if line.len() <= MAX_LINE {
            return line.to_string();
        }
        let end = (0..=MAX_LINE)
            .rev()
            .find(|&i| line.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}... ({} more bytes)", &line[..end], line.len() - end)
    };
    msg.split('\n').map(cap).collect::<Vec<_>>().join("\n")
}

/// A progress bar with ETA on a terminal; hidden when quiet or when stderr is not a terminal.
/// Its message (a sweep's current point) follows the ETA.
pub(crate) fn progress_bar(units: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(units);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% ETA {eta} {msg}",
        )
        .expect("a valid template"),
    );
    bar
}
