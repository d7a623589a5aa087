//! Abort, panics, and shutdown: every future and every output is dropped exactly once.
//!
//! The combinations are where lifecycle bugs hide, so `every_combination_drops_once` enumerates
//! them: how the task ends × what happens to its `JoinHandle`.

mod support;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use cashier_executor::{Executor, JoinHandle, spawn};
use support::{DropCounter, DropToken, Stuck, yield_times};

/// How a test task ends.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ending {
    /// Returns its output after one pending poll.
    Completes,
    /// Panics in its second poll.
    PanicsInPoll,
    /// Completes, and its destructor panics.
    PanicsInDrop,
    /// Is aborted while idle.
    AbortedWhileIdle,
    /// Aborts itself through its own handle during a poll that returns Pending.
    AbortsItself,
    /// Is aborted after it completed.
    AbortedAfterCompletion,
    /// Is still pending when the executor is dropped.
    RuntimeDropped,
}

/// What happens to the task's `JoinHandle`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Handle {
    /// Dropped right after spawn (detached).
    DroppedFirst,
    /// Dropped after the task ended, without being awaited.
    DroppedLast,
    /// Awaited to the end.
    Awaited,
}

/// The task under test: a future holding a drop token, producing an output holding another.
struct Subject {
    ending: Ending,
    polls: u32,
    future_token: Option<DropToken>,
    output_token: Option<DropToken>,
    own_handle: Rc<RefCell<Option<JoinHandle<DropToken>>>>,
}

impl Future for Subject {
    type Output = DropToken;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DropToken> {
        self.polls += 1;
        match (self.ending, self.polls) {
            (Ending::RuntimeDropped | Ending::AbortedWhileIdle, _) => Poll::Pending,
            (Ending::AbortsItself, _) => {
                self.own_handle.borrow().as_ref().expect("handle").abort();
                cx.waker().wake_by_ref(); // even a wake during the poll must not revive it
                Poll::Pending
            }
            (_, 1) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            (Ending::PanicsInPoll, _) => panic!("subject panicked in poll"),
            _ => Poll::Ready(self.output_token.take().expect("polled after completion")),
        }
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        drop(self.future_token.take());
        if self.ending == Ending::PanicsInDrop && !std::thread::panicking() {
            panic!("subject panicked in drop");
        }
    }
}

fn run_combination(ending: Ending, handle_fate: Handle) {
    let future_drops = DropCounter::default();
    let output_drops = DropCounter::default();
    let own_handle = Rc::new(RefCell::new(None));
    let executor = Executor::new();
    let handle = executor.spawn(Subject {
        ending,
        polls: 0,
        future_token: Some(future_drops.token()),
        output_token: Some(output_drops.token()),
        own_handle: own_handle.clone(),
    });
    let handle = match (ending, handle_fate) {
        // A task that aborts itself needs its own handle; the test keeps no other.
        (Ending::AbortsItself, _) => {
            *own_handle.borrow_mut() = Some(handle);
            None
        }
        (_, Handle::DroppedFirst) => {
            drop(handle);
            None
        }
        _ => Some(handle),
    };
    executor.block_on(yield_times(4));
    match ending {
        Ending::AbortedWhileIdle => handle.as_ref().expect("kept").abort(),
        Ending::AbortedAfterCompletion => {
            if let Some(handle) = &handle {
                assert!(handle.is_finished());
                handle.abort();
            }
        }
        _ => {}
    }
    executor.block_on(yield_times(4));
    if ending == Ending::RuntimeDropped {
        drop(executor);
        if let Some(handle) = handle {
            assert!(handle.is_finished(), "shutdown completed the task");
            if handle_fate == Handle::Awaited {
                let result = Executor::new().block_on(handle);
                assert!(result.unwrap_err().is_cancelled());
            }
        }
    } else {
        match (handle, handle_fate) {
            (Some(handle), Handle::Awaited) => {
                let result = executor.block_on(handle);
                match ending {
                    Ending::Completes | Ending::AbortedAfterCompletion => drop(result.unwrap()),
                    Ending::PanicsInPoll | Ending::PanicsInDrop => {
                        assert!(result.unwrap_err().is_panic())
                    }
                    _ => assert!(result.unwrap_err().is_cancelled(), "{ending:?}"),
                }
            }
            (handle, _) => drop(handle),
        }
    }
    // The task that aborts itself still holds its own handle in `own_handle`; drop it now.
    drop(own_handle.borrow_mut().take());
    let case = format!("{ending:?} / {handle_fate:?}");
    assert_eq!(future_drops.count(), 1, "{case}: the future is dropped exactly once");
    // The output token is dropped exactly once wherever it ends up: inside the future when the
    // task never produced it, by the task (no handle), by the handle, or by the awaiting caller.
    assert_eq!(output_drops.count(), 1, "{case}: the output is dropped exactly once");
}

#[test]
fn every_combination_drops_once() {
    let endings = [
        Ending::Completes,
        Ending::PanicsInPoll,
        Ending::PanicsInDrop,
        Ending::AbortedWhileIdle,
        Ending::AbortsItself,
        Ending::AbortedAfterCompletion,
        Ending::RuntimeDropped,
    ];
    for ending in endings {
        for handle in [Handle::DroppedFirst, Handle::DroppedLast, Handle::Awaited] {
            if ending == Ending::AbortedWhileIdle && handle == Handle::DroppedFirst {
                continue; // nothing left to abort with
            }
            run_combination(ending, handle);
        }
    }
}

#[test]
fn abort_before_the_first_poll_never_polls() {
    let polls = Rc::new(Cell::new(0));
    let executor = Executor::new();
    let handle = executor.spawn(Stuck { polls: polls.clone() });
    handle.abort();
    let result = executor.block_on(handle);
    assert!(result.unwrap_err().is_cancelled());
    assert_eq!(polls.get(), 0);
}

#[test]
fn abort_then_join_gives_cancelled() {
    let executor = Executor::new();
    executor.block_on(async {
        let handle = spawn(std::future::pending::<()>());
        yield_times(2).await;
        handle.abort();
        handle.abort(); // twice is harmless
        let error = handle.await.unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(error.to_string(), "task was cancelled");
    });
}

#[test]
fn a_panicking_task_is_reported_and_the_others_run_on() {
    let executor = Executor::new();
    let (panicked, other) = executor.block_on(async {
        let bad = spawn(async {
            yield_times(1).await;
            panic!("kitchen on fire");
        });
        let good = spawn(async {
            yield_times(3).await;
            "served"
        });
        (bad.await, good.await)
    });
    let error = panicked.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.to_string(), "task panicked: kitchen on fire");
    assert_eq!(format!("{error:?}"), "JoinError::Panicked(\"kitchen on fire\")");
    let payload = error.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"kitchen on fire"));
    assert_eq!(other.unwrap(), "served");
}

#[test]
fn a_panic_in_block_on_propagates_and_the_executor_recovers() {
    let executor = Executor::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        executor.block_on(async { panic!("main future panicked") })
    }));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main future panicked"));
    // The thread-local context was restored, and the executor still works.
    assert!(!cashier_executor::in_runtime());
    assert_eq!(executor.block_on(async { spawn(async { 5 }).await.unwrap() }), 5);
}

#[test]
fn block_on_inside_block_on_panics_with_a_clear_message() {
    let outer = Executor::new();
    let message = outer.block_on(async {
        let caught = catch_unwind(|| Executor::new().block_on(async {}));
        let payload = caught.unwrap_err();
        payload.downcast_ref::<&str>().map(|s| s.to_string()).unwrap_or_default()
    });
    assert!(
        message.contains("`block_on` called from inside a running cashier runtime"),
        "{message}"
    );
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let caught = catch_unwind(|| spawn(async {}));
    let payload = caught.unwrap_err();
    let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("`spawn` called outside of a cashier runtime"), "{message}");
}

#[test]
fn runtime_drop_drops_pending_futures_once_on_the_runtime_thread() {
    let counter = DropCounter::default();
    let dropped_on = Rc::new(Cell::new(None));
    struct RecordThread(Rc<Cell<Option<std::thread::ThreadId>>>, #[allow(dead_code)] DropToken);
    impl Drop for RecordThread {
        fn drop(&mut self) {
            self.0.set(Some(std::thread::current().id()));
        }
    }
    let executor = Executor::new();
    for _ in 0..3 {
        let guard = RecordThread(dropped_on.clone(), counter.token());
        drop(executor.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
    }
    assert_eq!(executor.alive_tasks(), 3);
    drop(executor);
    assert_eq!(counter.count(), 3);
    assert_eq!(dropped_on.get(), Some(std::thread::current().id()));
}

#[test]
fn spawn_during_shutdown_is_cancelled_too() {
    let late = Rc::new(RefCell::new(None::<JoinHandle<()>>));
    let counter = DropCounter::default();
    struct SpawnOnDrop(Rc<RefCell<Option<JoinHandle<()>>>>, DropCounter);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let token = self.1.token();
            *self.0.borrow_mut() = Some(spawn(async move {
                let _token = token;
                std::future::pending::<()>().await
            }));
        }
    }
    let executor = Executor::new();
    let guard = SpawnOnDrop(late.clone(), counter.clone());
    drop(executor.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    }));
    drop(executor);
    assert_eq!(counter.count(), 1, "the task spawned during shutdown was dropped");
    let handle = late.borrow_mut().take().expect("spawned during shutdown");
    assert!(handle.is_finished());
    assert!(Executor::new().block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn wakers_that_outlive_the_runtime_are_harmless() {
    let slot = support::WakerSlot::default();
    let executor = Executor::new();
    {
        let slot = slot.clone();
        drop(executor.spawn(std::future::poll_fn(move |cx| {
            slot.store(cx.waker());
            Poll::<()>::Pending
        })));
    }
    let executor = executor;
    executor.block_on(yield_times(1));
    let waker = slot.take();
    drop(executor);
    // Waking does nothing; cloning and dropping only touch the header, on any thread.
    waker.wake_by_ref();
    let clone = waker.clone();
    let remote = std::thread::spawn(move || {
        clone.wake_by_ref();
        clone.wake();
    });
    remote.join().unwrap();
    waker.wake();
}
