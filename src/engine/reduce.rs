//! The reduction of per-viewer state into timeseries rows, one per cohort, in viewer order so
//! that sums are the same for any thread count.

use super::TimeRow;
use crate::metrics::columns::Reduction;
use crate::metrics::{self, Metric, ViewerMetrics};
use crate::viewer::ViewerState;

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
    pub total_impressions: u64,
    pub group_impressions: &'g [u64],
    pub group_visible: &'g [u64],
}

/// Sums over one cohort's viewers.
#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    viewers: u32,
    active: u32,
    full: u32,
    minutes: f64,
    watched: f64,
    entropy: f64,
    top_share: f64,
    in_hole: f64,
    drift: f64,
    profile_error: f64,
    sensitive: f64,
    stance: f64,
    boosted: f64,
    boosted_impressions: u64,
    boosted_trusted: u64,
    stance_moved: u32,
    watched_per_day: f64,
    night: f64,
    window_sensitive_max: f64,
}

/// Reusable buffers of the reduction.
pub(super) struct Reducer {
    cohorts: Vec<Cohort>,
    sums: Vec<Sums>,
    entropies: Vec<Vec<f64>>,
    hole_minutes: Vec<Vec<f64>>,
    stance_threshold: f64,
}

impl Reducer {
    /// Buffers for `cohorts` and `n_viewers` viewers; `stance_threshold` is the move that
    /// counts in `stance_moved`.
    pub fn new(cohorts: Vec<Cohort>, n_viewers: usize, stance_threshold: f64) -> Reducer {
        let buffers = || {
            (0..cohorts.len())
                .map(|_| Vec::with_capacity(n_viewers))
                .collect()
        };
        Reducer {
            sums: vec![Sums::default(); cohorts.len()],
            entropies: buffers(),
            hole_minutes: buffers(),
            stance_threshold,
            cohorts,
        }
    }

    /// The viewer half of a step's rows: sums every cohort's per-viewer figures, in viewer
    /// order. [`Reducer::rows`] then adds the platform's figures and writes the rows; the
    /// engine runs this beside the global update, which it does not read.
    pub fn sum_viewers(&mut self, viewers: &[ViewerState], viewer_metrics: &[ViewerMetrics], window: u32) {
        self.sums.fill(Sums::default());
        self.entropies.iter_mut().for_each(Vec::clear);
        self.hole_minutes.iter_mut().for_each(Vec::clear);
        for (v, m) in viewers.iter().zip(viewer_metrics) {
            for (c, cohort) in self.cohorts.iter().enumerate() {
                if !cohort.contains(v) {
                    continue;
                }
                let s = &mut self.sums[c];
                s.viewers += 1;
                s.active += u32::from(v.active);
                s.minutes += f64::from(v.clock) / 60.0;
                s.watched += f64::from(v.watched) / 60.0;
                s.in_hole += f64::from(u8::from(m.in_rabbit_hole));
                s.drift += f64::from(m.interest_drift);
                s.profile_error += f64::from(m.profile_error);
                if v.impressions > 0 {
                    s.sensitive += f64::from(v.sensitive) / f64::from(v.impressions);
                }
                s.stance += f64::from(v.stance - v.stance0);
                if v.impressions > 0 {
                    s.boosted += f64::from(v.boosted) / f64::from(v.impressions);
                }
                s.boosted_impressions += u64::from(v.boosted);
                s.boosted_trusted += u64::from(v.boosted_trusted);
                s.stance_moved += u32::from(f64::from((v.stance - v.stance0).abs()) > self.stance_threshold);
                s.watched_per_day += f64::from(v.watched) / 60.0 / f64::from(v.days);
                if v.impressions > 0 {
                    s.night += f64::from(v.night) / f64::from(v.impressions);
                }
                // Feed metrics are defined once the window is full.
                if v.impressions >= window {
                    s.full += 1;
                    s.top_share += f64::from(m.top_topic_share);
                    s.entropy += f64::from(m.feed_entropy);
                    self.entropies[c].push(f64::from(m.feed_entropy));
                    s.window_sensitive_max = s.window_sensitive_max.max(f64::from(m.window_sensitive));
                }
                if !v.minutes_to_hole.is_nan() {
                    self.hole_minutes[c].push(f64::from(v.minutes_to_hole));
                }
            }
        }
    }

    /// Appends one row per cohort with viewers after `step`, from the sums of
    /// [`Reducer::sum_viewers`].
    pub fn rows(
        &mut self,
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
            if self.sums[c].viewers == 0 {
                continue;
            }
            let mut row = TimeRow {
                arm,
                replicate,
                cohort: self.cohorts[c],
                step,
                viewers: self.sums[c].viewers,
                values: [f64::NAN; Metric::COUNT],
                group_exposure: group_exposure.clone(),
                group_catalog_share: group_catalog_share.clone(),
            };
            for metric in Metric::ALL {
                row[metric] = self.value(metric, c, platform);
            }
            out.push(row);
        }
    }

    /// The value of `metric` for cohort `c`, reduced as its definition says.
    fn value(&mut self, metric: Metric, c: usize, platform: &PlatformView) -> f64 {
        let s = self.sums[c];
        let n = f64::from(s.viewers);
        let full = f64::from(s.full);
        let visible = platform.visible.max(1) as f64;
        match metric {
            Metric::Active => f64::from(s.active) / n,
            Metric::MeanMinutes => s.minutes / n,
            Metric::WatchMinutes => s.watched / n,
            Metric::FeedEntropy => s.entropy / full,
            Metric::FeedEntropyP10 | Metric::FeedEntropyP50 | Metric::FeedEntropyP90 => {
                match metric.def().reduce {
                    Reduction::FullWindowQuantile(p) => quantile(&mut self.entropies[c], p),
                    other => unreachable!("{metric:?} is reduced by {other:?}"),
                }
            }
            Metric::TopTopicShare => s.top_share / full,
            Metric::InRabbitHole => s.in_hole / n,
            Metric::RabbitHoleEver => self.hole_minutes[c].len() as f64 / n,
            Metric::MinutesToRabbitHole => quantile(&mut self.hole_minutes[c], 0.5),
            Metric::InterestDrift => s.drift / n,
            Metric::ProfileError => s.profile_error / n,
            Metric::SensitiveShare => s.sensitive / n,
            Metric::StanceShift => s.stance / n,
            Metric::StanceMoved => f64::from(s.stance_moved) / n,
            Metric::BoostedShare => s.boosted / n,
            Metric::BoostedTrustedShare if s.boosted_impressions > 0 => {
                s.boosted_trusted as f64 / s.boosted_impressions as f64
            }
            Metric::BoostedTrustedShare => f64::NAN,
            // Set once every arm of the replicate has run (`engine::amplification`).
            Metric::AmplificationRatio => f64::NAN,
            Metric::Coverage => platform.covered as f64 / visible,
            Metric::ExposureGini => platform.exposure_gini,
            Metric::WatchMinutesPerDay => s.watched_per_day / n,
            Metric::NightShare => s.night / n,
            Metric::SensitiveWindowMax if s.full > 0 => s.window_sensitive_max,
            Metric::SensitiveWindowMax => f64::NAN,
        }
    }
}

/// Quantile `p` of `values` (reordering them), NaN when there are none.
fn quantile(values: &mut [f64], p: f64) -> f64 {
    metrics::quantile_unsorted(values, p).unwrap_or(f64::NAN)
}
