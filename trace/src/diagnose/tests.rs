//! The checks told as small event orders: each mistake raised where it is proven, and each
//! correct program of its kind left in peace.

use std::panic::Location;
use std::time::Duration;

use super::{Diagnostics, Limits, TaskState, WarningKind};
use crate::event::{
    Cause, ChannelNews, Event, Outcome, PollResult, Primitive, Queue, Record, TaskKey, WaitOn,
};

/// A task's address.
const A: TaskKey = TaskKey(0xa0);
/// Another task's address.
const B: TaskKey = TaskKey(0xb0);
/// One millisecond of real time.
const MS: u64 = 1_000_000;

/// Feeds records to a [`Diagnostics`], with a real clock the test moves by hand.
struct Script {
    /// The checks under test.
    checks: Diagnostics,
    /// Interned strings (names, panic messages).
    strings: Vec<Box<str>>,
    /// The real clock, nanoseconds.
    real_ns: u64,
    /// The records' clock, nanoseconds.
    at_ns: u64,
}

impl Script {
    fn new() -> Script {
        Script::with(Limits { slow_poll: Duration::from_millis(100), self_wakes: 3 })
    }

    fn with(limits: Limits) -> Script {
        Script { checks: Diagnostics::new(0, limits), strings: Vec::new(), real_ns: 0, at_ns: 0 }
    }

    fn see(&mut self, event: Event) -> &mut Script {
        let record = Record { at_ns: self.at_ns, event };
        self.checks.see(&record, &self.strings, self.real_ns);
        self
    }

    fn spawn(&mut self, task: TaskKey, name: &str) -> &mut Script {
        self.see(Event::Spawn { task, location: Location::caller() });
        self.strings.push(name.into());
        self.see(Event::Name { task, name: self.strings.len() as u32 - 1 })
    }

    /// A poll of `task` that lasts `ms` real milliseconds, reports `waits`, and ends `result`
    /// with `wakers` clones out.
    fn poll(
        &mut self,
        task: TaskKey,
        ms: u64,
        waits: &[WaitOn],
        wakers: Option<u32>,
    ) -> &mut Script {
        self.see(Event::PollStart { task });
        for on in waits {
            self.see(Event::Waits { on: *on });
        }
        self.real_ns += ms * MS;
        self.see(Event::PollEnd { task, result: PollResult::Pending, wakers })
    }

    fn kinds(&mut self) -> Vec<WarningKind> {
        self.checks.take_warnings().iter().map(|w| w.kind).collect()
    }
}

/// What a receiver waits on.
const MESSAGE: WaitOn = WaitOn::Primitive(Primitive::Channel(ChannelNews::Message));

#[test]
fn a_pending_poll_with_no_waker_out_is_a_lost_waker_reported_at_once() {
    let mut script = Script::new();
    script.spawn(A, "google").poll(A, 0, &[], Some(0));
    let warnings = script.checks.take_warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        (warnings[0].kind, warnings[0].task.as_str()),
        (WarningKind::LostWaker, "#1 \"google\"")
    );
    let spawned = format!("#1 \"google\" spawned at {}:", file!());
    assert!(warnings[0].text.starts_with(&spawned), "{}", warnings[0].text);
    assert!(warnings[0].text.contains("will never run again"), "{}", warnings[0].text);
}

#[test]
fn a_waker_kept_a_wake_of_itself_or_an_abort_is_no_lost_waker() {
    let mut script = Script::new();
    script.spawn(A, "kept").poll(A, 0, &[MESSAGE], Some(1)); // stored in a channel
    script.spawn(B, "yields").see(Event::PollStart { task: B });
    let yielded = Event::Wake { task: B, cause: Cause::Yield, queue: Queue::WhileRunning };
    script.see(yielded);
    script.see(Event::PollEnd { task: B, result: PollResult::Pending, wakers: Some(0) });
    script.see(Event::PollStart { task: B }).see(Event::Abort { task: B }); // aborts itself
    script.see(Event::PollEnd { task: B, result: PollResult::Pending, wakers: Some(0) });
    script.poll(TaskKey::ROOT, 0, &[], None); // main's wakers are not counted
    assert_eq!(script.kinds(), []);
}

#[test]
fn a_poll_longer_than_the_limit_on_the_real_clock_is_slow() {
    let mut script = Script::new();
    script.spawn(A, "blocks").poll(A, 150, &[MESSAGE], Some(1));
    let warnings = script.checks.take_warnings();
    assert_eq!(warnings[0].kind, WarningKind::SlowPoll);
    assert!(warnings[0].text.contains("for 150 ms in one poll"), "{}", warnings[0].text);
    script.poll(A, 100, &[MESSAGE], Some(1)); // at the limit: not over it
    script.poll(TaskKey::ROOT, 150, &[], None);
    assert_eq!(script.kinds(), [WarningKind::SlowPoll], "main is checked too");
}

/// `task` panics with `message` in its first poll.
fn panics(script: &mut Script, task: TaskKey, message: &str) {
    script.see(Event::PollStart { task });
    script.strings.push(message.into());
    script.see(Event::Panicked { message: script.strings.len() as u32 - 1 });
    script.see(Event::PollEnd { task, result: PollResult::Panicked, wakers: Some(0) });
    script.see(Event::Complete { task, outcome: Outcome::Panicked });
}

#[test]
fn a_panic_whose_handle_is_dropped_unread_is_reported_at_the_later_of_the_two() {
    let mut script = Script::new();
    script.spawn(A, "dropped first").see(Event::HandleDropped { task: A });
    panics(&mut script, A, "the fryer caught fire");
    let warnings = script.checks.take_warnings();
    assert_eq!(warnings[0].kind, WarningKind::UnretrievedFailure);
    assert!(warnings[0].text.contains("\"the fryer caught fire\""), "{}", warnings[0].text);
    script.spawn(B, "dropped after");
    panics(&mut script, B, "boom");
    assert_eq!(script.kinds(), [], "the handle may still take it");
    script.see(Event::HandleDropped { task: B });
    assert_eq!(script.kinds(), [WarningKind::UnretrievedFailure]);
    assert_eq!(script.checks.finish(), [], "each once");
}

#[test]
fn a_panic_taken_from_its_handle_is_retrieved_and_one_never_taken_is_reported_at_the_end() {
    let mut script = Script::new();
    script.spawn(A, "awaited");
    panics(&mut script, A, "handled");
    script.see(Event::OutputTaken { task: A }).see(Event::HandleDropped { task: A });
    script.spawn(B, "forgotten");
    panics(&mut script, B, "nobody asked");
    assert_eq!(script.kinds(), []);
    let warnings = script.checks.finish();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].text.contains("never awaited"), "{}", warnings[0].text);
    assert_eq!(warnings[0].task, "#2 \"forgotten\"");
}

/// A poll of `task` in which it wakes itself (a yield).
fn self_waking_poll(script: &mut Script, task: TaskKey) {
    script.see(Event::PollStart { task });
    script.see(Event::Wake { task, cause: Cause::Yield, queue: Queue::WhileRunning });
    script.see(Event::PollEnd { task, result: PollResult::Pending, wakers: Some(0) });
}

#[test]
fn a_task_waking_itself_past_the_limit_while_nothing_progresses_is_a_storm_told_once() {
    let mut script = Script::new(); // the limit is 3
    script.spawn(A, "spins");
    for _ in 0..3 {
        self_waking_poll(&mut script, A);
    }
    assert_eq!(script.kinds(), [], "three is the limit, not over it");
    self_waking_poll(&mut script, A);
    assert_eq!(script.kinds(), [WarningKind::SelfWakeStorm]);
    for _ in 0..10 {
        self_waking_poll(&mut script, A);
    }
    assert_eq!(script.kinds(), [], "one storm, one warning");
}

#[test]
fn a_task_refused_by_its_budget_poll_after_poll_is_busy_not_a_storm() {
    let mut script = Script::new(); // the limit is 3
    script.spawn(A, "drains a full channel");
    for _ in 0..10 {
        script.see(Event::PollStart { task: A });
        script.see(Event::Wake { task: A, cause: Cause::Budget, queue: Queue::WhileRunning });
        // No waker out: the resource that refused it woke it by reference.
        script.see(Event::PollEnd { task: A, result: PollResult::Pending, wakers: Some(0) });
    }
    assert_eq!(script.kinds(), [], "each poll completed 128 operations: no spinning, no loss");
}

#[test]
fn yields_between_which_something_else_progresses_are_no_storm() {
    let mut script = Script::new();
    script.spawn(A, "cooperates").spawn(B, "fed");
    for _ in 0..10 {
        self_waking_poll(&mut script, A);
        self_waking_poll(&mut script, A);
        script.see(Event::Wake {
            task: B,
            cause: Cause::HandOff(Primitive::Event),
            queue: Queue::Local,
        });
    }
    assert_eq!(script.kinds(), []);
}

#[test]
fn the_dump_lists_live_tasks_and_a_hang_needs_every_wait_inside_the_runtime() {
    let mut script = Script::new();
    script.spawn(A, "receiver").spawn(B, "sleeper");
    script.poll(TaskKey::ROOT, 0, &[WaitOn::Join { task: A }], None);
    script.poll(A, 0, &[MESSAGE], Some(1));
    script.at_ns = 2_000 * MS;
    let timer = WaitOn::Timer { timer: 5, deadline_ns: 3_000 * MS };
    script.poll(B, 0, &[timer], Some(1));
    let dump = script.checks.dump(2_500 * MS);
    let rows: Vec<_> =
        dump.tasks.iter().map(|r| (r.label.as_str(), r.state, r.waits_on.as_str())).collect();
    assert_eq!(
        rows,
        [
            ("#0 main", TaskState::Idle, "the JoinHandle of #1 \"receiver\""),
            ("#1 \"receiver\"", TaskState::Idle, "a channel message"),
            ("#2 \"sleeper\"", TaskState::Idle, "timer #5 (due 3.000s)"),
        ]
    );
    assert_eq!((dump.tasks[2].age, dump.tasks[1].polls), (Duration::from_millis(2_500), 1));
    assert!(script.checks.hang(0).is_none(), "#2's timer will fire");
    script.see(Event::Complete { task: B, outcome: Outcome::Cancelled });
    assert_eq!(script.checks.hang(0).map(|d| d.tasks.len()), Some(2), "now nothing can wake #1");
}

#[test]
fn a_waker_out_that_no_event_explains_may_be_another_threads_no_hang() {
    let mut script = Script::new();
    script.spawn(A, "remote");
    script.poll(TaskKey::ROOT, 0, &[WaitOn::Join { task: A }], None);
    script.poll(A, 0, &[], Some(1));
    assert_eq!(
        script.checks.dump(0).tasks[1].waits_on,
        "something that reports no event (1 waker clone out)"
    );
    assert!(script.checks.hang(0).is_none());
    script.spawn(B, "lost").poll(B, 0, &[], Some(0));
    assert_eq!(
        script.checks.dump(0).tasks[2].waits_on,
        "nothing holds its waker: it will never run again"
    );
}
