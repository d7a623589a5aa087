//! The terminal timeline: one row per task, time flowing left to right, printed when a program
//! ends.
//!
//! ```text
//! timeline: 2.522s, one column = 50 ms
//! #0 main    █wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww█ww█
//! #1 "names" █ttttttttttttt█tt█tttttttt█ttttttttttttttttt█ttttt█
//! #2 "ages"  █tttt██ttttttt█t█ttttttttt██ttttt█t█ttttttt█ttt█
//!            ┬─────────┬─────────┬─────────┬─────────┬─────────┬
//!            0.0s      0.5s      1.0s      1.5s      2.0s      2.5s
//! ```
//!
//! This module owns the replay of a recording into each task's states over time and their
//! drawing: `replay.rs` turns the records into each task's stretches of states, `layout.rs` cuts
//! time into columns and blocks and draws the axis, and this file paints and prints the rows.
//!
//! # Rules
//!
//! - **Rows.** One per task that appears in the records, in the order first seen: `#0 main`
//!   (the `block_on` future), then spawned tasks in spawn order. Keys are resolved in record
//!   order (`TaskBook`), so an address reused by a later task gives a second row.
//! - **States.** A task is *ready* (`·`) from its `Spawn` or from a wake that queued it, until
//!   its poll starts; *running* (`█`) from `PollStart` to `PollEnd`; then *waiting* on the first
//!   thing it reported in that poll (`t` timer, `i` I/O, `j` `to_thread` job, `c` channel or
//!   other primitive, `w` another task, `?` a future that reported nothing), or ready again if it
//!   woke itself. After a `Ready` or `Panicked` poll, or its `Complete`, it is done: blank, as
//!   before its `Spawn`.
//! - **Columns.** Each column is one time bucket. A state that lasted no time is not drawn,
//!   except a poll: on the paused clock polls take 0 ns, and a zero-length poll still marks its
//!   bucket as running. When several states fall in one bucket the strongest wins:
//!   `█` > `·` > `i` > `j` > `t` > `c` > `w` > `?` > blank (the [`Cell`] order). Ready beats
//!   every wait because a woken task that has not been polled yet is the cashier's backlog:
//!   the one thing a learner cannot see anywhere else.
//! - **Resolution and wrapping.** A block is the widest multiple of
//!   [`TICK_EVERY`](layout::TICK_EVERY) columns that fits beside the labels (at least one
//!   tick's worth). A bucket is the shortest 1-2-5 step (1 ns, 2 ns, 5 ns, 10 ns, ..., 50 ms,
//!   100 ms, ...) that cuts the span into at most one block's columns, or
//!   [`MIN_BUCKETS`](layout::MIN_BUCKETS) if a block is narrower: then the rows are split into
//!   several blocks, each covering a time range and repeating the labels, rather than
//!   coarsening the resolution.
//! - **Axis.** A tick (`┬`) every [`TICK_EVERY`](layout::TICK_EVERY) columns, labelled with its
//!   time in seconds, with as many decimals as the tick interval needs.
//! - **Deterministic.** Rows, cells and text follow from the records alone, in their order.

mod layout;
mod replay;

use std::fmt::Write as _;

use self::layout::Layout;
use self::replay::Replay;
use super::origin::rebase;
use super::words::{duration, seconds};
use crate::event::WaitOn;
use crate::recorder::Recording;

/// Longest label drawn; longer ones lose their middle to a `…`.
const LABEL_MAX: usize = 20;

/// Draws `recording` as a timeline at most `width` characters wide (wider only when `width`
/// leaves fewer than ten columns beside the labels): one row per task, one column per time
/// bucket, an axis in seconds and a legend, wrapped into blocks when the span needs more
/// columns than the width has.
pub fn render_timeline(recording: &Recording, width: usize) -> String {
    let Some(end) = recording.records.iter().map(|record| record.at_ns).max() else {
        return "timeline: nothing was recorded\n".to_string();
    };
    let mut replay = Replay::new();
    for record in &recording.records {
        replay.apply(record.at_ns, rebase(record.event, recording.origin_ns), &recording.names);
    }
    let rows = replay.finish(end);
    let label_width = rows.iter().map(|row| row.label.chars().count()).max().unwrap_or(0);
    let layout = Layout::new(end, label_width, width);
    let mut text =
        format!("timeline: {}, one column = {}\n", seconds(end), duration(layout.bucket_ns));
    let grids: Vec<Vec<Cell>> = rows.iter().map(|row| row.paint(&layout)).collect();
    for first in (0..layout.buckets).step_by(layout.block) {
        let columns = first..(first + layout.block).min(layout.buckets);
        if first > 0 {
            text.push('\n');
        }
        for (row, grid) in rows.iter().zip(&grids) {
            let cells: String = grid[columns.clone()].iter().map(|cell| cell.glyph()).collect();
            let line = format!("{:<label_width$} {cells}", row.label);
            let _ = writeln!(text, "{}", line.trim_end());
        }
        text.push_str(&layout.axis(columns));
    }
    text.push('\n');
    text.push_str(&legend(width));
    if recording.dropped > 0 {
        let _ = writeln!(text, "({} later events were dropped past the cap)", recording.dropped);
    }
    text
}

/// What a column of a row shows. Declared weakest first: when several states fall in one
/// bucket, the greatest wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Cell {
    /// Not spawned yet, or done.
    Blank,
    /// Waiting on something that reported no `Waits` (a hand-written future).
    Unreported,
    /// Waiting on another task's `JoinHandle`.
    Join,
    /// Waiting on a channel or another primitive of `cashier::sync`.
    Primitive,
    /// Waiting on a timer.
    Timer,
    /// Waiting on a `to_thread` job.
    Job,
    /// Waiting on a socket.
    Io,
    /// Queued to run, not polled yet.
    Ready,
    /// Being polled.
    Running,
}

impl Cell {
    /// The character drawn for it.
    fn glyph(self) -> char {
        match self {
            Cell::Blank => ' ',
            Cell::Unreported => '?',
            Cell::Join => 'w',
            Cell::Primitive => 'c',
            Cell::Timer => 't',
            Cell::Job => 'j',
            Cell::Io => 'i',
            Cell::Ready => '·',
            Cell::Running => '█',
        }
    }

    /// The state of a task waiting on `on`.
    pub(super) fn waiting_on(on: WaitOn) -> Cell {
        match on {
            WaitOn::Timer { .. } => Cell::Timer,
            WaitOn::Io { .. } => Cell::Io,
            WaitOn::Job { .. } => Cell::Job,
            WaitOn::Primitive(_) => Cell::Primitive,
            WaitOn::Join { .. } => Cell::Join,
        }
    }
}

/// A state a task was in from `from` to `to` (nanoseconds; `from == to` for a 0 ns poll).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stretch {
    /// When it began.
    pub(super) from: u64,
    /// When it ended.
    pub(super) to: u64,
    /// Which state.
    pub(super) cell: Cell,
}

/// One task's row: its label and the states it went through.
pub(super) struct Row {
    /// `#2 "ages"`, shortened to [`LABEL_MAX`] characters.
    pub(super) label: String,
    /// Its states, in order, without gaps from its first record to the end.
    pub(super) stretches: Vec<Stretch>,
}

impl Row {
    /// The row's cells: each bucket shows the strongest state that falls in it.
    fn paint(&self, layout: &Layout) -> Vec<Cell> {
        let mut cells = vec![Cell::Blank; layout.buckets];
        for stretch in &self.stretches {
            let last = match (stretch.to > stretch.from, stretch.cell) {
                (true, _) => layout.bucket_of(stretch.to - 1),
                (false, Cell::Running) => layout.bucket_of(stretch.from),
                (false, _) => continue, // lasted no time: not drawn
            };
            for cell in &mut cells[layout.bucket_of(stretch.from)..=last] {
                *cell = (*cell).max(stretch.cell);
            }
        }
        cells
    }
}

/// `label`, cut to [`LABEL_MAX`] characters with a `…` in the middle: the task's number at the
/// start and the end of its name both stay, which is what tells tasks apart when their names
/// share a long start (`#3 "http://127.0.0.1:41613/www.github.com"` becomes `#3 "http:…ithub.com"`).
pub(super) fn shorten(label: String) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= LABEL_MAX {
        return label;
    }
    let head = (LABEL_MAX - 1) / 2;
    let tail = LABEL_MAX - 1 - head;
    let mut short: String = chars[..head].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - tail..]);
    short
}

/// The legend: what each character means, and which wins a column (entries wrapped to `width`).
fn legend(width: usize) -> String {
    const LINES: [&[&str]; 3] = [
        &["█ running", "· ready, not yet polled", "blank: not spawned yet, or done"],
        &[
            "waiting on: i I/O",
            "j to_thread job",
            "t timer",
            "c channel or other primitive",
            "w another task",
            "? unreported",
        ],
        &["priority in a column: █ · i j t c w ?"],
    ];
    let mut text = String::new();
    for entries in LINES {
        let mut line = String::new();
        for entry in entries {
            if !line.is_empty() && line.chars().count() + 2 + entry.chars().count() > width {
                let _ = writeln!(text, "{line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push_str("  ");
            }
            line.push_str(entry);
        }
        let _ = writeln!(text, "{line}");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::panic::Location;

    use super::*;
    use crate::event::{Cause, Event, Outcome, PollResult, Queue, Record, TaskKey};

    /// A task's address.
    const A: TaskKey = TaskKey(0xa0);

    /// A layout of `buckets` buckets of 10 ns, in one block.
    fn layout(buckets: usize) -> Layout {
        Layout { bucket_ns: 10, buckets, block: 60, indent: 3 }
    }

    /// A row with these stretches.
    fn row(stretches: &[(u64, u64, Cell)]) -> Row {
        let stretches = stretches.iter().map(|&(from, to, cell)| Stretch { from, to, cell });
        Row { label: "#1".into(), stretches: stretches.collect() }
    }

    /// A recording of `events`, each at the time given.
    fn recording(events: &[(u64, Event)]) -> Recording {
        let records = events.iter().map(|&(at_ns, event)| Record { at_ns, event }).collect();
        Recording { records, names: Vec::new(), dropped: 0, origin_ns: 0 }
    }

    #[test]
    fn running_wins_a_bucket_then_ready_then_what_is_waited_on() {
        let painted = row(&[
            (0, 15, Cell::Timer),    // buckets 0 and 1
            (15, 18, Cell::Ready),   // bucket 1: beats the timer
            (18, 18, Cell::Running), // bucket 1: a 0 ns poll beats both
            (18, 25, Cell::Io),      // buckets 1 and 2
            (25, 28, Cell::Join),    // bucket 2: I/O beats the join
            (28, 30, Cell::Ready),   // bucket 2: ready beats both
        ])
        .paint(&layout(4));
        assert_eq!(painted, [Cell::Timer, Cell::Running, Cell::Ready, Cell::Blank]);
        let order = [Cell::Blank, Cell::Unreported, Cell::Join, Cell::Primitive, Cell::Timer];
        assert!(order.is_sorted() && [Cell::Timer, Cell::Job, Cell::Io, Cell::Ready].is_sorted());
        assert!(Cell::Ready < Cell::Running);
    }

    #[test]
    fn a_zero_length_poll_is_drawn_other_zero_length_states_are_not() {
        let painted = row(&[
            (0, 10, Cell::Timer),    // bucket 0
            (10, 10, Cell::Ready),   // woken and polled at once (paused clock): not drawn
            (10, 10, Cell::Running), // polled in 0 ns: bucket 1 runs
            (10, 30, Cell::Timer),   // buckets 1 and 2
        ])
        .paint(&layout(3));
        assert_eq!(painted, [Cell::Timer, Cell::Running, Cell::Timer]);
    }

    #[test]
    fn a_reused_address_gives_a_second_row() {
        let location = Location::caller();
        let text = render_timeline(
            &recording(&[
                (0, Event::Spawn { task: A, location }), // #1 at A
                (0, Event::PollStart { task: A }),
                (0, Event::PollEnd { task: A, result: PollResult::Ready, wakers: None }), // #1 done
                (0, Event::Complete { task: A, outcome: Outcome::Returned }),             // A freed
                (50, Event::Spawn { task: A, location }), // #2 reuses A
                (100, Event::PollStart { task: A }),      // polls #2
                (100, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }),
            ]),
            80,
        );
        let rows: Vec<&str> = text.lines().skip(1).take(2).collect();
        assert_eq!(rows[0].trim_end(), "#1 █");
        // One column = 2 ns: blank before its spawn at 50, ready until its poll, in the last
        // column (the span's end, 100, falls in it).
        assert_eq!(rows[1], format!("#2 {}{}█", " ".repeat(25), "·".repeat(24)));
    }

    #[test]
    fn a_wake_queues_a_waiting_task_and_its_poll_ends_the_wait() {
        let timer = Cause::Timer { timer: 0, deadline_ns: 20 };
        let text = render_timeline(
            &recording(&[
                (0, Event::PollStart { task: TaskKey::ROOT }),
                (0, Event::Waits { on: WaitOn::Timer { timer: 0, deadline_ns: 20 } }),
                (
                    10,
                    Event::PollEnd {
                        task: TaskKey::ROOT,
                        result: PollResult::Pending,
                        wakers: None,
                    },
                ),
                (20, Event::Wake { task: TaskKey::ROOT, cause: timer, queue: Queue::Local }),
                (40, Event::PollStart { task: TaskKey::ROOT }),
                (
                    50,
                    Event::PollEnd { task: TaskKey::ROOT, result: PollResult::Ready, wakers: None },
                ),
            ]),
            80,
        );
        // One column = 1 ns: 10 running, 10 waiting on the timer, 20 ready, 10 running.
        let expected = format!(
            "#0 main {}{}{}{}",
            "█".repeat(10),
            "t".repeat(10),
            "·".repeat(20),
            "█".repeat(10)
        );
        assert_eq!(text.lines().nth(1), Some(expected.as_str()));
    }

    #[test]
    fn the_roots_row_is_done_once_block_on_returns() {
        let text = render_timeline(
            &recording(&[
                (0, Event::PollStart { task: TaskKey::ROOT }),
                (0, Event::Spawn { task: A, location: Location::caller() }),
                (
                    10,
                    Event::PollEnd { task: TaskKey::ROOT, result: PollResult::Ready, wakers: None },
                ),
                (10, Event::PollStart { task: A }), // a task left running after block_on
                (40, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }),
            ]),
            80,
        );
        // One column = 1 ns: main runs 10, then is done (blank) while #1 still runs.
        let main = text.lines().nth(1).unwrap();
        assert_eq!(main, format!("#0 main {}", "█".repeat(10)));
    }

    #[test]
    fn long_labels_are_shortened() {
        assert_eq!(shorten("#12 \"a rather long name\"".into()), "#12 \"a ra…long name\"");
        assert_eq!(shorten("#0 main".into()), "#0 main");
        let url = "#3 \"http://127.0.0.1:41613/www.github.com\"";
        assert_eq!(shorten(url.into()), "#3 \"http:…ithub.com\"");
    }
}
