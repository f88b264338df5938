//! Recommender policies: candidate retrieval, then ranking, from behaviour only.
//!
//! A policy never sees a viewer's latent interests. It sees the platform's [`Shared`] state
//! (the catalog, global item statistics, the trending list) and the viewer's [`ViewerView`]
//! (the learned profile, recent impressions, follows). Every platform learns the same profile
//! ([`profile`]) whatever its policy, so `profile_error` is comparable across arms; a policy
//! chooses whether to read it. Adding a policy is one file with a type that implements
//! [`Policy`], one variant in `scenario::PolicyConfig` and one line in [`build`].

pub mod engagement;
pub mod profile;
pub mod random;
pub mod retrieval;

use crate::catalog::{Catalog, ItemIdx};
use crate::rng::Rng;
use crate::scenario::{FeedConfig, PolicyConfig, RecommenderConfig};
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
    /// Smoothed completion rate of every item (see `profile::completion`).
    pub completion: &'a [f32],
    /// Mean completion rate over all impressions so far.
    pub mean_completion: f32,
    /// The current trending list, most trending first.
    pub trending: &'a [ItemIdx],
    /// `[recommender]` settings.
    pub config: &'a RecommenderConfig,
    /// `[feed]` settings.
    pub feed: &'a FeedConfig,
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
    /// Followed creators.
    pub follows: &'a [u32],
}

impl ViewerView<'_> {
    /// True if the item was shown within the feed window.
    #[inline]
    pub fn seen_recently(&self, item: ItemIdx) -> bool {
        self.recent[0].contains(&item) || self.recent[1].contains(&item)
    }
}

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One of the viewer's strongest estimated topics.
    Topic,
    /// The trending list.
    Trending,
    /// Uniformly from the catalog.
    Explore,
}

/// Buffers a policy reuses across steps, one per thread: the hot loop allocates nothing.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Candidate items and their sources.
    pub candidates: Vec<(ItemIdx, Source)>,
    /// Topic indices, for choosing the strongest topics.
    pub topics: Vec<(f32, u16)>,
}

/// A ranking policy.
pub trait Policy: Send + Sync {
    /// The item to show `viewer` now.
    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> ItemIdx;
}

/// The policy an arm's configuration describes.
pub fn build(config: &PolicyConfig) -> Box<dyn Policy> {
    match config {
        PolicyConfig::Engagement(c) => Box::new(engagement::Engagement::new(c)),
        PolicyConfig::Random(_) => Box::new(random::Random),
    }
}

/// A uniformly random visible item, avoiding the feed window where a few tries allow.
pub fn random_visible(shared: &Shared, viewer: &ViewerView, rng: &mut Rng) -> ItemIdx {
    let mut item = 0;
    for _ in 0..4 {
        item = rng.random_range(0..shared.n_visible) as ItemIdx;
        if !viewer.seen_recently(item) {
            break;
        }
    }
    item
}
