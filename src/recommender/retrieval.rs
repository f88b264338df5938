//! Candidate retrieval: a few dozen items from the viewer's strongest estimated topics, the
//! trending list and the whole catalog, as real two-stage feeds retrieve before they rank
//! (Covington et al. 2016). With `feed.retrieval = "exhaustive"` every visible item is a
//! candidate instead.

use super::{Scratch, Shared, Source, ViewerView, prefetch};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::Retrieval;
use rand::RngExt;

/// Fills `scratch.candidates` for `viewer`. Duplicates are possible and harmless.
#[inline]
pub fn retrieve(shared: &Shared, viewer: &ViewerView, rng: &mut Rng, scratch: &mut Scratch) {
    retrieve_by(shared, viewer.profile, rng, scratch);
}

/// [`retrieve`] with the strongest topics chosen by `keys` (one per topic) instead of the
/// learned profile: the `oracle` benchmark passes the viewer's true interests.
pub fn retrieve_by(shared: &Shared, keys: &[f32], rng: &mut Rng, scratch: &mut Scratch) {
    let feed = shared.feed;
    scratch.candidates.clear();
    if feed.retrieval == Retrieval::Exhaustive {
        scratch
            .candidates
            .extend((0..shared.n_visible as ItemIdx).map(|i| (i, Source::Catalog)));
        return;
    }

    // The strongest estimated topics, strongest first; ties (a fresh profile) are broken by a
    // tiny random jitter.
    scratch.topics.clear();
    let want = feed.top_topics as usize;
    for (t, &m) in keys.iter().enumerate() {
        if shared.topic_visible[t] > 0 {
            keep_top(
                &mut scratch.topics,
                want,
                (m + 1e-4 * rng.random::<f32>(), t as u16),
            );
        }
    }
    let top = scratch.topics.len();
    let n = feed.topic_candidates as usize;
    if top > 0 && top <= POOLS {
        // The strongest topics' pools of visible items, looked up once for all the draws.
        let mut pools: [&[ItemIdx]; POOLS] = [&[]; POOLS];
        for (pool, &(_, t)) in pools.iter_mut().zip(&scratch.topics) {
            *pool = visible_pool(shared, t as usize);
        }
        draw_topic_candidates(shared, n, top, |r| pools[r], rng, &mut scratch.candidates);
    } else if top > 0 {
        let topics = &scratch.topics;
        let pool = |r: usize| visible_pool(shared, topics[r].1 as usize);
        draw_topic_candidates(shared, n, top, pool, rng, &mut scratch.candidates);
    }
    trending_and_explore(shared, rng, scratch);
}

/// Strongest topics up to this many have their pools looked up once per retrieval, on the
/// stack (`feed.top_topics` is 3 by default); more are looked up at every draw.
const POOLS: usize = 8;

/// The visible items of topic `t`.
#[inline(always)]
fn visible_pool<'s>(shared: &Shared<'s>, t: usize) -> &'s [ItemIdx] {
    &shared.catalog.topic_items[t][..shared.topic_visible[t] as usize]
}

/// Appends `n` topic candidates: each draws one of the `top` strongest topics uniformly
/// (`pool(r)` is the r-th one's visible items), then an item uniformly in its pool.
#[inline(always)]
fn draw_topic_candidates<'s>(
    shared: &Shared,
    n: usize,
    top: usize,
    pool: impl Fn(usize) -> &'s [ItemIdx],
    rng: &mut Rng,
    candidates: &mut Vec<(ItemIdx, Source)>,
) {
    // `extend` over a range reserves once and writes without a capacity check per candidate.
    candidates.extend((0..n).map(|_| {
        let pool = pool(rng.random_range(0..top as u32) as usize);
        let item = pool[rng.random_range(0..pool.len() as u32) as usize];
        // The scoring reads the record of every candidate: its cache misses overlap here.
        prefetch(&shared.ranked[item as usize]);
        (item, Source::Topic)
    }));
}

/// Adds retrieval's trending and exploration candidates (§7) to `scratch.candidates`.
#[inline]
pub fn trending_and_explore(shared: &Shared, rng: &mut Rng, scratch: &mut Scratch) {
    let feed = shared.feed;
    let candidates = &mut scratch.candidates;
    let trending = shared.trending;
    if !trending.is_empty() {
        candidates.extend((0..feed.trending_candidates).map(|_| {
            let item = trending[rng.random_range(0..trending.len() as u32) as usize];
            prefetch(&shared.ranked[item as usize]);
            (item, Source::Trending)
        }));
    }
    candidates.extend((0..feed.explore_candidates).map(|_| {
        let item = rng.random_range(0..shared.n_visible as u32);
        prefetch(&shared.ranked[item as usize]);
        (item, Source::Explore)
    }));
}

/// Adds `entry` to `top`, which holds at most `want` entries in descending order of their key
/// (equal keys in the order they came): the first `want` of a stable descending sort of all
/// entries offered.
#[inline]
pub(super) fn keep_top(top: &mut Vec<(f32, u16)>, want: usize, entry: (f32, u16)) {
    let beats = |a: &(f32, u16), b: &(f32, u16)| a.0.total_cmp(&b.0).is_gt();
    if top.len() < want {
        top.push(entry);
    } else if want > 0 && beats(&entry, &top[want - 1]) {
        top[want - 1] = entry;
    } else {
        return;
    }
    let mut i = top.len() - 1;
    while i > 0 && beats(&top[i], &top[i - 1]) {
        top.swap(i, i - 1);
        i -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::keep_top;
    use proptest::prelude::*;

    #[test]
    fn keeps_the_strongest_in_order() {
        let mut top = Vec::new();
        for (t, key) in [0.2f32, 0.9, 0.1, 0.9, 0.5].into_iter().enumerate() {
            keep_top(&mut top, 3, (key, t as u16));
        }
        assert_eq!(top, vec![(0.9, 1), (0.9, 3), (0.5, 4)]);
    }

    proptest! {
        /// The list is the first `want` entries of a stable descending sort of all of them.
        #[test]
        fn matches_a_stable_sort(keys in proptest::collection::vec(0u8..8, 0..40), want in 0usize..12) {
            let entries: Vec<(f32, u16)> =
                keys.iter().enumerate().map(|(t, &k)| (f32::from(k) / 4.0, t as u16)).collect();
            let mut top = Vec::new();
            for &e in &entries {
                keep_top(&mut top, want, e);
            }
            let mut sorted = entries.clone();
            sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
            sorted.truncate(want);
            prop_assert_eq!(top, sorted);
        }
    }
}
