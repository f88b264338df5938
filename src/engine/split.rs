//! How a pass of the engine is split over threads, by the size of its work.
//!
//! Every parallel pass of a step is a fork and a join, and on two cores a join costs a wake-up
//! of the other thread (tens of microseconds on a virtual machine) whatever the work. Late in
//! a run fewer than 2 % of the viewers still scroll, so a step's passes are small and their
//! fixed cost is most of the step. These helpers run a small pass on the calling thread and
//! give a large one tasks of at least a given size. They change only where the work runs: each
//! pass's results are the same in any split (integer or exact sums, each writer on its own
//! data), so results are the same for any thread count and either way.

/// The least length of a task of a parallel iterator over `len` pieces that hold `work`
/// units of work in all, so that a task gets about `min_work` units or more; `usize::MAX`
/// (no split: the calling thread runs the whole pass) when the work is below two tasks.
pub(super) fn min_len(len: usize, work: usize, min_work: usize) -> usize {
    if work < 2 * min_work {
        usize::MAX
    } else {
        (len.saturating_mul(min_work) / work).max(1)
    }
}

/// Runs `a` and `b` side by side when `parallel`, else `a` then `b` on the calling thread.
pub(super) fn join<A, B, RA, RB>(parallel: bool, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if parallel {
        rayon::join(a, b)
    } else {
        let ra = a();
        (ra, b())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn small_work_is_not_split() {
        assert_eq!(min_len(1563, 100, 128), usize::MAX);
        assert_eq!(min_len(1563, 255, 128), usize::MAX);
        assert_eq!(min_len(1563, 0, 128), usize::MAX);
    }

    #[test]
    fn large_work_gets_tasks_of_the_least_work() {
        // 100,000 viewers in 1,563 blocks: tasks of at least 2 blocks (128 viewers).
        assert_eq!(min_len(1563, 100_000, 128), 2);
        // 2,000 viewers: 100 blocks, about 128 of them.
        assert_eq!(min_len(1563, 2_000, 128), 100);
        // Work far above the pieces: one piece a task.
        assert_eq!(min_len(10, 1_000_000, 128), 1);
    }

    #[test]
    fn an_unsplit_pass_runs_on_the_calling_thread() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        pool.install(|| {
            let me = rayon::current_thread_index();
            let threads: Vec<_> = (0..1000)
                .into_par_iter()
                .with_min_len(min_len(1000, 10, 128))
                .map(|_| rayon::current_thread_index())
                .collect();
            assert!(threads.iter().all(|&t| t == me));
            let (a, b) = join(false, rayon::current_thread_index, rayon::current_thread_index);
            assert_eq!((a, b), (me, me));
            assert_eq!(join(true, || 1, || 2), (1, 2));
        });
    }
}
