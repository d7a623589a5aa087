//! Pass 1 of the Perfetto view: the records played back into tracks, slices, marks, arrows and
//! counters (the items of `items.rs`).
//!
//! The [`Builder`] replays the run loop: which poll and which reactor turn are open, which
//! tasks are queued, which arrows wait for which poll. The rules it follows are the mapping in
//! `mod.rs`.
//!
//! # Invariants
//!
//! - **One pass, in record order**, like every view: a key names the task of its latest
//!   `Spawn` ([`TaskBook`]), and a task's id is its book index, so `#3` here is `#3` in the
//!   other views whenever every task's spawn was recorded.
//! - `poll`, `turn` and `outside` point only at slices of `items` (see [`Builder::slice`]).
//! - `tasks` is as long as the book once a record is played (`known` grows it).
//! - The `run queue` counter is the length [`RunQueue`] plays back, written each time it
//!   changes; the counters never go below zero.

use std::mem;
use std::panic::Location;

use super::items::{Counter, Flow, Item, Mark, Slice, SliceKind, Track};
use crate::event::{Cause, Event, Outcome, PollResult, Queue, TaskKey, WaitOn, WaitReason};
use crate::views::run_queue::RunQueue;
use crate::views::task_book::TaskBook;
use crate::views::turn::{ArmedTimers, Turn};

/// What the builder knows of one task beside its entry in the [`TaskBook`] (key, name, where
/// it was spawned): one `Spawn` (a reused address starts a new one).
#[derive(Default)]
struct Task {
    /// Polls begun so far.
    polls: u32,
    /// Completed: nothing polls it again.
    complete: bool,
    /// The arrows (indices into the flows) that its next poll ends.
    pending: Vec<usize>,
}

/// Walks the records in order and builds the items. It plays the run loop back: which poll
/// and which turn are open, which tasks are queued, which arrows wait for which poll.
pub(super) struct Builder {
    /// Every task seen, by id: its number, name, and where it was spawned.
    pub(super) book: TaskBook,
    /// What is known of each task of the book, by the same id.
    tasks: Vec<Task>,
    /// What to write, in order.
    pub(super) items: Vec<Item>,
    /// Every arrow started.
    pub(super) flows: Vec<Flow>,
    /// The open poll's slice (an index into `items`).
    poll: Option<usize>,
    /// The open reactor turn's slice.
    turn: Option<usize>,
    /// The slice collecting wakes made outside polls and turns, while nothing else happens.
    outside: Option<usize>,
    /// The timers tasks wait on: whether a turn's wait ends at a timer or at a wheel slot.
    timers: ArmedTimers,
    /// Tasks spawned and not complete.
    live: u64,
    /// Which tasks are in the run queue.
    run_queue: RunQueue,
    /// The latest time read: a record's, unless an earlier record's was later (time never
    /// goes back here, so no slice has a negative length).
    pub(super) now: u64,
}

impl Builder {
    /// A builder that knows only the root, `#0`.
    pub(super) fn new() -> Builder {
        let mut builder = Builder {
            book: TaskBook::new(),
            tasks: vec![Task::default()],
            items: Vec::new(),
            flows: Vec::new(),
            poll: None,
            turn: None,
            outside: None,
            timers: ArmedTimers::new(),
            live: 0,
            run_queue: RunQueue::new(),
            now: 0,
        };
        builder.count(Counter::LiveTasks, 0);
        builder.count(Counter::RunQueue, 0);
        builder
    }

    /// Plays one record back (`names`: the recording's).
    pub(super) fn record(&mut self, at_ns: u64, event: Event, names: &[Box<str>]) {
        self.now = self.now.max(at_ns);
        self.timers.see(&event, self.polled());
        if let Some(index) = self.turn
            && let SliceKind::Turn { turn, .. } = &mut self.slice_mut(index).kind
        {
            turn.see(&event); // what the turn did, as its records come
        }
        if !matches!(event, Event::Wake { .. }) {
            self.outside = None;
        }
        match event {
            Event::Spawn { task, location } => self.spawn(task, location),
            Event::Name { task, name } => match names.get(name as usize) {
                Some(name) => self.book.name(task, name),
                None => {
                    self.resolve(task); // a name the recording lost: the task stays unnamed
                }
            },
            Event::PollStart { task } => self.poll_start(task),
            Event::PollEnd { task, result, .. } => self.poll_end(task, result),
            Event::Wake { task, cause, queue } => self.wake(task, cause, queue),
            Event::Complete { task, outcome } => self.complete(task, outcome),
            Event::Park { wait_ns, reason } => self.park(wait_ns, reason),
            Event::Unpark { io_events, unparked } => self.unpark(io_events, unparked),
            Event::Abort { task } => {
                let id = self.resolve(task);
                self.run_queue.aborted(id as usize); // not queued again after its poll
                self.mark(self.running_track(), event, Some(id));
            }
            Event::Waits { on: WaitOn::Join { task } } => {
                let subject = Some(self.resolve(task));
                self.mark(self.running_track(), event, subject);
            }
            // What became of a result is for the debug checks (`diagnose`), not for the trace.
            Event::OutputTaken { .. } | Event::HandleDropped { .. } => {}
            Event::Waits { .. }
            | Event::Panicked { .. }
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
    pub(super) fn finish(&mut self) {
        self.outside = None;
        self.close_poll();
        self.close_turn();
    }

    /// The task `key` names now; one first seen after its spawn gets an id here.
    fn resolve(&mut self, key: TaskKey) -> u32 {
        let id = self.book.resolve(key);
        self.known(id)
    }

    /// `id` as a track's task id, with a [`Task`] beside its book entry.
    fn known(&mut self, id: usize) -> u32 {
        self.tasks.resize_with(self.book.len(), Task::default);
        u32::try_from(id).unwrap_or(u32::MAX)
    }

    /// The task polled now, if any (its book index).
    fn polled(&self) -> Option<usize> {
        match self.poll.map(|index| self.slice(index).track) {
            Some(Track::Task(id)) => Some(id as usize),
            _ => None,
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
        let id = self.book.spawned_at(key, location);
        let id = self.known(id);
        self.mark(parent, Event::Spawn { task: key, location }, Some(id));
        self.live += 1;
        self.count(Counter::LiveTasks, self.live);
        let queued = self.run_queue.spawned(id as usize);
        self.count_queue(queued);
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
        let popped = self.run_queue.poll_start(id as usize);
        self.count_queue(popped);
    }

    /// `PollEnd`: the poll's slice ends; a wake during it queues the task again. The root's
    /// `Ready` is its end (`block_on` returns, and no `Complete` is reported for it).
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
        let requeued = self.run_queue.poll_end(id as usize, result);
        self.count_queue(requeued);
        if id == 0 && result == PollResult::Ready {
            self.root_returned();
        }
    }

    /// The `block_on` future returned: its track ends with a slice of its own, as a spawned
    /// task's ends with its `Complete`, and the wakes its drop makes right after (a sender
    /// dropped, say) leave from that slice. Its timers are gone with it.
    fn root_returned(&mut self) {
        self.timers.forget(0);
        let end = SliceKind::Complete { outcome: Outcome::Returned };
        self.outside = Some(self.open_slice(Track::Task(0), end));
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
        let queued = self.run_queue.woken(id as usize, queue);
        self.count_queue(queued);
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
        self.timers.forget(id as usize);
        let left = self.run_queue.completed(id as usize); // a cancelled task leaves unpolled
        self.count_queue(left);
        self.outside = Some(self.open_slice(Track::Task(id), SliceKind::Complete { outcome }));
        if id != 0 {
            self.live = self.live.saturating_sub(1);
            self.count(Counter::LiveTasks, self.live);
        }
    }

    /// `Park`: a reactor turn begins.
    fn park(&mut self, wait_ns: Option<u64>, reason: WaitReason) {
        self.close_turn();
        let turn = Turn::park(wait_ns, reason, &self.timers, self.run_queue.ready());
        let kind = SliceKind::Turn { turn, unpark: None };
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

    /// Writes the run queue's length now, if it `changed`.
    fn count_queue(&mut self, changed: bool) {
        if changed {
            self.count(Counter::RunQueue, self.run_queue.len());
        }
    }
}
