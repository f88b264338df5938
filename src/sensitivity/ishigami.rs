//! The estimators checked against the Ishigami function (Ishigami and Homma 1990), whose Sobol
//! indices are known in closed form: with a = 7 and b = 0.1 on x ∈ [−π, π]³,
//! S1 = (0.3139, 0.4424, 0) and ST = (0.5576, 0.4424, 0.2437) (Saltelli et al. 2008, §4.8;
//! Sobol' and Levitan 1999). A fourth input the function ignores must come out null.

use super::{morris, sobol};
use crate::rng::{Purpose, stream};
use std::f64::consts::PI;

/// Ishigami's function at a point of the unit cube (the first three coordinates mapped onto
/// [−π, π]; a fourth is ignored).
fn ishigami(u: &[f64]) -> f64 {
    let x: Vec<f64> = u.iter().map(|&v| -PI + 2.0 * PI * v).collect();
    x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
}

const S1: [f64; 4] = [0.3139, 0.4424, 0.0, 0.0];
const ST: [f64; 4] = [0.5576, 0.4424, 0.2437, 0.0];

/// Largest error allowed on an index with N = 8192 Saltelli samples: the estimators' error
/// at this N is about 0.01 (Saltelli et al. 2010, fig. 3), so 0.03 catches a wrong estimator
/// (the mutants tried move an index by 0.1 or more) without flaking.
const TOLERANCE: f64 = 0.03;

#[test]
fn sobol_indices_of_ishigami_match_the_analytic_values() {
    let d = sobol::design(4, 8192, 12345);
    let y: Vec<f64> = d.points.iter().map(|u| ishigami(u)).collect();
    let mut rng = stream(7, 0, 0, Purpose::Sensitivity, 3);
    let s = d.analyse(&y, 200, &mut rng);
    for i in 0..4 {
        assert!(
            (s[i].s1 - S1[i]).abs() < TOLERANCE,
            "S1[{i}] = {} (want {})",
            s[i].s1,
            S1[i]
        );
        assert!(
            (s[i].st - ST[i]).abs() < TOLERANCE,
            "ST[{i}] = {} (want {})",
            s[i].st,
            ST[i]
        );
        // The intervals are about the estimate and not absurdly wide.
        assert!(s[i].st_lo <= s[i].st && s[i].st <= s[i].st_hi, "{:?}", s[i]);
        assert!(s[i].st_hi - s[i].st_lo < 0.1, "{:?}", s[i]);
    }
}

#[test]
fn morris_ranks_the_ishigami_inputs() {
    // x1 and x2 matter most (x1's μ* the larger: its effect includes the x1·x3 interaction),
    // then x3 (only through the interaction: μ near 0 but σ large); x4 has exactly no effect.
    let mut rng = stream(7, 0, 0, Purpose::Sensitivity, 0);
    let d = morris::design(4, 4, 200, &mut rng);
    let y: Vec<f64> = d.points.iter().map(|u| ishigami(u)).collect();
    let m = d.analyse(&y, 200, &mut rng);
    let mu_star: Vec<f64> = m.iter().map(|x| x.mu_star).collect();
    let mut order: Vec<usize> = (0..4).collect();
    order.sort_by(|&a, &b| mu_star[b].total_cmp(&mu_star[a]));
    assert_eq!(order[3], 3, "μ* = {mu_star:?}");
    assert_eq!(mu_star[3], 0.0);
    assert_eq!(m[3].mu_star_hi, 0.0);
    assert!(order[2] == 2, "x3 ranks third: μ* = {mu_star:?}");
    assert!(
        m[2].mu.abs() < 0.5 * m[2].mu_star,
        "x3 acts in both directions: {:?}",
        m[2]
    );
    assert!(m[2].sigma > m[2].mu_star * 0.5, "x3 interacts: {:?}", m[2]);
}
