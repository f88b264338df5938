//! Variance-based sensitivity: first-order (S1) and total (ST) Sobol indices from Saltelli
//! sampling, with bootstrap intervals.
//!
//! Two N × m matrices A and B of points of the unit cube come from one 2m-dimensional Sobol
//! sequence (Owen-scrambled, `sobol_burley`: A the first m dimensions, B the next m); AB_i is A
//! with column i taken from B. With f evaluated at the rows of A, B and every AB_i (N(m + 2)
//! evaluations) and V the variance of f over the rows of A and B together,
//!
//! ```text
//! S1_i = (1/N) Σ_j f(B)_j (f(AB_i)_j − f(A)_j) / V            (Saltelli et al. 2010, table 2 (b))
//! ST_i = (1/2N) Σ_j (f(A)_j − f(AB_i)_j)² / V                  (Jansen 1999; Saltelli et al. 2010 (f))
//! ```
//!
//! f is centred on the mean over the rows of A and B first (as SALib does): the estimators
//! are unchanged in expectation, and S1's variance no longer grows with the output's mean.
//! Intervals: the rows j are resampled with replacement (the same rows for A, B and every
//! AB_i) and the 2.5 % and 97.5 % percentiles of the re-estimates taken. Generic over the
//! model: the design is a list of points and the analysis takes one output per point.

use super::morris::percentile_interval;
use crate::rng::Rng;
use rand::RngExt;

/// Most dimensions (2m) and samples (N) the Sobol sequence gives.
pub const MAX_FACTORS: usize = sobol_burley::NUM_DIMENSIONS as usize / 2;
pub const MAX_SAMPLES: usize = 1 << 16;

/// The Saltelli design: the rows of A, then of B, then of AB_1, …, AB_m, each N points.
#[derive(Debug, Clone, PartialEq)]
pub struct SaltelliDesign {
    pub factors: usize,
    pub samples: usize,
    pub points: Vec<Vec<f64>>,
}

/// One factor's indices for one output, with bootstrap 95 % intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SobolIndex {
    pub s1: f64,
    pub s1_lo: f64,
    pub s1_hi: f64,
    pub st: f64,
    pub st_lo: f64,
    pub st_hi: f64,
}

/// The design for `factors` factors (at most [`MAX_FACTORS`]) and `samples` base samples
/// (at most [`MAX_SAMPLES`]; a power of two balances the sequence best), scrambled by `seed`.
pub fn design(factors: usize, samples: usize, seed: u32) -> SaltelliDesign {
    assert!(factors <= MAX_FACTORS && samples <= MAX_SAMPLES);
    let row = |j: usize, first: usize| -> Vec<f64> {
        (0..factors)
            .map(|i| f64::from(sobol_burley::sample(j as u32, (first + i) as u32, seed)))
            .collect()
    };
    let a: Vec<Vec<f64>> = (0..samples).map(|j| row(j, 0)).collect();
    let b: Vec<Vec<f64>> = (0..samples).map(|j| row(j, factors)).collect();
    let mut points = a.clone();
    points.extend(b.iter().cloned());
    for i in 0..factors {
        points.extend(a.iter().zip(&b).map(|(ra, rb)| {
            let mut p = ra.clone();
            p[i] = rb[i];
            p
        }));
    }
    SaltelliDesign {
        factors,
        samples,
        points,
    }
}

/// S1 and ST of every factor over the rows `rows` (indices into 0..N).
fn estimate(y: &[f64], n: usize, factors: usize, rows: &[usize]) -> Vec<(f64, f64)> {
    let fa = |j: usize| y[j];
    let fb = |j: usize| y[n + j];
    let all: Vec<f64> = rows.iter().flat_map(|&j| [fa(j), fb(j)]).collect();
    let m = all.iter().sum::<f64>() / all.len() as f64;
    let v = all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (all.len() as f64 - 1.0);
    let count = rows.len() as f64;
    (0..factors)
        .map(|i| {
            let fab = |j: usize| y[(2 + i) * n + j];
            let s1 = rows.iter().map(|&j| (fb(j) - m) * (fab(j) - fa(j))).sum::<f64>() / count / v;
            let st = rows.iter().map(|&j| (fa(j) - fab(j)).powi(2)).sum::<f64>() / (2.0 * count) / v;
            (s1, st)
        })
        .collect()
}

impl SaltelliDesign {
    /// Every factor's indices from one output per point, with intervals from `resamples`
    /// bootstrap resamples of the rows drawn from `rng`. A constant output (V = 0) has NaN
    /// indices: no variance to apportion.
    pub fn analyse(&self, y: &[f64], resamples: usize, rng: &mut Rng) -> Vec<SobolIndex> {
        assert_eq!(y.len(), self.points.len(), "one output per design point");
        let n = self.samples;
        let rows: Vec<usize> = (0..n).collect();
        let point = estimate(y, n, self.factors, &rows);
        let boot: Vec<Vec<(f64, f64)>> = (0..resamples)
            .map(|_| {
                let rows: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
                estimate(y, n, self.factors, &rows)
            })
            .collect();
        point
            .iter()
            .enumerate()
            .map(|(i, &(s1, st))| {
                let (s1_lo, s1_hi) = percentile_interval(boot.iter().map(|b| b[i].0).collect());
                let (st_lo, st_hi) = percentile_interval(boot.iter().map(|b| b[i].1).collect());
                SobolIndex {
                    s1,
                    s1_lo,
                    s1_hi,
                    st,
                    st_lo,
                    st_hi,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ab_i_takes_column_i_from_b() {
        let d = design(3, 4, 9);
        assert_eq!(d.points.len(), 4 * 5);
        for j in 0..4 {
            let (a, b) = (&d.points[j], &d.points[4 + j]);
            for i in 0..3 {
                let ab = &d.points[(2 + i) * 4 + j];
                for c in 0..3 {
                    assert_eq!(ab[c], if c == i { b[c] } else { a[c] });
                }
            }
        }
    }

    #[test]
    fn an_additive_model_has_its_variance_shares() {
        // y = x0 + 2 x1 on U(0,1)²: V = (1 + 4)/12, S1 = ST = (1/5, 4/5), x2 has none.
        let d = design(3, 4096, 3);
        let y: Vec<f64> = d.points.iter().map(|x| x[0] + 2.0 * x[1]).collect();
        let mut rng = crate::rng::stream(1, 0, 0, crate::rng::Purpose::Sensitivity, 2);
        let s = d.analyse(&y, 50, &mut rng);
        for (i, want) in [0.2, 0.8, 0.0].into_iter().enumerate() {
            assert!((s[i].s1 - want).abs() < 0.01, "S1[{i}] = {}", s[i].s1);
            assert!((s[i].st - want).abs() < 0.01, "ST[{i}] = {}", s[i].st);
            assert!(s[i].st_lo <= s[i].st && s[i].st <= s[i].st_hi);
        }
    }
}
