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
//! (a catalog too large to draw cheaply, or viewers still scrolling at its last step), it
//! gives None and the bound, `feed.max_steps`, applies. `docs/cluster.md#memory` describes
//! the method and how close it comes.

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

/// What the pilot predicts for each arm, in arm order.
#[derive(Debug, Clone, PartialEq)]
pub struct Pilot {
    /// Steps of a run of the arm.
    pub steps: Vec<u32>,
    /// Impressions per viewer (audit bots included), on average.
    pub impressions: Vec<f64>,
}

/// The pilot's prediction for `scenario`; None when it cannot tell (the bound,
/// `feed.max_steps`, applies).
pub fn pilot(scenario: &Scenario) -> Option<Pilot> {
    let mut pilot = scenario.clone();
    pilot.population.users = scenario.population.users.min(PILOT_VIEWERS);
    pilot.scenario.replicates = 1;
    pilot.feed.max_steps = scenario.feed.max_steps.min(PROBE_STEPS);
    let items = u64::from(pilot.catalog.items) + pilot.n_arrivals();
    if items > PILOT_ITEMS || pilot.validate().is_err() {
        return None;
    }
    let options = RunOptions {
        per_user: true,
        ..RunOptions::default()
    };
    let mut before = 1.0;
    let results = loop {
        let results = engine::run(&pilot, &options, &|_| {});
        let scrolling = still_scrolling(&results);
        if scrolling == 0.0 || pilot.feed.max_steps == scenario.feed.max_steps {
            break results;
        }
        if pilot.feed.max_steps >= PILOT_STEPS || scrolling > FALLING * before {
            return None;
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
        let last = results.timeseries.iter().rfind(|r| r.arm == arm)?.step + 1;
        let mut counts: Vec<u32> = rows.filter(|r| !r.bot).map(|r| r.impressions).collect();
        let more = tail_growth(&mut counts, scenario.population.users);
        steps.push(
            (f64::from(last) + more)
                .round()
                .min(f64::from(scenario.feed.max_steps)) as u32,
        );
    }
    Some(Pilot { steps, impressions })
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
}
