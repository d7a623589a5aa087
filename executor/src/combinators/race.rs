//! `select` and `race`: the first future to finish wins; the others are dropped.
//!
//! asyncio's `asyncio.wait(aws, return_when=FIRST_COMPLETED)` followed by cancelling the rest.

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::gather::Children;

/// The output of [`select`]: which of the two futures finished first, and its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future won.
    Left(A),
    /// The second future won.
    Right(B),
}

/// Waits for the first of two futures (of any types) to finish; the other is dropped with the
/// `Select`. If both are ready on the same poll, the first wins. asyncio's
/// `asyncio.wait({a, b}, return_when=FIRST_COMPLETED)` followed by cancelling the other.
///
/// One exception keeps the first from starving the second: if the task's cooperative budget
/// runs out while the first is polled, the second is polled first on the next poll.
///
/// ```
/// use cashier_executor::{Either, Executor, select};
///
/// let executor = Executor::new();
/// let winner = executor.block_on(select(std::future::pending::<()>(), async { "ready" }));
/// assert_eq!(winner, Either::Right("ready"));
/// ```
pub fn select<A: Future, B: Future>(left: A, right: B) -> Select<A, B> {
    Select { left, right, right_first: false }
}

/// The future returned by [`select`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Select<A, B> {
    /// Structurally pinned.
    left: A,
    /// Structurally pinned.
    right: B,
    /// The task's cooperative budget ran out while `left` was polled, before `right` was: the
    /// next poll starts with `right`.
    right_first: bool,
}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `left` and `right` are structurally pinned: `Select` never moves them out and
        // has no `Drop` impl; they are only reached through this pinned projection.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above (both lines).
        let left = unsafe { Pin::new_unchecked(&mut this.left) };
        // SAFETY: see above.
        let right = unsafe { Pin::new_unchecked(&mut this.right) };
        if mem::take(&mut this.right_first) {
            if let Poll::Ready(output) = right.poll(cx) {
                return Poll::Ready(Either::Right(output));
            }
            // If `right` spent the budget, `left` goes first next time, as usual.
            std::task::ready!(cashier_budget::poll_proceed(cx));
            return left.poll(cx).map(Either::Left);
        }
        if let Poll::Ready(output) = left.poll(cx) {
            return Poll::Ready(Either::Left(output));
        }
        if cashier_budget::poll_proceed(cx).is_pending() {
            this.right_first = true;
            return Poll::Pending;
        }
        right.poll(cx).map(Either::Right)
    }
}

/// Waits for the first of many futures of one type to finish and returns its index and output;
/// the others are dropped: asyncio's `asyncio.wait(aws, return_when=FIRST_COMPLETED)` plus
/// cancelling the rest. Each is polled with its own waker, so a wake re-polls only its future.
///
/// # Panics
/// The returned future panics if `futures` is empty: a race with no runner has no winner.
///
/// ```
/// use cashier_executor::{Executor, race, yield_now};
///
/// let executor = Executor::new();
/// let (index, steps) = executor.block_on(race([5, 2, 9].map(|steps| async move {
///     for _ in 0..steps {
///         yield_now().await;
///     }
///     steps
/// })));
/// assert_eq!((index, steps), (1, 2));
/// ```
pub fn race<I>(futures: I) -> Race<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    Race { children: Children::new(futures) }
}

/// The future returned by [`race`].
#[must_use = "futures do nothing unless awaited"]
pub struct Race<F: Future> {
    /// The runners.
    children: Children<F>,
}

impl<F: Future> Future for Race<F> {
    type Output = (usize, F::Output);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(usize, F::Output)> {
        assert!(
            self.children.running > 0,
            "`race` needs at least one future (or was polled after it finished)"
        );
        let mut winner = None;
        self.children.poll_woken(cx, |_, index, output| {
            winner = Some((index, output));
            false
        });
        match winner {
            Some(winner) => {
                self.children.cancel_all(); // the losers are dropped now
                Poll::Ready(winner)
            }
            None => Poll::Pending,
        }
    }
}
