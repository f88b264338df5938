//! Candidate retrieval: a few dozen items from the viewer's strongest estimated topics, the
//! trending list and the whole catalog, as real two-stage feeds retrieve before they rank
//! (Covington et al. 2016). With `feed.retrieval = "exhaustive"` every visible item is a
//! candidate instead.

use super::{Scratch, Shared, Source, ViewerView};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::Retrieval;
use rand::RngExt;

/// Fills `scratch.candidates` for `viewer`. Duplicates are possible and harmless.
pub fn retrieve(shared: &Shared, viewer: &ViewerView, rng: &mut Rng, scratch: &mut Scratch) {
    let feed = shared.feed;
    let catalog = shared.catalog;
    scratch.candidates.clear();
    if feed.retrieval == Retrieval::Exhaustive {
        scratch
            .candidates
            .extend((0..shared.n_visible as ItemIdx).map(|i| (i, Source::Catalog)));
        return;
    }

    // The strongest estimated topics; ties (a fresh profile) are broken at random.
    scratch.topics.clear();
    for (t, &m) in viewer.profile.iter().enumerate() {
        if shared.topic_visible[t] > 0 {
            scratch.topics.push((m + 1e-4 * rng.random::<f32>(), t as u16));
        }
    }
    let top = (feed.top_topics as usize).min(scratch.topics.len());
    if top > 0 {
        scratch
            .topics
            .select_nth_unstable_by(top - 1, |a, b| b.0.total_cmp(&a.0));
        for _ in 0..feed.topic_candidates {
            let t = scratch.topics[rng.random_range(0..top)].1 as usize;
            let pool = &catalog.topic_items[t][..shared.topic_visible[t] as usize];
            scratch
                .candidates
                .push((pool[rng.random_range(0..pool.len())], Source::Topic));
        }
    }
    if !shared.trending.is_empty() {
        for _ in 0..feed.trending_candidates {
            let item = shared.trending[rng.random_range(0..shared.trending.len())];
            scratch.candidates.push((item, Source::Trending));
        }
    }
    for _ in 0..feed.explore_candidates {
        let item = rng.random_range(0..shared.n_visible) as ItemIdx;
        scratch.candidates.push((item, Source::Explore));
    }
}
