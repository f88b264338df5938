//! `popularity`: what is trending now, the same for everyone; reads no profile. The typical
//! recommender "not based on profiling" of DSA Art. 38.
//!
//! Items on the trending list are ranked by their trending counter: engaged views (watch
//! fractions) with a half-life (`half_life` of the policy, or `recommender.trending_half_life`).
//! Each impression is drawn uniformly from the list (the `trending_pool` most trending items),
//! as a trending feed that everyone scrolls without showing everyone the same item at once.
//! (Drawing in proportion to the counter instead runs away: the items drawn most gain most,
//! and within a few dozen steps the whole arm watches a handful of items.)
//! an item among the viewer's last `feed.no_repeat` impressions is drawn again (a few tries).
//! With probability `exploration` the impression is a uniformly random item instead, the
//! fresh content that reaches a trending feed from elsewhere.

use super::{
    MAX_FACTORS, MAX_PARTS, Policy, Scored, Scratch, Shared, Source, Trace, ViewerView, begin, random_visible,
};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::PopularityConfig;
use rand::RngExt;

/// Trending recommendations.
#[derive(Debug, Clone, Copy)]
pub struct Popularity {
    exploration: f64,
}

impl Popularity {
    /// From the arm's `policy` table.
    pub fn new(config: &PopularityConfig) -> Popularity {
        Popularity {
            exploration: config.exploration,
        }
    }
}

/// Draws an item of the trending list uniformly.
fn draw(shared: &Shared, rng: &mut Rng) -> ItemIdx {
    shared.trending[rng.random_range(0..shared.trending.len() as u32) as usize]
}

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
        if let Some(t) = trace.as_deref_mut() {
            for &item in shared.trending {
                let trend = shared.trend[item as usize];
                let mut parts = [0.0; MAX_PARTS];
                parts[0] = trend;
                t.candidates.push(Scored {
                    item,
                    source: Source::Trending,
                    base: trend,
                    parts,
                    score: trend,
                    seen: viewer.seen_recently(item),
                    factors: [0.0; MAX_FACTORS],
                    boost: 0.0,
                    hidden_boost: 0.0,
                });
            }
        }
        if rng.random_bool(self.exploration) {
            if let Some(t) = trace {
                t.explored = true;
            }
            return (random_visible(shared, viewer, rng), Source::Exploration);
        }
        // Before anything trends (the first step), a random item.
        if shared.trending.is_empty() {
            return (random_visible(shared, viewer, rng), Source::Explore);
        }
        let mut item = draw(shared, rng);
        for _ in 0..3 {
            if !viewer.seen_recently(item) {
                break;
            }
            item = draw(shared, rng);
        }
        (item, Source::Trending)
    }
}
