//! `ping_pong`: two tasks bounce a counter 10,000 times over each runtime's own bounded channels
//! (cashier's `sync::mpsc`, tokio's `sync::mpsc`, smol's `async-channel`).
//!
//! Every round trip is two sends, two receives and two task switches: it stresses the channel's
//! wake path and the executor's local wake, with no I/O. Per iteration: 10,000 round trips.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ROUND_TRIPS: u64 = 10_000;

async fn cashier_ping_pong() -> u64 {
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

async fn tokio_ping_pong() -> u64 {
    use tokio::sync::mpsc;
    let (to_pong, mut pong_inbox) = mpsc::channel::<u64>(1);
    let (to_ping, mut ping_inbox) = mpsc::channel::<u64>(1);
    let pong = tokio::spawn(async move {
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

async fn smol_ping_pong(executor: &smol::LocalExecutor<'_>) -> u64 {
    let (to_pong, pong_inbox) = smol::channel::bounded::<u64>(1);
    let (to_ping, ping_inbox) = smol::channel::bounded::<u64>(1);
    let pong = executor.spawn(async move {
        while let Ok(n) = pong_inbox.recv().await {
            to_ping.send(n + 1).await.unwrap();
        }
    });
    let mut n = 0;
    for _ in 0..ROUND_TRIPS {
        to_pong.send(n).await.unwrap();
        n = ping_inbox.recv().await.unwrap();
    }
    drop(to_pong);
    pong.await;
    n
}

fn ping_pong(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("ping_pong");
    group.throughput(Throughput::Elements(ROUND_TRIPS));

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier", |b| {
        b.iter(|| assert_eq!(cashier.block_on(cashier_ping_pong()), ROUND_TRIPS))
    });

    let tokio = common::tokio_current_thread();
    group.bench_function("tokio", |b| {
        b.iter(|| assert_eq!(tokio.block_on(tokio_ping_pong()), ROUND_TRIPS))
    });

    let smol = smol::LocalExecutor::new();
    group.bench_function("smol", |b| {
        b.iter(|| assert_eq!(common::smol_block_on(&smol, smol_ping_pong(&smol)), ROUND_TRIPS))
    });
    group.finish();
}

criterion_group!(benches, ping_pong);
criterion_main!(benches);
