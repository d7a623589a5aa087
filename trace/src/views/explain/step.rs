//! One record's line: what the narrator learns from each event, and what it says of it.
//!
//! Every function here takes one record's fields and returns its line, or `None` when the
//! record says nothing on its own (see the rules in `mod.rs`); a line that must wait for the
//! next record is put in `self.held` instead. The narrator's state changes only here, in
//! `narrate`'s timer bookkeeping (`mod.rs`), and in the merging of held lines.

use super::{Held, Narrator, line, poll_result};
use crate::event::{
    Cause, ChannelNews, Event, Outcome, PollResult, Primitive, Queue, Record, TaskKey, WaitOn,
    WaitReason,
};
use crate::views::task_book::{TaskBook, name_at};
use crate::views::turn::{Because, Turn, TurnDid};
use crate::views::words::{
    direction_word, millis, outcome_word, ready_words, seconds, wait_on_words, waits_word,
};

impl Narrator {
    /// Learns from one record; returns its line, or holds one in `self.held`.
    pub(super) fn step(&mut self, record: &Record, names: &[Box<str>]) -> Option<String> {
        let at = record.at_ns;
        match record.event {
            Event::Spawn { task, location } => {
                let parent = self.waiting.polled();
                let task = self.tasks.spawn(task);
                self.run_queue.spawned(task);
                self.held = Some(Held::Spawn { at, task, location, parent });
                None
            }
            Event::Name { task, name } => {
                self.tasks.name(task, name_at(names, name));
                None
            }
            Event::PollStart { task } => {
                let task = self.tasks.resolve(task);
                self.waiting.poll_start(task);
                None
            }
            Event::Waits { on } => {
                self.waiting.reported(on);
                None
            }
            Event::Wake { task, cause, queue } => self.wake(at, task, cause, queue),
            Event::PollEnd { task, result, .. } => self.poll_end(at, task, result),
            Event::Abort { task } => {
                let task = self.tasks.resolve(task);
                let by = self.waiting.polled();
                let when = self.run_queue.aborted(task);
                self.held = Some(Held::Abort { at, task, by, when });
                None
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
        if self.waiting.woke_itself(task, cause) {
            return None;
        }
        let target = self.tasks.label(task);
        let queue = queue_words(queue);
        let actor = self.waiting.polled().map(|polled| self.tasks.label(polled));
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
                None => format!("{} -> wake {target} ({queue})", handed_word(primitive)),
            },
            Cause::Join { task: done } => {
                let done = self.label_of(done);
                format!("{done} finished -> wake {target} (its JoinHandle; {queue})")
            }
            Cause::Yield => format!("{target} yields -> back of the queue"),
            Cause::Budget => format!("{target} spent its budget -> back of the queue"),
            Cause::Abort => format!("wake {target} ({queue}) to drop it: aborted"),
            Cause::Direct => match actor {
                Some(actor) => format!("{actor} wakes {target} ({queue})"),
                None => format!("wake {target} ({queue})"),
            },
        };
        self.waiting.answered(task, cause); // what is left, it still waits on
        Some(line(at, text))
    }

    /// The `to_thread` job `task` waited on when it last returned `Pending`, if any.
    fn job_awaited(&self, task: usize) -> Option<u64> {
        self.waiting.of(task)?.iter().find_map(|on| match on {
            WaitOn::Job { job } => Some(*job),
            _ => None,
        })
    }

    /// A poll ended: its outcome with what the task now waits on.
    fn poll_end(&mut self, at: u64, key: TaskKey, result: PollResult) -> Option<String> {
        let task = self.tasks.resolve(key);
        let poll = self.waiting.poll_end(task);
        let label = self.tasks.label(task);
        let (waits, woke_itself, completed) = match poll {
            Some(poll) => (poll.waits, poll.woke_itself, poll.completed),
            None => (Vec::new(), None, None),
        };
        match result {
            PollResult::Pending => {
                let carried = self.waiting.of(task).filter(|_| waits.is_empty()).map(<[_]>::to_vec);
                let text = match (woke_itself, carried) {
                    (Some(Cause::Yield), _) => "yields, back of the queue".to_string(),
                    (Some(Cause::Budget), _) => {
                        "budget spent (128 ready operations), back of the queue".to_string()
                    }
                    (Some(_), _) => "woke itself, back of the queue".to_string(),
                    // A combinator polls only the child that woke it: the rest still wait, on
                    // what they reported at their last poll.
                    (None, Some(carried)) if !carried.is_empty() => {
                        format!("still {}", self.waits_words(&carried))
                    }
                    (None, _) => self.waits_words(&waits),
                };
                if !waits.is_empty() || woke_itself.is_some() {
                    self.waiting.set(task, waits);
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
        if self.waiting.completed_in_poll(task, outcome) {
            return None;
        }
        if task == TaskBook::ROOT && self.root_done {
            return None;
        }
        Some(line(at, format!("{} done ({})", self.tasks.label(task), outcome_word(outcome))))
    }

    /// A reactor turn begins: why it waits as long as it does. A busy turn and a paused
    /// clock's planned jump are held until the turn's records say what it did.
    fn park(&mut self, at: u64, wait_ns: Option<u64>, reason: WaitReason) -> Option<String> {
        let turn = Turn::park(wait_ns, reason, &self.timers, self.run_queue.ready());
        match reason {
            WaitReason::Busy => self.held = Some(Held::BusyTurn { at, turn }),
            WaitReason::PausedJump { .. } => self.held = Some(Held::PausedTurn { at, turn }),
            _ => return Some(line(at, turn_words(&turn))),
        }
        None
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
        wait_on_words(on, |task| self.label_of(task))
    }
}

/// What a reactor turn did, in words (as far as its records so far tell: see `turn.rs`).
pub(super) fn turn_words(turn: &Turn) -> String {
    let wait = || turn.wait_ns.map_or_else(|| "until woken".to_string(), millis);
    match turn.did() {
        TurnDid::Looked(ready) => match ready_words(ready) {
            Some(ready) => format!("tasks ready ({ready}); look at I/O without waiting"),
            None => "tasks ready; look at I/O without waiting".into(),
        },
        TurnDid::WaitedForTimer { deadline_ns } => {
            format!(
                "nothing to run; epoll_wait for {} (next timer at {})",
                wait(),
                seconds(deadline_ns)
            )
        }
        TurnDid::WaitedForSlot { slot_ns } => format!(
            "nothing to run; epoll_wait for {} (to the timing wheel's slot at {}; no timer due then)",
            wait(),
            seconds(slot_ns)
        ),
        TurnDid::WaitedIdle => "nothing to run and no timer: wait for I/O or another thread".into(),
        TurnDid::WaitedForJob => "paused clock: wait for a to_thread job".into(),
        TurnDid::Jumped { to_ns } => {
            format!("paused clock: nothing to run, jump to {}", seconds(to_ns))
        }
        TurnDid::DidNotJump(Because::IoReady) => {
            "paused clock: nothing to run, but I/O is ready: no jump".into()
        }
        TurnDid::DidNotJump(Because::Unparked) => {
            "paused clock: nothing to run, but another thread woke the runtime: no jump".into()
        }
        TurnDid::DidNotJump(Because::Unknown) => "paused clock: nothing to run, yet no jump".into(),
        TurnDid::NoJumpYet { planned_ns } => format!(
            "paused clock: nothing to run; jump to the wheel's next expiration, {}, unless I/O \
             is ready",
            seconds(planned_ns)
        ),
    }
}

/// What `primitive` handed over, when no task was polled (the run loop dropped a future, say).
fn handed_word(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Channel(ChannelNews::Message) => "a message sent on a channel",
        Primitive::Channel(ChannelNews::Slot) => "a channel slot freed",
        Primitive::Channel(ChannelNews::Ended) => "a channel's last sender dropped",
        Primitive::Channel(ChannelNews::Closed) => "a channel closed",
        other => waits_word(other),
    }
}

/// What the task polled did with `primitive` to wake a waiting one.
fn hand_off(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Channel(ChannelNews::Message) => "sent a message on a channel",
        Primitive::Channel(ChannelNews::Slot) => "freed a channel slot",
        Primitive::Channel(ChannelNews::Ended) => "dropped a channel's last sender",
        Primitive::Channel(ChannelNews::Closed) => "closed a channel",
        Primitive::Oneshot => "completed a oneshot",
        Primitive::Semaphore => "released a semaphore permit",
        Primitive::Event => "set an event",
        Primitive::Mutex => "unlocked a mutex",
    }
}

/// What a wake did with the task, in words.
pub(super) fn queue_words(queue: Queue) -> &'static str {
    match queue {
        Queue::Local => "local queue",
        Queue::Remote => "remote queue",
        Queue::WhileRunning => "flagged: it is running",
        Queue::AlreadyScheduled => "already queued",
    }
}
