//! `calibrated`: the engagement ranking re-ranked so the feed's topic mix matches the
//! viewer's estimated long-term interests (Steck 2018).
//!
//! For the next slot: score = (1 - λ) s_i / max_j s_j - λ · KL(p ‖ q̃_i), with s the engagement
//! score, p the viewer's interests as the platform estimates them
//! (`profile::estimated_interests`), q_i the topic distribution of the feed window with the
//! candidate added, q̃_i = (1 - α) q_i + α p with α = 0.01 (Steck's smoothing), and
//! λ = `weight`.

use super::engagement::{self, explore_or_retrieve};
use super::{
    MAX_PARTS, Policy, Scratch, Shared, Source, Trace, ViewerView, begin, pick_best, profile, random_visible,
};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::CalibratedConfig;

/// Steck's smoothing of the feed distribution towards the target, so KL stays finite.
const ALPHA: f32 = 0.01;

/// Engagement re-ranked for calibration.
#[derive(Debug, Clone)]
pub struct Calibrated {
    exploration: f64,
    weight: f32,
}

impl Calibrated {
    /// From the arm's `policy` table.
    pub fn new(config: &CalibratedConfig) -> Calibrated {
        Calibrated {
            exploration: config.exploration,
            weight: config.weight as f32,
        }
    }
}

/// KL(p ‖ q̃) where q is the window's topic counts `counts` (summing to `n`) with one more item
/// of `topic`, and q̃ = (1 - α) q + α p.
pub fn calibration_kl(target: &[f32], counts: &[u32], n: u32, topic: usize) -> f32 {
    let total = (n + 1) as f32;
    target
        .iter()
        .zip(counts)
        .enumerate()
        .filter(|(_, (p, _))| **p > 0.0)
        .map(|(k, (&p, &c))| {
            let q = (c + u32::from(k == topic)) as f32 / total;
            let q = (1.0 - ALPHA) * q + ALPHA * p;
            p * (p / q).ln()
        })
        .sum()
}

impl Policy for Calibrated {
    fn name(&self) -> &'static str {
        "calibrated"
    }

    fn factor_names(&self) -> &'static [&'static str] {
        engagement::FACTOR_NAMES
    }

    fn part_names(&self) -> &'static [&'static str] {
        &["relevance", "calibration"]
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
        let k = shared.catalog.n_topics();
        let Scratch {
            candidates,
            scores,
            topic_counts,
            topic_values,
            ..
        } = scratch;
        let max = engagement::score_candidates(shared, viewer, candidates, scores);
        topic_counts.resize(k, 0);
        let n = viewer.window_counts(topic_counts);
        // topic_values holds the target p (first K) and each topic's KL once computed (next K).
        // The target is the estimated interests, not the history's topic mix: the history is
        // what the engagement feed narrowed (docs/model.md, `calibrated`).
        topic_values.resize(2 * k, 0.0);
        let (target, kl) = topic_values.split_at_mut(k);
        profile::estimated_interests(viewer.profile, target);
        kl.fill(f32::NAN);
        for &(item, _) in candidates.iter() {
            let t = shared.catalog.items[item as usize].topic as usize;
            if kl[t].is_nan() {
                kl[t] = calibration_kl(target, topic_counts, n, t);
            }
        }
        let lambda = self.weight;
        let factors = |item| engagement::factors(shared, viewer, item);
        let items = &shared.catalog.items;
        pick_best(candidates, viewer, trace, factors, |c, item| {
            let relevance = (1.0 - lambda) * scores[c] / max;
            let calibration = -lambda * kl[items[item as usize].topic as usize];
            let mut parts = [0.0; MAX_PARTS];
            parts[..2].copy_from_slice(&[relevance, calibration]);
            (scores[c], parts, relevance + calibration)
        })
        .unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Exploration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_small_when_the_window_matches_the_target() {
        let target = [0.5, 0.5];
        // Window 5 + 4, adding topic 1 gives 5 / 5: matches the target.
        let matched = calibration_kl(&target, &[5, 4], 9, 1);
        assert!(matched.abs() < 1e-6, "{matched}");
        // Adding topic 0 gives 6 / 4: KL = 0.5 ln(0.5/0.6) + 0.5 ln(0.5/0.4), with smoothing.
        let q0 = 0.99 * 0.6 + 0.01 * 0.5;
        let q1 = 0.99 * 0.4 + 0.01 * 0.5;
        let expected = 0.5 * (0.5f32 / q0).ln() + 0.5 * (0.5f32 / q1).ln();
        let got = calibration_kl(&target, &[5, 4], 9, 0);
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }
}
