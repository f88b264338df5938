//! How many steps each arm's runs will take, predicted before the run by a pilot.
//!
//! A run's rows grow with its steps, and its steps are an outcome of the feed: a viewer stops
//! when boredom ends their last session (§5 of `docs/model.md`), so the engagement arm of the
//! quick start runs four times as many steps as its random arm, and no formula over the
//! scenario's keys gets within 25 % of both. So the prediction runs the scenario itself,
//! smaller: replicate 0 with at most [`PILOT_VIEWERS`] viewers (the audit bots as they are) on
//! every arm, for [`PROBE_STEPS`] steps, then twice, four times as many ... up to
//! [`PILOT_STEPS`] while viewers are still scrolling at the end, as long as their share falls
//! by a tenth from one pilot to the next (where it does not, as when every viewer scrolls
//! for days, the run is long, and the bound applies at the cost of one short pilot). An arm's
//! run lasts until its last
//! viewer stops, the maximum of the viewers' steps; with more viewers than the pilot's, the
//! maximum is extrapolated from the pilot's top eighth as an exponential tail (the expected
//! maximum of n exponential draws grows by the scale times ln n). Where the pilot cannot say
//! (a catalog too large to draw cheaply, viewers still scrolling at its last step, or a
//! pilot that could cost more than [`PILOT_WORK`]), it gives the reason ([`NoPilot`]) and
//! the bound, `feed.max_steps`, applies. The work is capped before each pilot from what it
//! can cost at most (its warm-up at one swipe per impression, every viewer at every step),
//! counted in viewer-steps, not seconds, so the prediction is the same on any machine.
//! `docs/cluster.md#memory` describes the method and how close it comes.

use crate::engine::{self, Cohort, Results, RunOptions};
use crate::metrics::Metric;
use crate::scenario::Scenario;

/// Viewers the pilot simulates at most.
pub const PILOT_VIEWERS: u32 = 1024;

/// Steps of the first, short pilot.
pub const PROBE_STEPS: u32 = 200;

/// Steps the pilot simulates at most (each step costs about 0.1 ms beside its viewers').
pub const PILOT_STEPS: u32 = 8000;

/// A longer pilot is run only when the share still scrolling has fallen below this fraction
/// of the share at the end of the one before (1 before the first).
const FALLING: f64 = 0.9;

/// Items (with arrivals) beyond which the pilot does not draw the catalog.
pub const PILOT_ITEMS: u64 = 200_000;

/// Work all the pilots of one prediction may do at most, in viewer-steps (a step's own work
/// counted as [`STEP_WORK`] viewers'), reckoned before each pilot from its most: the shipped
/// scenarios need at most 89 M (`minors_sensitive`: 6 arms, pilots of 200 to 6,400 steps), the
/// quick start 14 M.
pub const PILOT_WORK: u64 = 100_000_000;

/// A step's own work beside its viewers' (ranking the trending items, the platform's update),
/// in viewer-steps: about 0.1 ms, a hundred viewers' steps, plus one per [`ITEMS_PER_WORK`]
/// items, taken as the per-item share of the step.
const STEP_WORK: u64 = 100;

/// Items whose per-step upkeep is taken as one viewer-step.
const ITEMS_PER_WORK: u64 = 256;

/// Why the pilot predicts nothing, so that the bound (`feed.max_steps`) applies.
#[derive(Debug, Clone, PartialEq)]
pub enum NoPilot {
    /// More items (with arrivals) than [`PILOT_ITEMS`]: not drawn just to estimate.
    Catalog { items: u64 },
    /// The pilot's smaller scenario is not valid.
    Invalid,
    /// The next pilot could take more than [`PILOT_WORK`] viewer-steps in all; `warmup` is
    /// its warm-up's steps at most.
    Work { needed: u64, warmup: u64 },
    /// Viewers still scrolling at the end of a pilot of `steps` steps, a share that did not
    /// fall enough or the longest pilot.
    Scrolling { steps: u32, share: f64 },
}

impl std::fmt::Display for NoPilot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoPilot::Catalog { items } => {
                write!(f, "{items} items, more than the {PILOT_ITEMS} a pilot draws")
            }
            NoPilot::Invalid => write!(f, "the pilot's smaller scenario is not valid"),
            NoPilot::Work { needed, warmup } => write!(
                f,
                "a pilot could take {needed} viewer-steps (a warm-up of up to {warmup} steps), more than its budget of {PILOT_WORK}"
            ),
            NoPilot::Scrolling { steps, share } => write!(
                f,
                "{:.1} % of viewers still scrolling after {steps} steps of the pilot",
                100.0 * share
            ),
        }
    }
}

/// What the pilot predicts for each arm, in arm order.
#[derive(Debug, Clone, PartialEq)]
pub struct Pilot {
    /// Steps of a run of the arm.
    pub steps: Vec<u32>,
    /// Impressions per viewer (audit bots included), on average.
    pub impressions: Vec<f64>,
    /// The work the pilots could take at most, in viewer-steps (at most [`PILOT_WORK`]).
    pub work: u64,
}

/// The pilot's prediction for `scenario`, or why it has none (the bound, `feed.max_steps`,
/// applies).
pub fn pilot(scenario: &Scenario) -> Result<Pilot, NoPilot> {
    let mut pilot = scenario.clone();
    pilot.population.users = scenario.population.users.min(PILOT_VIEWERS);
    pilot.scenario.replicates = 1;
    pilot.feed.max_steps = scenario.feed.max_steps.min(PROBE_STEPS);
    let items = u64::from(pilot.catalog.items) + pilot.n_arrivals();
    if items > PILOT_ITEMS {
        return Err(NoPilot::Catalog { items });
    }
    if pilot.validate().is_err() {
        return Err(NoPilot::Invalid);
    }
    let options = RunOptions {
        per_user: true,
        ..RunOptions::default()
    };
    let mut before = 1.0;
    let mut spent = 0u64;
    let results = loop {
        let needed = spent.saturating_add(most_work(&pilot));
        if needed > PILOT_WORK {
            return Err(NoPilot::Work {
                needed,
                warmup: warmup_steps(&pilot),
            });
        }
        spent = needed;
        let results = engine::run(&pilot, &options, &|_| {});
        let scrolling = still_scrolling(&results);
        if scrolling == 0.0 || pilot.feed.max_steps == scenario.feed.max_steps {
            break results;
        }
        if pilot.feed.max_steps >= PILOT_STEPS || scrolling > FALLING * before {
            return Err(NoPilot::Scrolling {
                steps: pilot.feed.max_steps,
                share: scrolling,
            });
        }
        before = scrolling;
        pilot.feed.max_steps = scenario
            .feed
            .max_steps
            .min(2 * pilot.feed.max_steps)
            .min(PILOT_STEPS);
    };
    let viewers = u64::from(pilot.population.users) + pilot.n_bots();
    let mut steps = Vec::with_capacity(scenario.arms.len());
    let mut impressions = Vec::with_capacity(scenario.arms.len());
    for arm in 0..scenario.arms.len() {
        let rows = results.user_rows.iter().filter(|r| r.arm == arm);
        let shown: u64 = rows.clone().map(|r| u64::from(r.impressions)).sum();
        impressions.push(shown as f64 / viewers as f64);
        let last = results
            .timeseries
            .iter()
            .rfind(|r| r.arm == arm)
            .ok_or(NoPilot::Invalid)?
            .step
            + 1;
        let mut counts: Vec<u32> = rows.filter(|r| !r.bot).map(|r| r.impressions).collect();
        let more = tail_growth(&mut counts, scenario.population.users);
        steps.push(
            (f64::from(last) + more)
                .round()
                .min(f64::from(scenario.feed.max_steps)) as u32,
        );
    }
    Ok(Pilot {
        steps,
        impressions,
        work: spent,
    })
}

/// The most steps the warm-up of `scenario` can take: the engine's own cap, every
/// impression taking one swipe (`viewer.swipe_seconds`, at least a millisecond).
pub fn warmup_steps(scenario: &Scenario) -> u64 {
    let seconds = scenario.population.warmup_minutes * 60.0;
    if seconds <= 0.0 {
        return 0;
    }
    let swipe = scenario.viewer.swipe_seconds.max(1e-3);
    (seconds / swipe).ceil().min(u64::MAX as f64 / 2.0) as u64 + 2
}

/// The most work one run of `pilot` can take, in viewer-steps: its warm-up and every arm
/// with every viewer (audit bots too) at every step, and each step's own work.
pub fn most_work(pilot: &Scenario) -> u64 {
    let viewers = u64::from(pilot.population.users) + pilot.n_bots();
    let items = u64::from(pilot.catalog.items) + pilot.n_arrivals();
    let per_step = viewers + STEP_WORK + items / ITEMS_PER_WORK;
    let steps = (pilot.arms.len() as u64)
        .saturating_mul(u64::from(pilot.feed.max_steps))
        .saturating_add(warmup_steps(pilot));
    steps.saturating_mul(per_step)
}

/// The largest share of viewers still scrolling at the end of an arm's run.
fn still_scrolling(results: &Results) -> f64 {
    results
        .finals
        .iter()
        .filter(|r| r.cohort == Cohort::All)
        .map(|r| r[Metric::Active])
        .fold(0.0, f64::max)
}

/// Steps the largest of `population` draws is expected to exceed the largest of `counts` (a
/// sample of the same distribution) by: the tail above the sample's top eighth is taken as
/// exponential, whose scale is the mean excess of the draws above it, so the expected maximum
/// grows by the scale times ln(population / sample). 0 when the sample is the population.
pub fn tail_growth(counts: &mut [u32], population: u32) -> f64 {
    let n = counts.len();
    if n < 8 || population as usize <= n {
        return 0.0;
    }
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let k = (n / 8).max(4);
    let threshold = f64::from(counts[k]);
    let scale = counts[..k].iter().map(|&c| f64::from(c) - threshold).sum::<f64>() / k as f64;
    scale * (f64::from(population) / n as f64).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An exponential sample of scale 100 (its quantiles at (i + ½) / n): the growth from 400
    /// draws to 400 e² draws is the scale times 2, within the sample's error.
    #[test]
    fn an_exponential_tail_grows_by_its_scale_times_the_log_of_the_ratio() {
        let n = 400;
        let mut counts: Vec<u32> = (0..n)
            .map(|i| (-100.0 * (1.0 - (i as f64 + 0.5) / n as f64).ln()).round() as u32)
            .collect();
        let population = (n as f64 * std::f64::consts::E.powi(2)).round() as u32;
        let growth = tail_growth(&mut counts, population);
        assert!((growth - 200.0).abs() < 20.0, "{growth}");
        // The whole population: nothing to extrapolate.
        assert_eq!(tail_growth(&mut counts, n), 0.0);
        // All alike: no tail.
        assert_eq!(tail_growth(&mut [7; 64], 1000), 0.0);
    }

    /// Two hours of warm-up at one swipe a second: at most 7,200 steps (and the engine's
    /// last); the work of one pilot of the default scenario by hand.
    #[test]
    fn a_pilot_costs_at_most_its_warm_up_and_every_viewer_at_every_step() {
        let mut s = Scenario::default();
        s.viewer.swipe_seconds = 1.0;
        s.population.users = 1000;
        s.feed.max_steps = 200;
        assert_eq!(warmup_steps(&s), 0);
        let items = u64::from(s.catalog.items) + s.n_arrivals();
        let per_step = 1000 + s.n_bots() + 100 + items / 256;
        let arms = s.arms.len() as u64;
        assert_eq!(most_work(&s), arms * 200 * per_step);
        s.population.warmup_minutes = 120.0;
        assert_eq!(warmup_steps(&s), 7202);
        assert_eq!(most_work(&s), (arms * 200 + 7202) * per_step);
        // A warm-up of a million minutes is refused before any pilot runs.
        s.population.warmup_minutes = 1e6;
        assert!(matches!(pilot(&s), Err(NoPilot::Work { .. })), "{:?}", pilot(&s));
    }
}
