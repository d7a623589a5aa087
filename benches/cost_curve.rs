//! `cost_curve`: the cost of one operation as the work grows, cashier beside tokio and smol.
//!
//! The claim being checked is O(1) per operation: the cost per task, per timer or per child
//! should stay flat from a thousand to a million. Each workload runs at several sizes:
//!
//! - `spawn_join`: spawn N tasks (all N live at once: none runs before the spawner awaits), then
//!   await every handle in order. Per task. N = 1k, 10k, 100k, 1M.
//! - `timers_hour`: create N sleeps due in an hour, poll each once (the insert), drop them all
//!   (the cancel). Per sleep. N = 1k … 1M. On a real clock, for all three runtimes.
//! - `timers_same_ms`: the same with every deadline less than a millisecond ahead, so each
//!   timer is due within the current millisecond when it is inserted. Per timer. What each
//!   runtime does (each poll returns Pending, asserted, so every timer is an insert; a check round
//!   before each point counts, with a waker of its own, the timers that fired before their
//!   cancel, and prints it):
//!   - cashier, on its paused clock: deadlines 1 to 999,999 ns ahead, 1 ns apart (wrapping at
//!     1M). The clock does not move, so all N wait in the wheel's near heap until dropped.
//!   - tokio, on the real clock (its paused clock needs the `test-util` feature, which adds a lock
//!     to tokio's clock reads, the time driver's always and every `Instant::now` once any clock
//!     in the process is paused, in every bench built with it): deadlines 1 to 999,999 ns after
//!     one clock read at the start of the round (`sleep_until`, so no clock read per sleep).
//!     tokio rounds a deadline up to its next 1 ms tick and compares that with the tick its wheel
//!     has reached, which moves only when the driver turns. Each round first yields once, which
//!     turns the driver (the rounds never wait, so nothing else would) and brings the wheel's
//!     tick to the current millisecond; the driver then does not turn within the one poll that
//!     inserts all N: each goes into the list of a level-0 slot just after the wheel's tick, and
//!     none fires, however far the round outlasts the real deadlines.
//!   - smol, on the real clock: a `Timer` compares its deadline with `Instant::now()` on every
//!     poll and fires at once if it has passed, so each timer (built by `Timer::never`) gets its
//!     deadline by `set_at` just before its poll, 500,000 to 999,999 ns after that clock read
//!     (1 ns apart). One found due all the same (its thread was off the CPU for over half a
//!     millisecond in between) is armed again and polled again. Unlike the other two, smol's
//!     timers do come due: the round outlasts their deadlines from 10k on, and smol's reactor
//!     thread (`async-io`), which an insert notifies, fires the ones it finds due before the drop
//!     cancels them, and the check round counts them.
//!
//!   After each point, the CPU time the process used per timer (all its threads, so smol's
//!   reactor thread too) in user mode and in the kernel is printed, from `getrusage` over the
//!   point's rounds.
//! - `gather` / `as_completed`: N children, each pending once after waking itself, then ready
//!   (as in `gather_100k`). Per child. N = 10 … 1M. Peers: `futures::future::join_all` and
//!   `futures::stream::FuturesUnordered`, both on tokio's current-thread runtime.
//! - `tcp_echo`: an echo server on the runtime under test, in this process, and N loopback
//!   connections from a clients' process: this binary again, with `COST_CURVE_ECHO_CLIENTS` set,
//!   started once per round, and on cashier whichever runtime the server is on, so the clients'
//!   cost is the same in every comparison. The server accepts N connections, one echo task each
//!   (echoing until its client closes), and waits for them all: the same code on each runtime. The
//!   clients connect one after another, each echoing one message before the next connects (so the
//!   server has accepted it: the listen backlog never overflows), then every connection makes 50
//!   round trips of 64 bytes at once, one task each. The timed region is that phase alone, timed by
//!   the clients' process (from spawning the connections' tasks to the end of the last) and printed
//!   on its stdout for the round: process start, connection setup and teardown, which would weigh
//!   most on the small sizes, are out of it. Per round trip. N = 10, 100, 1k, 10k. With the clients
//!   in another process, this one holds only the server's end of each connection; each process
//!   raises its soft limit on open files to the hard one, and a size the limit cannot hold is
//!   skipped, saying so. After each point, the server's CPU time per round trip in user mode and in
//!   the kernel, and its waits (voluntary context switches), are printed from `getrusage` over the
//!   point's rounds (warm-up and connection setup included; the kernel splits user and system time
//!   by sampling at its tick, so the split is coarse where the rounds are short).
//!
//! Not criterion: six workloads at up to six sizes on three runtimes would take criterion most
//! of an hour. Each point is the median of a few timed rounds (at least 3, more while the point
//! has used under `COST_CURVE_MS` milliseconds, 300 by default) after one untimed round, divided
//! by the operations in a round (N, or N × 50 round trips in `tcp_echo`). Runtimes alternate
//! within each size, so a noisy moment spreads over all of them.
//!
//! `cargo bench --bench cost_curve` runs everything (a few minutes on 2 cores);
//! `cargo bench --bench cost_curve -- timers` runs the workloads whose name contains `timers`,
//! and `COST_CURVE_SIZES` / `COST_CURVE_RUNTIMES` narrow a run further (see `selected`).
//! It prints a table and merges its points into `benches/charts/cost_curve.tsv`, which
//! `python3 benches/chart_cost_curve.py` draws.

mod common;
#[path = "../tests/stress/fd_limit.rs"]
mod fd_limit;

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures::StreamExt;

const TASK_SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
const CHILD_SIZES: [usize; 6] = [10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// Pending once (after waking itself), then ready with its value: runtime-agnostic.
struct ReadyAfterOneWake {
    value: u64,
    woken: bool,
}

impl Future for ReadyAfterOneWake {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if self.woken {
            return Poll::Ready(self.value);
        }
        self.woken = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn children(n: usize) -> impl Iterator<Item = ReadyAfterOneWake> {
    (0..n as u64).map(|value| ReadyAfterOneWake { value: black_box(value), woken: false })
}

fn expected(n: usize) -> u64 {
    let n = n as u64;
    n * (n - 1) / 2
}

/// Polls every future once (each must be pending), then drops them all.
async fn poll_each_once_then_drop<F: Future>(mut futures: Vec<Pin<Box<F>>>) {
    poll_fn(|cx| {
        for future in &mut futures {
            assert!(future.as_mut().poll(cx).is_pending());
        }
        Poll::Ready(())
    })
    .await;
    drop(futures);
}

/// Runs `future` on a cashier runtime (a function, so that this file builds whether
/// `Runtime::block_on` takes `&mut self` or `&self`).
fn on_cashier<T>(runtime: &mut cashier::Runtime, future: impl Future<Output = T>) -> T {
    runtime.block_on(future)
}

/// One point: nanoseconds per operation, the median over the timed rounds of `round`, each of
/// which returns the time it took (or the time of the part it measures).
fn measure(ops: usize, budget: Duration, mut round: impl FnMut() -> Duration) -> f64 {
    round(); // warm-up: allocator, run-queue and wheel capacity
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 3 || (started.elapsed() < budget && times.len() < 50) {
        times.push(round().as_nanos() as f64);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2] / ops as f64
}

/// Which points to measure: `COST_CURVE_SIZES` (sizes, comma-separated) and
/// `COST_CURVE_RUNTIMES` (runtime-name prefixes, comma-separated) narrow a run, for instance to
/// count its instructions under `valgrind --tool=cachegrind`; unset, everything runs.
fn selected(runtime: &str, n: usize) -> bool {
    let list = |var| std::env::var(var).ok().filter(|v: &String| !v.is_empty());
    let size_ok =
        list("COST_CURVE_SIZES").is_none_or(|v| v.split(',').any(|s| s.trim().parse() == Ok(n)));
    let runtime_ok = list("COST_CURVE_RUNTIMES")
        .is_none_or(|v| v.split(',').any(|prefix| runtime.starts_with(prefix.trim())));
    size_ok && runtime_ok
}

/// Measures one point (`ops` operations per round, at size `n`) if it is selected, timing each
/// whole round, prints it and records it.
fn point(
    points: &mut Points,
    workload: &str,
    runtime: &str,
    n: usize,
    budget: Duration,
    ops: usize,
    mut round: impl FnMut(),
) {
    point_reported(points, workload, runtime, n, budget, ops, || {
        let started = Instant::now();
        round();
        started.elapsed()
    });
}

/// [`point`] with a round that returns the time to count for it.
fn point_reported(
    points: &mut Points,
    workload: &str,
    runtime: &str,
    n: usize,
    budget: Duration,
    ops: usize,
    round: impl FnMut() -> Duration,
) {
    if selected(runtime, n) {
        let ns = measure(ops, budget, round);
        record(points, workload, runtime, n, ns);
    }
}

/// The figures: workload → runtime → size → nanoseconds per operation.
type Points = BTreeMap<String, BTreeMap<String, BTreeMap<usize, f64>>>;

fn record(points: &mut Points, workload: &str, runtime: &str, n: usize, ns: f64) {
    println!("{workload:<16} {runtime:<24} {n:>9} {ns:>10.1} ns");
    points
        .entry(workload.to_owned())
        .or_default()
        .entry(runtime.to_owned())
        .or_default()
        .insert(n, ns);
}

/// This process's resources used so far, all its threads: CPU time in user mode and in the
/// kernel, and voluntary context switches (waits for an event).
#[derive(Clone, Copy, Default)]
struct Usage {
    user: Duration,
    system: Duration,
    waits: i64,
}

impl Usage {
    fn now() -> Usage {
        // SAFETY: `rusage` is plain integers, for which all zeroes is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable `rusage` for the call's duration.
        assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0, "getrusage");
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        Usage { user: time(usage.ru_utime), system: time(usage.ru_stime), waits: usage.ru_nvcsw }
    }
}

/// Runs one round, `round`, adding to `usage` the resources this process used meanwhile and
/// counting the round.
fn used<T>(usage: &mut (Usage, usize), round: impl FnOnce() -> T) -> T {
    let before = Usage::now();
    let result = round();
    let after = Usage::now();
    usage.0.user += after.user - before.user;
    usage.0.system += after.system - before.system;
    usage.0.waits += after.waits - before.waits;
    usage.1 += 1;
    result
}

/// Prints what this process used per operation over the rounds counted in `usage` (`ops` per
/// round), if any were: user and system CPU time, and waits.
fn print_usage(
    workload: &str,
    runtime: &str,
    n: usize,
    ops: usize,
    (usage, rounds): (Usage, usize),
) {
    if rounds > 0 {
        let ops = (rounds * ops) as f64;
        println!(
            "{workload:<16} {runtime:<24} {n:>9} process per operation: user {:.0} ns, system \
             {:.0} ns, {:.4} waits",
            usage.user.as_nanos() as f64 / ops,
            usage.system.as_nanos() as f64 / ops,
            usage.waits as f64 / ops,
        );
    }
}

fn spawn_join(points: &mut Points, budget: Duration) {
    let mut cashier = cashier::Runtime::new().expect("cashier runtime");
    let tokio = common::tokio_current_thread();
    let smol = smol::LocalExecutor::new();
    for n in TASK_SIZES {
        point(points, "spawn_join", "cashier", n, budget, n, || {
            let sum = on_cashier(&mut cashier, async {
                let handles: Vec<_> =
                    (0..n as u64).map(|i| cashier::spawn(async move { black_box(i) })).collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap();
                }
                sum
            });
            assert_eq!(sum, expected(n));
        });
        point(points, "spawn_join", "tokio", n, budget, n, || {
            let sum = tokio.block_on(async {
                let handles: Vec<_> =
                    (0..n as u64).map(|i| tokio::spawn(async move { black_box(i) })).collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap();
                }
                sum
            });
            assert_eq!(sum, expected(n));
        });
        point(points, "spawn_join", "smol", n, budget, n, || {
            let sum = common::smol_block_on(&smol, async {
                let tasks: Vec<_> =
                    (0..n as u64).map(|i| smol.spawn(async move { black_box(i) })).collect();
                let mut sum = 0;
                for task in tasks {
                    sum += task.await;
                }
                sum
            });
            assert_eq!(sum, expected(n));
        });
    }
}

fn timers_hour(points: &mut Points, budget: Duration) {
    let hour = Duration::from_secs(3600);
    let mut cashier = cashier::Runtime::new().expect("cashier runtime");
    let tokio = common::tokio_current_thread_with_drivers();
    let smol = smol::LocalExecutor::new();
    for n in TASK_SIZES {
        point(points, "timers_hour", "cashier", n, budget, n, || {
            on_cashier(&mut cashier, async {
                let sleeps = (0..n).map(|_| Box::pin(cashier::sleep(hour))).collect();
                poll_each_once_then_drop(sleeps).await
            });
            assert_eq!(cashier.timer_count(), 0);
        });
        point(points, "timers_hour", "tokio", n, budget, n, || {
            tokio.block_on(async {
                let sleeps = (0..n).map(|_| Box::pin(tokio::time::sleep(hour))).collect();
                poll_each_once_then_drop(sleeps).await
            })
        });
        point(points, "timers_hour", "smol", n, budget, n, || {
            common::smol_block_on(&smol, async {
                let sleeps = (0..n).map(|_| Box::pin(smol::Timer::after(hour))).collect();
                poll_each_once_then_drop(sleeps).await
            })
        });
    }
}

fn timers_same_ms(points: &mut Points, budget: Duration) {
    let mut paused = cashier::Runtime::builder().start_paused(true).build().expect("runtime");
    let tokio = common::tokio_current_thread_with_drivers();
    let smol = smol::LocalExecutor::new();
    // cashier: on its paused clock, deadlines 1 to 999,999 ns ahead (1 ns apart, wrapping at 1M).
    let cashier_round = |runtime: &mut cashier::Runtime, n: usize, waker: Option<&Waker>| {
        let due = on_cashier(runtime, async {
            // Built inside the runtime: a sleep reads its clock when created.
            let sleeps = (0..n as u64)
                .map(|i| Box::pin(cashier::sleep(Duration::from_nanos(i % 999_999 + 1))))
                .collect();
            insert_then_cancel(sleeps, None::<fn(usize, Pin<&mut cashier::time::Sleep>)>, waker)
                .await
        });
        assert_eq!(runtime.timer_count(), 0);
        due
    };
    // tokio: on the real clock, deadlines 1 to 999,999 ns after one clock read at the start of
    // the round. The wheel's tick moves only when the driver turns, and the rounds never wait, so
    // the round first yields once, which turns the driver and brings the tick to the current
    // millisecond. A deadline rounds up to the wheel's next 1 ms tick, ahead of that tick while
    // the driver does not turn, and it does not turn inside one poll: each sleep goes into a
    // level-0 slot just after the wheel's tick.
    let tokio_round = |n: usize, waker: Option<&Waker>| {
        tokio.block_on(async {
            tokio::task::yield_now().await;
            let now = tokio::time::Instant::now();
            let sleeps = (0..n as u64)
                .map(|i| {
                    let deadline = now + Duration::from_nanos(i % 999_999 + 1);
                    Box::pin(tokio::time::sleep_until(deadline))
                })
                .collect();
            insert_then_cancel(sleeps, None::<fn(usize, Pin<&mut tokio::time::Sleep>)>, waker).await
        })
    };
    // smol: on the real clock. A `Timer` compares its deadline with `Instant::now()` each time it
    // is polled and fires at once if it has passed, so each timer gets its deadline just before
    // its poll: 500,000 to 999,999 ns after a clock read (1 ns apart), enough to cover the few
    // nanoseconds to the poll's own clock read. One found due all the same (its thread was off
    // the CPU for over half a millisecond in between) gets a new deadline and is polled again,
    // and counted.
    let smol_round = |n: usize, waker: Option<&Waker>| {
        common::smol_block_on(&smol, async {
            let timers = (0..n).map(|_| Box::pin(smol::Timer::never())).collect();
            let arm = |i: usize, timer: Pin<&mut smol::Timer>| {
                let ahead = Duration::from_nanos(500_000 + (i % 500_000) as u64);
                timer.get_mut().set_at(Instant::now() + ahead);
            };
            insert_then_cancel(timers, Some(arm), waker).await
        })
    };
    for n in TASK_SIZES {
        if selected("cashier (paused clock)", n) {
            verify_near("cashier (paused clock)", n, |waker| cashier_round(&mut paused, n, waker));
        }
        if selected("tokio (real clock)", n) {
            verify_near("tokio (real clock)", n, |waker| tokio_round(n, waker));
        }
        if selected("smol (real clock)", n) {
            verify_near("smol (real clock)", n, |waker| smol_round(n, waker));
        }
        let mut usage = Default::default();
        point(points, "timers_same_ms", "cashier (paused clock)", n, budget, n, || {
            assert_eq!(used(&mut usage, || cashier_round(&mut paused, n, None)), 0);
        });
        print_usage("timers_same_ms", "cashier (paused clock)", n, n, usage);
        let mut usage = Default::default();
        point(points, "timers_same_ms", "tokio (real clock)", n, budget, n, || {
            assert_eq!(used(&mut usage, || tokio_round(n, None)), 0);
        });
        print_usage("timers_same_ms", "tokio (real clock)", n, n, usage);
        let mut usage = Default::default();
        point(points, "timers_same_ms", "smol (real clock)", n, budget, n, || {
            black_box(used(&mut usage, || smol_round(n, None)));
        });
        print_usage("timers_same_ms", "smol (real clock)", n, n, usage);
    }
}

/// A waker that only counts its wakes: a timer that wakes it fired before its cancel.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// One untimed round of `timers_same_ms` on `runtime`, its timers polled with a [`CountingWaker`]:
/// prints how many timers were found already due when polled (`round` returns that; each was
/// re-armed and polled again) and how many fired before their cancel. Either would be a timer that
/// was not just an insert and a cancel.
fn verify_near(runtime: &str, n: usize, round: impl FnOnce(Option<&Waker>) -> usize) {
    let counting = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counting.clone());
    let found_due = round(Some(&waker));
    let fired = counting.0.load(Ordering::Relaxed);
    println!(
        "{:<16} {runtime:<24} {n:>9} check: {found_due} found due when polled, {fired} fired \
         before their cancel",
        "timers_same_ms"
    );
}

/// Polls every timer once (the insert), then drops them all (the cancel). `arm`, when given, sets
/// a timer's deadline just before its poll; a timer found already due is then armed and polled
/// again, and counted (the count is returned). Without `arm`, a timer found due is a failure.
/// `waker`, when given, is passed to the polls instead of the task's own.
async fn insert_then_cancel<F: Future>(
    mut timers: Vec<Pin<Box<F>>>,
    mut arm: Option<impl FnMut(usize, Pin<&mut F>)>,
    waker: Option<&Waker>,
) -> usize {
    let mut found_due = 0;
    poll_fn(|cx| {
        let mut cx = Context::from_waker(waker.unwrap_or(cx.waker()));
        for (i, timer) in timers.iter_mut().enumerate() {
            let Some(arm) = arm.as_mut() else {
                assert!(
                    timer.as_mut().poll(&mut cx).is_pending(),
                    "timer {i} was due at its insert"
                );
                continue;
            };
            arm(i, timer.as_mut());
            while timer.as_mut().poll(&mut cx).is_ready() {
                found_due += 1;
                arm(i, timer.as_mut());
            }
        }
        Poll::Ready(())
    })
    .await;
    drop(timers);
    found_due
}

fn gather(points: &mut Points, budget: Duration) {
    let mut cashier = cashier::Runtime::new().expect("cashier runtime");
    let tokio = common::tokio_current_thread();
    for n in CHILD_SIZES {
        point(points, "gather", "cashier gather", n, budget, n, || {
            let sum: u64 = on_cashier(&mut cashier, cashier::gather(children(n))).iter().sum();
            assert_eq!(sum, expected(n));
        });
        point(points, "gather", "futures join_all (tokio)", n, budget, n, || {
            let sum: u64 = tokio.block_on(futures::future::join_all(children(n))).iter().sum();
            assert_eq!(sum, expected(n));
        });
    }
}

fn as_completed(points: &mut Points, budget: Duration) {
    let mut cashier = cashier::Runtime::new().expect("cashier runtime");
    let tokio = common::tokio_current_thread();
    for n in CHILD_SIZES {
        point(points, "as_completed", "cashier as_completed", n, budget, n, || {
            let sum = on_cashier(&mut cashier, async {
                let mut each = cashier::as_completed(children(n));
                let mut sum = 0;
                while let Some(value) = each.next().await {
                    sum += value;
                }
                sum
            });
            assert_eq!(sum, expected(n));
        });
        point(points, "as_completed", "FuturesUnordered (tokio)", n, budget, n, || {
            let sum = tokio.block_on(async {
                let mut each: futures::stream::FuturesUnordered<_> = children(n).collect();
                let mut sum = 0;
                while let Some(value) = each.next().await {
                    sum += value;
                }
                sum
            });
            assert_eq!(sum, expected(n));
        });
    }
}

/// Sizes for `tcp_echo`: connections.
const CONNECTION_SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
/// Round trips per connection in `tcp_echo`'s timed phase.
const ROUND_TRIPS: usize = 50;
/// Bytes per message in `tcp_echo`.
const MESSAGE: usize = 64;
/// Set in the clients' process (this binary again) to `<server address> <connections>`: run the
/// clients instead of the benchmark.
const CLIENTS_ENV: &str = "COST_CURVE_ECHO_CLIENTS";
/// Descriptors the server's process needs beside one per connection: the runtimes' own (epoll,
/// eventfd, the listener), the pipe to the clients' process, stdio, with room to spare.
const SPARE_FDS: u64 = 64;

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Starts the clients' process: this binary with [`CLIENTS_ENV`] set, its stdout piped back.
fn start_clients(addr: std::net::SocketAddr, n: usize) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().expect("this binary"))
        .env(CLIENTS_ENV, format!("{addr} {n}"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the clients' process")
}

/// Waits for the clients' process and returns the time it reports for its round trips.
fn clients_elapsed(child: std::process::Child) -> Duration {
    let output = child.wait_with_output().expect("wait for the clients' process");
    assert!(output.status.success(), "the clients' process failed: {}", output.status);
    let nanos = String::from_utf8_lossy(&output.stdout).trim().parse().expect("nanoseconds");
    Duration::from_nanos(nanos)
}

/// The clients' process (see the module doc), on cashier whichever runtime the server is on:
/// connects `n` connections one after another, each echoing one message before the next connects
/// (so the server has accepted it and the listen backlog never holds more than one), then times
/// `ROUND_TRIPS` round trips on every connection at once, one task each. Then closes every
/// connection, which ends the server's echo tasks, and prints the time in nanoseconds.
fn clients_main(spec: &str) {
    fd_limit::raise_fd_limit();
    let (addr, n) = spec.split_once(' ').expect("<address> <connections>");
    let addr: std::net::SocketAddr = addr.parse().expect("an address");
    let n: usize = n.parse().expect("a count");
    let mut runtime = cashier::Runtime::new().expect("cashier runtime");
    let elapsed = on_cashier(&mut runtime, async move {
        use cashier::net::TcpStream;
        let mut streams = Vec::with_capacity(n);
        let mut buf = [0; MESSAGE];
        for c in 0..n {
            let stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).unwrap();
            let message = [c as u8; MESSAGE];
            stream.write_all(&message).await.unwrap();
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, message);
            streams.push(stream);
        }
        let started = Instant::now();
        let clients: Vec<_> = streams
            .into_iter()
            .enumerate()
            .map(|(c, stream)| {
                cashier::spawn(async move {
                    let message = [(c as u8).wrapping_add(1); MESSAGE];
                    let mut buf = [0; MESSAGE];
                    for _ in 0..ROUND_TRIPS {
                        stream.write_all(&message).await.unwrap();
                        stream.read_exact(&mut buf).await.unwrap();
                        assert_eq!(buf, message);
                    }
                    stream
                })
            })
            .collect();
        let mut streams = Vec::with_capacity(n);
        for client in clients {
            streams.push(client.await.unwrap());
        }
        let elapsed = started.elapsed();
        drop(streams);
        elapsed
    });
    println!("{}", elapsed.as_nanos());
}

/// `tcp_echo`'s server on cashier: starts the clients' process, accepts `n` connections with one
/// echo task each (echoing until its client closes), waits for every echo task, and returns the
/// clients' process.
async fn cashier_server(n: usize) -> std::process::Child {
    let listener = cashier::net::TcpListener::bind(loopback()).unwrap();
    let clients = start_clients(listener.local_addr().unwrap(), n);
    let mut echoes = Vec::with_capacity(n);
    for _ in 0..n {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        echoes.push(cashier::spawn(async move {
            let mut buf = [0; MESSAGE];
            loop {
                let read = stream.read(&mut buf).await.unwrap();
                if read == 0 {
                    break;
                }
                stream.write_all(&buf[..read]).await.unwrap();
            }
        }));
    }
    for echo in echoes {
        echo.await.unwrap();
    }
    clients
}

/// [`cashier_server`] on tokio.
async fn tokio_server(n: usize) -> std::process::Child {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(loopback()).await.unwrap();
    let clients = start_clients(listener.local_addr().unwrap(), n);
    let mut echoes = Vec::with_capacity(n);
    for _ in 0..n {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        echoes.push(tokio::spawn(async move {
            let mut buf = [0; MESSAGE];
            loop {
                let read = stream.read(&mut buf).await.unwrap();
                if read == 0 {
                    break;
                }
                stream.write_all(&buf[..read]).await.unwrap();
            }
        }));
    }
    for echo in echoes {
        echo.await.unwrap();
    }
    clients
}

/// [`cashier_server`] on smol.
async fn smol_server(executor: &smol::LocalExecutor<'_>, n: usize) -> std::process::Child {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let listener = smol::net::TcpListener::bind(loopback()).await.unwrap();
    let clients = start_clients(listener.local_addr().unwrap(), n);
    let mut echoes = Vec::with_capacity(n);
    for _ in 0..n {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        echoes.push(executor.spawn(async move {
            let mut buf = [0; MESSAGE];
            loop {
                let read = stream.read(&mut buf).await.unwrap();
                if read == 0 {
                    break;
                }
                stream.write_all(&buf[..read]).await.unwrap();
            }
        }));
    }
    for echo in echoes {
        echo.await;
    }
    clients
}

fn tcp_echo(points: &mut Points, budget: Duration) {
    let open_files = fd_limit::raise_fd_limit();
    let mut cashier = cashier::Runtime::new().expect("cashier runtime");
    let tokio = common::tokio_current_thread_with_drivers();
    let smol = smol::LocalExecutor::new();
    for n in CONNECTION_SIZES {
        if n as u64 + SPARE_FDS > open_files {
            println!(
                "tcp_echo at {n} connections skipped: the server's process would need about {} \
                 open files, and its hard limit is {open_files}",
                n as u64 + SPARE_FDS
            );
            continue;
        }
        let trips = n * ROUND_TRIPS;
        let mut usage = Default::default();
        point_reported(points, "tcp_echo", "cashier", n, budget, trips, || {
            clients_elapsed(used(&mut usage, || on_cashier(&mut cashier, cashier_server(n))))
        });
        print_usage("tcp_echo", "cashier", n, trips, usage);
        let mut usage = Default::default();
        point_reported(points, "tcp_echo", "tokio", n, budget, trips, || {
            clients_elapsed(used(&mut usage, || tokio.block_on(tokio_server(n))))
        });
        print_usage("tcp_echo", "tokio", n, trips, usage);
        let mut usage = Default::default();
        point_reported(points, "tcp_echo", "smol", n, budget, trips, || {
            clients_elapsed(used(&mut usage, || {
                common::smol_block_on(&smol, smol_server(&smol, n))
            }))
        });
        print_usage("tcp_echo", "smol", n, trips, usage);
    }
}

/// Reads the saved points, as `write_points` writes them.
fn read_points(path: &str) -> Points {
    let mut points = Points::new();
    let Ok(text) = std::fs::read_to_string(path) else { return points };
    // One point a line: `workload<TAB>runtime<TAB>size<TAB>ns` (tab-separated, easy to diff).
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        if let [workload, runtime, n, ns] = fields[..]
            && let (Ok(n), Ok(ns)) = (n.parse(), ns.parse())
        {
            points
                .entry(workload.to_owned())
                .or_default()
                .entry(runtime.to_owned())
                .or_default()
                .insert(n, ns);
        }
    }
    points
}

fn write_points(path: &str, points: &Points) {
    let mut text = String::from(
        "# cargo bench --bench cost_curve: workload, runtime, size, nanoseconds per operation\n",
    );
    for (workload, runtimes) in points {
        for (runtime, sizes) in runtimes {
            for (n, ns) in sizes {
                text += &format!("{workload}\t{runtime}\t{n}\t{ns:.1}\n");
            }
        }
    }
    std::fs::write(path, text).expect("write the cost-curve points");
}

fn main() {
    common::fair_allocator();
    if let Ok(spec) = std::env::var(CLIENTS_ENV) {
        return clients_main(&spec);
    }
    // cargo passes `--bench`; anything else not starting with `--` filters the workloads.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let budget = Duration::from_millis(
        std::env::var("COST_CURVE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(300),
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/charts/cost_curve.tsv");
    let mut points = read_points(path);
    type Workload = fn(&mut Points, Duration);
    let workloads: [(&str, Workload); 6] = [
        ("spawn_join", spawn_join),
        ("timers_hour", timers_hour),
        ("timers_same_ms", timers_same_ms),
        ("gather", gather),
        ("as_completed", as_completed),
        ("tcp_echo", tcp_echo),
    ];
    for (name, run) in workloads {
        if filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())) {
            run(&mut points, budget);
            write_points(path, &points); // after each workload: an interrupted run keeps its points
        }
    }
    println!("points merged into {path}");
}
