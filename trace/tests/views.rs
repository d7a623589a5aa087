//! The two views of a recording, checked against golden text: the explain mode's narration
//! (`explain`) and the terminal timeline (`render_timeline`) at 80 and at 40 columns.
//!
//! Recordings are built by hand: a fake clock the script sets, and a [`Recorder`] made current
//! around the script, so every `emit` lands in it as the runtime's would. Two scripts imitate
//! the demos: `names_ages` on the paused clock (two tasks sleeping in turn, the clock jumping
//! from timer to timer) and `site_status` on a real clock (sockets, a `to_thread` job finishing
//! on another thread).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::Location;
use std::rc::Rc;

use cashier_trace::{
    Cause, DEFAULT_CAP, Direction, Event, Narrator, Outcome, PollResult, Queue, Recorder,
    Recording, TaskKey, WaitOn, WaitReason, emit, emit_name, explain, render_timeline,
};

/// Where the "names" task is spawned. These functions stay at the top of the file: the golden
/// spawn lines quote their line numbers.
fn names_site() -> &'static Location<'static> {
    Location::caller()
}

/// Where the "ages" task is spawned.
fn ages_site() -> &'static Location<'static> {
    Location::caller()
}

/// Where the site tasks are spawned.
fn site_site() -> &'static Location<'static> {
    Location::caller()
}

/// One millisecond, in nanoseconds.
const MS: u64 = 1_000_000;

/// Runs `script` with a recorder current and a clock it sets; returns the recording.
fn record(script: impl FnOnce(&Cell<u64>)) -> Recording {
    let now = Rc::new(Cell::new(0));
    let clock = now.clone();
    let recorder = Recorder::new(DEFAULT_CAP, Box::new(move || clock.get()));
    recorder.scope(|| script(&now));
    recorder.take()
}

/// Reports one event.
fn report(event: Event) {
    emit(|| event);
}

/// Spawns `task` named `name`, as `task::Builder::name(..).spawn(..)` reports it.
fn spawn(task: TaskKey, name: &str, location: &'static Location<'static>) {
    report(Event::Spawn { task, location });
    emit_name(task, name);
}

/// One poll of `task` that reports `waits` and ends with `result`.
fn poll(task: TaskKey, waits: &[WaitOn], result: PollResult) {
    report(Event::PollStart { task });
    for &on in waits {
        report(Event::Waits { on });
    }
    report(Event::PollEnd { task, result, wakers: None });
}

/// The "names" task's address.
const NAMES: TaskKey = TaskKey(0x1000);
/// The "ages" task's address.
const AGES: TaskKey = TaskKey(0x2000);

/// A coroutine of names_ages: its key, and the sleeps (ms) after each line it prints.
struct Coroutine {
    /// Its task.
    task: TaskKey,
    /// Sleeps still to come.
    sleeps: VecDeque<u64>,
    /// Whether it returned.
    done: bool,
}

/// names_ages on the paused clock: `#0 main` spawns "names" (5 lines) and "ages" (10 lines) and
/// awaits both handles; each prints, sleeps, and is woken when the clock jumps to its timer.
fn names_ages() -> Recording {
    record(|clock| {
        let mut coroutines = [
            Coroutine {
                task: NAMES,
                sleeps: VecDeque::from([734, 120, 455, 901, 312]),
                done: false,
            },
            Coroutine {
                task: AGES,
                sleeps: VecDeque::from([250, 61, 400, 133, 488, 20, 310, 95, 402, 199]),
                done: false,
            },
        ];
        // #0 main: spawns both, then awaits both handles.
        report(Event::PollStart { task: TaskKey::ROOT });
        spawn(NAMES, "names", names_site());
        spawn(AGES, "ages", ages_site());
        report(Event::Waits { on: WaitOn::Join { task: NAMES } });
        report(Event::Waits { on: WaitOn::Join { task: AGES } });
        report(Event::PollEnd { task: TaskKey::ROOT, result: PollResult::Pending, wakers: None });
        // A look at I/O between polls that finds nothing: the explain mode says nothing of it.
        report(Event::Park { wait_ns: Some(0), reason: WaitReason::Busy });
        report(Event::Unpark { io_events: 0, unparked: false });
        let mut queue = VecDeque::from([0, 1]);
        // Armed timers: (deadline, slab index, coroutine). The slab reuses the lowest free index.
        let mut timers: Vec<(u64, u32, usize)> = Vec::new();
        loop {
            while let Some(which) = queue.pop_front() {
                let coroutine = &mut coroutines[which];
                match coroutine.sleeps.pop_front() {
                    Some(sleep) => {
                        let timer = (0..).find(|i| timers.iter().all(|t| t.1 != *i)).unwrap();
                        let deadline_ns = clock.get() + sleep * MS;
                        timers.push((deadline_ns, timer, which));
                        let on = WaitOn::Timer { timer, deadline_ns };
                        poll(coroutine.task, &[on], PollResult::Pending);
                    }
                    None => {
                        let task = coroutine.task;
                        coroutine.done = true;
                        poll(task, &[], PollResult::Ready);
                        report(Event::Complete { task, outcome: Outcome::Returned });
                        let join = Cause::Join { task };
                        report(Event::Wake {
                            task: TaskKey::ROOT,
                            cause: join,
                            queue: Queue::Local,
                        });
                        // #0 main, the only task queued, polls the handles again.
                        let waits: Vec<WaitOn> = coroutines
                            .iter()
                            .filter(|c| !c.done)
                            .map(|c| WaitOn::Join { task: c.task })
                            .collect();
                        let result =
                            if waits.is_empty() { PollResult::Ready } else { PollResult::Pending };
                        poll(TaskKey::ROOT, &waits, result);
                    }
                }
            }
            let Some(&(deadline_ns, timer, which)) = timers.iter().min() else { break };
            report(Event::Park {
                wait_ns: Some(0),
                reason: WaitReason::PausedJump { to_ns: deadline_ns },
            });
            report(Event::ClockJump { to_ns: deadline_ns });
            clock.set(deadline_ns);
            report(Event::TimerFired { timer, deadline_ns });
            let cause = Cause::Timer { timer, deadline_ns };
            report(Event::Wake { task: coroutines[which].task, cause, queue: Queue::Local });
            report(Event::Unpark { io_events: 0, unparked: false });
            timers.retain(|t| t.1 != timer);
            queue.push_back(which);
        }
    })
}

/// The "google" task's address.
const GOOGLE: TaskKey = TaskKey(0x3000);
/// The "github" task's address.
const GITHUB: TaskKey = TaskKey(0x4000);
/// One microsecond, in nanoseconds.
const US: u64 = 1_000;

/// A site_status-like run on a real clock: `#0 main` spawns "google" (which resolves its host
/// with a `to_thread` job, then connects with a 5 s timeout) and "github" (which connects at
/// once), and awaits both handles.
fn site_status() -> Recording {
    record(|clock| {
        let io = |fd, direction| WaitOn::Io { fd, direction };
        let timeout = WaitOn::Timer { timer: 0, deadline_ns: 5_045 * MS };
        let wake = |task, cause| report(Event::Wake { task, cause, queue: Queue::Local });
        let turn_ends = |io_events| report(Event::Unpark { io_events, unparked: false });
        report(Event::PollStart { task: TaskKey::ROOT });
        spawn(GOOGLE, "google", site_site());
        spawn(GITHUB, "github", site_site());
        report(Event::Waits { on: WaitOn::Join { task: GOOGLE } });
        report(Event::Waits { on: WaitOn::Join { task: GITHUB } });
        clock.set(40 * US);
        report(Event::PollEnd { task: TaskKey::ROOT, result: PollResult::Pending, wakers: None });
        // "google" hands its DNS lookup to the pool; "github" connects.
        report(Event::PollStart { task: GOOGLE });
        report(Event::JobSubmitted { job: 1 });
        report(Event::Waits { on: WaitOn::Job { job: 1 } });
        clock.set(80 * US);
        report(Event::PollEnd { task: GOOGLE, result: PollResult::Pending, wakers: None });
        report(Event::PollStart { task: GITHUB });
        report(Event::IoRegistered { fd: 7 });
        report(Event::Waits { on: io(7, Direction::Write) });
        clock.set(150 * US);
        report(Event::PollEnd { task: GITHUB, result: PollResult::Pending, wakers: None });
        // Nothing to run, no timer: block until a socket or another thread.
        report(Event::Park { wait_ns: None, reason: WaitReason::Idle });
        clock.set(38 * MS);
        report(Event::IoReady { fd: 7, read: false, write: true });
        wake(GITHUB, Cause::Io { fd: 7, direction: Direction::Write });
        turn_ends(1);
        clock.set(38 * MS + 50 * US);
        poll(GITHUB, &[io(7, Direction::Read)], PollResult::Pending);
        report(Event::Park { wait_ns: None, reason: WaitReason::Idle });
        // The pool thread finishes the lookup and wakes the runtime from outside.
        clock.set(45 * MS);
        report(Event::Unpark { io_events: 0, unparked: true });
        report(Event::Wake { task: GOOGLE, cause: Cause::Remote, queue: Queue::Remote });
        clock.set(45 * MS + 50 * US);
        report(Event::PollStart { task: GOOGLE });
        report(Event::JobFinished { job: 1, ran_ns: 44_900 * US });
        report(Event::IoRegistered { fd: 8 });
        report(Event::Waits { on: io(8, Direction::Write) });
        report(Event::Waits { on: timeout });
        clock.set(45 * MS + 100 * US);
        report(Event::PollEnd { task: GOOGLE, result: PollResult::Pending, wakers: None });
        let next_timer = WaitReason::NextTimer { deadline_ns: 5_045 * MS };
        report(Event::Park { wait_ns: Some(4_999_900 * US), reason: next_timer });
        clock.set(120 * MS);
        report(Event::IoReady { fd: 8, read: false, write: true });
        wake(GOOGLE, Cause::Io { fd: 8, direction: Direction::Write });
        turn_ends(1);
        poll(GOOGLE, &[io(8, Direction::Read), timeout], PollResult::Pending);
        report(Event::Park { wait_ns: Some(4_925 * MS), reason: next_timer });
        // google answers first.
        clock.set(310 * MS);
        report(Event::IoReady { fd: 8, read: true, write: false });
        wake(GOOGLE, Cause::Io { fd: 8, direction: Direction::Read });
        turn_ends(1);
        report(Event::PollStart { task: GOOGLE });
        report(Event::IoDeregistered { fd: 8 });
        clock.set(310 * MS + 300 * US);
        report(Event::PollEnd { task: GOOGLE, result: PollResult::Ready, wakers: None });
        report(Event::Complete { task: GOOGLE, outcome: Outcome::Returned });
        wake(TaskKey::ROOT, Cause::Join { task: GOOGLE });
        // #0 main is queued: the reactor only looks, and finds github's answer.
        report(Event::Park { wait_ns: Some(0), reason: WaitReason::Busy });
        report(Event::IoReady { fd: 7, read: true, write: false });
        wake(GITHUB, Cause::Io { fd: 7, direction: Direction::Read });
        turn_ends(1);
        clock.set(310 * MS + 500 * US);
        poll(TaskKey::ROOT, &[WaitOn::Join { task: GITHUB }], PollResult::Pending);
        report(Event::PollStart { task: GITHUB });
        report(Event::IoDeregistered { fd: 7 });
        clock.set(311 * MS);
        report(Event::PollEnd { task: GITHUB, result: PollResult::Ready, wakers: None });
        report(Event::Complete { task: GITHUB, outcome: Outcome::Returned });
        wake(TaskKey::ROOT, Cause::Join { task: GITHUB });
        clock.set(311 * MS + 100 * US);
        poll(TaskKey::ROOT, &[], PollResult::Ready);
    })
}

/// Compares `actual` with the golden file `tests/golden/<name>`; with `BLESS=1` in the
/// environment, writes it instead.
fn check_golden(name: &str, actual: &str) {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{name} differs from its golden file (BLESS=1 rewrites it).\n--- actual:\n{actual}"
    );
}

#[test]
fn names_ages_explained_one_line_per_decision() {
    check_golden("names_ages.explain.txt", &explain(&names_ages()));
}

#[test]
fn names_ages_timeline_in_80_columns_is_one_block() {
    check_golden("names_ages.timeline80.txt", &render_timeline(&names_ages(), 80));
}

#[test]
fn names_ages_timeline_in_40_columns_wraps_into_blocks() {
    check_golden("names_ages.timeline40.txt", &render_timeline(&names_ages(), 40));
}

#[test]
fn site_status_explained_one_line_per_decision() {
    check_golden("site_status.explain.txt", &explain(&site_status()));
}

#[test]
fn site_status_timeline_in_80_columns() {
    check_golden("site_status.timeline80.txt", &render_timeline(&site_status(), 80));
}

#[test]
fn site_status_timeline_in_40_columns_wraps_into_blocks() {
    check_golden("site_status.timeline40.txt", &render_timeline(&site_status(), 40));
}

#[test]
fn the_narrator_driven_live_by_the_listener_tells_what_explain_tells() {
    let told = Rc::new(RefCell::new(String::new()));
    let now = Rc::new(Cell::new(0));
    let clock = now.clone();
    let recorder = Recorder::new(DEFAULT_CAP, Box::new(move || clock.get()));
    let (mut narrator, out) = (Narrator::new(recorder.origin_ns()), told.clone());
    recorder.set_listener(Box::new(move |record, names| {
        if let Some(lines) = narrator.narrate(record, names) {
            out.borrow_mut().push_str(&lines);
            out.borrow_mut().push('\n');
        }
    }));
    recorder.scope(|| {
        // Replays site_status's records through this recorder, at their times.
        for record in site_status().records {
            now.set(record.at_ns);
            match record.event {
                Event::Name { task, .. } => emit_name(task, name_of(task)),
                event => report(event),
            }
        }
    });
    assert_eq!(*told.borrow(), explain(&site_status()));
}

/// The name site_status gives the task at `task`.
fn name_of(task: TaskKey) -> &'static str {
    if task == GOOGLE { "google" } else { "github" }
}

#[test]
fn no_timeline_line_is_wider_than_asked() {
    for (recording, width) in [(names_ages(), 40), (names_ages(), 80), (site_status(), 40)] {
        let text = render_timeline(&recording, width);
        let widest = text.lines().map(|line| line.chars().count()).max().unwrap();
        assert!(widest <= width, "{widest} > {width}:\n{text}");
    }
}

/// A run on a clock that read 5 s when the recording began (the recorder was made long after
/// the reactor): `#0 main` sleeps until 5.734 s on that clock, 734 ms into the recording.
fn late_recorder() -> (Recording, String) {
    let now = Rc::new(Cell::new(5_000 * MS));
    let clock = now.clone();
    let recorder = Recorder::new(DEFAULT_CAP, Box::new(move || clock.get()));
    let told = Rc::new(RefCell::new(String::new()));
    let (mut narrator, out) = (Narrator::new(recorder.origin_ns()), told.clone());
    recorder.set_listener(Box::new(move |record, names| {
        if let Some(lines) = narrator.narrate(record, names) {
            out.borrow_mut().push_str(&lines);
            out.borrow_mut().push('\n');
        }
    }));
    let due = 5_734 * MS;
    recorder.scope(|| {
        poll(TaskKey::ROOT, &[WaitOn::Timer { timer: 0, deadline_ns: due }], PollResult::Pending);
        let reason = WaitReason::NextTimer { deadline_ns: due };
        report(Event::Park { wait_ns: Some(734 * MS), reason });
        now.set(due);
        report(Event::TimerFired { timer: 0, deadline_ns: due });
        let cause = Cause::Timer { timer: 0, deadline_ns: due };
        report(Event::Wake { task: TaskKey::ROOT, cause, queue: Queue::Local });
        report(Event::Unpark { io_events: 0, unparked: false });
        poll(TaskKey::ROOT, &[], PollResult::Ready);
    });
    let live = told.borrow().clone();
    (recorder.take(), live)
}

#[test]
fn a_deadline_is_told_at_the_time_it_fires_when_the_clock_did_not_start_with_the_recording() {
    let (recording, live) = late_recorder();
    assert_eq!(recording.origin_ns, 5_000 * MS);
    let told = explain(&recording);
    assert_eq!(
        told.lines().collect::<Vec<_>>(),
        [
            "  0.000s  poll #0 main -> Pending: waits on timer #0 (due 0.734s)",
            "  0.000s  nothing to run; epoll_wait for 734 ms (next timer at 0.734s)",
            "  0.734s  timer #0 fired -> wake #0 main (local queue)", // fires when it was due
            "  0.734s  poll #0 main -> Ready: block_on returns",
        ]
    );
    assert_eq!(live, told, "the live narrator was told the origin too");
}
