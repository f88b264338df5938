//! The profile every platform learns: per-topic estimates of a viewer's watch signal, and
//! per-item completion rates, both from observed behaviour only.

use crate::scenario::RecommenderConfig;
use crate::viewer::Response;

/// The observed signal of one impression: watch fraction plus credit for a like and a
/// follow, less a penalty for a skip.
#[inline]
pub fn signal(config: &RecommenderConfig, r: &Response) -> f32 {
    signal_of(config, r.fraction, r.liked, r.followed, r.skipped)
}

/// [`signal`] from its parts: watch fraction, like, follow, skip.
#[inline]
pub fn signal_of(
    config: &RecommenderConfig,
    fraction: f32,
    liked: bool,
    followed: bool,
    skipped: bool,
) -> f32 {
    let credit = |on: bool, weight: f64| if on { weight as f32 } else { 0.0 };
    fraction + credit(liked, config.like_weight) + credit(followed, config.follow_weight)
        - credit(skipped, config.skip_penalty)
}

/// The explicit part of a signal (arms with `protections.explicit_weight`): like and follow
/// credits, divided by their expectation at a full watch (`like_rate` × `like_weight` +
/// `follow_rate` × `follow_weight`), so that it is on the scale of a watch fraction. 0 when
/// no explicit feedback can happen.
#[inline]
pub fn explicit_signal(config: &RecommenderConfig, like_rate: f32, follow_rate: f32, r: &Response) -> f32 {
    let (wl, wf) = (config.like_weight as f32, config.follow_weight as f32);
    let scale = like_rate * wl + follow_rate * wf;
    if scale <= 0.0 {
        return 0.0;
    }
    (if r.liked { wl } else { 0.0 } + if r.followed { wf } else { 0.0 }) / scale
}

/// Moves the estimate of `topic` towards the observed `signal`.
///
/// The learning rate is 1 / (n + n0 + 1) (a running mean that starts from the prior with
/// weight n0) but never below `learning_rate_min`, so the estimate keeps tracking a viewer
/// whose interests drift.
#[inline]
pub fn observe(
    config: &RecommenderConfig,
    profile: &mut [f32],
    counts: &mut [f32],
    topic: usize,
    signal: f32,
) {
    let n = counts[topic];
    let rate = (1.0 / (n + config.profile_prior_weight as f32 + 1.0)).max(config.learning_rate_min as f32);
    profile[topic] += rate * (signal - profile[topic]);
    counts[topic] = n + 1.0;
}

/// The profile's estimate of the viewer's interests: each topic's odds of the watch signal,
/// normalised to sum to 1. Written into `out`.
pub fn estimated_interests(profile: &[f32], out: &mut [f32]) {
    let mut sum = 0.0;
    for (o, &m) in out.iter_mut().zip(profile) {
        let m = m.clamp(0.01, 0.99);
        *o = m / (1.0 - m);
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// Smoothed completion rate of an item: its watched share with `prior_weight`
/// pseudo-impressions at the global mean. With a weight of 0 an item never shown has the
/// mean, the limit of every positive weight (not 0/0).
#[inline]
pub fn completion(watched: f64, impressions: u32, mean: f64, prior_weight: f64) -> f32 {
    let weight = f64::from(impressions) + prior_weight;
    if weight == 0.0 {
        return mean as f32;
    }
    ((watched + prior_weight * mean) / weight) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(got: f32, expected: f32) {
        assert!((got - expected).abs() < 1e-6, "got {got}, expected {expected}");
    }

    #[test]
    fn explicit_signal_is_on_the_scale_of_a_watch_fraction() {
        let c = RecommenderConfig::default();
        let r = |liked, followed| Response {
            fraction: 0.9,
            seconds: 9.0,
            skipped: false,
            liked,
            followed,
            trusted: false,
            returns: true,
            return_draw: 0.0,
        };
        // Like 0.3 and follow 0.3 over their expectation at a full watch, 0.3 × 0.2 + 0.3 × 0.03.
        check(explicit_signal(&c, 0.2, 0.03, &r(false, false)), 0.0);
        check(explicit_signal(&c, 0.2, 0.03, &r(true, false)), 0.3 / 0.069);
        check(explicit_signal(&c, 0.2, 0.03, &r(true, true)), 0.6 / 0.069);
        // No explicit feedback possible: nothing to learn from.
        check(explicit_signal(&c, 0.0, 0.0, &r(true, true)), 0.0);
    }

    #[test]
    fn observe_is_a_running_mean_from_the_prior() {
        let c = RecommenderConfig {
            learning_rate_min: 0.0,
            ..RecommenderConfig::default()
        };
        let mut p = [0.3f32, 0.3];
        let mut n = [0.0f32, 0.0];
        observe(&c, &mut p, &mut n, 1, 0.9);
        // Prior weight 1: (0.3 + 0.9) / 2.
        check(p[1], 0.6);
        observe(&c, &mut p, &mut n, 1, 0.0);
        check(p[1], 0.4);
        check(p[0], 0.3);
    }

    #[test]
    fn learning_rate_has_a_floor() {
        let c = RecommenderConfig::default();
        let mut p = [0.5f32];
        let mut n = [1000.0f32];
        observe(&c, &mut p, &mut n, 0, 1.5);
        check(p[0], 0.5 + 0.1 * 1.0);
    }

    #[test]
    fn estimated_interests_are_normalised_odds() {
        let mut out = [0.0f32; 2];
        estimated_interests(&[0.5, 0.75], &mut out);
        check(out[0], 1.0 / 4.0);
        check(out[1], 3.0 / 4.0);
    }

    #[test]
    fn completion_shrinks_to_the_mean() {
        check(completion(0.0, 0, 0.4, 5.0), 0.4);
        check(completion(10.0, 10, 0.4, 5.0), (10.0 + 2.0) / 15.0);
        // Without a prior, an unshown item has the mean and a shown one its own rate.
        check(completion(0.0, 0, 0.4, 0.0), 0.4);
        check(completion(3.0, 4, 0.4, 0.0), 0.75);
    }

    #[test]
    fn signal_credits_likes_and_follows_and_penalises_skips() {
        let c = RecommenderConfig::default();
        let r = |fraction, liked, followed, skipped| Response {
            fraction,
            seconds: 0.0,
            skipped,
            liked,
            followed,
            trusted: false,
            returns: true,
            return_draw: 0.0,
        };
        check(signal(&c, &r(0.5, true, true, false)), 1.1);
        check(signal(&c, &r(0.5, false, false, false)), 0.5);
        check(signal(&c, &r(0.1, false, false, true)), 0.0);
    }
}
