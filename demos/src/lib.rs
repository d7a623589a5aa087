//! # cashier-demos
//!
//! The asyncio tutorial's three scripts, redone on cashier, plus their combination and the small
//! HTTP client they need. Each demo is a module (the logic, testable with captured output on a
//! paused clock) and a binary under `src/bin/` (the command line):
//!
//! | binary | asyncio original | shows |
//! | --- | --- | --- |
//! | `names_ages` | `names_ages.py` | two coroutines interleaving under `gather` |
//! | `site_status` | `site_status.py` | concurrent GETs consumed with `as_completed` |
//! | `run_commands` | `run_commands.py` | blocking calls moved off the loop with `to_thread`; with `--native`, children on the loop (`cashier::process`) |
//! | `kitchen` | the tutorial's closing suggestion | the last two together, in one loop |
//! | `orders` | (cashier's own) | the cashier analogy on the executor alone |
//!
//! The asyncio programs themselves are in `demos/asyncio/` (runnable with `python3`), and a test
//! runs `names_ages.py` beside `names_ages` to check that both print the same lines.
//!
//! `http` is the client `site_status` uses: plain and TLS connections on cashier's sockets, a
//! sans-I/O response parser that frames bodies by RFC 9112, aiohttp's redirect rules, a
//! keep-alive pool. `stepper` drives a runtime one
//! scheduling decision per Enter (the root crate's `step` example steps through names_ages).
//!
//! Every binary races its work against Ctrl-C ([`block_on_or_ctrl_c`]) and exits with
//! [`INTERRUPTED`] (130) when it comes first ([`interrupted`]). The exit status follows one rule
//! in every demo ([`EXIT_STATUS_HELP`]): 0 when everything succeeded, 1 when any site or command
//! failed or standard output could not be written (a reader that closed the pipe is no failure),
//! 2 for bad arguments, 130 on Ctrl-C.
//!
//! Every binary prints through one [`Output::stdout`], which it holds in `main`: line-buffered on
//! a terminal, block-buffered into a file or a pipe ([`output`]), and written out on every way a
//! demo ends: what prints to standard error as a demo ends ([`interrupted`], [`could_not_run`],
//! [`bad_arguments`], [`WatchArgs::report`]) writes it out first, and so does the drop of the
//! last clone.

pub mod http;
pub mod names_ages;
pub mod output;
pub mod run_commands;
pub mod site_status;
pub mod stepper;

pub use output::Output;

/// The flags every demo takes to show how the runtime ran it (`cashier::Trace`, and the
/// metrics). With none of the trace flags, the `CASHIER_TRACE` environment variable decides.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct WatchArgs {
    /// Write a Perfetto trace (Chrome trace JSON) to PATH when the demo ends: open it at
    /// ui.perfetto.dev to see a track per task, each poll, and arrows from wakes to polls.
    #[arg(long, value_name = "PATH")]
    pub trace: Option<std::path::PathBuf>,
    /// Print a timeline of the tasks (running, waiting and on what) to standard error at the end.
    #[arg(long)]
    pub timeline: bool,
    /// Narrate every decision of the runtime on standard error as it happens: which task runs,
    /// what it waits on, what woke it, and why the loop sleeps as long as it does.
    #[arg(long)]
    pub explain: bool,
    /// Print the runtime's metrics to standard error at the end (turns, parks, time parked,
    /// wakes, timers, sockets, to_thread jobs) and a table of every task: polls, time busy,
    /// scheduled (woken, waiting to run) and idle, and its longest poll.
    #[arg(long)]
    pub stats: bool,
}

impl WatchArgs {
    /// The views asked for, or `None` when no flag was given.
    pub fn trace(&self) -> Option<cashier::Trace> {
        let mut trace = cashier::Trace::new();
        if let Some(path) = &self.trace {
            trace = trace.perfetto(path);
        }
        if self.timeline {
            trace = trace.timeline();
        }
        if self.explain {
            trace = trace.explain();
        }
        trace.is_on().then_some(trace)
    }

    /// Writes out the demo's buffered standard output ([`output::flush_stdout`]), then prints the
    /// runtime's metrics to standard error if `--stats` asked for them: called as the demo ends,
    /// before its runtime is dropped.
    pub fn report(&self, runtime: &cashier::Runtime) {
        output::flush_stdout();
        if self.stats {
            eprint!("{}", runtime.metrics());
        }
    }
}

/// The runtime a demo binary runs on: real time, or the paused clock with `--virtual-time`
/// (sleeps take no real time; the output is the same on every machine), watched as `watch` asks
/// (`--stats` watches it for its metrics: `Builder::metrics`).
pub fn runtime(virtual_time: bool, watch: &WatchArgs) -> Result<cashier::Runtime, String> {
    // `kill -QUIT <pid>` prints the task dump and the demo goes on.
    let mut builder = cashier::Runtime::builder()
        .start_paused(virtual_time)
        .dump_on_sigquit(true)
        .metrics(watch.stats);
    if let Some(trace) = watch.trace() {
        builder = builder.trace(trace);
    }
    builder.build().map_err(|error| format!("cannot start the cashier runtime: {error}"))
}

/// Spawns `future` as a task named `name` (a URL, a command), so the runtime's views show it by
/// name: `cashier::task::Builder`, for code that runs inside a runtime by construction.
///
/// # Panics
/// Outside a cashier runtime; the demos only call it from futures their runtime runs.
#[track_caller]
pub fn spawn_named<F>(name: &str, future: F) -> cashier::JoinHandle<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    match cashier::task::Builder::new().name(name).spawn(future) {
        Ok(handle) => handle,
        Err(error) => panic!("{error}"),
    }
}

/// Parses a timeout in seconds from the command line: a positive number, at most what a
/// `Duration` holds (about 1.8e19 s). A negative one is read as a value, not as a flag (every
/// demo sets `allow_negative_numbers`), so `--timeout -1` gets this message, not clap's advice.
/// The messages leave the input out: clap's error quotes it, with the flag.
pub fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = match text.trim().parse() {
        Ok(seconds) if !f64::is_nan(seconds) => seconds,
        _ => return Err("not a number of seconds".to_string()),
    };
    if seconds <= 0.0 {
        return Err("the timeout must be a positive number of seconds".to_string());
    }
    std::time::Duration::try_from_secs_f64(seconds).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
        if seconds < 1.0 {
            "the timeout is too small (under a nanosecond)".to_string()
        } else {
            format!("the timeout is too large (at most {} s)", u64::MAX)
        }
    })
}

/// Parses a count from the command line (`--limit`, `--connections`): a whole number from
/// `min` up, with a message for a negative, fractional or too large one (clap's error quotes
/// the input and the flag).
fn parse_count(text: &str, min: usize, what: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    match trimmed.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        Ok(_) => Err(format!("{what} must be at least {min}")),
        Err(_) if trimmed.starts_with('-') && trimmed[1..].parse::<f64>().is_ok() => {
            Err(format!("{what} must not be negative"))
        }
        Err(_) if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("{what} is too large (at most {})", usize::MAX))
        }
        Err(_) => Err(format!("{what} must be a whole number")),
    }
}

/// Parses `--limit N`: the requests in flight at once, 1 or more.
pub fn parse_limit(text: &str) -> Result<usize, String> {
    parse_count(text, 1, "the limit")
}

/// Parses `--connections N`: the connections a client keeps open at once, 0 for no cap.
pub fn parse_connections(text: &str) -> Result<usize, String> {
    parse_count(text, 0, "the connection cap")
}

/// Parses `--seed N`: a whole number from 0 to `u64::MAX`.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("the seed must be a whole number from 0 to {}", u64::MAX))
}

/// The exit status of a demo when everything succeeded.
pub const SUCCEEDED: u8 = 0;

/// The exit status of a demo when any site or command failed (or the demo could not start).
pub const FAILED: u8 = 1;

/// The exit status of a demo given bad arguments: clap's own status for a usage error, which
/// the demos use for the arguments they check themselves too (a command line that does not
/// split into words, an order that is not `NAME:STEPS`).
pub const BAD_ARGUMENTS: u8 = 2;

/// The exit-status rule every demo follows, printed at the end of its `--help`.
pub const EXIT_STATUS_HELP: &str = "Exit status: 0 when everything succeeded, 1 when any site or \
     command failed or standard output could not be written, 2 for bad arguments, 130 on Ctrl-C.";

/// The exit status for a demo's outcome: 0 ([`SUCCEEDED`]) when `all_succeeded` and no write to
/// standard output failed for a reason other than a closed pipe, else 1 ([`FAILED`]). It writes
/// out what standard output holds first, so that a write that fails at the end counts too.
pub fn exit_status(all_succeeded: bool) -> std::process::ExitCode {
    output::flush_stdout();
    let ok = all_succeeded && !output::stdout_lost_lines();
    std::process::ExitCode::from(if ok { SUCCEEDED } else { FAILED })
}

/// Writes out the demo's buffered standard output ([`output::flush_stdout`]), prints `name:
/// error` on standard error for arguments the demo itself rejected, and returns the exit status 2
/// ([`BAD_ARGUMENTS`]).
pub fn bad_arguments(name: &str, error: impl std::fmt::Display) -> std::process::ExitCode {
    output::flush_stdout();
    eprintln!("{name}: {error}");
    std::process::ExitCode::from(BAD_ARGUMENTS)
}

/// Writes out the demo's buffered standard output ([`output::flush_stdout`]), prints `name:
/// error` on standard error for a demo that could not run, and returns the exit status 1
/// ([`FAILED`]).
pub fn could_not_run(name: &str, error: impl std::fmt::Display) -> std::process::ExitCode {
    output::flush_stdout();
    eprintln!("{name}: {error}");
    std::process::ExitCode::from(FAILED)
}

/// The exit status of a demo stopped by Ctrl-C: 128 + `SIGINT`, as a shell reports a program
/// that `SIGINT` ended.
pub const INTERRUPTED: u8 = 130;

/// How [`block_on_or_ctrl_c`] ended.
#[derive(Debug)]
pub enum Finished<T> {
    /// The work ended by itself.
    Done(T),
    /// Ctrl-C (`SIGINT`) came first: the work was dropped with this many spawned tasks still
    /// alive, which the runtime's shutdown cancels.
    Interrupted {
        /// Spawned tasks alive when Ctrl-C came (the work's future itself not counted).
        in_flight: usize,
    },
}

/// Runs `work` on `runtime`, racing it against `cashier::signal::ctrl_c()`. On Ctrl-C the work
/// is dropped, and the caller should call [`interrupted`], which cancels the tasks still in
/// flight and says so. If the `SIGINT` listener cannot be set up, the work runs alone.
pub fn block_on_or_ctrl_c<F: std::future::Future>(
    runtime: &mut cashier::Runtime,
    work: F,
) -> Finished<F::Output> {
    runtime.block_on(async {
        let ctrl_c = async {
            if cashier::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        match cashier::select(work, ctrl_c).await {
            cashier::Either::Left(output) => Finished::Done(output),
            cashier::Either::Right(()) => {
                let in_flight = cashier::task::dump().live_tasks().unwrap_or(0);
                Finished::Interrupted { in_flight }
            }
        }
    })
}

/// Ends a demo that Ctrl-C interrupted: writes out its buffered standard output (the lines
/// printed before Ctrl-C; [`WatchArgs::report`] does it), shuts `runtime` down without waiting
/// for running `to_thread` jobs (every task is cancelled: a `cashier::process` child spawned with
/// `kill_on_drop` is killed), prints `name: interrupted: cancelled N tasks in flight` on standard
/// error (`name: interrupted: stopped` when the work had spawned none), and returns the exit
/// status 130.
pub fn interrupted(
    name: &str,
    runtime: cashier::Runtime,
    watch: &WatchArgs,
    in_flight: usize,
) -> std::process::ExitCode {
    watch.report(&runtime);
    runtime.shutdown_background();
    match in_flight {
        0 => eprintln!("{name}: interrupted: stopped"),
        1 => eprintln!("{name}: interrupted: cancelled 1 task in flight"),
        n => eprintln!("{name}: interrupted: cancelled {n} tasks in flight"),
    }
    std::process::ExitCode::from(INTERRUPTED)
}
