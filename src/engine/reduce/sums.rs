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
use crate::engine::platform::{NONE, Outcome};
use crate::metrics::ViewerMetrics;
use crate::viewer::ViewerState;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

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
    pub sessions_per_day: f64,
    pub impressions_per_session: f64,
    pub active_day_share: f64,
    pub habit: f64,
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

impl Rows<'_> {
    /// Recomputes the rows that are not final from the viewers' state and metrics.
    fn refresh(
        &mut self,
        ctx: &FillContext,
        vs: &[ViewerState],
        ms: &[ViewerMetrics],
        stopped: &[AtomicBool],
        shown: &[Outcome],
    ) {
        for (j, (v, m)) in vs.iter().zip(ms).enumerate() {
            if self.done[j] {
                // Only this step's impressions have a stance distance, and a stopped viewer
                // has none: the one of its last step goes.
                self.stances[j][2..].fill(0.0);
                continue;
            }
            // Read before the state: a viewer that stops later still has its row recomputed.
            self.done[j] = stopped[j].load(Ordering::Relaxed);
            let flags = viewer_flags(v, m, ctx.window, ctx.stance_threshold);
            self.member[j] = ctx
                .cohorts
                .iter()
                .enumerate()
                .fold(0, |bits, (c, cohort)| bits | (u32::from(cohort.contains(v)) << c));
            self.flags[j] = flags;
            self.boosted[j] = [v.boosted, v.boosted_trusted];
            self.hole[j] = v.minutes_to_hole;
            (self.divided[j], self.shares[j], self.exact[j], self.window[j]) = terms(v, m, flags & FULL != 0);
            self.habits[j] = habit_terms(v);
            self.stances[j] = stance_terms(v, m, shown[j].item != NONE);
        }
    }
}

impl Gathered {
    /// Counts, entropies (full windows) and minutes to the rabbit hole of a chunk's `rows`,
    /// per cohort, in viewer order.
    fn gather(&mut self, ctx: &FillContext, rows: &Rows) {
        let n = ctx.cohorts.len();
        self.counts.clear();
        self.counts.resize(n, Counts::default());
        self.entropies.resize_with(n, Vec::new);
        self.holes.resize_with(n, Vec::new);
        self.entropies
            .iter_mut()
            .chain(&mut self.holes)
            .for_each(Vec::clear);
        for j in 0..rows.member.len() {
            let (bits, flags, [boosted, trusted]) = (rows.member[j], rows.flags[j], rows.boosted[j]);
            for c in (0..n).filter(|c| bits & (1 << c) != 0) {
                self.counts[c].add(flags, boosted, trusted);
                if flags & FULL != 0 {
                    // The window column holds the feed entropy when the window is full.
                    self.entropies[c].push(f64::from(rows.window[j][0]));
                }
                if !rows.hole[j].is_nan() {
                    self.holes[c].push(f64::from(rows.hole[j]));
                }
            }
        }
    }
}

/// Every viewer's terms of the float sums, in viewer order, grouped in columns that are
/// summed side by side; what each chunk gathered; and, per viewer, what the gathering reads.
///
/// A viewer's row changes only while it scrolls: once it has stopped (it never starts again)
/// and its row has been computed from its final state, the row is kept and not recomputed, so
/// late in a run, when few viewers are still active, a fill reads the compact columns and not
/// every viewer's state. The sums are taken over every row as before, so they do not change.
#[derive(Debug, Default)]
pub(super) struct Terms {
    /// Cohort membership (bit c for cohort c), for the columns' sums.
    member: Vec<u32>,
    /// The viewer's flags ([`viewer_flags`]).
    flags: Vec<u32>,
    /// Boosted and boosted trusted impressions, for the counts.
    boosted: Vec<[u32; 2]>,
    /// Minutes to the rabbit hole; NaN for a viewer who has not fallen in.
    hole: Vec<f32>,
    /// The row was computed after the viewer stopped, so it is final.
    done: Vec<bool>,
    /// minutes, watched, watched per day, sensitive share.
    divided: Vec<[f64; 4]>,
    /// boosted share, night share.
    shares: Vec<[f64; 2]>,
    /// drift, profile error, stance shift, top-topic share (full windows, else 0).
    exact: Vec<[f32; 4]>,
    /// feed entropy (full windows, else 0), window's sensitive share (full windows, else NaN).
    window: Vec<[f32; 2]>,
    /// sessions per day, impressions per session, active-day share, habit (§5c).
    habits: Vec<[f64; 4]>,
    /// stance, its square, this step's stance distance (else 0) and 1 if there is one (else 0).
    stances: Vec<[f64; 4]>,
    gathered: Vec<Gathered>,
}

/// Bytes of [`Terms`] per viewer: one element of each column (keep in step with the fields).
pub const TERMS_BYTES_PER_VIEWER: usize = 2 * std::mem::size_of::<u32>()
    + std::mem::size_of::<[u32; 2]>()
    + std::mem::size_of::<f32>()
    + std::mem::size_of::<bool>()
    + std::mem::size_of::<[f64; 4]>()
    + std::mem::size_of::<[f64; 2]>()
    + std::mem::size_of::<[f32; 4]>()
    + std::mem::size_of::<[f32; 2]>()
    + 2 * std::mem::size_of::<[f64; 4]>();

/// Bytes per viewer and cohort the viewer is in, at most: its feed entropy gathered per chunk
/// and in the three quantile buffers, its minutes to the rabbit hole gathered and collected.
pub const QUANTILE_BYTES_PER_MEMBER: usize = 6 * std::mem::size_of::<f64>();

/// One chunk's rows of the [`Terms`] columns.
struct Rows<'a> {
    member: &'a mut [u32],
    flags: &'a mut [u32],
    boosted: &'a mut [[u32; 2]],
    hole: &'a mut [f32],
    done: &'a mut [bool],
    divided: &'a mut [[f64; 4]],
    shares: &'a mut [[f64; 2]],
    exact: &'a mut [[f32; 4]],
    window: &'a mut [[f32; 2]],
    habits: &'a mut [[f64; 4]],
    stances: &'a mut [[f64; 4]],
}

/// What a fill reads besides the viewers: cohorts, the window and the stance threshold.
/// What a fill reads of the viewers: their state and metrics, whether each has stopped for
/// good, and the step's outcomes (whether each was shown an item).
pub(in crate::engine) struct ViewerArrays<'a> {
    pub viewers: &'a [ViewerState],
    pub metrics: &'a [ViewerMetrics],
    pub stopped: &'a [AtomicBool],
    pub outcomes: &'a [Outcome],
}

struct FillContext<'a> {
    cohorts: &'a [Cohort],
    window: u32,
    stance_threshold: f64,
}

impl Terms {
    /// Computes the terms of every viewer whose row is not final, in parallel over fixed
    /// chunks, and gathers counts, entropies and minutes to the rabbit hole per chunk.
    pub fn fill(&mut self, cohorts: &[Cohort], arrays: &ViewerArrays, window: u32, stance_threshold: f64) {
        let ViewerArrays {
            viewers,
            metrics,
            stopped,
            outcomes,
        } = *arrays;
        let n = viewers.len();
        self.member.resize(n, 0);
        self.flags.resize(n, 0);
        self.boosted.resize(n, [0; 2]);
        self.hole.resize(n, f32::NAN);
        self.done.resize(n, false);
        self.divided.resize(n, [0.0; 4]);
        self.shares.resize(n, [0.0; 2]);
        self.exact.resize(n, [0.0; 4]);
        self.window.resize(n, [0.0; 2]);
        self.habits.resize(n, [0.0; 4]);
        self.stances.resize(n, [0.0; 4]);
        self.gathered.resize_with(n.div_ceil(CHUNK), Gathered::default);
        let ctx = FillContext {
            cohorts,
            window,
            stance_threshold,
        };
        let columns = self
            .member
            .par_chunks_mut(CHUNK)
            .zip(self.flags.par_chunks_mut(CHUNK))
            .zip(self.boosted.par_chunks_mut(CHUNK))
            .zip(self.hole.par_chunks_mut(CHUNK))
            .zip(self.done.par_chunks_mut(CHUNK))
            .zip(self.divided.par_chunks_mut(CHUNK))
            .zip(self.shares.par_chunks_mut(CHUNK))
            .zip(self.exact.par_chunks_mut(CHUNK))
            .zip(self.window.par_chunks_mut(CHUNK))
            .zip(self.habits.par_chunks_mut(CHUNK))
            .zip(self.stances.par_chunks_mut(CHUNK));
        columns
            .zip(&mut self.gathered)
            .zip(viewers.par_chunks(CHUNK).zip(metrics.par_chunks(CHUNK)))
            .zip(stopped.par_chunks(CHUNK).zip(outcomes.par_chunks(CHUNK)))
            .for_each(
                |(
                    (
                        (
                            (
                                (
                                    (
                                        (
                                            ((((((member, flags), boosted), hole), done), divided), shares),
                                            exact,
                                        ),
                                        window,
                                    ),
                                    habits,
                                ),
                                stances,
                            ),
                            g,
                        ),
                        (vs, ms),
                    ),
                    (stopped, shown),
                )| {
                    let mut rows = Rows {
                        member,
                        flags,
                        boosted,
                        hole,
                        done,
                        divided,
                        shares,
                        exact,
                        window,
                        habits,
                        stances,
                    };
                    rows.refresh(&ctx, vs, ms, stopped, shown);
                    g.gather(&ctx, &rows);
                },
            );
    }

    /// Cohort `c`'s sums: each float column in viewer order, the columns in parallel.
    pub fn sums(&self, c: usize) -> Sums {
        let bit = 1 << c;
        let member = &self.member;
        // Every column is summed in viewer order; the columns run side by side, the two
        // halves about equal in bytes read.
        let (
            (([minutes, watched, watched_per_day, sensitive], [boosted, night]), habits),
            (([drift, profile_error, stance, top_share], (entropy, window_sensitive_max)), stances),
        ) = rayon::join(
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || masked_sums(&self.divided, member, bit),
                            || masked_sums(&self.shares, member, bit),
                        )
                    },
                    || masked_sums(&self.habits, member, bit),
                )
            },
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || masked_sums(&self.exact, member, bit),
                            || window_sums(&self.window, member, bit),
                        )
                    },
                    || masked_sums(&self.stances, member, bit),
                )
            },
        );
        let [sessions_per_day, impressions_per_session, active_day_share, habit] = habits;
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
            sessions_per_day,
            impressions_per_session,
            active_day_share,
            habit,
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

/// What viewer `v` adds to the sums of habit and return (§5c): sessions per day of use,
/// impressions per session, the share of calendar days used, and habit strength.
#[inline]
fn habit_terms(v: &ViewerState) -> [f64; 4] {
    let h = &v.habit;
    [
        f64::from(v.sessions) / f64::from(h.active_days),
        f64::from(v.impressions) / f64::from(v.sessions),
        f64::from(h.active_days) / f64::from(v.days),
        f64::from(h.strength),
    ]
}

/// What viewer `v` adds to the stance sums: x_u, x_u², and this step's stance distance and
/// its count (0 and 0 unless the viewer was `shown` an item of a stance-bearing topic at this
/// step; a viewer's metrics keep the distance of its last impression).
#[inline]
fn stance_terms(v: &ViewerState, m: &ViewerMetrics, shown: bool) -> [f64; 4] {
    let x = f64::from(v.stance);
    let (gap, count) = if shown && !m.stance_distance.is_nan() {
        (f64::from(m.stance_distance), 1.0)
    } else {
        (0.0, 0.0)
    };
    [x, x * x, gap, count]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::Person;

    /// Two viewers of stances 0.5 and -0.5, both with a stance distance of 0.25 measured at
    /// their latest impression.
    fn viewers() -> (Vec<ViewerState>, Vec<ViewerMetrics>) {
        let person = Person::adult;
        let metrics = ViewerMetrics {
            stance_distance: 0.25,
            ..ViewerMetrics::default()
        };
        (
            vec![ViewerState::new(&person(0.5)), ViewerState::new(&person(-0.5))],
            vec![metrics; 2],
        )
    }

    fn shown(item: u32) -> Outcome {
        Outcome {
            item,
            ..Outcome::NOTHING
        }
    }

    #[test]
    fn a_stance_distance_counts_only_at_the_step_of_its_impression() {
        let (mut vs, ms) = viewers();
        let stopped = [AtomicBool::new(false), AtomicBool::new(false)];
        let mut terms = Terms::default();
        let mut fill = |vs: &[ViewerState], outcomes: &[Outcome]| {
            let arrays = ViewerArrays {
                viewers: vs,
                metrics: &ms,
                stopped: &stopped,
                outcomes,
            };
            terms.fill(&[Cohort::All], &arrays, 20, 0.1);
            terms.sums(0).stances
        };
        // Both shown an item: Σx = 0, Σx² = 0.5, two distances of 0.25.
        assert_eq!(fill(&vs, &[shown(3), shown(4)]), [0.0, 0.5, 0.5, 2.0]);
        // Viewer 1 stops at the next step, after an impression; viewer 0 is not shown anything.
        vs[1].active = false;
        stopped[1].store(true, Ordering::Relaxed);
        assert_eq!(fill(&vs, &[Outcome::NOTHING, shown(5)]), [0.0, 0.5, 0.25, 1.0]);
        // Later its row is kept, but the distance of its last impression no longer counts.
        assert_eq!(fill(&vs, &[shown(6), Outcome::NOTHING]), [0.0, 0.5, 0.25, 1.0]);
        assert_eq!(
            fill(&vs, &[Outcome::NOTHING, Outcome::NOTHING]),
            [0.0, 0.5, 0.0, 0.0]
        );
    }

    #[test]
    fn a_stopped_viewers_row_is_computed_once_from_its_final_state() {
        let (mut vs, ms) = viewers();
        let stopped = [AtomicBool::new(true), AtomicBool::new(false)];
        let mut terms = Terms::default();
        let none = [Outcome::NOTHING; 2];
        let mut minutes = |vs: &[ViewerState]| {
            let arrays = ViewerArrays {
                viewers: vs,
                metrics: &ms,
                stopped: &stopped,
                outcomes: &none,
            };
            terms.fill(&[Cohort::All], &arrays, 20, 0.1);
            terms.sums(0).minutes
        };
        vs[0].clock = 60.0;
        vs[1].clock = 120.0;
        assert_eq!(minutes(&vs), 3.0);
        // A stopped viewer never changes again, so its state is not read again; an active
        // viewer's is.
        vs[0].clock = 600.0;
        vs[1].clock = 180.0;
        assert_eq!(minutes(&vs), 4.0);
    }
}
