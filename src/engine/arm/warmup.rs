//! Older accounts: an arm that starts with an existing following (`population.initial_follows`)
//! and after a warm-up of prior use (`population.warmup_minutes`), `docs/model.md` §3b.

use super::ArmRun;

impl ArmRun<'_> {
    /// Fills every viewer's first follow slots with `follows` (N per viewer, row-major, the
    /// first drawn the oldest), so the next follow goes to slot N mod capacity; audit bots,
    /// after the viewers, keep none.
    pub(super) fn follow_at_start(&mut self, follows: &[u32]) {
        let n = self.scenario.population.initial_follows as usize;
        let stride = self.history + self.follow_cap;
        for (id, row) in follows.chunks_exact(n).enumerate() {
            let slots = &mut self.slots[id * stride + self.history..(id + 1) * stride];
            slots[..n].copy_from_slice(row);
            let v = &mut self.viewers[id];
            v.n_follows = n as u8;
            v.follow_next = (n % self.follow_cap) as u8;
            v.follows0 = n as u8;
        }
    }
}
