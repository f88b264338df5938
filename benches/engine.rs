//! Engine benchmarks: viewer-steps per second for whole arms, and bytes of state per viewer.
//!
//! - `engine/quickstart/{engagement,random}`: one arm of `scenarios/quickstart.toml` as shipped
//!   (2,000 viewers, one day of use), replicate 0.
//! - `engine/100k_viewers/engagement`: the same settings with 100,000 viewers, each capped at
//!   5 minutes of use (`feed.minutes`).
//! - `engine/100k_viewers_50k_items/engagement`: the same with 50,000 items in the catalog at the
//!   start (the "default engine" of issue 8's speed target).
//! - `engine/100k_viewers_50k_items/collaborative`: `scenarios/learning_from_everyone.toml`'s
//!   `collaborative` arm (16 factors, item-level taste on) at the same size: 100,000 viewers
//!   capped at 5 minutes, 50,000 items at the start (issue 15's speed target).
//! - `engine/policies/{engagement,random,chronological,popularity,diversified,calibrated,blend}`:
//!   one arm per policy kind of `scenarios/dsa_alternatives.toml` as shipped (the quick start's
//!   2,000 viewers and day of use, its own seed), replicate 0: what each policy costs.
//!
//! Each iteration runs one arm from step 0 to the end ([`ArmRun::run`]); building the arm's
//! state ([`ArmRun::new`]) is set-up and is not timed, nor are the catalog and population,
//! which a replicate draws once for all its arms. Throughput is in viewer-steps (impressions),
//! counted by a run before the benchmark; every timed run is checked to do the same count,
//! since the engine is seeded and deterministic. Runs on rayon's global pool (all cores).
//!
//! Before the benchmarks, a memory report prints the layout's bytes per viewer
//! ([`ArmRun::bytes_per_viewer`]) and the resident-memory growth of a 100k-viewer arm.
//!
//! Outside `cargo bench` (`cargo test --all-targets` or `--benches`) nothing is timed: a tiny
//! arm is run once as a smoke check, so tests stay fast.

use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use rabbithole::catalog::Catalog;
use rabbithole::engine::ArmRun;
use rabbithole::population::Population;
use rabbithole::scenario::{self, Scenario};
use std::path::PathBuf;
use std::time::Duration;

/// The replicate every benchmark runs.
const REPLICATE: u32 = 0;
/// Overrides that turn the quick start into the 100k-viewer benchmark.
const BIG: &[&str] = &["population.users=100000", "feed.minutes=5"];
/// The default engine of issue 8's target: the 100k-viewer benchmark with a catalog of 50,000
/// items at the start.
const DEFAULT_ENGINE: &[&str] = &["population.users=100000", "feed.minutes=5", "catalog.items=50000"];
/// Overrides for the smoke check outside `cargo bench`.
const SMOKE: &[&str] = &["population.users=50", "feed.minutes=2"];
/// The arms of `scenarios/dsa_alternatives.toml` benchmarked: one per policy kind.
const POLICIES: &[&str] = &[
    "engagement",
    "random",
    "chronological",
    "popularity",
    "diversified",
    "calibrated",
    "blend",
];

/// `scenarios/<file>` with `overrides` (`KEY=VALUE`, as `--set` takes them).
fn load(file: &str, overrides: &[&str]) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load(&path, &overrides).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `scenarios/quickstart.toml` with `overrides`.
fn quickstart(overrides: &[&str]) -> Scenario {
    load("quickstart.toml", overrides)
}

/// `scenarios/dsa_alternatives.toml` with `overrides`.
fn alternatives(overrides: &[&str]) -> Scenario {
    load("dsa_alternatives.toml", overrides)
}

/// A scenario with the catalog and population of replicate 0, drawn once.
struct Bench {
    scenario: Scenario,
    catalog: Catalog,
    population: Population,
}

impl Bench {
    fn new(scenario: Scenario) -> Bench {
        let catalog = Catalog::generate(&scenario, REPLICATE);
        let population = Population::generate(&scenario, REPLICATE);
        Bench {
            scenario,
            catalog,
            population,
        }
    }

    fn users(&self) -> usize {
        self.population.people.len()
    }

    /// Viewers and length of use, for the log.
    fn describe(&self) -> String {
        let feed = &self.scenario.feed;
        let cap = match feed.minutes {
            Some(minutes) => format!(", at most {minutes} minutes"),
            None => String::new(),
        };
        format!(
            "{}: {} viewers, {} day(s){cap}",
            self.scenario.scenario.name,
            self.users(),
            feed.days
        )
    }

    /// The index of the arm called `name`.
    fn arm(&self, name: &str) -> usize {
        self.scenario
            .arms
            .iter()
            .position(|a| a.name == name)
            .unwrap_or_else(|| panic!("the scenario has no arm {name:?}"))
    }

    /// The policy kind of the arm called `name`.
    fn kind(&self, name: &str) -> &'static str {
        self.scenario.arms[self.arm(name)].policy.kind()
    }

    /// A fresh arm at step 0.
    fn arm_run(&self) -> ArmRun<'_> {
        ArmRun::new(&self.scenario, &self.catalog, &self.population, REPLICATE)
    }

    /// Runs the arm `name` once to the end; returns its viewer-steps.
    fn viewer_steps(&self, name: &str) -> u64 {
        self.arm_run().run(self.arm(name), &mut Vec::new(), &|_| {}, None)
    }

    /// Adds the benchmark of arm `name` to `group`.
    fn bench_arm(&self, group: &mut BenchmarkGroup<WallTime>, name: &str) {
        let idx = self.arm(name);
        let steps = self.viewer_steps(name);
        println!(
            "{name} ({}): {}, {steps} viewer-steps per iteration",
            self.kind(name),
            self.describe()
        );
        group.throughput(Throughput::Elements(steps));
        group.bench_function(name, |b| {
            b.iter_batched(
                || (self.arm_run(), Vec::new()),
                // `iter_batched` passes the input and the output through
                // `std::hint::black_box` and drops the output after the clock stops.
                |(mut run, mut rows)| {
                    let done = run.run(idx, &mut rows, &|_| {}, None);
                    assert_eq!(done, steps, "the engine is deterministic");
                    (run, rows)
                },
                BatchSize::PerIteration,
            )
        });
    }
}

/// Resident-set figures of this process, in bytes, from `/proc/self/status`.
#[derive(Debug, Clone, Copy)]
struct Rss {
    /// VmRSS: resident now.
    now: u64,
    /// VmHWM: the peak since start, or since the last reset.
    peak: u64,
}

impl Rss {
    /// None where `/proc` is missing (not Linux).
    fn read() -> Option<Rss> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(name))?;
            let kib: u64 = line[name.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(kib * 1024)
        };
        Some(Rss {
            now: field("VmRSS:")?,
            peak: field("VmHWM:")?,
        })
    }

    /// Resets VmHWM to the current VmRSS (Linux 4.0+); false if not allowed.
    fn reset_peak() -> bool {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }
}

/// Prints bytes of state per viewer: the layout's figure and the measured resident memory.
fn memory_report(quick: &Bench) {
    println!("memory: quickstart ({} viewers)", quick.users());
    println!(
        "  layout: {} bytes/viewer (ArmRun::bytes_per_viewer)",
        quick.arm_run().bytes_per_viewer()
    );

    let big = Bench::new(quickstart(BIG));
    let n = big.users() as f64;
    let idx = big.arm("engagement");
    let reset = Rss::reset_peak();
    let Some(before) = Rss::read() else {
        println!("memory: /proc/self/status unreadable, RSS not measured");
        return;
    };
    let mut run = big.arm_run();
    let built = Rss::read().expect("readable a moment ago");
    let layout = run.bytes_per_viewer();
    let steps = run.run(idx, &mut Vec::new(), &|_| {}, None);
    let ran = Rss::read().expect("readable a moment ago");
    let per_viewer = |bytes: u64| bytes as f64 / n;
    println!("memory: 100k viewers ({}, {steps} viewer-steps)", big.describe());
    println!("  layout: {layout} bytes/viewer (ArmRun::bytes_per_viewer)");
    println!(
        "  VmRSS growth after ArmRun::new: {:.0} bytes/viewer ({:.1} MiB)",
        per_viewer(built.now.saturating_sub(before.now)),
        built.now.saturating_sub(before.now) as f64 / 1048576.0
    );
    println!(
        "  VmRSS growth after the run: {:.0} bytes/viewer ({:.1} MiB)",
        per_viewer(ran.now.saturating_sub(before.now)),
        ran.now.saturating_sub(before.now) as f64 / 1048576.0
    );
    if reset {
        println!(
            "  peak (VmHWM) growth over build and run: {:.0} bytes/viewer ({:.1} MiB)",
            per_viewer(ran.peak.saturating_sub(before.now)),
            ran.peak.saturating_sub(before.now) as f64 / 1048576.0
        );
    } else {
        println!("  peak (VmHWM) not reset (clear_refs refused); peak growth not measured");
    }
    drop(run);
}

/// A group of whole-arm benchmarks: flat sampling (each sample is whole runs), `samples`
/// samples in about `seconds` seconds after 2 s of warm-up.
fn arm_group<'c>(
    c: &'c mut Criterion,
    name: &str,
    samples: usize,
    seconds: u64,
) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(samples)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(seconds));
    group
}

/// Outside `cargo bench`: one tiny arm of each benchmark, so the benchmarks' code paths
/// still run.
fn smoke() {
    let quick = Bench::new(quickstart(SMOKE));
    for name in ["engagement", "random"] {
        assert!(quick.viewer_steps(name) > 0, "{name} did no viewer-steps");
    }
    let policies = Bench::new(alternatives(SMOKE));
    for name in POLICIES {
        assert_eq!(policies.kind(name), *name, "arm {name} runs its own policy kind");
        assert!(policies.viewer_steps(name) > 0, "{name} did no viewer-steps");
    }
    let learning = Bench::new(load("learning_from_everyone.toml", SMOKE));
    for name in ["collaborative", "oracle"] {
        assert!(learning.viewer_steps(name) > 0, "{name} did no viewer-steps");
    }
    println!("engine benches: smoke check passed (timings run under `cargo bench` only)");
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not.
    if !std::env::args().any(|a| a == "--bench") {
        smoke();
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let quick = Bench::new(quickstart(&[]));
    // Also warms up rayon's pool and the per-thread scratch before any RSS is read.
    quick.viewer_steps("engagement");
    memory_report(&quick);

    let mut group = arm_group(&mut c, "engine/quickstart", 20, 10);
    quick.bench_arm(&mut group, "engagement");
    quick.bench_arm(&mut group, "random");
    group.finish();
    drop(quick);

    let policies = Bench::new(alternatives(&[]));
    let mut group = arm_group(&mut c, "engine/policies", 10, 8);
    for name in POLICIES {
        policies.bench_arm(&mut group, name);
    }
    group.finish();
    drop(policies);

    let big = Bench::new(quickstart(BIG));
    let mut group = arm_group(&mut c, "engine/100k_viewers", 10, 15);
    big.bench_arm(&mut group, "engagement");
    group.finish();
    drop(big);

    let default = Bench::new(quickstart(DEFAULT_ENGINE));
    let mut group = arm_group(&mut c, "engine/100k_viewers_50k_items", 10, 15);
    default.bench_arm(&mut group, "engagement");
    group.finish();
    drop(default);

    let learning = Bench::new(load("learning_from_everyone.toml", DEFAULT_ENGINE));
    let mut group = arm_group(&mut c, "engine/100k_viewers_50k_items", 10, 15);
    learning.bench_arm(&mut group, "collaborative");
    group.finish();

    c.final_summary();
}
