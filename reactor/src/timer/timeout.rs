//! `timeout`: give a future a deadline, asyncio's `asyncio.wait_for` / `asyncio.timeout`.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::driver::Handle;
use crate::timer::sleep::Sleep;

/// Runs `future` for at most `duration`: `Ok(output)` if it finishes in time, `Err(Elapsed)` if
/// the deadline comes first, in which case `future` is dropped (cancelled) with the `Timeout`.
///
/// The future is polled before the timer is looked at, so one that is ready at the deadline wins.
///
/// ```
/// use std::time::Duration;
///
/// cashier::run(async {
///     let slow = cashier::sleep(Duration::from_secs(60));
///     let result = cashier::timeout(Duration::from_millis(5), slow).await;
///     assert!(result.is_err()); // Elapsed: the sleep was cancelled
///     let quick = async { 42 };
///     assert_eq!(cashier::timeout(Duration::from_millis(5), quick).await, Ok(42));
/// });
/// ```
///
/// # Panics
/// If no cashier runtime is running on this thread.
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout { future, sleep: Sleep::after(Handle::current("timeout"), duration) }
}

/// Like [`timeout`], with an absolute deadline.
///
/// # Panics
/// If no cashier runtime is running on this thread.
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout { future, sleep: Sleep::until(Handle::current("timeout_at"), deadline) }
}

/// The future returned by [`timeout`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Timeout<F> {
    /// The future under a deadline; structurally pinned.
    future: F,
    /// The deadline; `Unpin`.
    sleep: Sleep,
}

impl<F> Timeout<F> {
    /// The future, no longer under a deadline.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of a pinned `Timeout`
        // (`into_inner` takes `self` by value, which needs an unpinned `Timeout`), and `Timeout`
        // has no `Drop` impl that could move it. `sleep` is `Unpin` and handed out by `&mut`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this.future` stays where the pinned `Timeout` put it.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // The deadline is checked outside the cooperative budget (as tokio does): a future that
        // spent the task's budget must not keep its own timeout from firing.
        this.sleep.poll_sleep(cx).map(|()| Err(Elapsed(this.sleep.deadline())))
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(Instant);

impl Elapsed {
    /// The deadline that passed.
    pub fn deadline(&self) -> Instant {
        self.0
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(error: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, error.to_string())
    }
}
