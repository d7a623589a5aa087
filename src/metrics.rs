//! The runtime's metrics, in the spirit of tokio-metrics: what the loop did (turns, parks, time
//! parked, events, wakes, the longest run queue, timers, registered fds, `to_thread` jobs) and
//! where each task's time went (polls, busy, scheduled, idle, longest poll).
//!
//! # Two sources, and the rule that decides which
//!
//! Nothing is counted on the executor's hot path (a poll, a wake, a spawn, the run queues) nor
//! on the reactor's per-timer or per-socket operations: a runtime nobody watches costs what it
//! cost before metrics existed. So the metrics come from two places:
//!
//! - **Always**: the reactor's [`ReactorStats`], counters it updates once per turn from values
//!   the turn computes anyway (turns, parks, readiness events, timers fired, clock jumps), and
//!   what the runtime can read at any time (timers waiting, fds registered, threads in the
//!   `to_thread` pool, live tasks).
//! - **When the runtime is watched** ([`Builder::metrics`](crate::Builder::metrics), the debug
//!   checks, or a trace): the rest is counted from the events the runtime records anyway when
//!   watched, by the trace crate's diagnose engine ([`EventCounts`]), and each task's row of the
//!   task table ([`TaskMetrics`]). Time parked is one of these: a turn reads the clock once,
//!   after its wait (to fire the timers due), and before it only when a timer waits, so timing
//!   the wait would add a clock read to most turns; the `Park` and `Unpark` records carry their
//!   times already.
//!
//! Unwatched, [`RuntimeMetrics::events`] and [`RuntimeMetrics::tasks`] are `None`, and the
//! printed metrics show `—` for what they would have said, with a note naming the switch.
//!
//! Busy, scheduled and idle times are real time, read as each record is made; the time parked
//! is on the runtime's clock (a paused clock's jumps count as time parked).

use std::fmt;

use cashier_reactor::ReactorStats;
use cashier_trace::{Column, DumpRow, EventCounts, TaskDump};

/// One task's metrics: its row of the task table, the same row the task dump prints
/// ([`Dump`](crate::Dump)). Its fields `polls`, `busy`, `scheduled` (from each wake to the poll
/// that followed), `idle` (from each `Pending` poll to the wake that followed) and `max_poll`
/// are the metrics; the others say which task it is and what became of it.
pub type TaskMetrics = DumpRow;

/// What a runtime did so far: see the [module](self) doc for which fields need watching and why.
///
/// ```
/// use std::time::Duration;
///
/// let runtime = cashier::Runtime::builder().start_paused(true).metrics(true).build()?;
/// runtime.block_on(async {
///     let nap = cashier::spawn(cashier::sleep(Duration::from_secs(1)));
///     nap.await.unwrap();
/// });
/// let metrics = runtime.metrics();
/// assert_eq!(metrics.reactor.timers_fired, 1);
/// let events = metrics.events.expect("watched: the events were counted");
/// assert_eq!((events.timers_armed, events.spawned, events.completed), (1, 1, 1));
/// assert_eq!(events.parked, Duration::from_secs(1), "a paused clock's jump is time parked");
/// assert_eq!(metrics.task_rows()[0].polls, 2, "watched: one row per task");
/// eprintln!("{metrics}");
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeMetrics {
    /// The reactor's counters (always kept): turns, parks (`idle_turns`), readiness events and
    /// the most in one turn, timers fired, clock jumps.
    pub reactor: ReactorStats,
    /// Timers in the wheel, waiting to fire.
    pub timers_waiting: usize,
    /// File descriptors registered with the reactor now: sockets and signal doorbells
    /// (one for `Builder::dump_on_sigquit`).
    pub sockets: usize,
    /// Threads alive in the `to_thread` pool.
    pub blocking_threads: usize,
    /// Spawned tasks that have not completed.
    pub live_tasks: usize,
    /// What the records counted: time parked, wakes, the longest run queue, timers armed,
    /// registrations, jobs. `None` unless the runtime is watched.
    pub events: Option<EventCounts>,
    /// Every task seen, live or complete, in spawn order (`#0 main` only while `block_on`
    /// runs). `None` unless the runtime is watched.
    pub tasks: Option<TaskDump>,
}

impl RuntimeMetrics {
    /// Readiness events per turn, on average (0 before the first turn).
    pub fn events_per_turn(&self) -> f64 {
        if self.reactor.turns == 0 {
            return 0.0;
        }
        self.reactor.io_events as f64 / self.reactor.turns as f64
    }

    /// Timers armed that neither fired nor wait now: their sleeps were dropped first (a
    /// `timeout` whose future won, a `select` that took the other branch). `None` unless
    /// watched.
    pub fn timers_cancelled(&self) -> Option<u64> {
        let events = self.events?;
        Some(
            events
                .timers_armed
                .saturating_sub(events.timers_fired)
                .saturating_sub(self.timers_waiting as u64),
        )
    }

    /// The per-task rows, if watched.
    pub fn task_rows(&self) -> &[TaskMetrics] {
        self.tasks.as_ref().map_or(&[], |tasks| &tasks.tasks)
    }
}

/// A watched count, or `—` when the runtime was not watched.
fn watched(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".to_string())
}

impl fmt::Display for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (reactor, events) = (&self.reactor, self.events.as_ref());
        let count = |read: fn(&EventCounts) -> u64| watched(events.map(|e| read(e).to_string()));
        writeln!(f, "runtime metrics:")?;
        writeln!(
            f,
            "  turns        {} ({} parks: no task could run), time parked {}",
            reactor.turns,
            reactor.idle_turns,
            watched(events.map(|e| format!("{:.3} s", e.parked.as_secs_f64()))),
        )?;
        writeln!(
            f,
            "  io events    {} ({:.2} per turn, at most {} in one), clock jumps {}",
            reactor.io_events,
            self.events_per_turn(),
            reactor.max_io_events,
            reactor.clock_jumps,
        )?;
        writeln!(
            f,
            "  tasks        {} spawned, {} completed, {} live; longest run queue {}",
            count(|e| e.spawned),
            count(|e| e.completed),
            self.live_tasks,
            count(|e| e.max_run_queue),
        )?;
        writeln!(
            f,
            "  wakes        {} local, {} remote; {} budget yields",
            count(|e| e.local_wakes),
            count(|e| e.remote_wakes),
            count(|e| e.budget_yields),
        )?;
        writeln!(
            f,
            "  timers       {} armed, {} fired, {} cancelled, {} waiting",
            count(|e| e.timers_armed),
            reactor.timers_fired,
            watched(self.timers_cancelled().map(|n| n.to_string())),
            self.timers_waiting,
        )?;
        writeln!(
            f,
            "  fds          {} registered, {} deregistered, {} now (sockets, signals)",
            count(|e| e.registrations),
            count(|e| e.deregistrations),
            self.sockets,
        )?;
        writeln!(
            f,
            "  to_thread    {} jobs submitted, {} finished; {} pool threads",
            count(|e| e.jobs_submitted),
            count(|e| e.jobs_finished),
            self.blocking_threads,
        )?;
        match &self.tasks {
            Some(tasks) => {
                writeln!(f, "per task (busy, scheduled, idle and max poll in real time):")?;
                tasks.write_table(f, &Column::METRICS)
            }
            None => writeln!(
                f,
                "— : counted from the runtime's events, which are recorded only when it is \
                 watched. Per-task metrics too. Turn them on with \
                 Runtime::builder().metrics(true) (or the debug checks, or a trace)."
            ),
        }
    }
}
