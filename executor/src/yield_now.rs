//! `yield_now`: step aside and let the other customers be served.
//!
//! The future wakes its own task and returns `Pending` once. The wake puts the task at the back of
//! the local run queue, so every task already waiting runs before this one continues. It is the
//! cooperative scheduling point a long computation can insert, like `await asyncio.sleep(0)`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the other tasks once: asyncio's `await asyncio.sleep(0)`.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use cashier_executor::{Executor, spawn, yield_now};
///
/// let order = Rc::new(RefCell::new(Vec::new()));
/// let executor = Executor::new();
/// executor.block_on({
///     let order = order.clone();
///     async move {
///         let a = spawn({
///             let order = order.clone();
///             async move {
///                 order.borrow_mut().push("a1");
///                 yield_now().await;
///                 order.borrow_mut().push("a2");
///             }
///         });
///         let b = spawn({
///             let order = order.clone();
///             async move { order.borrow_mut().push("b") }
///         });
///         a.await.unwrap();
///         b.await.unwrap();
///     }
/// });
/// assert_eq!(*order.borrow(), ["a1", "b", "a2"]);
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    /// Whether the one `Pending` was returned already.
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cashier_trace::with_cause(|| cashier_trace::Cause::Yield, || cx.waker().wake_by_ref());
        Poll::Pending
    }
}
