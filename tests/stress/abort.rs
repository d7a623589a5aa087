//! Aborts racing remote wakes: tasks woken over and over from four other threads while the
//! runtime aborts them in a shuffled order. Every handle must then report the task completed or
//! cancelled (nothing else), no task may stay alive, and wakes that arrive after a task is gone
//! (from wakers the threads still hold) must be harmless.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Poll, Waker};

use cashier::{Runtime, spawn, yield_now};

use crate::harness::Scale;

const THREADS: usize = 4;

/// Where a task leaves its waker, and how many times the threads have woken it.
#[derive(Default)]
struct Slot {
    waker: Mutex<Option<Waker>>,
    hits: AtomicU32,
}

/// What the runtime thread and the waking threads share.
#[derive(Default)]
struct Shared {
    /// This round's tasks' slots (replaced each round; the threads pick from the current one).
    slots: RwLock<Arc<Vec<Slot>>>,
    /// Set when the last round is over.
    stop: AtomicBool,
    /// Wakes sent, all threads together.
    wakes: AtomicU64,
}

pub fn run(scale: &Scale) -> String {
    let shared = Arc::new(Shared::default());
    let threads: Vec<_> = (0..THREADS)
        .map(|seed| {
            let shared = shared.clone();
            std::thread::spawn(move || wake_at_random(&shared, seed as u64))
        })
        .collect();
    let runtime = Runtime::new().expect("runtime");
    let rounds = scale.abort_tasks / scale.abort_round;
    let mut rng = fastrand::Rng::with_seed(12);
    let (mut completed, mut cancelled) = (0, 0);
    for _ in 0..rounds {
        let (c, x) = runtime.block_on(abort_round(&shared, scale.abort_round, &mut rng));
        completed += c;
        cancelled += x;
        assert_eq!(runtime.alive_tasks(), 0, "every task of the round completed or was freed");
    }
    shared.stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().expect("a waking thread panicked");
    }
    // The last round's wakers, still in the shared slots, outlive their tasks and the runtime
    // itself: they are dropped here, and must free what they hold without touching either.
    drop(runtime);
    *shared.slots.write().unwrap() = Arc::default();
    assert_eq!(completed + cancelled, scale.abort_tasks);
    format!(
        "{} tasks in {rounds} rounds of {}: {completed} completed, {cancelled} cancelled, \
         {} remote wakes",
        scale.abort_tasks,
        scale.abort_round,
        shared.wakes.load(Ordering::Relaxed)
    )
}

/// One round: `tasks` tasks, each pending until the threads have woken it a number of times
/// (1 to 64, some never reached in time); a tenth aborted as soon as spawned, then all aborted
/// in a shuffled order with yields in between so that wakes land between aborts and polls.
/// Returns (completed, cancelled).
async fn abort_round(shared: &Shared, tasks: usize, rng: &mut fastrand::Rng) -> (usize, usize) {
    let slots: Arc<Vec<Slot>> = Arc::new((0..tasks).map(|_| Slot::default()).collect());
    *shared.slots.write().unwrap() = slots.clone();
    let mut handles = Vec::with_capacity(tasks);
    for i in 0..tasks {
        let slots = slots.clone();
        let needed = rng.u32(1..=64);
        handles.push(spawn(poll_fn(move |cx| {
            let slot = &slots[i];
            *slot.waker.lock().unwrap() = Some(cx.waker().clone());
            if slot.hits.load(Ordering::Acquire) >= needed {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })));
        if i % 10 == 0 {
            // Aborted before its first poll (and aborted again below: a second abort is a no-op).
            handles[i].abort();
        }
        if i % 1_000 == 999 {
            // Lets the tasks spawned so far run (and keeps each poll of this future short: the
            // debug checks, on in one of CI's runs, warn of a poll over 100 ms).
            yield_now().await;
        }
    }
    let mut order: Vec<usize> = (0..tasks).collect();
    rng.shuffle(&mut order);
    for (n, &i) in order.iter().enumerate() {
        handles[i].abort();
        if n % 16 == 0 {
            yield_now().await;
        }
    }
    let (mut completed, mut cancelled) = (0, 0);
    for handle in handles {
        match handle.await {
            Ok(()) => completed += 1,
            Err(error) if error.is_cancelled() => cancelled += 1,
            Err(error) => panic!("a task neither completed nor was cancelled: {error:?}"),
        }
    }
    (completed, cancelled)
}

/// One waking thread: until told to stop, picks a task of the current round at random, counts a
/// hit on it and wakes it (if it has been polled), whether it is still alive or not.
fn wake_at_random(shared: &Shared, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    while !shared.stop.load(Ordering::Relaxed) {
        let slots = shared.slots.read().unwrap().clone();
        if slots.is_empty() {
            std::thread::yield_now();
            continue;
        }
        for _ in 0..64 {
            let slot = &slots[rng.usize(..slots.len())];
            slot.hits.fetch_add(1, Ordering::Release);
            let waker = slot.waker.lock().unwrap().clone();
            if let Some(waker) = waker {
                waker.wake();
                shared.wakes.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
