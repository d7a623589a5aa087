//! `WaitList`: the FIFO queue of tasks waiting on a synchronization primitive.
//!
//! Every primitive here (semaphore, channel senders, event) parks waiting futures in one of
//! these. A waiter is an entry in a slab, linked into a doubly linked FIFO, and owned by its
//! future through a [`WaitKey`]. Three things make the primitives correct under cancellation:
//!
//! - **Notification is an assignment.** `notify_one` unlinks the first waiter and marks it
//!   *notified*: whatever it waited for (a permit, a channel slot) now belongs to it, even before
//!   its task runs. So nobody can barge in between the wake and the poll (FIFO fairness).
//! - **Removal tells what was owned.** A waiting future that is dropped calls `remove`, which
//!   says whether it had been notified. If so, the primitive passes the assignment on to the next
//!   waiter: a cancelled acquirer never keeps a permit.
//! - **Wakers are returned, not called.** `notify_*` hand the wakers back so the primitive can
//!   release its `RefCell` borrow before waking.
//!
//! Runtime thread only (`RefCell` in the primitives); the wakers stored are ordinary `Waker`s.

use std::task::Waker;

/// "No entry".
const NIL: u32 = u32::MAX;

/// A waiting future's handle on its entry. Not `Clone`: exactly one owner.
#[derive(Debug)]
pub(crate) struct WaitKey(u32);

/// One waiter.
struct Waiter {
    /// Woken when notified.
    waker: Option<Waker>,
    /// In the queue (false once notified, or while free).
    linked: bool,
    /// Notified: what it waited for is assigned to it.
    notified: bool,
    /// Neighbours in the queue, or the next free entry.
    prev: u32,
    /// Next in the queue, or the next free entry.
    next: u32,
}

/// FIFO of waiters with O(1) push, pop and removal.
#[derive(Default)]
pub(crate) struct WaitList {
    /// Slab of waiters.
    entries: Vec<Waiter>,
    /// Oldest waiter.
    head: Option<u32>,
    /// Newest waiter.
    tail: Option<u32>,
    /// First free entry.
    free: Option<u32>,
    /// Waiters in the queue.
    queued: usize,
}

impl WaitList {
    /// Whether nobody is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Queues a waiter at the back.
    pub(crate) fn push(&mut self, waker: &Waker) -> WaitKey {
        let waiter = Waiter {
            waker: Some(waker.clone()),
            linked: true,
            notified: false,
            prev: NIL,
            next: NIL,
        };
        let index = match self.free {
            Some(index) => {
                self.free = (self.entries[index as usize].next != NIL)
                    .then_some(self.entries[index as usize].next);
                self.entries[index as usize] = waiter;
                index
            }
            None => {
                self.entries.push(waiter);
                u32::try_from(self.entries.len() - 1).expect("too many waiters")
            }
        };
        match self.tail {
            Some(tail) => {
                self.entries[tail as usize].next = index;
                self.entries[index as usize].prev = tail;
            }
            None => self.head = Some(index),
        }
        self.tail = Some(index);
        self.queued += 1;
        WaitKey(index)
    }

    /// Whether the waiter has been notified.
    pub(crate) fn is_notified(&self, key: &WaitKey) -> bool {
        self.entries[key.0 as usize].notified
    }

    /// Replaces the waiter's waker if it would not wake the same task.
    pub(crate) fn update_waker(&mut self, key: &WaitKey, waker: &Waker) {
        let entry = &mut self.entries[key.0 as usize];
        if !entry.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            entry.waker = Some(waker.clone());
        }
    }

    /// Removes a waiter (its future is done or dropped). Returns whether it had been notified,
    /// in which case the caller owns what was assigned to it.
    pub(crate) fn remove(&mut self, key: WaitKey) -> bool {
        let index = key.0;
        if self.entries[index as usize].linked {
            self.unlink(index);
        }
        let entry = &mut self.entries[index as usize];
        let notified = entry.notified;
        entry.waker = None;
        entry.notified = false;
        entry.next = self.free.unwrap_or(NIL);
        self.free = Some(index);
        notified
    }

    /// Notifies the oldest waiter; returns its waker for the caller to wake after releasing its
    /// borrow, or `None` if nobody waits.
    pub(crate) fn notify_one(&mut self) -> Option<Waker> {
        let index = self.head?;
        self.unlink(index);
        let entry = &mut self.entries[index as usize];
        entry.notified = true;
        entry.waker.take()
    }

    /// Notifies every waiter; returns their wakers.
    pub(crate) fn notify_all(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::with_capacity(self.queued);
        while let Some(waker) = self.notify_one() {
            wakers.push(waker);
        }
        wakers
    }

    /// Takes every queued waiter's waker without notifying anyone: for closing a primitive, where
    /// the waiters must wake up and find it closed, not find something assigned to them.
    pub(crate) fn take_wakers(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::with_capacity(self.queued);
        let mut index = self.head;
        while let Some(current) = index {
            let entry = &mut self.entries[current as usize];
            wakers.extend(entry.waker.take());
            index = (entry.next != NIL).then_some(entry.next);
        }
        wakers
    }

    fn unlink(&mut self, index: u32) {
        let (prev, next) = {
            let entry = &mut self.entries[index as usize];
            entry.linked = false;
            (entry.prev, entry.next)
        };
        match prev {
            NIL => self.head = (next != NIL).then_some(next),
            prev => self.entries[prev as usize].next = next,
        }
        match next {
            NIL => self.tail = (prev != NIL).then_some(prev),
            next => self.entries[next as usize].prev = prev,
        }
        let entry = &mut self.entries[index as usize];
        entry.prev = NIL;
        entry.next = NIL;
        self.queued -= 1;
    }
}

/// Wakes every waker (after the caller released its borrow).
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_with_removal_from_the_middle() {
        let mut list = WaitList::default();
        let a = list.push(Waker::noop());
        let b = list.push(Waker::noop());
        let c = list.push(Waker::noop());
        assert!(!list.remove(b), "b leaves before being notified");
        assert!(list.notify_one().is_some());
        assert!(list.is_notified(&a));
        assert!(!list.is_notified(&c));
        assert!(list.notify_one().is_some());
        assert!(list.is_notified(&c));
        assert!(list.notify_one().is_none());
        assert!(list.remove(a), "a was notified");
        assert!(list.remove(c));
        assert!(list.is_empty());
        let d = list.push(Waker::noop());
        assert!(d.0 < 3, "entries are reused");
    }
}
