//! Metric equations (pure functions with known inputs and outputs), and in [`columns`] the
//! table that declares every metric of the result files once.
//!
//! `docs/model.md` §10 gives each definition with its source.

pub mod columns;
pub mod interval;

pub use columns::{METRICS, Metric, MetricDef};

/// Shannon entropy of `counts` (which sum to `n`) divided by ln K: 1 = even spread over the
/// K topics, 0 = one topic. `n` = 0 gives 0.
pub fn feed_entropy(counts: &[u32], n: u32, n_topics: usize) -> f64 {
    if n == 0 || n_topics < 2 {
        return 0.0;
    }
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| entropy_term(c, n))
        .sum();
    h / (n_topics as f64).ln()
}

/// The term −p ln p of [`feed_entropy`] for a topic seen `c` times in `n` impressions.
#[inline]
fn entropy_term(c: u32, n: u32) -> f64 {
    let p = f64::from(c) / f64::from(n);
    -p * p.ln()
}

/// [`feed_entropy`] over K topics for windows of at most `max_n` impressions, with its terms
/// tabulated: the same `f64` values summed in the same order, so the same result, without a
/// logarithm per topic and viewer-step.
#[derive(Debug, Clone)]
pub struct EntropyTable {
    /// `terms[n (max_n + 1) + c]` = −p ln p, p = c / n.
    terms: Vec<f64>,
    max_n: u32,
    n_topics: usize,
    ln_k: f64,
}

impl EntropyTable {
    /// The table for windows of up to `max_n` impressions over `n_topics` topics.
    pub fn new(max_n: u32, n_topics: usize) -> EntropyTable {
        let side = max_n as usize + 1;
        // A topic not seen adds −0.0, which leaves every sum as it is (x + −0.0 = x, bit for
        // bit, for x = +0.0 too), so `entropy` adds every topic's term without a branch.
        let mut terms = vec![-0.0; side * side];
        for n in 1..=max_n {
            for c in 1..=n {
                terms[n as usize * side + c as usize] = entropy_term(c, n);
            }
        }
        EntropyTable {
            terms,
            max_n,
            n_topics,
            ln_k: (n_topics as f64).ln(),
        }
    }

    /// [`feed_entropy`]`(counts, n, n_topics)`, for `n` up to `max_n`.
    #[inline]
    pub fn entropy(&self, counts: &[u32], n: u32) -> f64 {
        if n == 0 || self.n_topics < 2 {
            return 0.0;
        }
        assert!(n <= self.max_n, "window of {n} beyond the table's {}", self.max_n);
        let row = &self.terms[n as usize * (self.max_n as usize + 1)..][..=n as usize];
        // Unseen topics' terms are −0.0 (see `new`): no branch on the counts.
        let h: f64 = counts.iter().map(|&c| row[c as usize]).sum();
        h / self.ln_k
    }
}

/// Share of the window taken by its most frequent topic; 0 for an empty window.
pub fn top_topic_share(counts: &[u32], n: u32) -> f64 {
    if n == 0 {
        return 0.0;
    }
    f64::from(counts.iter().copied().max().unwrap_or(0)) / f64::from(n)
}

/// Total-variation distance ½ Σ |aᵢ - bᵢ| between two distributions.
pub fn total_variation(a: &[f32], b: &[f32]) -> f64 {
    0.5 * a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from((x - y).abs()))
        .sum::<f64>()
}

/// Gini coefficient of non-negative counts, sorted ascending:
/// G = Σᵢ (2i - n - 1) xᵢ / (n Σ x), i = 1..n. 0 = equal exposure; (n-1)/n = one item has all.
pub fn gini_sorted(sorted: &[u32]) -> f64 {
    let n = sorted.len();
    let total: f64 = sorted.iter().map(|&x| f64::from(x)).sum();
    if n == 0 || total == 0.0 {
        return 0.0;
    }
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| (2.0 * (i as f64 + 1.0) - n as f64 - 1.0) * f64::from(x))
        .sum();
    weighted / (n as f64 * total)
}

/// Quantile `q` of ascending `sorted` values by linear interpolation (Hyndman and Fan type 7,
/// the default of R and numpy). None for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Mean and two-sided 95 % Student-t interval of `values` (NaN values are left out).
/// With fewer than two values the interval is None.
pub fn mean_interval(values: &[f64]) -> Option<(f64, Option<(f64, f64)>)> {
    let vals: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let n = vals.len();
    if n == 0 {
        return None;
    }
    let mean = vals.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some((mean, None));
    }
    let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t975(n - 1) * (var / n as f64).sqrt();
    Some((mean, Some((mean - half, mean + half))))
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        // Cornish-Fisher expansion around the normal quantile; within 1e-3 beyond 30.
        _ => {
            let z: f64 = 1.959_964;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// One viewer's metric values after a step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ViewerMetrics {
    pub feed_entropy: f32,
    pub top_topic_share: f32,
    pub in_rabbit_hole: bool,
    pub interest_drift: f32,
    pub profile_error: f32,
    /// Share of sensitive items in the window (computed when the safety features are used).
    pub window_sensitive: f32,
    /// |x_i − x_u| of the latest impression if its item is stance-bearing, else NaN; the
    /// reduction counts it only for a viewer shown an item at the step it reduces.
    pub stance_distance: f32,
    /// Impressions of the latest impression's item before its step (`shown_popularity`); the
    /// reduction counts it only for a viewer shown an item at the step it reduces.
    pub shown_popularity: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(got: f64, expected: f64) {
        assert!((got - expected).abs() < 1e-9, "got {got}, expected {expected}");
    }

    #[test]
    fn entropy_table_gives_feed_entropy() {
        for k in [1, 2, 3, 9, 20] {
            let table = EntropyTable::new(12, k);
            // Every split of n ≤ 12 impressions over three of the k topics, zeros included.
            for n in 0..=12u32 {
                for a in 0..=n {
                    for b in 0..=n - a {
                        let mut counts = vec![0; k.max(3)];
                        counts[0] = a;
                        counts[1] = b;
                        counts[2] = n - a - b;
                        let counts = &counts[..k.max(3)];
                        assert_eq!(
                            table.entropy(counts, n).to_bits(),
                            feed_entropy(counts, n, k).to_bits(),
                            "k {k} counts {counts:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn entropy_of_known_windows() {
        // Even over all K topics: 1.
        check(feed_entropy(&[5, 5, 5, 5], 20, 4), 1.0);
        // One topic: 0.
        check(feed_entropy(&[20, 0, 0, 0], 20, 4), 0.0);
        // Two of four topics evenly: ln 2 / ln 4 = 0.5.
        check(feed_entropy(&[10, 10, 0, 0], 20, 4), 0.5);
        check(feed_entropy(&[], 0, 4), 0.0);
    }

    #[test]
    fn top_share_of_known_windows() {
        check(top_topic_share(&[16, 2, 2, 0], 20), 0.8);
        check(top_topic_share(&[5, 5, 5, 5], 20), 0.25);
    }

    #[test]
    fn total_variation_of_known_pairs() {
        check(total_variation(&[1.0, 0.0], &[0.0, 1.0]), 1.0);
        check(total_variation(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        check(total_variation(&[0.5, 0.25, 0.25], &[0.25, 0.25, 0.5]), 0.25);
    }

    #[test]
    fn gini_of_known_counts() {
        check(gini_sorted(&[3, 3, 3, 3]), 0.0);
        // One of four items has everything: (n - 1) / n.
        check(gini_sorted(&[0, 0, 0, 8]), 0.75);
        // 1, 2, 3: Σ (2i - 4) xᵢ = -2 + 0 + 6 = 4; 4 / (3 · 6) = 2/9.
        check(gini_sorted(&[1, 2, 3]), 2.0 / 9.0);
        check(gini_sorted(&[0, 0]), 0.0);
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        check(quantile_sorted(&v, 0.5).unwrap(), 3.0);
        check(quantile_sorted(&v, 0.1).unwrap(), 1.4);
        check(quantile_sorted(&v, 0.9).unwrap(), 4.6);
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }

    #[test]
    fn interval_of_known_values() {
        // Mean 2, sd 1, n 3: half-width 4.303 / sqrt 3.
        let (m, ci) = mean_interval(&[1.0, 2.0, 3.0]).unwrap();
        check(m, 2.0);
        let (lo, hi) = ci.unwrap();
        check(hi - m, 4.303 / 3f64.sqrt());
        check(m - lo, 4.303 / 3f64.sqrt());
        assert_eq!(mean_interval(&[5.0]), Some((5.0, None)));
        assert_eq!(mean_interval(&[f64::NAN]), None);
    }

    #[test]
    fn t_quantile_is_continuous_past_the_table() {
        assert!((t975(30) - t975(31)).abs() < 0.003);
        assert!((t975(1000) - 1.962).abs() < 1e-3);
    }
}

/// Quantile `q` (type 7) of unsorted `values`, reordering them; O(n) by selection.
pub fn quantile_unsorted(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let h = (values.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let (_, &mut v_lo, upper) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let frac = h - lo as f64;
    if frac == 0.0 || upper.is_empty() {
        return Some(v_lo);
    }
    let v_hi = upper.iter().copied().fold(f64::INFINITY, f64::min);
    Some(v_lo + frac * (v_hi - v_lo))
}

/// Quantile `q` (type 7, as [`quantile_unsorted`]) of the union of two lists, each sorted in
/// total order, without merging them: O(log n).
pub fn quantile_of_sorted_pair(a: &[f64], b: &[f64], q: f64) -> Option<f64> {
    let n = a.len() + b.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let v_lo = kth_of_sorted_pair(a, b, lo);
    let frac = h - lo as f64;
    if frac == 0.0 || lo + 1 == n {
        return Some(v_lo);
    }
    let v_hi = kth_of_sorted_pair(a, b, lo + 1);
    Some(v_lo + frac * (v_hi - v_lo))
}

/// The `k`-th smallest (from 0) of the union of two sorted lists, `k` < their total length.
fn kth_of_sorted_pair(a: &[f64], b: &[f64], k: usize) -> f64 {
    // The k + 1 smallest are the first i of `a` and the first k + 1 − i of `b`, for the
    // smallest i whose next element of `a` is not below the last one taken from `b`.
    let (mut lo, mut hi) = ((k + 1).saturating_sub(b.len()), (k + 1).min(a.len()));
    while lo < hi {
        let i = (lo + hi) / 2;
        if a[i].total_cmp(&b[k - i]).is_lt() {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    let (from_a, from_b) = (lo, k + 1 - lo);
    match (from_a.checked_sub(1), from_b.checked_sub(1)) {
        (Some(i), Some(j)) => a[i].max(b[j]),
        (Some(i), None) => a[i],
        (None, Some(j)) => b[j],
        (None, None) => unreachable!("k + 1 > 0 elements are taken"),
    }
}

#[cfg(test)]
mod quantile_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn selection_agrees_with_sorting(mut v in proptest::collection::vec(-1e3f64..1e3, 1..60), q in 0.0f64..=1.0) {
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let expected = quantile_sorted(&sorted, q).unwrap();
            let got = quantile_unsorted(&mut v, q).unwrap();
            prop_assert!((got - expected).abs() < 1e-9);
        }

        /// Ties included (values from a small set), and either list may be empty.
        #[test]
        fn a_sorted_pair_has_the_quantile_of_its_union(
            mut a in proptest::collection::vec(0u8..12, 0..40),
            mut b in proptest::collection::vec(0u8..12, 0..40),
            q in 0.0f64..=1.0,
        ) {
            a.sort_unstable();
            b.sort_unstable();
            let (a, b): (Vec<f64>, Vec<f64>) = (
                a.iter().map(|&x| f64::from(x) / 4.0).collect(),
                b.iter().map(|&x| f64::from(x) / 4.0).collect(),
            );
            let mut union = [a.clone(), b.clone()].concat();
            prop_assert_eq!(quantile_of_sorted_pair(&a, &b, q), quantile_unsorted(&mut union, q));
            for k in 0..union.len() {
                union.sort_by(f64::total_cmp);
                prop_assert_eq!(kth_of_sorted_pair(&a, &b, k), union[k]);
            }
        }

        #[test]
        fn entropy_and_share_are_bounded(counts in proptest::collection::vec(0u32..30, 2..12)) {
            let n: u32 = counts.iter().sum();
            let h = feed_entropy(&counts, n, counts.len());
            prop_assert!((0.0..=1.0 + 1e-12).contains(&h));
            let s = top_topic_share(&counts, n);
            prop_assert!((0.0..=1.0).contains(&s));
            if n > 0 {
                prop_assert!(s >= 1.0 / counts.len() as f64 - 1e-12);
            }
        }

        #[test]
        fn gini_is_bounded(mut counts in proptest::collection::vec(0u32..1000, 1..50)) {
            counts.sort_unstable();
            let g = gini_sorted(&counts);
            prop_assert!((-1e-12..1.0).contains(&g));
        }
    }
}
