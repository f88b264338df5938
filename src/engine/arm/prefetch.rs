//! Asking the cache for data ahead of its use: a viewer's state a few viewers ahead of its
//! step, and once per step and thread the items' records that every viewer's ranking reads.
//! A prefetch is a hint: it changes no result, only when lines arrive.

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
        let mut line = start & !63;
        while line < start + self.stride {
            prefetch::<L1>(line);
            line += 64;
        }
    }
}

// Hints for [`prefetch`]: into the first-level cache, into the second.
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{_MM_HINT_T0 as L1, _MM_HINT_T1 as L2};
#[cfg(not(target_arch = "x86_64"))]
const L1: i32 = 0;
#[cfg(not(target_arch = "x86_64"))]
const L2: i32 = 0;

/// A hint to bring the cache line at `addr` into the cache level `HINT` ahead of its use.
#[inline(always)]
fn prefetch<const HINT: i32>(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and never faults, at any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<HINT>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
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
                let mut line = self.addr & !63;
                while line < self.addr + self.bytes {
                    prefetch::<L2>(line);
                    line += 64;
                }
            }
        });
    }
}

/// Numbers the steps of the process, for [`Records`].
static EPOCH: AtomicU64 = AtomicU64::new(0);
