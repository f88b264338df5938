//! `sensitivity`: Morris screening and Sobol indices of a scenario's headline metrics over the
//! ranges of a parameters file (`rabbithole::sensitivity`), written whole or not at all through
//! the same claim, lock and signal handling as `run`; `--shard I/N` runs a share of the
//! evaluations and `merge` (here, [`merge`]) puts the shards together.

use super::claim::Claim;
use super::run::{thread_pool, write_dir};
use super::{Failure, MergeArgs, progress_bar};
use clap::Args;
use rabbithole::engine::Cohort;
use rabbithole::output;
use rabbithole::scenario::{self, Scenario};
use rabbithole::sensitivity::{self, Plan, Row, Study, StudyMetric, analysis, params, report, study};
use rabbithole::shard::Shard;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

#[derive(Debug, Args)]
pub(crate) struct SensitivityArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The parameters file (TOML): ranges with sources, and budgets (docs/sensitivity.md).
    #[arg(long, default_value = "sensitivity/viewer_assumptions.toml")]
    ranges: PathBuf,
    /// The parameters given Sobol indices, by key [default: the top of the screening].
    #[arg(long, value_delimiter = ',', value_name = "KEY,...")]
    parameters: Vec<String>,
    /// A metric to analyse (repeat) [default: watch_minutes, feed_entropy, in_rabbit_hole,
    /// rabbit_hole_ever, interest_drift].
    #[arg(long = "metric", value_name = "NAME")]
    metrics: Vec<String>,
    /// The cohort whose metrics are analysed (e.g. minors) [default: all].
    #[arg(long, default_value = "all", value_name = "NAME")]
    cohort: String,
    /// Morris trajectories (overrides sensitivity.trajectories; 0: no screening).
    #[arg(long)]
    trajectories: Option<usize>,
    /// Saltelli base samples (overrides sensitivity.samples; 0: no Sobol indices).
    #[arg(long)]
    samples: Option<usize>,
    /// Parameters given Sobol indices from the screening (overrides sensitivity.top).
    #[arg(long)]
    top: Option<usize>,
    /// Bootstrap resamples (overrides sensitivity.bootstrap).
    #[arg(long)]
    bootstrap: Option<usize>,
    /// Viewers in every evaluation (sets population.users).
    #[arg(long)]
    users: Option<u32>,
    /// Override any scenario key at every evaluation, after the file's sensitivity.set.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run only shard I of N of the evaluations (needs --parameters or 0 samples); see `merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Output directory [default: results/<scenario name>-sensitivity].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Replace an existing results directory (one with a manifest.json; nothing else).
    #[arg(long)]
    force: bool,
    /// Remove what killed runs left beside the output directory (temporary directories, locks).
    #[arg(long)]
    remove_stale: bool,
    /// No progress bar and no summary on the terminal.
    #[arg(long)]
    quiet: bool,
}

/// `manifest.json` of a sensitivity directory or shard.
#[derive(Serialize, Deserialize)]
struct Manifest {
    program: String,
    kind: String,
    version: String,
    git_commit: Option<String>,
    scenario_file: String,
    parameters_file: String,
    /// The scenario as every evaluation starts from it (before the parameters), resolved.
    scenario: serde_json::Value,
    plan: Plan,
    evaluations: usize,
    /// For a shard: (index, count); the units it ran are its evaluations.csv's.
    shard: Option<(u32, u32)>,
    /// For a merge: each part's directory, shard, command line and wall time.
    parts: Vec<serde_json::Value>,
    threads: usize,
    start_time: String,
    wall_seconds: f64,
    command_line: Vec<String>,
    files: Vec<String>,
}

const KIND: &str = "sensitivity";

fn input(path: &Path, key: &str, message: impl std::fmt::Display) -> Failure {
    Failure::Input(format!("{}: {key}: {message}", path.display()))
}

/// The parameters file with the command line's budgets, checked.
fn parameters(args: &SensitivityArgs) -> Result<params::Parameters, Failure> {
    let mut p = params::parse(&args.ranges).map_err(|e| Failure::Input(e.to_string()))?;
    let s = &mut p.sensitivity;
    s.trajectories = args.trajectories.unwrap_or(s.trajectories);
    s.samples = args.samples.unwrap_or(s.samples);
    s.top = args.top.unwrap_or(s.top);
    s.bootstrap = args.bootstrap.unwrap_or(s.bootstrap);
    p.check().map_err(|(key, m)| {
        input(
            &args.ranges,
            &key,
            format!("{m} (from the file or the command line)"),
        )
    })?;
    if p.sensitivity.trajectories == 0 && p.sensitivity.samples == 0 {
        return Err(input(
            &args.ranges,
            "sensitivity",
            "--trajectories and --samples are both 0: nothing to do",
        ));
    }
    Ok(p)
}

/// The metrics asked for (the headline ones by default), each a metric a study of `scenario`
/// can analyse: an unknown name, or a creator group the scenario lacks, is refused, naming
/// what is allowed.
fn metrics<'a>(names: &'a [String], scenario: &Scenario) -> Result<Vec<&'a str>, Failure> {
    if names.is_empty() {
        return Ok(study::HEADLINE.iter().map(|m| m.name()).collect());
    }
    names
        .iter()
        .map(|n| {
            StudyMetric::parse(scenario, n)
                .map(|_| n.as_str())
                .map_err(|e| Failure::Input(format!("--metric {n}: {e}")))
        })
        .collect()
}

/// The cohort asked for, or the unknown name and what is allowed.
fn cohort(name: &str) -> Result<Cohort, Failure> {
    Cohort::ALL.into_iter().find(|c| c.name() == name).ok_or_else(|| {
        let all: Vec<&str> = Cohort::ALL.iter().map(|c| c.name()).collect();
        Failure::Input(format!(
            "--cohort {name}: unknown cohort; allowed: {}",
            all.join(", ")
        ))
    })
}

/// Refuses a parameter whose key or range the scenario does not accept, at either end.
fn check_ranges(study: &Study<'_>, path: &Path) -> Result<(), Failure> {
    let k = study.plan.parameters.ranges.len();
    for (i, r) in study.plan.parameters.ranges.iter().enumerate() {
        for (end, u) in [("min", 0.0), ("max", 1.0)] {
            let mut point = vec![None; k];
            point[i] = Some(u);
            if let Err(e) = study.scenario(&point) {
                return Err(input(
                    path,
                    &format!("parameter[{i}]"),
                    format!("{}: the scenario refuses the range's {end} end: {e}", r.key),
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn sensitivity(args: SensitivityArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let start_time = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let Prepared {
        text,
        overrides,
        base,
        mut plan,
    } = prepare(&args)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let mut name = format!("{}-sensitivity", base.scenario.name);
        if let Some(s) = args.shard {
            name.push_str(&format!(".shard-{}-of-{}", s.index(), s.count()));
        }
        Path::new("results").join(name)
    });
    let claim = Claim::take(&out, args.force, args.remove_stale)?;
    let (pool, threads) = thread_pool(args.threads)?;
    let evaluations = Evaluations::of(&plan);
    let total = evaluations.total;
    if let Some(shard) = args.shard
        && shard.count() as usize > total
    {
        return Err(Failure::Input(format!(
            "--shard {shard}: the study has {total} evaluations, so it can be split into at most {total} shards"
        )));
    }
    let bar = progress_bar(total as u64, args.quiet);
    let tick = || bar.inc(1);
    let source = Source {
        text: &text,
        path: &args.scenario,
        overrides: &overrides,
    };
    let rows = pool.install(|| evaluate(&mut plan, source, args.shard, evaluations, &tick))?;
    bar.finish_and_clear();
    let mut files = if args.shard.is_some() {
        let designs = plan.designs();
        vec![(
            "evaluations.csv".to_string(),
            analysis::evaluations_csv(&plan, designs.morris_len(), &rows),
        )]
    } else {
        study_files(&plan, &rows, &base.scenario.name)
    };
    let manifest = Manifest {
        program: "rabbithole".into(),
        kind: KIND.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: option_env!("RABBITHOLE_GIT_COMMIT")
            .filter(|c| !c.is_empty())
            .map(String::from),
        scenario_file: args.scenario.display().to_string(),
        parameters_file: args.ranges.display().to_string(),
        scenario: serde_json::to_value(&base).expect("a scenario serialises"),
        plan,
        evaluations: rows.len(),
        shard: args.shard.map(|s| (s.index(), s.count())),
        parts: Vec::new(),
        threads,
        start_time,
        wall_seconds: started.elapsed().as_secs_f64(),
        command_line: std::env::args().collect(),
        files: files
            .iter()
            .map(|f| f.0.clone())
            .chain(["manifest.json".to_string()])
            .collect(),
    };
    files.push(("manifest.json".into(), output::json_file(&manifest)));
    write_dir(&claim, files, args.force)?;
    if !args.quiet {
        let of = args
            .shard
            .map_or(String::new(), |s| format!(" (shard {s} of {total} evaluations)"));
        println!(
            "{} evaluations{of} in {:.1} s; results in {}",
            rows.len(),
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(())
}

/// A study ready to run: the scenario's text and the overrides every evaluation applies
/// before the parameters, the scenario they give, and the plan.
struct Prepared {
    text: String,
    overrides: Vec<String>,
    base: Scenario,
    plan: Plan,
}

/// Reads the parameters file and the scenario and makes the plan, refusing a plan the
/// command line or the scenario cannot carry out.
fn prepare(args: &SensitivityArgs) -> Result<Prepared, Failure> {
    let parameters = parameters(args)?;
    let text = std::fs::read_to_string(&args.scenario)
        .map_err(|e| Failure::Input(format!("cannot read {}: {e}", args.scenario.display())))?;
    let mut overrides: Vec<String> = parameters
        .sensitivity
        .set
        .iter()
        .chain(&args.set)
        .cloned()
        .collect();
    overrides.extend(args.users.map(|u| format!("population.users={u}")));
    let base =
        scenario::load_str(&text, &args.scenario, &overrides).map_err(|e| Failure::Input(e.to_string()))?;
    let sobol = if args.parameters.is_empty() {
        Vec::new()
    } else {
        parameters
            .indices(&args.parameters)
            .map_err(|m| Failure::Input(format!("--parameters: {m}")))?
    };
    if args.shard.is_some() && sobol.is_empty() && parameters.sensitivity.samples > 0 {
        return Err(Failure::Input(
            "--shard: the Sobol parameters must be known before the evaluations are split: give them with --parameters (e.g. the top of a screening run with --samples 0), or pass --samples 0".into(),
        ));
    }
    let plan = Plan {
        parameters,
        seed: base.scenario.seed,
        sobol,
        outputs: study::outputs(&base, &metrics(&args.metrics, &base)?, cohort(&args.cohort)?),
    };
    check_ranges(
        &Study {
            scenario_text: &text,
            scenario_path: &args.scenario,
            overrides: overrides.clone(),
            plan: &plan,
        },
        &args.ranges,
    )?;
    Ok(Prepared {
        text,
        overrides,
        base,
        plan,
    })
}

/// How many evaluations a study makes: the Morris ones (units `0..morris_len`), then the
/// Sobol ones (up to `total`).
#[derive(Clone, Copy)]
struct Evaluations {
    morris_len: usize,
    total: usize,
}

impl Evaluations {
    /// From the plan's budgets; without Sobol parameters given, the screening picks `top`.
    fn of(plan: &Plan) -> Evaluations {
        let s = &plan.parameters.sensitivity;
        let k = plan.parameters.ranges.len();
        let sobol_len = if plan.sobol.is_empty() {
            s.top.min(k)
        } else {
            plan.sobol.len()
        };
        let morris_len = if s.trajectories > 0 {
            s.trajectories * (k + 1)
        } else {
            0
        };
        let total = morris_len
            + if s.samples > 0 {
                s.samples * (sobol_len + 2)
            } else {
                0
            };
        Evaluations { morris_len, total }
    }
}

/// What every evaluation starts from: the scenario file's text and path, and the overrides.
#[derive(Clone, Copy)]
struct Source<'a> {
    text: &'a str,
    path: &'a Path,
    overrides: &'a [String],
}

/// Runs a shard's evaluations, or all of them: the Morris ones, then (the Sobol parameters
/// picked from the screening when none were given) the Sobol ones.
fn evaluate(
    plan: &mut Plan,
    source: Source<'_>,
    shard: Option<Shard>,
    evaluations: Evaluations,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<Row>, Failure> {
    let Evaluations { morris_len, total } = evaluations;
    let s = plan.parameters.sensitivity.clone();
    let k = plan.parameters.ranges.len();
    let run = |plan: &Plan, units: &[usize]| {
        let study = Study {
            scenario_text: source.text,
            scenario_path: source.path,
            overrides: source.overrides.to_vec(),
            plan,
        };
        let points = plan.designs().units(plan);
        sensitivity::evaluate(&study, &points, units, tick).map_err(Failure::Run)
    };
    if let Some(shard) = shard {
        return run(plan, &shard.select(0..total));
    }
    let mut rows = run(plan, &(0..morris_len).collect::<Vec<_>>())?;
    if s.samples > 0 && plan.sobol.is_empty() {
        let designs = plan.designs();
        let y = sensitivity::outputs_by_unit(&rows, morris_len).expect("every Morris unit ran");
        plan.sobol = analysis::screened(&analysis::analyse(plan, &designs, &y).morris, k, s.top);
    }
    rows.extend(run(plan, &(morris_len..total).collect::<Vec<_>>())?);
    Ok(rows)
}

/// The files of a whole study (all but the manifest), from every evaluation. Computed from
/// `evaluations.csv` as written, so a merge of shards gives the same bytes.
fn study_files(plan: &Plan, rows: &[Row], name: &str) -> Vec<(String, Vec<u8>)> {
    let designs = plan.designs();
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|r| r.0);
    let csv = analysis::evaluations_csv(plan, designs.morris_len(), &sorted);
    let read = analysis::parse_evaluations(plan, &csv).expect("evaluations.csv reads back");
    let points = designs.units(plan);
    let y = sensitivity::outputs_by_unit(&read, points.len()).expect("every unit ran once");
    let result = analysis::analyse(plan, &designs, &y);
    let ev = report::Evaluated {
        plan,
        points: &points,
        y: &y,
    };
    let charts = report::tornado_files(&ev, name);
    let html = report::report_html(&ev, &result, name, &charts);
    let mut files = vec![
        ("evaluations.csv".to_string(), csv),
        ("morris.csv".to_string(), analysis::morris_csv(plan, &result)),
        ("sobol.csv".to_string(), analysis::sobol_csv(plan, &result)),
    ];
    files.extend(charts);
    files.push(("report.html".into(), html));
    files
}

/// True if `dir` is a shard of `sensitivity` (its manifest says so).
pub(crate) fn is_part(dir: &Path) -> bool {
    read_manifest(dir).is_ok_and(|m| m.kind == KIND)
}

fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join("manifest.json");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: not a sensitivity manifest: {e}", path.display()))
}

/// `merge` of sensitivity shards: checks that they make one whole, then writes what the
/// unsharded command writes.
pub(crate) fn merge(args: MergeArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let bad = |m: String| Failure::Input(format!("merge: {m}\nnothing was written"));
    let mut parts = Vec::new();
    for dir in &args.parts {
        let m = read_manifest(dir).map_err(bad)?;
        let path = dir.join("evaluations.csv");
        let bytes = std::fs::read(&path).map_err(|e| bad(format!("{}: cannot read: {e}", path.display())))?;
        let rows = analysis::parse_evaluations(&m.plan, &bytes)
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        parts.push((dir, m, rows));
    }
    let (_, first, _) = &parts[0];
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for (dir, m, _) in &parts {
        let name = dir.display();
        let Some((i, n)) = m.shard else {
            problems.push(format!("{name} is not a shard (its manifest records none)"));
            continue;
        };
        if (m.version.as_str(), &m.git_commit, &m.scenario, &m.plan)
            != (
                first.version.as_str(),
                &first.git_commit,
                &first.scenario,
                &first.plan,
            )
        {
            problems.push(format!(
                "{name}: another program, scenario or plan than {}",
                parts[0].0.display()
            ));
        }
        if seen.contains(&(i, n)) {
            problems.push(format!("shard {i}/{n} is given more than once"));
        }
        seen.push((i, n));
    }
    let count = first.shard.map_or(0, |s| s.1);
    for i in 1..=count {
        if !seen.contains(&(i, count)) {
            problems.push(format!("shard {i}/{count} is missing"));
        }
    }
    let plan = &first.plan;
    let rows: Vec<Row> = parts.iter().flat_map(|p| p.2.iter().cloned()).collect();
    let total = plan.designs().units(plan).len();
    if problems.is_empty() && sensitivity::outputs_by_unit(&rows, total).is_none() {
        problems.push(format!(
            "the parts do not hold each of the {total} evaluations exactly once"
        ));
    }
    if !problems.is_empty() {
        return Err(bad(format!(
            "the parts do not make one whole:\n  {}",
            problems.join("\n  ")
        )));
    }
    let claim = Claim::take(&args.out, args.force, args.remove_stale)?;
    let name = first.scenario["scenario"]["name"]
        .as_str()
        .unwrap_or("scenario")
        .to_string();
    let mut files = study_files(plan, &rows, &name);
    let manifest = Manifest {
        parts: parts
            .iter()
            .map(|(dir, m, _)| serde_json::json!({"dir": dir.display().to_string(), "shard": m.shard, "command_line": m.command_line, "start_time": m.start_time, "wall_seconds": m.wall_seconds}))
            .collect(),
        shard: None,
        evaluations: rows.len(),
        start_time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        wall_seconds: started.elapsed().as_secs_f64(),
        command_line: std::env::args().collect(),
        files: files.iter().map(|f| f.0.clone()).chain(["manifest.json".to_string()]).collect(),
        ..read_manifest(parts[0].0).map_err(bad)?
    };
    files.push(("manifest.json".into(), output::json_file(&manifest)));
    write_dir(&claim, files, args.force)?;
    if !args.quiet {
        println!("merged {} parts into {}", args.parts.len(), args.out.display());
    }
    Ok(())
}
