//! The exhaustive ranking kernel: `engagement`'s choice among every visible item, computed by
//! topic blocks, with exact pruning of blocks that cannot hold the best item.
//!
//! `engagement` scores an item i of topic t for a viewer with profile m as
//! s_i = min(1, m_t · r_i · trust_i) · d_i, with r_i the item's completion ratio and d_i its
//! duration (`engagement::predicted_seconds`). Within one step r and d are the same for every
//! viewer, so [`TopicBlocks`] lays them out once per step, grouped by topic, and for each block
//! sorts the ratios and keeps prefix maxima of r·d and suffix maxima of d along them. With trust
//! 1 every item has s_i ≤ d_i and s_i ≤ m_t · r_i·d_i (up to a few units of rounding, covered by
//! a margin of 10⁻⁴), so splitting the block at r = 1 / m_t bounds it by
//! max(m_t · max{r·d : r < 1/m_t}, max{d : r ≥ 1/m_t}): the exact block maximum when nothing
//! is excluded. Scores rise with m_t, so this envelope is tabulated once per step at 65 values
//! of m from 0 to 2, and a viewer's bound is the table's entry at the next grid point up (above
//! the grid, the block's longest item). For m_t ≤ 0 no score is above 0. Followed
//! creators' items (trust ≠ 1) are scored one by one and raise their block's bound. Blocks are
//! visited from the highest bound down until the next bound is below the best score so far:
//! the rest cannot win. A visited block is scored as one multiply-min-multiply per item with
//! m_t held in a register, which the compiler vectorises; followed items and the no-repeat
//! window are patched in, and ties go to the lowest item index, as ranking the catalog in
//! upload order does. The choice is the same item, bit for bit, as `engagement`'s general path
//! over [`super::retrieval`]'s exhaustive candidates (a property test below checks it).
//!
//! With the learned stance in the ranking (`recommender.agreement_weight` > 0), a
//! stance-bearing block's items are scored with their agreement factor
//! exp(−β_u · |x_i − x̂_u|) too. The factor is at most 1, so it only lowers scores: the bounds
//! above, computed without it, stay upper bounds and the pruning stays exact (they are merely
//! less tight on those blocks).

use super::{Ranked, Shared, ViewerView};
use crate::agreement;
use crate::catalog::{Catalog, ItemIdx};

/// Relative margin on a block's bound, far above the rounding of the products it bounds.
const MARGIN: f32 = 1.0 + 1e-4;

/// Grid points of the profile value at which each block's bound is tabulated per step.
const GRID: usize = 64;
/// The grid spans profile values 0 to GRID_TOP; above it a block is bounded by its longest item.
const GRID_TOP: f32 = 2.0;

/// The profile value at grid point g.
#[inline]
fn grid_point(g: usize) -> f32 {
    g as f32 * (GRID_TOP / GRID as f32)
}

/// The visible items' ranking inputs for one step, grouped by topic.
#[derive(Debug, Clone, Default)]
pub struct TopicBlocks {
    /// Start of each topic's block; K + 1 entries, the last the number of visible items.
    offsets: Vec<u32>,
    /// Item of each position (ascending within a block).
    items: Vec<ItemIdx>,
    /// Completion ratio r_i of each position, as `engagement::predicted_fraction` computes it.
    ratio: Vec<f32>,
    /// Duration d_i of each position, seconds.
    duration: Vec<f32>,
    /// Stance x_i of each position.
    stance: Vec<f32>,
    /// Whether each topic's block is stance-bearing.
    bearing: Vec<bool>,
    /// Each block's ratios in ascending order (positions as in `items`).
    sorted_ratio: Vec<f32>,
    /// Along `sorted_ratio`, block t's largest r·d among its first j items at position
    /// offsets[t] + t + j (each block has one more entry than items).
    prefix_ratio_duration: Vec<f32>,
    /// Along `sorted_ratio`, block t's largest d among its items from the j-th on, at position
    /// offsets[t] + t + j.
    suffix_duration: Vec<f32>,
    /// Block t's bound at grid point g (m = g · GRID_TOP / GRID) at t · (GRID + 1) + g.
    envelope: Vec<f32>,
    /// (r, r·d, d) of one block, for sorting.
    sort_buffer: Vec<(f32, f32, f32)>,
    /// Each catalog item's rank within its topic's list (static).
    rank: Vec<u32>,
}

/// Buffers the kernel reuses across calls (one set per thread).
#[derive(Debug, Clone, Default)]
pub struct KernelScratch {
    /// Scores of the visited blocks, by position.
    scores: Vec<f32>,
    /// Each topic's bound.
    bounds: Vec<f32>,
    /// Scores to patch in (position, score): followed items, then the no-repeat window.
    patches: Vec<(u32, f32)>,
}

impl TopicBlocks {
    /// Empty blocks for `catalog`; [`TopicBlocks::rebuild`] fills them each step.
    pub fn new(catalog: &Catalog) -> TopicBlocks {
        let mut rank = vec![0u32; catalog.items.len()];
        for list in &catalog.topic_items {
            for (r, &item) in list.iter().enumerate() {
                rank[item as usize] = r as u32;
            }
        }
        let k = catalog.n_topics();
        TopicBlocks {
            offsets: Vec::with_capacity(k + 1),
            items: Vec::with_capacity(catalog.items.len()),
            ratio: Vec::with_capacity(catalog.items.len()),
            duration: Vec::with_capacity(catalog.items.len()),
            stance: Vec::with_capacity(catalog.items.len()),
            bearing: Vec::with_capacity(k),
            sorted_ratio: Vec::with_capacity(catalog.items.len()),
            prefix_ratio_duration: Vec::with_capacity(catalog.items.len() + k),
            suffix_duration: Vec::with_capacity(catalog.items.len() + k),
            envelope: Vec::with_capacity(k * (GRID + 1)),
            sort_buffer: Vec::new(),
            rank,
        }
    }

    /// Lays out the visible items (`topic_visible` per topic) with this step's completion
    /// ratios.
    pub fn rebuild(&mut self, catalog: &Catalog, topic_visible: &[u32], ranked: &[Ranked]) {
        self.offsets.clear();
        self.items.clear();
        self.ratio.clear();
        self.duration.clear();
        self.stance.clear();
        self.bearing.clear();
        self.sorted_ratio.clear();
        self.prefix_ratio_duration.clear();
        self.suffix_duration.clear();
        self.envelope.clear();
        for (list, &n) in catalog.topic_items.iter().zip(topic_visible) {
            self.offsets.push(self.items.len() as u32);
            // A topic's items share its flags.
            self.bearing.push(
                list.first()
                    .is_some_and(|&i| catalog.items[i as usize].stance_bearing()),
            );
            self.sort_buffer.clear();
            for &item in &list[..n as usize] {
                let r = ranked[item as usize].ratio;
                let d = catalog.items[item as usize].duration;
                self.items.push(item);
                self.ratio.push(r);
                self.duration.push(d);
                self.stance.push(catalog.items[item as usize].stance);
                self.sort_buffer.push((r, r * d, d));
            }
            self.sort_buffer.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            let mut top = 0.0f32;
            self.prefix_ratio_duration.push(top);
            for &(r, rd, _) in &self.sort_buffer {
                self.sorted_ratio.push(r);
                top = top.max(rd);
                self.prefix_ratio_duration.push(top);
            }
            let start = self.suffix_duration.len();
            self.suffix_duration
                .resize(start + self.sort_buffer.len() + 1, 0.0);
            let mut top = 0.0f32;
            for (j, &(_, _, d)) in self.sort_buffer.iter().enumerate().rev() {
                top = top.max(d);
                self.suffix_duration[start + j] = top;
            }
            // max(m · max{r·d : r < 1/m}, max{d : r ≥ 1/m}) at each grid point.
            let a = self.sorted_ratio.len() - self.sort_buffer.len();
            for g in 0..=GRID {
                let m = grid_point(g);
                let j = if m > 0.0 {
                    self.sorted_ratio[a..].partition_point(|&r| r < 1.0 / m)
                } else {
                    self.sort_buffer.len()
                };
                let prefix = self.prefix_ratio_duration[start + j];
                self.envelope
                    .push((m * prefix * MARGIN).max(self.suffix_duration[start + j]));
            }
        }
        self.offsets.push(self.items.len() as u32);
    }

    /// An upper bound on block t's scores (trust 1) for a profile value m > 0: the block's
    /// envelope at the next grid point at or above m (scores rise with m), or its longest
    /// duration beyond the grid.
    #[inline]
    fn bound(&self, t: usize, m: f32) -> f32 {
        let mut g = (m * (GRID as f32 / GRID_TOP)).ceil() as usize;
        if g <= GRID && grid_point(g) < m {
            g += 1;
        }
        if g <= GRID {
            self.envelope[t * (GRID + 1) + g]
        } else {
            self.suffix_duration[self.offsets[t] as usize + t]
        }
    }

    /// Position of a visible item in the blocks.
    #[inline]
    fn position(&self, catalog: &Catalog, item: ItemIdx) -> u32 {
        let topic = catalog.items[item as usize].topic as usize;
        self.offsets[topic] + self.rank[item as usize]
    }

    /// Fills `bounds` with each block's bound for `viewer` and `patches` with the scores to
    /// patch into the blocks: the followed items, scored exactly (they raise their block's
    /// bound), then the no-repeat window's items, at -∞.
    #[inline]
    fn bounds_and_patches(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        bounds: &mut Vec<f32>,
        patches: &mut Vec<(u32, f32)>,
    ) {
        let k = self.offsets.len() - 1;
        let catalog = shared.catalog;
        // Each block's bound without follows, from the step's table.
        bounds.clear();
        for t in 0..k {
            let m = viewer.profile[t];
            bounds.push(if m > 0.0 { self.bound(t, m) } else { 0.0 });
        }
        // The learned stance's weight for this viewer; 0 when the ranking does not use it.
        let weight = viewer.agreement;
        let agreeing = |t: usize| weight > 0.0 && self.bearing[t];
        // Followed items, scored exactly; they raise their block's bound.
        patches.clear();
        let bonus = shared.config.follow_bonus as f32;
        for &creator in viewer.follows {
            for &item in &catalog.creator_items[creator as usize] {
                if item as usize >= shared.n_visible {
                    break;
                }
                let j = self.position(catalog, item);
                let topic = catalog.items[item as usize].topic;
                let m = viewer.profile[topic as usize];
                let factor = if agreeing(topic as usize) {
                    agreement::ranking_factor(weight, viewer.stance, self.stance[j as usize])
                } else {
                    1.0
                };
                let s = (m * self.ratio[j as usize] * bonus * factor).min(1.0) * self.duration[j as usize];
                bounds[topic as usize] = bounds[topic as usize].max(s);
                patches.push((j, s));
            }
        }
        for part in viewer.recent {
            for &item in part {
                if (item as usize) < shared.n_visible {
                    patches.push((self.position(catalog, item), f32::NEG_INFINITY));
                }
            }
        }
    }

    /// The visible item with the highest predicted watch seconds for `viewer`, not shown within
    /// the no-repeat window, lowest index on ties; None if every visible item was.
    pub fn best(&self, shared: &Shared, viewer: &ViewerView, scratch: &mut KernelScratch) -> Option<ItemIdx> {
        let KernelScratch {
            scores,
            bounds,
            patches,
        } = scratch;
        scores.resize(self.items.len(), 0.0);
        self.bounds_and_patches(shared, viewer, bounds, patches);
        // The learned stance's weight for this viewer; 0 when the ranking does not use it.
        let weight = viewer.agreement;
        let agreeing = |t: usize| weight > 0.0 && self.bearing[t];
        // Visit blocks from the highest bound down (a selection each time: few blocks are
        // visited) until the next bound is below the best score so far.
        let mut best: Option<ItemIdx> = None;
        let mut best_score = f32::NEG_INFINITY;
        loop {
            let (mut t, mut bound) = (usize::MAX, f32::NEG_INFINITY);
            for (u, &v) in bounds.iter().enumerate() {
                if v > bound {
                    (t, bound) = (u, v);
                }
            }
            if t == usize::MAX || bound < best_score {
                break;
            }
            bounds[t] = f32::NEG_INFINITY;
            let (a, b) = (self.offsets[t] as usize, self.offsets[t + 1] as usize);
            let block = &mut scores[a..b];
            let (ratio, duration) = (&self.ratio[a..b], &self.duration[a..b]);
            if agreeing(t) {
                let stance = &self.stance[a..b];
                score_agreeing(
                    viewer.profile[t],
                    ratio,
                    duration,
                    stance,
                    weight,
                    viewer.stance,
                    block,
                );
            } else {
                score_block(viewer.profile[t], ratio, duration, block);
            }
            for &(j, s) in patches.iter() {
                if (a..b).contains(&(j as usize)) {
                    block[j as usize - a] = s;
                }
            }
            let top = max(block);
            // Within a block items ascend, so the first position holding the maximum is its
            // lowest item; across blocks the lower item wins a tie.
            if top > best_score || (top == best_score && top > f32::NEG_INFINITY) {
                let item = self.items[a + block.iter().position(|&s| s == top).unwrap_or(0)];
                if top > best_score || best.is_none_or(|b| item < b) {
                    best = Some(item);
                    best_score = top;
                }
            }
        }
        best
    }
}

/// Scores one topic's block: min(1, m · r) · d.
#[inline]
fn score_block(m: f32, ratio: &[f32], duration: &[f32], out: &mut [f32]) {
    for ((s, &r), &d) in out.iter_mut().zip(ratio).zip(duration) {
        *s = (m * r).min(1.0) * d;
    }
}

/// Scores one stance-bearing topic's block with the agreement factor:
/// min(1, m · r · exp(−β_u · |x − x̂|)) · d, the product in `engagement::predicted_fraction`'s
/// order.
#[inline]
fn score_agreeing(
    m: f32,
    ratio: &[f32],
    duration: &[f32],
    stance: &[f32],
    weight: f32,
    estimate: f32,
    out: &mut [f32],
) {
    for (((s, &r), &d), &x) in out.iter_mut().zip(ratio).zip(duration).zip(stance) {
        *s = (m * r * agreement::ranking_factor(weight, estimate, x)).min(1.0) * d;
    }
}

/// The largest value of `x` (NEG_INFINITY if empty), with independent lanes so it vectorises.
#[inline]
fn max(x: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = if v > *a { v } else { *a };
        }
    }
    acc.iter()
        .chain(rest)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

#[cfg(test)]
mod tests {
    use super::{KernelScratch, max};
    use crate::boost::BoostView;
    use crate::catalog::{Catalog, ItemIdx};
    use crate::recommender::fixture::Platform;
    use crate::recommender::{Allow, FactorView, Source, ViewerView, engagement, no_factors, pick_best};
    use crate::scenario::Scenario;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// The kernel picks the same item as ranking every visible item in upload order with
        /// `predicted_seconds` (ties and all), whatever the profile, the completion rates, the
        /// follows, the no-repeat window and the learned stance (politics bears stance).
        #[test]
        fn kernel_matches_ranking_the_catalog(
            step in 0u32..40,
            completion in proptest::collection::vec(0.0f32..1.0, 700),
            mean in 0.0f32..0.8,
            profile in proptest::collection::vec(prop_oneof![Just(0.0f32), Just(0.25f32), 0.0f32..0.4, 0.0f32..2.0, -0.3f32..0.0], 9),
            recent in proptest::collection::vec(0u32..700, 0..30),
            follows in proptest::collection::vec(0u32..40, 0..6),
            bonus in 0.5f64..8.0,
            negative in proptest::bool::weighted(0.2),
            uniform in proptest::bool::weighted(0.2),
            stance in -1.0f32..1.0,
            agreement in prop_oneof![Just(0.0f32), 0.0f32..4.0],
        ) {
            // Sometimes a profile of skipped topics only: every score at or below zero.
            let profile: Vec<f32> = profile.iter().map(|&m| if negative { -m.abs() } else { m }).collect();
            let mut scenario = Scenario::default();
            scenario.catalog.items = 300;
            scenario.catalog.creators = 40;
            scenario.catalog.arrivals_per_step = 9.0;
            scenario.feed.max_steps = 40;
            scenario.recommender.follow_bonus = bonus;
            let mut catalog = Catalog::generate(&scenario, 0);
            // Durations in steps of 20 seconds and coarse rates make ties common.
            // Or every item alike: every block ties, and only the lowest index decides.
            for item in &mut catalog.items {
                item.duration = if uniform { 30.0 } else { (item.duration / 20.0).ceil() * 20.0 };
            }
            let mut completion = completion;
            completion.resize(catalog.items.len(), 0.25);
            for c in &mut completion {
                *c = if uniform { 0.3 } else { (*c * 4.0).round() / 4.0 };
            }
            let platform = Platform::new(scenario, catalog, step, &completion, mean, true);
            let (shared, blocks, n_visible) =
                (platform.shared(), platform.blocks.as_ref().unwrap(), platform.n_visible());
            let recent: Vec<ItemIdx> = recent.into_iter().filter(|&i| (i as usize) < n_visible).collect();
            let (a, b) = recent.split_at(recent.len() / 2);
            let viewer = ViewerView {
                profile: &profile,
                counts: &[1.0; 9],
                recent: [a, b],
                window_topics: [&[], &[]],
                follows: &follows,
                follow_filter: crate::recommender::FollowFilter::ALL,
                boosts: BoostView::NONE,
                allow: Allow::ANY,
                stance,
                agreement,
                factors: FactorView::NONE,
                latent: None,
            };
            let candidates: Vec<(ItemIdx, Source)> =
                (0..n_visible as ItemIdx).map(|i| (i, Source::Catalog)).collect();
            let expected = pick_best(&candidates, &viewer, None, no_factors, |_, item| {
                let s = engagement::predicted_seconds(&shared, &viewer, item);
                (s, [s, 0.0, 0.0, 0.0], s)
            })
            .map(|(item, _)| item);
            let mut scratch = KernelScratch::default();
            prop_assert_eq!(blocks.best(&shared, &viewer, &mut scratch), expected);
            // Again with the buffers as a previous call left them.
            prop_assert_eq!(blocks.best(&shared, &viewer, &mut scratch), expected);
        }
    }

    #[test]
    fn max_of_lanes_and_remainder() {
        assert_eq!(max(&[]), f32::NEG_INFINITY);
        assert_eq!(max(&[1.0, 3.0, 2.0]), 3.0);
        let x: Vec<f32> = (0..37).map(|i| ((i * 17) % 37) as f32).collect();
        assert_eq!(max(&x), 36.0);
        let mut y = vec![0.5f32; 16];
        y[15] = 2.0;
        assert_eq!(max(&y), 2.0);
    }
}
