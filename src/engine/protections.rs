//! An arm's protections in the step loop (`docs/model.md` §8c): what `[arms.rules]`
//! do before, during and after an impression (a profile reset, a minor's curfew and daily
//! limit, the sensitive cap, the educational feed, explicit feedback), with the day model
//! they and the day's sessions read. Nothing here runs for a scenario without the features of
//! §8c, so such a scenario computes exactly what it computed before they existed.

use super::day::DayModel;
use crate::catalog::{Catalog, EDUCATIONAL, ItemIdx, SENSITIVE};
use crate::recommender::{Allow, profile};
use crate::rng::{Purpose, once, stream};
use crate::scenario::{ProtectionsConfig, RecommenderConfig, Scenario, in_hours};
use crate::viewer::{self, Response, ViewerParams, ViewerState};
use rand::RngExt;

/// The rules of an arm's `[arms.protections]`, compiled.
#[derive(Debug, Clone, Default)]
pub(super) struct Rules {
    /// Most sensitive items in a window of W impressions.
    cap: Option<u32>,
    /// Minors' most seconds of use per day.
    limit: Option<f32>,
    /// Minors' curfew: start and end hours.
    curfew: Option<(f64, f64)>,
    /// Minors see educational items only.
    educational: bool,
    /// Weight of explicit feedback in the profile's signal.
    explicit: f32,
    /// Seconds of use at which viewers who ask forget their profile.
    reset: Option<f32>,
}

impl Rules {
    pub fn new(cfg: Option<&ProtectionsConfig>, window: usize) -> Rules {
        let Some(cfg) = cfg else {
            return Rules::default();
        };
        Rules {
            cap: cfg
                .sensitive_cap
                .map(|c| (c * window as f64 + 1e-9).floor() as u32),
            limit: cfg.minor_daily_minutes.map(|m| (m * 60.0) as f32),
            curfew: cfg.curfew(),
            educational: cfg.minor_educational_feed,
            explicit: cfg.explicit_weight as f32,
            reset: cfg.reset_minute.map(|m| (m * 60.0) as f32),
        }
    }

    /// Marks the viewers who ask for a reset (the same viewers in every arm with the same
    /// share).
    fn mark_resets(cfg: Option<&ProtectionsConfig>, viewers: &mut [ViewerState], seed: u64, replicate: u32) {
        let Some(share) = cfg.filter(|c| c.reset_minute.is_some()).map(|c| c.reset_share) else {
            return;
        };
        for (id, v) in viewers.iter_mut().enumerate() {
            v.resets = once(seed, replicate, id as u64, Purpose::Reset) < share;
        }
    }
}

/// An arm's protections in the step, with the day model they read (a scenario with `[day]`
/// and no protections has empty rules and a day model).
#[derive(Debug, Clone)]
pub(super) struct Protections {
    pub day: Option<DayModel>,
    pub rules: Rules,
    /// Each topic's item flags (sensitive, educational).
    topic_flags: Vec<u8>,
    seed: u64,
    replicate: u32,
}

impl Protections {
    /// Marks the viewers who ask for a reset under `cfg` (the same viewers in every arm with
    /// the same share).
    pub fn mark_resets(
        cfg: Option<&ProtectionsConfig>,
        viewers: &mut [ViewerState],
        seed: u64,
        replicate: u32,
    ) {
        Rules::mark_resets(cfg, viewers, seed, replicate);
    }

    /// For arm `arm` of the scenario; none when the scenario does not use these features.
    pub fn new(scenario: &Scenario, arm: usize, replicate: u32) -> Option<Protections> {
        if !scenario.safety_features() {
            return None;
        }
        let topic_flags = scenario
            .catalog
            .topics
            .iter()
            .map(|t| if t.sensitive { SENSITIVE } else { 0 } | if t.educational { EDUCATIONAL } else { 0 })
            .collect();
        Some(Protections {
            day: scenario.day_model().map(|d| DayModel::new(&d)),
            rules: Rules::new(
                scenario.arms[arm].protections.as_ref(),
                scenario.metrics.window as usize,
            ),
            topic_flags,
            seed: scenario.scenario.seed,
            replicate,
        })
    }

    /// Places every viewer's first day in the day.
    pub fn place_first_days(&self, viewers: &mut [ViewerState]) {
        if let Some(day) = &self.day {
            for (id, v) in viewers.iter_mut().enumerate() {
                v.day_start = day.start(self.seed, self.replicate, id as u32, 1, v.minor);
            }
        }
    }

    /// Before an impression: the profile reset, and for minors the curfew and the daily
    /// limit, which may end the day (and the run after the last day) or move its start past
    /// the curfew. Returns false when the viewer has stopped.
    #[allow(clippy::too_many_arguments)]
    pub fn before(
        &self,
        params: &ViewerParams,
        config: &RecommenderConfig,
        id: u32,
        state: &mut ViewerState,
        satiation: &mut [f32],
        estimate: &mut [f32],
        counts: &mut [f32],
    ) -> bool {
        let p = &self.rules;
        if let Some(at) = p.reset
            && state.resets
            && !state.reset_done
            && state.clock >= at
        {
            estimate.fill(config.profile_prior as f32);
            counts.fill(0.0);
            // The learned stance is part of the profile the reset forgets.
            state.stance_estimate = 0.0;
            state.stance_weight = 0.0;
            state.reset_done = true;
        }
        if !state.minor {
            return true;
        }
        let over_limit = |s: &ViewerState| p.limit.is_some_and(|l| s.day_used + params.swipe_seconds >= l);
        let in_curfew = |s: &ViewerState| {
            p.curfew
                .is_some_and(|(start, end)| in_hours(DayModel::hour(s), start, end))
        };
        if over_limit(state) || (state.day_used > 0.0 && in_curfew(state)) {
            viewer::end_day(params, state, satiation);
            if !state.active {
                return false;
            }
            self.new_day(id, state);
        }
        if in_curfew(state) {
            // A day that would start in the curfew starts when it ends.
            let (_, end) = p.curfew.expect("in a curfew");
            state.day_start = (end * 3600.0) as f32 - state.day_used;
        }
        if over_limit(state) {
            // A limit shorter than one swipe: nothing can be shown today.
            viewer::end_day(params, state, satiation);
            self.new_day(id, state);
            return false;
        }
        true
    }

    /// Ends the viewer's day when nothing the protections allow can be shown.
    pub fn nothing_to_show(
        &self,
        params: &ViewerParams,
        id: u32,
        state: &mut ViewerState,
        satiation: &mut [f32],
    ) {
        viewer::end_day(params, state, satiation);
        self.new_day(id, state);
    }

    /// Starts the viewer's new day in the day model.
    fn new_day(&self, id: u32, state: &mut ViewerState) {
        if let Some(day) = &self.day {
            state.day_start = day.start(self.seed, self.replicate, id, state.days, state.minor);
        }
    }

    /// Which items the viewer may be shown now: with a sensitive cap, no sensitive item once
    /// the last W - 1 impressions (`recent_topics`) hold the cap's count; for minors under
    /// an educational feed, educational items only.
    pub fn allow<'a>(
        &self,
        items: &'a [crate::catalog::Item],
        minor: bool,
        recent_topics: [&[u16]; 2],
    ) -> Allow<'a> {
        let p = &self.rules;
        let mut allow = Allow {
            items,
            forbid: 0,
            require: 0,
        };
        if let Some(cap) = p.cap {
            let sensitive = recent_topics
                .iter()
                .flat_map(|part| part.iter())
                .filter(|&&t| self.topic_flags[t as usize] & SENSITIVE != 0)
                .count() as u32;
            if sensitive >= cap {
                allow.forbid |= SENSITIVE;
            }
        }
        if minor && p.educational {
            allow.require |= EDUCATIONAL;
        }
        allow
    }

    /// Share of sensitive items among `n` impressions with these topic counts.
    #[inline]
    pub fn sensitive_share(&self, topic_counts: &[u32], n: u32) -> f32 {
        if n == 0 {
            return 0.0;
        }
        let sensitive: u32 = topic_counts
            .iter()
            .zip(&self.topic_flags)
            .filter(|&(_, f)| f & SENSITIVE != 0)
            .map(|(c, _)| c)
            .sum();
        sensitive as f32 / n as f32
    }

    /// An allowed item in place of a recommendation the protections refuse: a topic drawn
    /// among the allowed ones in proportion to their visible items, then an item of it, not
    /// among the last impressions where a few tries allow.
    pub fn replacement(
        &self,
        catalog: &Catalog,
        topic_visible: &[u32],
        allow: &Allow,
        id: u32,
        step: u32,
        seen: impl Fn(ItemIdx) -> bool,
    ) -> Option<ItemIdx> {
        let ok = |t: usize| {
            let f = self.topic_flags[t];
            f & allow.forbid == 0 && f & allow.require == allow.require
        };
        let total: u64 = (0..topic_visible.len())
            .filter(|&t| ok(t))
            .map(|t| u64::from(topic_visible[t]))
            .sum();
        if total == 0 {
            return None;
        }
        let mut rng = stream(
            self.seed,
            self.replicate,
            u64::from(id),
            Purpose::Protect,
            u64::from(step),
        );
        let mut item = None;
        for _ in 0..4 {
            let mut u = rng.random_range(0..total);
            for (t, &n) in topic_visible.iter().enumerate() {
                if !ok(t) {
                    continue;
                }
                if u < u64::from(n) {
                    item = Some(catalog.topic_items[t][u as usize]);
                    break;
                }
                u -= u64::from(n);
            }
            if item.is_some_and(|i| !seen(i)) {
                break;
            }
        }
        item
    }

    /// A minor's watching cut at the daily limit: the app closes when it is reached.
    #[inline]
    pub fn cut_at_limit(&self, params: &ViewerParams, state: &ViewerState, duration: f32, r: &mut Response) {
        if let Some(limit) = self.rules.limit
            && state.minor
        {
            let left = (limit - state.day_used - params.swipe_seconds).max(0.0);
            if r.seconds > left {
                r.seconds = left;
                r.fraction = left / duration;
                r.skipped = r.fraction < params.skip_below;
            }
        }
    }

    /// The signal the profile learns from: with `explicit_weight` ω,
    /// (1 - ω) × the watch signal + ω × the explicit signal.
    #[inline]
    pub fn signal(&self, config: &RecommenderConfig, params: &ViewerParams, r: &Response) -> f32 {
        let watched = profile::signal(config, r);
        let w = self.rules.explicit;
        if w == 0.0 {
            return watched;
        }
        (1.0 - w) * watched + w * profile::explicit_signal(config, params.like_rate, params.follow_rate, r)
    }

    /// After the viewer's update: a new day is placed in the day, a new session starts a gap
    /// after the last.
    #[inline]
    pub fn after(&self, id: u32, state: &mut ViewerState, days_before: u16, sessions_before: u16) {
        if let Some(day) = &self.day {
            if state.days != days_before {
                state.day_start = day.start(self.seed, self.replicate, id, state.days, state.minor);
            } else if state.sessions != sessions_before {
                state.day_start = day.next_session(state.day_start);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::Person;
    use crate::scenario::ProtectionsConfig;

    fn scenario(protections: ProtectionsConfig) -> Scenario {
        let mut s = Scenario::default();
        s.feed.days = 3;
        s.arms[0].protections = Some(protections);
        s
    }

    fn minor() -> ViewerState {
        ViewerState::new(&Person {
            stance: 0.0,
            susceptibility: 1.0,
            confidence: 0.4,
            budget_seconds: 1e9,
            minor: true,
            vulnerable: false,
            bot: false,
        })
    }

    /// Runs [`Protections::before`] for a minor; returns whether it may see an impression.
    fn before(s: &Scenario, y: &Protections, v: &mut ViewerState) -> bool {
        let p = ViewerParams::new(&s.viewer, s.n_topics(), s.feed.days);
        let k = s.n_topics();
        y.before(
            &p,
            &s.recommender,
            0,
            v,
            &mut vec![0.5; k],
            &mut vec![0.9; k],
            &mut vec![4.0; k],
        )
    }

    #[test]
    fn the_curfew_ends_a_minors_day_and_moves_a_start_past_it() {
        let s = scenario(ProtectionsConfig {
            minor_curfew_start: Some(22.0),
            minor_curfew_end: Some(6.0),
            ..ProtectionsConfig::default()
        });
        let y = Protections::new(&s, 0, 0).expect("protections use the day model");
        // In use since 21:00, now 22:30: the day ends and the next one starts outside it.
        let mut v = minor();
        v.day_start = 21.0 * 3600.0;
        v.day_used = 5400.0;
        assert!(before(&s, &y, &mut v));
        assert_eq!(v.days, 2);
        assert!(!in_hours(DayModel::hour(&v), 22.0, 6.0), "{}", DayModel::hour(&v));
        // A day that would start at 23:00 starts at 06:00.
        let mut v = minor();
        v.day_start = 23.0 * 3600.0;
        assert!(before(&s, &y, &mut v));
        assert_eq!((v.days, DayModel::hour(&v)), (1, 6.0));
        // Adults are not under it.
        let mut adult = minor();
        adult.minor = false;
        adult.day_start = 23.0 * 3600.0;
        assert!(before(&s, &y, &mut adult));
        assert_eq!(DayModel::hour(&adult), 23.0);
    }

    #[test]
    fn the_daily_limit_ends_the_day_and_cuts_the_last_item() {
        let s = scenario(ProtectionsConfig {
            minor_daily_minutes: Some(40.0),
            ..ProtectionsConfig::default()
        });
        let y = Protections::new(&s, 0, 0).unwrap();
        let p = ViewerParams::new(&s.viewer, s.n_topics(), s.feed.days);
        let mut v = minor();
        v.day_used = 2390.0;
        // 10 s left: one swipe and 9 s of a 30 s item.
        let mut r = Response::watched(1.0, 30.0);
        y.cut_at_limit(&p, &v, 30.0, &mut r);
        assert_eq!((r.seconds, r.fraction), (9.0, 0.3));
        v.day_used = 2400.0;
        assert!(before(&s, &y, &mut v));
        assert_eq!((v.days, v.day_used), (2, 0.0));
        // After the last day, the viewer stops.
        v.days = 3;
        v.day_used = 2400.0;
        assert!(!before(&s, &y, &mut v));
        assert!(!v.active);
    }

    #[test]
    fn a_reset_forgets_the_profile_once() {
        let s = scenario(ProtectionsConfig {
            reset_minute: Some(10.0),
            reset_share: 1.0,
            ..ProtectionsConfig::default()
        });
        let y = Protections::new(&s, 0, 0).unwrap();
        let p = ViewerParams::new(&s.viewer, s.n_topics(), s.feed.days);
        let k = s.n_topics();
        let (mut estimate, mut counts) = (vec![0.9; k], vec![4.0; k]);
        let before = |v: &mut ViewerState, estimate: &mut Vec<f32>, counts: &mut Vec<f32>| {
            y.before(&p, &s.recommender, 0, v, &mut vec![0.0; k], estimate, counts)
        };
        let mut v = minor();
        v.resets = true;
        v.clock = 599.0;
        before(&mut v, &mut estimate, &mut counts);
        assert_eq!(estimate[0], 0.9);
        v.clock = 600.0;
        before(&mut v, &mut estimate, &mut counts);
        assert_eq!((estimate[0], counts[0]), (0.3, 0.0));
        assert!(v.reset_done);
        estimate[0] = 0.8;
        before(&mut v, &mut estimate, &mut counts);
        assert_eq!(estimate[0], 0.8);
    }

    #[test]
    fn the_cap_counts_whole_items_of_the_window() {
        let cap = |c: f64| {
            let p = Rules::new(
                Some(&ProtectionsConfig {
                    sensitive_cap: Some(c),
                    ..ProtectionsConfig::default()
                }),
                20,
            );
            p.cap.unwrap()
        };
        assert_eq!((cap(0.1), cap(0.0), cap(0.15), cap(1.0)), (2, 0, 3, 20));
    }
}
