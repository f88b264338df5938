//! `exposure_gini` without sorting every step: the impression counts of the visible items are
//! kept as a sorted multiset, updated in O(1) per impression, with the rank-weighted sum the
//! Gini coefficient needs.
//!
//! With the visible items' counts sorted ascending, x₍₁₎ ≤ … ≤ x₍ₙ₎, the Gini coefficient is
//! Σᵢ (2i − n − 1) x₍ᵢ₎ / (n Σ x) (`metrics::gini_sorted`). Only the nonzero counts are stored,
//! in descending order `desc`, so an item's first impression is a push at the end; in that
//! order the numerator is Σⱼ (n − 1 − 2j) desc[j] = (n − 1) T − 2 S, with T = Σ desc[j] and
//! S = Σ j desc[j], which change by 1 and by j when desc[j] grows by one. Raising one count c
//! to c + 1 raises the first c of `desc` (the order holds), at j = the number of counts above
//! c; `above[c]` keeps that number for c below [`ABOVE_CAP`], and larger counts, which only a
//! few very popular items reach, are found by bisection among the first `above[ABOVE_CAP − 1]`.
//!
//! The result is the same `f64` as `gini_sorted` on the sorted counts: when (n − 1) T ≤ 2⁵³,
//! every term and partial sum of that summation is an integer below 2⁵³, so exact, and the
//! exact integer numerator converts to the same `f64`; beyond that, the sorted counts are
//! written out from `desc` (no sort needed) and summed by `gini_sorted` itself.

use crate::metrics;

/// Counts below this have their rank kept in [`Exposure::above`] (256 KiB at most).
const ABOVE_CAP: u32 = 1 << 16;

/// Largest integer up to which every `f64` integer is exact.
const EXACT: u128 = 1 << 53;

/// The multiset of the visible items' impression counts, for `exposure_gini`.
#[derive(Debug, Clone)]
pub(super) struct Exposure {
    /// The nonzero counts, in descending order.
    desc: Vec<u32>,
    /// `above[c]`: how many counts exceed c, for c < min(largest count + 1, [`ABOVE_CAP`]).
    above: Vec<u32>,
    /// T = Σ desc[j]: all impressions.
    total: u64,
    /// S = Σ j · desc[j].
    rank_weighted: u128,
    /// Reused buffer for the sorted counts, when the sum is not known to be exact.
    sorted: Vec<u32>,
}

impl Exposure {
    /// No items, no impressions.
    pub fn new() -> Exposure {
        Exposure {
            desc: Vec::new(),
            above: vec![0],
            total: 0,
            rank_weighted: 0,
            sorted: Vec::new(),
        }
    }

    /// Records one impression of an item that had `count` impressions before it.
    #[inline]
    pub fn add(&mut self, count: u32) {
        if count == 0 {
            self.desc.push(0);
        }
        let j = if count < ABOVE_CAP {
            let c = count as usize;
            let j = self.above[c] as usize;
            self.above[c] += 1;
            if count + 1 < ABOVE_CAP && self.above.len() == c + 1 {
                // `count + 1` is the new largest count: none exceeds it.
                self.above.push(0);
            }
            j
        } else {
            let big = self.above[ABOVE_CAP as usize - 1] as usize;
            self.desc[..big].partition_point(|&x| x > count)
        };
        debug_assert_eq!(self.desc[j], count, "the first count equal to {count}");
        self.desc[j] = count + 1;
        self.total += 1;
        self.rank_weighted += j as u128;
    }

    /// Gini coefficient of the impression counts of `n_visible` items (the counted ones and
    /// items never shown), as `metrics::gini_sorted` computes it on the sorted counts.
    pub fn gini(&mut self, n_visible: usize) -> f64 {
        self.gini_exact_to(n_visible, EXACT)
    }

    /// [`Exposure::gini`], by the integer sum when (n − 1) T ≤ `exact`.
    fn gini_exact_to(&mut self, n_visible: usize, exact: u128) -> f64 {
        let n = n_visible;
        debug_assert!(n >= self.desc.len());
        if n == 0 || self.total == 0 {
            return 0.0;
        }
        let total = u128::from(self.total);
        if (n as u128 - 1) * total <= exact {
            let numerator = (n as i128 - 1) * total as i128 - 2 * self.rank_weighted as i128;
            return numerator as f64 / (n as f64 * self.total as f64);
        }
        self.sorted.clear();
        self.sorted.resize(n - self.desc.len(), 0);
        self.sorted.extend(self.desc.iter().rev());
        metrics::gini_sorted(&self.sorted)
    }

    /// The nonzero counts, ascending after the zeros of items never shown (tests only).
    #[cfg(test)]
    fn sorted_counts(&self, n_visible: usize) -> Vec<u32> {
        let mut v = vec![0; n_visible - self.desc.len()];
        v.extend(self.desc.iter().rev());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Shows items by index (`shown`, growing the visible prefix to `visible[k]` before the
    /// k-th batch) and checks the Gini against sorting, bit for bit, after every batch.
    fn check(batches: &[(usize, Vec<usize>)]) {
        let mut counts: Vec<u32> = Vec::new();
        let mut exposure = Exposure::new();
        for (visible, shown) in batches {
            if counts.len() < *visible {
                counts.resize(*visible, 0);
            }
            for &i in shown {
                let i = i % counts.len();
                exposure.add(counts[i]);
                counts[i] += 1;
            }
            let mut sorted = counts.clone();
            sorted.sort_unstable();
            assert_eq!(exposure.sorted_counts(counts.len()), sorted);
            let expected = metrics::gini_sorted(&sorted);
            assert_eq!(
                exposure.gini(counts.len()).to_bits(),
                expected.to_bits(),
                "{counts:?}"
            );
            let fallback = exposure.gini_exact_to(counts.len(), 0);
            assert_eq!(fallback.to_bits(), expected.to_bits(), "{counts:?}");
        }
    }

    #[test]
    fn known_counts() {
        check(&[(4, vec![]), (4, vec![3, 3, 3, 3, 3, 3, 3, 3])]);
        check(&[(3, vec![0, 1, 1, 2, 2, 2])]);
        check(&[(1, vec![0, 0]), (5, vec![4, 3, 0, 0, 1])]);
    }

    #[test]
    fn counts_beyond_the_rank_table() {
        // One item far above ABOVE_CAP and two just around it: bisection among the largest.
        let cap = ABOVE_CAP as usize;
        let mut shown = vec![0; cap + 10];
        shown.extend(std::iter::repeat_n(1, cap + 3));
        shown.extend(std::iter::repeat_n(2, cap - 1));
        shown.extend([3, 2, 2, 1, 0, 3]);
        check(&[(5, shown)]);
    }

    #[test]
    fn inexact_sums_fall_back_to_the_sorted_counts() {
        let mut exposure = Exposure::new();
        let counts = [5u32, 1, 7, 7, 2];
        for &c in &counts {
            for k in 0..c {
                exposure.add(k);
            }
        }
        let sorted = [0, 0, 0, 1, 2, 5, 7, 7];
        let expected = metrics::gini_sorted(&sorted).to_bits();
        assert_eq!(exposure.gini_exact_to(8, EXACT).to_bits(), expected);
        assert_eq!(exposure.gini_exact_to(8, 0).to_bits(), expected);
    }

    proptest! {
        #[test]
        fn same_bits_as_sorting(
            batches in proptest::collection::vec(
                (1usize..60, proptest::collection::vec(0usize..60, 0..80)),
                1..12,
            )
        ) {
            check(&batches);
        }

        #[test]
        fn same_bits_with_skewed_counts(
            shown in proptest::collection::vec(prop_oneof![0usize..3, 0usize..2000], 0..3000)
        ) {
            check(&[(2000, shown)]);
        }
    }
}
