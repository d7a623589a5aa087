//! `Handle` and `RemoteJoinHandle`: spawning onto a runtime from another thread, and joining the
//! task from any thread (tokio's `Handle::spawn` on a current-thread runtime).
//!
//! # The path of a remote spawn
//!
//! 1. [`Handle::spawn`], on the caller's thread: one allocation, the task itself
//!    (`TaskRef::allocate_remote`: a `REMOTE` task holding two references, one for its
//!    owned-list entry to come, one for the `RemoteJoinHandle`), pushed on the executor's spawn queue with
//!    one compare-and-swap; the runtime is unparked only if the queue was empty.
//! 2. On the runtime thread, each turn of the run loop (and each `step`) takes the whole spawn
//!    queue and adopts its tasks (`Core::adopt_remote_spawns`): the owned list takes over the
//!    queue's reference, and the task is queued locally. From there on it is polled, woken and
//!    completed like any task.
//! 3. The [`RemoteJoinHandle`], on any thread, waits for `COMPLETE` and reads the output. It
//!    cannot use the `join_waker` slot the way a `JoinHandle` does (the slot is otherwise the
//!    runtime thread's), so the slot is handed over with the `JOIN_WAKER` bit of the state word
//!    (`state.rs`), as tokio does: while the bit is clear and the task incomplete, the slot is the
//!    handle's; the handle writes its waker there and sets the bit, and from then the slot is the
//!    runtime thread's, which takes the waker at completion and wakes it. To replace its waker, the
//!    handle clears the bit first, which fails once the task is complete.
//!
//! # Who frees what
//!
//! The future is dropped on the runtime thread (completion, abort or shutdown), except when the
//! runtime was gone before the spawn: the spawn queue is closed, and `Handle::spawn` drops the
//! future on its own thread (it is `Send`) and the handle reports [`JoinError::is_cancelled`]. The
//! output is taken, or dropped, by the `RemoteJoinHandle` on its thread (it is `Send`), or by the
//! runtime thread at completion if the handle was dropped before. The allocation is freed by
//! whoever releases the last reference, on any thread, when it holds nothing of the future's.
//!
//! The local spawn path shares none of this: `spawn` and `JoinHandle` make no more atomic
//! operations than before. The spawn queue is looked at by the run loop (once per turn to adopt
//! and once before it parks: a relaxed load each, when it is empty), by `step`, and by shutdown.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use cashier_trace::{self as trace, Event};

use crate::context;
use crate::executor::Shared;
use crate::join::{AbortHandle, JoinError};
use crate::state::{DropRemoteJoinHandle, RemoteJoin};
use crate::task::{TaskId, TaskRef};

/// A handle to a runtime that any thread may hold: `Send`, `Sync` and `Clone`. Spawn `Send`
/// futures onto the runtime with it from other threads (tokio's `Handle::spawn`).
///
/// Get one with [`Executor::handle`](crate::Executor::handle) (`Runtime::handle` in `cashier`),
/// or with [`Handle::current`] inside a task. It keeps only the runtime's cross-thread half
/// alive, not the runtime: once the runtime is dropped, a spawn gives a handle that reports
/// cancellation at once.
///
/// ```
/// use cashier_executor::Executor;
///
/// let executor = Executor::new();
/// let handle = executor.handle();
/// let joined = std::thread::spawn(move || handle.spawn(async { 6 * 7 }));
/// let remote = joined.join().unwrap();
/// assert_eq!(executor.block_on(remote).unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    /// The runtime's cross-thread half: the spawn queue and the unpark handle.
    shared: Arc<Shared>,
}

impl Handle {
    /// Wraps the executor's cross-thread half (`Executor::handle`).
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    /// Outside a running runtime (`block_on`, `step`); [`Handle::try_current`] returns `None`
    /// there instead.
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|| {
            panic!(
                "`Handle::current` called outside of a cashier runtime: call it from inside a \
                 future run by `Runtime::block_on`, or get a handle with `Runtime::handle`"
            )
        })
    }

    /// The handle of the runtime running on this thread, or `None` outside one.
    pub fn try_current() -> Option<Handle> {
        context::with_core(|core| Handle::new(Arc::clone(&core.shared)))
    }

    /// Spawns `future` onto the runtime from any thread, and returns a [`RemoteJoinHandle`] that
    /// any thread can await.
    ///
    /// The task is allocated here, once, and queued for the runtime thread, which takes it in at
    /// its next turn (waking the runtime if it was parked) and runs it like any task. A runtime
    /// that is not inside `block_on` runs it at its next `block_on`. If the runtime has been
    /// dropped, the future is dropped here, unpolled, and the handle reports
    /// [`JoinError::is_cancelled`].
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = self.shared.next_remote_id();
        let task = TaskRef::allocate_remote(future, Arc::clone(&self.shared), id);
        if !self.shared.push_spawned(task) {
            // SAFETY: the push failed, so the task is in no queue and nothing but this function
            // has its pointer; its future is `Send` (this function's bound).
            unsafe { task.cancel_unspawned() };
        }
        RemoteJoinHandle { task, _marker: PhantomData }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("shared", &Arc::as_ptr(&self.shared)).finish()
    }
}

/// The result of a task spawned with [`Handle::spawn`], awaitable from any thread: a `Send`
/// [`JoinHandle`](crate::JoinHandle).
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was cancelled
/// (aborted, or its runtime dropped). Dropping it detaches the task, which runs on.
pub struct RemoteJoinHandle<T> {
    /// The task; this handle owns one of its references.
    task: TaskRef,
    /// Owns a `T` in spirit.
    _marker: PhantomData<T>,
}

impl<T> RemoteJoinHandle<T> {
    /// Cancels the task, as [`JoinHandle::abort`](crate::JoinHandle::abort) does, from any
    /// thread.
    pub fn abort(&self) {
        crate::join::abort(self.task);
    }

    /// An [`AbortHandle`] for the task.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.task)
    }

    /// Whether the task has finished (completed, panicked or been cancelled). Does not block.
    pub fn is_finished(&self) -> bool {
        self.task.header().state.load().is_complete()
    }

    /// The task's id, unique within its runtime.
    pub fn id(&self) -> TaskId {
        self.task.header().id
    }

    /// Moves the output out of the complete task.
    fn take_output(&self) -> Result<T, JoinError> {
        let mut result = Poll::Pending;
        // SAFETY: this handle is the task's joiner, it saw `COMPLETE` with `Acquire` (`load` and
        // the transitions read with `Acquire`), and `T` is the output type `Handle::spawn` fixed.
        unsafe { self.task.read_output((&mut result as *mut Poll<Result<T, JoinError>>).cast()) };
        trace::emit(|| Event::OutputTaken { task: self.task.key() });
        match result {
            Poll::Ready(result) => result,
            Poll::Pending => unreachable!("`read_output` always writes a result"),
        }
    }

    /// Puts `waker` in the `join_waker` slot, which this handle holds, and returns what was
    /// there. The handle holds the slot while `JOIN_WAKER` is clear and the task incomplete, and
    /// after a completion that found `JOIN_WAKER` clear (it chose `KeepOutput` and left the slot).
    fn replace_waker(&self, waker: Option<Waker>) -> Option<Waker> {
        let slot = &self.task.header().join_waker;
        // SAFETY: the slot is this handle's (caller's contract, above): the runtime thread
        // touches the slot only when its completing swap saw `JOIN_WAKER` set, which this
        // handle's state word rules out. The borrow ends with the `replace`.
        slot.with_mut(|slot| unsafe { std::mem::replace(&mut *slot, waker) })
    }
}

impl<T: Send> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let state = &self.task.header().state;
        if state.load().is_complete() {
            std::task::ready!(cashier_budget::poll_spend(cx));
            return Poll::Ready(self.take_output());
        }
        // Take the slot back from the runtime thread (if it was given), put our waker in, and
        // give it over again. Each step fails once the task is complete: then read the output.
        if state.remote_join_unregister() == RemoteJoin::Complete {
            return self.poll(cx);
        }
        let previous = self.replace_waker(Some(cx.waker().clone()));
        let outcome = state.remote_join_register();
        // Dropped outside any borrow of the slot: a waker's drop is foreign code.
        drop(previous);
        match outcome {
            RemoteJoin::Registered => Poll::Pending,
            _ => {
                // Completed in between: the runtime saw `JOIN_WAKER` clear and left the slot to
                // us. Empty it, so that nothing in the slot outlives this poll needlessly.
                drop(self.replace_waker(None));
                self.poll(cx)
            }
        }
    }
}

impl<T> Drop for RemoteJoinHandle<T> {
    fn drop(&mut self) {
        match self.task.header().state.remote_drop_join_interest() {
            // SAFETY: the task is complete and this handle is its joiner (`T: Send` was required
            // at spawn, so dropping the output on this thread is sound).
            DropRemoteJoinHandle::DropOutput => unsafe { self.task.drop_output() },
            DropRemoteJoinHandle::DetachedTakeWaker => drop(self.replace_waker(None)),
            DropRemoteJoinHandle::Detached => {}
        }
        self.task.drop_ref();
    }
}

// The handle never pins anything: the task's future lives in the task's own allocation.
impl<T> Unpin for RemoteJoinHandle<T> {}

// SAFETY: the handle touches, from whatever thread it is on: the atomic state word; the
// `join_waker` slot only while the state word gives it the slot (`JOIN_WAKER` protocol); the
// output only after seeing `COMPLETE` with `Acquire`, and the output is `T: Send`; and the
// reference count, whose last release frees a task that holds no future (completion dropped it on
// the runtime thread, or `Handle::spawn` did, the future being `Send`).
unsafe impl<T: Send> Send for RemoteJoinHandle<T> {}
// SAFETY: the `&self` methods (`abort`, `abort_handle`, `is_finished`, `id`) touch the state
// word, the immutable id and the reference count, all of which are thread-safe, and `abort` of an
// idle task also writes its `queue_next` link, pushes it on the executor's remote queue and
// unparks the runtime: sound from any thread because it does so only after taking the
// `SCHEDULED` claim, exactly as a wake from another thread does. The output and the slot are
// reached only through `&mut self` (`poll`, `drop`).
unsafe impl<T: Send> Sync for RemoteJoinHandle<T> {}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle")
            .field("id", &self.id())
            .field("state", &self.task.header().state.load())
            .finish()
    }
}

// Compile-time check that the handle may go to, and be shared with, any thread.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Handle>();
};
