//! The engine: runs every arm of every replicate and collects the rows of the result files.
//!
//! For each replicate a catalog and a population are drawn once; each arm then starts from a
//! copy of the same population and sees the same catalog and the same random numbers
//! (common random numbers), so arms differ only by their policy. Within an arm, all viewers
//! advance one impression per step in parallel ([`arm`]); the platform's global state is
//! updated between steps, in viewer order, from integer counters.

mod arm;
mod bots;
mod day;
mod exposure;
mod platform;
mod plays;
mod protections;
mod reduce;
mod step;
mod trace;
mod trending;

pub use arm::{ArmRun, BYTES_PER_VIEWER_FIXED};
pub use bots::BotRow;
pub use plays::{FRACTION_BINS, Plays};
pub use reduce::Cohort;
pub use trace::{TraceRecord, Tracer, trace};

use crate::catalog::Catalog;
use crate::metrics::Metric;
use crate::population::Population;
use crate::scenario::Scenario;
use std::ops::{Index, IndexMut};

/// One row of `timeseries.csv`: one cohort of one arm and replicate after a step.
///
/// Its values are addressed by [`Metric`] (`row[Metric::FeedEntropy]`), each reduced over the
/// cohort's viewers as [`crate::metrics::columns`] declares; NaN is "no value" (written empty),
/// e.g. a feed metric before any viewer's window is full.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeRow {
    pub arm: usize,
    pub replicate: u32,
    pub cohort: Cohort,
    pub step: u32,
    /// Viewers in the cohort.
    pub viewers: u32,
    /// One value per [`Metric`], in its order.
    pub values: [f64; Metric::COUNT],
    /// Each creator group's share of all impressions so far (`group_exposure_<g>`).
    pub group_exposure: Vec<f64>,
    /// Each creator group's share of the visible catalog (`group_catalog_share_<g>`).
    pub group_catalog_share: Vec<f64>,
}

impl Index<Metric> for TimeRow {
    type Output = f64;

    fn index(&self, metric: Metric) -> &f64 {
        &self.values[metric as usize]
    }
}

impl IndexMut<Metric> for TimeRow {
    fn index_mut(&mut self, metric: Metric) -> &mut f64 {
        &mut self.values[metric as usize]
    }
}

/// One row of `users.csv`: a viewer at the end of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub arm: usize,
    pub replicate: u32,
    pub user: u32,
    pub minor: bool,
    /// Switches to another recommender during the run.
    pub switcher: bool,
    /// Vulnerable to sensitive content (written with the safety features).
    pub vulnerable: bool,
    /// An audit bot (written with the safety features).
    pub bot: bool,
    pub minutes: f64,
    pub watch_minutes: f64,
    pub impressions: u32,
    pub sessions: u32,
    pub days: u32,
    pub feed_entropy: f64,
    pub top_topic_share: f64,
    pub in_rabbit_hole: bool,
    pub minutes_to_rabbit_hole: f64,
    pub interest_drift: f64,
    pub profile_error: f64,
    pub sensitive_share: f64,
    pub stance_start: f64,
    pub stance_end: f64,
    pub follows: u32,
    /// Topic with the largest latent interest at the end.
    pub top_interest: u16,
    /// Topic with the second largest latent interest at the end.
    pub second_interest: u16,
    /// Topic with the largest latent interest at the start.
    pub top_interest_start: u16,
    /// Topic with the second largest latent interest at the start.
    pub second_interest_start: u16,
    /// With taste on: the taste's RMS change, the mean match of the items shown and of the
    /// seconds watched (`taste::summary`).
    pub taste: Option<[f64; 3]>,
    /// Creators followed when measurement began (`population.initial_follows`, warm-up).
    pub follows_initial: u32,
    /// Days of use (§5c).
    pub active_days: u32,
    /// Habit strength at the end (§5c).
    pub habit: f64,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Results {
    pub arm_names: Vec<String>,
    pub policies: Vec<String>,
    pub topic_names: Vec<String>,
    pub group_names: Vec<String>,
    pub users: u32,
    pub replicates: Vec<u32>,
    /// Rows in (replicate, arm, step) order.
    pub timeseries: Vec<TimeRow>,
    /// The last row of each (replicate, arm), in the same order.
    pub finals: Vec<TimeRow>,
    /// Per-viewer rows, when asked for.
    pub user_rows: Vec<UserRow>,
    /// One row per audit bot, arm and replicate.
    pub bot_rows: Vec<BotRow>,
    /// The scenario uses the safety features ([`Scenario::safety_features`]): the day columns
    /// and the age, vulnerability and bot cohorts are written.
    pub safety: bool,
    /// Viewer-steps simulated.
    pub viewer_steps: u64,
    /// The scenario has a taste space (`catalog.taste_dimensions` > 0): `users.csv` has the
    /// taste columns.
    pub taste: bool,
    /// One per (replicate, arm), when [`RunOptions::plays`] asks.
    pub plays: Vec<Plays>,
}

/// What to run beyond the scenario itself.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Collect per-viewer rows.
    pub per_user: bool,
    /// The replicates to run, each below `scenario.replicates`; all of them when `None`. A
    /// replicate computes the same whichever others run beside it (its streams are keyed by
    /// its number), which is what lets shards of a run be merged.
    pub replicates: Option<Vec<u32>>,
    /// Collect each arm's [`Plays`] (for `calibrate`; no result file has them).
    pub plays: bool,
}

/// Units of progress one (replicate, arm) reports in all.
pub const PROGRESS_UNITS: u64 = 1000;

/// Runs the scenario's replicates (all, or those of `options.replicates`, in that order).
/// `progress` is called with units done (each (replicate, arm) adds up to
/// [`PROGRESS_UNITS`]). Runs on the current rayon pool.
pub fn run(scenario: &Scenario, options: &RunOptions, progress: &(dyn Fn(u64) + Sync)) -> Results {
    let mut results = Results {
        arm_names: scenario.arms.iter().map(|a| a.name.clone()).collect(),
        policies: scenario
            .arms
            .iter()
            .map(|a| a.policy.kind().to_string())
            .collect(),
        topic_names: scenario.catalog.topics.iter().map(|t| t.name.clone()).collect(),
        group_names: scenario.catalog.groups.iter().map(|g| g.name.clone()).collect(),
        users: scenario.population.users,
        replicates: match &options.replicates {
            Some(list) => list.clone(),
            None => (0..scenario.scenario.replicates).collect(),
        },
        timeseries: Vec::new(),
        finals: Vec::new(),
        user_rows: Vec::new(),
        bot_rows: Vec::new(),
        safety: scenario.safety_features(),
        viewer_steps: 0,
        taste: scenario.catalog.taste_dimensions > 0,
        plays: Vec::new(),
    };
    for replicate in results.replicates.clone() {
        assert!(
            replicate < scenario.scenario.replicates,
            "replicate {replicate} of a scenario with {} replicates",
            scenario.scenario.replicates
        );
        let catalog = Catalog::generate(scenario, replicate);
        let population = Population::generate(scenario, replicate);
        let replicate_start = results.timeseries.len();
        let mut arm_starts = Vec::with_capacity(scenario.arms.len());
        // Older accounts: the warm-up runs once per replicate and every arm starts from it.
        let warmed = ArmRun::warmed(scenario, &catalog, &population, replicate);
        for arm_idx in 0..scenario.arms.len() {
            let mut run = ArmRun::new(scenario, &catalog, &population, replicate);
            if let Some(w) = &warmed {
                run.start_from(w);
            }
            arm_starts.push(results.timeseries.len());
            results.viewer_steps += run.run(arm_idx, &mut results.timeseries, progress, None);
            if options.per_user {
                run.user_rows(arm_idx, &mut results.user_rows);
            }
            run.bot_rows(arm_idx, &mut results.bot_rows);
            if options.plays {
                results.plays.push(run.plays(arm_idx));
            }
        }
        let rows = &mut results.timeseries[replicate_start..];
        amplification(rows, scenario.baseline_index());
        // The last step's rows of each arm, one per cohort, are its final state.
        for (a, &start) in arm_starts.iter().enumerate() {
            let end = arm_starts.get(a + 1).copied().unwrap_or(results.timeseries.len());
            let arm_rows = &results.timeseries[start..end];
            let last_step = arm_rows.last().expect("a run writes at least one row").step;
            let finals: Vec<TimeRow> = arm_rows.iter().filter(|r| r.step == last_step).cloned().collect();
            results.finals.extend(finals);
        }
    }
    results
}

/// Sets `amplification_ratio` in one replicate's rows: each row's `boosted_share` over the
/// baseline arm's in the same cohort (or `all` when the baseline has no such cohort) at the
/// same step, or at the baseline's last step once it has ended (Huszár et al. 2022).
fn amplification(rows: &mut [TimeRow], baseline: usize) {
    // The baseline's (step, boosted_share) per cohort, in step order.
    let mut base: Vec<(Cohort, Vec<(u32, f64)>)> = Vec::new();
    for r in rows.iter().filter(|r| r.arm == baseline) {
        match base.iter_mut().find(|(c, _)| *c == r.cohort) {
            Some((_, series)) => series.push((r.step, r[Metric::BoostedShare])),
            None => base.push((r.cohort, vec![(r.step, r[Metric::BoostedShare])])),
        }
    }
    let of = |cohort: Cohort, step: u32| -> Option<f64> {
        let (_, series) = base.iter().find(|(c, _)| *c == cohort)?;
        let idx = series.partition_point(|(s, _)| *s <= step);
        (idx > 0).then(|| series[idx - 1].1)
    };
    let at = |cohort: Cohort, step: u32| of(cohort, step).or_else(|| of(Cohort::All, step));
    for r in rows.iter_mut() {
        r[Metric::AmplificationRatio] = match at(r.cohort, r.step) {
            Some(b) if b > 0.0 => r[Metric::BoostedShare] / b,
            _ => f64::NAN,
        };
    }
}
