//! `oracle`: a benchmark, not a platform. It ranks by each viewer's true expected watch time,
//! read from the viewer's latent state (interests, satiation, taste, stance), which no real
//! recommender can observe (`docs/model.md` §8g). It states how far a recommender that learns
//! from behaviour falls short of one that knows the viewer, for this impression: it is myopic,
//! the best single next item, not the best feed over a session.
//!
//! Candidates are retrieved as for `engagement` (§7), with the strongest topics chosen by the
//! true interests θ_u instead of the learned profile; with exhaustive retrieval, every item.

use super::engagement::explore;
use super::{
    Latent, MAX_FACTORS, Policy, Scratch, Shared, Source, Trace, ViewerView, begin, pick_best,
    random_visible, retrieval,
};
use crate::agreement;
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::OracleConfig;
use crate::viewer;

/// The benchmark that knows the viewer.
#[derive(Debug, Clone)]
pub struct Oracle {
    exploration: f64,
}

impl Oracle {
    /// From the arm's `policy` table.
    pub fn new(config: &OracleConfig) -> Oracle {
        Oracle {
            exploration: config.exploration,
        }
    }
}

/// The viewer's true expected watch fraction of `item` now: the mean of the watch fraction the
/// viewer model would draw (§4, with the taste match §4b, agreement §4c and lingering §8c).
#[inline]
pub fn expected_fraction(shared: &Shared, viewer: &ViewerView, latent: &Latent, item: ItemIdx) -> f32 {
    let it = &shared.catalog.items[item as usize];
    let p = latent.params;
    let taste = &shared.catalog.taste;
    let matching = if latent.taste.is_empty() {
        0.0
    } else {
        crate::taste::matching(latent.taste, taste.offset(item), taste.scale)
    };
    let extra = p.taste_weight * matching - agreement::logit_penalty(p.agreement_weight, latent.stance, it);
    viewer::expected_watch(
        p,
        latent.interests,
        latent.satiation,
        viewer.follows(it.creator),
        latent.vulnerable && it.sensitive(),
        extra,
        it,
    )
}

/// Names of the factors of the expected watch time, for `explain`.
pub const FACTOR_NAMES: &[&str] = &["true_expected_fraction", "duration_seconds"];

impl Policy for Oracle {
    fn name(&self) -> &'static str {
        "oracle"
    }

    fn part_names(&self) -> &'static [&'static str] {
        &["true_expected_watch_seconds"]
    }

    fn factor_names(&self) -> &'static [&'static str] {
        FACTOR_NAMES
    }

    fn reads_latent(&self) -> bool {
        true
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
        let latent = viewer
            .latent
            .expect("the engine gives the oracle the viewer's latent state");
        if let Some(choice) = explore(self.exploration, shared, viewer, rng, &mut trace) {
            return choice;
        }
        retrieval::retrieve_by(shared, latent.interests, rng, scratch);
        let seconds = |item: ItemIdx| {
            let f = expected_fraction(shared, viewer, &latent, item);
            [f, shared.ranked[item as usize].duration]
        };
        pick_best(
            &scratch.candidates,
            viewer,
            trace,
            |item| {
                let [f, d] = seconds(item);
                let mut out = [0.0; MAX_FACTORS];
                out[..2].copy_from_slice(&[f, d]);
                out
            },
            |_, item| {
                let [f, d] = seconds(item);
                (f * d, [f * d, 0.0, 0.0, 0.0], f * d)
            },
        )
        .unwrap_or_else(|| (random_visible(shared, viewer, rng), Source::Exploration))
    }
}
