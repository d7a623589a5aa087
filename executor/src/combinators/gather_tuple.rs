//! `gather!`: futures of *different* types, run concurrently, outputs as a tuple.
//!
//! `gather(iter)` needs one future type; `gather!(a, b, c)` takes up to twelve of any types, like
//! `asyncio.gather(fetch(), compute(), sleep())`. It uses the same per-child wakers as `gather`,
//! so a wake re-polls only the child it concerns. The children live in one boxed tuple.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::ready_set::{Cursor, ReadySet};

/// Runs the given futures concurrently and returns a tuple of their outputs, in argument order:
/// asyncio's `await asyncio.gather(a, b, c)` for futures of different types (up to twelve).
///
/// ```
/// use cashier_executor::{Executor, gather, yield_now};
///
/// let executor = Executor::new();
/// let (name, age) = executor.block_on(async {
///     gather!(
///         async {
///             yield_now().await;
///             "Kate"
///         },
///         async { 22 },
///     )
///     .await
/// });
/// assert_eq!((name, age), ("Kate", 22));
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::GatherTuple::new(($($future,)+))
    };
}

/// One child of a `gather!`: running, done, or taken.
#[doc(hidden)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Running(F),
    /// Finished.
    Done(F::Output),
    /// Output taken.
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// Polls a running child; returns whether it has just finished.
    ///
    /// # Safety
    /// `self` must be pinned: never moved while `Running`.
    unsafe fn poll_pinned(&mut self, cx: &mut Context<'_>) -> bool {
        let MaybeDone::Running(future) = self else { return false };
        // SAFETY: the caller guarantees the child does not move.
        match unsafe { Pin::new_unchecked(future) }.poll(cx) {
            Poll::Ready(output) => {
                *self = MaybeDone::Done(output); // drops the future in place
                true
            }
            Poll::Pending => false,
        }
    }

    fn take(&mut self) -> F::Output {
        match std::mem::replace(self, MaybeDone::Gone) {
            MaybeDone::Done(output) => output,
            _ => panic!("`gather!` polled after it completed"),
        }
    }
}

/// A tuple of futures that `gather!` can run. Implemented for tuples of 1 to 12 futures.
#[doc(hidden)]
pub trait FutureTuple {
    /// The tuple of outputs.
    type Output;
    /// The tuple of children.
    type Children;
    /// Number of futures.
    const LEN: usize;
    /// Wraps each future as a running child.
    fn into_children(self) -> Self::Children;
    /// Polls child `index`; returns whether it has just finished.
    ///
    /// # Safety
    /// `children` must be pinned.
    unsafe fn poll_child(children: &mut Self::Children, index: usize, cx: &mut Context<'_>)
    -> bool;
    /// Takes every output (all children are done).
    fn take_outputs(children: &mut Self::Children) -> Self::Output;
}

macro_rules! impl_future_tuple {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Future),+> FutureTuple for ($($name,)+) {
            type Output = ($($name::Output,)+);
            type Children = ($(MaybeDone<$name>,)+);
            const LEN: usize = [$(stringify!($name)),+].len();

            fn into_children(self) -> Self::Children {
                ($(MaybeDone::Running(self.$index),)+)
            }

            unsafe fn poll_child(children: &mut Self::Children, index: usize, cx: &mut Context<'_>) -> bool {
                match index {
                    // SAFETY: forwarded: the caller keeps `children` pinned.
                    $($index => unsafe { children.$index.poll_pinned(cx) },)+
                    _ => unreachable!("child index out of range"),
                }
            }

            fn take_outputs(children: &mut Self::Children) -> Self::Output {
                ($(children.$index.take(),)+)
            }
        }
    };
}

impl_future_tuple!(A 0);
impl_future_tuple!(A 0, B 1);
impl_future_tuple!(A 0, B 1, C 2);
impl_future_tuple!(A 0, B 1, C 2, D 3);
impl_future_tuple!(A 0, B 1, C 2, D 3, E 4);
impl_future_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
impl_future_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
impl_future_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
impl_future_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
impl_future_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
impl_future_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
impl_future_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// The future built by [`gather!`](crate::gather!).
#[must_use = "futures do nothing unless awaited"]
pub struct GatherTuple<T: FutureTuple> {
    /// The children, boxed so they never move.
    children: Box<T::Children>,
    /// One waker per child.
    ready: Arc<ReadySet>,
    /// Woken children not yet polled.
    cursor: Cursor,
    /// Children still running.
    running: usize,
}

impl<T: FutureTuple> GatherTuple<T> {
    #[doc(hidden)]
    pub fn new(futures: T) -> GatherTuple<T> {
        let (ready, cursor) = ReadySet::new(T::LEN);
        GatherTuple { children: Box::new(futures.into_children()), ready, cursor, running: T::LEN }
    }
}

impl<T: FutureTuple> Future for GatherTuple<T> {
    type Output = T::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        let this = &mut *self;
        this.ready.register(cx.waker());
        this.ready.refill(&mut this.cursor);
        while let Some(index) = this.ready.pop(&mut this.cursor) {
            let waker = this.ready.waker(index);
            // SAFETY: the children live in a `Box` that is never moved out of or replaced.
            if unsafe { T::poll_child(&mut this.children, index, &mut Context::from_waker(&waker)) }
            {
                this.running -= 1;
            }
            // The cooperative budget is spent: the rest go first next time (as in `Children`'s
            // `poll_woken`, in `gather.rs`).
            if !this.cursor.is_empty() && cashier_budget::poll_proceed(cx).is_pending() {
                return Poll::Pending;
            }
        }
        if this.running > 0 {
            return Poll::Pending;
        }
        Poll::Ready(T::take_outputs(&mut this.children))
    }
}
