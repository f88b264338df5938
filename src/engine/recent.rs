//! The impressions of the last R steps (`metrics.recent_steps`), for `coverage_recent` and
//! `exposure_gini_recent`: each item's count over the window, kept as an [`Exposure`] that
//! gains the step's impressions and gives back those of the step that leaves the window.
//!
//! The window's items are a ring of R steps, each at most one impression per viewer, in one
//! array allocated with the arm: a step neither allocates nor looks at the whole catalog.

use super::exposure::Exposure;
#[cfg(test)]
use super::platform::{NONE, Outcome};

/// The impression counts of the last R steps.
#[derive(Debug, Clone)]
pub(super) struct Recent {
    /// R slots of `viewers` entries: slot s holds the items shown at a step, its first
    /// `lens[s]` entries used.
    ring: Vec<u32>,
    lens: Vec<u32>,
    viewers: usize,
    /// The current step's slot; the next step takes the slot after it, the oldest step's.
    next: usize,
    /// Each item's impressions in the window.
    counts: Vec<u32>,
    exposure: Exposure,
}

impl Recent {
    /// An empty window of `steps` ≥ 1 steps of `viewers` viewers over `items` items.
    pub fn new(steps: usize, viewers: usize, items: usize) -> Recent {
        assert!(steps >= 1, "a window of at least one step");
        Recent {
            ring: vec![0; steps * viewers],
            lens: vec![0; steps],
            viewers,
            next: 0,
            counts: vec![0; items],
            exposure: Exposure::new(),
        }
    }

    /// The step's impressions enter the window and the oldest step's leave it.
    #[cfg(test)]
    pub fn push(&mut self, outcomes: &[Outcome]) {
        debug_assert_eq!(outcomes.len(), self.viewers);
        self.start_step();
        for o in outcomes.iter().filter(|o| o.item != NONE) {
            self.add(o.item);
        }
    }

    /// A step begins: the oldest step's impressions leave the window, and the step's enter
    /// it by [`Recent::add`] (the platform's update does both in its one pass over outcomes).
    pub fn start_step(&mut self) {
        self.next = (self.next + 1) % self.lens.len();
        let start = self.next * self.viewers;
        for &item in &self.ring[start..start + self.lens[self.next] as usize] {
            let count = &mut self.counts[item as usize];
            self.exposure.remove(*count);
            *count -= 1;
        }
        self.lens[self.next] = 0;
    }

    /// An impression of `item` at the current step.
    #[inline]
    pub fn add(&mut self, item: u32) {
        let count = &mut self.counts[item as usize];
        self.exposure.add(*count);
        *count += 1;
        let len = &mut self.lens[self.next];
        self.ring[self.next * self.viewers + *len as usize] = item;
        *len += 1;
    }

    /// Items shown at least once in the window.
    pub fn shown_items(&self) -> u64 {
        self.exposure.shown_items()
    }

    /// Gini coefficient of the window's impressions over `n_visible` items.
    pub fn gini(&mut self, n_visible: usize) -> f64 {
        self.exposure.gini(n_visible)
    }

    /// The window without its storage: a placeholder for a state that is never stepped
    /// (the warmed state, whose window is empty and every arm brings its own).
    pub fn emptied(self) -> Recent {
        Recent {
            ring: Vec::new(),
            lens: Vec::new(),
            viewers: self.viewers,
            next: 0,
            counts: Vec::new(),
            exposure: Exposure::new(),
        }
    }

    /// Empties the window (measurement starts after the warm-up).
    pub fn clear(&mut self) {
        self.lens.fill(0);
        self.counts.fill(0);
        self.next = 0;
        self.exposure = Exposure::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(items: &[u32]) -> Vec<Outcome> {
        items
            .iter()
            .map(|&item| Outcome {
                item,
                ..Outcome::NOTHING
            })
            .collect()
    }

    #[test]
    fn a_window_of_two_steps() {
        // Three viewers, four items, a window of two steps.
        let mut recent = Recent::new(2, 3, 4);
        recent.push(&shown(&[0, 0, 1]));
        // Counts (2, 1, 0, 0): 2 of 4 items; Gini (−3·0 − 0 + 1·1 + 3·2) / (4 · 3) = 7/12.
        assert_eq!(recent.shown_items(), 2);
        assert_eq!(recent.gini(4), 7.0 / 12.0);
        recent.push(&shown(&[2, NONE, 0]));
        // Both steps: counts (3, 1, 1, 0); sorted (0, 1, 1, 3): (0 − 1 + 1 + 9) / (4 · 5) = 9/20.
        assert_eq!(recent.shown_items(), 3);
        assert_eq!(recent.gini(4), 9.0 / 20.0);
        recent.push(&shown(&[NONE, NONE, 3]));
        // The first step left: counts (1, 0, 1, 1), sorted (0, 1, 1, 1): (0 − 1 + 1 + 3) / 12.
        assert_eq!(recent.shown_items(), 3);
        assert_eq!(recent.gini(4), 3.0 / 12.0);
        recent.push(&shown(&[NONE, NONE, NONE]));
        // Only item 3, once: (3 · 1) / (4 · 1).
        assert_eq!((recent.shown_items(), recent.gini(4)), (1, 0.75));
        recent.clear();
        assert_eq!((recent.shown_items(), recent.gini(4)), (0, 0.0));
        recent.push(&shown(&[1, 1, 1]));
        assert_eq!((recent.shown_items(), recent.gini(4)), (1, 0.75));
    }
}
