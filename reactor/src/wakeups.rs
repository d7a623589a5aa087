//! The wakers one reactor turn collects, and why each is to be woken.
//!
//! A turn never wakes a task while it holds a borrow of its own state: it first collects the
//! wakers of every ready socket and fired timer here, releases its borrows, then wakes them all
//! (`driver.rs`, step 5). When somebody records the runtime (`cashier_trace`), each waker also
//! keeps its cause (this timer fired, that socket became readable), named around its wake so the
//! executor can report *why* the task was woken. When nobody records, the causes are neither
//! built nor stored: [`Wakeups::begin`] reads the recorder once per turn, not once per waker.

use std::task::Waker;

use cashier_trace::{self as trace, Cause};

/// Wakers to wake at the end of a turn; kept between turns to reuse their allocations.
#[derive(Default)]
pub(crate) struct Wakeups {
    /// The wakers, in the order their events were seen.
    wakers: Vec<Waker>,
    /// The cause of each waker, by position; filled only while recording.
    causes: Vec<Cause>,
    /// Whether this turn is recorded.
    recording: bool,
}

impl Wakeups {
    /// Starts a turn: looks once at whether it is recorded.
    pub(crate) fn begin(&mut self) {
        self.recording = trace::is_recording();
    }

    /// Whether this turn is recorded (events worth reporting may be built).
    pub(crate) fn is_recording(&self) -> bool {
        self.recording
    }

    /// Takes `waker`, if there is one, to wake at the end of the turn because of `cause`.
    pub(crate) fn push(&mut self, waker: Option<Waker>, cause: impl FnOnce() -> Cause) {
        let Some(waker) = waker else { return };
        if self.recording {
            self.causes.push(cause());
        }
        self.wakers.push(waker);
    }

    /// Number of wakers taken this turn.
    pub(crate) fn len(&self) -> usize {
        self.wakers.len()
    }

    /// Wakes every waker taken, each with its cause named when the turn is recorded. The caller
    /// must hold no borrow of reactor state: a wake may run any executor code.
    pub(crate) fn wake_all(&mut self) {
        if self.recording && self.causes.len() == self.wakers.len() {
            for (waker, cause) in self.wakers.drain(..).zip(self.causes.drain(..)) {
                trace::with_cause(|| cause, || waker.wake());
            }
        } else {
            self.causes.clear();
            for waker in self.wakers.drain(..) {
                waker.wake();
            }
        }
    }
}
