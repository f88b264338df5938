//! Agreement (selective exposure): on stance-bearing topics, viewers watch what agrees with
//! them longer than what disagrees (Garrett 2009; Stroud 2010; Bakshy, Messing and Adamic
//! 2015), and a platform can learn a viewer's stance from what they engage with.
//!
//! Three pieces, each off at weight 0 (`docs/model.md` §4c, §6b, §8):
//!
//! - the viewer's response: the watch-fraction logit loses β_A · |x_i − x_u|
//!   ([`logit_penalty`]);
//! - the platform's learned stance x̂_u: a running mean of the stances of the stance-bearing
//!   items the viewer engaged with, weighted by the observed signal ([`observe`]);
//! - the ranking: predicted watch fractions of stance-bearing items scaled by
//!   exp(−β_u · |x_i − x̂_u|) ([`ranking_factor`]), a factor of at most 1, with
//!   β_u = β_R · n_u / (n_u + n₀) growing with the evidence behind x̂_u ([`ranking_weight`]):
//!   a platform that has learned nothing of a viewer's stance ranks stance-blind.

use crate::catalog::Item;
use crate::scenario::RecommenderConfig;

/// |x_i − x|: how far a stance-bearing item's stance is from `stance`; None for an item of
/// another topic (it takes no side).
#[inline]
pub fn gap(item: &Item, stance: f32) -> Option<f32> {
    item.stance_bearing().then(|| (item.stance - stance).abs())
}

/// The logit the viewer's expected watch fraction loses to disagreement with `item`:
/// β_A · |x_i − x_u| for a stance-bearing item, 0 for any other (and when β_A = 0, so that
/// the response is then exactly today's).
#[inline]
pub fn logit_penalty(weight: f32, stance: f32, item: &Item) -> f32 {
    if weight > 0.0 && item.stance_bearing() {
        weight * (item.stance - stance).abs()
    } else {
        0.0
    }
}

/// Moves the platform's learned stance `estimate` of a viewer (prior 0, a neutral stance, with
/// `recommender.profile_prior_weight` pseudo-observations) towards `item_stance`, the stance of
/// a stance-bearing item the viewer was shown, by how much they engaged with it:
///
/// w = clamp(y, 0, 1), n ← n + w, a = max(w / (n + n₀), a_min · w), x̂ ← x̂ + a (x_i − x̂).
///
/// Until the floor a_min (`recommender.learning_rate_min`) binds, x̂ is the mean of the shown
/// stances weighted by the signal, with the prior: Σ w x / (n₀ + Σ w); the floor keeps it
/// tracking a viewer whose stance moves. A skip (y ≤ 0) teaches nothing.
#[inline]
pub fn observe(
    config: &RecommenderConfig,
    estimate: &mut f32,
    weight: &mut f32,
    item_stance: f32,
    signal: f32,
) {
    let w = signal.clamp(0.0, 1.0);
    if w <= 0.0 {
        return;
    }
    *weight += w;
    let rate = (w / (*weight + config.profile_prior_weight as f32)).max(config.learning_rate_min as f32 * w);
    *estimate += rate * (item_stance - *estimate);
}

/// The weight β_u of the learned stance in a viewer's ranking: β_R · n / (n + n₀), with n the
/// signal weight behind the estimate and n₀ = `recommender.profile_prior_weight`; 0 before
/// any evidence (or when β_R = 0).
#[inline]
pub fn ranking_weight(config: &RecommenderConfig, weight: f32) -> f32 {
    if config.agreement_weight > 0.0 && weight > 0.0 {
        config.agreement_weight as f32 * weight / (weight + config.profile_prior_weight as f32)
    } else {
        0.0
    }
}

/// The factor on a stance-bearing item's predicted watch fraction: exp(−β_u · |x_i − x̂_u|),
/// 1 at the learned stance and falling with the distance from it; never above 1, so every
/// upper bound on the scores without it still holds.
#[inline]
pub fn ranking_factor(weight: f32, estimate: f32, item_stance: f32) -> f32 {
    (-weight * (item_stance - estimate).abs()).exp()
}

/// [`ranking_factor`] for an item of stance `stance`, NaN for an item that takes no side (as
/// [`Ranked::stance`](crate::recommender::Ranked) holds it): 1 for such an item or when β_u = 0.
#[inline]
pub fn stance_factor(weight: f32, estimate: f32, stance: f32) -> f32 {
    if weight > 0.0 && !stance.is_nan() {
        ranking_factor(weight, estimate, stance)
    } else {
        1.0
    }
}

/// [`stance_factor`] for a catalog item.
#[inline]
pub fn item_factor(weight: f32, estimate: f32, item: &Item) -> f32 {
    let stance = if item.stance_bearing() {
        item.stance
    } else {
        f32::NAN
    };
    stance_factor(weight, estimate, stance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::STANCE_BEARING;

    fn item(stance: f32, bearing: bool) -> Item {
        Item {
            creator: 0,
            topic: 0,
            group: 0,
            flags: if bearing { STANCE_BEARING } else { 0 },
            quality: 0.5,
            duration: 18.0,
            stance,
            upload_step: 0,
        }
    }

    fn check(got: f32, expected: f32) {
        assert!((got - expected).abs() < 1e-6, "got {got}, expected {expected}");
    }

    #[test]
    fn the_penalty_is_the_weighted_distance_on_stance_bearing_items_only() {
        // β_A = 1.5, item at 0.6, viewer at -0.2: 1.5 × 0.8.
        check(logit_penalty(1.5, -0.2, &item(0.6, true)), 1.2);
        check(logit_penalty(1.5, 0.6, &item(0.6, true)), 0.0);
        check(logit_penalty(1.5, -0.2, &item(0.6, false)), 0.0);
        check(logit_penalty(0.0, -0.2, &item(0.6, true)), 0.0);
        assert_eq!(gap(&item(0.6, true), -0.2).map(|g| (g * 10.0).round()), Some(8.0));
        assert_eq!(gap(&item(0.6, false), -0.2), None);
    }

    #[test]
    fn the_learned_stance_is_a_signal_weighted_mean_from_a_neutral_prior() {
        let c = RecommenderConfig::default();
        let (mut x, mut n) = (0.0f32, 0.0f32);
        // Watched whole at 0.6: (1 × 0 + 1 × 0.6) / (1 + 1).
        observe(&c, &mut x, &mut n, 0.6, 1.0);
        check(x, 0.3);
        check(n, 1.0);
        // Half watched at -0.2: (0.6 - 0.1) / 2.5 = 0.2 (rate 0.5 / 2.5 = 0.2, above the floor).
        observe(&c, &mut x, &mut n, -0.2, 0.5);
        check(x, 0.2);
        check(n, 1.5);
        // A skip teaches nothing; a signal above 1 (a like) counts as 1.
        observe(&c, &mut x, &mut n, -1.0, -0.1);
        check(x, 0.2);
        observe(&c, &mut x, &mut n, 0.7, 1.3);
        check(x, 0.2 + (1.0 / 3.5) * 0.5);
        check(n, 2.5);
    }

    #[test]
    fn the_learning_rate_has_a_floor_in_proportion_to_the_signal() {
        let c = RecommenderConfig::default();
        let (mut x, mut n) = (0.5f32, 100.0f32);
        // 0.5 / 101.5 is below a_min · w = 0.1 × 0.5.
        observe(&c, &mut x, &mut n, -0.5, 0.5);
        check(x, 0.5 - 0.05);
    }

    #[test]
    fn the_ranking_weight_grows_with_the_evidence() {
        let c = RecommenderConfig {
            agreement_weight: 2.0,
            ..RecommenderConfig::default()
        };
        // n₀ = 1: 2 × 1 / 2, 2 × 3 / 4; nothing learned, nothing used.
        check(ranking_weight(&c, 1.0), 1.0);
        check(ranking_weight(&c, 3.0), 1.5);
        check(ranking_weight(&c, 0.0), 0.0);
        // β_R = 0 (the model before issue 14): nothing is used whatever was learned.
        let off = RecommenderConfig {
            agreement_weight: 0.0,
            ..RecommenderConfig::default()
        };
        check(ranking_weight(&off, 3.0), 0.0);
        // The default β_R = 0.4: 0.4 × 3 / 4.
        check(ranking_weight(&RecommenderConfig::default(), 3.0), 0.3);
    }

    #[test]
    fn the_ranking_factor_falls_with_the_distance_and_never_exceeds_one() {
        check(ranking_factor(2.0, 0.1, 0.1), 1.0);
        check(ranking_factor(2.0, 0.1, -0.4), (-1.0f32).exp());
        check(item_factor(2.0, 0.1, &item(-0.4, true)), (-1.0f32).exp());
        check(item_factor(2.0, 0.1, &item(-0.4, false)), 1.0);
        check(item_factor(0.0, 0.1, &item(-0.4, true)), 1.0);
        // The ranking's records hold NaN for an item that takes no side.
        check(stance_factor(2.0, 0.1, -0.4), (-1.0f32).exp());
        check(stance_factor(2.0, 0.1, f32::NAN), 1.0);
        check(stance_factor(0.0, 0.1, -0.4), 1.0);
        for d in [0.0f32, 0.3, 2.0] {
            assert!(ranking_factor(5.0, 0.0, d) <= 1.0);
        }
    }
}
