//! `engagement`: rank candidates by predicted watch time, learned online, with exploration.
//!
//! Predicted watch fraction = the profile's estimate for the item's topic, scaled by the
//! item's smoothed completion rate relative to the mean, and by a bonus for followed
//! creators, and for stance-bearing items by the agreement factor of the learned stance
//! (`crate::agreement`, 1 unless `recommender.agreement_weight` > 0); predicted watch time =
//! that fraction times the item's duration. With probability `exploration` the impression is a
//! uniformly random item instead.

use super::{
    MAX_FACTORS, Policy, Scratch, Shared, Source, Trace, ViewerView, begin, pick_best, pick_first_best,
    random_visible, retrieval,
};
use crate::agreement;
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::EngagementConfig;
use rand::RngExt;

#[cfg(test)]
mod tests;

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
#[inline(always)]
pub fn predicted_fraction(shared: &Shared, viewer: &ViewerView, item: ItemIdx) -> f32 {
    let r = &shared.ranked[item as usize];
    // Selected by index rather than by a branch, which a tenth of the candidates (the
    // followed creators') would send the wrong way.
    let trust = [1.0, shared.config.follow_bonus as f32][usize::from(viewer.follows(r.creator()))];
    // The agreement factor is 1 when off, and multiplying by 1 changes no product.
    (viewer.profile[r.topic()] * r.ratio * trust * agreement_factor(shared, viewer, item)).min(1.0)
}

/// The factor of the learned stance on `item`'s predicted watch fraction (`docs/model.md` §8):
/// [`agreement::stance_factor`] of the item's stance as its [`super::Ranked`] record holds it
/// (NaN for no side), which the scoring has in cache already.
#[inline(always)]
pub fn agreement_factor(shared: &Shared, viewer: &ViewerView, item: ItemIdx) -> f32 {
    agreement::stance_factor(
        viewer.agreement,
        viewer.stance,
        shared.ranked[item as usize].stance,
    )
}

/// Names of the factors of predicted watch time, for `explain`.
pub const FACTOR_NAMES: &[&str] = &[
    "topic_estimate",
    "completion_ratio",
    "trust_factor",
    "predicted_fraction",
    // Not `duration`: explain's CSV already has that column (the same value, the item's).
    "duration_seconds",
];

/// [`FACTOR_NAMES`] and the agreement factor, which `explain` shows when the ranking uses the
/// learned stance (`recommender.agreement_weight` > 0).
const FACTOR_NAMES_AGREEMENT: &[&str] = &[
    "topic_estimate",
    "completion_ratio",
    "trust_factor",
    "predicted_fraction",
    "duration_seconds",
    "agreement_factor",
];

/// Names the factors of a watch-time ranking in `trace` (after [`super::begin`]): with the
/// learned stance in use, the agreement factor too.
pub fn name_factors(trace: &mut Option<&mut Trace>, shared: &Shared) {
    if let Some(t) = trace.as_deref_mut()
        && shared.config.agreement_weight > 0.0
    {
        t.factor_names = FACTOR_NAMES_AGREEMENT;
    }
}

/// The factors of predicted watch time: predicted fraction = min(1, topic estimate ×
/// completion ratio × trust factor × agreement factor), seconds = predicted fraction ×
/// duration; the agreement factor last (named only when in use, [`name_factors`]).
pub fn factors(shared: &Shared, viewer: &ViewerView, item: ItemIdx) -> [f32; MAX_FACTORS] {
    let it = &shared.catalog.items[item as usize];
    [
        viewer.profile[it.topic as usize],
        shared.ranked[item as usize].ratio,
        if viewer.follows(it.creator) {
            shared.config.follow_bonus as f32
        } else {
            1.0
        },
        predicted_fraction(shared, viewer, item),
        it.duration,
        agreement_factor(shared, viewer, item),
    ]
}

/// Predicted watch time of `item` for `viewer`, seconds: the score `engagement` ranks by.
#[inline(always)]
pub fn predicted_seconds(shared: &Shared, viewer: &ViewerView, item: ItemIdx) -> f32 {
    predicted_fraction(shared, viewer, item) * shared.ranked[item as usize].duration
}

/// Fills `scores` with each candidate's predicted watch seconds (the base score the
/// re-rankers share) and returns the largest, or 1 if none is positive (for normalising).
pub fn score_candidates(
    shared: &Shared,
    viewer: &ViewerView,
    candidates: &[(ItemIdx, Source)],
    scores: &mut Vec<f32>,
) -> f32 {
    scores.clear();
    scores.extend(
        candidates
            .iter()
            .map(|&(item, _)| predicted_seconds(shared, viewer, item)),
    );
    let max = scores.iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 { max } else { 1.0 }
}

/// The start every watch-time ranker shares: with probability `exploration` a uniformly random
/// item (returned), otherwise the candidates are retrieved into `scratch` (None returned).
#[inline]
pub fn explore_or_retrieve(
    exploration: f64,
    shared: &Shared,
    viewer: &ViewerView,
    rng: &mut Rng,
    scratch: &mut Scratch,
    trace: &mut Option<&mut Trace>,
) -> Option<(ItemIdx, Source)> {
    let explored = explore(exploration, shared, viewer, rng, trace);
    if explored.is_none() {
        retrieval::retrieve(shared, viewer, rng, scratch);
    }
    explored
}

/// ε-greedy exploration: with probability `exploration` a uniformly random visible item
/// (marked in the trace), otherwise None and the policy ranks.
#[inline]
pub fn explore(
    exploration: f64,
    shared: &Shared,
    viewer: &ViewerView,
    rng: &mut Rng,
    trace: &mut Option<&mut Trace>,
) -> Option<(ItemIdx, Source)> {
    if !rng.random_bool(exploration) {
        return None;
    }
    if let Some(t) = trace.as_deref_mut() {
        t.explored = true;
    }
    Some((random_visible(shared, viewer, rng), Source::Exploration))
}

impl Engagement {
    /// The ranking without a trace, boosts or protections, the engine's hot path: the same choice as
    /// [`pick_best`] over the same candidates (and the same random numbers). Retrieved candidates
    /// go through [`pick_first_best`]; exhaustive retrieval uses the [`super::kernel`].
    #[inline]
    fn recommend_fast(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> (ItemIdx, Source) {
        if rng.random_bool(self.exploration) {
            return (random_visible(shared, viewer, rng), Source::Exploration);
        }
        let best = match shared.blocks {
            Some(blocks) => blocks
                .best(shared, viewer, &mut scratch.kernel)
                .map(|item| (item, Source::Catalog)),
            None => {
                retrieval::retrieve(shared, viewer, rng, scratch);
                pick_first_best(&scratch.candidates, &mut scratch.scores, viewer, |item| {
                    predicted_seconds(shared, viewer, item)
                })
            }
        };
        best.unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Exploration))
    }
}

impl Policy for Engagement {
    fn name(&self) -> &'static str {
        "engagement"
    }

    fn part_names(&self) -> &'static [&'static str] {
        &["predicted_watch_seconds"]
    }

    fn factor_names(&self) -> &'static [&'static str] {
        FACTOR_NAMES
    }

    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        scratch: &mut Scratch,
        mut trace: Option<&mut Trace>,
    ) -> (ItemIdx, Source) {
        if trace.is_none() && viewer.boosts.boosts.is_empty() && viewer.allow.is_any() {
            return self.recommend_fast(shared, viewer, rng, scratch);
        }
        begin(&mut trace, self);
        name_factors(&mut trace, shared);
        if let Some(choice) = explore_or_retrieve(self.exploration, shared, viewer, rng, scratch, &mut trace)
        {
            return choice;
        }
        pick_best(
            &scratch.candidates,
            viewer,
            trace,
            |item| factors(shared, viewer, item),
            |_, item| {
                let s = predicted_seconds(shared, viewer, item);
                (s, [s, 0.0, 0.0, 0.0], s)
            },
        )
        .unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Exploration))
    }
}
