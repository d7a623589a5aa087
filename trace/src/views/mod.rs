//! The views: what a reader sees of a [`Recording`](crate::Recording).
//!
//! Three views read the same records, each for another reader:
//!
//! - `explain/`, for a learner reading line by line, live: [`Narrator`](crate::Narrator) and
//!   [`explain`](crate::explain) tell each decision of the runtime in plain English.
//! - `timeline/`, for a glance at the terminal when the program ends:
//!   [`render_timeline`](crate::render_timeline) draws one row per task.
//! - `perfetto/`, for a trace viewer (Perfetto, chrome://tracing):
//!   [`write_chrome_trace`](crate::write_chrome_trace) writes tracks, slices and arrows.
//!
//! They share what every reader of the records must work out the same way, each piece once:
//!
//! - `task_book.rs`: which task a key names, in record order (addresses are reused), and the
//!   task's number, name and label.
//! - `waiting.rs`: the poll under way and what each pending task waits on (explain, timeline).
//! - `run_queue.rs`: how many tasks are queued to run, which no event says (explain, perfetto,
//!   the runtime metrics' longest run queue).
//! - `turn.rs`: what a reactor turn did, told from what it reported, not what it planned
//!   (explain, perfetto).
//! - `origin.rs`: deadlines moved onto the records' scale of time, before any view reads them.
//! - `words.rs`: times and the few words the views spell alike.
//!
//! # Invariants
//!
//! - **Record order only.** Every view reads the records once, front to back, and never looks
//!   ahead: the narrator runs live, and the others follow the same rules so that the three
//!   never disagree about who did what.
//! - **Only what was reported.** A view says what the records say happened, never what the
//!   runtime planned: a reactor turn that planned a jump but found I/O ready did not jump.
//! - **One scale of time.** Every view reads each event through `origin::rebase`, so that a
//!   deadline and a record's time are counted from the same origin (the recording's start).
//! - **Deterministic.** The text follows from the records alone; no clock, no hash order.

pub(crate) mod explain;
pub(crate) mod origin;
pub(crate) mod perfetto;
pub(crate) mod run_queue;
pub(crate) mod task_book;
pub(crate) mod timeline;
mod turn;
pub(crate) mod waiting;
pub(crate) mod words;
