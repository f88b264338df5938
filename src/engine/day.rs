//! When in the day viewers use the app (`docs/model.md` §8c): each day's start drawn by the
//! viewer's age group, sessions a gap apart, and the night that `night_share` counts.

use crate::rng::{Purpose, stream};
use crate::scenario::{DayConfig, in_hours};
use crate::viewer::ViewerState;
use rand::RngExt;

const DAY_SECONDS: f32 = 86_400.0;

/// When in the day viewers use the app.
#[derive(Debug, Clone)]
pub(super) struct DayModel {
    /// Cumulative start-hour weights: adults, then minors.
    cdf: [Vec<f64>; 2],
    /// Seconds between two sessions of a day.
    gap: f32,
    /// The night, for `night_share`: start and end hours.
    night: (f64, f64),
}

impl DayModel {
    pub fn new(cfg: &DayConfig) -> DayModel {
        let cumulative = |w: &[f64]| {
            w.iter()
                .scan(0.0, |sum, &x| {
                    *sum += x;
                    Some(*sum)
                })
                .collect()
        };
        DayModel {
            cdf: [
                cumulative(&cfg.adult_start_hours),
                cumulative(&cfg.minor_start_hours),
            ],
            gap: (cfg.session_gap_minutes * 60.0) as f32,
            night: (cfg.night_start_hour, cfg.night_end_hour),
        }
    }

    /// Seconds after midnight at which day `day` (from 1) of viewer `id` starts: an hour drawn
    /// by the weights of the viewer's age group, and a uniform moment within it.
    pub fn start(&self, seed: u64, replicate: u32, id: u32, day: u16, minor: bool) -> f32 {
        let mut rng = stream(seed, replicate, u64::from(id), Purpose::Daytime, u64::from(day));
        let cdf = &self.cdf[usize::from(minor)];
        let u = rng.random::<f64>() * cdf[cdf.len() - 1];
        let hour = cdf.partition_point(|&c| c <= u).min(cdf.len() - 1);
        ((hour as f64 + rng.random::<f64>()) * 3600.0) as f32
    }

    /// The second of the day at which a session starts after one that started at `start`.
    #[inline]
    pub fn next_session(&self, start: f32) -> f32 {
        (start + self.gap) % DAY_SECONDS
    }

    /// The viewer's hour of the day now, 0 to below 24.
    #[inline]
    pub fn hour(state: &ViewerState) -> f64 {
        (f64::from(state.day_start) + f64::from(state.day_used)).rem_euclid(86_400.0) / 3600.0
    }

    /// True if the viewer's next impression starts at night.
    #[inline]
    pub fn at_night(&self, state: &ViewerState) -> bool {
        in_hours(Self::hour(state), self.night.0, self.night.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_within_an_hour_of_positive_weight() {
        let mut hours = vec![0.0; 24];
        hours[7] = 1.0;
        let day = DayConfig {
            minor_start_hours: hours,
            ..DayConfig::default()
        };
        let model = DayModel::new(&day);
        for id in 0..50 {
            let start = model.start(1, 0, id, 1, true);
            assert!((7.0 * 3600.0..8.0 * 3600.0).contains(&start), "{start}");
        }
    }
}
