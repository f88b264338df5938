//! The statistics a calibration compares with published figures, each declared once (name,
//! unit, definition) and computed from one arm of a run: its plays (`engine::Plays`), its
//! viewers' rows (`users.csv`) and its final rows (`timeseries.csv`, cohort `all`), pooled
//! over replicates. `docs/calibration.md` lists them from [`Statistic::ALL`].

use crate::engine::{Cohort, FRACTION_BINS, Results};
use crate::metrics::Metric;

/// Declares the statistics once: the enum, its names, units and definitions.
macro_rules! statistics {
    ($($variant:ident => $name:literal, $unit:literal, $doc:literal;)*) => {
        /// A simulated statistic a moment is compared with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Statistic {
            $(#[doc = $doc] $variant,)*
        }

        impl Statistic {
            /// Every statistic, in the order the docs list them.
            pub const ALL: &'static [Statistic] = &[$(Statistic::$variant),*];

            /// The name a targets file uses.
            pub fn name(self) -> &'static str {
                match self { $(Statistic::$variant => $name,)* }
            }

            /// The unit of its values.
            pub fn unit(self) -> &'static str {
                match self { $(Statistic::$variant => $unit,)* }
            }

            /// Its definition, as `docs/calibration.md` gives it.
            pub fn doc(self) -> &'static str {
                match self { $(Statistic::$variant => $doc,)* }
            }
        }
    };
}

statistics! {
    WatchRatioMean => "watch_ratio_mean", "ratio",
        "mean over plays of the watch fraction f (seconds watched / duration, §4; at most 1: the model has no replays)";
    WatchRatioP25 => "watch_ratio_p25", "ratio",
        "25th percentile over plays of the watch fraction";
    WatchRatioMedian => "watch_ratio_median", "ratio",
        "median over plays of the watch fraction";
    WatchRatioP75 => "watch_ratio_p75", "ratio",
        "75th percentile over plays of the watch fraction";
    DurationMean => "play_duration_mean", "seconds",
        "mean over plays of the played item's duration d_i";
    DurationP25 => "play_duration_p25", "seconds",
        "25th percentile over plays of the played item's duration";
    DurationMedian => "play_duration_median", "seconds",
        "median over plays of the played item's duration";
    DurationP75 => "play_duration_p75", "seconds",
        "75th percentile over plays of the played item's duration";
    PlaysPerDayMean => "plays_per_user_day_mean", "count",
        "mean over viewers of impressions / days of use (`users.csv`: impressions / active_days)";
    PlaysPerDayMedian => "plays_per_user_day_median", "count",
        "median over viewers of impressions / days of use";
    MinutesPerDayMean => "minutes_per_user_day_mean", "minutes",
        "mean over viewers of minutes of use (watching and swiping) / days of use";
    WatchMinutesPerDayMean => "watch_minutes_per_user_day_mean", "minutes",
        "mean over viewers of minutes watched / days of use";
    SessionsPerDayMean => "sessions_per_user_day_mean", "count",
        "mean over viewers of sessions / days of use";
    MinutesPerSession => "minutes_per_session", "minutes",
        "minutes of use / sessions, pooled over the arm's viewers (Σ minutes / Σ sessions)";
    TopTopicShare => "top_topic_share", "share",
        "`top_topic_share` at the end of the run (§10; cohort all): the share of the last W impressions in the feed's most shown topic, a proxy for the share of recommendations that exploit a known interest";
}

impl Statistic {
    /// The statistic a targets file names `name`.
    pub fn from_name(name: &str) -> Option<Statistic> {
        Statistic::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Every name, for messages.
    pub fn names() -> Vec<&'static str> {
        Statistic::ALL.iter().map(|s| s.name()).collect()
    }

    /// Its value over arm `arm` of `results` (run with `per_user` and `plays`); NaN when the
    /// arm has nothing to compute it from (no plays, no viewer with a day of use).
    pub fn compute(self, results: &Results, arm: usize) -> f64 {
        use Statistic::*;
        match self {
            WatchRatioMean | WatchRatioP25 | WatchRatioMedian | WatchRatioP75 => {
                let mut hist = vec![0u64; FRACTION_BINS];
                for p in results.plays.iter().filter(|p| p.arm == arm) {
                    hist.iter_mut().zip(&p.fraction).for_each(|(h, n)| *h += n);
                }
                let pairs: Vec<(f64, u64)> = hist
                    .iter()
                    .enumerate()
                    .map(|(m, &n)| (m as f64 / 1000.0, n))
                    .collect();
                weighted(self, pairs)
            }
            DurationMean | DurationP25 | DurationMedian | DurationP75 => {
                let mut pairs: Vec<(f64, u64)> = results
                    .plays
                    .iter()
                    .filter(|p| p.arm == arm)
                    .flat_map(|p| p.duration.iter().map(|&(d, n)| (f64::from(d), n)))
                    .collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                weighted(self, pairs)
            }
            PlaysPerDayMean
            | PlaysPerDayMedian
            | MinutesPerDayMean
            | WatchMinutesPerDayMean
            | SessionsPerDayMean => {
                let mut per_day: Vec<f64> = results
                    .user_rows
                    .iter()
                    .filter(|u| u.arm == arm && !u.bot && u.active_days > 0)
                    .map(|u| {
                        let x = match self {
                            MinutesPerDayMean => u.minutes,
                            WatchMinutesPerDayMean => u.watch_minutes,
                            SessionsPerDayMean => f64::from(u.sessions),
                            _ => f64::from(u.impressions),
                        };
                        x / f64::from(u.active_days)
                    })
                    .collect();
                if self == PlaysPerDayMedian {
                    crate::metrics::quantile_unsorted(&mut per_day, 0.5).unwrap_or(f64::NAN)
                } else {
                    mean(&per_day)
                }
            }
            MinutesPerSession => {
                let (minutes, sessions) = results
                    .user_rows
                    .iter()
                    .filter(|u| u.arm == arm && !u.bot)
                    .fold((0.0, 0u64), |(m, s), u| {
                        (m + u.minutes, s + u64::from(u.sessions))
                    });
                if sessions == 0 {
                    f64::NAN
                } else {
                    minutes / sessions as f64
                }
            }
            TopTopicShare => {
                let finals: Vec<f64> = results
                    .finals
                    .iter()
                    .filter(|r| r.arm == arm && r.cohort == Cohort::All)
                    .map(|r| r[Metric::TopTopicShare])
                    .collect();
                mean(&finals)
            }
        }
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// The mean or quantile `self` asks for of values `pairs` (ascending) with counts: a quantile
/// q is the smallest value whose cumulative count reaches q · N (the inverse of the empirical
/// distribution function). NaN with no counts.
fn weighted(stat: Statistic, pairs: Vec<(f64, u64)>) -> f64 {
    use Statistic::*;
    let total: u64 = pairs.iter().map(|p| p.1).sum();
    if total == 0 {
        return f64::NAN;
    }
    let q = match stat {
        WatchRatioP25 | DurationP25 => 0.25,
        WatchRatioMedian | DurationMedian => 0.5,
        WatchRatioP75 | DurationP75 => 0.75,
        _ => return pairs.iter().map(|&(x, n)| x * n as f64).sum::<f64>() / total as f64,
    };
    let need = q * total as f64;
    let mut seen = 0u64;
    for &(x, n) in &pairs {
        seen += n;
        if seen as f64 >= need && n > 0 {
            return x;
        }
    }
    pairs.last().map_or(f64::NAN, |p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(stat: Statistic, pairs: &[(f64, u64)], expected: f64) {
        let got = weighted(stat, pairs.to_vec());
        assert!(
            (got - expected).abs() < 1e-12,
            "{}: got {got}, expected {expected}",
            stat.name()
        );
    }

    #[test]
    fn weighted_mean_and_quantiles_by_hand() {
        // Plays: 0.1 once, 0.5 twice, 0.9 once (N = 4).
        let pairs = [(0.1, 1), (0.3, 0), (0.5, 2), (0.9, 1)];
        check(Statistic::WatchRatioMean, &pairs, (0.1 + 1.0 + 0.9) / 4.0);
        // q N = 1: the first value reaches it.
        check(Statistic::WatchRatioP25, &pairs, 0.1);
        // q N = 2: reached at 0.5 (cumulative 3); the empty 0.3 never answers.
        check(Statistic::WatchRatioMedian, &pairs, 0.5);
        check(Statistic::WatchRatioP75, &pairs, 0.5);
        assert!(weighted(Statistic::DurationMedian, vec![(3.0, 0)]).is_nan());
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        for &s in Statistic::ALL {
            assert_eq!(Statistic::from_name(s.name()), Some(s));
        }
        let mut names = Statistic::names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Statistic::ALL.len());
    }
}
