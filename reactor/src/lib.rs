//! # cashier-reactor: the kitchen
//!
//! Where a task's order is prepared while the task steps aside: sockets waiting to become readable
//! or writable, timers waiting for their deadline, blocking jobs running on a thread pool. The
//! reactor knows nothing of tasks; it stores `Waker`s and calls them when what they wait for is
//! ready. The `cashier` crate plugs it into the executor's parking seam: when no task can run, the
//! executor calls [`Reactor::turn`], which blocks in one `epoll_wait` for every socket and the
//! next deadline.
//!
//! # Implementation
//!
//! Read it top-down, one job per file:
//!
//! - `driver.rs`: the [`Reactor`] and its turn; the thread-local [`Handle`]; the paused-clock
//!   rule.
//! - `backend/`: the seam to the OS event queue, with a mio and a polling implementation
//!   (feature `backend-polling`).
//! - `registration.rs`: readiness bookkeeping per socket, edge-triggered, generation-checked.
//! - `clock.rs`, `timer/`: real or virtual time, the hierarchical timing wheel (with its heap of
//!   timers due within the current millisecond, and a model test), and `sleep`, `timeout`,
//!   `interval`.
//! - `net/`: `TcpListener`, `TcpStream`, `UdpSocket`, `lookup_host`.
//! - `process/`: child processes: `Command`, `Child`, their pipes, and their exits watched
//!   through a pidfd (or `SIGCHLD`), with dropped children reaped by the turn.
//! - `blocking.rs`: the thread pool behind `to_thread`.
//! - `signal.rs`: Unix signals as readiness: a handler that rings a self-pipe, one registration
//!   per listener.
//! - `wakeups.rs`: the wakers a turn collects, and why each is woken (for `cashier_trace`).
//!
//! Everything but the blocking pool and the unparker lives on the runtime thread, so the reactor
//! uses `RefCell`s, not locks.
//!
//! # Where production runtimes differ
//!
//! tokio's I/O driver stores wakers in lock-protected waiter lists per socket so that any number
//! of tasks, on any worker thread, can wait on one socket; here one task per direction waits,
//! with no lock. tokio's timer entries live inside the `Sleep` futures (intrusive, pinned); ours
//! live in a slab owned by the wheel, which needs no `unsafe` and costs one slab slot per sleep.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod backend;
mod blocking;
mod clock;
mod driver;
pub mod net;
pub mod process;
mod registration;
pub mod signal;
mod timer;
mod wakeups;

pub use backend::BACKEND;
pub use blocking::{
    BlockingError, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS, DEFAULT_SHUTDOWN_TIMEOUT, ToThread,
    to_thread,
};
pub use driver::{EnterGuard, Handle, PendingTimer, Reactor, ReactorConfig, ReactorStats};
pub use registration::IoSource;
pub use timer::{
    Elapsed, Interval, MissedTicks, Sleep, Timeout, interval, interval_at, sleep, sleep_until,
    timeout, timeout_at,
};

/// The current time of the running runtime's clock: the virtual time when it started paused.
///
/// Use it, not `Instant::now()`, to compute deadlines for [`sleep_until`] in code that may run on
/// a paused clock.
///
/// # Panics
/// If no cashier runtime is running on this thread.
#[track_caller]
pub fn now() -> std::time::Instant {
    Handle::current("now").now()
}
