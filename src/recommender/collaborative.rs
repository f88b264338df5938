//! `collaborative`: rank by predicted watch time from viewer and item factors learned online
//! from everyone's behaviour (biased matrix factorisation, Koren, Bell and Volinsky 2009;
//! `docs/model.md` §8f), with exploration.
//!
//! Candidates come from the cells of the factor index whose mean item suits the viewer best
//! (the nearest item factors), plus retrieval's trending and exploration candidates (§7). The
//! predicted watch fraction is the predicted signal ŷ = μ̄ + b_u + b_i + p_u · q_i clamped to
//! [0, 1], and the score is that fraction times the item's duration. The factors live in the
//! arm's [`Factors`], which the engine updates between steps; the policy only reads them.

use super::engagement::explore;
use super::factors::{self, Factors, dot};
use super::retrieval::{keep_top, trending_and_explore};
use super::{
    MAX_FACTORS, Policy, Scratch, Shared, Source, Trace, ViewerView, begin, pick_best, pick_first_best,
    prefetch, random_visible,
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
        // The cells are this policy's topics: their affinities in `topic_values`, the best in
        // `topics`.
        index.affinities(viewer.factors.vector, &mut scratch.topic_values);
        scratch.topics.clear();
        // Once `probe` cells are kept, a cell below the last of them is one `keep_top` would
        // leave out: most cells are passed over on that one comparison.
        let mut last = f32::NEG_INFINITY;
        for (c, &affinity) in scratch.topic_values.iter().enumerate() {
            if affinity < last || index.cell(c).is_empty() {
                continue;
            }
            keep_top(&mut scratch.topics, self.probe, (affinity, c as u16));
            if scratch.topics.len() == self.probe {
                last = scratch.topics.last().map_or(f32::INFINITY, |t| t.0);
            }
        }
        let top = scratch.topics.len() as u32;
        if top > 0 {
            for _ in 0..shared.feed.topic_candidates {
                let cell = index.cell(scratch.topics[rng.random_range(0..top) as usize].1 as usize);
                let item = cell[rng.random_range(0..cell.len() as u32) as usize];
                // The scoring reads each candidate's factors, bias and record: their cache
                // misses overlap here instead of one after another there.
                model.prefetch(item);
                prefetch(&shared.ranked[item as usize]);
                scratch.candidates.push((item, Source::Nearest));
            }
        }
        let nearest = scratch.candidates.len();
        trending_and_explore(shared, rng, scratch);
        for &(item, _) in &scratch.candidates[nearest..] {
            model.prefetch(item);
        }
    }
}

/// The predicted watch fraction: the predicted signal clamped to [0, 1].
#[inline(always)]
pub fn predicted_fraction(model: &Factors, viewer: &ViewerView, item: ItemIdx) -> f32 {
    model
        .predict(viewer.factors.vector, viewer.factors.bias, item)
        .clamp(0.0, 1.0)
}

/// The ranking without a trace, boosts or protections, the engine's hot path: [`pick_best`]'s
/// choice over the same candidates and scores. Every candidate is scored first, without a
/// branch on the scores (for F = 16 with the factor rows at known length), so that their
/// factors and records are read in parallel ([`pick_first_best`]).
fn pick_fast(
    shared: &Shared,
    viewer: &ViewerView,
    model: &Factors,
    scratch: &mut Scratch,
) -> Option<(ItemIdx, Source)> {
    let (candidates, scores) = (&scratch.candidates, &mut scratch.scores);
    let (p, b_u) = (viewer.factors.vector, viewer.factors.bias);
    let seconds =
        |fraction: f32, item: ItemIdx| fraction.clamp(0.0, 1.0) * shared.ranked[item as usize].duration;
    match (model.item_rows::<16>(), <&[f32; 16]>::try_from(p)) {
        (Some(rows), Ok(p)) => pick_first_best(candidates, scores, viewer, |item| {
            seconds(model.signal(b_u, item, dot(p, &rows[item as usize])), item)
        }),
        _ => pick_first_best(candidates, scores, viewer, |item| {
            seconds(model.predict(p, b_u, item), item)
        }),
    }
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
        if let Some(choice) = explore(self.exploration, shared, viewer, rng, &mut trace) {
            return choice;
        }
        let model = factors::of(shared);
        self.retrieve(shared, viewer, model, rng, scratch);
        if trace.is_none() && viewer.boosts.boosts.is_empty() && viewer.allow.is_any() {
            return pick_fast(shared, viewer, model, scratch)
                .unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Exploration));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boost::BoostView;
    use crate::catalog::Catalog;
    use crate::recommender::fixture::Platform;
    use crate::recommender::{Allow, FactorView, Latent, build};
    use crate::rng::{Purpose, stream};
    use crate::scenario::{OracleConfig, PolicyConfig, Scenario};
    use crate::viewer::ViewerParams;
    use proptest::prelude::*;

    /// What a viewer's latent state holds, owned.
    #[derive(Debug, Clone)]
    struct Hidden {
        interests: Vec<f32>,
        satiation: Vec<f32>,
        taste: Vec<f32>,
        stance: f32,
        vulnerable: bool,
    }

    /// The platform of a catalog with item-level taste (D = 16), 600 items, at step 20, with
    /// a collaborative model whose factors have learnt a little from made-up observations.
    fn platform() -> (Platform, Factors) {
        let mut scenario = Scenario::default();
        scenario.catalog.items = 600;
        scenario.catalog.creators = 60;
        scenario.catalog.taste_dimensions = 16;
        scenario.viewer.taste_weight = 1.0;
        scenario.feed.max_steps = 50;
        let catalog = Catalog::generate(&scenario, 0);
        let completion = vec![0.3f32; catalog.items.len()];
        let platform = Platform::new(scenario, catalog, 20, &completion, 0.3, false);
        let n = platform.n_visible();
        let mut model = Factors::new(
            &CollaborativeConfig::default(),
            &platform.scenario,
            &platform.catalog,
            4,
            0,
            n,
        );
        for step in 0..20 {
            model.learn(|u| Some((((u * 31 + step * 17) % n) as ItemIdx, (u % 3) as f32 * 0.4)));
        }
        model.reveal(&platform.catalog, n);
        (platform, model)
    }

    /// The items `policy` ranked for viewer 1 with latent state `hidden`, and their scores' bits.
    fn ranking(
        policy: &dyn Policy,
        platform: &Platform,
        model: &Factors,
        params: &ViewerParams,
        hidden: &Hidden,
    ) -> Vec<(ItemIdx, u32)> {
        let mut shared = platform.shared();
        shared.factors = Some(model);
        let recent = [3, 5, 8];
        let viewer = ViewerView {
            profile: &[0.3, 0.5, 0.2, 0.4, 0.3, 0.6, 0.1, 0.3, 0.3],
            counts: &[2.0; 9],
            recent: [&recent, &[]],
            window_topics: [&[], &[]],
            follows: &[2, 7],
            follow_filter: crate::recommender::FollowFilter::ALL,
            boosts: BoostView::NONE,
            allow: Allow::ANY,
            stance: 0.1,
            agreement: 0.0,
            factors: FactorView {
                vector: model.viewer_row(1),
                bias: model.viewer_bias[1],
            },
            latent: Some(Latent {
                params,
                interests: &hidden.interests,
                satiation: &hidden.satiation,
                taste: &hidden.taste,
                stance: hidden.stance,
                vulnerable: hidden.vulnerable,
            }),
        };
        let mut trace = Trace::default();
        let mut rng = stream(1, 0, 1, Purpose::Recommend, 20);
        policy.recommend(
            &shared,
            &viewer,
            &mut rng,
            &mut Scratch::default(),
            Some(&mut trace),
        );
        trace
            .candidates
            .iter()
            .map(|c| (c.item, c.score.to_bits()))
            .collect()
    }

    /// A viewer the platform knows by its factors `p`, bias `b_u` and recent items alone.
    fn known_by_factors<'a>(p: &'a [f32], b_u: f32, recent: &'a [ItemIdx]) -> ViewerView<'a> {
        ViewerView {
            profile: &[0.3; 9],
            counts: &[0.0; 9],
            recent: [recent, &[]],
            window_topics: [&[], &[]],
            follows: &[],
            follow_filter: crate::recommender::FollowFilter::ALL,
            boosts: BoostView::NONE,
            allow: Allow::ANY,
            stance: 0.0,
            agreement: 0.0,
            factors: FactorView { vector: p, bias: b_u },
            latent: None,
        }
    }

    fn hidden(interests: Vec<f32>, taste: Vec<f32>, stance: f32, vulnerable: bool) -> Hidden {
        let satiation = interests.iter().map(|x| x * 2.0).collect();
        Hidden {
            interests,
            satiation,
            taste,
            stance,
            vulnerable,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Everything the viewer model holds and the platform cannot observe (interests,
        /// satiation, taste, stance, vulnerability) permuted and redrawn, with behaviour and so
        /// the learned factors unchanged: the collaborative ranking is the same to the bit,
        /// even with the latent state handed to it.
        #[test]
        fn collaborative_never_reads_latent_state(
            interests in proptest::collection::vec(0.01f32..1.0, 9),
            taste in proptest::collection::vec(-2.0f32..2.0, 16),
            rotate in 1usize..9,
            stance in -1.0f32..1.0,
            vulnerable: bool,
        ) {
            let (platform, model) = platform();
            let params = ViewerParams::new(&platform.scenario.viewer, 9, 1);
            let policy = Collaborative::new(&CollaborativeConfig::default());
            let mut permuted = interests.clone();
            permuted.rotate_left(rotate);
            let mut flipped = taste.clone();
            flipped.reverse();
            flipped.iter_mut().for_each(|x| *x = -*x);
            let a = hidden(interests, taste, stance, vulnerable);
            let b = hidden(permuted, flipped, -stance, !vulnerable);
            let ra = ranking(&policy, &platform, &model, &params, &a);
            prop_assert!(!ra.is_empty());
            prop_assert_eq!(ra, ranking(&policy, &platform, &model, &params, &b));
        }
    }

    /// The hot path (no trace) picks what `pick_best` picks with a trace, from the same random
    /// numbers, for viewers with the model's factors and with made-up ones, some of whose
    /// candidates were seen recently.
    #[test]
    fn the_fast_pick_is_pick_best() {
        let (platform, model) = platform();
        let mut shared = platform.shared();
        shared.factors = Some(&model);
        let policy = Collaborative::new(&CollaborativeConfig::default());
        let mut scratch = Scratch::default();
        for u in 0..4usize {
            for step in 0..40u32 {
                let mut p = model.viewer_row(u).to_vec();
                p.iter_mut()
                    .enumerate()
                    .for_each(|(d, x)| *x += (step as f32 - 20.0) * 0.01 * d as f32);
                let recent: Vec<ItemIdx> = (0..step % 30).map(|k| (k * 7 + step) % 600).collect();
                let viewer = known_by_factors(&p, model.viewer_bias[u] + step as f32 * 0.01, &recent);
                let pick = |trace: Option<&mut Trace>, scratch: &mut Scratch| {
                    let mut rng = stream(2, 0, u as u64, Purpose::Recommend, step.into());
                    policy.recommend(&shared, &viewer, &mut rng, scratch, trace)
                };
                let fast = pick(None, &mut scratch);
                let full = pick(Some(&mut Trace::default()), &mut scratch);
                assert_eq!(fast, full, "viewer {u}, step {step}");
            }
        }
    }

    /// The same change of latent state moves the oracle's ranking: the test above would see a
    /// policy that reads it.
    #[test]
    fn the_oracle_reads_latent_state() {
        let (platform, model) = platform();
        let params = ViewerParams::new(&platform.scenario.viewer, 9, 1);
        let oracle = build(&PolicyConfig::Oracle(OracleConfig::default()));
        let interests: Vec<f32> = (1..=9).map(|x| x as f32 / 45.0).collect();
        let taste: Vec<f32> = (0..16).map(|x| x as f32 / 8.0 - 1.0).collect();
        let mut permuted = interests.clone();
        permuted.rotate_left(4);
        let a = hidden(interests, taste.clone(), 0.2, false);
        let b = hidden(permuted, taste.iter().map(|x| -x).collect(), -0.2, false);
        assert_ne!(
            ranking(oracle.as_ref(), &platform, &model, &params, &a),
            ranking(oracle.as_ref(), &platform, &model, &params, &b)
        );
    }

    /// The score is clamp(μ̄ + b_u + b_i + p_u · q_i, 0, 1) × duration, and `explain`'s factors
    /// show those parts.
    #[test]
    fn the_score_is_its_parts() {
        let (platform, model) = platform();
        let params = ViewerParams::new(&platform.scenario.viewer, 9, 1);
        let policy = Collaborative::new(&CollaborativeConfig {
            exploration: 0.0,
            ..CollaborativeConfig::default()
        });
        let h = hidden(vec![0.1; 9], vec![0.0; 16], 0.0, false);
        assert!(!ranking(&policy, &platform, &model, &params, &h).is_empty());
        let mut shared = platform.shared();
        shared.factors = Some(&model);
        let p = model.viewer_row(1);
        let viewer = known_by_factors(p, model.viewer_bias[1], &[]);
        for item in [0, 7, 100] {
            let f = factors(&shared, &viewer, item);
            let sum = f[0] + f[1] + f[2] + f[3];
            assert!((f[4] - sum.clamp(0.0, 1.0)).abs() < 1e-6);
            assert_eq!(f[5], platform.catalog.items[item as usize].duration);
            let manual: f32 = p.iter().zip(model.item_row(item)).map(|(a, b)| a * b).sum();
            assert!((f[3] - manual).abs() < 1e-5);
        }
    }
}
