//! # cashier-trace: watching the cashier work
//!
//! The executor and the reactor report what they do (a task spawned, polled, woken by a timer,
//! the reactor waiting 734 ms for the next timer) as [`Event`]s, at the few named points of the
//! task lifecycle and of the reactor's turn. This crate is the seam between them and whoever
//! watches: it owns the vocabulary (`event.rs`) and the [`Recorder`] (`recorder.rs`), and knows
//! neither tasks' futures nor sockets. The root crate makes a recorder current while a runtime
//! runs and turns the recording into the views a user reads.
//!
//! Nobody watching costs one thread-local read per reported point: see `recorder.rs`.

/// Debug checks (lost wakers, slow polls, unretrieved failures, self-wake storms) and the task
/// dump, fed by the same records as the views.
mod diagnose;
mod event;
mod recorder;
/// The views of a recording: explain mode (plain English, one line per decision of the runtime),
/// the terminal timeline (one row per task, one column per time bucket) and the Perfetto view
/// (the Trace Event Format, with tracks, arrows, counters).
mod views;

pub use diagnose::{
    Column, Diagnostics, DumpRow, EventCounts, Limits, TaskDump, TaskState, Warning, WarningKind,
};
pub use event::{
    Cause, ChannelNews, Direction, Event, Outcome, PollResult, Primitive, Queue, Record, TaskKey,
    WaitOn, WaitReason,
};
pub use recorder::{
    CHUNK, DEFAULT_CAP, Enter, Listener, Recorder, Recording, current_cause, emit, emit_name,
    emit_panic, is_recording, with_cause,
};
pub use views::explain::{Narrator, explain};
pub use views::perfetto::write_chrome_trace;
pub use views::timeline::render_timeline;
