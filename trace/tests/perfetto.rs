//! The Perfetto writer, checked by structure: recordings built by hand (a fake clock the script
//! sets, a [`Recorder`] current around the script), written with [`write_chrome_trace`], parsed
//! back with `serde_json`, and held to the rules a viewer relies on.
//!
//! The rules: one JSON object in the format's Object Format; every arrow's `s` has exactly one
//! `f` (same id, same category, same name: Perfetto keys a flow by all three) and the `f` binds
//! to its enclosing slice (`"bp": "e"`); both ends lie inside a slice of their own track, and
//! are written right after it (Perfetto binds a flow event to the slice on top of its track's
//! stack when it reads it); slices on a track nest and never overlap; time never goes back on
//! a track; every track is named; counters are numbers; lost events are reported.
//!
//! Three recordings: `story` (a real clock: spawns, timers, a channel hand-off, a yield, an
//! abort, a panic, a remote wake, a task at a reused address), `paused` (a paused clock: every
//! poll takes no time) and a recording cut short by its cap.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::Location;
use std::rc::Rc;

use cashier_trace::{
    Cause, ChannelNews, DEFAULT_CAP, Direction, Event, Outcome, PollResult, Primitive, Queue,
    Recorder, Recording, TaskKey, WaitOn, WaitReason, current_cause, emit, emit_name, with_cause,
    write_chrome_trace,
};
use serde_json::Value;

/// Where the unnamed task `#3` is spawned (its track is named after this line).
fn unnamed_site() -> &'static Location<'static> {
    Location::caller()
}

/// Where every other task is spawned.
fn site() -> &'static Location<'static> {
    Location::caller()
}

/// One microsecond and one millisecond, in nanoseconds.
const US: u64 = 1_000;
const MS: u64 = 1_000_000;

/// Task keys: the addresses of the tasks' allocations. `D` is spawned at `A`'s address once `A`
/// is freed.
const A: TaskKey = TaskKey(0x1000);
const B: TaskKey = TaskKey(0x2000);
const C: TaskKey = TaskKey(0x3000);
const D: TaskKey = A;

// ---------------------------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------------------------

/// Runs `script` with a recorder (keeping at most `cap` events) current and a clock it sets.
fn record(cap: usize, script: impl FnOnce(&Cell<u64>)) -> Recording {
    let now = Rc::new(Cell::new(0));
    let clock = now.clone();
    let recorder = Recorder::new(cap, Box::new(move || clock.get()));
    recorder.scope(|| script(&now));
    recorder.take()
}

/// Reports one event.
fn report(event: Event) {
    emit(|| event);
}

/// Spawns `task`, named `name` if given.
fn spawn(task: TaskKey, name: Option<&str>, location: &'static Location<'static>) {
    report(Event::Spawn { task, location });
    if let Some(name) = name {
        emit_name(task, name);
    }
}

/// Wakes `task` on behalf of `cause`, as the runtime does: the cause named around the call.
fn wake(task: TaskKey, cause: Cause, queue: Queue) {
    with_cause(|| cause, || report(Event::Wake { task, cause: current_cause(), queue }));
}

/// A reactor turn: `Park`, the turn's own events, `Unpark`.
fn turn(wait_ns: Option<u64>, reason: WaitReason, unparked: bool, inside: impl FnOnce()) {
    report(Event::Park { wait_ns, reason });
    inside();
    report(Event::Unpark { io_events: 0, unparked });
}

/// A poll of `task`: `PollStart`, what the future does, `PollEnd`.
fn poll(task: TaskKey, result: PollResult, inside: impl FnOnce()) {
    report(Event::PollStart { task });
    inside();
    report(Event::PollEnd { task, result, wakers: None });
}

/// A real clock: the root spawns `#1 names`, `#2 ages` and an unnamed `#3`; `names` sleeps on
/// timer #5, the reactor fires it, `names` hands `ages` a message and yields; `ages` aborts
/// `#3`; `names` returns and wakes the root through its join handle; the root spawns `#4 reused`
/// at `names`'s freed address, which panics; `ages` waits for a `to_thread` job, whose thread
/// wakes it remotely.
fn story() -> Recording {
    record(DEFAULT_CAP, |now| {
        poll(TaskKey::ROOT, PollResult::Pending, || {
            spawn(A, Some("names"), site());
            spawn(B, Some("ages"), site());
            spawn(C, None, unnamed_site());
            report(Event::Waits { on: WaitOn::Join { task: A } });
        });
        now.set(10 * US);
        poll(A, PollResult::Pending, || {
            report(Event::Waits { on: WaitOn::Timer { timer: 5, deadline_ns: 734 * MS + 15 * US } })
        });
        now.set(12 * US);
        poll(B, PollResult::Pending, || {
            report(Event::Waits { on: WaitOn::Primitive(Primitive::Channel(ChannelNews::Message)) })
        });
        now.set(13 * US);
        poll(C, PollResult::Pending, || {
            report(Event::Waits { on: WaitOn::Primitive(Primitive::Semaphore) })
        });
        now.set(15 * US);
        let next_timer = WaitReason::NextTimer { deadline_ns: 734 * MS + 15 * US };
        turn(Some(734 * MS), next_timer, false, || {
            now.set(734 * MS + 15 * US);
            report(Event::TimerFired { timer: 5, deadline_ns: 734 * MS + 15 * US });
            wake(A, Cause::Timer { timer: 5, deadline_ns: 734 * MS + 15 * US }, Queue::Local);
        });
        now.set(735 * MS);
        poll(A, PollResult::Pending, || {
            now.set(735 * MS + 100);
            wake(B, Cause::HandOff(Primitive::Channel(ChannelNews::Message)), Queue::Local);
            now.set(735 * MS + 200);
            wake(A, Cause::Yield, Queue::WhileRunning);
            now.set(735 * MS + 300);
        });
        now.set(736 * MS);
        poll(B, PollResult::Pending, || {
            report(Event::Abort { task: C });
            report(Event::JobSubmitted { job: 1 });
            report(Event::Waits { on: WaitOn::Job { job: 1 } });
        });
        now.set(737 * MS);
        report(Event::Complete { task: C, outcome: Outcome::Cancelled });
        now.set(738 * MS);
        poll(A, PollResult::Ready, || now.set(738 * MS + 500));
        report(Event::Complete { task: A, outcome: Outcome::Returned });
        wake(TaskKey::ROOT, Cause::Join { task: A }, Queue::Local);
        now.set(739 * MS);
        poll(TaskKey::ROOT, PollResult::Pending, || spawn(D, Some("reused"), site()));
        now.set(740 * MS);
        turn(Some(0), WaitReason::Busy, false, || {});
        poll(D, PollResult::Panicked, || now.set(740 * MS + 20));
        report(Event::Complete { task: D, outcome: Outcome::Panicked });
        now.set(741 * MS);
        turn(None, WaitReason::Idle, true, || now.set(749 * MS));
        now.set(749 * MS + 5);
        wake(B, Cause::Remote, Queue::Remote);
        now.set(750 * MS);
        poll(B, PollResult::Ready, || report(Event::JobFinished { job: 1, ran_ns: 8 * MS }));
        report(Event::Complete { task: B, outcome: Outcome::Returned });
    })
}

/// A paused clock: polls take no time; the reactor waits for a job without the clock moving,
/// then the clock jumps to the next timer. Everything before the jump happens at 0 ns.
fn paused() -> Recording {
    record(DEFAULT_CAP, |now| {
        poll(TaskKey::ROOT, PollResult::Pending, || {
            spawn(A, Some("names"), site());
            spawn(B, Some("ages"), site());
        });
        poll(A, PollResult::Pending, || {
            wake(A, Cause::Yield, Queue::WhileRunning);
        });
        poll(B, PollResult::Pending, || {
            report(Event::Waits { on: WaitOn::Timer { timer: 1, deadline_ns: 734 * MS } });
        });
        poll(A, PollResult::Pending, || {
            report(Event::JobSubmitted { job: 1 });
            report(Event::Waits { on: WaitOn::Job { job: 1 } });
        });
        turn(None, WaitReason::Job, true, || {});
        wake(A, Cause::Remote, Queue::Remote);
        poll(A, PollResult::Ready, || report(Event::JobFinished { job: 1, ran_ns: 3 * MS }));
        report(Event::Complete { task: A, outcome: Outcome::Returned });
        turn(Some(0), WaitReason::PausedJump { to_ns: 734 * MS }, false, || {
            now.set(734 * MS);
            report(Event::ClockJump { to_ns: 734 * MS });
            report(Event::TimerFired { timer: 1, deadline_ns: 734 * MS });
            wake(B, Cause::Timer { timer: 1, deadline_ns: 734 * MS }, Queue::Local);
        });
        poll(B, PollResult::Ready, || {});
        report(Event::Complete { task: B, outcome: Outcome::Returned });
    })
}

/// The story, cut short: the recorder keeps 23 events (up to the middle of `names`'s second
/// poll, right after it woke `ages`) and drops the rest.
fn cut_short() -> Recording {
    let full = story();
    let kept = record(23, |now| {
        for record in &full.records {
            now.set(record.at_ns);
            match record.event {
                Event::Name { task, name } => emit_name(task, &full.names[name as usize]),
                event => report(event),
            }
        }
    });
    assert!(matches!(kept.records[22].event, Event::Wake { task: B, .. }));
    kept
}

// ---------------------------------------------------------------------------------------------
// Reading the trace back
// ---------------------------------------------------------------------------------------------

/// Writes `recording` and returns the JSON text.
fn json_text(recording: &Recording) -> String {
    let mut out = Vec::new();
    write_chrome_trace(recording, &mut out).expect("writing to a Vec does not fail");
    String::from_utf8(out).expect("the writer writes UTF-8")
}

/// Writes `recording` and parses it back.
fn trace(recording: &Recording) -> Value {
    serde_json::from_str(&json_text(recording)).expect("the trace is valid JSON")
}

/// The `traceEvents` array.
fn events(trace: &Value) -> &[Value] {
    trace["traceEvents"].as_array().expect("traceEvents is an array")
}

/// A field's text.
fn text<'v>(event: &'v Value, key: &str) -> &'v str {
    event[key].as_str().unwrap_or_else(|| panic!("{key} is a string in {event}"))
}

/// A time field (`ts`, `dur`), in microseconds, back in nanoseconds.
fn nanos(event: &Value, key: &str) -> u64 {
    let micros = event[key].as_f64().unwrap_or_else(|| panic!("{key} is a number in {event}"));
    (micros * 1_000.0).round() as u64
}

/// The `tid` of an event.
fn tid(event: &Value) -> u64 {
    event["tid"].as_u64().expect("every event has a numeric tid")
}

/// The events of phase `ph`.
fn phase<'v>(trace: &'v Value, ph: &str) -> Vec<&'v Value> {
    events(trace).iter().filter(|event| text(event, "ph") == ph).collect()
}

/// Each track's name, by tid.
fn thread_names(trace: &Value) -> BTreeMap<u64, String> {
    let names = phase(trace, "M").into_iter().filter(|e| text(e, "name") == "thread_name");
    names.map(|e| (tid(e), e["args"]["name"].as_str().unwrap().to_owned())).collect()
}

/// The tid of the track named `name`.
fn track(trace: &Value, name: &str) -> u64 {
    let names = thread_names(trace);
    let found = names.iter().find(|(_, n)| *n == name);
    *found.unwrap_or_else(|| panic!("no track named {name:?} in {names:?}")).0
}

/// The names of the events of phase `ph` on track `tid`, in order.
fn names_on(trace: &Value, ph: &str, tid_: u64) -> Vec<String> {
    let on_track = phase(trace, ph).into_iter().filter(|e| tid(e) == tid_);
    on_track.map(|e| text(e, "name").to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------

/// Every rule, on one trace.
fn check_all(trace: &Value) {
    check_object_format(trace);
    check_flows_pair(trace);
    check_flows_bind_to_their_slices(trace);
    check_slices_nest(trace);
    check_time_moves_forward(trace);
    check_tracks_are_named(trace);
    check_counters_are_numbers(trace);
}

/// The JSON Object Format: the events, the display unit, the other data.
fn check_object_format(trace: &Value) {
    assert!(trace["traceEvents"].is_array());
    assert_eq!(trace["displayTimeUnit"], "ns");
    assert!(trace["otherData"].is_object());
    for event in events(trace) {
        assert_eq!(event["pid"], 1, "one process: {event}");
        assert!(event["ph"].as_str().is_some_and(|ph| ph.len() == 1), "{event}");
        assert!(
            event["ts"].is_number() || event["ph"] == "M",
            "only metadata has no time: {event}"
        );
    }
}

/// Every `s` has exactly one `f`, with the same id, category and name, and every `f` one `s`;
/// the `f` binds to its enclosing slice.
fn check_flows_pair(trace: &Value) {
    let mut ends: BTreeMap<u64, (Vec<&Value>, Vec<&Value>)> = BTreeMap::new();
    for event in events(trace) {
        let id = || event["id"].as_u64().unwrap_or_else(|| panic!("a numeric flow id: {event}"));
        match text(event, "ph") {
            "s" => ends.entry(id()).or_default().0.push(event),
            "f" => ends.entry(id()).or_default().1.push(event),
            _ => {}
        }
    }
    for (id, (starts, finishes)) in ends {
        assert_eq!((starts.len(), finishes.len()), (1, 1), "flow {id}: one s, one f");
        let (s, f) = (starts[0], finishes[0]);
        assert_eq!(s["cat"], f["cat"], "flow {id}: one category");
        assert_eq!(s["name"], f["name"], "flow {id}: one name");
        assert_eq!(f["bp"], "e", "flow {id}: the f binds to its enclosing slice");
        assert!(nanos(s, "ts") <= nanos(f, "ts"), "flow {id} goes forward in time");
    }
}

/// Each flow event lies inside an `X` slice of its own track, and the last slice written on
/// that track before it (the one Perfetto binds it to) is that slice: a wake for an `s`, a
/// poll for an `f`, starting at the flow's time.
fn check_flows_bind_to_their_slices(trace: &Value) {
    let mut last_slice: BTreeMap<u64, &Value> = BTreeMap::new();
    for event in events(trace) {
        let ph = text(event, "ph");
        if ph == "X" {
            last_slice.insert(tid(event), event);
        }
        if ph != "s" && ph != "f" {
            continue;
        }
        let slice =
            last_slice.get(&tid(event)).unwrap_or_else(|| panic!("no slice before {event}"));
        let (at, start) = (nanos(event, "ts"), nanos(slice, "ts"));
        assert!(start <= at && at <= start + nanos(slice, "dur"), "{event} inside {slice}");
        assert_eq!(at, start, "{event} at the start of {slice}");
        let expected = if ph == "s" { "wake " } else { "poll" };
        assert!(text(slice, "name").starts_with(expected), "{event} bound to {slice}");
    }
}

/// On each track, two slices are disjoint or one lies inside the other.
fn check_slices_nest(trace: &Value) {
    let slices = phase(trace, "X");
    for (i, a) in slices.iter().enumerate() {
        for b in &slices[i + 1..] {
            if tid(a) != tid(b) {
                continue;
            }
            let (a0, b0) = (nanos(a, "ts"), nanos(b, "ts"));
            let (a1, b1) = (a0 + nanos(a, "dur"), b0 + nanos(b, "dur"));
            let disjoint = a1 <= b0 || b1 <= a0;
            let nested = (a0 <= b0 && b1 <= a1) || (b0 <= a0 && a1 <= b1);
            assert!(disjoint || nested, "{a} and {b} overlap");
        }
    }
}

/// On each track, events are written in time order.
fn check_time_moves_forward(trace: &Value) {
    let mut last: BTreeMap<u64, u64> = BTreeMap::new();
    for event in events(trace).iter().filter(|e| e["ph"] != "M") {
        let at = nanos(event, "ts");
        let previous = last.insert(tid(event), at).unwrap_or(0);
        assert!(previous <= at, "{event} goes back in time from {previous} ns");
    }
}

/// Every track an event is on has a name and a place.
fn check_tracks_are_named(trace: &Value) {
    let names = thread_names(trace);
    let sorted: BTreeSet<u64> = phase(trace, "M")
        .into_iter()
        .filter(|e| text(e, "name") == "thread_sort_index")
        .map(tid)
        .collect();
    for event in events(trace) {
        assert!(names.contains_key(&tid(event)), "{event} is on an unnamed track");
        assert!(sorted.contains(&tid(event)), "{event} is on an unsorted track");
    }
    let process = phase(trace, "M").into_iter().find(|e| text(e, "name") == "process_name");
    assert_eq!(process.expect("the process is named")["args"]["name"], "cashier");
}

/// Every counter value is a number.
fn check_counters_are_numbers(trace: &Value) {
    for counter in phase(trace, "C") {
        let args = counter["args"].as_object().expect("a counter has args");
        assert!(!args.is_empty() && args.values().all(Value::is_number), "{counter}");
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: the rules, on each recording
// ---------------------------------------------------------------------------------------------

#[test]
fn the_trace_is_one_object_in_the_object_format() {
    check_object_format(&trace(&story()));
}

#[test]
fn every_arrow_has_one_start_and_one_end() {
    let trace = trace(&story());
    check_flows_pair(&trace);
    assert_eq!(phase(&trace, "s").len(), 5, "timer, channel, yield, join, remote");
}

#[test]
fn every_arrow_leaves_from_its_wake_and_lands_on_its_poll() {
    check_flows_bind_to_their_slices(&trace(&story()));
}

#[test]
fn slices_on_a_track_nest_and_never_overlap() {
    check_slices_nest(&trace(&story()));
}

#[test]
fn time_never_goes_back_on_a_track() {
    check_time_moves_forward(&trace(&story()));
}

#[test]
fn every_track_used_is_named() {
    check_tracks_are_named(&trace(&story()));
}

#[test]
fn counters_are_numbers() {
    check_counters_are_numbers(&trace(&story()));
}

#[test]
fn a_paused_clock_keeps_every_rule() {
    let recording = paused();
    assert!(recording.records[..20].iter().all(|r| r.at_ns == 0), "no time passes");
    let trace = trace(&recording);
    check_all(&trace);
    let polls: Vec<_> = phase(&trace, "X").into_iter().filter(|e| e["name"] == "poll").collect();
    assert!(polls.iter().all(|poll| nanos(poll, "dur") == 0), "polls take no time");
    assert_eq!(phase(&trace, "s").len(), 3, "yield, remote, timer");
}

#[test]
fn a_recording_cut_short_keeps_every_rule_and_says_what_it_lost() {
    let recording = cut_short();
    let trace = trace(&recording);
    check_all(&trace);
    let dropped = recording.dropped;
    assert!(dropped > 0);
    assert_eq!(trace["otherData"]["dropped_events"], dropped);
    let last = events(&trace).last().unwrap();
    assert_eq!(last["name"], format!("{dropped} events dropped (cap reached)"));
    assert_eq!((&last["ph"], &last["s"]), (&Value::from("i"), &Value::from("g")));
    // The recording ends inside `names`'s second poll: it is closed there, unfinished.
    let names = track(&trace, "#1 names");
    let polls: Vec<_> =
        phase(&trace, "X").into_iter().filter(|e| tid(e) == names && e["name"] == "poll").collect();
    assert_eq!(polls.last().unwrap()["args"]["result"], "unfinished (its end was not recorded)");
    // Its wake of `ages` (channel) has no poll after it in the recording: no arrow.
    assert_eq!(phase(&trace, "s").len(), 1, "only the timer's arrow, which reached its poll");
}

#[test]
fn a_full_recording_reports_no_loss() {
    let trace = trace(&story());
    assert!(trace["otherData"].get("dropped_events").is_none());
    assert!(events(&trace).iter().all(|e| !text(e, "name").contains("dropped")));
}

#[test]
fn an_empty_recording_is_still_a_trace() {
    let trace = trace(&Recording::default());
    check_all(&trace);
    assert_eq!(thread_names(&trace).into_values().collect::<Vec<_>>(), ["reactor", "#0 main"]);
}

// ---------------------------------------------------------------------------------------------
// Tests: names
// ---------------------------------------------------------------------------------------------

#[test]
fn the_root_is_named_main() {
    assert_eq!(thread_names(&trace(&story()))[&2], "#0 main");
}

#[test]
fn a_named_task_is_named_by_its_name() {
    let trace = trace(&story());
    assert_eq!(thread_names(&trace)[&3], "#1 names");
    assert_eq!(thread_names(&trace)[&4], "#2 ages");
}

#[test]
fn an_unnamed_task_is_named_by_where_it_was_spawned() {
    let at = unnamed_site();
    let expected = format!("#3 at {}:{}", at.file(), at.line());
    assert!(expected.starts_with("#3 at trace/tests/perfetto.rs:"), "{expected}");
    assert_eq!(thread_names(&trace(&story()))[&5], expected);
}

#[test]
fn the_reactor_comes_first_then_the_tasks_by_id() {
    let trace = trace(&story());
    let sort_index = |tid_: u64| {
        let indices = phase(&trace, "M").into_iter().filter(|e| e["name"] == "thread_sort_index");
        let event = indices.into_iter().find(|e| tid(e) == tid_).unwrap();
        event["args"]["sort_index"].as_i64().unwrap()
    };
    let order = ["reactor", "#0 main", "#1 names", "#2 ages", "#4 reused"];
    let indices: Vec<_> = order.iter().map(|name| sort_index(track(&trace, name))).collect();
    assert!(indices.is_sorted_by(|a, b| a < b), "{indices:?}");
}

#[test]
fn names_are_escaped() {
    let name = "say \"hi\" \\ to\nthe\ttab \u{1} and é";
    let recording = record(DEFAULT_CAP, |_| spawn(A, Some(name), site()));
    let text = json_text(&recording);
    assert!(text.contains(r#"say \"hi\" \\ to\nthe\ttab \u0001 and é"#), "{text}");
    assert_eq!(thread_names(&serde_json::from_str(&text).unwrap())[&3], format!("#1 {name}"));
}

#[test]
fn reactor_turns_are_named_by_what_they_did() {
    let turns = |trace: &Value| {
        let turns = phase(trace, "X").into_iter().filter(|e| e["cat"] == "reactor");
        turns.map(|e| text(e, "name").to_owned()).collect::<Vec<_>>()
    };
    let story = trace(&story());
    assert_eq!(
        turns(&story),
        ["wait 734 ms (next timer)", "look, no wait (tasks ready: 1 queued)", "wait (idle)"]
    );
    let busy = phase(&story, "X").into_iter().filter(|e| e["cat"] == "reactor").nth(1).unwrap();
    assert_eq!(busy["args"]["reason"], "tasks ready (1 queued): only a look at the OS");
    assert_eq!((&busy["args"]["queued"], &busy["args"]["main_woken"]), (&1.into(), &false.into()));
    assert_eq!(turns(&trace(&paused())), ["wait for job (paused clock)", "clock jump to 0.734 s"]);
    let first = phase(&story, "X").into_iter().find(|e| e["cat"] == "reactor").unwrap();
    assert_eq!(first["args"]["reason"], "next timer, due 0.734015 s");
    assert_eq!(first["args"]["io_events"], 0);
    assert_eq!(first["args"]["unparked"], false);
}

#[test]
fn deadlines_are_on_the_recordings_scale_when_the_clock_did_not_start_with_it() {
    // The runtime's clock read 5 s when the recorder was made: a timer due at 5.734 s on it
    // fires 734 ms into the recording, and the trace says so.
    let now = Rc::new(Cell::new(5_000 * MS));
    let clock = now.clone();
    let recorder = Recorder::new(DEFAULT_CAP, Box::new(move || clock.get()));
    let due = 5_734 * MS;
    recorder.scope(|| {
        poll(TaskKey::ROOT, PollResult::Pending, || {
            report(Event::Waits { on: WaitOn::Timer { timer: 0, deadline_ns: due } })
        });
        turn(Some(0), WaitReason::PausedJump { to_ns: due }, false, || {
            now.set(due);
            report(Event::ClockJump { to_ns: due });
            report(Event::TimerFired { timer: 0, deadline_ns: due });
            wake(TaskKey::ROOT, Cause::Timer { timer: 0, deadline_ns: due }, Queue::Local);
        });
        poll(TaskKey::ROOT, PollResult::Ready, || {});
    });
    let trace = trace(&recorder.take());
    let turn = phase(&trace, "X").into_iter().find(|e| e["cat"] == "reactor").unwrap();
    assert_eq!(text(turn, "name"), "clock jump to 0.734 s");
    assert_eq!(turn["args"]["reason"], "paused clock: jump to the next timer, at 0.734 s");
    let marks = names_on(&trace, "i", track(&trace, "reactor"));
    assert_eq!(marks, ["clock jumps to 0.734 s", "timer #0 fired"]);
    let fired = phase(&trace, "i").into_iter().find(|e| e["name"] == "timer #0 fired").unwrap();
    assert_eq!((nanos(fired, "ts"), &fired["args"]["deadline"]), (734 * MS, &"0.734 s".into()));
    let main = track(&trace, "#0 main");
    assert_eq!(names_on(&trace, "i", main), ["waits on timer #0 (due 0.734 s)"]);
}

#[test]
fn a_turn_is_named_by_what_it_did_not_by_what_it_planned() {
    let slot = 576 * MS; // a wheel slot's start: the timer there is due later, at 0.734 s
    let recording = record(DEFAULT_CAP, |now| {
        poll(A, PollResult::Pending, || {
            report(Event::Waits { on: WaitOn::Timer { timer: 5, deadline_ns: 734 * MS } });
        });
        // The paused clock plans a jump, but its zero-timeout look finds a socket ready.
        turn(Some(0), WaitReason::PausedJump { to_ns: slot }, false, || {
            report(Event::IoReady { fd: 7, read: true, write: false });
            wake(A, Cause::Io { fd: 7, direction: Direction::Read }, Queue::Local);
        });
        poll(A, PollResult::Pending, || {});
        // A real clock's wait to the slot: no timer is due then.
        turn(Some(slot), WaitReason::NextTimer { deadline_ns: slot }, false, || now.set(slot));
    });
    let trace = trace(&recording);
    let turns: Vec<_> = phase(&trace, "X").into_iter().filter(|e| e["cat"] == "reactor").collect();
    let names: Vec<_> = turns.iter().map(|e| text(e, "name")).collect();
    assert_eq!(names, ["look, no jump (I/O ready)", "wait 576 ms (wheel slot)"]);
    assert_eq!(
        turns[0]["args"]["reason"],
        "paused clock: I/O was ready, so the clock did not jump"
    );
    assert_eq!(
        turns[1]["args"]["reason"],
        "a timing-wheel slot comes due at 0.576 s; no timer due then"
    );
}

#[test]
fn arrows_are_named_by_their_cause() {
    let trace = trace(&story());
    let names: Vec<_> = phase(&trace, "s").into_iter().map(|e| text(e, "name")).collect();
    assert_eq!(names, ["timer #5", "channel message", "yield", "join #1", "remote"]);
    assert!(phase(&trace, "s").iter().all(|e| e["cat"] == "wake"));
}

#[test]
fn marks_say_what_happened_on_the_track_of_whoever_ran() {
    let trace = trace(&story());
    let unnamed = &thread_names(&trace)[&5];
    let spawn_unnamed = format!("spawn {unnamed}");
    assert_eq!(
        names_on(&trace, "i", track(&trace, "#0 main")),
        ["spawn #1 names", "spawn #2 ages", &spawn_unnamed, "waits on join #1", "spawn #4 reused"]
    );
    let abort_unnamed = format!("abort {unnamed}");
    assert_eq!(
        names_on(&trace, "i", track(&trace, "#2 ages")),
        [
            "waits on channel message",
            &abort_unnamed,
            "job 1 submitted",
            "waits on job 1",
            "job 1 finished (ran 8 ms)"
        ]
    );
    assert_eq!(names_on(&trace, "i", track(&trace, "reactor")), ["timer #5 fired"]);
    assert_eq!(
        names_on(&trace, "i", track(&trace, "#1 names")),
        ["waits on timer #5 (due 0.734015 s)"]
    );
}

// ---------------------------------------------------------------------------------------------
// Tests: stories of an event order
// ---------------------------------------------------------------------------------------------

#[test]
fn a_timer_wake_is_an_arrow_from_the_reactor_turn_to_the_next_poll() {
    let recording = record(DEFAULT_CAP, |now| {
        poll(A, PollResult::Pending, || {
            report(Event::Waits { on: WaitOn::Timer { timer: 5, deadline_ns: 734 * MS } })
        });
        turn(Some(734 * MS), WaitReason::NextTimer { deadline_ns: 734 * MS }, false, || {
            now.set(734 * MS);
            report(Event::TimerFired { timer: 5, deadline_ns: 734 * MS });
            wake(A, Cause::Timer { timer: 5, deadline_ns: 734 * MS }, Queue::Local);
        });
        now.set(734 * MS + 125);
        poll(A, PollResult::Ready, || {});
    });
    let trace = trace(&recording);
    let story: Vec<_> = events(&trace)
        .iter()
        .filter(|e| e["ph"] != "M" && e["ph"] != "C")
        .map(|e| (tid(e), text(e, "ph"), text(e, "name"), nanos(e, "ts")))
        .collect();
    let task = 3; // A is first seen without a spawn: task #1, track 1 + 2
    let reactor = 1;
    assert_eq!(
        story,
        [
            (task, "X", "poll", 0),                            // polled, waits
            (task, "i", "waits on timer #5 (due 0.734 s)", 0), // on timer #5
            (reactor, "X", "wait 734 ms (next timer)", 0),     // the reactor sleeps until it
            (reactor, "i", "timer #5 fired", 734 * MS),        // fires it
            (reactor, "X", "wake #1 (key 0x1000, spawned before the recording)", 734 * MS), // wakes
            (reactor, "s", "timer #5", 734 * MS),              // the arrow leaves the turn
            (task, "X", "poll", 734 * MS + 125),               // the next poll
            (task, "f", "timer #5", 734 * MS + 125),           // where the arrow lands
        ]
    );
    let poll = r#""ph":"X","ts":734000.125,"dur":0"#;
    assert_eq!(json_text(&recording).matches(poll).count(), 1, "the nanoseconds are kept");
}

#[test]
fn a_yield_is_an_arrow_from_a_poll_to_the_next_poll_of_the_same_task() {
    let trace = trace(&paused());
    let names = track(&trace, "#1 names");
    let yields: Vec<_> = events(&trace).iter().filter(|e| e["name"] == "yield").collect();
    assert_eq!(yields.len(), 2);
    assert!(yields.iter().all(|e| tid(e) == names), "both ends on names's track");
}

#[test]
fn a_remote_wake_leaves_from_a_slice_of_its_own_on_the_reactor_track() {
    let trace = trace(&story());
    let remote = events(&trace).iter().find(|e| e["name"] == "remote wakes").unwrap();
    assert_eq!(tid(remote), track(&trace, "reactor"));
    assert_eq!(nanos(remote, "ts"), 749 * MS + 5);
    let arrow = phase(&trace, "s").into_iter().find(|e| e["name"] == "remote").unwrap();
    assert_eq!((tid(arrow), nanos(arrow, "ts")), (tid(remote), nanos(remote, "ts")));
}

#[test]
fn a_join_wake_leaves_from_the_completed_task() {
    let trace = trace(&story());
    let names = track(&trace, "#1 names");
    let slices = names_on(&trace, "X", names);
    // Its last poll, its end, and inside that the wake of the root, its joiner.
    assert_eq!(slices[slices.len() - 3..], ["poll", "complete: returned", "wake #0 main"]);
    let arrow = phase(&trace, "s").into_iter().find(|e| e["name"] == "join #1").unwrap();
    assert_eq!(tid(arrow), names);
    let landing = phase(&trace, "f").into_iter().find(|e| e["name"] == "join #1").unwrap();
    assert_eq!(tid(landing), track(&trace, "#0 main"));
}

#[test]
fn an_aborts_wake_is_named_by_the_abort() {
    let recording = record(DEFAULT_CAP, |_| {
        poll(TaskKey::ROOT, PollResult::Pending, || spawn(A, Some("stuck"), site()));
        poll(A, PollResult::Pending, || {});
        poll(TaskKey::ROOT, PollResult::Pending, || {
            report(Event::Abort { task: A });
            wake(A, Cause::Abort, Queue::Local); // queued only to be dropped
        });
        report(Event::Complete { task: A, outcome: Outcome::Cancelled });
    });
    let trace = trace(&recording);
    check_all(&trace);
    let main = track(&trace, "#0 main");
    assert_eq!(names_on(&trace, "i", main), ["spawn #1 stuck", "abort #1 stuck"]);
    let wake = phase(&trace, "X").into_iter().find(|e| e["name"] == "wake #1 stuck").unwrap();
    assert_eq!((tid(wake), &wake["args"]["cause"]), (main, &"abort".into()));
    assert!(phase(&trace, "s").is_empty(), "never polled again: no arrow");
}

#[test]
fn the_roots_track_ends_when_block_on_returns() {
    let recording = record(DEFAULT_CAP, |now| {
        poll(TaskKey::ROOT, PollResult::Pending, || spawn(A, Some("receiver"), site()));
        poll(A, PollResult::Pending, || {
            report(Event::Waits { on: WaitOn::Primitive(Primitive::Channel(ChannelNews::Message)) })
        });
        now.set(5 * US);
        wake(TaskKey::ROOT, Cause::Direct, Queue::Local);
        poll(TaskKey::ROOT, PollResult::Ready, || now.set(6 * US));
        // Dropping main's future drops a sender: the receiver is woken.
        wake(A, Cause::HandOff(Primitive::Channel(ChannelNews::Message)), Queue::Local);
        poll(A, PollResult::Ready, || {});
    });
    let trace = trace(&recording);
    check_all(&trace);
    let main = track(&trace, "#0 main");
    let slices = names_on(&trace, "X", main);
    assert_eq!(slices[slices.len() - 3..], ["poll", "block_on returns", "wake #1 receiver"]);
    let end = phase(&trace, "X").into_iter().find(|e| e["name"] == "block_on returns").unwrap();
    assert_eq!((nanos(end, "ts"), nanos(end, "dur")), (6 * US, 0));
}

#[test]
fn a_wake_that_no_poll_follows_draws_no_arrow() {
    let recording = record(DEFAULT_CAP, |now| {
        poll(TaskKey::ROOT, PollResult::Pending, || {
            spawn(A, Some("names"), site());
            spawn(B, Some("ages"), site());
        });
        now.set(US);
        poll(A, PollResult::Pending, || {
            wake(B, Cause::HandOff(Primitive::Channel(ChannelNews::Message)), Queue::Local);
            report(Event::Abort { task: B });
        });
        now.set(2 * US);
        report(Event::Complete { task: B, outcome: Outcome::Cancelled });
    });
    let trace = trace(&recording);
    check_all(&trace);
    assert!(phase(&trace, "s").is_empty() && phase(&trace, "f").is_empty());
    let wake = phase(&trace, "X").into_iter().find(|e| e["name"] == "wake #2 ages").unwrap();
    assert_eq!(wake["args"]["cause"], "channel message", "the wake itself is still drawn");
    let ages = track(&trace, "#2 ages");
    assert_eq!(names_on(&trace, "X", ages), ["complete: cancelled"]);
}

#[test]
fn a_reused_address_is_a_new_task_on_a_new_track() {
    let trace = trace(&story());
    let (names, reused) = (track(&trace, "#1 names"), track(&trace, "#4 reused"));
    assert_ne!(names, reused);
    let polls = |tid_: u64| {
        let polls =
            phase(&trace, "X").into_iter().filter(|e| tid(e) == tid_ && e["name"] == "poll");
        polls.map(|e| e["args"]["result"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(polls(names), ["pending", "pending", "ready"]);
    assert_eq!(polls(reused), ["panicked"]);
    assert_eq!(names_on(&trace, "X", reused).last().unwrap(), "complete: panicked");
}

#[test]
fn counters_follow_live_tasks_and_the_run_queue() {
    let trace = trace(&story());
    let values = |name: &str| {
        let counters = phase(&trace, "C").into_iter().filter(|e| e["name"] == name);
        counters.map(|e| e["args"]["count"].as_u64().unwrap()).collect::<Vec<_>>()
    };
    // Three spawned, #3 cancelled, #1 returned, #4 spawned and panicked, #2 returned.
    assert_eq!(values("live tasks"), [0, 1, 2, 3, 2, 1, 2, 1, 0]);
    // 0; spawns queue #1, #2, #3 (1, 2, 3); their polls take them off (2, 1, 0); the timer
    // queues #1 (1), its poll takes it off (0); its hand-off queues #2 (1), its yield queues #1
    // when the poll returns (2); #2's poll (1), #1's poll (0); #4 spawned (1) and polled (0);
    // the remote wake queues #2 (1), its poll takes it off (0).
    assert_eq!(values("run queue"), [0, 1, 2, 3, 2, 1, 0, 1, 0, 1, 2, 1, 0, 1, 0, 1, 0]);
}
