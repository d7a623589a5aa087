//! `mem_per_task`: resident memory per pending task, for 100,000 tasks, per runtime.
//!
//! `cargo bench --bench mem_per_task` runs each variant in a fresh child process (so no runtime
//! inherits another's heap) and prints a table. A variant spawns 100,000 tasks that each mark
//! themselves started and then wait, either on a far sleep (one hour: task + timer entry) or on
//! a bare `pending()` (the task alone), waits until every task has been polled once, and reports
//! (resident memory now - resident memory before spawning) / 100,000.

mod common;

use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const TASKS: usize = 100_000;
const VARIANTS: [&str; 6] = [
    "cashier-sleep",
    "cashier-pending",
    "tokio-sleep",
    "tokio-pending",
    "smol-sleep",
    "smol-pending",
];

/// Resident set size of this process, in bytes.
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let resident_pages: usize =
        statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("statm format");
    // The page size is 4 KiB on the machines this runs on; `getconf PAGESIZE` confirms.
    resident_pages * 4096
}

fn hour() -> Duration {
    Duration::from_secs(3600)
}

/// Spawns the tasks with `spawn` and yields with `yield_now` until all have started; returns the
/// bytes per task.
fn measure(variant: &str) -> usize {
    let started = Arc::new(AtomicUsize::new(0));
    let before;
    match variant {
        "cashier-sleep" | "cashier-pending" => {
            let runtime = cashier::Runtime::new().unwrap();
            before = rss_bytes();
            let sleep = variant == "cashier-sleep";
            runtime.block_on(async {
                for _ in 0..TASKS {
                    let started = started.clone();
                    cashier::spawn(async move {
                        started.fetch_add(1, Ordering::Relaxed);
                        if sleep {
                            cashier::sleep(hour()).await
                        } else {
                            std::future::pending().await
                        }
                    });
                }
                while started.load(Ordering::Relaxed) < TASKS {
                    cashier::yield_now().await;
                }
            });
            let after = rss_bytes();
            std::mem::forget(runtime); // measured; tearing down is not part of it
            (after - before) / TASKS
        }
        "tokio-sleep" | "tokio-pending" => {
            let runtime = common::tokio_current_thread_with_drivers();
            before = rss_bytes();
            let sleep = variant == "tokio-sleep";
            runtime.block_on(async {
                for _ in 0..TASKS {
                    let started = started.clone();
                    tokio::spawn(async move {
                        started.fetch_add(1, Ordering::Relaxed);
                        if sleep {
                            tokio::time::sleep(hour()).await
                        } else {
                            std::future::pending().await
                        }
                    });
                }
                while started.load(Ordering::Relaxed) < TASKS {
                    tokio::task::yield_now().await;
                }
            });
            let after = rss_bytes();
            std::mem::forget(runtime);
            (after - before) / TASKS
        }
        "smol-sleep" | "smol-pending" => {
            let executor = Rc::new(smol::LocalExecutor::new());
            before = rss_bytes();
            let sleep = variant == "smol-sleep";
            common::smol_block_on(&executor, async {
                for _ in 0..TASKS {
                    let started = started.clone();
                    executor
                        .spawn(async move {
                            started.fetch_add(1, Ordering::Relaxed);
                            if sleep {
                                smol::Timer::after(hour()).await;
                            } else {
                                std::future::pending::<()>().await
                            }
                        })
                        .detach();
                }
                while started.load(Ordering::Relaxed) < TASKS {
                    smol::future::yield_now().await;
                }
            });
            let after = rss_bytes();
            std::mem::forget(executor);
            (after - before) / TASKS
        }
        other => panic!("unknown variant {other}"),
    }
}

fn main() {
    common::fair_allocator();
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == "--variant") {
        println!("{}", measure(&args[position + 1]));
        return;
    }
    if args.iter().any(|a| a == "--list") || args.iter().any(|a| a == "--test") {
        return; // `cargo test --benches` and friends: nothing to run
    }
    let me = std::env::current_exe().expect("own path");
    println!(
        "bytes per pending task ({TASKS} tasks, resident memory delta, one process per variant)"
    );
    for variant in VARIANTS {
        let output = Command::new(&me).args(["--variant", variant]).output().expect("run variant");
        let bytes = String::from_utf8_lossy(&output.stdout).trim().to_string();
        println!("{variant:<16} {bytes:>6} B");
    }
}
