//! `Runtime`: one executor parked in one reactor, owned together.
//!
//! The executor serves tasks; when none can run it calls its parker, which here is the reactor:
//! `ReactorPark` turns the executor's `Park::park(timeout)` into one reactor turn (an
//! `epoll_wait` over every socket and the next timer). The executor does not know about I/O and
//! the reactor does not know about tasks; this file is the only place that knows both.
//!
//! [`Handle`] is the runtime's face for other threads: [`Runtime::handle`] gives one,
//! [`Handle::current`] gives the running runtime's, and [`Handle::spawn`] puts a `Send` future on
//! the runtime from any thread.
//!
//! While `block_on` runs, both halves are reachable through their thread-locals: the executor's
//! (for `spawn` and local wakes) and the reactor's (for `sleep`, sockets, `to_thread`).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use cashier_executor::{Executor, JoinHandle, Park};
pub use cashier_executor::{Handle, RemoteJoinHandle};
pub use cashier_reactor::DEFAULT_SHUTDOWN_TIMEOUT;
use cashier_reactor::signal::{Signal, SignalKind, signal};
use cashier_reactor::{Reactor, ReactorConfig, ReactorStats};

use crate::debug::{Checker, DebugChecks, Dump};
use crate::metrics::RuntimeMetrics;
use crate::watch::{Session, Trace};

/// A single-threaded runtime: asyncio's event loop.
///
/// ```
/// let runtime = cashier::Runtime::new()?;
/// let handle = runtime.spawn(async { "served" });
/// assert_eq!(runtime.block_on(handle).unwrap(), "served");
/// # std::io::Result::Ok(())
/// ```
///
/// It is `!Send`: its tasks may hold `!Send` values such as `Rc`, so it stays on the thread that
/// created it.
///
/// # Shutdown
///
/// Dropping it cancels the tasks that have not completed (each future is dropped once, on this
/// thread; a task awaiting a `to_thread` job drops its [`ToThread`](crate::task::ToThread) and
/// with it the job's result), then shuts the reactor down:
///
/// - `to_thread` jobs still queued (every pool thread busy) are dropped without running: their
///   closures are dropped, here, and their bodies never run.
/// - Running jobs are waited for, in real time (a paused clock plays no part), for at most
///   [`DEFAULT_SHUTDOWN_TIMEOUT`] (10 s; [`Builder::shutdown_timeout`] sets it). A thread cannot
///   be interrupted, so a job still running then is left behind: its thread goes on, detached,
///   and finishes the job whenever it returns, touching nothing the runtime freed; its result is
///   dropped, unless a `ToThread` future outlived the runtime to receive it. The drop says so on standard error, naming how many jobs and the timeout:
///
///   ```text
///   cashier: runtime dropped with 1 blocking job still running after 10s; leaving its thread behind
///   ```
///
/// [`Runtime::shutdown_timeout`] and [`Runtime::shutdown_background`] (tokio's names) do the same
/// with a timeout of their own, and print nothing: the caller asked for it. With no job running,
/// the timeout plays no part: idle pool threads exit as soon as they are told to, and with no
/// thread alive the drop does not even read a clock.
pub struct Runtime {
    /// The executor, parked in the reactor.
    pub(crate) executor: Executor<ReactorPark>,
    /// The recording, when the runtime is watched (`Builder::trace`, `CASHIER_TRACE`).
    pub(crate) watch: Option<Session>,
}

/// Builds a [`Runtime`] with non-default settings.
///
/// ```
/// use std::time::Duration;
///
/// let runtime = cashier::Runtime::builder().start_paused(true).build()?;
/// runtime.block_on(async {
///     let before = cashier::now();
///     cashier::sleep(Duration::from_secs(3600)).await; // instant: the clock jumps
///     assert_eq!(cashier::now() - before, Duration::from_secs(3600));
/// });
/// # std::io::Result::Ok(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    /// Passed on to the reactor.
    config: ReactorConfig,
    /// What to record and show; `None`: what `CASHIER_TRACE` says, if anything.
    trace: Option<Trace>,
    /// The debug checks; `None`: what `CASHIER_DEBUG` says, else the default.
    checks: Option<DebugChecks>,
    /// Print the task dump on each `SIGQUIT` and go on.
    dump_on_sigquit: bool,
    /// Watch the runtime for its metrics, even with no trace and no checks.
    metrics: bool,
}

impl Builder {
    /// Starts the clock paused: time stands still while any task can run and jumps to the next
    /// timer when all are idle, as tokio's `start_paused`. Time-based tests become instant and
    /// deterministic. The clock does not jump while a `to_thread` job is in flight (see the
    /// reactor's `driver.rs` for the full rule).
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.config.start_paused = paused;
        self
    }

    /// The most threads `to_thread` may use at once (default 64; at least 1).
    pub fn max_blocking_threads(mut self, threads: usize) -> Builder {
        self.config.max_blocking_threads = threads;
        self
    }

    /// How long an idle `to_thread` thread waits for work before it exits (default 10 s).
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.config.blocking_keep_alive = keep_alive;
        self
    }

    /// How long dropping the runtime waits for running `to_thread` jobs before it leaves their
    /// threads behind with a warning (default [`DEFAULT_SHUTDOWN_TIMEOUT`], 10 s; see
    /// [`Runtime`]'s shutdown section). Real time, whatever the clock.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Builder {
        self.config.blocking_shutdown_timeout = timeout;
        self
    }

    /// Records what the runtime does and shows it as asked: a Perfetto trace file, the terminal
    /// timeline, the explain mode (see [`Trace`]). Without this, the `CASHIER_TRACE` environment
    /// variable decides ([`Trace::from_env`]); `trace(Trace::new())` turns recording off whatever
    /// the variable says. Recording off costs one thread-local read per runtime event.
    pub fn trace(mut self, trace: Trace) -> Builder {
        self.trace = Some(trace);
        self
    }

    /// Prints the task dump ([`Runtime::dump`]) to standard error on each `SIGQUIT` (`kill -QUIT
    /// <pid>`, or Ctrl-\\ in a terminal), and goes on, as the JVM prints its threads. The
    /// listener is the runtime's own, not a task: it shows in no view and keeps nothing alive,
    /// and the hang check still sees a hang. It is checked after every reactor turn, whose wait a
    /// delivery ends (`cashier::signal`'s self-pipe). Off by default: it replaces the signal's
    /// default action (end the process with a core dump) for the whole process, for good.
    ///
    /// The dump says what each task waits on when the runtime is watched (debug checks or a
    /// trace); otherwise it counts the live tasks and says how to see more.
    pub fn dump_on_sigquit(mut self, on: bool) -> Builder {
        self.dump_on_sigquit = on;
        self
    }

    /// Turns the debug checks on or off (`true`, `false`), or sets them
    /// ([`DebugChecks`]: limits, where warnings go, what a hang does). They report, as the
    /// program runs, the mistakes async code is prone to: a task that returned `Pending` with
    /// nothing left to wake it (lost waker), a poll that held the thread over 100 ms (slow
    /// poll), a task that panicked with nobody to hear it (unretrieved failure), a task waking
    /// itself in a loop while nothing progresses (self-wake storm), and a runtime about to
    /// block forever (hang: panics out of `block_on` with the task dump). They also fill the
    /// task dump ([`Runtime::dump`], [`task::dump`](crate::task::dump)).
    ///
    /// Without this, `CASHIER_DEBUG` decides (`1` on, `0` off, [`DebugChecks::from_env`]); without
    /// that, they are off. They cost what a trace with the explain mode costs, less the
    /// printing: every runtime event goes through the recorder's listener to a task table.
    /// Measured on this crate's whole test suite in a debug build (`cargo test --workspace`,
    /// already compiled, two shared cores): 24.19 s without the checks, 24.40 s with
    /// `CASHIER_DEBUG=1` (once a poll reporting 100,000 sleeps no longer cost quadratic time in
    /// `Waiting`); the suite's time is mostly real waits and child processes. Cheap in time, but
    /// off by default, even in debug builds: the task table keeps a row for every task ever
    /// spawned (as the trace views' task book does), so a long-running debug build that spawns a
    /// task per request would grow without bound; and the hang check turns a hang into a panic,
    /// which a program should ask for. Turn them on while developing, and in CI (this crate's CI
    /// runs its suite once more with `CASHIER_DEBUG=1`).
    ///
    /// ```
    /// let runtime = cashier::Runtime::builder().debug_checks(true).build()?;
    /// runtime.block_on(async { cashier::spawn(async { "served" }).await.unwrap() });
    /// # std::io::Result::Ok(())
    /// ```
    pub fn debug_checks(mut self, checks: impl Into<DebugChecks>) -> Builder {
        self.checks = Some(checks.into());
        self
    }

    /// Watches the runtime for its full metrics ([`Runtime::metrics`]): a recorder that keeps
    /// no records, whose listener counts the events and fills the task table, as it does for the
    /// debug checks (which, like a trace, turn this on by themselves). Unwatched, the metrics
    /// hold only what the reactor counts per turn and what can be read at any time (see
    /// [`metrics`](crate::metrics) for which is which). It costs what the debug checks cost,
    /// without their warnings (BENCHMARKS.md, issue 11), and, like them, keeps a row for every
    /// task ever spawned.
    ///
    /// ```
    /// let runtime = cashier::Runtime::builder().metrics(true).build()?;
    /// runtime.block_on(async { cashier::spawn(async { "served" }).await.unwrap() });
    /// let metrics = runtime.metrics();
    /// assert_eq!(metrics.events.unwrap().completed, 1);
    /// assert_eq!(metrics.task_rows()[0].polls, 1);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn metrics(mut self, on: bool) -> Builder {
        self.metrics = on;
        self
    }

    /// Creates the runtime.
    ///
    /// # Errors
    /// If the OS refuses an event queue (out of file descriptors), if `CASHIER_TRACE` or
    /// `CASHIER_DEBUG` is malformed, or if the trace file cannot be created (its path is named).
    pub fn build(self) -> io::Result<Runtime> {
        let trace = match self.trace {
            Some(trace) => trace,
            None => Trace::from_env()?.unwrap_or_default(),
        };
        let checks = match self.checks {
            Some(checks) => checks,
            None => DebugChecks::from_env()?.unwrap_or_else(DebugChecks::off),
        };
        let reactor = Reactor::new(self.config)?;
        let watch = if trace.is_on() || checks.is_on() || self.metrics {
            let handle = reactor.handle().clone();
            Some(Session::start(trace, &checks, move || handle.clock_nanos())?)
        } else {
            None
        };
        let hang_check =
            watch.as_ref().map(Session::checker).filter(|checker| checker.checks()).map(Rc::clone);
        let quit = if self.dump_on_sigquit {
            // The doorbell registers with the reactor, which must be current for that.
            let _reactor = reactor.handle().enter();
            Some(RefCell::new(signal(SignalKind::quit())?))
        } else {
            None
        };
        let park = ReactorPark { reactor, hang_check, quit };
        Ok(Runtime { executor: Executor::with_park(park), watch })
    }
}

impl Runtime {
    /// A runtime with default settings: real clock, up to 64 blocking threads.
    pub fn new() -> io::Result<Runtime> {
        Builder::default().build()
    }

    /// A [`Builder`] for a runtime with other settings.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Runs `future` to completion, running spawned tasks meanwhile: asyncio's
    /// `loop.run_until_complete`, tokio's `Runtime::block_on`.
    ///
    /// It takes `&self`, as tokio's does, so the runtime can be asked about itself between
    /// polls, from inside the future:
    ///
    /// ```
    /// let runtime = cashier::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let handle = cashier::spawn(async { cashier::yield_now().await });
    ///     assert_eq!(runtime.alive_tasks(), 1);
    ///     handle.await.unwrap();
    ///     assert_eq!(runtime.alive_tasks(), 0);
    /// });
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// Only the thread that created the runtime can call it: the runtime is neither `Send` nor
    /// `Sync`, so the compiler refuses to hand it, or a reference to it, to another thread:
    ///
    /// ```compile_fail
    /// let runtime = cashier::Runtime::new().unwrap();
    /// std::thread::scope(|scope| {
    ///     scope.spawn(|| runtime.block_on(async {})); // error: `Runtime` is not `Sync`
    /// });
    /// ```
    ///
    /// # Panics
    /// If called from inside a running runtime on this thread (this one, from inside its own
    /// `block_on`, or any other): that would block the thread every task runs on, so it panics
    /// with a message saying to spawn and await instead. Also if `future` panics.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if cashier_executor::in_runtime() {
            panic!(
                "`Runtime::block_on` called from inside a running cashier runtime: that would \
                 block the thread every task runs on. Spawn the future with `cashier::spawn` and \
                 `.await` its JoinHandle instead"
            );
        }
        let _reactor = self.reactor().handle().enter();
        // One call of the executor's `block_on` whether or not the runtime is watched: with two
        // (one inside `Recorder::scope`'s closure) the compiler stopped inlining it, and
        // `ping_pong` lost a sixth of its speed (BENCHMARKS.md, issue 10).
        // SAFETY: the guard is a local of this function, dropped when it returns or unwinds.
        let _recording = self.watch.as_ref().and_then(|session| unsafe { session.enter() });
        self.executor.block_on(future)
    }

    /// Spawns a task that starts running at the next [`Runtime::block_on`] or
    /// [`Runtime::step`]. Inside a task, use [`cashier::spawn`](crate::spawn). A watched runtime
    /// records the spawn, so that its views and checks know the task by number and location.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // SAFETY: the guard is a local of this function, dropped when it returns or unwinds.
        let _recording = self.watch.as_ref().and_then(|session| unsafe { session.enter() });
        self.executor.spawn(future)
    }

    /// Spawns a task named `name`, like [`Runtime::spawn`]: the views of a watched runtime (and
    /// the stepper) call it by that name. Inside a task, use
    /// [`cashier::task::Builder`](crate::task::Builder).
    ///
    /// ```
    /// let runtime = cashier::Runtime::new()?;
    /// let handle = runtime.spawn_named("main", async { "served" });
    /// assert_eq!(runtime.block_on(handle).unwrap(), "served");
    /// # std::io::Result::Ok(())
    /// ```
    #[track_caller]
    pub fn spawn_named<F>(&self, name: &str, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // SAFETY: the guard is a local of this function, dropped when it returns or unwinds.
        let _recording = self.watch.as_ref().and_then(|session| unsafe { session.enter() });
        cashier_executor::task_builder::Builder::new().name(name).spawn_on(future, &self.executor)
    }

    /// A [`Handle`] to this runtime: `Send + Sync + Clone`, for other threads to spawn `Send`
    /// futures onto it ([`Handle::spawn`], tokio's `Handle::spawn`). Inside a task,
    /// [`Handle::current`] gives the same.
    ///
    /// ```
    /// let runtime = cashier::Runtime::new()?;
    /// let handle = runtime.handle();
    /// let remote = std::thread::spawn(move || handle.spawn(async { "served" })).join().unwrap();
    /// assert_eq!(runtime.block_on(remote).unwrap(), "served");
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// The remote handle can also be awaited from another thread, and once the runtime is
    /// dropped, a spawn through the handle reports its task cancelled:
    ///
    /// ```
    /// let runtime = cashier::Runtime::new()?;
    /// let handle = runtime.handle();
    /// drop(runtime);
    /// let remote = handle.spawn(async { "never run" });
    /// assert!(remote.is_finished());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn handle(&self) -> Handle {
        self.executor.handle()
    }

    /// The number of spawned tasks that have not completed. Tasks spawned from other threads
    /// ([`Handle::spawn`]) count from the turn of the run loop that takes them in.
    pub fn alive_tasks(&self) -> usize {
        self.executor.alive_tasks()
    }

    /// Every live task: its number, name, spawn location, state, age, polls, time busy and
    /// what it waits on, when the runtime is watched ([`Builder::debug_checks`], or a trace);
    /// otherwise the number of live tasks and how to get the rest. Prints as a table. Inside
    /// a task, use [`task::dump`](crate::task::dump).
    ///
    /// ```
    /// let runtime = cashier::Runtime::builder().debug_checks(true).build()?;
    /// let _order = runtime.spawn_named("order", std::future::pending::<()>());
    /// runtime.block_on(cashier::yield_now());
    /// let dump = runtime.dump();
    /// assert_eq!(dump.task("order").unwrap().polls, 1);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn dump(&self) -> Dump {
        let checker = self.watch.as_ref().map(|session| &**session.checker());
        Dump::new(Some(self.alive_tasks()), checker)
    }

    /// What the runtime did so far: the reactor's counters always, and, when the runtime is
    /// watched ([`Builder::metrics`], the debug checks, a trace), what its events tell (time
    /// parked, wakes, the longest run queue, timers armed and cancelled, sockets registered,
    /// jobs) and a row per task (polls, busy, scheduled, idle, max poll). Prints as a summary
    /// and a table. See [`RuntimeMetrics`].
    ///
    /// ```
    /// // Not watched, whatever `CASHIER_DEBUG` or `CASHIER_TRACE` say:
    /// let unwatched = cashier::Runtime::builder().debug_checks(false).trace(cashier::Trace::new());
    /// let runtime = unwatched.build()?;
    /// runtime.block_on(async { cashier::sleep(std::time::Duration::from_millis(1)).await });
    /// let metrics = runtime.metrics();
    /// assert_eq!(metrics.reactor.timers_fired, 1, "the reactor counts, watched or not");
    /// assert_eq!(metrics.events, None, "counted only when watched");
    /// assert!(metrics.to_string().contains("metrics(true)"), "and it says how");
    /// # std::io::Result::Ok(())
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        let reactor = self.reactor();
        let checker = self.watch.as_ref().map(|session| &**session.checker());
        RuntimeMetrics {
            reactor: reactor.stats(),
            timers_waiting: reactor.pending_timers(usize::MAX).len(),
            sockets: reactor.io_source_count(),
            blocking_threads: reactor.blocking_threads(),
            live_tasks: self.alive_tasks(),
            events: checker.map(Checker::counts),
            tasks: checker.map(Checker::tasks),
        }
    }

    /// What the reactor has done so far (turns, events, timers fired, clock jumps).
    pub fn reactor_stats(&self) -> ReactorStats {
        self.reactor().stats()
    }

    /// Timers stored in the wheel (pending sleeps that have been polled).
    pub fn timer_count(&self) -> usize {
        self.reactor().timer_count()
    }

    /// Threads alive in the `to_thread` pool (running a job, or idle until their keep-alive ends).
    pub fn blocking_threads(&self) -> usize {
        self.reactor().blocking_threads()
    }

    /// Sockets registered with the reactor.
    pub fn io_source_count(&self) -> usize {
        self.reactor().io_source_count()
    }

    /// Moves a paused clock forward by `by`; timers due by then fire at the next turn.
    ///
    /// # Panics
    /// If the runtime was not built with [`Builder::start_paused`].
    pub fn advance(&self, by: Duration) {
        self.reactor().advance(by);
    }

    /// Shuts the runtime down, waiting at most `timeout` (real time) for running `to_thread`
    /// jobs: tokio's `Runtime::shutdown_timeout`. As the drop does (see [`Runtime`]'s shutdown
    /// section): tasks are cancelled first, queued jobs are dropped without running, then
    /// running jobs are waited for; one still running after `timeout` is left behind on its
    /// thread, detached, without a warning.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// let runtime = cashier::Runtime::new()?;
    /// let (release, stuck) = mpsc::channel::<()>();
    /// // A job that waits for a message nobody sends while the runtime lives (its future is
    /// // dropped at once: the job runs on without it).
    /// runtime.block_on(async { drop(cashier::to_thread(move || stuck.recv())) });
    /// runtime.shutdown_timeout(Duration::from_millis(10)); // returns though the job runs on
    /// drop(release); // the job's `recv` fails, it ends, and its thread with it
    /// # std::io::Result::Ok(())
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        let reactor = self.reactor();
        reactor.set_shutdown_timeout(timeout);
        reactor.set_shutdown_warning(false);
        drop(self);
    }

    /// Shuts the runtime down without waiting for running `to_thread` jobs: tokio's
    /// `Runtime::shutdown_background`, which is `shutdown_timeout(Duration::ZERO)`. Tasks are
    /// cancelled and queued jobs dropped as in a drop; running jobs go on, detached, on their
    /// threads. For a program that must not wait on its blocking work to end (it is stuck, or
    /// about to exit anyway).
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// The reactor the executor parks in.
    pub(crate) fn reactor(&self) -> &Reactor {
        &self.executor.park().reactor
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The views cover what ran in `block_on`; the tasks cancelled after this are not shown.
        if let Some(session) = self.watch.take() {
            session.finish();
        }
    }
}

/// Runs `future` on a new runtime and drops the runtime (cancelling leftover tasks): asyncio's
/// `asyncio.run`.
///
/// ```
/// assert_eq!(cashier::run(async { 1 + 1 }), 2);
/// ```
///
/// # Panics
/// If the runtime cannot be created (the OS refused an event queue: out of file descriptors), or
/// if `future` panics. Use [`Runtime::new`] to handle the first as an error.
pub fn run<F: Future>(future: F) -> F::Output {
    match Runtime::new() {
        Ok(runtime) => runtime.block_on(future),
        Err(error) => panic!("cashier::run could not create a runtime: {error}"),
    }
}

/// Runs the blocking function `f` on the `to_thread` pool and returns a future of its result:
/// the name tokio users know for [`to_thread`](crate::to_thread), which it is, under another
/// name (same pool, same [`ToThread`](crate::task::ToThread) future, same errors).
///
/// ```
/// cashier::run(async {
///     let sum = cashier::spawn_blocking(|| (1..=10u32).sum::<u32>()).await.unwrap();
///     assert_eq!(sum, 55);
/// });
/// ```
///
/// # Panics
/// If no cashier runtime is running on this thread, as `to_thread`.
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> cashier_reactor::ToThread<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    cashier_reactor::to_thread(f)
}

/// The executor's parker: one reactor turn per park.
pub(crate) struct ReactorPark {
    /// The reactor, owned by the runtime through the executor.
    reactor: Reactor,
    /// The debug checks, when on: asked before a park that could last forever (`debug.rs`).
    hang_check: Option<Rc<Checker>>,
    /// The `SIGQUIT` listener of [`Builder::dump_on_sigquit`], asked after every turn.
    quit: Option<RefCell<Signal>>,
}

impl Park for ReactorPark {
    fn park(&self, timeout: Option<Duration>) {
        // The hang check: only a park with no timeout, and with the checks on, asks the reactor
        // whether it expects anything; nothing else on this path changes when they are off.
        if timeout.is_none()
            && let Some(checker) = &self.hang_check
            && !self.reactor.expects_events()
        {
            checker.idle_forever();
        }
        if let Err(error) = self.reactor.turn(timeout) {
            // epoll_wait fails only on a broken epoll fd or bad arguments: not recoverable.
            panic!("cashier: the reactor could not wait for events: {error}");
        }
        // The executor never parks re-entrantly, so this borrow is the only one.
        if let Some(quit) = &self.quit
            && quit.borrow_mut().try_recv()
        {
            eprint!("{SIGQUIT_HEADER}\n{}", crate::task::dump());
        }
    }

    fn unparker(&self) -> Waker {
        self.reactor.unparker()
    }

    fn expects_events(&self) -> bool {
        self.reactor.expects_events()
    }
}

/// The line printed above each dump of [`Builder::dump_on_sigquit`], so that a reader of a busy
/// standard error finds it.
pub const SIGQUIT_HEADER: &str = "── SIGQUIT: task dump (the program goes on)";
