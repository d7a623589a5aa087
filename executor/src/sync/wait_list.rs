//! `WaitList`: the FIFO queue of tasks waiting on a synchronization primitive.
//!
//! Every primitive here (semaphore, channel senders, event) parks waiting futures in one of
//! these. A waiter is an entry in a slab, linked into a doubly linked FIFO, and owned by its
//! future through a [`WaitKey`]. Four things make the primitives correct under cancellation and
//! closing:
//!
//! - **Notification is an assignment.** `notify_one` unlinks the first waiter and marks it
//!   *notified*: whatever it waited for (a permit, a channel slot) now belongs to it, even before
//!   its task runs. So nobody can barge in between the wake and the poll (FIFO fairness).
//! - **Removal tells what was owned.** A waiting future that is dropped calls `remove`, which
//!   says whether it had been notified. If so, the primitive passes the assignment on to the next
//!   waiter: a cancelled acquirer never keeps a permit.
//! - **Dismissal empties the queue.** Closing a primitive calls `take_wakers`, which unlinks
//!   every waiter *without* notifying it: nothing is assigned to it, and nobody is left queued to
//!   be notified later. Being queued and holding a waker are one state (`Stage::Queued`), so
//!   `notify_one` returns `None` exactly when nobody was notified, and a primitive that counts
//!   its assignments (the channel's reserved slots) can count on that.
//! - **Wakers are returned, not called.** `notify_*` and `take_wakers` hand the wakers back so
//!   the primitive can release its `RefCell` borrow before waking.
//!
//! Runtime thread only (`RefCell` in the primitives); the wakers stored are ordinary `Waker`s.

use std::task::Waker;

use cashier_trace::{self as trace, Cause, Event, Primitive, WaitOn};

/// "No entry".
const NIL: u32 = u32::MAX;

/// A waiting future's handle on its entry. Not `Clone`: exactly one owner.
#[derive(Debug)]
pub(crate) struct WaitKey(u32);

/// Where a waiter stands. Only `Queued` entries are in the queue, and every one of them holds a
/// waker: there is no way to be queued but unwakeable.
enum Stage {
    /// In the queue, oldest at `head`; its waker is handed out when it is notified or dismissed.
    Queued(Waker),
    /// Taken out of the queue by `notify_one`: what it waited for is assigned to it.
    Notified,
    /// Taken out of the queue by `take_wakers` (the primitive closed): nothing is assigned.
    Dismissed,
    /// Not in use; `next` links the free entries.
    Free,
}

/// One entry of the slab.
struct Waiter {
    /// Where it stands.
    stage: Stage,
    /// Previous in the queue while `Queued` (`NIL` for the oldest, and when not queued).
    prev: u32,
    /// Next in the queue while `Queued`, next free entry while `Free` (`NIL` for the last).
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
        let waiter = Waiter { stage: Stage::Queued(waker.clone()), prev: NIL, next: NIL };
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
        matches!(self.entries[key.0 as usize].stage, Stage::Notified)
    }

    /// Replaces a queued waiter's waker if it would not wake the same task.
    ///
    /// Only for a waiter still queued: one that was notified or dismissed has already been woken
    /// and must act on that (the primitive checks `is_notified` and its own closed flag first).
    pub(crate) fn update_waker(&mut self, key: &WaitKey, waker: &Waker) {
        let stage = &mut self.entries[key.0 as usize].stage;
        debug_assert!(matches!(stage, Stage::Queued(_)), "update_waker on a waiter not queued");
        if let Stage::Queued(current) = stage
            && !current.will_wake(waker)
        {
            *current = waker.clone();
        }
    }

    /// Removes a waiter (its future is done or dropped). Returns whether it had been notified,
    /// in which case the caller owns what was assigned to it.
    pub(crate) fn remove(&mut self, key: WaitKey) -> bool {
        let index = key.0;
        if matches!(self.entries[index as usize].stage, Stage::Queued(_)) {
            self.unlink(index);
        }
        let entry = &mut self.entries[index as usize];
        let notified = matches!(entry.stage, Stage::Notified);
        entry.stage = Stage::Free;
        entry.next = self.free.unwrap_or(NIL);
        self.free = Some(index);
        notified
    }

    /// Notifies the oldest waiter; returns its waker for the caller to wake after releasing its
    /// borrow. `None` means nobody is queued, so nobody was notified.
    pub(crate) fn notify_one(&mut self) -> Option<Waker> {
        self.take_head(Stage::Notified)
    }

    /// Notifies every waiter; returns their wakers.
    pub(crate) fn notify_all(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::with_capacity(self.queued);
        wakers.extend(std::iter::from_fn(|| self.notify_one()));
        wakers
    }

    /// Dismisses every waiter: unlinks it without notifying it and returns its waker. For closing
    /// a primitive, where the waiters must wake up and find it closed, not find something
    /// assigned to them. The queue is empty afterwards.
    pub(crate) fn take_wakers(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::with_capacity(self.queued);
        wakers.extend(std::iter::from_fn(|| self.take_head(Stage::Dismissed)));
        wakers
    }

    /// Unlinks the oldest waiter, leaving it in `stage`; returns its waker, or `None` if nobody
    /// is queued.
    fn take_head(&mut self, stage: Stage) -> Option<Waker> {
        let index = self.head?;
        self.unlink(index);
        match std::mem::replace(&mut self.entries[index as usize].stage, stage) {
            Stage::Queued(waker) => Some(waker),
            _ => unreachable!("only queued waiters are linked"),
        }
    }

    /// Takes a queued waiter out of the queue (its stage is the caller's to set).
    fn unlink(&mut self, index: u32) {
        let (prev, next) = {
            let entry = &self.entries[index as usize];
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

/// Wakes every waker (after the caller released its borrow), naming `primitive` as the cause.
pub(crate) fn wake_all(primitive: Primitive, wakers: impl IntoIterator<Item = Waker>) {
    for waker in wakers {
        hand_off(primitive, waker);
    }
}

/// Wakes `waker` (after the caller released its borrow), naming `primitive` as the cause in the
/// trace: the waiting task is woken because the primitive handed it something (a message, a
/// permit, the event), or has news for it (closed).
pub(crate) fn hand_off(primitive: Primitive, waker: Waker) {
    trace::with_cause(|| Cause::HandOff(primitive), || waker.wake());
}

/// Reports to the trace that the task being polled now waits on `primitive` (it just stored its
/// waker there and returns `Pending`).
pub(crate) fn waits_on(primitive: Primitive) {
    trace::emit(|| Event::Waits { on: WaitOn::Primitive(primitive) });
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

    #[test]
    fn dismissed_waiters_leave_the_queue_unassigned() {
        let mut list = WaitList::default();
        let a = list.push(Waker::noop());
        let b = list.push(Waker::noop());
        assert_eq!(list.take_wakers().len(), 2, "both are woken");
        assert!(list.is_empty(), "and nobody is left queued");
        assert!(list.notify_one().is_none(), "so a later notification assigns nothing");
        assert!(!list.is_notified(&a));
        assert!(!list.remove(a), "a dismissed waiter owned nothing");
        assert!(!list.remove(b));
        let c = list.push(Waker::noop());
        assert!(list.notify_one().is_some(), "a waiter queued after the dismissal is served");
        assert!(list.remove(c));
    }
}
