//! The four mistakes the debug checks catch, each decided from one task's row and worded as one
//! paragraph that names the task and says what to do.
//!
//! | check | raised when | asyncio / tokio |
//! | --- | --- | --- |
//! | lost waker | a `Pending` poll left no waker clone out and did not wake itself | (none) |
//! | slow poll | one poll ran longer than the limit, on the real clock | `slow_callback_duration` |
//! | unretrieved failure | a task panicked and nobody took the panic from its handle | "Task exception was never retrieved" |
//! | self-wake storm | a task woke itself poll after poll while nothing else progressed | tokio-console's "self wakes" lint |
//!
//! Deciding is apart from wording: each `*_check` function reads a row and returns whether to
//! warn; the [`Diagnostics`](super::Diagnostics) calls them as the records come (a lost waker at
//! the `PollEnd`, a slow poll at the `PollEnd`, an unretrieved failure at the later of
//! `Complete` and `HandleDropped`, a storm at the poll that passes the limit) and words the
//! warning with the task's label.
//!
//! # What the lost-waker check cannot tell
//!
//! Another thread that calls the task's last waker clone by value (`Waker::wake`) during the
//! very poll that returns `Pending` leaves no clone out, and its wake is recorded only when the
//! runtime drains its remote queue, after the `PollEnd`: the check then reports a task that
//! does run again. It takes a thread racing that one poll; the task's next poll shows the
//! warning was wrong.

use std::fmt;

use super::table::{Row, TaskState};
use crate::event::Outcome;
use crate::views::words::duration;

/// Which mistake a [`Warning`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarningKind {
    /// A task returned `Pending` with nothing left to wake it: it will never run again.
    LostWaker,
    /// A poll held the thread longer than the limit: every other task waited meanwhile.
    SlowPoll,
    /// A task panicked and nobody took the panic from its `JoinHandle`.
    UnretrievedFailure,
    /// A task woke itself poll after poll while nothing else in the runtime progressed.
    SelfWakeStorm,
    /// The runtime was about to block forever: nothing it waits for can happen. Raised by the
    /// runtime, which knows when it is about to block, from [`Diagnostics::hang`](super::Diagnostics::hang).
    Hang,
}

impl WarningKind {
    /// `"lost waker"`, `"slow poll"`, ...: the name a warning starts with.
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::LostWaker => "lost waker",
            WarningKind::SlowPoll => "slow poll",
            WarningKind::UnretrievedFailure => "unretrieved failure",
            WarningKind::SelfWakeStorm => "self-wake storm",
            WarningKind::Hang => "hang",
        }
    }
}

/// One mistake found: which, about which task, and a paragraph that says what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Which mistake.
    pub kind: WarningKind,
    /// The task, as the views label it: `#3 "google"` (`#0 main` for the `block_on` future).
    pub task: String,
    /// The whole paragraph, starting with the task and where it was spawned.
    pub text: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cashier debug check: {}: {}", self.kind.name(), self.text)
    }
}

/// Whether a `Pending` poll of `row` lost the task's waker: no clone left out (`Some(0)`: the
/// `block_on` future is not counted), no wake of itself during the poll, and no abort.
pub(crate) fn lost_waker_check(row: &Row, wakers: Option<u32>) -> bool {
    wakers == Some(0) && !row.woke_itself && !row.aborted
}

/// Whether a poll that took `took_ns` is slower than `limit_ns`.
pub(crate) fn slow_poll_check(took_ns: u64, limit_ns: u64) -> bool {
    took_ns > limit_ns
}

/// Whether `row`'s task failed and its failure can no longer be retrieved: it panicked, its
/// handle is gone without having taken the output, and this was not reported yet.
pub(crate) fn unretrieved_check(row: &Row) -> bool {
    row.state == TaskState::Complete(Outcome::Panicked)
        && row.handle_dropped
        && !row.output_taken
        && !row.failure_reported
}

/// Whether `row`'s task panicked and its live handle never took the output (checked when the
/// runtime finishes: nobody can take it any more).
pub(crate) fn never_awaited_check(row: &Row) -> bool {
    row.state == TaskState::Complete(Outcome::Panicked)
        && !row.handle_dropped
        && !row.output_taken
        && !row.failure_reported
}

/// Whether `row`'s self-wake streak just passed `limit` polls (reported once per streak).
pub(crate) fn storm_check(row: &Row, limit: u64) -> bool {
    row.streak > limit && !row.storm_reported
}

/// The paragraph of a lost waker.
pub(crate) fn lost_waker_text(task: &str, at: &str) -> String {
    format!(
        "{task} returned Pending at {at} with no clone of its waker kept anywhere, and did not \
         wake itself: nothing can wake it, so it will never run again (it hangs, and whoever \
         awaits it hangs too). A future that returns Pending must first give a clone of \
         `cx.waker()` to whatever will call it when the future can progress (a timer, a socket, \
         a channel); a hand-written `poll` that returns Pending without storing the waker is the \
         usual cause."
    )
}

/// The paragraph of a slow poll.
pub(crate) fn slow_poll_text(task: &str, took_ns: u64, limit_ns: u64) -> String {
    format!(
        "{task} held the thread for {} in one poll (real time; the limit is {}): no other task \
         ran, no timer fired and no socket was read meanwhile. Something in it blocks or computes \
         for long: move blocking calls (std::fs, std::thread::sleep, a blocking client) and long \
         computations to `cashier::to_thread`, or `yield_now().await` between chunks of work.",
        duration(took_ns),
        duration(limit_ns)
    )
}

/// The paragraph of a panic nobody retrieved; `never_awaited` when the handle lives on.
pub(crate) fn unretrieved_text(task: &str, message: &str, never_awaited: bool) -> String {
    let why = if never_awaited {
        "its JoinHandle was never awaited (the runtime finished with the handle alive)"
    } else {
        "its JoinHandle was dropped without being awaited"
    };
    format!(
        "{task} panicked with {message:?} and {why}: the failure was never retrieved, and \
         nobody will hear of it (asyncio: \"Task exception was never retrieved\"). Await the \
         handle and handle its `JoinError`, or catch the failure inside the task."
    )
}

/// The paragraph of a self-wake storm.
pub(crate) fn storm_text(task: &str, polls: u64) -> String {
    format!(
        "{task} woke itself in each of its last {polls} polls while nothing else in the runtime \
         made progress (no timer, socket, channel or other task woke anybody): a busy loop \
         disguised as async, burning the CPU. Wait for what it polls for instead (a channel, an \
         `Event`, a sleep), or, if it really computes, do that on `cashier::to_thread`."
    )
}
