//! Debug checks and the task dump: what the runtime's own records say about the program's
//! mistakes, told as they happen.
//!
//! The checks ([`DebugChecks`]) are the trace crate's [`Diagnostics`], fed by the same recorder
//! as the views: when they are on, the runtime is watched (`watch.rs`) and the recorder's
//! listener hands every record to a [`Checker`], with the real clock's reading, and reports
//! the warnings it raises (standard error, or the callback given to
//! [`DebugChecks::report_to`]). No other instrumentation exists: a runtime without checks and
//! without a trace pays what any unwatched runtime pays (one thread-local read per event point),
//! plus one test of an `Option` when it is about to block with nothing to wait for.
//!
//! This file owns:
//!
//! - [`DebugChecks`], the settings, and `CASHIER_DEBUG` ([`DebugChecks::from_env`]);
//! - the `Checker`, shared by the recorder's listener, the runtime's parker (the hang check) and
//!   the thread-local that [`task::dump`](crate::task::dump) reads while `block_on` runs;
//! - [`Dump`], the task dump as a user gets it: the table when the runtime is watched, and
//!   otherwise the number of live tasks and how to get the table.
//!
//! # The hang check, and what it cannot see
//!
//! The executor parks with no timeout only when nothing can run; the parker (`runtime.rs`) then
//! asks the reactor whether it expects anything (a timer, a socket a task waits on, a
//! `to_thread` job). If not, and the checks are on, it asks [`Diagnostics::hang`] whether every
//! waiting task waits only on things of this runtime that no other thread can touch (see the
//! trace crate's `diagnose/dump.rs`). If so, nothing can ever wake the runtime: it prints the
//! dump and panics out of `block_on` ([`OnHang::Panic`], the default) or reports it once and
//! blocks as asked ([`OnHang::Report`]).
//!
//! It cannot see a hang that a timer or socket could end but never will: a task sleeping for a
//! year, a read from a peer that never writes, a wait on a timer on the real clock. Nor one
//! where a waker was handed to something that reports no event (a hand-written future, a
//! foreign thread, the `block_on` future's own waker, which is not counted): such a task might
//! be woken by another thread, so it is not called hung.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use cashier_trace::{
    Diagnostics, DumpRow, EventCounts, Limits, Record, TaskDump, Warning, WarningKind,
};

/// The environment variable read by [`DebugChecks::from_env`].
pub const DEBUG_ENV: &str = "CASHIER_DEBUG";

/// What the hang check does when the runtime is about to block forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnHang {
    /// Panic out of `block_on` with a message that says why and holds the task dump (default).
    #[default]
    Panic,
    /// Report it as a [`WarningKind::Hang`] warning, once, then block as the program asked.
    Report,
}

/// Where warnings go.
type Sink = Rc<dyn Fn(&Warning)>;

/// The debug checks' settings: whether they are on, their limits, where warnings go.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let warnings = Rc::new(RefCell::new(Vec::new()));
/// let kept = warnings.clone();
/// let checks = cashier::DebugChecks::new()
///     .slow_poll(Duration::from_millis(50))
///     .report_to(move |warning| kept.borrow_mut().push(warning.clone()));
/// let runtime = cashier::Runtime::builder().debug_checks(checks).build()?;
/// runtime.block_on(async { cashier::spawn(async { 1 }).await.unwrap() });
/// assert!(warnings.borrow().is_empty(), "a correct program: not a word");
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone)]
pub struct DebugChecks {
    /// Whether the checks run.
    on: bool,
    /// The slow-poll and self-wake limits.
    limits: Limits,
    /// What a hang does.
    on_hang: OnHang,
    /// Where warnings go (`None`: standard error).
    sink: Option<Sink>,
}

impl fmt::Debug for DebugChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugChecks")
            .field("on", &self.on)
            .field("limits", &self.limits)
            .field("on_hang", &self.on_hang)
            .field("report_to", &self.sink.as_ref().map(|_| "callback"))
            .finish()
    }
}

impl Default for DebugChecks {
    fn default() -> Self {
        DebugChecks::new()
    }
}

impl From<bool> for DebugChecks {
    /// `true`: the checks with their defaults; `false`: off.
    fn from(on: bool) -> DebugChecks {
        if on { DebugChecks::new() } else { DebugChecks::off() }
    }
}

impl DebugChecks {
    /// Every check on, with asyncio's limits: a poll over 100 ms is slow, a task waking
    /// itself more than 10,000 polls running is a storm; warnings go to standard error; a hang
    /// panics.
    pub fn new() -> DebugChecks {
        DebugChecks { on: true, limits: Limits::default(), on_hang: OnHang::Panic, sink: None }
    }

    /// No checks.
    pub fn off() -> DebugChecks {
        DebugChecks { on: false, ..DebugChecks::new() }
    }

    /// Whether the checks run.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// A poll longer than `limit` (real time) is reported as slow.
    pub fn slow_poll(mut self, limit: Duration) -> DebugChecks {
        self.limits.slow_poll = limit;
        self
    }

    /// A task that wakes itself in more than `polls` consecutive polls while nothing else
    /// progresses is reported as a self-wake storm.
    pub fn self_wakes(mut self, polls: u64) -> DebugChecks {
        self.limits.self_wakes = polls;
        self
    }

    /// What a hang does (default [`OnHang::Panic`]).
    pub fn on_hang(mut self, on_hang: OnHang) -> DebugChecks {
        self.on_hang = on_hang;
        self
    }

    /// Sends each warning to `report` instead of standard error (tests keep them in a `Vec`).
    pub fn report_to(mut self, report: impl Fn(&Warning) + 'static) -> DebugChecks {
        self.sink = Some(Rc::new(report));
        self
    }

    /// The setting in `CASHIER_DEBUG`: `1` on, `0` (or unset, or empty) off.
    ///
    /// # Errors
    /// If the variable holds anything else.
    pub fn from_env() -> io::Result<Option<DebugChecks>> {
        let Some(value) = std::env::var_os(DEBUG_ENV) else { return Ok(None) };
        match value.to_str().map(str::trim) {
            Some("") => Ok(None),
            Some("0") => Ok(Some(DebugChecks::off())),
            Some("1") => Ok(Some(DebugChecks::new())),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{DEBUG_ENV}={value:?}: expected 1 (checks on) or 0 (off)"),
            )),
        }
    }
}

/// The checks of one runtime, shared by the recorder's listener, the parker and the dump's
/// thread-local. Runtime thread only.
pub(crate) struct Checker {
    /// The task table and the checks.
    diagnostics: RefCell<Diagnostics>,
    /// The runtime's clock on the records' scale (nanoseconds since the recording began).
    clock: Box<dyn Fn() -> u64>,
    /// The real clock's origin: `real_ns` counts from it.
    real_origin: Instant,
    /// Whether warnings are reported and hangs checked (off: the table only serves the dump of
    /// a traced runtime).
    checks: bool,
    /// What a hang does.
    on_hang: OnHang,
    /// Where warnings go.
    sink: Option<Sink>,
    /// Whether the hang under way was reported ([`OnHang::Report`] reports each once).
    hang_reported: Cell<bool>,
}

impl Checker {
    /// A checker with `settings`, whose records count from `origin_ns` of the runtime's clock
    /// read by `clock` (nanoseconds).
    pub(crate) fn new(
        settings: &DebugChecks,
        origin_ns: u64,
        clock: Box<dyn Fn() -> u64>,
    ) -> Checker {
        Checker {
            diagnostics: RefCell::new(Diagnostics::new(origin_ns, settings.limits)),
            clock: Box::new(move || clock().saturating_sub(origin_ns)),
            real_origin: Instant::now(),
            checks: settings.on,
            on_hang: settings.on_hang,
            sink: settings.sink.clone(),
            hang_reported: Cell::new(false),
        }
    }

    /// Whether warnings are reported and hangs checked.
    pub(crate) fn checks(&self) -> bool {
        self.checks
    }

    /// The recorder's listener calls this for each record, as it is made.
    pub(crate) fn see(&self, record: &Record, names: &[Box<str>]) {
        let real_ns = self.real_origin.elapsed().as_nanos() as u64;
        let warnings = {
            let mut diagnostics = self.diagnostics.borrow_mut();
            diagnostics.see(record, names, real_ns);
            diagnostics.take_warnings()
        };
        self.report(warnings);
    }

    /// The runtime is dropped: reports what only the end proves.
    pub(crate) fn finish(&self) {
        let warnings = self.diagnostics.borrow_mut().finish();
        self.report(warnings);
    }

    /// Reports `warnings` (the borrow of the diagnostics is released: a callback may dump).
    fn report(&self, warnings: Vec<Warning>) {
        if !self.checks {
            return;
        }
        for warning in &warnings {
            match &self.sink {
                Some(sink) => sink(warning),
                None => eprintln!("{warning}\n"),
            }
        }
    }

    /// The table of live tasks now.
    pub(crate) fn dump(&self) -> TaskDump {
        self.diagnostics.borrow().dump((self.clock)())
    }

    /// Every task seen, live or complete: the per-task metrics.
    pub(crate) fn tasks(&self) -> TaskDump {
        self.diagnostics.borrow().tasks((self.clock)())
    }

    /// What the records counted, for the runtime's metrics.
    pub(crate) fn counts(&self) -> EventCounts {
        self.diagnostics.borrow().counts()
    }

    /// The parker is about to block with nothing to wait for (see the module doc): panics or
    /// reports if the records prove a hang.
    #[cold]
    #[inline(never)]
    pub(crate) fn idle_forever(&self) {
        let Some(dump) = self.diagnostics.borrow().hang((self.clock)()) else {
            self.hang_reported.set(false);
            return;
        };
        let message = format!(
            "the runtime would block forever: no timer, socket or to_thread job is pending, and \
             every task waits only on things of this runtime that no other thread can touch \
             (a cashier::sync primitive, a JoinHandle, or nothing holds its waker), so nothing \
             can ever wake it. A task waits on a channel, event, semaphore or mutex whose other \
             side is held by a task that itself waits (or by the waiter itself), or on a task \
             that will never finish.\n{dump}"
        );
        match self.on_hang {
            OnHang::Panic => panic!("cashier debug check: hang: {message}"),
            OnHang::Report if !self.hang_reported.replace(true) => {
                let text = message;
                self.report(vec![Warning {
                    kind: WarningKind::Hang,
                    task: "#0 main".into(),
                    text,
                }]);
            }
            OnHang::Report => {}
        }
    }
}

thread_local! {
    /// The checker of the runtime whose `block_on` or `step` runs on this thread, if it is
    /// watched: what [`task::dump`](crate::task::dump) reads.
    static CURRENT: RefCell<Option<Rc<Checker>>> = const { RefCell::new(None) };
}

/// Makes a checker current for [`task::dump`](crate::task::dump) until dropped.
pub(crate) struct DumpScope(Option<Rc<Checker>>);

impl DumpScope {
    /// `checker` is current until the scope is dropped; the previous one after.
    pub(crate) fn enter(checker: &Rc<Checker>) -> DumpScope {
        DumpScope(CURRENT.with(|current| current.replace(Some(Rc::clone(checker)))))
    }
}

impl Drop for DumpScope {
    fn drop(&mut self) {
        CURRENT.with(|current| *current.borrow_mut() = self.0.take());
    }
}

/// Every live task of the runtime: the table when it is watched (debug checks or a trace),
/// otherwise the count and how to get the table. Prints as a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump {
    /// Spawned tasks not complete, `None` outside any runtime.
    live: Option<usize>,
    /// The table, when the runtime is watched.
    table: Option<TaskDump>,
}

impl Dump {
    /// The dump of a runtime with `live` spawned tasks alive and `checker`, if watched.
    pub(crate) fn new(live: Option<usize>, checker: Option<&Checker>) -> Dump {
        Dump { live, table: checker.map(Checker::dump) }
    }

    /// The spawned tasks that have not completed (`#0 main`, the `block_on` future, is not
    /// counted), or `None` outside any runtime.
    pub fn live_tasks(&self) -> Option<usize> {
        self.live
    }

    /// One row per live task (and `#0 main` while `block_on` runs); empty when the runtime is
    /// not watched.
    pub fn tasks(&self) -> &[DumpRow] {
        self.table.as_ref().map_or(&[], |table| &table.tasks)
    }

    /// The row of the task named `name`, if it is live.
    pub fn task(&self, name: &str) -> Option<&DumpRow> {
        self.tasks().iter().find(|row| row.name.as_deref() == Some(name))
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.table, self.live) {
            (Some(table), _) => write!(f, "{table}"),
            (None, None) => writeln!(f, "no cashier runtime runs on this thread: no tasks"),
            (None, Some(live)) => writeln!(
                f,
                "{live} live task{}. For what each is doing (state, polls, time busy, what it \
                 waits on), turn on the debug checks: Runtime::builder().debug_checks(true), or \
                 {DEBUG_ENV}=1.",
                if live == 1 { "" } else { "s" }
            ),
        }
    }
}

/// The task dump of the runtime running on this thread (inside `block_on` or `step`): every
/// live task, what it is doing and what it waits on. See [`Dump`].
///
/// ```
/// let checks = cashier::DebugChecks::new();
/// let runtime = cashier::Runtime::builder().debug_checks(checks).build()?;
/// runtime.block_on(async {
///     let _idle = cashier::spawn(cashier::sleep(std::time::Duration::from_secs(1)));
///     cashier::yield_now().await;
///     let dump = cashier::task::dump();
///     assert_eq!(dump.live_tasks(), Some(1));
///     println!("{dump}");
/// });
/// # std::io::Result::Ok(())
/// ```
pub fn dump() -> Dump {
    let live = cashier_executor::alive_tasks_here();
    CURRENT.with(|current| Dump::new(live, current.borrow().as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_details_the_dump_counts_and_says_how_to_get_them() {
        let text = Dump::new(Some(3), None).to_string();
        assert!(text.starts_with("3 live tasks. For what each is doing"), "{text}");
        assert!(text.contains("CASHIER_DEBUG=1"), "{text}");
    }
}
