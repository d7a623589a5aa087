//! Instruments shared by the executor's integration tests: traces, drop counters, hand-woken
//! futures, and a watchdog that turns a lost wake-up into a failure instead of a hang.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// An ordered log of events, shared by a test and the futures it runs.
#[derive(Clone, Default)]
pub struct Trace(Rc<RefCell<Vec<&'static str>>>);

impl Trace {
    pub fn push(&self, event: &'static str) {
        self.0.borrow_mut().push(event);
    }

    pub fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

/// Counts how many times the tokens it hands out were dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Rc<Cell<usize>>);

impl DropCounter {
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    pub fn count(&self) -> usize {
        self.0.get()
    }
}

/// Increments its counter when dropped.
#[derive(Debug)]
pub struct DropToken(Rc<Cell<usize>>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A slot where a future leaves its waker so the test can wake it by hand.
#[derive(Clone, Default)]
pub struct WakerSlot(Rc<RefCell<Option<Waker>>>);

impl WakerSlot {
    pub fn store(&self, waker: &Waker) {
        *self.0.borrow_mut() = Some(waker.clone());
    }

    pub fn take(&self) -> Waker {
        self.0.borrow_mut().take().expect("no waker was stored")
    }
}

/// A future that traces each poll and stays pending until it has been polled `pending_polls + 1`
/// times. It stores its waker in `slot` but never wakes itself: the test decides when.
pub struct Probe {
    pub trace: Trace,
    pub slot: WakerSlot,
    pub pending_polls: usize,
}

impl Future for Probe {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.trace.push("poll");
        if self.pending_polls == 0 {
            self.trace.push("ready");
            return Poll::Ready(());
        }
        self.pending_polls -= 1;
        self.slot.store(cx.waker());
        self.trace.push("pending");
        Poll::Pending
    }
}

/// Pending forever, counting polls; wakes nobody.
pub struct Stuck {
    pub polls: Rc<Cell<usize>>,
}

impl Future for Stuck {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        Poll::Pending
    }
}

/// Yields to the executor `n` times (lets queued tasks run).
pub async fn yield_times(n: usize) {
    for _ in 0..n {
        cashier_executor::yield_now().await;
    }
}

/// Runs `test` on a fresh thread and fails if it does not finish within `limit`. A lost wake-up
/// shows as a hang; this turns it into a failure naming `what`. The limit is a safety net for a
/// broken build, not a timing claim: a correct run finishes orders of magnitude sooner.
pub fn with_watchdog<T: Send + 'static>(
    what: &str,
    limit: Duration,
    test: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let out = test();
        let _ = done.send(());
        out
    });
    match finished.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no progress after {limit:?}; a wake-up was lost")
        }
    }
}
