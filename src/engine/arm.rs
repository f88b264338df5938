//! One arm of one replicate: the viewers' state, the step loop, the global update between
//! steps, and the aggregation of per-viewer metrics into timeseries rows.
//!
//! Per-viewer state is compact and flat: a [`ViewerState`] of scalars, K-vectors in one `f32`
//! array (interests, initial interests, satiation, profile estimate, profile counts, then the
//! latent taste block when taste is on), the recent impressions (a ring of max(W, no-repeat) items) and follows in one `u32` array, the
//! ring's topics in a `u16` array. The hot
//! loop reuses per-thread scratch buffers and allocates nothing.

use super::bots::{BotLog, BotRow, Bots};
use super::live::{BLOCK, Bits, Live};
use super::log::{Detail, ImpressionLog, ImpressionSink};
use super::platform::{Global, NONE, Outcome};
use super::protections::Protections;
use super::reduce::{Cohort, Reducer, ViewerArrays};
use super::split;
use super::step::{Policies, StepContext, StepStreams, Viewer};
use super::trace::{TraceRecord, Tracer};
use super::{PROGRESS_UNITS, TimeRow, UserRow};
use crate::boost::{Boost, TargetSet};
use crate::catalog::Catalog;
use crate::habit::Habit;
use crate::metrics::{EntropyTable, ViewerMetrics};
use crate::population::Population;
use crate::recommender::factors::Factors;
use crate::recommender::{self, Policy, Scratch};
use crate::rng::{Purpose, Streams, once};
use crate::scenario::Scenario;
use crate::viewer::{ViewerParams, ViewerState};
use rayon::iter::Either;
use rayon::prelude::*;
use std::cell::RefCell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

mod prefetch;
mod warmup;

use prefetch::{Ahead, Records};

pub use warmup::Warmed;

/// How many viewers ahead the step asks the cache for a viewer's state.
const AHEAD: usize = 4;

/// The least viewers a task of the step visits (about 0.1 ms of work): a step of fewer than
/// twice as many runs on one thread, and late in a run a step has a few large tasks.
const STEP_TASK_VIEWERS: usize = 128;

/// From this many viewers visited, a step's sums for the rows are taken in parallel; below,
/// on one thread, beside the platform's update (a pass over every item) on the other.
const REDUCE_PARALLEL: usize = 8192;

/// Bytes of per-viewer state that do not depend on K, W or the follow capacity.
pub const BYTES_PER_VIEWER_FIXED: usize = std::mem::size_of::<ViewerState>()
    + std::mem::size_of::<Outcome>()
    + std::mem::size_of::<ViewerMetrics>()
    + std::mem::size_of::<AtomicBool>();

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
    /// Per viewer: interests, initial interests, satiation, profile, profile counts (5 K),
    /// then the taste block (`taste::block_len(D)`, none when taste is off).
    floats: Vec<f32>,
    /// Floats per viewer in `floats`.
    stride: usize,
    /// Per viewer: the ring of recent items, then follow slots.
    slots: Vec<u32>,
    /// Per viewer: the topics of the ring of recent items.
    history_topics: Vec<u16>,
    outcomes: Vec<Outcome>,
    viewer_metrics: Vec<ViewerMetrics>,
    /// Per viewer: stopped for good (a viewer never becomes active again), in an array of its
    /// own so the step passes over a stopped viewer, and does not prefetch it, without reading
    /// its state. Written by the viewer's own step, read by later steps and by the prefetch of
    /// a neighbour; it only saves work, so results never depend on when a write is seen.
    stopped: Vec<AtomicBool>,
    /// Which viewers the step visits: those who have not stopped, and for one more step those
    /// who just did.
    live: Live,
    /// `feed_entropy` for windows up to W.
    entropy: EntropyTable,
    global: Global,
    reducer: Reducer,
    /// The audit bots, after the viewers (none without `[[bots]]`), and what their feeds did.
    bots: Option<Bots>,
    bot_log: Option<BotLog>,
    /// During the warm-up, its end in seconds of use (`population.warmup_minutes`).
    warming: Option<f32>,
    /// The impression log, when asked for ([`ArmRun::log_impressions`]).
    log: Option<ImpressionLog<'a>>,
    /// The factors an arm with a `collaborative` policy learns (`docs/model.md` §8f).
    factors: Option<Factors>,
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
        let dims = catalog.taste.dims;
        let stride = 5 * k + crate::taste::block_len(dims);
        let mut floats = vec![0f32; n * stride];
        for (id, (block, interests)) in floats
            .chunks_exact_mut(stride)
            .zip(population.interests.chunks_exact(k))
            .enumerate()
        {
            block[..k].copy_from_slice(interests);
            block[k..2 * k].copy_from_slice(interests);
            block[3 * k..4 * k].fill(prior);
            if dims > 0 {
                block[5 * k..5 * k + dims].copy_from_slice(&population.taste[id * dims..(id + 1) * dims]);
            }
        }
        let global = Global::new(scenario, catalog, n);
        let mut run = ArmRun {
            scenario,
            catalog,
            replicate,
            params: ViewerParams::new(&scenario.viewer, k, scenario.feed.days)
                .seeded(scenario.scenario.seed, replicate),
            k,
            window,
            history,
            follow_cap,
            viewers: population
                .people
                .iter()
                .enumerate()
                .map(|(id, p)| ViewerState {
                    habit: Habit::new(id as u32, scenario.population.initial_habit as f32),
                    ..ViewerState::new(p)
                })
                .collect(),
            floats,
            stride,
            slots: vec![0; n * (history + follow_cap)],
            history_topics: vec![0; n * history],
            outcomes: vec![Outcome::NOTHING; n],
            viewer_metrics: vec![ViewerMetrics::default(); n],
            stopped: (0..n).map(|_| AtomicBool::new(false)).collect(),
            live: Live::all(n),
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
            warming: None,
            log: None,
            factors: None,
        };
        if scenario.population.initial_follows > 0 {
            run.follow_at_start(&crate::following::initial_follows(
                scenario, catalog, population, replicate,
            ));
        }
        run
    }

    /// Logs every impression of the arm's run (`run --log impressions`) into `sink`, in
    /// (step, viewer) order, a batch at a time as the run goes.
    pub fn log_impressions(&mut self, sink: &'a mut dyn ImpressionSink) {
        self.log = Some(ImpressionLog::new(self.viewers.len(), sink));
    }

    /// Hands the logged impressions not yet handed over to the sink (at the end of the run).
    pub fn flush_impressions(&mut self) {
        if let Some(log) = &mut self.log {
            log.flush();
        }
    }

    /// Bytes of state per viewer in this arm, the platform's window of recent impressions
    /// (one item per viewer and step of `metrics.recent_steps`) included.
    pub fn bytes_per_viewer(&self) -> usize {
        BYTES_PER_VIEWER_FIXED
            + self.stride * 4
            + (self.history + self.follow_cap) * 4
            + self.history * 2
            + self.scenario.metrics.recent_steps as usize * 4
    }

    /// Runs arm `arm` of the scenario to the end, appending its timeseries rows; returns the
    /// viewer-steps done. With a `tracer`, one viewer's recommendations are recorded and the
    /// run stops after the tracer's steps.
    pub fn run(
        &mut self,
        arm: usize,
        rows: &mut Vec<TimeRow>,
        progress: &(dyn Fn(u64) + Sync),
        tracer: Option<&mut Tracer>,
    ) -> u64 {
        let plan = ArmPlan::new(self.scenario, self.catalog, arm, self.replicate);
        // Taken out of `self` while the steps borrow it; put back at the end.
        let bots = self.bots.take();
        self.bot_log = bots.as_ref().map(|b| BotLog::new(b, self.window));
        self.mark_viewers(arm, &plan);
        let config = &self.scenario.arms[arm];
        let collaborative = config
            .policy
            .collaborative()
            .or_else(|| config.switch.as_ref().and_then(|s| s.policy.collaborative()));
        self.factors = collaborative.map(|c| {
            Factors::new(
                c,
                self.scenario,
                self.catalog,
                self.viewers.len(),
                self.replicate,
                self.global.n_visible,
            )
        });
        let policies = Policies {
            default: plan.policy.as_ref(),
            switch: plan.switch.as_ref().map(|(p, at, _)| (p.as_ref(), *at)),
            boosts: &plan.boosts,
            measured: plan.measured.as_ref(),
            protections: plan.protections.as_ref(),
            bots: bots.as_ref(),
        };
        let viewer_steps = self.steps(arm, &policies, plan.half_life, rows, progress, tracer);
        self.bots = bots;
        viewer_steps
    }

    /// Marks who in this arm switches, is a coordinated account or asks for a reset (the
    /// same viewers in every arm with the same share: common random numbers), places first
    /// days, and sets up the reduction for the arm's cohorts.
    fn mark_viewers(&mut self, arm: usize, plan: &ArmPlan) {
        let config = &self.scenario.arms[arm];
        let (seed, replicate) = (self.scenario.scenario.seed, self.replicate);
        let mut cohorts = vec![Cohort::All];
        if let Some((_, _, share)) = &plan.switch {
            for (id, v) in self.viewers.iter_mut().enumerate() {
                v.switcher = once(seed, replicate, id as u64, Purpose::Switch) < *share;
            }
            cohorts.extend([Cohort::Switchers, Cohort::Stayers]);
        }
        if let Some(co) = &config.coordinated {
            for (id, v) in self.viewers.iter_mut().enumerate() {
                v.coordinated = once(seed, replicate, id as u64, Purpose::Coordinated) < co.share;
            }
            cohorts.extend([Cohort::Coordinated, Cohort::Organic]);
        }
        if let Some(y) = &plan.protections {
            y.place_first_days(&mut self.viewers);
            Protections::mark_resets(config.protections.as_ref(), &mut self.viewers, seed, replicate);
            cohorts.extend(Cohort::safety(&self.viewers));
        }
        self.reducer = Reducer::new(cohorts, self.scenario.metrics.stance_threshold);
    }

    /// The step loop: a step for every viewer, then the platform's update and, every
    /// `metrics.every` steps and at the end, the rows. Returns the viewer-steps done.
    fn steps(
        &mut self,
        arm: usize,
        policies: &Policies,
        half_life: f64,
        rows: &mut Vec<TimeRow>,
        progress: &(dyn Fn(u64) + Sync),
        mut tracer: Option<&mut Tracer>,
    ) -> u64 {
        let max_steps = match &tracer {
            Some(t) => self.scenario.feed.max_steps.min(t.steps),
            None => self.scenario.feed.max_steps,
        };
        let every = self.scenario.metrics.every;
        let mut reported = 0;
        let mut viewer_steps = 0;
        for step in 0..max_steps {
            // The viewers this step visits: the size of its passes (`split.rs`).
            let visits = self.live.count();
            let tally = self.step(policies, step, visits, tracer.as_deref_mut());
            viewer_steps += tally.shown;
            if let Some(log) = &mut self.log {
                log.collect(arm, self.replicate, step, &self.outcomes, self.catalog);
            }
            if let (Some(b), Some(log)) = (policies.bots, &mut self.bot_log) {
                log.observe(b, &self.viewers, &self.history_topics, self.history);
            }
            let last = step + 1 == max_steps || tally.active == 0;
            let report = step % every == 0 || last;
            self.between_steps(report, !last, visits, half_life);
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
            if let Some(f) = &mut self.factors {
                f.reveal(self.catalog, self.global.n_visible);
            }
        }
        progress(PROGRESS_UNITS - reported);
        viewer_steps
    }

    /// The platform absorbs the step's outcomes and, unless the run ends, ranks the trending
    /// list for the next step, while, on a report step, the viewers' sums for the rows are
    /// taken, and the collaborative model learns from the outcomes: they read disjoint state,
    /// so they run side by side, each in its own fixed order. `visits` viewers were visited:
    /// below [`REDUCE_PARALLEL`] the sums are taken on one thread.
    ///
    /// The trending list is ranked here, before the next step's uploads are revealed, because
    /// a new upload has a trend of exactly 0 and the list holds only items above 0: the list
    /// is the one ranking after the reveal would make.
    fn between_steps(&mut self, report: bool, rank: bool, visits: usize, half_life: f64) {
        let (global, reducer, factors) = (&mut self.global, &mut self.reducer, &mut self.factors);
        let (outcomes, config, live) = (&self.outcomes, &self.scenario.recommender, &self.live);
        let window = self.window as u32;
        let arrays = ViewerArrays {
            viewers: &self.viewers,
            metrics: &self.viewer_metrics,
            stopped: &self.stopped,
            outcomes: &self.outcomes,
        };
        let learning = factors.is_some();
        let learn = || {
            if let Some(f) = factors {
                f.learn(|u| {
                    let o = &outcomes[u];
                    (o.item != NONE).then(|| (o.item, o.signal(config)))
                });
            }
        };
        let absorb = || {
            global.absorb(live.shown(outcomes), config, half_life);
            if rank {
                global.rank_trending(config);
            }
        };
        // A side with nothing to do is not forked: a fork wakes the other thread.
        split::join(
            report,
            || split::join(learning, absorb, learn),
            || {
                if report {
                    reducer.sum_viewers(&arrays, window, visits >= REDUCE_PARALLEL);
                }
            },
        );
    }

    /// Appends one row per audit bot, at the end of the run.
    pub fn bot_rows(&self, arm: usize, out: &mut Vec<BotRow>) {
        if let (Some(b), Some(log)) = (&self.bots, &self.bot_log) {
            log.rows(b, self.scenario, &self.viewers, arm, self.replicate, out);
        }
    }

    /// One impression for every active viewer, in parallel. Returns what the loop needs to
    /// know of the step, counted in the same pass.
    ///
    /// In order: the items' layout for the step's ranking, the step's context (what the
    /// platform knows, the random streams), the pass over the viewers, the traced viewer's
    /// record.
    fn step(&mut self, policies: &Policies, step: u32, visits: usize, tracer: Option<&mut Tracer>) -> Tally {
        let record = Mutex::new(None);
        let records = self.lay_out_items();
        let g = &self.global;
        // The warm-up sees the catalog of step 0 and draws from streams of its own.
        let mut shared = g.shared(
            self.catalog,
            self.scenario,
            if self.warming.is_some() { 0 } else { step },
        );
        shared.factors = self.factors.as_ref();
        let ctx = StepContext {
            shared: &shared,
            policies,
            traced: tracer.as_ref().map(|t| t.viewer),
            record: &record,
            params: &self.params,
            scenario: self.scenario,
            step,
            k: self.k,
            window: self.window,
            no_repeat: self.scenario.feed.no_repeat as usize,
            end_seconds: end_seconds(self.scenario, self.warming),
            entropy: &self.entropy,
            streams: step_streams(self.scenario, self.replicate, self.warming.is_some()),
        };
        let history = self.history;
        let slot_stride = history + self.follow_cap;
        let pass = Pass {
            ctx: &ctx,
            records,
            arrays: [
                Ahead::of(&self.viewers, 1),
                Ahead::of(&self.floats, self.stride),
                Ahead::of(&self.slots, slot_stride),
                Ahead::of(&self.history_topics, history),
            ],
            stopped: &self.stopped,
            history,
            stride: self.stride,
            slot_stride,
        };
        let blocks = self.live.masks_mut().len();
        // The log's slots, or none: a run without the log zips a constant `None`, and its
        // pass is compiled for it apart.
        let details = match &mut self.log {
            Some(log) => Either::Left(log.details.par_chunks_mut(BLOCK).map(Some)),
            None => Either::Right(rayon::iter::repeat_n((), blocks).map(|()| None)),
        };
        let tally = self
            .viewers
            .par_chunks_mut(BLOCK)
            .zip(self.floats.par_chunks_mut(BLOCK * self.stride))
            .zip(self.slots.par_chunks_mut(BLOCK * slot_stride))
            .zip(self.history_topics.par_chunks_mut(BLOCK * history))
            .zip(self.outcomes.par_chunks_mut(BLOCK))
            .zip(self.viewer_metrics.par_chunks_mut(BLOCK))
            .zip(details)
            .zip(self.live.masks_mut().par_iter_mut())
            .enumerate()
            // Tasks of at least `STEP_TASK_VIEWERS` visits; a step of fewer runs on this thread.
            .with_min_len(split::min_len(blocks, visits, STEP_TASK_VIEWERS))
            .map(
                |(b, (((((((states, floats), slots), topics), outcomes), metrics), details), live))| {
                    pass.visit(Block {
                        first: b * BLOCK,
                        states,
                        floats,
                        slots,
                        topics,
                        outcomes,
                        metrics,
                        details,
                        live,
                    })
                },
            )
            .reduce(Tally::default, Tally::add);
        keep_trace(tracer, record);
        tally
    }

    /// Lays the visible items out for the step's ranking: the topic blocks of the fast path,
    /// rebuilt, and with more than one thread the records each thread asks the cache for.
    fn lay_out_items(&mut self) -> Option<Records> {
        let g = &mut self.global;
        if let Some(blocks) = &mut g.blocks {
            blocks.rebuild(self.catalog, &g.topic_visible, &g.ranked);
        }
        (rayon::current_num_threads() > 1).then(|| Records::of(&g.ranked[..g.n_visible]))
    }

    /// The arm's measured plays (`calibrate`'s usage statistics).
    pub fn plays(&self, arm: usize) -> super::plays::Plays {
        let g = &self.global;
        super::plays::Plays::new(
            arm,
            self.replicate,
            &g.fraction_counts,
            self.catalog,
            &g.impressions,
            &g.warm,
        )
    }

    /// Appends one row per viewer, at the end of the run.
    pub fn user_rows(&self, arm: usize, out: &mut Vec<UserRow>) {
        let (k, dims) = (self.k, self.catalog.taste.dims);
        let mut taste0 = vec![0f32; dims];
        for (id, (v, m)) in self.viewers.iter().zip(&self.viewer_metrics).enumerate() {
            let switcher = v.switcher;
            let full = v.impressions as usize >= self.window;
            let feed = |x: f32| if full { f64::from(x) } else { f64::NAN };
            let block = &self.floats[id * self.stride..(id + 1) * self.stride];
            let [top_interest, second_interest] = top_two(&block[..k]);
            let [top_interest_start, second_interest_start] = top_two(&block[k..2 * k]);
            // The initial taste is drawn again from its stream rather than kept (§3b); a bot's is 0.
            let taste = (dims > 0).then(|| {
                if !v.bot {
                    crate::taste::viewer_taste(self.scenario, self.replicate, id as u32, &mut taste0);
                }
                crate::taste::summary(&block[5 * k..], &taste0, v.impressions, v.watched)
            });
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
                second_interest,
                top_interest_start,
                second_interest_start,
                taste,
                follows_initial: u32::from(v.follows0),
                active_days: u32::from(v.habit.active_days),
                habit: f64::from(v.habit.strength),
            });
        }
    }
}

/// The topics of the largest and the second largest of `interests` (K ≥ 2), the first of equal
/// values first.
fn top_two(interests: &[f32]) -> [u16; 2] {
    let (mut first, mut second) = (0, 1);
    if interests[1] > interests[0] {
        (first, second) = (1, 0);
    }
    for (t, &x) in interests.iter().enumerate().skip(2) {
        if x > interests[first] {
            (first, second) = (t, first);
        } else if x > interests[second] {
            second = t;
        }
    }
    [first as u16, second as u16]
}

/// What an arm runs with, built once from its configuration.
struct ArmPlan {
    policy: Box<dyn Policy>,
    /// The policy switchers move to, the second of use they move at, and their share.
    switch: Option<(Box<dyn Policy>, f32, f64)>,
    boosts: Vec<Boost>,
    /// The target `boosted_share` measures.
    measured: Option<TargetSet>,
    /// The day model and the arm's protections (scenarios that use them).
    protections: Option<Protections>,
    /// Half-life of the trending counter, in steps.
    half_life: f64,
}

impl ArmPlan {
    fn new(scenario: &Scenario, catalog: &Catalog, arm: usize, replicate: u32) -> ArmPlan {
        let config = &scenario.arms[arm];
        let target = scenario.target.as_ref();
        ArmPlan {
            policy: recommender::build(&config.policy),
            switch: config.switch.as_ref().map(|s| {
                (
                    recommender::build(&s.policy),
                    (s.at_minute * 60.0) as f32,
                    s.share,
                )
            }),
            boosts: config
                .boosts
                .iter()
                .map(|b| Boost::new(b, target, scenario, catalog, replicate))
                .collect(),
            measured: target.map(|t| TargetSet::new(t, scenario, catalog, replicate)),
            protections: Protections::new(scenario, arm, replicate),
            half_life: config
                .policy
                .trending_half_life()
                .or_else(|| config.switch.as_ref().and_then(|s| s.policy.trending_half_life()))
                .unwrap_or(scenario.recommender.trending_half_life),
        }
    }
}

/// Where a viewer's use ends in seconds: the warm-up's end while warming (`warming`), else
/// `feed.minutes` (none: never).
fn end_seconds(scenario: &Scenario, warming: Option<f32>) -> f32 {
    warming.unwrap_or_else(|| scenario.feed.minutes.map_or(f32::INFINITY, |m| (m * 60.0) as f32))
}

/// The random streams of a step, by purpose; the warm-up draws its picks and responses from
/// streams of its own.
fn step_streams(scenario: &Scenario, replicate: u32, warming: bool) -> StepStreams {
    let (recommend, response) = if warming {
        (Purpose::WarmupRecommend, Purpose::WarmupResponse)
    } else {
        (Purpose::Recommend, Purpose::Response)
    };
    let streams = |purpose| Streams::new(scenario.scenario.seed, replicate, purpose);
    StepStreams {
        boost: streams(Purpose::Boost),
        recommend: streams(recommend),
        response: streams(response),
    }
}

/// Keeps the step's record of the traced viewer, when a viewer is traced and was visited.
fn keep_trace(tracer: Option<&mut Tracer>, record: Mutex<Option<TraceRecord>>) {
    if let (Some(tracer), Some(step_trace)) = (tracer, record.into_inner().expect("no panics while tracing"))
    {
        tracer.records.push(step_trace);
    }
}

/// What the step's pass reads besides each block's own slices: the step's context, where a
/// viewer's slices lie in a block, and what the cache is asked for ahead.
struct Pass<'p> {
    ctx: &'p StepContext<'p>,
    /// The items' records, asked for once per step and thread (none on one thread).
    records: Option<Records>,
    /// The viewers' arrays, to ask for a viewer's lines [`AHEAD`] visits ahead.
    arrays: [Ahead; 4],
    stopped: &'p [AtomicBool],
    /// Length of the ring of recent impressions.
    history: usize,
    /// Floats per viewer.
    stride: usize,
    /// Slots per viewer: the ring, then the follows.
    slot_stride: usize,
}

/// One block of [`BLOCK`] viewers: its slices of the arm's per-viewer arrays.
struct Block<'b> {
    /// The id of the block's first viewer.
    first: usize,
    states: &'b mut [ViewerState],
    floats: &'b mut [f32],
    slots: &'b mut [u32],
    topics: &'b mut [u16],
    outcomes: &'b mut [Outcome],
    metrics: &'b mut [ViewerMetrics],
    /// The impression log's slots, when the log is kept.
    details: Option<&'b mut [Detail]>,
    /// The block's bits of [`Live`]: the viewers the step visits.
    live: &'b mut u64,
}

impl Pass<'_> {
    /// Steps the block's live viewers, in order; returns their tally.
    #[inline]
    fn visit(&self, block: Block<'_>) -> Tally {
        let Block {
            first,
            states,
            floats,
            slots,
            topics,
            outcomes,
            metrics,
            mut details,
            live,
        } = block;
        let (k, history, stride, slot_stride) = (self.ctx.k, self.history, self.stride, self.slot_stride);
        let days = self.ctx.scenario.feed.days;
        // The viewers who had stopped before the step are passed over unread
        // (`live.rs`): each adds a whole viewer's progress.
        let mut tally = Tally {
            progress: Tally::DONE * (states.len() as u64 - u64::from(live.count_ones())),
            ..Tally::default()
        };
        if let Some(r) = self.records.filter(|_| *live != 0) {
            r.fetch_once();
        }
        // The cache is asked for the lines of the viewer `AHEAD` visits ahead.
        let mut ahead = Bits(*live).skip(AHEAD);
        for j in Bits(*live) {
            if let Some(a) = ahead.next() {
                for array in &self.arrays {
                    array.fetch(first + a);
                }
            }
            let id = first + j;
            if self.stopped[id].load(Ordering::Relaxed) {
                // It stopped at the last step, whose outcome may be an impression:
                // cleared here, and the viewer is not visited again.
                outcomes[j] = Outcome::NOTHING;
                *live &= !(1 << j);
                tally = tally.add(Tally::idle());
                continue;
            }
            let state = &mut states[j];
            SCRATCH.with(|scratch| {
                let mut v = Viewer::split(
                    state,
                    &mut floats[j * stride..(j + 1) * stride],
                    &mut slots[j * slot_stride..(j + 1) * slot_stride],
                    &mut topics[j * history..(j + 1) * history],
                    k,
                    history,
                );
                let detail = details.as_mut().map(|d| &mut d[j]);
                outcomes[j] = self.ctx.step_viewer(
                    id as u32,
                    &mut v,
                    &mut metrics[j],
                    &mut scratch.borrow_mut(),
                    detail,
                );
            });
            if !state.active {
                self.stopped[id].store(true, Ordering::Relaxed);
            }
            tally = tally.add(Tally::stepped(state, outcomes[j], days));
        }
        tally
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

#[cfg(test)]
mod tests {
    use super::{PROGRESS_UNITS, Tally, top_two};

    #[test]
    fn top_two_topics_first_of_equals_first() {
        assert_eq!(top_two(&[0.1, 0.5, 0.2, 0.2]), [1, 2]);
        assert_eq!(top_two(&[0.6, 0.1, 0.3]), [0, 2]);
        assert_eq!(top_two(&[0.2, 0.3, 0.5]), [2, 1]);
        assert_eq!(top_two(&[0.25; 4]), [0, 1]);
        assert_eq!(top_two(&[0.1, 0.2, 0.4, 0.1, 0.4]), [2, 4]);
    }

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
}
