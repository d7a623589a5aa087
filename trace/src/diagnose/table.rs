//! The task table: one row per task of the [`TaskBook`](crate::views::task_book), kept beside it
//! by index, with what the debug checks and the task dump need to know of each task.
//!
//! # Invariants
//!
//! - Row `i` belongs to book entry `i`: [`Table::row`] grows the rows to the book's length, so
//!   every index the book hands out has a row (a default one until the task's records fill it).
//! - Times named `*_real` are the real clock's nanoseconds (`real_ns` as each record was made):
//!   a poll that blocks the thread is a real-time matter, and the runtime's clock may be paused.
//!   `spawned_ns` is the record's own time (the runtime's clock), so that a task's age reads the
//!   same on a paused clock whenever the program runs.
//! - A row is never removed (nor is its book entry): a completed task's row keeps what became of
//!   its result until its handle is dropped or the runtime finishes.

use crate::event::Outcome;

/// What a task is doing, as its records tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// In the run queue: spawned or woken, not yet polled.
    Queued,
    /// Being polled now.
    Running,
    /// Returned `Pending` and waits to be woken.
    Idle,
    /// Completed: returned, panicked or cancelled.
    Complete(Outcome),
}

/// What the table knows of one task.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    /// Whether the task's `Spawn` (or, for `#0 main`, a poll) was seen.
    pub(crate) seen: bool,
    /// When it was spawned (the record's time, runtime clock).
    pub(crate) spawned_ns: u64,
    /// What it is doing.
    pub(crate) state: TaskState,
    /// Polls begun.
    pub(crate) polls: u64,
    /// Real time spent inside its polls.
    pub(crate) busy_ns: u64,
    /// Real time spent queued, from each wake (or the spawn) to the poll that followed.
    pub(crate) scheduled_ns: u64,
    /// Its longest poll, real time.
    pub(crate) max_poll_ns: u64,
    /// Real time spent idle, from each `Pending` poll's end to the wake that followed.
    pub(crate) idle_ns: u64,
    /// When its idle time under way began (real clock), while it is idle.
    pub(crate) idle_since_real: Option<u64>,
    /// When it was last queued (real clock), while it is queued.
    pub(crate) queued_real: Option<u64>,
    /// When its poll under way began (real clock).
    pub(crate) poll_start_real: u64,
    /// The waker clones its last `Pending` poll left out (`None`: not counted, `#0 main`).
    pub(crate) wakers: Option<u32>,
    /// Whether its last poll woke itself.
    pub(crate) woke_itself: bool,
    /// Whether that self-wake was its cooperative budget running out ([`Cause::Budget`]): a
    /// poll that completed 128 operations is busy, not spinning, and no step of a storm.
    ///
    /// [`Cause::Budget`]: crate::Cause::Budget
    pub(crate) budget_spent: bool,
    /// Whether `JoinHandle::abort` was called on it.
    pub(crate) aborted: bool,
    /// What its panic said, if it panicked.
    pub(crate) panic: Option<Box<str>>,
    /// Whether its `JoinHandle` was dropped.
    pub(crate) handle_dropped: bool,
    /// Whether its `JoinHandle` took the output.
    pub(crate) output_taken: bool,
    /// Whether its unretrieved failure was reported (it is reported once).
    pub(crate) failure_reported: bool,
    /// Consecutive polls in which it woke itself while nothing else made progress.
    pub(crate) streak: u64,
    /// The runtime's progress count ([`Table::progress`]) when the streak began.
    pub(crate) streak_progress: u64,
    /// Whether the current streak was reported (each streak is reported once).
    pub(crate) storm_reported: bool,
}

impl Default for Row {
    fn default() -> Row {
        Row {
            seen: false,
            spawned_ns: 0,
            state: TaskState::Idle,
            polls: 0,
            busy_ns: 0,
            scheduled_ns: 0,
            max_poll_ns: 0,
            idle_ns: 0,
            idle_since_real: None,
            queued_real: None,
            poll_start_real: 0,
            wakers: None,
            woke_itself: false,
            budget_spent: false,
            aborted: false,
            panic: None,
            handle_dropped: false,
            output_taken: false,
            failure_reported: false,
            streak: 0,
            streak_progress: 0,
            storm_reported: false,
        }
    }
}

impl Row {
    /// Whether the task has not completed.
    pub(crate) fn is_live(&self) -> bool {
        self.seen && !matches!(self.state, TaskState::Complete(_))
    }

    /// Queued at `real_ns` (spawned, or woken while idle): its time idle ends and its time
    /// scheduled starts now.
    pub(crate) fn queue(&mut self, real_ns: u64) {
        if let Some(since) = self.idle_since_real.take() {
            self.idle_ns += real_ns.saturating_sub(since);
        }
        if self.state != TaskState::Running {
            self.state = TaskState::Queued;
        }
        self.queued_real.get_or_insert(real_ns);
    }

    /// A poll begins at `real_ns`.
    pub(crate) fn poll_start(&mut self, real_ns: u64) {
        if let Some(queued) = self.queued_real.take() {
            self.scheduled_ns += real_ns.saturating_sub(queued);
        }
        self.state = TaskState::Running;
        self.polls += 1;
        self.poll_start_real = real_ns;
        self.woke_itself = false;
        self.budget_spent = false;
    }

    /// The poll under way ends at `real_ns`: returns how long it took. Its time idle starts
    /// now (a `Complete` that follows a `Ready` poll ends it uncounted: [`Row::complete`]).
    pub(crate) fn poll_end(&mut self, real_ns: u64) -> u64 {
        let took = real_ns.saturating_sub(self.poll_start_real);
        self.busy_ns += took;
        self.max_poll_ns = self.max_poll_ns.max(took);
        if self.state == TaskState::Running {
            self.state = TaskState::Idle;
            self.idle_since_real = Some(real_ns);
        }
        took
    }

    /// The task completed with `outcome`: it is neither queued nor idle any more.
    pub(crate) fn complete(&mut self, outcome: Outcome) {
        self.state = TaskState::Complete(outcome);
        self.queued_real = None;
        self.idle_since_real = None;
    }
}

/// The rows, by [`TaskBook`](crate::views::task_book) index, and what counts for all of them.
pub(crate) struct Table {
    /// One row per book entry.
    rows: Vec<Row>,
    /// Wakes made for any reason but a task waking itself, so far: the runtime's progress. A
    /// self-wake streak that sees this change is over.
    pub(crate) progress: u64,
}

impl Table {
    /// No rows yet.
    pub(crate) fn new() -> Table {
        Table { rows: Vec::new(), progress: 0 }
    }

    /// The row of book entry `task`, made if it is the first time.
    pub(crate) fn row(&mut self, task: usize) -> &mut Row {
        if task >= self.rows.len() {
            self.rows.resize_with(task + 1, Row::default);
        }
        &mut self.rows[task]
    }

    /// The row of book entry `task`, if it was made.
    pub(crate) fn get(&self, task: usize) -> Option<&Row> {
        self.rows.get(task)
    }

    /// Every row with its index.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &Row)> {
        self.rows.iter().enumerate()
    }
}
