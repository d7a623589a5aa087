//! The stress binary's own harness: the scale (small, full, or tiny under valgrind), the
//! command line (libtest's flags, accepted so that `cargo test` and CI can pass theirs), the
//! watchdog that turns a hang into a failure naming its scenario, and the process's memory
//! figures (`/proc/self`).
//!
//! The scenarios run one after another in one process, each on a thread of its own that the
//! main thread watches: no other scenario runs while one does, so its RSS samples and its peak
//! are its own.

use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use crate::fd_limit::raise_fd_limit;

/// The environment variable that picks the scale: `full` for the numbers.
pub const SCALE_ENV: &str = "CASHIER_STRESS";

/// How big each scenario is.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// Which of the three scales this is.
    pub mode: Mode,
    /// Tasks spawned in all by the churn scenario.
    pub churn_tasks: usize,
    /// Tasks per churn batch (alive at once).
    pub churn_batch: usize,
    /// Remote wakes sent by each of the four waking threads.
    pub wakes_per_thread: u64,
    /// Tasks spawned (and most of them aborted) in all by the abort scenario.
    pub abort_tasks: usize,
    /// Tasks alive at once in the abort scenario.
    pub abort_round: usize,
    /// Echo connections open at once.
    pub echo_connections: usize,
    /// Clients that reset their connection mid-transfer.
    pub reset_clients: usize,
    /// Sleeps on the paused clock.
    pub timers: usize,
    /// How long a scenario may run before it is declared hung.
    pub watchdog: Duration,
}

/// The three scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Under valgrind (which runs the code tens of times slower): thousands of tasks, wakes and
    /// timers, a hundred sockets, enough for its memory checks to see every path.
    Tiny,
    /// The default, for `cargo test` in CI's debug builds: done in seconds on two cores.
    Small,
    /// `CASHIER_STRESS=full`: the numbers, meant for `--release` (half a minute there).
    Full,
}

impl Scale {
    /// The scale the environment asks for.
    pub fn from_env() -> Scale {
        let full = std::env::var(SCALE_ENV).is_ok_and(|value| value == "full");
        if full {
            Scale::full()
        } else if under_valgrind() {
            Scale::tiny()
        } else {
            Scale::small()
        }
    }

    fn full() -> Scale {
        Scale {
            mode: Mode::Full,
            churn_tasks: 1_000_000,
            churn_batch: 10_000,
            wakes_per_thread: 1_000_000,
            abort_tasks: 1_000_000,
            abort_round: 10_000,
            echo_connections: 10_000,
            reset_clients: 1_000,
            timers: 100_000,
            watchdog: Duration::from_secs(600),
        }
    }

    fn small() -> Scale {
        Scale {
            mode: Mode::Small,
            churn_tasks: 200_000,
            churn_batch: 10_000,
            wakes_per_thread: 50_000,
            abort_tasks: 100_000,
            abort_round: 5_000,
            echo_connections: 4_000,
            reset_clients: 500,
            timers: 50_000,
            watchdog: Duration::from_secs(120),
        }
    }

    fn tiny() -> Scale {
        Scale {
            mode: Mode::Tiny,
            churn_tasks: 10_000,
            churn_batch: 1_000,
            wakes_per_thread: 10_000,
            abort_tasks: 5_000,
            abort_round: 500,
            echo_connections: 100,
            reset_clients: 50,
            timers: 5_000,
            watchdog: Duration::from_secs(600),
        }
    }
}

/// Whether this process runs under valgrind: its preloaded libraries show in the address space
/// (valgrind sets no variable a program could read, and `RUNNING_ON_VALGRIND` is a C macro).
pub fn under_valgrind() -> bool {
    std::fs::read_to_string("/proc/self/maps").is_ok_and(|maps| maps.contains("vgpreload"))
}

/// One scenario: its name, and what it runs, which returns its figures as one line.
pub struct Scenario {
    pub name: &'static str,
    pub run: fn(&Scale) -> String,
}

/// What the command line asks for: libtest's flags, the ones that matter here honoured, the
/// others accepted and ignored (the scenarios always run one at a time, and print as they go).
struct Args {
    filters: Vec<String>,
    skips: Vec<String>,
    exact: bool,
    list: bool,
    ignored_only: bool,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            filters: Vec::new(),
            skips: Vec::new(),
            exact: false,
            list: false,
            ignored_only: false,
        };
        let mut argv = std::env::args().skip(1);
        while let Some(arg) = argv.next() {
            match arg.as_str() {
                "--skip" => args.skips.extend(argv.next()),
                "--exact" => args.exact = true,
                "--list" => args.list = true,
                "--ignored" => args.ignored_only = true,
                // Flags with a value in the next argument.
                "--test-threads" | "--format" | "--color" | "--logfile" | "-Z" => {
                    argv.next();
                }
                flag if flag.starts_with('-') => {} // --quiet, --nocapture, --test-threads=1, ...
                filter => args.filters.push(filter.to_string()),
            }
        }
        args
    }

    fn selects(&self, name: &str) -> bool {
        let matches = |pattern: &String| {
            if self.exact { name == pattern } else { name.contains(pattern.as_str()) }
        };
        (self.filters.is_empty() || self.filters.iter().any(matches))
            && !self.skips.iter().any(matches)
    }
}

/// Runs the selected scenarios one after another, each under the watchdog, and exits non-zero
/// if any failed. A hung scenario ends the process at once (its thread cannot be stopped),
/// naming the scenario.
pub fn main(scenarios: &[Scenario]) {
    let args = Args::parse();
    // No scenario is ignored: `--ignored` selects none.
    let selected: Vec<&Scenario> = scenarios
        .iter()
        .filter(|scenario| !args.ignored_only && args.selects(scenario.name))
        .collect();
    if args.list {
        for scenario in selected {
            println!("{}: test", scenario.name);
        }
        return;
    }
    let scale = Scale::from_env();
    raise_fd_limit();
    println!(
        "\nrunning {} stress scenarios ({:?} scale; {SCALE_ENV}=full for the issue's numbers)",
        selected.len(),
        scale.mode
    );
    let started = Instant::now();
    let mut failed = Vec::new();
    for scenario in selected {
        reset_peak_rss();
        let began = Instant::now();
        match watch(scenario.name, scale.watchdog, scale, scenario.run) {
            Ok(figures) => println!(
                "scenario {} ... ok in {:.2} s, peak RSS {:.1} MiB: {figures}",
                scenario.name,
                began.elapsed().as_secs_f64(),
                mib(peak_rss())
            ),
            Err(()) => {
                println!("scenario {} ... FAILED", scenario.name);
                failed.push(scenario.name);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if failed.is_empty() {
        println!("\nstress result: ok; finished in {elapsed:.2} s\n");
    } else {
        println!("\nstress result: FAILED ({}); finished in {elapsed:.2} s\n", failed.join(", "));
        std::process::exit(101);
    }
}

/// Runs `run` on a thread named after the scenario, and waits for it at most `limit`. A panic
/// (already printed by the panic hook) is `Err`; a hang ends the process with status 101 after
/// saying which scenario hung. The limit is a safety net, not a timing claim: a correct run
/// finishes many times sooner.
pub fn watch(
    name: &'static str,
    limit: Duration,
    scale: Scale,
    run: fn(&Scale) -> String,
) -> Result<String, ()> {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let figures = run(&scale);
            let _ = done.send(());
            figures
        })
        .expect("spawn the scenario's thread");
    match finished.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => worker.join().map_err(drop),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            eprintln!(
                "stress scenario `{name}` hung: not done after {limit:?} (a lost wake-up, or a \
                 wait that nothing ends); ending the process"
            );
            std::process::exit(101);
        }
    }
}

/// Descriptors kept for what is not a connection: the runtime's event queue, timer, wake-up
/// doorbell, listener, the standard streams, the blocking pool's pipes.
const FD_SLACK: u64 = 64;

/// How many connections of `fds_each` descriptors this process can hold, up to `wanted`, with
/// its limit on open files raised as far as it goes; and, when that is fewer, a note saying why.
pub fn connections_within_fd_limit(wanted: usize, fds_each: u64) -> (usize, String) {
    let limit = raise_fd_limit();
    let room = (limit.saturating_sub(FD_SLACK) / fds_each) as usize;
    if wanted <= room {
        (wanted, String::new())
    } else {
        let note = format!(" (scaled down from {wanted}: the limit on open files is {limit})");
        (room, note)
    }
}

/// The process's resident set now, in bytes (`/proc/self/statm`: pages resident).
pub fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("statm");
    // SAFETY: `sysconf` reads a configuration value; it has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page as u64
}

/// The most the resident set has been since the last `reset_peak_rss`, in bytes (`VmHWM`).
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kib * 1024
}

/// Resets `VmHWM` to the resident set now (writing `5` to `/proc/self/clear_refs`, Linux 4.0+),
/// so that each scenario's peak is its own. Where that is refused, the peaks are the process's
/// so far.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Bytes in MiB, for printing.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
