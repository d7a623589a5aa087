//! The backend seam: the one place that talks to the operating system's event queue.
//!
//! Two implementations sit behind the same small contract, chosen at compile time:
//! `mio.rs` (the default, on `mio::Poll`) and `polling.rs` (cargo feature `backend-polling`, on
//! the `polling` crate that smol uses). Both are thin: reading them side by side shows that the two
//! crates expose the same idea, epoll underneath, with different shapes.
//!
//! # The contract every backend meets
//!
//! - `Poller::new()` creates the OS queue and an [`Unparker`] that can interrupt a wait from any
//!   thread.
//! - `register(fd, token)` adds a socket in **edge-triggered** mode for both reading and writing,
//!   tagged with `token`; `deregister(fd)` removes it. The caller keeps `fd` open in between.
//! - `poll(timeout, on_event)` waits at most `timeout` (`None`: until something happens) and calls
//!   `on_event(token, readiness)` once per event. A wait cut short by a signal (`EINTR`) returns
//!   normally with no events. An unpark makes the current or next wait return; it is not reported
//!   as an event (the unparker's own flag says it happened).
//! - No allocation per event: the event buffer is allocated once.
//!
//! Tokens are opaque to the backend; `registration.rs` gives them meaning.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Wake, Waker};

#[cfg(not(feature = "backend-polling"))]
mod mio;
#[cfg(not(feature = "backend-polling"))]
pub(crate) use self::mio::{OsWaker, Poller};

#[cfg(feature = "backend-polling")]
mod polling;
#[cfg(feature = "backend-polling")]
pub(crate) use self::polling::{OsWaker, Poller};

/// Whether the backend reports a closed read half (`EPOLLRDHUP`) apart from readability. mio
/// does; the polling crate folds a hang-up into "readable". `registration.rs` relies on it to skip
/// a system call after a short read.
pub(crate) const REPORTS_READ_CLOSED: bool = !cfg!(feature = "backend-polling");

/// The name of the backend compiled in, for diagnostics and benchmark reports.
pub const BACKEND: &str = if cfg!(feature = "backend-polling") { "polling" } else { "mio" };

/// What a readiness event says about a socket; a set of bits.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub(crate) struct Readiness(u8);

impl Readiness {
    /// A read would not block.
    pub(crate) const READABLE: Readiness = Readiness(1);
    /// A write would not block.
    pub(crate) const WRITABLE: Readiness = Readiness(2);
    /// The peer closed its sending side: reads return end-of-file.
    pub(crate) const READ_CLOSED: Readiness = Readiness(4);
    /// Our sending side is closed: writes fail.
    pub(crate) const WRITE_CLOSED: Readiness = Readiness(8);
    /// An error is pending on the socket (`SO_ERROR`), such as a refused connection.
    pub(crate) const ERROR: Readiness = Readiness(16);
    /// Nothing.
    pub(crate) const EMPTY: Readiness = Readiness(0);

    /// The union of two sets.
    pub(crate) const fn union(self, other: Readiness) -> Readiness {
        Readiness(self.0 | other.0)
    }

    /// Whether the two sets share a bit.
    pub(crate) const fn intersects(self, other: Readiness) -> bool {
        self.0 & other.0 != 0
    }

    /// `self` without the bits of `other`.
    pub(crate) const fn without(self, other: Readiness) -> Readiness {
        Readiness(self.0 & !other.0)
    }

    /// Adds `other` to the set when `on` holds.
    pub(crate) fn with_if(self, on: bool, other: Readiness) -> Readiness {
        if on { self.union(other) } else { self }
    }
}

/// Interrupts a `Poller::poll` from any thread; an unpark before the wait is not lost.
///
/// The reactor keeps one and the blocking pool one clone, shared by all its workers; the executor
/// gets the same wake-up as a plain [`Waker`] ([`Unparker::waker`]), so that it needs no trait of
/// ours.
#[derive(Clone)]
pub(crate) struct Unparker {
    /// Shared with the reactor and every clone, and behind every [`Unparker::waker`].
    inner: Arc<UnparkInner>,
}

/// The flag and the OS-level wake-up behind an [`Unparker`].
struct UnparkInner {
    /// Set by `unpark`, consumed by the reactor: tells it the wait ended because of an unpark, so
    /// a paused clock must not jump on this turn.
    unparked: AtomicBool,
    /// The backend's way to make a blocked wait return.
    os: OsWaker,
}

impl UnparkInner {
    /// Makes the reactor's current or next wait return.
    fn unpark(&self) {
        // Only the first unpark since the reactor last looked needs the system call: the OS
        // wake-up stays pending until the wait consumes it.
        if !self.unparked.swap(true, Ordering::AcqRel) {
            self.os.wake();
        }
    }
}

/// Waking this waker is [`Unparker::unpark`]: how the executor ends the reactor's wait.
impl Wake for UnparkInner {
    fn wake(self: Arc<Self>) {
        self.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.unpark();
    }
}

impl Unparker {
    fn new(os: OsWaker) -> Unparker {
        Unparker { inner: Arc::new(UnparkInner { unparked: AtomicBool::new(false), os }) }
    }

    /// Makes the reactor's current or next wait return.
    pub(crate) fn unpark(&self) {
        self.inner.unpark();
    }

    /// The same wake-up as a standard waker, for a thread that knows nothing of the reactor:
    /// waking it (by value or by reference) is [`Unparker::unpark`], with its one shared flag.
    pub(crate) fn waker(&self) -> Waker {
        Waker::from(Arc::clone(&self.inner))
    }

    /// Consumes the unpark flag (runtime thread): whether an unpark happened since the last call.
    pub(crate) fn take_unparked(&self) -> bool {
        self.inner.unparked.load(Ordering::Acquire)
            && self.inner.unparked.swap(false, Ordering::AcqRel)
    }
}
