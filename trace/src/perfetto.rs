//! The Perfetto view: a [`Recording`] written in the Trace Event Format, the JSON that Perfetto
//! (ui.perfetto.dev), chrome://tracing and speedscope open.
//!
//! This file owns the mapping from cashier's events to that format, and the JSON it writes
//! (by hand: the library has no serde). It reads a finished recording, in two passes: a
//! [`Builder`] walks the records once, in order, and turns them into slices, marks, arrows and
//! counters; then [`write_chrome_trace`] puts those into words and writes them out.
//!
//! # The Trace Event Format, in one page
//!
//! A trace in the *JSON Object Format* is one object:
//!
//! ```text
//! {"traceEvents": [event, event, ...], "displayTimeUnit": "ns", "otherData": {...}}
//! ```
//!
//! Every event is a flat object. Its `ph` (phase), one letter, says what it is; `pid` and `tid`
//! put it on a *track* (a thread of a process); `ts` is when, in **microseconds**, a JSON number
//! that may have a fraction (`734000.125` is 734 ms and 125 ns); `name`, `cat` (a category a
//! viewer can filter by) and `args` (shown when the event is selected) describe it. The phases
//! this file writes:
//!
//! | `ph`     | what                                 | fields of its own                     |
//! |----------|--------------------------------------|---------------------------------------|
//! | `M`      | metadata: a process's or a thread's  | `args`: `{"name"}` or `{"sort_index"}`; |
//! |          | name, or the threads' order          | no `ts`                               |
//! | `X`      | a complete event: a slice of time    | `dur`, in microseconds                |
//! | `i`      | an instant event: a mark at one time | `s`, its scope: `"t"` thread, `"g"` all |
//! | `s`, `f` | a flow's start and end: an arrow     | `id`, the same on both; `bp` on `f`   |
//! |          | from one slice to another            |                                       |
//! | `C`      | a counter's new value                | `args`: `{series: number}`            |
//!
//! `displayTimeUnit` only says how a viewer shows times: timestamps stay in microseconds. (Old
//! versions of Perfetto read `"ns"` as the unit of `ts`; it now ignores the key, as catapult,
//! the viewer behind chrome://tracing, always did.)
//!
//! Slices on one track nest like the frames of a call stack: two of them are disjoint, or one
//! lies inside the other, never half across. A flow event is bound to a slice of its own track:
//! an `s` to the slice enclosing it, an `f` with `"bp": "e"` (binding point: enclosing) to the
//! slice enclosing it too, where an `f` without it would bind to the next slice to begin.
//!
//! # The mapping
//!
//! - **Tracks.** One process, pid 1, named `cashier`. The reactor has tid 1, named `reactor`;
//!   task `#n` has tid `n + 2`, named `#2 names` (its name), `#2 at src/x.rs:12` (where it was
//!   spawned, when unnamed) or `#0 main` (the `block_on` future). `thread_sort_index` puts the
//!   reactor first, then the tasks by id. A task's id is its place in spawn order: keys are
//!   addresses, reused once a task is freed, so each `Spawn` starts a new task, and a new track.
//! - **Polls.** Each `PollStart` .. `PollEnd` is an `X` slice named `poll` on the task's track,
//!   with `args` `{result, polls}` (polls so far, this one included).
//! - **Reactor turns.** Each `Park` .. `Unpark` is an `X` slice on the reactor's track, named by
//!   what it did (`wait 734 ms (next timer)`, `look, no wait (tasks ready)`, `wait (idle)`,
//!   `wait for job (paused clock)`, `clock jump to 0.734 s`), with `args`
//!   `{reason, io_events, unparked}`.
//! - **Wakes.** Each wake is a slice of length 0, `wake #3 ages`, where it was made: on the
//!   polling task's track (a `Wake` between `PollStart` and `PollEnd` was made by that task), on
//!   the reactor's inside a turn. Inside it starts an arrow (`s`) named by the cause (`timer #5`,
//!   `fd 7 readable`, `channel`, `yield`, `join #3`, `remote`), category `wake`; the arrow ends
//!   (`f`, `"bp": "e"`) at the start of the woken task's next poll. A wake that no poll follows
//!   (the task completed first, or the recording ended) draws no arrow at all.
//! - **Wakes outside any poll or turn**, made by the run loop itself, still need a slice to leave
//!   from. Right after a `Complete`, they are the completing task's (its joiner's wake): they
//!   leave from its `complete` slice. Otherwise they share one slice on the reactor's track,
//!   `remote wakes` when all of them came from other threads, `run-loop wakes` when not.
//! - **Marks.** Instant events, on the track of whoever was running (the polled task, else the
//!   reactor): `spawn #2 names`, `abort #3 ages`, `waits on timer #5 (due 0.734 s)`,
//!   `timer #5 fired`, `fd 7 readable`, `clock jumps to 0.734 s`, `job 1 submitted`, ...
//!   A task's end is a zero-length slice on its own track: `complete: returned`.
//! - **Counters**, on the process: `live tasks` (spawned, not yet complete) and `run queue`
//!   (spawned or woken onto the queue, not yet polled; the `block_on` future is never queued).
//! - **Losses.** If the recorder dropped events past its cap, `otherData` says how many
//!   (`dropped_events`), and a global mark at the end says so: `N events dropped (cap reached)`.
//!
//! # The order of the events, and how Perfetto reads it
//!
//! Perfetto sorts events by `ts`; at one `ts`, it puts longer `X` slices first and keeps the
//! file's order among the rest. It binds a flow event to the slice on top of its track's stack
//! when it reads it. So the events are written in record order, each slice at its start, and
//! every flow event right after its slice: an `s` after its wake's slice, an `f` after its poll.
//! Then an arrow leaves from its wake and lands on its poll, even when they take no time.
//!
//! Perfetto stacks zero-length slices that share a `ts` on one another, as it does instants:
//! on a paused clock, where a whole run of polls happens at one instant, a track draws them as a
//! staircase, still in order, arrows still right. What it draws wrong is a zero-length slice
//! followed, on the same track and at the same `ts`, by a longer one: it sorts the longer one
//! first and draws the short one inside it. On the reactor's track a paused clock does this
//! (a turn that waits for a job, then the turn whose clock jumps): only the picture suffers, as
//! the arrows there leave from their own wakes. On a task's track it takes a zero-length poll
//! and then a longer poll of the same task at the same nanosecond (a paused clock advanced from
//! inside the task), and then the longer poll's arrows end on the short one.
//!
//! Perfetto's own format is binary (protobuf `TrackEvent`s), where tracks are declared and flow
//! ids ride on the slices themselves, so none of this ordering matters; tracers built for
//! Perfetto write that. The JSON format is the one a reader can open in an editor and check.

use std::collections::HashMap;
use std::io::{self, BufWriter, Write};
use std::mem;
use std::panic::Location;

use crate::event::{
    Cause, Direction, Event, Outcome, PollResult, Primitive, Queue, TaskKey, WaitOn, WaitReason,
};
use crate::recorder::Recording;

/// The one process every track belongs to.
const PID: u64 = 1;

/// The reactor's track; task `#n` gets tid `n + 2`.
const REACTOR_TID: u64 = 1;

/// Writes `recording` to `out` in the Trace Event Format (JSON Object Format), for Perfetto or
/// chrome://tracing to open. The mapping is described in this module's documentation.
pub fn write_chrome_trace(recording: &Recording, out: &mut dyn Write) -> io::Result<()> {
    let mut builder = Builder::new();
    for record in &recording.records {
        builder.record(record.at_ns, record.event);
    }
    builder.finish();
    let words = Words { tasks: &builder.tasks, names: &recording.names };
    let mut writer = EventWriter { out: BufWriter::new(out), first: true };
    writer.out.write_all(b"{\"traceEvents\":[")?;
    write_metadata(&mut writer, &words)?;
    for item in &builder.items {
        write_item(&mut writer, &words, &builder.flows, item)?;
    }
    if recording.dropped > 0 {
        let name = format!("{} events dropped (cap reached)", recording.dropped);
        let event = TraceEvent { scope: Some("g"), ..TraceEvent::new('i', &name, "recorder") };
        writer.event(&TraceEvent { ts_ns: Some(builder.now), ..event })?;
    }
    let out = &mut writer.out;
    out.write_all(b"\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"cashier-trace\"")?;
    write!(out, ",\"records\":{},\"tasks\":{}", recording.records.len(), builder.tasks.len())?;
    if recording.dropped > 0 {
        write!(out, ",\"dropped_events\":{}", recording.dropped)?;
    }
    out.write_all(b"}}\n")?;
    out.flush()
}

// ---------------------------------------------------------------------------------------------
// Pass 1: records → tracks, slices, marks, arrows, counters.
// ---------------------------------------------------------------------------------------------

/// A track of the trace: the reactor's, or one task's (by id; `#0` is the `block_on` future).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Track {
    /// The reactor's turns, and what the run loop does outside any poll.
    Reactor,
    /// One task's polls.
    Task(u32),
}

impl Track {
    /// The thread id the track is written as.
    fn tid(self) -> u64 {
        match self {
            Track::Reactor => REACTOR_TID,
            Track::Task(id) => u64::from(id) + 2,
        }
    }
}

/// What the writer knows of one task: one `Spawn` (a reused address starts a new one).
struct Task {
    /// Its key while it lives.
    key: TaskKey,
    /// Where it was spawned (`None` for the root, and for a task first seen after its spawn).
    location: Option<&'static Location<'static>>,
    /// Its name: an index into the recording's names.
    name: Option<u32>,
    /// Polls begun so far.
    polls: u32,
    /// In the run queue: spawned or woken there, not polled since.
    queued: bool,
    /// Woken during the poll running now: queued again if that poll returns `Pending`.
    woken_while_running: bool,
    /// Completed: nothing polls it again.
    complete: bool,
    /// The arrows (indices into the flows) that its next poll ends.
    pending: Vec<usize>,
}

/// A slice (an `X` event): from `start_ns` to `end_ns` on one track.
struct Slice {
    /// Its track.
    track: Track,
    /// When it begins (nanoseconds since the recording began).
    start_ns: u64,
    /// When it ends; moved on while it is open.
    end_ns: u64,
    /// What it shows.
    kind: SliceKind,
}

/// What a slice shows.
enum SliceKind {
    /// One poll of a task; `result` is `None` while open (and if the recording ends first).
    Poll { polls: u32, result: Option<PollResult> },
    /// One reactor turn; `unpark` (io events, unparked) is `None` while open.
    Turn { wait_ns: Option<u64>, reason: WaitReason, unpark: Option<(u32, bool)> },
    /// One wake (zero length): where an arrow leaves from. `joined`: a `Join` cause's task.
    Wake { task: u32, cause: Cause, joined: Option<u32>, queue: Queue },
    /// A task's end (zero length, or as long as the wakes it makes right after).
    Complete { outcome: Outcome },
    /// Wakes the run loop made outside any poll, turn or completion.
    LoopWakes { all_remote: bool },
}

/// A mark (an `i` event).
struct Mark {
    /// Its track.
    track: Track,
    /// When.
    at_ns: u64,
    /// What happened.
    event: Event,
    /// The task it names, resolved at the time (spawned, aborted, or awaited).
    subject: Option<u32>,
}

/// An arrow from a wake to the poll it led to: one `s` and one `f`, the same id (index + 1).
struct Flow {
    /// On whose behalf the wake was made: names the arrow.
    cause: Cause,
    /// For a `Join` cause, the task that completed.
    joined: Option<u32>,
    /// Whether a poll ended it: an arrow nothing ended is not written at all.
    ended: bool,
}

/// The two counters of the process.
#[derive(Clone, Copy)]
enum Counter {
    /// Spawned and not yet complete.
    LiveTasks,
    /// In the run queue.
    RunQueue,
}

/// One thing to write, in record order.
enum Item {
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

/// Walks the records in order and builds the items. It plays the run loop back: which poll
/// and which turn are open, which tasks are queued, which arrows wait for which poll.
struct Builder {
    /// Every task seen, by id.
    tasks: Vec<Task>,
    /// The task each key names now.
    by_key: HashMap<TaskKey, u32>,
    /// What to write, in order.
    items: Vec<Item>,
    /// Every arrow started.
    flows: Vec<Flow>,
    /// The open poll's slice (an index into `items`).
    poll: Option<usize>,
    /// The open reactor turn's slice.
    turn: Option<usize>,
    /// The slice collecting wakes made outside polls and turns, while nothing else happens.
    outside: Option<usize>,
    /// Tasks spawned and not complete.
    live: u64,
    /// Tasks in the run queue.
    queued: u64,
    /// The latest time read: a record's, unless an earlier record's was later (time never
    /// goes back here, so no slice has a negative length).
    now: u64,
}

impl Builder {
    /// A builder that knows only the root, `#0`.
    fn new() -> Builder {
        let mut builder = Builder {
            tasks: Vec::new(),
            by_key: HashMap::new(),
            items: Vec::new(),
            flows: Vec::new(),
            poll: None,
            turn: None,
            outside: None,
            live: 0,
            queued: 0,
            now: 0,
        };
        builder.add_task(TaskKey::ROOT, None);
        builder.count(Counter::LiveTasks, 0);
        builder.count(Counter::RunQueue, 0);
        builder
    }

    /// Plays one record back.
    fn record(&mut self, at_ns: u64, event: Event) {
        self.now = self.now.max(at_ns);
        if !matches!(event, Event::Wake { .. }) {
            self.outside = None;
        }
        match event {
            Event::Spawn { task, location } => self.spawn(task, location),
            Event::Name { task, name } => {
                let id = self.resolve(task);
                self.tasks[id as usize].name = Some(name);
            }
            Event::PollStart { task } => self.poll_start(task),
            Event::PollEnd { task, result } => self.poll_end(task, result),
            Event::Wake { task, cause, queue } => self.wake(task, cause, queue),
            Event::Complete { task, outcome } => self.complete(task, outcome),
            Event::Park { wait_ns, reason } => self.park(wait_ns, reason),
            Event::Unpark { io_events, unparked } => self.unpark(io_events, unparked),
            Event::Abort { task } => {
                let subject = Some(self.resolve(task));
                self.mark(self.running_track(), event, subject);
            }
            Event::Waits { on: WaitOn::Join { task } } => {
                let subject = Some(self.resolve(task));
                self.mark(self.running_track(), event, subject);
            }
            Event::Waits { .. }
            | Event::TimerFired { .. }
            | Event::IoReady { .. }
            | Event::IoRegistered { .. }
            | Event::IoDeregistered { .. }
            | Event::ClockJump { .. }
            | Event::JobSubmitted { .. }
            | Event::JobFinished { .. } => self.mark(self.running_track(), event, None),
        }
    }

    /// Closes what the recording left open, at its last time.
    fn finish(&mut self) {
        self.outside = None;
        self.close_poll();
        self.close_turn();
    }

    /// A new task at `key`: the key names it from now on (the address may be a freed task's).
    fn add_task(&mut self, key: TaskKey, location: Option<&'static Location<'static>>) -> u32 {
        let id = u32::try_from(self.tasks.len()).unwrap_or(u32::MAX);
        self.tasks.push(Task {
            key,
            location,
            name: None,
            polls: 0,
            queued: false,
            woken_while_running: false,
            complete: false,
            pending: Vec::new(),
        });
        self.by_key.insert(key, id);
        id
    }

    /// The task `key` names now; one first seen after its spawn gets an id here.
    fn resolve(&mut self, key: TaskKey) -> u32 {
        match self.by_key.get(&key) {
            Some(&id) => id,
            None => self.add_task(key, None),
        }
    }

    /// The track of whoever runs now: the polled task, else the reactor (or the run loop).
    fn running_track(&self) -> Track {
        self.poll.map_or(Track::Reactor, |index| self.slice(index).track)
    }

    /// The slice at `index` of the items.
    fn slice(&self, index: usize) -> &Slice {
        match &self.items[index] {
            Item::Slice(slice) => slice,
            _ => unreachable!("open-slice indices only ever point at slices"),
        }
    }

    /// The slice at `index` of the items, to change.
    fn slice_mut(&mut self, index: usize) -> &mut Slice {
        match &mut self.items[index] {
            Item::Slice(slice) => slice,
            _ => unreachable!("open-slice indices only ever point at slices"),
        }
    }

    /// Starts a slice now, zero long; returns its index.
    fn open_slice(&mut self, track: Track, kind: SliceKind) -> usize {
        let (start_ns, end_ns) = (self.now, self.now);
        self.items.push(Item::Slice(Slice { track, start_ns, end_ns, kind }));
        self.items.len() - 1
    }

    /// Adds a mark now.
    fn mark(&mut self, track: Track, event: Event, subject: Option<u32>) {
        let at_ns = self.now;
        self.items.push(Item::Mark(Mark { track, at_ns, event, subject }));
    }

    /// Writes a counter's new value now.
    fn count(&mut self, counter: Counter, value: u64) {
        self.items.push(Item::Count { at_ns: self.now, counter, value });
    }

    /// `Spawn`: a new task and its track, a mark on the spawner's, and the task queued.
    fn spawn(&mut self, key: TaskKey, location: &'static Location<'static>) {
        let parent = self.running_track();
        let id = self.add_task(key, Some(location));
        self.mark(parent, Event::Spawn { task: key, location }, Some(id));
        self.live += 1;
        self.count(Counter::LiveTasks, self.live);
        self.enqueue(id);
    }

    /// `PollStart`: the poll's slice, then the ends of the arrows that led to it.
    fn poll_start(&mut self, key: TaskKey) {
        let id = self.resolve(key);
        self.close_poll();
        let task = &mut self.tasks[id as usize];
        task.polls += 1;
        let (polls, pending) = (task.polls, mem::take(&mut task.pending));
        let track = Track::Task(id);
        self.poll = Some(self.open_slice(track, SliceKind::Poll { polls, result: None }));
        for flow in pending {
            self.flows[flow].ended = true;
            self.items.push(Item::FlowEnd { track, at_ns: self.now, flow });
        }
        self.dequeue(id);
    }

    /// `PollEnd`: the poll's slice ends; a wake during it queues the task again.
    fn poll_end(&mut self, key: TaskKey, result: PollResult) {
        let id = self.resolve(key);
        let Some(index) = self.poll.filter(|&i| self.slice(i).track == Track::Task(id)) else {
            return; // its start was never seen
        };
        self.poll = None;
        let now = self.now;
        let slice = self.slice_mut(index);
        slice.end_ns = now;
        if let SliceKind::Poll { result: open, .. } = &mut slice.kind {
            *open = Some(result);
        }
        let task = &mut self.tasks[id as usize];
        if mem::take(&mut task.woken_while_running) && result == PollResult::Pending {
            self.enqueue(id);
        }
    }

    /// Ends the open poll now, if any, without a result (the recording lost its end).
    fn close_poll(&mut self) {
        if let Some(index) = self.poll.take() {
            let now = self.now;
            self.slice_mut(index).end_ns = now;
        }
    }

    /// `Wake`: a zero-length slice where it was made, and an arrow waiting for the next poll.
    fn wake(&mut self, key: TaskKey, cause: Cause, queue: Queue) {
        let id = self.resolve(key);
        let joined = match cause {
            Cause::Join { task } => Some(self.resolve(task)),
            _ => None,
        };
        let track = self.waker_track(cause);
        self.open_slice(track, SliceKind::Wake { task: id, cause, joined, queue });
        let flow = self.flows.len();
        self.flows.push(Flow { cause, joined, ended: false });
        self.items.push(Item::FlowStart { track, at_ns: self.now, flow });
        let task = &mut self.tasks[id as usize];
        if !task.complete {
            task.pending.push(flow);
        }
        match queue {
            Queue::Local | Queue::Remote => self.enqueue(id),
            Queue::WhileRunning => task.woken_while_running = true,
            Queue::AlreadyScheduled => {}
        }
    }

    /// The track a wake is drawn on, where some slice encloses it: the polled task's, the
    /// reactor's in a turn, else that of the slice collecting wakes outside both (the completed
    /// task's right after a `Complete`, else one opened here on the reactor's track).
    fn waker_track(&mut self, cause: Cause) -> Track {
        if let Some(index) = self.poll.or(self.turn) {
            return self.slice(index).track;
        }
        let now = self.now;
        let remote = cause == Cause::Remote;
        let index = match self.outside {
            Some(index) => index,
            None => self.open_slice(Track::Reactor, SliceKind::LoopWakes { all_remote: remote }),
        };
        self.outside = Some(index);
        let slice = self.slice_mut(index);
        slice.end_ns = now;
        if let SliceKind::LoopWakes { all_remote } = &mut slice.kind {
            *all_remote &= remote;
        }
        slice.track
    }

    /// `Complete`: the task's last slice; wakes right after it leave from it. Arrows waiting
    /// for its next poll are never ended, so never written.
    fn complete(&mut self, key: TaskKey, outcome: Outcome) {
        let id = self.resolve(key);
        let task = &mut self.tasks[id as usize];
        if mem::replace(&mut task.complete, true) {
            return;
        }
        task.pending.clear();
        self.dequeue(id); // a cancelled task leaves the queue without a poll
        self.outside = Some(self.open_slice(Track::Task(id), SliceKind::Complete { outcome }));
        if id != 0 {
            self.live = self.live.saturating_sub(1);
            self.count(Counter::LiveTasks, self.live);
        }
    }

    /// `Park`: a reactor turn begins.
    fn park(&mut self, wait_ns: Option<u64>, reason: WaitReason) {
        self.close_turn();
        let kind = SliceKind::Turn { wait_ns, reason, unpark: None };
        self.turn = Some(self.open_slice(Track::Reactor, kind));
    }

    /// `Unpark`: the turn ends, after its wakes.
    fn unpark(&mut self, io_events: u32, unparked: bool) {
        let Some(index) = self.turn.take() else { return };
        let now = self.now;
        let slice = self.slice_mut(index);
        slice.end_ns = now;
        if let SliceKind::Turn { unpark, .. } = &mut slice.kind {
            *unpark = Some((io_events, unparked));
        }
    }

    /// Ends the open turn now, if any, without its `Unpark`.
    fn close_turn(&mut self) {
        if let Some(index) = self.turn.take() {
            let now = self.now;
            self.slice_mut(index).end_ns = now;
        }
    }

    /// The task joins the run queue (the root never does: `block_on` polls it by a flag).
    fn enqueue(&mut self, id: u32) {
        let task = &mut self.tasks[id as usize];
        if id == 0 || task.complete || mem::replace(&mut task.queued, true) {
            return;
        }
        self.queued += 1;
        self.count(Counter::RunQueue, self.queued);
    }

    /// The task leaves the run queue, if it was in it.
    fn dequeue(&mut self, id: u32) {
        if mem::take(&mut self.tasks[id as usize].queued) {
            self.queued -= 1;
            self.count(Counter::RunQueue, self.queued);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: items → words → JSON.
// ---------------------------------------------------------------------------------------------

/// One event as written: the fields every phase shares, and those only some phases use.
struct TraceEvent<'a> {
    /// The phase: one letter saying what the event is.
    ph: char,
    /// What a viewer shows on the slice, mark, arrow or counter.
    name: &'a str,
    /// The category.
    cat: &'static str,
    /// The track (thread) in process [`PID`].
    tid: u64,
    /// When, in nanoseconds (written in microseconds); `None` for metadata, which has no time.
    ts_ns: Option<u64>,
    /// `X`: how long, in nanoseconds.
    dur_ns: Option<u64>,
    /// `s`, `f`: the arrow's id, the same on both ends.
    id: Option<usize>,
    /// `f`: `"e"` binds it to the slice enclosing it.
    bp: Option<&'static str>,
    /// `i`: `"t"` marks a thread, `"g"` the whole trace.
    scope: Option<&'static str>,
    /// Shown when the event is selected.
    args: &'a [(&'static str, Arg)],
}

impl<'a> TraceEvent<'a> {
    /// An event of phase `ph` on the reactor's track, with only its name and category.
    fn new(ph: char, name: &'a str, cat: &'static str) -> TraceEvent<'a> {
        TraceEvent {
            ph,
            name,
            cat,
            tid: REACTOR_TID,
            ts_ns: None,
            dur_ns: None,
            id: None,
            bp: None,
            scope: None,
            args: &[],
        }
    }
}

/// A value in `args`.
enum Arg {
    /// A string (escaped when written).
    Text(String),
    /// A whole number.
    Int(u64),
    /// A flag.
    Bool(bool),
}

/// Writes the events of the `traceEvents` array, commas between them.
struct EventWriter<W: Write> {
    /// Where the JSON goes.
    out: W,
    /// Whether no event was written yet (no comma before it).
    first: bool,
}

impl<W: Write> EventWriter<W> {
    /// Writes one event on a line of its own: its name first, its args last.
    fn event(&mut self, event: &TraceEvent<'_>) -> io::Result<()> {
        let out = &mut self.out;
        out.write_all(if mem::take(&mut self.first) { b"\n" } else { b",\n" })?;
        out.write_all(b"{\"name\":")?;
        write_str(out, event.name)?;
        if !event.cat.is_empty() {
            write!(out, ",\"cat\":\"{}\"", event.cat)?;
        }
        write!(out, ",\"ph\":\"{}\"", event.ph)?;
        if let Some(ts_ns) = event.ts_ns {
            write!(out, ",\"ts\":{}", decimal(ts_ns, 1_000))?;
        }
        if let Some(dur_ns) = event.dur_ns {
            write!(out, ",\"dur\":{}", decimal(dur_ns, 1_000))?;
        }
        write!(out, ",\"pid\":{PID},\"tid\":{}", event.tid)?;
        if let Some(id) = event.id {
            write!(out, ",\"id\":{id}")?;
        }
        if let Some(bp) = event.bp {
            write!(out, ",\"bp\":\"{bp}\"")?;
        }
        if let Some(scope) = event.scope {
            write!(out, ",\"s\":\"{scope}\"")?;
        }
        if !event.args.is_empty() {
            write_args(out, event.args)?;
        }
        out.write_all(b"}")
    }
}

/// Writes `"args":{...}`.
fn write_args(out: &mut impl Write, args: &[(&'static str, Arg)]) -> io::Result<()> {
    out.write_all(b",\"args\":{")?;
    for (i, (key, value)) in args.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_str(out, key)?;
        out.write_all(b":")?;
        match value {
            Arg::Text(text) => write_str(out, text)?,
            Arg::Int(n) => write!(out, "{n}")?,
            Arg::Bool(b) => write!(out, "{b}")?,
        }
    }
    out.write_all(b"}")
}

/// Writes `s` as a JSON string. JSON requires escaping quotes, backslashes and control
/// characters, and nothing else: those get their short form where JSON has one (`\n`), else
/// `\u00XX`.
fn write_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let mut plain = 0; // start of the run of characters that need no escape
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            c if c < ' ' => None,
            _ => continue,
        };
        out.write_all(&s.as_bytes()[plain..i])?;
        match escape {
            Some(escape) => out.write_all(escape.as_bytes())?,
            None => write!(out, "\\u{:04x}", u32::from(c))?,
        }
        plain = i + c.len_utf8();
    }
    out.write_all(&s.as_bytes()[plain..])?;
    out.write_all(b"\"")
}

/// The `M` events: the process's name, and each track's name and place.
fn write_metadata<W: Write>(writer: &mut EventWriter<W>, words: &Words<'_>) -> io::Result<()> {
    let name = [("name", Arg::Text("cashier".into()))];
    writer.event(&TraceEvent { args: &name, ..TraceEvent::new('M', "process_name", "") })?;
    let ids = 0..u32::try_from(words.tasks.len()).unwrap_or(u32::MAX);
    let tracks = std::iter::once(Track::Reactor).chain(ids.map(Track::Task));
    for (sort_index, track) in (0..).zip(tracks) {
        let label = match track {
            Track::Reactor => "reactor".to_owned(),
            Track::Task(id) => words.task(id),
        };
        let name = [("name", Arg::Text(label))];
        let event = TraceEvent { tid: track.tid(), ..TraceEvent::new('M', "thread_name", "") };
        writer.event(&TraceEvent { args: &name, ..event })?;
        let index = [("sort_index", Arg::Int(sort_index))];
        writer.event(&TraceEvent { args: &index, ph: 'M', name: "thread_sort_index", ..event })?;
    }
    Ok(())
}

/// Writes one item: a slice, a mark, an arrow's end or a counter.
fn write_item<W: Write>(
    writer: &mut EventWriter<W>,
    words: &Words<'_>,
    flows: &[Flow],
    item: &Item,
) -> io::Result<()> {
    match item {
        Item::Slice(slice) => {
            let (name, cat, args) = words.slice(slice);
            let event = TraceEvent {
                tid: slice.track.tid(),
                ts_ns: Some(slice.start_ns),
                dur_ns: Some(slice.end_ns.saturating_sub(slice.start_ns)),
                args: &args,
                ..TraceEvent::new('X', &name, cat)
            };
            writer.event(&event)
        }
        Item::Mark(mark) => {
            let (name, cat, args) = words.mark(mark);
            let event = TraceEvent {
                tid: mark.track.tid(),
                ts_ns: Some(mark.at_ns),
                scope: Some("t"),
                args: &args,
                ..TraceEvent::new('i', &name, cat)
            };
            writer.event(&event)
        }
        Item::FlowStart { track, at_ns, flow } | Item::FlowEnd { track, at_ns, flow } => {
            let end = matches!(item, Item::FlowEnd { .. });
            if !flows[*flow].ended {
                return Ok(()); // no poll followed the wake: no arrow
            }
            let name = words.cause(flows[*flow].cause, flows[*flow].joined);
            let event = TraceEvent {
                tid: track.tid(),
                ts_ns: Some(*at_ns),
                id: Some(flow + 1),
                bp: end.then_some("e"),
                ..TraceEvent::new(if end { 'f' } else { 's' }, &name, "wake")
            };
            writer.event(&event)
        }
        Item::Count { at_ns, counter, value } => {
            let name = match counter {
                Counter::LiveTasks => "live tasks",
                Counter::RunQueue => "run queue",
            };
            let args = [("count", Arg::Int(*value))];
            let event =
                TraceEvent { ts_ns: Some(*at_ns), args: &args, ..TraceEvent::new('C', name, "") };
            writer.event(&event)
        }
    }
}

/// Puts items into words: names, categories and args.
struct Words<'r> {
    /// Every task, by id.
    tasks: &'r [Task],
    /// The recording's names.
    names: &'r [Box<str>],
}

impl Words<'_> {
    /// `#2 names`, `#2 at src/x.rs:12`, or `#0 main`.
    fn task(&self, id: u32) -> String {
        let task = &self.tasks[id as usize];
        let name = task.name.and_then(|name| self.names.get(name as usize));
        match (id, name, task.location) {
            (0, _, _) => "#0 main".to_owned(),
            (_, Some(name), _) => format!("#{id} {name}"),
            (_, None, Some(at)) => format!("#{id} at {}:{}", at.file(), at.line()),
            (_, None, None) => format!("#{id} (key {:?}, spawned before the recording)", task.key),
        }
    }

    /// A slice's name, category and args.
    fn slice(&self, slice: &Slice) -> (String, &'static str, Vec<(&'static str, Arg)>) {
        match slice.kind {
            SliceKind::Poll { polls, result } => {
                let result = match result {
                    Some(PollResult::Pending) => "pending",
                    Some(PollResult::Ready) => "ready",
                    Some(PollResult::Panicked) => "panicked",
                    None => "unfinished (its end was not recorded)",
                };
                let args =
                    vec![("result", Arg::Text(result.into())), ("polls", Arg::Int(polls.into()))];
                ("poll".into(), "poll", args)
            }
            SliceKind::Turn { wait_ns, reason, unpark } => {
                let mut args = vec![("reason", Arg::Text(reason_text(reason)))];
                if let Some((io_events, unparked)) = unpark {
                    args.push(("io_events", Arg::Int(io_events.into())));
                    args.push(("unparked", Arg::Bool(unparked)));
                }
                (turn_name(wait_ns, reason), "reactor", args)
            }
            SliceKind::Wake { task, cause, joined, queue } => {
                let args = vec![
                    ("cause", Arg::Text(self.cause(cause, joined))),
                    ("queue", Arg::Text(queue_text(queue).into())),
                ];
                (format!("wake {}", self.task(task)), "wake", args)
            }
            SliceKind::Complete { outcome } => {
                let outcome = match outcome {
                    Outcome::Returned => "returned",
                    Outcome::Panicked => "panicked",
                    Outcome::Cancelled => "cancelled",
                };
                (format!("complete: {outcome}"), "task", Vec::new())
            }
            SliceKind::LoopWakes { all_remote: true } => {
                ("remote wakes".into(), "wake", Vec::new())
            }
            SliceKind::LoopWakes { all_remote: false } => {
                ("run-loop wakes".into(), "wake", Vec::new())
            }
        }
    }

    /// A mark's name, category and args.
    fn mark(&self, mark: &Mark) -> (String, &'static str, Vec<(&'static str, Arg)>) {
        let subject = mark.subject.map(|id| self.task(id));
        let subject = subject.unwrap_or_default();
        match mark.event {
            Event::Spawn { location, .. } => {
                let at = format!("{}:{}", location.file(), location.line());
                (format!("spawn {subject}"), "task", vec![("at", Arg::Text(at))])
            }
            Event::Abort { .. } => (format!("abort {subject}"), "task", Vec::new()),
            Event::Waits { on } => {
                (format!("waits on {}", self.wait_on(on, mark.subject)), "wait", Vec::new())
            }
            Event::TimerFired { timer, deadline_ns } => {
                let due = vec![("deadline", Arg::Text(seconds(deadline_ns)))];
                (format!("timer #{timer} fired"), "timer", due)
            }
            Event::IoReady { fd, read, write } => {
                let ways = match (read, write) {
                    (true, true) => "readable, writable",
                    (true, false) => "readable",
                    (false, true) => "writable",
                    (false, false) => "ready",
                };
                (format!("fd {fd} {ways}"), "io", Vec::new())
            }
            Event::IoRegistered { fd } => (format!("fd {fd} registered"), "io", Vec::new()),
            Event::IoDeregistered { fd } => (format!("fd {fd} deregistered"), "io", Vec::new()),
            Event::ClockJump { to_ns } => {
                (format!("clock jumps to {}", seconds(to_ns)), "clock", Vec::new())
            }
            Event::JobSubmitted { job } => (format!("job {job} submitted"), "job", Vec::new()),
            Event::JobFinished { job, ran_ns } => {
                (format!("job {job} finished (ran {})", duration(ran_ns)), "job", Vec::new())
            }
            // The builder draws these as slices or reads them as state, never as marks.
            _ => (format!("{:?}", mark.event), "", Vec::new()),
        }
    }

    /// What a future waits on: `timer #5 (due 0.734 s)`, `fd 7 readable`, `join #3`, ...
    fn wait_on(&self, on: WaitOn, joined: Option<u32>) -> String {
        match on {
            WaitOn::Timer { timer, deadline_ns } => {
                format!("timer #{timer} (due {})", seconds(deadline_ns))
            }
            WaitOn::Io { fd, direction } => format!("fd {fd} {}", direction_text(direction)),
            WaitOn::Job { job } => format!("job {job}"),
            WaitOn::Primitive(primitive) => primitive_text(primitive).to_owned(),
            WaitOn::Join { .. } => format!("join {}", self.short(joined)),
        }
    }

    /// An arrow's name, from its cause: `timer #5`, `fd 7 readable`, `channel`, `join #3`, ...
    fn cause(&self, cause: Cause, joined: Option<u32>) -> String {
        match cause {
            Cause::Direct => "direct".into(),
            Cause::Timer { timer, .. } => format!("timer #{timer}"),
            Cause::Io { fd, direction } => format!("fd {fd} {}", direction_text(direction)),
            Cause::Remote => "remote".into(),
            Cause::HandOff(primitive) => primitive_text(primitive).into(),
            Cause::Join { .. } => format!("join {}", self.short(joined)),
            Cause::Yield => "yield".into(),
        }
    }

    /// `#3`, or `#?` if the task is unknown.
    fn short(&self, id: Option<u32>) -> String {
        id.map_or_else(|| "#?".into(), |id| format!("#{id}"))
    }
}

/// A turn's name: what the reactor did.
fn turn_name(wait_ns: Option<u64>, reason: WaitReason) -> String {
    let wait = |why: &str| match wait_ns {
        Some(ns) => format!("wait {} ({why})", duration(ns)),
        None => format!("wait ({why})"),
    };
    match reason {
        WaitReason::Busy => "look, no wait (tasks ready)".into(),
        WaitReason::NextTimer { .. } => wait("next timer"),
        WaitReason::Idle => wait("idle"),
        WaitReason::Job => "wait for job (paused clock)".into(),
        WaitReason::PausedJump { to_ns } => format!("clock jump to {}", seconds(to_ns)),
    }
}

/// Why a turn waited as long as it did.
fn reason_text(reason: WaitReason) -> String {
    match reason {
        WaitReason::Busy => "tasks ready: only a look at the OS".into(),
        WaitReason::NextTimer { deadline_ns } => {
            format!("next timer, due {}", seconds(deadline_ns))
        }
        WaitReason::Idle => "idle: no timer armed".into(),
        WaitReason::Job => "paused clock, a to_thread job in flight".into(),
        WaitReason::PausedJump { to_ns } => {
            format!("paused clock: jump to the next timer, at {}", seconds(to_ns))
        }
    }
}

/// What a wake did with the task.
fn queue_text(queue: Queue) -> &'static str {
    match queue {
        Queue::Local => "pushed on the local run queue",
        Queue::Remote => "moved from the remote queue",
        Queue::WhileRunning => "flagged while running: queued again when its poll returns",
        Queue::AlreadyScheduled => "already scheduled: nothing to do",
    }
}

/// `readable` or `writable`.
fn direction_text(direction: Direction) -> &'static str {
    match direction {
        Direction::Read => "readable",
        Direction::Write => "writable",
    }
}

/// A primitive's name.
fn primitive_text(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Channel => "channel",
        Primitive::Oneshot => "oneshot",
        Primitive::Semaphore => "semaphore",
        Primitive::Event => "event",
        Primitive::Mutex => "mutex",
    }
}

/// A length of time in the unit that suits it: `300 ns`, `20 µs`, `734 ms`, `1.5 s`.
fn duration(ns: u64) -> String {
    let (unit, scale) = match ns {
        0..1_000 => ("ns", 1),
        1_000..1_000_000 => ("µs", 1_000),
        1_000_000..1_000_000_000 => ("ms", 1_000_000),
        _ => ("s", 1_000_000_000),
    };
    format!("{} {unit}", decimal(ns, scale))
}

/// A time on the runtime's clock, in seconds, to the millisecond at least: `0.734 s`.
fn seconds(ns: u64) -> String {
    let fraction = format!("{:09}", ns % 1_000_000_000);
    let digits = fraction.trim_end_matches('0').len().max(3);
    format!("{}.{} s", ns / 1_000_000_000, &fraction[..digits])
}

/// `value / scale` (a power of ten) exactly, with no trailing zeros: `decimal(1_500, 1_000)` is
/// `1.5`, `decimal(734_000_125, 1_000)` is `734000.125`.
fn decimal(value: u64, scale: u64) -> String {
    let (whole, fraction) = (value / scale, value % scale);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = scale.ilog10() as usize;
    let fraction = format!("{fraction:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}
