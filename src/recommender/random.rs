//! `random`: a uniformly random visible item; reads no profile. The control arm.

use super::{Policy, Scratch, Shared, Source, Trace, ViewerView, begin, random_visible};
use crate::catalog::ItemIdx;
use crate::rng::Rng;

/// Uniformly random recommendations.
#[derive(Debug, Clone, Copy)]
pub struct Random;

impl Policy for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn part_names(&self) -> &'static [&'static str] {
        &[]
    }

    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        _scratch: &mut Scratch,
        mut trace: Option<&mut Trace>,
    ) -> (ItemIdx, Source) {
        begin(&mut trace, self);
        (random_visible(shared, viewer, rng), Source::Explore)
    }
}
