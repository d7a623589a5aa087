//! `gather_100k`: 100,000 futures, each ready after one wake, gathered.
//!
//! Each future wakes itself on its first poll and completes on its second, so the workload is
//! 200,000 child polls plus whatever the combinator adds: it shows whether a wake re-polls only
//! its own child, and what the set costs to build. Compared: cashier's `gather`,
//! `futures::future::join_all` (on tokio's current-thread runtime), and tokio's `JoinSet` (one
//! spawned task per future, which is how a tokio user gets per-child wake-ups).

mod common;

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const FUTURES: u64 = 100_000;
const EXPECTED: u64 = FUTURES * (FUTURES - 1) / 2;

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

fn futures() -> impl Iterator<Item = ReadyAfterOneWake> {
    (0..FUTURES).map(|value| ReadyAfterOneWake { value: black_box(value), woken: false })
}

fn gather_100k(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("gather_100k");
    group.throughput(Throughput::Elements(FUTURES));
    group.sample_size(30);

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier_gather", |b| {
        b.iter(|| {
            let sum: u64 = cashier.block_on(cashier::gather(futures())).into_iter().sum();
            assert_eq!(sum, EXPECTED);
        })
    });

    let tokio = common::tokio_current_thread();
    group.bench_function("futures_join_all", |b| {
        b.iter(|| {
            let sum: u64 = tokio.block_on(futures::future::join_all(futures())).into_iter().sum();
            assert_eq!(sum, EXPECTED);
        })
    });

    group.bench_function("tokio_joinset", |b| {
        b.iter(|| {
            let sum = tokio.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for future in futures() {
                    set.spawn(future);
                }
                let mut sum = 0;
                while let Some(value) = set.join_next().await {
                    sum += value.unwrap();
                }
                sum
            });
            assert_eq!(sum, EXPECTED);
        })
    });
    group.finish();
}

criterion_group!(benches, gather_100k);
criterion_main!(benches);
