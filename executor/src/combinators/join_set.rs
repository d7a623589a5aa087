//! `JoinSet`: an owned set of spawned tasks, joined in completion order, aborted when dropped.
//!
//! asyncio's `TaskGroup` and tokio's `JoinSet`: structured concurrency. Tasks spawned into the set
//! cannot outlive it unnoticed: dropping the set aborts whatever is still running.
//!
//! # How completion is noticed
//!
//! Each task is spawned wrapped in a future that owns a small guard. The guard is dropped when the
//! task's future finishes, panics or is cancelled, always on the runtime thread (that is where
//! tasks run and are dropped), and its `Drop` appends the task's slot to the set's ready list and
//! wakes whoever awaits [`JoinSet::join_next`]. So `join_next` never scans the set, the guard
//! needs no atomics, and a spawn into a set costs no allocation beyond the task's own.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::{AbortHandle, JoinError, JoinHandle, TaskId};

/// What the set and its tasks' guards share.
#[derive(Default)]
struct Notices {
    /// Slots whose task has finished, in finishing order.
    ready: VecDeque<usize>,
    /// The task awaiting `join_next`.
    waker: Option<Waker>,
}

/// Dropped when a set's task finishes in any way; records it.
struct FinishGuard {
    /// The set (gone if the set was dropped).
    notices: Weak<RefCell<Notices>>,
    /// The task's slot in the set.
    slot: usize,
}

impl Drop for FinishGuard {
    fn drop(&mut self) {
        let Some(notices) = self.notices.upgrade() else { return };
        let waker = {
            let mut notices = notices.borrow_mut();
            notices.ready.push_back(self.slot);
            notices.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A set of spawned tasks owned together: asyncio's `TaskGroup`, tokio's `JoinSet`.
///
/// ```
/// use cashier_executor::{Executor, JoinSet, yield_now};
///
/// let executor = Executor::new();
/// let finished = executor.block_on(async {
///     let mut set = JoinSet::new();
///     for steps in [3, 1, 2] {
///         set.spawn(async move {
///             for _ in 0..steps {
///                 yield_now().await;
///             }
///             steps
///         });
///     }
///     let mut finished = Vec::new();
///     while let Some(result) = set.join_next().await {
///         finished.push(result.unwrap());
///     }
///     finished
/// });
/// assert_eq!(finished, [1, 2, 3]); // completion order
/// ```
pub struct JoinSet<T> {
    /// Handles by slot; `None` for free slots.
    handles: Vec<Option<JoinHandle<T>>>,
    /// Free slots, for reuse.
    free: Vec<usize>,
    /// Shared with the tasks' guards.
    notices: Rc<RefCell<Notices>>,
    /// A finished task's handle that was not ready yet when first polled (see `join_next`).
    finishing: Option<JoinHandle<T>>,
    /// Tasks in the set.
    len: usize,
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            handles: Vec::new(),
            free: Vec::new(),
            notices: Rc::default(),
            finishing: None,
            len: 0,
        }
    }

    /// Spawns `future` as a task owned by the set, and returns an [`AbortHandle`] that can
    /// cancel it alone (its cancelled result is then returned by [`JoinSet::join_next`], as for
    /// [`JoinSet::abort_all`]). The handle may be dropped: the set still owns the task.
    ///
    /// # Panics
    /// Outside a runtime, like [`spawn`](crate::spawn).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let slot = self.free.pop().unwrap_or(self.handles.len());
        let guard = FinishGuard { notices: Rc::downgrade(&self.notices), slot };
        let handle = crate::spawn(async move {
            let _guard = guard;
            future.await
        });
        let abort = handle.abort_handle();
        if slot == self.handles.len() {
            self.handles.push(Some(handle));
        } else {
            self.handles[slot] = Some(handle);
        }
        self.len += 1;
        abort
    }

    /// Waits for the next task to finish and returns its result, or `None` if the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Waits for the next task to finish and returns its [`TaskId`] with its output, or `None`
    /// if the set is empty: tokio's `join_next_with_id`. A task that failed gives its
    /// [`JoinError`] only; its id is the one [`JoinSet::spawn`]'s `AbortHandle` reported.
    ///
    /// ```
    /// use cashier_executor::{Executor, JoinSet};
    ///
    /// let executor = Executor::new();
    /// executor.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let id = set.spawn(async { "served" }).id();
    ///     assert_eq!(set.join_next_with_id().await.unwrap().unwrap(), (id, "served"));
    ///     assert!(set.join_next_with_id().await.is_none());
    /// });
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Returns the result of a task that has finished, if any, without waiting: tokio's
    /// `try_join_next`. `None` when the set is empty or no task has finished yet.
    ///
    /// ```
    /// use cashier_executor::{Executor, JoinSet, yield_now};
    ///
    /// let executor = Executor::new();
    /// executor.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert!(set.try_join_next().is_none(), "not run yet");
    ///     yield_now().await; // the task runs
    ///     assert_eq!(set.try_join_next().unwrap().unwrap(), 1);
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id().map(|result| result.map(|(_, output)| output))
    }

    /// [`JoinSet::try_join_next`] with the task's id, as [`JoinSet::join_next_with_id`] gives it.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        if let Some(handle) = &mut self.finishing {
            let id = handle.id();
            let result = handle.try_take()?;
            self.finishing = None;
            self.len -= 1;
            return Some(result.map(|output| (id, output)));
        }
        let slot = self.notices.borrow_mut().ready.pop_front()?;
        let mut handle = self.handles[slot].take().expect("a finished slot holds its handle");
        self.free.push(slot);
        let id = handle.id();
        match handle.try_take() {
            Some(result) => {
                self.len -= 1;
                Some(result.map(|output| (id, output)))
            }
            None => {
                // Its guard was dropped, but it is not marked complete yet (see `poll_join_next`):
                // the next call, or `join_next`, takes it.
                self.finishing = Some(handle);
                None
            }
        }
    }

    /// Polls for the next finished task (for hand-written futures).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|result| result.map(|(_, output)| output)))
    }

    /// Polls for the next finished task and its id (for hand-written futures).
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(TaskId, T), JoinError>>> {
        if let Some(handle) = &mut self.finishing {
            let id = handle.id();
            let result = std::task::ready!(Pin::new(handle).poll(cx));
            self.finishing = None;
            self.len -= 1;
            return Poll::Ready(Some(result.map(|output| (id, output))));
        }
        if self.len == 0 {
            return Poll::Ready(None);
        }
        let next = {
            let mut notices = self.notices.borrow_mut();
            let next = notices.ready.pop_front();
            if next.is_none() {
                notices.waker = Some(cx.waker().clone());
            }
            next
        };
        let Some(slot) = next else { return Poll::Pending };
        let mut handle = self.handles[slot].take().expect("a finished slot holds its handle");
        self.free.push(slot);
        let id = handle.id();
        // The guard runs inside the task's last poll, just before the executor marks it
        // complete, and its wake is queued behind that: the handle is almost always ready here.
        match Pin::new(&mut handle).poll(cx) {
            Poll::Ready(result) => {
                self.len -= 1;
                Poll::Ready(Some(result.map(|output| (id, output))))
            }
            Poll::Pending => {
                self.finishing = Some(handle); // its join waker is `cx`'s now
                Poll::Pending
            }
        }
    }

    /// Aborts every task in the set; their results (cancelled, unless they had finished) are
    /// still returned by [`JoinSet::join_next`].
    ///
    /// ```
    /// use cashier_executor::{Executor, JoinSet};
    ///
    /// let executor = Executor::new();
    /// executor.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.abort_all();
    ///     assert_eq!(set.len(), 3, "aborted tasks stay in the set until joined");
    ///     while let Some(result) = set.join_next().await {
    ///         assert!(result.unwrap_err().is_cancelled());
    ///     }
    /// });
    /// ```
    pub fn abort_all(&self) {
        for handle in self.handles.iter().flatten().chain(&self.finishing) {
            handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: each runs on, detached, as if its
    /// `JoinHandle` had been dropped (tokio's `detach_all`). The set is empty afterwards.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use cashier_executor::{Executor, JoinSet, yield_now};
    ///
    /// let executor = Executor::new();
    /// let ran = Rc::new(Cell::new(false));
    /// executor.block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let flag = Rc::clone(&ran);
    ///     set.spawn(async move { flag.set(true) });
    ///     set.detach_all();
    ///     assert!(set.is_empty());
    ///     drop(set); // aborts nothing: the task was detached
    ///     yield_now().await;
    /// });
    /// assert!(ran.get());
    /// ```
    pub fn detach_all(&mut self) {
        self.handles.clear();
        self.free.clear();
        self.finishing = None;
        self.len = 0;
        // The detached tasks' guards hold the old notices weakly: with those gone, a detached
        // task finishing later tells nobody, and cannot name a slot the set has reused since.
        self.notices = Rc::default();
    }

    /// Aborts every task and waits until all have ended.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Number of tasks in the set (running, or finished and not yet joined).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: 'static> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        for handle in self.handles.iter().flatten().chain(&self.finishing) {
            handle.abort();
        }
    }
}

impl<T> std::fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
