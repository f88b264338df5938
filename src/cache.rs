//! Cache hints: asking for a cache line ahead of its use, so that the misses of data read a
//! little later (a viewer's state, a candidate's record) overlap. A hint reads nothing
//! architecturally and never faults: it changes no result, only when lines arrive. The one
//! place with the platform's intrinsic; elsewhere these do nothing.

// The hints' levels: into the first-level cache, into the second.
#[cfg(target_arch = "x86_64")]
pub(crate) use std::arch::x86_64::{_MM_HINT_T0 as L1, _MM_HINT_T1 as L2};
#[cfg(not(target_arch = "x86_64"))]
pub(crate) const L1: i32 = 0;
#[cfg(not(target_arch = "x86_64"))]
pub(crate) const L2: i32 = 0;

/// A hint to bring the cache line at `addr` into the cache level `HINT` ([`L1`], [`L2`]).
#[inline(always)]
pub(crate) fn line<const HINT: i32>(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and never faults, at any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<HINT>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// A hint to bring the line holding `x` into the first-level cache.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    line::<L1>(x as *const T as usize);
}
