//! The order of events in a task's life: poll, pending, wake, poll, ready.
//!
//! Each test tells one story and asserts its exact trace, one comment per entry.

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::task::Poll;

use cashier_executor::{Executor, spawn, yield_now};
use support::{DropCounter, Probe, Stuck, Trace, WakerSlot, yield_times};

#[test]
fn poll_pending_wake_poll_ready() {
    let trace = Trace::default();
    let slot = WakerSlot::default();
    let executor = Executor::new();
    let handle =
        executor.spawn(Probe { trace: trace.clone(), slot: slot.clone(), pending_polls: 1 });
    executor.block_on(yield_times(1));
    trace.push("wake");
    slot.take().wake();
    executor.block_on(handle).unwrap();
    assert_eq!(
        trace.take(),
        [
            "poll",    // first poll at the first turn of the loop
            "pending", // it parks its waker and steps aside
            "wake",    // the test fires the waker
            "poll",    // so the executor polls it again
            "ready",   // and it completes
        ]
    );
}

#[test]
fn wake_while_running_is_polled_again() {
    let trace = Trace::default();
    let executor = Executor::new();
    let polls = Rc::new(Cell::new(0));
    let task = {
        let (trace, polls) = (trace.clone(), polls.clone());
        std::future::poll_fn(move |cx| {
            polls.set(polls.get() + 1);
            trace.push("poll");
            if polls.get() == 1 {
                trace.push("wake");
                cx.waker().wake_by_ref(); // woken while it is running
                trace.push("pending");
                return Poll::Pending;
            }
            trace.push("ready");
            Poll::Ready(())
        })
    };
    executor.block_on(spawn_and_join(task));
    assert_eq!(
        trace.take(),
        [
            "poll",    // first poll
            "wake",    // the task wakes itself during that poll
            "pending", // and returns Pending: the wake must not be lost
            "poll",    // so it is polled again
            "ready",   // and completes
        ]
    );
}

async fn spawn_and_join(future: impl std::future::Future<Output = ()> + 'static) {
    spawn(future).await.unwrap();
}

#[test]
fn task_never_woken_is_never_polled_again() {
    let polls = Rc::new(Cell::new(0));
    let executor = Executor::new();
    let _handle = executor.spawn(Stuck { polls: polls.clone() });
    executor.block_on(yield_times(200));
    assert_eq!(polls.get(), 1, "only the first poll: nobody woke it");
    assert_eq!(executor.alive_tasks(), 1);
}

#[test]
fn many_wakes_before_the_poll_cause_one_poll() {
    let trace = Trace::default();
    let slot = WakerSlot::default();
    let executor = Executor::new();
    let handle =
        executor.spawn(Probe { trace: trace.clone(), slot: slot.clone(), pending_polls: 1 });
    executor.block_on(yield_times(1));
    let waker = slot.take();
    waker.wake_by_ref();
    waker.wake_by_ref();
    waker.wake();
    executor.block_on(handle).unwrap();
    assert_eq!(
        trace.take(),
        [
            "poll",    // first poll
            "pending", // waits
            "poll",    // three wakes, one poll: the task was queued once
            "ready",
        ]
    );
}

#[test]
fn not_send_futures_spawn_and_run() {
    let shared = Rc::new(Cell::new(0));
    let executor = Executor::new();
    let total = executor.block_on({
        let shared = shared.clone();
        async move {
            let handles: Vec<_> = (1..=4)
                .map(|n| {
                    let shared = shared.clone();
                    spawn(async move {
                        yield_now().await;
                        shared.set(shared.get() + n);
                        Rc::new(n) // a `!Send` output too
                    })
                })
                .collect();
            let mut total = 0;
            for handle in handles {
                total += *handle.await.unwrap();
            }
            total
        }
    });
    assert_eq!(total, 10);
    assert_eq!(shared.get(), 10);
}

#[test]
fn tasks_spawned_outside_block_on_run_at_the_next_one() {
    let executor = Executor::new();
    let ran = Rc::new(Cell::new(false));
    let handle = executor.spawn({
        let ran = ran.clone();
        async move { ran.set(true) }
    });
    assert!(!ran.get(), "spawn does not run the task inline");
    executor.block_on(handle).unwrap();
    assert!(ran.get());
    assert_eq!(executor.alive_tasks(), 0);
}

#[test]
fn yield_now_lets_every_waiting_task_run_first() {
    let trace = Trace::default();
    let executor = Executor::new();
    executor.block_on({
        let trace = trace.clone();
        async move {
            let a = spawn({
                let trace = trace.clone();
                async move {
                    trace.push("a: before yield");
                    yield_now().await;
                    trace.push("a: after yield");
                }
            });
            let b = spawn({
                let trace = trace.clone();
                async move { trace.push("b") }
            });
            a.await.unwrap();
            b.await.unwrap();
        }
    });
    assert_eq!(
        trace.take(),
        [
            "a: before yield", // a runs first: spawned first
            "b",               // a yielded: b, already queued, is served
            "a: after yield",  // then a again
        ]
    );
}

#[test]
fn is_finished_reports_completion_without_blocking() {
    let executor = Executor::new();
    let handle = executor.spawn(async {});
    assert!(!handle.is_finished());
    executor.block_on(yield_times(1));
    assert!(handle.is_finished());
    executor.block_on(handle).unwrap();
}

#[test]
fn a_task_awaiting_another_is_woken_by_its_completion() {
    let executor = Executor::new();
    let out = executor.block_on(async {
        let inner = spawn(async {
            yield_times(3).await;
            7
        });
        let outer = spawn(async move { inner.await.unwrap() * 6 });
        outer.await.unwrap()
    });
    assert_eq!(out, 42);
}

#[test]
fn dropped_counter_sanity() {
    let counter = DropCounter::default();
    drop(counter.token());
    assert_eq!(counter.count(), 1);
}
