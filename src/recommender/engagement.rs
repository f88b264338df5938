//! `engagement`: rank candidates by predicted watch time, learned online, with exploration.
//!
//! Predicted watch fraction = the profile's estimate for the item's topic, scaled by the
//! item's smoothed completion rate relative to the mean, and by a bonus for followed
//! creators; predicted watch time = that fraction times the item's duration. With
//! probability `exploration` the impression is a uniformly random item instead.

use super::{Policy, Scratch, Shared, ViewerView, random_visible, retrieval};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::EngagementConfig;
use rand::RngExt;

/// The watch-time-optimising policy.
#[derive(Debug, Clone)]
pub struct Engagement {
    exploration: f64,
}

impl Engagement {
    /// From the arm's `policy` table.
    pub fn new(config: &EngagementConfig) -> Engagement {
        Engagement {
            exploration: config.exploration,
        }
    }
}

/// Predicted watch fraction of `item` for `viewer`.
#[inline]
pub fn predicted_fraction(shared: &Shared, viewer: &ViewerView, item: ItemIdx) -> f32 {
    let it = &shared.catalog.items[item as usize];
    let quality = shared.completion[item as usize] / shared.mean_completion.max(1e-3);
    let trust = if viewer.follows.contains(&it.creator) {
        shared.config.follow_bonus as f32
    } else {
        1.0
    };
    (viewer.profile[it.topic as usize] * quality * trust).min(1.0)
}

/// Predicted watch time of `item` for `viewer`, seconds: the score `engagement` ranks by.
#[inline]
pub fn predicted_seconds(shared: &Shared, viewer: &ViewerView, item: ItemIdx) -> f32 {
    predicted_fraction(shared, viewer, item) * shared.catalog.items[item as usize].duration
}

impl Policy for Engagement {
    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> ItemIdx {
        if rng.random_bool(self.exploration) {
            return random_visible(shared, viewer, rng);
        }
        retrieval::retrieve(shared, viewer, rng, scratch);
        let mut best = None;
        let mut best_score = f32::NEG_INFINITY;
        for &(item, _) in &scratch.candidates {
            let score = predicted_seconds(shared, viewer, item);
            if score > best_score && !viewer.seen_recently(item) {
                best = Some(item);
                best_score = score;
            }
        }
        best.unwrap_or_else(|| random_visible(shared, viewer, rng))
    }
}
