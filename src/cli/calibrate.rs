//! `calibrate`: fit a scenario's free parameters to the moments of a targets file
//! (`rabbithole::calibrate`) and write the calibration directory, whole or not at all, through
//! the same claim, lock and signal handling as `run`.

use super::run::{check_memory, thread_pool, write_dir};
use super::{Failure, progress_bar};
use clap::Args;
use rabbithole::calibrate::{self, Problem, Targets, report};
use rabbithole::memory;
use rabbithole::output;
use rabbithole::scenario::{self, Scenario};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

#[derive(Debug, Args)]
pub(crate) struct CalibrateArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The targets file (TOML): moments, free parameters, search settings (docs/calibration.md).
    #[arg(long)]
    targets: PathBuf,
    /// Calibration directory [default: results/<scenario name>-calibration].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The optimiser's seed (overrides calibration.seed; the simulations keep scenario.seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Most simulations (overrides calibration.max_evaluations).
    #[arg(long)]
    max_evaluations: Option<usize>,
    /// Override any scenario key at every evaluation, after the targets' calibration.set.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Hold a free parameter of the targets file at a value; the others are searched
    /// (repeatable). One run per value traces the objective's profile along that parameter.
    #[arg(long = "fix", value_name = "KEY=VALUE")]
    fix: Vec<String>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Replace an existing calibration directory (one with a manifest.json; nothing else).
    #[arg(long)]
    force: bool,
    /// Remove what killed runs left beside the output directory (temporary directories, locks).
    #[arg(long)]
    remove_stale: bool,
    /// No progress bar and no table on the terminal.
    #[arg(long)]
    quiet: bool,
    /// Calibrate even when the estimated memory exceeds what is available.
    #[arg(long)]
    ignore_memory_limit: bool,
}

/// `manifest.json` of a calibration directory: how it came about.
#[derive(Serialize)]
struct Manifest<'a> {
    program: &'static str,
    version: &'static str,
    git_commit: Option<&'static str>,
    scenario_file: String,
    targets_file: String,
    optimiser: &'static str,
    seed: u64,
    evaluations: usize,
    objective: f64,
    stopped: &'a [String],
    /// `--fix`: the free parameters held at a value, as overrides (`targets` lists the rest).
    fixed: &'a [String],
    /// Whether `stopped` includes a convergence criterion (tol_x, tol_fun), not only the budget.
    converged: bool,
    threads: usize,
    start_time: String,
    wall_seconds: f64,
    command_line: Vec<String>,
    files: Vec<&'static str>,
    targets: &'a Targets,
}

/// The arm each moment is compared with, in the targets' order: the moment's `arm`, else
/// `calibration.arm`, by name; else the scenario's first.
fn arm_indices(targets: &Targets, path: &Path, scenario: &Scenario) -> Result<Vec<usize>, Failure> {
    let find = |key: &str, name: &str| {
        scenario.arms.iter().position(|a| a.name == name).ok_or_else(|| {
            let names: Vec<&str> = scenario.arms.iter().map(|a| a.name.as_str()).collect();
            Failure::Input(format!(
                "{}: {key}: no arm {name:?} in the scenario; allowed: {}",
                path.display(),
                names.join(", ")
            ))
        })
    };
    let default = match &targets.calibration.arm {
        Some(name) => find("calibration.arm", name)?,
        None => 0,
    };
    let moment = |(i, m): (usize, &calibrate::targets::Moment)| match &m.arm {
        Some(name) => find(&format!("moment[{i}].arm"), name),
        None => Ok(default),
    };
    targets.moments.iter().enumerate().map(moment).collect()
}

/// Refuses a parameter whose range the scenario does not accept, at either end.
fn check_ranges(problem: &Problem<'_>, path: &Path) -> Result<(), Failure> {
    let params = &problem.targets.parameters;
    for end in [0.0, 1.0] {
        let values: Vec<f64> = params.iter().map(|p| p.at(end)).collect();
        if let Err(e) = problem.scenario(&values) {
            let which = params
                .iter()
                .position(|p| e.to_string().contains(&p.key))
                .map_or_else(|| "parameter".to_string(), |i| format!("parameter[{i}]"));
            return Err(Failure::Input(format!(
                "{}: {which}: the scenario refuses the range's {} end: {e}",
                path.display(),
                if end == 0.0 { "min" } else { "max" }
            )));
        }
    }
    Ok(())
}

/// The memory a calibration needs at its peak: a generation's simulations run side by side,
/// up to one per thread, each taken at the larger of `each`'s estimates of the scenario at
/// the low and at the high ends of every parameter's range (the keys that size a run grow
/// with their value). The calibration keeps only statistics, so no charts or CSV text.
fn calibration_estimate(
    problem: &Problem<'_>,
    threads: usize,
    each: &dyn Fn(&Scenario) -> memory::Estimate,
) -> memory::Estimate {
    let params = &problem.targets.parameters;
    let worst = [0.0, 1.0]
        .iter()
        .filter_map(|&end| {
            problem
                .scenario(&params.iter().map(|p| p.at(end)).collect::<Vec<_>>())
                .ok()
        })
        .map(|s| each(&s))
        .max_by_key(|e| e.total())
        .expect("check_ranges loaded the scenario at both ends");
    let n = threads as u64;
    memory::Estimate {
        process: worst.process,
        viewers: worst.viewers.saturating_mul(n),
        catalog: worst.catalog.saturating_mul(n),
        rows: worst.rows.saturating_mul(n),
        log: 0,
        arms_beside: 0,
    }
}

/// Refuses a calibration whose memory (`calibration_estimate`) exceeds what is available,
/// unless `ignore`, as `run` does.
fn check_calibration_memory(problem: &Problem<'_>, threads: usize, ignore: bool) -> Result<(), Failure> {
    let outputs = memory::Outputs::default();
    check_memory(
        calibration_estimate(problem, threads, &|s| {
            memory::estimate(s, s.scenario.replicates, outputs)
        }),
        |_| {
            calibration_estimate(problem, threads, &|s| {
                memory::predict(s, s.scenario.replicates, outputs, false)
            })
        },
        ignore,
    )?;
    Ok(())
}

/// Takes each `--fix KEY=VALUE` out of the targets' free parameters; returns the overrides
/// that hold them.
fn fix_parameters(targets: &mut Targets, args: &CalibrateArgs) -> Result<Vec<String>, Failure> {
    let refuse =
        |fix: &str, why: String| Failure::Input(format!("--fix {fix}: {why} ({})", args.targets.display()));
    args.fix
        .iter()
        .map(|fix| {
            let (key, value) = fix
                .split_once('=')
                .ok_or_else(|| refuse(fix, "expected KEY=VALUE".into()))?;
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| refuse(fix, format!("the value must be a number, got {value:?}")))?;
            targets.fix(key.trim(), value).map_err(|why| refuse(fix, why))
        })
        .collect()
}

/// The targets file, with `--max-evaluations` (at least 2) in place of its budget.
fn read_targets(args: &CalibrateArgs) -> Result<Targets, Failure> {
    let mut targets = calibrate::targets::parse(&args.targets).map_err(|e| Failure::Input(e.to_string()))?;
    if let Some(n) = args.max_evaluations {
        if n < 2 {
            return Err(Failure::Input(format!(
                "--max-evaluations must be at least 2, got {n}"
            )));
        }
        targets.calibration.max_evaluations = n;
    }
    Ok(targets)
}

pub(crate) fn calibrate(args: CalibrateArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let start_time = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let mut targets = read_targets(&args)?;
    let fixed = fix_parameters(&mut targets, &args)?;
    let text = std::fs::read_to_string(&args.scenario)
        .map_err(|e| Failure::Input(format!("cannot read {}: {e}", args.scenario.display())))?;
    let overrides: Vec<String> = (targets.calibration.set.iter())
        .chain(&args.set)
        .chain(&fixed)
        .cloned()
        .collect();
    let base =
        scenario::load_str(&text, &args.scenario, &overrides).map_err(|e| Failure::Input(e.to_string()))?;
    let arms = arm_indices(&targets, &args.targets, &base)?;
    let seed = args
        .seed
        .or(targets.calibration.seed)
        .unwrap_or(base.scenario.seed);
    let problem = Problem {
        scenario_text: &text,
        scenario_path: &args.scenario,
        overrides,
        targets: &targets,
        arms,
        seed,
    };
    check_ranges(&problem, &args.targets)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-calibration", base.scenario.name)));
    let (pool, threads) = thread_pool(args.threads)?;
    check_calibration_memory(&problem, threads, args.ignore_memory_limit)?;
    let claim = super::claim::Claim::take(&out, args.force, args.remove_stale)?;
    let bar = progress_bar(problem.budget() as u64, args.quiet);
    let cal = pool
        .install(|| problem.run(&|| bar.inc(1)))
        .map_err(|e| Failure::Run(format!("the calibrated scenario does not load: {e}")))?;
    bar.finish_and_clear();

    let fit_svg = report::fit_svg(&targets, &cal);
    let convergence_svg = report::convergence_svg(&cal);
    let html = report::report_html(
        &base.scenario.name,
        &targets,
        &cal,
        &fixed,
        &fit_svg,
        &convergence_svg,
    );
    let mut files: Vec<(&'static str, Vec<u8>)> = vec![
        ("scenario.toml", report::scenario_toml(&cal)),
        ("fit.csv", report::fit_csv(&targets, &cal)),
        ("parameters.csv", report::parameters_csv(&targets, &cal)),
        ("history.csv", report::history_csv(&targets, &cal)),
    ];
    let manifest = Manifest {
        program: "rabbithole",
        version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("RABBITHOLE_GIT_COMMIT").filter(|c| !c.is_empty()),
        scenario_file: args.scenario.display().to_string(),
        targets_file: args.targets.display().to_string(),
        optimiser: "CMA-ES (cmaes 0.2)",
        seed,
        evaluations: cal.history.last().map_or(0, |g| g.evaluations),
        objective: cal.best.objective,
        stopped: &cal.stopped,
        fixed: &fixed,
        converged: cal.converged,
        threads,
        start_time,
        wall_seconds: started.elapsed().as_secs_f64(),
        command_line: std::env::args().collect(),
        files: files.iter().map(|f| f.0).chain(["manifest.json"]).collect(),
        targets: &targets,
    };
    files.push(("manifest.json", output::json_file(&manifest)));
    files.extend([
        ("fit.svg", fit_svg),
        ("convergence.svg", convergence_svg),
        ("report.html", html),
    ]);
    write_dir(&claim, files, args.force)?;
    if !args.quiet {
        print_table(&targets, &cal);
        println!(
            "{} simulations in {:.1} s, objective {:.3}, {}; results in {}",
            manifest.evaluations,
            started.elapsed().as_secs_f64(),
            cal.best.objective,
            report::stop_text(&cal),
            out.display()
        );
    }
    Ok(())
}

/// The fit and the calibrated parameters, on the terminal.
fn print_table(targets: &Targets, cal: &calibrate::Calibration) {
    println!("{:<34} {:>10} {:>10} {:>8}", "target", "value", "simulated", "z");
    for (i, m) in targets.moments.iter().enumerate() {
        let s = cal.best.simulated[i];
        println!(
            "{:<34} {:>10.4} {:>10.4} {:>8.2}{}",
            Targets::name(m),
            m.value,
            s,
            (s - m.value) / m.uncertainty,
            if m.fit { "" } else { "  (not fitted)" }
        );
    }
    for (p, x) in targets.parameters.iter().zip(&cal.best.values) {
        println!("{} = {x:.4}", p.key);
    }
}
