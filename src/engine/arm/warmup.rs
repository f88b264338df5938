//! Older accounts: an arm that starts with an existing following (`population.initial_follows`)
//! and after a warm-up of prior use (`population.warmup_minutes`), `docs/model.md` §3c.
//!
//! The warm-up runs once per replicate, before any arm: every viewer (not an audit bot) uses
//! the platform for the warm-up's minutes under the engagement feed with its defaults, on the
//! catalog of step 0, drawing from streams of its own. Each arm then starts from a copy of what
//! it left (the viewers' interests, taste, stance, habit, follows and profiles; the platform's
//! item statistics and trending), with every measured counter at zero, so the warm-up is the
//! same in every arm and no row counts it.
//!
//! What is kept between the arms is a [`Warmed`] state, not a second arm: only what the warm-up
//! changed and an arm reads. The rest of an arm's per-viewer state is either what
//! [`ArmRun::new`] draws (satiation 0 at a new day, the taste's running sums 0, initial
//! interests equal to the interests) or never read before it is written (the ring of recent
//! impressions and its topics, which measurement starts empty; the platform's window of recent
//! steps, cleared), so an arm started from it is the arm a full copy gave, bit for bit.

use super::{ArmRun, Policies};
use crate::catalog::Catalog;
use crate::engine::platform::Global;
use crate::population::Population;
use crate::recommender;
use crate::scenario::{EngagementConfig, PolicyConfig, Scenario};
use crate::viewer::ViewerState;

/// What the warm-up changed of a viewer's scalars; every other scalar is as
/// [`ArmRun::new`] makes it once measurement starts (clocks and counters at 0, a new day).
#[derive(Debug, Clone, Copy)]
struct Scalars {
    stance: f32,
    stance_estimate: f32,
    stance_weight: f32,
    habit: f32,
    n_follows: u8,
    follow_next: u8,
}

/// The state every arm of a replicate starts from after the warm-up (`docs/model.md` §3c).
pub struct Warmed {
    viewers: Vec<Scalars>,
    /// Per viewer: interests, profile estimate and counts (3 K floats), then the taste (D).
    floats: Vec<f32>,
    /// Per viewer: the follow slots.
    follows: Vec<u32>,
    /// The platform, its (cleared) window of recent steps emptied.
    global: Global,
}

impl Warmed {
    /// Bytes per viewer of the warmed state for K topics, D taste dimensions and
    /// `follow_cap` follow slots: the scalars it changed, 3 K + D floats and the follow slots.
    pub fn bytes_per_viewer(k: usize, dims: usize, follow_cap: usize) -> usize {
        std::mem::size_of::<Scalars>() + (3 * k + dims) * 4 + follow_cap * 4
    }

    /// What `run` keeps of its state at the end of the warm-up.
    fn keep(run: ArmRun) -> Warmed {
        let (k, dims) = (run.k, run.catalog.taste.dims);
        let per = 3 * k + dims;
        let mut floats = Vec::with_capacity(run.viewers.len() * per);
        for block in run.floats.chunks_exact(run.stride) {
            floats.extend_from_slice(&block[..k]);
            floats.extend_from_slice(&block[3 * k..5 * k + dims]);
        }
        let stride = run.history + run.follow_cap;
        let mut follows = Vec::with_capacity(run.viewers.len() * run.follow_cap);
        for slots in run.slots.chunks_exact(stride) {
            follows.extend_from_slice(&slots[run.history..]);
        }
        let mut global = run.global;
        global.recent = global.recent.emptied();
        Warmed {
            viewers: run.viewers.iter().map(Scalars::of).collect(),
            floats,
            follows,
            global,
        }
    }
}

impl Scalars {
    fn of(v: &ViewerState) -> Scalars {
        Scalars {
            stance: v.stance,
            stance_estimate: v.stance_estimate,
            stance_weight: v.stance_weight,
            habit: v.habit.strength,
            n_follows: v.n_follows,
            follow_next: v.follow_next,
        }
    }

    /// A viewer as [`ArmRun::new`] made it becomes the viewer at the warm-up's end, as
    /// [`ArmRun::start_measuring`] left it: stance change and follows measured from here.
    fn apply(&self, v: &mut ViewerState) {
        v.stance = self.stance;
        v.stance0 = self.stance;
        v.stance_estimate = self.stance_estimate;
        v.stance_weight = self.stance_weight;
        v.habit.strength = self.habit;
        v.n_follows = self.n_follows;
        v.follow_next = self.follow_next;
        v.follows0 = self.n_follows;
    }
}

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
    ) -> Option<Warmed> {
        let minutes = scenario.population.warmup_minutes;
        if minutes <= 0.0 {
            return None;
        }
        let mut run = ArmRun::new(scenario, catalog, population, replicate);
        run.warm_up((minutes * 60.0) as f32);
        Some(Warmed::keep(run))
    }

    /// Starts this arm, as [`ArmRun::new`] made it, from the warmed state `w` (the same
    /// scenario and replicate): what [`ArmRun::start_measuring`] left at the warm-up's end.
    pub fn start_from(&mut self, w: &Warmed) {
        let (k, dims) = (self.k, self.catalog.taste.dims);
        for (v, kept) in self.viewers.iter_mut().zip(&w.viewers) {
            kept.apply(v);
        }
        for (block, kept) in self
            .floats
            .chunks_exact_mut(self.stride)
            .zip(w.floats.chunks_exact(3 * k + dims))
        {
            // Interests, and measurement's start of them (interest drift is measured from here).
            block[..k].copy_from_slice(&kept[..k]);
            block[k..2 * k].copy_from_slice(&kept[..k]);
            // Satiation stays 0 (a new day); the profile and the taste as the warm-up left
            // them; the taste's sums stay 0.
            block[3 * k..5 * k + dims].copy_from_slice(&kept[k..]);
        }
        let stride = self.history + self.follow_cap;
        for (slots, kept) in self
            .slots
            .chunks_exact_mut(stride)
            .zip(w.follows.chunks_exact(self.follow_cap.max(1)))
        {
            slots[self.history..].copy_from_slice(kept);
        }
        // The arm's own window of recent steps is as empty as the warm-up's, cleared.
        let recent = std::mem::replace(&mut self.global.recent, w.global.recent.clone());
        self.global.clone_from(&w.global);
        self.global.recent = recent;
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
            let visits = self.live.count();
            let tally = self.step(&policies, step, visits, None);
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
