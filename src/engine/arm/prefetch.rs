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

/// One per-viewer array of the step, for prefetching: its address and bytes per viewer.
#[derive(Clone, Copy)]
pub(super) struct Ahead {
    addr: usize,
    stride: usize,
}

impl Ahead {
    pub fn of<T>(array: &[T], per_viewer: usize) -> Ahead {
        Ahead {
            addr: array.as_ptr() as usize,
            stride: per_viewer * std::mem::size_of::<T>(),
        }
    }

    /// Asks the cache for the lines of viewer `id`'s part of the array.
    #[inline(always)]
    pub fn fetch(&self, id: usize) {
        let start = self.addr + id * self.stride;
        let mut at = start & !63;
        while at < start + self.stride {
            line::<L1>(at);
            at += 64;
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
