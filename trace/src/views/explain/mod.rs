//! Explain mode: the recording told in plain English, one line per decision the runtime made.
//!
//! This module owns the [`Narrator`], which turns records into lines such as
//!
//! ```text
//!   0.000s  spawn #1 "names" (demos/src/names_ages.rs:53) by #0 main
//!   0.000s  poll #1 "names" -> Pending: waits on timer #5 (due 0.734s)
//!   0.000s  paused clock: nothing to run, jump to 0.734s
//!   0.734s  timer #5 fired -> wake #1 "names" (local queue)
//! ```
//!
//! This file holds the narrator's state and its *held* lines; `step.rs` decides each record's
//! line; `tests.rs` tells small event orders and checks every line.
//!
//! # Rules
//!
//! - **Record by record.** The narrator is driven live by the recorder's listener, so it never
//!   looks ahead: it keeps what it needs (task labels, the poll under way and the waits reported
//!   in it, what each pending task waits on, which tasks are queued) and decides from each
//!   record as it comes.
//! - **Decisions, not events.** A `PollStart` says nothing: the poll's `PollEnd` says how it
//!   ended together with the `Waits` reported during it. `TimerFired`, `IoReady`, `ClockJump`,
//!   `Unpark`, `IoRegistered`, `IoDeregistered`, `JobSubmitted` and `JobFinished` say nothing
//!   either: the wake or the reactor turn they belong to tells the first ones, and the Perfetto
//!   view marks registrations and jobs.
//! - **Five lines wait for later records** (they are *held*): a `Spawn`, which a `Name` may
//!   complete; a spawned task's last poll (`Ready` or `Panicked`), which merges with its
//!   `Complete` into one line; an `Abort`, which merges with the wake that queues the task to be
//!   dropped (`Cause::Abort`; none comes if the task is running, queued or done, and the line
//!   says which); a busy reactor turn (`WaitReason::Busy`), which is dropped if its `Unpark`
//!   comes before anything else was said in it, and otherwise says what was ready to run
//!   (`run_queue.rs`); and a paused clock's turn that planned a jump, told once its records say
//!   what it did (see below). A held line is kept
//!   across records that say nothing and printed before the next line that is said, so one call
//!   may return two lines (separated by `'\n'`). [`Narrator::finish`] prints a line still held
//!   at the end.
//! - **A turn is told by what it did, not what it planned** (`turn.rs`). A paused clock that
//!   planned a jump jumps only if its zero-timeout look at the OS finds nothing: its line waits
//!   for the turn's `ClockJump`s (told: where the last one landed, where a timer fired) or for
//!   what stopped the jump (`IoReady`, or the `Unpark`). A wait on the real clock names the time
//!   it runs to as a timer's deadline only when a timer a task reported is due then; otherwise
//!   that time is a wheel slot coming due, and the line says so.
//! - **Who did it** follows from the order (see `event.rs`): a wake or a spawn during a poll was
//!   made by the task polled; a wake the polled task makes to itself is told with its poll.
//! - **Keys are resolved in record order**: every `Spawn` gives its key the next number, so an
//!   address reused after a task was freed names the new task from its `Spawn` on.
//! - **Times** are the record's, in seconds with three decimals, truncated (never later than it
//!   happened). Deadlines are reported on the runtime's clock: the narrator, made with the
//!   recording's origin, moves them onto the records' scale (`origin.rs`), so a timer "due
//!   0.734s" fires in a line stamped 0.734s.

mod step;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::panic::Location;

use self::step::{queue_words, turn_words};
use super::origin::rebase;
use super::run_queue::{RunQueue, WhenAborted};
use super::task_book::{TaskBook, name_at};
use super::turn::{ArmedTimers, Turn};
use super::waiting::Waiting;
use super::words::{outcome_word, stamp};
use crate::event::{Cause, Event, PollResult, Record};
use crate::recorder::Recording;

/// Tells a whole recording, one line per decision (see [`Narrator`]).
pub fn explain(recording: &Recording) -> String {
    let mut narrator = Narrator::new(recording.origin_ns);
    let mut text = String::new();
    for record in &recording.records {
        if let Some(lines) = narrator.narrate(record, &recording.names) {
            text.push_str(&lines);
            text.push('\n');
        }
    }
    if let Some(line) = narrator.finish() {
        text.push_str(&line);
        text.push('\n');
    }
    if recording.dropped > 0 {
        let _ = writeln!(text, "... and {} later events, dropped past the cap", recording.dropped);
    }
    text
}

/// Turns records into plain-English lines, one record at a time (see the module's rules).
pub struct Narrator {
    /// Every task seen, with its number and name.
    tasks: TaskBook,
    /// The poll under way, and what each pending task waits on.
    waiting: Waiting,
    /// The timers tasks wait on: whether a wait ends at a timer or at a wheel slot.
    timers: ArmedTimers,
    /// Which tasks are queued to run: what a busy turn says was ready.
    run_queue: RunQueue,
    /// A line waiting for its next record to be completed, merged or dropped.
    held: Option<Held>,
    /// Whether the `block_on` future's last poll was told (its `Complete`, if any, says nothing).
    root_done: bool,
    /// The runtime's clock when the recording began: deadlines are told counted from it.
    origin_ns: u64,
}

/// A line held until the next record says whether it is complete (see the module's rules).
#[derive(Clone, Copy)]
enum Held {
    /// A spawn, which the `Name` right after it may complete.
    Spawn {
        /// When.
        at: u64,
        /// The task spawned ([`TaskBook`] index).
        task: usize,
        /// Where `spawn` was called.
        location: &'static Location<'static>,
        /// The task that spawned it, if a poll was under way.
        parent: Option<usize>,
    },
    /// A spawned task's last poll, which its `Complete` completes.
    LastPoll {
        /// When the poll ended.
        at: u64,
        /// The task ([`TaskBook`] index).
        task: usize,
        /// `Ready` or `Panicked`.
        result: PollResult,
    },
    /// An abort, which the wake that queues the task to be dropped completes (none comes if
    /// the task is running, queued or done).
    Abort {
        /// When.
        at: u64,
        /// The task aborted ([`TaskBook`] index).
        task: usize,
        /// The task that aborted it, if a poll was under way.
        by: Option<usize>,
        /// What the aborted task was doing.
        when: WhenAborted,
    },
    /// A reactor turn that only looks at I/O; dropped if it wakes nobody.
    BusyTurn {
        /// When it began.
        at: u64,
        /// The turn, with what was ready to run when it began.
        turn: Turn,
    },
    /// A paused clock's turn that planned a jump, told once its records say whether it jumped
    /// and where it landed (a turn jumps on past wheel slots whose timers only cascaded).
    PausedTurn {
        /// When the turn began.
        at: u64,
        /// The turn so far.
        turn: Turn,
    },
}

/// Whether a record completes the held line.
#[must_use]
enum Merge {
    /// It does: print this (`None`: the held line is dropped) and nothing else for the record.
    Merged(Option<String>),
    /// It updates the held line, which stays held; nothing is said for the record.
    Hold(Held),
    /// It does not: the record is told on its own.
    Apart,
}

impl Narrator {
    /// A narrator that has seen nothing yet: only `#0 main`, the `block_on` future, is known.
    /// `origin_ns` is the runtime's clock when the recording began
    /// ([`Recorder::origin_ns`](crate::Recorder::origin_ns), [`Recording::origin_ns`]): the
    /// deadlines in events are told counted from it, as the records' times are.
    pub fn new(origin_ns: u64) -> Narrator {
        Narrator {
            tasks: TaskBook::new(),
            waiting: Waiting::new(),
            timers: ArmedTimers::new(),
            run_queue: RunQueue::new(),
            held: None,
            root_done: false,
            origin_ns,
        }
    }

    /// Takes the next record (with the names interned so far) and returns what to print for
    /// it: nothing, one line, or a held line and then this record's line.
    pub fn narrate(&mut self, record: &Record, names: &[Box<str>]) -> Option<String> {
        let record = &Record { event: rebase(record.event, self.origin_ns), ..*record };
        self.learn(&record.event);
        let held = self.held.take();
        if let Some(held) = held {
            match self.merge(held, record, names) {
                Merge::Merged(said) => return said,
                Merge::Hold(updated) => {
                    self.held = Some(updated);
                    return None;
                }
                Merge::Apart => {}
            }
        }
        let said = self.step(record, names);
        let new_held = self.held.take();
        if said.is_none() && new_held.is_none() {
            self.held = held; // nothing said yet: keep holding
            return None;
        }
        self.held = new_held;
        let flushed = held.map(|held| self.held_line(&held));
        match (flushed, said) {
            (Some(first), Some(second)) => Some(format!("{first}\n{second}")),
            (first, second) => first.or(second),
        }
    }

    /// Keeps what later lines may need from `event`, whether or not the record is told (a
    /// record that completes a held line skips `step`): the timers armed, and the run queue.
    /// (A `Spawn` and an `Abort` tell the queue in `step`, which they always reach: neither
    /// completes a held line.)
    fn learn(&mut self, event: &Event) {
        self.timers.see(event, self.waiting.polled());
        match *event {
            Event::PollStart { task } => {
                let task = self.tasks.resolve(task);
                self.run_queue.poll_start(task);
            }
            Event::PollEnd { task, result, .. } => {
                let task = self.tasks.resolve(task);
                self.run_queue.poll_end(task, result);
                if task == TaskBook::ROOT && result == PollResult::Ready {
                    self.timers.forget(task); // block_on returns: its future and timers are gone
                }
            }
            Event::Wake { task, queue, .. } => {
                let task = self.tasks.resolve(task);
                self.run_queue.woken(task, queue);
            }
            Event::Complete { task, .. } => {
                let task = self.tasks.resolve(task);
                self.timers.forget(task);
                self.run_queue.completed(task);
            }
            _ => {}
        }
    }

    /// The line still held at the end of the recording, if any.
    pub fn finish(&mut self) -> Option<String> {
        let held = self.held.take()?;
        Some(self.held_line(&held))
    }

    /// Whether `record` completes the held line, and what to print if it does.
    fn merge(&mut self, held: Held, record: &Record, names: &[Box<str>]) -> Merge {
        match (held, record.event) {
            (Held::Spawn { at, task, location, parent }, Event::Name { task: key, name })
                if self.tasks.lookup(key) == Some(task) =>
            {
                self.tasks.name(key, name_at(names, name));
                Merge::Merged(Some(self.spawn_line(at, task, location, parent)))
            }
            (Held::LastPoll { at, task, result }, Event::Complete { task: key, outcome })
                if self.tasks.lookup(key) == Some(task) =>
            {
                let ended = poll_result(result);
                let label = self.tasks.label(task);
                let outcome = outcome_word(outcome);
                Merge::Merged(Some(line(at, format!("poll {label} -> {ended}: done ({outcome})"))))
            }
            (Held::Abort { at, task, by, .. }, Event::Wake { task: key, cause, queue })
                if cause == Cause::Abort && self.tasks.lookup(key) == Some(task) =>
            {
                let aborted = self.aborted_words(task, by);
                let (label, queue) = (self.tasks.label(task), queue_words(queue));
                Merge::Merged(Some(line(
                    at,
                    format!("{aborted} -> wake {label} ({queue}) to drop it"),
                )))
            }
            (Held::BusyTurn { .. }, Event::Unpark { .. }) => Merge::Merged(None),
            (
                Held::PausedTurn { at, mut turn },
                Event::ClockJump { .. } | Event::IoReady { .. },
            ) => {
                turn.see(&record.event);
                Merge::Hold(Held::PausedTurn { at, turn })
            }
            (Held::PausedTurn { at, mut turn }, Event::Unpark { .. }) => {
                turn.see(&record.event);
                Merge::Merged(Some(line(at, turn_words(&turn))))
            }
            _ => Merge::Apart,
        }
    }

    /// The held line printed on its own.
    fn held_line(&self, held: &Held) -> String {
        match *held {
            Held::Spawn { at, task, location, parent } => {
                self.spawn_line(at, task, location, parent)
            }
            Held::LastPoll { at, task, result } => {
                let label = self.tasks.label(task);
                line(at, format!("poll {label} -> {}", poll_result(result)))
            }
            Held::Abort { at, task, by, when } => {
                let aborted = self.aborted_words(task, by);
                let note = match when {
                    _ if by == Some(task) => ": dropped when this poll returns",
                    WhenAborted::Idle => "",
                    WhenAborted::Queued => ": already queued, dropped when the run loop reaches it",
                    WhenAborted::AbortedBefore => ": aborted already",
                    WhenAborted::Complete => ": already done, nothing to drop",
                };
                line(at, format!("{aborted}{note}"))
            }
            Held::BusyTurn { at, turn } => line(at, turn_words(&turn)),
            Held::PausedTurn { at, turn } => line(at, turn_words(&turn)),
        }
    }

    /// `#3 aborted by #0 main`, `#3 aborted by itself`, or `#3 aborted` outside any poll.
    fn aborted_words(&self, task: usize, by: Option<usize>) -> String {
        let label = self.tasks.label(task);
        match by {
            Some(by) if by == task => format!("{label} aborted by itself"),
            Some(by) => format!("{label} aborted by {}", self.tasks.label(by)),
            None => format!("{label} aborted"),
        }
    }

    /// The spawn line, named if its `Name` came.
    fn spawn_line(
        &self,
        at: u64,
        task: usize,
        location: &'static Location<'static>,
        parent: Option<usize>,
    ) -> String {
        let by = parent.map(|parent| format!(" by {}", self.tasks.label(parent)));
        let (label, file, row) = (self.tasks.label(task), location.file(), location.line());
        line(at, format!("spawn {label} ({file}:{row}){}", by.unwrap_or_default()))
    }
}

/// A line: the time stamp, then the text.
fn line(at_ns: u64, text: String) -> String {
    format!("{}{text}", stamp(at_ns))
}

/// "Ready" or "Panicked" (or "Pending").
fn poll_result(result: PollResult) -> &'static str {
    match result {
        PollResult::Pending => "Pending",
        PollResult::Ready => "Ready",
        PollResult::Panicked => "Panicked",
    }
}
