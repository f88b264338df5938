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
//! Lowering a count c to c − 1 (an impression leaving the window of `coverage_recent` and
//! `exposure_gini_recent`) is the mirror image: the last c of `desc` is lowered, at j = the number
//! of counts of c or more, minus one, which is `above[c − 1] − 1`.
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
    /// `above[c]`: how many counts exceed c, for c < min(largest count + 1, [`ABOVE_CAP`]) at
    /// least (entries beyond, left by counts taken back, are 0, which is what they count).
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

    /// Takes back one impression of an item that has `count` ≥ 1 impressions.
    #[inline]
    pub fn remove(&mut self, count: u32) {
        debug_assert!(count > 0, "an item without impressions loses none");
        let lower = count - 1;
        let j = if lower < ABOVE_CAP {
            let c = lower as usize;
            self.above[c] -= 1;
            self.above[c] as usize
        } else {
            let big = self.above[ABOVE_CAP as usize - 1] as usize;
            self.desc[..big].partition_point(|&x| x >= count) - 1
        };
        debug_assert_eq!(self.desc[j], count, "the last count equal to {count}");
        if lower == 0 {
            // The last of the nonzero counts: the item leaves them.
            debug_assert_eq!(j + 1, self.desc.len());
            self.desc.pop();
        } else {
            self.desc[j] = lower;
        }
        self.total -= 1;
        self.rank_weighted -= j as u128;
    }

    /// Items with at least one impression.
    pub fn shown_items(&self) -> u64 {
        self.desc.len() as u64
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

    /// Adds and takes back impressions (`(item, add)`, the item's index modulo `n`; taking back
    /// from an item without impressions is skipped) and checks the counts, the items shown and
    /// the Gini against sorting after every operation.
    fn check_both_ways(n: usize, ops: &[(usize, bool)]) {
        let mut counts = vec![0u32; n];
        let mut exposure = Exposure::new();
        for &(i, add) in ops {
            let i = i % n;
            if add {
                exposure.add(counts[i]);
                counts[i] += 1;
            } else if counts[i] > 0 {
                exposure.remove(counts[i]);
                counts[i] -= 1;
            }
            let mut sorted = counts.clone();
            sorted.sort_unstable();
            assert_eq!(exposure.sorted_counts(n), sorted);
            let shown = counts.iter().filter(|&&c| c > 0).count() as u64;
            assert_eq!(exposure.shown_items(), shown);
            let expected = metrics::gini_sorted(&sorted).to_bits();
            assert_eq!(exposure.gini(n).to_bits(), expected, "{counts:?}");
        }
    }

    #[test]
    fn taking_back_mirrors_adding() {
        // Counts 3, 1, 0 then: the last 3 lowered, the only 1 leaves the nonzero counts.
        check_both_ways(
            3,
            &[(0, true), (0, true), (0, true), (1, true), (0, false), (1, false)],
        );
        let mut exposure = Exposure::new();
        for c in [0, 1, 2, 0] {
            exposure.add(c);
        }
        // Counts {3, 1}: Gini of (0, 1, 3) over three items = (−2·0 + 0·1 + 2·3) / (3·4) = 0.5.
        assert_eq!(exposure.gini(3), 0.5);
        exposure.remove(3);
        // Counts (0, 1, 2): (0 + 0 + 4) / (3 · 3) = 4/9.
        assert_eq!(exposure.gini(3), 4.0 / 9.0);
        exposure.remove(1);
        assert_eq!((exposure.shown_items(), exposure.gini(3)), (1, 2.0 / 3.0));
    }

    #[test]
    fn taking_back_beyond_the_rank_table() {
        let cap = ABOVE_CAP as usize;
        let mut ops = vec![(0, true); cap + 2];
        ops.extend(vec![(1, true); cap]);
        ops.extend([
            (0, false),
            (0, false),
            (0, false),
            (1, false),
            (1, true),
            (0, true),
        ]);
        let mut exposure = Exposure::new();
        let mut counts = [0u32; 3];
        for &(i, add) in &ops {
            if add {
                exposure.add(counts[i]);
                counts[i] += 1;
            } else {
                exposure.remove(counts[i]);
                counts[i] -= 1;
            }
        }
        let mut sorted = counts.to_vec();
        sorted.sort_unstable();
        assert_eq!(exposure.sorted_counts(3), sorted);
        assert_eq!(
            exposure.gini(3).to_bits(),
            metrics::gini_sorted(&sorted).to_bits()
        );
    }

    proptest! {
        #[test]
        fn adding_and_taking_back_match_sorting(
            n in 1usize..40,
            ops in proptest::collection::vec((0usize..40, proptest::bool::weighted(0.6)), 0..300),
        ) {
            check_both_ways(n, &ops);
        }

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
