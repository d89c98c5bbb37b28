//! Splitting large work over two threads.
//!
//! Loading, validating, planning and writing a large catalog's plan each split their work
//! in two halves; this is the one place that decides whether a second thread takes a half,
//! and the one threshold of how much work makes that worth it.

/// Below this many items of work (migrations, steps) a second thread costs more than it
/// saves: starting one takes tens of microseconds, and below this size each half takes
/// about as long.
pub(crate) const PARALLEL_FROM: usize = 20_000;

/// Runs `first` and `second` and returns both results: `second` on a new thread while
/// `first` runs on this one when `items` (the size of the whole work) is at least
/// [`PARALLEL_FROM`], the machine has a second core and a thread can be started; else one
/// after the other on this thread, `first` first. A panic in `second` is resumed here.
///
/// Either way the results are the same, so callers split their work in halves at every
/// size and never write a fallback of their own.
pub(crate) fn join<A, B, F, S>(items: usize, first: F, second: S) -> (A, B)
where
    F: FnOnce() -> A,
    S: FnOnce() -> B + Send,
    B: Send,
{
    if items < PARALLEL_FROM || std::thread::available_parallelism().map_or(1, usize::from) < 2 {
        return (first(), second());
    }
    // `second` waits in `waiting` until the new thread takes it, so that it can still run
    // here when no thread can be started (a process at its limit).
    let mut waiting = Some(second);
    let (first, second) = std::thread::scope(|scope| {
        let slot = &mut waiting;
        let spawned = std::thread::Builder::new()
            .spawn_scoped(scope, move || slot.take().map(|second| second()));
        let first = first();
        let second = spawned.ok().and_then(|handle| {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (first, second)
    });
    let second = second.or_else(|| waiting.take().map(|second| second()));
    (
        first,
        second.expect("`second` ran on the new thread or, when none started, here"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_work_runs_both_in_order_on_this_thread() {
        let here = std::thread::current().id();
        let order = std::cell::RefCell::new(Vec::new());
        let (a, b) = join(
            PARALLEL_FROM - 1,
            || {
                order.borrow_mut().push("first");
                std::thread::current().id()
            },
            || std::thread::current().id(),
        );
        order.borrow_mut().push("second");
        assert_eq!((a, b), (here, here));
        assert_eq!(*order.borrow(), ["first", "second"]);
    }

    #[test]
    fn large_work_returns_both_results() {
        let (a, b) = join(PARALLEL_FROM, || 1 + 1, || "two".to_owned());
        assert_eq!((a, b.as_str()), (2, "two"));
    }

    #[test]
    #[should_panic(expected = "second half failed")]
    fn a_panic_in_the_second_half_reaches_the_caller() {
        let _ = join(PARALLEL_FROM, || (), || panic!("second half failed"));
    }
}
