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

use crate::{JoinError, JoinHandle};

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

    /// Spawns `future` as a task owned by the set.
    ///
    /// # Panics
    /// Outside a runtime, like [`spawn`](crate::spawn).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + 'static,
    {
        let slot = self.free.pop().unwrap_or(self.handles.len());
        let guard = FinishGuard { notices: Rc::downgrade(&self.notices), slot };
        let handle = crate::spawn(async move {
            let _guard = guard;
            future.await
        });
        if slot == self.handles.len() {
            self.handles.push(Some(handle));
        } else {
            self.handles[slot] = Some(handle);
        }
        self.len += 1;
    }

    /// Waits for the next task to finish and returns its result, or `None` if the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Polls for the next finished task (for hand-written futures).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if let Some(handle) = &mut self.finishing {
            let result = std::task::ready!(Pin::new(handle).poll(cx));
            self.finishing = None;
            self.len -= 1;
            return Poll::Ready(Some(result));
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
        // The guard runs inside the task's last poll, just before the executor marks it
        // complete, and its wake is queued behind that: the handle is almost always ready here.
        match Pin::new(&mut handle).poll(cx) {
            Poll::Ready(result) => {
                self.len -= 1;
                Poll::Ready(Some(result))
            }
            Poll::Pending => {
                self.finishing = Some(handle); // its join waker is `cx`'s now
                Poll::Pending
            }
        }
    }

    /// Aborts every task in the set; their results (cancelled, unless they had finished) are
    /// still returned by [`JoinSet::join_next`].
    pub fn abort_all(&self) {
        for handle in self.handles.iter().flatten() {
            handle.abort();
        }
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
        for handle in self.handles.iter().flatten() {
            handle.abort();
        }
        if let Some(handle) = &self.finishing {
            handle.abort();
        }
    }
}

impl<T> std::fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
