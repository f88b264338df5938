//! One arm of one replicate: the viewers' state, the step loop, the global update between
//! steps, and the aggregation of per-viewer metrics into timeseries rows.
//!
//! Per-viewer state is compact and flat: a [`ViewerState`] of scalars, K-vectors in one `f32`
//! array (interests, initial interests, satiation, profile estimate, profile counts), the
//! recent impressions (a ring of max(W, no-repeat) items) and follows in one `u32` array, the
//! ring's topics in a `u16` array. The hot
//! loop reuses per-thread scratch buffers and allocates nothing.

use super::bots::{BotLog, BotRow, Bots};
use super::platform::{Global, NONE, Outcome};
use super::reduce::{Cohort, Reducer};
use super::youth::{Protections, Youth};
use super::{PROGRESS_UNITS, TimeRow, UserRow};
use crate::boost::{Boost, BoostView, MAX_BOOSTS, TargetSet};
use crate::catalog::{Catalog, ItemIdx};
use crate::metrics::{self, EntropyTable, ViewerMetrics};
use crate::population::Population;
use crate::recommender::{self, Allow, Policy, Scratch, Shared, Source, Trace, ViewerView, profile};
use crate::rng::{Purpose, Streams, once};
use crate::scenario::BoostMode;
use crate::scenario::Scenario;
use crate::viewer::{self, Response, ViewerParams, ViewerState};
use rand::RngExt;
use rayon::prelude::*;
use std::cell::RefCell;
use std::sync::Mutex;

/// Largest K the per-step stack buffers hold (the scenario allows at most 256 topics).
const MAX_TOPICS: usize = 256;

/// How many viewers ahead the step asks the cache for a viewer's state.
const AHEAD: usize = 4;

/// One per-viewer array of the step, for prefetching: its address and bytes per viewer.
#[derive(Clone, Copy)]
struct Ahead {
    addr: usize,
    stride: usize,
}

impl Ahead {
    fn of<T>(array: &[T], per_viewer: usize) -> Ahead {
        Ahead {
            addr: array.as_ptr() as usize,
            stride: per_viewer * std::mem::size_of::<T>(),
        }
    }

    /// Asks the cache for the lines of viewer `id`'s part of the array.
    #[inline(always)]
    fn fetch(&self, id: usize) {
        let start = self.addr + id * self.stride;
        let mut line = start & !63;
        while line < start + self.stride {
            prefetch(line);
            line += 64;
        }
    }
}

/// A hint to bring the cache line at `addr` into the cache ahead of its use.
#[inline(always)]
fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and never faults, at any address.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Stack buffers of this many topics serve every K up to it (most scenarios).
const SMALL_K: usize = 32;

/// Bytes of per-viewer state that do not depend on K, W or the follow capacity.
pub const BYTES_PER_VIEWER_FIXED: usize = std::mem::size_of::<ViewerState>()
    + std::mem::size_of::<Outcome>()
    + std::mem::size_of::<ViewerMetrics>();

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The state of one arm of one replicate.
pub struct ArmRun<'a> {
    scenario: &'a Scenario,
    catalog: &'a Catalog,
    replicate: u32,
    params: ViewerParams,
    k: usize,
    /// W: the metrics window.
    window: usize,
    /// Length of the ring of recent impressions: max(W, no-repeat, 1).
    history: usize,
    follow_cap: usize,
    viewers: Vec<ViewerState>,
    /// Per viewer: interests, initial interests, satiation, profile, profile counts (5 K).
    floats: Vec<f32>,
    /// Per viewer: the ring of recent items, then follow slots.
    slots: Vec<u32>,
    /// Per viewer: the topics of the ring of recent items.
    history_topics: Vec<u16>,
    outcomes: Vec<Outcome>,
    viewer_metrics: Vec<ViewerMetrics>,
    /// `feed_entropy` for windows up to W.
    entropy: EntropyTable,
    global: Global,
    reducer: Reducer,
    /// The audit bots, after the viewers (none without `[[bots]]`), and what their feeds did.
    bots: Option<Bots>,
    bot_log: Option<BotLog>,
}

impl<'a> ArmRun<'a> {
    /// The arm at step 0: every viewer as drawn, an empty profile, no impressions.
    pub fn new(
        scenario: &'a Scenario,
        catalog: &'a Catalog,
        population: &Population,
        replicate: u32,
    ) -> Self {
        let k = catalog.n_topics();
        let n = population.people.len();
        let window = scenario.metrics.window as usize;
        let history = window.max(scenario.feed.no_repeat as usize).max(1);
        let follow_cap = scenario.viewer.max_follows as usize;
        let prior = scenario.recommender.profile_prior as f32;
        let mut floats = vec![0f32; n * 5 * k];
        for (block, interests) in floats
            .chunks_exact_mut(5 * k)
            .zip(population.interests.chunks_exact(k))
        {
            block[..k].copy_from_slice(interests);
            block[k..2 * k].copy_from_slice(interests);
            block[3 * k..4 * k].fill(prior);
        }
        let global = Global::new(scenario, catalog);
        ArmRun {
            scenario,
            catalog,
            replicate,
            params: ViewerParams::new(&scenario.viewer, k, scenario.feed.days),
            k,
            window,
            history,
            follow_cap,
            viewers: population.people.iter().map(ViewerState::new).collect(),
            floats,
            slots: vec![0; n * (history + follow_cap)],
            history_topics: vec![0; n * history],
            outcomes: vec![Outcome::NOTHING; n],
            viewer_metrics: vec![ViewerMetrics::default(); n],
            entropy: EntropyTable::new(window as u32, k),
            global,
            reducer: Reducer::new(vec![Cohort::All], scenario.metrics.stance_threshold),
            bots: (!scenario.bots.is_empty()).then(|| {
                Bots::new(
                    scenario,
                    population.people.iter().filter(|p| !p.bot).count() as u32,
                )
            }),
            bot_log: None,
        }
    }

    /// Bytes of state per viewer in this arm.
    pub fn bytes_per_viewer(&self) -> usize {
        BYTES_PER_VIEWER_FIXED + 5 * self.k * 4 + (self.history + self.follow_cap) * 4 + self.history * 2
    }

    /// Runs arm `arm` of the scenario to the end, appending its timeseries rows; returns the
    /// viewer-steps done. With a `tracer`, one viewer's recommendations are recorded and the
    /// run stops after the tracer's steps.
    pub fn run(
        &mut self,
        arm: usize,
        rows: &mut Vec<TimeRow>,
        progress: &(dyn Fn(u64) + Sync),
        mut tracer: Option<&mut Tracer>,
    ) -> u64 {
        let config = &self.scenario.arms[arm];
        let policy = recommender::build(&config.policy);
        let switch = config.switch.as_ref().map(|s| {
            (
                recommender::build(&s.policy),
                (s.at_minute * 60.0) as f32,
                s.share,
            )
        });
        let mut cohorts = vec![Cohort::All];
        if let Some((_, _, share)) = &switch {
            // The same viewers switch in every arm with the same share (common random numbers).
            for (id, v) in self.viewers.iter_mut().enumerate() {
                v.switcher = once(
                    self.scenario.scenario.seed,
                    self.replicate,
                    id as u64,
                    Purpose::Switch,
                ) < *share;
            }
            cohorts.extend([Cohort::Switchers, Cohort::Stayers]);
        }
        if let Some(co) = &config.coordinated {
            // The same viewers are coordinated accounts in every arm with the same share.
            for (id, v) in self.viewers.iter_mut().enumerate() {
                v.coordinated = once(
                    self.scenario.scenario.seed,
                    self.replicate,
                    id as u64,
                    Purpose::Coordinated,
                ) < co.share;
            }
            cohorts.extend([Cohort::Coordinated, Cohort::Organic]);
        }
        let youth = Youth::new(self.scenario, arm, self.replicate);
        // Taken out of `self` while the step borrows it; put back at the end.
        let bots = self.bots.take();
        self.bot_log = bots.as_ref().map(|b| BotLog::new(b, self.window));
        if let Some(y) = &youth {
            y.place_first_days(&mut self.viewers);
            Protections::mark_resets(
                config.protections.as_ref(),
                &mut self.viewers,
                self.scenario.scenario.seed,
                self.replicate,
            );
            cohorts.extend(Cohort::youth(&self.viewers));
        }
        self.reducer = Reducer::new(cohorts, self.scenario.metrics.stance_threshold);
        let boosts: Vec<Boost> = config
            .boosts
            .iter()
            .map(|b| {
                Boost::new(
                    b,
                    self.scenario.target.as_ref(),
                    self.scenario,
                    self.catalog,
                    self.replicate,
                )
            })
            .collect();
        let measured = self
            .scenario
            .target
            .as_ref()
            .map(|t| TargetSet::new(t, self.scenario, self.catalog, self.replicate));
        let half_life = config
            .policy
            .trending_half_life()
            .or_else(|| config.switch.as_ref().and_then(|s| s.policy.trending_half_life()))
            .unwrap_or(self.scenario.recommender.trending_half_life);
        let policies = Policies {
            default: policy.as_ref(),
            switch: switch.as_ref().map(|(p, at, _)| (p.as_ref(), *at)),
            boosts: &boosts,
            measured: measured.as_ref(),
            youth: youth.as_ref(),
            bots: bots.as_ref(),
        };

        let max_steps = match &tracer {
            Some(t) => self.scenario.feed.max_steps.min(t.steps),
            None => self.scenario.feed.max_steps,
        };
        let every = self.scenario.metrics.every;
        let mut reported = 0;
        let mut viewer_steps = 0;
        for step in 0..max_steps {
            let tally = self.step(&policies, step, tracer.as_deref_mut());
            viewer_steps += tally.shown;
            if let (Some(b), Some(log)) = (&bots, &mut self.bot_log) {
                log.observe(b, &self.viewers, &self.history_topics, self.history);
            }
            let last = step + 1 == max_steps || tally.active == 0;
            let report = step % every == 0 || last;
            // The global update and the viewers' sums for the rows read disjoint state: side by
            // side, each in its own fixed order.
            let (global, reducer) = (&mut self.global, &mut self.reducer);
            let (outcomes, config) = (&self.outcomes, &self.scenario.recommender);
            let (viewers, viewer_metrics, window) = (&self.viewers, &self.viewer_metrics, self.window as u32);
            rayon::join(
                || global.absorb(outcomes, config, half_life),
                || {
                    if report {
                        reducer.sum_viewers(viewers, viewer_metrics, window);
                    }
                },
            );
            if report {
                self.reducer
                    .rows(&self.global.view(), arm, self.replicate, step, rows);
            }
            let done = tally.progress_units(self.viewers.len());
            progress(done.saturating_sub(reported));
            reported = done;
            if last {
                break;
            }
            self.global.reveal(self.catalog, step + 1);
            self.global.rank_trending(&self.scenario.recommender);
        }
        progress(PROGRESS_UNITS - reported);
        self.bots = bots;
        viewer_steps
    }

    /// Appends one row per audit bot, at the end of the run.
    pub fn bot_rows(&self, arm: usize, out: &mut Vec<BotRow>) {
        if let (Some(b), Some(log)) = (&self.bots, &self.bot_log) {
            log.rows(b, self.scenario, &self.viewers, arm, self.replicate, out);
        }
    }

    /// One impression for every active viewer, in parallel. Returns what the loop needs to
    /// know of the step, counted in the same pass.
    fn step(&mut self, policies: &Policies, step: u32, tracer: Option<&mut Tracer>) -> Tally {
        let traced = tracer.as_ref().map(|t| t.viewer);
        let record = Mutex::new(None);
        let g = &mut self.global;
        if let Some(blocks) = &mut g.blocks {
            blocks.rebuild(self.catalog, &g.topic_visible, &g.ranked);
        }
        let shared = Shared {
            catalog: self.catalog,
            step,
            n_visible: self.global.n_visible,
            topic_visible: &self.global.topic_visible,
            ranked: &self.global.ranked,
            trend: &self.global.trend,
            impressions: &self.global.impressions,
            trending: &self.global.trending,
            config: &self.scenario.recommender,
            feed: &self.scenario.feed,
            blocks: self.global.blocks.as_ref(),
        };
        let ctx = StepContext {
            shared: &shared,
            policies,
            traced,
            record: &record,
            params: &self.params,
            scenario: self.scenario,
            step,
            k: self.k,
            window: self.window,
            history: self.history,
            no_repeat: self.scenario.feed.no_repeat as usize,
            end_seconds: self
                .scenario
                .feed
                .minutes
                .map_or(f32::INFINITY, |m| (m * 60.0) as f32),
            entropy: &self.entropy,
            streams: {
                let streams = |purpose| Streams::new(self.scenario.scenario.seed, self.replicate, purpose);
                StepStreams {
                    boost: streams(Purpose::Boost),
                    recommend: streams(Purpose::Recommend),
                    response: streams(Purpose::Response),
                }
            },
        };
        let k5 = 5 * self.k;
        let slot_stride = self.history + self.follow_cap;
        let days = self.scenario.feed.days;
        // Where the viewers' arrays are, to ask for a viewer's lines a few viewers ahead.
        let n = self.viewers.len();
        let ahead = [
            Ahead::of(&self.viewers, 1),
            Ahead::of(&self.floats, k5),
            Ahead::of(&self.slots, slot_stride),
            Ahead::of(&self.history_topics, self.history),
        ];
        let tally = self
            .viewers
            .par_iter_mut()
            .zip(self.floats.par_chunks_mut(k5))
            .zip(self.slots.par_chunks_mut(slot_stride))
            .zip(self.history_topics.par_chunks_mut(self.history))
            .zip(self.outcomes.par_iter_mut())
            .zip(self.viewer_metrics.par_iter_mut())
            .enumerate()
            .with_min_len(64)
            .map(|(id, (((((state, floats), slots), topics), outcome), vm))| {
                if id + AHEAD < n {
                    for a in &ahead {
                        a.fetch(id + AHEAD);
                    }
                }
                if !state.active {
                    // What `step_viewer` would do, without taking the scratch buffers.
                    outcome.item = NONE;
                    return Tally::idle();
                }
                SCRATCH.with(|scratch| {
                    let mut scratch = scratch.borrow_mut();
                    let mut v = ViewerSlices {
                        state: &mut *state,
                        floats,
                        slots,
                        topics,
                    };
                    *outcome = ctx.step_viewer(id as u32, &mut v, vm, &mut scratch);
                });
                Tally::stepped(state, *outcome, days)
            })
            .reduce(Tally::default, Tally::add);
        if let (Some(tracer), Some(step_trace)) =
            (tracer, record.into_inner().expect("no panics while tracing"))
        {
            tracer.records.push(step_trace);
        }
        tally
    }

    /// Appends one row per viewer, at the end of the run.
    pub fn user_rows(&self, arm: usize, out: &mut Vec<UserRow>) {
        let k5 = 5 * self.k;
        for (id, (v, m)) in self.viewers.iter().zip(&self.viewer_metrics).enumerate() {
            let switcher = v.switcher;
            let full = v.impressions as usize >= self.window;
            let feed = |x: f32| if full { f64::from(x) } else { f64::NAN };
            let interests = &self.floats[id * k5..id * k5 + self.k];
            let top_interest = interests
                .iter()
                .enumerate()
                .fold(
                    (0, f32::MIN),
                    |best, (t, &x)| if x > best.1 { (t, x) } else { best },
                )
                .0 as u16;
            out.push(UserRow {
                arm,
                replicate: self.replicate,
                user: id as u32,
                minor: v.minor,
                switcher,
                vulnerable: v.vulnerable,
                bot: v.bot,
                minutes: f64::from(v.clock) / 60.0,
                watch_minutes: f64::from(v.watched) / 60.0,
                impressions: v.impressions,
                sessions: u32::from(v.sessions),
                days: u32::from(v.days),
                feed_entropy: feed(m.feed_entropy),
                top_topic_share: feed(m.top_topic_share),
                in_rabbit_hole: m.in_rabbit_hole,
                minutes_to_rabbit_hole: f64::from(v.minutes_to_hole),
                interest_drift: f64::from(m.interest_drift),
                profile_error: f64::from(m.profile_error),
                sensitive_share: if v.impressions > 0 {
                    f64::from(v.sensitive) / f64::from(v.impressions)
                } else {
                    0.0
                },
                stance_start: f64::from(v.stance0),
                stance_end: f64::from(v.stance),
                follows: u32::from(v.n_follows),
                top_interest,
            });
        }
    }
}

/// What a step leaves for the step loop, counted per viewer in the parallel pass: integers,
/// so the sums are the same in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Tally {
    /// Impressions shown.
    shown: u64,
    /// Viewers still scrolling after the step.
    active: u64,
    /// Σ of each viewer's share of viewer-days done, in units of 2⁻³².
    progress: u64,
}

impl Tally {
    /// One unit of [`Tally::progress`]: a whole viewer done.
    const DONE: u64 = 1 << 32;

    /// A viewer who had stopped before the step.
    fn idle() -> Tally {
        Tally {
            shown: 0,
            active: 0,
            progress: Tally::DONE,
        }
    }

    /// A viewer after its step (`v` as updated) in a run of `days` days. The day under way
    /// counts by the share of its budget used.
    #[inline]
    fn stepped(v: &ViewerState, outcome: Outcome, days: u32) -> Tally {
        let progress = if v.active {
            let done = (f64::from(v.days - 1) + f64::from(v.day_used / v.budget).min(1.0)) / f64::from(days);
            ((done * Tally::DONE as f64) as u64).min(Tally::DONE)
        } else {
            Tally::DONE
        };
        Tally {
            shown: u64::from(outcome.item != NONE),
            active: u64::from(v.active),
            progress,
        }
    }

    fn add(self, other: Tally) -> Tally {
        Tally {
            shown: self.shown + other.shown,
            active: self.active + other.active,
            progress: self.progress + other.progress,
        }
    }

    /// Progress of the arm's `n_viewers` in [`PROGRESS_UNITS`]: the share of viewer-days done.
    fn progress_units(&self, n_viewers: usize) -> u64 {
        let units = u128::from(self.progress) * u128::from(PROGRESS_UNITS) / ((n_viewers as u128) << 32);
        (units as u64).min(PROGRESS_UNITS)
    }
}

/// One viewer's mutable state, borrowed from the arm's flat arrays.
struct ViewerSlices<'v> {
    state: &'v mut ViewerState,
    floats: &'v mut [f32],
    slots: &'v mut [u32],
    topics: &'v mut [u16],
}

/// The policies of an arm: the default, and the one switchers move to at a minute of use;
/// its boosts, and the target set that `boosted_share` measures.
struct Policies<'p> {
    default: &'p dyn Policy,
    switch: Option<(&'p dyn Policy, f32)>,
    boosts: &'p [Boost],
    measured: Option<&'p TargetSet>,
    /// The day model and the arm's protections (scenarios that use them).
    youth: Option<&'p Youth>,
    bots: Option<&'p Bots>,
}

/// One impression of the traced viewer, for `explain`.
#[derive(Debug, Clone)]
pub struct TraceRecord {
    pub step: u32,
    /// Minutes of use before the impression.
    pub minute: f64,
    pub item: ItemIdx,
    pub source: Source,
    /// What the policy ranked and how.
    pub trace: Trace,
    pub response: Response,
    /// The viewer had switched to the arm's other recommender.
    pub switched: bool,
    /// The slot was filled by a `slots` boost: its name and whether it is disclosed.
    pub slot: Option<(String, bool)>,
}

/// Records one viewer's recommendations for `explain`.
#[derive(Debug, Clone)]
pub struct Tracer {
    /// The viewer traced.
    pub viewer: u32,
    /// Steps to run.
    pub steps: u32,
    /// One record per impression of the viewer.
    pub records: Vec<TraceRecord>,
}

/// Read-only inputs of one step, shared by all threads.
struct StepContext<'s> {
    shared: &'s Shared<'s>,
    policies: &'s Policies<'s>,
    traced: Option<u32>,
    record: &'s Mutex<Option<TraceRecord>>,
    params: &'s ViewerParams,
    scenario: &'s Scenario,
    step: u32,
    k: usize,
    window: usize,
    history: usize,
    no_repeat: usize,
    end_seconds: f32,
    streams: StepStreams,
    entropy: &'s EntropyTable,
}

/// The random streams a viewer's step draws from, by purpose.
struct StepStreams {
    boost: Streams,
    recommend: Streams,
    response: Streams,
}

impl StepContext<'_> {
    /// Recommend, respond, update and measure one viewer.
    #[inline]
    fn step_viewer(
        &self,
        id: u32,
        v: &mut ViewerSlices,
        vm: &mut ViewerMetrics,
        scratch: &mut Scratch,
    ) -> Outcome {
        if !v.state.active {
            return Outcome::NOTHING;
        }
        let k = self.k;
        let (interests, rest) = v.floats.split_at_mut(k);
        let (initial, rest) = rest.split_at_mut(k);
        let (satiation, rest) = rest.split_at_mut(k);
        let (estimate, counts) = rest.split_at_mut(k);
        let (ring, follows) = v.slots.split_at_mut(self.history);
        let shown = v.state.impressions as usize;
        let n_follows = v.state.n_follows;
        let youth = self.policies.youth;
        if let Some(y) = youth
            && !y.before(
                self.params,
                self.shared.config,
                id,
                v.state,
                satiation,
                estimate,
                counts,
            )
        {
            return Outcome::NOTHING;
        }

        let switched = match self.policies.switch {
            Some((_, at)) => v.state.switcher && v.state.clock >= at,
            None => false,
        };
        let policy = match self.policies.switch {
            Some((switch, _)) if switched => switch,
            _ => self.policies.default,
        };
        let mut trace = (self.traced == Some(id)).then(Trace::default);
        let minute = f64::from(v.state.clock) / 60.0;
        let mut ramps = [0.0; MAX_BOOSTS];
        for (r, b) in ramps.iter_mut().zip(self.policies.boosts) {
            *r = b.ramp(v.state.clock);
        }
        let mut slot = None;
        let chosen = {
            let view = ViewerView {
                profile: estimate,
                counts,
                recent: last(ring, shown, self.no_repeat),
                window_topics: last(v.topics, shown, self.window),
                follows: &follows[..n_follows as usize],
                boosts: BoostView {
                    boosts: self.policies.boosts,
                    ramps,
                    items: &self.shared.catalog.items,
                    impressions: self.shared.impressions,
                },
                allow: match youth {
                    Some(y) => y.allow(
                        &self.shared.catalog.items,
                        v.state.minor,
                        last(v.topics, shown, self.window.saturating_sub(1)),
                    ),
                    None => Allow::ANY,
                },
            };
            // A `slots` boost may take the slot before the policy ranks; its draws come from a
            // stream of their own, so the policy's draws stay aligned with other arms.
            if !self.policies.boosts.is_empty() {
                let mut rng = self.streams.boost.at(u64::from(id), u64::from(self.step));
                for (b, &r) in self.policies.boosts.iter().zip(&ramps) {
                    if b.mode == BoostMode::Slots
                        && r > 0.0
                        && rng.random::<f32>() < b.strength * r
                        && let Some(item) = b.slot_item(
                            self.shared.catalog,
                            self.step,
                            view.follows,
                            |i| view.seen_recently(i),
                            &mut rng,
                        )
                    {
                        slot = Some((item, b));
                        break;
                    }
                }
            }
            let chosen = match slot {
                Some((item, _)) => (item, Source::Boost),
                None => {
                    let mut rng = self.streams.recommend.at(u64::from(id), u64::from(self.step));
                    policy.recommend(self.shared, &view, &mut rng, scratch, trace.as_mut())
                }
            };
            match youth {
                // A recommendation the protections refuse is replaced by an allowed item.
                Some(y) if !view.allow.allows(chosen.0) => y
                    .replacement(
                        self.shared.catalog,
                        self.shared.topic_visible,
                        &view.allow,
                        id,
                        self.step,
                        |i| view.seen_recently(i),
                    )
                    .map(|i| (i, Source::Protection)),
                _ => Some(chosen),
            }
        };
        let Some((item_idx, source)) = chosen else {
            // Nothing the protections allow is visible: the feed is empty, the day is over.
            let y = youth.expect("only protections refuse items");
            y.nothing_to_show(self.params, id, v.state, satiation);
            return Outcome::NOTHING;
        };
        let item = &self.shared.catalog.items[item_idx as usize];
        let trusted = viewer::follows_creator(follows, n_follows, item.creator);
        let mut rng = self.streams.response.at(u64::from(id), u64::from(self.step));
        let lingers = v.state.vulnerable && item.sensitive();
        let mut response = viewer::respond(
            self.params,
            interests,
            satiation,
            trusted,
            lingers,
            item,
            &mut rng,
        );
        if let Some(plan) = self.policies.bots.and_then(|b| b.plan(id)) {
            plan.respond(self.params, v.state.clock, item, &mut response, &mut rng);
        }
        if let Some(y) = youth {
            y.cut_at_limit(self.params, v.state, item.duration, &mut response);
            if y.day.as_ref().is_some_and(|d| d.at_night(v.state)) {
                v.state.night += 1;
            }
        }
        let in_target = self.policies.measured.is_some_and(|t| t.contains(item_idx));
        // Coordinated accounts watch target items to the end, like and share them.
        let shared_by_account = v.state.coordinated && in_target;
        if shared_by_account {
            response.fraction = 1.0;
            response.seconds = item.duration;
            response.skipped = false;
            response.liked = true;
        }
        if in_target {
            v.state.boosted += 1;
            v.state.boosted_trusted += u32::from(trusted);
        }
        if let Some(mut trace) = trace {
            if let Some((_, b)) = slot {
                // A hidden slot is passed off as the policy's own choice.
                trace.candidates.clear();
                trace.policy = if b.disclosed { "boost" } else { policy.name() };
            }
            *self.record.lock().expect("no panics while tracing") = Some(TraceRecord {
                step: self.step,
                minute,
                item: item_idx,
                source,
                trace,
                response,
                switched,
                slot: slot.map(|(_, b)| (b.name.clone(), b.disclosed)),
            });
        }

        let pos = shown % self.history;
        ring[pos] = item_idx;
        v.topics[pos] = item.topic;
        let (days_before, sessions_before) = (v.state.days, v.state.sessions);
        viewer::update(
            self.params,
            v.state,
            interests,
            satiation,
            follows,
            item,
            &response,
        );
        let signal = match youth {
            Some(y) => {
                y.after(id, v.state, days_before, sessions_before);
                y.signal(self.shared.config, self.params, &response)
            }
            None => profile::signal(self.shared.config, &response),
        };
        profile::observe(self.shared.config, estimate, counts, item.topic as usize, signal);

        *vm = if k <= SMALL_K {
            self.measure::<SMALL_K>(v.state, v.topics, shown + 1, interests, initial, estimate)
        } else {
            self.measure::<MAX_TOPICS>(v.state, v.topics, shown + 1, interests, initial, estimate)
        };
        let end = match self.policies.bots.and_then(|b| b.plan(id)) {
            Some(plan) => plan.end_seconds,
            None => self.end_seconds,
        };
        if v.state.clock >= end {
            v.state.active = false;
        }
        Outcome {
            item: item_idx,
            milli: (response.fraction * 1000.0).round() as u32,
            liked: response.liked,
            shared: shared_by_account,
        }
    }

    /// The metrics of the window and of the viewer after `shown` impressions (noting the first
    /// minute in a rabbit hole). `N` ≥ K is the length of the per-topic buffers on the stack:
    /// small when K is, as zeroing 256 entries twice would cost more than the counting.
    #[inline]
    fn measure<const N: usize>(
        &self,
        state: &mut ViewerState,
        topics: &[u16],
        shown: usize,
        interests: &[f32],
        initial: &[f32],
        estimate: &[f32],
    ) -> ViewerMetrics {
        let k = self.k;
        let n = shown.min(self.window);
        let mut topic_counts = [0u32; N];
        for part in last(topics, shown, self.window) {
            for &t in part {
                topic_counts[t as usize] += 1;
            }
        }
        let topic_counts = &topic_counts[..k];
        let top = metrics::top_topic_share(topic_counts, n as u32);
        let in_hole = n == self.window && top >= self.scenario.metrics.rabbit_hole_threshold;
        if in_hole && state.minutes_to_hole.is_nan() {
            state.minutes_to_hole = state.clock / 60.0;
        }
        let mut believed = [0f32; N];
        profile::estimated_interests(estimate, &mut believed[..k]);
        ViewerMetrics {
            feed_entropy: self.entropy.entropy(topic_counts, n as u32) as f32,
            top_topic_share: top as f32,
            in_rabbit_hole: in_hole,
            interest_drift: metrics::total_variation(interests, initial) as f32,
            profile_error: metrics::total_variation(&believed[..k], interests) as f32,
            window_sensitive: self
                .policies
                .youth
                .map_or(0.0, |y| y.sensitive_share(topic_counts, n as u32)),
        }
    }
}

/// The last `count` entries of a ring buffer into which `written` entries have been written in
/// order (entry j at j mod length), as at most two contiguous slices.
#[inline]
pub(super) fn last<T>(ring: &[T], written: usize, count: usize) -> [&[T]; 2] {
    let len = ring.len();
    let count = count.min(written).min(len);
    let end = written % len;
    if count <= end {
        [&ring[end - count..end], &[]]
    } else {
        [&ring[..end], &ring[len - (count - end)..]]
    }
}

#[cfg(test)]
mod tests {
    use super::{PROGRESS_UNITS, Tally, last};

    #[test]
    fn progress_counts_viewer_days() {
        // Four viewers: two done, one not started, one half way: 62.5 % of viewer-days.
        let half = Tally {
            progress: Tally::DONE / 2,
            ..Tally::default()
        };
        let tally = [Tally::idle(), Tally::idle(), Tally::default(), half]
            .into_iter()
            .fold(Tally::default(), Tally::add);
        assert_eq!(tally.progress_units(4), PROGRESS_UNITS * 5 / 8);
        assert_eq!(Tally::idle().progress_units(1), PROGRESS_UNITS);
    }

    #[test]
    fn last_entries_of_a_ring() {
        let ring = [10, 11, 12, 13];
        let check = |written, count, a: &[i32], b: &[i32]| {
            assert_eq!(
                last(&ring, written, count),
                [a, b],
                "written {written}, count {count}"
            );
        };
        // Three written: 10, 11, 12 at positions 0..3.
        check(3, 2, &[11, 12], &[]);
        check(3, 9, &[10, 11, 12], &[]);
        // Six written: positions 0, 1 hold entries 4 and 5; 2, 3 hold entries 2 and 3.
        check(6, 3, &[10, 11], &[13]);
        check(6, 4, &[10, 11], &[12, 13]);
        check(8, 2, &[], &[12, 13]);
        check(6, 0, &[], &[]);
    }
}
