//! Unix signals as readiness: `kill -QUIT <pid>` becomes an fd the reactor watches.
//!
//! A signal interrupts whichever thread the kernel picks, at any instruction, so its handler may
//! do almost nothing: no allocation, no lock, no `RefCell` (POSIX lists the few
//! *async-signal-safe* functions it may call). The handler here does two things, both safe:
//!
//! 1. bumps the signal's *delivery counter* (a lock-free atomic, one per signal number);
//! 2. writes one byte to the *self-pipe* (a pipe made once per process), which rings the reactor
//!    like a socket, and restores `errno`, which `write(2)` may have changed under the
//!    interrupted code's feet.
//!
//! Each [`Signal`] listener owns a duplicate (`dup(2)`) of the pipe's read end, registered with
//! its runtime's reactor as an ordinary registration (`registration.rs`), so a signal wakes a
//! waiting listener exactly as a byte from a peer wakes a reader. The byte is only a doorbell;
//! the counter is the truth. A listener remembers the count it has seen; [`Signal::recv`] drains
//! the pipe and compares:
//!
//! ```text
//! handler (any thread)                      Signal::poll_recv (runtime thread)
//! ─────────────────────                     ─────────────────────────────────
//! deliveries[signo] += 1      ──┐           count != seen?  → seen = count, Ready
//! write(pipe, 1 byte)           └─ before ─ readable? drain the pipe, then count != seen again?
//!                                           no: clear readiness, keep the waker, Pending
//! ```
//!
//! The counter is bumped *before* the byte is written and read *after* the pipe is drained, so a
//! byte this listener drains always comes with a count it can see; and once the drain has found
//! the pipe empty, the next byte is a new edge on every registration of the pipe. An edge is only
//! reported if the pipe still holds the byte when the reactor collects its events, though: a
//! listener that drains first (the runtime's `SIGQUIT` `try_recv`, after a wait the signal
//! interrupted) would leave the others unwoken. So a drain that read bytes rings every other
//! doorbell of its reactor itself (`Registration::ring_doorbells`): several listeners of one
//! signal in one runtime each get every delivery, whoever drains. Across runtimes on different
//! threads, that window remains (see `ring_doorbells`).
//!
//! # What is counted
//!
//! Deliveries that arrive while nobody polls are counted *at least once*: two `SIGQUIT`s before
//! the next `recv` make one `recv` return, not two. The OS coalesces the same way (a signal that
//! arrives while the same one is pending is dropped), so no count could be exact. A delivery
//! after [`signal`] returned and before the first `recv` is not lost: the listener's count was
//! taken when it was made.
//!
//! # Why a self-pipe and not signalfd
//!
//! Linux's `signalfd` reads signals as records from an fd, but only signals *blocked in every
//! thread*: a thread that leaves one unblocked gets the default action (for `SIGQUIT`, a core
//! dump). The blocking pool's threads, and any thread the program or a library starts, would
//! have to block them all, forever. The self-pipe needs nothing from other threads and works on
//! every Unix; tokio (`tokio/src/signal/unix.rs`) and smol's async-signal do the same.
//!
//! # Handlers are installed once and never removed
//!
//! The first listener of a signal installs the handler for it (`sigaction`); it stays for the
//! life of the process, even when every listener is gone. Another runtime, on another thread,
//! may be listening or about to; putting the old disposition back would race with it and could
//! kill the process with a `SIGINT` somebody meant to catch. So, as with tokio: after the first
//! `signal(SignalKind::interrupt())`, Ctrl-C no longer ends the program by itself; a signal with
//! no listener left is counted and ignored. Signals that cannot be caught (`SIGKILL`, `SIGSTOP`)
//! or must not be (`SIGILL`, `SIGFPE`, `SIGSEGV`: returning from their handler re-runs the
//! faulting instruction) are refused with [`io::ErrorKind::InvalidInput`].
//!
//! # Where production runtimes differ
//!
//! tokio keeps one duplicate of the read end per runtime (its signal driver) and broadcasts each
//! delivery to its listeners through a watch channel per signal; here each listener holds its
//! own duplicate, one fd per `Signal`, which spares a driver and a channel at the cost of an fd.

use std::fs::File;
use std::future::poll_fn;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::task::{Context, Poll};

use crate::registration::{Direction, Registration};

/// Signal numbers go from 1 to 64 on Linux (`_NSIG` is 65), to 31 on the BSDs and macOS.
const SIGNALS: usize = 65;

/// What the handler touches for one signal number, and whether its handler is installed.
struct Slot {
    /// Deliveries since the process started (wraps, which no comparison minds).
    deliveries: AtomicU64,
    /// `Ok` once the handler is installed; the `errno` if `sigaction` refused.
    installed: OnceLock<Result<(), i32>>,
}

/// One slot per signal number; the handler indexes it by the number it receives.
static SLOTS: [Slot; SIGNALS] =
    [const { Slot { deliveries: AtomicU64::new(0), installed: OnceLock::new() } }; SIGNALS];

/// The self-pipe's write end for the handler, `-1` until the pipe exists.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

/// The self-pipe: (read end, write end), both non-blocking, never closed. A pipe rather than a
/// socket pair: its read end is never writable, so registering it reports nothing until a byte
/// arrives.
static PIPE: OnceLock<(File, File)> = OnceLock::new();

/// A kind of signal to listen for: a signal number, with tokio's names for the usual four.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// `SIGINT`: Ctrl-C in the terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite "please exit" of `kill` and service managers.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; daemons take it as "reload".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: Ctrl-\ in the terminal; cashier's demos print the task dump on it.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGCHLD`: a child process exited. Its handler is installed with `SA_NOCLDSTOP`, so a child
    /// that is only stopped or continued rings nothing. `cashier::process` listens for it where
    /// pidfds are unavailable (see `process/exit.rs`).
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// Any signal by number (`libc::SIGUSR1`, say). [`signal`] refuses those that cannot or must
    /// not be caught.
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw_value(self) -> libc::c_int {
        self.0
    }

    /// The signal's slot, or why it cannot be listened for.
    fn slot(self) -> io::Result<&'static Slot> {
        const FORBIDDEN: [libc::c_int; 5] =
            [libc::SIGKILL, libc::SIGSTOP, libc::SIGILL, libc::SIGFPE, libc::SIGSEGV];
        let refuse = |why: &str| {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot listen for signal {}: {why}", self.0),
            ))
        };
        if FORBIDDEN.contains(&self.0) {
            return refuse("it cannot be caught, or returning from a handler would re-raise it");
        }
        match usize::try_from(self.0).ok().filter(|&n| n > 0).and_then(|n| SLOTS.get(n)) {
            Some(slot) => Ok(slot),
            None => refuse("no such signal number"),
        }
    }
}

/// A stream of deliveries of one signal: each [`recv`](Signal::recv) waits for the next.
///
/// Made by [`signal`]. Several listeners of one signal, in one runtime or several, each get
/// every delivery; deliveries that arrive while nobody waits are counted at least once (see
/// [`signal`]).
///
/// ```no_run
/// use cashier::signal::{SignalKind, signal};
///
/// cashier::run(async {
///     let mut hangups = signal(SignalKind::hangup())?;
///     while hangups.recv().await.is_some() {
///         eprintln!("SIGHUP: reloading the configuration");
///     }
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Signal {
    /// Declared first: deregisters before the duplicate read end closes.
    registration: Registration,
    /// This listener's duplicate of the self-pipe's read end.
    doorbell: File,
    /// The delivery counter of the signal listened for.
    slot: &'static Slot,
    /// The count this listener has reported.
    seen: u64,
}

/// Listens for `kind` on the runtime running on this thread: installs the signal's handler if
/// this is the first listener in the process (it is then never removed: see the module doc),
/// and registers a doorbell with the reactor.
///
/// Deliveries from the moment this returns are seen by [`Signal::recv`], even those that
/// arrive before `recv` is first polled; several that arrive between two `recv`s make one.
///
/// # Errors
///
/// - [`io::ErrorKind::InvalidInput`] for `SIGKILL`, `SIGSTOP` (which cannot be caught),
///   `SIGILL`, `SIGFPE`, `SIGSEGV` (which must not be) and numbers that are no signal;
/// - an error if no cashier runtime runs on this thread, or if the OS refuses a pipe, an fd or
///   the handler.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let slot = kind.slot()?;
    let doorbell = self_pipe()?.try_clone()?;
    // Registered before the handler is installed: without a runtime, the process's disposition
    // of the signal is left alone.
    let registration = Registration::new_doorbell(doorbell.as_raw_fd())?;
    slot.installed.get_or_init(|| install(kind.0)).map_err(io::Error::from_raw_os_error)?;
    let seen = slot.deliveries.load(Ordering::SeqCst);
    Ok(Signal { registration, doorbell, slot, seen })
}

/// Waits for one `SIGINT` (Ctrl-C).
///
/// The handler stays installed afterwards, so later Ctrl-Cs no longer end the program by
/// themselves: a program that wants the usual behaviour back exits when this returns (with
/// status 130, as a shell reports a death by `SIGINT`).
///
/// ```no_run
/// cashier::run(async {
///     let work = cashier::spawn(cashier::sleep(std::time::Duration::from_secs(3600)));
///     cashier::signal::ctrl_c().await?;
///     eprintln!("interrupted: stopping");
///     work.abort();
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
///
/// # Errors
///
/// As [`signal`]; and an error if the runtime is dropped while this waits.
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = signal(SignalKind::interrupt())?;
    interrupts.recv().await.ok_or_else(|| io::Error::other("the cashier runtime was dropped"))
}

impl Signal {
    /// Waits for the next delivery. `None` if the runtime this listener was made on has been
    /// dropped (no delivery can wake it any more).
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Whether a delivery came since the last `recv` or `try_recv`, without waiting (and without
    /// arranging a wake-up: a caller woken some other way). Empties the doorbell if its
    /// registration is marked readable (an event, or another listener's drain ringing it), and
    /// costs no system call otherwise.
    ///
    /// The runtime's own `SIGQUIT` dump (`Builder::dump_on_sigquit`) uses it: its listener is no
    /// task, but the doorbell's readiness still ends the reactor's wait, and the runtime asks
    /// after every turn.
    pub fn try_recv(&mut self) -> bool {
        // Only a doorbell the reactor saw ring is read: asking the pipe after every turn would be
        // a `read` that says `EAGAIN` on nearly every turn. A byte that lands after the drain is a
        // new edge, reported by a later turn; the count below never depends on the drain.
        if self.registration.is_ready(Direction::Read) {
            let rang = drain(&self.doorbell);
            self.registration.clear(Direction::Read); // `drain` read up to `WouldBlock`
            if rang {
                self.registration.ring_doorbells();
            }
        }
        let count = self.slot.deliveries.load(Ordering::SeqCst);
        let new = count != self.seen;
        self.seen = count;
        new
    }

    /// Polls for the next delivery (for hand-written futures). See [`Signal::recv`].
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let (slot, seen, doorbell, registration) =
            (self.slot, &mut self.seen, &self.doorbell, &self.registration);
        let mut delivered = || {
            let count = slot.deliveries.load(Ordering::SeqCst);
            let new = count != *seen;
            *seen = count;
            new
        };
        // A delivery counted before this poll needs no doorbell (another listener may have
        // drained the byte it wrote).
        if delivered() {
            return Poll::Ready(Some(()));
        }
        let rung = self.registration.poll_io(cx, Direction::Read, || {
            if drain(doorbell) {
                registration.ring_doorbells();
            }
            // Read after the drain: see the module doc for why no delivery slips between.
            if delivered() { Ok(()) } else { Err(io::ErrorKind::WouldBlock.into()) }
        });
        rung.map(|result| result.ok())
    }
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal").field("doorbell", &self.doorbell.as_raw_fd()).finish()
    }
}

/// The self-pipe's read end, made (with the write end published to the handler) on first use.
fn self_pipe() -> io::Result<&'static File> {
    if PIPE.get().is_none() {
        // mio's pipe is non-blocking at both ends and closed on `exec`. Non-blocking: a full pipe
        // makes the handler's write fail instead of hanging the interrupted thread; the pipe is
        // then unread, so every listener will wake anyway.
        let (write, read) = mio::unix::pipe::new()?;
        let (read, write) = (File::from(OwnedFd::from(read)), File::from(OwnedFd::from(write)));
        // Two threads may race here: one pipe wins, the other is dropped unseen.
        let _ = PIPE.set((read, write));
    }
    let (read, write) = PIPE.get().expect("the self-pipe was just set");
    WRITE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
    Ok(read)
}

/// Reads every byte in the pipe: rings are not counted, deliveries are. Whether any byte was
/// read: then the other doorbells of the reactor must be rung (`Registration::ring_doorbells`).
fn drain(mut doorbell: &File) -> bool {
    let mut bytes = [0; 64];
    let mut drained = false;
    loop {
        match doorbell.read(&mut bytes) {
            Ok(0) => return drained, // end of file: only once the write end is closed, never
            Ok(_) => drained = true,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return drained, // `WouldBlock`: empty
        }
    }
}

/// Installs [`on_signal`] for `signum`; the `errno` if the OS refuses.
fn install(signum: libc::c_int) -> Result<(), i32> {
    // SAFETY: `sigaction` is a plain C struct of integers, a function pointer field stored as an
    // integer (`sighandler_t`) and a `sigset_t`; all-zero bytes is a valid value of each (no
    // handler, no flags, an empty mask), and the fields that matter are set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
    // Restart system calls the signal interrupts (a `read` in the blocking pool, say), instead
    // of making them fail with `EINTR`.
    action.sa_flags = libc::SA_RESTART;
    if signum == libc::SIGCHLD {
        // Only exits matter to a listener (`process/exit.rs` reaps on each delivery); a child
        // stopped by Ctrl-Z or continued by `SIGCONT` would only ring the doorbell for nothing.
        action.sa_flags |= libc::SA_NOCLDSTOP;
    }
    // SAFETY: `action.sa_mask` is a valid, exclusively borrowed `sigset_t`.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is fully initialised and outlives the call; `on_signal` has the
    // `extern "C" fn(c_int)` signature a handler without `SA_SIGINFO` must have, and does only
    // async-signal-safe work; a null old-action pointer is allowed.
    if unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL));
    }
    Ok(())
}

/// The signal handler: counts the delivery, rings the doorbell, leaves `errno` as it found it.
/// Only async-signal-safe work: a lock-free atomic add and load, and `write(2)`.
extern "C" fn on_signal(signum: libc::c_int) {
    let errno = errno::get();
    if let Some(slot) = usize::try_from(signum).ok().and_then(|n| SLOTS.get(n)) {
        slot.deliveries.fetch_add(1, Ordering::SeqCst);
    }
    let fd = WRITE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: `fd` is the self-pipe's write end, which is never closed once published;
        // `byte` is a valid one-byte buffer for the duration of the call. `write(2)` is
        // async-signal-safe. A failure (a full pipe) needs no handling: see `self_pipe`.
        unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
    }
    errno::set(errno);
}

/// The calling thread's `errno`, which `libc` reaches by a per-platform function.
mod errno {
    #[cfg(any(target_os = "openbsd", target_os = "netbsd"))]
    use libc::__errno as location;
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "emscripten"))]
    use libc::__errno_location as location;
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    use libc::__error as location;

    /// This thread's `errno`.
    pub(super) fn get() -> libc::c_int {
        // SAFETY: `location` returns a valid pointer to this thread's `errno`, live for the
        // thread's life; reading it has no side effect (async-signal-safe).
        unsafe { *location() }
    }

    /// Sets this thread's `errno`.
    pub(super) fn set(value: libc::c_int) {
        // SAFETY: as in `get`; only this thread writes its `errno`.
        unsafe { *location() = value }
    }
}
