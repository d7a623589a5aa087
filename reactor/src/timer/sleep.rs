//! `sleep` and `sleep_until`: a future that completes at a deadline.
//!
//! A [`Sleep`] registers in the timing wheel on its first poll (creating one costs nothing in
//! the wheel) and cancels its entry when dropped, so a sleep that loses a race leaves nothing
//! behind. It completes only once its timer has fired, which the wheel does at the first turn at
//! or after the deadline: never early.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use cashier_trace::{self as trace, Event, WaitOn};

use crate::clock::nanos;
use crate::driver::Handle;
use crate::timer::wheel::{Inserted, TimerKey};

/// Waits until `duration` has passed: asyncio's `await asyncio.sleep(seconds)`.
///
/// The time is the runtime's clock, virtual if the runtime started paused. A duration too long
/// for the clock (`Duration::MAX`) saturates at the clock's end, 584 years on: a sleep that
/// never ends in practice, on the real and the paused clock alike.
///
/// ```
/// use std::time::Duration;
///
/// cashier::run(async {
///     let start = std::time::Instant::now();
///     cashier::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10)); // never early
/// });
/// ```
///
/// # Panics
/// If no cashier runtime is running on this thread.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::after(Handle::current("sleep"), duration)
}

/// Waits until `deadline` (an instant of the runtime's clock, see [`now`](crate::now)).
///
/// # Panics
/// If no cashier runtime is running on this thread.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::until(Handle::current("sleep_until"), deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// The reactor whose wheel holds the timer.
    handle: Handle,
    /// When the sleep ends, in nanoseconds since the reactor's clock origin (saturated: see
    /// [`sleep`]). The only form kept: an `Instant` is built from it when asked for.
    at: u64,
    /// The wheel entry, from the first pending poll until completion or drop.
    key: Option<TimerKey>,
    /// Completed.
    done: bool,
}

impl Sleep {
    /// A sleep of `duration` from now on `handle`'s clock.
    pub(crate) fn after(handle: Handle, duration: Duration) -> Sleep {
        let clock = &handle.inner.clock;
        let at = clock.now_nanos().saturating_add(nanos(duration));
        Sleep { handle, at, key: None, done: false }
    }

    /// A sleep until `deadline` on `handle`'s clock (a deadline before the clock's origin is
    /// taken as the origin: it has passed either way).
    pub(crate) fn until(handle: Handle, deadline: Instant) -> Sleep {
        let at = handle.inner.clock.to_nanos(deadline);
        Sleep { handle, at, key: None, done: false }
    }

    /// When the sleep ends.
    pub fn deadline(&self) -> Instant {
        self.handle.inner.clock.instant_at(self.at)
    }

    /// Whether the deadline has been reached (the sleep completed or would complete if polled).
    pub fn is_elapsed(&self) -> bool {
        self.done || self.handle.inner.clock.now_nanos() >= self.at
    }

    /// Moves the deadline, keeping the wheel entry if there is one: what an interval does on
    /// each tick. The sleep is pending again until the new deadline.
    pub fn reset(&mut self, deadline: Instant) {
        self.at = self.handle.inner.clock.to_nanos(deadline);
        self.done = false;
        if let Some(key) = &self.key {
            // If that time has passed, the entry is left fired and the next poll completes.
            let _pending = self.handle.inner.timers.borrow_mut().reset(key, self.at);
        }
    }

    /// The current time of the clock this sleep runs on.
    pub(crate) fn now(&self) -> Instant {
        self.handle.now()
    }

    /// Polls without pinning (a `Sleep` is `Unpin`), and without the cooperative budget: the
    /// `Future` impl adds it, and `Timeout` checks its deadline whatever the budget says.
    pub(crate) fn poll_sleep(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let inner = &self.handle.inner;
        assert!(
            !inner.shut_down.get(),
            "a `Sleep` was polled after its cashier runtime was dropped"
        );
        let mut timers = inner.timers.borrow_mut();
        match &self.key {
            Some(key) if timers.is_fired(key) => {
                timers.remove(self.key.take().expect("checked"));
                self.done = true;
                Poll::Ready(())
            }
            Some(key) => {
                timers.update_waker(key, cx.waker());
                waits_on_timer(key, self.at);
                Poll::Pending
            }
            None => {
                if inner.clock.now_nanos() >= self.at {
                    self.done = true;
                    return Poll::Ready(());
                }
                match timers.insert(self.at, cx.waker().clone()) {
                    Inserted::Pending(key) => {
                        waits_on_timer(&key, self.at);
                        self.key = Some(key);
                        Poll::Pending
                    }
                    Inserted::Expired => {
                        // The wheel has already processed that time, so the deadline is behind
                        // the last turn's time even if the clock read above was just before it.
                        self.done = true;
                        Poll::Ready(())
                    }
                }
            }
        }
    }
}

/// Reports to the trace that the task being polled waits on this timer.
fn waits_on_timer(key: &TimerKey, deadline_ns: u64) {
    let timer = key.number();
    trace::emit(|| Event::Waits { on: WaitOn::Timer { timer, deadline_ns } });
}

impl Future for Sleep {
    type Output = ();

    /// Spends a unit of the task's cooperative budget when it completes (`cashier-budget`).
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        cashier_budget::poll_budgeted(cx, |cx| self.poll_sleep(cx))
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.handle.inner.timers.borrow_mut().remove(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline())
            .field("done", &self.done)
            .finish()
    }
}
