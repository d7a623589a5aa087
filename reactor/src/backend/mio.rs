//! The mio backend: `mio::Poll` (epoll on Linux) with a `mio::Waker` (an eventfd) to unpark.
//!
//! mio registers sources through its `Registry` and reports `Event`s carrying the `Token` given at
//! registration. It is always edge-triggered, which is what the reactor wants: an event means
//! "something changed", and the reactor caches readiness until an operation says `WouldBlock`.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::{Readiness, Unparker};

/// The token reserved for the waker's eventfd; `registration.rs` never hands it out.
const WAKE_TOKEN: Token = Token(usize::MAX);

/// How many events one wait can return; the rest wait for the next turn.
const EVENT_CAPACITY: usize = 1024;

/// The OS event queue.
pub(crate) struct Poller {
    /// epoll, through mio.
    poll: Poll,
    /// Reused for every wait: no allocation per event.
    events: Events,
}

/// mio's cross-thread wake-up: a write to an eventfd registered under [`WAKE_TOKEN`].
pub(crate) struct OsWaker(mio::Waker);

impl OsWaker {
    pub(crate) fn wake(&self) {
        // Failing to write to our own eventfd means the reactor is gone; nothing to wake.
        let _ = self.0.wake();
    }
}

impl Poller {
    pub(crate) fn new() -> io::Result<(Poller, Unparker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok((
            Poller { poll, events: Events::with_capacity(EVENT_CAPACITY) },
            Unparker::new(OsWaker(waker)),
        ))
    }

    pub(crate) fn register(&self, fd: RawFd, token: usize) -> io::Result<()> {
        debug_assert_ne!(token, WAKE_TOKEN.0);
        self.poll.registry().register(
            &mut SourceFd(&fd),
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )
    }

    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.poll.registry().deregister(&mut SourceFd(&fd))
    }

    pub(crate) fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut on_event: impl FnMut(usize, Readiness),
    ) -> io::Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        for event in &self.events {
            if event.token() == WAKE_TOKEN {
                continue; // the unparker's flag already records it
            }
            let readiness = Readiness::EMPTY
                .with_if(event.is_readable(), Readiness::READABLE)
                .with_if(event.is_writable(), Readiness::WRITABLE)
                .with_if(event.is_read_closed(), Readiness::READ_CLOSED)
                .with_if(event.is_write_closed(), Readiness::WRITE_CLOSED)
                .with_if(event.is_error(), Readiness::ERROR);
            on_event(event.token().0, readiness);
        }
        Ok(())
    }
}
