//! The Perfetto view: a [`Recording`] written in the Trace Event Format, the JSON that Perfetto
//! (ui.perfetto.dev), chrome://tracing and speedscope open.
//!
//! This module owns the mapping from cashier's events to that format, and the JSON it writes
//! (by hand: the library has no serde). It reads a finished recording, in two passes: a
//! `Builder` (`builder.rs`) walks the records once, in order, and turns them into the items of
//! `items.rs` (slices, marks, arrows, counters); then [`write_chrome_trace`] (this file) puts
//! those into words (`words.rs`) and writes them out as JSON (`json.rs`).
//!
//! # The Trace Event Format, in one page
//!
//! A trace in the *JSON Object Format* is one object:
//!
//! ```text
//! {"traceEvents": [event, event, ...], "displayTimeUnit": "ns", "otherData": {...}}
//! ```
//!
//! Every event is a flat object. Its `ph` (phase), one letter, says what it is; `pid` and `tid`
//! put it on a *track* (a thread of a process); `ts` is when, in **microseconds**, a JSON number
//! that may have a fraction (`734000.125` is 734 ms and 125 ns); `name`, `cat` (a category a
//! viewer can filter by) and `args` (shown when the event is selected) describe it. The phases
//! this file writes:
//!
//! | `ph`     | what                                 | fields of its own                     |
//! |----------|--------------------------------------|---------------------------------------|
//! | `M`      | metadata: a process's or a thread's  | `args`: `{"name"}` or `{"sort_index"}`; |
//! |          | name, or the threads' order          | no `ts`                               |
//! | `X`      | a complete event: a slice of time    | `dur`, in microseconds                |
//! | `i`      | an instant event: a mark at one time | `s`, its scope: `"t"` thread, `"g"` all |
//! | `s`, `f` | a flow's start and end: an arrow     | `id`, the same on both; `bp` on `f`   |
//! |          | from one slice to another            |                                       |
//! | `C`      | a counter's new value                | `args`: `{series: number}`            |
//!
//! `displayTimeUnit` only says how a viewer shows times: timestamps stay in microseconds. (Old
//! versions of Perfetto read `"ns"` as the unit of `ts`; it now ignores the key, as catapult,
//! the viewer behind chrome://tracing, always did.)
//!
//! Slices on one track nest like the frames of a call stack: two of them are disjoint, or one
//! lies inside the other, never half across. A flow event is bound to a slice of its own track:
//! an `s` to the slice enclosing it, an `f` with `"bp": "e"` (binding point: enclosing) to the
//! slice enclosing it too, where an `f` without it would bind to the next slice to begin.
//!
//! # The mapping
//!
//! - **Tracks.** One process, pid 1, named `cashier`. The reactor has tid 1, named `reactor`;
//!   task `#n` has tid `n + 2`, named `#2 names` (its name), `#2 at src/x.rs:12` (where it was
//!   spawned, when unnamed) or `#0 main` (the `block_on` future). `thread_sort_index` puts the
//!   reactor first, then the tasks by id. A task's id is its place in spawn order (whenever every task's spawn was recorded): keys are
//!   addresses, reused once a task is freed, so each `Spawn` starts a new task, and a new track.
//! - **Polls.** Each `PollStart` .. `PollEnd` is an `X` slice named `poll` on the task's track,
//!   with `args` `{result, polls}` (polls so far, this one included).
//! - **Reactor turns.** Each `Park` .. `Unpark` is an `X` slice on the reactor's track, named by
//!   what it did, as its records tell (`turn.rs`), not by what its `Park` planned:
//!   `wait 734 ms (next timer)`, `wait 126 ms (wheel slot)` (a wait that ends where a wheel
//!   slot comes due and no timer is), `look, no wait (tasks ready: 3 queued)`, `wait (idle)`,
//!   `wait for job (paused clock)`, `clock jump to 0.734 s` (where the clock landed), or
//!   `look, no jump (I/O ready)` (a paused clock whose look at the OS found a socket ready), among
//!   others (`perfetto/words.rs` has them all),
//!   with `args` `{reason, io_events, unparked}`, and for a look while tasks are ready
//!   `{queued, main_woken}`: the run queue's length and whether the `block_on` future was woken,
//!   as `run_queue.rs` plays them back.
//! - **Wakes.** Each wake is a slice of length 0, `wake #3 ages`, where it was made: on the
//!   polling task's track (a `Wake` between `PollStart` and `PollEnd` was made by that task), on
//!   the reactor's inside a turn. Inside it starts an arrow (`s`) named by the cause (`timer #5`,
//!   `fd 7 readable`, `channel message`, `channel slot`, `channel ended`, `channel closed`,
//!   `yield`, `join #3`, `remote`, `abort`), category `wake`; the arrow ends (`f`,
//!   `"bp": "e"`) at the start of the woken task's next poll. A wake that no poll follows
//!   (the task completed first, or the recording ended) draws no arrow at all.
//! - **Wakes outside any poll or turn**, made by the run loop itself, still need a slice to leave
//!   from. Right after a `Complete`, they are the completing task's (its joiner's wake): they
//!   leave from its `complete` slice. Otherwise they share one slice on the reactor's track,
//!   `remote wakes` when all of them came from other threads, `run-loop wakes` when not.
//! - **Marks.** Instant events, on the track of whoever was running (the polled task, else the
//!   reactor): `spawn #2 names`, `abort #3 ages`, `waits on timer #5 (due 0.734 s)`,
//!   `timer #5 fired`, `fd 7 readable`, `clock jumps to 0.734 s`, `job 1 submitted`, ...
//!   A task's end is a zero-length slice on its own track: `complete: returned`; the root's,
//!   after its `Ready` poll (nothing else reports it), is `block_on returns`.
//! - **Counters**, on the process: `live tasks` (spawned, not yet complete) and `run queue`
//!   (spawned or woken onto the queue, not yet polled; the `block_on` future is never queued),
//!   counted by the rules of `run_queue.rs`.
//! - **Times.** `ts` is the record's time, from the recording's start; deadlines and jumps in
//!   names and args (`due 0.734 s`, `clock jumps to 0.734 s`) are moved onto the same scale
//!   (`origin.rs`), so a timer is due at the `ts` where it fires.
//! - **Losses.** If the recorder dropped events past its cap, `otherData` says how many
//!   (`dropped_events`), and a global mark at the end says so: `N events dropped (cap reached)`.
//!
//! # The order of the events, and how Perfetto reads it
//!
//! Perfetto sorts events by `ts`; at one `ts`, it puts longer `X` slices first and keeps the
//! file's order among the rest. It binds a flow event to the slice on top of its track's stack
//! when it reads it. So the events are written in record order, each slice at its start, and
//! every flow event right after its slice: an `s` after its wake's slice, an `f` after its poll.
//! Then an arrow leaves from its wake and lands on its poll, even when they take no time.
//!
//! Perfetto stacks zero-length slices that share a `ts` on one another, as it does instants:
//! on a paused clock, where a whole run of polls happens at one instant, a track draws them as a
//! staircase, still in order, arrows still right. What it draws wrong is a zero-length slice
//! followed, on the same track and at the same `ts`, by a longer one: it sorts the longer one
//! first and draws the short one inside it. On the reactor's track a paused clock does this
//! (a turn that waits for a job, then the turn whose clock jumps): only the picture suffers, as
//! the arrows there leave from their own wakes. On a task's track it takes a zero-length poll
//! and then a longer poll of the same task at the same nanosecond (a paused clock advanced from
//! inside the task), and then the longer poll's arrows end on the short one.
//!
//! Perfetto's own format is binary (protobuf `TrackEvent`s), where tracks are declared and flow
//! ids ride on the slices themselves, so none of this ordering matters; tracers built for
//! Perfetto write that. The JSON format is the one a reader can open in an editor and check.

mod builder;
mod items;
mod json;
mod words;

use std::io::{self, BufWriter, Write};

use self::builder::Builder;
use self::items::{Counter, Flow, Item, Track};
use self::json::{Arg, EventWriter, TraceEvent};
use self::words::Words;
use crate::recorder::Recording;
use crate::views::origin::rebase;

/// Writes `recording` to `out` in the Trace Event Format (JSON Object Format), for Perfetto or
/// chrome://tracing to open. The mapping is described in this module's documentation.
pub fn write_chrome_trace(recording: &Recording, out: &mut dyn Write) -> io::Result<()> {
    let mut builder = Builder::new();
    for record in &recording.records {
        let event = rebase(record.event, recording.origin_ns);
        builder.record(record.at_ns, event, &recording.names);
    }
    builder.finish();
    let words = Words { tasks: &builder.book };
    let mut writer = EventWriter { out: BufWriter::new(out), first: true };
    writer.out.write_all(b"{\"traceEvents\":[")?;
    write_metadata(&mut writer, &words)?;
    for item in &builder.items {
        write_item(&mut writer, &words, &builder.flows, item)?;
    }
    if recording.dropped > 0 {
        let name = format!("{} events dropped (cap reached)", recording.dropped);
        let event = TraceEvent { scope: Some("g"), ..TraceEvent::new('i', &name, "recorder") };
        writer.event(&TraceEvent { ts_ns: Some(builder.now), ..event })?;
    }
    let out = &mut writer.out;
    out.write_all(b"\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"cashier-trace\"")?;
    write!(out, ",\"records\":{},\"tasks\":{}", recording.records.len(), builder.book.len())?;
    if recording.dropped > 0 {
        write!(out, ",\"dropped_events\":{}", recording.dropped)?;
    }
    out.write_all(b"}}\n")?;
    out.flush()
}

/// The `M` events: the process's name, and each track's name and place.
fn write_metadata<W: Write>(writer: &mut EventWriter<W>, words: &Words<'_>) -> io::Result<()> {
    let name = [("name", Arg::Text("cashier".into()))];
    writer.event(&TraceEvent { args: &name, ..TraceEvent::new('M', "process_name", "") })?;
    let ids = 0..u32::try_from(words.tasks.len()).unwrap_or(u32::MAX);
    let tracks = std::iter::once(Track::Reactor).chain(ids.map(Track::Task));
    for (sort_index, track) in (0..).zip(tracks) {
        let label = match track {
            Track::Reactor => "reactor".to_owned(),
            Track::Task(id) => words.task(id),
        };
        let name = [("name", Arg::Text(label))];
        let event = TraceEvent { tid: track.tid(), ..TraceEvent::new('M', "thread_name", "") };
        writer.event(&TraceEvent { args: &name, ..event })?;
        let index = [("sort_index", Arg::Int(sort_index))];
        writer.event(&TraceEvent { args: &index, ph: 'M', name: "thread_sort_index", ..event })?;
    }
    Ok(())
}

/// Writes one item: a slice, a mark, an arrow's end or a counter.
fn write_item<W: Write>(
    writer: &mut EventWriter<W>,
    words: &Words<'_>,
    flows: &[Flow],
    item: &Item,
) -> io::Result<()> {
    match item {
        Item::Slice(slice) => {
            let (name, cat, args) = words.slice(slice);
            let event = TraceEvent {
                tid: slice.track.tid(),
                ts_ns: Some(slice.start_ns),
                dur_ns: Some(slice.end_ns.saturating_sub(slice.start_ns)),
                args: &args,
                ..TraceEvent::new('X', &name, cat)
            };
            writer.event(&event)
        }
        Item::Mark(mark) => {
            let (name, cat, args) = words.mark(mark);
            let event = TraceEvent {
                tid: mark.track.tid(),
                ts_ns: Some(mark.at_ns),
                scope: Some("t"),
                args: &args,
                ..TraceEvent::new('i', &name, cat)
            };
            writer.event(&event)
        }
        Item::FlowStart { track, at_ns, flow } | Item::FlowEnd { track, at_ns, flow } => {
            let end = matches!(item, Item::FlowEnd { .. });
            if !flows[*flow].ended {
                return Ok(()); // no poll followed the wake: no arrow
            }
            let name = words.cause(flows[*flow].cause, flows[*flow].joined);
            let event = TraceEvent {
                tid: track.tid(),
                ts_ns: Some(*at_ns),
                id: Some(flow + 1),
                bp: end.then_some("e"),
                ..TraceEvent::new(if end { 'f' } else { 's' }, &name, "wake")
            };
            writer.event(&event)
        }
        Item::Count { at_ns, counter, value } => {
            let name = match counter {
                Counter::LiveTasks => "live tasks",
                Counter::RunQueue => "run queue",
            };
            let args = [("count", Arg::Int(*value))];
            let event =
                TraceEvent { ts_ns: Some(*at_ns), args: &args, ..TraceEvent::new('C', name, "") };
            writer.event(&event)
        }
    }
}
