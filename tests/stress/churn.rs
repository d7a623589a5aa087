//! Task churn: a million tasks (full scale) spawned, run and freed in batches, the resident set
//! sampled with each batch alive and after it, and required to stay flat: a task whose memory
//! outlived it would show as growth proportional to the tasks spawned.

use std::cell::Cell;
use std::rc::Rc;

use cashier::{Runtime, Trace, spawn, yield_now};

use crate::harness::{Mode, Scale, mib, rss};

/// Bytes each task keeps in its future across an await, so that a leaked task costs at least
/// this much: a leak of every task shows as `churn_tasks × STATE` bytes, many times the
/// tolerance below.
const STATE: usize = 512;

/// How much the resident set may grow between its reference sample and the last one. In the
/// measured runs (STRESS.md) the samples after warm-up did not move (to the 0.1 MiB printed);
/// 4 MiB leaves room for the allocator's noise (a free list a little longer in one batch than
/// another), and is about what a leak of 4 bytes per task would cost at full scale (21 at the
/// small scale's 200,000 tasks), far less than a leaked task: at least `STATE` bytes.
const TOLERANCE: u64 = 4 << 20;

pub fn run(scale: &Scale) -> String {
    // Unwatched whatever `CASHIER_DEBUG` says: the debug checks keep a row for every task ever
    // spawned (by design, see `Builder::debug_checks`), which is growth this test would report.
    let runtime =
        Runtime::builder().debug_checks(false).trace(Trace::new()).build().expect("runtime");
    let batches = scale.churn_tasks / scale.churn_batch;
    // Two samples per batch: with the batch's tasks all alive (just spawned), and after they
    // are all gone. The reference for each is its highest among the first tenth of the batches
    // (at least two), once the allocator and the run queue have reached their working size.
    let warmup = (batches / 10).max(2);
    let (mut alive, mut gone) = (Samples::default(), Samples::default());
    for batch in 0..batches {
        let (finished, alive_rss) = runtime.block_on(churn_batch(scale.churn_batch, batch));
        assert_eq!(finished, scale.churn_batch, "batch {batch}: every task ran to its end");
        assert_eq!(runtime.alive_tasks(), 0, "batch {batch}: every task freed");
        alive.push(alive_rss, batch < warmup);
        gone.push(rss(), batch < warmup);
    }
    let figures = format!(
        "{} tasks in {batches} batches of {}; RSS with a batch alive {alive}, after it {gone}",
        scale.churn_tasks, scale.churn_batch,
    );
    if scale.mode == Mode::Tiny {
        // Valgrind replaces the allocator and keeps freed blocks in quarantine: the resident set
        // says nothing there, and valgrind's own leak check stands in for this one.
        return figures + " (not checked under valgrind)";
    }
    for (what, samples) in [("with a batch alive", &alive), ("after a batch", &gone)] {
        assert!(
            samples.last <= samples.reference + TOLERANCE,
            "the resident set {what} grew from {:.1} MiB to {:.1} MiB over {} tasks: {figures}",
            mib(samples.reference),
            mib(samples.last),
            scale.churn_tasks
        );
    }
    figures
}

/// Resident-set samples of one kind: the reference (highest during warm-up), the highest, the
/// last.
#[derive(Default)]
struct Samples {
    reference: u64,
    highest: u64,
    last: u64,
}

impl Samples {
    fn push(&mut self, rss: u64, warming_up: bool) {
        if warming_up {
            self.reference = self.reference.max(rss);
        }
        self.highest = self.highest.max(rss);
        self.last = rss;
    }
}

impl std::fmt::Display for Samples {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.1} MiB after warm-up, {:.1} MiB last (highest {:.1} MiB)",
            mib(self.reference),
            mib(self.last),
            mib(self.highest)
        )
    }
}

/// Spawns `tasks` tasks that each keep `STATE` bytes across two yields; half are awaited through
/// their handles, the other half detached (their handles dropped at once). Returns how many ran
/// to their end, and the resident set once all were spawned.
async fn churn_batch(tasks: usize, batch: usize) -> (usize, u64) {
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
    let alive_rss = rss();
    for handle in handles {
        handle.await.expect("a churned task failed");
    }
    // The detached tasks were queued with the others; yield until the last of them has run.
    while done.get() < tasks {
        yield_now().await;
    }
    (done.get(), alive_rss)
}
