//! The task state word under a wake from another thread, through the real code.
//!
//! Each model builds a real [`Executor`] (on a [`LoomPark`]) and spawns one real task, so the state
//! word (`state.rs`), the task's poll, completion and waker (`task.rs`), the `JoinHandle` (`join.rs`)
//! and both run queues are the library's own. The task's first poll clones its `Waker` and hands it
//! to a second thread, which sets a flag and wakes the task: loom places that wake before, during
//! and after the poll, and between every step of the runtime thread's reaction to it (re-queue,
//! abort, dropping the `JoinHandle`, completion, shutdown). `JoinHandle::abort` and dropping the
//! handle happen on the runtime thread, because the handle is `!Send`; what races them is the wake.
//!
//! # What it proves, up to the preemption bound
//!
//! - **No lost wake.** The runtime thread parks (in [`LoomPark`], on a loom `Notify`) when it has
//!   nothing to do; had a wake been lost, it would park for ever, which loom reports as a deadlock.
//! - **Queued exactly when it must be.** The task is polled exactly twice when it completes (the
//!   wake during or after the first poll leads to exactly one more), never after an abort took
//!   effect, and never at shutdown. A task queued twice would be popped while not `SCHEDULED`, which
//!   `transition_to_running`'s `debug_assert!` reports (`scripts/loom` builds with debug assertions).
//! - **What the waker wrote is visible to the poll it causes**: the flag is written and read
//!   `Relaxed`, and the second poll asserts that it sees it.
//! - **The future and the output are each dropped exactly once**, the future on the runtime thread.
//! - **The task is freed**: every task holds a strong count of the executor's `Shared`, so once the
//!   executor is dropped and the waking thread joined, `Shared` is gone only if every task's last
//!   reference was released (on whichever thread released it).
//!
//! # What it does not prove
//!
//! That the memory is freed *at most* once is not observed directly (a double free is undefined
//! behaviour, not a loom failure); it follows from the count reaching zero once, which only happens
//! if every release decrements a count that was held, and `ref_dec`'s `debug_assert!` checks that
//! no release finds the count at zero. Nothing here runs two tasks, two wakers of one task on two
//! threads, or a waker cloned on another thread; `std::sync::Arc<Shared>` is not modelled.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::LoomPark;
use crate::loom::thread::{self, JoinHandle as ThreadHandle, ThreadId};
use crate::loom::{Arc, AtomicBool, Ordering};
use crate::{Executor, JoinError, spawn, yield_now};

/// Everything a model observes about its one task. Runtime thread only, except `woken`.
#[derive(Clone)]
struct Probe {
    /// How many times the task's future was polled.
    polls: Rc<Cell<u32>>,
    /// How many times the future was dropped.
    future_drops: Rc<Cell<u32>>,
    /// How many times the output was dropped.
    output_drops: Rc<Cell<u32>>,
    /// Set by the model right after `JoinHandle::abort`: from then on the task must not be polled.
    aborted: Rc<Cell<bool>>,
    /// A waker to wake when the output is dropped (a model waiting for a detached task).
    on_output_drop: Rc<RefCell<Option<Waker>>>,
    /// Written by the waking thread just before it wakes the task.
    woken: Arc<AtomicBool>,
    /// The waking thread, once the first poll started it.
    waker_thread: Rc<RefCell<Option<ThreadHandle<()>>>>,
    /// The thread that runs the executor.
    runtime_thread: ThreadId,
}

impl Probe {
    fn new() -> Probe {
        Probe {
            polls: Rc::default(),
            future_drops: Rc::default(),
            output_drops: Rc::default(),
            aborted: Rc::default(),
            on_output_drop: Rc::default(),
            woken: Arc::new(AtomicBool::new(false)),
            waker_thread: Rc::default(),
            runtime_thread: thread::current().id(),
        }
    }

    /// The future to spawn.
    fn task(&self) -> WokenRemotely {
        WokenRemotely { probe: self.clone() }
    }

    /// Joins the waking thread (it exists once the task was polled).
    fn join_waker_thread(&self) {
        let handle = self.waker_thread.borrow_mut().take().expect("the task was polled");
        handle.join().expect("the waking thread does not panic");
    }
}

/// The spawned future: its first poll hands a clone of its waker to a new thread, which sets
/// `woken` and wakes it; its second poll returns the output.
struct WokenRemotely {
    /// What the model observes.
    probe: Probe,
}

impl Future for WokenRemotely {
    type Output = Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        let probe = &self.probe;
        assert!(!probe.aborted.get(), "polled after `abort` took effect");
        probe.polls.set(probe.polls.get() + 1);
        if probe.polls.get() == 1 {
            let waker = cx.waker().clone();
            let woken = Arc::clone(&probe.woken);
            let handle = thread::spawn(move || {
                woken.store(true, Ordering::Relaxed);
                waker.wake();
            });
            *probe.waker_thread.borrow_mut() = Some(handle);
            return Poll::Pending;
        }
        assert!(probe.woken.load(Ordering::Relaxed), "polled again, but not by the wake");
        Poll::Ready(Output { probe: probe.clone() })
    }
}

impl Drop for WokenRemotely {
    fn drop(&mut self) {
        let probe = &self.probe;
        assert_eq!(thread::current().id(), probe.runtime_thread, "future dropped off its thread");
        probe.future_drops.set(probe.future_drops.get() + 1);
    }
}

/// The task's output: counts its drop and wakes whoever waits for it.
struct Output {
    /// What the model observes.
    probe: Probe,
}

impl Drop for Output {
    fn drop(&mut self) {
        let probe = &self.probe;
        assert_eq!(thread::current().id(), probe.runtime_thread, "output dropped off its thread");
        probe.output_drops.set(probe.output_drops.get() + 1);
        if let Some(waker) = probe.on_output_drop.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// Drops the executor (the waking thread may still be running), joins the waking thread and
/// checks that every task was freed.
fn finish(executor: Executor<LoomPark>, probe: &Probe) {
    let shared = executor.shared_weak();
    drop(executor);
    probe.join_waker_thread();
    assert!(shared.upgrade().is_none(), "a task was never freed");
    assert_eq!(probe.future_drops.get(), 1, "the future is dropped exactly once");
}

/// Wake before, during or after the first poll: exactly one more poll follows, and it sees what
/// the waker wrote. The last reference may be the waker's, released on its thread.
#[test]
fn remote_wake_before_during_or_after_the_poll() {
    loom::model(|| {
        let executor = Executor::with_park(LoomPark::new());
        let probe = Probe::new();
        let task = probe.task();
        let result = executor.block_on(async move { spawn(task).await });
        assert!(result.is_ok());
        drop(result);
        assert_eq!(probe.polls.get(), 2, "one poll, one wake, one more poll");
        assert_eq!(probe.output_drops.get(), 1);
        finish(executor, &probe);
    });
}

/// `abort` after `yields` turns of the loop, racing the wake: the task is either cancelled before
/// its second poll (and never polled again) or had already completed and keeps its output.
fn abort_races_a_remote_wake(yields: usize) {
    loom::model(move || {
        let executor = Executor::with_park(LoomPark::new());
        let probe = Probe::new();
        let (task, aborted) = (probe.task(), Rc::clone(&probe.aborted));
        let result: Result<Output, JoinError> = executor.block_on(async move {
            let handle = spawn(task);
            for _ in 0..yields {
                yield_now().await;
            }
            let complete = handle.is_finished();
            handle.abort();
            aborted.set(!complete);
            handle.await
        });
        match result {
            Ok(output) => {
                assert_eq!(probe.polls.get(), 2);
                drop(output);
                assert_eq!(probe.output_drops.get(), 1);
            }
            Err(error) => {
                assert!(error.is_cancelled());
                assert_eq!(probe.polls.get(), 1, "no poll after the abort");
                assert_eq!(probe.output_drops.get(), 0);
            }
        }
        finish(executor, &probe);
    });
}

#[test]
fn abort_races_a_remote_wake_after_one_turn() {
    abort_races_a_remote_wake(1);
}

#[test]
fn abort_races_a_remote_wake_after_two_turns() {
    abort_races_a_remote_wake(2);
}

/// The `JoinHandle` is dropped after `yields` turns, racing the wake: the output is dropped once,
/// by the task itself if it completes later, by the handle if it had already completed.
fn join_handle_dropped_while_woken_remotely(yields: usize) {
    loom::model(move || {
        let executor = Executor::with_park(LoomPark::new());
        let probe = Probe::new();
        let (task, watch) = (probe.task(), probe.clone());
        executor.block_on(async move {
            let handle = spawn(task);
            for _ in 0..yields {
                yield_now().await;
            }
            drop(handle);
            // Wait until the detached task drops its output (woken by `Output::drop`).
            poll_fn(|cx| {
                if watch.output_drops.get() > 0 {
                    return Poll::Ready(());
                }
                *watch.on_output_drop.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            })
            .await;
        });
        assert_eq!(probe.polls.get(), 2);
        assert_eq!(probe.output_drops.get(), 1);
        finish(executor, &probe);
    });
}

#[test]
fn join_handle_dropped_while_woken_remotely_after_one_turn() {
    join_handle_dropped_while_woken_remotely(1);
}

#[test]
fn join_handle_dropped_while_woken_remotely_after_two_turns() {
    join_handle_dropped_while_woken_remotely(2);
}

/// The executor is dropped while the wake is in flight: the wake finds the task queued, idle,
/// cancelled or complete and the remote queue open or closed; shutdown drops the future once, on
/// the runtime thread, and the waker's release may free the task after the executor is gone.
#[test]
fn shutdown_races_a_remote_wake() {
    loom::model(|| {
        let executor = Executor::with_park(LoomPark::new());
        let probe = Probe::new();
        let task = probe.task();
        executor.block_on(async move {
            drop(spawn(task)); // detached: shutdown drops the output (a `JoinError`) itself
            yield_now().await; // the task's first poll starts the waking thread
        });
        // A wake during the first poll re-queues the task behind it, in the same turn.
        let polls = probe.polls.get();
        assert!(polls == 1 || polls == 2);
        finish(executor, &probe);
        assert_eq!(probe.polls.get(), polls, "shutdown does not poll");
        let outputs = if polls == 2 { 1 } else { 0 }; // a cancelled task has no output
        assert_eq!(probe.output_drops.get(), outputs);
    });
}
