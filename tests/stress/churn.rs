//! Task churn: a million tasks (full scale) spawned, run and freed in batches, the resident set
//! sampled after each batch, and required to stay flat: a task whose memory outlived it would
//! show as growth proportional to the tasks spawned.

use std::cell::Cell;
use std::rc::Rc;

use cashier::{Runtime, Trace, spawn, yield_now};

use crate::harness::{Mode, Scale, mib, rss};

/// Bytes each task keeps in its future across an await, so that a leaked task costs at least
/// this much: a leak of every task shows as `churn_tasks × STATE` bytes, many times the
/// tolerance below.
const STATE: usize = 512;

/// How much the resident set may grow between the reference sample and the last one. One batch
/// of live tasks at full scale is about 10,000 × 1 KiB (the task and its join handle) = 10 MiB;
/// the allocator may keep a batch's worth more from a slightly higher batch (run-queue and
/// `Vec` growth, fragmentation), so 16 MiB allows that, and is still far below the 500 MiB
/// that a million leaked tasks would cost (50 MiB at the small scale's 100,000).
const TOLERANCE: u64 = 16 << 20;

pub fn run(scale: &Scale) -> String {
    // Unwatched whatever `CASHIER_DEBUG` says: the debug checks keep a row for every task ever
    // spawned (by design, see `Builder::debug_checks`), which is growth this test would report.
    let mut runtime =
        Runtime::builder().debug_checks(false).trace(Trace::new()).build().expect("runtime");
    let batches = scale.churn_tasks / scale.churn_batch;
    // The reference is the highest sample among the first tenth of the batches (at least two),
    // once the allocator and the run queue have reached their working size.
    let warmup = (batches / 10).max(2);
    let mut reference = 0;
    let mut samples = Vec::with_capacity(batches);
    for batch in 0..batches {
        let finished = runtime.block_on(churn_batch(scale.churn_batch, batch));
        assert_eq!(finished, scale.churn_batch, "batch {batch}: every task ran to its end");
        assert_eq!(runtime.alive_tasks(), 0, "batch {batch}: every task freed");
        let now = rss();
        samples.push(now);
        if batch < warmup {
            reference = reference.max(now);
        }
    }
    let last = *samples.last().expect("at least one batch");
    let peak = *samples.iter().max().expect("at least one batch");
    let figures = format!(
        "{} tasks in {batches} batches of {}; RSS after warm-up {:.1} MiB, last {:.1} MiB, \
         highest {:.1} MiB",
        scale.churn_tasks,
        scale.churn_batch,
        mib(reference),
        mib(last),
        mib(peak)
    );
    if scale.mode == Mode::Tiny {
        // Valgrind replaces the allocator and keeps freed blocks in quarantine: the resident set
        // says nothing there, and valgrind's own leak check stands in for this one.
        return figures + " (not checked under valgrind)";
    }
    assert!(
        last <= reference + TOLERANCE,
        "the resident set grew from {:.1} MiB to {:.1} MiB over {} tasks: {figures}",
        mib(reference),
        mib(last),
        scale.churn_tasks
    );
    figures
}

/// Spawns `tasks` tasks that each keep `STATE` bytes across two yields; half are awaited through
/// their handles, the other half detached (their handles dropped at once). Returns how many ran
/// to their end.
async fn churn_batch(tasks: usize, batch: usize) -> usize {
    let done = Rc::new(Cell::new(0));
    let mut handles = Vec::with_capacity(tasks / 2 + 1);
    for n in 0..tasks {
        let done = done.clone();
        let task = async move {
            let mut state = [0u8; STATE];
            state[n % STATE] = batch as u8;
            yield_now().await;
            state[(n + 1) % STATE] = n as u8;
            yield_now().await;
            std::hint::black_box(&state);
            done.set(done.get() + 1);
        };
        if n % 2 == 0 {
            handles.push(spawn(task));
        } else {
            drop(spawn(task));
        }
    }
    for handle in handles {
        handle.await.expect("a churned task failed");
    }
    // The detached tasks were queued with the others; yield until the last of them has run.
    while done.get() < tasks {
        yield_now().await;
    }
    done.get()
}
