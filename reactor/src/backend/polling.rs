//! The polling backend: the `polling` crate (epoll on Linux), as smol's async-io uses it.
//!
//! Compared with mio: sources are added with an `Event` naming the key and the interest, in an
//! explicit `PollMode` (we ask for `Edge`, like mio's only mode); the wake-up is built in
//! (`Poller::notify`) rather than a separate waker source; and events report `readable` /
//! `writable` where a hang-up or an error counts as both, so there are no separate "closed" bits.
//! Adding a raw fd is `unsafe` in polling because the poller cannot check that the fd stays open
//! until it is deleted.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use polling::{Event, Events, PollMode};

use super::{Readiness, Unparker};

/// How many events one wait can return; the rest wait for the next turn.
const EVENT_CAPACITY: NonZeroUsize = NonZeroUsize::new(1024).unwrap();

/// The OS event queue.
pub(crate) struct Poller {
    /// epoll, through polling; shared with the unparker, which calls `notify` on it.
    poller: Arc<polling::Poller>,
    /// Reused for every wait: no allocation per event.
    events: Events,
}

/// polling's cross-thread wake-up: `Poller::notify`.
pub(crate) struct OsWaker(Arc<polling::Poller>);

impl OsWaker {
    pub(crate) fn wake(&self) {
        // Failing to notify our own poller means the reactor is gone; nothing to wake.
        let _ = self.0.notify();
    }
}

impl Poller {
    pub(crate) fn new() -> io::Result<(Poller, Unparker)> {
        let poller = Arc::new(polling::Poller::new()?);
        let unparker = Unparker::new(OsWaker(poller.clone()));
        Ok((Poller { poller, events: Events::with_capacity(EVENT_CAPACITY) }, unparker))
    }

    pub(crate) fn register(&self, fd: RawFd, token: usize) -> io::Result<()> {
        // SAFETY: polling requires the fd to stay open until `delete`. Every registration is owned
        // by a socket wrapper that deregisters (in `Registration::drop`) before it closes the fd:
        // the registration is declared before the socket, so it is dropped first.
        unsafe { self.poller.add_with_mode(fd, Event::all(token), PollMode::Edge) }
    }

    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: the caller is `Registration::drop`, which runs while the fd is still open (see
        // `register`), so the borrowed fd is valid for this call.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        self.poller.delete(fd)
    }

    pub(crate) fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut on_event: impl FnMut(usize, Readiness),
    ) -> io::Result<()> {
        self.events.clear();
        match self.poller.wait(&mut self.events, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        for event in self.events.iter() {
            let readiness = Readiness::EMPTY
                .with_if(event.readable, Readiness::READABLE)
                .with_if(event.writable, Readiness::WRITABLE)
                .with_if(event.is_err() == Some(true), Readiness::ERROR);
            on_event(event.key, readiness);
        }
        Ok(())
    }
}
