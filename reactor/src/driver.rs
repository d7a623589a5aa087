//! The reactor itself: one turn waits for sockets and the next deadline in one system call, then
//! wakes exactly the tasks whose order is ready.
//!
//! [`Reactor`] owns the OS event queue (through the backend seam), the slab of registered
//! sockets, the timing wheel, the clock and the blocking pool. [`Handle`] is a cheap clone of it
//! that sockets and sleeps keep, found through a thread-local while a runtime runs
//! ([`Handle::current`]).
//!
//! # One turn ([`Reactor::turn`])
//!
//! 1. Decide how long the OS wait may block: not past the next timer, and not at all if the
//!    executor still has work (`max_wait == Some(ZERO)`).
//! 2. Wait; for each event, record readiness and take the wakers it concerns. If there were
//!    events and dropped child processes wait to be reaped, reap those that exited
//!    (`process/exit.rs`).
//! 3. If the clock is paused and the runtime is idle, perhaps advance it (the rule below): to the
//!    wheel's next expiration, and on to the next one while a jump only cascaded timers to lower
//!    levels of the wheel, so that the turn ends having fired a timer.
//! 4. Fire every timer due by now, taking their wakers.
//! 5. Release every borrow, then wake the taken wakers. Waking runs executor code (pushing tasks
//!    on the run queue), which must never find the reactor borrowed.
//!
//! The waker buffer is kept between turns, so a turn allocates nothing.
//!
//! # When a paused clock jumps
//!
//! A paused clock advances to the next timer's tick only when all of these hold:
//! the executor is idle (it called `turn(None)`: no task can run); a non-blocking look at the OS
//! queue found no event and no unpark; and no `to_thread` job is in flight. A job in flight is
//! real work whose result may change what the tasks do next (tokio-rs/tokio#4614 is the bug where
//! a paused clock fired a timeout while `spawn_blocking` work ran), so instead the turn blocks in
//! the OS wait, and the pool unparks the reactor when the job ends (`blocking.rs`, `JobGuard`),
//! whether or not a task is still waiting for its result. I/O from a peer *outside* the runtime (another
//! thread or process) is not waited for: only what has already arrived is seen. Tests on a paused
//! clock should therefore keep their peers on the same runtime, or run them through `to_thread`.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::task::Waker;
use std::time::{Duration, Instant};

use cashier_trace::{self as trace, Event, WaitReason};

use crate::backend::{Poller, Unparker};
use crate::blocking::BlockingPool;
use crate::clock::Clock;
use crate::registration::{IoSlab, IoSource};
use crate::timer::wheel::Wheel;
use crate::wakeups::Wakeups;

/// How a [`Reactor`] is set up.
#[derive(Clone, Debug)]
pub struct ReactorConfig {
    /// Start with a paused (virtual) clock.
    pub start_paused: bool,
    /// Most threads the blocking pool runs at once.
    pub max_blocking_threads: usize,
    /// How long an idle blocking thread waits for work before it exits.
    pub blocking_keep_alive: Duration,
    /// How long dropping the reactor waits for running blocking jobs before it leaves their
    /// threads behind ([`Reactor::set_shutdown_timeout`]).
    pub blocking_shutdown_timeout: Duration,
}

impl Default for ReactorConfig {
    fn default() -> Self {
        ReactorConfig {
            start_paused: false,
            max_blocking_threads: crate::blocking::DEFAULT_MAX_THREADS,
            blocking_keep_alive: crate::blocking::DEFAULT_KEEP_ALIVE,
            blocking_shutdown_timeout: crate::blocking::DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// Counters of what the reactor did, for tests and curious users.
///
/// Each is updated once per turn, from values the turn computes anyway: keeping them costs no
/// clock read and nothing per timer or per socket. (The runtime's metrics add what only the trace
/// events can tell: time parked, timers armed and cancelled, wakes.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReactorStats {
    /// Turns taken (calls to [`Reactor::turn`]).
    pub turns: u64,
    /// Turns taken because the executor was idle (`turn(None)`: no task could run): the
    /// runtime's parks. The other turns only looked at I/O between polls.
    pub idle_turns: u64,
    /// Readiness events received from the OS.
    pub io_events: u64,
    /// The most readiness events one turn received.
    pub max_io_events: u64,
    /// Timers fired.
    pub timers_fired: u64,
    /// Turns in which a paused clock jumped forward: each such turn counts once, though it may
    /// pass wheel slots that only cascade on its way to a timer that fires.
    pub clock_jumps: u64,
}

/// A timer waiting in the wheel, as [`Reactor::pending_timers`] lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingTimer {
    /// Its number in trace events and the explain mode (`timer #3`): its entry in the wheel's
    /// slab, which a later timer reuses once this one's `Sleep` is dropped.
    pub timer: u32,
    /// When it fires, as time since the reactor's clock began (when the reactor was created).
    pub deadline: Duration,
}

/// Everything the reactor owns; shared by `Reactor` and every `Handle`.
pub(crate) struct Inner {
    /// The OS event queue.
    pub(crate) poller: RefCell<Poller>,
    /// Wakes a blocked turn from any thread.
    pub(crate) unparker: Unparker,
    /// Registered sockets.
    pub(crate) io: RefCell<IoSlab>,
    /// Sleeping tasks' deadlines.
    pub(crate) timers: RefCell<Wheel>,
    /// Real or virtual time.
    pub(crate) clock: Clock,
    /// Threads for `to_thread`.
    pub(crate) blocking: BlockingPool,
    /// Wakers collected during a turn; kept to reuse their allocations.
    wakers: RefCell<Wakeups>,
    /// Counters.
    stats: Cell<ReactorStats>,
    /// Set when the owning `Reactor` is dropped.
    pub(crate) shut_down: Cell<bool>,
    /// Dropped child processes not yet reaped (`process/exit.rs`).
    pub(crate) orphans: RefCell<Vec<crate::process::Orphan>>,
}

/// A shared reference to a reactor, kept by sockets, sleeps and the thread-local context.
#[derive(Clone)]
pub struct Handle {
    /// The reactor's state.
    pub(crate) inner: Rc<Inner>,
}

/// The reactor: owns the event queue, timers and blocking pool; shut down when dropped.
///
/// Dropping it drops the `to_thread` jobs still queued without running them and waits, for at
/// most [`Reactor::set_shutdown_timeout`] (real time), for the running ones; a job still running
/// then is left behind on its thread, with a warning on standard error
/// ([`Reactor::set_shutdown_warning`]).
pub struct Reactor {
    /// Shared with every `Handle`.
    handle: Handle,
    /// How long the drop waits for running blocking jobs.
    shutdown_timeout: Cell<Duration>,
    /// Whether the drop warns about the jobs it leaves behind.
    shutdown_warning: Cell<bool>,
}

thread_local! {
    /// The reactor of the runtime running on this thread.
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// Restores the previous current reactor when dropped.
pub struct EnterGuard {
    /// What was current before.
    previous: Option<Handle>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        CURRENT.with(|current| *current.borrow_mut() = self.previous.take());
    }
}

impl Handle {
    /// The reactor of the runtime running on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// The reactor of the runtime running on this thread.
    ///
    /// # Panics
    /// Outside a runtime, with a message naming `what` and the fix.
    #[track_caller]
    pub fn current(what: &str) -> Handle {
        // A `match`, not `unwrap_or_else`: `#[track_caller]` does not reach into a closure, and
        // the panic must point at the user's call, not at this file.
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!(
                "`{what}` needs a cashier runtime, but none is running on this thread: call it \
                 from inside a future run by `Runtime::block_on` or `cashier::run`"
            ),
        }
    }

    /// Makes this reactor the current one until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
        EnterGuard { previous }
    }

    /// The current time of this reactor's clock (virtual when paused).
    pub fn now(&self) -> Instant {
        self.inner.clock.now()
    }

    /// Number of timers stored in the wheel (waiting, or fired and not yet observed).
    pub fn timer_count(&self) -> usize {
        self.inner.timers.borrow().len()
    }

    /// The current time of this reactor's clock in nanoseconds since its origin (the time the
    /// reactor was created): what timer deadlines in the trace are counted in.
    pub fn clock_nanos(&self) -> u64 {
        self.inner.clock.now_nanos()
    }
}

impl Reactor {
    /// Creates the OS event queue, the timer wheel and the (empty) blocking pool.
    pub fn new(config: ReactorConfig) -> io::Result<Reactor> {
        let (poller, unparker) = Poller::new()?;
        let blocking = BlockingPool::new(
            config.max_blocking_threads,
            config.blocking_keep_alive,
            unparker.clone(),
        );
        let inner = Inner {
            poller: RefCell::new(poller),
            unparker,
            io: RefCell::new(IoSlab::new()),
            timers: RefCell::new(Wheel::new()),
            clock: Clock::new(config.start_paused),
            blocking,
            wakers: RefCell::new(Wakeups::default()),
            stats: Cell::new(ReactorStats::default()),
            shut_down: Cell::new(false),
            orphans: RefCell::new(Vec::new()),
        };
        Ok(Reactor {
            handle: Handle { inner: Rc::new(inner) },
            shutdown_timeout: Cell::new(config.blocking_shutdown_timeout),
            shutdown_warning: Cell::new(true),
        })
    }

    /// Sets how long dropping the reactor waits (in real time, whatever the clock) for running
    /// `to_thread` jobs before it leaves their threads behind, detached: the
    /// [`blocking_shutdown_timeout`](ReactorConfig::blocking_shutdown_timeout) it was created
    /// with until then. `Duration::ZERO` does not wait; `Duration::MAX` waits for good.
    pub fn set_shutdown_timeout(&self, timeout: Duration) {
        self.shutdown_timeout.set(timeout);
    }

    /// Sets whether dropping the reactor prints a warning on standard error when it leaves
    /// running `to_thread` jobs behind (on until turned off), naming how many and the timeout:
    ///
    /// ```text
    /// cashier: runtime dropped with 1 blocking job still running after 10s; leaving its thread behind
    /// ```
    pub fn set_shutdown_warning(&self, on: bool) {
        self.shutdown_warning.set(on);
    }

    /// A handle to this reactor.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// A waker that ends a blocked [`Reactor::turn`] from any thread, or makes the next one
    /// return at once: the unpark the executor calls when another thread queues or spawns a task,
    /// or wakes the `block_on` future.
    pub fn unparker(&self) -> Waker {
        self.handle.inner.unparker.waker()
    }

    /// What the reactor has done so far.
    pub fn stats(&self) -> ReactorStats {
        self.handle.inner.stats.get()
    }

    /// Number of timers stored in the wheel (waiting, or fired and not yet observed).
    pub fn timer_count(&self) -> usize {
        self.handle.timer_count()
    }

    /// Threads alive in the blocking pool.
    pub fn blocking_threads(&self) -> usize {
        self.handle.inner.blocking.threads()
    }

    /// Number of registered sockets.
    pub fn io_source_count(&self) -> usize {
        self.handle.inner.io.borrow().len()
    }

    /// The first `limit` timers waiting in the wheel (not yet fired), earliest first. A read for
    /// step mode's printout: it scans the whole wheel, so keep it off any hot path.
    pub fn pending_timers(&self, limit: usize) -> Vec<PendingTimer> {
        let waiting = self.handle.inner.timers.borrow().waiting(limit);
        let timer =
            |(timer, deadline)| PendingTimer { timer, deadline: Duration::from_nanos(deadline) };
        waiting.into_iter().map(timer).collect()
    }

    /// Every registered socket with its cached readiness and whether a task waits on it, in
    /// registration-slot order. A read for step mode's printout, like
    /// [`Reactor::pending_timers`].
    pub fn io_sources(&self) -> Vec<IoSource> {
        self.handle.inner.io.borrow().sources()
    }

    /// Whether an idle turn (`turn(None)`) has anything of its own to wait for: a timer waiting in
    /// the wheel, a task waiting on a socket, or a `to_thread` job in flight. When `false`, such a
    /// turn would block until another thread unparks the reactor, perhaps forever: step mode
    /// reports "idle" instead of taking it.
    pub fn expects_events(&self) -> bool {
        let inner = &*self.handle.inner;
        inner.timers.borrow().next_expiration().is_some()
            || inner.io.borrow().has_waiters()
            || inner.blocking.is_busy()
    }

    /// Moves a paused clock forward by `by`, firing the timers that become due at the next turn.
    ///
    /// # Panics
    /// If the clock is not paused.
    pub fn advance(&self, by: Duration) {
        assert!(
            self.handle.inner.clock.is_paused(),
            "`advance` needs a paused clock (`start_paused`)"
        );
        self.handle.inner.clock.advance(by);
    }

    /// One turn: wait for I/O or the next deadline (at most `max_wait`, `None` meaning the caller
    /// is idle), then wake the tasks whose sockets or timers are ready. See the module doc.
    pub fn turn(&self, max_wait: Option<Duration>) -> io::Result<()> {
        let inner = &*self.handle.inner;
        let idle = max_wait.is_none();
        let next_timer = inner.timers.borrow().next_expiration();
        let (wait, reason) = plan_wait(inner, max_wait, next_timer);

        let mut wakers = inner.wakers.take();
        wakers.begin();
        if wakers.is_recording() {
            let wait_ns = wait.map(crate::clock::nanos);
            trace::emit(|| Event::Park { wait_ns, reason });
        }
        let mut events = 0;
        inner.poller.borrow_mut().poll(wait, |token, readiness| {
            events += 1;
            inner.io.borrow_mut().dispatch(token, readiness, &mut wakers);
        })?;
        let unparked = inner.unparker.take_unparked();
        // A dropped child's exit arrives as an event (its pidfd or a `SIGCHLD` doorbell), so only
        // a turn with events can have one to reap; a loop without children pays one length check.
        if events > 0 && !inner.orphans.borrow().is_empty() {
            crate::process::sweep(inner);
        }

        let mut stats = inner.stats.get();
        let quiet = idle && events == 0 && !unparked && !inner.blocking.is_busy();
        let before = wakers.len();
        let mut jump_to = next_timer.filter(|_| inner.clock.is_paused() && quiet);
        stats.clock_jumps += u64::from(jump_to.is_some());
        while let Some(at) = jump_to {
            inner.clock.advance_to(at);
            trace::emit(|| Event::ClockJump { to_ns: at });
            let mut timers = inner.timers.borrow_mut();
            timers.process(at, &mut wakers);
            // A jump to the start of a slot may only cascade its timers to lower levels: then
            // jump on to the next expiration, so one turn ends at a timer that fires.
            jump_to = timers.next_expiration().filter(|_| wakers.len() == before);
        }
        inner.timers.borrow_mut().process(inner.clock.now_nanos(), &mut wakers);
        stats.turns += 1;
        stats.idle_turns += u64::from(idle);
        stats.io_events += events;
        stats.max_io_events = stats.max_io_events.max(events);
        stats.timers_fired += (wakers.len() - before) as u64;
        inner.stats.set(stats);

        // Every borrow above has ended: waking may run any executor code.
        wakers.wake_all();
        if wakers.is_recording() {
            let io_events = u32::try_from(events).unwrap_or(u32::MAX);
            trace::emit(|| Event::Unpark { io_events, unparked });
        }
        *inner.wakers.borrow_mut() = wakers;
        Ok(())
    }
}

/// Step 1 of a turn: how long the OS wait may block, and why (the reason is for the trace).
///
/// `max_wait` is the executor's limit (`None`: it is idle; `Some(ZERO)`: tasks are ready, only
/// look). On a paused clock time never passes in the wait: it jumps instead (step 3), so the wait
/// is zero whenever a jump may follow, and blocks only for a `to_thread` job or for I/O.
fn plan_wait(
    inner: &Inner,
    max_wait: Option<Duration>,
    next_timer: Option<u64>,
) -> (Option<Duration>, WaitReason) {
    if inner.clock.is_paused() {
        return match (max_wait, next_timer) {
            (Some(_), _) => (Some(Duration::ZERO), WaitReason::Busy),
            (None, _) if inner.blocking.is_busy() => (None, WaitReason::Job),
            (None, Some(to_ns)) => (Some(Duration::ZERO), WaitReason::PausedJump { to_ns }),
            (None, None) => (None, WaitReason::Idle),
        };
    }
    match (max_wait, next_timer) {
        (Some(limit), Some(at)) if inner.clock.until(at) < limit => {
            (Some(inner.clock.until(at)), WaitReason::NextTimer { deadline_ns: at })
        }
        (Some(limit), _) => (Some(limit), WaitReason::Busy),
        (None, Some(at)) => {
            (Some(inner.clock.until(at)), WaitReason::NextTimer { deadline_ns: at })
        }
        (None, None) => (None, WaitReason::Idle),
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        let inner = &*self.handle.inner;
        inner.shut_down.set(true);
        inner.io.borrow_mut().clear_wakers();
        crate::process::final_sweep(inner);
        let timeout = self.shutdown_timeout.get();
        let stuck = inner.blocking.shutdown(timeout);
        if stuck > 0 && self.shutdown_warning.get() {
            eprintln!("{}", shutdown_warning(stuck, timeout));
        }
    }
}

/// The warning of a drop that leaves `stuck` running jobs behind after waiting `timeout`.
fn shutdown_warning(stuck: usize, timeout: Duration) -> String {
    let (jobs, threads) =
        if stuck == 1 { ("job", "its thread") } else { ("jobs", "their threads") };
    format!(
        "cashier: runtime dropped with {stuck} blocking {jobs} still running after {timeout:?}; \
         leaving {threads} behind"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shutdown_warning_names_the_count_and_the_timeout() {
        assert_eq!(
            shutdown_warning(1, Duration::from_secs(10)),
            "cashier: runtime dropped with 1 blocking job still running after 10s; leaving its \
             thread behind"
        );
        assert_eq!(
            shutdown_warning(3, Duration::from_millis(50)),
            "cashier: runtime dropped with 3 blocking jobs still running after 50ms; leaving \
             their threads behind"
        );
    }
}
