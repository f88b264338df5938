//! `diversified`: the engagement ranking re-ranked for topic diversity.
//!
//! Maximal marginal relevance (Carbonell and Goldstein 1998) for the next slot of the feed:
//! score = (1 - λ) s_i / max_j s_j - λ · (share of the item's topic in the feed window), with
//! s the engagement score (predicted watch seconds) and λ = `diversity`. With `topic_cap`, a
//! candidate whose topic would take more than that share of the window is excluded, unless
//! every candidate would be.

use super::engagement::{self, explore_or_retrieve};
use super::{
    MAX_PARTS, Policy, Scratch, Shared, Source, Trace, ViewerView, begin, pick_best, random_visible,
};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::DiversifiedConfig;

/// Engagement re-ranked for diversity.
#[derive(Debug, Clone)]
pub struct Diversified {
    exploration: f64,
    diversity: f32,
    topic_cap: Option<f32>,
}

impl Diversified {
    /// From the arm's `policy` table.
    pub fn new(config: &DiversifiedConfig) -> Diversified {
        Diversified {
            exploration: config.exploration,
            diversity: config.diversity as f32,
            topic_cap: config.topic_cap.map(|c| c as f32),
        }
    }
}

impl Policy for Diversified {
    fn name(&self) -> &'static str {
        "diversified"
    }

    fn factor_names(&self) -> &'static [&'static str] {
        engagement::FACTOR_NAMES
    }

    fn part_names(&self) -> &'static [&'static str] {
        &["relevance", "diversity", "topic_cap"]
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
        engagement::name_factors(&mut trace, shared);
        if let Some(choice) = explore_or_retrieve(self.exploration, shared, viewer, rng, scratch, &mut trace)
        {
            return choice;
        }
        let Scratch {
            candidates,
            scores,
            topic_counts,
            ..
        } = scratch;
        let max = engagement::score_candidates(shared, viewer, candidates, scores);
        topic_counts.resize(shared.catalog.n_topics(), 0);
        let n = viewer.window_counts(topic_counts) as f32;
        let lambda = self.diversity;
        let items = &shared.catalog.items;
        let factors = |item| engagement::factors(shared, viewer, item);
        let score = |c: usize, item: ItemIdx, cap: Option<f32>| {
            let count = topic_counts[items[item as usize].topic as usize] as f32;
            let relevance = (1.0 - lambda) * scores[c] / max;
            let diversity = -lambda * count / n.max(1.0);
            let capped = match cap {
                Some(cap) if (count + 1.0) / (n + 1.0) > cap => f32::NEG_INFINITY,
                _ => 0.0,
            };
            let mut parts = [0.0; MAX_PARTS];
            parts[..3].copy_from_slice(&[relevance, diversity, capped]);
            (scores[c], parts, relevance + diversity + capped)
        };
        let mut chosen = pick_best(candidates, viewer, trace.as_deref_mut(), factors, |c, item| {
            score(c, item, self.topic_cap)
        });
        if chosen.is_none() && self.topic_cap.is_some() {
            // Every unseen candidate breaks the cap: rank without it.
            if let Some(t) = trace.as_deref_mut() {
                t.candidates.clear();
            }
            chosen = pick_best(candidates, viewer, trace, factors, |c, item| score(c, item, None));
        }
        chosen.unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Exploration))
    }
}
