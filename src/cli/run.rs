//! `run` and `validate`: load a scenario, run it, write its results directory.

use super::claim::Claim;
use super::{DataArgs, Failure, LogKind, RunArgs, progress_bar};
use indicatif::ProgressBar;
use rabbithole::engine::{self, Results, RunOptions};
use rabbithole::memory;
use rabbithole::metrics::Metric;
use rabbithole::output::{self, Manifest, TimeseriesForm, count};
use rabbithole::scenario::{self, Scenario};
use rabbithole::shard::{Shard, ShardRecord};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn load(path: &Path, overrides: &[String]) -> Result<Scenario, Failure> {
    scenario::load(path, overrides).map_err(|e| Failure::Input(e.to_string()))
}

/// Refuses a run whose estimated memory (`rabbithole::memory`) exceeds what is available,
/// unless `ignore`: better exit 2 at once than abort or be killed after minutes. The `bound`
/// (every run to `feed.max_steps`) is checked first, as it costs nothing; when it does not fit
/// but the run without its rows does, `predict` (a pilot of the scenario) decides; it is given
/// the memory available, and may stop once its estimate exceeds it. Returns the estimate
/// compared, or the bound where no memory figure is known.
pub(crate) fn check_memory(
    bound: memory::Estimate,
    predict: impl FnOnce(u64) -> memory::Estimate,
    ignore: bool,
) -> Result<memory::Estimate, Failure> {
    let Some(available) = memory::available() else {
        return Ok(bound);
    };
    if bound.total() <= available || ignore {
        return Ok(bound);
    }
    // However few steps the runs take, the viewers and catalog must fit: no pilot needed.
    let estimate = if bound.without_rows().total() > available {
        bound
    } else {
        predict(available)
    };
    if estimate.total() > available {
        return Err(Failure::Input(format!(
            "the run needs about {} of memory ({}), more than the {} available; make it smaller (population.users, catalog.items, feed.max_steps, replicates) or pass --ignore-memory-limit",
            memory::mib(estimate.total()),
            parts(&estimate),
            memory::mib(available)
        )));
    }
    Ok(estimate)
}

/// The parts of an estimate, for messages.
pub(crate) fn parts(e: &memory::Estimate) -> String {
    let log = match e.log {
        0 => String::new(),
        bytes => format!(", impression log {}", memory::mib(bytes)),
    };
    let beside = match e.arms_beside {
        0 => String::new(),
        bytes => format!(", arms side by side {}", memory::mib(bytes)),
    };
    format!(
        "process {}, viewers {}, catalog {}, result rows {}{log}{beside}",
        memory::mib(e.process),
        memory::mib(e.viewers),
        memory::mib(e.catalog),
        memory::mib(e.rows)
    )
}

/// The rayon pool of `--threads` (all cores by default) and its size.
pub(crate) fn thread_pool(threads: Option<usize>) -> Result<(rayon::ThreadPool, usize), Failure> {
    let threads = match threads {
        Some(0) => return Err(Failure::Input("--threads must be at least 1, got 0".into())),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Failure::Run(format!("cannot start {threads} threads: {e}")))?;
    Ok((pool, threads))
}

/// Writes `files` (name, bytes) as the claimed directory, whole or not at all.
pub(crate) fn write_dir<N: AsRef<str>>(
    claim: &Claim,
    files: Vec<(N, Vec<u8>)>,
    force: bool,
) -> Result<(), Failure> {
    let (names, bytes): (Vec<N>, Vec<Vec<u8>>) = files.into_iter().unzip();
    let files: Vec<(&str, Vec<u8>)> = names.iter().map(AsRef::as_ref).zip(bytes).collect();
    claim.write(&files, force)
}

/// The charts and report drawn from a run directory's files, by name.
pub(crate) fn charts(files: &[(&str, Vec<u8>)], name: &str) -> Result<Vec<(&'static str, Vec<u8>)>, Failure> {
    rabbithole::plot::render_files(files, name)
        .map_err(|e| Failure::Run(format!("cannot draw the charts: {e}")))
}

/// `files` with their CSV files in the style `data` asks for: the last step before writing,
/// after the charts are drawn from the standard files.
pub(crate) fn restyled<N: AsRef<str>>(mut files: Vec<(N, Vec<u8>)>, data: DataArgs) -> Vec<(N, Vec<u8>)> {
    output::restyle(&mut files, data.csv_style.into());
    files
}

/// Refuses `--timeseries mean` (or `mean-interval`) with `--shard`: `merge` regroups the rows of each replicate,
/// which the averaged form no longer has.
pub(crate) fn check_sharding(data: DataArgs, sharded: bool) -> Result<(), Failure> {
    if sharded && data.timeseries != super::TimeseriesArg::Replicates {
        return Err(Failure::Input(
            "--timeseries mean with --shard: merge needs each replicate's rows; shard with the default --timeseries replicates".into(),
        ));
    }
    Ok(())
}

/// How a run came about, for its manifest.
pub(crate) struct Provenance {
    pub(crate) scenario_file: PathBuf,
    pub(crate) threads: usize,
    pub(crate) start_time: String,
    pub(crate) wall_seconds: f64,
    pub(crate) per_user: bool,
    pub(crate) log: Option<LogKind>,
    pub(crate) shard: Option<ShardRecord>,
    pub(crate) data: DataArgs,
}

impl Provenance {
    /// The provenance of a `run`, from its flags; `replicates` are a shard's.
    fn of_run(
        args: &RunArgs,
        threads: usize,
        start_time: String,
        wall_seconds: f64,
        replicates: Option<Vec<u32>>,
    ) -> Provenance {
        Provenance {
            scenario_file: args.scenario.clone(),
            threads,
            start_time,
            wall_seconds,
            per_user: args.per_user,
            log: args.log,
            shard: args
                .shard
                .zip(replicates)
                .map(|(shard, replicates)| ShardRecord::new(shard, replicates)),
            data: args.data,
        }
    }
}

/// The bound on a run's memory (every run to `feed.max_steps`), with its impression log when
/// asked for.
pub(crate) fn estimate(
    scenario: &Scenario,
    replicates: u32,
    outputs: memory::Outputs,
    log: Option<LogKind>,
) -> memory::Estimate {
    let estimate = memory::estimate(scenario, replicates, outputs);
    match log {
        Some(LogKind::Impressions) => estimate.with_impression_log(memory::LogSize::of(scenario, replicates)),
        None => estimate,
    }
}

/// The impression log's file (`run --log impressions`), written as the run goes.
const IMPRESSIONS_FILE: &str = "impressions.parquet";

/// The files of a run directory, by name: the CSVs (in the standard style: [`restyled`] turns
/// them into the one asked for) and `manifest.json` (the impression log is written as the run
/// goes, so only the manifest names it).
pub(crate) fn run_dir_files(
    scenario: &Scenario,
    results: &Results,
    provenance: Provenance,
) -> Vec<(&'static str, Vec<u8>)> {
    let form = TimeseriesForm::from(provenance.data.timeseries);
    let timeseries = match form {
        TimeseriesForm::Replicates => output::timeseries_csv(results),
        TimeseriesForm::Mean => output::timeseries_mean_csv(results, false),
        TimeseriesForm::MeanInterval => output::timeseries_mean_csv(results, true),
    };
    let mut files = vec![
        ("timeseries.csv", timeseries),
        ("summary.csv", output::summary_csv(results)),
        (
            "comparison.csv",
            output::comparison_csv(results, scenario.baseline_index()),
        ),
    ];
    if provenance.per_user {
        files.push(("users.csv", output::users_csv(results)));
    }
    // Written as the run went (`Claim::create`); listed in the manifest in its place.
    let streamed = files.len();
    let log = provenance.log == Some(LogKind::Impressions);
    if !results.bot_rows.is_empty() {
        let bots = output::bots_csv(results);
        let summary = output::bot_summary_csv(scenario, &bots).expect("bots.csv as written reads back");
        files.push(("bots.csv", bots));
        files.push(("bot_summary.csv", summary));
    }
    // The manifest records the scenario as resolved: the baseline arm is named even when the
    // file left it to default to the first arm.
    let mut resolved = scenario.clone();
    let first_arm = resolved.arms[resolved.baseline_index()].name.clone();
    resolved.scenario.baseline.get_or_insert(first_arm);
    let mut names: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
    if log {
        names.insert(streamed, IMPRESSIONS_FILE.into());
    }
    names.push("manifest.json".into());
    let manifest = Manifest {
        program: "rabbithole",
        version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("RABBITHOLE_GIT_COMMIT").filter(|c| !c.is_empty()),
        scenario_file: provenance.scenario_file.display().to_string(),
        seed: scenario.scenario.seed,
        replicates: scenario.scenario.replicates,
        users: scenario.population.users,
        threads: provenance.threads,
        start_time: provenance.start_time,
        wall_seconds: provenance.wall_seconds,
        viewer_steps: results.viewer_steps,
        viewer_steps_per_second: results.viewer_steps as f64 / provenance.wall_seconds.max(1e-9),
        command_line: std::env::args().collect(),
        files: names,
        csv_style: provenance.data.csv_style.into(),
        timeseries: form,
        shard: provenance.shard,
        scenario: resolved,
    };
    files.push(("manifest.json", output::manifest_json(&manifest)));
    files
}

/// The note for a scenario file that writes no `[[arms]]`: that it runs the default arms,
/// and which (as `--set` left them). None when the file writes arms or cannot be read again.
pub(crate) fn default_arms_note(path: &Path, scenario: &Scenario) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    scenario::writes_no_arms(&text).then(|| {
        let arms: Vec<String> = scenario.arms.iter().map(|a| a.describe()).collect();
        format!(
            "note: {} has no [[arms]], so it runs the default arms ({}); write [[arms]] tables to choose (docs/scenarios.md)",
            path.display(),
            arms.join("; ")
        )
    })
}

/// A warning when `feed.max_steps` ended the run while viewers were still scrolling.
pub(crate) fn cut_short(scenario: &Scenario, results: &Results) -> Option<String> {
    let cut = results
        .finals
        .iter()
        .map(|r| r[Metric::Active])
        .fold(0.0, f64::max);
    (cut > 0.0).then(|| {
        format!(
            "feed.max_steps ({}) ended the run while up to {:.1} % of viewers were still scrolling; raise it to simulate their whole use",
            scenario.feed.max_steps,
            100.0 * cut
        )
    })
}

/// The shorthand flags of `run` and `sweep` for scenario keys.
pub(crate) struct Shorthand {
    /// `--seed`: scenario.seed.
    pub(crate) seed: Option<u64>,
    /// `--replicates`: scenario.replicates.
    pub(crate) replicates: Option<u32>,
    /// `--users`: population.users.
    pub(crate) users: Option<u32>,
}

impl Shorthand {
    /// Sets the keys of the flags given: they win over the file and `--set`, and are checked
    /// as themselves: a refusal names the flag of the key it breaks, or all the flags given.
    pub(crate) fn apply(&self, scenario: &mut Scenario) -> Result<(), Failure> {
        let mut flags: Vec<(&str, String)> = Vec::new();
        if let Some(seed) = self.seed {
            scenario.scenario.seed = seed;
            flags.push(("scenario.seed", format!("--seed {seed}")));
        }
        if let Some(r) = self.replicates {
            scenario.scenario.replicates = r;
            flags.push(("scenario.replicates", format!("--replicates {r}")));
        }
        if let Some(u) = self.users {
            scenario.population.users = u;
            flags.push(("population.users", format!("--users {u}")));
        }
        if let Err(invalid) = scenario.validate() {
            let named: Vec<&str> = match flags.iter().find(|(key, _)| *key == invalid.key) {
                Some((_, flag)) => vec![flag],
                None => flags.iter().map(|(_, flag)| flag.as_str()).collect(),
            };
            return Err(Failure::Input(format!("{}: {invalid}", named.join(" "))));
        }
        Ok(())
    }

    /// The scenario keys the flags given set.
    pub(crate) fn keys(&self) -> Vec<&'static str> {
        [
            (self.seed.is_some(), "scenario.seed"),
            (self.replicates.is_some(), "scenario.replicates"),
            (self.users.is_some(), "population.users"),
        ]
        .into_iter()
        .filter_map(|(given, key)| given.then_some(key))
        .collect()
    }
}

pub(crate) fn run(args: RunArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let start_time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let scenario = run_scenario(&args)?;
    let replicates = shard_replicates(args.shard, &scenario)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(args.shard, &scenario));
    let n_replicates = replicates
        .as_ref()
        .map_or(scenario.scenario.replicates, |r| r.len() as u32);
    check_sharding(args.data, args.shard.is_some())?;
    if args.log.is_some() && args.shard.is_some() {
        return Err(Failure::Input(
            "--log with --shard: merge does not combine impression logs; run without --shard".into(),
        ));
    }
    let outputs = memory::Outputs {
        per_user: args.per_user,
        charts: !args.no_plot,
    };
    let mut before = check_memory(
        estimate(&scenario, n_replicates, outputs, args.log),
        |_| memory::predict(&scenario, n_replicates, outputs, args.log.is_some()),
        args.ignore_memory_limit,
    )?;
    let mut claim = Claim::take(&out, args.force, args.remove_stale)?;
    let (pool, threads) = thread_pool(args.threads)?;
    // The impression log takes the arms in order.
    let arms_at_once = match args.log {
        Some(_) => 1,
        None => memory::arms_at_once(&scenario, threads, before, memory::available()),
    };
    before = before.with_arms_at_once(&scenario, arms_at_once);
    if !args.quiet
        && let Some(note) = default_arms_note(&args.scenario, &scenario)
    {
        eprintln!("{note}");
    }

    let units = u64::from(n_replicates) * scenario.arms.len() as u64 * engine::PROGRESS_UNITS;
    let bar = progress_bar(units, args.quiet);
    let options = RunOptions {
        per_user: args.per_user,
        log_impressions: args.log == Some(LogKind::Impressions),
        replicates: replicates.clone(),
        plays: false,
        arms_at_once,
    };
    let results = simulate(&scenario, &options, &pool, &bar, &mut claim)?;
    bar.finish_and_clear();

    let wall_seconds = started.elapsed().as_secs_f64();
    let provenance = Provenance::of_run(&args, threads, start_time, wall_seconds, replicates);
    let mut files = run_dir_files(&scenario, &results, provenance);
    // The charts and report are drawn from the files' bytes and written with them, so the
    // run directory appears complete; the manifest lists the data files only.
    if !args.no_plot {
        files.extend(charts(&files, &scenario.scenario.name)?);
    }
    write_dir(&claim, restyled(files, args.data), args.force)?;
    if let Some(warning) = cut_short(&scenario, &results) {
        eprintln!("warning: {warning}");
    }
    if !args.quiet {
        println!("{}", size_line(&scenario, &results, n_replicates, wall_seconds));
        print!("{}", output::headline_table(&results));
        if let Some(line) = memory_line(
            &scenario,
            &results,
            n_replicates,
            outputs,
            arms_at_once,
            args.log,
            before,
        ) {
            println!("{line}");
        }
        println!("results in {}", out.display());
    }
    Ok(())
}

/// The scenario `run` runs: the file with `--set`, then the shorthand flags.
fn run_scenario(args: &RunArgs) -> Result<Scenario, Failure> {
    let mut scenario = load(&args.scenario, &args.set)?;
    let shorthand = Shorthand {
        seed: args.seed,
        replicates: args.replicates,
        users: args.users,
    };
    shorthand.apply(&mut scenario)?;
    Ok(scenario)
}

/// The replicates `--shard` selects (`None` without it: all of them), or why the run cannot
/// be split that finely.
fn shard_replicates(shard: Option<Shard>, scenario: &Scenario) -> Result<Option<Vec<u32>>, Failure> {
    let Some(shard) = shard else {
        return Ok(None);
    };
    if shard.count() > scenario.scenario.replicates {
        return Err(Failure::Input(format!(
            "--shard {shard}: the run has {}, so it can be split into at most {}",
            count(scenario.scenario.replicates, "replicate"),
            count(scenario.scenario.replicates, "shard")
        )));
    }
    Ok(Some(shard.select(0..scenario.scenario.replicates)))
}

/// The results directory without `--out`: `results/NAME`, or `results/NAME.shard-I-of-N`
/// for a shard.
fn default_out(shard: Option<Shard>, scenario: &Scenario) -> PathBuf {
    let name = match shard {
        Some(shard) => format!(
            "{}.shard-{}-of-{}",
            scenario.scenario.name,
            shard.index(),
            shard.count()
        ),
        None => scenario.scenario.name.clone(),
    };
    Path::new("results").join(name)
}

/// Runs the scenario on the pool. With the impression log, the log is encoded into the
/// claimed directory's temporary directory as the run goes, so its memory is one batch and
/// one row group, whatever the run's length.
fn simulate(
    scenario: &Scenario,
    options: &RunOptions,
    pool: &rayon::ThreadPool,
    bar: &ProgressBar,
    claim: &mut Claim,
) -> Result<Results, Failure> {
    if !options.log_impressions {
        return Ok(pool.install(|| engine::run(scenario, options, &|n| bar.inc(n))));
    }
    let file = std::io::BufWriter::new(claim.create(IMPRESSIONS_FILE)?);
    let arms = scenario.arms.iter().map(|a| a.name.clone()).collect();
    let topics = scenario.catalog.topics.iter().map(|t| t.name.clone()).collect();
    let mut log = output::ImpressionWriter::new(file, arms, topics);
    let results = pool.install(|| engine::run_logged(scenario, options, &|n| bar.inc(n), &mut log));
    let cannot = |e: String| Failure::Run(format!("cannot write {IMPRESSIONS_FILE}: {e}"));
    let file = log.finish().map_err(|e| cannot(e.to_string()))?;
    file.into_inner().map_err(|e| cannot(e.to_string()))?;
    Ok(results)
}

/// The line a run prints first: its size and how long it took.
fn size_line(scenario: &Scenario, results: &Results, n_replicates: u32, wall_seconds: f64) -> String {
    format!(
        "{}: {} x {} x {}, {:.1} M viewer-steps in {:.1} s",
        scenario.scenario.name,
        count(scenario.arms.len() as u64, "arm"),
        count(n_replicates, "replicate"),
        count(scenario.population.users, "viewer"),
        results.viewer_steps as f64 / 1e6,
        wall_seconds
    )
}

/// The memory line, where the peak resident memory is known: the peak beside the estimate
/// for the rows this run wrote and the one the guard compared (`before`: the bound, or the
/// pilot's prediction when the bound did not fit), which is what to ask a cluster for next
/// time.
fn memory_line(
    scenario: &Scenario,
    results: &Results,
    n_replicates: u32,
    outputs: memory::Outputs,
    arms_at_once: usize,
    log: Option<LogKind>,
    before: memory::Estimate,
) -> Option<String> {
    let peak = memory::peak()?;
    let rows = results.timeseries.len() as u64;
    let mut written = memory::estimate_for_rows(scenario, n_replicates, outputs, rows)
        .with_arms_at_once(scenario, arms_at_once);
    if log.is_some() {
        let log = memory::LogSize {
            impressions: results.viewer_steps,
            viewers: u64::from(scenario.population.users) + scenario.n_bots(),
        };
        written = written.with_impression_log(log);
    }
    Some(format!(
        "memory: peak {} resident; estimated {} for the rows written ({} before the run)",
        memory::mib(peak),
        memory::mib(written.total()),
        memory::mib(before.total())
    ))
}
