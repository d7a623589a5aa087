//! Explain mode: the recording told in plain English, one line per decision the runtime made.
//!
//! This file owns the [`Narrator`], which turns records into lines such as
//!
//! ```text
//!   0.000s  spawn #1 "names" (demos/src/names_ages.rs:31) by #0 main
//!   0.000s  poll #1 "names" -> Pending: waits on timer #5 (due 0.734s)
//!   0.000s  paused clock: nothing to run, jump to 0.734s
//!   0.734s  timer #5 fired -> wake #1 "names" (local queue)
//! ```
//!
//! and [`TaskBook`], which gives tasks their numbers and labels (the timeline uses it too).
//!
//! # Rules
//!
//! - **Record by record.** The narrator is driven live by the recorder's listener, so it never
//!   looks ahead: it keeps what it needs (task labels, the poll under way and the waits reported
//!   in it, what each pending task waits on) and decides from each record as it comes.
//! - **Decisions, not events.** A `PollStart` says nothing: the poll's `PollEnd` says how it
//!   ended together with the `Waits` reported during it. `TimerFired`, `IoReady`, `ClockJump`,
//!   `Unpark`, `IoRegistered`, `IoDeregistered`, `JobSubmitted` and `JobFinished` say nothing
//!   either: the wake or the reactor turn they belong to tells them.
//! - **Three lines wait for their next record** (they are *held*): a `Spawn`, which a `Name` may
//!   complete; a spawned task's last poll (`Ready` or `Panicked`), which merges with its
//!   `Complete` into one line; and a busy reactor turn (`WaitReason::Busy`), which is dropped if
//!   its `Unpark` comes before anything else was said in it. A held line is kept across records
//!   that say nothing and printed before the next line that is said, so one call may return two
//!   lines (separated by `'\n'`). [`Narrator::finish`] prints a line still held at the end.
//! - **Who did it** follows from the order (see `event.rs`): a wake or a spawn during a poll was
//!   made by the task polled; a wake the polled task makes to itself is told with its poll.
//! - **Keys are resolved in record order**: every `Spawn` gives its key the next number, so an
//!   address reused after a task was freed names the new task from its `Spawn` on.
//! - **Times** are the record's, in seconds with three decimals, truncated (never later than it
//!   happened). Deadlines are reported on the runtime's clock: they are printed as if that clock
//!   read zero when the recording began.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::panic::Location;

use crate::event::{
    Cause, Direction, Event, Outcome, PollResult, Primitive, Queue, Record, TaskKey, WaitOn,
    WaitReason,
};
use crate::recorder::Recording;

/// Tells a whole recording, one line per decision (see [`Narrator`]).
pub fn explain(recording: &Recording) -> String {
    let mut narrator = Narrator::new();
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
    /// The poll under way, if any.
    poll: Option<PollSoFar>,
    /// What each task (by [`TaskBook`] index) waited on when its last poll returned `Pending`.
    waits_of: HashMap<usize, Vec<WaitOn>>,
    /// A line waiting for its next record to be completed, merged or dropped.
    held: Option<Held>,
    /// Whether the `block_on` future's last poll was told (its `Complete`, if any, says nothing).
    root_done: bool,
}

/// What the narrator knows of the poll under way.
struct PollSoFar {
    /// The task polled ([`TaskBook`] index).
    task: usize,
    /// What it reported waiting on during this poll, in order, each once.
    waits: Vec<WaitOn>,
    /// The cause of a wake it made to itself during this poll (a yield), if any.
    woke_itself: Option<Cause>,
    /// How it completed, if its `Complete` was reported before its `PollEnd`.
    completed: Option<Outcome>,
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
    /// A reactor turn that only looks at I/O; dropped if it wakes nobody.
    BusyTurn {
        /// When it began.
        at: u64,
    },
    /// A paused clock's jump, told once the turn's last `ClockJump` says where it landed (a
    /// turn jumps on past timers that only moved down the wheel's levels).
    Jump {
        /// When the turn began.
        at: u64,
        /// Where the clock lands.
        to_ns: u64,
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

impl Default for Narrator {
    fn default() -> Narrator {
        Narrator::new()
    }
}

impl Narrator {
    /// A narrator that has seen nothing yet: only `#0 main`, the `block_on` future, is known.
    pub fn new() -> Narrator {
        Narrator {
            tasks: TaskBook::new(),
            poll: None,
            waits_of: HashMap::new(),
            held: None,
            root_done: false,
        }
    }

    /// Takes the next record (with the names interned so far) and returns what to print for
    /// it: nothing, one line, or a held line and then this record's line.
    pub fn narrate(&mut self, record: &Record, names: &[Box<str>]) -> Option<String> {
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
            (Held::BusyTurn { .. }, Event::Unpark { .. }) => Merge::Merged(None),
            (Held::Jump { at, .. }, Event::ClockJump { to_ns }) => {
                Merge::Hold(Held::Jump { at, to_ns })
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
            Held::BusyTurn { at } => line(at, "tasks ready; look at I/O without waiting".into()),
            Held::Jump { at, to_ns } => {
                line(at, format!("paused clock: nothing to run, jump to {}", seconds(to_ns)))
            }
        }
    }

    /// Learns from one record; returns its line, or holds one in `self.held`.
    fn step(&mut self, record: &Record, names: &[Box<str>]) -> Option<String> {
        let at = record.at_ns;
        match record.event {
            Event::Spawn { task, location } => {
                let parent = self.poll.as_ref().map(|poll| poll.task);
                let task = self.tasks.spawn(task);
                self.held = Some(Held::Spawn { at, task, location, parent });
                None
            }
            Event::Name { task, name } => {
                self.tasks.name(task, name_at(names, name));
                None
            }
            Event::PollStart { task } => {
                let task = self.tasks.resolve(task);
                self.poll =
                    Some(PollSoFar { task, waits: Vec::new(), woke_itself: None, completed: None });
                None
            }
            Event::Waits { on } => {
                if let Some(poll) = &mut self.poll
                    && !poll.waits.contains(&on)
                {
                    poll.waits.push(on);
                }
                None
            }
            Event::Wake { task, cause, queue } => self.wake(at, task, cause, queue),
            Event::PollEnd { task, result } => self.poll_end(at, task, result),
            Event::Abort { task } => {
                let by = self.by_whom();
                Some(line(at, format!("abort {}{by}", self.label_of(task))))
            }
            Event::Complete { task, outcome } => self.complete(at, task, outcome),
            Event::Park { wait_ns, reason } => self.park(at, wait_ns, reason),
            _ => None,
        }
    }

    /// A wake: told at once, unless the task polled wakes itself (told with its poll; the
    /// `block_on` future's own wake is reported as `Local`, a spawned task's as `WhileRunning`).
    fn wake(&mut self, at: u64, key: TaskKey, cause: Cause, queue: Queue) -> Option<String> {
        let task = self.tasks.resolve(key);
        if let Some(poll) = &mut self.poll
            && poll.task == task
        {
            poll.woke_itself = Some(cause);
            return None;
        }
        let target = self.tasks.label(task);
        let queue = queue_words(queue);
        let actor = self.poll.as_ref().map(|poll| self.tasks.label(poll.task));
        let text = match cause {
            Cause::Timer { timer, .. } => {
                format!("timer #{timer} fired -> wake {target} ({queue})")
            }
            Cause::Io { fd, direction } => {
                format!("fd {fd} {} -> wake {target} ({queue})", direction_word(direction))
            }
            Cause::Remote => {
                let job = self.job_awaited(task).map(|job| format!(" (to_thread job {job})"));
                format!(
                    "woken from another thread{} -> {target} ({queue})",
                    job.unwrap_or_default()
                )
            }
            Cause::HandOff(primitive) => match actor {
                Some(actor) => {
                    format!("{actor} {} -> wake {target} ({queue})", hand_off(primitive))
                }
                None => format!("{} -> wake {target} ({queue})", waits_word(primitive)),
            },
            Cause::Join { task: done } => {
                let done = self.label_of(done);
                format!("{done} finished -> wake {target} (its JoinHandle; {queue})")
            }
            Cause::Yield => format!("{target} yields -> back of the queue"),
            Cause::Direct => match actor {
                Some(actor) => format!("{actor} wakes {target} ({queue})"),
                None => format!("wake {target} ({queue})"),
            },
        };
        if let Some(waits) = self.waits_of.get_mut(&task) {
            waits.retain(|on| !cause.answers(*on)); // what is left, it still waits on
        }
        Some(line(at, text))
    }

    /// The `to_thread` job `task` waited on when it last returned `Pending`, if any.
    fn job_awaited(&self, task: usize) -> Option<u64> {
        self.waits_of.get(&task)?.iter().find_map(|on| match on {
            WaitOn::Job { job } => Some(*job),
            _ => None,
        })
    }

    /// A poll ended: its outcome with what the task now waits on.
    fn poll_end(&mut self, at: u64, key: TaskKey, result: PollResult) -> Option<String> {
        let task = self.tasks.resolve(key);
        let poll = self.poll.take().filter(|poll| poll.task == task);
        let label = self.tasks.label(task);
        let (waits, woke_itself, completed) = match poll {
            Some(poll) => (poll.waits, poll.woke_itself, poll.completed),
            None => (Vec::new(), None, None),
        };
        match result {
            PollResult::Pending => {
                let carried = self.waits_of.get(&task).filter(|_| waits.is_empty()).cloned();
                let text = match (woke_itself, carried) {
                    (Some(Cause::Yield), _) => "yields, back of the queue".to_string(),
                    (Some(_), _) => "woke itself, back of the queue".to_string(),
                    // A combinator polls only the child that woke it: the rest still wait, on
                    // what they reported at their last poll.
                    (None, Some(carried)) if !carried.is_empty() => {
                        format!("still {}", self.waits_words(&carried))
                    }
                    (None, _) => self.waits_words(&waits),
                };
                if !waits.is_empty() || woke_itself.is_some() {
                    self.waits_of.insert(task, waits);
                }
                Some(line(at, format!("poll {label} -> Pending: {text}")))
            }
            _ if task == TaskBook::ROOT => {
                self.root_done = true;
                let ended = poll_result(result);
                Some(line(at, format!("poll {label} -> {ended}: block_on returns")))
            }
            _ => match completed {
                Some(outcome) => {
                    let ended = poll_result(result);
                    Some(line(
                        at,
                        format!("poll {label} -> {ended}: done ({})", outcome_word(outcome)),
                    ))
                }
                None => {
                    self.held = Some(Held::LastPoll { at, task, result });
                    None
                }
            },
        }
    }

    /// A task completed: told with its last poll when that is under way or held.
    fn complete(&mut self, at: u64, key: TaskKey, outcome: Outcome) -> Option<String> {
        let task = self.tasks.resolve(key);
        if let Some(poll) = &mut self.poll
            && poll.task == task
        {
            poll.completed = Some(outcome);
            return None;
        }
        if task == TaskBook::ROOT && self.root_done {
            return None;
        }
        Some(line(at, format!("{} done ({})", self.tasks.label(task), outcome_word(outcome))))
    }

    /// A reactor turn begins: why it waits as long as it does.
    fn park(&mut self, at: u64, wait_ns: Option<u64>, reason: WaitReason) -> Option<String> {
        let text = match reason {
            WaitReason::Busy => {
                self.held = Some(Held::BusyTurn { at });
                return None;
            }
            WaitReason::NextTimer { deadline_ns } => {
                let wait = wait_ns.map_or_else(|| "until woken".to_string(), millis);
                format!(
                    "nothing to run; epoll_wait for {wait} (next timer at {})",
                    seconds(deadline_ns)
                )
            }
            WaitReason::Idle => {
                "nothing to run and no timer: wait for I/O or another thread".into()
            }
            WaitReason::Job => "paused clock: wait for a to_thread job".into(),
            WaitReason::PausedJump { to_ns } => {
                self.held = Some(Held::Jump { at, to_ns });
                return None;
            }
        };
        Some(line(at, text))
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

    /// " by <the task polled>", or nothing outside a poll.
    fn by_whom(&self) -> String {
        self.poll
            .as_ref()
            .map(|poll| format!(" by {}", self.tasks.label(poll.task)))
            .unwrap_or_default()
    }

    /// The label of the task `key` names now.
    fn label_of(&mut self, key: TaskKey) -> String {
        let task = self.tasks.resolve(key);
        self.tasks.label(task)
    }

    /// "waits on timer #5 (due 0.734s), fd 7 readable": what a pending task waits on.
    fn waits_words(&mut self, waits: &[WaitOn]) -> String {
        if waits.is_empty() {
            return "waits on something that reports no event".into();
        }
        let words: Vec<String> = waits.iter().map(|on| self.wait_words(*on)).collect();
        format!("waits on {}", words.join(", "))
    }

    /// One thing a task waits on, in words.
    fn wait_words(&mut self, on: WaitOn) -> String {
        match on {
            WaitOn::Timer { timer, deadline_ns } => {
                format!("timer #{timer} (due {})", seconds(deadline_ns))
            }
            WaitOn::Io { fd, direction } => format!("fd {fd} {}", direction_word(direction)),
            WaitOn::Job { job } => format!("to_thread job {job}"),
            WaitOn::Primitive(primitive) => waits_word(primitive).to_string(),
            WaitOn::Join { task } => self.label_of(task),
        }
    }
}

/// Numbers and names of the tasks of a recording, resolved in record order.
///
/// Entry 0 is the `block_on` future, `#0 main`. Each `Spawn` adds an entry numbered in spawn
/// order (`#1`, `#2`, ...) and points its key at it, so a reused address names the newest task;
/// a key seen before any `Spawn` (a recording begun mid-run) gets an entry without a number.
pub(crate) struct TaskBook {
    /// Every task seen, in the order first seen.
    entries: Vec<TaskEntry>,
    /// The entry each key names now.
    live: HashMap<TaskKey, usize>,
    /// Tasks spawned so far: the number of the last.
    spawned: u64,
}

/// One task of a [`TaskBook`].
struct TaskEntry {
    /// The key it was seen under.
    key: TaskKey,
    /// Its spawn number (`None`: its `Spawn` was not recorded).
    number: Option<u64>,
    /// Its name, if it was given one.
    name: Option<Box<str>>,
}

impl TaskBook {
    /// The index of `#0 main`, the `block_on` future.
    pub(crate) const ROOT: usize = 0;

    /// A book that knows only `#0 main`.
    pub(crate) fn new() -> TaskBook {
        let root = TaskEntry { key: TaskKey::ROOT, number: Some(0), name: None };
        TaskBook { entries: vec![root], live: HashMap::from([(TaskKey::ROOT, 0)]), spawned: 0 }
    }

    /// A task was spawned at `key`: its new entry.
    pub(crate) fn spawn(&mut self, key: TaskKey) -> usize {
        self.spawned += 1;
        self.entries.push(TaskEntry { key, number: Some(self.spawned), name: None });
        self.live.insert(key, self.entries.len() - 1);
        self.entries.len() - 1
    }

    /// The entry `key` names now, if it was seen.
    pub(crate) fn lookup(&self, key: TaskKey) -> Option<usize> {
        self.live.get(&key).copied()
    }

    /// The entry `key` names now; an entry without a number if it was never seen.
    pub(crate) fn resolve(&mut self, key: TaskKey) -> usize {
        if let Some(task) = self.lookup(key) {
            return task;
        }
        self.entries.push(TaskEntry { key, number: None, name: None });
        self.live.insert(key, self.entries.len() - 1);
        self.entries.len() - 1
    }

    /// Names the task `key` names now.
    pub(crate) fn name(&mut self, key: TaskKey, name: &str) {
        let task = self.resolve(key);
        self.entries[task].name = Some(name.into());
    }

    /// `#0 main`, `#2 "ages"`, `#3`, or `#? (0x5a10)` for a task whose `Spawn` was not recorded.
    pub(crate) fn label(&self, task: usize) -> String {
        let entry = &self.entries[task];
        match (entry.number, &entry.name) {
            (Some(0), _) if entry.key == TaskKey::ROOT => "#0 main".to_string(),
            (Some(number), Some(name)) => format!("#{number} {name:?}"),
            (Some(number), None) => format!("#{number}"),
            (None, _) => format!("#? ({:?})", entry.key),
        }
    }
}

/// The name interned at `index`, or `?` if the names given do not reach it.
fn name_at(names: &[Box<str>], index: u32) -> &str {
    names.get(index as usize).map_or("?", |name| name)
}

/// A line: the time stamp, then the text.
fn line(at_ns: u64, text: String) -> String {
    format!("{}{text}", stamp(at_ns))
}

/// `"  0.734s  "`: seconds right-aligned to seven characters, then two spaces.
pub(crate) fn stamp(at_ns: u64) -> String {
    format!("{:>7}s  ", seconds_digits(at_ns))
}

/// `"0.734s"`: seconds with three decimals, truncated.
pub(crate) fn seconds(ns: u64) -> String {
    format!("{}s", seconds_digits(ns))
}

/// `"0.734"`: the digits of [`seconds`].
fn seconds_digits(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000_000_000, ns % 1_000_000_000 / 1_000_000)
}

/// `"734 ms"`, or `"0.250 ms"` for a wait that is not whole milliseconds.
pub(crate) fn millis(ns: u64) -> String {
    if ns.is_multiple_of(1_000_000) {
        format!("{} ms", ns / 1_000_000)
    } else {
        format!("{}.{:03} ms", ns / 1_000_000, ns % 1_000_000 / 1_000)
    }
}

/// "readable" or "writable".
fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Read => "readable",
        Direction::Write => "writable",
    }
}

/// What a task waiting on `primitive` waits for.
fn waits_word(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Channel => "a channel",
        Primitive::Oneshot => "a oneshot",
        Primitive::Semaphore => "a semaphore permit",
        Primitive::Event => "an event",
        Primitive::Mutex => "a mutex",
    }
}

/// What the task polled did with `primitive` to wake a waiting one.
fn hand_off(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Channel => "handed over on a channel",
        Primitive::Oneshot => "completed a oneshot",
        Primitive::Semaphore => "released a semaphore permit",
        Primitive::Event => "set an event",
        Primitive::Mutex => "unlocked a mutex",
    }
}

/// What a wake did with the task, in words.
fn queue_words(queue: Queue) -> &'static str {
    match queue {
        Queue::Local => "local queue",
        Queue::Remote => "remote queue",
        Queue::WhileRunning => "flagged: it is running",
        Queue::AlreadyScheduled => "already queued",
    }
}

/// "Ready" or "Panicked" (or "Pending").
fn poll_result(result: PollResult) -> &'static str {
    match result {
        PollResult::Pending => "Pending",
        PollResult::Ready => "Ready",
        PollResult::Panicked => "Panicked",
    }
}

/// "returned", "panicked" or "cancelled".
fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Returned => "returned",
        Outcome::Panicked => "panicked",
        Outcome::Cancelled => "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task's address.
    const A: TaskKey = TaskKey(0xa0);
    /// Another task's address.
    const B: TaskKey = TaskKey(0xb0);

    /// Narrates `events` (each at the time given) with `names`, as the live listener would,
    /// then finishes: every line said, in order.
    fn narrate(events: &[(u64, Event)], names: &[&str]) -> Vec<String> {
        let names: Vec<Box<str>> = names.iter().map(|name| (*name).into()).collect();
        let mut narrator = Narrator::new();
        let mut lines = Vec::new();
        for &(at_ns, event) in events {
            if let Some(said) = narrator.narrate(&Record { at_ns, event }, &names) {
                lines.extend(said.lines().map(str::to_string));
            }
        }
        lines.extend(narrator.finish());
        lines
    }

    /// Where the tests' tasks are spawned.
    fn site() -> &'static Location<'static> {
        Location::caller()
    }

    /// A spawn of `task` at [`site`].
    fn spawn(task: TaskKey) -> Event {
        Event::Spawn { task, location: site() }
    }

    /// `"(file:line)"` of [`site`].
    fn at_spawn() -> String {
        format!("({}:{})", site().file(), site().line())
    }

    #[test]
    fn time_stamps_are_seconds_with_three_truncated_decimals_right_aligned() {
        assert_eq!(stamp(0), "  0.000s  ");
        assert_eq!(stamp(734_999_999), "  0.734s  ", "truncated, never later than it happened");
        assert_eq!(stamp(12_345_678_901), " 12.345s  ");
        assert_eq!(stamp(1_234_000_000_000), "1234.000s  ", "wider than seven: not cut");
        assert_eq!(seconds(5_045_000_000), "5.045s");
        assert_eq!(millis(734_000_000), "734 ms");
        assert_eq!(millis(250_000), "0.250 ms");
    }

    #[test]
    fn labels_root_named_unnamed_and_unspawned() {
        let mut book = TaskBook::new();
        let named = book.spawn(A);
        book.name(A, "names");
        let unnamed = book.spawn(B);
        let unknown = book.resolve(TaskKey(0xc0));
        assert_eq!(book.label(TaskBook::ROOT), "#0 main");
        assert_eq!(book.label(named), "#1 \"names\"");
        assert_eq!(book.label(unnamed), "#2");
        assert_eq!(book.label(unknown), "#? (0xc0)");
    }

    #[test]
    fn an_unnamed_spawn_is_told_when_the_next_record_is_not_its_name() {
        let lines = narrate(&[(0, spawn(A)), (0, Event::PollStart { task: A })], &[]);
        // PollStart says nothing: the held spawn line is told at the end.
        assert_eq!(lines, [format!("  0.000s  spawn #1 {}", at_spawn())]);
    }

    #[test]
    fn a_reused_address_names_the_newest_task() {
        let lines = narrate(
            &[
                (0, spawn(A)),                                                // #1 at A
                (0, Event::Name { task: A, name: 0 }),                        // named "first"
                (1, Event::Complete { task: A, outcome: Outcome::Returned }), // A freed
                (2, spawn(A)),                                                // #2 reuses A
                (3, Event::Abort { task: A }),                                // aborts #2
            ],
            &["first"],
        );
        assert_eq!(
            lines,
            [
                format!("  0.000s  spawn #1 \"first\" {}", at_spawn()),
                "  0.000s  #1 \"first\" done (returned)".to_string(),
                format!("  0.000s  spawn #2 {}", at_spawn()),
                "  0.000s  abort #2".to_string(),
            ]
        );
    }

    #[test]
    fn a_last_poll_merges_with_its_complete() {
        let lines = narrate(
            &[
                (0, Event::PollStart { task: A }),
                (5, Event::PollEnd { task: A, result: PollResult::Ready }), // held
                (5, Event::Complete { task: A, outcome: Outcome::Returned }), // merged
            ],
            &[],
        );
        assert_eq!(lines, ["  0.000s  poll #? (0xa0) -> Ready: done (returned)"]);
    }

    #[test]
    fn a_complete_reported_inside_the_poll_merges_too() {
        let lines = narrate(
            &[
                (0, Event::PollStart { task: A }),
                (0, Event::Complete { task: A, outcome: Outcome::Panicked }), // told with the poll
                (0, Event::PollEnd { task: A, result: PollResult::Panicked }),
            ],
            &[],
        );
        assert_eq!(lines, ["  0.000s  poll #? (0xa0) -> Panicked: done (panicked)"]);
    }

    #[test]
    fn a_last_poll_without_complete_is_told_before_the_next_line() {
        let wake = Event::Wake { task: B, cause: Cause::Direct, queue: Queue::Local };
        let lines = narrate(
            &[
                (0, Event::PollStart { task: A }),
                (0, Event::PollEnd { task: A, result: PollResult::Ready }), // held
                (0, wake),                                                  // said: flushes it
            ],
            &[],
        );
        assert_eq!(
            lines,
            ["  0.000s  poll #? (0xa0) -> Ready", "  0.000s  wake #? (0xb0) (local queue)"]
        );
    }

    #[test]
    fn a_yield_is_told_with_its_poll() {
        let yielded = Event::Wake { task: A, cause: Cause::Yield, queue: Queue::WhileRunning };
        let lines = narrate(
            &[
                (0, Event::PollStart { task: A }),
                (0, yielded), // its own wake: kept for the poll's line
                (0, Event::PollEnd { task: A, result: PollResult::Pending }),
            ],
            &[],
        );
        assert_eq!(lines, ["  0.000s  poll #? (0xa0) -> Pending: yields, back of the queue"]);
    }

    #[test]
    fn a_busy_turn_that_wakes_nobody_says_nothing() {
        let lines = narrate(
            &[
                (0, Event::Park { wait_ns: Some(0), reason: WaitReason::Busy }),
                (0, Event::Unpark { io_events: 0, unparked: false }),
            ],
            &[],
        );
        assert!(lines.is_empty(), "{lines:?}");
    }

    #[test]
    fn a_busy_turn_that_wakes_a_task_is_told_before_the_wake() {
        let io = Cause::Io { fd: 7, direction: Direction::Read };
        let lines = narrate(
            &[
                (0, Event::Park { wait_ns: Some(0), reason: WaitReason::Busy }),
                (0, Event::IoReady { fd: 7, read: true, write: false }), // says nothing
                (0, Event::Wake { task: A, cause: io, queue: Queue::Local }),
                (0, Event::Unpark { io_events: 1, unparked: false }),
            ],
            &[],
        );
        assert_eq!(
            lines,
            [
                "  0.000s  tasks ready; look at I/O without waiting",
                "  0.000s  fd 7 readable -> wake #? (0xa0) (local queue)",
            ]
        );
    }

    #[test]
    fn a_hand_off_names_the_task_that_made_it() {
        let sent = Cause::HandOff(Primitive::Channel);
        let lines = narrate(
            &[
                (0, spawn(A)),
                (0, spawn(B)),
                (0, Event::PollStart { task: B }),
                (0, Event::Wake { task: A, cause: sent, queue: Queue::Local }),
                (0, Event::Waits { on: WaitOn::Primitive(Primitive::Channel) }),
                (0, Event::PollEnd { task: B, result: PollResult::Pending }),
            ],
            &[],
        );
        assert_eq!(lines[2], "  0.000s  #2 handed over on a channel -> wake #1 (local queue)");
        assert_eq!(lines[3], "  0.000s  poll #2 -> Pending: waits on a channel");
    }

    #[test]
    fn reactor_waits_say_why_they_last_as_long_as_they_do() {
        let park = |wait_ns, reason| (0, Event::Park { wait_ns, reason });
        let lines = narrate(
            &[
                park(Some(734_000_000), WaitReason::NextTimer { deadline_ns: 734_000_000 }),
                park(None, WaitReason::Idle),
                park(None, WaitReason::Job),
                park(Some(0), WaitReason::PausedJump { to_ns: 734_000_000 }),
            ],
            &[],
        );
        assert_eq!(
            lines,
            [
                "  0.000s  nothing to run; epoll_wait for 734 ms (next timer at 0.734s)",
                "  0.000s  nothing to run and no timer: wait for I/O or another thread",
                "  0.000s  paused clock: wait for a to_thread job",
                "  0.000s  paused clock: nothing to run, jump to 0.734s",
            ]
        );
    }
}
