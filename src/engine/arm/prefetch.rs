//! Asking the cache for data ahead of its use: a viewer's state a few viewers ahead of its
//! step, and once per step and thread the items' records that every viewer's ranking reads.
//! A prefetch is a hint: it changes no result, only when lines arrive.

use crate::cache::{L1, L2, line};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// The step at which this thread last asked for the items' records ([`Records`]).
    static FETCHED: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// One per-viewer array of the step, for prefetching: its address, bytes per viewer, and the
/// most cache lines a viewer's part can touch.
#[derive(Clone, Copy)]
pub(super) struct Ahead {
    addr: usize,
    stride: usize,
    lines: usize,
}

impl Ahead {
    pub fn of<T>(array: &[T], per_viewer: usize) -> Ahead {
        let stride = per_viewer * std::mem::size_of::<T>();
        Ahead {
            addr: array.as_ptr() as usize,
            stride,
            // A part of `stride` bytes spans at most this many lines, however it is aligned.
            lines: if stride == 0 { 0 } else { stride.div_ceil(64) + 1 },
        }
    }

    /// Asks the cache for the lines of viewer `id`'s part of the array: always the same
    /// number, so the loop's branch is predicted (the spare line, when the part spans one
    /// fewer, is the next viewer's; a prefetch never faults, even past the array).
    #[inline(always)]
    pub fn fetch(&self, id: usize) {
        let start = (self.addr + id * self.stride) & !63;
        for l in 0..self.lines {
            line::<L1>(start + l * 64);
        }
    }
}

/// The items' records of a step ([`Ranked`](crate::recommender::Ranked)), which the update
/// between steps rewrites in parallel: with two threads each holds half of them changed in
/// its own cache, and the other thread's candidates then miss on that half one random line
/// at a time. Late in a run a step's few viewers still read most lines, so the misses cost
/// as much as the viewers' work. Each thread asks for every line once per step, in order,
/// before its first viewer (the lines stream in side by side); one thread needs nothing.
#[derive(Clone, Copy)]
pub(super) struct Records {
    /// This step's number among all steps of the process.
    epoch: u64,
    addr: usize,
    bytes: usize,
}

impl Records {
    /// This step's records, `ranked` (the visible items').
    pub fn of<T>(ranked: &[T]) -> Records {
        Records {
            epoch: EPOCH.fetch_add(1, Ordering::Relaxed),
            addr: ranked.as_ptr() as usize,
            bytes: std::mem::size_of_val(ranked),
        }
    }

    /// Asks for the lines unless this thread did at this step.
    #[inline]
    pub fn fetch_once(&self) {
        FETCHED.with(|fetched| {
            if fetched.replace(self.epoch) != self.epoch {
                let mut at = self.addr & !63;
                while at < self.addr + self.bytes {
                    line::<L2>(at);
                    at += 64;
                }
            }
        });
    }
}

/// Numbers the steps of the process, for [`Records`]: of every arm, so that a thread that
/// works on the steps of two arms running side by side asks for each step's records.
static EPOCH: AtomicU64 = AtomicU64::new(0);
