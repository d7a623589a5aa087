//! `as_completed`: the outputs of many futures, in the order they finish.
//!
//! asyncio's `for aw in asyncio.as_completed(aws)`, with the input index that asyncio 3.13 added.
//! Built on the same per-child wakers as `gather`: each `next()` polls only the children woken
//! since the last one, and returns as soon as one finishes.

use std::future::{Future, poll_fn};
use std::task::{Context, Poll};

use super::gather::{Children, Slot};

/// Yields the outputs of `futures` as they finish, not in input order: asyncio's
/// `asyncio.as_completed`.
///
/// Call [`AsCompleted::next`] (or [`AsCompleted::next_with_index`] to learn which input
/// finished) until it returns `None`. Works on any futures, including the
/// [`JoinHandle`](crate::JoinHandle)s of spawned tasks. Futures not yet finished when the
/// `AsCompleted` is dropped are dropped with it.
///
/// ```
/// use cashier_executor::{Executor, as_completed, spawn, yield_now};
///
/// let executor = Executor::new();
/// let order = executor.block_on(async {
///     let handles = [3, 1, 2].map(|steps| {
///         spawn(async move {
///             for _ in 0..steps {
///                 yield_now().await;
///             }
///             steps
///         })
///     });
///     let mut finished = as_completed(handles);
///     let mut order = Vec::new();
///     while let Some((index, steps)) = finished.next_with_index().await {
///         order.push((index, steps.unwrap()));
///     }
///     order
/// });
/// assert_eq!(order, [(1, 1), (2, 2), (0, 3)]); // fewest steps first, with their input index
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted { children: Children::new(futures) }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    /// The children.
    children: Children<F>,
}

impl<F: Future> AsCompleted<F> {
    /// The next output to finish, or `None` when all have been returned.
    pub async fn next(&mut self) -> Option<F::Output> {
        self.next_with_index().await.map(|(_, output)| output)
    }

    /// The next output to finish with the index of its future in the input, or `None` when all
    /// have been returned.
    pub async fn next_with_index(&mut self) -> Option<(usize, F::Output)> {
        poll_fn(|cx| self.poll_next_with_index(cx)).await
    }

    /// Polls for the next finished output (for hand-written futures and streams).
    pub fn poll_next_with_index(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, F::Output)>> {
        if self.children.running == 0 {
            return Poll::Ready(None);
        }
        let mut finished = None;
        self.children.poll_woken(cx, |slot, index, output| {
            *slot = Slot::Gone;
            finished = Some((index, output));
            false // return it now; other woken children wait for the next call
        });
        match finished {
            Some(item) => Poll::Ready(Some(item)),
            None => Poll::Pending,
        }
    }

    /// How many outputs are still to come.
    pub fn remaining(&self) -> usize {
        self.children.running
    }
}

#[cfg(feature = "futures-core")]
impl<F: Future> futures_core::Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<F::Output>> {
        self.poll_next_with_index(cx).map(|item| item.map(|(_, output)| output))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.children.running, Some(self.children.running))
    }
}
