//! The parking seam: how the executor waits when no task can run, and how it is woken.
//!
//! The executor knows nothing of I/O. When its queues are empty it calls [`Park::park`], and
//! whatever implements the trait decides how to wait: [`ThreadPark`] simply parks the thread;
//! the reactor (crate `cashier-reactor`) waits in `epoll_wait` for sockets and the next timer, and
//! wakes the tasks whose I/O is ready before it returns. Another thread that queues or spawns a
//! task, or wakes the `block_on` future, wakes the parker's [`Park::unparker`], a plain
//! [`Waker`], so that the executor stops waiting.
//!
//! # Contract
//!
//! - `park(None)` may block until the unparker is woken (or spuriously return earlier);
//!   `park(Some(t))` blocks at most about `t`; `park(Some(Duration::ZERO))` must not block.
//! - An unpark that happens *before* `park` is not lost: the next `park` returns promptly. The
//!   executor relies on this, because it checks its remote queue and then parks without a lock
//!   in between.
//!
//! # Why the unparker is a `Waker`
//!
//! Waking a parked executor is what a waker does: one call, from any thread, that must not be
//! lost. So the seam uses the standard type rather than a trait of its own: the reactor hands out
//! `Waker::from` its own `Arc`'d unpark flag, [`ThreadPark`] one that calls `Thread::unpark`, and
//! neither crate defines a type for the other to wrap. The executor keeps the one waker it is
//! given and calls `wake_by_ref` on it: one dynamic call, no clone, no allocation.

use std::marker::PhantomData;
// `std`'s `Arc` even under loom: `Waker::from` needs it.
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

/// Something the executor can block in when idle.
pub trait Park {
    /// Blocks the current thread until unparked, until `timeout` elapses, or spuriously.
    /// The reactor also delivers I/O and timer events here, by waking the tasks they concern.
    ///
    /// It takes `&self` so that the executor's `block_on` can take `&self` too: the executor
    /// never calls it re-entrantly (its `block_on` and `step` refuse to nest on a thread), but
    /// an implementation with state of its own keeps it in cells.
    fn park(&self, timeout: Option<Duration>);

    /// A waker that ends this parker's current or next `park`, from any thread. Called once,
    /// when the executor is built; the executor only ever calls `wake_by_ref` on it.
    fn unparker(&self) -> Waker;

    /// Whether this parker has anything of its own that could end a `park(None)`: for the
    /// reactor, a timer waiting in its wheel, a socket with a waiting task, a `to_thread` job in
    /// flight. `false` means only a wake of its [`Park::unparker`] from a thread it does not
    /// know of could.
    ///
    /// Only [`Executor::step`](crate::Executor::step) asks, so that a step with nothing to run
    /// and nothing to wait for reports [`Step::Idle`](crate::Step::Idle) instead of blocking
    /// forever; the run loop never does. The default, `true`, parks as the run loop would.
    fn expects_events(&self) -> bool {
        true
    }
}

/// Parks the executor's thread with `std::thread::park`: for an executor without a reactor.
///
/// It is `!Send`: it parks the thread that created it, so it must be used on that thread.
#[derive(Debug)]
pub struct ThreadPark {
    /// The thread the executor was built on, which is the only one that can run it.
    thread: Thread,
    /// Keeps the parker on its thread.
    _not_send: PhantomData<*const ()>,
}

impl ThreadPark {
    /// A parker for the current thread.
    pub fn new() -> ThreadPark {
        ThreadPark { thread: thread::current(), _not_send: PhantomData }
    }
}

impl Default for ThreadPark {
    fn default() -> Self {
        ThreadPark::new()
    }
}

impl Park for ThreadPark {
    fn park(&self, timeout: Option<Duration>) {
        debug_assert_eq!(thread::current().id(), self.thread.id(), "parked on a foreign thread");
        match timeout {
            None => thread::park(),
            Some(timeout) if timeout.is_zero() => {}
            Some(timeout) => thread::park_timeout(timeout),
        }
    }

    fn unparker(&self) -> Waker {
        Waker::from(Arc::new(ThreadUnpark(self.thread.clone())))
    }

    /// Never: a parked thread is woken only by another thread's unpark.
    fn expects_events(&self) -> bool {
        false
    }
}

/// Unparks a [`ThreadPark`]: `Thread::unpark`, whose token makes an early unpark stick.
struct ThreadUnpark(Thread);

impl Wake for ThreadUnpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}
