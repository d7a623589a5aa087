//! What the Perfetto view draws, before it is put into words: tracks, slices, marks, arrows and
//! counters, in the order they are written.
//!
//! The builder (`builder.rs`) makes these from the records; the writer (`mod.rs`) names them
//! (`words.rs`) and writes them (`json.rs`). Nothing here knows JSON.
//!
//! # Invariants
//!
//! - Items are kept in record order, each slice at its start: Perfetto binds a flow event to
//!   the slice on top of its track's stack when it reads it, so an arrow's start comes right
//!   after its wake's slice and its end right after its poll's (see `mod.rs`).
//! - A slice's `end_ns` is never before its `start_ns`: the builder's clock never goes back.
//! - Task ids are [`TaskBook`](crate::views::task_book::TaskBook) indices.

use crate::event::{Cause, Event, Outcome, PollResult, Queue};
use crate::views::turn::Turn;

/// The reactor's track; task `#n` gets tid `n + 2`.
pub(super) const REACTOR_TID: u64 = 1;

/// A track of the trace: the reactor's, or one task's (by id; `#0` is the `block_on` future).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Track {
    /// The reactor's turns, and what the run loop does outside any poll.
    Reactor,
    /// One task's polls.
    Task(u32),
}

impl Track {
    /// The thread id the track is written as.
    pub(super) fn tid(self) -> u64 {
        match self {
            Track::Reactor => REACTOR_TID,
            Track::Task(id) => u64::from(id) + 2,
        }
    }
}

/// A slice (an `X` event): from `start_ns` to `end_ns` on one track.
pub(super) struct Slice {
    /// Its track.
    pub(super) track: Track,
    /// When it begins (nanoseconds since the recording began).
    pub(super) start_ns: u64,
    /// When it ends; moved on while it is open.
    pub(super) end_ns: u64,
    /// What it shows.
    pub(super) kind: SliceKind,
}

/// What a slice shows.
pub(super) enum SliceKind {
    /// One poll of a task; `result` is `None` while open (and if the recording ends first).
    Poll { polls: u32, result: Option<PollResult> },
    /// One reactor turn, told by what it did (`turn`, fed the records of the turn); `unpark`
    /// (io events, unparked) is `None` while open.
    Turn { turn: Turn, unpark: Option<(u32, bool)> },
    /// One wake (zero length): where an arrow leaves from. `joined`: a `Join` cause's task.
    Wake { task: u32, cause: Cause, joined: Option<u32>, queue: Queue },
    /// A task's end (zero length, or as long as the wakes it makes right after); on the root's
    /// track, `block_on` returning (its `Ready` poll: no `Complete` is reported for it).
    Complete { outcome: Outcome },
    /// Wakes the run loop made outside any poll, turn or completion.
    LoopWakes { all_remote: bool },
}

/// A mark (an `i` event).
pub(super) struct Mark {
    /// Its track.
    pub(super) track: Track,
    /// When.
    pub(super) at_ns: u64,
    /// What happened.
    pub(super) event: Event,
    /// The task it names, resolved at the time (spawned, aborted, or awaited).
    pub(super) subject: Option<u32>,
}

/// An arrow from a wake to the poll it led to: one `s` and one `f`, the same id (index + 1).
pub(super) struct Flow {
    /// On whose behalf the wake was made: names the arrow.
    pub(super) cause: Cause,
    /// For a `Join` cause, the task that completed.
    pub(super) joined: Option<u32>,
    /// Whether a poll ended it: an arrow nothing ended is not written at all.
    pub(super) ended: bool,
}

/// The two counters of the process.
#[derive(Clone, Copy)]
pub(super) enum Counter {
    /// Spawned and not yet complete.
    LiveTasks,
    /// In the run queue.
    RunQueue,
}

/// One thing to write, in record order.
pub(super) enum Item {
    /// A slice, placed at its start.
    Slice(Slice),
    /// A mark.
    Mark(Mark),
    /// The start of an arrow, right after its wake's slice.
    FlowStart { track: Track, at_ns: u64, flow: usize },
    /// The end of an arrow, right after its poll's slice.
    FlowEnd { track: Track, at_ns: u64, flow: usize },
    /// A counter's new value.
    Count { at_ns: u64, counter: Counter, value: u64 },
}
