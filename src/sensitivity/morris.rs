//! Morris elementary-effects screening (Morris 1991), summarised by μ* (the mean absolute
//! effect, Campolongo, Cariboni and Saltelli 2007), μ and σ, with a bootstrap interval on μ*.
//!
//! Generic over the model: the design is a list of points of the unit cube and the analysis
//! takes one output per point, so the same code screens the simulator and a test function.
//! A trajectory starts at a point of the p-level grid {0, 1/(p−1), …, 1} and moves one factor
//! at a time, in a random order, by ±Δ with Δ = p / (2(p − 1)) (up when the level allows it,
//! else down), so every level is equally likely and each trajectory of k factors costs k + 1
//! evaluations and gives one elementary effect per factor.

use crate::rng::Rng;
use rand::RngExt;
use rand::seq::SliceRandom;

/// The Morris design: `trajectories` runs of `factors + 1` points each, point by point.
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisDesign {
    pub factors: usize,
    pub levels: usize,
    pub trajectories: usize,
    /// Every point, trajectory by trajectory (`trajectories × (factors + 1)` of them).
    pub points: Vec<Vec<f64>>,
    /// For each trajectory, the factor moved at each of its `factors` steps.
    pub order: Vec<Vec<usize>>,
}

/// One factor's screening measures for one output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MorrisIndex {
    /// μ* = mean |EE|: how much the factor moves the output, whatever the direction.
    pub mu_star: f64,
    /// The bootstrap 95 % percentile interval of μ* (over trajectories).
    pub mu_star_lo: f64,
    pub mu_star_hi: f64,
    /// μ = mean EE: a μ well below μ* means effects of both signs.
    pub mu: f64,
    /// σ = standard deviation of EE: interactions or non-linearity.
    pub sigma: f64,
}

/// The step Δ of a `levels`-level grid.
pub fn delta(levels: usize) -> f64 {
    levels as f64 / (2.0 * (levels as f64 - 1.0))
}

/// A design of `trajectories` trajectories for `factors` factors on a `levels`-level grid
/// (`levels` even, at least 2), drawn from `rng`.
pub fn design(factors: usize, levels: usize, trajectories: usize, rng: &mut Rng) -> MorrisDesign {
    let d = delta(levels);
    let top = (levels - 1) as f64;
    let mut points = Vec::with_capacity(trajectories * (factors + 1));
    let mut order = Vec::with_capacity(trajectories);
    for _ in 0..trajectories {
        let mut x: Vec<f64> = (0..factors)
            .map(|_| rng.random_range(0..levels) as f64 / top)
            .collect();
        let mut perm: Vec<usize> = (0..factors).collect();
        perm.shuffle(rng);
        points.push(x.clone());
        for &i in &perm {
            // Up when the grid allows it, else down: keeps every level equally likely.
            x[i] = if x[i] + d <= 1.0 + 1e-9 {
                x[i] + d
            } else {
                x[i] - d
            };
            x[i] = (x[i] * top).round() / top;
            points.push(x.clone());
        }
        order.push(perm);
    }
    MorrisDesign {
        factors,
        levels,
        trajectories,
        points,
        order,
    }
}

impl MorrisDesign {
    /// The elementary effects of each factor, one per trajectory, from one output per point:
    /// EE = (y after − y before) / (x after − x before).
    pub fn effects(&self, y: &[f64]) -> Vec<Vec<f64>> {
        assert_eq!(y.len(), self.points.len(), "one output per design point");
        let mut ee = vec![Vec::with_capacity(self.trajectories); self.factors];
        let n = self.factors + 1;
        for (t, perm) in self.order.iter().enumerate() {
            for (s, &i) in perm.iter().enumerate() {
                let (a, b) = (t * n + s, t * n + s + 1);
                let dx = self.points[b][i] - self.points[a][i];
                ee[i].push((y[b] - y[a]) / dx);
            }
        }
        ee
    }

    /// Each factor's μ*, μ, σ and the bootstrap interval of μ* (`resamples` resamples of the
    /// trajectories drawn from `rng`; the same resamples for every factor).
    pub fn analyse(&self, y: &[f64], resamples: usize, rng: &mut Rng) -> Vec<MorrisIndex> {
        let ee = self.effects(y);
        let r = self.trajectories;
        let draws: Vec<Vec<usize>> = (0..resamples)
            .map(|_| (0..r).map(|_| rng.random_range(0..r)).collect())
            .collect();
        ee.iter()
            .map(|e| {
                let mu_star = mean(e.iter().map(|v| v.abs()));
                let mu = mean(e.iter().copied());
                let sigma = if r > 1 {
                    (e.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (r - 1) as f64).sqrt()
                } else {
                    f64::NAN
                };
                let boot: Vec<f64> = draws
                    .iter()
                    .map(|d| mean(d.iter().map(|&j| e[j].abs())))
                    .collect();
                let (mu_star_lo, mu_star_hi) = percentile_interval(boot);
                MorrisIndex {
                    mu_star,
                    mu_star_lo,
                    mu_star_hi,
                    mu,
                    sigma,
                }
            })
            .collect()
    }
}

/// The mean of `values` (NaN when empty or when one is NaN).
pub fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// The 2.5 % and 97.5 % percentiles of bootstrap estimates (NaN when there are none or when
/// one is NaN).
pub fn percentile_interval(mut values: Vec<f64>) -> (f64, f64) {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| crate::metrics::quantile_sorted(&values, q).unwrap_or(f64::NAN);
    (at(0.025), at(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn trajectories_move_one_factor_by_delta_on_the_grid() {
        let mut rng = stream(1, 0, 0, Purpose::Sensitivity, 0);
        let d = design(3, 4, 5, &mut rng);
        assert_eq!(d.points.len(), 20);
        for (t, perm) in d.order.iter().enumerate() {
            let mut sorted = perm.clone();
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2]);
            for (s, &i) in perm.iter().enumerate() {
                let (a, b) = (&d.points[t * 4 + s], &d.points[t * 4 + s + 1]);
                assert!(((b[i] - a[i]).abs() - 2.0 / 3.0).abs() < 1e-12);
                for j in (0..3).filter(|&j| j != i) {
                    assert_eq!(a[j], b[j]);
                }
                assert!(b.iter().all(|&x| (0.0..=1.0).contains(&x)));
            }
        }
    }

    #[test]
    fn a_linear_model_has_its_slopes_as_effects() {
        // y = 3 x0 − 2 x1 + 0 x2: every EE of x0 is 3, of x1 −2, of x2 0; σ = 0.
        let mut rng = stream(2, 0, 0, Purpose::Sensitivity, 0);
        let d = design(3, 4, 6, &mut rng);
        let y: Vec<f64> = d.points.iter().map(|x| 3.0 * x[0] - 2.0 * x[1]).collect();
        let m = d.analyse(&y, 100, &mut rng);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(m[0].mu_star, 3.0) && close(m[0].mu, 3.0) && close(m[0].sigma, 0.0));
        assert!(close(m[1].mu_star, 2.0) && close(m[1].mu, -2.0));
        assert!(close(m[2].mu_star, 0.0) && close(m[2].mu_star_hi, 0.0));
        assert!(close(m[0].mu_star_lo, 3.0) && close(m[0].mu_star_hi, 3.0));
    }
}
