//! `spawn_many_remote_idle` and `spawn_many_remote_busy`: tokio's benchmarks of the same names
//! (`benches/rt_current_thread.rs` in tokio's repository), spawning through a runtime handle
//! from outside the runtime.
//!
//! Each iteration spawns 1,000 empty tasks through the handle (`Handle::spawn`: the task is
//! allocated on the calling thread and pushed on the runtime's remote spawn queue), then enters
//! `block_on` and awaits every handle. In `idle`, nothing else runs; in `busy`, a task that
//! spawns a copy of itself at every poll keeps the run queue non-empty the whole time, as in
//! tokio's. The reported time is per iteration (1,000 tasks).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TASKS: usize = 1_000;

/// Spawns a copy of itself, forever: the run queue is never empty.
fn cashier_busy() {
    drop(cashier::spawn(async { cashier_busy() }));
}

/// tokio's `iter` of `spawn_many_remote_busy`.
fn tokio_busy() {
    drop(tokio::spawn(async { tokio_busy() }));
}

fn spawn_many_remote(c: &mut Criterion) {
    common::fair_allocator();
    for busy in [false, true] {
        let name = if busy { "spawn_many_remote_busy" } else { "spawn_many_remote_idle" };
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(TASKS as u64));

        let cashier = cashier::Runtime::new().expect("cashier runtime");
        if busy {
            drop(cashier.spawn(async { cashier_busy() }));
        }
        let handle = cashier.handle();
        let mut handles = Vec::with_capacity(TASKS);
        group.bench_function("cashier", |b| {
            b.iter(|| {
                for _ in 0..TASKS {
                    handles.push(handle.spawn(async {}));
                }
                cashier.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            })
        });

        let tokio = common::tokio_current_thread();
        if busy {
            tokio.spawn(async { tokio_busy() });
        }
        let handle = tokio.handle().clone();
        let mut handles = Vec::with_capacity(TASKS);
        group.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..TASKS {
                    handles.push(handle.spawn(async {}));
                }
                tokio.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            })
        });
        group.finish();
    }
}

criterion_group!(benches, spawn_many_remote);
criterion_main!(benches);
