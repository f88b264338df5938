//! A platform at one step, for the recommender's tests: what [`Shared`] borrows, owned in one
//! place, so that a test states only what it varies.

use super::kernel::TopicBlocks;
use super::{Ranked, Shared};
use crate::catalog::{Catalog, ItemIdx};
use crate::scenario::Scenario;

/// The platform's state at `step`: no trend, impressions or trending list unless a test sets
/// them, and the kernel's blocks when it asks for them.
pub(crate) struct Platform {
    pub scenario: Scenario,
    pub catalog: Catalog,
    pub step: u32,
    pub topic_visible: Vec<u32>,
    pub ranked: Vec<Ranked>,
    pub trend: Vec<f32>,
    pub impressions: Vec<u32>,
    pub trending: Vec<ItemIdx>,
    pub blocks: Option<TopicBlocks>,
}

impl Platform {
    /// `catalog` at `step`, with completion rates `completion` (one per item) and mean `mean`.
    pub fn new(
        scenario: Scenario,
        catalog: Catalog,
        step: u32,
        completion: &[f32],
        mean: f32,
        kernel: bool,
    ) -> Platform {
        let topic_visible: Vec<u32> = (0..catalog.n_topics())
            .map(|t| catalog.visible_in_topic(t, step) as u32)
            .collect();
        let ranked = Ranked::all(&catalog, completion, mean);
        let blocks = kernel.then(|| {
            let mut blocks = TopicBlocks::new(&catalog);
            blocks.rebuild(&catalog, &topic_visible, &ranked);
            blocks
        });
        Platform {
            trend: vec![0.0; catalog.items.len()],
            impressions: vec![0; catalog.items.len()],
            scenario,
            catalog,
            step,
            topic_visible,
            ranked,
            trending: Vec::new(),
            blocks,
        }
    }

    /// Items visible at the step.
    pub fn n_visible(&self) -> usize {
        self.catalog.visible(self.step)
    }

    /// What a policy sees of it.
    pub fn shared(&self) -> Shared<'_> {
        Shared {
            catalog: &self.catalog,
            step: self.step,
            n_visible: self.n_visible(),
            topic_visible: &self.topic_visible,
            ranked: &self.ranked,
            trend: &self.trend,
            impressions: &self.impressions,
            trending: &self.trending,
            config: &self.scenario.recommender,
            feed: &self.scenario.feed,
            blocks: self.blocks.as_ref(),
            factors: None,
        }
    }
}
