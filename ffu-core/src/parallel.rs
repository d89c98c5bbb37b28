//! Splitting large work over two threads.
//!
//! Loading, validating, planning and writing a large catalog's plan each split their work
//! in two halves; this is the one place that decides whether a second thread is there to
//! take a half.

/// Runs `second` on a new thread while `first` runs on this one, and returns both results.
///
/// `None`, having run neither, when the machine has a single core (a second thread would
/// only take turns with this one) or no thread can be started (a process at its limit):
/// the caller then does the whole work on this thread. A panic in `second` is resumed here.
pub(crate) fn both<A, B, F, S>(first: F, second: S) -> Option<(A, B)>
where
    F: FnOnce() -> A,
    S: FnOnce() -> B + Send,
    B: Send,
{
    if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
        return None;
    }
    std::thread::scope(|scope| {
        let second = std::thread::Builder::new()
            .spawn_scoped(scope, second)
            .ok()?;
        let first = first();
        let second = second
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Some((first, second))
    })
}

/// [`both`] when `worth_it` (the work is large enough for a second thread to pay), else
/// `None` without running either: the caller then does the whole work on this thread.
pub(crate) fn both_if<A, B, F, S>(worth_it: bool, first: F, second: S) -> Option<(A, B)>
where
    F: FnOnce() -> A,
    S: FnOnce() -> B + Send,
    B: Send,
{
    if worth_it {
        both(first, second)
    } else {
        None
    }
}
