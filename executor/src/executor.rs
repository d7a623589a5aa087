//! The executor: spawning tasks and the run loop that serves them.
//!
//! The first of the three files on a task's path (`executor.rs` → `task.rs` → `join.rs`): here a
//! task is created ([`Core::spawn_named`]), queued ([`enqueue`]), popped and handed to
//! `TaskRef::run`, and finally cancelled if the runtime is dropped first ([`Core::shutdown`]).
//!
//! # Parts
//!
//! - [`Core`]: everything only the runtime thread touches: the local run queue, the owned-task
//!   list, the shutdown flag. Reached from wakers and `spawn` through the thread-local in
//!   `context.rs`, which points at it only while `block_on`, `step` (`step.rs`) or shutdown runs
//!   on this thread.
//! - [`Shared`]: the part other threads may touch: the remote queue, the spawn queue of
//!   [`Handle::spawn`](crate::Handle::spawn), the unpark handle, and the `block_on` future's wake
//!   flag. A [`Handle`] is an `Arc` to it. Every task holds an `Arc` to it, so a waker that outlives the
//!   runtime stays harmless: its push finds the remote queue closed.
//! - [`Executor`]: owns a `Core` and a parker, and runs the loop.
//!
//! # The run loop and its numbers
//!
//! Each turn polls the `block_on` future if it was woken, then serves up to [`EVENT_INTERVAL`]
//! tasks from the local queue, then *parks*: blocks in the parker (the reactor, once there is
//! one) when there is nothing to run, or polls it without blocking once every `EVENT_INTERVAL`
//! polls, so that I/O and timers are looked at even while tasks keep each other busy. Then it moves
//! remote wakes into the local queue, behind the tasks already waiting, and then the tasks spawned
//! from other threads (adopting them into the owned list). A task that wakes itself
//! forever therefore delays a remotely woken task by at most `EVENT_INTERVAL` polls plus the
//! queue's length, never indefinitely.
//!
//! `EVENT_INTERVAL` is 61, tokio's value for its current-thread scheduler: large enough that the
//! non-blocking reactor poll (one `epoll_wait` syscall) costs well under one percent of a busy
//! loop, small enough that a socket is looked at within microseconds. Unlike tokio, remote wakes
//! are drained on every turn, not every 31 polls: when the remote queue is empty that check is a
//! single relaxed load.

use std::cell::Cell;
use std::future::Future;
use std::num::NonZeroU64;
use std::panic::Location;
use std::pin::pin;
// `std`'s `Arc` even under loom: `Waker::from` needs it (see `loom.rs`).
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use cashier_trace::{self as trace, Event, PollResult, Queue, TaskKey};

use crate::context;
use crate::handle::Handle;
use crate::join::JoinHandle;
use crate::loom::{AtomicBool, AtomicU64, Ordering};
use crate::owned_tasks::OwnedTasks;
use crate::park::{Park, ThreadPark};
use crate::run_queue::{LocalQueue, RemotePush, RemoteQueue};
use crate::task::{TaskId, TaskRef};

/// How many polls the run loop makes between two looks at the parker (I/O and timers).
pub const EVENT_INTERVAL: u32 = 61;

/// The runtime-thread half of an executor.
pub(crate) struct Core {
    /// Tasks woken on the runtime thread, in wake order.
    pub(crate) local: LocalQueue,
    /// Every incomplete task; each holds one reference for being here.
    pub(crate) owned: OwnedTasks,
    /// The cross-thread half, shared with every task.
    pub(crate) shared: Arc<Shared>,
    /// Set at shutdown: from then on nothing is queued, every task is about to be cancelled.
    closed: Cell<bool>,
    /// How many tasks were spawned here: the last [`TaskId`] given.
    spawned: Cell<u64>,
}

/// The half of an executor that wakers on other threads reach.
pub(crate) struct Shared {
    /// Tasks woken on other threads.
    pub(crate) remote: RemoteQueue,
    /// Tasks spawned on other threads (`Handle::spawn`) that the runtime thread has not adopted
    /// yet; each holds the reference its owned list will take over.
    pub(crate) spawned: RemoteQueue,
    /// How many tasks were spawned from other threads: their ids count down from `u64::MAX`.
    remote_spawns: AtomicU64,
    /// The `block_on` future was woken and must be polled.
    main_woken: AtomicBool,
    /// Wakes the runtime thread from `Park::park`: the parker's [`Park::unparker`].
    unpark: Waker,
}

impl Core {
    fn new(unpark: Waker) -> Core {
        Core {
            local: LocalQueue::new(),
            owned: OwnedTasks::new(),
            shared: Arc::new(Shared {
                remote: RemoteQueue::new(),
                spawned: RemoteQueue::new(),
                remote_spawns: AtomicU64::new(0),
                main_woken: AtomicBool::new(false),
                unpark,
            }),
            closed: Cell::new(false),
            spawned: Cell::new(0),
        }
    }

    /// The single spawn point (arrow 1 in `task.rs`): one allocation, linked into the owned list,
    /// queued to run. `location` is where `spawn` was called, `name` the task's name if it was
    /// given one: both only go to the trace.
    pub(crate) fn spawn_named<F>(
        &self,
        future: F,
        location: &'static Location<'static>,
        name: Option<&str>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let task = TaskRef::allocate(future, Arc::clone(&self.shared), self.next_id());
        trace::emit(|| Event::Spawn { task: task.key(), location });
        if let Some(name) = name {
            trace::emit_name(task.key(), name);
        }
        self.owned.push(task);
        self.push_local(task);
        JoinHandle::new(task)
    }

    /// The id of the next task spawned here.
    fn next_id(&self) -> TaskId {
        let n = self.spawned.get() + 1;
        self.spawned.set(n);
        // A `u64` counted up by one per spawn does not wrap in any program's life (584 years at
        // a billion spawns a second), so `n` is never zero.
        TaskId::new(NonZeroU64::new(n).expect("task ids never wrap"))
    }

    /// Queues a task this thread just scheduled. After shutdown began, the task is left alone:
    /// shutdown will cancel it.
    pub(crate) fn push_local(&self, task: TaskRef) {
        if !self.closed.get() {
            self.local.push(task);
        }
    }

    /// Moves the tasks spawned from other threads into the owned list and the local queue (arrow
    /// 1 of a remote spawn, `task.rs`). One relaxed load when none was spawned.
    #[inline]
    pub(crate) fn adopt_remote_spawns(&self) {
        self.shared.spawned.take_all(false, |task| self.adopt(task));
    }

    /// Adopts one remotely spawned task: the owned list takes over the reference the spawn queue
    /// held, and the task is queued to run (or, after shutdown began, left to be cancelled).
    fn adopt(&self, task: TaskRef) {
        // The trace hears of a remote spawn here, when the runtime thread first sees it; the
        // spawner's location is not kept in the task, so the event names this line.
        trace::emit(|| Event::Spawn { task: task.key(), location: Location::caller() });
        self.owned.push(task);
        self.push_local(task);
    }

    /// Cancels every incomplete task, dropping each future once, on this thread.
    fn shutdown(&self) {
        self.closed.set(true);
        // Forget the queues first: once tasks start completing they may be freed, and a queue
        // must never point at a freed task.
        self.local.clear();
        self.shared.remote.close();
        // Remote spawns not adopted yet join the owned list, to be cancelled below; a spawn after
        // this finds the queue closed and cancels its task itself (`Handle::spawn`).
        self.shared.spawned.take_all(true, |task| self.adopt(task));
        // A future's destructor may spawn or wake other tasks; spawned ones join the list and are
        // cancelled by this same loop.
        while let Some(task) = self.owned.first() {
            task.header().state.transition_to_shutdown();
            task.cancel_and_complete(self);
        }
    }

    /// Whether this core is the one `shared` belongs to.
    fn owns(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }
}

/// Puts a task that was just scheduled (its `SCHEDULED` bit set by the caller) on a run queue: the
/// local one when called on the runtime thread while it runs, the remote one otherwise.
pub(crate) fn enqueue(task: TaskRef) {
    let shared = &task.header().shared;
    let queued_locally = context::with_core(|core| {
        let ours = core.owns(shared);
        if ours {
            core.push_local(task);
        }
        ours
    });
    if queued_locally == Some(true) {
        trace::emit(|| Event::Wake {
            task: task.key(),
            cause: trace::current_cause(),
            queue: Queue::Local,
        });
    } else if shared.remote.push(task) == RemotePush::WasEmpty {
        shared.unpark.wake_by_ref();
    }
}

/// Reports a wake that queued nothing: the task was running (it is queued again after its poll)
/// or already queued. Only this runtime's tasks, and only when somebody records: a wake from
/// another thread is reported when the runtime drains its remote queue instead.
#[inline(always)]
pub(crate) fn trace_wake_without_enqueue(task: TaskRef) {
    if trace::is_recording() {
        report_wake_without_enqueue(task);
    }
}

/// The out-of-line half of [`trace_wake_without_enqueue`]: kept out of the wake path, which
/// must stay small enough to be inlined (see `cashier_trace`'s `with_current`).
#[cold]
#[inline(never)]
fn report_wake_without_enqueue(task: TaskRef) {
    let ours = context::with_core(|core| core.owns(&task.header().shared)) == Some(true);
    let state = task.header().state.load();
    if ours && !state.is_complete() {
        let queue = if state.is_running() { Queue::WhileRunning } else { Queue::AlreadyScheduled };
        trace::emit(|| Event::Wake { task: task.key(), cause: trace::current_cause(), queue });
    }
}

impl Shared {
    /// The id of the next task spawned from another thread: counted down from `u64::MAX`, so
    /// that it never meets the ids the runtime thread counts up from 1.
    pub(crate) fn next_remote_id(&self) -> TaskId {
        let n = self.remote_spawns.fetch_add(1, Ordering::Relaxed);
        TaskId::new(NonZeroU64::new(u64::MAX - n).expect("task ids never wrap"))
    }

    /// Queues a task `Handle::spawn` just allocated on the spawn queue, unparking the runtime if
    /// the queue was empty (whoever made it non-empty unparked it otherwise). `false` if the
    /// runtime has shut down: nothing was queued, the task is still the caller's alone.
    pub(crate) fn push_spawned(&self, task: TaskRef) -> bool {
        match self.spawned.push(task) {
            RemotePush::WasEmpty => self.unpark.wake_by_ref(),
            RemotePush::WasNotEmpty => {}
            RemotePush::Closed => return false,
        }
        true
    }

    /// Consumes the `block_on` future's wake flag.
    fn take_main_wake(&self) -> bool {
        // Load first: a swap would write the cache line on every turn of the loop.
        self.main_woken.load(Ordering::Acquire) && self.main_woken.swap(false, Ordering::Acquire)
    }
}

/// The waker of the `block_on` future: a flag, plus an unpark when woken from another thread.
impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let already = self.main_woken.swap(true, Ordering::Release);
        if already && !trace::is_recording() {
            return; // whoever set the flag unparked the runtime if needed
        }
        let on_runtime_thread = context::with_core(|core| core.owns(self)) == Some(true);
        if on_runtime_thread {
            let queue = if already { Queue::AlreadyScheduled } else { Queue::Local };
            trace::emit(|| Event::Wake {
                task: TaskKey::ROOT,
                cause: trace::current_cause(),
                queue,
            });
        } else if !already {
            self.unpark.wake_by_ref();
        }
    }
}

/// A single-threaded executor: spawn tasks onto it, and drive them with [`Executor::block_on`].
///
/// It parks through a [`Park`] implementation when there is nothing to do: [`ThreadPark`] by
/// default (plain thread parking, no I/O), or the reactor in the `cashier` crate.
///
/// ```
/// use cashier_executor::{Executor, spawn};
///
/// let executor = Executor::new();
/// let total = executor.block_on(async {
///     let handles: Vec<_> = (1..=10).map(|n| spawn(async move { n * n })).collect();
///     let mut total = 0;
///     for handle in handles {
///         total += handle.await.unwrap();
///     }
///     total
/// });
/// assert_eq!(total, 385);
/// ```
///
/// Dropping the executor cancels every task that has not completed: each future is dropped once,
/// on this thread, and their `JoinHandle`s report [`JoinError::is_cancelled`](crate::JoinError).
pub struct Executor<P: Park = ThreadPark> {
    /// Queues and tasks; pointed at by the thread-local while the loop runs.
    pub(crate) core: Core,
    /// Where the loop blocks when idle.
    pub(crate) park: P,
}

impl Executor<ThreadPark> {
    /// An executor that parks the thread when idle (no I/O, no timers).
    pub fn new() -> Executor<ThreadPark> {
        Executor::with_park(ThreadPark::new())
    }
}

impl Default for Executor<ThreadPark> {
    fn default() -> Self {
        Executor::new()
    }
}

impl<P: Park> Executor<P> {
    /// An executor that parks through `park`.
    pub fn with_park(park: P) -> Executor<P> {
        Executor { core: Core::new(park.unparker()), park }
    }

    /// The parker, for the code that built the executor around it.
    pub fn park(&self) -> &P {
        &self.park
    }

    /// Spawns a task from outside the run loop; it starts running at the next `block_on` or `step`.
    ///
    /// Inside a task, use the free function [`spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn_named(future, Location::caller(), None)
    }

    /// The number of spawned tasks that have not completed. Tasks spawned from other threads
    /// ([`Handle::spawn`]) count from the turn of the run loop that takes them in.
    pub fn alive_tasks(&self) -> usize {
        self.core.owned.len()
    }

    /// A [`Handle`] to this executor, which other threads can spawn onto.
    pub fn handle(&self) -> Handle {
        Handle::new(Arc::clone(&self.core.shared))
    }

    /// Runs `future` to completion on this thread, running spawned tasks while it waits: asyncio's
    /// `loop.run_until_complete`.
    ///
    /// Tasks still pending when `future` completes stay on the executor and run again at the next
    /// `block_on`, or are cancelled when the executor is dropped.
    ///
    /// # Panics
    ///
    /// - If called from inside a running `block_on` or `step` on this thread: that would block the
    ///   one thread every task runs on. Spawn the future and await its `JoinHandle` instead.
    /// - If `future` panics; the panic propagates to the caller. Panics in spawned tasks do not:
    ///   they are reported through their `JoinHandle`s.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = context::enter_block_on(&self.core);
        let shared = Arc::clone(&self.core.shared);
        let waker = Waker::from(Arc::clone(&shared));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        shared.main_woken.store(true, Ordering::Relaxed);
        let mut ticks = 0;
        loop {
            if shared.take_main_wake() {
                ticks += 1;
                trace::emit(|| Event::PollStart { task: TaskKey::ROOT });
                let polled = {
                    // A fresh cooperative budget for this poll (`cashier-budget`), revoked even
                    // if the future panics out of `block_on`.
                    let _budget = cashier_budget::Grant::new();
                    future.as_mut().poll(&mut cx)
                };
                trace::emit(|| Event::PollEnd {
                    task: TaskKey::ROOT,
                    result: if polled.is_ready() { PollResult::Ready } else { PollResult::Pending },
                    wakers: None,
                });
                if let Poll::Ready(output) = polled {
                    return output;
                }
            }
            while ticks < EVENT_INTERVAL {
                let Some(task) = self.core.local.pop() else {
                    break;
                };
                task.run(&self.core);
                ticks += 1;
            }
            let idle = self.core.local.is_empty()
                && !shared.main_woken.load(Ordering::Acquire)
                && shared.remote.is_empty()
                && shared.spawned.is_empty();
            if idle {
                self.park.park(None);
                ticks = 0;
            } else if ticks >= EVENT_INTERVAL {
                self.park.park(Some(Duration::ZERO));
                ticks = 0;
            }
            shared.remote.drain_into(&self.core.local);
            self.core.adopt_remote_spawns();
        }
    }
}

#[cfg(all(test, loom))]
impl<P: Park> Executor<P> {
    /// The cross-thread half, weakly: the loom models check that it is freed once the executor is
    /// dropped and their threads are joined, which needs every task freed (each holds a count).
    pub(crate) fn shared_weak(&self) -> std::sync::Weak<Shared> {
        Arc::downgrade(&self.core.shared)
    }
}

impl<P: Park> Drop for Executor<P> {
    fn drop(&mut self) {
        // Futures dropped here may spawn or wake; give them this core as their context.
        let _enter = context::enter_shutdown(&self.core);
        self.core.shutdown();
    }
}

/// The number of spawned tasks of the executor running on this thread that have not completed,
/// or `None` outside `block_on` and `step` (the task dump's count, `cashier::task::dump`).
pub fn alive_tasks_here() -> Option<usize> {
    context::with_core(|core| core.owned.len())
}

/// Spawns a task on the executor running on this thread: asyncio's `create_task`.
///
/// The future need not be `Send`: it only ever runs on this thread. It starts running at the
/// executor's next turn, not inside this call. The returned [`JoinHandle`] gives its output;
/// dropping the handle lets the task run on, detached.
///
/// ```
/// use std::rc::Rc;
///
/// let executor = cashier_executor::Executor::new();
/// executor.block_on(async {
///     let shared = Rc::new(5); // `Rc` is not `Send`, and that is fine
///     let handle = cashier_executor::spawn(async move { *shared + 1 });
///     assert_eq!(handle.await.unwrap(), 6);
/// });
/// ```
///
/// # Panics
///
/// If no executor is running on this thread (outside `block_on` and `step`).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let location = Location::caller(); // here: `#[track_caller]` does not reach into the closure
    let mut future = Some(future);
    match context::with_core(|core| {
        core.spawn_named(future.take().expect("called once"), location, None)
    }) {
        Some(handle) => handle,
        None => panic!(
            "`spawn` called outside of a cashier runtime: call it from inside a future run by \
             `Runtime::block_on` or `cashier::run` (or use `Runtime::spawn` / `Executor::spawn`)"
        ),
    }
}

// Compile-time check that `Shared` may be shared with wakers on any thread.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Shared>();
};
