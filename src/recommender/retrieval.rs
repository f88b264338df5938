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
    let jittered = keys
        .iter()
        .enumerate()
        .filter(|&(t, _)| shared.topic_visible[t] > 0)
        .map(|(t, &m)| (m + 1e-4 * rng.random::<f32>(), t as u16));
    if want <= TopFew::WIDTH {
        let mut top = TopFew::default();
        jittered.for_each(|entry| top.offer(entry));
        top.write(want, &mut scratch.topics);
    } else {
        jittered.for_each(|entry| keep_top(&mut scratch.topics, want, entry));
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

/// [`keep_top`] for up to [`TopFew::WIDTH`] entries without a branch on the keys, which the
/// processor would mispredict: each entry is a 64-bit number that orders as the entries do (a
/// higher key first, then the one offered first), and a fixed network of max and min (moves
/// on a comparison, not jumps) keeps the highest [`TopFew::WIDTH`].
#[derive(Debug, Default)]
struct TopFew {
    /// The highest entries so far, encoded ([`TopFew::encode`]), highest first; 0 is none.
    slots: [u64; TopFew::WIDTH],
    /// Entries offered.
    offered: u32,
}

impl TopFew {
    const WIDTH: usize = 4;

    /// Offers `entry`, which [`TopFew::write`] then keeps if it is among the highest.
    #[inline(always)]
    fn offer(&mut self, entry: (f32, u16)) {
        let mut x = Self::encode(entry, self.offered);
        self.offered += 1;
        for slot in &mut self.slots {
            let (hi, lo) = ((*slot).max(x), (*slot).min(x));
            *slot = hi;
            x = lo;
        }
    }

    /// Replaces `top` by the first `want` entries of a stable descending sort of the entries
    /// offered (`want` ≤ [`TopFew::WIDTH`]), as [`keep_top`] would hold them.
    #[inline(always)]
    fn write(&self, want: usize, top: &mut Vec<(f32, u16)>) {
        top.clear();
        let n = want.min(self.offered as usize);
        top.extend(self.slots[..n].iter().map(|&x| Self::decode(x)));
    }

    /// The key's bits in the order of `f32::total_cmp` (as an unsigned number) on top, then
    /// the offer's number counted down, so that of equal keys the one offered first is higher,
    /// then the topic. Never 0: fewer than 2¹⁶ offers.
    #[inline(always)]
    fn encode((key, topic): (f32, u16), order: u32) -> u64 {
        let bits = key.to_bits();
        // A negative float's bits reversed, a positive one's sign bit set: unsigned order is
        // then total order.
        let ordered = bits ^ (((bits as i32 >> 31) as u32) | 1 << 31);
        u64::from(ordered) << 32 | u64::from(u16::MAX - order as u16) << 16 | u64::from(topic)
    }

    /// The entry `encode` made `x` of.
    #[inline(always)]
    fn decode(x: u64) -> (f32, u16) {
        let ordered = (x >> 32) as u32;
        let bits = ordered ^ (((!ordered as i32 >> 31) as u32) | 1 << 31);
        (f32::from_bits(bits), x as u16)
    }
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
    use super::{TopFew, keep_top};
    use proptest::prelude::*;

    #[test]
    fn keeps_the_strongest_in_order() {
        let mut top = Vec::new();
        for (t, key) in [0.2f32, 0.9, 0.1, 0.9, 0.5].into_iter().enumerate() {
            keep_top(&mut top, 3, (key, t as u16));
        }
        assert_eq!(top, vec![(0.9, 1), (0.9, 3), (0.5, 4)]);
    }

    #[test]
    fn top_few_encodes_in_total_order() {
        let keys = [
            f32::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1e-30,
            0.7,
            3.0,
            f32::INFINITY,
            f32::NAN,
        ];
        for (i, &a) in keys.iter().enumerate() {
            let x = TopFew::encode((a, 7), 3);
            assert_eq!(TopFew::decode(x).0.to_bits(), a.to_bits(), "{a} round trip");
            assert_eq!(TopFew::decode(x).1, 7);
            for &b in &keys[i + 1..] {
                assert!(TopFew::encode((b, 0), 9) > x, "{b} above {a}");
            }
        }
        // Equal keys: the one offered first is higher.
        assert!(TopFew::encode((1.0, 5), 0) > TopFew::encode((1.0, 2), 1));
    }

    proptest! {
        /// [`TopFew`] keeps what [`keep_top`] keeps, ties included.
        #[test]
        fn top_few_matches_keep_top(keys in proptest::collection::vec(-3i8..5, 0..40), want in 0usize..=4) {
            let mut expected = Vec::new();
            let mut few = TopFew::default();
            for (t, &k) in keys.iter().enumerate() {
                // Halves and negative zero among the keys: ties and signs are tested too.
                let key = if k == -3 { -0.0 } else { f32::from(k) / 2.0 };
                keep_top(&mut expected, want, (key, t as u16));
                few.offer((key, t as u16));
            }
            let mut got = vec![(9.0, 9)];
            few.write(want, &mut got);
            let bits = |v: &[(f32, u16)]| v.iter().map(|&(k, t)| (k.to_bits(), t)).collect::<Vec<_>>();
            prop_assert_eq!(bits(&got), bits(&expected));
        }

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
