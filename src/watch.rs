//! Watching a runtime run: what to record and show ([`Trace`]), and the session that records
//! while `block_on` runs and writes what was asked for when the runtime is dropped.
//!
//! The executor and the reactor report their events to whatever recorder is current on their
//! thread (`cashier_trace`); a `Session` owns that recorder, makes it current around every
//! `block_on`, and turns the recording into the views:
//!
//! - a Perfetto (Chrome Trace Event Format) JSON file, opened when the runtime is built so that
//!   an unwritable path is an error before any work runs, and written when it is dropped;
//! - the terminal timeline, printed to standard error when the runtime is dropped;
//! - the explain mode, one line per runtime decision on standard error, as it happens.
//!
//! The settings come from [`Builder::trace`](crate::Builder::trace), or, for any program that
//! uses cashier, from the `CASHIER_TRACE` environment variable ([`Trace::from_env`]).
//!
//! The debug checks (`debug.rs`) are watchers too: a session is started when either a view or
//! the checks are asked for. The recorder has one listener, so the session chains the explain
//! narrator and the checks' `Checker` in it; the checker is always there (it also serves the task
//! dump of a traced runtime) and reports warnings only when the checks are on. Records are kept
//! only for the views drawn at the end (Perfetto, the timeline): a session for the explain mode
//! or the checks alone keeps none (cap 0), and says nothing of events dropped.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::rc::Rc;

use cashier_trace::{DEFAULT_CAP, Enter, Narrator, Recorder};

use crate::debug::{Checker, DebugChecks, DumpScope};

/// The environment variable read by [`Trace::from_env`].
pub const TRACE_ENV: &str = "CASHIER_TRACE";

/// What to record while a runtime runs, and what to show from it.
///
/// ```no_run
/// use cashier::{Runtime, Trace};
///
/// let runtime = Runtime::builder()
///     .trace(Trace::new().perfetto("/tmp/run.json").timeline())
///     .build()?;
/// runtime.block_on(async { cashier::sleep(std::time::Duration::from_millis(5)).await });
/// drop(runtime); // writes /tmp/run.json, prints the timeline
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Where to write the Perfetto trace.
    perfetto: Option<PathBuf>,
    /// Print the terminal timeline when the runtime is dropped.
    timeline: bool,
    /// Narrate every decision on standard error as it happens.
    explain: bool,
    /// Most events kept.
    cap: usize,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

impl Trace {
    /// Nothing recorded yet: add the views wanted.
    pub fn new() -> Trace {
        Trace { perfetto: None, timeline: false, explain: false, cap: DEFAULT_CAP }
    }

    /// Writes a Perfetto / Chrome trace JSON file at `path` when the runtime is dropped (open it
    /// at ui.perfetto.dev). The file is created when the runtime is built.
    pub fn perfetto(mut self, path: impl Into<PathBuf>) -> Trace {
        self.perfetto = Some(path.into());
        self
    }

    /// Prints the terminal timeline (a row per task) to standard error when the runtime is
    /// dropped.
    pub fn timeline(mut self) -> Trace {
        self.timeline = true;
        self
    }

    /// Narrates each decision of the runtime on standard error as it happens.
    pub fn explain(mut self) -> Trace {
        self.explain = true;
        self
    }

    /// Keeps at most `events` events (default about a million); later ones are counted and
    /// reported as dropped.
    pub fn cap(mut self, events: usize) -> Trace {
        self.cap = events;
        self
    }

    /// Whether any view was asked for.
    pub fn is_on(&self) -> bool {
        self.perfetto.is_some() || self.timeline || self.explain
    }

    /// The settings in `CASHIER_TRACE`, if it is set and not empty: a comma-separated list of
    /// `timeline`, `explain`, and a path for the Perfetto file (anything else), e.g.
    /// `CASHIER_TRACE=explain,timeline,/tmp/run.json`.
    ///
    /// # Errors
    /// If the variable is not valid Unicode, or names two paths.
    pub fn from_env() -> io::Result<Option<Trace>> {
        let Some(value) = std::env::var_os(TRACE_ENV) else { return Ok(None) };
        let value = value
            .into_string()
            .map_err(|raw| invalid(format!("{TRACE_ENV}={raw:?} is not valid Unicode")))?;
        Trace::parse(&value).map_err(invalid)
    }

    /// Parses the value of `CASHIER_TRACE` (see [`Trace::from_env`]).
    fn parse(value: &str) -> Result<Option<Trace>, String> {
        let mut trace = Trace::new();
        for item in value.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            match item {
                "timeline" => trace.timeline = true,
                "explain" => trace.explain = true,
                path if trace.perfetto.is_none() => trace.perfetto = Some(path.into()),
                path => {
                    return Err(format!(
                        "{TRACE_ENV}={value:?} names two trace files ({:?} and {path:?}): give one",
                        trace.perfetto.as_deref().unwrap_or_else(|| "".as_ref())
                    ));
                }
            }
        }
        Ok(trace.is_on().then_some(trace))
    }
}

/// An `InvalidInput` error with `message`.
fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// A runtime being watched: the recorder, and where its views and checks go.
pub(crate) struct Session {
    /// Collects the events while `block_on` runs.
    recorder: Recorder,
    /// The Perfetto file, created when the runtime was built.
    perfetto: Option<(PathBuf, BufWriter<File>)>,
    /// Print the timeline at the end.
    timeline: bool,
    /// The explain mode's narrator, shared with the recorder's listener.
    narrator: Option<Rc<RefCell<Narrator>>>,
    /// The task table and the debug checks, shared with the recorder's listener.
    checker: Rc<Checker>,
}

/// Makes a session current on this thread (its recorder, and its checker for the task dump)
/// until dropped.
pub(crate) struct Entered<'a> {
    /// The recorder's guard.
    _recording: Enter<'a>,
    /// The task dump's guard.
    _dump: DumpScope,
}

impl Session {
    /// Starts watching with `trace`'s views and `checks`, reading time from `clock`
    /// (nanoseconds of the runtime's clock). Creates the Perfetto file now.
    ///
    /// # Errors
    /// If the Perfetto file cannot be created, naming its path.
    pub(crate) fn start(
        trace: Trace,
        checks: &DebugChecks,
        clock: impl Fn() -> u64 + Clone + 'static,
    ) -> io::Result<Session> {
        let perfetto = match trace.perfetto {
            Some(path) => {
                let file = File::create(&path).map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("cannot write the trace to {}: {error}", path.display()),
                    )
                })?;
                Some((path, BufWriter::new(file)))
            }
            None => None,
        };
        // Only the views drawn at the end read the records; the listeners see them live.
        let cap = if perfetto.is_some() || trace.timeline { trace.cap } else { 0 };
        let recorder = Recorder::new(cap, Box::new(clock.clone()));
        let origin_ns = recorder.origin_ns();
        let narrator = trace.explain.then(|| Rc::new(RefCell::new(Narrator::new(origin_ns))));
        let checker = Rc::new(Checker::new(checks, origin_ns, Box::new(clock)));
        let (told, checked) = (narrator.clone(), Rc::clone(&checker));
        recorder.set_listener(Box::new(move |record, names| {
            if let Some(narrator) = &told
                && let Some(line) = narrator.borrow_mut().narrate(record, names)
            {
                eprintln!("{line}");
            }
            checked.see(record, names);
        }));
        Ok(Session { recorder, perfetto, timeline: trace.timeline, narrator, checker })
    }

    /// The task table and the checks.
    pub(crate) fn checker(&self) -> &Rc<Checker> {
        &self.checker
    }

    /// Makes the recorder current on this thread until the guard is dropped, unless another
    /// recorder already is: a caller that made its own recorder current around the runtime's
    /// calls (a stepper reading names, a test) keeps it, and this session sees nothing then.
    ///
    /// # Safety
    /// As [`Recorder::enter`]: the guard must be dropped, not leaked.
    pub(crate) unsafe fn enter(&self) -> Option<Entered<'_>> {
        if cashier_trace::is_recording() {
            return None;
        }
        // SAFETY: forwarded to our caller.
        let recording = unsafe { self.recorder.enter() };
        Some(Entered { _recording: recording, _dump: DumpScope::enter(&self.checker) })
    }

    /// Runs `f` with the recorder current on this thread (`Runtime::step`: a call short enough
    /// to wrap in a closure, unlike `block_on`'s), unless another recorder already is (see
    /// [`Session::enter`]).
    pub(crate) fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        if cashier_trace::is_recording() {
            return f();
        }
        let _dump = DumpScope::enter(&self.checker);
        self.recorder.scope(f)
    }

    /// Writes what was asked for; a file that cannot be written is reported on standard error
    /// (this runs when the runtime is dropped, which has no way to return an error).
    pub(crate) fn finish(self) {
        self.checker.finish();
        if let Some(narrator) = &self.narrator
            && let Some(line) = narrator.borrow_mut().finish()
        {
            eprintln!("{line}");
        }
        let recording = self.recorder.take();
        let kept_records = self.perfetto.is_some() || self.timeline; // otherwise the cap is 0
        if recording.dropped > 0 && kept_records {
            eprintln!(
                "cashier trace: {} events dropped after the first {} (the cap); raise it with \
                 `Trace::cap`",
                recording.dropped,
                recording.records.len()
            );
        }
        if let Some((path, mut file)) = self.perfetto {
            let written = cashier_trace::write_chrome_trace(&recording, &mut file)
                .and_then(|()| file.flush());
            match written {
                Ok(()) => eprintln!(
                    "cashier trace: {} events written to {} (open it at ui.perfetto.dev)",
                    recording.records.len(),
                    path.display()
                ),
                Err(error) => {
                    eprintln!("cashier trace: could not write {}: {error}", path.display())
                }
            }
        }
        if self.timeline {
            eprint!("{}", cashier_trace::render_timeline(&recording, terminal_width()));
        }
    }
}

/// The terminal's width from `COLUMNS`, or 100 columns.
fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|&c| c >= 20).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_variable_lists_views_and_one_path() {
        assert_eq!(Trace::parse(""), Ok(None));
        assert_eq!(Trace::parse(" , "), Ok(None));
        assert_eq!(Trace::parse("timeline"), Ok(Some(Trace::new().timeline())));
        assert_eq!(
            Trace::parse("explain, /tmp/t.json"),
            Ok(Some(Trace::new().explain().perfetto("/tmp/t.json")))
        );
        let error = Trace::parse("a.json,b.json").unwrap_err();
        assert!(error.contains("names two trace files"), "{error}");
    }
}
