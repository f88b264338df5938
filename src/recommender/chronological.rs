//! `chronological`: newest first, from followed creators and fresh uploads; reads no profile.
//!
//! Candidates are the newest uploads and the newest items of each followed creator. Score =
//! the upload step (recency), plus `following_window` for an item by a followed creator
//! uploaded within the last `following_window` steps: the viewer's "following" items come
//! first, newest first, then everyone's fresh uploads. Follows are explicit choices of the
//! viewer, not a profile the platform infers.

use super::{
    MAX_PARTS, Policy, Scratch, Shared, Source, Trace, ViewerView, begin, no_factors, pick_best,
    random_visible,
};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::ChronologicalConfig;

/// Newest-first recommendations.
#[derive(Debug, Clone)]
pub struct Chronological {
    following_window: u32,
}

impl Chronological {
    /// From the arm's `policy` table.
    pub fn new(config: &ChronologicalConfig) -> Chronological {
        Chronological {
            following_window: config.following_window,
        }
    }
}

impl Policy for Chronological {
    fn name(&self) -> &'static str {
        "chronological"
    }

    fn part_names(&self) -> &'static [&'static str] {
        &["recency", "following"]
    }

    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        scratch: &mut Scratch,
        mut trace: Option<&mut Trace>,
    ) -> (ItemIdx, Source) {
        begin(&mut trace, self);
        let catalog = shared.catalog;
        // Enough of each list that one item is not among the last `no_repeat` impressions.
        let need = shared.feed.no_repeat as usize + 1;
        scratch.candidates.clear();
        let n = shared.n_visible;
        for item in (n.saturating_sub(need)..n).rev() {
            scratch.candidates.push((item as ItemIdx, Source::Fresh));
        }
        let oldest = shared.step as i64 - i64::from(self.following_window);
        for &creator in viewer.follows {
            let items = &catalog.creator_items[creator as usize];
            let visible =
                items.partition_point(|&i| catalog.items[i as usize].upload_step <= shared.step as i32);
            for &item in items[..visible].iter().rev().take(need) {
                if i64::from(catalog.items[item as usize].upload_step) < oldest {
                    break;
                }
                scratch.candidates.push((item, Source::Following));
            }
        }
        let window = self.following_window as f32;
        pick_best(&scratch.candidates, viewer, trace, no_factors, |c, item| {
            let recency = catalog.items[item as usize].upload_step as f32;
            let following = if scratch.candidates[c].1 == Source::Following {
                window
            } else {
                0.0
            };
            let mut parts = [0.0; MAX_PARTS];
            parts[0] = recency;
            parts[1] = following;
            (recency + following, parts, recency + following)
        })
        .unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Explore))
    }
}
