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
            // the runtime once its `Acquire` swap in `take_all` sees this node.
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
        // A load first: the common case is an empty queue, and a load does not take the cache
        // line away from producers the way a swap would.
        if self.head.load(Ordering::Relaxed).is_null() {
            return;
        }
        let mut node = self.head.swap(ptr::null_mut(), Ordering::Acquire);
        debug_assert!(node != closed(), "drained a closed remote queue");
        // The stack is newest-first: reverse it so remote tasks run in the order they were woken.
        let mut reversed: *mut Header = ptr::null_mut();
        while !node.is_null() {
            // SAFETY: a queued task is incomplete, so the owned list keeps it allocated.
            let task = unsafe { TaskRef::from_ptr(node) };
            node = task.header().queue_next.load(Ordering::Relaxed);
            task.header().queue_next.store(reversed, Ordering::Relaxed);
            reversed = task.as_ptr().cast_mut();
        }
        while !reversed.is_null() {
            // SAFETY: as above.
            let task = unsafe { TaskRef::from_ptr(reversed) };
            reversed = task.header().queue_next.load(Ordering::Relaxed);
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
    pub(crate) fn take_all(&self, close: bool, mut each: impl FnMut(TaskRef)) {
        if !close && self.head.load(Ordering::Relaxed).is_null() {
            return;
        }
        let replacement = if close { closed() } else { ptr::null_mut() };
        let mut node = self.head.swap(replacement, Ordering::Acquire);
        if node == closed() {
            return; // closed already: nothing was queued since
        }
        let mut reversed: *mut Header = ptr::null_mut();
        while !node.is_null() {
            // SAFETY: a queued task is allocated: its queue holds the reference the owned list
            // will take over (spawn queue), and the executor frees nothing it has not popped.
            let task = unsafe { TaskRef::from_ptr(node) };
            node = task.header().queue_next.load(Ordering::Relaxed);
            task.header().queue_next.store(reversed, Ordering::Relaxed);
            reversed = task.as_ptr().cast_mut();
        }
        while !reversed.is_null() {
            // SAFETY: as above.
            let task = unsafe { TaskRef::from_ptr(reversed) };
            reversed = task.header().queue_next.load(Ordering::Relaxed);
            each(task);
        }
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
