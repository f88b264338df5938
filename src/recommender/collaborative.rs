//! `collaborative`: rank by predicted watch time from viewer and item factors learned online
//! from everyone's behaviour (biased matrix factorisation, Koren, Bell and Volinsky 2009;
//! `docs/model.md` §8f), with exploration.
//!
//! Candidates come from the cells of the factor index whose mean item suits the viewer best
//! (the nearest item factors), plus retrieval's trending and exploration candidates (§7). The
//! predicted watch fraction is the predicted signal ŷ = μ̄ + b_u + b_i + p_u · q_i clamped to
//! [0, 1], and the score is that fraction times the item's duration. The factors live in the
//! arm's [`Factors`], which the engine updates between steps; the policy only reads them.

use super::factors::{self, Factors, dot};
use super::retrieval::{keep_top, trending_and_explore};
use super::{
    MAX_FACTORS, Policy, Scratch, Shared, Source, Trace, ViewerView, begin, pick_best, random_visible,
};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::{CollaborativeConfig, Retrieval};
use rand::RngExt;

/// The policy that learns from everyone.
#[derive(Debug, Clone)]
pub struct Collaborative {
    exploration: f64,
    probe: usize,
}

impl Collaborative {
    /// From the arm's `policy` table.
    pub fn new(config: &CollaborativeConfig) -> Collaborative {
        Collaborative {
            exploration: config.exploration,
            probe: config.probe as usize,
        }
    }

    /// Fills `scratch.candidates`: `feed.topic_candidates` items from the `probe` cells of
    /// highest affinity b̄_c + p_u · q̄_c (each draw a cell uniformly among them, then an item
    /// uniformly in it), then the trending and exploration candidates. Every visible item with
    /// exhaustive retrieval.
    fn retrieve(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        model: &Factors,
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) {
        scratch.candidates.clear();
        if shared.feed.retrieval == Retrieval::Exhaustive {
            scratch
                .candidates
                .extend((0..shared.n_visible as ItemIdx).map(|i| (i, Source::Catalog)));
            return;
        }
        let index = &model.index;
        scratch.topics.clear();
        for c in 0..index.n_cells() {
            if !index.cell(c).is_empty() {
                let affinity = index.affinity(c, viewer.factors.vector);
                keep_top(&mut scratch.topics, self.probe, (affinity, c as u16));
            }
        }
        let top = scratch.topics.len() as u32;
        if top > 0 {
            for _ in 0..shared.feed.topic_candidates {
                let cell = index.cell(scratch.topics[rng.random_range(0..top) as usize].1 as usize);
                let item = cell[rng.random_range(0..cell.len() as u32) as usize];
                scratch.candidates.push((item, Source::Nearest));
            }
        }
        trending_and_explore(shared, rng, scratch);
    }
}

/// The predicted watch fraction: the predicted signal clamped to [0, 1].
#[inline(always)]
pub fn predicted_fraction(model: &Factors, viewer: &ViewerView, item: ItemIdx) -> f32 {
    model
        .predict(viewer.factors.vector, viewer.factors.bias, item)
        .clamp(0.0, 1.0)
}

/// Names of the factors of the predicted watch time, for `explain`.
pub const FACTOR_NAMES: &[&str] = &[
    "global_mean",
    "viewer_bias",
    "item_bias",
    "factor_match",
    "predicted_fraction",
    "duration_seconds",
];

/// The factors of the predicted watch time: predicted fraction = clamp(μ̄ + b_u + b_i + p_u ·
/// q_i, 0, 1), seconds = predicted fraction × duration.
pub fn factors(shared: &Shared, viewer: &ViewerView, item: ItemIdx) -> [f32; MAX_FACTORS] {
    let model = factors::of(shared);
    [
        model.mean,
        viewer.factors.bias,
        model.item_bias[item as usize],
        dot(viewer.factors.vector, model.item_row(item)),
        predicted_fraction(model, viewer, item),
        shared.ranked[item as usize].duration,
    ]
}

impl Policy for Collaborative {
    fn name(&self) -> &'static str {
        "collaborative"
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
        begin(&mut trace, self);
        if rng.random_bool(self.exploration) {
            if let Some(t) = trace.as_deref_mut() {
                t.explored = true;
            }
            return (random_visible(shared, viewer, rng), Source::Exploration);
        }
        let model = factors::of(shared);
        self.retrieve(shared, viewer, model, rng, scratch);
        pick_best(
            &scratch.candidates,
            viewer,
            trace,
            |item| factors(shared, viewer, item),
            |_, item| {
                let s = predicted_fraction(model, viewer, item) * shared.ranked[item as usize].duration;
                (s, [s, 0.0, 0.0, 0.0], s)
            },
        )
        .unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Exploration))
    }
}
