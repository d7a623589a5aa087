//! The parking seam: how the executor waits when no task can run, and how it is woken.
//!
//! The executor knows nothing of I/O. When its queues are empty it calls [`Park::park`], and
//! whatever implements the trait decides how to wait: [`ThreadPark`] simply parks the thread;
//! the reactor (crate `cashier-reactor`) waits in `epoll_wait` for sockets and the next timer, and
//! wakes the tasks whose I/O is ready before it returns. A waker on another thread that queues a
//! task calls [`Unpark::unpark`] so that the executor stops waiting.
//!
//! # Contract
//!
//! - `park(None)` may block until `unpark` is called (or spuriously return earlier);
//!   `park(Some(t))` blocks at most about `t`; `park(Some(Duration::ZERO))` must not block.
//! - An `unpark` that happens *before* `park` is not lost: the next `park` returns promptly. The
//!   executor relies on this, because it checks its remote queue and then parks without a lock
//!   in between.

use std::marker::PhantomData;
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

    /// A handle that wakes this parker from any thread. Called once, when the executor is built.
    fn unparker(&self) -> Box<dyn Unpark>;

    /// Whether this parker has anything of its own that could end a `park(None)`: for the
    /// reactor, a timer waiting in its wheel, a socket with a waiting task, a `to_thread` job in
    /// flight. `false` means only an [`Unpark`] from a thread it does not know of could.
    ///
    /// Only [`Executor::step`](crate::Executor::step) asks, so that a step with nothing to run
    /// and nothing to wait for reports [`Step::Idle`](crate::Step::Idle) instead of blocking
    /// forever; the run loop never does. The default, `true`, parks as the run loop would.
    fn expects_events(&self) -> bool {
        true
    }
}

/// The thread-safe half of a [`Park`]: ends a current or the next `park`.
pub trait Unpark: Send + Sync + 'static {
    /// Wakes the parked executor, or makes its next `park` return immediately.
    fn unpark(&self);
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

    fn unparker(&self) -> Box<dyn Unpark> {
        Box::new(ThreadUnpark(self.thread.clone()))
    }

    /// Never: a parked thread is woken only by another thread's unpark.
    fn expects_events(&self) -> bool {
        false
    }
}

/// Unparks a [`ThreadPark`]: `Thread::unpark`, whose token makes an early unpark stick.
struct ThreadUnpark(Thread);

impl Unpark for ThreadUnpark {
    fn unpark(&self) {
        self.0.unpark();
    }
}
