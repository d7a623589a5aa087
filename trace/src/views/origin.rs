//! One scale of time for every view: deadlines moved onto the records' clock.
//!
//! Two kinds of time travel in the records. A record's `at_ns` counts from the recording's
//! *origin*: the runtime's clock read once, when the [`Recorder`](crate::Recorder) was made.
//! The times *inside* events (a timer's deadline, where a paused clock jumped) are the runtime's
//! own: nanoseconds since its clock started, when the reactor was built. The two differ by
//! however long passed between the reactor's creation and the recorder's (on a real clock, the
//! rest of `Runtime::build`; a recorder made later, much more).
//!
//! A view that printed a deadline as it came would put a timer "due 0.734s" at a time it does
//! not fire. So every view passes each event through [`rebase`] first: from then on a timer due
//! at 0.734s fires in a record stamped 0.734s, and the views compare and print one kind of time.
//!
//! # Invariants
//!
//! - Only instants on the runtime's clock move; lengths of time (a `Park`'s `wait_ns`, a job's
//!   `ran_ns`) and identities (timer indices, file descriptors) do not.
//! - An instant before the origin (a timer that came due before the recording began) becomes 0:
//!   nothing is printed as happening before the recording.

use crate::event::{Cause, Event, WaitOn, WaitReason};

/// `event` with every instant of the runtime's clock it carries moved onto the records' scale,
/// counted from `origin_ns` (the clock's reading when the recording began).
pub(crate) fn rebase(event: Event, origin_ns: u64) -> Event {
    let at = |ns: u64| ns.saturating_sub(origin_ns);
    match event {
        Event::Waits { on: WaitOn::Timer { timer, deadline_ns } } => {
            Event::Waits { on: WaitOn::Timer { timer, deadline_ns: at(deadline_ns) } }
        }
        Event::Wake { task, cause: Cause::Timer { timer, deadline_ns }, queue } => {
            Event::Wake { task, cause: Cause::Timer { timer, deadline_ns: at(deadline_ns) }, queue }
        }
        Event::Park { wait_ns, reason: WaitReason::NextTimer { deadline_ns } } => {
            Event::Park { wait_ns, reason: WaitReason::NextTimer { deadline_ns: at(deadline_ns) } }
        }
        Event::Park { wait_ns, reason: WaitReason::PausedJump { to_ns } } => {
            Event::Park { wait_ns, reason: WaitReason::PausedJump { to_ns: at(to_ns) } }
        }
        Event::TimerFired { timer, deadline_ns } => {
            Event::TimerFired { timer, deadline_ns: at(deadline_ns) }
        }
        Event::ClockJump { to_ns } => Event::ClockJump { to_ns: at(to_ns) },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Queue, TaskKey};

    /// The recording began 5 s into the runtime's clock.
    const ORIGIN: u64 = 5_000_000_000;

    #[test]
    fn instants_move_by_the_origin_lengths_do_not() {
        let due = 5_734_000_000;
        let rebased = |event| rebase(event, ORIGIN);
        assert_eq!(
            rebased(Event::TimerFired { timer: 5, deadline_ns: due }),
            Event::TimerFired { timer: 5, deadline_ns: 734_000_000 }
        );
        assert_eq!(
            rebased(Event::Park {
                wait_ns: Some(due),
                reason: WaitReason::NextTimer { deadline_ns: due }
            }),
            Event::Park {
                wait_ns: Some(due), // a length: unchanged
                reason: WaitReason::NextTimer { deadline_ns: 734_000_000 }
            }
        );
        let fired = Cause::Timer { timer: 5, deadline_ns: due };
        let wake = Event::Wake { task: TaskKey::ROOT, cause: fired, queue: Queue::Local };
        assert!(matches!(
            rebased(wake),
            Event::Wake { cause: Cause::Timer { deadline_ns: 734_000_000, .. }, .. }
        ));
        assert_eq!(rebased(Event::ClockJump { to_ns: 1 }), Event::ClockJump { to_ns: 0 });
        let job = Event::JobFinished { job: 1, ran_ns: due };
        assert_eq!(rebased(job), job);
    }
}
