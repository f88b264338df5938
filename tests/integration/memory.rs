//! The memory guard's estimate against the peak a run really reaches: the binary runs on the
//! shipped quick start (with and without the impression log, and with more viewers than the
//! pilot's) and on extreme shapes (one viewer for many steps, many items, many viewers), the
//! peak resident memory it reports is read from its summary, and both the estimate made
//! before the run (`rabbithole::memory::predict`, with the pilot's predicted steps) and the
//! estimate for the rows it wrote must be within 25 % of it.

use super::{Workspace, rabbithole};
use rabbithole::memory::{self, Outputs};
use std::path::Path;

/// Runs `rabbithole ARGS...`, which must succeed, and returns the peak resident memory it
/// reports (`memory: peak X MiB resident`, read by the run from the kernel's `VmHWM`), in
/// bytes. Not the child's `ru_maxrss`: Linux counts in it the parent's memory at the moment
/// it started the child, and this test process holds more than a small run.
fn peak_bytes(args: &[&str]) -> u64 {
    let output = rabbithole().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "rabbithole {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mib: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("memory: peak "))
        .and_then(|rest| rest.split(" MiB").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak in the run's summary:\n{stdout}"));
    (mib * (1 << 20) as f64) as u64
}

/// One run to measure: a scenario file with `--set` overrides and the output flags.
struct Shape {
    name: &'static str,
    file: &'static str,
    sets: &'static [&'static str],
    outputs: Outputs,
    /// `--log impressions`.
    log: bool,
    /// Every run lasts `feed.max_steps` steps (no viewer stops earlier).
    to_max_steps: bool,
}

/// What [`measure`] finds: the estimates and the peak, in bytes.
struct Measured {
    /// Before the run, from the scenario and the pilot's prediction.
    before: u64,
    /// For the rows the run wrote.
    written: u64,
    /// The bound: every run to `feed.max_steps`.
    bound: u64,
    peak: u64,
}

/// No charts, no `users.csv`.
const PLAIN: Outputs = Outputs {
    per_user: false,
    charts: false,
};

/// Charts, no `users.csv`.
const CHARTS: Outputs = Outputs {
    per_user: false,
    charts: true,
};

/// Predicts `shape`'s memory, runs it, and returns the estimates and the measured peak.
fn measure(ws: &Workspace, shape: &Shape) -> Measured {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(shape.file);
    let overrides: Vec<String> = shape.sets.iter().map(|s| s.to_string()).collect();
    let scenario = rabbithole::scenario::load(&file, &overrides).unwrap();
    let replicates = scenario.scenario.replicates;
    let before = memory::predict(&scenario, replicates, shape.outputs, shape.log);
    // The arms the run puts side by side on its two threads, as `run` decides it.
    let at_once = match shape.log {
        true => 1,
        false => memory::arms_at_once(&scenario, 2, before, memory::available()),
    };
    let before = before.with_arms_at_once(&scenario, at_once).total();
    let out = ws.path(shape.name);
    let mut args = vec![
        "run".to_string(),
        file.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--threads".into(),
        "2".into(),
    ];
    for set in shape.sets {
        args.extend(["--set".to_string(), set.to_string()]);
    }
    if !shape.outputs.charts {
        args.push("--no-plot".into());
    }
    if shape.outputs.per_user {
        args.push("--per-user".into());
    }
    if shape.log {
        args.extend(["--log".into(), "impressions".into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let peak = peak_bytes(&args);
    let text = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let rows = text.lines().count() as u64 - 1;
    let mut written = memory::estimate_for_rows(&scenario, replicates, shape.outputs, rows)
        .with_arms_at_once(&scenario, at_once);
    let mut bound =
        memory::estimate(&scenario, replicates, shape.outputs).with_arms_at_once(&scenario, at_once);
    if shape.log {
        let viewers = u64::from(scenario.population.users) + scenario.n_bots();
        let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        let impressions = manifest["viewer_steps"].as_u64().unwrap();
        written = written.with_impression_log(memory::LogSize { impressions, viewers });
        bound = bound.with_impression_log(memory::LogSize::of(&scenario, replicates));
    }
    Measured {
        before,
        written: written.total(),
        bound: bound.total(),
        peak,
    }
}

#[test]
fn the_estimate_is_within_a_quarter_of_the_measured_peak() {
    let ws = Workspace::empty();
    let shapes = [
        Shape {
            name: "quickstart-2000",
            file: "scenarios/quickstart.toml",
            sets: &["scenario.replicates=2"],
            outputs: CHARTS,
            log: false,
            to_max_steps: false,
        },
        Shape {
            name: "quickstart-log",
            file: "scenarios/quickstart.toml",
            sets: &["scenario.replicates=1"],
            outputs: PLAIN,
            log: true,
            to_max_steps: false,
        },
        Shape {
            name: "quickstart",
            file: "scenarios/quickstart.toml",
            sets: &["scenario.replicates=1", "population.users=300"],
            outputs: Outputs {
                per_user: true,
                charts: true,
            },
            log: false,
            to_max_steps: false,
        },
        Shape {
            name: "one-viewer-many-steps",
            file: "scenarios/quickstart.toml",
            sets: &[
                "scenario.replicates=1",
                "population.users=1",
                "feed.days=10000",
                "feed.max_steps=10000",
                "catalog.items=1",
                "catalog.arrivals_per_step=0",
            ],
            outputs: CHARTS,
            log: false,
            to_max_steps: true,
        },
        Shape {
            name: "many-items",
            file: "scenarios/quickstart.toml",
            sets: &[
                "scenario.replicates=1",
                "population.users=1000",
                "feed.max_steps=20",
                "catalog.items=500000",
                "catalog.arrivals_per_step=0",
            ],
            outputs: PLAIN,
            log: false,
            to_max_steps: true,
        },
        Shape {
            name: "many-viewers",
            file: "scenarios/quickstart.toml",
            sets: &[
                "scenario.replicates=1",
                "population.users=60000",
                "feed.max_steps=3",
                "catalog.items=1000",
                "catalog.arrivals_per_step=0",
            ],
            outputs: PLAIN,
            log: false,
            to_max_steps: true,
        },
        Shape {
            name: "minors",
            file: "scenarios/minors_sensitive.toml",
            sets: &["scenario.replicates=1", "population.users=300", "feed.minutes=30"],
            outputs: CHARTS,
            log: false,
            to_max_steps: false,
        },
        Shape {
            name: "ampliganda",
            file: "scenarios/ampliganda.toml",
            sets: &["scenario.replicates=1", "population.users=300", "feed.minutes=30"],
            outputs: PLAIN,
            log: false,
            to_max_steps: false,
        },
    ];
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let mut report = String::new();
    let mut bad = false;
    for shape in &shapes {
        let m = measure(&ws, shape);
        if shape.to_max_steps {
            // These runs last feed.max_steps steps: the bound is their estimate.
            assert_eq!(m.written, m.bound, "{}", shape.name);
        }
        let (before, written) = (m.before as f64 / m.peak as f64, m.written as f64 / m.peak as f64);
        report += &format!(
            "{}: before the run {:.1} MiB (ratio {before:.2}), for the rows written {:.1} MiB (ratio {written:.2}), bound {:.1} MiB, peak {:.1} MiB\n",
            shape.name,
            mib(m.before),
            mib(m.written),
            mib(m.bound),
            mib(m.peak)
        );
        bad |= !(0.75..=1.25).contains(&before) || !(0.75..=1.25).contains(&written);
    }
    eprint!("{report}");
    assert!(!bad, "{report}");
}

/// The longest warm-up the docs allow (a million minutes) would keep a pilot busy for days:
/// `validate` must not run it, but say at once that the pilot's budget of work rules it out
/// and that the bound applies (before the budget it hung).
#[test]
fn validate_with_the_longest_warm_up_answers_at_once() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let started = std::time::Instant::now();
    let out = rabbithole()
        .arg("validate")
        .arg(&file)
        .args(["--set", "population.warmup_minutes=1000000"])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("memory: no prediction (a pilot could take")
            && stdout.contains("a warm-up of up to 60000002 steps")
            && stdout.contains("the bound below applies")
            && stdout.contains("memory: at most about"),
        "{stdout}"
    );
    assert!(elapsed.as_secs_f64() < 3.0, "{elapsed:?}");
}
