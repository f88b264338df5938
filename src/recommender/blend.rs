//! `blend`: a viewer-chosen mix of recommenders (the options of DSA Art. 27).
//!
//! Each impression is ranked by one component, drawn with probability proportional to its
//! weight; the component then recommends as it would alone.

use super::{Policy, Scratch, Shared, Source, Trace, ViewerView, build};
use crate::catalog::ItemIdx;
use crate::rng::Rng;
use crate::scenario::BlendConfig;
use rand::RngExt;

/// A weighted mix of policies.
pub struct Blend {
    components: Vec<(f64, Box<dyn Policy>)>,
    total: f64,
}

impl Blend {
    /// From the arm's `policy` table.
    pub fn new(config: &BlendConfig) -> Blend {
        Blend {
            components: config
                .components
                .iter()
                .map(|c| (c.weight, build(&c.policy)))
                .collect(),
            total: config.components.iter().map(|c| c.weight).sum(),
        }
    }
}

impl Policy for Blend {
    fn name(&self) -> &'static str {
        "blend"
    }

    fn part_names(&self) -> &'static [&'static str] {
        &[]
    }

    fn reads_latent(&self) -> bool {
        self.components.iter().any(|(_, p)| p.reads_latent())
    }

    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        scratch: &mut Scratch,
        trace: Option<&mut Trace>,
    ) -> (ItemIdx, Source) {
        let mut u = rng.random::<f64>() * self.total;
        let mut chosen = &self.components[self.components.len() - 1].1;
        for (weight, policy) in &self.components {
            if u < *weight {
                chosen = policy;
                break;
            }
            u -= weight;
        }
        chosen.recommend(shared, viewer, rng, scratch, trace)
    }
}
