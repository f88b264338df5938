//! The memory guard's estimate against the peak a run really reaches: the binary runs on the
//! shipped quick start and on extreme shapes (one viewer for many steps, many items, many
//! viewers), the peak resident memory it reports is read from its summary, and the estimate
//! (`rabbithole::memory`) must be within 25 % of it.

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
    /// Every run lasts `feed.max_steps` steps (no viewer stops earlier).
    to_max_steps: bool,
}

/// No charts, no `users.csv`.
const PLAIN: Outputs = Outputs {
    per_user: false,
    charts: false,
};

/// Runs `shape`, and returns the estimate for the rows it wrote, the bound the guard uses,
/// and the measured peak.
fn measure(ws: &Workspace, shape: &Shape) -> (u64, u64, u64) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(shape.file);
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
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let peak = peak_bytes(&args);
    let overrides: Vec<String> = shape.sets.iter().map(|s| s.to_string()).collect();
    let scenario = rabbithole::scenario::load(&file, &overrides).unwrap();
    let text = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let rows = text.lines().count() as u64 - 1;
    let replicates = scenario.scenario.replicates;
    let written = memory::estimate_for_rows(&scenario, replicates, shape.outputs, rows).total();
    let bound = memory::estimate(&scenario, replicates, shape.outputs).total();
    (written, bound, peak)
}

#[test]
fn the_estimate_is_within_a_quarter_of_the_measured_peak() {
    let ws = Workspace::empty();
    let shapes = [
        Shape {
            name: "quickstart",
            file: "scenarios/quickstart.toml",
            sets: &["scenario.replicates=1", "population.users=300"],
            outputs: Outputs {
                per_user: true,
                charts: true,
            },
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
            outputs: Outputs {
                per_user: false,
                charts: true,
            },
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
            to_max_steps: true,
        },
        Shape {
            name: "minors",
            file: "scenarios/minors_sensitive.toml",
            sets: &["scenario.replicates=1", "population.users=300", "feed.minutes=30"],
            outputs: Outputs {
                per_user: false,
                charts: true,
            },
            to_max_steps: false,
        },
        Shape {
            name: "ampliganda",
            file: "scenarios/ampliganda.toml",
            sets: &["scenario.replicates=1", "population.users=300", "feed.minutes=30"],
            outputs: PLAIN,
            to_max_steps: false,
        },
    ];
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let mut report = String::new();
    let mut bad = false;
    for shape in &shapes {
        let (written, bound, peak) = measure(&ws, shape);
        if shape.to_max_steps {
            // These runs last feed.max_steps steps: the guard's bound is their estimate.
            assert_eq!(written, bound, "{}", shape.name);
        }
        let ratio = written as f64 / peak as f64;
        report += &format!(
            "{}: estimate {:.1} MiB (bound {:.1}), peak {:.1} MiB, ratio {ratio:.2}\n",
            shape.name,
            mib(written),
            mib(bound),
            mib(peak)
        );
        bad |= !(0.75..=1.25).contains(&ratio);
    }
    eprint!("{report}");
    assert!(!bad, "{report}");
}
