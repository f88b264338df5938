//! Which viewers a step visits, one bit per viewer in blocks of 64.
//!
//! Late in a run most viewers have stopped for good (in the issue-13 benchmark, fewer than 2 %
//! of 100,000 viewers still scroll after step 650 of about 2,500). A step that walked every
//! viewer to find the active ones spent more time passing over stopped viewers than stepping
//! the active ones; with a bit per viewer a block of 64 stopped viewers costs one test, and the
//! platform's update reads only the outcomes that can hold an impression.
//!
//! A viewer's bit is set until the step *after* the one it stopped at: that step clears the
//! outcome its last impression left (so the platform does not absorb it twice) and its bit.
//! So after a step every outcome that can hold an impression has its bit set.

use super::platform::{NONE, Outcome};

/// Viewers per block: the bits of one `u64`.
pub const BLOCK: usize = 64;

/// One bit per viewer: set while the step must visit the viewer.
#[derive(Debug, Clone)]
pub struct Live {
    masks: Vec<u64>,
}

impl Live {
    /// Every one of `viewers` viewers visited.
    pub fn all(viewers: usize) -> Live {
        let masks = (0..viewers.div_ceil(BLOCK))
            .map(|b| {
                let len = (viewers - b * BLOCK).min(BLOCK);
                if len == BLOCK { u64::MAX } else { (1u64 << len) - 1 }
            })
            .collect();
        Live { masks }
    }

    /// The blocks' masks, for the step to update its own block's.
    pub fn masks_mut(&mut self) -> &mut [u64] {
        &mut self.masks
    }

    /// Viewers the next step visits.
    pub fn count(&self) -> usize {
        self.masks.iter().map(|m| m.count_ones() as usize).sum()
    }

    /// The outcomes holding an impression, in viewer order (`outcomes` has one per viewer).
    pub fn shown<'a>(&'a self, outcomes: &'a [Outcome]) -> impl Iterator<Item = &'a Outcome> + 'a {
        self.masks
            .iter()
            .enumerate()
            .filter(|&(_, &m)| m != 0)
            .flat_map(move |(b, &m)| Bits(m).map(move |j| &outcomes[b * BLOCK + j]))
            .filter(|o| o.item != NONE)
    }
}

/// The set bits of a mask, lowest first.
#[derive(Debug, Clone, Copy)]
pub struct Bits(pub u64);

impl Iterator for Bits {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        (self.0 != 0).then(|| {
            let j = self.0.trailing_zeros() as usize;
            self.0 &= self.0 - 1;
            j
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_sets_one_bit_per_viewer() {
        let live = Live::all(130);
        assert_eq!(live.masks, vec![u64::MAX, u64::MAX, 0b11]);
        assert_eq!(Live::all(64).masks, vec![u64::MAX]);
        assert!(Live::all(0).masks.is_empty());
        assert_eq!(live.count(), 130);
        assert_eq!(Live::all(0).count(), 0);
    }

    #[test]
    fn bits_lowest_first() {
        assert_eq!(Bits(0b1010_0101).collect::<Vec<_>>(), vec![0, 2, 5, 7]);
        assert_eq!(Bits(1 << 63).collect::<Vec<_>>(), vec![63]);
        assert_eq!(Bits(0).count(), 0);
    }

    #[test]
    fn shown_reads_live_viewers_with_an_impression_in_order() {
        let n = 200;
        let mut outcomes = vec![Outcome::NOTHING; n];
        for (i, o) in outcomes.iter_mut().enumerate() {
            if i % 3 == 0 {
                o.item = i as u32;
            }
        }
        let mut live = Live::all(n);
        live.masks[1] = 0; // viewers 64-127 stopped and cleared
        live.masks[0] &= !1; // viewer 0 too
        let items: Vec<u32> = live.shown(&outcomes).map(|o| o.item).collect();
        let expected: Vec<u32> = (0..n as u32)
            .filter(|i| i % 3 == 0 && *i != 0 && !(64..128).contains(i))
            .collect();
        assert_eq!(items, expected);
    }
}
