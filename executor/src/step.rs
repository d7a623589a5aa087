//! Step mode: one scheduling decision at a time, for a learner (or a test) to watch.
//!
//! The run loop in `executor.rs` makes the same few decisions over and over, too fast to see.
//! [`Executor::step`] makes exactly one of them and says which:
//!
//! 1. Move the tasks woken on other threads into the local queue, behind those already waiting,
//!    then the tasks spawned from other threads (the run loop does the same once per turn).
//! 2. If a task is queued, pop the oldest and run it: one poll (arrow 2 of the lifecycle diagram
//!    in `task.rs`, then 5, 6 or 7) → [`Step::Polled`]; or, if it was aborted while it waited,
//!    its cancellation (arrow 7 without a poll) → [`Step::Cancelled`].
//! 3. Otherwise, if the parker has something to wait for ([`Park::expects_events`]), park once
//!    without a timeout, exactly as the idle run loop does, then move remote wakes in again
//!    → [`Step::Parked`]. With the reactor as the parker, that is one turn: wait for I/O or the
//!    next timer (on a paused clock, jump to it) and wake whatever is ready.
//! 4. Otherwise → [`Step::Idle`], without blocking: nothing can run and nothing is awaited, so a
//!    park would last until some thread nobody knows of unparks it, perhaps forever. For a learner
//!    at the keyboard a hang is the worst answer; "idle" is the true one. Stepping again is
//!    harmless, and picks up whatever another thread has woken meanwhile.
//!
//! A step enters the executor's thread-local context (`context.rs`) for its duration, so the
//! polled task can `spawn`, and its wakes go to the local queue, as under `block_on`.
//!
//! # Why a file of its own
//!
//! The run loop is the hot path, and it stays exactly as it was: stepping adds no check to it.
//! This file uses the pieces every loop needs (`LocalQueue::pop`, `RemoteQueue::drain_into`,
//! `TaskRef::run`, `Park::park`), plus two the run loop never calls: `context::enter_step` and
//! [`Park::expects_events`]. [`Executor::queued_tasks`] reads the queue (popping and pushing
//! every task back, in order) between steps.
//!
//! # How stepping differs from `block_on`
//!
//! - There is no `block_on` future: whatever is to be stepped is spawned first
//!   ([`Executor::spawn`]), and its `JoinHandle` tells when it is done.
//! - The run loop also looks at I/O without waiting after every [`EVENT_INTERVAL`] polls, so that
//!   sockets are served while tasks keep each other busy. A step parks only when nothing is
//!   queued: tasks that wake each other forever are never interrupted by a turn in step mode.
//!
//! # Names
//!
//! A step reports the task's [`TaskKey`], not its name: names given with `task::Builder` are
//! stored nowhere in the executor (`task_builder.rs`), only handed to the trace recorder. A
//! stepper that wants them makes a [`Recorder`](cashier_trace::Recorder) current around its steps
//! and reads them from the `Spawn` and `Name` events, as the explain mode does.
//!
//! [`EVENT_INTERVAL`]: crate::EVENT_INTERVAL

use cashier_trace::{PollResult, TaskKey};

use crate::context;
use crate::executor::Executor;
use crate::park::Park;

/// What one [`Executor::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The oldest queued task was polled once.
    Polled {
        /// The task (its key in trace events).
        task: TaskKey,
        /// How the poll ended: `Pending` (it waits, or was queued again by its own wake, or was
        /// aborted during this poll and has now completed as cancelled), `Ready` (it completed)
        /// or `Panicked` (it completed, and its `JoinHandle` will say so).
        result: PollResult,
    },
    /// The oldest queued task had been aborted while it waited: its future was dropped without
    /// a poll, and the task completed as cancelled.
    Cancelled {
        /// The task.
        task: TaskKey,
    },
    /// Nothing was queued: the executor parked once (with the reactor, one turn), and queued
    /// whatever that woke.
    Parked,
    /// Nothing was queued and the parker expected nothing: the step returned at once.
    Idle,
}

impl<P: Park> Executor<P> {
    /// Makes one scheduling decision: polls the oldest queued task, or parks once if none is
    /// queued, or reports [`Step::Idle`] if nothing can run and nothing is awaited. See
    /// `step.rs` for the rules.
    ///
    /// ```
    /// use cashier_executor::{Executor, Step, yield_now};
    /// use cashier_trace::PollResult;
    ///
    /// let mut executor = Executor::new();
    /// let order = executor.spawn(async {
    ///     yield_now().await; // steps aside once
    ///     "burger"
    /// });
    /// let first = executor.step();
    /// assert!(matches!(first, Step::Polled { result: PollResult::Pending, .. }));
    /// let second = executor.step();
    /// assert!(matches!(second, Step::Polled { result: PollResult::Ready, .. }));
    /// assert_eq!(executor.step(), Step::Idle); // a thread parker waits for nothing of its own
    /// assert_eq!(executor.block_on(order).unwrap(), "burger");
    /// ```
    ///
    /// # Panics
    /// If called from inside a running `block_on` or `step` on this thread (a task cannot drive
    /// the loop that runs it). A panic in the polled task does not propagate: it is reported as
    /// [`PollResult::Panicked`] and through the task's `JoinHandle`.
    pub fn step(&mut self) -> Step {
        let _enter = context::enter_step(&self.core);
        self.core.shared.remote.drain_into(&self.core.local);
        self.core.adopt_remote_spawns();
        if let Some(task) = self.core.local.pop() {
            // The owned list keeps the task alive through `run`; its key is only a number after.
            let key = task.key();
            return match task.run(&self.core) {
                Some(result) => Step::Polled { task: key, result },
                None => Step::Cancelled { task: key },
            };
        }
        if !self.park.expects_events() {
            return Step::Idle;
        }
        self.park.park(None);
        self.core.shared.remote.drain_into(&self.core.local);
        self.core.adopt_remote_spawns();
        Step::Parked
    }

    /// The tasks in the local run queue, oldest (next to run) first: what the next steps will
    /// poll, in order. Tasks woken on other threads since the last step are not listed; they join
    /// the queue at the start of the next step.
    ///
    /// ```
    /// let executor = cashier_executor::Executor::new();
    /// executor.spawn(async {});
    /// executor.spawn(async {});
    /// assert_eq!(executor.queued_tasks().len(), 2);
    /// ```
    pub fn queued_tasks(&self) -> Vec<TaskKey> {
        // The queue has no iterator, and a read the run loop never makes is not worth an
        // `unsafe` walk along its raw links: take every task off and put it back, in order.
        let mut queued = Vec::new();
        while let Some(task) = self.core.local.pop() {
            queued.push(task);
        }
        for &task in &queued {
            self.core.local.push(task);
        }
        queued.into_iter().map(|task| task.key()).collect()
    }
}
