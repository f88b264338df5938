//! A cohort's sums over its viewers, computed in two passes so that most of the work runs in
//! parallel and every sum is still the one a single pass in viewer order gives.
//!
//! The first pass ([`Terms::fill`], in parallel over fixed chunks of viewers) works out what
//! each viewer adds to each sum (the divisions, the branches, its cohorts), keeps the float
//! terms in compact columns and counts the integers. The second ([`Terms::sums`]) adds each
//! float column in viewer order, the columns side by side. A float sum's rounding depends on
//! its order, so that order is kept; a viewer that adds nothing to a sum adds `+0.0`, which
//! leaves it unchanged (a sum that starts at `+0.0` is never `-0.0`, the one value `+0.0`
//! changes), and a maximum that skips a viewer takes NaN, which `f64::max` ignores. Integer
//! counts are the same in any order, and so are the quantiles of the gathered values.

use super::Cohort;
use crate::metrics::ViewerMetrics;
use crate::viewer::ViewerState;
use rayon::prelude::*;

/// Viewers per chunk of the parallel pass; fixed, so the chunks do not depend on threads.
const CHUNK: usize = 4096;

/// Bits of a viewer's flags above the cohorts' bits (bit c: the viewer is in cohort c).
const ACTIVE: u32 = 1 << 16;
const FULL: u32 = 1 << 17;
const IN_HOLE: u32 = 1 << 18;
const MOVED: u32 = 1 << 19;

/// Integer counts over one cohort's viewers (order-free).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Counts {
    pub viewers: u32,
    pub active: u32,
    /// Viewers whose window is full.
    pub full: u32,
    pub in_hole: u32,
    pub stance_moved: u32,
    pub boosted_impressions: u64,
    pub boosted_trusted: u64,
}

impl Counts {
    fn add(&mut self, flags: u32, boosted: u32, boosted_trusted: u32) {
        let count = |flag: u32| u32::from(flags & flag != 0);
        self.viewers += 1;
        self.active += count(ACTIVE);
        self.full += count(FULL);
        self.in_hole += count(IN_HOLE);
        self.stance_moved += count(MOVED);
        self.boosted_impressions += u64::from(boosted);
        self.boosted_trusted += u64::from(boosted_trusted);
    }

    fn merge(&mut self, o: &Counts) {
        self.viewers += o.viewers;
        self.active += o.active;
        self.full += o.full;
        self.in_hole += o.in_hole;
        self.stance_moved += o.stance_moved;
        self.boosted_impressions += o.boosted_impressions;
        self.boosted_trusted += o.boosted_trusted;
    }
}

/// Sums over one cohort's viewers; float sums as means' numerators.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sums {
    pub counts: Counts,
    pub minutes: f64,
    pub watched: f64,
    pub watched_per_day: f64,
    pub sensitive: f64,
    pub boosted: f64,
    pub night: f64,
    pub drift: f64,
    pub profile_error: f64,
    pub stance: f64,
    pub top_share: f64,
    /// Over viewers with a full window, like `top_share`.
    pub entropy: f64,
    /// The largest sensitive share of a full window; 0 when none.
    pub window_sensitive_max: f64,
    /// Σ x_u and Σ x_u² (for `stance_polarisation`); Σ |x_i − x_u| over this step's
    /// impressions of stance-bearing items and their number (for `stance_distance_shown`).
    pub stances: [f64; 4],
}

/// What one chunk of viewers gathered for each cohort.
#[derive(Debug, Clone, Default)]
struct Gathered {
    counts: Vec<Counts>,
    /// Feed entropies of the viewers with a full window, per cohort, in viewer order.
    entropies: Vec<Vec<f64>>,
    /// Minutes to the rabbit hole of the viewers who fell in, per cohort.
    holes: Vec<Vec<f64>>,
}

/// Every viewer's terms of the float sums, in viewer order, grouped in columns that are
/// summed side by side; and what each chunk gathered.
#[derive(Debug, Default)]
pub(super) struct Terms {
    /// Cohort membership (bit c for cohort c), for the columns' sums.
    member: Vec<u32>,
    /// minutes, watched, watched per day, sensitive share.
    divided: Vec<[f64; 4]>,
    /// boosted share, night share.
    shares: Vec<[f64; 2]>,
    /// drift, profile error, stance shift, top-topic share (full windows, else 0).
    exact: Vec<[f32; 4]>,
    /// feed entropy (full windows, else 0), window's sensitive share (full windows, else NaN).
    window: Vec<[f32; 2]>,
    /// stance, its square, this step's stance distance (else 0) and 1 if there is one (else 0).
    stances: Vec<[f64; 4]>,
    gathered: Vec<Gathered>,
}

impl Terms {
    /// Computes every viewer's terms, in parallel over fixed chunks, and gathers counts,
    /// entropies and minutes to the rabbit hole per chunk.
    pub fn fill(
        &mut self,
        cohorts: &[Cohort],
        viewers: &[ViewerState],
        metrics: &[ViewerMetrics],
        window: u32,
        stance_threshold: f64,
    ) {
        let n = viewers.len();
        self.member.resize(n, 0);
        self.divided.resize(n, [0.0; 4]);
        self.shares.resize(n, [0.0; 2]);
        self.exact.resize(n, [0.0; 4]);
        self.window.resize(n, [0.0; 2]);
        self.stances.resize(n, [0.0; 4]);
        self.gathered.resize_with(n.div_ceil(CHUNK), Gathered::default);
        self.member
            .par_chunks_mut(CHUNK)
            .zip(self.divided.par_chunks_mut(CHUNK))
            .zip(self.shares.par_chunks_mut(CHUNK))
            .zip(self.exact.par_chunks_mut(CHUNK))
            .zip(self.window.par_chunks_mut(CHUNK))
            .zip(self.stances.par_chunks_mut(CHUNK))
            .zip(&mut self.gathered)
            .zip(viewers.par_chunks(CHUNK).zip(metrics.par_chunks(CHUNK)))
            .for_each(
                |(((((((member, divided), shares), exact), win), st), g), (vs, ms))| {
                    g.counts.clear();
                    g.counts.resize(cohorts.len(), Counts::default());
                    g.entropies.resize_with(cohorts.len(), Vec::new);
                    g.holes.resize_with(cohorts.len(), Vec::new);
                    g.entropies.iter_mut().chain(&mut g.holes).for_each(Vec::clear);
                    for (j, (v, m)) in vs.iter().zip(ms).enumerate() {
                        let flags = viewer_flags(v, m, window, stance_threshold);
                        let mut bits = 0;
                        for (c, cohort) in cohorts.iter().enumerate() {
                            if cohort.contains(v) {
                                bits |= 1 << c;
                                g.counts[c].add(flags, v.boosted, v.boosted_trusted);
                                if flags & FULL != 0 {
                                    g.entropies[c].push(f64::from(m.feed_entropy));
                                }
                                if !v.minutes_to_hole.is_nan() {
                                    g.holes[c].push(f64::from(v.minutes_to_hole));
                                }
                            }
                        }
                        member[j] = bits;
                        (divided[j], shares[j], exact[j], win[j]) = terms(v, m, flags & FULL != 0);
                        st[j] = stance_terms(v, m);
                    }
                },
            );
    }

    /// Cohort `c`'s sums: each float column in viewer order, the columns in parallel.
    pub fn sums(&self, c: usize) -> Sums {
        let bit = 1 << c;
        let member = &self.member;
        let (
            ([minutes, watched, watched_per_day, sensitive], [boosted, night]),
            ([drift, profile_error, stance, top_share], (entropy, window_sensitive_max)),
        ) = rayon::join(
            || {
                rayon::join(
                    || masked_sums(&self.divided, member, bit),
                    || masked_sums(&self.shares, member, bit),
                )
            },
            || {
                rayon::join(
                    || masked_sums(&self.exact, member, bit),
                    || window_sums(&self.window, member, bit),
                )
            },
        );
        let stances = masked_sums(&self.stances, member, bit);
        let mut counts = Counts::default();
        for g in &self.gathered {
            counts.merge(&g.counts[c]);
        }
        Sums {
            counts,
            minutes,
            watched,
            watched_per_day,
            sensitive,
            boosted,
            night,
            drift,
            profile_error,
            stance,
            top_share,
            entropy,
            window_sensitive_max,
            stances,
        }
    }

    /// Cohort `c`'s feed entropies (full windows) and minutes to the rabbit hole, in viewer
    /// order, into `entropies` and `holes`.
    pub fn gather(&self, c: usize, entropies: &mut Vec<f64>, holes: &mut Vec<f64>) {
        entropies.clear();
        holes.clear();
        for g in &self.gathered {
            entropies.extend_from_slice(&g.entropies[c]);
            holes.extend_from_slice(&g.holes[c]);
        }
    }
}

/// The flags of viewer `v` with metrics `m`: active, full window, in a rabbit hole, stance moved.
#[inline]
fn viewer_flags(v: &ViewerState, m: &ViewerMetrics, window: u32, stance_threshold: f64) -> u32 {
    let flag = |on: bool, bit: u32| if on { bit } else { 0 };
    // Feed metrics are defined once the window is full.
    flag(v.active, ACTIVE)
        | flag(v.impressions >= window, FULL)
        | flag(m.in_rabbit_hole, IN_HOLE)
        | flag(f64::from((v.stance - v.stance0).abs()) > stance_threshold, MOVED)
}

/// What viewer `v` adds to the float sums, by column group (see [`Terms`]).
#[inline]
fn terms(v: &ViewerState, m: &ViewerMetrics, full: bool) -> ([f64; 4], [f64; 2], [f32; 4], [f32; 2]) {
    let per_impression = |count: u32| {
        if v.impressions > 0 {
            f64::from(count) / f64::from(v.impressions)
        } else {
            0.0
        }
    };
    let when_full = |x: f32| if full { x } else { 0.0 };
    (
        [
            f64::from(v.clock) / 60.0,
            f64::from(v.watched) / 60.0,
            f64::from(v.watched) / 60.0 / f64::from(v.days),
            per_impression(v.sensitive),
        ],
        [per_impression(v.boosted), per_impression(v.night)],
        [
            m.interest_drift,
            m.profile_error,
            v.stance - v.stance0,
            when_full(m.top_topic_share),
        ],
        [
            when_full(m.feed_entropy),
            if full { m.window_sensitive } else { f32::NAN },
        ],
    )
}

/// What viewer `v` adds to the stance sums: x_u, x_u², and this step's stance distance and
/// its count (0 and 0 without an impression of a stance-bearing item).
#[inline]
fn stance_terms(v: &ViewerState, m: &ViewerMetrics) -> [f64; 4] {
    let x = f64::from(v.stance);
    let (gap, shown) = if m.stance_distance.is_nan() {
        (0.0, 0.0)
    } else {
        (f64::from(m.stance_distance), 1.0)
    };
    [x, x * x, gap, shown]
}

/// The lane-wise sums of `column` over the rows whose `member` has `bit`, in row order.
fn masked_sums<T: Copy + Into<f64>, const L: usize>(column: &[[T; L]], member: &[u32], bit: u32) -> [f64; L] {
    let mut sums = [0.0; L];
    for (row, &m) in column.iter().zip(member) {
        let on = m & bit != 0;
        for (s, &x) in sums.iter_mut().zip(row) {
            // A viewer outside the cohort adds +0.0: no change (see the file doc).
            *s += if on { x.into() } else { 0.0 };
        }
    }
    sums
}

/// The sum of the entropies and the largest sensitive share of the [`Terms::window`] column.
fn window_sums(column: &[[f32; 2]], member: &[u32], bit: u32) -> (f64, f64) {
    let (mut entropy, mut max) = (0.0, 0.0f64);
    for (&[e, ws], &m) in column.iter().zip(member) {
        let on = m & bit != 0;
        entropy += if on { f64::from(e) } else { 0.0 };
        max = max.max(if on { f64::from(ws) } else { f64::NAN });
    }
    (entropy, max)
}
