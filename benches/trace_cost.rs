//! What recording costs: the same workloads with nobody recording and with a recorder current.
//!
//! - `trace_cost/yield_off` and `yield_on`: 200 tasks each yield 200 times (`yield_many`'s
//!   workload); every yield is a poll (two events) and a self-wake (one event).
//! - `trace_cost/ping_pong_off` and `ping_pong_on`: 10,000 round trips over two channels of
//!   capacity 1 (`ping_pong`'s workload).
//! - `trace_cost/yield_checks` and `ping_pong_checks` (issue 11): the same workloads on a runtime
//!   built with `debug_checks(true)`, as a user turns them on: its recorder keeps no records, and
//!   its listener feeds every event to the task table, the checks and the metrics' counts
//!   (`Builder::metrics(true)` watches the same way, without the warnings).
//!
//! With a recorder on, every iteration records into a preallocated buffer that is emptied between
//! iterations (outside the measurement), so what is measured is the event points' recording path:
//! a clock read and a store per event. The bench prints the events per iteration once, so the cost
//! per event is `(on - off) / events`. No `cashier` runtime is traced this way in normal use (a
//! `Trace` on the builder also writes its views); this isolates the recorder itself.

mod common;

use std::time::Instant;

use cashier_trace::Recorder;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const TASKS: usize = 200;
const YIELDS: usize = 200;
const ROUND_TRIPS: u64 = 10_000;

async fn yields() -> usize {
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            cashier::spawn(async {
                for _ in 0..YIELDS {
                    cashier::yield_now().await;
                }
                YIELDS
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.unwrap();
    }
    done
}

async fn ping_pong() -> u64 {
    use cashier::sync::mpsc;
    let (to_pong, mut pong_inbox) = mpsc::channel::<u64>(1);
    let (to_ping, mut ping_inbox) = mpsc::channel::<u64>(1);
    let pong = cashier::spawn(async move {
        while let Some(n) = pong_inbox.recv().await {
            to_ping.send(n + 1).await.unwrap();
        }
    });
    let mut n = 0;
    for _ in 0..ROUND_TRIPS {
        to_pong.send(n).await.unwrap();
        n = ping_inbox.recv().await.unwrap();
    }
    drop(to_pong);
    pong.await.unwrap();
    n
}

/// A recorder on the real clock, with room for every event of one iteration.
fn recorder() -> Recorder {
    let origin = Instant::now();
    Recorder::new(4 << 20, Box::new(move || origin.elapsed().as_nanos() as u64))
}

fn trace_cost(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("trace_cost");
    let runtime = cashier::Runtime::new().expect("cashier runtime");
    let recorder = recorder();

    // Events per iteration, printed once for the per-event arithmetic.
    recorder.scope(|| runtime.block_on(yields()));
    let yield_events = recorder.take().records.len();
    recorder.scope(|| runtime.block_on(ping_pong()));
    let ping_pong_events = recorder.take().records.len();
    eprintln!("trace_cost: yield records {yield_events} events per iteration");
    eprintln!("trace_cost: ping_pong records {ping_pong_events} events per iteration");

    group.bench_function("yield_off", |b| b.iter(|| runtime.block_on(yields())));
    group.bench_function("yield_on", |b| {
        b.iter_batched(
            || drop(recorder.take()),
            |()| recorder.scope(|| runtime.block_on(yields())),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("ping_pong_off", |b| b.iter(|| runtime.block_on(ping_pong())));
    group.bench_function("ping_pong_on", |b| {
        b.iter_batched(
            || drop(recorder.take()),
            |()| recorder.scope(|| runtime.block_on(ping_pong())),
            BatchSize::PerIteration,
        )
    });
    // Debug checks on: a runtime of its own, watched from its build (its table keeps a row for
    // every task ever spawned, as the checks always do).
    let checked = cashier::Runtime::builder().debug_checks(true).build().expect("cashier runtime");
    group.bench_function("yield_checks", |b| b.iter(|| checked.block_on(yields())));
    group.bench_function("ping_pong_checks", |b| b.iter(|| checked.block_on(ping_pong())));
    group.finish();
}

criterion_group!(benches, trace_cost);
criterion_main!(benches);
