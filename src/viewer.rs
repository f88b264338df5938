//! The viewer: how a simulated person responds to one item and how that changes them.
//!
//! The response follows RecSim's interest-evolution viewer (Ie et al. 2019): the expected
//! watch fraction rises with the viewer's interest in the item's topic and its quality and
//! falls with satiation and length; trust in a followed creator adds to it. Watching moves
//! interests towards the watched topic (the drift of T-RECS, Lucherini et al. 2021) and stance
//! towards the item's stance within a confidence bound (Deffuant et al. 2000). Every equation
//! is written out in `docs/model.md`.

use crate::catalog::Item;
use crate::habit::{Habit, HabitParams};
use crate::rng::Rng;
use crate::scenario::ViewerConfig;
use rand::RngExt;
use rand_distr::{Beta, Distribution};

/// The viewer model's parameters, in the engine's precision.
#[derive(Debug, Clone, Copy)]
pub struct ViewerParams {
    pub baseline_logit: f32,
    pub interest_weight: f32,
    pub quality_weight: f32,
    pub satiation_weight: f32,
    pub trust_weight: f32,
    pub duration_weight: f32,
    pub ln_duration_reference: f32,
    pub watch_concentration: f32,
    pub skip_below: f32,
    pub like_rate: f32,
    pub follow_rate: f32,
    pub satiation_gain: f32,
    pub satiation_decay: f32,
    pub session_recovery: f32,
    pub boredom_decay: f32,
    pub boredom_threshold: f32,
    pub return_probability: f32,
    /// Days in the run.
    pub days: u16,
    pub drift_rate: f32,
    pub stance_rate: f32,
    pub trust_stance_multiplier: f32,
    pub swipe_seconds: f32,
    /// Logit added to a vulnerable viewer's watch fraction on sensitive items.
    pub sensitive_linger: f32,
    /// Factor on a vulnerable viewer's drift towards sensitive topics.
    pub sensitive_drift: f32,
    /// Logit added to a vulnerable viewer's approval (likes, follows) of sensitive items.
    pub sensitive_approval: f32,
    /// K as a float, for the interest term ln(K θ).
    pub n_topics: f32,
    /// β_M: weight of the taste match in the watch logit (`docs/model.md` §4b).
    pub taste_weight: f32,
    /// λ_T: taste drift per impression and unit of watch fraction (§5b).
    pub taste_drift_rate: f32,
    /// Habit and return (`docs/model.md` §5c).
    pub habit: HabitParams,
    /// β_A: logit lost per unit of stance distance on stance-bearing items (0 = off).
    pub agreement_weight: f32,
}

impl ViewerParams {
    /// Parameters from the `[viewer]` section, for K topics and a run of `days` days.
    pub fn new(cfg: &ViewerConfig, n_topics: usize, days: u32) -> ViewerParams {
        ViewerParams {
            baseline_logit: cfg.baseline_logit as f32,
            interest_weight: cfg.interest_weight as f32,
            quality_weight: cfg.quality_weight as f32,
            satiation_weight: cfg.satiation_weight as f32,
            trust_weight: cfg.trust_weight as f32,
            duration_weight: cfg.duration_weight as f32,
            ln_duration_reference: cfg.duration_reference_seconds.ln() as f32,
            watch_concentration: cfg.watch_concentration as f32,
            skip_below: cfg.skip_below as f32,
            like_rate: cfg.like_rate as f32,
            follow_rate: cfg.follow_rate as f32,
            satiation_gain: cfg.satiation_gain as f32,
            satiation_decay: cfg.satiation_decay as f32,
            session_recovery: cfg.session_recovery as f32,
            boredom_decay: cfg.boredom_decay as f32,
            boredom_threshold: cfg.boredom_threshold as f32,
            return_probability: cfg.return_probability as f32,
            days: days.min(u32::from(u16::MAX)) as u16,
            drift_rate: cfg.drift_rate as f32,
            stance_rate: cfg.stance_rate as f32,
            trust_stance_multiplier: cfg.trust_stance_multiplier as f32,
            swipe_seconds: cfg.swipe_seconds as f32,
            sensitive_linger: cfg.sensitive_linger as f32,
            sensitive_drift: cfg.sensitive_drift as f32,
            sensitive_approval: cfg.sensitive_approval as f32,
            n_topics: n_topics as f32,
            taste_weight: cfg.taste_weight as f32,
            taste_drift_rate: cfg.taste_drift_rate as f32,
            habit: HabitParams::new(cfg),
            agreement_weight: cfg.agreement_weight as f32,
        }
    }
}

/// A viewer's scalar state (the per-topic vectors live beside it in flat arrays).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewerState {
    /// Seconds of use so far: watching plus swiping.
    pub clock: f32,
    /// Seconds watched so far.
    pub watched: f32,
    /// Seconds of use today.
    pub day_used: f32,
    /// Daily budget, seconds.
    pub budget: f32,
    /// Current stance.
    pub stance: f32,
    /// Stance at the start.
    pub stance0: f32,
    /// Multiplies drift and stance rates.
    pub susceptibility: f32,
    /// Bounded-confidence radius.
    pub confidence: f32,
    /// Boredom; the session ends when it reaches the threshold.
    pub boredom: f32,
    /// Minute of use at which the viewer first was in a rabbit hole; NaN if never.
    pub minutes_to_hole: f32,
    /// Impressions so far.
    pub impressions: u32,
    /// Sensitive impressions so far.
    pub sensitive: u32,
    /// Sessions started (the first included).
    pub sessions: u16,
    /// Days started (the first included).
    pub days: u16,
    /// Creators followed (at most the follow capacity).
    pub n_follows: u8,
    /// Slot the next follow goes to (the oldest is replaced when full).
    pub follow_next: u8,
    /// Under 18.
    pub minor: bool,
    /// Switches to another recommender during the run.
    pub switcher: bool,
    /// A coordinated account.
    pub coordinated: bool,
    /// Impressions of the scenario's target items.
    pub boosted: u32,
    /// Of those, from creators the viewer followed.
    pub boosted_trusted: u32,
    /// The creator groups whose items the viewer was shown (bit g for group g), for
    /// `group_reach_<g>`.
    pub groups_seen: u64,
    /// Still scrolling: the last day is not over and no cap is reached.
    pub active: bool,
    /// Lingers on sensitive content and drifts faster towards it.
    pub vulnerable: bool,
    /// A scripted audit account.
    pub bot: bool,
    /// Asks for a feed reset (arms with `protections.reset_minute`).
    pub resets: bool,
    /// The reset has happened.
    pub reset_done: bool,
    /// Seconds after midnight at which today's use began, moved on by the gaps between
    /// sessions: the time of day is this plus today's use (with a `[day]` model).
    pub day_start: f32,
    /// Impressions that started at night (with a `[day]` model).
    pub night: u32,
    /// Creators followed when measurement began (initial follows, and the warm-up's).
    pub follows0: u8,
    /// Habit strength, today's satisfaction, days of use (`docs/model.md` §5c).
    pub habit: Habit,
    /// The platform's learned stance x̂_u (`crate::agreement::observe`; learned only with
    /// `recommender.agreement_weight` > 0). The viewer model never reads it.
    pub stance_estimate: f32,
    /// The signal weight behind `stance_estimate`.
    pub stance_weight: f32,
}

impl ViewerState {
    /// A viewer at the start of the run.
    pub fn new(p: &crate::population::Person) -> ViewerState {
        ViewerState {
            clock: 0.0,
            watched: 0.0,
            day_used: 0.0,
            budget: p.budget_seconds,
            stance: p.stance,
            stance0: p.stance,
            susceptibility: p.susceptibility,
            confidence: p.confidence,
            boredom: 0.0,
            minutes_to_hole: f32::NAN,
            impressions: 0,
            sensitive: 0,
            sessions: 1,
            days: 1,
            n_follows: 0,
            follow_next: 0,
            minor: p.minor,
            switcher: false,
            coordinated: false,
            boosted: 0,
            boosted_trusted: 0,
            groups_seen: 0,
            active: true,
            vulnerable: p.vulnerable,
            bot: p.bot,
            resets: false,
            reset_done: false,
            day_start: 0.0,
            night: 0,
            follows0: 0,
            habit: Habit::new(0, 0.5),
            stance_estimate: 0.0,
            stance_weight: 0.0,
        }
    }
}

/// What the viewer did with one item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Response {
    /// Share of the item watched, in [0, 1].
    pub fraction: f32,
    /// Seconds watched.
    pub seconds: f32,
    /// Skipped (fraction below `skip_below`).
    pub skipped: bool,
    /// Liked.
    pub liked: bool,
    /// Started following the creator.
    pub followed: bool,
    /// The viewer already followed the creator (a trusted source).
    pub trusted: bool,
    /// Comes back the same day if this impression ends the session.
    pub returns: bool,
    /// The uniform draw behind `returns`, for a return probability that depends on habit.
    pub return_draw: f32,
}

/// For tests computed by hand: the viewer's defaults with the five calibrated ones
/// (`docs/calibration.md`) pinned to their values before calibration (β₀ = −0.5, β_D = 0.5,
/// κ = 4, boredom threshold 0.4, p₀ = 0.8), so a recalibration does not move the hand
/// computations.
#[cfg(test)]
pub(crate) fn pinned_config() -> ViewerConfig {
    ViewerConfig {
        baseline_logit: -0.5,
        duration_weight: 0.5,
        watch_concentration: 4.0,
        boredom_threshold: 0.4,
        return_probability: 0.8,
        ..ViewerConfig::default()
    }
}

#[cfg(test)]
impl Response {
    /// For tests: `fraction` of an item watched for `seconds`, neither skipped, liked nor
    /// followed, and the viewer would come back.
    pub fn watched(fraction: f32, seconds: f32) -> Response {
        Response {
            fraction,
            seconds,
            skipped: false,
            liked: false,
            followed: false,
            trusted: false,
            returns: true,
            return_draw: 0.0,
        }
    }
}

/// The logistic function σ(x) = 1 / (1 + e^(-x)).
#[inline]
pub(crate) fn logistic(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Expected watch fraction μ of an item (see `docs/model.md`, "Watch fraction").
#[inline]
pub fn expected_fraction(p: &ViewerParams, interest: f32, satiation: f32, trusted: bool, item: &Item) -> f32 {
    logistic(expected_logit(p, interest, satiation, trusted, item))
}

/// The logit z of the expected watch fraction.
#[inline]
fn expected_logit(p: &ViewerParams, interest: f32, satiation: f32, trusted: bool, item: &Item) -> f32 {
    let affinity = (p.n_topics * interest).max(1e-4).ln();
    p.baseline_logit + p.interest_weight * affinity + p.quality_weight * (item.quality - 0.5)
        - p.satiation_weight * satiation
        + if trusted { p.trust_weight } else { 0.0 }
        - p.duration_weight * (item.duration.ln() - p.ln_duration_reference)
}

/// The mean of the watch fraction [`respond`] draws for the same inputs: σ(z + extra),
/// clamped, with lingering's higher logit for a viewer who `lingers` (the watch fraction's
/// Beta has this mean). Read only by the `oracle` benchmark.
#[inline]
pub fn expected_watch(
    p: &ViewerParams,
    interests: &[f32],
    satiation: &[f32],
    trusted: bool,
    lingers: bool,
    extra_logit: f32,
    item: &Item,
) -> f32 {
    let k = item.topic as usize;
    let z = expected_logit(p, interests[k], satiation[k], trusted, item) + extra_logit;
    mean_fraction(if lingers { z + p.sensitive_linger } else { z })
}

/// The mean watch fraction at logit `z`: σ(z), kept inside (0, 1) so the Beta is proper.
#[inline]
fn mean_fraction(z: f32) -> f32 {
    logistic(z).clamp(0.005, 0.995)
}

/// Draws the viewer's response to `item`.
///
/// `interests` and `satiation` are the viewer's K-vectors; `trusted` says whether the viewer
/// follows the item's creator; `extra_logit` is added to the logit: the taste term
/// β_M m(u, i) (§4b) minus the logit lost to disagreement with the item's stance
/// (`crate::agreement::logit_penalty`, §4c), 0 when both are off; disagreement lowers
/// watching, and through the watch fraction likes and follows. A viewer who `lingers` (a vulnerable viewer on a sensitive
/// item) watches as if the logit were `sensitive_linger` higher, but likes and follows as if
/// it were `sensitive_approval` off the plain logit: watch time rises, approval does not.
#[inline]
#[allow(clippy::too_many_arguments)] // the impression's inputs, passed by value in the hot loop
pub fn respond(
    p: &ViewerParams,
    interests: &[f32],
    satiation: &[f32],
    trusted: bool,
    lingers: bool,
    extra_logit: f32,
    item: &Item,
    rng: &mut Rng,
) -> Response {
    let k = item.topic as usize;
    // The terms of later mechanisms (taste match §4b, agreement §4c), 0 when they are off:
    // adding 0 leaves every logit as it was, so results are unchanged.
    let z = expected_logit(p, interests[k], satiation[k], trusted, item) + extra_logit;
    let mu = mean_fraction(z);
    // Lingering: the watch fraction's mean, and the factor that brings likes to approval.
    let (mu_watch, approval) = if lingers {
        let mu_watch = mean_fraction(z + p.sensitive_linger);
        let mu_approve = mean_fraction(z + p.sensitive_approval);
        (mu_watch, (mu_approve / mu_watch) * (mu_approve / mu_watch))
    } else {
        (mu, 1.0)
    };
    let kappa = p.watch_concentration;
    let fraction = Beta::new(mu_watch * kappa, (1.0 - mu_watch) * kappa)
        .expect("positive Beta parameters")
        .sample(rng)
        .clamp(0.0, 1.0);
    let full = if lingers {
        fraction * fraction * approval
    } else {
        fraction * fraction
    };
    let liked = rng.random::<f32>() < p.like_rate * full;
    let follow_draw = rng.random::<f32>();
    let followed = !trusted && follow_draw < p.follow_rate * full;
    // Drawn at every impression, used only at a session end, so later draws stay aligned.
    let return_draw = rng.random::<f32>();
    let returns = return_draw < p.return_probability;
    Response {
        fraction,
        seconds: fraction * item.duration,
        skipped: fraction < p.skip_below,
        liked,
        followed,
        trusted,
        returns,
        return_draw,
    }
}

/// Applies the response's effects on the viewer: time, satiation, boredom, sessions and days,
/// interest drift and stance. `follows` is the viewer's follow slots.
#[inline]
pub fn update(
    p: &ViewerParams,
    state: &mut ViewerState,
    interests: &mut [f32],
    satiation: &mut [f32],
    follows: &mut [u32],
    item: &Item,
    r: &Response,
) {
    let k = item.topic as usize;
    let used = r.seconds + p.swipe_seconds;
    state.clock += used;
    state.watched += r.seconds;
    state.day_used += used;
    state.impressions += 1;
    state.sensitive += u32::from(item.sensitive());

    // Satiation: every topic recovers a little, the watched one fills up.
    for s in satiation.iter_mut() {
        *s *= p.satiation_decay;
    }
    satiation[k] += p.satiation_gain * r.fraction;

    // Boredom is a moving average of skips; at the threshold the session ends, and the
    // viewer comes back the same day or not (by habit and today's satisfaction, §5c). The day
    // ends when its budget is spent.
    state.habit.observe(r.fraction);
    state.boredom =
        p.boredom_decay * state.boredom + (1.0 - p.boredom_decay) * f32::from(u8::from(r.skipped));
    let session_over = state.boredom >= p.boredom_threshold;
    if state.day_used >= state.budget || (session_over && !p.habit.returns(&state.habit, r)) {
        end_day(p, state, satiation);
    } else if session_over {
        state.sessions = state.sessions.saturating_add(1);
        state.boredom = 0.0;
        satiation.iter_mut().for_each(|s| *s *= p.session_recovery);
    }

    // Interest drift towards the watched topic; the vector stays on the simplex. A vulnerable
    // viewer drifts faster towards sensitive topics.
    let eta = if state.vulnerable && item.sensitive() {
        (p.drift_rate * state.susceptibility * r.fraction * p.sensitive_drift).min(1.0)
    } else {
        (p.drift_rate * state.susceptibility * r.fraction).min(1.0)
    };
    if eta > 0.0 {
        for x in interests.iter_mut() {
            *x *= 1.0 - eta;
        }
        interests[k] += eta;
    }

    // Bounded-confidence stance update, stronger for trusted creators.
    let gap = item.stance - state.stance;
    if gap.abs() <= state.confidence {
        let trust = if r.trusted { p.trust_stance_multiplier } else { 1.0 };
        let step = (p.stance_rate * state.susceptibility * r.fraction * trust).min(1.0);
        state.stance = (state.stance + step * gap).clamp(-1.0, 1.0);
    }

    if r.followed && !follows.is_empty() {
        follows[state.follow_next as usize] = item.creator;
        state.follow_next = ((state.follow_next as usize + 1) % follows.len()) as u8;
        state.n_follows = (state.n_follows as usize + 1).min(follows.len()) as u8;
    }
}

/// Ends the viewer's day: the next day of use starts (today's use, boredom and satiation back
/// to 0), or after the last day the viewer stops. With a day-return probability below 1, days
/// may pass unused in between (§5c); `days` is then the calendar day reached.
#[inline]
pub fn end_day(p: &ViewerParams, state: &mut ViewerState, satiation: &mut [f32]) {
    let next = p.habit.next_day(&mut state.habit, state.days, p.days, state.bot);
    if let Some(day) = next {
        state.days = day;
        state.sessions = state.sessions.saturating_add(1);
        state.day_used = 0.0;
        state.boredom = 0.0;
        satiation.iter_mut().for_each(|s| *s = 0.0);
    } else {
        state.days = state.days.max(p.days);
        state.active = false;
    }
}

/// True if `creator` is among the first `n` follow slots.
#[inline]
pub fn follows_creator(follows: &[u32], n: u8, creator: u32) -> bool {
    follows[..n as usize].contains(&creator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(topic: u16, quality: f32, duration: f32) -> Item {
        Item {
            creator: 3,
            topic,
            group: 0,
            flags: 0,
            quality,
            duration,
            stance: 0.5,
            upload_step: 0,
        }
    }

    /// An 18-second item watched to the end, neither liked nor followed.
    fn watched_whole() -> Response {
        Response {
            fraction: 1.0,
            seconds: 18.0,
            skipped: false,
            liked: false,
            followed: false,
            trusted: false,
            returns: true,
            return_draw: 0.0,
        }
    }

    fn params() -> ViewerParams {
        ViewerParams::new(&pinned_config(), 4, 2)
    }

    /// An adult with the given stance, susceptibility 1, confidence bound 0.4 and no budget.
    fn person(stance: f32) -> crate::population::Person {
        crate::population::Person::adult(stance)
    }

    fn check(got: f32, expected: f32) {
        assert!((got - expected).abs() < 1e-5, "got {got}, expected {expected}");
    }

    #[test]
    fn expected_fraction_matches_hand_computation() {
        let p = params();
        // Average interest (K θ = 1), average quality, no satiation, reference duration:
        // the logit is the intercept alone.
        let it = item(0, 0.5, 18.0);
        check(
            expected_fraction(&p, 0.25, 0.0, false, &it),
            1.0 / (1.0 + 0.5f32.exp()),
        );
        // Double interest adds ln 2 to the logit; trust adds trust_weight.
        let z: f32 = -0.5 + 2f32.ln() + 0.7;
        check(
            expected_fraction(&p, 0.5, 0.0, true, &it),
            1.0 / (1.0 + (-z).exp()),
        );
        // Satiation 1 subtracts satiation_weight; duration 36 s subtracts 0.5 ln 2.
        let z: f32 = -0.5 - 1.0 - 0.5 * 2f32.ln();
        check(
            expected_fraction(&p, 0.25, 1.0, false, &item(0, 0.5, 36.0)),
            1.0 / (1.0 + (-z).exp()),
        );
    }

    #[test]
    fn update_moves_interests_and_keeps_the_simplex() {
        let p = params();
        let person = person(0.3);
        let mut st = ViewerState::new(&person);
        let mut interests = [0.25f32; 4];
        let mut satiation = [0.0f32; 4];
        let mut follows = [0u32; 2];
        let r = Response {
            liked: true,
            followed: true,
            ..watched_whole()
        };
        let it = item(2, 0.5, 18.0);
        update(&p, &mut st, &mut interests, &mut satiation, &mut follows, &it, &r);
        // η = drift_rate · susceptibility · fraction = 0.01.
        check(interests[2], 0.25 * 0.99 + 0.01);
        check(interests[0], 0.25 * 0.99);
        check(interests.iter().sum(), 1.0);
        check(satiation[2], 0.15);
        // Stance moves 5 % of the gap 0.2 towards the item.
        check(st.stance, 0.3 + 0.05 * 0.2);
        check(st.clock, 19.0);
        assert_eq!((st.n_follows, follows[0]), (1, 3));
    }

    #[test]
    fn vulnerable_viewers_linger_on_sensitive_items_without_liking_them_more() {
        let mut p = params();
        p.like_rate = 1.0;
        let mut sensitive = item(1, 0.5, 18.0);
        sensitive.flags = crate::catalog::SENSITIVE;
        let interests = [0.25f32; 4];
        let draws = |lingers: bool| {
            let (mut watched, mut liked) = (0.0, 0);
            for step in 0..4000 {
                let mut rng = crate::rng::stream(1, 0, 0, crate::rng::Purpose::Response, step);
                let r = respond(
                    &p, &interests, &[0.0; 4], false, lingers, 0.0, &sensitive, &mut rng,
                );
                watched += r.fraction;
                liked += u32::from(r.liked);
            }
            (watched / 4000.0, f64::from(liked) / 4000.0)
        };
        let (plain_watch, plain_likes) = draws(false);
        let (linger_watch, linger_likes) = draws(true);
        // μ = σ(-0.5) = 0.378; lingering watches at σ(0.5) = 0.622, approves at σ(-1.5).
        assert!((plain_watch - 0.378).abs() < 0.02, "{plain_watch}");
        assert!((linger_watch - 0.622).abs() < 0.02, "{linger_watch}");
        assert!(linger_likes < plain_likes, "{linger_likes} against {plain_likes}");
    }

    #[test]
    fn disagreement_lowers_watching_and_with_it_likes() {
        let mut p = params();
        p.like_rate = 1.0;
        let it = item(1, 0.5, 18.0);
        let draws = |disagreement: f32| {
            let (mut watched, mut liked) = (0.0, 0);
            for step in 0..4000 {
                let mut rng = crate::rng::stream(1, 0, 0, crate::rng::Purpose::Response, step);
                let r = respond(
                    &p,
                    &[0.25; 4],
                    &[0.0; 4],
                    false,
                    false,
                    -disagreement,
                    &it,
                    &mut rng,
                );
                watched += r.fraction;
                liked += u32::from(r.liked);
            }
            (watched / 4000.0, f64::from(liked) / 4000.0)
        };
        let (agree_watch, agree_likes) = draws(0.0);
        // β_A |x_i − x_u| = 1.2 (β_A = 1.5, distance 0.8): μ = σ(-0.5 - 1.2) = 0.154.
        let (disagree_watch, disagree_likes) = draws(1.2);
        assert!((agree_watch - 0.378).abs() < 0.02, "{agree_watch}");
        assert!((disagree_watch - 0.154).abs() < 0.02, "{disagree_watch}");
        assert!(
            disagree_likes < 0.6 * agree_likes,
            "{disagree_likes} against {agree_likes}"
        );
    }

    #[test]
    fn vulnerable_viewers_drift_faster_towards_sensitive_topics() {
        let p = params();
        let person = crate::population::Person {
            minor: true,
            vulnerable: true,
            ..person(0.0)
        };
        let mut st = ViewerState::new(&person);
        // Topic 2's interest after watching an item of it to the end, from an even 0.25.
        let mut drift = |it: &Item| {
            let mut interests = [0.25f32; 4];
            update(
                &p,
                &mut st,
                &mut interests,
                &mut [0.0; 4],
                &mut [],
                it,
                &watched_whole(),
            );
            interests[2]
        };
        let mut sensitive = item(2, 0.5, 18.0);
        sensitive.flags = crate::catalog::SENSITIVE;
        // η = drift_rate × sensitive_drift = 0.03.
        check(drift(&sensitive), 0.25 * 0.97 + 0.03);
        check(drift(&item(2, 0.5, 18.0)), 0.25 * 0.99 + 0.01);
    }

    #[test]
    fn stance_outside_the_confidence_bound_does_not_move() {
        let p = params();
        let person = person(-0.5);
        let mut st = ViewerState::new(&person);
        let r = watched_whole();
        update(
            &p,
            &mut st,
            &mut [0.25; 4],
            &mut [0.0; 4],
            &mut [],
            &item(0, 0.5, 18.0),
            &r,
        );
        check(st.stance, -0.5);
    }

    #[test]
    fn boredom_ends_a_session_and_budget_ends_a_day() {
        let p = params();
        let person = person(0.0);
        let mut st = ViewerState::new(&person);
        let skip = Response {
            fraction: 0.0,
            seconds: 0.0,
            skipped: true,
            liked: false,
            followed: false,
            trusted: false,
            returns: true,
            return_draw: 0.0,
        };
        let it = item(0, 0.5, 18.0);
        let mut sat = [0.5f32; 4];
        // Boredom is a moving average of skips: after n skips 1 - 0.8^n = 0.2, 0.36, 0.488,
        // so the third skip ends the session (threshold 0.4) and the viewer comes back.
        for _ in 0..2 {
            update(&p, &mut st, &mut [0.25; 4], &mut sat, &mut [], &it, &skip);
        }
        assert_eq!(st.sessions, 1);
        check(st.boredom, 0.36);
        // A watched item is no skip: boredom only decays.
        let watched = Response {
            fraction: 0.5,
            seconds: 9.0,
            skipped: false,
            ..skip
        };
        update(&p, &mut st, &mut [0.25; 4], &mut sat, &mut [], &it, &watched);
        check(st.boredom, 0.8 * 0.36);
        assert_eq!(st.sessions, 1);
        // 0.8 · 0.288 + 0.2 = 0.430: the next skip ends the session.
        update(&p, &mut st, &mut [0.25; 4], &mut sat, &mut [], &it, &skip);
        assert_eq!(st.sessions, 2);
        assert_eq!(st.boredom, 0.0);
        assert!(st.active);
        // A spent budget starts the second and last day; the next one ends the run.
        st.budget = 1.0;
        update(&p, &mut st, &mut [0.25; 4], &mut sat, &mut [], &it, &skip);
        assert_eq!((st.days, sat[0]), (2, 0.0));
        assert!(st.active);
        update(&p, &mut st, &mut [0.25; 4], &mut sat, &mut [], &it, &skip);
        assert!(!st.active);
    }
}
