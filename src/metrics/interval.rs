//! Intervals over replicates: a share's interval that stays inside [0, 1], and the paired
//! difference of an arm from the baseline arm.
//!
//! Arms of one replicate run on the same catalog, population and random numbers (common random
//! numbers), so an arm's value and the baseline's in the same replicate are a pair: the
//! interval of their differences is narrower than, and more honest than, comparing the two
//! arms' overlapping intervals. `docs/model.md` §10 states both methods.

use super::{mean_interval, t975};

/// A mean over replicates and, with two or more values, its 95 % interval.
pub type Estimate = Option<(f64, Option<(f64, f64)>)>;

/// Mean and 95 % interval of shares `values` (each in [0, 1]; NaN left out) that stays inside
/// [0, 1]: a Wilson score interval with the effective sample size of the replicates.
///
/// With p the mean of R values and s² their variance, the Student-t interval is
/// p ± t s/√R. The Wilson interval with n viewers is the set of π with
/// (p − π)² ≤ z² π(1 − π)/n; replacing n by the effective sample size
/// n* = p(1 − p)/(s²/R), which gives the binomial variance the variance observed between
/// replicates, and z by t₀.₉₇₅,R−1 (as Korn and Graubard 1998 do for clustered samples),
/// keeps the t interval's width near p = ½ and bends it inside [0, 1] near the ends. It always
/// holds p (the clamp only absorbs rounding).
/// With s = 0 the interval is [p, p]; with one value there is none.
pub fn share_interval(values: &[f64]) -> Estimate {
    let (mean, t_interval) = mean_interval(values)?;
    let Some((lo, _)) = t_interval else {
        return Some((mean, None));
    };
    let n_values = values.iter().filter(|v| !v.is_nan()).count();
    let z = t975(n_values - 1);
    // The squared standard error, from the t interval's half-width.
    let se2 = ((mean - lo) / z).powi(2);
    let pq = mean * (1.0 - mean);
    if se2 == 0.0 || pq <= 0.0 {
        return Some((mean, Some((mean, mean))));
    }
    let n_eff = pq / se2;
    let z2n = z * z / n_eff;
    let centre = (mean + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (se2 + z2n / (4.0 * n_eff)).sqrt();
    Some((mean, Some(((centre - half).max(0.0), (centre + half).min(1.0)))))
}

/// The mean of `values` with the interval of its kind: [`share_interval`] for a share, else
/// the Student-t interval ([`mean_interval`]).
pub fn estimate(values: &[f64], share: bool) -> Estimate {
    if share {
        share_interval(values)
    } else {
        mean_interval(values)
    }
}

/// The paired difference of `arm` from `baseline`, value by value (replicate by replicate):
/// the mean of aᵢ − bᵢ over the pairs where both have a value, with its 95 % Student-t
/// interval, and the number of pairs. None when no pair has both.
pub fn paired_difference(arm: &[f64], baseline: &[f64]) -> Option<(Estimate, usize)> {
    let diffs: Vec<f64> = arm
        .iter()
        .zip(baseline)
        .map(|(a, b)| a - b)
        .filter(|d| !d.is_nan())
        .collect();
    (!diffs.is_empty()).then(|| (mean_interval(&diffs), diffs.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    /// Hand-computed: p = 0.1, s² = 0.01, R = 3, so s²/R = 1/300 and n* = 0.09 · 300 = 27;
    /// z = t₀.₉₇₅,₂ = 4.303, z²/n* = 0.685770; centre (0.1 + 0.342885) / 1.685770 = 0.262721,
    /// half-width 4.303 / 1.685770 · √(1/300 + 18.515809 / 2916) = 0.251178. The t interval
    /// would be 0.1 ± 0.248428, below 0.
    #[test]
    fn share_interval_is_wilson_with_the_effective_sample_size() {
        let (mean, interval) = share_interval(&[0.0, 0.1, 0.2]).unwrap();
        let (lo, hi) = interval.unwrap();
        close(mean, 0.1);
        assert!((lo - 0.011_543_19).abs() < 1e-7, "{lo}");
        assert!((hi - 0.513_896_42).abs() < 1e-7, "{hi}");
    }

    #[test]
    fn share_intervals_stay_inside_0_1_and_hold_the_mean() {
        for values in [
            vec![0.0, 0.0, 0.01],
            vec![1.0, 0.99, 1.0, 0.9],
            vec![0.5, 0.4, 0.6],
            vec![0.0, 1.0],
        ] {
            let (mean, interval) = share_interval(&values).unwrap();
            let (lo, hi) = interval.unwrap();
            assert!(
                (0.0..=mean).contains(&lo) && (mean..=1.0).contains(&hi),
                "{values:?}"
            );
        }
        // No spread: the interval is the point; all zero: zero.
        assert_eq!(share_interval(&[0.3, 0.3]), Some((0.3, Some((0.3, 0.3)))));
        assert_eq!(share_interval(&[0.0, 0.0]), Some((0.0, Some((0.0, 0.0)))));
        assert_eq!(share_interval(&[0.3, f64::NAN]), Some((0.3, None)));
        assert_eq!(share_interval(&[f64::NAN]), None);
    }

    /// Hand-computed: differences 0.1, 0.3, 0.2 (the NaN pair left out): mean 0.2, s = 0.1,
    /// half-width 4.303 · 0.1 / √3 = 0.248434.
    #[test]
    fn paired_difference_pairs_values_replicate_by_replicate() {
        let arm = [0.5, 0.7, 0.4, 0.9];
        let base = [0.4, 0.4, 0.2, f64::NAN];
        let (estimate, n) = paired_difference(&arm, &base).unwrap();
        let (mean, interval) = estimate.unwrap();
        let (lo, hi) = interval.unwrap();
        assert_eq!(n, 3);
        close(mean, 0.2);
        close(lo, 0.2 - 4.303 * 0.1 / 3f64.sqrt());
        close(hi, 0.2 + 4.303 * 0.1 / 3f64.sqrt());
        assert_eq!(paired_difference(&[1.0], &[f64::NAN]), None);
        assert_eq!(paired_difference(&[1.0], &[0.5]), Some((Some((0.5, None)), 1)));
    }
}
