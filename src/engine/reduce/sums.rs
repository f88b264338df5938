//! A cohort's sums over its viewers: exact, so their order does not matter, and taken over
//! the viewers still scrolling, so late in a run a fill reads only a few viewers.
//!
//! Every float term is rounded once to a multiple of 2⁻⁴⁸ and added as an integer ([`Exact`]),
//! so a sum is the same for any order of its terms and any split of the viewers into chunks:
//! the fixed-point form of reproducible summation (Demmel & Nguyen 2015, "Parallel
//! reproducible summation", IEEE Trans. Computers 64(7)). The chunks of viewers are summed in
//! parallel and their sums added. A viewer never starts again once it has stopped, so the first
//! fill after it stopped adds its final terms to its chunk's *settled* sums, once, and no later
//! fill reads it again. The quantiles (feed entropy, minutes to the rabbit hole) are exact order
//! statistics of the union of the settled viewers' values, kept sorted, and the live ones.
//! Integer counts are the same in any order, and a maximum that skips a viewer takes NaN, which
//! `f64::max` ignores.

use super::Cohort;
use crate::engine::platform::{NONE, Outcome};
use crate::metrics::ViewerMetrics;
use crate::viewer::ViewerState;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// Viewers per chunk of the parallel pass.
const CHUNK: usize = 4096;

/// Bits of a viewer's flags above the cohorts' bits (bit c: the viewer is in cohort c).
const ACTIVE: u32 = 1 << 16;
const FULL: u32 = 1 << 17;
const IN_HOLE: u32 = 1 << 18;
const MOVED: u32 = 1 << 19;
/// Shown an item at the step reduced.
const SHOWN: u32 = 1 << 20;

/// The most creator groups a scenario has (`catalog.groups`).
const MAX_GROUPS: usize = 64;

/// The float terms a viewer adds, in this order (see [`lanes`]).
const LANES: usize = 19;
/// The lanes of this step's stance distance and its count: a settled viewer's are counted
/// at the fill that settles it and never again.
const GAP: usize = 17;
const GAP_COUNT: usize = 18;

/// An exact sum of terms in fixed point: each term is rounded to the nearest multiple of
/// 2⁻⁴⁸ (an absolute error of at most 1.8·10⁻¹⁵), then summed exactly as an integer. The
/// terms are minutes, shares and stances, far below the 2⁷⁹ / viewers that would overflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Exact(i128);

impl Exact {
    const SCALE: f64 = (1u64 << 48) as f64;

    /// Below this magnitude a scaled term is rounded in 64-bit integers.
    const FAST: f64 = (1u64 << 62) as f64;

    /// The term `x`, rounded once to the nearest multiple of 2⁻⁴⁸, halves away from zero
    /// (as `f64::round`).
    #[inline]
    fn of(x: f64) -> Exact {
        debug_assert!(x.is_finite(), "a term of a sum is finite: {x}");
        let y = x * Self::SCALE;
        if y.abs() < Self::FAST {
            // `f64::round` and the conversion to i128 are library calls, and a fill makes 19
            // per viewer. Truncating to i64 is exact here, and so is the fraction: below 2⁵³
            // `t` is exact as a float, above it `y` is already a whole number.
            let t = y as i64;
            let fraction = y - t as f64;
            Exact(i128::from(
                t + i64::from(fraction >= 0.5) - i64::from(fraction <= -0.5),
            ))
        } else {
            Exact(y.round() as i128)
        }
    }

    /// The sum as the nearest float.
    fn value(self) -> f64 {
        self.0 as f64 / Self::SCALE
    }
}

/// Integer counts over one cohort's viewers (order-free).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Counts {
    pub viewers: u32,
    pub active: u32,
    /// Viewers whose window is full.
    pub full: u32,
    pub in_hole: u32,
    pub stance_moved: u32,
    pub boosted_impressions: u64,
    pub boosted_trusted: u64,
    /// Viewers shown at least one target item so far (`boosted_reach`).
    pub reached: u32,
    /// Viewers shown an item at this step, and Σ of those items' impressions before it.
    pub shown: u32,
    pub shown_popularity: u64,
    /// Per creator group, viewers shown at least one of its items so far.
    pub group_reach: [u32; MAX_GROUPS],
}

impl Default for Counts {
    fn default() -> Counts {
        Counts {
            viewers: 0,
            active: 0,
            full: 0,
            in_hole: 0,
            stance_moved: 0,
            boosted_impressions: 0,
            boosted_trusted: 0,
            reached: 0,
            shown: 0,
            shown_popularity: 0,
            group_reach: [0; MAX_GROUPS],
        }
    }
}

/// What one viewer adds to the [`Counts`] besides its flags.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counted {
    /// Target impressions, and those from creators the viewer followed.
    boosted: [u32; 2],
    /// The groups seen (bit g for group g).
    groups: u64,
    /// Impressions of the item shown at this step before it (with the flag [`SHOWN`]).
    popularity: u32,
}

impl Counts {
    fn add(&mut self, flags: u32, c: &Counted) {
        let count = |flag: u32| u32::from(flags & flag != 0);
        let [boosted, boosted_trusted] = c.boosted;
        self.viewers += 1;
        self.active += count(ACTIVE);
        self.full += count(FULL);
        self.in_hole += count(IN_HOLE);
        self.stance_moved += count(MOVED);
        self.boosted_impressions += u64::from(boosted);
        self.boosted_trusted += u64::from(boosted_trusted);
        self.reached += u32::from(boosted > 0);
        self.shown += count(SHOWN);
        if flags & SHOWN != 0 {
            self.shown_popularity += u64::from(c.popularity);
        }
        let mut groups = c.groups;
        while groups != 0 {
            self.group_reach[groups.trailing_zeros() as usize] += 1;
            groups &= groups - 1;
        }
    }

    fn merge(&mut self, o: &Counts) {
        self.viewers += o.viewers;
        self.active += o.active;
        self.full += o.full;
        self.in_hole += o.in_hole;
        self.stance_moved += o.stance_moved;
        self.boosted_impressions += o.boosted_impressions;
        self.boosted_trusted += o.boosted_trusted;
        self.reached += o.reached;
        self.shown += o.shown;
        self.shown_popularity += o.shown_popularity;
        for (r, &x) in self.group_reach.iter_mut().zip(&o.group_reach) {
            *r += x;
        }
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

/// The sums of a group of viewers in one cohort, in the lanes of [`lanes`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Partial {
    counts: Counts,
    lanes: [Exact; LANES],
    /// The largest sensitive share of a full window; 0 when none.
    window_sensitive_max: f64,
}

impl Default for Partial {
    fn default() -> Partial {
        Partial {
            counts: Counts::default(),
            lanes: [Exact::default(); LANES],
            window_sensitive_max: 0.0,
        }
    }
}

impl Partial {
    /// Adds a viewer with these flags, counts, terms and window's sensitive share
    /// (NaN when its window is not full).
    #[inline]
    fn add(&mut self, flags: u32, counted: &Counted, lanes: &[Exact; LANES], window_sensitive: f32) {
        self.counts.add(flags, counted);
        for (sum, term) in self.lanes.iter_mut().zip(lanes) {
            sum.0 += term.0;
        }
        self.window_sensitive_max = self.window_sensitive_max.max(f64::from(window_sensitive));
    }

    fn merge(&mut self, o: &Partial) {
        self.counts.merge(&o.counts);
        for (sum, term) in self.lanes.iter_mut().zip(&o.lanes) {
            sum.0 += term.0;
        }
        self.window_sensitive_max = self.window_sensitive_max.max(o.window_sensitive_max);
    }

    fn sums(&self) -> Sums {
        let v = self.lanes.map(Exact::value);
        Sums {
            counts: self.counts,
            minutes: v[0],
            watched: v[1],
            watched_per_day: v[2],
            sensitive: v[3],
            boosted: v[4],
            night: v[5],
            drift: v[6],
            profile_error: v[7],
            stance: v[8],
            top_share: v[9],
            entropy: v[10],
            window_sensitive_max: self.window_sensitive_max,
            sessions_per_day: v[11],
            impressions_per_session: v[12],
            active_day_share: v[13],
            habit: v[14],
            stances: [v[15], v[16], v[GAP], v[GAP_COUNT]],
        }
    }
}

/// Per cohort, the values whose quantiles are reported: feed entropies of full windows and
/// minutes to the rabbit hole.
#[derive(Debug, Clone, Default)]
struct Values {
    entropies: Vec<Vec<f64>>,
    holes: Vec<Vec<f64>>,
}

impl Values {
    fn reset(&mut self, cohorts: usize) {
        for list in [&mut self.entropies, &mut self.holes] {
            list.resize_with(cohorts, Vec::new);
            list.iter_mut().for_each(Vec::clear);
        }
    }
}

/// One chunk of viewers: the sums of its settled viewers, and of its live viewers at the
/// latest fill, per cohort.
#[derive(Debug, Clone, Default)]
struct Chunk {
    /// Viewers who had stopped at a fill, their final terms.
    settled: Vec<Partial>,
    /// Viewers still scrolling at the latest fill, and this step's stance distances of the
    /// viewers settled at it.
    live: Vec<Partial>,
    live_values: Values,
    /// The values of the viewers settled at the latest fill.
    new_values: Values,
}

/// Bytes of [`Terms`] per viewer: its settled flag (the chunks' sums do not grow with viewers).
pub const TERMS_BYTES_PER_VIEWER: usize = std::mem::size_of::<bool>();

/// Bytes per viewer and cohort the viewer is in, at most: its feed entropy and minutes to the
/// rabbit hole in a chunk's list, in the live buffer they are collected into, and in the
/// settled lists.
pub const QUANTILE_BYTES_PER_MEMBER: usize = 6 * std::mem::size_of::<f64>();

/// What a fill reads of the viewers: their state and metrics, whether each has stopped for
/// good, and the step's outcomes (whether each was shown an item).
pub(in crate::engine) struct ViewerArrays<'a> {
    pub viewers: &'a [ViewerState],
    pub metrics: &'a [ViewerMetrics],
    pub stopped: &'a [AtomicBool],
    pub outcomes: &'a [Outcome],
}

/// What a fill reads besides the viewers: cohorts, the window and the stance threshold.
struct FillContext<'a> {
    cohorts: &'a [Cohort],
    window: u32,
    stance_threshold: f64,
}

/// The sums of every cohort, kept from fill to fill: per chunk of viewers, the settled and
/// live sums; per cohort, the settled viewers' values, sorted.
#[derive(Debug, Default)]
pub(super) struct Terms {
    /// Per viewer: its final terms are in its chunk's settled sums.
    settled: Vec<bool>,
    chunks: Vec<Chunk>,
    /// Per cohort, the settled viewers' values, each list sorted (total order).
    settled_values: Values,
    /// Per cohort, room for the values a merge moves.
    moved: Vec<Vec<f64>>,
}

impl Terms {
    /// Adds the viewers who stopped since the last fill to the settled sums and sums the
    /// viewers still scrolling, in parallel over fixed chunks; then merges the newly settled
    /// values into the sorted lists. With `parallel` false, all on the calling thread (the
    /// same sums: they are exact).
    pub fn fill(
        &mut self,
        cohorts: &[Cohort],
        arrays: &ViewerArrays,
        window: u32,
        stance_threshold: f64,
        parallel: bool,
    ) {
        let ViewerArrays {
            viewers,
            metrics,
            stopped,
            outcomes,
        } = *arrays;
        let n = viewers.len();
        self.settled.resize(n, false);
        self.chunks.resize_with(n.div_ceil(CHUNK), Chunk::default);
        let ctx = FillContext {
            cohorts,
            window,
            stance_threshold,
        };
        let unsplit = if parallel { 1 } else { usize::MAX };
        self.chunks
            .par_iter_mut()
            .zip(self.settled.par_chunks_mut(CHUNK))
            .zip(viewers.par_chunks(CHUNK).zip(metrics.par_chunks(CHUNK)))
            .zip(stopped.par_chunks(CHUNK).zip(outcomes.par_chunks(CHUNK)))
            .with_min_len(unsplit)
            .for_each(|(((chunk, settled), (vs, ms)), (stopped, shown))| {
                chunk.fill(&ctx, settled, vs, ms, stopped, shown);
            });
        if self.settled_values.entropies.len() != cohorts.len() {
            self.settled_values.reset(cohorts.len());
            self.moved.resize_with(cohorts.len(), Vec::new);
        }
        let chunks = &self.chunks;
        let Values { entropies, holes } = &mut self.settled_values;
        entropies
            .par_iter_mut()
            .zip(holes.par_iter_mut())
            .zip(self.moved.par_iter_mut())
            .enumerate()
            .with_min_len(unsplit)
            .for_each(|(c, ((entropies, holes), moved))| {
                settle(
                    entropies,
                    moved,
                    chunks.iter().map(|ch| &ch.new_values.entropies[c]),
                );
                settle(holes, moved, chunks.iter().map(|ch| &ch.new_values.holes[c]));
            });
    }

    /// Cohort `c`'s sums at the latest fill.
    pub fn sums(&self, c: usize) -> Sums {
        let mut all = Partial::default();
        for chunk in &self.chunks {
            all.merge(&chunk.settled[c]);
            all.merge(&chunk.live[c]);
        }
        all.sums()
    }

    /// Cohort `c`'s settled feed entropies and minutes to the rabbit hole, each sorted.
    pub fn settled(&self, c: usize) -> (&[f64], &[f64]) {
        (&self.settled_values.entropies[c], &self.settled_values.holes[c])
    }

    /// Cohort `c`'s live feed entropies and minutes to the rabbit hole, into `entropies` and
    /// `holes` (in no particular order).
    pub fn live(&self, c: usize, entropies: &mut Vec<f64>, holes: &mut Vec<f64>) {
        entropies.clear();
        holes.clear();
        for chunk in &self.chunks {
            entropies.extend_from_slice(&chunk.live_values.entropies[c]);
            holes.extend_from_slice(&chunk.live_values.holes[c]);
        }
    }
}

/// Merges the sorted union of the unsorted `new` lists into the sorted `list` (`moved` is
/// room for the values the merge moves).
fn settle<'a>(list: &mut Vec<f64>, moved: &mut Vec<f64>, new: impl Iterator<Item = &'a Vec<f64>>) {
    let start = list.len();
    for values in new {
        list.extend_from_slice(values);
    }
    if list.len() > start {
        list[start..].sort_unstable_by(f64::total_cmp);
        merge_sorted_tail(list, start, moved);
    }
}

/// Sorts `list`, whose elements before `start` and from `start` on are each sorted, moving
/// only the elements of the first part that are larger than the second's smallest.
fn merge_sorted_tail(list: &mut [f64], start: usize, moved: &mut Vec<f64>) {
    let first = list[..start].partition_point(|x| x.total_cmp(&list[start]).is_le());
    if first == start {
        return;
    }
    // The first part's tail that must move, set aside, then merged from the front: the
    // write position never passes the next unread element of the second part.
    moved.clear();
    moved.extend_from_slice(&list[first..start]);
    let (mut i, mut j, mut w) = (0, start, first);
    while i < moved.len() {
        if j < list.len() && list[j].total_cmp(&moved[i]).is_lt() {
            list[w] = list[j];
            j += 1;
        } else {
            list[w] = moved[i];
            i += 1;
        }
        w += 1;
    }
}

impl Chunk {
    /// Sums the chunk's viewers at a fill: a viewer who has stopped since the last fill is
    /// added to the settled sums, once; a viewer still scrolling to the live ones.
    fn fill(
        &mut self,
        ctx: &FillContext,
        settled: &mut [bool],
        vs: &[ViewerState],
        ms: &[ViewerMetrics],
        stopped: &[AtomicBool],
        shown: &[Outcome],
    ) {
        let n = ctx.cohorts.len();
        self.settled.resize(n, Partial::default());
        self.live.clear();
        self.live.resize(n, Partial::default());
        self.live_values.reset(n);
        self.new_values.reset(n);
        for (j, (v, m)) in vs.iter().zip(ms).enumerate() {
            if settled[j] {
                continue;
            }
            // A viewer that stops at a later step is live now and settled at a later fill.
            let settles = stopped[j].load(Ordering::Relaxed);
            settled[j] = settles;
            let shown_now = shown[j].item != NONE;
            let flags =
                viewer_flags(v, m, ctx.window, ctx.stance_threshold) | if shown_now { SHOWN } else { 0 };
            let full = flags & FULL != 0;
            let terms = lanes(v, m, full, shown_now).map(Exact::of);
            let window_sensitive = if full { m.window_sensitive } else { f32::NAN };
            let counted = Counted {
                boosted: [v.boosted, v.boosted_trusted],
                groups: v.groups_seen,
                popularity: m.shown_popularity,
            };
            // This step's impression (its stance distance, its item's popularity) counts at
            // this fill only.
            let mut kept = terms;
            if settles {
                kept[GAP] = Exact::default();
                kept[GAP_COUNT] = Exact::default();
            }
            for (c, cohort) in ctx.cohorts.iter().enumerate() {
                if !cohort.contains(v) {
                    continue;
                }
                let (sums, values, flags) = if settles {
                    let live = &mut self.live[c];
                    live.lanes[GAP].0 += terms[GAP].0;
                    live.lanes[GAP_COUNT].0 += terms[GAP_COUNT].0;
                    if shown_now {
                        live.counts.shown += 1;
                        live.counts.shown_popularity += u64::from(counted.popularity);
                    }
                    (&mut self.settled[c], &mut self.new_values, flags & !SHOWN)
                } else {
                    (&mut self.live[c], &mut self.live_values, flags)
                };
                sums.add(flags, &counted, &kept, window_sensitive);
                if full {
                    values.entropies[c].push(f64::from(m.feed_entropy));
                }
                if !v.minutes_to_hole.is_nan() {
                    values.holes[c].push(f64::from(v.minutes_to_hole));
                }
            }
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

/// What viewer `v` with metrics `m` adds to the float sums, in the order of [`Partial::sums`]:
/// minutes of use, minutes watched, per day, sensitive, boosted and night shares of its
/// impressions; interest drift, profile error, stance shift; top-topic share and feed entropy
/// (with a `full` window, else 0); sessions per day of use, impressions per session, share of
/// days used, habit strength (§5c); x_u and x_u²; and the stance distance of an impression
/// of a stance-bearing item at this step (when it was `shown` one) with its count 1, else 0
/// and 0 (the metrics keep the distance of the latest impression).
#[inline]
fn lanes(v: &ViewerState, m: &ViewerMetrics, full: bool, shown: bool) -> [f64; LANES] {
    let per_impression = |count: u32| {
        if v.impressions > 0 {
            f64::from(count) / f64::from(v.impressions)
        } else {
            0.0
        }
    };
    let when_full = |x: f32| if full { f64::from(x) } else { 0.0 };
    let (gap, count) = if shown && !m.stance_distance.is_nan() {
        (f64::from(m.stance_distance), 1.0)
    } else {
        (0.0, 0.0)
    };
    let h = &v.habit;
    let x = f64::from(v.stance);
    [
        f64::from(v.clock) / 60.0,
        f64::from(v.watched) / 60.0,
        f64::from(v.watched) / 60.0 / f64::from(v.days),
        per_impression(v.sensitive),
        per_impression(v.boosted),
        per_impression(v.night),
        f64::from(m.interest_drift),
        f64::from(m.profile_error),
        f64::from(v.stance - v.stance0),
        when_full(m.top_topic_share),
        when_full(m.feed_entropy),
        f64::from(v.sessions) / f64::from(h.active_days),
        f64::from(v.impressions) / f64::from(v.sessions),
        f64::from(h.active_days) / f64::from(v.days),
        f64::from(h.strength),
        x,
        x * x,
        gap,
        count,
    ]
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

    /// Fills `terms` for `cohorts` from the viewers' state after a step with `outcomes`.
    fn fill_terms(
        terms: &mut Terms,
        cohorts: &[Cohort],
        (vs, ms): (&[ViewerState], &[ViewerMetrics]),
        stopped: &[AtomicBool],
        outcomes: &[Outcome],
    ) {
        let arrays = ViewerArrays {
            viewers: vs,
            metrics: ms,
            stopped,
            outcomes,
        };
        terms.fill(cohorts, &arrays, 20, 0.1, true);
    }

    fn shown(item: u32) -> Outcome {
        Outcome {
            item,
            ..Outcome::NOTHING
        }
    }

    /// The library rounding [`Exact::of`] replaces where a term is small enough.
    fn exact_by_library(x: f64) -> Exact {
        Exact((x * Exact::SCALE).round() as i128)
    }

    #[test]
    fn a_term_rounds_halves_away_from_zero() {
        let q = 1.0 / Exact::SCALE;
        for (x, units) in [
            (0.5 * q, 1),
            (-0.5 * q, -1),
            (1.5 * q, 2),
            (-2.5 * q, -3),
            (0.49999999999999994 * q, 0),
            (3.0, 3 << 48),
            (-1e-20, 0),
            (2f64.powi(20), 1 << 68),
        ] {
            assert_eq!(Exact::of(x), Exact(units), "{x:e}");
            assert_eq!(Exact::of(x), exact_by_library(x), "{x:e}");
        }
    }

    proptest::proptest! {
        /// The integer rounding is the library's for every finite term: any bits, and halves.
        #[test]
        fn a_term_rounds_as_the_library_does(
            bits in proptest::num::u64::ANY,
            half in -(1i64 << 52)..(1i64 << 52),
        ) {
            let x = f64::from_bits(bits);
            if x.is_finite() {
                proptest::prop_assert_eq!(Exact::of(x), exact_by_library(x));
            }
            let x = (half as f64 + 0.5) / Exact::SCALE;
            proptest::prop_assert_eq!(Exact::of(x), exact_by_library(x));
        }

        /// Settling new values into a sorted list gives the sorted union, for any split.
        #[test]
        fn settling_keeps_the_list_sorted(
            old in proptest::collection::vec(0u8..10, 0..30),
            new in proptest::collection::vec(proptest::collection::vec(0u8..10, 0..8), 0..4),
        ) {
            let float = |v: &[u8]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
            let mut list = float(&old);
            list.sort_by(f64::total_cmp);
            let new: Vec<Vec<f64>> = new.iter().map(|v| float(v)).collect();
            settle(&mut list, &mut Vec::new(), new.iter());
            let mut expected = [float(&old), new.concat()].concat();
            expected.sort_by(f64::total_cmp);
            proptest::prop_assert_eq!(list, expected);
        }
    }

    /// Moves the viewers who have not stopped to `fill`: their clock, impressions and minute
    /// in a rabbit hole; a third of them stop at each of the first fills.
    fn advance(vs: &mut [ViewerState], stopped: &[AtomicBool], fill: u32) {
        for (i, v) in vs.iter_mut().enumerate() {
            if stopped[i].load(Ordering::Relaxed) {
                continue;
            }
            v.clock = (i as f32).mul_add(0.37, fill as f32 * 61.0);
            v.impressions = 20 * fill + (i % 30) as u32;
            v.minutes_to_hole = if (i + fill as usize).is_multiple_of(5) {
                (i % 90) as f32
            } else {
                f32::NAN
            };
            if (i * 7 + fill as usize).is_multiple_of(3) {
                v.active = false;
                stopped[i].store(true, Ordering::Relaxed);
            }
        }
    }

    /// Viewers over three chunks who stop at different fills: at every fill the sums and
    /// counts are those of all viewers, the quantiles those of all values, and a reversed
    /// order of the viewers gives the same sums to the bit.
    #[test]
    fn settled_and_live_viewers_sum_to_every_viewer() {
        let n = 2 * CHUNK + 100;
        let mut vs: Vec<ViewerState> = (0..n)
            .map(|i| ViewerState::new(&Person::adult((i % 7) as f32 / 7.0 - 0.5)))
            .collect();
        let ms: Vec<ViewerMetrics> = (0..n)
            .map(|i| ViewerMetrics {
                feed_entropy: ((i * 37) % 101) as f32 / 100.0,
                ..ViewerMetrics::default()
            })
            .collect();
        let stopped: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
        let none = vec![Outcome::NOTHING; n];
        let (mut forward, mut backward) = (Terms::default(), Terms::default());
        for fill in 0..5u32 {
            advance(&mut vs, &stopped, fill);
            let arrays = ViewerArrays {
                viewers: &vs,
                metrics: &ms,
                stopped: &stopped,
                outcomes: &none,
            };
            forward.fill(&[Cohort::All], &arrays, 20, 0.1, true);
            let sums = forward.sums(0);
            let naive: f64 = vs.iter().map(|v| f64::from(v.clock) / 60.0).sum();
            assert!((sums.minutes - naive).abs() < 1e-9 * naive, "fill {fill}");
            let full: Vec<usize> = (0..n).filter(|&i| vs[i].impressions >= 20).collect();
            assert_eq!(sums.counts.viewers as usize, n);
            assert_eq!(sums.counts.full as usize, full.len());
            assert_eq!(
                sums.counts.active as usize,
                vs.iter().filter(|v| v.active).count()
            );
            let (settled_entropies, settled_holes) = forward.settled(0);
            let (mut live_entropies, mut live_holes) = (Vec::new(), Vec::new());
            forward.live(0, &mut live_entropies, &mut live_holes);
            live_entropies.sort_by(f64::total_cmp);
            live_holes.sort_by(f64::total_cmp);
            let mut all: Vec<f64> = full.iter().map(|&i| f64::from(ms[i].feed_entropy)).collect();
            let mut holes: Vec<f64> = vs
                .iter()
                .filter(|v| !v.minutes_to_hole.is_nan())
                .map(|v| f64::from(v.minutes_to_hole))
                .collect();
            for q in [0.1, 0.5, 0.9] {
                assert_eq!(
                    crate::metrics::quantile_of_sorted_pair(settled_entropies, &live_entropies, q),
                    crate::metrics::quantile_unsorted(&mut all, q)
                );
            }
            assert_eq!(
                crate::metrics::quantile_of_sorted_pair(settled_holes, &live_holes, 0.5),
                crate::metrics::quantile_unsorted(&mut holes, 0.5)
            );
            // The same viewers in reverse order, with their stopped flags, summed on one thread.
            let (rv, rm): (Vec<ViewerState>, Vec<ViewerMetrics>) =
                vs.iter().copied().zip(ms.iter().copied()).rev().unzip();
            let rs: Vec<AtomicBool> = stopped
                .iter()
                .rev()
                .map(|s| AtomicBool::new(s.load(Ordering::Relaxed)))
                .collect();
            let arrays = ViewerArrays {
                viewers: &rv,
                metrics: &rm,
                stopped: &rs,
                outcomes: &none,
            };
            backward.fill(&[Cohort::All], &arrays, 20, 0.1, false);
            assert_eq!(
                backward.sums(0).minutes.to_bits(),
                sums.minutes.to_bits(),
                "fill {fill}"
            );
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
            terms.fill(&[Cohort::All], &arrays, 20, 0.1, true);
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
    fn reach_and_popularity_are_counted_per_cohort() {
        let person = Person::adult;
        let mut vs: Vec<ViewerState> = (0..3).map(|_| ViewerState::new(&person(0.0))).collect();
        // Viewer 0: 2 target impressions, groups 0 and 2; viewer 1 (the switcher): none, group
        // 0; viewer 2: 1 target impression, group 2.
        (vs[0].boosted, vs[0].groups_seen) = (2, 0b101);
        (vs[1].boosted, vs[1].groups_seen, vs[1].switcher) = (0, 0b001, true);
        (vs[2].boosted, vs[2].groups_seen) = (1, 0b100);
        // The items shown at their latest impressions had 10, 4 and 7 impressions before.
        let ms: Vec<ViewerMetrics> = [10, 4, 7]
            .map(|p| ViewerMetrics {
                shown_popularity: p,
                ..ViewerMetrics::default()
            })
            .to_vec();
        let stopped = [
            AtomicBool::new(false),
            AtomicBool::new(false),
            AtomicBool::new(false),
        ];
        let mut terms = Terms::default();
        let mut fill = |vs: &[ViewerState], outcomes: &[Outcome]| {
            let cohorts = [Cohort::All, Cohort::Switchers];
            fill_terms(&mut terms, &cohorts, (vs, &ms), &stopped, outcomes);
            [terms.sums(0).counts, terms.sums(1).counts]
        };
        // Viewers 0 and 1 are shown an item at this step, viewer 2 is not.
        let [all, switchers] = fill(&vs, &[shown(1), shown(2), Outcome::NOTHING]);
        assert_eq!((all.reached, all.shown, all.shown_popularity), (2, 2, 14));
        assert_eq!(all.group_reach[..4], [2, 0, 2, 0]);
        assert_eq!(
            (switchers.reached, switchers.shown, switchers.shown_popularity),
            (0, 1, 4)
        );
        assert_eq!(switchers.group_reach[..3], [1, 0, 0]);
        // Viewer 0 stopped after that step: its reach stays, its impression is past.
        stopped[0].store(true, Ordering::Relaxed);
        let [all, _] = fill(&vs, &[Outcome::NOTHING, Outcome::NOTHING, shown(3)]);
        assert_eq!((all.reached, all.shown, all.shown_popularity), (2, 1, 7));
        let [all, _] = fill(&vs, &[Outcome::NOTHING; 3]);
        assert_eq!((all.reached, all.shown, all.shown_popularity), (2, 0, 0));
        assert_eq!(all.group_reach[..3], [2, 0, 2]);
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
            terms.fill(&[Cohort::All], &arrays, 20, 0.1, true);
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
