//! A task: one heap allocation holding a header and a future, and every step of its life.
//!
//! This file is the middle of the three a reader follows from `spawn` to a resolved `JoinHandle`:
//! `executor.rs` creates tasks and pops them from run queues, this file polls, wakes and completes
//! them, and `join.rs` hands the output back. The decisions each step makes are in `state.rs`.
//!
//! # Layout
//!
//! A spawned future `F` lives in one `Box<Task<F>>`, allocated once at spawn and freed when the
//! last reference goes. `Task<F>` is `#[repr(C)]` with the [`Header`] first, so a pointer to the
//! task is a pointer to its header: the executor, the run queues and every `Waker` hold a
//! type-erased [`TaskRef`] to the header, and reach the typed parts through the header's vtable.
//!
//! # Lifecycle
//!
//! ```text
//!    1: spawn                          2: popped and polled
//!  ───────────────► [SCHEDULED] ───────────────────────────────► [RUNNING] ───┐ 4: woken during
//!                      ▲    ▲                                      │  │  ▲    │    the poll
//!   3: woken while     │    │  5: poll returned Pending after      │  │  └────┘    (flag only)
//!      idle            │    └──── a wake during it: re-queued ◄────┘  │
//!                      │                                              │ 7: poll returned Ready,
//!                   [IDLE] ◄─────── 6: poll returned Pending ─────────┤    panicked, or the task
//!                                                                     ▼    was cancelled
//!                                                                [COMPLETE] ── 8: output taken
//!                                                                                or dropped
//! ```
//!
//! 1. `spawn` → `Core::spawn_named` → [`TaskRef::allocate`] → `OwnedTasks::push` → `Core::push_local`;
//!    or, from another thread, `Handle::spawn` → [`TaskRef::allocate_remote`] → the spawn queue,
//!    then on the runtime thread `Core::adopt_remote_spawns` → `RemoteQueue::take_all` →
//!    `Core::adopt` → `OwnedTasks::push` → `Core::push_local` (see "Remote spawns").
//! 2. the run loop (or `Executor::step`) → `LocalQueue::pop` → [`TaskRef::run`] →
//!    `transition_to_running` → `vtable.poll`.
//! 3. `Waker::wake` → [`TaskRef::wake`] → `transition_to_scheduled` says `Enqueue` →
//!    `executor::enqueue`: the local queue on the runtime thread (no lock, no syscall), else the
//!    remote queue and an unpark of the runtime.
//! 4. `Waker::wake` → [`TaskRef::wake`] → `transition_to_scheduled` only sets `SCHEDULED`: the
//!    task is not queued while it runs, so it can never be polled twice at once.
//! 5. [`TaskRef::run`] → `transition_to_idle` says `Requeue` → `Core::push_local`.
//! 6. [`TaskRef::run`] → `transition_to_idle` says `Idle`: only a waker can bring it back.
//! 7. [`TaskRef::run`] → `complete` → `transition_to_complete` → wake the joiner or drop the
//!    output → `OwnedTasks::remove` → release the executor's reference.
//! 8. `JoinHandle::poll` → `vtable.read_output`, or `JoinHandle::drop` → `vtable.drop_output`
//!    (for a remote task, the same from `RemoteJoinHandle`, on its thread); whoever releases the
//!    last reference calls `vtable.dealloc`.
//!
//! Cancellation joins the same paths: `JoinHandle::abort` → `transition_to_cancelled` sets
//! `CANCELLED` and, for an idle task, says `Enqueue` → `executor::enqueue` (arrow 3's queueing,
//! without [`TaskRef::wake`]); where arrow 2 would poll it, [`TaskRef::run`] drops the future
//! instead and takes arrow 7 with `JoinError::Cancelled`.
//!
//! # Ownership: who holds a reference
//!
//! The count in the state word counts: the executor's owned-task list (from spawn until
//! completion; for a remote spawn, the spawn queue holds this one until the runtime adopts the
//! task), the `JoinHandle` or `RemoteJoinHandle` (until dropped), every `AbortHandle`, and every
//! `Waker` clone. A run queue holds *no*
//! reference: only incomplete tasks are queued, and incomplete tasks are kept alive by the owned
//! list. Shutdown closes both queues before it completes any task, so a queue never points at a
//! freed task.
//!
//! # Remote spawns
//!
//! `Handle::spawn` (`handle.rs`) allocates a `Send` task on the calling thread with the `REMOTE`
//! bit, and pushes it on the executor's *spawn queue* (a second lock-free queue, beside the remote
//! wake queue); the reference counted for the owned list travels with it. Arrow 1 then happens on
//! the runtime thread when it drains that queue: `Core::adopt_remote_spawns` →
//! `OwnedTasks::push` → `Core::push_local`, and the task lives as any other. Shutdown adopts what
//! is left in the spawn queue before it cancels the owned list, so a remote task is cancelled,
//! like the rest, on the runtime thread; a spawn that finds the queue closed drops its future on
//! its own thread ([`TaskRef::cancel_unspawned`]) and its handle reports it cancelled. Its joiner,
//! the `RemoteJoinHandle`, may be on any thread: it hands the `join_waker` slot over with the
//! `JOIN_WAKER` bit (`state.rs`) and reads the output once it sees `COMPLETE` (`Acquire`).
//!
//! # Threads
//!
//! The future, its output and the `join_waker` slot of a task spawned on the runtime thread are
//! only ever touched on the runtime thread: polling, completion and shutdown run there, and the
//! `JoinHandle` is `!Send`, so it stays on the thread that spawned the task (remote spawns, whose
//! future and output are `Send`, are the exception described above). That is what lets `spawn` accept `!Send` futures. A `Waker` may
//! travel to any thread, and there it only touches `state`, `vtable`, `shared` and, while it holds
//! the `SCHEDULED` claim, `queue_next`. When the last reference is released on another thread the
//! task is freed there, but by then its stage holds neither the future nor an output (see
//! [`TaskRef::drop_ref`]), so no `!Send` value is dropped off its thread.

use std::cell::Cell;
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::num::NonZeroU64;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::{self, NonNull};
// `std`'s `Arc` even under loom: `Shared` is shared with `Waker::from` (see `loom.rs`).
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use cashier_trace::{self as trace, Cause, Event, Outcome, PollResult, TaskKey};

use crate::executor::{self, Core, Shared};
use crate::join::JoinError;
use crate::loom::{AtomicPtr, UnsafeCell};
use crate::state::{State, ToComplete, ToIdle, ToRunning, ToScheduled};

/// The type-independent part of every task; the first field of `Task<F>`.
#[repr(C)]
pub(crate) struct Header {
    /// Flags and reference count; see `state.rs`. Any thread.
    pub(crate) state: State,
    /// The functions that know the future's type. Immutable.
    vtable: &'static TaskVTable,
    /// Next task in whichever run queue holds this one. Written only by the party that set
    /// `SCHEDULED` (until the executor pops the task), so at most one queue links it at a time.
    pub(crate) queue_next: AtomicPtr<Header>,
    /// Previous task in the executor's owned-task list. Runtime thread only.
    pub(crate) owned_prev: Cell<*const Header>,
    /// Next task in the executor's owned-task list. Runtime thread only.
    pub(crate) owned_next: Cell<*const Header>,
    /// The executor's cross-thread half: remote queue and unpark handle. Each task holds one `Arc`
    /// count, so a waker that outlives the runtime still points at valid memory. Immutable.
    pub(crate) shared: Arc<Shared>,
    /// The waker of whoever awaits the `JoinHandle`. Runtime thread only for a local task; for a
    /// remote one (`Handle::spawn`), handed between its `RemoteJoinHandle` and the runtime thread
    /// by the `JOIN_WAKER` bit (`state.rs`).
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The task's id, given by its executor at spawn. Immutable.
    pub(crate) id: TaskId,
}

/// A task's identity, unique among the tasks of its runtime for the runtime's whole life: tokio's
/// `task::Id`. [`JoinHandle::id`](crate::JoinHandle::id) and
/// [`AbortHandle::id`](crate::AbortHandle::id) give it;
/// [`JoinSet::join_next_with_id`](crate::JoinSet::join_next_with_id) pairs it with the task's
/// result.
///
/// Unlike the task's key in trace events (its address, which a later task may reuse), an id is
/// never reused: the executor counts its spawns.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    /// The id numbered `n`: local spawns count up from 1, remote ones (`Handle::spawn`) down
    /// from `u64::MAX`, so the two never meet.
    pub(crate) fn new(n: NonZeroU64) -> TaskId {
        TaskId(n)
    }

    /// The number behind the id.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The operations that need the concrete future type, one table per `F`.
struct TaskVTable {
    /// Polls the future; on `Ready` (or a panic) drops it and stores the result, and says which.
    poll: unsafe fn(TaskRef, &mut Context<'_>) -> PollResult,
    /// Drops the future and stores `JoinError::Cancelled`.
    cancel: unsafe fn(TaskRef),
    /// Moves the stored result into a `*mut Poll<Result<F::Output, JoinError>>`.
    read_output: unsafe fn(TaskRef, *mut ()),
    /// Drops the stored result.
    drop_output: unsafe fn(TaskRef),
    /// Frees the allocation.
    dealloc: unsafe fn(TaskRef),
}

/// The whole allocation of a spawned future.
#[repr(C)]
struct Task<F: Future> {
    /// Must stay first: a `*const Task<F>` is used as a `*const Header`.
    header: Header,
    /// The future, then its result. The future is polled and dropped on the runtime thread (or,
    /// for a remote spawn whose runtime is gone, by the spawner before anyone else can reach it:
    /// `cancel_unspawned`); the result is read or dropped by whoever holds the join interest: a
    /// `JoinHandle` on the runtime thread, a `RemoteJoinHandle` on any thread after `COMPLETE`.
    stage: UnsafeCell<Stage<F>>,
}

/// What the task's allocation holds besides the header.
enum Stage<F: Future> {
    /// The future, pinned here until it is dropped in place.
    Running(F),
    /// The future's output, or why there is none.
    Finished(Result<F::Output, JoinError>),
    /// The result was taken or dropped.
    Consumed,
}

/// A type-erased pointer to a task's header.
///
/// Copying a `TaskRef` does not add a reference. Every function that receives one states who
/// keeps the task alive meanwhile: a waker's count, the `JoinHandle`'s, or the owned list's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskRef(NonNull<Header>);

impl TaskRef {
    /// Allocates a task for `future` (the one allocation of a spawn). The new task is `SCHEDULED`,
    /// has a `JoinHandle`, and holds two references: one for the executor's owned list, one for the
    /// `JoinHandle` the caller creates.
    pub(crate) fn allocate<F>(future: F, shared: Arc<Shared>, id: TaskId) -> TaskRef
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Self::allocate_with(future, shared, id, State::new())
    }

    /// Allocates a task for `Handle::spawn`, on the spawning thread, as [`TaskRef::allocate`]
    /// does, but `REMOTE`: its owned list's reference is held by the executor's spawn queue until
    /// the runtime thread adopts it, and its joiner is a `RemoteJoinHandle`.
    pub(crate) fn allocate_remote<F>(future: F, shared: Arc<Shared>, id: TaskId) -> TaskRef
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Self::allocate_with(future, shared, id, State::new_remote())
    }

    /// The allocation both spawns share.
    #[inline(always)]
    fn allocate_with<F>(future: F, shared: Arc<Shared>, id: TaskId, state: State) -> TaskRef
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let task = Box::new(Task {
            header: Header {
                state,
                vtable: &Task::<F>::VTABLE,
                queue_next: AtomicPtr::new(ptr::null_mut()),
                owned_prev: Cell::new(ptr::null()),
                owned_next: Cell::new(ptr::null()),
                shared,
                join_waker: UnsafeCell::new(None),
                id,
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        TaskRef(NonNull::from(Box::leak(task)).cast())
    }

    /// Completes, as cancelled, a remote task its runtime never took (the spawn queue was
    /// closed): drops the future here, on the spawning thread, and leaves only the
    /// `RemoteJoinHandle`'s reference.
    ///
    /// # Safety
    /// The caller alone can reach the task: it was just allocated by `allocate_remote` and is in
    /// no queue; its future is `Send` (`allocate_remote`'s bound), so it may be dropped here.
    pub(crate) unsafe fn cancel_unspawned(self) {
        // SAFETY: nobody else can reach the task (caller's contract), which gives the exclusive
        // access to the stage that `cancel` needs; dropping the future on this thread is sound
        // because it is `Send` (`allocate_remote`'s bound); the vtable matches.
        unsafe { (self.header().vtable.cancel)(self) };
        self.header().state.set_cancelled_unspawned();
    }

    /// Rebuilds a `TaskRef` from a pointer obtained from [`TaskRef::as_ptr`].
    ///
    /// # Safety
    /// `ptr` must point to the header of a task that is still allocated.
    pub(crate) unsafe fn from_ptr(ptr: *const Header) -> TaskRef {
        // SAFETY: the caller guarantees `ptr` is a live header, hence non-null.
        TaskRef(unsafe { NonNull::new_unchecked(ptr.cast_mut()) })
    }

    /// The header pointer, for intrusive links and waker data.
    pub(crate) fn as_ptr(self) -> *const Header {
        self.0.as_ptr()
    }

    /// The task's header.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a `TaskRef` only exists for an allocated task, and every holder is covered by a
        // reference count for as long as it uses it (see the type's documentation).
        unsafe { self.0.as_ref() }
    }

    /// The single wake point: `Waker::wake` and `Waker::wake_by_ref` end here (arrows 3 and 4).
    /// `JoinHandle::abort` takes a sibling path, its own transition (`transition_to_cancelled`)
    /// followed by the same `executor::enqueue`. The caller holds a reference for the duration of
    /// the call.
    #[inline]
    pub(crate) fn wake(self) {
        match self.header().state.transition_to_scheduled() {
            ToScheduled::Enqueue => executor::enqueue(self),
            ToScheduled::Nothing => executor::trace_wake_without_enqueue(self),
        }
    }

    /// The clones of this task's waker alive now, as far as the count can tell: the reference
    /// count less the owned list's reference and the `JoinHandle`'s (if it still has one). An
    /// `AbortHandle` also holds a reference and is counted here as a waker, so a live one can
    /// hide a lost waker from the check. Only for the trace (lost-waker check): read on the
    /// runtime thread while the task is incomplete, so the owned list's reference is there to
    /// subtract.
    fn wakers(self) -> u32 {
        let state = self.header().state.load();
        let executors = 1 + usize::from(state.has_join_interest());
        u32::try_from(state.ref_count().saturating_sub(executors)).unwrap_or(u32::MAX)
    }

    /// The task's identity in trace events: its address.
    pub(crate) fn key(self) -> TaskKey {
        TaskKey(self.as_ptr() as usize)
    }

    /// The single poll point (arrows 2, 5, 6, 7): the executor popped this task from its local
    /// queue. The owned list's reference keeps it alive until `complete` releases it.
    ///
    /// Returns how the poll ended, or `None` if the task had been aborted and was dropped without
    /// a poll. The run loop ignores it; `Executor::step` reports it (`step.rs`).
    ///
    /// Always inlined: the run loop is the one call that matters, and left to itself the compiler
    /// stopped inlining this once its trace points grew (each yield then paid a call and about
    /// 16 instructions more: BENCHMARKS.md, issue 11).
    #[inline(always)]
    pub(crate) fn run(self, core: &Core) -> Option<PollResult> {
        let header = self.header();
        if header.state.transition_to_running() == ToRunning::Cancel {
            self.cancel_and_complete(core);
            return None;
        }
        // A waker that borrows the caller's reference instead of taking one: most polls never
        // clone it, so polling costs no reference-count traffic. `ManuallyDrop` keeps its drop
        // from releasing a count it never took.
        // SAFETY: the data pointer is a live task header and the vtable is the task vtable, whose
        // functions expect exactly that.
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(self.raw_waker()) });
        let mut cx = Context::from_waker(&waker);
        trace::emit(|| Event::PollStart { task: self.key() });
        // Each poll gets a fresh cooperative budget (`cashier-budget`). No guard is needed to
        // revoke it: `vtable.poll` catches the future's panics, so nothing unwinds here.
        cashier_budget::grant();
        // SAFETY: we are on the runtime thread and hold the `RUNNING` claim, so nobody else
        // touches the stage; `vtable.poll` matches the task's future type.
        let result = unsafe { (header.vtable.poll)(self, &mut cx) };
        cashier_budget::revoke();
        trace::emit(|| Event::PollEnd { task: self.key(), result, wakers: Some(self.wakers()) });
        match result {
            PollResult::Pending => {}
            PollResult::Ready => {
                self.complete(core, Outcome::Returned);
                return Some(result);
            }
            PollResult::Panicked => {
                self.complete(core, Outcome::Panicked);
                return Some(result);
            }
        }
        match header.state.transition_to_idle() {
            ToIdle::Idle => {}
            ToIdle::Requeue => core.push_local(self),
            ToIdle::Cancel => self.cancel_and_complete(core),
        }
        Some(result)
    }

    /// Drops the future of a task this thread holds the `RUNNING` claim on, then completes it.
    /// Used by abort and by runtime shutdown.
    pub(crate) fn cancel_and_complete(self, core: &Core) {
        // SAFETY: runtime thread, `RUNNING` claim held: the stage is ours; the vtable matches.
        unsafe { (self.header().vtable.cancel)(self) };
        self.complete(core, Outcome::Cancelled);
    }

    /// The single completion point (arrow 7). The result is stored; the owned list's reference is
    /// released here, so the task may be freed before this returns. `outcome` is for the trace
    /// (a future whose destructor panicked after it returned is reported as `Returned` there, and
    /// as a panic through its `JoinHandle`).
    fn complete(self, core: &Core, outcome: Outcome) {
        let header = self.header();
        let key = self.key();
        trace::emit(|| Event::Complete { task: key, outcome });
        let joiner = match header.state.transition_to_complete() {
            ToComplete::NotifyJoiner => {
                // SAFETY: the slot is ours: a local task's slot is only touched on the runtime
                // thread; a remote task's, because this completing swap saw `JOIN_WAKER` set,
                // and its `RemoteJoinHandle` never touches the slot once it sees `COMPLETE`. The
                // slot is only borrowed for this `take`.
                header.join_waker.with_mut(|slot| unsafe { (*slot).take() })
            }
            ToComplete::DropOutput => {
                // SAFETY: the task is complete and its join interest was gone before (a dropped
                // `JoinHandle`, or a `RemoteJoinHandle` that cleared `JOIN_INTEREST` before this
                // `COMPLETE`), so nothing else will read the stage.
                unsafe { (header.vtable.drop_output)(self) };
                None
            }
            // A remote joiner with no waker registered: it polls again on its own and finds the
            // task complete; the slot is its, not ours (`state.rs`, `JOIN_WAKER`).
            ToComplete::KeepOutput => None,
        };
        // Finish our own bookkeeping before running any foreign code: the joiner's `wake` may do
        // anything, even panic, and must find the task fully completed.
        core.owned.remove(self);
        self.drop_ref();
        if let Some(joiner) = joiner {
            trace::with_cause(|| Cause::Join { task: key }, || contain_panic(|| joiner.wake()));
        }
    }

    /// Moves the result into `dst`, which must be a `*mut Poll<Result<T, JoinError>>` with `T` the
    /// task's output type.
    ///
    /// # Safety
    /// Task complete, `T` as above (the `JoinHandle<T>` created by spawn), and the caller its
    /// joiner: on the runtime thread for a `JoinHandle`; for a `RemoteJoinHandle` (`T: Send`),
    /// on any thread, after seeing `COMPLETE` with `Acquire` (the stage was written before it).
    pub(crate) unsafe fn read_output(self, dst: *mut ()) {
        // SAFETY: forwarded from the caller's contract.
        unsafe { (self.header().vtable.read_output)(self, dst) }
    }

    /// Drops the stored result (the `JoinHandle` is dropped after completion).
    ///
    /// # Safety
    /// Task complete, and the caller its joiner, as for [`TaskRef::read_output`].
    pub(crate) unsafe fn drop_output(self) {
        // SAFETY: forwarded from the caller's contract.
        unsafe { (self.header().vtable.drop_output)(self) }
    }

    /// Adds a reference.
    pub(crate) fn add_ref(self) {
        self.header().state.ref_inc();
    }

    /// Releases one reference; the last one frees the task.
    ///
    /// The caller gives up the reference it held. Freeing may happen on any thread (a waker
    /// dropped elsewhere): by then the owned list has released its reference, which it does only
    /// after completion, and the `JoinHandle` has taken or dropped the output, so the stage is
    /// `Consumed` or holds a `JoinError` (which is `Send`).
    pub(crate) fn drop_ref(self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference, so nobody else can reach the task; the vtable
            // matches the allocation's type.
            unsafe { (self.header().vtable.dealloc)(self) }
        }
    }

    /// A `RawWaker` for this task that does not own a reference by itself.
    fn raw_waker(self) -> RawWaker {
        RawWaker::new(self.as_ptr().cast(), &WAKER_VTABLE)
    }
}

impl<F: Future> Task<F> {
    /// The vtable for tasks of this future type; promoted to a `'static`.
    const VTABLE: TaskVTable = TaskVTable {
        poll: Self::poll,
        cancel: Self::cancel,
        read_output: Self::read_output,
        drop_output: Self::drop_output,
        dealloc: Self::dealloc,
    };

    /// Runs `f` with a pointer to the stage of the task `task` points to. The pointer must not
    /// escape `f`: under loom, the access is checked against other threads' for as long as `f` runs.
    ///
    /// # Safety
    /// `task` must be a task of this `F`, and the caller with the right to touch the stage: on
    /// the runtime thread with the `RUNNING` claim, or the joiner of a complete task (its
    /// `JoinHandle` on the runtime thread, or its `RemoteJoinHandle` on any thread once it saw
    /// `COMPLETE` with `Acquire`), or the only party that can reach the task at all.
    unsafe fn with_stage<R>(task: TaskRef, f: impl FnOnce(*mut Stage<F>) -> R) -> R {
        // SAFETY: `Task<F>` is `repr(C)` with the header first, and the caller guarantees the type.
        let task = unsafe { task.0.cast::<Task<F>>().as_ref() };
        task.stage.with_mut(f)
    }

    /// # Safety
    /// As [`Task::with_stage`], with the `RUNNING` claim; the stage holds the future.
    unsafe fn poll(task: TaskRef, cx: &mut Context<'_>) -> PollResult {
        let poll_stage = |stage: *mut Stage<F>| {
            // A panic is contained here and becomes the task's result; the run loop goes on.
            let polled = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: we have exclusive access to the stage (caller's contract).
                let Stage::Running(future) = (unsafe { &mut *stage }) else {
                    unreachable!("a task without a future was polled");
                };
                // SAFETY: the future lives in the task's heap allocation and is never moved: it
                // is dropped in place by `finish`. That is the pinning guarantee.
                unsafe { Pin::new_unchecked(future) }.poll(cx)
            }));
            let (result, polled) = match polled {
                Ok(Poll::Pending) => return PollResult::Pending,
                Ok(Poll::Ready(output)) => (Ok(output), PollResult::Ready),
                Err(payload) => (Err(JoinError::panicked(payload)), PollResult::Panicked),
            };
            // SAFETY: exclusive access (caller's contract); the stage holds the future.
            unsafe { Self::finish(stage, result) };
            polled
        };
        // SAFETY: forwarded from the caller's contract.
        unsafe { Self::with_stage(task, poll_stage) }
    }

    /// # Safety
    /// As [`Task::poll`].
    unsafe fn cancel(task: TaskRef) {
        // SAFETY: `finish` needs exclusive access to a stage holding the future: the caller's
        // contract (the `RUNNING` claim) gives both, and `with_stage` is called under it.
        unsafe { Self::with_stage(task, |stage| Self::finish(stage, Err(JoinError::cancelled()))) }
    }

    /// Drops the future in place and stores `result`. If the future's destructor panics, the
    /// panic becomes the result: a destructor that panics is a bug its owner wants to hear about.
    ///
    /// # Safety
    /// Exclusive access to `stage`, which holds the future.
    unsafe fn finish(stage: *mut Stage<F>, result: Result<F::Output, JoinError>) {
        // SAFETY: exclusive access; dropping in place honours the pin.
        let dropped = catch_unwind(AssertUnwindSafe(|| unsafe { ptr::drop_in_place(stage) }));
        // The future is dropped now, even if its destructor panicked (the rest of it was dropped
        // while unwinding). Record that before anything else can unwind, so that no path can
        // drop it a second time.
        // SAFETY: exclusive access; the old value is already dropped, so it must not be dropped
        // again, which `ptr::write` guarantees.
        unsafe { ptr::write(stage, Stage::Consumed) };
        let result = match dropped {
            Ok(()) => result,
            Err(payload) => {
                contain_panic(move || drop(result));
                Err(JoinError::panicked(payload))
            }
        };
        // SAFETY: exclusive access; the stage holds `Consumed`, which has nothing to drop.
        unsafe { ptr::write(stage, Stage::Finished(result)) };
    }

    /// # Safety
    /// As [`Task::with_stage`] for a complete task; `dst` is a
    /// `*mut Poll<Result<F::Output, JoinError>>`.
    unsafe fn read_output(task: TaskRef, dst: *mut ()) {
        let take_result = |stage: *mut Stage<F>| {
            // SAFETY: exclusive access to the complete task's stage (caller's contract).
            let stage = unsafe { &mut *stage };
            let Stage::Finished(_) = stage else {
                panic!("`JoinHandle` polled after it returned the task's result");
            };
            let Stage::Finished(result) = mem::replace(stage, Stage::Consumed) else {
                unreachable!()
            };
            result
        };
        // SAFETY: forwarded from the caller's contract.
        let result = unsafe { Self::with_stage(task, take_result) };
        // SAFETY: the caller guarantees the pointee type; it is initialised (a `Poll::Pending`).
        unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(result) };
    }

    /// # Safety
    /// As [`Task::with_stage`] for a complete task.
    unsafe fn drop_output(task: TaskRef) {
        // SAFETY: the caller's contract is `with_stage`'s, which gives exclusive access to the
        // stage for the `replace`.
        let result =
            unsafe { Self::with_stage(task, |stage| mem::replace(&mut *stage, Stage::Consumed)) };
        // An output whose destructor panics must not unwind into the run loop or a `drop`.
        contain_panic(move || drop(result));
    }

    /// # Safety
    /// `task` is a task of this `F` whose last reference was just released.
    unsafe fn dealloc(task: TaskRef) {
        // SAFETY: the allocation came from `Box<Task<F>>` in `allocate` and nobody can reach it.
        drop(unsafe { Box::from_raw(task.0.cast::<Task<F>>().as_ptr()) });
    }
}

/// Runs `f`, stopping any panic from unwinding further: for foreign code (destructors, a joiner's
/// `wake`) called where an unwind would leave the executor half-way through a step. The default
/// panic hook has already reported the panic. The payload is dropped inside a catch too, since
/// its own destructor may panic; after a few such rounds the last payload is forgotten instead.
pub(crate) fn contain_panic(f: impl FnOnce()) {
    let mut outcome = catch_unwind(AssertUnwindSafe(f));
    for _ in 0..3 {
        match outcome {
            Ok(()) => return,
            Err(payload) => outcome = catch_unwind(AssertUnwindSafe(move || drop(payload))),
        }
    }
    if let Err(payload) = outcome {
        mem::forget(payload);
    }
}

/// The `Waker` face of a task. A waker's data pointer is the task's header and each live `Waker`
/// owns one reference, except the borrowed one built in [`TaskRef::run`].
static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_value, wake_by_ref, drop_waker);

/// # Safety (all four functions)
/// `data` is the header pointer of a task kept alive by the waker being used.
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the task alive.
    let task = unsafe { TaskRef::from_ptr(data.cast()) };
    task.add_ref();
    task.raw_waker()
}

unsafe fn wake_by_value(data: *const ()) {
    // SAFETY: the waker being consumed keeps the task alive until `drop_ref` releases its count.
    let task = unsafe { TaskRef::from_ptr(data.cast()) };
    task.wake();
    task.drop_ref();
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the borrowed waker keeps the task alive for the call.
    unsafe { TaskRef::from_ptr(data.cast()) }.wake();
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker being dropped owns the count that `drop_ref` releases.
    unsafe { TaskRef::from_ptr(data.cast()) }.drop_ref();
}
