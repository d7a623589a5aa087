//! The mio backend: `mio::Poll` (epoll on Linux) with a `mio::Waker` (an eventfd) to unpark.
//!
//! mio registers sources through its `Registry` and reports `Event`s carrying the `Token` given at
//! registration. It is always edge-triggered, which is what the reactor wants: an event means
//! "something changed", and the reactor caches readiness until an operation says `WouldBlock`.
//!
//! mio's wait takes its timeout in whole milliseconds (rounded up), which would wake a timer due
//! in 1.2 ms at 2 ms. So a wait whose timeout is not a whole number of milliseconds is timed by a
//! `timerfd` instead, armed to the nanosecond and registered like any socket (the polling crate
//! does the same inside its epoll backend), when the wait is short enough for that to matter.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::{Readiness, Unparker};

/// The token reserved for the waker's eventfd; `registration.rs` never hands it out.
const WAKE_TOKEN: Token = Token(usize::MAX);
/// The token reserved for the timerfd.
const TIMER_TOKEN: Token = Token(usize::MAX - 1);

/// Waits shorter than this that end between two milliseconds use the timerfd. A longer wait
/// ends at a timing-wheel slot boundary, where timers are only cascaded; the last, short wait
/// before a deadline is the one that needs the nanoseconds. (Arming the timerfd costs a system
/// call, which a busy server parking with a far timeout pending would pay on every wait.)
const PRECISE_BELOW: Duration = Duration::from_secs(1);

/// How many events one wait can return; the rest wait for the next turn.
const EVENT_CAPACITY: usize = 1024;

/// The OS event queue.
pub(crate) struct Poller {
    /// epoll, through mio.
    poll: Poll,
    /// Reused for every wait: no allocation per event.
    events: Events,
    /// Times waits that need sub-millisecond precision.
    timer: TimerFd,
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
        let timer = TimerFd::new()?;
        poll.registry().register(
            &mut SourceFd(&timer.fd.as_raw_fd()),
            TIMER_TOKEN,
            Interest::READABLE,
        )?;
        let poller = Poller { poll, events: Events::with_capacity(EVENT_CAPACITY), timer };
        Ok((poller, Unparker::new(OsWaker(waker))))
    }

    pub(crate) fn register(&self, fd: RawFd, token: usize) -> io::Result<()> {
        debug_assert!(token != WAKE_TOKEN.0 && token != TIMER_TOKEN.0);
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
        let timeout = match timeout {
            Some(wait) if wait < PRECISE_BELOW && wait.subsec_nanos() % 1_000_000 != 0 => {
                self.timer.arm(wait)?;
                None // the timerfd ends the wait, to the nanosecond
            }
            other => {
                self.timer.disarm()?;
                other
            }
        };
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        for event in &self.events {
            if event.token() == WAKE_TOKEN {
                continue; // the unparker's flag already records it
            }
            if event.token() == TIMER_TOKEN {
                self.timer.expired();
                continue; // the reactor reads the clock after every wait anyway
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

/// A `timerfd` (Linux): a file descriptor that becomes readable when its timer expires.
struct TimerFd {
    /// The timerfd.
    fd: OwnedFd,
    /// Whether a timer is set (so that an unneeded one can be cleared).
    armed: bool,
}

impl TimerFd {
    fn new() -> io::Result<TimerFd> {
        // SAFETY: plain system call with constant arguments; it returns a new fd or -1.
        let fd = unsafe {
            libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC)
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by `timerfd_create`, so it is open and owned by nobody else.
        Ok(TimerFd { fd: unsafe { OwnedFd::from_raw_fd(fd) }, armed: false })
    }

    /// Sets the timer to expire once, `after` from now (`after` is not zero).
    fn arm(&mut self, after: Duration) -> io::Result<()> {
        let value = libc::timespec {
            tv_sec: libc::time_t::try_from(after.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(after.subsec_nanos() as i32),
        };
        self.set(value)?;
        self.armed = true;
        Ok(())
    }

    /// Clears the timer if one is set.
    fn disarm(&mut self) -> io::Result<()> {
        if self.armed {
            self.set(libc::timespec { tv_sec: 0, tv_nsec: 0 })?;
            self.armed = false;
        }
        Ok(())
    }

    fn set(&self, value: libc::timespec) -> io::Result<()> {
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let spec = libc::itimerspec { it_interval: zero, it_value: value };
        // SAFETY: `fd` is our open timerfd; `spec` is a valid `itimerspec` on the stack for the
        // call; a null old-value pointer is allowed.
        let result =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if result < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// The timer expired: consume the expiration count so the next expiry is a new edge.
    fn expired(&mut self) {
        let mut count = [0u8; 8];
        // SAFETY: `fd` is our open, non-blocking timerfd; `count` is 8 writable bytes, the size a
        // timerfd read requires. A failure (nothing to read) is harmless and ignored.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), count.as_mut_ptr().cast(), count.len()) };
        self.armed = false;
    }
}
