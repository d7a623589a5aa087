//! What each task waits on: the poll under way, and what every pending task reported.
//!
//! A leaf future reports what it arranged to be woken by (`Waits`) while its task is polled;
//! the poll's `PollEnd` says whether the task then waits on it. A view that tells or draws what
//! a task waits on reads it from here, as the records come.
//!
//! # Invariants
//!
//! - **At most one poll is under way** (the runtime is single-threaded): a `Waits` belongs to
//!   it, and a `Wake` of the polled task is the task waking itself (a yield), not a wake from
//!   outside.
//! - **What a task waits on** is what its last `Pending` poll reported, less every part a wake
//!   has answered since (`Cause::answers`): a task woken by timer #5 no longer waits on it, but
//!   still on the socket it also reported. Each view decides when a poll's reports replace the
//!   old ones ([`Waiting::set`]): a combinator polls only the child that woke it, so a poll that
//!   reports nothing leaves the rest waiting on what they reported before.
//! - Tasks are [`TaskBook`](super::task_book::TaskBook) indices, resolved by the caller.

use std::collections::{HashMap, HashSet};

use crate::event::{Cause, Outcome, WaitOn};

/// What the view knows of the poll under way.
pub(crate) struct PollSoFar {
    /// The task polled.
    pub(crate) task: usize,
    /// What it reported waiting on during this poll, in order, each once.
    pub(crate) waits: Vec<WaitOn>,
    /// The same, to keep each once in constant time (a poll may report 100,000 sleeps).
    reported: HashSet<WaitOn>,
    /// The cause of a wake it made to itself during this poll (a yield), if any.
    pub(crate) woke_itself: Option<Cause>,
    /// How it completed, if its `Complete` was reported before its `PollEnd`.
    pub(crate) completed: Option<Outcome>,
}

/// The poll under way and what each pending task waits on.
pub(crate) struct Waiting {
    /// The poll under way, if any.
    poll: Option<PollSoFar>,
    /// What each task waits on, as of its last poll that set it, less what answered since.
    of: HashMap<usize, Vec<WaitOn>>,
}

impl Waiting {
    /// No poll under way, nobody waiting.
    pub(crate) fn new() -> Waiting {
        Waiting { poll: None, of: HashMap::new() }
    }

    /// `PollStart`: `task`'s poll is under way (one still open is forgotten: its end was lost).
    pub(crate) fn poll_start(&mut self, task: usize) {
        self.poll = Some(PollSoFar {
            task,
            waits: Vec::new(),
            reported: HashSet::new(),
            woke_itself: None,
            completed: None,
        });
    }

    /// The task being polled, if any.
    pub(crate) fn polled(&self) -> Option<usize> {
        self.poll.as_ref().map(|poll| poll.task)
    }

    /// `Waits`: the polled task reports waiting on `on` (kept once).
    pub(crate) fn reported(&mut self, on: WaitOn) {
        if let Some(poll) = &mut self.poll
            && poll.reported.insert(on)
        {
            poll.waits.push(on);
        }
    }

    /// A wake of `task` for `cause`: if `task` is the one polled, it woke itself, and this is
    /// kept for its poll (returns `true`); otherwise nothing changes here.
    pub(crate) fn woke_itself(&mut self, task: usize, cause: Cause) -> bool {
        match &mut self.poll {
            Some(poll) if poll.task == task => {
                poll.woke_itself = Some(cause);
                true
            }
            _ => false,
        }
    }

    /// A wake of a waiting `task` for `cause`: what it answers, the task no longer waits on.
    pub(crate) fn answered(&mut self, task: usize, cause: Cause) {
        if let Some(waits) = self.of.get_mut(&task) {
            waits.retain(|on| !cause.answers(*on));
        }
    }

    /// `Complete` of `task`: kept for its poll if it is the one polled (returns `true`).
    pub(crate) fn completed_in_poll(&mut self, task: usize, outcome: Outcome) -> bool {
        match &mut self.poll {
            Some(poll) if poll.task == task => {
                poll.completed = Some(outcome);
                true
            }
            _ => false,
        }
    }

    /// `PollEnd` of `task`: the poll under way, if it was `task`'s (none if its start was lost).
    pub(crate) fn poll_end(&mut self, task: usize) -> Option<PollSoFar> {
        self.poll.take().filter(|poll| poll.task == task)
    }

    /// What `task` waits on now, if a poll of it ever set it.
    pub(crate) fn of(&self, task: usize) -> Option<&[WaitOn]> {
        self.of.get(&task).map(Vec::as_slice)
    }

    /// From now on `task` waits on `waits`.
    pub(crate) fn set(&mut self, task: usize, waits: Vec<WaitOn>) {
        self.of.insert(task, waits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Direction;

    /// A timer a task waits on.
    const TIMER: WaitOn = WaitOn::Timer { timer: 5, deadline_ns: 734 };
    /// A socket a task waits on.
    const SOCKET: WaitOn = WaitOn::Io { fd: 7, direction: Direction::Read };

    #[test]
    fn a_wake_strikes_only_what_it_answers() {
        let mut waiting = Waiting::new();
        waiting.poll_start(1);
        waiting.reported(TIMER);
        waiting.reported(SOCKET);
        waiting.reported(TIMER); // reported again: kept once
        let poll = waiting.poll_end(1).unwrap();
        assert_eq!(poll.waits, [TIMER, SOCKET]);
        waiting.set(1, poll.waits);
        waiting.answered(1, Cause::Timer { timer: 5, deadline_ns: 734 });
        assert_eq!(waiting.of(1), Some(&[SOCKET][..]), "still waits on the socket");
    }

    #[test]
    fn a_wake_of_the_polled_task_is_its_own() {
        let mut waiting = Waiting::new();
        waiting.poll_start(1);
        assert!(!waiting.woke_itself(2, Cause::Direct), "another task: a wake from outside");
        assert!(waiting.woke_itself(1, Cause::Yield));
        assert!(waiting.completed_in_poll(1, Outcome::Returned));
        assert!(waiting.poll_end(2).is_none(), "not the poll under way");
        waiting.poll_start(1);
        assert!(waiting.woke_itself(1, Cause::Yield));
        let poll = waiting.poll_end(1).unwrap();
        assert_eq!((poll.woke_itself, poll.completed), (Some(Cause::Yield), None));
    }
}
