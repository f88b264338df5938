//! Older accounts: an arm that starts with an existing following (`population.initial_follows`)
//! and after a warm-up of prior use (`population.warmup_minutes`), `docs/model.md` §3c.
//!
//! The warm-up runs once per replicate, before any arm: every viewer (not an audit bot) uses
//! the platform for the warm-up's minutes under the engagement feed with its defaults, on the
//! catalog of step 0, drawing from streams of its own. Each arm then starts from a copy of what
//! it left (the viewers' interests, satiation, stance, follows and profiles; the platform's
//! item statistics and trending), with every measured counter at zero, so the warm-up is the
//! same in every arm and no row counts it.

use super::{ArmRun, Policies};
use crate::catalog::Catalog;
use crate::population::Population;
use crate::recommender;
use crate::scenario::{EngagementConfig, PolicyConfig, Scenario};

impl<'a> ArmRun<'a> {
    /// Fills every viewer's first follow slots with `follows` (N per viewer, row-major, the
    /// first drawn the oldest), so the next follow goes to slot N mod capacity; audit bots,
    /// after the viewers, keep none.
    pub(super) fn follow_at_start(&mut self, follows: &[u32]) {
        let n = self.scenario.population.initial_follows as usize;
        let stride = self.history + self.follow_cap;
        for (id, row) in follows.chunks_exact(n).enumerate() {
            let slots = &mut self.slots[id * stride + self.history..(id + 1) * stride];
            slots[..n].copy_from_slice(row);
            let v = &mut self.viewers[id];
            v.n_follows = n as u8;
            v.follow_next = (n % self.follow_cap) as u8;
            v.follows0 = n as u8;
        }
    }

    /// The state after the scenario's warm-up, or `None` without one.
    pub fn warmed(
        scenario: &'a Scenario,
        catalog: &'a Catalog,
        population: &Population,
        replicate: u32,
    ) -> Option<ArmRun<'a>> {
        let minutes = scenario.population.warmup_minutes;
        if minutes <= 0.0 {
            return None;
        }
        let mut run = ArmRun::new(scenario, catalog, population, replicate);
        run.warm_up((minutes * 60.0) as f32);
        Some(run)
    }

    /// Starts this arm from the warmed state `w` (the same scenario and replicate).
    pub fn start_from(&mut self, w: &ArmRun) {
        self.viewers.clone_from(&w.viewers);
        self.floats.clone_from(&w.floats);
        self.slots.clone_from(&w.slots);
        self.history_topics.clone_from(&w.history_topics);
        self.global = w.global.clone();
    }

    /// Every viewer uses the platform for `seconds` of use under the warm-up feed; then the
    /// measured counters start from zero.
    fn warm_up(&mut self, seconds: f32) {
        let policy = recommender::build(&PolicyConfig::Engagement(EngagementConfig::default()));
        let policies = Policies {
            default: policy.as_ref(),
            switch: None,
            boosts: &[],
            measured: None,
            protections: None,
            bots: None,
        };
        // Audit bots are fresh accounts: they sit the warm-up out.
        for v in self.viewers.iter_mut().filter(|v| v.bot) {
            v.active = false;
        }
        // Days follow one another until the minutes are used; the clock moves by at least
        // the swipe time per impression, which bounds the steps.
        let days = self.params.days;
        self.params.days = u16::MAX;
        self.warming = Some(seconds);
        let swipe = (self.scenario.viewer.swipe_seconds as f32).max(1e-3);
        let max_steps = (seconds / swipe).ceil().min(u32::MAX as f32 - 1.0) as u32 + 1;
        let half_life = self.scenario.recommender.trending_half_life;
        for step in 0..max_steps {
            let tally = self.step(&policies, step, None);
            self.global.absorb(
                self.live.shown(&self.outcomes),
                &self.scenario.recommender,
                half_life,
            );
            if tally.active == 0 {
                break;
            }
            self.global.rank_trending(&self.scenario.recommender);
        }
        self.global.rank_trending(&self.scenario.recommender);
        self.params.days = days;
        self.warming = None;
        self.start_measuring();
    }

    /// The first measured step is the start of a new day (today's use, boredom and
    /// satiation at zero, as `viewer::end_day` leaves them) and of every measure: clocks and
    /// counters at zero, the window empty, drift and stance change measured from here.
    fn start_measuring(&mut self) {
        let k = self.k;
        let dims = self.catalog.taste.dims;
        for (v, block) in self
            .viewers
            .iter_mut()
            .zip(self.floats.chunks_exact_mut(self.stride))
        {
            let (interests, rest) = block.split_at_mut(k);
            rest[..k].copy_from_slice(interests);
            rest[k..2 * k].fill(0.0);
            // The taste's running sums of the match shown and watched (none without taste).
            rest[4 * k + dims..].fill(0.0);
            v.clock = 0.0;
            v.watched = 0.0;
            v.day_used = 0.0;
            v.boredom = 0.0;
            v.minutes_to_hole = f32::NAN;
            v.impressions = 0;
            v.sensitive = 0;
            v.sessions = 1;
            v.days = 1;
            // Habit strength is what the warm-up built; days of use and today's satisfaction
            // count from the first measured day.
            v.habit.active_days = 1;
            v.habit.day_watched = 0.0;
            v.habit.day_impressions = 0;
            v.boosted = 0;
            v.boosted_trusted = 0;
            v.groups_seen = 0;
            v.night = 0;
            v.active = true;
            v.stance0 = v.stance;
            v.follows0 = v.n_follows;
        }
        self.global.start_measuring();
    }
}
