//! `spawn_join_100k`: spawn 100,000 tasks into an owned set and collect every result.
//!
//! cashier's and tokio's `JoinSet` (results in completion order), smol's `Task`s awaited in
//! order. A large set: allocation, the run queue at depth 100,000, and the join bookkeeping.

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TASKS: u64 = 100_000;
const EXPECTED: u64 = TASKS * (TASKS - 1) / 2;

fn spawn_join_100k(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("spawn_join_100k");
    group.throughput(Throughput::Elements(TASKS));
    group.sample_size(30);

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier", |b| {
        b.iter(|| {
            let sum = cashier.block_on(async {
                let mut set = cashier::JoinSet::new();
                for i in 0..TASKS {
                    set.spawn(async move { black_box(i) });
                }
                let mut sum = 0;
                while let Some(result) = set.join_next().await {
                    sum += result.unwrap();
                }
                sum
            });
            assert_eq!(sum, EXPECTED);
        })
    });

    let tokio = common::tokio_current_thread();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let sum = tokio.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..TASKS {
                    set.spawn(async move { black_box(i) });
                }
                let mut sum = 0;
                while let Some(result) = set.join_next().await {
                    sum += result.unwrap();
                }
                sum
            });
            assert_eq!(sum, EXPECTED);
        })
    });

    let smol = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            let sum = common::smol_block_on(&smol, async {
                let tasks: Vec<_> =
                    (0..TASKS).map(|i| smol.spawn(async move { black_box(i) })).collect();
                let mut sum = 0;
                for task in tasks {
                    sum += task.await;
                }
                sum
            });
            assert_eq!(sum, EXPECTED);
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_join_100k);
criterion_main!(benches);
