//! One viewer's step, as named phases run in a fixed order (`docs/model.md` §8e):
//!
//! 1. **admit**: the protections before the impression (a profile reset; a minor's curfew or
//!    daily limit may end the day);
//! 2. **pick**: the policy for this viewer (after a switch, the other one), a `slots` boost,
//!    the policy's recommendation, and the protections' replacement of a refused item;
//! 3. **respond**: the viewer model, then the overrides in this order: an audit bot's script,
//!    a coordinated account's sharing, and last the hard caps (a minor's daily limit), so no
//!    override can undo a cap;
//! 4. **record**: the traced viewer's impression, for `explain`;
//! 5. **learn**: the history ring, the viewer's update, the day model, the platform's profile;
//! 6. **measure**: the impression's counters and the window's metrics;
//! 7. **finish**: the end of the viewer's run, and the outcome the platform absorbs.
//!
//! Every phase reads the step's shared inputs ([`StepContext`]) and one viewer's state
//! ([`Viewer`]); nothing here allocates (the traced viewer's record aside) or uses dynamic
//! dispatch other than the policy's `recommend`.

use super::bots::Bots;
use super::log::Detail;
use super::platform::Outcome;
use super::protections::Protections;
use super::trace::{TraceRecord, ViewerSnapshot};
use crate::agreement;
use crate::boost::{Boost, BoostView, MAX_BOOSTS, TargetSet};
use crate::catalog::{Item, ItemIdx};
use crate::metrics::{self, EntropyTable, ViewerMetrics};
use crate::recommender::{
    Allow, FactorView, FollowFilter, Latent, Policy, Scratch, Shared, Source, Trace, ViewerView, profile,
};
use crate::rng::Streams;
use crate::scenario::{BoostMode, Scenario};
use crate::viewer::{self, Response, ViewerParams, ViewerState};
use rand::RngExt;
use std::sync::Mutex;

/// Largest K the per-step stack buffers hold (the scenario allows at most 256 topics).
const MAX_TOPICS: usize = 256;

/// Stack buffers of this many topics serve every K up to it (most scenarios).
const SMALL_K: usize = 32;

/// One viewer's mutable state, borrowed from the arm's flat arrays and split by meaning.
pub(super) struct Viewer<'v> {
    pub state: &'v mut ViewerState,
    /// Latent interests (the platform never reads them).
    pub interests: &'v mut [f32],
    /// Latent interests at the start, for `interest_drift`.
    pub initial: &'v [f32],
    pub satiation: &'v mut [f32],
    /// The platform's profile: estimate and counts per topic.
    pub estimate: &'v mut [f32],
    pub counts: &'v mut [f32],
    /// The ring of recent impressions and its topics.
    pub ring: &'v mut [u32],
    pub topics: &'v mut [u16],
    /// Follow slots (the first `state.n_follows` are used).
    pub follows: &'v mut [u32],
    /// Latent taste and its sums (`taste::SUMS`); empty when taste is off.
    pub taste: &'v mut [f32],
}

impl<'v> Viewer<'v> {
    /// Splits a viewer's blocks of the arm's arrays: `floats` holds five K-vectors
    /// (interests, initial interests, satiation, estimate, counts) and the taste block (none
    /// when taste is off), `slots` the ring of
    /// `history` items then the follow slots.
    #[inline(always)]
    pub fn split(
        state: &'v mut ViewerState,
        floats: &'v mut [f32],
        slots: &'v mut [u32],
        topics: &'v mut [u16],
        k: usize,
        history: usize,
    ) -> Viewer<'v> {
        let (interests, rest) = floats.split_at_mut(k);
        let (initial, rest) = rest.split_at_mut(k);
        let (satiation, rest) = rest.split_at_mut(k);
        let (estimate, rest) = rest.split_at_mut(k);
        let (counts, taste) = rest.split_at_mut(k);
        let (ring, follows) = slots.split_at_mut(history);
        Viewer {
            state,
            interests,
            initial,
            satiation,
            estimate,
            counts,
            ring,
            topics,
            follows,
            taste,
        }
    }
}

/// The policies of an arm: the default, and the one switchers move to at a minute of use;
/// its boosts, the target set that `boosted_share` measures, the protections and day model,
/// and the audit bots.
pub(super) struct Policies<'p> {
    pub default: &'p dyn Policy,
    pub switch: Option<(&'p dyn Policy, f32)>,
    pub boosts: &'p [Boost],
    pub measured: Option<&'p TargetSet>,
    /// The day model and the arm's protections (scenarios that use them).
    pub protections: Option<&'p Protections>,
    pub bots: Option<&'p Bots>,
}

/// Read-only inputs of one step, shared by all threads.
pub(super) struct StepContext<'s> {
    pub shared: &'s Shared<'s>,
    pub policies: &'s Policies<'s>,
    pub traced: Option<u32>,
    pub record: &'s Mutex<Option<TraceRecord>>,
    pub params: &'s ViewerParams,
    pub scenario: &'s Scenario,
    pub step: u32,
    pub k: usize,
    pub window: usize,
    pub no_repeat: usize,
    pub end_seconds: f32,
    pub streams: StepStreams,
    pub entropy: &'s EntropyTable,
}

/// The random streams a viewer's step draws from, by purpose.
pub(super) struct StepStreams {
    pub boost: Streams,
    pub recommend: Streams,
    pub response: Streams,
}

/// The item picked for an impression, and what picked it.
pub(super) struct Pick<'p> {
    pub item: ItemIdx,
    pub source: Source,
    /// The policy that ranked (after a switch, the arm's other policy).
    pub policy: &'p dyn Policy,
    /// The viewer had switched to the arm's other policy.
    pub switched: bool,
    /// The boost whose `slots` mode filled the slot.
    pub slot: Option<&'p Boost>,
}

/// What the response phase learnt of the impression besides the response itself.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The viewer follows the item's creator.
    trusted: bool,
    /// The item is in the scenario's `[target]`.
    in_target: bool,
    /// A coordinated account shared it.
    shared: bool,
    /// The impression starts at night (day model).
    at_night: bool,
    /// The taste match m(u, i) (§4b; 0 without taste).
    taste_match: f32,
    /// |x_i − x_u| before the impression moved the viewer, for a stance-bearing item; NaN
    /// for another.
    stance_gap: f32,
    /// The item's impressions before this step (its popularity).
    popularity: u32,
}

impl StepContext<'_> {
    /// One impression for one viewer: the phases in their order. With the impression log on,
    /// `detail` is the viewer's slot for what the log needs beyond the outcome.
    #[inline]
    pub fn step_viewer(
        &self,
        id: u32,
        v: &mut Viewer,
        vm: &mut ViewerMetrics,
        scratch: &mut Scratch,
        detail: Option<&mut Detail>,
    ) -> Outcome {
        if !v.state.active || !self.admit(id, v) {
            return Outcome::NOTHING;
        }
        let mut trace = (self.traced == Some(id)).then(Trace::default);
        let Some(pick) = self.pick(id, v, scratch, trace.as_mut()) else {
            // Nothing the protections allow is visible: the feed is empty, the day is over.
            let y = self.policies.protections.expect("only protections refuse items");
            y.nothing_to_show(self.params, id, v.state, v.satiation);
            return Outcome::NOTHING;
        };
        let item = &self.shared.catalog.items[pick.item as usize];
        let (response, seen) = self.respond(id, v, pick.item, item);
        if let Some(d) = detail {
            // The clock has not moved since the pick: `learn` moves it.
            *d = Detail {
                clock: v.state.clock,
                fraction: response.fraction,
                seconds: response.seconds,
                source: pick.source,
                followed: response.followed,
                skipped: response.skipped,
            };
        }
        if let Some(trace) = trace {
            // The clock has not moved since the pick: `learn` moves it.
            self.record(v, &pick, trace, response);
        }
        self.learn(id, v, pick.item, item, &response, seen.taste_match);
        self.measure(v, vm, item.group, seen);
        self.finish(id, v, pick.item, &response, seen)
    }

    /// Phase 1: the protections before the impression. False when the viewer has stopped or
    /// may see nothing now.
    #[inline]
    fn admit(&self, id: u32, v: &mut Viewer) -> bool {
        match self.policies.protections {
            Some(y) => y.before(
                self.params,
                self.shared.config,
                id,
                v.state,
                v.satiation,
                v.estimate,
                v.counts,
            ),
            None => true,
        }
    }

    /// Phase 2: the item for the impression, or none when the protections refuse every
    /// visible item.
    #[inline]
    fn pick<'p>(
        &'p self,
        id: u32,
        v: &Viewer,
        scratch: &mut Scratch,
        trace: Option<&mut Trace>,
    ) -> Option<Pick<'p>> {
        let p = self.policies;
        let switched = p
            .switch
            .is_some_and(|(_, at)| v.state.switcher && v.state.clock >= at);
        let policy = match p.switch {
            Some((switch, _)) if switched => switch,
            _ => p.default,
        };
        let view = self.view(id, v, policy.reads_latent());
        // A `slots` boost may take the slot before the policy ranks; its draws come from a
        // stream of their own, so the policy's draws stay aligned with other arms.
        let slot = if p.boosts.is_empty() {
            None
        } else {
            self.slot(id, &view)
        };
        let (item, source) = match slot {
            Some((item, _)) => (item, Source::Boost),
            None => {
                let mut rng = self.streams.recommend.at(u64::from(id), u64::from(self.step));
                policy.recommend(self.shared, &view, &mut rng, scratch, trace)
            }
        };
        let (item, source) = match p.protections {
            // A recommendation the protections refuse is replaced by an allowed item.
            Some(y) if !view.allow.allows(item) => (
                y.replacement(
                    self.shared.catalog,
                    self.shared.topic_visible,
                    &view.allow,
                    id,
                    self.step,
                    |i| view.seen_recently(i),
                )?,
                Source::Protection,
            ),
            _ => (item, source),
        };
        Some(Pick {
            item,
            source,
            policy,
            switched,
            slot: slot.map(|(_, b)| b),
        })
    }

    /// What the platform knows of the viewer now; with `latent` (the `oracle` benchmark only),
    /// what the viewer model knows too.
    #[inline]
    fn view<'a>(&'a self, id: u32, v: &'a Viewer, latent: bool) -> ViewerView<'a> {
        let shown = v.state.impressions as usize;
        let mut ramps = [0.0; MAX_BOOSTS];
        for (r, b) in ramps.iter_mut().zip(self.policies.boosts) {
            *r = b.ramp(v.state.clock);
        }
        ViewerView {
            profile: v.estimate,
            counts: v.counts,
            recent: last(v.ring, shown, self.no_repeat),
            window_topics: last(v.topics, shown, self.window),
            follows: &v.follows[..v.state.n_follows as usize],
            follow_filter: FollowFilter::of(&v.follows[..v.state.n_follows as usize]),
            boosts: BoostView {
                boosts: self.policies.boosts,
                ramps,
                items: &self.shared.catalog.items,
                impressions: self.shared.impressions,
            },
            allow: match self.policies.protections {
                Some(y) => y.allow(
                    &self.shared.catalog.items,
                    v.state.minor,
                    last(v.topics, shown, self.window.saturating_sub(1)),
                ),
                None => Allow::ANY,
            },
            stance: v.state.stance_estimate,
            agreement: agreement::ranking_weight(self.shared.config, v.state.stance_weight),
            factors: match self.shared.factors {
                Some(f) => FactorView {
                    vector: f.viewer_row(id as usize),
                    bias: f.viewer_bias[id as usize],
                },
                None => FactorView::NONE,
            },
            latent: latent.then(|| Latent {
                params: self.params,
                interests: v.interests,
                satiation: v.satiation,
                taste: &v.taste[..self.shared.catalog.taste.dims.min(v.taste.len())],
                stance: v.state.stance,
                vulnerable: v.state.vulnerable,
            }),
        }
    }

    /// The item a `slots` boost puts in the slot, if one draws it, and the boost.
    #[inline]
    fn slot<'p>(&'p self, id: u32, view: &ViewerView) -> Option<(ItemIdx, &'p Boost)> {
        let mut rng = self.streams.boost.at(u64::from(id), u64::from(self.step));
        for (b, &r) in self.policies.boosts.iter().zip(&view.boosts.ramps) {
            if b.mode == BoostMode::Slots
                && r > 0.0
                && rng.random::<f32>() < b.strength * r
                && let Some(item) = b.slot_item(
                    self.shared.catalog,
                    self.step,
                    view.follows,
                    |i| view.seen_recently(i),
                    &mut rng,
                )
            {
                return Some((item, b));
            }
        }
        None
    }

    /// Phase 3: the viewer's response to the item, then the overrides in their order: an
    /// audit bot's script, a coordinated account's sharing, and last the hard caps.
    #[inline]
    fn respond(&self, id: u32, v: &Viewer, item_idx: ItemIdx, item: &Item) -> (Response, Seen) {
        let p = self.policies;
        let trusted = viewer::follows_creator(v.follows, v.state.n_follows, item.creator);
        let mut rng = self.streams.response.at(u64::from(id), u64::from(self.step));
        let lingers = v.state.vulnerable && item.sensitive();
        let taste = &self.shared.catalog.taste;
        let taste_match = if v.taste.is_empty() {
            0.0
        } else {
            crate::taste::matching(&v.taste[..taste.dims], taste.offset(item_idx), taste.scale)
        };
        let disagreement = agreement::logit_penalty(self.params.agreement_weight, v.state.stance, item);
        let mut response = viewer::respond(
            self.params,
            v.interests,
            v.satiation,
            trusted,
            lingers,
            self.params.taste_weight * taste_match - disagreement,
            item,
            &mut rng,
        );
        if let Some(plan) = p.bots.and_then(|b| b.plan(id)) {
            plan.respond(self.params, v.state.clock, item, &mut response, &mut rng);
        }
        let in_target = p.measured.is_some_and(|t| t.contains(item_idx));
        // Coordinated accounts watch target items to the end, like and share them.
        let shared = v.state.coordinated && in_target;
        if shared {
            response.fraction = 1.0;
            response.seconds = item.duration;
            response.skipped = false;
            response.liked = true;
        }
        let mut at_night = false;
        if let Some(y) = p.protections {
            // Last: a cap holds whatever came before it.
            y.cut_at_limit(self.params, v.state, item.duration, &mut response);
            at_night = y.day.as_ref().is_some_and(|d| d.at_night(v.state));
        }
        let seen = Seen {
            trusted,
            in_target,
            shared,
            at_night,
            taste_match,
            stance_gap: agreement::gap(item, v.state.stance).unwrap_or(f32::NAN),
            popularity: self.shared.impressions[item_idx as usize],
        };
        (response, seen)
    }

    /// Phase 4: the traced viewer's impression, for `explain`.
    #[cold]
    fn record(&self, v: &Viewer, pick: &Pick, mut trace: Trace, response: Response) {
        if let Some(b) = pick.slot {
            // A hidden slot is passed off as the policy's own choice.
            trace.candidates.clear();
            trace.policy = if b.disclosed { "boost" } else { pick.policy.name() };
        }
        *self.record.lock().expect("no panics while tracing") = Some(TraceRecord {
            step: self.step,
            minute: f64::from(v.state.clock) / 60.0,
            item: pick.item,
            source: pick.source,
            trace,
            response,
            switched: pick.switched,
            slot: pick.slot.map(|b| (b.name.clone(), b.disclosed)),
            viewer: ViewerSnapshot {
                day: v.state.days,
                minor: v.state.minor,
                vulnerable: v.state.vulnerable,
                bot: v.state.bot,
                switcher: v.state.switcher,
                coordinated: v.state.coordinated,
                estimate: v.estimate.to_vec(),
                interests: v.interests.to_vec(),
            },
        });
    }

    /// Phase 5: the impression enters the history; the viewer's state moves (time, satiation,
    /// interests, stance, follows, then taste), the day model places a new day or session, and
    /// the platform's profile learns from the signal it observed.
    #[inline]
    fn learn(
        &self,
        id: u32,
        v: &mut Viewer,
        item_idx: ItemIdx,
        item: &Item,
        response: &Response,
        taste_match: f32,
    ) {
        let shown = v.state.impressions as usize;
        let pos = shown % v.ring.len();
        v.ring[pos] = item_idx;
        v.topics[pos] = item.topic;
        let (days_before, sessions_before) = (v.state.days, v.state.sessions);
        viewer::update(
            self.params,
            v.state,
            v.interests,
            v.satiation,
            v.follows,
            item,
            response,
        );
        if !v.taste.is_empty() {
            crate::taste::learn(
                v.taste,
                self.shared.catalog.taste.offset(item_idx),
                taste_match,
                self.params.taste_drift_rate,
                v.state.susceptibility,
                response,
            );
        }
        let signal = match self.policies.protections {
            Some(y) => {
                y.after(id, v.state, days_before, sessions_before);
                y.signal(self.shared.config, self.params, response)
            }
            None => profile::signal(self.shared.config, response),
        };
        profile::observe(
            self.shared.config,
            v.estimate,
            v.counts,
            item.topic as usize,
            signal,
        );
        // The learned stance, only when the ranking reads it (§6b).
        if self.shared.config.agreement_weight > 0.0 && item.stance_bearing() {
            let s = &mut *v.state;
            agreement::observe(
                self.shared.config,
                &mut s.stance_estimate,
                &mut s.stance_weight,
                item.stance,
                signal,
            );
        }
    }

    /// Phase 6: the impression's counters and the metrics of the window and of the viewer
    /// (noting the first minute in a rabbit hole).
    #[inline]
    fn measure(&self, v: &mut Viewer, vm: &mut ViewerMetrics, group: u8, seen: Seen) {
        let s = &mut *v.state;
        s.night += u32::from(seen.at_night);
        s.boosted += u32::from(seen.in_target);
        s.boosted_trusted += u32::from(seen.in_target && seen.trusted);
        s.groups_seen |= 1u64 << group;
        *vm = if self.k <= SMALL_K {
            self.window_metrics::<SMALL_K>(v)
        } else {
            self.window_metrics::<MAX_TOPICS>(v)
        };
        vm.stance_distance = seen.stance_gap;
        vm.shown_popularity = seen.popularity;
    }

    /// Phase 7: the viewer stops at the end of its minutes (a bot's own), and the outcome
    /// the platform absorbs between steps.
    #[inline]
    fn finish(&self, id: u32, v: &mut Viewer, item: ItemIdx, response: &Response, seen: Seen) -> Outcome {
        let end = match self.policies.bots.and_then(|b| b.plan(id)) {
            Some(plan) => plan.end_seconds,
            None => self.end_seconds,
        };
        if v.state.clock >= end {
            v.state.active = false;
        }
        Outcome {
            item,
            milli: (response.fraction * 1000.0).round() as u32,
            liked: response.liked,
            shared: seen.shared,
            followed: response.followed,
            skipped: response.skipped,
        }
    }

    /// The metrics of the viewer's window after its latest impression. `N` ≥ K is the length
    /// of the per-topic buffers on the stack: small when K is, as zeroing 256 entries twice
    /// would cost more than the counting.
    #[inline]
    fn window_metrics<const N: usize>(&self, v: &mut Viewer) -> ViewerMetrics {
        let k = self.k;
        let shown = v.state.impressions as usize;
        let n = shown.min(self.window);
        let mut topic_counts = [0u32; N];
        for part in last(v.topics, shown, self.window) {
            for &t in part {
                topic_counts[t as usize] += 1;
            }
        }
        let topic_counts = &topic_counts[..k];
        let top = metrics::top_topic_share(topic_counts, n as u32);
        let in_hole = n == self.window && top >= self.scenario.metrics.rabbit_hole_threshold;
        if in_hole && v.state.minutes_to_hole.is_nan() {
            v.state.minutes_to_hole = v.state.clock / 60.0;
        }
        let mut believed = [0f32; N];
        profile::estimated_interests(v.estimate, &mut believed[..k]);
        ViewerMetrics {
            feed_entropy: self.entropy.entropy(topic_counts, n as u32) as f32,
            top_topic_share: top as f32,
            in_rabbit_hole: in_hole,
            interest_drift: metrics::total_variation(v.interests, v.initial) as f32,
            profile_error: metrics::total_variation(&believed[..k], v.interests) as f32,
            window_sensitive: self
                .policies
                .protections
                .map_or(0.0, |y| y.sensitive_share(topic_counts, n as u32)),
            stance_distance: f32::NAN,
            shown_popularity: 0,
        }
    }
}

/// The last `count` entries of a ring buffer into which `written` entries have been written in
/// order (entry j at j mod length), as at most two contiguous slices.
#[inline]
pub(super) fn last<T>(ring: &[T], written: usize, count: usize) -> [&[T]; 2] {
    let len = ring.len();
    let count = count.min(written).min(len);
    let end = written % len;
    if count <= end {
        [&ring[end - count..end], &[]]
    } else {
        [&ring[..end], &ring[len - (count - end)..]]
    }
}

#[cfg(test)]
mod tests {
    use super::last;

    #[test]
    fn last_entries_of_a_ring() {
        let ring = [10, 11, 12, 13];
        let check = |written, count, a: &[i32], b: &[i32]| {
            assert_eq!(
                last(&ring, written, count),
                [a, b],
                "written {written}, count {count}"
            );
        };
        // Three written: 10, 11, 12 at positions 0..3.
        check(3, 2, &[11, 12], &[]);
        check(3, 9, &[10, 11, 12], &[]);
        // Six written: positions 0, 1 hold entries 4 and 5; 2, 3 hold entries 2 and 3.
        check(6, 3, &[10, 11], &[13]);
        check(6, 4, &[10, 11], &[12, 13]);
        check(8, 2, &[], &[12, 13]);
        check(6, 0, &[], &[]);
    }
}
