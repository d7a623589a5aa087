//! Loom models of the executor's concurrent core: what happens when a wake on another thread lands
//! at every possible point of the runtime thread's work.
//!
//! Run them with `scripts/loom` (which sets `RUSTFLAGS="--cfg loom"`, its own target directory and
//! `LOOM_MAX_PREEMPTIONS`). Under `cfg(loom)`, `crate::loom` hands the library loom's atomics and
//! `UnsafeCell`, so these models drive the library's own code, and loom runs each model once per
//! interleaving of its threads (up to the preemption bound), checking every assertion, every data
//! race on an `UnsafeCell`, and every deadlock: a lost wake shows up as the runtime thread parked
//! for ever while nobody is left to unpark it.
//!
//! - `task.rs`: the task state word through the real `Executor`, `Task` and `Waker` code.
//! - `remote_queue.rs`: the Treiber stack of remote wakes, drained whole, closed at shutdown.
//! - `remote_spawn.rs`: `Handle::spawn` from another thread, and the `RemoteJoinHandle` joined
//!   there, racing completion for the `join_waker` slot (`JOIN_WAKER`).
//! - `atomic_waker.rs` and `ready_set.rs`: the combinators' waker slot and woken list. They are
//!   declared by `combinators/atomic_waker.rs` and `combinators/ready_set.rs` (with `#[path]`),
//!   because those modules are private to `combinators`.
//!
//! What no model here proves: anything beyond the preemption bound (loom's bounded search is
//! exhaustive only up to it), anything about more threads or tasks than a model spawns, and the
//! parts of the runtime loom does not see: the reactor, `std::sync::Arc` (kept for `Shared`, the
//! unparker wakers and `ReadySet`, see `crate::loom`) and the `Cell`s of the runtime thread.

mod remote_queue;
mod remote_spawn;
mod task;

use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};
use std::time::Duration;

use crate::park::Park;

/// A one-permit wake-up for a loom thread that waits: `wake` leaves a permit, `wait` blocks until
/// there is one and takes it, so a wake that comes first is not lost. A wait with no wake ever to
/// come is a loom deadlock.
///
/// It is `loom::sync::Notify`, not `loom::thread::park`: loom lets an `unpark` reach a thread
/// blocked in `JoinHandle::join` and then fails an internal assertion, and a model's late wakes
/// (a waker firing after the consumer has what it needs) may well arrive while it joins.
pub(crate) struct Wakeup(::loom::sync::Notify);

impl Wakeup {
    /// A wake-up with no permit.
    pub(crate) fn new() -> StdArc<Wakeup> {
        StdArc::new(Wakeup(::loom::sync::Notify::new()))
    }

    /// Blocks until woken, then takes the permit. Loom may also return spuriously, so callers wait
    /// in a loop that re-checks what they wait for.
    pub(crate) fn wait(&self) {
        self.0.wait();
    }

    /// Leaves a permit, waking the waiter if there is one.
    pub(crate) fn notify(&self) {
        self.0.notify();
    }
}

impl Wake for Wakeup {
    fn wake(self: StdArc<Self>) {
        self.notify();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.notify();
    }
}

/// A parker for the models' executors: `park(None)` waits on a [`Wakeup`] that its unparker wakes; a
/// timed park returns at once (a model has no clock, and the `Park` contract allows an early
/// return).
pub(crate) struct LoomPark {
    /// What its unparker wakes.
    wakeup: StdArc<Wakeup>,
}

impl LoomPark {
    /// A parker with no pending unpark.
    pub(crate) fn new() -> LoomPark {
        LoomPark { wakeup: Wakeup::new() }
    }
}

impl Park for LoomPark {
    fn park(&self, timeout: Option<Duration>) {
        if timeout.is_none() {
            self.wakeup.wait();
        }
    }

    fn unparker(&self) -> Waker {
        Waker::from(StdArc::clone(&self.wakeup))
    }
}
