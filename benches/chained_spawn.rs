//! `chained_spawn`: each task spawns the next, 1,000 deep; the last one signals the end.
//!
//! A spawn from inside a running task, one at a time: the spawn path and the first poll, with the
//! run queue never holding more than one task. Each runtime signals the end with its own
//! one-shot channel.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const DEPTH: usize = 1_000;

fn cashier_chain(done: cashier::sync::oneshot::Sender<()>, n: usize) {
    if n == 0 {
        done.send(()).unwrap();
    } else {
        cashier::spawn(async move { cashier_chain(done, n - 1) });
    }
}

fn tokio_chain(done: tokio::sync::oneshot::Sender<()>, n: usize) {
    if n == 0 {
        done.send(()).unwrap();
    } else {
        tokio::spawn(async move { tokio_chain(done, n - 1) });
    }
}

fn smol_chain(
    executor: &'static smol::LocalExecutor<'static>,
    done: smol::channel::Sender<()>,
    n: usize,
) {
    if n == 0 {
        done.try_send(()).unwrap();
    } else {
        executor.spawn(async move { smol_chain(executor, done, n - 1) }).detach();
    }
}

fn chained_spawn(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("chained_spawn");
    group.throughput(Throughput::Elements(DEPTH as u64));

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier", |b| {
        b.iter(|| {
            cashier.block_on(async {
                let (done, finished) = cashier::sync::oneshot::channel();
                cashier_chain(done, DEPTH);
                finished.await.unwrap();
            })
        })
    });

    let tokio = common::tokio_current_thread();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let (done, finished) = tokio::sync::oneshot::channel();
                tokio_chain(done, DEPTH);
                finished.await.unwrap();
            })
        })
    });

    // The chain must reach the executor from inside tasks: a `'static` executor, leaked once.
    let smol: &'static smol::LocalExecutor<'static> =
        Box::leak(Box::new(smol::LocalExecutor::new()));
    group.bench_function("smol", |b| {
        b.iter(|| {
            common::smol_block_on(smol, async {
                let (done, finished) = smol::channel::bounded(1);
                smol_chain(smol, done, DEPTH);
                finished.recv().await.unwrap();
            })
        })
    });
    group.finish();
}

criterion_group!(benches, chained_spawn);
criterion_main!(benches);
