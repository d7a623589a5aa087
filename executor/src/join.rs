//! `JoinHandle`, `AbortHandle` and `JoinError`: how a task's result gets back to whoever spawned it.
//!
//! The last of the three files on a task's path (`executor.rs` → `task.rs` → here). A
//! `JoinHandle<T>` owns one reference to its task. Awaiting it stores the caller's waker in the
//! task's `join_waker` slot until the task completes (arrow 7 in `task.rs` wakes it), then moves the
//! output out of the task (arrow 8). Dropping it *detaches* the task, which runs on, exactly like an
//! asyncio task whose reference you let go of.
//!
//! # Invariants
//!
//! The handle is `!Send` and `!Sync`: it is created on the runtime thread (by `spawn`) and stays
//! there, so the output and the `join_waker` slot are only touched on the runtime thread, never
//! concurrently with the executor. That is what allows `!Send` outputs, and it is why this file
//! needs no synchronisation beyond the state word. Sending a handle to another thread does not
//! compile:
//!
//! ```compile_fail
//! let executor = cashier_executor::Executor::new();
//! let handle = executor.spawn(async { 1 });
//! std::thread::spawn(move || drop(handle)); // error: `JoinHandle` cannot be sent between threads
//! ```

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use cashier_trace::{self as trace, Cause, Event, WaitOn};

use crate::state::{DropJoinHandle, ToCancelled};
use crate::task::{TaskId, TaskRef};

/// An owned permission to await a spawned task's result, like an asyncio `Task` or tokio's
/// `JoinHandle`.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was cancelled.
/// Dropping it does not cancel the task: use [`JoinHandle::abort`] for that.
///
/// ```
/// let executor = cashier_executor::Executor::new();
/// let answer = executor.block_on(async {
///     let handle = cashier_executor::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct JoinHandle<T> {
    /// The task; this handle owns one of its references.
    task: TaskRef,
    /// Owns a `T` in spirit; the raw pointer makes the handle `!Send` and `!Sync`.
    _marker: PhantomData<(T, *const ())>,
}

impl<T> JoinHandle<T> {
    /// Wraps the `JoinHandle` reference that `TaskRef::allocate` counted.
    pub(crate) fn new(task: TaskRef) -> JoinHandle<T> {
        JoinHandle { task, _marker: PhantomData }
    }

    /// Cancels the task, like asyncio's `Task.cancel()`.
    ///
    /// The future is dropped on the runtime thread the next time the executor would have polled
    /// it: an idle task is queued at once and dropped when the executor reaches it in the run
    /// queue; a task aborting itself is dropped after its current poll. Awaiting the
    /// handle then gives [`JoinError::is_cancelled`]. A task that already completed keeps its
    /// output; a task whose abort arrives during a poll that returns `Ready` also keeps its output
    /// (the work was done).
    ///
    /// ```
    /// let executor = cashier_executor::Executor::new();
    /// executor.block_on(async {
    ///     let handle = cashier_executor::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        abort(self.task);
    }

    /// An [`AbortHandle`] for the task: it can cancel the task without owning its result, from
    /// any thread, as tokio's `JoinHandle::abort_handle`.
    ///
    /// ```
    /// let executor = cashier_executor::Executor::new();
    /// executor.block_on(async {
    ///     let handle = cashier_executor::spawn(std::future::pending::<()>());
    ///     let abort = handle.abort_handle();
    ///     assert_eq!(abort.id(), handle.id());
    ///     abort.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.task)
    }

    /// The task's id, unique within its runtime (tokio's `JoinHandle::id`).
    pub fn id(&self) -> TaskId {
        self.task.header().id
    }

    /// Takes the result if the task is complete, without waiting, registering a waker, or
    /// spending budget (`JoinSet::try_join_next`).
    pub(crate) fn try_take(&mut self) -> Option<Result<T, JoinError>> {
        if !self.task.header().state.load().is_complete() {
            return None;
        }
        let mut result = Poll::Pending;
        // SAFETY: as in `poll`: runtime thread (the handle is `!Send`), task complete, and
        // `result` has the type `read_output` writes.
        unsafe { self.task.read_output((&mut result as *mut Poll<Result<T, JoinError>>).cast()) };
        trace::emit(|| Event::OutputTaken { task: self.task.key() });
        match result {
            Poll::Ready(result) => Some(result),
            Poll::Pending => unreachable!("`read_output` always writes a result"),
        }
    }

    /// The task, for the loom models that push it on a queue by hand. Adds no reference.
    #[cfg(all(test, loom))]
    pub(crate) fn task_ref(&self) -> TaskRef {
        self.task
    }

    /// Whether the task has finished (completed, panicked or been cancelled). Does not block.
    pub fn is_finished(&self) -> bool {
        self.task.header().state.load().is_complete()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// Takes the result if the task is complete, else registers the caller's waker. Taking the
    /// result spends a unit of the caller's cooperative budget (`cashier-budget`): a loop over
    /// finished handles lets the others run too.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.task.header();
        if header.state.load().is_complete() {
            // The budget is spent here, on the one path that completes (`poll_spend`).
            std::task::ready!(cashier_budget::poll_spend(cx));
            let mut result = Poll::Pending;
            // SAFETY: we are on the runtime thread (the handle is `!Send`), the task is complete,
            // and `result` has the type `read_output` writes: this handle's `T` is the task's
            // output type, fixed by `spawn`.
            unsafe { self.task.read_output((&mut result as *mut Poll<Self::Output>).cast()) };
            trace::emit(|| Event::OutputTaken { task: self.task.key() });
            return result;
        }
        // Register the caller's waker. The slot is only ever borrowed for a single expression:
        // dropping the previous waker runs foreign code, which may even drive the executor and
        // complete the task, so no borrow of the slot may live across it.
        let slot = &header.join_waker;
        let registered = slot.with(|slot| {
            // SAFETY: runtime thread; `will_wake` only compares pointers, it runs no foreign code.
            unsafe { (*slot).as_ref().is_some_and(|w| w.will_wake(cx.waker())) }
        });
        if !registered {
            let waker = cx.waker().clone();
            // SAFETY: runtime thread; the borrow ends with the `replace`.
            let previous = slot.with_mut(|slot| unsafe { (*slot).replace(waker) });
            drop(previous);
            if header.state.load().is_complete() {
                // The drop above completed the task: nobody will wake us, so take the result now.
                // SAFETY: runtime thread; single-expression borrow.
                drop(slot.with_mut(|slot| unsafe { (*slot).take() }));
                return self.poll(cx);
            }
        }
        trace::emit(|| Event::Waits { on: WaitOn::Join { task: self.task.key() } });
        Poll::Pending
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        trace::emit(|| Event::HandleDropped { task: self.task.key() });
        let header = self.task.header();
        match header.state.drop_join_interest() {
            // SAFETY: runtime thread, task complete, and we were the only reader of its output.
            DropJoinHandle::DropOutput => unsafe { self.task.drop_output() },
            DropJoinHandle::Detached => {
                // The task will drop its own output; our waker must not be woken any more.
                // SAFETY: runtime thread; the slot is not borrowed elsewhere.
                let waker = header.join_waker.with_mut(|slot| unsafe { (*slot).take() });
                drop(waker);
            }
        }
        self.task.drop_ref();
    }
}

// The handle never pins anything: the task's future lives in the task's own allocation.
impl<T> Unpin for JoinHandle<T> {}

/// Cancels `task` (`JoinHandle::abort`, `AbortHandle::abort`, `RemoteJoinHandle::abort`); the
/// caller holds a reference.
pub(crate) fn abort(task: TaskRef) {
    trace::emit(|| Event::Abort { task: task.key() });
    if task.header().state.transition_to_cancelled() == ToCancelled::Enqueue {
        // The wake this makes is the abort's: the task is queued only to be dropped.
        trace::with_cause(|| Cause::Abort, || crate::executor::enqueue(task));
    }
}

/// Permission to cancel a task, without its result: tokio's `AbortHandle`.
///
/// It holds a reference to the task, without the join interest, so the task (its header; the
/// future is dropped on completion as usual) stays allocated for as long as the handle lives,
/// and [`AbortHandle::is_finished`] can be asked at any time. Dropping it neither cancels nor
/// detaches anything. Unlike a `JoinHandle`, it is `Send` and `Sync`: aborting only touches the
/// task's atomic state and, like a wake, queues the task through the remote queue when called
/// off the runtime thread. Get one from [`JoinHandle::abort_handle`] or
/// [`JoinSet::spawn`](crate::JoinSet::spawn).
///
/// ```
/// let executor = cashier_executor::Executor::new();
/// let abort = executor.block_on(async {
///     let handle = cashier_executor::spawn(std::future::pending::<()>());
///     handle.abort_handle()
/// });
/// // Off the runtime thread: the task is queued to be dropped at the runtime's next turn.
/// std::thread::spawn({
///     let abort = abort.clone();
///     move || abort.abort()
/// })
/// .join()
/// .unwrap();
/// executor.block_on(cashier_executor::yield_now());
/// assert!(abort.is_finished());
/// ```
pub struct AbortHandle {
    /// The task; this handle owns one of its references.
    task: TaskRef,
}

impl AbortHandle {
    /// An abort handle for `task`, taking a reference of its own.
    pub(crate) fn new(task: TaskRef) -> AbortHandle {
        task.add_ref();
        AbortHandle { task }
    }

    /// Cancels the task, as [`JoinHandle::abort`] does (read there what "cancel" means). From
    /// another thread, an idle task is queued on the remote queue, and the runtime unparked if
    /// that queue was empty, as a wake from another thread does.
    pub fn abort(&self) {
        abort(self.task);
    }

    /// Whether the task has finished (completed, panicked or been cancelled). Does not block.
    pub fn is_finished(&self) -> bool {
        self.task.header().state.load().is_complete()
    }

    /// The task's id, the same as its [`JoinHandle::id`].
    pub fn id(&self) -> TaskId {
        self.task.header().id
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        self.task.add_ref();
        AbortHandle { task: self.task }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // If this was the last reference, the task completed (the owned list's reference goes
        // only then) and its result was taken or dropped by its `JoinHandle` or at completion:
        // the stage holds nothing of the future's type, so freeing it on any thread is sound
        // (`TaskRef::drop_ref`).
        self.task.drop_ref();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle").field("id", &self.id()).finish()
    }
}

// SAFETY: an `AbortHandle` touches only what a `Waker` touches, which may be used on any thread
// (`task.rs`, "Threads"): the atomic state word (`transition_to_cancelled`, `load`, the reference
// count), the immutable id, and, holding the `SCHEDULED` claim its transition took, the queue link
// and the executor's `Shared` (remote queue, unpark), which is `Send + Sync`. It never touches the
// future, the output or `join_waker`.
unsafe impl Send for AbortHandle {}
// SAFETY: every method takes `&self` and is one of the thread-safe operations listed above.
unsafe impl Sync for AbortHandle {}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("task", &self.task.as_ptr())
            .field("state", &self.task.header().state.load())
            .finish()
    }
}

/// Why a task produced no output: it panicked, or it was cancelled.
///
/// Like asyncio, where awaiting a failed task re-raises its exception and awaiting a cancelled one
/// raises `CancelledError`; here both are values.
pub struct JoinError {
    /// What happened.
    repr: Repr,
}

/// The two ways a task can end without an output.
enum Repr {
    /// Aborted, or dropped at runtime shutdown.
    Cancelled,
    /// The future (or its destructor) panicked; the payload as `catch_unwind` returned it.
    Panicked(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError { repr: Repr::Cancelled }
    }

    /// A panic caught in a task's poll or destructor; the trace hears what it said.
    pub(crate) fn panicked(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        trace::emit_panic(&*payload);
        JoinError { repr: Repr::Panicked(payload) }
    }

    /// The task was cancelled (by [`JoinHandle::abort`] or by dropping the runtime).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// The panic payload, to inspect or to resume with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task was cancelled rather than panicked; use [`JoinError::try_into_panic`] to check.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().unwrap_or_else(|_| {
            panic!("`JoinError::into_panic` called on a cancelled task's error")
        })
    }

    /// The panic payload, or the error itself if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panicked(payload) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }

    /// The panic message, when the payload is a string (as `panic!` with a message makes it).
    fn panic_message(&self) -> Option<&str> {
        let Repr::Panicked(payload) = &self.repr else {
            return None;
        };
        payload
            .downcast_ref::<&'static str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (Repr::Panicked(_), Some(message)) => write!(f, "task panicked: {message}"),
            (Repr::Panicked(_), None) => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("JoinError::Cancelled"),
            (Repr::Panicked(_), Some(message)) => write!(f, "JoinError::Panicked({message:?})"),
            (Repr::Panicked(_), None) => f.write_str("JoinError::Panicked(..)"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for io::Error {
    fn from(error: JoinError) -> io::Error {
        io::Error::other(error.to_string())
    }
}
