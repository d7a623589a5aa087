//! `cost_curve`: the cost of one operation as the work grows, cashier beside tokio and smol.
//!
//! The claim being checked is O(1) per operation: the cost per task, per timer or per child
//! should stay flat from a thousand to a million. Each workload runs at several sizes:
//!
//! - `spawn_join`: spawn N tasks (all N live at once: none runs before the spawner awaits), then
//!   await every handle in order. Per task. N = 1k, 10k, 100k, 1M.
//! - `timers_hour`: create N sleeps due in an hour, poll each once (the insert), drop them all
//!   (the cancel). Per sleep. N = 1k … 1M. On a real clock, for all three runtimes.
//! - `timers_same_ms`: the same with the N deadlines 1 ns apart inside the current millisecond,
//!   on cashier's paused clock (the clock does not move, so they stay due within the current
//!   millisecond: the wheel's near heap). cashier alone: tokio's paused clock needs its
//!   `test-util` feature, and neither peer separates timers below its 1 ms tick (tokio) or at all
//!   (smol's ordered map).
//! - `gather` / `as_completed`: N children, each pending once after waking itself, then ready
//!   (as in `gather_100k`). Per child. N = 10 … 1M. Peers: `futures::future::join_all` and
//!   `futures::stream::FuturesUnordered`, both on tokio's current-thread runtime.
//! - `tcp_echo`: N loopback connections to an echo server on the same runtime, each making 50
//!   round trips of 64 bytes. Per round trip, connection setup included (the clients connect one
//!   after another, so the listen backlog never overflows). N = 10, 100, 1k, 5k (not 10k: both
//!   ends live in this process, and 20k descriptors pass the hard limit of the machine it was
//!   written on).
//!
//! Not criterion: four workloads at up to six sizes on three runtimes would take criterion most
//! of an hour. Each point is the median of a few timed rounds (at least 3, more while the point
//! has used under `COST_CURVE_MS` milliseconds, 300 by default) after one untimed round, divided
//! by N. Runtimes alternate within each size, so a noisy moment spreads over all of them.
//!
//! `cargo bench --bench cost_curve` runs everything (a few minutes on 2 cores);
//! `cargo bench --bench cost_curve -- timers` runs the workloads whose name contains `timers`,
//! and `COST_CURVE_SIZES` / `COST_CURVE_RUNTIMES` narrow a run further (see `selected`).
//! It prints a table and merges its points into `benches/charts/cost_curve.tsv`, which
//! `python3 benches/chart_cost_curve.py` draws.

mod common;

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
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

/// One point: nanoseconds per operation, the median over the timed rounds of `round`.
fn measure(n: usize, budget: Duration, mut round: impl FnMut()) -> f64 {
    round(); // warm-up: allocator, run-queue and wheel capacity
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 3 || (started.elapsed() < budget && times.len() < 50) {
        let t = Instant::now();
        round();
        times.push(t.elapsed().as_nanos() as f64);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2] / n as f64
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

/// Measures one point (`ops` operations per round, at size `n`) if it is selected, prints it and
/// records it.
fn point(
    points: &mut Points,
    workload: &str,
    runtime: &str,
    n: usize,
    budget: Duration,
    ops: usize,
    round: impl FnMut(),
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
    for n in TASK_SIZES {
        point(points, "timers_same_ms", "cashier (paused clock)", n, budget, n, || {
            on_cashier(&mut paused, async {
                // Built inside the runtime: a sleep reads its clock when created. 1 ns apart,
                // at most 999,999 ns ahead: all due within the current millisecond.
                let sleeps = (0..n as u64)
                    .map(|i| Box::pin(cashier::sleep(Duration::from_nanos(i % 999_999 + 1))))
                    .collect();
                poll_each_once_then_drop(sleeps).await
            });
            assert_eq!(paused.timer_count(), 0);
        });
    }
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

/// Sizes for `tcp_echo`: connections. Not 10k: its 20k descriptors (both ends live in this
/// process) pass this machine's hard limit of 20,000 open files.
const CONNECTION_SIZES: [usize; 4] = [10, 100, 1_000, 5_000];
/// Round trips per connection in `tcp_echo`.
const ROUND_TRIPS: usize = 50;
/// Bytes per message in `tcp_echo`.
const MESSAGE: usize = 64;

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// `tcp_echo` on cashier: the server accepts `n` connections, one echo task each; the clients
/// connect one at a time (so the listen backlog never overflows into SYN retransmits), then each
/// makes `ROUND_TRIPS` round trips in its own task.
async fn cashier_echo(n: usize) {
    use cashier::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = cashier::spawn(async move {
        for _ in 0..n {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            cashier::spawn(async move {
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.read_exact(&mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                }
            });
        }
    });
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        streams.push(stream);
    }
    let clients: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(c, stream)| {
            cashier::spawn(async move {
                let message = [c as u8; MESSAGE];
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.write_all(&message).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, message);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    server.await.unwrap();
}

/// [`cashier_echo`] on tokio.
async fn tokio_echo(n: usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind(loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        for _ in 0..n {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.read_exact(&mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                }
            });
        }
    });
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        streams.push(stream);
    }
    let clients: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(c, mut stream)| {
            tokio::spawn(async move {
                let message = [c as u8; MESSAGE];
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.write_all(&message).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, message);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    server.await.unwrap();
}

/// [`cashier_echo`] on smol.
async fn smol_echo(executor: &'static smol::LocalExecutor<'static>, n: usize) {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    use smol::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind(loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = executor.spawn(async move {
        for _ in 0..n {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            executor
                .spawn(async move {
                    let mut buf = [0; MESSAGE];
                    for _ in 0..ROUND_TRIPS {
                        stream.read_exact(&mut buf).await.unwrap();
                        stream.write_all(&buf).await.unwrap();
                    }
                })
                .detach();
        }
    });
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        streams.push(stream);
    }
    let clients: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(c, mut stream)| {
            executor.spawn(async move {
                let message = [c as u8; MESSAGE];
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.write_all(&message).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, message);
                }
            })
        })
        .collect();
    for client in clients {
        client.await;
    }
    server.await;
}

fn tcp_echo(points: &mut Points, budget: Duration) {
    let mut cashier = cashier::Runtime::new().expect("cashier runtime");
    let tokio = common::tokio_current_thread_with_drivers();
    let smol: &'static smol::LocalExecutor<'static> =
        Box::leak(Box::new(smol::LocalExecutor::new()));
    for n in CONNECTION_SIZES {
        let trips = n * ROUND_TRIPS;
        point(points, "tcp_echo", "cashier", n, budget, trips, || {
            on_cashier(&mut cashier, cashier_echo(n))
        });
        point(points, "tcp_echo", "tokio", n, budget, trips, || tokio.block_on(tokio_echo(n)));
        point(points, "tcp_echo", "smol", n, budget, trips, || {
            common::smol_block_on(smol, smol_echo(smol, n))
        });
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
