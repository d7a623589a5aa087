//! `yield_many`: 200 tasks, each yielding 200 times before it completes.
//!
//! 40,000 yields per iteration: each is a self-wake and a trip through the run queue, so this is
//! the executor's local wake path with nothing else around it.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TASKS: usize = 200;
const YIELDS: usize = 200;

fn yield_many(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("yield_many");
    group.throughput(Throughput::Elements((TASKS * YIELDS) as u64));

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier", |b| {
        b.iter(|| {
            let done = cashier.block_on(async {
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
            });
            assert_eq!(done, TASKS * YIELDS);
        })
    });

    let tokio = common::tokio_current_thread();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let done = tokio.block_on(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        tokio::spawn(async {
                            for _ in 0..YIELDS {
                                tokio::task::yield_now().await;
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
            });
            assert_eq!(done, TASKS * YIELDS);
        })
    });

    let smol = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            let done = common::smol_block_on(&smol, async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        smol.spawn(async {
                            for _ in 0..YIELDS {
                                smol::future::yield_now().await;
                            }
                            YIELDS
                        })
                    })
                    .collect();
                let mut done = 0;
                for task in tasks {
                    done += task.await;
                }
                done
            });
            assert_eq!(done, TASKS * YIELDS);
        })
    });
    group.finish();
}

criterion_group!(benches, yield_many);
criterion_main!(benches);
