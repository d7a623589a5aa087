//! The executor's list of every task that has not completed: what shutdown walks.
//!
//! A task enters at spawn and leaves at completion. While in the list it holds one reference
//! (counted in its state word), which is what keeps queued and idle tasks alive: run queues and
//! wakers-to-be do not need to. When the runtime is dropped, every task still here is cancelled,
//! which drops its future exactly once, on the runtime thread.
//!
//! An intrusive doubly linked list through each header's `owned_prev`/`owned_next`: O(1) insert
//! and remove, no allocation. Runtime thread only, hence `Cell`s.
//!
//! Tokio keeps the same list (`OwnedTasks`), sharded behind locks because its tasks can complete
//! on any worker thread; ours only complete on one thread, so plain cells suffice.

use std::cell::Cell;
use std::ptr;

use crate::task::{Header, TaskRef};

/// Doubly linked list of the incomplete tasks of one executor.
pub(crate) struct OwnedTasks {
    /// Most recently spawned task, or null.
    head: Cell<*const Header>,
    /// Number of tasks in the list.
    len: Cell<usize>,
}

impl OwnedTasks {
    pub(crate) const fn new() -> OwnedTasks {
        OwnedTasks { head: Cell::new(ptr::null()), len: Cell::new(0) }
    }

    /// Adds a freshly spawned task; the list takes over the reference `allocate` counted for it.
    pub(crate) fn push(&self, task: TaskRef) {
        let header = task.header();
        let head = self.head.get();
        header.owned_prev.set(ptr::null());
        header.owned_next.set(head);
        if !head.is_null() {
            // SAFETY: every task in the list is kept alive by the list's reference.
            unsafe { TaskRef::from_ptr(head) }.header().owned_prev.set(task.as_ptr());
        }
        self.head.set(task.as_ptr());
        self.len.set(self.len.get() + 1);
    }

    /// Unlinks a task that is in this list. The caller then releases the list's reference.
    pub(crate) fn remove(&self, task: TaskRef) {
        let header = task.header();
        let (prev, next) = (header.owned_prev.get(), header.owned_next.get());
        if prev.is_null() {
            debug_assert!(self.head.get() == task.as_ptr(), "removed a task not in the list");
            self.head.set(next);
        } else {
            // SAFETY: neighbours in the list are alive (the list holds their references).
            unsafe { TaskRef::from_ptr(prev) }.header().owned_next.set(next);
        }
        if !next.is_null() {
            // SAFETY: as above.
            unsafe { TaskRef::from_ptr(next) }.header().owned_prev.set(prev);
        }
        header.owned_prev.set(ptr::null());
        header.owned_next.set(ptr::null());
        self.len.set(self.len.get() - 1);
    }

    /// Some task in the list, if any (shutdown takes them one by one).
    pub(crate) fn first(&self) -> Option<TaskRef> {
        let head = self.head.get();
        // SAFETY: the list's reference keeps the head alive.
        (!head.is_null()).then(|| unsafe { TaskRef::from_ptr(head) })
    }

    /// Number of incomplete tasks.
    pub(crate) fn len(&self) -> usize {
        self.len.get()
    }
}
