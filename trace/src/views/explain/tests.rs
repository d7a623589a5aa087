//! The narrator's rules, each told by a small event order and the exact lines it gives.
//!
//! The times and labels every line starts with are checked in `words.rs` and `task_book.rs`;
//! here, what the narrator makes of an order of events: held lines, merges, who did what.

use std::panic::Location;

use super::Narrator;
use crate::event::{
    Cause, ChannelNews, Direction, Event, Outcome, PollResult, Primitive, Queue, Record, TaskKey,
    WaitOn, WaitReason,
};

/// A task's address.
const A: TaskKey = TaskKey(0xa0);
/// Another task's address.
const B: TaskKey = TaskKey(0xb0);

/// Narrates `events` (each at the time given) with `names`, as the live listener would,
/// then finishes: every line said, in order.
fn narrate(events: &[(u64, Event)], names: &[&str]) -> Vec<String> {
    let names: Vec<Box<str>> = names.iter().map(|name| (*name).into()).collect();
    let mut narrator = Narrator::new(0);
    let mut lines = Vec::new();
    for &(at_ns, event) in events {
        if let Some(said) = narrator.narrate(&Record { at_ns, event }, &names) {
            lines.extend(said.lines().map(str::to_string));
        }
    }
    lines.extend(narrator.finish());
    lines
}

/// Where the tests' tasks are spawned.
fn site() -> &'static Location<'static> {
    Location::caller()
}

/// A spawn of `task` at [`site`].
fn spawn(task: TaskKey) -> Event {
    Event::Spawn { task, location: site() }
}

/// `"(file:line)"` of [`site`].
fn at_spawn() -> String {
    format!("({}:{})", site().file(), site().line())
}

#[test]
fn an_unnamed_spawn_is_told_when_the_next_record_is_not_its_name() {
    let lines = narrate(&[(0, spawn(A)), (0, Event::PollStart { task: A })], &[]);
    // PollStart says nothing: the held spawn line is told at the end.
    assert_eq!(lines, [format!("  0.000s  spawn #1 {}", at_spawn())]);
}

#[test]
fn a_reused_address_names_the_newest_task() {
    let lines = narrate(
        &[
            (0, spawn(A)),                                                // #1 at A
            (0, Event::Name { task: A, name: 0 }),                        // named "first"
            (1, Event::Complete { task: A, outcome: Outcome::Returned }), // A freed
            (2, spawn(A)),                                                // #2 reuses A
            (3, Event::Abort { task: A }), // aborts #2, queued since its spawn
        ],
        &["first"],
    );
    assert_eq!(
        lines,
        [
            format!("  0.000s  spawn #1 \"first\" {}", at_spawn()),
            "  0.000s  #1 \"first\" done (returned)".to_string(),
            format!("  0.000s  spawn #2 {}", at_spawn()),
            "  0.000s  #2 aborted: already queued, dropped when the run loop reaches it"
                .to_string(),
        ]
    );
}

#[test]
fn an_abort_merges_with_the_wake_that_queues_its_task_to_be_dropped() {
    let lines = narrate(
        &[
            (0, spawn(A)),
            (0, Event::PollStart { task: A }),
            (0, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }), // #1 idle
            (0, Event::PollStart { task: TaskKey::ROOT }),
            (0, Event::Abort { task: A }), // held
            (0, Event::Wake { task: A, cause: Cause::Abort, queue: Queue::Local }), // merged
            (0, Event::Abort { task: A }), // again: nothing more happens
            (0, Event::PollEnd { task: TaskKey::ROOT, result: PollResult::Pending, wakers: None }),
            (0, Event::Complete { task: A, outcome: Outcome::Cancelled }), // dropped unpolled
        ],
        &[],
    );
    assert_eq!(
        lines[2..],
        [
            "  0.000s  #1 aborted by #0 main -> wake #1 (local queue) to drop it",
            "  0.000s  #1 aborted by #0 main: aborted already",
            "  0.000s  poll #0 main -> Pending: waits on something that reports no event",
            "  0.000s  #1 done (cancelled)",
        ]
    );
}

#[test]
fn a_task_aborting_itself_is_dropped_when_its_poll_returns() {
    let lines = narrate(
        &[
            (0, Event::PollStart { task: A }),
            (0, Event::Abort { task: A }), // no wake: it is running
            (0, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }),
        ],
        &[],
    );
    assert_eq!(lines[0], "  0.000s  #? (0xa0) aborted by itself: dropped when this poll returns");
}

#[test]
fn a_last_poll_merges_with_its_complete() {
    let lines = narrate(
        &[
            (0, Event::PollStart { task: A }),
            (5, Event::PollEnd { task: A, result: PollResult::Ready, wakers: None }), // held
            (5, Event::Complete { task: A, outcome: Outcome::Returned }),             // merged
        ],
        &[],
    );
    assert_eq!(lines, ["  0.000s  poll #? (0xa0) -> Ready: done (returned)"]);
}

#[test]
fn a_complete_reported_inside_the_poll_merges_too() {
    let lines = narrate(
        &[
            (0, Event::PollStart { task: A }),
            (0, Event::Complete { task: A, outcome: Outcome::Panicked }), // told with the poll
            (0, Event::PollEnd { task: A, result: PollResult::Panicked, wakers: None }),
        ],
        &[],
    );
    assert_eq!(lines, ["  0.000s  poll #? (0xa0) -> Panicked: done (panicked)"]);
}

#[test]
fn a_last_poll_without_complete_is_told_before_the_next_line() {
    let wake = Event::Wake { task: B, cause: Cause::Direct, queue: Queue::Local };
    let lines = narrate(
        &[
            (0, Event::PollStart { task: A }),
            (0, Event::PollEnd { task: A, result: PollResult::Ready, wakers: None }), // held
            (0, wake), // said: flushes it
        ],
        &[],
    );
    assert_eq!(
        lines,
        ["  0.000s  poll #? (0xa0) -> Ready", "  0.000s  wake #? (0xb0) (local queue)"]
    );
}

#[test]
fn a_yield_is_told_with_its_poll() {
    let yielded = Event::Wake { task: A, cause: Cause::Yield, queue: Queue::WhileRunning };
    let lines = narrate(
        &[
            (0, Event::PollStart { task: A }),
            (0, yielded), // its own wake: kept for the poll's line
            (0, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }),
        ],
        &[],
    );
    assert_eq!(lines, ["  0.000s  poll #? (0xa0) -> Pending: yields, back of the queue"]);
}

#[test]
fn a_spent_budget_is_told_with_its_poll() {
    let refused = Event::Wake { task: A, cause: Cause::Budget, queue: Queue::WhileRunning };
    let lines = narrate(
        &[
            (0, Event::PollStart { task: A }),
            (0, refused), // its own wake, by the resource that refused it
            (0, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }),
        ],
        &[],
    );
    assert_eq!(
        lines,
        [
            "  0.000s  poll #? (0xa0) -> Pending: budget spent (128 ready operations), back of the queue"
        ]
    );
}

#[test]
fn a_busy_turn_that_wakes_nobody_says_nothing() {
    let lines = narrate(
        &[
            (0, Event::Park { wait_ns: Some(0), reason: WaitReason::Busy }),
            (0, Event::Unpark { io_events: 0, unparked: false }),
        ],
        &[],
    );
    assert!(lines.is_empty(), "{lines:?}");
}

#[test]
fn a_busy_turn_that_wakes_a_task_is_told_before_the_wake() {
    let io = Cause::Io { fd: 7, direction: Direction::Read };
    let lines = narrate(
        &[
            (0, Event::Park { wait_ns: Some(0), reason: WaitReason::Busy }),
            (0, Event::IoReady { fd: 7, read: true, write: false }), // says nothing
            (0, Event::Wake { task: A, cause: io, queue: Queue::Local }),
            (0, Event::Unpark { io_events: 1, unparked: false }),
        ],
        &[],
    );
    assert_eq!(
        lines,
        [
            "  0.000s  tasks ready; look at I/O without waiting", // nothing queued is seen
            "  0.000s  fd 7 readable -> wake #? (0xa0) (local queue)",
        ]
    );
}

#[test]
fn a_busy_turn_says_how_many_tasks_are_queued() {
    /// A third task's address.
    const C: TaskKey = TaskKey(0xc0);
    let io = Cause::Io { fd: 7, direction: Direction::Read };
    let busy = Event::Park { wait_ns: Some(0), reason: WaitReason::Busy };
    let lines = narrate(
        &[
            (0, spawn(A)),                     // queued: 1
            (0, spawn(B)),                     // 2
            (0, spawn(C)),                     // 3
            (0, Event::PollStart { task: A }), // 2
            (0, Event::Wake { task: A, cause: Cause::Direct, queue: Queue::WhileRunning }),
            (0, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }), // queued again: 3
            (0, Event::Complete { task: C, outcome: Outcome::Cancelled }), // dropped unpolled: 2
            (0, Event::Wake { task: TaskKey::ROOT, cause: Cause::Direct, queue: Queue::Local }),
            (1, busy),
            (1, Event::Wake { task: B, cause: io, queue: Queue::AlreadyScheduled }), // still 2
            (1, Event::Unpark { io_events: 1, unparked: false }),
        ],
        &[],
    );
    assert_eq!(
        lines[lines.len() - 2],
        "  0.000s  tasks ready (2 queued, #0 main woken); look at I/O without waiting"
    );
}

#[test]
fn a_hand_off_names_the_task_that_made_it() {
    let channel = |news| Primitive::Channel(news);
    let hand_off = |task, news| Event::Wake {
        task,
        cause: Cause::HandOff(channel(news)),
        queue: Queue::Local,
    };
    let lines = narrate(
        &[
            (0, spawn(A)),
            (0, spawn(B)),
            (0, Event::PollStart { task: B }),
            (0, hand_off(A, ChannelNews::Message)), // B sends to A, waiting to receive
            (0, Event::Waits { on: WaitOn::Primitive(channel(ChannelNews::Slot)) }), // full
            (0, Event::PollEnd { task: B, result: PollResult::Pending, wakers: None }),
            (0, Event::PollStart { task: A }),
            (0, hand_off(B, ChannelNews::Slot)), // A's receive frees B's slot
            (0, Event::Waits { on: WaitOn::Primitive(channel(ChannelNews::Message)) }),
            (0, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }),
            (0, hand_off(A, ChannelNews::Ended)), // outside any poll: the last sender dropped
            (0, hand_off(B, ChannelNews::Closed)),
        ],
        &[],
    );
    assert_eq!(
        lines[2..],
        [
            "  0.000s  #2 sent a message on a channel -> wake #1 (local queue)",
            "  0.000s  poll #2 -> Pending: waits on a channel slot",
            "  0.000s  #1 freed a channel slot -> wake #2 (local queue)",
            "  0.000s  poll #1 -> Pending: waits on a channel message",
            "  0.000s  a channel's last sender dropped -> wake #1 (local queue)",
            "  0.000s  a channel closed -> wake #2 (local queue)",
        ]
    );
}

#[test]
fn reactor_waits_say_why_they_last_as_long_as_they_do() {
    let park = |wait_ns, reason| (0, Event::Park { wait_ns, reason });
    let timer = WaitOn::Timer { timer: 5, deadline_ns: 734_000_000 };
    let lines = narrate(
        &[
            (0, Event::PollStart { task: A }),
            (0, Event::Waits { on: timer }), // a timer is due at 0.734s
            (0, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }),
            park(Some(734_000_000), WaitReason::NextTimer { deadline_ns: 734_000_000 }),
            park(None, WaitReason::Idle),
            park(None, WaitReason::Job),
            park(Some(0), WaitReason::PausedJump { to_ns: 734_000_000 }),
            (734_000_000, Event::ClockJump { to_ns: 734_000_000 }), // it jumped
        ],
        &[],
    );
    assert_eq!(
        lines[1..],
        [
            "  0.000s  nothing to run; epoll_wait for 734 ms (next timer at 0.734s)",
            "  0.000s  nothing to run and no timer: wait for I/O or another thread",
            "  0.000s  paused clock: wait for a to_thread job",
            "  0.000s  paused clock: nothing to run, jump to 0.734s",
        ]
    );
}

#[test]
fn a_wait_to_a_wheel_slot_is_not_called_a_timer() {
    let timer = WaitOn::Timer { timer: 0, deadline_ns: 10_000_000_000 };
    let lines = narrate(
        &[
            (0, Event::PollStart { task: A }),
            (0, Event::Waits { on: timer }), // due at 10 s: the wheel files it in a slot at 8.192 s
            (0, Event::PollEnd { task: A, result: PollResult::Pending, wakers: None }),
            (0, Event::Park { wait_ns: Some(8_192_000_000), reason: next_timer(8_192_000_000) }),
        ],
        &[],
    );
    assert_eq!(
        lines[1],
        "  0.000s  nothing to run; epoll_wait for 8192 ms (to the timing wheel's slot at 8.192s; \
         no timer due then)"
    );
}

#[test]
fn a_paused_jump_is_told_where_it_landed() {
    const MS: u64 = 1_000_000;
    let lines = narrate(
        &[
            (
                0,
                Event::Park {
                    wait_ns: Some(0),
                    reason: WaitReason::PausedJump { to_ns: 192 * MS },
                },
            ),
            (192 * MS, Event::ClockJump { to_ns: 192 * MS }), // a wheel slot: its timers cascade
            (200 * MS, Event::ClockJump { to_ns: 200 * MS }), // on to the timer that fires
            (200 * MS, Event::TimerFired { timer: 7, deadline_ns: 200 * MS }),
            (
                200 * MS,
                Event::Wake { task: A, cause: timer_cause(7, 200 * MS), queue: Queue::Local },
            ),
            (200 * MS, Event::Unpark { io_events: 0, unparked: false }),
        ],
        &[],
    );
    assert_eq!(
        lines,
        [
            "  0.000s  paused clock: nothing to run, jump to 0.200s", // not to the slot, 0.192s
            "  0.200s  timer #7 fired -> wake #? (0xa0) (local queue)",
        ]
    );
}

#[test]
fn a_planned_jump_that_finds_io_ready_is_told_as_no_jump() {
    let io = Cause::Io { fd: 7, direction: Direction::Read };
    let jump = WaitReason::PausedJump { to_ns: 576_000_000 };
    let lines = narrate(
        &[
            (400, Event::Park { wait_ns: Some(0), reason: jump }),
            (400, Event::IoReady { fd: 7, read: true, write: false }), // the zero-timeout look
            (400, Event::Wake { task: A, cause: io, queue: Queue::Local }),
            (400, Event::Unpark { io_events: 1, unparked: false }),
            (400, Event::Park { wait_ns: Some(0), reason: jump }),
            (400, Event::Unpark { io_events: 0, unparked: true }), // another thread, no wake yet
        ],
        &[],
    );
    assert_eq!(
        lines,
        [
            "  0.000s  paused clock: nothing to run, but I/O is ready: no jump",
            "  0.000s  fd 7 readable -> wake #? (0xa0) (local queue)",
            "  0.000s  paused clock: nothing to run, but another thread woke the runtime: no jump",
        ]
    );
}

/// The reason of a wait on the real clock that runs to `deadline_ns`.
fn next_timer(deadline_ns: u64) -> WaitReason {
    WaitReason::NextTimer { deadline_ns }
}

/// The cause of a wake by timer `timer`, due at `deadline_ns`.
fn timer_cause(timer: u32, deadline_ns: u64) -> Cause {
    Cause::Timer { timer, deadline_ns }
}
