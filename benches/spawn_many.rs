//! `spawn_many`: spawn 10,000 tasks that complete at once, then await every handle.
//!
//! It stresses the task allocation, the first poll, completion, and the join path: one task
//! lifecycle per element, no I/O. The reported time is per iteration (10,000 tasks); divide by
//! 10,000 for the per-task figure BENCHMARKS.md gives. Each iteration checks the sum, so no
//! runtime can skip work. tokio runs twice: `spawn` on the current-thread runtime, and
//! `spawn_local` on a `LocalSet` (its way to run `!Send` tasks, as cashier's `spawn` does).

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TASKS: u64 = 10_000;
const EXPECTED: u64 = TASKS * (TASKS - 1) / 2;

fn spawn_many(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("spawn_many");
    group.throughput(Throughput::Elements(TASKS));

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier", |b| {
        b.iter(|| {
            let sum = cashier.block_on(async {
                let handles: Vec<_> =
                    (0..TASKS).map(|i| cashier::spawn(async move { black_box(i) })).collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap();
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
                let handles: Vec<_> =
                    (0..TASKS).map(|i| tokio::spawn(async move { black_box(i) })).collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap();
                }
                sum
            });
            assert_eq!(sum, EXPECTED);
        })
    });

    group.bench_function("tokio_local_set", |b| {
        b.iter(|| {
            let local = tokio::task::LocalSet::new();
            let sum = local.block_on(&tokio, async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| tokio::task::spawn_local(async move { black_box(i) }))
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap();
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

criterion_group!(benches, spawn_many);
criterion_main!(benches);
