//! The runtime's metrics that only the records can tell: how long it parked, how tasks were
//! woken, how long the run queue grew, what became of timers, sockets and `to_thread` jobs.
//!
//! The executor and the reactor keep no counter of these on their hot paths (a wake, a poll, a
//! timer insert costs what it costs unwatched); a watched runtime reports every one of them as an
//! event anyway, so [`EventCounts`] counts them from the records, beside the task table, and
//! nothing is paid when nobody watches. The per-task metrics (polls, busy, scheduled, idle, max
//! poll) are the task table's rows (`table.rs`), printed by the dump's table (`dump.rs`).
//!
//! # What each count reads
//!
//! - **Time parked**: from each `Park` to the next `Unpark`, on the records' clock (the
//!   runtime's: a paused clock's jumps count as time parked, which is what a reader of virtual
//!   time wants). It includes the wakes the turn makes before its `Unpark`.
//! - **Wakes**: a `Wake` that queued its task, on the runtime's thread ([`Queue::Local`], or
//!   [`Queue::WhileRunning`], queued when the poll returns) or from another thread
//!   ([`Queue::Remote`], counted when the runtime moves it over). A wake of a task already queued
//!   changes nothing and is not counted; nor is a wake of `#0 main` from another thread, which
//!   only sets its flag and is recorded by no one.
//! - **Budget yields**: a `Wake` with [`Cause::Budget`], whichever queue it reached.
//! - **Run queue**: its length played back as the views play it (`views/run_queue.rs`); the
//!   longest it was.
//! - **Timers armed**: a `Waits` on a timer slot with a deadline not seen on that slot since it
//!   last fired. A sleep polled again reports the same slot and deadline, and is not counted
//!   twice; a sleep dropped before it fired frees its slot with no event, so a later sleep that
//!   takes the same slot with the very same deadline is missed (rare: it needs the same
//!   nanosecond). **Cancelled** is what was armed and neither fired nor is waiting now, which
//!   only the reactor knows (its caller subtracts).

use std::collections::HashMap;
use std::time::Duration;

use crate::event::{Cause, Event, Queue, WaitOn};
use crate::views::run_queue::RunQueue;

/// What the records of a watched runtime counted (see the module doc for how each is read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventCounts {
    /// Time spent in reactor turns, from `Park` to `Unpark` (runtime clock).
    pub parked: Duration,
    /// Wakes that queued a task from the runtime's own thread.
    pub local_wakes: u64,
    /// Wakes that queued a task from another thread.
    pub remote_wakes: u64,
    /// The most spawned tasks queued to run at once.
    pub max_run_queue: u64,
    /// Tasks spawned.
    pub spawned: u64,
    /// Tasks completed (returned, panicked or cancelled).
    pub completed: u64,
    /// Timers put in the wheel.
    pub timers_armed: u64,
    /// Timers fired.
    pub timers_fired: u64,
    /// Sockets registered with the reactor.
    pub registrations: u64,
    /// Sockets deregistered.
    pub deregistrations: u64,
    /// `to_thread` jobs handed to the pool.
    pub jobs_submitted: u64,
    /// `to_thread` jobs whose result was taken.
    pub jobs_finished: u64,
    /// Times a task's cooperative budget ran out and a ready resource sent it to the back of
    /// the queue (tokio's `budget_forced_yield_count`).
    pub budget_yields: u64,
}

/// The counting: [`EventCounts`] and what it needs to remember between records.
pub(crate) struct Counter {
    /// The counts so far.
    pub(crate) counts: EventCounts,
    /// When the turn under way began (records' clock), while one is.
    park_start: Option<u64>,
    /// The run queue, played back.
    run_queue: RunQueue,
    /// Each timer slot's deadline, from its `Waits` until it fires.
    armed: HashMap<u32, u64>,
}

impl Counter {
    /// Nothing counted yet.
    pub(crate) fn new() -> Counter {
        Counter {
            counts: EventCounts::default(),
            park_start: None,
            run_queue: RunQueue::new(),
            armed: HashMap::new(),
        }
    }

    /// Counts `event`, recorded at `at_ns`; `task` is the task book's index of the task it
    /// names, if it names one.
    pub(crate) fn see(&mut self, at_ns: u64, event: Event, task: Option<usize>) {
        let counts = &mut self.counts;
        match (event, task) {
            (Event::Spawn { .. }, Some(task)) => {
                counts.spawned += 1;
                self.run_queue.spawned(task);
            }
            (Event::Wake { queue, cause, .. }, Some(task)) => {
                if cause == Cause::Budget {
                    counts.budget_yields += 1;
                }
                match queue {
                    Queue::Local | Queue::WhileRunning => counts.local_wakes += 1,
                    Queue::Remote => counts.remote_wakes += 1,
                    Queue::AlreadyScheduled => {}
                }
                self.run_queue.woken(task, queue);
            }
            (Event::PollStart { .. }, Some(task)) => {
                self.run_queue.poll_start(task);
            }
            (Event::PollEnd { result, .. }, Some(task)) => {
                self.run_queue.poll_end(task, result);
            }
            (Event::Abort { .. }, Some(task)) => {
                self.run_queue.aborted(task);
            }
            (Event::Complete { .. }, Some(task)) => {
                counts.completed += 1;
                self.run_queue.completed(task);
            }
            (Event::Park { .. }, _) => self.park_start = Some(at_ns),
            (Event::Unpark { .. }, _) => {
                if let Some(start) = self.park_start.take() {
                    counts.parked += Duration::from_nanos(at_ns.saturating_sub(start));
                }
            }
            (Event::Waits { on: WaitOn::Timer { timer, deadline_ns } }, _) => {
                let new = self.armed.insert(timer, deadline_ns) != Some(deadline_ns);
                counts.timers_armed += u64::from(new);
            }
            (Event::TimerFired { timer, .. }, _) => {
                self.armed.remove(&timer);
                counts.timers_fired += 1;
            }
            (Event::IoRegistered { .. }, _) => counts.registrations += 1,
            (Event::IoDeregistered { .. }, _) => counts.deregistrations += 1,
            (Event::JobSubmitted { .. }, _) => counts.jobs_submitted += 1,
            (Event::JobFinished { .. }, _) => counts.jobs_finished += 1,
            _ => {}
        }
        self.counts.max_run_queue = self.counts.max_run_queue.max(self.run_queue.len());
    }
}
