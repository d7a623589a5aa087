//! Who is ready to run: the run queue's length, played back from the records.
//!
//! No event says how long the run queue is: the executor keeps no count it could report
//! without a store on its hot path. The length follows from the lifecycle events instead, and
//! every view that tells it (a reactor turn's "tasks ready (3 queued)", Perfetto's `run queue`
//! counter) reads it from here, so that all of them count alike.
//!
//! # The rules
//!
//! A spawned task is *queued* (on the local run queue) from
//!
//! - its `Spawn` (arrow 1: `spawn` pushes it),
//! - a `Wake` with [`Queue::Local`] or [`Queue::Remote`] (pushed, or moved over from the remote
//!   queue),
//! - the `PollEnd` of a `Pending` poll during which it was woken ([`Queue::WhileRunning`]: the
//!   executor queues it again when the poll returns),
//!
//! until its `PollStart` (popped to be polled) or its `Complete` (an aborted task is popped and
//! dropped without a poll; shutdown empties the queue). A task already queued is not queued
//! twice ([`Queue::AlreadyScheduled`] changes nothing), and a completed one never again: a wake
//! while running followed by a `Ready` poll queues nothing. Nor is an aborted one once its poll
//! returns: the executor drops it then, even if it was woken during the poll (`Abort` seen).
//!
//! The `block_on` future is never queued: the executor polls it when a flag says it was woken.
//! That flag is kept beside the queue ([`Ready::main_woken`]): set by a wake of `#0 main`,
//! cleared by its `PollStart`.
//!
//! # Invariants
//!
//! - The length is the number of tasks whose flag `queued` is set: it never goes below zero,
//!   and a task leaves the queue only if it was in it.
//! - Tasks are [`TaskBook`](super::task_book::TaskBook) indices, resolved by the caller; index
//!   0 is the `block_on` future.
//! - What the records cannot show, this cannot count: a task woken from another thread waits in
//!   the remote queue unseen until the runtime moves it over (its `Wake` with `Queue::Remote`),
//!   and a recording begun mid-run starts from an empty queue.

use std::mem;

use crate::event::{PollResult, Queue};

/// What is ready to run at one moment, as far as the records show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ready {
    /// Spawned tasks on the run queue.
    pub(crate) queued: u64,
    /// Whether the `block_on` future was woken and not polled since.
    pub(crate) main_woken: bool,
}

/// What an aborted task was doing, as far as the run queue knows (who polls is not its
/// business: a task aborting itself is running, and seen as `Idle` here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WhenAborted {
    /// Not queued: the abort queues it (a `Wake` for `Cause::Abort` follows), unless it is
    /// the task running, which is dropped when its poll returns.
    Idle,
    /// Queued: dropped when the run loop reaches it.
    Queued,
    /// Aborted already: nothing more happens.
    AbortedBefore,
    /// Complete: there is nothing left to drop.
    Complete,
}

/// The run queue, played back from the records (see the module's rules).
pub(crate) struct RunQueue {
    /// What is known of each task, by its index.
    tasks: Vec<Entry>,
    /// Tasks queued now.
    queued: u64,
    /// Whether the `block_on` future's wake flag is set.
    main_woken: bool,
}

/// One task's place with respect to the queue.
#[derive(Clone, Copy, Default)]
struct Entry {
    /// On the run queue: spawned or woken there, not polled since.
    queued: bool,
    /// Woken during the poll running now: queued again if that poll returns `Pending`.
    woken_while_running: bool,
    /// Completed: nothing queues it again.
    complete: bool,
    /// Aborted: when its poll returns, it is dropped, not queued again.
    aborted: bool,
}

impl RunQueue {
    /// The `block_on` index: never queued, only flagged.
    const MAIN: usize = 0;

    /// An empty queue.
    pub(crate) fn new() -> RunQueue {
        RunQueue { tasks: Vec::new(), queued: 0, main_woken: false }
    }

    /// What is ready now.
    pub(crate) fn ready(&self) -> Ready {
        Ready { queued: self.queued, main_woken: self.main_woken }
    }

    /// Tasks queued now.
    pub(crate) fn len(&self) -> u64 {
        self.queued
    }

    /// `Spawn` of `task`: it is queued. Returns whether the length changed.
    pub(crate) fn spawned(&mut self, task: usize) -> bool {
        self.enqueue(task)
    }

    /// `Wake` of `task` that did `queue` with it. Returns whether the length changed.
    pub(crate) fn woken(&mut self, task: usize, queue: Queue) -> bool {
        if task == Self::MAIN {
            self.main_woken = true; // its flag is set, whether or not it was already
            return false;
        }
        match queue {
            Queue::Local | Queue::Remote => self.enqueue(task),
            Queue::WhileRunning => {
                self.entry(task).woken_while_running = true;
                false
            }
            Queue::AlreadyScheduled => false,
        }
    }

    /// `PollStart` of `task`: it leaves the queue (or its wake flag is cleared). Returns whether
    /// the length changed.
    pub(crate) fn poll_start(&mut self, task: usize) -> bool {
        if task == Self::MAIN {
            self.main_woken = false;
        }
        self.dequeue(task)
    }

    /// `PollEnd` of `task` with `result`: a task woken during a `Pending` poll is queued again,
    /// unless it was aborted. Returns whether the length changed.
    pub(crate) fn poll_end(&mut self, task: usize, result: PollResult) -> bool {
        let entry = self.entry(task);
        let requeue = mem::take(&mut entry.woken_while_running) && !entry.aborted;
        requeue && result == PollResult::Pending && self.enqueue(task)
    }

    /// `Abort` of `task`: whatever its state, it will be dropped, not polled again. Returns
    /// what it was doing when aborted, as far as the queue knows.
    pub(crate) fn aborted(&mut self, task: usize) -> WhenAborted {
        let entry = self.entry(task);
        let when = match *entry {
            Entry { complete: true, .. } => WhenAborted::Complete,
            Entry { aborted: true, .. } => WhenAborted::AbortedBefore,
            Entry { queued: true, .. } => WhenAborted::Queued,
            _ => WhenAborted::Idle,
        };
        entry.aborted = true;
        when
    }

    /// `Complete` of `task`: it leaves the queue for good (a cancelled task is dropped from it
    /// without a poll). Returns whether the length changed.
    pub(crate) fn completed(&mut self, task: usize) -> bool {
        self.entry(task).complete = true;
        self.dequeue(task)
    }

    /// `task`'s entry, made if it is the first seen at that index.
    fn entry(&mut self, task: usize) -> &mut Entry {
        if self.tasks.len() <= task {
            self.tasks.resize(task + 1, Entry::default());
        }
        &mut self.tasks[task]
    }

    /// `task` joins the queue, unless it is the `block_on` future, complete, or already in it.
    fn enqueue(&mut self, task: usize) -> bool {
        let entry = self.entry(task);
        if task == Self::MAIN || entry.complete || mem::replace(&mut entry.queued, true) {
            return false;
        }
        self.queued += 1;
        true
    }

    /// `task` leaves the queue, if it was in it.
    fn dequeue(&mut self, task: usize) -> bool {
        if !mem::take(&mut self.entry(task).queued) {
            return false;
        }
        self.queued -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_and_local_or_remote_wakes_queue_a_task_once_and_its_poll_takes_it_off() {
        let mut queue = RunQueue::new();
        assert!(queue.spawned(1)); // spawn pushes #1
        assert!(!queue.woken(1, Queue::AlreadyScheduled), "already queued: nothing changes");
        assert!(!queue.woken(1, Queue::Local), "never twice");
        assert!(queue.spawned(2));
        assert_eq!(queue.len(), 2);
        assert!(queue.poll_start(1)); // popped
        assert!(!queue.poll_end(1, PollResult::Pending)); // waits: not queued
        assert!(queue.woken(1, Queue::Remote)); // moved over from the remote queue
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn a_wake_while_running_queues_the_task_when_its_poll_returns_pending() {
        let mut queue = RunQueue::new();
        queue.spawned(1);
        queue.poll_start(1);
        assert!(!queue.woken(1, Queue::WhileRunning), "only flagged during the poll");
        assert_eq!(queue.len(), 0);
        assert!(queue.poll_end(1, PollResult::Pending)); // re-queued after Pending
        assert_eq!(queue.len(), 1);
        queue.poll_start(1);
        queue.woken(1, Queue::WhileRunning);
        assert!(!queue.poll_end(1, PollResult::Ready), "it returned: nothing to run again");
        assert!(!queue.completed(1));
        assert!(!queue.woken(1, Queue::Local), "complete: never queued again");
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn an_aborted_task_leaves_the_queue_with_its_complete() {
        let mut queue = RunQueue::new();
        queue.spawned(1);
        queue.poll_start(1);
        queue.poll_end(1, PollResult::Pending);
        assert!(queue.woken(1, Queue::Local)); // abort queues it to drop it
        assert!(queue.completed(1)); // popped and dropped without a poll
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn an_aborted_task_woken_while_running_is_dropped_not_queued_again() {
        let mut queue = RunQueue::new();
        queue.spawned(1);
        queue.poll_start(1);
        queue.woken(1, Queue::WhileRunning);
        assert_eq!(queue.aborted(1), WhenAborted::Idle); // aborts itself while running
        assert!(!queue.poll_end(1, PollResult::Pending), "cancel wins over the wake");
        assert_eq!(queue.aborted(1), WhenAborted::AbortedBefore);
        queue.completed(1);
        assert_eq!(queue.aborted(1), WhenAborted::Complete);
        queue.spawned(2);
        assert_eq!(queue.aborted(2), WhenAborted::Queued);
    }

    #[test]
    fn main_is_flagged_not_queued() {
        let mut queue = RunQueue::new();
        assert!(!queue.woken(0, Queue::Local));
        assert_eq!(queue.ready(), Ready { queued: 0, main_woken: true });
        assert!(!queue.poll_start(0));
        assert_eq!(queue.ready(), Ready::default());
    }
}
