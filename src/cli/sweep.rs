//! `sweep`: a scenario run at every point of a grid, each point a run directory under the
//! sweep directory, plus `sweep.csv` and `sweep.json`; `--shard` runs a share of the
//! (point, replicate) work units. Every point is loaded and validated before any runs, and
//! the sweep directory is written whole or not at all.

use super::run::{
    Provenance, Shorthand, charts, check_memory, check_sharding, cut_short, default_arms_note, restyled,
    run_dir_files, thread_pool, write_dir,
};
use super::{Failure, SweepArgs, progress_bar};
use indicatif::ProgressBar;
use rabbithole::engine::{self, RunOptions};
use rabbithole::memory;
use rabbithole::output::{self, count};
use rabbithole::scenario::{self, Scenario, ScenarioError};
use rabbithole::shard::ShardRecord;
use rabbithole::sweep::{self, Grid, PointRecord, SweepManifest, SweepShardRecord};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// A point that does not load, blamed on its `--grid` value where the value is the fault.
fn point_error(grid: &Grid, point: &[usize], error: ScenarioError) -> Failure {
    let overrides = grid.overrides(point);
    match error {
        ScenarioError::Override { arg, message, .. } if overrides.contains(&arg) => {
            let (key, value) = arg.split_once('=').expect("an override is KEY=VALUE");
            Failure::Input(format!("--grid {key}: value {value}: {message}"))
        }
        other => Failure::Input(format!("grid point {}: {other}", overrides.join(" "))),
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The sweep as planned, before anything runs: every point loaded and validated, and the
/// replicates of each point that this shard runs.
struct Plan {
    grid: Grid,
    /// The scenario with `--set` but no grid values, recorded in `sweep.json`.
    base: Scenario,
    points: Vec<Vec<usize>>,
    scenarios: Vec<Scenario>,
    /// Each point's directory name and grid values.
    records: Vec<PointRecord>,
    /// (point, replicate) units in the whole sweep, over every shard.
    n_units: u64,
    /// The replicates of each point this shard runs (all of them without `--shard`).
    mine: Vec<Vec<u32>>,
}

/// Parses the grid and loads every point; a bad point or a `--shard` with more shards than
/// units is refused here, before the sweep directory is touched.
fn plan(args: &SweepArgs) -> Result<Plan, Failure> {
    let grid = Grid::parse(&args.grid).map_err(|e| Failure::Input(e.to_string()))?;
    let shorthand = Shorthand {
        seed: args.seed,
        replicates: None,
        users: args.users,
    };
    // A flag and a grid axis on one key would each say what it is: refused.
    for key in shorthand.keys() {
        if grid.axes.iter().any(|a| a.key == key) {
            return Err(Failure::Input(format!(
                "--grid {key} and the flag for it (--seed or --users) both set {key}; give one"
            )));
        }
    }
    let mut base = scenario::load(&args.scenario, &args.set).map_err(|e| Failure::Input(e.to_string()))?;
    shorthand.apply(&mut base)?;
    let points = grid.points();
    let dirs = grid
        .dir_names(&points)
        .map_err(|e| Failure::Input(e.to_string()))?;
    // Every point is checked before anything runs.
    let scenarios = points
        .iter()
        .map(|point| {
            let overrides: Vec<String> = args.set.iter().cloned().chain(grid.overrides(point)).collect();
            let mut s =
                scenario::load(&args.scenario, &overrides).map_err(|e| point_error(&grid, point, e))?;
            shorthand.apply(&mut s)?;
            Ok(s)
        })
        .collect::<Result<Vec<Scenario>, Failure>>()?;
    let replicates: Vec<u32> = scenarios.iter().map(|s| s.scenario.replicates).collect();
    let n_units: u64 = replicates.iter().map(|&r| u64::from(r)).sum();
    if let Some(shard) = args.shard
        && u64::from(shard.count()) > n_units
    {
        return Err(Failure::Input(format!(
            "--shard {shard}: the sweep has {}, so it can be split into at most {}",
            count(n_units, "(point, replicate) unit"),
            count(n_units, "shard")
        )));
    }
    let mine = sweep::shard_replicates(&replicates, args.shard);
    let records: Vec<PointRecord> = points
        .iter()
        .zip(&dirs)
        .map(|(point, dir)| PointRecord {
            dir: dir.clone(),
            values: grid
                .values(point)
                .iter()
                .map(|v| sweep::display_value(v).to_string())
                .collect(),
        })
        .collect();
    Ok(Plan {
        grid,
        base,
        points,
        scenarios,
        records,
        n_units,
        mine,
    })
}

/// `--out`, or `results/<name>-sweep` with the shard in the name.
fn out_dir(args: &SweepArgs, base: &Scenario) -> PathBuf {
    args.out.clone().unwrap_or_else(|| {
        let mut name = format!("{}-sweep", base.scenario.name);
        if let Some(shard) = args.shard {
            name.push_str(&format!(".shard-{}-of-{}", shard.index(), shard.count()));
        }
        Path::new("results").join(name)
    })
}

/// What the points run so far leave for the sweep directory and the terminal.
#[derive(Default)]
struct Outputs<'a> {
    /// Every file of the sweep directory, with its path inside it.
    files: Vec<(String, Vec<u8>)>,
    /// Each point's `summary.csv`, for `sweep.csv`.
    summaries: Vec<(&'a PointRecord, Vec<u8>)>,
    warnings: Vec<String>,
    /// Each point's headline table, printed at the end.
    tables: String,
}

/// What every point runs with.
struct Runner<'a> {
    args: &'a SweepArgs,
    pool: &'a rayon::ThreadPool,
    threads: usize,
    bar: &'a ProgressBar,
    /// The sweep's memory estimate (the guard's) and the memory available, which size how
    /// many arms of a point run side by side.
    estimate: memory::Estimate,
    available: Option<u64>,
}

impl Runner<'_> {
    /// Runs the replicates `reps` of one point and files its run directory under `record.dir`.
    fn point<'a>(
        &self,
        scenario: &Scenario,
        record: &'a PointRecord,
        reps: &[u32],
        outputs: &mut Outputs<'a>,
    ) -> Result<(), Failure> {
        let args = self.args;
        self.bar.set_message(record.dir.clone());
        let point_started = Instant::now();
        let point_start_time = now();
        let options = RunOptions {
            per_user: args.per_user,
            log_impressions: false,
            replicates: args.shard.is_some().then(|| reps.to_vec()),
            plays: false,
            arms_at_once: memory::arms_at_once(scenario, self.threads, self.estimate, self.available),
        };
        let results = self
            .pool
            .install(|| engine::run(scenario, &options, &|n| self.bar.inc(n)));
        if let Some(warning) = cut_short(scenario, &results) {
            outputs.warnings.push(format!("{}: {warning}", record.dir));
        }
        outputs
            .tables
            .push_str(&format!("{}\n{}", record.dir, output::headline_table(&results)));
        let provenance = Provenance {
            scenario_file: args.scenario.clone(),
            threads: self.threads,
            start_time: point_start_time,
            wall_seconds: point_started.elapsed().as_secs_f64(),
            per_user: args.per_user,
            log: None,
            shard: args.shard.map(|shard| ShardRecord::new(shard, reps.to_vec())),
            data: args.data,
        };
        let mut point_files = run_dir_files(scenario, &results, provenance);
        if !args.no_plot {
            point_files.extend(charts(&point_files, &scenario.scenario.name)?);
        }
        for (name, bytes) in point_files {
            if name == "summary.csv" {
                outputs.summaries.push((record, bytes.clone()));
            }
            outputs.files.push((format!("{}/{name}", record.dir), bytes));
        }
        Ok(())
    }
}

pub(crate) fn sweep(args: SweepArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let start_time = now();
    check_sharding(args.data, args.shard.is_some())?;
    let plan = plan(&args)?;
    let out = out_dir(&args, &plan.base);
    // Points run one after another, but every point's files are kept until the end.
    let outputs = memory::Outputs {
        per_user: args.per_user,
        charts: !args.no_plot,
    };
    // The points' estimates as one: the largest viewers and catalog (one point runs at a
    // time), every point's rows; with `limit`, the points after the estimate exceeds it are
    // left out (they can only add), so a sweep too large is refused after one pilot.
    let whole = |each: &dyn Fn(&Scenario, u32) -> memory::Estimate, limit: u64| {
        let mut whole = memory::Estimate {
            process: 0,
            viewers: 0,
            catalog: 0,
            rows: 0,
            log: 0,
            arms_beside: 0,
        };
        for (s, reps) in plan.scenarios.iter().zip(&plan.mine) {
            let e = each(s, reps.len() as u32);
            whole.process = e.process;
            whole.viewers = whole.viewers.max(e.viewers);
            whole.catalog = whole.catalog.max(e.catalog);
            whole.rows = whole.rows.saturating_add(e.rows);
            if whole.total() > limit {
                break;
            }
        }
        whole
    };
    let estimate = check_memory(
        whole(&|s, reps| memory::estimate(s, reps, outputs), u64::MAX),
        |available| whole(&|s, reps| memory::predict(s, reps, outputs, false), available),
        args.ignore_memory_limit,
    )?;
    let claim = super::claim::Claim::take(&out, args.force, args.remove_stale)?;
    let (pool, threads) = thread_pool(args.threads)?;
    if !args.quiet
        && let Some(note) = default_arms_note(&args.scenario, &plan.base)
    {
        eprintln!("{note}");
    }

    let units: u64 = plan
        .scenarios
        .iter()
        .zip(&plan.mine)
        .map(|(s, r)| r.len() as u64 * s.arms.len() as u64 * engine::PROGRESS_UNITS)
        .sum();
    let bar = progress_bar(units, args.quiet);
    let runner = Runner {
        args: &args,
        pool: &pool,
        threads,
        bar: &bar,
        estimate,
        available: memory::available(),
    };
    let mut outputs = Outputs::default();
    for ((scenario, record), reps) in plan.scenarios.iter().zip(&plan.records).zip(&plan.mine) {
        if !reps.is_empty() {
            runner.point(scenario, record, reps, &mut outputs)?;
        }
    }
    bar.finish_and_clear();

    let n_points = outputs.summaries.len();
    let mut files = outputs.files;
    files.extend(sweep_files(
        &args,
        &plan,
        &outputs.summaries,
        threads,
        start_time,
        started,
    )?);
    write_dir(&claim, restyled(files, args.data), args.force)?;
    for warning in outputs.warnings {
        eprintln!("warning: {warning}");
    }
    if !args.quiet {
        print!("{}", outputs.tables);
        report(&args, &plan, n_points, started, &out);
    }
    Ok(())
}

/// `sweep.csv` (not for a shard) and `sweep.json`, which lists the files and point
/// directories written, and unless `--no-plot` the sweep's charts and `report.html`.
fn sweep_files(
    args: &SweepArgs,
    plan: &Plan,
    summaries: &[(&PointRecord, Vec<u8>)],
    threads: usize,
    start_time: String,
    started: Instant,
) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let mut files = Vec::new();
    let mut names = Vec::new();
    // A shard's summaries cover only its replicates: sweep.csv comes with the merge.
    if args.shard.is_none() {
        let table: Vec<(&PointRecord, &[u8])> = summaries.iter().map(|(p, b)| (*p, b.as_slice())).collect();
        let keys: Vec<String> = plan.grid.axes.iter().map(|a| a.key.clone()).collect();
        let csv = sweep::sweep_csv(&keys, &table).expect("summaries written by this run parse");
        files.push(("sweep.csv".to_string(), csv));
        names.push("sweep.csv".to_string());
    }
    names.push("sweep.json".to_string());
    names.extend(summaries.iter().map(|(p, _)| format!("{}/", p.dir)));
    let manifest = SweepManifest {
        program: "rabbithole",
        version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("RABBITHOLE_GIT_COMMIT").filter(|c| !c.is_empty()),
        scenario_file: args.scenario.display().to_string(),
        threads,
        start_time,
        wall_seconds: started.elapsed().as_secs_f64(),
        command_line: std::env::args().collect(),
        grid: plan.grid.axes.clone(),
        points: plan.records.clone(),
        shard: args.shard.map(|s| SweepShardRecord {
            index: s.index(),
            count: s.count(),
        }),
        files: names,
        csv_style: args.data.csv_style.into(),
        timeseries: args.data.timeseries.into(),
        scenario: plan.base.clone(),
    };
    let json = output::json_file(&manifest);
    // The sweep's own charts and report, as `run` draws a run's (not for a shard: they need
    // sweep.csv).
    if !args.no_plot
        && let Some((_, csv)) = files.iter().find(|(n, _)| n == "sweep.csv")
    {
        let charts = rabbithole::plot::render_sweep(csv, Some(&json), &plan.base.scenario.name)
            .map_err(|e| Failure::Run(format!("cannot draw the sweep's charts: {e}")))?;
        files.extend(charts);
    }
    files.push(("sweep.json".to_string(), json));
    Ok(files)
}

/// The closing line: points run, time taken, and for a shard its share of the units.
fn report(args: &SweepArgs, plan: &Plan, n_points: usize, started: Instant, out: &Path) {
    let of = match args.shard {
        Some(shard) => format!(
            " (shard {shard}: {} of {})",
            plan.mine.iter().map(Vec::len).sum::<usize>(),
            count(plan.n_units, "unit")
        ),
        None => String::new(),
    };
    println!(
        "{n_points} of {} in {:.1} s{of}; results in {}",
        count(plan.points.len() as u64, "point"),
        started.elapsed().as_secs_f64(),
        out.display()
    );
}
