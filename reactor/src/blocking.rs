//! The blocking pool: `to_thread`, for work that would stop the cashier at the counter.
//!
//! A blocking call (a child process, a file read, a DNS lookup) on the runtime thread would stall
//! every task. [`to_thread`] sends it to a pool of threads instead, and returns a future that
//! completes with its result: asyncio's `asyncio.to_thread`, tokio's `spawn_blocking`.
//!
//! # How the result comes back
//!
//! The job and its result slot share an `Arc`. The pool thread runs the job (a panic is caught and
//! becomes [`BlockingError::Panicked`]), stores the result, and wakes the waker the awaiting task
//! left in the slot. That waker belongs to the executor, which sees a wake from a foreign thread:
//! it pushes the task on its remote queue and unparks the reactor. Nothing polls in a loop. Then
//! the job's guard lowers the in-flight count and unparks the reactor itself: a paused clock
//! waits for in-flight jobs, and must learn that one ended even if no task awaits its result.
//!
//! # Sizing
//!
//! Threads are started on demand, when a job arrives and no thread is idle, up to
//! [`DEFAULT_MAX_THREADS`] (64); further jobs queue. An idle thread exits after
//! [`DEFAULT_KEEP_ALIVE`] (10 s) without work. Jobs here mostly *wait* (for a process, a disk, a
//! name server) rather than compute, so more threads than cores is right; 64 bounds the memory
//! (each thread reserves a stack) and the damage of a runaway loop of `to_thread` calls. tokio
//! allows 512 and Python's default executor `min(32, cores + 4)`; both are configurable, and so
//! is this (`Runtime::builder().max_blocking_threads(n)`).
//!
//! # Shutdown
//!
//! When the reactor is dropped, queued jobs that have not started are dropped without running
//! (their closures are dropped, and their futures report [`BlockingError::Cancelled`]), and the
//! drop waits for running jobs to finish, in real time whatever the clock: at most
//! [`DEFAULT_SHUTDOWN_TIMEOUT`] (10 s) unless told otherwise ([`Reactor::set_shutdown_timeout`]).
//! A running job cannot be interrupted, so a job still running then is left behind: its thread
//! goes on, detached, and the reactor says so on standard error (unless
//! [`Reactor::set_shutdown_warning`] turned that off), as tokio's `shutdown_timeout` leaves its
//! threads. A thread left behind touches nothing the reactor frees: the pool's shared part, the
//! result slot and the unparker (with the OS wake-up it writes to) are each owned through an
//! `Arc` the job holds. A task waker left in the slot reaches only its task's allocation, which
//! the waker's own count keeps alive, and the executor's `Arc`ed cross-thread half: by then the
//! task is complete (cancelled) and the executor's remote queue closed, so the wake queues
//! nothing.
//!
//! The pool is the only part of the reactor with locks: it is crossed by other threads by
//! nature, and it is off the per-poll path.
//!
//! [`Reactor::set_shutdown_timeout`]: crate::Reactor::set_shutdown_timeout
//! [`Reactor::set_shutdown_warning`]: crate::Reactor::set_shutdown_warning

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use cashier_trace::{self as trace, Event, WaitOn};

use crate::backend::Unparker;
use crate::driver::Handle;

/// Default upper bound on pool threads (see the module doc).
pub const DEFAULT_MAX_THREADS: usize = 64;
/// Default time an idle pool thread waits for work before exiting.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);
/// Default time dropping the reactor (and so a `cashier::Runtime`) waits, in real time, for
/// running `to_thread` jobs before it leaves their threads behind, detached, with a warning on
/// standard error.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A job as the pool sees it.
type Job = Box<dyn FnOnce() + Send>;

/// The pool: shared by the reactor and its threads.
pub(crate) struct BlockingPool {
    /// Shared with the threads.
    shared: Arc<PoolShared>,
}

/// What the pool's threads share.
struct PoolShared {
    /// Queue and thread accounting.
    state: Mutex<PoolState>,
    /// Signals idle threads that a job (or shutdown) arrived.
    work: Condvar,
    /// Signals [`BlockingPool::shutdown`] that a thread exited (only once shutdown began).
    exited: Condvar,
    /// Jobs submitted and not yet finished (run or dropped); read by the paused clock's rule.
    in_flight: AtomicUsize,
    /// Ends the reactor's wait when a job finishes (see [`JobGuard`]'s `Drop`).
    unparker: Unparker,
    /// Numbers jobs for the trace (`JobSubmitted`, `Waits`, `JobFinished`).
    next_job: AtomicU64,
    /// Thread limit.
    max_threads: usize,
    /// Idle time before a thread exits.
    keep_alive: Duration,
}

/// The pool's lock-protected part.
struct PoolState {
    /// Jobs waiting for a thread.
    queue: VecDeque<Job>,
    /// Threads alive.
    threads: usize,
    /// Threads waiting for work.
    idle: usize,
    /// Wake-ups sent to idle threads and not yet taken.
    notified: usize,
    /// No new jobs; threads exit when the queue is empty.
    shutdown: bool,
    /// Threads to join at shutdown.
    handles: Vec<thread::JoinHandle<()>>,
    /// Names threads.
    spawned: usize,
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        unparker: Unparker,
    ) -> BlockingPool {
        BlockingPool {
            shared: Arc::new(PoolShared {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                    handles: Vec::new(),
                    spawned: 0,
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                in_flight: AtomicUsize::new(0),
                unparker,
                next_job: AtomicU64::new(1),
                max_threads: max_threads.max(1),
                keep_alive,
            }),
        }
    }

    /// Threads alive in the pool (running a job or idle).
    pub(crate) fn threads(&self) -> usize {
        self.shared.lock().threads
    }

    /// Whether any job is queued or running.
    pub(crate) fn is_busy(&self) -> bool {
        self.shared.in_flight.load(Ordering::Acquire) > 0
    }

    /// Runs `job` on a pool thread. If the pool is shut down, `job` is dropped.
    fn submit(&self, job: Job) {
        let mut state = self.shared.lock();
        if state.shutdown {
            return; // dropping the job reports `Cancelled` to its future
        }
        state.queue.push_back(job);
        if state.idle > state.notified {
            state.notified += 1;
            self.shared.work.notify_one();
        } else if state.threads < self.shared.max_threads {
            self.spawn_thread(&mut state);
        }
    }

    /// Starts one more thread (lock held).
    fn spawn_thread(&self, state: &mut PoolState) {
        state.handles.retain(|h| !h.is_finished());
        let shared = Arc::clone(&self.shared);
        let name = format!("cashier-blocking-{}", state.spawned);
        match thread::Builder::new().name(name).spawn(move || shared.worker()) {
            Ok(handle) => {
                state.threads += 1;
                state.spawned += 1;
                state.handles.push(handle);
            }
            Err(_) if state.threads > 0 => {} // the running threads will get to the job
            Err(_) => {
                // No thread at all can run it: drop the queued jobs, which reports `Cancelled`.
                state.queue.clear();
            }
        }
    }

    /// Drops queued jobs without running them, then waits up to `timeout` (real time) for the
    /// pool's threads to exit; later submissions are dropped. Returns how many threads were
    /// still running a job when the wait gave up: those are left behind, detached. A second
    /// call finds nothing queued and waits again for the threads still alive.
    pub(crate) fn shutdown(&self, timeout: Duration) -> usize {
        let queued = {
            let mut state = self.shared.lock();
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.shared.work.notify_all();
        // Outside the lock: a closure's destructor is the user's code.
        drop(queued);
        let mut state = self.shared.lock();
        // No clock is read when no thread is alive: a runtime that never used the pool (or whose
        // threads already exited) pays one lock here and nothing else.
        if state.threads > 0 {
            let deadline = Instant::now().checked_add(timeout);
            while state.threads > 0 {
                let left = match deadline {
                    Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                    None => Duration::MAX, // a timeout too far to represent: wait for good
                };
                if left.is_zero() {
                    break;
                }
                state = match self.shared.exited.wait_timeout(state, left) {
                    Ok((state, _)) => state,
                    Err(poison) => poison.into_inner().0,
                };
            }
        }
        // A thread still counted but not idle holds a job (or is a moment from exiting after
        // one): it is left behind. Idle threads were woken above and exit without work.
        let stuck = state.threads - state.idle;
        let handles = std::mem::take(&mut state.handles);
        drop(state);
        for handle in handles {
            // Join every thread when none holds a job (an idle one exits as soon as it wakes);
            // otherwise only those already finished, and detach the others by dropping their
            // handles.
            if stuck == 0 || handle.is_finished() {
                let _ = handle.join(); // job panics are caught inside; nothing else can panic there
            }
        }
        stuck
    }
}

impl PoolShared {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs run outside the lock and panics inside it are impossible, so poisoning is not
        // expected; recover anyway rather than cascade.
        self.state.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// A pool thread: take jobs until shutdown or `keep_alive` without work.
    fn worker(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // The job catches its closure's panic itself. What may still unwind is foreign
                // code it runs afterwards: the waker it wakes, or the result's destructor when
                // the future is gone and the last reference to the slot is the job's. Caught
                // here, so that the thread goes on and is always taken off the count below
                // (shutdown waits on that count).
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|poison| poison.into_inner());
            state = next;
            state.idle -= 1;
            if state.notified > 0 {
                state.notified -= 1;
            } else if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        if state.shutdown {
            self.exited.notify_all();
        }
    }
}

/// Why a [`to_thread`] job produced no result.
pub enum BlockingError {
    /// The closure panicked; the payload, as `catch_unwind` returned it.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The job never ran: the runtime shut down first, or no thread could be started.
    Cancelled,
}

impl BlockingError {
    /// The panic message, when the payload is a string.
    fn message(&self) -> Option<&str> {
        let BlockingError::Panicked(payload) = self else { return None };
        payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
    }
}

impl fmt::Display for BlockingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.message()) {
            (BlockingError::Panicked(_), Some(message)) => write!(f, "blocking job panicked: {message}"),
            (BlockingError::Panicked(_), None) => f.write_str("blocking job panicked"),
            (BlockingError::Cancelled, _) => {
                f.write_str("blocking job was cancelled before it ran (runtime shut down, or no thread could start)")
            }
        }
    }
}

impl fmt::Debug for BlockingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockingError({self})")
    }
}

impl std::error::Error for BlockingError {}

impl From<BlockingError> for io::Error {
    fn from(error: BlockingError) -> io::Error {
        io::Error::other(error.to_string())
    }
}

/// Where a job's result waits for its future.
struct ResultSlot<T> {
    /// The result and the waiting task's waker.
    state: Mutex<SlotState<T>>,
}

/// The lock-protected part of a [`ResultSlot`].
struct SlotState<T> {
    /// Set once, by the job (or its drop).
    result: Option<Result<T, BlockingError>>,
    /// How long the job ran on its pool thread (zero if it never ran): for the trace.
    ran: Duration,
    /// The task awaiting the result.
    waker: Option<Waker>,
}

impl<T> ResultSlot<T> {
    fn lock(&self) -> MutexGuard<'_, SlotState<T>> {
        self.state.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Stores the result and wakes the task (from the pool thread).
    fn complete(&self, result: Result<T, BlockingError>) {
        let waker = {
            let mut state = self.lock();
            state.result = Some(result);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Owns a submitted job's obligations: whatever happens to the job, the slot gets a result and
/// the in-flight count goes down exactly once.
struct JobGuard<T> {
    /// The job's result slot.
    slot: Arc<ResultSlot<T>>,
    /// The pool's in-flight counter.
    pool: Arc<PoolShared>,
    /// Whether the job produced its result.
    done: bool,
}

impl<T> JobGuard<T> {
    /// Delivers the job's result, and how long it ran.
    fn finish(mut self, result: Result<T, BlockingError>, ran: Duration) {
        self.slot.lock().ran = ran;
        self.slot.complete(result);
        self.done = true;
    }
}

impl<T> Drop for JobGuard<T> {
    fn drop(&mut self) {
        if !self.done {
            self.slot.complete(Err(BlockingError::Cancelled));
        }
        self.pool.in_flight.fetch_sub(1, Ordering::Release);
        // A paused clock does not jump while a job is in flight: the reactor blocks in its OS
        // wait instead (`driver.rs`). The task's waker cannot be relied on to end that wait: the
        // `ToThread` future may not have been polled yet, or may have been dropped. So the pool
        // ends it itself, after the count went down, so that the reactor's next turn sees the
        // pool idle. (Usually the wake above has unparked already and this costs no system call.)
        self.pool.unparker.unpark();
    }
}

/// Runs the blocking closure `f` on the blocking pool and awaits its result: asyncio's
/// `await asyncio.to_thread(f)`.
///
/// Dropping the returned future does not stop the job (a running thread cannot be interrupted);
/// the result is then discarded.
///
/// ```
/// cashier::run(async {
///     let output = cashier::to_thread(|| std::process::Command::new("true").status()).await;
///     assert!(output.unwrap().unwrap().success());
///     let error = cashier::to_thread(|| panic!("oops")).await.unwrap_err();
///     assert_eq!(error.to_string(), "blocking job panicked: oops");
/// });
/// ```
///
/// # Panics
/// If no cashier runtime is running on this thread.
#[track_caller]
pub fn to_thread<F, T>(f: F) -> ToThread<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let handle = Handle::current("to_thread");
    let pool = &handle.inner.blocking;
    let slot = Arc::new(ResultSlot {
        state: Mutex::new(SlotState { result: None, ran: Duration::ZERO, waker: None }),
    });
    let job = pool.shared.next_job.fetch_add(1, Ordering::Relaxed);
    pool.shared.in_flight.fetch_add(1, Ordering::AcqRel);
    let guard = JobGuard { slot: Arc::clone(&slot), pool: Arc::clone(&pool.shared), done: false };
    trace::emit(|| Event::JobSubmitted { job });
    pool.submit(Box::new(move || {
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(f)).map_err(BlockingError::Panicked);
        guard.finish(result, started.elapsed());
    }));
    ToThread { slot, job }
}

/// The future returned by [`to_thread`].
#[must_use = "futures do nothing unless awaited"]
pub struct ToThread<T> {
    /// Shared with the job.
    slot: Arc<ResultSlot<T>>,
    /// The job's number in the trace.
    job: u64,
}

impl<T> Future for ToThread<T> {
    type Output = Result<T, BlockingError>;

    /// Takes the job's result, or waits for it. Taking it spends a unit of the task's
    /// cooperative budget (`cashier-budget`).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        cashier_budget::poll_budgeted(cx, |cx| self.take_result(cx))
    }
}

impl<T> ToThread<T> {
    /// [`ToThread::poll`] without the budget.
    fn take_result(&self, cx: &mut Context<'_>) -> Poll<Result<T, BlockingError>> {
        let job = self.job;
        let mut state = self.slot.lock();
        if let Some(result) = state.result.take() {
            let ran_ns = crate::clock::nanos(state.ran);
            trace::emit(|| Event::JobFinished { job, ran_ns });
            return Poll::Ready(result);
        }
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            state.waker = Some(cx.waker().clone());
        }
        trace::emit(|| Event::Waits { on: WaitOn::Job { job } });
        Poll::Pending
    }
}

impl<T> fmt::Debug for ToThread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToThread").field("done", &self.slot.lock().result.is_some()).finish()
    }
}
