//! The plays of one arm of one replicate, for `calibrate`: how much of each item was watched
//! (the watch fraction, to 1/1000) and how long the items played were. Collected only when
//! [`super::RunOptions::plays`] asks, and written to no result file: the usage statistics
//! that a calibration compares with published figures (`crate::calibrate::stats`) need the
//! distribution over plays, which no per-viewer or per-step column holds.

use crate::catalog::Catalog;

/// Bins of the watch-fraction histogram: thousandths 0 to 1000, as the platform counts them.
pub const FRACTION_BINS: usize = 1001;

/// The measured plays (warm-up excluded) of one (replicate, arm), audit bots included.
#[derive(Debug, Clone, PartialEq)]
pub struct Plays {
    pub arm: usize,
    pub replicate: u32,
    /// Plays by watch fraction in thousandths ([`FRACTION_BINS`] bins).
    pub fraction: Vec<u64>,
    /// (duration in seconds, plays) of every item played at least once, in item order.
    pub duration: Vec<(f32, u64)>,
}

impl Plays {
    /// The plays of an arm from the platform's counters: `fraction` its histogram,
    /// `impressions` and `warm` each item's impressions in all and during the warm-up.
    pub(super) fn new(
        arm: usize,
        replicate: u32,
        fraction: &[u64],
        catalog: &Catalog,
        impressions: &[u32],
        warm: &[u32],
    ) -> Plays {
        let duration = catalog
            .items
            .iter()
            .zip(impressions)
            .enumerate()
            .filter_map(|(i, (item, &n))| {
                let measured = n - warm.get(i).copied().unwrap_or(0);
                (measured > 0).then_some((item.duration, u64::from(measured)))
            })
            .collect();
        Plays {
            arm,
            replicate,
            fraction: fraction.to_vec(),
            duration,
        }
    }
}
