//! Pass 2's first step: the items put into words, the names, categories and args a trace
//! viewer shows.
//!
//! # Invariants
//!
//! - A task is named the same on its track, its marks and the wakes that name it (`#2 names`,
//!   `#2 at src/x.rs:12`, `#0 main`); its id is its [`TaskBook`] index.
//! - An arrow is named by its cause the same at both ends (`timer #5`, `fd 7 readable`), so a
//!   viewer pairs them by id and a reader by name.
//! - Times are exact to the nanosecond (`0.734015 s`): the trace is for measuring.

use super::items::{Mark, Slice, SliceKind, Track};
use super::json::Arg;
use crate::event::{Cause, ChannelNews, Event, PollResult, Primitive, Queue, WaitOn};
use crate::views::task_book::TaskBook;
use crate::views::turn::{Because, TurnDid};
use crate::views::words::{
    direction_word, duration_short, outcome_word, ready_words, seconds_exact,
};

/// Puts items into words: names, categories and args.
pub(super) struct Words<'r> {
    /// Every task, by id.
    pub(super) tasks: &'r TaskBook,
}

impl Words<'_> {
    /// `#2 names`, `#2 at src/x.rs:12`, or `#0 main`.
    pub(super) fn task(&self, id: u32) -> String {
        let task = id as usize;
        match (id, self.tasks.name_of(task), self.tasks.location(task)) {
            (0, _, _) => "#0 main".to_owned(),
            (_, Some(name), _) => format!("#{id} {name}"),
            (_, None, Some(at)) => format!("#{id} at {}:{}", at.file(), at.line()),
            (_, None, None) => {
                format!("#{id} (key {:?}, spawned before the recording)", self.tasks.key(task))
            }
        }
    }

    /// A slice's name, category and args.
    pub(super) fn slice(&self, slice: &Slice) -> (String, &'static str, Vec<(&'static str, Arg)>) {
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
            SliceKind::Turn { turn, unpark } => {
                let mut args = vec![("reason", Arg::Text(reason_text(turn.did())))];
                if let TurnDid::Looked(ready) = turn.did() {
                    args.push(("queued", Arg::Int(ready.queued)));
                    args.push(("main_woken", Arg::Bool(ready.main_woken)));
                }
                if let Some((io_events, unparked)) = unpark {
                    args.push(("io_events", Arg::Int(io_events.into())));
                    args.push(("unparked", Arg::Bool(unparked)));
                }
                (turn_name(turn.wait_ns, turn.did()), "reactor", args)
            }
            SliceKind::Wake { task, cause, joined, queue } => {
                let args = vec![
                    ("cause", Arg::Text(self.cause(cause, joined))),
                    ("queue", Arg::Text(queue_text(queue).into())),
                ];
                (format!("wake {}", self.task(task)), "wake", args)
            }
            SliceKind::Complete { .. } if slice.track == Track::Task(0) => {
                ("block_on returns".into(), "task", Vec::new())
            }
            SliceKind::Complete { outcome } => {
                (format!("complete: {}", outcome_word(outcome)), "task", Vec::new())
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
    pub(super) fn mark(&self, mark: &Mark) -> (String, &'static str, Vec<(&'static str, Arg)>) {
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
                let due = vec![("deadline", Arg::Text(seconds_exact(deadline_ns)))];
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
                (format!("clock jumps to {}", seconds_exact(to_ns)), "clock", Vec::new())
            }
            Event::JobSubmitted { job } => (format!("job {job} submitted"), "job", Vec::new()),
            Event::JobFinished { job, ran_ns } => {
                (format!("job {job} finished (ran {})", duration_short(ran_ns)), "job", Vec::new())
            }
            // The builder draws these as slices or reads them as state, never as marks.
            _ => (format!("{:?}", mark.event), "", Vec::new()),
        }
    }

    /// What a future waits on: `timer #5 (due 0.734 s)`, `fd 7 readable`, `join #3`, ...
    fn wait_on(&self, on: WaitOn, joined: Option<u32>) -> String {
        match on {
            WaitOn::Timer { timer, deadline_ns } => {
                format!("timer #{timer} (due {})", seconds_exact(deadline_ns))
            }
            WaitOn::Io { fd, direction } => format!("fd {fd} {}", direction_word(direction)),
            WaitOn::Job { job } => format!("job {job}"),
            WaitOn::Primitive(primitive) => primitive_text(primitive).to_owned(),
            WaitOn::Join { .. } => format!("join {}", self.short(joined)),
        }
    }

    /// An arrow's name, from its cause: `timer #5`, `fd 7 readable`, `channel slot`, `join #3`, ...
    pub(super) fn cause(&self, cause: Cause, joined: Option<u32>) -> String {
        match cause {
            Cause::Direct => "direct".into(),
            Cause::Timer { timer, .. } => format!("timer #{timer}"),
            Cause::Io { fd, direction } => format!("fd {fd} {}", direction_word(direction)),
            Cause::Remote => "remote".into(),
            Cause::HandOff(primitive) => primitive_text(primitive).into(),
            Cause::Join { .. } => format!("join {}", self.short(joined)),
            Cause::Yield => "yield".into(),
            Cause::Budget => "budget spent".into(),
            Cause::Abort => "abort".into(),
        }
    }

    /// `#3`, or `#?` if the task is unknown.
    fn short(&self, id: Option<u32>) -> String {
        id.map_or_else(|| "#?".into(), |id| format!("#{id}"))
    }
}

/// A turn's name: what the reactor did.
fn turn_name(wait_ns: Option<u64>, did: TurnDid) -> String {
    let wait = |why: &str| match wait_ns {
        Some(ns) => format!("wait {} ({why})", duration_short(ns)),
        None => format!("wait ({why})"),
    };
    match did {
        TurnDid::Looked(ready) => match ready_words(ready) {
            Some(ready) => format!("look, no wait (tasks ready: {ready})"),
            None => "look, no wait (tasks ready)".into(),
        },
        TurnDid::WaitedForTimer { .. } => wait("next timer"),
        TurnDid::WaitedForSlot { .. } => wait("wheel slot"),
        TurnDid::WaitedIdle => wait("idle"),
        TurnDid::WaitedForJob => "wait for job (paused clock)".into(),
        TurnDid::Jumped { to_ns } => format!("clock jump to {}", seconds_exact(to_ns)),
        TurnDid::DidNotJump(Because::IoReady) => "look, no jump (I/O ready)".into(),
        TurnDid::DidNotJump(Because::Unparked) => {
            "look, no jump (woken from another thread)".into()
        }
        TurnDid::DidNotJump(Because::Unknown) => "look, no jump".into(),
        TurnDid::NoJumpYet { .. } => "look before a jump (unfinished)".into(),
    }
}

/// Why a turn waited as long as it did, or why the paused clock did or did not jump.
fn reason_text(did: TurnDid) -> String {
    match did {
        TurnDid::Looked(ready) => match ready_words(ready) {
            Some(ready) => format!("tasks ready ({ready}): only a look at the OS"),
            None => "tasks ready: only a look at the OS".into(),
        },
        TurnDid::WaitedForTimer { deadline_ns } => {
            format!("next timer, due {}", seconds_exact(deadline_ns))
        }
        TurnDid::WaitedForSlot { slot_ns } => {
            format!(
                "a timing-wheel slot comes due at {}; no timer due then",
                seconds_exact(slot_ns)
            )
        }
        TurnDid::WaitedIdle => "idle: no timer armed".into(),
        TurnDid::WaitedForJob => "paused clock, a to_thread job in flight".into(),
        TurnDid::Jumped { to_ns } => {
            format!("paused clock: jump to the next timer, at {}", seconds_exact(to_ns))
        }
        TurnDid::DidNotJump(Because::IoReady) => {
            "paused clock: I/O was ready, so the clock did not jump".into()
        }
        TurnDid::DidNotJump(Because::Unparked) => {
            "paused clock: another thread woke the runtime, so the clock did not jump".into()
        }
        TurnDid::DidNotJump(Because::Unknown) => {
            "paused clock: the turn ended without a jump".into()
        }
        TurnDid::NoJumpYet { planned_ns } => format!(
            "paused clock: to jump to the wheel's next expiration, {}, unless I/O is ready; the \
             recording ends first",
            seconds_exact(planned_ns)
        ),
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

/// A primitive's name.
fn primitive_text(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Channel(ChannelNews::Message) => "channel message",
        Primitive::Channel(ChannelNews::Slot) => "channel slot",
        Primitive::Channel(ChannelNews::Ended) => "channel ended",
        Primitive::Channel(ChannelNews::Closed) => "channel closed",
        Primitive::Oneshot => "oneshot",
        Primitive::Semaphore => "semaphore",
        Primitive::Event => "event",
        Primitive::Mutex => "mutex",
    }
}
