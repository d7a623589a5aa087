//! How a child's exit reaches the reactor: a pidfd where Linux has one, `SIGCHLD` elsewhere; and
//! the reactor's list of dropped children still to reap (the *orphans*).
//!
//! # pidfd (Linux ≥ 5.3)
//!
//! `pidfd_open(pid, 0)` returns an fd that refers to the child itself, not to its pid number,
//! and becomes readable when the child exits. It is registered with the reactor like a socket;
//! a task waiting for the exit waits for that fd to become readable, then reaps the child with
//! std's `Child::try_wait` (`waitpid(pid, WNOHANG)`), which keeps std's record of the child (its
//! status, its refusal to `kill` a reaped child) consistent. One fd per child, no thread, no
//! signal handler.
//!
//! # The `SIGCHLD` fallback
//!
//! Where `pidfd_open` fails with `ENOSYS` (kernels before 5.3, other Unixes, valgrind 3.19) or
//! `EPERM` (a seccomp filter that refuses it), or when `CASHIER_PROCESS_NO_PIDFD=1` is set in the
//! environment (read once, at the first spawn or [`exit_watch`] call; the tests use it to run
//! every scenario on this path), each waiting child
//! holds a `SIGCHLD` listener (`signal.rs`: a handler that rings a self-pipe). `SIGCHLD` does not
//! say which child exited, and several exits may make one delivery, so every delivery wakes every
//! waiting child, and each tries `try_wait`: O(children) system calls per `SIGCHLD`. tokio on
//! this path (`process/unix/reap.rs`, `orphan.rs`) and async-process's `SIGCHLD` reaper pay the
//! same price.
//!
//! # Orphans
//!
//! A [`Child`](super::Child) dropped before its exit was seen is not waited for on the spot,
//! which would block the loop: it moves, with its pidfd or listener, into the reactor's orphan
//! list. The listener's registration stays, so the child's exit ends the reactor's wait even on
//! an idle loop; every turn that received an event then sweeps the list (`sweep`): a pidfd orphan
//! is tried only if its pidfd was reported readable, a `SIGCHLD` orphan only if a `SIGCHLD` came
//! since it last looked. When the reactor is dropped, one last sweep reaps those that have
//! exited, and waits for those that `kill_on_drop(true)` sent `SIGKILL` (a process cannot refuse
//! it, so the wait only lasts until the kernel has torn it down, unless the process is stuck in
//! an uninterruptible system call). A child still running without `kill_on_drop` is left
//! running (as tokio does), and becomes a zombie of this process if it exits before the process
//! does. A `Child` dropped after its reactor is dropped is killed (with `kill_on_drop`) and
//! reaped if it has exited by then, but never waited for.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use crate::driver::Inner;
use crate::registration::{Direction, Registration};
use crate::signal::{Signal, SignalKind, signal};

/// The environment variable that forces the `SIGCHLD` fallback (any value but `0` or empty).
pub const NO_PIDFD_ENV: &str = "CASHIER_PROCESS_NO_PIDFD";

/// Set once `pidfd_open` said `ENOSYS` or `EPERM`: later spawns go straight to the fallback.
static PIDFD_MISSING: AtomicBool = AtomicBool::new(false);

/// Whether [`NO_PIDFD_ENV`] forces the fallback; read at the first spawn.
fn forced_off() -> bool {
    static FORCED: OnceLock<bool> = OnceLock::new();
    *FORCED
        .get_or_init(|| std::env::var_os(NO_PIDFD_ENV).is_some_and(|v| !v.is_empty() && v != "0"))
}

/// How this process learns that a child exited (see the module doc of `cashier::process`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitWatch {
    /// A pidfd per child, registered with the reactor.
    Pidfd,
    /// A `SIGCHLD` handler; every delivery makes each waiting child try `waitpid`.
    Sigchld,
}

/// What the next spawn will use to learn of its child's exit: [`ExitWatch::Pidfd`] unless
/// [`NO_PIDFD_ENV`] is set or an earlier `pidfd_open` said `ENOSYS` or `EPERM`.
pub fn exit_watch() -> ExitWatch {
    if forced_off() || PIDFD_MISSING.load(Ordering::Relaxed) {
        ExitWatch::Sigchld
    } else {
        ExitWatch::Pidfd
    }
}

/// One child's exit, as the reactor watches it.
pub(crate) enum Watch {
    /// Readable when the child has exited.
    Pidfd {
        /// Declared first: deregisters before the pidfd closes.
        registration: Registration,
        /// The child's pidfd.
        _pidfd: OwnedFd,
    },
    /// Rung on every `SIGCHLD` of the process.
    Sigchld(Signal),
}

impl Watch {
    /// Starts watching the exit of child `pid` (which must be our unreaped child, so that its pid
    /// cannot have been reused) on the runtime running on this thread.
    pub(crate) fn new(pid: u32) -> io::Result<Watch> {
        if exit_watch() == ExitWatch::Pidfd {
            match pidfd_open(pid) {
                Ok(pidfd) => {
                    let registration = Registration::new(pidfd.as_raw_fd())?;
                    return Ok(Watch::Pidfd { registration, _pidfd: pidfd });
                }
                Err(error) if matches!(error.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                    PIDFD_MISSING.store(true, Ordering::Relaxed);
                }
                Err(error) => return Err(error),
            }
        }
        // A child that exited before the listener existed rang nothing it can hear; the first
        // `try_wait` of `poll_exit`, which comes before any wait, finds it.
        Ok(Watch::Sigchld(signal(SignalKind::child())?))
    }

    /// Reaps `child` if it has exited; otherwise arranges for `cx` to be woken when it may have.
    /// Spends a unit of the task's budget when it completes, as every resource does.
    pub(crate) fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        child: &mut std::process::Child,
    ) -> Poll<io::Result<ExitStatus>> {
        match self {
            Watch::Pidfd { registration, .. } => {
                registration.poll_io(cx, Direction::Read, || match child.try_wait()? {
                    Some(status) => Ok(status),
                    // Readable means exited, so this is not expected; wait for the next event.
                    None => Err(io::ErrorKind::WouldBlock.into()),
                })
            }
            Watch::Sigchld(sigchld) => cashier_budget::poll_budgeted(cx, |cx| {
                loop {
                    if let Some(status) = child.try_wait()? {
                        return Poll::Ready(Ok(status));
                    }
                    // A `SIGCHLD` counted since the last look makes this ready at once: the
                    // listener's count, not the doorbell, decides (`signal.rs`).
                    match sigchld.poll_recv(cx) {
                        Poll::Ready(Some(())) => continue,
                        Poll::Ready(None) => {
                            return Poll::Ready(Err(io::Error::other(
                                "the cashier runtime this child belongs to has been dropped",
                            )));
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }),
        }
    }

    /// Whether the exit may have happened since the last look, without a `waitpid`.
    fn may_have_exited(&mut self) -> bool {
        match self {
            Watch::Pidfd { registration, .. } => registration.is_ready(Direction::Read),
            Watch::Sigchld(sigchld) => sigchld.try_recv(),
        }
    }
}

/// A dropped child not yet reaped, with what watches its exit.
pub(crate) struct Orphan {
    /// std's handle on the child: `try_wait` reaps it.
    pub(crate) child: std::process::Child,
    /// Its pidfd or `SIGCHLD` listener, still registered so that its exit ends an idle wait.
    pub(crate) watch: Watch,
    /// Whether its drop sent it `SIGKILL` (`kill_on_drop`).
    pub(crate) killed: bool,
}

/// Reaps the orphans whose exit was signalled (step 2½ of a turn, only when the turn received an
/// event and the list is not empty: see the module doc). Borrows the list only to split it: the
/// reaped orphans are dropped (deregistered) after the borrow ends.
pub(crate) fn sweep(inner: &Inner) {
    let mut orphans = inner.orphans.borrow_mut();
    let mut reaped = Vec::new();
    let mut index = 0;
    while index < orphans.len() {
        let orphan = &mut orphans[index];
        // `Err` (`ECHILD`: something else reaped it) also ends our interest in it.
        if orphan.watch.may_have_exited() && !matches!(orphan.child.try_wait(), Ok(None)) {
            reaped.push(orphans.swap_remove(index));
        } else {
            index += 1;
        }
    }
    drop(orphans);
    drop(reaped);
}

/// The reactor's drop: one last look at every orphan. Those that were sent `SIGKILL` are waited
/// for (blocking, but only until the kernel has torn down a process that cannot refuse to die);
/// the others are reaped if they have exited, and left running otherwise (module doc).
pub(crate) fn final_sweep(inner: &Inner) {
    let orphans = inner.orphans.take();
    for mut orphan in orphans {
        let _ = if orphan.killed { orphan.child.wait().map(Some) } else { orphan.child.try_wait() };
    }
}

/// `pidfd_open(pid, 0)`: an fd for child `pid`, readable once it has exited; close-on-exec.
#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `pidfd_open` takes a pid and a flags word and returns a new fd or -1; it reads no
    // memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("pidfd_open returned no fd"))?;
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// No pidfd outside Linux: the `SIGCHLD` fallback.
#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: u32) -> io::Result<OwnedFd> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}
