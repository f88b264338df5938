//! The search: the method of simulated moments with CMA-ES (the `cmaes` crate). A parameter
//! vector is a point of the unit cube, each coordinate mapped onto its parameter's range; a
//! point outside the cube is evaluated at its projection and pays a penalty, so the search
//! stays inside the ranges. Each generation's vectors are simulated in parallel (rayon), every
//! one with the scenario's seed: common random numbers, so two vectors differ only by their
//! parameters, and the whole search is a function of the seeds.

use super::stats::Statistic;
use super::targets::Targets;
use crate::engine::{self, Results, RunOptions};
use crate::scenario::{self, Scenario, ScenarioError};
use cmaes::{CMAESOptions, DVector, TerminationReason};
use std::path::Path;

/// The objective of a vector whose scenario does not load or whose statistic has no value:
/// finite (the optimiser stops at a NaN) and worse than any fit.
const FAILED: f64 = 1e12;

/// The weight of the squared distance of a point outside the unit cube.
const OUTSIDE: f64 = 1e4;

/// What the search fits: the scenario, the fixed overrides and the targets.
pub struct Problem<'a> {
    pub scenario_text: &'a str,
    pub scenario_path: &'a Path,
    /// `--set` and the targets' `calibration.set`, applied before the parameters.
    pub overrides: Vec<String>,
    pub targets: &'a Targets,
    /// For each moment, in the targets' order, the arm its statistic is computed from.
    pub arms: Vec<usize>,
    /// The optimiser's seed.
    pub seed: u64,
}

/// One simulated parameter vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Each parameter's value, in the targets' order.
    pub values: Vec<f64>,
    /// Each moment's simulated statistic, in the targets' order (NaN: none).
    pub simulated: Vec<f64>,
    /// Σ over the fitted moments of the squared standardised error.
    pub objective: f64,
}

/// One generation of the search, for the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub generation: usize,
    /// Simulations so far.
    pub evaluations: usize,
    /// The step size σ (in units of the parameters' ranges).
    pub sigma: f64,
    /// The best objective of this generation and of the search so far.
    pub best: f64,
    pub overall: f64,
    /// The parameter values of the best vector so far.
    pub values: Vec<f64>,
}

/// A finished search.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The best vector, simulated again (with the same seed, so the same numbers).
    pub best: Evaluation,
    /// The scenario at the best vector, every key resolved.
    pub scenario: Scenario,
    pub history: Vec<Generation>,
    /// Why the search stopped (the optimiser's termination reasons).
    pub stopped: Vec<String>,
    /// Whether it stopped on a convergence criterion (`calibration.tol_x` or `tol_fun`), not
    /// at its budget or on a numerical degeneracy.
    pub converged: bool,
}

/// Whether `reasons` include a test of convergence: the spread of the search (`TolX`) or the
/// history of its best objective (`TolFunHist`, `TolFun`). The budget (`MaxFunctionEvals`)
/// and the crate's guards against numerical trouble (a degenerate covariance, a step with no
/// effect) say the search ended, not that it arrived.
pub fn converged(reasons: &[TerminationReason]) -> bool {
    use TerminationReason::{TolFun, TolFunHist, TolX};
    reasons.iter().any(|r| matches!(r, TolX | TolFunHist | TolFun))
}

impl Problem<'_> {
    /// The overrides of the vector `values`.
    fn overrides(&self, values: &[f64]) -> Vec<String> {
        let params = self.targets.parameters.iter().zip(values).map(|(p, &x)| p.set(x));
        self.overrides.iter().cloned().chain(params).collect()
    }

    /// The scenario at `values`.
    pub fn scenario(&self, values: &[f64]) -> Result<Scenario, ScenarioError> {
        scenario::load_str(self.scenario_text, self.scenario_path, &self.overrides(values))
    }

    /// Runs the scenario at `values` with what the statistics need.
    pub fn simulate(&self, scenario: &Scenario) -> Results {
        let options = RunOptions {
            per_user: true,
            replicates: None,
            plays: true,
            log_impressions: false,
            // The evaluations of a generation already run side by side.
            arms_at_once: 1,
        };
        engine::run(scenario, &options, &|_| {})
    }

    /// Each moment's statistic from `results`.
    pub fn statistics(&self, results: &Results) -> Vec<f64> {
        let stat = |name: &str| Statistic::from_name(name).expect("checked when the targets were parsed");
        self.targets
            .moments
            .iter()
            .zip(&self.arms)
            .map(|(m, &arm)| stat(&m.statistic).compute(results, arm))
            .collect()
    }

    /// The objective of simulated statistics: Σ z² over the fitted moments.
    pub fn objective(&self, simulated: &[f64]) -> f64 {
        self.targets
            .moments
            .iter()
            .zip(simulated)
            .filter(|(m, _)| m.fit)
            .map(|(m, &s)| {
                let z = (s - m.value) / m.uncertainty;
                if z.is_finite() { z * z } else { FAILED }
            })
            .sum()
    }

    /// Simulates the vector `values` (a scenario that does not load has the objective
    /// [`FAILED`] and no statistics).
    pub fn evaluate(&self, values: &[f64]) -> Evaluation {
        let Ok(scenario) = self.scenario(values) else {
            return Evaluation {
                values: values.to_vec(),
                simulated: vec![f64::NAN; self.targets.moments.len()],
                objective: FAILED,
            };
        };
        let simulated = self.statistics(&self.simulate(&scenario));
        let objective = self.objective(&simulated).min(FAILED);
        Evaluation {
            values: values.to_vec(),
            simulated,
            objective,
        }
    }

    /// The parameter values at point `u` of the unit cube.
    fn values(&self, u: &DVector<f64>) -> Vec<f64> {
        self.targets
            .parameters
            .iter()
            .zip(u.iter())
            .map(|(p, &x)| p.at(x))
            .collect()
    }

    /// Searches for the best vector; `tick` is called once per simulation. Runs on the current
    /// rayon pool. An error only when the scenario does not load at the best vector.
    pub fn run(&self, tick: &(dyn Fn() + Sync)) -> Result<Calibration, ScenarioError> {
        let settings = &self.targets.calibration;
        let start: Vec<f64> = self
            .targets
            .parameters
            .iter()
            .map(|p| p.start.map_or(0.5, |s| p.unit(s)))
            .collect();
        let objective = |u: &DVector<f64>| {
            let outside: f64 = u.iter().map(|&x| (x - x.clamp(0.0, 1.0)).powi(2)).sum();
            let e = self.evaluate(&self.values(u));
            tick();
            e.objective + OUTSIDE * outside
        };
        let mut options = CMAESOptions::new(start, settings.step)
            .max_function_evals(settings.max_evaluations)
            .tol_x(settings.tol_x)
            .tol_fun_hist(settings.tol_fun)
            .tol_fun(settings.tol_fun)
            .seed(self.seed);
        if let Some(lambda) = settings.population {
            options = options.population_size(lambda);
        }
        let mut search = options
            .build(objective)
            .expect("the options are checked when parsed");
        let mut history = Vec::new();
        let stopped = loop {
            let done = search.next_parallel();
            let (Some(current), Some(overall)) =
                (search.current_best_individual(), search.overall_best_individual())
            else {
                break done.map(|d| d.reasons).unwrap_or_default();
            };
            history.push(Generation {
                generation: search.generation(),
                evaluations: search.function_evals(),
                sigma: search.sigma(),
                best: current.value,
                overall: overall.value,
                values: self.values(&overall.point),
            });
            if let Some(done) = done {
                break done.reasons;
            }
        };
        let best_values = history
            .last()
            .map(|g| g.values.clone())
            .unwrap_or_else(|| self.values(&DVector::from_element(self.targets.parameters.len(), 0.5)));
        let scenario = self.scenario(&best_values)?;
        let best = Evaluation {
            simulated: self.statistics(&self.simulate(&scenario)),
            objective: 0.0,
            values: best_values,
        };
        let best = Evaluation {
            objective: self.objective(&best.simulated),
            ..best
        };
        Ok(Calibration {
            best,
            scenario,
            history,
            stopped: stopped.iter().map(|r| format!("{r:?}")).collect(),
            converged: converged(&stopped),
        })
    }

    /// The number of simulations the search runs at most: `max_evaluations` rounded up to
    /// whole generations (the optimiser checks its budget after each).
    pub fn budget(&self) -> usize {
        let n = self.targets.parameters.len() as f64;
        let lambda = self
            .targets
            .calibration
            .population
            .unwrap_or(4 + (3.0 * n.ln()).floor() as usize);
        self.targets.calibration.max_evaluations.div_ceil(lambda) * lambda
    }
}
