//! Registrations: the reactor's record of each socket, and a socket's handle on that record.
//!
//! Every socket registered with the OS queue has an [`IoEntry`] in a slab: its cached readiness
//! and the wakers of the task waiting to read and the task waiting to write. The socket owns a
//! [`Registration`] naming its entry; the OS queue knows the entry by a *token* that packs the
//! slab index with the entry's *generation*.
//!
//! # Edge-triggered readiness
//!
//! The OS reports a change once (edge-triggered), so the entry remembers it: `readiness` bits are
//! set by events and stay set until an operation on the socket returns `WouldBlock`, which proves
//! the socket is drained; only then are they cleared and the task's waker stored. An event that
//! arrives later sets them again and wakes that waker. Clearing cannot race with an event: events
//! are only delivered during the reactor's turn, never while a task runs an operation.
//!
//! # Invariants
//!
//! - A freed entry's generation is bumped, so an event that was already queued for the previous
//!   owner of a slot (tokens are read back from the kernel after the fact) finds a generation
//!   mismatch and is ignored: it cannot wake the slot's new owner.
//! - The reactor and the sockets live on the runtime thread: `RefCell`s, no locks. Wakers are
//!   taken out of the slab and woken only after every borrow is released (`driver.rs`).

use std::io;
use std::os::fd::RawFd;
use std::task::{Context, Poll, Waker};

use cashier_trace::{self as trace, Cause, Event, WaitOn};

use crate::backend::Readiness;
use crate::driver::Handle;
use crate::wakeups::Wakeups;

#[cfg(not(target_pointer_width = "64"))]
compile_error!("cashier packs a slab index and a generation into a 64-bit token");

/// Which half of a socket an operation waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading, accepting, receiving.
    Read,
    /// Writing, connecting, sending.
    Write,
}

impl Direction {
    /// The same direction in the trace's vocabulary.
    fn traced(self) -> trace::Direction {
        match self {
            Direction::Read => trace::Direction::Read,
            Direction::Write => trace::Direction::Write,
        }
    }

    /// The readiness bits that let an operation of this direction proceed (or fail fast).
    fn mask(self) -> Readiness {
        match self {
            Direction::Read => {
                Readiness::READABLE.union(Readiness::READ_CLOSED).union(Readiness::ERROR)
            }
            Direction::Write => {
                Readiness::WRITABLE.union(Readiness::WRITE_CLOSED).union(Readiness::ERROR)
            }
        }
    }
}

/// The reactor's record of one registered socket.
struct IoEntry {
    /// Bumped each time the entry is freed; part of the token.
    generation: u32,
    /// The registered fd, to name the socket in the trace.
    fd: RawFd,
    /// Cached readiness (see the module doc).
    readiness: Readiness,
    /// The task waiting to read.
    reader: Option<Waker>,
    /// The task waiting to write.
    writer: Option<Waker>,
    /// Next free entry, while free.
    next_free: Option<u32>,
}

/// The slab of registered sockets.
pub(crate) struct IoSlab {
    /// Entries, in use or free.
    entries: Vec<IoEntry>,
    /// First free entry.
    free_head: Option<u32>,
    /// Entries in use.
    live: usize,
    /// The entries of signal doorbells: registrations of duplicates of one pipe, which
    /// `Registration::ring_doorbells` wakes together.
    doorbells: Vec<u32>,
}

impl IoSlab {
    pub(crate) fn new() -> IoSlab {
        IoSlab { entries: Vec::new(), free_head: None, live: 0, doorbells: Vec::new() }
    }

    /// Number of registered sockets.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Reserves an entry for `fd`; returns `(index, generation, token)`.
    fn insert(&mut self, fd: RawFd) -> (u32, u32, usize) {
        self.live += 1;
        let index = match self.free_head {
            Some(index) => {
                let entry = &mut self.entries[index as usize];
                self.free_head = entry.next_free.take();
                entry.fd = fd;
                index
            }
            None => {
                let index = u32::try_from(self.entries.len()).expect("more than 4 billion sockets");
                self.entries.push(IoEntry {
                    generation: 0,
                    fd,
                    readiness: Readiness::EMPTY,
                    reader: None,
                    writer: None,
                    next_free: None,
                });
                index
            }
        };
        let generation = self.entries[index as usize].generation;
        (index, generation, token(index, generation))
    }

    /// Frees an entry; events still in flight for it will be ignored.
    fn remove(&mut self, index: u32) {
        let entry = &mut self.entries[index as usize];
        entry.generation = entry.generation.wrapping_add(1);
        entry.readiness = Readiness::EMPTY;
        entry.reader = None;
        entry.writer = None;
        entry.next_free = self.free_head;
        self.free_head = Some(index);
        self.live -= 1;
    }

    /// Records an event for `token` and moves the wakers it concerns into `wakers`.
    pub(crate) fn dispatch(&mut self, token: usize, readiness: Readiness, wakers: &mut Wakeups) {
        let (index, generation) = ((token & 0xffff_ffff) as u32, (token >> 32) as u32);
        let Some(entry) = self.entries.get_mut(index as usize) else { return };
        if entry.generation != generation {
            // A stale event for a slot freed since: `remove` bumped the generation, so the old
            // token matches neither the free slot nor its next owner.
            return;
        }
        entry.readiness = entry.readiness.union(readiness);
        let (fd, read, write) = (
            entry.fd,
            readiness.intersects(Direction::Read.mask()),
            readiness.intersects(Direction::Write.mask()),
        );
        if wakers.is_recording() {
            trace::emit(|| Event::IoReady { fd, read, write });
        }
        if read {
            wakers
                .push(entry.reader.take(), || Cause::Io { fd, direction: trace::Direction::Read });
        }
        if write {
            wakers
                .push(entry.writer.take(), || Cause::Io { fd, direction: trace::Direction::Write });
        }
    }

    /// Whether a task waits on any socket: only then can an OS event wake somebody.
    pub(crate) fn has_waiters(&self) -> bool {
        // A free entry's wakers were dropped by `remove`, so the scan needs no free list.
        self.entries.iter().any(|entry| entry.reader.is_some() || entry.writer.is_some())
    }

    /// Every registered socket, in slab order: for step mode's printout, never for a turn.
    pub(crate) fn sources(&self) -> Vec<IoSource> {
        let mut free = vec![false; self.entries.len()];
        let mut next = self.free_head;
        while let Some(index) = next {
            free[index as usize] = true;
            next = self.entries[index as usize].next_free;
        }
        let live = self.entries.iter().zip(free).filter(|(_, free)| !free);
        live.map(|(entry, _)| IoSource {
            fd: entry.fd,
            readable: entry.readiness.intersects(Direction::Read.mask()),
            writable: entry.readiness.intersects(Direction::Write.mask()),
            reader_waits: entry.reader.is_some(),
            writer_waits: entry.writer.is_some(),
        })
        .collect()
    }

    /// Drops every stored waker (reactor shutdown).
    pub(crate) fn clear_wakers(&mut self) {
        for entry in &mut self.entries {
            entry.reader = None;
            entry.writer = None;
        }
    }
}

/// What the reactor knows of one registered socket right now ([`Reactor::io_sources`]). Every
/// socket is registered for both directions, edge-triggered, so the reactor caches readiness:
/// `readable` and `writable` are set by an OS event and stay set until an operation on the
/// socket says `WouldBlock`.
///
/// [`Reactor::io_sources`]: crate::Reactor::io_sources
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoSource {
    /// The socket's file descriptor.
    pub fd: RawFd,
    /// A read may proceed (or fail fast: closed, error) without waiting.
    pub readable: bool,
    /// A write may proceed (or fail fast) without waiting.
    pub writable: bool,
    /// A task waits to read: the next read event wakes it.
    pub reader_waits: bool,
    /// A task waits to write: the next write event wakes it.
    pub writer_waits: bool,
}

/// The OS token for an entry: generation in the high half, index in the low half.
fn token(index: u32, generation: u32) -> usize {
    ((generation as usize) << 32) | index as usize
}

/// A socket's registration with the reactor: deregisters when dropped.
///
/// Declare it *before* the socket in a struct, so that it is dropped (deregistered) before the
/// socket closes its fd.
pub(crate) struct Registration {
    /// The reactor the socket is registered with.
    handle: Handle,
    /// The socket's entry.
    index: u32,
    /// The entry's generation at registration.
    generation: u32,
    /// The registered fd (owned by the socket).
    fd: RawFd,
    /// Whether the entry is listed among the reactor's doorbells.
    doorbell: bool,
}

impl Registration {
    /// Registers `fd` with the reactor of the runtime running on this thread.
    pub(crate) fn new(fd: RawFd) -> io::Result<Registration> {
        let handle = Handle::try_current().ok_or_else(|| {
            io::Error::other(
                "no cashier runtime on this thread: create sockets inside a future run by \
                 `Runtime::block_on` or `cashier::run`",
            )
        })?;
        let (index, generation, token) = handle.inner.io.borrow_mut().insert(fd);
        if let Err(error) = handle.inner.poller.borrow().register(fd, token) {
            handle.inner.io.borrow_mut().remove(index);
            return Err(error);
        }
        trace::emit(|| Event::IoRegistered { fd });
        Ok(Registration { handle, index, generation, fd, doorbell: false })
    }

    /// Registers `fd`, a duplicate of a pipe that other registrations also watch (a signal
    /// doorbell, `signal.rs`), and lists it among the reactor's doorbells.
    ///
    /// Why the list: the OS reports a byte written to the pipe as one event per registration,
    /// but only if the pipe still holds data when the reactor collects its events. A listener
    /// that drains the pipe first (a `try_recv` after a wait that a signal interrupted, before
    /// the next wait) would leave the others with no event at all: so the drainer calls
    /// [`Registration::ring_doorbells`] instead.
    pub(crate) fn new_doorbell(fd: RawFd) -> io::Result<Registration> {
        let mut registration = Registration::new(fd)?;
        registration.doorbell = true;
        registration.handle.inner.io.borrow_mut().doorbells.push(registration.index);
        Ok(registration)
    }

    /// Marks every other doorbell of this reactor readable and wakes its waiting task: this
    /// doorbell has just drained bytes from the pipe they share, so the event they would have
    /// had may never come (see [`Registration::new_doorbell`]). The woken listeners look at their
    /// own delivery counts, so a wake-up for a signal they do not listen for costs one poll.
    ///
    /// Within one reactor only: a listener on another thread's runtime that drains the pipe in
    /// that window still steals this reactor's event (a limit of sharing one pipe per process;
    /// tokio's signal driver broadcasts each drain to every runtime instead).
    pub(crate) fn ring_doorbells(&self) {
        let woken: Vec<Waker> = {
            let mut io = self.handle.inner.io.borrow_mut();
            let IoSlab { entries, doorbells, .. } = &mut *io;
            doorbells
                .iter()
                .filter(|&&index| index != self.index)
                .filter_map(|&index| {
                    let entry = &mut entries[index as usize];
                    entry.readiness = entry.readiness.union(Readiness::READABLE);
                    entry.reader.take()
                })
                .collect()
        };
        // Every borrow has ended: waking may run executor code.
        woken.into_iter().for_each(Waker::wake);
    }

    /// Ready when the socket may be ready for `direction`; otherwise stores the waker.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<()>> {
        if self.handle.inner.shut_down.get() {
            return Poll::Ready(Err(io::Error::other(
                "the cashier runtime this socket belongs to has been dropped",
            )));
        }
        let mut io = self.handle.inner.io.borrow_mut();
        let entry = &mut io.entries[self.index as usize];
        debug_assert_eq!(entry.generation, self.generation);
        if entry.readiness.intersects(direction.mask()) {
            return Poll::Ready(Ok(()));
        }
        let slot = match direction {
            Direction::Read => &mut entry.reader,
            Direction::Write => &mut entry.writer,
        };
        if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *slot = Some(cx.waker().clone());
        }
        let fd = self.fd;
        trace::emit(|| Event::Waits { on: WaitOn::Io { fd, direction: direction.traced() } });
        Poll::Pending
    }

    /// Whether an event said the source may be ready for `direction` since an operation last
    /// said `WouldBlock` (no system call: the cached readiness). The process module's sweep of
    /// dropped children uses it to try only those whose pidfd was reported readable,
    /// `TcpStream::is_read_ready` to spare a connection pool a peek per reuse, and
    /// `Signal::try_recv` to read its doorbell only when it rang.
    pub(crate) fn is_ready(&self, direction: Direction) -> bool {
        let io = self.handle.inner.io.borrow();
        io.entries[self.index as usize].readiness.intersects(direction.mask())
    }

    /// Forgets the readiness for `direction`: an operation returned `WouldBlock` (in
    /// [`Registration::poll_io`], `TcpStream::try_peek`, or the doorbell drain of
    /// `Signal::try_recv`).
    pub(crate) fn clear(&self, direction: Direction) {
        let mut io = self.handle.inner.io.borrow_mut();
        let entry = &mut io.entries[self.index as usize];
        entry.readiness = entry.readiness.without(direction.mask());
    }

    /// A byte-stream operation moved fewer bytes than asked: for a read, the kernel's receive
    /// buffer is now empty; for a write, its send buffer is full. The next attempt would only say
    /// `WouldBlock`, so forget the readiness now and save that system call (tokio does the same).
    ///
    /// Only the "ready" bit is cleared, not "closed": data and a FIN that arrived together are
    /// reported by one event, and the end-of-file behind the data must still be read. A backend
    /// that cannot report a closed read half separately (polling) keeps the extra call instead.
    pub(crate) fn clear_after_short_transfer(&self, direction: Direction) {
        let ready = match direction {
            Direction::Read if crate::backend::REPORTS_READ_CLOSED => Readiness::READABLE,
            Direction::Read => return,
            Direction::Write => Readiness::WRITABLE,
        };
        let mut io = self.handle.inner.io.borrow_mut();
        let entry = &mut io.entries[self.index as usize];
        entry.readiness = entry.readiness.without(ready);
    }

    /// Runs `operation` when the socket is ready for `direction`, clearing the readiness and
    /// waiting again each time it says `WouldBlock`.
    ///
    /// Every socket operation (accept, read, write, send, receive, a signal's doorbell) comes
    /// through here, so this is where one that completes spends a unit of the task's cooperative
    /// budget (`cashier-budget`): a socket that always has data cannot keep its reader running
    /// forever. (A `TcpStream` read served from its read-ahead buffer spends nothing, but that
    /// buffer is only refilled through here.)
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut operation: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        cashier_budget::poll_budgeted(cx, |cx| {
            loop {
                if let Err(error) = std::task::ready!(self.poll_ready(cx, direction)) {
                    return Poll::Ready(Err(error));
                }
                match operation() {
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        self.clear(direction)
                    }
                    result => return Poll::Ready(result),
                }
            }
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Deregistering can only fail if the fd is already gone, which the field order rules out;
        // either way the entry must be freed.
        let _ = self.handle.inner.poller.borrow().deregister(self.fd);
        let mut io = self.handle.inner.io.borrow_mut();
        if self.doorbell {
            io.doorbells.retain(|&index| index != self.index);
        }
        io.remove(self.index);
        drop(io);
        let fd = self.fd;
        trace::emit(|| Event::IoDeregistered { fd });
    }
}
