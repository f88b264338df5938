//! `run` and `validate`: load a scenario, run it, write its results directory.

use super::{Failure, RunArgs, ValidateArgs, progress_bar};
use rabbithole::engine::{self, ArmRun, RunOptions};
use rabbithole::output::{self, Manifest};
use rabbithole::scenario::{self, Scenario};
use std::path::Path;
use std::time::Instant;

fn load(path: &Path, overrides: &[String]) -> Result<Scenario, Failure> {
    scenario::load(path, overrides).map_err(|e| Failure::Input(e.to_string()))
}

pub(crate) fn run(args: RunArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let start_time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let mut scenario = load(&args.scenario, &args.set)?;
    // The shorthand flags win over the file and --set, and are checked as themselves.
    let mut flags = Vec::new();
    if let Some(seed) = args.seed {
        scenario.scenario.seed = seed;
    }
    if let Some(r) = args.replicates {
        scenario.scenario.replicates = r;
        flags.push(format!("--replicates {r}"));
    }
    if let Some(u) = args.users {
        scenario.population.users = u;
        flags.push(format!("--users {u}"));
    }
    if let Err(invalid) = scenario.validate() {
        return Err(Failure::Input(format!("{}: {invalid}", flags.join(" "))));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&scenario.scenario.name));
    if out.exists() && !out.is_dir() {
        return Err(Failure::Input(format!(
            "{} exists and is not a results directory; choose another --out",
            out.display()
        )));
    }
    if out.exists() && !args.force {
        return Err(Failure::Input(format!(
            "{} exists; pass --force to replace it",
            out.display()
        )));
    }
    let threads = match args.threads {
        Some(0) => return Err(Failure::Input("--threads must be at least 1, got 0".into())),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Failure::Run(format!("cannot start {threads} threads: {e}")))?;

    let units = u64::from(scenario.scenario.replicates) * scenario.arms.len() as u64 * engine::PROGRESS_UNITS;
    let bar = progress_bar(units, args.quiet);
    let options = RunOptions {
        per_user: args.per_user,
    };
    let results = pool.install(|| engine::run(&scenario, &options, &|n| bar.inc(n)));
    bar.finish_and_clear();

    let wall_seconds = started.elapsed().as_secs_f64();
    let mut files = vec![
        ("timeseries.csv", output::timeseries_csv(&results)),
        ("summary.csv", output::summary_csv(&results)),
    ];
    if args.per_user {
        files.push(("users.csv", output::users_csv(&results)));
    }
    // The manifest records the scenario as resolved: the baseline arm is named even when the
    // file left it to default to the first arm.
    let mut resolved = scenario.clone();
    let first_arm = resolved.arms[resolved.baseline_index()].name.clone();
    resolved.scenario.baseline.get_or_insert(first_arm);
    let mut names: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
    names.push("manifest.json".into());
    let manifest = Manifest {
        program: "rabbithole",
        version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("RABBITHOLE_GIT_COMMIT").filter(|c| !c.is_empty()),
        scenario_file: args.scenario.display().to_string(),
        seed: scenario.scenario.seed,
        replicates: scenario.scenario.replicates,
        users: scenario.population.users,
        threads,
        start_time,
        wall_seconds,
        viewer_steps: results.viewer_steps,
        viewer_steps_per_second: results.viewer_steps as f64 / wall_seconds.max(1e-9),
        command_line: std::env::args().collect(),
        files: names,
        scenario: resolved,
    };
    files.push(("manifest.json", output::manifest_json(&manifest)));
    // The charts and report are drawn from the files' bytes and written with them, so the
    // run directory appears complete; the manifest lists the data files only.
    if !args.no_plot {
        let charts = rabbithole::plot::render_files(&files, &scenario.scenario.name)
            .map_err(|e| Failure::Run(format!("cannot draw the charts: {e}")))?;
        files.extend(charts);
    }
    output::write_run_dir(&out, &files, args.force).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::Input(e.to_string())
        } else {
            Failure::Run(format!("cannot write {}: {e}", out.display()))
        }
    })?;
    let cut = results.finals.iter().map(|r| r.active).fold(0.0, f64::max);
    if cut > 0.0 {
        eprintln!(
            "warning: feed.max_steps ({}) ended the run while up to {:.1} % of viewers were still scrolling; raise it to simulate their whole use",
            scenario.feed.max_steps,
            100.0 * cut
        );
    }
    if !args.quiet {
        println!(
            "{}: {} arms x {} replicates x {} viewers, {:.1} M viewer-steps in {:.1} s",
            scenario.scenario.name,
            scenario.arms.len(),
            scenario.scenario.replicates,
            scenario.population.users,
            results.viewer_steps as f64 / 1e6,
            wall_seconds
        );
        print!("{}", output::headline_table(&results));
        println!("results in {}", out.display());
    }
    Ok(())
}

pub(crate) fn validate(args: ValidateArgs) -> Result<(), Failure> {
    let scenario = load(&args.scenario, &args.set)?;
    // One viewer suffices to size the per-viewer state; the catalog is the run's own.
    let one = Scenario {
        population: scenario::PopulationConfig {
            users: 1,
            ..scenario.population.clone()
        },
        ..scenario.clone()
    };
    let catalog = rabbithole::catalog::Catalog::generate(&one, 0);
    let population = rabbithole::population::Population::generate(&one, 0);
    let per_viewer = ArmRun::new(&one, &catalog, &population, 0).bytes_per_viewer();
    let users = u64::from(scenario.population.users);
    let items = catalog.items.len() as u64;
    // Per item: the catalog entry plus the platform's statistics (impressions, watched, likes,
    // trend, completion) and sorting buffers.
    let per_item = std::mem::size_of::<rabbithole::catalog::Item>() as u64 + 4 + 8 + 4 + 4 + 4 + 4 + 4 + 4;
    let bytes = users * per_viewer as u64 + items * per_item;
    println!(
        "{}: valid. {} arms, {} replicates, {} viewers, {} topics, {} items at the start ({} with arrivals), {} day(s) of use each",
        args.scenario.display(),
        scenario.arms.len(),
        scenario.scenario.replicates,
        users,
        scenario.n_topics(),
        scenario.catalog.items,
        items,
        scenario.feed.days
    );
    println!(
        "memory: about {:.1} MiB while an arm runs ({} bytes per viewer, {} per item)",
        bytes as f64 / (1024.0 * 1024.0),
        per_viewer,
        per_item
    );
    Ok(())
}
