//! Timer workloads.
//!
//! - `timers_insert_cancel`: create 100,000 sleeps due in an hour, poll each once (which inserts
//!   it into the timer structure), then drop them all (which cancels them). Stresses the timer
//!   structure's insert and remove; nothing fires. Per iteration: 100,000 sleeps.
//! - `timers_fire`: 1,000 tasks each sleep 1 ms once; the iteration ends when all have woken.
//!   Wall time, so it shows how late timers fire: tokio rounds deadlines up to its 1 ms tick;
//!   cashier and smol wake at the exact deadline (never before it).
//! - `timers_same_millisecond`: cashier alone, on its paused clock. 40,000 sleeps due within one
//!   millisecond (1 ns apart, so they wait in the wheel's near heap) against 40,000 spread over
//!   40 s (1 ms apart, in the wheel's slots): insert and cancel them all, or let them all fire in
//!   deadline order. The two must cost about the same per timer: no path of the wheel is linear.
//!
//! Every runtime stores its sleeps as `Pin<Box<_>>` here so the allocation pattern is identical
//! (tokio's `Sleep` is `!Unpin` and needs the box; cashier's `Sleep` and smol's `Timer` would not).

mod common;

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SLEEPS: usize = 100_000;
const SLEEPERS: usize = 1_000;

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

fn timers_insert_cancel(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("timers_insert_cancel");
    group.throughput(Throughput::Elements(SLEEPS as u64));
    let hour = Duration::from_secs(3600);

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier", |b| {
        b.iter(|| {
            cashier.block_on(async {
                poll_each_once_then_drop(
                    (0..SLEEPS).map(|_| Box::pin(cashier::sleep(hour))).collect(),
                )
                .await
            });
            assert_eq!(cashier.timer_count(), 0);
        })
    });

    let tokio = common::tokio_current_thread_with_drivers();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async {
                poll_each_once_then_drop(
                    (0..SLEEPS).map(|_| Box::pin(tokio::time::sleep(hour))).collect(),
                )
                .await
            })
        })
    });

    let smol = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            common::smol_block_on(&smol, async {
                poll_each_once_then_drop(
                    (0..SLEEPS).map(|_| Box::pin(smol::Timer::after(hour))).collect(),
                )
                .await
            })
        })
    });
    group.finish();
}

fn timers_fire(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("timers_fire");
    group.sample_size(50);
    let ms = Duration::from_millis(1);

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier", |b| {
        b.iter(|| {
            cashier.block_on(async {
                let handles: Vec<_> = (0..SLEEPERS)
                    .map(|_| cashier::spawn(async move { cashier::sleep(ms).await }))
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            })
        })
    });

    let tokio = common::tokio_current_thread_with_drivers();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let handles: Vec<_> = (0..SLEEPERS)
                    .map(|_| tokio::spawn(async move { tokio::time::sleep(ms).await }))
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            })
        })
    });

    let smol = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| {
            common::smol_block_on(&smol, async {
                let tasks: Vec<_> =
                    (0..SLEEPERS).map(|_| smol.spawn(smol::Timer::after(ms))).collect();
                for task in tasks {
                    task.await;
                }
            })
        })
    });
    group.finish();
}

/// Timers in the same-millisecond workload.
const SAME_MS: u64 = 40_000;

fn timers_same_millisecond(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("timers_same_millisecond");
    group.throughput(Throughput::Elements(SAME_MS));
    group.sample_size(20);
    let paused = || cashier::Runtime::builder().start_paused(true).build().expect("runtime");
    for (name, gap) in [("same_ms", Duration::from_nanos(1)), ("spread", Duration::from_millis(1))]
    {
        group.bench_function(format!("cashier_insert_cancel_{name}"), |b| {
            b.iter_batched(
                paused,
                |runtime| {
                    runtime.block_on(async {
                        // Built inside the runtime: a sleep reads its clock when created.
                        let sleeps = (1..=SAME_MS as u32)
                            .map(|i| Box::pin(cashier::sleep(gap * i)))
                            .collect();
                        poll_each_once_then_drop(sleeps).await
                    });
                    runtime
                },
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("cashier_fire_{name}"), |b| {
            b.iter_batched(
                paused,
                |runtime| {
                    runtime.block_on(async {
                        let handles: Vec<_> = (1..=SAME_MS as u32)
                            .map(|i| cashier::spawn(cashier::sleep(gap * i)))
                            .collect();
                        for handle in handles {
                            handle.await.unwrap();
                        }
                    });
                    runtime
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, timers_insert_cancel, timers_fire, timers_same_millisecond);
criterion_main!(benches);
