//! The timeline's replay: records turned into each task's states over time.
//!
//! A [`Replay`] reads the records in order and keeps, for every task, the state it is in and
//! since when; each change of state closes a [`Stretch`]. The rules of which record moves a task
//! to which state are the module's (see `mod.rs`, "States").
//!
//! # Invariants
//!
//! - A task's stretches follow each other without gaps, from its first record to the end of
//!   the recording: each begins where the one before ended.
//! - Tasks are [`TaskBook`] indices, so a reused address gives a second row; what a task waits
//!   on is kept by the [`Waiting`] the narrator uses too.

use super::{Cell, Row, Stretch, shorten};
use crate::event::{Cause, Event, PollResult, Queue, TaskKey};
use crate::views::task_book::{TaskBook, name_at};
use crate::views::waiting::Waiting;

/// A task's state while the records are replayed.
struct Track {
    /// Its state now.
    cell: Cell,
    /// Since when.
    since: u64,
    /// The states it left, in order.
    stretches: Vec<Stretch>,
}

/// Replays records into each task's states.
pub(super) struct Replay {
    /// Task numbers and labels.
    tasks: TaskBook,
    /// Each [`TaskBook`] entry's track, once it was seen.
    tracks: Vec<Option<Track>>,
    /// The poll under way, and what each pending task waits on, less what has woken it since.
    waiting: Waiting,
}

impl Replay {
    /// Nothing replayed yet.
    pub(super) fn new() -> Replay {
        Replay { tasks: TaskBook::new(), tracks: Vec::new(), waiting: Waiting::new() }
    }

    /// Learns from one record.
    pub(super) fn apply(&mut self, at: u64, event: Event, names: &[Box<str>]) {
        match event {
            Event::Spawn { task, .. } => {
                let task = self.tasks.spawn(task);
                self.enter(task, at, Cell::Ready);
            }
            Event::Name { task, name } => self.tasks.name(task, name_at(names, name)),
            Event::PollStart { task } => {
                let task = self.tasks.resolve(task);
                self.enter(task, at, Cell::Running);
                self.waiting.poll_start(task);
            }
            Event::Waits { on } => self.waiting.reported(on),
            Event::Wake { task, queue, cause } => self.wake(at, task, queue, cause),
            Event::PollEnd { task, result, .. } => {
                let task = self.tasks.resolve(task);
                let next = self.after_poll(task, result);
                self.enter(task, at, next);
            }
            Event::Complete { task, .. } => {
                let task = self.tasks.resolve(task);
                self.enter(task, at, Cell::Blank);
            }
            _ => {}
        }
    }

    /// The state `task` is in once its poll ended with `result`.
    fn after_poll(&mut self, task: usize, result: PollResult) -> Cell {
        match (result, self.waiting.poll_end(task)) {
            (PollResult::Pending, Some(poll)) if poll.woke_itself.is_some() => Cell::Ready,
            (PollResult::Pending, Some(poll)) if poll.waits.is_empty() => {
                // A combinator polls only the child that woke it: the rest still wait, on what
                // they reported at their last poll.
                let carried = self.waiting.of(task).and_then(|waits| waits.first());
                carried.map_or(Cell::Unreported, |on| Cell::waiting_on(*on))
            }
            (PollResult::Pending, Some(poll)) => {
                let first = Cell::waiting_on(poll.waits[0]);
                self.waiting.set(task, poll.waits);
                first
            }
            (PollResult::Pending, None) => Cell::Unreported,
            (PollResult::Ready | PollResult::Panicked, _) => Cell::Blank,
        }
    }

    /// A wake: the polled task waking itself is queued when its poll returns; a waiting task is
    /// queued now; a wake that finds the task queued, running or done changes nothing.
    fn wake(&mut self, at: u64, key: TaskKey, queue: Queue, cause: Cause) {
        let task = self.tasks.resolve(key);
        if self.waiting.woke_itself(task, cause) {
            return;
        }
        self.waiting.answered(task, cause);
        let state = self.tracks.get(task).and_then(Option::as_ref).map(|track| track.cell);
        let waiting = !matches!(state, Some(Cell::Blank | Cell::Ready | Cell::Running));
        if waiting && matches!(queue, Queue::Local | Queue::Remote) {
            self.enter(task, at, Cell::Ready);
        }
    }

    /// `task` enters state `cell` at `at`, ending the stretch of its previous state.
    fn enter(&mut self, task: usize, at: u64, cell: Cell) {
        if self.tracks.len() <= task {
            self.tracks.resize_with(task + 1, || None);
        }
        match &mut self.tracks[task] {
            Some(track) => {
                track.stretches.push(Stretch { from: track.since, to: at, cell: track.cell });
                (track.cell, track.since) = (cell, at);
            }
            slot => *slot = Some(Track { cell, since: at, stretches: Vec::new() }),
        }
    }

    /// Ends every track at `end` and labels the rows.
    pub(super) fn finish(self, end: u64) -> Vec<Row> {
        let Replay { tasks, tracks, .. } = self;
        let mut rows = Vec::new();
        for (task, track) in tracks.into_iter().enumerate() {
            let Some(mut track) = track else { continue }; // never seen: no row
            track.stretches.push(Stretch { from: track.since, to: end, cell: track.cell });
            rows.push(Row { label: shorten(tasks.label(task)), stretches: track.stretches });
        }
        rows
    }
}
