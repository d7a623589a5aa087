//! `gather` and `try_gather`: run many futures at once, collect their outputs in input order.
//!
//! asyncio's `await asyncio.gather(*aws)`. Each child is polled with its own waker (see
//! `ready_set.rs`), so a wake re-polls only that child: n children that each need one wake cost
//! 2n child polls, not n². The children live in one boxed slice, the wakers in one `Arc`.
//!
//! The children's memory is a heap slice that never moves or shrinks while they run, so a child
//! is pinned there even though `Gather` itself is `Unpin`; a finished child is dropped in place
//! (assigning its slot drops the old value where it is).

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::ready_set::{Cursor, ReadySet};

/// A child of a combinator: running, finished, or its output already handed out.
pub(crate) enum Slot<F: Future> {
    /// Still running.
    Running(F),
    /// Finished; the output waits to be collected.
    Done(F::Output),
    /// Output taken (or the child was dropped).
    Gone,
}

/// The children of a combinator, their wakers and the woken list: what gather, try_gather,
/// as_completed and race share.
pub(crate) struct Children<F: Future> {
    /// The children, in input order.
    pub(crate) slots: Box<[Slot<F>]>,
    /// One waker per child and the woken stack.
    ready: Arc<ReadySet>,
    /// Woken children not yet polled, in wake order.
    cursor: Cursor,
    /// Children still running.
    pub(crate) running: usize,
}

impl<F: Future> Children<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Children<F> {
        let slots: Box<[Slot<F>]> = futures.into_iter().map(Slot::Running).collect();
        let (ready, cursor) = ReadySet::new(slots.len());
        let running = slots.len();
        Children { slots, ready, cursor, running }
    }

    /// Polls the children that were woken since the last call (every child, the first time),
    /// calling `on_ready(index, output)` for each that finishes. `on_ready` returns `false` to
    /// stop early (the remaining woken children stay queued for the next call).
    pub(crate) fn poll_woken(
        &mut self,
        cx: &mut Context<'_>,
        mut on_ready: impl FnMut(&mut Slot<F>, usize, F::Output) -> bool,
    ) {
        self.ready.register(cx.waker());
        // Refill once per call: a child that wakes itself during its poll is polled again on the
        // next call (its push re-wakes us), not in a loop here, so one busy child cannot
        // monopolise the combinator.
        self.ready.refill(&mut self.cursor);
        while let Some(index) = self.ready.pop(&mut self.cursor) {
            let slot = &mut self.slots[index];
            let Slot::Running(future) = slot else { continue };
            let waker = self.ready.waker(index);
            // SAFETY: the child lives in `slots`, a heap slice that is never moved, resized or
            // reassigned while children run; it leaves its slot only by being dropped in place.
            let future = unsafe { Pin::new_unchecked(future) };
            if let Poll::Ready(output) = future.poll(&mut Context::from_waker(&waker)) {
                self.running -= 1;
                if !on_ready(slot, index, output) {
                    return;
                }
            }
            // Once the task's cooperative budget is spent, the children still in the cursor are
            // left there: the next call polls them before those woken since, so one child that
            // is always ready cannot spend every budget while the others wait. `poll_proceed`
            // wakes us for that call.
            if !self.cursor.is_empty() && cashier_budget::poll_proceed(cx).is_pending() {
                return;
            }
        }
    }

    /// Drops every child still running, now.
    pub(crate) fn cancel_all(&mut self) {
        self.slots = Box::new([]);
        self.running = 0;
    }
}

/// Runs every future in `futures` concurrently and returns their outputs in input order, whatever
/// order they finish in: asyncio's `asyncio.gather`.
///
/// Works on any futures, including the [`JoinHandle`](crate::JoinHandle)s of spawned tasks (whose
/// outputs are then `Result<T, JoinError>`). Unlike `asyncio.gather`, a failing child does not
/// cancel the others: outputs are plain values. Use [`try_gather`] to stop at the first error.
///
/// ```
/// use cashier_executor::{Executor, gather, yield_now};
///
/// let executor = Executor::new();
/// let sizes = executor.block_on(gather((1..=3).map(|n| async move {
///     for _ in 0..(3 - n) {
///         yield_now().await; // the later ones finish first...
///     }
///     n * 100
/// })));
/// assert_eq!(sizes, [100, 200, 300]); // ...but outputs keep the input order
/// ```
pub fn gather<I>(futures: I) -> Gather<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    Gather { children: Children::new(futures) }
}

/// The future returned by [`gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<F: Future> {
    /// The children.
    children: Children<F>,
}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let children = &mut self.children;
        children.poll_woken(cx, |slot, _, output| {
            *slot = Slot::Done(output);
            true
        });
        if children.running > 0 {
            return Poll::Pending;
        }
        let outputs = mem::replace(&mut children.slots, Box::new([]))
            .into_iter()
            .map(|slot| match slot {
                Slot::Done(output) => output,
                _ => panic!("`Gather` polled after it completed"),
            })
            .collect();
        Poll::Ready(outputs)
    }
}

/// Like [`gather`] for futures that return `Result`: the outputs in input order, or the *first*
/// error to happen, in which case every other future is dropped (cancelled) before this returns,
/// as an asyncio `TaskGroup` cancels its other tasks when one fails.
///
/// How it differs from `asyncio.gather`: `gather(..., return_exceptions=False)` raises the first
/// exception but leaves the other awaitables *running*; `return_exceptions=True` collects
/// exceptions as results, which is cashier's plain [`gather`] over `Result` futures. `try_gather`
/// is the structured middle: first error wins, and nothing is left running.
///
/// ```
/// use cashier_executor::{Executor, try_gather};
///
/// async fn order(item: u32) -> Result<u32, String> {
///     match item {
///         2 => Err(format!("item {item}: out of stock")),
///         3 => std::future::pending().await, // never ready
///         _ => Ok(item),
///     }
/// }
///
/// let executor = Executor::new();
/// assert_eq!(executor.block_on(try_gather([1, 4].map(order))), Ok(vec![1, 4]));
/// // The error wins at once; the order that would never finish is dropped, not awaited.
/// let failed = executor.block_on(try_gather([1, 2, 3].map(order)));
/// assert_eq!(failed, Err("item 2: out of stock".to_string()));
/// ```
pub fn try_gather<I, T, E>(futures: I) -> TryGather<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    TryGather { children: Children::new(futures) }
}

/// The future returned by [`try_gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct TryGather<F: Future> {
    /// The children.
    children: Children<F>,
}

impl<F, T, E> Future for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let mut failure = None;
        let children = &mut self.children;
        children.poll_woken(cx, |slot, _, output| match output {
            Ok(value) => {
                *slot = Slot::Done(Ok(value));
                true
            }
            Err(error) => {
                failure = Some(error);
                false
            }
        });
        if let Some(error) = failure {
            children.cancel_all(); // the others' destructors run before we return
            return Poll::Ready(Err(error));
        }
        if children.running > 0 {
            return Poll::Pending;
        }
        let values = mem::replace(&mut children.slots, Box::new([]))
            .into_iter()
            .map(|slot| match slot {
                Slot::Done(Ok(value)) => value,
                _ => panic!("`TryGather` polled after it completed"),
            })
            .collect();
        Poll::Ready(Ok(values))
    }
}
