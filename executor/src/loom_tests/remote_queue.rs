//! The remote queue (`run_queue.rs`): pushes from several threads against the runtime thread's
//! whole-stack drain and its close at shutdown.
//!
//! The queue and the tasks are real: the tasks are spawned on a real executor and polled once, so
//! they are idle; each pushing thread then does what a waker does on a foreign thread
//! (`transition_to_scheduled`, then `RemoteQueue::push`, then an unpark if the push found the queue
//! empty), onto a queue of the model's own, which the model's main thread drains into a
//! `LocalQueue` (as the run loop does) and closes (as shutdown does).
//!
//! # What it proves, up to the preemption bound
//!
//! - Every task pushed onto an open queue is drained exactly once, and the tasks of one pusher
//!   come out in the order it pushed them (the drain reverses the stack into arrival order).
//! - The pusher that must unpark the runtime is told so: the consumer waits for an unpark whenever it
//!   has not yet seen every task, and a push that made the queue non-empty without reporting
//!   `WasEmpty` would leave it waiting for ever (a loom deadlock).
//! - A push racing `close` either lands before it (and is drained, or forgotten by the close) or
//!   returns `Closed`; once a pusher has seen `Closed`, every later push does too, and a task
//!   rejected by close is never drained.
//!
//! # What it does not prove
//!
//! `close` forgets what the queue held without reporting it, so the model cannot check that the
//! accepted tasks it did not drain were exactly those; it checks only that nothing is drained
//! twice, nothing rejected is drained, and nothing accepted is drained out of order. The model
//! has two pushing threads and three tasks.

use std::future::pending;

use std::sync::Arc as StdArc;

use super::{LoomPark, Wakeup};
use crate::Executor;
use crate::loom::Arc;
use crate::loom::thread;
use crate::run_queue::{LocalQueue, RemotePush, RemoteQueue};
use crate::state::ToScheduled;
use crate::task::TaskRef;
use crate::yield_now;

/// A task pointer handed to a pushing thread.
#[derive(Clone, Copy)]
struct SendTask(TaskRef);

// SAFETY: a pushing thread only touches the task's state word and `queue_next`, which are atomics,
// as a `Waker` on a foreign thread does; the task stays allocated until the model drops its
// `JoinHandle`, after every pushing thread was joined.
unsafe impl Send for SendTask {}

/// Does what `Waker::wake` does on a thread that is not the runtime's: claim `SCHEDULED`, push, and
/// unpark the runtime if the queue was empty.
fn wake_remotely(queue: &RemoteQueue, task: SendTask, runtime: &Wakeup) -> RemotePush {
    assert_eq!(task.0.header().state.transition_to_scheduled(), ToScheduled::Enqueue);
    let pushed = queue.push(task.0);
    if pushed == RemotePush::WasEmpty {
        runtime.notify();
    }
    pushed
}

/// Moves what the queue holds into a local queue and returns it in run order.
fn drain(queue: &RemoteQueue) -> Vec<TaskRef> {
    let local = LocalQueue::new();
    queue.drain_into(&local);
    std::iter::from_fn(|| local.pop()).collect()
}

/// Spawns `n` tasks that never finish and polls each once, so that they are idle (no
/// `SCHEDULED`, in no queue); returns their handles, which keep them allocated.
fn idle_tasks(executor: &Executor<LoomPark>, n: usize) -> Vec<crate::JoinHandle<()>> {
    let handles: Vec<_> = (0..n).map(|_| executor.spawn(pending::<()>())).collect();
    executor.block_on(yield_now()); // one turn: every spawned task is polled once
    handles
}

/// Two threads push three tasks; the runtime thread drains until it has them all, waiting for
/// an unpark in between as the run loop parks.
#[test]
fn pushes_from_two_threads_are_drained_once_each_in_order() {
    loom::model(|| {
        let executor = Executor::with_park(LoomPark::new());
        let handles = idle_tasks(&executor, 3);
        let tasks: Vec<SendTask> = handles.iter().map(|h| SendTask(h.task_ref())).collect();
        let queue = Arc::new(RemoteQueue::new());
        let runtime = Wakeup::new();
        let pushers = [vec![tasks[0], tasks[1]], vec![tasks[2]]].map(|mine| {
            let (queue, runtime) = (Arc::clone(&queue), StdArc::clone(&runtime));
            thread::spawn(move || {
                for task in mine {
                    assert_ne!(wake_remotely(&queue, task, &runtime), RemotePush::Closed);
                }
            })
        });
        let mut drained = Vec::new();
        loop {
            drained.extend(drain(&queue));
            if drained.len() >= tasks.len() {
                break;
            }
            runtime.wait(); // a lost unpark leaves us here for ever: a loom deadlock
        }
        for pusher in pushers {
            pusher.join().unwrap();
        }
        assert_eq!(drained.len(), 3, "each task drained once");
        for task in &tasks {
            assert_eq!(drained.iter().filter(|&&t| t == task.0).count(), 1);
        }
        let position = |task: SendTask| drained.iter().position(|&t| t == task.0).unwrap();
        assert!(position(tasks[0]) < position(tasks[1]), "one pusher's tasks keep their order");
        assert!(queue.is_empty());
        drop(handles);
        drop(executor);
    });
}

/// Two threads push while the runtime thread drains once and then closes the queue, as shutdown
/// does: a push lands before the close or is told `Closed`, for good.
#[test]
fn close_races_pushes() {
    loom::model(|| {
        let executor = Executor::with_park(LoomPark::new());
        let handles = idle_tasks(&executor, 2);
        let queue = Arc::new(RemoteQueue::new());
        let runtime = Wakeup::new();
        let pushers: Vec<_> = handles
            .iter()
            .map(|handle| {
                let (queue, runtime) = (Arc::clone(&queue), StdArc::clone(&runtime));
                let task = SendTask(handle.task_ref());
                thread::spawn(move || {
                    let pushed = wake_remotely(&queue, task, &runtime);
                    if pushed == RemotePush::Closed {
                        // The task keeps its `SCHEDULED` claim, so push it again directly.
                        assert_eq!(queue.push(task.0), RemotePush::Closed, "closed for good");
                    }
                    pushed
                })
            })
            .collect();
        let drained = drain(&queue);
        queue.close();
        let outcomes: Vec<RemotePush> = pushers.into_iter().map(|p| p.join().unwrap()).collect();
        for (handle, pushed) in handles.iter().zip(&outcomes) {
            let times = drained.iter().filter(|&&t| t == handle.task_ref()).count();
            match pushed {
                RemotePush::Closed => assert_eq!(times, 0, "a rejected task is never drained"),
                _ => assert!(times <= 1, "an accepted task is drained at most once"),
            }
        }
        // Shutdown cancels the tasks through the owned list, whatever their `SCHEDULED` bit says.
        drop(handles);
        drop(executor);
    });
}
