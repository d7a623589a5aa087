//! `process_spawn`: spawn and wait for 1,000 `true` processes, 50 in flight, per runtime.
//!
//! `cargo bench --bench process_spawn` runs each variant in a fresh child process (so the peak
//! thread count and the peak resident memory are its own) and prints a table:
//!
//! - `cashier-native`: `cashier::process::Command` (a pidfd per child on the reactor);
//! - `cashier-to_thread`: a blocking `std::process::Command::status` per child on the
//!   `to_thread` pool (run_commands' default mode);
//! - `tokio`: `tokio::process::Command` on a current-thread runtime with its drivers;
//! - `smol`: `async-process` (`smol::process`) on smol's `LocalExecutor`.
//!
//! Each variant starts 50 worker tasks that take the next of the 1,000 commands until none is
//! left, so 50 children are in flight until the last ones. Every child has its three standard
//! streams on `/dev/null`. Each variant runs in `PROCESSES` fresh processes, the variants
//! interleaved (the machine is shared and noisy); each process reports the best wall time of its
//! `ROUNDS` rounds, and the table shows the median of those, with their range. The peak thread
//! count is sampled from `/proc/self/task` every 25 completions; the peak resident memory is the
//! process's `VmHWM` (high-water mark) at its end; both are the maximum over the processes.

mod common;

use std::cell::Cell;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CHILDREN: usize = 1_000;
const IN_FLIGHT: usize = 50;
const ROUNDS: usize = 3;
const PROCESSES: usize = 5;
const VARIANTS: [&str; 4] = ["cashier-native", "cashier-to_thread", "tokio", "smol"];

/// Threads of this process now.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map(|dir| dir.count()).unwrap_or(0)
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or("");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()).unwrap_or(0)
}

/// The shared state of one round: the next command to start, the peak threads seen.
#[derive(Default)]
struct Round {
    next: AtomicUsize,
    peak_threads: AtomicUsize,
}

impl Round {
    /// Claims the next command, if any is left.
    fn claim(&self) -> bool {
        self.next.fetch_add(1, Ordering::Relaxed) < CHILDREN
    }

    /// Records one completion; samples the thread count every 25.
    fn done(&self, n: usize) {
        if n.is_multiple_of(25) {
            self.peak_threads.fetch_max(threads(), Ordering::Relaxed);
        }
    }
}

/// One round of `variant`: its wall time, and the peak thread count sampled.
fn round(variant: &str) -> (Duration, usize) {
    let round = Arc::new(Round::default());
    let start = Instant::now();
    match variant {
        "cashier-native" => {
            let runtime = cashier::Runtime::new().unwrap();
            runtime.block_on(async {
                let done = Rc::new(Cell::new(0));
                let workers = (0..IN_FLIGHT).map(|_| {
                    let (round, done) = (round.clone(), done.clone());
                    cashier::spawn(async move {
                        while round.claim() {
                            let status = cashier::process::Command::new("true")
                                .stdin(Stdio::null())
                                .stdout(Stdio::null())
                                .stderr(Stdio::null())
                                .status()
                                .await
                                .unwrap();
                            assert!(status.success());
                            done.set(done.get() + 1);
                            round.done(done.get());
                        }
                    })
                });
                cashier::gather(workers.collect::<Vec<_>>()).await;
            });
        }
        "cashier-to_thread" => {
            let runtime = cashier::Runtime::new().unwrap();
            runtime.block_on(async {
                let done = Rc::new(Cell::new(0));
                let workers = (0..IN_FLIGHT).map(|_| {
                    let (round, done) = (round.clone(), done.clone());
                    cashier::spawn(async move {
                        while round.claim() {
                            let status = cashier::to_thread(|| {
                                Command::new("true")
                                    .stdin(Stdio::null())
                                    .stdout(Stdio::null())
                                    .stderr(Stdio::null())
                                    .status()
                            })
                            .await
                            .unwrap()
                            .unwrap();
                            assert!(status.success());
                            done.set(done.get() + 1);
                            round.done(done.get());
                        }
                    })
                });
                cashier::gather(workers.collect::<Vec<_>>()).await;
            });
        }
        "tokio" => {
            let runtime = common::tokio_current_thread_with_drivers();
            runtime.block_on(async {
                let done = Arc::new(AtomicUsize::new(0));
                let workers: Vec<_> = (0..IN_FLIGHT)
                    .map(|_| {
                        let (round, done) = (round.clone(), done.clone());
                        tokio::spawn(async move {
                            while round.claim() {
                                let status = tokio::process::Command::new("true")
                                    .stdin(Stdio::null())
                                    .stdout(Stdio::null())
                                    .stderr(Stdio::null())
                                    .status()
                                    .await
                                    .unwrap();
                                assert!(status.success());
                                round.done(done.fetch_add(1, Ordering::Relaxed) + 1);
                            }
                        })
                    })
                    .collect();
                for worker in workers {
                    worker.await.unwrap();
                }
            });
        }
        "smol" => {
            let executor = smol::LocalExecutor::new();
            common::smol_block_on(&executor, async {
                let done = Rc::new(Cell::new(0));
                let workers: Vec<_> = (0..IN_FLIGHT)
                    .map(|_| {
                        let (round, done) = (round.clone(), done.clone());
                        executor.spawn(async move {
                            while round.claim() {
                                let status = smol::process::Command::new("true")
                                    .stdin(Stdio::null())
                                    .stdout(Stdio::null())
                                    .stderr(Stdio::null())
                                    .status()
                                    .await
                                    .unwrap();
                                assert!(status.success());
                                done.set(done.get() + 1);
                                round.done(done.get());
                            }
                        })
                    })
                    .collect();
                for worker in workers {
                    worker.await;
                }
            });
        }
        other => panic!("unknown variant {other}"),
    }
    (start.elapsed(), round.peak_threads.load(Ordering::Relaxed))
}

fn main() {
    common::fair_allocator();
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == "--variant") {
        let variant = &args[position + 1];
        let (mut best, mut peak) = (Duration::MAX, 0);
        for _ in 0..ROUNDS {
            let (time, threads) = round(variant);
            best = best.min(time);
            peak = peak.max(threads);
        }
        println!("{} {} {}", best.as_secs_f64() * 1e3, peak, status_kb("VmHWM:"));
        return;
    }
    if args.iter().any(|a| a == "--list") || args.iter().any(|a| a == "--test") {
        return; // `cargo test --benches` and friends: nothing to run
    }
    let me = std::env::current_exe().expect("own path");
    println!(
        "spawn and wait {CHILDREN} `true`, {IN_FLIGHT} in flight; best of {ROUNDS} rounds per \
         process, {PROCESSES} processes per variant (interleaved), median shown"
    );
    let mut results: Vec<Vec<(f64, usize, f64)>> = vec![Vec::new(); VARIANTS.len()];
    for _ in 0..PROCESSES {
        for (variant, results) in VARIANTS.iter().zip(&mut results) {
            let output =
                Command::new(&me).args(["--variant", variant]).output().expect("run variant");
            let text = String::from_utf8_lossy(&output.stdout);
            let fields: Vec<&str> = text.split_whitespace().collect();
            match fields[..] {
                [ms, threads, kb] => results.push((
                    ms.parse().unwrap_or(f64::NAN),
                    threads.parse().unwrap_or(0),
                    kb.parse::<f64>().unwrap_or(f64::NAN) / 1024.0,
                )),
                _ => panic!("{variant} failed: {}", String::from_utf8_lossy(&output.stderr)),
            }
        }
    }
    println!(
        "{:<18} {:>11} {:>15} {:>13} {:>13}",
        "variant", "wall (ms)", "min..max (ms)", "peak threads", "peak RSS"
    );
    for (variant, results) in VARIANTS.iter().zip(results) {
        let mut times: Vec<f64> = results.iter().map(|r| r.0).collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let threads = results.iter().map(|r| r.1).max().unwrap_or(0);
        let rss = results.iter().map(|r| r.2).fold(0.0, f64::max);
        let range = format!("{:.0}..{:.0}", times[0], times[times.len() - 1]);
        println!("{variant:<18} {median:>11.1} {range:>15} {threads:>13} {rss:>9.1} MiB");
    }
}
