//! The two run queues: customers waiting for the cashier's attention.
//!
//! Both are intrusive singly linked lists threaded through each task's `queue_next` field, so
//! pushing and popping never allocate. Neither holds a reference count: only incomplete tasks are
//! queued, and the executor's owned-task list keeps every incomplete task alive (see `task.rs`).
//!
//! - [`LocalQueue`]: wakes that happen on the runtime thread. Plain `Cell`s: no lock and no atomic
//!   read-modify-write. This is the path taken by nearly every wake (I/O readiness, timers, channel
//!   messages and join notifications are all delivered on the runtime thread).
//! - [`RemoteQueue`]: wakes from other threads (the blocking pool, a user's thread). A lock-free
//!   multi-producer stack (Treiber, 1986): producers push with one compare-and-swap; the runtime
//!   takes the whole stack with one swap and reverses it into arrival order. Taking everything at
//!   once is what makes it free of the ABA problem: the consumer never pops a single node.
//!
//! # Invariants
//!
//! A task is linked into at most one queue at a time, and only while `SCHEDULED` is set and it is
//! not running: the party that set `SCHEDULED` pushes it, and only the executor pops it. So
//! `queue_next` has exactly one writer at any moment.
//!
//! The remote queue can be *closed* (at runtime shutdown). A push onto a closed queue is dropped:
//! the runtime is gone and the task is about to be cancelled anyway.
//!
//! The executor has a second `RemoteQueue`, the *spawn queue*, for tasks spawned from other
//! threads (`Handle::spawn`) and not yet adopted by the runtime thread. Unlike a woken task, a task
//! there is not yet in the owned list: the queue holds the reference the owned list takes over at
//! adoption ([`RemoteQueue::take_all`]), and shutdown closes it with the same call, adopting what
//! it held so that those tasks are cancelled with the rest.

use std::cell::Cell;
use std::ptr;

use cashier_trace::{self as trace, Cause, Event, Queue};

use crate::loom::{AtomicPtr, Ordering};
use crate::task::{Header, TaskRef};

/// FIFO of tasks woken on the runtime thread.
pub(crate) struct LocalQueue {
    /// Next task to run.
    head: Cell<Option<TaskRef>>,
    /// Last task pushed.
    tail: Cell<Option<TaskRef>>,
}

impl LocalQueue {
    pub(crate) const fn new() -> LocalQueue {
        LocalQueue { head: Cell::new(None), tail: Cell::new(None) }
    }

    /// Appends `task`. The caller set its `SCHEDULED` bit (so it is in no other queue).
    pub(crate) fn push(&self, task: TaskRef) {
        task.header().queue_next.store(ptr::null_mut(), Ordering::Relaxed);
        match self.tail.get() {
            Some(tail) => {
                tail.header().queue_next.store(task.as_ptr().cast_mut(), Ordering::Relaxed)
            }
            None => self.head.set(Some(task)),
        }
        self.tail.set(Some(task));
    }

    /// Takes the oldest task.
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        let task = self.head.get()?;
        let next = task.header().queue_next.load(Ordering::Relaxed);
        if next.is_null() {
            self.head.set(None);
            self.tail.set(None);
        } else {
            // SAFETY: a queued task is incomplete, so the owned list keeps it allocated.
            self.head.set(Some(unsafe { TaskRef::from_ptr(next) }));
        }
        Some(task)
    }

    /// No task waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.get().is_none()
    }

    /// Forgets every queued task without touching them (shutdown: the owned list still owns them).
    pub(crate) fn clear(&self) {
        self.head.set(None);
        self.tail.set(None);
    }
}

/// Outcome of a push onto the remote queue.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemotePush {
    /// The queue was empty: the runtime may be parked, the pusher must unpark it.
    WasEmpty,
    /// Others are already queued; whoever made the queue non-empty unparked the runtime.
    WasNotEmpty,
    /// The runtime has shut down; nothing was queued.
    Closed,
}

/// Multi-producer stack of tasks woken on other threads.
pub(crate) struct RemoteQueue {
    /// Most recently pushed task, null when empty, or [`closed`] after shutdown.
    head: AtomicPtr<Header>,
}

/// The marker stored in a closed queue: a well-aligned address no allocation can have.
fn closed() -> *mut Header {
    ptr::dangling_mut()
}

impl RemoteQueue {
    pub(crate) fn new() -> RemoteQueue {
        RemoteQueue { head: AtomicPtr::new(ptr::null_mut()) }
    }

    /// Pushes `task` from any thread. The caller set its `SCHEDULED` bit and holds a reference.
    pub(crate) fn push(&self, task: TaskRef) -> RemotePush {
        let node = task.as_ptr().cast_mut();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            if head == closed() {
                return RemotePush::Closed;
            }
            task.header().queue_next.store(head, Ordering::Relaxed);
            // Release: the link above, and whatever the waker wrote before waking, are visible to
            // the runtime once the `Acquire` swap in `take_oldest_first` sees this node.
            match self.head.compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) if head.is_null() => return RemotePush::WasEmpty,
                Ok(_) => return RemotePush::WasNotEmpty,
                Err(actual) => head = actual,
            }
        }
    }

    /// Takes every queued task, oldest first, and appends them to `local` (runtime thread).
    pub(crate) fn drain_into(&self, local: &LocalQueue) {
        for task in self.take_oldest_first(false) {
            local.push(task);
            // Another thread made this wake; the runtime thread reports it now, as it sees it.
            trace::emit(|| Event::Wake {
                task: task.key(),
                cause: Cause::Remote,
                queue: Queue::Remote,
            });
        }
    }

    /// Takes every queued task, oldest first, and hands each to `each` (runtime thread): the
    /// executor's spawn queue, whose tasks must be adopted into the owned list, not only queued.
    /// With `close`, the queue is closed in the same swap, so that a push either lands before it
    /// (and is handed over here) or finds the queue closed.
    pub(crate) fn take_all(&self, close: bool, each: impl FnMut(TaskRef)) {
        self.take_oldest_first(close).for_each(each);
    }

    /// Takes the whole stack in one swap, closing the queue in the same swap with `close`, and
    /// returns its tasks oldest first (runtime thread).
    ///
    /// It looks first, and takes nothing (and swaps nothing) when the queue is empty and stays
    /// open, or is closed already: the common case is an empty queue, and a load does not take
    /// the cache line away from producers the way a swap would; and a closed queue must stay
    /// closed, its marker never read as a task. Whether the queue is open stays as the load saw
    /// it until the swap (other threads only push onto an open queue, and only the runtime thread
    /// closes it); a push may land in between, and the swap takes it.
    fn take_oldest_first(&self, close: bool) -> OldestFirst {
        let head = self.head.load(Ordering::Relaxed);
        if head == closed() || (head.is_null() && !close) {
            return OldestFirst(ptr::null_mut());
        }
        let replacement = if close { closed() } else { ptr::null_mut() };
        let mut node = self.head.swap(replacement, Ordering::Acquire);
        debug_assert!(node != closed(), "only the runtime thread closes, and it saw it open");
        // The stack is newest-first: reverse it so that tasks come out in the order they were
        // queued.
        let mut reversed: *mut Header = ptr::null_mut();
        while !node.is_null() {
            // SAFETY: a queued task is allocated (see `OldestFirst`).
            let task = unsafe { TaskRef::from_ptr(node) };
            node = task.header().queue_next.load(Ordering::Relaxed);
            task.header().queue_next.store(reversed, Ordering::Relaxed);
            reversed = task.as_ptr().cast_mut();
        }
        OldestFirst(reversed)
    }

    /// Whether no task is queued (a hint: another thread may push right after).
    pub(crate) fn is_empty(&self) -> bool {
        self.head.load(Ordering::Relaxed).is_null()
    }

    /// Closes the queue for good and forgets what it held (shutdown: the owned list owns them).
    pub(crate) fn close(&self) {
        self.head.swap(closed(), Ordering::Acquire);
    }
}

/// Tasks taken off a [`RemoteQueue`], oldest first, linked through their `queue_next`.
///
/// Every task in it is allocated until it is handed out: a task on the remote queue was woken
/// while incomplete, and its owned list keeps it; a task on the spawn queue holds the reference
/// the owned list will take over when it is adopted. The executor frees nothing it has not
/// taken off its queues.
struct OldestFirst(*mut Header);

impl Iterator for OldestFirst {
    type Item = TaskRef;

    fn next(&mut self) -> Option<TaskRef> {
        if self.0.is_null() {
            return None;
        }
        // SAFETY: the node is allocated, as the type's doc says; it is read before it is handed
        // out, and never again after.
        let task = unsafe { TaskRef::from_ptr(self.0) };
        self.0 = task.header().queue_next.load(Ordering::Relaxed);
        Some(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed queue stays closed whatever the runtime thread asks of it afterwards: draining it
    /// or taking its spawns must neither reopen it (a later push would then queue a task nobody
    /// will ever take) nor read its marker as a task.
    #[test]
    fn a_closed_remote_queue_stays_closed() {
        let queue = RemoteQueue::new();
        queue.close();
        queue.drain_into(&LocalQueue::new());
        queue.take_all(false, |_| unreachable!("a closed queue holds no task"));
        assert_eq!(queue.head.load(Ordering::Relaxed), closed());
        queue.take_all(true, |_| unreachable!("a closed queue holds no task"));
        assert_eq!(queue.head.load(Ordering::Relaxed), closed());
        assert!(!queue.is_empty(), "closed is not empty: a push finds it closed");
    }
}
