//! What a reactor turn did, told only from what it reported.
//!
//! A turn's `Park` says what the reactor *planned*: how long the OS wait may block, and why
//! ([`WaitReason`]). What it then *did* is told by the records up to its `Unpark`: a paused
//! clock that planned a jump jumps only if nothing else turned up in its zero-timeout look at
//! the OS, and the time a wait runs to is the timing wheel's next expiration, which is a timer's
//! deadline or only the start of a wheel slot. A view that names a turn asks a [`Turn`] what
//! it did ([`Turn::did`]), so that every view tells the same truth and none tells the plan.
//!
//! # What the records show, and what they do not
//!
//! - **A paused clock's jump** shows as `ClockJump`s: one per wheel slot passed (a jump to the
//!   start of a slot may only cascade its timers to lower levels, and the reactor jumps on), the
//!   last where a timer fired. A turn with none did not jump: its look at the OS found I/O
//!   ready (`IoReady`, or `Unpark`'s `io_events`), or another thread woke the runtime
//!   (`Unpark`'s `unparked`).
//! - **A real clock's wait** runs to the wheel's next expiration, `WaitReason::NextTimer`'s
//!   `deadline_ns`: the deadline of the nearest timer, or the start of the next wheel slot that
//!   holds timers (then nothing fires, and the next turn waits again). The `Park` does not say
//!   which, so [`ArmedTimers`] keeps the deadlines tasks reported (`Waits`) and not yet fired: if
//!   one of them is due at that time, the wait is for a timer; if none is, for a wheel slot.
//!
//! # Invariants
//!
//! - A `Turn` changes only through [`Turn::see`], with the records between its `Park` and its
//!   `Unpark`, in order; [`Turn::did`] reads it at any point and says what is known by then.
//! - [`ArmedTimers`] may keep a timer that was cancelled (dropped before it fired: the runtime
//!   reports no event for that) until its task completes or its slab index is reused.

use std::collections::HashMap;

use super::run_queue::Ready;
use crate::event::{Event, WaitOn, WaitReason};

/// The timers tasks reported waiting on and that have not fired, by slab index.
pub(crate) struct ArmedTimers {
    /// Each timer's deadline (nanoseconds of the runtime's clock), and the task that reported it
    /// (a [`TaskBook`](super::task_book::TaskBook) index), if a poll was under way.
    by_index: HashMap<u32, (u64, Option<usize>)>,
}

impl ArmedTimers {
    /// No timer known.
    pub(crate) fn new() -> ArmedTimers {
        ArmedTimers { by_index: HashMap::new() }
    }

    /// Learns from one record: a `Waits` on a timer arms it (reported by `polled`), a
    /// `TimerFired` disarms it.
    pub(crate) fn see(&mut self, event: &Event, polled: Option<usize>) {
        match *event {
            Event::Waits { on: WaitOn::Timer { timer, deadline_ns } } => {
                self.by_index.insert(timer, (deadline_ns, polled));
            }
            Event::TimerFired { timer, .. } => {
                self.by_index.remove(&timer);
            }
            _ => {}
        }
    }

    /// `task` completed: the timers it reported are gone with its futures.
    pub(crate) fn forget(&mut self, task: usize) {
        self.by_index.retain(|_, (_, owner)| *owner != Some(task));
    }

    /// Whether a known timer is due at `at_ns`.
    pub(crate) fn due_at(&self, at_ns: u64) -> bool {
        self.by_index.values().any(|(deadline_ns, _)| *deadline_ns == at_ns)
    }
}

/// One reactor turn, from its `Park` on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Turn {
    /// How long it may block, as its `Park` said (`None`: until woken).
    pub(crate) wait_ns: Option<u64>,
    /// Why, as its `Park` said.
    pub(crate) reason: WaitReason,
    /// For [`WaitReason::NextTimer`]: whether a known timer is due when the wait ends.
    timer_due: bool,
    /// What was ready to run when it began (`run_queue.rs`).
    ready: Ready,
    /// Where the paused clock's last `ClockJump` landed, if it jumped.
    landed: Option<u64>,
    /// Whether the OS reported a socket ready.
    io_ready: bool,
    /// Whether another thread ended the wait.
    unparked: bool,
    /// Whether its `Unpark` was seen: the turn is over.
    over: bool,
}

/// What a turn did, as far as its records tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TurnDid {
    /// Tasks were ready: it only looked at the OS ([`WaitReason::Busy`]). Which, as far as the
    /// records show (a task woken from another thread may wait unseen in the remote queue).
    Looked(Ready),
    /// It waited until a timer's deadline (or less, if I/O or another thread came first).
    WaitedForTimer {
        /// The deadline.
        deadline_ns: u64,
    },
    /// It waited until a wheel slot comes due, where no known timer is due.
    WaitedForSlot {
        /// The slot's start.
        slot_ns: u64,
    },
    /// No timer was armed: it waited for I/O or another thread.
    WaitedIdle,
    /// The clock is paused and a `to_thread` job was in flight: it waited for the job.
    WaitedForJob,
    /// The paused clock jumped to a timer that fired there.
    Jumped {
        /// Where it landed.
        to_ns: u64,
    },
    /// The paused clock would have jumped, but its look at the OS turned something up.
    DidNotJump(Because),
    /// The paused clock is to jump, if its look at the OS turns up nothing: the turn's records
    /// so far show neither a jump nor a reason not to (a recording that ends mid-turn).
    NoJumpYet {
        /// The wheel's next expiration, where the jump would go first.
        planned_ns: u64,
    },
}

/// Why a paused clock did not jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Because {
    /// A socket was ready.
    IoReady,
    /// Another thread woke the runtime.
    Unparked,
    /// The turn ended with neither (the records show no reason).
    Unknown,
}

impl Turn {
    /// A turn's `Park`, with the timers known to be armed and what was ready to run then.
    pub(crate) fn park(
        wait_ns: Option<u64>,
        reason: WaitReason,
        timers: &ArmedTimers,
        ready: Ready,
    ) -> Turn {
        let timer_due = match reason {
            WaitReason::NextTimer { deadline_ns } => timers.due_at(deadline_ns),
            _ => false,
        };
        let (landed, io_ready, unparked, over) = (None, false, false, false);
        Turn { wait_ns, reason, timer_due, ready, landed, io_ready, unparked, over }
    }

    /// Learns from one record of the turn (those it says nothing of are ignored).
    pub(crate) fn see(&mut self, event: &Event) {
        match *event {
            Event::ClockJump { to_ns } => self.landed = Some(to_ns),
            Event::IoReady { .. } => self.io_ready = true,
            Event::Unpark { io_events, unparked } => {
                self.io_ready |= io_events > 0;
                self.unparked |= unparked;
                self.over = true;
            }
            _ => {}
        }
    }

    /// What the turn did, as far as the records seen so far tell.
    pub(crate) fn did(&self) -> TurnDid {
        match self.reason {
            WaitReason::Busy => TurnDid::Looked(self.ready),
            WaitReason::NextTimer { deadline_ns } if self.timer_due => {
                TurnDid::WaitedForTimer { deadline_ns }
            }
            WaitReason::NextTimer { deadline_ns } => {
                TurnDid::WaitedForSlot { slot_ns: deadline_ns }
            }
            WaitReason::Idle => TurnDid::WaitedIdle,
            WaitReason::Job => TurnDid::WaitedForJob,
            WaitReason::PausedJump { to_ns: planned_ns } => match self.landed {
                Some(to_ns) => TurnDid::Jumped { to_ns },
                None if self.io_ready => TurnDid::DidNotJump(Because::IoReady),
                None if self.unparked => TurnDid::DidNotJump(Because::Unparked),
                None if self.over => TurnDid::DidNotJump(Because::Unknown),
                None => TurnDid::NoJumpYet { planned_ns },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 734 ms, in nanoseconds.
    const DUE: u64 = 734_000_000;

    /// A turn on the paused clock that planned a jump to the wheel's slot at 576 ms.
    fn planned_jump() -> Turn {
        let reason = WaitReason::PausedJump { to_ns: 576_000_000 };
        Turn::park(Some(0), reason, &ArmedTimers::new(), Ready::default())
    }

    #[test]
    fn a_jump_is_told_where_it_landed_not_where_it_was_planned() {
        let mut turn = planned_jump();
        turn.see(&Event::ClockJump { to_ns: 576_000_000 }); // a slot: timers cascade, none fires
        turn.see(&Event::ClockJump { to_ns: DUE }); // on to the timer that fires
        assert_eq!(turn.did(), TurnDid::Jumped { to_ns: DUE });
    }

    #[test]
    fn a_planned_jump_that_found_io_ready_did_not_jump() {
        let mut turn = planned_jump();
        assert_eq!(turn.did(), TurnDid::NoJumpYet { planned_ns: 576_000_000 });
        turn.see(&Event::IoReady { fd: 7, read: true, write: false });
        assert_eq!(turn.did(), TurnDid::DidNotJump(Because::IoReady));
        let mut woken = planned_jump();
        woken.see(&Event::Unpark { io_events: 0, unparked: true });
        assert_eq!(woken.did(), TurnDid::DidNotJump(Because::Unparked));
        let mut neither = planned_jump();
        neither.see(&Event::Unpark { io_events: 0, unparked: false });
        assert_eq!(neither.did(), TurnDid::DidNotJump(Because::Unknown));
    }

    #[test]
    fn a_wait_ends_at_a_timer_only_if_a_known_timer_is_due_then() {
        let mut timers = ArmedTimers::new();
        let armed = Event::Waits { on: WaitOn::Timer { timer: 5, deadline_ns: DUE } };
        timers.see(&armed, Some(1));
        let wait = |deadline_ns, timers: &ArmedTimers| {
            Turn::park(Some(1), WaitReason::NextTimer { deadline_ns }, timers, Ready::default())
                .did()
        };
        assert_eq!(wait(DUE, &timers), TurnDid::WaitedForTimer { deadline_ns: DUE });
        assert_eq!(wait(576_000_000, &timers), TurnDid::WaitedForSlot { slot_ns: 576_000_000 });
        timers.see(&Event::TimerFired { timer: 5, deadline_ns: DUE }, None);
        assert_eq!(wait(DUE, &timers), TurnDid::WaitedForSlot { slot_ns: DUE }, "fired: gone");
        timers.see(&armed, Some(1));
        timers.forget(1); // its task completed: its timers went with it
        assert!(!timers.due_at(DUE));
    }
}
