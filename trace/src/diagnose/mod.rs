//! Debug checks: the few mistakes people make with async code, caught as the program runs, and
//! the task dump that shows what every live task is doing.
//!
//! The [`Diagnostics`] reads the same records as the views, one at a time as they happen (it is
//! driven by the recorder's [`Listener`](crate::Listener), beside the explain mode's narrator),
//! and needs no instrumentation of its own: `PollEnd` counts the waker clones out, `Wake` says
//! who woke whom, `Panicked`, `OutputTaken` and `HandleDropped` say what became of a result.
//!
//! - `table.rs`: one row per task (state, polls, busy time, time scheduled, what became of its
//!   result), beside the shared [`TaskBook`](crate::views::task_book::TaskBook) that numbers and labels tasks.
//! - `checks.rs`: the four checks, each a decision on a row and a paragraph of advice.
//! - `dump.rs`: the task dump (a table of live tasks) and the hang verdict read from it; the
//!   same table, with other columns, prints every task's metrics.
//! - `metrics.rs`: the runtime's counts that only the records tell (time parked, wakes, the
//!   longest run queue, timers armed), for the runtime's metrics.
//!
//! # Invariants
//!
//! - **Record order only**, as every view (`views/mod.rs`): each record is seen once, live, and
//!   a warning is raised at the record that proves it, never later than needed (a lost waker at
//!   its `PollEnd`, an unretrieved failure at the later of `Complete` and `HandleDropped`), except
//!   the failures whose handles live on, which only the end of the run proves ([`Diagnostics::finish`]).
//! - **Two clocks.** Poll and queue times are read on the real clock (`real_ns`, taken by the
//!   caller as the record is made); ages on the records' (the runtime's clock, deterministic
//!   when paused). A slow poll blocks the thread in real time, whatever the runtime's clock says.
//! - **One task book.** Tasks are numbered and labelled by the same [`TaskBook`](crate::views::task_book::TaskBook) as the views,
//!   so `#3` in a warning is `#3` in the explain mode and the timeline.

mod checks;
mod dump;
mod metrics;
mod table;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use self::checks::{Warning, WarningKind};
pub use self::dump::{Column, DumpRow, TaskDump};
pub use self::metrics::EventCounts;
pub use self::table::TaskState;

use self::checks::{
    lost_waker_check, lost_waker_text, never_awaited_check, slow_poll_check, slow_poll_text,
    storm_check, storm_text, unretrieved_check, unretrieved_text,
};
use self::metrics::Counter;
use self::table::Table;
use crate::event::{Cause, Event, Outcome, PollResult, Queue, Record, TaskKey};
use crate::views::origin::rebase;
use crate::views::task_book::{TaskBook, name_at};
use crate::views::waiting::Waiting;
use crate::views::words::seconds;

/// The limits of the checks that count or time something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A poll longer than this (real time) is slow. Default 100 ms, asyncio's
    /// `slow_callback_duration`.
    pub slow_poll: Duration,
    /// A task that woke itself in more than this many consecutive polls, while nothing else
    /// progressed, is in a self-wake storm. Default 10,000.
    pub self_wakes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { slow_poll: Duration::from_millis(100), self_wakes: 10_000 }
    }
}

/// The debug checks' state: every task's row, fed record by record (see the module doc).
///
/// ```
/// use cashier_trace::{Diagnostics, Event, Limits, PollResult, Record, TaskKey, WarningKind};
///
/// let mut checks = Diagnostics::new(0, Limits::default());
/// let task = TaskKey(0x10);
/// let at = |event| Record { at_ns: 0, event };
/// let spawn = Event::Spawn { task, location: std::panic::Location::caller() };
/// checks.see(&at(spawn), &[], 0);
/// checks.see(&at(Event::PollStart { task }), &[], 0);
/// let pending = Event::PollEnd { task, result: PollResult::Pending, wakers: Some(0) };
/// checks.see(&at(pending), &[], 1_000);
/// let warnings = checks.take_warnings();
/// assert_eq!(warnings[0].kind, WarningKind::LostWaker);
/// ```
pub struct Diagnostics {
    /// Numbers, names and spawn locations.
    tasks: TaskBook,
    /// The poll under way and what each task waits on.
    waiting: Waiting,
    /// One row per task.
    table: Table,
    /// The limits of the checks.
    limits: Limits,
    /// Warnings raised and not yet taken.
    warnings: Vec<Warning>,
    /// The runtime's clock when the recording began: deadlines are counted from it.
    origin_ns: u64,
    /// The time of the last record seen (records' scale).
    last_ns: u64,
    /// What the last `Panicked` said: it belongs to the next `Complete`.
    panic: Option<Box<str>>,
    /// The runtime's counts only the records tell (`metrics.rs`).
    counter: Counter,
}

impl Diagnostics {
    /// Checks that have seen nothing yet. `origin_ns` is the runtime's clock when the recording
    /// began ([`Recorder::origin_ns`](crate::Recorder::origin_ns)).
    pub fn new(origin_ns: u64, limits: Limits) -> Diagnostics {
        Diagnostics {
            tasks: TaskBook::new(),
            waiting: Waiting::new(),
            table: Table::new(),
            limits,
            warnings: Vec::new(),
            origin_ns,
            last_ns: 0,
            panic: None,
            counter: Counter::new(),
        }
    }

    /// Takes the next record, with the strings interned so far and the real clock's reading
    /// (nanoseconds from any fixed start) when it was made. Warnings it proves are kept for
    /// [`Diagnostics::take_warnings`].
    pub fn see(&mut self, record: &Record, strings: &[Box<str>], real_ns: u64) {
        self.last_ns = record.at_ns;
        let event = rebase(record.event, self.origin_ns);
        self.check(record.at_ns, event, strings, real_ns);
        let task = event_task(event).and_then(|key| self.tasks.lookup(key));
        self.counter.see(record.at_ns, event, task);
    }

    /// What the runtime's records counted so far (`metrics.rs`).
    pub fn counts(&self) -> EventCounts {
        self.counter.counts
    }

    /// [`Diagnostics::see`] for the table and the checks.
    fn check(&mut self, at_ns: u64, event: Event, strings: &[Box<str>], real_ns: u64) {
        match event {
            Event::Spawn { task, location } => {
                let task = self.tasks.spawned_at(task, location);
                let row = self.table.row(task);
                row.seen = true;
                row.spawned_ns = at_ns;
                row.queue(real_ns);
            }
            Event::Name { task, name } => self.tasks.name(task, name_at(strings, name)),
            Event::PollStart { task } => self.poll_start(task, at_ns, real_ns),
            Event::Waits { on } => self.waiting.reported(on),
            Event::PollEnd { task, result, wakers } => {
                self.poll_end(task, result, wakers, at_ns, real_ns)
            }
            Event::Wake { task, cause, queue } => {
                let task = self.tasks.resolve(task);
                // A wake of the task being polled is the task waking itself (`waiting.rs`):
                // `Queue::WhileRunning` for a spawned task, `Queue::Local` for `#0 main`.
                if self.waiting.woke_itself(task, cause) {
                    let row = self.table.row(task);
                    row.woke_itself = true;
                    row.budget_spent |= cause == Cause::Budget;
                    return;
                }
                self.table.progress += 1;
                self.waiting.answered(task, cause);
                if matches!(queue, Queue::Local | Queue::Remote) {
                    self.table.row(task).queue(real_ns);
                }
            }
            Event::Abort { task } => {
                let task = self.tasks.resolve(task);
                self.table.row(task).aborted = true;
            }
            Event::Panicked { message } => self.panic = Some(name_at(strings, message).into()),
            Event::OutputTaken { task } => {
                let task = self.tasks.resolve(task);
                self.table.row(task).output_taken = true;
            }
            Event::HandleDropped { task } => {
                let task = self.tasks.resolve(task);
                self.table.row(task).handle_dropped = true;
                self.unretrieved(task, false);
            }
            Event::Complete { task, outcome } => self.complete(task, outcome),
            _ => {}
        }
    }

    /// Warnings raised since the last call, in the order raised.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// The runtime finished (it is dropped): raises what only the end proves, the panicked
    /// tasks whose handles are alive but never took the output, and returns every warning not
    /// yet taken.
    pub fn finish(&mut self) -> Vec<Warning> {
        let failed: Vec<usize> = self
            .table
            .iter()
            .filter(|(_, row)| never_awaited_check(row))
            .map(|(task, _)| task)
            .collect();
        for task in failed {
            self.unretrieved(task, true);
        }
        self.take_warnings()
    }

    /// The limits the checks use.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// `PollStart` of `key`.
    fn poll_start(&mut self, key: TaskKey, at_ns: u64, real_ns: u64) {
        let task = self.tasks.resolve(key);
        self.waiting.poll_start(task);
        let row = self.table.row(task);
        if !row.seen {
            // `#0 main`, polled for the first time in this `block_on`.
            row.seen = true;
            row.spawned_ns = at_ns;
        }
        row.poll_start(real_ns);
    }

    /// `PollEnd` of `key`: the lost waker, slow poll and self-wake storm checks.
    fn poll_end(
        &mut self,
        key: TaskKey,
        result: PollResult,
        wakers: Option<u32>,
        at_ns: u64,
        real_ns: u64,
    ) {
        let task = self.tasks.resolve(key);
        let poll = self.waiting.poll_end(task);
        let progress = self.table.progress;
        let limits = self.limits;
        let row = self.table.row(task);
        let took = row.poll_end(real_ns);
        row.wakers = wakers;
        let lost = result == PollResult::Pending && lost_waker_check(row, wakers);
        let slow = slow_poll_check(took, limits.slow_poll.as_nanos() as u64);
        let storm = if result == PollResult::Pending && row.woke_itself {
            row.queue(real_ns); // queued again as the poll returns
            if row.budget_spent {
                // 128 operations completed: busy, not spinning. The streak ends.
                row.streak = 0;
                false
            } else {
                if row.streak == 0 || row.streak_progress != progress {
                    (row.streak, row.streak_progress, row.storm_reported) = (0, progress, false);
                }
                row.streak += 1;
                storm_check(row, limits.self_wakes)
            }
        } else {
            row.streak = 0;
            false
        };
        if storm {
            row.storm_reported = true;
        }
        // What it waits on: what this poll reported, or nothing if no waker is out; a poll that
        // reported nothing with wakers out (a combinator polling one child) leaves the old.
        if let Some(poll) = poll
            && result == PollResult::Pending
            && (!poll.waits.is_empty() || wakers == Some(0))
        {
            self.waiting.set(task, poll.waits);
        }
        if task == TaskBook::ROOT && result != PollResult::Pending {
            *self.table.row(task) = Default::default(); // `block_on` returns; the next is new
            self.waiting.set(task, Vec::new());
        }
        let label = self.describe(task);
        if lost {
            let text = lost_waker_text(&label, &seconds(at_ns));
            self.warn(WarningKind::LostWaker, task, text);
        }
        if slow {
            let text = slow_poll_text(&label, took, limits.slow_poll.as_nanos() as u64);
            self.warn(WarningKind::SlowPoll, task, text);
        }
        if storm {
            self.warn(WarningKind::SelfWakeStorm, task, storm_text(&label, limits.self_wakes + 1));
        }
    }

    /// `Complete` of `key`.
    fn complete(&mut self, key: TaskKey, outcome: Outcome) {
        let task = self.tasks.resolve(key);
        self.waiting.completed_in_poll(task, outcome);
        self.waiting.set(task, Vec::new());
        let panic = self.panic.take(); // told just before, by the `JoinError` this completes with
        let row = self.table.row(task);
        row.complete(outcome);
        if outcome == Outcome::Panicked {
            row.panic = panic;
        }
        self.table.progress += 1; // a task ending is progress: storms elsewhere are broken
        self.unretrieved(task, false);
    }

    /// Raises the unretrieved failure of `task` if its row proves it (`never_awaited`: at the
    /// end, with the handle alive).
    fn unretrieved(&mut self, task: usize, never_awaited: bool) {
        let Some(row) = self.table.get(task) else { return };
        let proven = if never_awaited { never_awaited_check(row) } else { unretrieved_check(row) };
        if !proven {
            return;
        }
        let message = row.panic.clone().unwrap_or_else(|| "(message not recorded)".into());
        self.table.row(task).failure_reported = true;
        let text = unretrieved_text(&self.describe(task), &message, never_awaited);
        self.warn(WarningKind::UnretrievedFailure, task, text);
    }

    /// Keeps a warning about `task`.
    fn warn(&mut self, kind: WarningKind, task: usize, text: String) {
        self.warnings.push(Warning { kind, task: self.tasks.label(task), text });
    }

    /// `#3 "google" spawned at demos/src/site_status.rs:111`, or `#0 main (the block_on
    /// future)`.
    fn describe(&self, task: usize) -> String {
        let label = self.tasks.label(task);
        match self.tasks.location(task) {
            Some(at) => format!("{label} spawned at {}:{}", at.file(), at.line()),
            None if task == TaskBook::ROOT => format!("{label} (the block_on future)"),
            None => label,
        }
    }
}

/// The task `event` is about, if any.
fn event_task(event: Event) -> Option<TaskKey> {
    match event {
        Event::Spawn { task, .. }
        | Event::PollStart { task }
        | Event::PollEnd { task, .. }
        | Event::Wake { task, .. }
        | Event::Abort { task }
        | Event::Complete { task, .. } => Some(task),
        _ => None,
    }
}
