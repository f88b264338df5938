//! A sensitivity study of the simulator: the plan (the parameters, the Morris design, the
//! parameters given Sobol indices and the Saltelli design, all derived from the seed), the
//! numbered evaluations it needs, and running one of them.
//!
//! Evaluation u (a *unit*, numbered as `--shard` splits them) is Morris point u for
//! u < r(k + 1), then the Saltelli points in order. A Saltelli point sets only the parameters
//! given Sobol indices; the others keep the scenario's value. Every evaluation runs with the
//! scenario's seed: common random numbers, so two evaluations differ only by their parameters,
//! and arm differences are paired within each.

use super::morris::{self, MorrisDesign};
use super::params::Parameters;
use super::sobol::{self, SaltelliDesign};
use crate::engine::{self, Cohort, Results, RunOptions, TimeRow};
use crate::metrics::Metric;
use crate::metrics::columns::{self, GROUP_METRICS};
use crate::rng::{self, Purpose};
use crate::scenario::{self, Scenario, ScenarioError};
use std::path::Path;

/// The metrics a study reports by default: those of the terminal's headline table.
pub const HEADLINE: [Metric; 5] = [
    Metric::WatchMinutes,
    Metric::FeedEntropy,
    Metric::InRabbitHole,
    Metric::RabbitHoleEver,
    Metric::InterestDrift,
];

/// A metric a study analyses, as read from a run's final rows: a scalar [`Metric`], or a
/// per-group metric of one creator group (`group_exposure_minority`), both named by their
/// column in `timeseries.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StudyMetric {
    Scalar(Metric),
    /// `GROUP_METRICS[def]` of the scenario's creator group number `group`.
    Group {
        def: usize,
        group: usize,
    },
}

impl StudyMetric {
    /// The metric whose column is `name` in a run of `scenario`; an error, naming what is
    /// allowed, when there is no such metric or the scenario has no such creator group.
    pub fn parse(scenario: &Scenario, name: &str) -> Result<Self, String> {
        let groups: Vec<&str> = scenario.catalog.groups.iter().map(|g| g.name.as_str()).collect();
        let Some((def, group)) = columns::find(name) else {
            let scalars = Metric::ALL.into_iter().map(Metric::name);
            let per_group = GROUP_METRICS.iter().map(|d| d.name);
            let all: Vec<&str> = scalars.chain(per_group).collect();
            return Err(format!(
                "unknown metric; allowed: {} (<g>: a creator group of the scenario: {})",
                all.join(", "),
                groups.join(", ")
            ));
        };
        if group.is_empty() {
            let m = Metric::ALL.into_iter().find(|m| m.def() == def);
            return Ok(StudyMetric::Scalar(m.expect("a scalar definition is a Metric's")));
        }
        let def = GROUP_METRICS
            .iter()
            .position(|d| d == def)
            .expect("a per-group definition is in GROUP_METRICS");
        match groups.iter().position(|&g| g == group) {
            Some(group) => Ok(StudyMetric::Group { def, group }),
            None => Err(format!(
                "the scenario has no creator group {group} (it has: {})",
                groups.join(", ")
            )),
        }
    }

    /// The metric's value in `row`.
    fn of(self, row: &TimeRow) -> f64 {
        match self {
            StudyMetric::Scalar(m) => row[m],
            StudyMetric::Group { def, group } => row.group_values()[def][group],
        }
    }
}

/// One output of an evaluation: a metric of one arm, or its difference from the baseline arm,
/// over one cohort of viewers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Output {
    pub metric: String,
    /// The arm, or `arm - baseline` for a difference; ` (COHORT)` after it unless the cohort
    /// is `all`, so that every file and sentence that names the comparison names the cohort.
    pub comparison: String,
    /// The arm's index, and the baseline's for a difference.
    pub arm: usize,
    pub baseline: Option<usize>,
    /// The cohort (`Cohort::name`) whose final value is taken. Not written when `all`, so the
    /// manifests of studies of every viewer read as before.
    #[serde(default = "all", skip_serializing_if = "is_all")]
    pub cohort: String,
}

fn all() -> String {
    Cohort::All.name().to_string()
}

fn is_all(cohort: &str) -> bool {
    cohort == Cohort::All.name()
}

impl Output {
    /// The column of `evaluations.csv` that holds this output.
    pub fn column(&self) -> String {
        format!("{}[{}]", self.metric, self.comparison)
    }
}

/// The outputs of `metrics` (checked by [`StudyMetric::parse`]) over `cohort` for a
/// scenario's arms: every arm's, then every other arm's difference from the baseline
/// (`scenario.baseline`, else the first arm).
pub fn outputs(scenario: &Scenario, metrics: &[&str], cohort: Cohort) -> Vec<Output> {
    let base = scenario.baseline_index();
    let names: Vec<&str> = scenario.arms.iter().map(|a| a.name.as_str()).collect();
    let of = if cohort == Cohort::All {
        String::new()
    } else {
        format!(" ({})", cohort.name())
    };
    let output = |m: &str, comparison: String, arm, baseline| Output {
        metric: m.to_string(),
        comparison: format!("{comparison}{of}"),
        arm,
        baseline,
        cohort: cohort.name().to_string(),
    };
    let mut out = Vec::new();
    for &m in metrics {
        for (a, name) in names.iter().enumerate() {
            out.push(output(m, name.to_string(), a, None));
        }
        for (a, name) in names.iter().enumerate().filter(|&(a, _)| a != base) {
            out.push(output(m, format!("{name} - {}", names[base]), a, Some(base)));
        }
    }
    out
}

/// What a study evaluates: everything `merge` needs to rebuild the designs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub parameters: Parameters,
    /// The seed of the designs and bootstraps (the scenario's).
    pub seed: u64,
    /// The parameters (indices into `parameters.ranges`) given Sobol indices, in order.
    pub sobol: Vec<usize>,
    pub outputs: Vec<Output>,
}

/// The designs of a plan, rebuilt from its seed.
pub struct Designs {
    pub morris: Option<MorrisDesign>,
    pub sobol: Option<SaltelliDesign>,
}

impl Plan {
    /// The Morris design (none with 0 trajectories).
    pub fn morris(&self) -> Option<MorrisDesign> {
        let s = &self.parameters.sensitivity;
        (s.trajectories > 0).then(|| {
            let mut r = rng::stream(self.seed, 0, 0, Purpose::Sensitivity, 0);
            morris::design(self.parameters.ranges.len(), s.levels, s.trajectories, &mut r)
        })
    }

    /// The Saltelli design over `self.sobol` (none with 0 samples or no parameters).
    pub fn saltelli(&self) -> Option<SaltelliDesign> {
        let n = self.parameters.sensitivity.samples;
        (n > 0 && !self.sobol.is_empty()).then(|| {
            let seed = rand::Rng::next_u32(&mut rng::stream(self.seed, 0, 0, Purpose::Sensitivity, 1));
            sobol::design(self.sobol.len(), n, seed)
        })
    }

    pub fn designs(&self) -> Designs {
        Designs {
            morris: self.morris(),
            sobol: self.saltelli(),
        }
    }
}

impl Designs {
    /// Every unit's point: per parameter, its place in the range, or None (the scenario's value).
    pub fn units(&self, plan: &Plan) -> Vec<Vec<Option<f64>>> {
        let k = plan.parameters.ranges.len();
        let mut units: Vec<Vec<Option<f64>>> = self
            .morris
            .iter()
            .flat_map(|d| d.points.iter().map(|p| p.iter().map(|&x| Some(x)).collect()))
            .collect();
        for p in self.sobol.iter().flat_map(|d| &d.points) {
            let mut u = vec![None; k];
            for (&i, &x) in plan.sobol.iter().zip(p) {
                u[i] = Some(x);
            }
            units.push(u);
        }
        units
    }

    /// How many evaluations the Morris design has.
    pub fn morris_len(&self) -> usize {
        self.morris.as_ref().map_or(0, |d| d.points.len())
    }
}

/// The simulator side of a study: the scenario, the overrides of every evaluation and the
/// outputs to compute.
pub struct Study<'a> {
    pub scenario_text: &'a str,
    pub scenario_path: &'a Path,
    /// `[sensitivity].set`, `--set` and `--users`, applied before the parameters.
    pub overrides: Vec<String>,
    pub plan: &'a Plan,
}

impl Study<'_> {
    /// The scenario at unit point `u`.
    pub fn scenario(&self, u: &[Option<f64>]) -> Result<Scenario, ScenarioError> {
        let sets = self
            .plan
            .parameters
            .ranges
            .iter()
            .zip(u)
            .filter_map(|(r, x)| x.map(|x| r.parameter().set(r.parameter().at(x))));
        let overrides: Vec<String> = self.overrides.iter().cloned().chain(sets).collect();
        scenario::load_str(self.scenario_text, self.scenario_path, &overrides)
    }

    /// The parameter values applied at `u` (NaN: the scenario's value).
    pub fn values(&self, u: &[Option<f64>]) -> Vec<f64> {
        let ranges = &self.plan.parameters.ranges;
        ranges
            .iter()
            .zip(u)
            .map(|(r, x)| x.map_or(f64::NAN, |x| r.parameter().at(x)))
            .collect()
    }

    /// Simulates unit point `u` and returns every output, in the plan's order; an error when
    /// the scenario does not load or lacks an output's cohort or creator group.
    pub fn evaluate(&self, u: &[Option<f64>]) -> Result<Vec<f64>, String> {
        let scenario = self.scenario(u).map_err(|e| e.to_string())?;
        let metrics = self
            .plan
            .outputs
            .iter()
            .map(|o| StudyMetric::parse(&scenario, &o.metric).map_err(|e| format!("{}: {e}", o.metric)))
            .collect::<Result<Vec<_>, _>>()?;
        let results = engine::run(&scenario, &RunOptions::default(), &|_| {});
        self.plan
            .outputs
            .iter()
            .zip(metrics)
            .map(|(o, m)| value(&results, o, m))
            .collect()
    }
}

/// An output from a run: the arm's mean over replicates of the metric's final value for the
/// output's cohort, or the difference of two such means (paired: the same random numbers).
fn value(results: &Results, output: &Output, metric: StudyMetric) -> Result<f64, String> {
    let rows = |arm: usize| {
        results
            .finals
            .iter()
            .filter(move |r| r.arm == arm && r.cohort.name() == output.cohort)
    };
    // A cohort is there only when the scenario has its viewers (minors beside adults, ...):
    // without a row every output would be NaN, so say which cohorts there are.
    if rows(output.arm).next().is_none() {
        let mut there: Vec<&str> = Vec::new();
        for r in &results.finals {
            if !there.contains(&r.cohort.name()) {
                there.push(r.cohort.name());
            }
        }
        return Err(format!(
            "the scenario has no cohort {} (it has: {})",
            output.cohort,
            there.join(", ")
        ));
    }
    let mean = |arm: usize| morris::mean(rows(arm).map(|r| metric.of(r)));
    Ok(match output.baseline {
        None => mean(output.arm),
        Some(b) => mean(output.arm) - mean(b),
    })
}
