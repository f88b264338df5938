//! The trending list: the `pool` visible items with the largest decayed trend, largest first,
//! ties by index; rebuilt between steps from a floor that leaves most items unsorted.
//!
//! Every trend decays by the same factor each step (one `f32` product, rounded), then grows by
//! the step's engaged views. Rounding and adding a non-negative number are monotone, so an
//! item of the last full list, whose trend was at least the list's last trend θ, still has at
//! least θ · decay (rounded as the trends are): `pool` items reach that floor, hence every
//! item of the new list does, and only the items at or above it need selecting. The list is
//! the one a selection over all items gives.

use crate::catalog::ItemIdx;

/// Items tested at once for reaching the floor.
const CHUNK: usize = 16;

/// Selects the trending list; its buffers and floor live from step to step.
#[derive(Debug, Clone)]
pub(super) struct TrendingRank {
    /// A trend every item of the next list reaches; 0 when the last list was not full.
    floor: f32,
    /// Reused buffer of [`key`]s.
    order: Vec<u64>,
}

impl TrendingRank {
    /// No list yet; room for selecting among `n_items` items.
    pub fn new(n_items: usize) -> TrendingRank {
        TrendingRank {
            floor: 0.0,
            order: Vec::with_capacity(n_items),
        }
    }

    /// Every trend was multiplied by `decay`: so is the floor, with the same rounding.
    #[inline]
    pub fn decay(&mut self, decay: f32) {
        self.floor *= decay;
    }

    /// Writes into `list` the (at most) `pool` items of `trend` with the largest positive
    /// trends, largest first, ties by ascending index.
    pub fn rank(&mut self, trend: &[f32], pool: usize, list: &mut Vec<ItemIdx>) {
        // t > 0 and t ≥ floor, in one comparison: the least positive f32 is 2⁻¹⁴⁹.
        let least = self.floor.max(f32::from_bits(1));
        self.order.clear();
        // Most items are below the floor: test a chunk at once (vectorised), then its items.
        for (c, chunk) in trend.chunks(CHUNK).enumerate() {
            if chunk.iter().fold(false, |any, &t| any | (t >= least)) {
                for (j, &t) in chunk.iter().enumerate() {
                    if t >= least {
                        self.order.push(key(t, (c * CHUNK + j) as ItemIdx));
                    }
                }
            }
        }
        let take = pool.min(self.order.len());
        list.clear();
        self.floor = 0.0;
        if take == 0 {
            return;
        }
        if take < self.order.len() {
            self.order.select_nth_unstable(take - 1);
        }
        self.order[..take].sort_unstable();
        list.extend(self.order[..take].iter().map(|&k| k as ItemIdx));
        if take == pool {
            self.floor = trend[list[take - 1] as usize];
        }
    }
}

/// A trending item's sort key: ascending keys are descending trends, ties by ascending index.
/// For a positive trend the bits order as the values do, so this is the order of
/// `t_b.total_cmp(t_a).then(a.cmp(b))` without looking trends up while sorting.
#[inline]
fn key(trend: f32, item: ItemIdx) -> u64 {
    debug_assert!(trend > 0.0);
    (u64::from(!trend.to_bits()) << 32) | u64::from(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The list as a selection over every item by trend computes it.
    fn by_sorting(trend: &[f32], pool: usize) -> Vec<ItemIdx> {
        let mut order: Vec<ItemIdx> = (0..trend.len() as ItemIdx)
            .filter(|&i| trend[i as usize] > 0.0)
            .collect();
        order.sort_by(|&a, &b| trend[b as usize].total_cmp(&trend[a as usize]).then(a.cmp(&b)));
        order.truncate(pool);
        order
    }

    /// Runs steps of decay, views (item, engaged thousandths) and a growing visible prefix,
    /// and compares the list with a full sort after every step.
    fn check(pool: usize, decay: f32, steps: &[(usize, Vec<(usize, u32)>)]) {
        let mut trend: Vec<f32> = Vec::new();
        let mut rank = TrendingRank::new(0);
        let mut list = Vec::new();
        for (visible, views) in steps {
            for t in &mut trend {
                *t *= decay;
            }
            rank.decay(decay);
            for &(i, milli) in views {
                if !trend.is_empty() {
                    let i = i % trend.len();
                    trend[i] += milli as f32 / 1000.0;
                }
            }
            if trend.len() < *visible {
                trend.resize(*visible, 0.0);
            }
            rank.rank(&trend, pool, &mut list);
            assert_eq!(list, by_sorting(&trend, pool), "{trend:?}");
        }
    }

    #[test]
    fn ties_and_underflow() {
        // Equal trends order by index; a tiny decay drives trends to zero, and out of the list.
        let same = vec![(0, 500), (1, 500), (2, 500), (3, 500)];
        check(
            2,
            0.5,
            &[(4, vec![]), (4, same.clone()), (4, vec![]), (4, vec![(3, 1)])],
        );
        let mut steps = vec![(3, vec![]), (3, vec![(0, 1000), (1, 2)])];
        steps.extend(std::iter::repeat_n((3, vec![]), 200));
        check(1, 1e-3, &steps);
    }

    proptest! {
        #[test]
        fn same_list_as_sorting_everything(
            pool in 1usize..8,
            decay in prop_oneof![Just(0.5f32), Just(0.5f32.powf(0.1)), 0.01f32..1.0],
            steps in proptest::collection::vec(
                (1usize..40, proptest::collection::vec((0usize..40, 0u32..1001), 0..12)),
                1..40,
            ),
        ) {
            check(pool, decay, &steps);
        }
    }
}
