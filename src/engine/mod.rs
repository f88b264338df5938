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
mod live;
mod log;
mod platform;
mod plays;
mod protections;
mod recent;
mod reduce;
mod split;
mod step;
mod trace;
mod trending;

pub use arm::{ArmRun, BYTES_PER_VIEWER_FIXED, Warmed};
pub use bots::BotRow;
pub use log::{FLUSH_ROWS, Impression, ImpressionSink};
pub use plays::{FRACTION_BINS, Plays};
pub use reduce::{Cohort, QUANTILE_BYTES_PER_MEMBER, TERMS_BYTES_PER_VIEWER};
pub use trace::{TraceRecord, Tracer, ViewerSnapshot, trace};

use crate::catalog::Catalog;
use crate::metrics::Metric;
use crate::metrics::columns::GROUP_METRICS;
use crate::population::Population;
use crate::scenario::Scenario;
use rayon::prelude::*;
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
    /// The share of the cohort's viewers shown each creator group so far (`group_reach_<g>`).
    pub group_reach: Vec<f64>,
    /// Each group's reach over the baseline arm's (`group_amplification_reach_<g>`).
    pub group_amplification_reach: Vec<f64>,
}

impl TimeRow {
    /// The per-group values, one slice per [`GROUP_METRICS`] entry in its order, each with
    /// one value per creator group.
    pub fn group_values(&self) -> [&[f64]; GROUP_METRICS.len()] {
        [
            &self.group_exposure,
            &self.group_catalog_share,
            &self.group_reach,
            &self.group_amplification_reach,
        ]
    }
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
    /// The impression log, when asked for and not sent to a sink ([`run_logged`]): in
    /// (replicate, arm, step, viewer) order.
    pub impressions: Vec<Impression>,
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
    /// Log every impression (into `Results::impressions`, or the sink of [`run_logged`]).
    pub log_impressions: bool,
    /// The replicates to run, each below `scenario.replicates`; all of them when `None`. A
    /// replicate computes the same whichever others run beside it (its streams are keyed by
    /// its number), which is what lets shards of a run be merged.
    pub replicates: Option<Vec<u32>>,
    /// Collect each arm's [`Plays`] (for `calibrate`; no result file has them).
    pub plays: bool,
    /// How many of a replicate's arms may run side by side (each on the pool, its viewers in
    /// parallel as ever): 0 or 1 runs them one after another. Side by side, one arm's serial
    /// update between steps overlaps another's viewers, at the memory of one more arm's state
    /// each (`memory::arms_at_once` sizes it). The results are the same either way: each arm
    /// computes alone from the replicate's catalog and population, and its rows are put in arm
    /// order. Ignored with `log_impressions`, whose sink takes the arms in order.
    pub arms_at_once: usize,
}

/// Units of progress one (replicate, arm) reports in all.
pub const PROGRESS_UNITS: u64 = 1000;

/// Runs the scenario's replicates (all, or those of `options.replicates`, in that order).
/// `progress` is called with units done (each (replicate, arm) adds up to
/// [`PROGRESS_UNITS`]). Runs on the current rayon pool. With `options.log_impressions`, the
/// log is kept whole in `Results::impressions`.
pub fn run(scenario: &Scenario, options: &RunOptions, progress: &(dyn Fn(u64) + Sync)) -> Results {
    let mut log = Vec::new();
    let mut results = run_logged(scenario, options, progress, &mut log);
    results.impressions = log;
    results
}

/// [`run`], with the impression log (`options.log_impressions`) handed to `sink` as the run
/// goes instead of kept: a batch at a time, in (replicate, arm, step, viewer) order.
pub fn run_logged(
    scenario: &Scenario,
    options: &RunOptions,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut dyn ImpressionSink,
) -> Results {
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
        impressions: Vec::new(),
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
        let start = Start {
            scenario,
            catalog: &catalog,
            population: &population,
            warmed: warmed.as_ref(),
            replicate,
            options,
            progress,
        };
        let at_once = if options.log_impressions {
            1
        } else {
            options.arms_at_once.max(1)
        };
        let arms: Vec<usize> = (0..scenario.arms.len()).collect();
        for group in arms.chunks(at_once) {
            let outputs: Vec<ArmOutput> = match group {
                [arm] => vec![start.run(*arm, Some(&mut *sink))],
                _ => group.par_iter().map(|&arm| start.run(arm, None)).collect(),
            };
            for out in outputs {
                arm_starts.push(results.timeseries.len());
                results.timeseries.extend(out.timeseries);
                results.viewer_steps += out.viewer_steps;
                results.user_rows.extend(out.user_rows);
                results.bot_rows.extend(out.bot_rows);
                results.plays.extend(out.plays);
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

/// What every arm of a replicate starts from.
struct Start<'a> {
    scenario: &'a Scenario,
    catalog: &'a Catalog,
    population: &'a Population,
    warmed: Option<&'a Warmed>,
    replicate: u32,
    options: &'a RunOptions,
    progress: &'a (dyn Fn(u64) + Sync),
}

/// What one arm's run produced, before it is put in its place among the replicate's arms.
struct ArmOutput {
    timeseries: Vec<TimeRow>,
    viewer_steps: u64,
    user_rows: Vec<UserRow>,
    bot_rows: Vec<BotRow>,
    plays: Option<Plays>,
}

impl Start<'_> {
    /// Runs arm `arm` from the replicate's start, its impressions logged into `sink` when the
    /// options ask for the log.
    fn run(&self, arm: usize, sink: Option<&mut dyn ImpressionSink>) -> ArmOutput {
        let mut run = ArmRun::new(self.scenario, self.catalog, self.population, self.replicate);
        if let Some(w) = self.warmed {
            run.start_from(w);
        }
        if self.options.log_impressions
            && let Some(sink) = sink
        {
            run.log_impressions(sink);
        }
        let mut out = ArmOutput {
            timeseries: Vec::new(),
            viewer_steps: 0,
            user_rows: Vec::new(),
            bot_rows: Vec::new(),
            plays: None,
        };
        out.viewer_steps = run.run(arm, &mut out.timeseries, self.progress, None);
        run.flush_impressions();
        if self.options.per_user {
            run.user_rows(arm, &mut out.user_rows);
        }
        run.bot_rows(arm, &mut out.bot_rows);
        if self.options.plays {
            out.plays = Some(run.plays(arm));
        }
        out
    }
}

/// Sets the ratios to the baseline arm in one replicate's rows: `amplification_ratio` from
/// `boosted_share`, `amplification_ratio_reach` from `boosted_reach` and each group's
/// `group_amplification_reach_<g>` from its `group_reach_<g>`.
fn amplification(rows: &mut [TimeRow], baseline: usize) {
    ratio_to_baseline(
        rows,
        baseline,
        |r| r[Metric::BoostedShare],
        |r, x| r[Metric::AmplificationRatio] = x,
    );
    ratio_to_baseline(
        rows,
        baseline,
        |r| r[Metric::BoostedReach],
        |r, x| r[Metric::AmplificationRatioReach] = x,
    );
    let groups = rows.first().map_or(0, |r| r.group_reach.len());
    for g in 0..groups {
        ratio_to_baseline(
            rows,
            baseline,
            |r| r.group_reach[g],
            |r, x| r.group_amplification_reach[g] = x,
        );
    }
}

/// Sets `set` in each row to the row's `value` over the baseline arm's in the same cohort (or
/// `all` when the baseline has no such cohort) at the same step, or at the baseline's last
/// step once it has ended (Huszár et al. 2022); NaN where the baseline's is 0.
fn ratio_to_baseline(
    rows: &mut [TimeRow],
    baseline: usize,
    value: impl Fn(&TimeRow) -> f64,
    set: impl Fn(&mut TimeRow, f64),
) {
    // The baseline's (step, value) per cohort, in step order.
    let mut base: Vec<(Cohort, Vec<(u32, f64)>)> = Vec::new();
    for r in rows.iter().filter(|r| r.arm == baseline) {
        match base.iter_mut().find(|(c, _)| *c == r.cohort) {
            Some((_, series)) => series.push((r.step, value(r))),
            None => base.push((r.cohort, vec![(r.step, value(r))])),
        }
    }
    let of = |cohort: Cohort, step: u32| -> Option<f64> {
        let (_, series) = base.iter().find(|(c, _)| *c == cohort)?;
        let idx = series.partition_point(|(s, _)| *s <= step);
        (idx > 0).then(|| series[idx - 1].1)
    };
    let at = |cohort: Cohort, step: u32| of(cohort, step).or_else(|| of(Cohort::All, step));
    for r in rows.iter_mut() {
        let ratio = match at(r.cohort, r.step) {
            Some(b) if b > 0.0 => value(r) / b,
            _ => f64::NAN,
        };
        set(r, ratio);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of `arm` at `step` with `boosted_reach` and one group's reach at `reach`.
    fn row(arm: usize, step: u32, reach: f64) -> TimeRow {
        let mut r = TimeRow {
            arm,
            replicate: 0,
            cohort: Cohort::All,
            step,
            viewers: 4,
            values: [f64::NAN; Metric::COUNT],
            group_exposure: vec![0.5],
            group_catalog_share: vec![0.5],
            group_reach: vec![reach],
            group_amplification_reach: vec![f64::NAN],
        };
        r[Metric::BoostedReach] = reach;
        r[Metric::BoostedShare] = reach / 10.0;
        r
    }

    #[test]
    fn amplification_by_reach_is_over_the_baselines_reach() {
        // The baseline (arm 1) reaches a quarter of the viewers, then half, and ends at step 1;
        // arm 0 reaches half, three quarters, all; arm 2 none.
        let mut rows = vec![
            row(0, 0, 0.5),
            row(0, 1, 0.75),
            row(0, 2, 1.0),
            row(1, 0, 0.25),
            row(1, 1, 0.5),
            row(2, 0, 0.0),
        ];
        amplification(&mut rows, 1);
        let reach: Vec<f64> = rows.iter().map(|r| r[Metric::AmplificationRatioReach]).collect();
        // Step 2 is against the baseline's last step: 1 / 0.5.
        assert_eq!(reach, [2.0, 1.5, 2.0, 1.0, 1.0, 0.0]);
        let groups: Vec<f64> = rows.iter().map(|r| r.group_amplification_reach[0]).collect();
        assert_eq!(groups, reach);
        // The impression-based ratio is set from `boosted_share` as before.
        assert_eq!(rows[1][Metric::AmplificationRatio], (0.75 / 10.0) / (0.5 / 10.0));
        // Against a baseline that reached nobody, the ratio is empty.
        let mut rows = vec![row(0, 0, 0.5), row(1, 0, 0.0)];
        amplification(&mut rows, 1);
        assert!(rows[0][Metric::AmplificationRatioReach].is_nan());
        assert!(rows[0].group_amplification_reach[0].is_nan());
    }
}
