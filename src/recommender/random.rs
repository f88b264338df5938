//! `random`: a uniformly random visible item; reads no profile. The control arm.

use super::{Policy, Scratch, Shared, ViewerView, random_visible};
use crate::catalog::ItemIdx;
use crate::rng::Rng;

/// Uniformly random recommendations.
#[derive(Debug, Clone, Copy)]
pub struct Random;

impl Policy for Random {
    fn recommend(
        &self,
        shared: &Shared,
        viewer: &ViewerView,
        rng: &mut Rng,
        _scratch: &mut Scratch,
    ) -> ItemIdx {
        random_visible(shared, viewer, rng)
    }
}
