//! The task dump: every live task in a table (what it is doing, for how long, on what it waits),
//! and the hang verdict read from the same rows.
//!
//! A dump is a value ([`TaskDump`]) that prints as a table, so that a test can read it field by
//! field and a person can print it. The runtime's metrics print every task (completed ones
//! too) with the same rows and the same table, choosing other [`Column`]s
//! ([`Column::METRICS`]: polls, busy, scheduled, idle, max poll). The dump's columns:
//!
//! ```text
//! 2 live tasks:
//! task        spawned at               state  age   polls  busy       waits on
//! #0 main     -                        idle   0 ns  1      24.226 µs  the JoinHandle of #1 "stuck"
//! #1 "stuck"  examples/mistakes.rs:76  idle   0 ns  1      3.435 µs   a channel message
//! ```
//!
//! # What a task waits on
//!
//! What its last `Pending` poll reported (`Waits`), less what a wake answered since
//! (`waiting.rs`). A task that reported nothing is told by its waker count: none out means
//! nothing holds its waker (it will never run again); some out means something that reports no
//! event holds it (a hand-written future, a foreign library, another thread).
//!
//! # The hang verdict
//!
//! [`Diagnostics::hang`](super::Diagnostics::hang) is asked by the runtime when it is about to
//! block with no timer, socket or `to_thread` job to wait for. It finds a hang only if every
//! live task (and `#0 main`) is idle and waits only on things of this runtime that no other
//! thread can touch: a `cashier::sync` primitive (`Rc`-based, `!Send`), another task's
//! `JoinHandle` (`!Send`), or nothing at all (no waker out). A task that reported nothing but
//! has waker clones out may be woken by a thread the runtime does not know of, and `#0 main`'s
//! wakers are not counted, so either makes the verdict "not proven".
//!
//! What it cannot see: a task that reported an inside wait *and* handed a waker to another
//! thread through a future that reports nothing (say, `gather` over a channel's `recv` and a
//! hand-written future whose waker a thread holds) looks as stuck as one that did not. The
//! waker count cannot tell them apart when a combinator gives each child a waker of its own.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use super::Diagnostics;
use super::table::{Row, TaskState};
use crate::event::WaitOn;
use crate::views::task_book::TaskBook;
use crate::views::words::{duration_short, outcome_word, wait_on_words};

/// A table of every live task, as the debug checks' records tell it (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDump {
    /// One row per live task, `#0 main` first (while `block_on` runs), then in spawn order.
    pub tasks: Vec<DumpRow>,
}

/// One live task of a [`TaskDump`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpRow {
    /// Its spawn number (`#3`), 0 for `#0 main`; `None` if its spawn was not recorded.
    pub id: Option<u64>,
    /// The label the views give it: `#3 "google"`, `#0 main`.
    pub label: String,
    /// Its name, if it was given one (`task::Builder::name`).
    pub name: Option<String>,
    /// Where it was spawned (`None` for `#0 main`).
    pub spawned_at: Option<&'static Location<'static>>,
    /// What it is doing.
    pub state: TaskState,
    /// How long since it was spawned, on the runtime's clock (virtual when paused).
    pub age: Duration,
    /// Polls begun.
    pub polls: u64,
    /// Real time spent inside its polls.
    pub busy: Duration,
    /// Real time spent queued, between being woken and being polled.
    pub scheduled: Duration,
    /// Real time spent idle, between a `Pending` poll's end and the wake that followed (a
    /// wait under way is not counted until its wake).
    pub idle: Duration,
    /// Its longest poll, real time.
    pub max_poll: Duration,
    /// What it waits on, in words: `timer #5 (due 0.734s)`, `fd 7 readable`, `to_thread job 2`,
    /// `a channel message`, `the JoinHandle of #2 "cook"`, `nothing holds its waker ...`.
    pub waits_on: String,
}

impl Diagnostics {
    /// Every live task now, `now_ns` being the runtime's clock on the records' scale (nanoseconds
    /// since the recording began), for the ages.
    pub fn dump(&self, now_ns: u64) -> TaskDump {
        let tasks = self
            .table
            .iter()
            .filter(|(_, row)| row.is_live())
            .map(|(task, row)| self.dump_row(task, row, now_ns))
            .collect();
        TaskDump { tasks }
    }

    /// Every task seen, live or complete, in spawn order (`#0 main` first while `block_on`
    /// runs): the rows of the runtime's per-task metrics. `now_ns` as for [`Diagnostics::dump`].
    pub fn tasks(&self, now_ns: u64) -> TaskDump {
        let tasks = self
            .table
            .iter()
            .filter(|(_, row)| row.seen)
            .map(|(task, row)| self.dump_row(task, row, now_ns))
            .collect();
        TaskDump { tasks }
    }

    /// The dump of a runtime that cannot progress by itself, if its records prove it cannot:
    /// asked when the runtime is about to block with no timer, socket or job to wait for (see
    /// the module doc for what is proven and what is not). `now_ns` as for [`Diagnostics::dump`].
    pub fn hang(&self, now_ns: u64) -> Option<TaskDump> {
        let stuck =
            self.table.iter().filter(|(_, row)| row.is_live()).all(|(task, row)| {
                row.state == TaskState::Idle && self.waits_inside(task, row.wakers)
            });
        let root_active = self.table.get(TaskBook::ROOT).is_some_and(Row::is_live);
        (stuck && root_active).then(|| self.dump(now_ns))
    }

    /// Whether idle `task`, with `wakers` out, waits only on things no other thread can touch.
    fn waits_inside(&self, task: usize, wakers: Option<u32>) -> bool {
        match self.waiting.of(task) {
            Some(waits) if !waits.is_empty() => {
                waits.iter().all(|on| matches!(on, WaitOn::Primitive(_) | WaitOn::Join { .. }))
            }
            _ => wakers == Some(0),
        }
    }

    /// The dump's row of `task`.
    fn dump_row(&self, task: usize, row: &Row, now_ns: u64) -> DumpRow {
        DumpRow {
            id: self.tasks.number(task),
            label: self.tasks.label(task),
            name: self.tasks.name_of(task).map(str::to_string),
            spawned_at: self.tasks.location(task),
            state: row.state,
            age: Duration::from_nanos(now_ns.saturating_sub(row.spawned_ns)),
            polls: row.polls,
            busy: Duration::from_nanos(row.busy_ns),
            scheduled: Duration::from_nanos(row.scheduled_ns),
            idle: Duration::from_nanos(row.idle_ns),
            max_poll: Duration::from_nanos(row.max_poll_ns),
            waits_on: self.waits_words(task, row),
        }
    }

    /// What `task` waits on, in words (see the module doc).
    fn waits_words(&self, task: usize, row: &Row) -> String {
        match row.state {
            TaskState::Queued => return "nothing: queued to run".into(),
            TaskState::Running => return "nothing: running now".into(),
            TaskState::Complete(outcome) => return format!("nothing: {}", outcome_word(outcome)),
            TaskState::Idle => {}
        }
        match (self.waiting.of(task), row.wakers) {
            (Some(waits), _) if !waits.is_empty() => {
                let words: Vec<String> = waits.iter().map(|on| self.wait_words(*on)).collect();
                words.join(", ")
            }
            (_, Some(0)) => "nothing holds its waker: it will never run again".into(),
            (_, Some(clones)) => format!(
                "something that reports no event ({clones} waker clone{} out)",
                if clones == 1 { "" } else { "s" }
            ),
            (_, None) => "something that reports no event".into(),
        }
    }

    /// One thing a task waits on, in words.
    fn wait_words(&self, on: WaitOn) -> String {
        wait_on_words(on, |task| match self.tasks.lookup(task) {
            Some(task) => format!("the JoinHandle of {}", self.tasks.label(task)),
            None => format!("the JoinHandle of a task not seen ({task:?})"),
        })
    }
}

/// A column of the task table: one field of [`DumpRow`], as printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// [`DumpRow::label`].
    Task,
    /// [`DumpRow::spawned_at`] (`-` for `#0 main`).
    SpawnedAt,
    /// [`DumpRow::state`].
    State,
    /// [`DumpRow::age`].
    Age,
    /// [`DumpRow::polls`].
    Polls,
    /// [`DumpRow::busy`].
    Busy,
    /// [`DumpRow::scheduled`].
    Scheduled,
    /// [`DumpRow::idle`].
    Idle,
    /// [`DumpRow::max_poll`].
    MaxPoll,
    /// [`DumpRow::waits_on`].
    WaitsOn,
}

impl Column {
    /// The task dump's columns: what each live task is doing.
    pub const DUMP: [Column; 7] = [
        Column::Task,
        Column::SpawnedAt,
        Column::State,
        Column::Age,
        Column::Polls,
        Column::Busy,
        Column::WaitsOn,
    ];

    /// The per-task metrics' columns: where each task's time went.
    pub const METRICS: [Column; 8] = [
        Column::Task,
        Column::State,
        Column::Polls,
        Column::Busy,
        Column::Scheduled,
        Column::Idle,
        Column::MaxPoll,
        Column::SpawnedAt,
    ];

    /// Its heading.
    pub fn header(self) -> &'static str {
        match self {
            Column::Task => "task",
            Column::SpawnedAt => "spawned at",
            Column::State => "state",
            Column::Age => "age",
            Column::Polls => "polls",
            Column::Busy => "busy",
            Column::Scheduled => "scheduled",
            Column::Idle => "idle",
            Column::MaxPoll => "max poll",
            Column::WaitsOn => "waits on",
        }
    }
}

impl TaskDump {
    /// Writes the rows as a table of `columns`, a heading line first; each column is padded to
    /// its widest cell, except the last.
    pub fn write_table(&self, f: &mut impl fmt::Write, columns: &[Column]) -> fmt::Result {
        let header: Vec<String> = columns.iter().map(|c| c.header().to_string()).collect();
        let cells: Vec<Vec<String>> =
            self.tasks.iter().map(|row| columns.iter().map(|&c| row.cell(c)).collect()).collect();
        let mut widths: Vec<usize> = header.iter().map(String::len).collect();
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&cells) {
            let mut text = String::new();
            for (column, cell) in row.iter().enumerate() {
                if column + 1 == row.len() {
                    text.push_str(cell); // the last column is not padded
                } else {
                    let pad = widths[column] - cell.chars().count();
                    text.push_str(&format!("{cell}{}  ", " ".repeat(pad)));
                }
            }
            writeln!(f, "{text}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} live task{}:",
            self.tasks.len(),
            if self.tasks.len() == 1 { "" } else { "s" }
        )?;
        self.write_table(f, &Column::DUMP)
    }
}

impl DumpRow {
    /// The cell of `column`, as printed.
    pub fn cell(&self, column: Column) -> String {
        match column {
            Column::Task => self.label.clone(),
            Column::SpawnedAt => self
                .spawned_at
                .map_or_else(|| "-".to_string(), |at| format!("{}:{}", at.file(), at.line())),
            Column::State => match self.state {
                TaskState::Queued => "queued".to_string(),
                TaskState::Running => "running".to_string(),
                TaskState::Idle => "idle".to_string(),
                TaskState::Complete(outcome) => outcome_word(outcome).to_string(),
            },
            Column::Age => duration_short(self.age.as_nanos() as u64),
            Column::Polls => self.polls.to_string(),
            Column::Busy => duration_short(self.busy.as_nanos() as u64),
            Column::Scheduled => duration_short(self.scheduled.as_nanos() as u64),
            Column::Idle => duration_short(self.idle.as_nanos() as u64),
            Column::MaxPoll => duration_short(self.max_poll.as_nanos() as u64),
            Column::WaitsOn => self.waits_on.clone(),
        }
    }
}
