//! Step mode: the runtime driven one scheduling decision at a time, each one reported.
//!
//! [`Runtime::step`] is `block_on`'s loop slowed down to a single decision, for a learner (the
//! `step` example walks through names_ages one Enter at a time) or for a test that asserts the
//! exact order of events:
//!
//! - a task is queued: the oldest is polled once → [`Step::Poll`], or dropped unpolled if it was
//!   aborted while it waited → [`Step::Cancel`];
//! - nothing is queued: the reactor takes one turn, waiting for I/O or the next timer (on a
//!   paused clock, jumping to it) and waking whatever is ready → [`Step::Turn`], with a [`Turn`]
//!   saying how far the clock moved and what fired;
//! - nothing is queued and the reactor waits for nothing (no timer in the wheel, no task waiting
//!   on a socket, no `to_thread` job in flight) → [`Step::Idle`], at once. Such a turn could only be
//!   ended by a thread nobody knows of; a step never hangs.
//!
//! The decision is the executor's (`executor/src/step.rs`, which knows nothing of the reactor:
//! it asks the parker, through `Park::expects_events`, whether a turn would wait for anything).
//! This file enters the reactor's context around it, as `block_on` does, so that the polled task
//! can `sleep` and use sockets, and measures a turn with the reactor's counters and clock.
//!
//! Between steps, the runtime can be looked at: [`Runtime::run_queue`] (what the next steps will
//! poll), [`Runtime::pending_timers`] and [`Runtime::io_sources`] (what a turn waits for). All
//! three are reads the run loop never makes: stepping costs `block_on` nothing.
//!
//! # Names
//!
//! A step names its task by [`TaskKey`], not by name: task names are stored nowhere in the
//! runtime, only handed to the trace recorder when the task is spawned (`task_builder.rs`), so
//! that a name costs nothing unless somebody watches. A stepper that wants them makes a
//! [`Recorder`](cashier_trace::Recorder) current around its spawns and steps and reads the
//! `Spawn` and `Name` events, which also feed the explain mode's
//! [`Narrator`](cashier_trace::Narrator): see the `step` example's engine,
//! `cashier_demos::stepper`. A
//! runtime built with [`Builder::trace`](crate::Builder::trace) records its steps as it records
//! `block_on`.

use std::fmt;
use std::time::Duration;

use cashier_executor::Step as Decision;

pub use cashier_reactor::{IoSource, PendingTimer};
pub use cashier_trace::{PollResult, TaskKey};

use crate::Runtime;

/// What one [`Runtime::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The oldest queued task was polled once.
    Poll {
        /// The task (its key in trace events).
        task: TaskKey,
        /// `Pending` (it waits, or woke itself and is queued again, or was aborted during this
        /// poll and has now completed as cancelled), `Ready` (it completed) or `Panicked` (it
        /// completed, and its `JoinHandle` reports the panic).
        result: PollResult,
    },
    /// The oldest queued task had been aborted while it waited: its future was dropped without
    /// a poll.
    Cancel {
        /// The task.
        task: TaskKey,
    },
    /// Nothing was queued: the reactor took one turn.
    Turn(Turn),
    /// Nothing was queued and the reactor waited for nothing: the step returned at once.
    Idle,
}

/// What one reactor turn of [`Runtime::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Turn {
    /// The runtime's clock when the turn began, as time since the runtime was built.
    pub from: Duration,
    /// The clock when it ended: past `from` when a paused clock jumped or a real wait took time.
    pub to: Duration,
    /// Whether a paused clock jumped to the next timer (rather than time passing in a wait).
    pub clock_jumped: bool,
    /// Timers fired, each waking the task that slept on it.
    pub timers_fired: u64,
    /// Readiness events from the OS (each may wake a task waiting on that socket).
    pub io_events: u64,
}

/// `"clock jumped to 0.158s, 1 timer fired"`; `"waited 2 ms, 1 I/O event"`; `"nothing fired"`.
impl fmt::Display for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said = Vec::new();
        if self.clock_jumped {
            let to = self.to.as_millis();
            said.push(format!("clock jumped to {}.{:03}s", to / 1000, to % 1000));
        } else if self.to > self.from {
            said.push(format!("waited {} ms", (self.to - self.from).as_millis()));
        }
        let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        if self.timers_fired > 0 {
            said.push(format!("{} fired", plural(self.timers_fired, "timer")));
        }
        if self.io_events > 0 {
            said.push(plural(self.io_events, "I/O event"));
        }
        if said.is_empty() {
            return f.write_str("nothing fired");
        }
        f.write_str(&said.join(", "))
    }
}

impl Runtime {
    /// Makes one scheduling decision and says which: one poll of the oldest queued task, or one
    /// reactor turn if none is queued, or [`Step::Idle`] if nothing can run and nothing is
    /// awaited. See the [`step`](crate::step) module for the rules.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cashier::step::{PollResult, Step};
    ///
    /// let mut runtime = cashier::Runtime::builder().start_paused(true).build()?;
    /// runtime.spawn(async { cashier::sleep(Duration::from_millis(158)).await });
    /// // The task runs until its sleep files a timer, and waits.
    /// assert!(matches!(runtime.step(), Step::Poll { result: PollResult::Pending, .. }));
    /// assert_eq!(runtime.pending_timers(10)[0].deadline, Duration::from_millis(158));
    /// // Nothing can run: the paused clock jumps to the timer, which fires and wakes the task.
    /// let Step::Turn(turn) = runtime.step() else { panic!("expected a reactor turn") };
    /// assert_eq!(turn.to_string(), "clock jumped to 0.158s, 1 timer fired");
    /// // Polled again, the task completes; then nothing is left to run or to wait for.
    /// assert!(matches!(runtime.step(), Step::Poll { result: PollResult::Ready, .. }));
    /// assert_eq!(runtime.step(), Step::Idle);
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Panics
    /// If called from inside a running runtime on this thread. A panic in the polled task does
    /// not propagate: the step reports [`PollResult::Panicked`], and so does its `JoinHandle`.
    pub fn step(&mut self) -> Step {
        let _reactor = self.reactor().handle().enter();
        let (stats, from) = (self.reactor_stats(), self.clock());
        let decision = match &self.watch {
            Some(session) => session.scope(|| self.executor.step()),
            None => self.executor.step(),
        };
        match decision {
            Decision::Polled { task, result } => Step::Poll { task, result },
            Decision::Cancelled { task } => Step::Cancel { task },
            Decision::Idle => Step::Idle,
            Decision::Parked => {
                let after = self.reactor_stats();
                Step::Turn(Turn {
                    from,
                    to: self.clock(),
                    clock_jumped: after.clock_jumps > stats.clock_jumps,
                    timers_fired: after.timers_fired - stats.timers_fired,
                    io_events: after.io_events - stats.io_events,
                })
            }
        }
    }

    /// The tasks in the run queue, next to run first: what the coming steps will poll, in order.
    /// Tasks woken from other threads since the last step are not listed yet; the next step
    /// queues them first.
    pub fn run_queue(&self) -> Vec<TaskKey> {
        self.executor.queued_tasks()
    }

    /// The first `limit` timers waiting in the reactor's wheel, earliest first, with their
    /// deadlines as time since the runtime was built. It scans the whole wheel: a read for step
    /// mode, not for a hot loop.
    pub fn pending_timers(&self, limit: usize) -> Vec<PendingTimer> {
        self.reactor().pending_timers(limit)
    }

    /// The sockets registered with the reactor: each one's fd, cached readiness and whether a
    /// task waits on it.
    pub fn io_sources(&self) -> Vec<IoSource> {
        self.reactor().io_sources()
    }

    /// The reactor's handle: its clock ([`Handle::clock_nanos`](cashier_reactor::Handle::clock_nanos)
    /// is what a trace [`Recorder`](cashier_trace::Recorder) of this runtime should read), and
    /// [`Handle::enter`](cashier_reactor::Handle::enter).
    pub fn reactor_handle(&self) -> &cashier_reactor::Handle {
        self.reactor().handle()
    }

    /// The runtime's clock, as time since it was built (virtual when paused).
    fn clock(&self) -> Duration {
        Duration::from_nanos(self.reactor().handle().clock_nanos())
    }
}
