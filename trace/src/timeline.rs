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
//! This file owns the replay of a recording into each task's states over time and their drawing.
//!
//! # Rules
//!
//! - **Rows.** One per task that appears in the records, in the order first seen: `#0 main`
//!   (the `block_on` future), then spawned tasks in spawn order. Keys are resolved in record order ([`TaskBook`]), so an
//!   address reused by a later task gives a second row.
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
//! - **Resolution and wrapping.** A block is the widest multiple of [`TICK_EVERY`] columns that
//!   fits beside the labels (at least one tick's worth). A bucket is the shortest 1-2-5 step (1 ns, 2 ns, 5 ns, 10 ns, ...,
//!   50 ms, 100 ms, ...) that cuts the span into at most one block's columns, or
//!   [`MIN_BUCKETS`] if a block is narrower: then the rows are split into several blocks, each
//!   covering a time range and repeating the labels, rather than coarsening the resolution.
//! - **Axis.** A tick (`┬`) every [`TICK_EVERY`] columns, labelled with its time in seconds,
//!   with as many decimals as the tick interval needs.
//! - **Deterministic.** Rows, cells and text follow from the records alone, in their order.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::event::{Cause, Event, PollResult, Queue, TaskKey, WaitOn};
use crate::explain::{TaskBook, seconds};
use crate::recorder::Recording;

/// Columns between two ticks of the axis (and the unit a block's width is a multiple of).
const TICK_EVERY: usize = 10;

/// The fewest columns a recording is drawn in: when the width leaves room for fewer, the rows
/// wrap into several blocks rather than coarsen the resolution.
const MIN_BUCKETS: usize = 60;

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
        replay.apply(record.at_ns, record.event, &recording.names);
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
enum Cell {
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
    fn waiting_on(on: WaitOn) -> Cell {
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
struct Stretch {
    /// When it began.
    from: u64,
    /// When it ended.
    to: u64,
    /// Which state.
    cell: Cell,
}

/// One task's row: its label and the states it went through.
struct Row {
    /// `#2 "ages"`, shortened to [`LABEL_MAX`] characters.
    label: String,
    /// Its states, in order, without gaps from its first record to the end.
    stretches: Vec<Stretch>,
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

/// A task's state while the records are replayed.
struct Track {
    /// Its state now.
    cell: Cell,
    /// Since when.
    since: u64,
    /// The states it left, in order.
    stretches: Vec<Stretch>,
}

/// The poll under way during the replay.
struct PollSoFar {
    /// The task polled ([`TaskBook`] index).
    task: usize,
    /// What it reported waiting on in this poll, in order.
    waits: Vec<WaitOn>,
    /// Whether it woke itself during this poll (it is queued again when the poll returns).
    woke_itself: bool,
}

/// Replays records into each task's states.
struct Replay {
    /// Task numbers and labels.
    tasks: TaskBook,
    /// Each [`TaskBook`] entry's track, once it was seen.
    tracks: Vec<Option<Track>>,
    /// The poll under way.
    poll: Option<PollSoFar>,
    /// What each pending task ([`TaskBook`] index) waits on, less what has woken it since.
    waits_of: HashMap<usize, Vec<WaitOn>>,
}

impl Replay {
    /// Nothing replayed yet.
    fn new() -> Replay {
        Replay { tasks: TaskBook::new(), tracks: Vec::new(), poll: None, waits_of: HashMap::new() }
    }

    /// Learns from one record.
    fn apply(&mut self, at: u64, event: Event, names: &[Box<str>]) {
        match event {
            Event::Spawn { task, .. } => {
                let task = self.tasks.spawn(task);
                self.enter(task, at, Cell::Ready);
            }
            Event::Name { task, name } => {
                self.tasks.name(task, names.get(name as usize).map_or("?", |name| name));
            }
            Event::PollStart { task } => {
                let task = self.tasks.resolve(task);
                self.enter(task, at, Cell::Running);
                self.poll = Some(PollSoFar { task, waits: Vec::new(), woke_itself: false });
            }
            Event::Waits { on } => {
                if let Some(poll) = &mut self.poll {
                    poll.waits.push(on);
                }
            }
            Event::Wake { task, queue, cause } => self.wake(at, task, queue, cause),
            Event::PollEnd { task, result } => {
                let task = self.tasks.resolve(task);
                let poll = self.poll.take().filter(|poll| poll.task == task);
                let next = match (result, poll) {
                    (PollResult::Pending, Some(poll)) if poll.woke_itself => Cell::Ready,
                    (PollResult::Pending, Some(poll)) if poll.waits.is_empty() => {
                        // A combinator polls only the child that woke it: the rest still wait,
                        // on what they reported at their last poll.
                        let carried = self.waits_of.get(&task).and_then(|waits| waits.first());
                        carried.map_or(Cell::Unreported, |on| Cell::waiting_on(*on))
                    }
                    (PollResult::Pending, Some(poll)) => {
                        let first = Cell::waiting_on(poll.waits[0]);
                        self.waits_of.insert(task, poll.waits);
                        first
                    }
                    (PollResult::Pending, None) => Cell::Unreported,
                    (PollResult::Ready | PollResult::Panicked, _) => Cell::Blank,
                };
                self.enter(task, at, next);
            }
            Event::Complete { task, .. } => {
                let task = self.tasks.resolve(task);
                self.enter(task, at, Cell::Blank);
            }
            _ => {}
        }
    }

    /// A wake: the polled task waking itself is queued when its poll returns; a waiting task is
    /// queued now; a wake that finds the task queued, running or done changes nothing.
    fn wake(&mut self, at: u64, key: TaskKey, queue: Queue, cause: Cause) {
        let task = self.tasks.resolve(key);
        if let Some(poll) = &mut self.poll
            && poll.task == task
        {
            poll.woke_itself = true;
            return;
        }
        if let Some(waits) = self.waits_of.get_mut(&task) {
            waits.retain(|on| !cause.answers(*on));
        }
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
    fn finish(self, end: u64) -> Vec<Row> {
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

/// How the span is cut into buckets and the buckets into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    /// Nanoseconds per bucket: a 1-2-5 step.
    bucket_ns: u64,
    /// Buckets in the whole span.
    buckets: usize,
    /// Buckets per block (a multiple of [`TICK_EVERY`]).
    block: usize,
    /// Characters before the first column: the widest label and a space.
    indent: usize,
}

impl Layout {
    /// The layout of a span ending at `end` ns, beside labels `label_width` wide, in `width`.
    fn new(end: u64, label_width: usize, width: usize) -> Layout {
        let room = width.saturating_sub(label_width + 1);
        let block = (room / TICK_EVERY * TICK_EVERY).max(TICK_EVERY);
        let bucket_ns = bucket_for(end, block.max(MIN_BUCKETS));
        let buckets = usize::try_from(end.div_ceil(bucket_ns)).unwrap_or(usize::MAX).max(1);
        Layout { bucket_ns, buckets, block, indent: label_width + 1 }
    }

    /// The bucket holding instant `at` (the span's end falls in the last one).
    fn bucket_of(&self, at: u64) -> usize {
        usize::try_from(at / self.bucket_ns).unwrap_or(usize::MAX).min(self.buckets - 1)
    }

    /// The axis under the columns `columns`: a tick every [`TICK_EVERY`] columns, and under
    /// each tick its time, unless the previous time leaves no room for it.
    fn axis(&self, columns: std::ops::Range<usize>) -> String {
        let tick_ns = self.bucket_ns * TICK_EVERY as u64;
        let mut ticks = " ".repeat(self.indent);
        let mut times = " ".repeat(self.indent);
        for (offset, column) in columns.enumerate() {
            let is_tick = column.is_multiple_of(TICK_EVERY);
            ticks.push(if is_tick { '┬' } else { '─' });
            let position = self.indent + offset;
            let free = times.chars().count();
            if is_tick && (free <= position || offset == 0) {
                times.push_str(&" ".repeat(position.saturating_sub(free)));
                times.push_str(&tick_time(column as u64 * self.bucket_ns, tick_ns));
                times.push(' ');
            }
        }
        format!("{ticks}\n{}\n", times.trim_end())
    }
}

/// `at` in seconds, with as many decimals as multiples of `tick_ns` need: `"0.5s"`, `"0.25s"`.
fn tick_time(at: u64, tick_ns: u64) -> String {
    let decimals = (0..9u32).find(|&d| tick_ns.is_multiple_of(10u64.pow(9 - d))).unwrap_or(9);
    let whole = at / 1_000_000_000;
    if decimals == 0 {
        return format!("{whole}s");
    }
    let fraction = at % 1_000_000_000 / 10u64.pow(9 - decimals);
    format!("{whole}.{fraction:0width$}s", width = decimals as usize)
}

/// The shortest 1-2-5 step (1 ns, 2 ns, 5 ns, 10 ns, ...) cutting `end` ns into at most `most`
/// buckets.
fn bucket_for(end: u64, most: usize) -> u64 {
    let most = most.max(1) as u64;
    let mut decade: u64 = 1;
    loop {
        for step in [decade, decade.saturating_mul(2), decade.saturating_mul(5)] {
            if end.div_ceil(step) <= most || step == u64::MAX {
                return step;
            }
        }
        decade = decade.saturating_mul(10);
    }
}

/// `"50 ms"`, `"2 µs"`, `"1 s"`: a 1-2-5 step in its largest whole unit.
fn duration(ns: u64) -> String {
    match ns {
        ns if ns.is_multiple_of(1_000_000_000) => format!("{} s", ns / 1_000_000_000),
        ns if ns.is_multiple_of(1_000_000) => format!("{} ms", ns / 1_000_000),
        ns if ns.is_multiple_of(1_000) => format!("{} µs", ns / 1_000),
        ns => format!("{ns} ns"),
    }
}

/// `label`, cut to [`LABEL_MAX`] characters with a `…` in the middle: the task's number at the
/// start and the end of its name both stay, which is what tells tasks apart when their names
/// share a long start (`#3 "http://127.0.0.1:41613/www.github.com"` becomes `#3 "http:…ithub.com"`).
fn shorten(label: String) -> String {
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
    use crate::event::{Cause, Outcome, Record};

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
        Recording { records, names: Vec::new(), dropped: 0 }
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
    fn the_span_end_falls_in_the_last_bucket() {
        let layout = Layout::new(100, 2, 80);
        assert_eq!(layout.bucket_ns, 2);
        assert_eq!(layout.buckets, 50);
        assert_eq!(layout.bucket_of(100), 49);
    }

    #[test]
    fn a_reused_address_gives_a_second_row() {
        let location = Location::caller();
        let text = render_timeline(
            &recording(&[
                (0, Event::Spawn { task: A, location }), // #1 at A
                (0, Event::PollStart { task: A }),
                (0, Event::PollEnd { task: A, result: PollResult::Ready }), // #1 done
                (0, Event::Complete { task: A, outcome: Outcome::Returned }), // A freed
                (50, Event::Spawn { task: A, location }),                   // #2 reuses A
                (100, Event::PollStart { task: A }),                        // polls #2
                (100, Event::PollEnd { task: A, result: PollResult::Pending }),
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
                (10, Event::PollEnd { task: TaskKey::ROOT, result: PollResult::Pending }),
                (20, Event::Wake { task: TaskKey::ROOT, cause: timer, queue: Queue::Local }),
                (40, Event::PollStart { task: TaskKey::ROOT }),
                (50, Event::PollEnd { task: TaskKey::ROOT, result: PollResult::Ready }),
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
    fn buckets_are_the_shortest_1_2_5_step_that_fits() {
        assert_eq!(bucket_for(2_522_000_000, 60), 50_000_000);
        assert_eq!(bucket_for(311_100_000, 60), 10_000_000);
        assert_eq!(bucket_for(100, 50), 2);
        assert_eq!(bucket_for(0, 60), 1);
    }

    #[test]
    fn a_narrow_width_wraps_into_blocks_of_whole_ticks() {
        let layout = Layout::new(2_522_000_000, 10, 40);
        assert_eq!((layout.bucket_ns, layout.buckets, layout.block), (50_000_000, 51, 20));
        let wide = Layout::new(2_522_000_000, 10, 200);
        assert_eq!((wide.bucket_ns, wide.buckets, wide.block), (20_000_000, 127, 180));
    }

    #[test]
    fn tick_times_have_the_decimals_their_interval_needs() {
        assert_eq!(tick_time(1_500_000_000, 500_000_000), "1.5s");
        assert_eq!(tick_time(50_000_000, 50_000_000), "0.05s");
        assert_eq!(tick_time(20_000_000_000, 10_000_000_000), "20s");
        assert_eq!(duration(50_000_000), "50 ms");
        assert_eq!(duration(2_000), "2 µs");
    }

    #[test]
    fn long_labels_are_shortened() {
        assert_eq!(shorten("#12 \"a rather long name\"".into()), "#12 \"a ra…long name\"");
        assert_eq!(shorten("#0 main".into()), "#0 main");
        let url = "#3 \"http://127.0.0.1:41613/www.github.com\"";
        assert_eq!(shorten(url.into()), "#3 \"http:…ithub.com\"");
    }
}
