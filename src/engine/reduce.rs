//! The reduction of per-viewer state into timeseries rows, one per cohort, in viewer order so
//! that sums are the same for any thread count.

use super::TimeRow;
use super::split;
mod sums;

use crate::metrics::columns::Reduction;
use crate::metrics::{self, Metric};
use crate::viewer::ViewerState;
use rayon::prelude::*;

pub(super) use sums::ViewerArrays;
pub use sums::{QUANTILE_BYTES_PER_MEMBER, TERMS_BYTES_PER_VIEWER};
use sums::{Sums, Terms};

/// A group of viewers that results are broken down by (the `cohort` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cohort {
    /// Every viewer.
    All,
    /// Viewers who switch to another recommender during the run (arms with a switch).
    Switchers,
    /// Viewers who keep the default recommender (arms with a switch).
    Stayers,
    /// Coordinated accounts (arms with coordinated sharing).
    Coordinated,
    /// Everyone but the coordinated accounts (arms with coordinated sharing).
    Organic,
    /// Minors (scenarios with minors and adults that use the safety features).
    Minors,
    /// Adults (likewise).
    Adults,
    /// Viewers vulnerable to sensitive content (when there are any).
    Vulnerable,
    /// Audit bots (`[[bots]]`), in no other cohort.
    Bot,
}

impl Cohort {
    /// Every cohort, in the order of result files.
    pub const ALL: [Cohort; 9] = [
        Cohort::All,
        Cohort::Switchers,
        Cohort::Stayers,
        Cohort::Coordinated,
        Cohort::Organic,
        Cohort::Minors,
        Cohort::Adults,
        Cohort::Vulnerable,
        Cohort::Bot,
    ];

    /// The name in result files.
    pub fn name(self) -> &'static str {
        match self {
            Cohort::All => "all",
            Cohort::Switchers => "switchers",
            Cohort::Stayers => "stayers",
            Cohort::Coordinated => "coordinated",
            Cohort::Organic => "organic",
            Cohort::Minors => "minors",
            Cohort::Adults => "adults",
            Cohort::Vulnerable => "vulnerable",
            Cohort::Bot => "bot",
        }
    }

    /// The cohorts of a scenario that uses the safety features, by who is in it: `minors` and
    /// `adults` when it has both, `vulnerable` and `bot` when it has any.
    pub fn safety(viewers: &[ViewerState]) -> Vec<Cohort> {
        [Cohort::Minors, Cohort::Adults, Cohort::Vulnerable, Cohort::Bot]
            .into_iter()
            .filter(|c| {
                let any = |c: Cohort| viewers.iter().any(|v| c.contains(v));
                match c {
                    Cohort::Minors | Cohort::Adults => any(Cohort::Minors) && any(Cohort::Adults),
                    _ => any(*c),
                }
            })
            .collect()
    }

    /// True if `viewer` belongs to the cohort.
    #[inline]
    pub fn contains(self, viewer: &ViewerState) -> bool {
        // Bots are reported apart from the population's viewers.
        match self {
            Cohort::Bot => viewer.bot,
            _ if viewer.bot => false,
            Cohort::All => true,
            Cohort::Switchers => viewer.switcher,
            Cohort::Stayers => !viewer.switcher,
            Cohort::Coordinated => viewer.coordinated,
            Cohort::Organic => !viewer.coordinated,
            Cohort::Minors => viewer.minor,
            Cohort::Adults => !viewer.minor,
            Cohort::Vulnerable => viewer.vulnerable,
        }
    }
}

/// Platform-wide values that every cohort's row shares.
pub(super) struct PlatformView<'g> {
    /// Visible items.
    pub visible: usize,
    pub exposure_gini: f64,
    pub covered: u64,
    /// `exposure_gini` and the items shown over the last `metrics.recent_steps` steps.
    pub recent_gini: f64,
    pub recent_covered: u64,
    /// A visible item's mean impressions before the step (`shown_popularity`'s N̄).
    pub popularity_mean: f64,
    pub total_impressions: u64,
    pub group_impressions: &'g [u64],
    pub group_visible: &'g [u64],
}

/// A cohort's feed-entropy quantiles and median minutes to the rabbit hole (NaN when empty).
#[derive(Debug, Clone, Copy)]
struct Quantiles {
    entropy: [f64; 3],
    median_hole: f64,
    /// Viewers who ever fell into a rabbit hole.
    ever: usize,
}

/// The feed-entropy quantiles reported, in the order of [`Quantiles::entropy`]; their levels
/// are the metric table's.
const ENTROPY_QUANTILES: [Metric; 3] = [
    Metric::FeedEntropyP10,
    Metric::FeedEntropyP50,
    Metric::FeedEntropyP90,
];

/// The level of a quantile metric, as the metric table declares it.
fn level(metric: Metric) -> f64 {
    match metric.def().reduce {
        Reduction::FullWindowQuantile(p) => p,
        other => unreachable!("{metric:?} is reduced by {other:?}"),
    }
}

/// Reusable buffers of the reduction.
pub(super) struct Reducer {
    cohorts: Vec<Cohort>,
    sums: Vec<Sums>,
    quantiles: Vec<Quantiles>,
    /// Every viewer's terms of the sums.
    terms: Terms,
    /// Per cohort, the live viewers' values whose quantiles are taken.
    entropies: Vec<Vec<f64>>,
    hole_minutes: Vec<Vec<f64>>,
    stance_threshold: f64,
}

impl Reducer {
    /// Buffers for `cohorts`; `stance_threshold` is the move that counts in `stance_moved`.
    pub fn new(cohorts: Vec<Cohort>, stance_threshold: f64) -> Reducer {
        assert!(cohorts.len() <= 16, "cohort bits end where the flags start");
        let n = cohorts.len();
        Reducer {
            sums: vec![Sums::default(); n],
            quantiles: vec![
                Quantiles {
                    entropy: [f64::NAN; 3],
                    median_hole: f64::NAN,
                    ever: 0,
                };
                n
            ],
            terms: Terms::default(),
            entropies: vec![Vec::new(); n],
            hole_minutes: vec![Vec::new(); n],
            stance_threshold,
            cohorts,
        }
    }

    /// The viewer half of a step's rows: every cohort's sums and quantiles of the per-viewer
    /// figures (exact sums, in parallel, see [`sums`]). [`Reducer::rows`] then adds the
    /// platform's figures and writes the rows; the engine runs this beside the global update,
    /// which it does not read. In `parallel` or on the calling thread alone, with the same
    /// results (exact sums; sorted lists).
    pub fn sum_viewers(&mut self, arrays: &ViewerArrays, window: u32, parallel: bool) {
        self.terms
            .fill(&self.cohorts, arrays, window, self.stance_threshold, parallel);
        let terms = &self.terms;
        self.sums
            .par_iter_mut()
            .zip(&mut self.quantiles)
            .zip(&mut self.entropies)
            .zip(&mut self.hole_minutes)
            .enumerate()
            .with_min_len(if parallel { 1 } else { usize::MAX })
            .for_each(|(c, (((sums, quantiles), entropies), holes))| {
                split::join(
                    parallel,
                    || *sums = terms.sums(c),
                    || {
                        terms.live(c, entropies, holes);
                        *quantiles = Quantiles::of(terms.settled(c), entropies, holes, parallel);
                    },
                );
            });
    }

    /// Appends one row per cohort with viewers after `step`, from the sums of
    /// [`Reducer::sum_viewers`].
    pub fn rows(
        &self,
        platform: &PlatformView,
        arm: usize,
        replicate: u32,
        step: u32,
        out: &mut Vec<TimeRow>,
    ) {
        let visible = platform.visible.max(1) as f64;
        let total = platform.total_impressions.max(1) as f64;
        let group_exposure: Vec<f64> = platform
            .group_impressions
            .iter()
            .map(|&c| c as f64 / total)
            .collect();
        let group_catalog_share: Vec<f64> = platform
            .group_visible
            .iter()
            .map(|&c| c as f64 / visible)
            .collect();

        for c in 0..self.cohorts.len() {
            // A cohort without viewers (`stayers` when everyone switches) has no row: its
            // metrics would all be empty beside platform-wide ones.
            if self.sums[c].counts.viewers == 0 {
                continue;
            }
            let counts = &self.sums[c].counts;
            let n_groups = group_exposure.len();
            let mut row = TimeRow {
                arm,
                replicate,
                cohort: self.cohorts[c],
                step,
                viewers: counts.viewers,
                values: [f64::NAN; Metric::COUNT],
                group_exposure: group_exposure.clone(),
                group_catalog_share: group_catalog_share.clone(),
                group_reach: counts.group_reach[..n_groups]
                    .iter()
                    .map(|&r| f64::from(r) / f64::from(counts.viewers))
                    .collect(),
                // Set once every arm of the replicate has run (`engine::amplification`).
                group_amplification_reach: vec![f64::NAN; n_groups],
            };
            for metric in Metric::ALL {
                row[metric] = self.value(metric, c, platform);
            }
            out.push(row);
        }
    }

    /// The value of `metric` for cohort `c`, reduced as its definition says.
    fn value(&self, metric: Metric, c: usize, platform: &PlatformView) -> f64 {
        let s = &self.sums[c];
        let q = &self.quantiles[c];
        let n = f64::from(s.counts.viewers);
        let full = f64::from(s.counts.full);
        let visible = platform.visible.max(1) as f64;
        match metric {
            Metric::Active => f64::from(s.counts.active) / n,
            Metric::MeanMinutes => s.minutes / n,
            Metric::WatchMinutes => s.watched / n,
            Metric::FeedEntropy => s.entropy / full,
            Metric::FeedEntropyP10 | Metric::FeedEntropyP50 | Metric::FeedEntropyP90 => {
                let i = ENTROPY_QUANTILES.iter().position(|&m| m == metric);
                q.entropy[i.expect("every entropy quantile is computed")]
            }
            Metric::TopTopicShare => s.top_share / full,
            Metric::InRabbitHole => f64::from(s.counts.in_hole) / n,
            Metric::RabbitHoleEver => q.ever as f64 / n,
            Metric::MinutesToRabbitHole => q.median_hole,
            Metric::InterestDrift => s.drift / n,
            Metric::ProfileError => s.profile_error / n,
            Metric::SensitiveShare => s.sensitive / n,
            Metric::StanceShift => s.stance / n,
            Metric::StanceMoved => f64::from(s.counts.stance_moved) / n,
            Metric::BoostedShare => s.boosted / n,
            Metric::BoostedReach => f64::from(s.counts.reached) / n,
            Metric::BoostedTrustedShare if s.counts.boosted_impressions > 0 => {
                s.counts.boosted_trusted as f64 / s.counts.boosted_impressions as f64
            }
            Metric::BoostedTrustedShare => f64::NAN,
            // Set once every arm of the replicate has run (`engine::amplification`).
            Metric::AmplificationRatio | Metric::AmplificationRatioReach => f64::NAN,
            Metric::Coverage => platform.covered as f64 / visible,
            Metric::CoverageRecent => platform.recent_covered as f64 / visible,
            Metric::ExposureGini => platform.exposure_gini,
            Metric::ExposureGiniRecent => platform.recent_gini,
            Metric::ShownPopularity if s.counts.shown > 0 && platform.popularity_mean > 0.0 => {
                s.counts.shown_popularity as f64 / f64::from(s.counts.shown) / platform.popularity_mean
            }
            Metric::ShownPopularity => f64::NAN,
            Metric::WatchMinutesPerDay => s.watched_per_day / n,
            Metric::NightShare => s.night / n,
            Metric::SensitiveWindowMax if s.counts.full > 0 => s.window_sensitive_max,
            Metric::SensitiveWindowMax => f64::NAN,
            Metric::SessionsPerDay => s.sessions_per_day / n,
            Metric::ImpressionsPerSession => s.impressions_per_session / n,
            Metric::ActiveDayShare => s.active_day_share / n,
            Metric::HabitStrength => s.habit / n,
            Metric::StanceDistanceShown => {
                let [_, _, gap, shown] = s.stances;
                if shown > 0.0 { gap / shown } else { f64::NAN }
            }
            Metric::StancePolarisation => {
                let [sum, squares, _, _] = s.stances;
                (squares / n - (sum / n) * (sum / n)).max(0.0).sqrt()
            }
        }
    }
}

impl Quantiles {
    /// The quantiles of the feed entropies and the median minutes to the rabbit hole of a
    /// cohort: the union of its settled viewers' values (`settled`, each list sorted) and its
    /// live viewers' (`entropies`, `holes`, sorted here, in `parallel` or not: a sort under
    /// a total order leaves the same list either way).
    fn of(settled: (&[f64], &[f64]), entropies: &mut [f64], holes: &mut [f64], parallel: bool) -> Quantiles {
        let (settled_entropies, settled_holes) = settled;
        split::join(
            parallel,
            || {
                if parallel {
                    entropies.par_sort_unstable_by(f64::total_cmp);
                } else {
                    entropies.sort_unstable_by(f64::total_cmp);
                }
            },
            || holes.sort_unstable_by(f64::total_cmp),
        );
        let quantile =
            |sorted, live, p| metrics::quantile_of_sorted_pair(sorted, live, p).unwrap_or(f64::NAN);
        Quantiles {
            entropy: ENTROPY_QUANTILES.map(|m| quantile(settled_entropies, entropies, level(m))),
            median_hole: quantile(settled_holes, holes, 0.5),
            ever: settled_holes.len() + holes.len(),
        }
    }
}
