//! Step mode on the executor alone: one scheduling decision per `Executor::step`.
//!
//! Each test tells one story and asserts its exact list of steps, one comment per entry. Tasks
//! are known by their keys, read from the run queue right after they are spawned (spawn order
//! is queue order).

mod support;

use cashier_executor::{Executor, Step, spawn, yield_now};
use cashier_trace::PollResult::{Panicked, Pending, Ready};
use support::{Probe, Trace, WakerSlot};

/// Takes `n` steps.
fn steps(executor: &mut Executor, n: usize) -> Vec<Step> {
    (0..n).map(|_| executor.step()).collect()
}

#[test]
fn each_step_polls_the_oldest_queued_task_once() {
    let mut executor = Executor::new();
    let _a = executor.spawn(async { yield_now().await });
    let _b = executor.spawn(async {});
    let [a, b] = executor.queued_tasks()[..] else { panic!("two tasks queued") };
    assert_eq!(
        steps(&mut executor, 4),
        [
            Step::Polled { task: a, result: Pending }, // a yields: to the back, behind b
            Step::Polled { task: b, result: Ready },   // b completes at its first poll
            Step::Polled { task: a, result: Ready },   // a's second poll completes it
            Step::Idle,                                // nothing queued, nothing to wait for
        ]
    );
}

#[test]
fn a_task_spawned_during_a_step_is_queued_not_polled() {
    let mut executor = Executor::new();
    let _parent = executor.spawn(async { spawn(async { 7 }).await.unwrap() });
    let [parent] = executor.queued_tasks()[..] else { panic!("one task queued") };
    assert!(matches!(executor.step(), Step::Polled { task, result: Pending } if task == parent));
    let [child] = executor.queued_tasks()[..] else { panic!("the child is queued") };
    assert_eq!(
        steps(&mut executor, 3),
        [
            Step::Polled { task: child, result: Ready }, // the child completes, waking its joiner
            Step::Polled { task: parent, result: Ready }, // the parent takes the output
            Step::Idle,
        ]
    );
}

#[test]
fn a_panicking_task_is_reported_and_the_steps_go_on() {
    let mut executor = Executor::new();
    let doomed = executor.spawn(async { panic!("the fryer caught fire") });
    let _next = executor.spawn(async {});
    let [a, b] = executor.queued_tasks()[..] else { panic!("two tasks queued") };
    assert_eq!(
        steps(&mut executor, 3),
        [
            Step::Polled { task: a, result: Panicked }, // contained: the step returns
            Step::Polled { task: b, result: Ready },    // and the next one runs as usual
            Step::Idle,
        ]
    );
    assert!(executor.block_on(doomed).unwrap_err().is_panic(), "the handle reports it too");
}

#[test]
fn a_task_aborted_while_queued_is_dropped_unpolled() {
    let trace = Trace::default();
    let mut executor = Executor::new();
    let probe = Probe { trace: trace.clone(), slot: WakerSlot::default(), pending_polls: 1 };
    let handle = executor.spawn(probe);
    let [a] = executor.queued_tasks()[..] else { panic!("one task queued") };
    handle.abort();
    assert_eq!(
        steps(&mut executor, 2),
        [
            Step::Cancelled { task: a }, // popped, and dropped instead of polled
            Step::Idle,
        ]
    );
    assert!(trace.take().is_empty(), "never polled");
    assert_eq!(executor.alive_tasks(), 0);
}

#[test]
fn a_wake_from_another_thread_waits_for_the_next_step() {
    let trace = Trace::default();
    let slot = WakerSlot::default();
    let mut executor = Executor::new();
    let _probe =
        executor.spawn(Probe { trace: trace.clone(), slot: slot.clone(), pending_polls: 1 });
    let [a] = executor.queued_tasks()[..] else { panic!("one task queued") };
    assert_eq!(executor.step(), Step::Polled { task: a, result: Pending }); // stores its waker
    assert_eq!(executor.step(), Step::Idle); // only a thread nobody knows of could wake it
    let waker = slot.take();
    std::thread::spawn(move || waker.wake()).join().unwrap(); // onto the remote queue
    assert!(executor.queued_tasks().is_empty(), "not in the local queue before a step");
    assert_eq!(
        steps(&mut executor, 2),
        [
            Step::Polled { task: a, result: Ready }, // the step moved it in first, then polled it
            Step::Idle,
        ]
    );
    assert_eq!(trace.take(), ["poll", "pending", "poll", "ready"]);
}

#[test]
fn reading_the_queue_leaves_it_as_it_was() {
    let mut executor = Executor::new();
    for _ in 0..3 {
        drop(executor.spawn(async {}));
    }
    let queued = executor.queued_tasks();
    assert_eq!(queued.len(), 3);
    assert_eq!(executor.queued_tasks(), queued, "read twice, same order");
    let polled: Vec<_> = steps(&mut executor, 3)
        .into_iter()
        .map(|step| match step {
            Step::Polled { task, result: Ready } => task,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(polled, queued, "polled in the order listed");
}
