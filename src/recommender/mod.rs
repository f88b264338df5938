//! Recommender policies: candidate retrieval, then ranking, from behaviour only.
//!
//! A policy never sees a viewer's latent interests. It sees the platform's [`Shared`] state
//! (the catalog, global item statistics, the trending list) and the viewer's [`ViewerView`]
//! (the learned profile, recent impressions, follows). Every platform learns the same profile
//! ([`profile`]) whatever its policy, so `profile_error` is comparable across arms; a policy
//! chooses whether to read it. Adding a policy is one file with a type that implements
//! [`Policy`], one variant in `scenario::PolicyConfig` and one line in [`build`].
//!
//! Every score is a sum of named parts ([`Scored`]), so `explain` can disclose what lies
//! behind a recommendation (DSA Art. 27) and the parts always add up to the score.

pub mod blend;
pub mod calibrated;
pub mod chronological;
pub mod collaborative;
pub mod diversified;
pub mod engagement;
pub mod factors;
#[cfg(test)]
pub(crate) mod fixture;
pub mod kernel;
pub mod oracle;
pub mod popularity;
pub mod profile;
pub mod random;
pub mod retrieval;

use crate::boost::BoostView;
use crate::catalog::{Catalog, Item, ItemIdx};
use crate::rng::Rng;
use crate::scenario::{FeedConfig, PolicyConfig, RecommenderConfig};
use crate::viewer::ViewerParams;
use rand::RngExt;

/// What the platform knows, the same for every viewer during one step.
pub struct Shared<'a> {
    /// The replicate's catalog.
    pub catalog: &'a Catalog,
    /// Current step.
    pub step: u32,
    /// Items visible at this step (a prefix of the catalog).
    pub n_visible: usize,
    /// Items of each topic visible at this step (a prefix of each topic's list).
    pub topic_visible: &'a [u32],
    /// What ranking reads of every item, with its completion ratio at this step.
    pub ranked: &'a [Ranked],
    /// Decayed engaged views of every item (the trending counter).
    pub trend: &'a [f32],
    /// Impressions of every item so far.
    pub impressions: &'a [u32],
    /// The current trending list, most trending first.
    pub trending: &'a [ItemIdx],
    /// `[recommender]` settings.
    pub config: &'a RecommenderConfig,
    /// `[feed]` settings.
    pub feed: &'a FeedConfig,
    /// With exhaustive retrieval, the visible items laid out for [`kernel`] (None otherwise).
    pub blocks: Option<&'a kernel::TopicBlocks>,
    /// The factors learned from everyone's behaviour, in an arm with a `collaborative` policy
    /// (None otherwise).
    pub factors: Option<&'a factors::Factors>,
}

/// What the platform knows about one viewer.
pub struct ViewerView<'a> {
    /// Learned estimate of the viewer's watch signal per topic.
    pub profile: &'a [f32],
    /// Observations per topic behind the estimate.
    pub counts: &'a [f32],
    /// Items the policy must not show again (the last `feed.no_repeat` impressions), in two
    /// parts, in no particular order.
    pub recent: [&'a [ItemIdx]; 2],
    /// Topics of the last W impressions (the feed window), in two parts.
    pub window_topics: [&'a [u16]; 2],
    /// Followed creators.
    pub follows: &'a [u32],
    /// A filter over `follows` that lets [`ViewerView::follows`] skip the scan for most
    /// creators ([`FollowFilter::ALL`] never skips, and is always correct).
    pub follow_filter: FollowFilter,
    /// The arm's boosts, as they stand for this viewer now.
    pub boosts: BoostView<'a>,
    /// The items protections let the policy show this viewer now.
    pub allow: Allow<'a>,
    /// The platform's learned stance of the viewer, x̂_u (`crate::agreement::observe`; 0, a
    /// neutral stance, until learned).
    pub stance: f32,
    /// The weight β_u of the learned stance in this viewer's ranking
    /// (`crate::agreement::ranking_weight`); 0 when the ranking does not use it.
    pub agreement: f32,
    /// The viewer's learned factors, in an arm that learns them (empty otherwise).
    pub factors: FactorView<'a>,
    /// The viewer's latent state: given only to a policy that [`Policy::reads_latent`] (the
    /// `oracle` benchmark), None for every platform.
    pub latent: Option<Latent<'a>>,
}

/// A test of a viewer's followed creators that rarely needs a scan of the follow slots, and
/// never a branch that depends on the creator when the viewer follows at most [`LANES`]:
///
/// - [`FollowFilter::Lanes`]: the follows padded to [`LANES`] by repeating the first, compared
///   with a creator all at once (vector instructions): exact.
/// - [`FollowFilter::Bits`]: a 256-bit filter, bit h(c) set for each followed creator c. A clear
///   bit proves that a creator is not followed; a set bit says only "maybe", and the follow
///   slots are scanned. With 16 follows about 6 % of other creators pass.
///
/// The ranking's trust test (one per candidate, `engagement::predicted_fraction`) had a branch
/// on the filter's bit that the processor mispredicted for a tenth of the candidates; with
/// lanes it has none. Its answer is the scan's, always.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowFilter {
    Lanes([u32; LANES]),
    Bits([u64; 4]),
}

/// Follows up to this many are compared at once ([`FollowFilter::Lanes`]); the default
/// `viewer.max_follows` is 16.
pub const LANES: usize = 16;

impl FollowFilter {
    /// The filter that passes every creator (the scan decides alone).
    pub const ALL: FollowFilter = FollowFilter::Bits([u64::MAX; 4]);

    /// The test of `follows`: lanes for 1 to [`LANES`] follows, bits otherwise (no follows:
    /// no bit set, no creator passes).
    #[inline]
    pub fn of(follows: &[u32]) -> FollowFilter {
        if let Some(&first) = follows.first()
            && follows.len() <= LANES
        {
            let mut lanes = [first; LANES];
            lanes[..follows.len()].copy_from_slice(follows);
            return FollowFilter::Lanes(lanes);
        }
        let mut bits = [0u64; 4];
        for &c in follows {
            let h = Self::hash(c);
            bits[h >> 6] |= 1 << (h & 63);
        }
        FollowFilter::Bits(bits)
    }

    /// Bit of creator `c`: the top 8 bits of a multiplicative (Fibonacci) hash, so that
    /// neighbouring creator ids spread over the filter.
    #[inline(always)]
    fn hash(c: u32) -> usize {
        (c.wrapping_mul(0x9E37_79B9) >> 24) as usize
    }

    /// False only if `creator` is certainly not followed (with lanes, exactly whether it is).
    #[inline(always)]
    pub fn may_contain(&self, creator: u32) -> bool {
        match self {
            FollowFilter::Lanes(lanes) => any_lane(lanes, creator),
            FollowFilter::Bits(bits) => {
                let h = Self::hash(creator);
                bits[h >> 6] >> (h & 63) & 1 != 0
            }
        }
    }

    /// True if [`FollowFilter::may_contain`] is the answer, with no scan needed.
    #[inline(always)]
    pub fn is_exact(&self) -> bool {
        matches!(self, FollowFilter::Lanes(_))
    }
}

/// Whether any lane holds `creator`: every lane compared, with no branch (the compiler
/// vectorises the fixed-length fold).
#[inline(always)]
fn any_lane(lanes: &[u32; LANES], creator: u32) -> bool {
    lanes.iter().fold(0u32, |any, &c| any | u32::from(c == creator)) != 0
}

/// A viewer's factors p_u and bias b_u in the collaborative model (`factors`).
#[derive(Debug, Clone, Copy)]
pub struct FactorView<'a> {
    pub vector: &'a [f32],
    pub bias: f32,
}

impl FactorView<'_> {
    /// No factors: the arm learns none.
    pub const NONE: FactorView<'static> = FactorView {
        vector: &[],
        bias: 0.0,
    };
}

/// What the viewer model holds of a viewer and no platform can observe: read only by the
/// `oracle` benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Latent<'a> {
    /// The viewer model's parameters.
    pub params: &'a ViewerParams,
    /// θ_u, the latent topic interests.
    pub interests: &'a [f32],
    /// Satiation per topic.
    pub satiation: &'a [f32],
    /// t_u, the latent taste (empty when taste is off).
    pub taste: &'a [f32],
    /// x_u, the viewer's stance.
    pub stance: f32,
    /// Lingers on sensitive items (§8c).
    pub vulnerable: bool,
}

/// Which items protections (`[arms.protections]`) let a policy show one viewer now: an item
/// is allowed when it has none of the `forbid` flags and all of the `require` flags.
#[derive(Debug, Clone, Copy)]
pub struct Allow<'a> {
    /// The catalog's items (empty for [`Allow::ANY`]).
    pub items: &'a [Item],
    pub forbid: u8,
    pub require: u8,
}

impl Allow<'_> {
    /// Every item.
    pub const ANY: Allow<'static> = Allow {
        items: &[],
        forbid: 0,
        require: 0,
    };

    /// True if every item may be shown.
    #[inline]
    pub fn is_any(&self) -> bool {
        self.forbid | self.require == 0
    }

    /// True if `item` may be shown.
    #[inline]
    pub fn allows(&self, item: ItemIdx) -> bool {
        if self.is_any() {
            return true;
        }
        let flags = self.items[item as usize].flags;
        flags & self.forbid == 0 && flags & self.require == self.require
    }
}

impl ViewerView<'_> {
    /// True if the item was shown within the no-repeat window.
    #[inline]
    pub fn seen_recently(&self, item: ItemIdx) -> bool {
        self.recent[0].contains(&item) || self.recent[1].contains(&item)
    }

    /// True if the viewer follows `creator`.
    #[inline(always)]
    pub fn follows(&self, creator: u32) -> bool {
        let f = &self.follow_filter;
        f.may_contain(creator) && (f.is_exact() || self.follows.contains(&creator))
    }

    /// Counts the topics of the feed window into `counts` (K long); returns the window length.
    pub fn window_counts(&self, counts: &mut [u32]) -> u32 {
        counts.fill(0);
        let mut n = 0;
        for part in self.window_topics {
            for &t in part {
                counts[t as usize] += 1;
                n += 1;
            }
        }
        n
    }
}

/// Asks the cache for the line holding a retrieved candidate's record ahead of its scoring.
pub(crate) use crate::cache::prefetch;

/// What ranking by predicted watch time reads of an item, packed in 16 bytes so that scoring a
/// candidate reads one small record (the catalog's [`Item`] is 24 bytes): creator and topic in
/// one word, duration, the completion ratio c_i / c̄, which the engine rewrites between steps
/// (one division per item and step instead of one per candidate), and the stance the learned
/// stance's factor reads (§8), so that factor does not read the catalog's record too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// Creator index × 256 + topic index (at most 10⁷ creators and 256 topics).
    creator_topic: u32,
    /// Duration in seconds.
    pub duration: f32,
    /// Completion ratio: the smoothed completion rate over the mean completion rate
    /// (`profile::completion`, at least 10⁻³).
    pub ratio: f32,
    /// The item's stance if it is stance-bearing, NaN if it takes no side.
    pub stance: f32,
}

impl Ranked {
    /// The record of `item` with completion rate `completion` when the mean is `mean`.
    pub fn new(item: &Item, completion: f32, mean: f32) -> Ranked {
        debug_assert!(item.creator < 1 << 24 && item.topic < 256);
        Ranked {
            creator_topic: item.creator << 8 | u32::from(item.topic),
            duration: item.duration,
            ratio: Ranked::ratio(completion, mean),
            stance: if item.stance_bearing() {
                item.stance
            } else {
                f32::NAN
            },
        }
    }

    /// The completion ratio of an item with completion rate `completion` when the mean
    /// completion rate is `mean`.
    #[inline]
    pub fn ratio(completion: f32, mean: f32) -> f32 {
        completion / mean.max(1e-3)
    }

    /// The records of every item of `catalog`, with the given completion rates and mean.
    pub fn all(catalog: &Catalog, completion: &[f32], mean: f32) -> Vec<Ranked> {
        catalog
            .items
            .iter()
            .zip(completion)
            .map(|(item, &c)| Ranked::new(item, c, mean))
            .collect()
    }

    /// Creator index.
    #[inline(always)]
    pub fn creator(&self) -> u32 {
        self.creator_topic >> 8
    }

    /// Topic index.
    #[inline(always)]
    pub fn topic(&self) -> usize {
        (self.creator_topic & 0xff) as usize
    }
}

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One of the viewer's strongest estimated topics.
    Topic,
    /// The trending list.
    Trending,
    /// Uniformly from the catalog (retrieval's exploration).
    Explore,
    /// The newest uploads.
    Fresh,
    /// A followed creator.
    Following,
    /// An exploration impression: a uniformly random item instead of the ranking.
    Exploration,
    /// A slot a `slots` boost filled with a target item.
    Boost,
    /// Exhaustive retrieval: every visible item is a candidate.
    Catalog,
    /// An allowed item in place of one the arm's protections refused.
    Protection,
    /// A cell of the factor index near the viewer's factors (`collaborative`).
    Nearest,
}

impl Source {
    /// Every source, in declaration order.
    pub const ALL: [Source; 10] = [
        Source::Topic,
        Source::Trending,
        Source::Explore,
        Source::Fresh,
        Source::Following,
        Source::Exploration,
        Source::Boost,
        Source::Catalog,
        Source::Protection,
        Source::Nearest,
    ];

    /// The name in `explain` output.
    pub fn name(self) -> &'static str {
        match self {
            Source::Topic => "topic",
            Source::Trending => "trending",
            Source::Explore => "explore",
            Source::Fresh => "fresh",
            Source::Following => "following",
            Source::Exploration => "exploration",
            Source::Boost => "boost",
            Source::Catalog => "catalog",
            Source::Protection => "protection",
            Source::Nearest => "nearest",
        }
    }
}

/// Most named parts a score has.
pub const MAX_PARTS: usize = 4;

/// Most factors behind a base score that `explain` shows.
pub const MAX_FACTORS: usize = 6;

/// The factors of a policy whose base score has none.
pub fn no_factors(_item: ItemIdx) -> [f32; MAX_FACTORS] {
    [0.0; MAX_FACTORS]
}

/// A ranked candidate: its score is the sum of its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub item: ItemIdx,
    pub source: Source,
    /// The score before any re-ranking (for `engagement` and its re-rankers, the predicted
    /// watch seconds); equal to `score` for policies that do not re-rank.
    pub base: f32,
    /// The parts of the score, named by the policy's [`Policy::part_names`].
    pub parts: [f32; MAX_PARTS],
    /// The final score: the sum of the parts.
    pub score: f32,
    /// Shown within the no-repeat window, so not eligible.
    pub seen: bool,
    /// What disclosed boosts added to the score (the score includes it).
    pub boost: f32,
    /// What hidden boosts added to the score (the score includes it; `explain` does not show it).
    pub hidden_boost: f32,
    /// What the base score is made of, named by the policy's [`Policy::factor_names`].
    pub factors: [f32; MAX_FACTORS],
}

/// What a policy did for one impression, recorded for one viewer by `explain`.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Every candidate ranked, in retrieval order.
    pub candidates: Vec<Scored>,
    /// Names of the score's parts.
    pub part_names: &'static [&'static str],
    /// Names of the base score's factors.
    pub factor_names: &'static [&'static str],
    /// The policy that ranked (for a blend, the component drawn).
    pub policy: &'static str,
    /// The impression was an exploration draw, not the ranking's choice.
    pub explored: bool,
}

/// Buffers a policy reuses across steps, one per thread: the hot loop allocates nothing.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Candidate items and their sources.
    pub candidates: Vec<(ItemIdx, Source)>,
    /// A value per candidate (for re-rankers: the base score).
    pub scores: Vec<f32>,
    /// Topic indices, for choosing the strongest topics.
    pub topics: Vec<(f32, u16)>,
    /// A count per topic.
    pub topic_counts: Vec<u32>,
    /// A value per topic.
    pub topic_values: Vec<f32>,
    /// The exhaustive ranking kernel's buffers.
    pub kernel: kernel::KernelScratch,
}

/// A ranking policy.
pub trait Policy: Send + Sync {
    /// The policy's `kind`.
    fn name(&self) -> &'static str;

    /// Names of the parts its scores are made of.
    fn part_names(&self) -> &'static [&'static str];

    /// Names of the factors behind its base score, for `explain`.
    fn factor_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// True for a policy that reads the viewer's latent state (the `oracle` benchmark): the
    /// engine gives [`ViewerView::latent`] to it and to no other.
    fn reads_latent(&self) -> bool {
        false
    }

    /// The item to show `viewer` now, with its source. When `trace` is given, every ranked
    /// candidate is recorded in it.
    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        scratch: &mut Scratch,
        trace: Option<&mut Trace>,
    ) -> (ItemIdx, Source);
}

/// The policy an arm's configuration describes.
pub fn build(config: &PolicyConfig) -> Box<dyn Policy> {
    match config {
        PolicyConfig::Engagement(c) => Box::new(engagement::Engagement::new(c)),
        PolicyConfig::Random(_) => Box::new(random::Random),
        PolicyConfig::Chronological(c) => Box::new(chronological::Chronological::new(c)),
        PolicyConfig::Popularity(c) => Box::new(popularity::Popularity::new(c)),
        PolicyConfig::Diversified(c) => Box::new(diversified::Diversified::new(c)),
        PolicyConfig::Calibrated(c) => Box::new(calibrated::Calibrated::new(c)),
        PolicyConfig::Blend(c) => Box::new(blend::Blend::new(c)),
        PolicyConfig::Collaborative(c) => Box::new(collaborative::Collaborative::new(c)),
        PolicyConfig::Oracle(c) => Box::new(oracle::Oracle::new(c)),
    }
}

/// A uniformly random visible item, avoiding the no-repeat window where a few tries allow.
pub fn random_visible(shared: &Shared, viewer: &ViewerView, rng: &mut Rng) -> ItemIdx {
    let mut item = 0;
    for _ in 0..4 {
        item = rng.random_range(0..shared.n_visible as u32);
        if !viewer.seen_recently(item) {
            break;
        }
    }
    item
}

/// The hot path's choice (no trace, boosts or protections), the same as [`pick_best`]'s over
/// the same candidates and scores: scores every candidate into `scores`, noting the first
/// highest as it goes without a branch on the scores (so that the candidates' records are read
/// in parallel), and takes it unless its item was seen recently; then `pick_best` over those
/// scores. NaN is never higher, as `f32::max` folds scores.
#[inline(always)]
pub fn pick_first_best(
    candidates: &[(ItemIdx, Source)],
    scores: &mut Vec<f32>,
    viewer: &ViewerView,
    mut score: impl FnMut(ItemIdx) -> f32,
) -> Option<(ItemIdx, Source)> {
    scores.clear();
    let (mut max, mut first) = (f32::NEG_INFINITY, usize::MAX);
    scores.extend(candidates.iter().enumerate().map(|(c, &(item, _))| {
        let s = score(item);
        let higher = s > max;
        max = if higher { s } else { max };
        first = if higher { c } else { first };
        s
    }));
    let first = match first {
        // No score above −∞ (none, or all −∞ or NaN): the first equal to −∞.
        usize::MAX => scores.iter().position(|&s| s == max),
        c => Some(c),
    };
    match first {
        Some(c) if !viewer.seen_recently(candidates[c].0) => Some(candidates[c]),
        _ => pick_best(candidates, viewer, None, no_factors, |c, _| {
            let s = scores[c];
            (s, [s, 0.0, 0.0, 0.0], s)
        }),
    }
}

/// Picks the highest-scoring candidate not seen recently; ties go to the earlier candidate.
/// `score` gives each candidate's base, parts and final score. Every candidate is recorded in
/// `trace` when given, with the `factors` of its base score. None if every candidate was seen
/// recently.
#[inline]
pub fn pick_best(
    candidates: &[(ItemIdx, Source)],
    viewer: &ViewerView,
    mut trace: Option<&mut Trace>,
    factors: impl Fn(ItemIdx) -> [f32; MAX_FACTORS],
    mut score: impl FnMut(usize, ItemIdx) -> (f32, [f32; MAX_PARTS], f32),
) -> Option<(ItemIdx, Source)> {
    let mut best = None;
    let mut best_score = f32::NEG_INFINITY;
    let boosted = !viewer.boosts.boosts.is_empty();
    for (c, &(item, source)) in candidates.iter().enumerate() {
        let (base, parts, mut total) = score(c, item);
        let (boost, hidden_boost) = if boosted {
            viewer.boosts.deltas(item, viewer.follows, total)
        } else {
            (0.0, 0.0)
        };
        total += boost + hidden_boost;
        if let Some(t) = trace.as_deref_mut() {
            t.candidates.push(Scored {
                item,
                source,
                base,
                parts,
                score: total,
                seen: viewer.seen_recently(item),
                factors: factors(item),
                boost,
                hidden_boost,
            });
        }
        if total > best_score && !viewer.seen_recently(item) && viewer.allow.allows(item) {
            best = Some((item, source));
            best_score = total;
        }
    }
    best
}

/// Starts a trace for `policy`, if one is kept.
#[inline]
pub fn begin(trace: &mut Option<&mut Trace>, policy: &dyn Policy) {
    if let Some(t) = trace.as_deref_mut() {
        t.candidates.clear();
        t.part_names = policy.part_names();
        t.factor_names = policy.factor_names();
        t.policy = policy.name();
        t.explored = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};
    use crate::scenario::{ChronologicalConfig, PopularityConfig, Scenario};
    use proptest::prelude::*;

    /// The record's stance is the item's where the item takes a side and NaN where it does
    /// not, so the learned stance's factor read from it is the catalog item's to the bit.
    #[test]
    fn the_ranked_stance_gives_the_items_agreement_factor() {
        let mut item = Item {
            creator: 3,
            topic: 2,
            group: 0,
            flags: crate::catalog::STANCE_BEARING,
            quality: 0.5,
            duration: 20.0,
            stance: -0.4,
            upload_step: 0,
        };
        let factor = |r: &Ranked| {
            if r.stance.is_nan() {
                1.0
            } else {
                crate::agreement::ranking_factor(2.0, 0.1, r.stance)
            }
        };
        let r = Ranked::new(&item, 0.3, 0.3);
        assert_eq!(r.stance, -0.4);
        assert_eq!(factor(&r), (-1.0f32).exp());
        assert_eq!(factor(&r), crate::agreement::item_factor(2.0, 0.1, &item));
        item.flags = 0;
        let r = Ranked::new(&item, 0.3, 0.3);
        assert!(r.stance.is_nan());
        assert_eq!(factor(&r), crate::agreement::item_factor(2.0, 0.1, &item));
    }

    #[test]
    fn the_follow_filter_never_hides_a_followed_creator() {
        // Creators 0..4096 against the follows {3, 64, 4000, 77777, u32::MAX}: the filter
        // passes every followed creator and rejects most others.
        let follows = [3, 64, 4000, 77_777, u32::MAX];
        let f = FollowFilter::of(&follows);
        assert!(follows.iter().all(|&c| f.may_contain(c)));
        let passed = (0..4096u32).filter(|&c| f.may_contain(c)).count();
        assert!(
            passed < 4096 / 16,
            "{passed} of 4096 pass a filter of 5 bits of 256"
        );
        assert_eq!(FollowFilter::of(&[]), FollowFilter::Bits([0; 4]));
        assert!(!(0..4096u32).any(|c| FollowFilter::of(&[]).may_contain(c)));
        // Lanes up to 16 follows (the test is then exact), bits beyond.
        assert!(f.is_exact());
        assert_eq!(passed, 3, "3, 64 and 4000, exactly");
        let many: Vec<u32> = (0..17).map(|c| c * 1000).collect();
        assert!(!FollowFilter::of(&many).is_exact());
        assert!(FollowFilter::of(&many[..16]).is_exact());
        assert!((0..4096u32).all(|c| FollowFilter::ALL.may_contain(c)));
    }

    proptest! {
        #[test]
        fn the_follow_filter_agrees_with_the_scan(
            follows in proptest::collection::vec(0u32..2000, 0..20),
            creators in proptest::collection::vec(0u32..2000, 50),
        ) {
            let f = FollowFilter::of(&follows);
            for c in creators.into_iter().chain(follows.iter().copied()) {
                let answer = f.may_contain(c) && (f.is_exact() || follows.contains(&c));
                prop_assert_eq!(answer, follows.contains(&c));
            }
        }
    }

    /// The candidates a policy ranked and their scores, for `viewer` at one moment.
    fn ranking(policy: &dyn Policy, shared: &Shared, viewer: &ViewerView) -> Vec<(ItemIdx, u32)> {
        let mut trace = Trace::default();
        let mut rng = stream(1, 0, 0, Purpose::Recommend, 0);
        policy.recommend(
            shared,
            viewer,
            &mut rng,
            &mut Scratch::default(),
            Some(&mut trace),
        );
        trace
            .candidates
            .iter()
            .map(|c| (c.item, c.score.to_bits()))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Nothing in `chronological` or `popularity` reads a profile or a history: two viewers
        /// with different profiles and recent impressions (and the same follows) get the same
        /// ranking at the same moment.
        #[test]
        fn non_profiling_policies_rank_everyone_alike(
            step in 1u32..50,
            trend in proptest::collection::vec(0.0f32..100.0, 600),
            profile_a in proptest::collection::vec(0.0f32..1.5, 9),
            profile_b in proptest::collection::vec(0.0f32..1.5, 9),
            recent_a in proptest::collection::vec(0u32..600, 0..20),
            recent_b in proptest::collection::vec(0u32..600, 0..20),
            follows in proptest::collection::vec(0u32..50, 0..5),
        ) {
            let mut scenario = Scenario::default();
            scenario.catalog.items = 500;
            scenario.catalog.creators = 50;
            scenario.feed.max_steps = 50;
            let catalog = Catalog::generate(&scenario, 0);
            let completion = vec![0.3f32; catalog.items.len()];
            let mut platform = fixture::Platform::new(scenario, catalog, step, &completion, 0.3, false);
            let n_visible = platform.n_visible();
            let mut trending: Vec<ItemIdx> = (0..n_visible as ItemIdx).collect();
            trending.sort_by(|a, b| trend[*b as usize].total_cmp(&trend[*a as usize]).then(a.cmp(b)));
            trending.truncate(200);
            platform.trending = trending;
            platform.trend = trend;
            platform.trend.resize(platform.catalog.items.len(), 0.0);
            let shared = platform.shared();
            let catalog = &platform.catalog;
            let counts = [3.0f32; 9];
            let topics_a: Vec<u16> = recent_a.iter().map(|&i| catalog.items[i as usize].topic).collect();
            let topics_b: Vec<u16> = recent_b.iter().map(|&i| catalog.items[i as usize].topic).collect();
            let a = ViewerView {
                profile: &profile_a,
                counts: &counts,
                recent: [&recent_a, &[]],
                window_topics: [&topics_a, &[]],
                follows: &follows,
                follow_filter: crate::recommender::FollowFilter::ALL,
                boosts: BoostView::NONE,
                allow: Allow::ANY,
                stance: 0.0,
                agreement: 0.0,
                factors: FactorView::NONE,
                latent: None,
            };
            let b = ViewerView {
                profile: &profile_b,
                counts: &counts,
                recent: [&recent_b, &[]],
                window_topics: [&topics_b, &[]],
                follows: &follows,
                follow_filter: crate::recommender::FollowFilter::ALL,
                boosts: BoostView::NONE,
                allow: Allow::ANY,
                stance: 0.0,
                agreement: 0.0,
                factors: FactorView::NONE,
                latent: None,
            };
            let policies: [Box<dyn Policy>; 2] = [
                Box::new(chronological::Chronological::new(&ChronologicalConfig::default())),
                build(&PolicyConfig::Popularity(PopularityConfig {
                    exploration: 0.0,
                    ..PopularityConfig::default()
                })),
            ];
            for policy in &policies {
                let ra = ranking(policy.as_ref(), &shared, &a);
                prop_assert!(!ra.is_empty());
                prop_assert_eq!(ra, ranking(policy.as_ref(), &shared, &b), "{}", policy.name());
            }
        }
    }
}
