//! `popularity`: what is trending now, the same for everyone; reads no profile. The typical
//! recommender "not based on profiling" of DSA Art. 38.
//!
//! Items are ranked by their trending counter: engaged views (watch fractions) with a
//! half-life (`half_life` of the policy, or `recommender.trending_half_life`). The viewer is
//! shown the most trending item not among their last `feed.no_repeat` impressions.

use super::{MAX_PARTS, Policy, Scratch, Shared, Source, Trace, ViewerView, begin, random_visible};
use crate::catalog::ItemIdx;
use crate::rng::Rng;

/// Trending-first recommendations.
#[derive(Debug, Clone, Copy)]
pub struct Popularity;

impl Policy for Popularity {
    fn name(&self) -> &'static str {
        "popularity"
    }

    fn part_names(&self) -> &'static [&'static str] {
        &["trend"]
    }

    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        _scratch: &mut Scratch,
        mut trace: Option<&mut Trace>,
    ) -> (ItemIdx, Source) {
        begin(&mut trace, self);
        // The trending list is already in rank order: the first unseen item wins.
        let mut choice = None;
        for &item in shared.trending {
            let trend = shared.trend[item as usize];
            if let Some(t) = trace.as_deref_mut() {
                let mut parts = [0.0; MAX_PARTS];
                parts[0] = trend;
                t.candidates.push(super::Scored {
                    item,
                    source: Source::Trending,
                    base: trend,
                    parts,
                    score: trend,
                    seen: viewer.seen_recently(item),
                    factors: [0.0; super::MAX_FACTORS],
                });
            }
            if choice.is_none() && !viewer.seen_recently(item) {
                choice = Some((item, Source::Trending));
                if trace.is_none() {
                    break;
                }
            }
        }
        // Before anything trends (the first step), or when everything trending was seen.
        choice.unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Explore))
    }
}
