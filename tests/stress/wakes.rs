//! Remote wakes: four threads each wake a task of their own a million times (full scale), and
//! none of the wakes may be lost. Each wake is the only one outstanding: a thread stores its next
//! count, wakes its task, and waits until the task has seen that count before it sends another.
//! So every wake matters, and a lost one leaves its task asleep and its thread waiting for good,
//! which the watchdog reports as a hang of this scenario. (Wakes of one task from several threads
//! at once are the abort scenario's business.)
//!
//! A thread sees its count acknowledged during the task's poll, before the poll returns, so its
//! next wake often arrives while that poll is still running: the race a runtime must not lose a
//! wake in (the task is running, it is woken, it then returns `Pending`).

use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::Thread;

use cashier::Runtime;

use crate::harness::Scale;

const THREADS: usize = 4;

/// What one task and its waking thread share.
#[derive(Default)]
struct Pair {
    /// The count the thread has sent (each step followed by a wake).
    sent: AtomicU64,
    /// The count the task has seen.
    seen: AtomicU64,
    /// The task's waker, once it has been polled.
    waker: Mutex<Option<Waker>>,
}

pub fn run(scale: &Scale) -> String {
    let per_thread = scale.wakes_per_thread;
    let pairs: Vec<Arc<Pair>> = (0..THREADS).map(|_| Arc::default()).collect();
    let runtime = Runtime::new().expect("runtime");
    let polls = runtime.block_on(async {
        let threads: Vec<_> = pairs
            .iter()
            .map(|pair| {
                let pair = pair.clone();
                std::thread::spawn(move || wake_many(&pair, per_thread))
            })
            .collect();
        let tasks: Vec<_> = pairs
            .iter()
            .zip(&threads)
            .map(|(pair, handle)| {
                let (pair, thread) = (pair.clone(), handle.thread().clone());
                cashier::spawn(async move { count_wakes(&pair, &thread, per_thread).await })
            })
            .collect();
        let mut polls = 0;
        for task in tasks {
            polls += task.await.expect("a counting task");
        }
        for thread in threads {
            thread.join().expect("a waking thread panicked");
        }
        polls
    });
    assert_eq!(runtime.alive_tasks(), 0);
    for (i, pair) in pairs.iter().enumerate() {
        assert_eq!(pair.seen.load(Ordering::Relaxed), per_thread, "task {i}: every count seen");
    }
    let total = per_thread * THREADS as u64;
    format!(
        "{THREADS} threads × {per_thread} wakes = {total}, each the only one outstanding, none \
         lost; the tasks were polled {polls} times"
    )
}

/// A task: on each poll, leaves its waker, then reads its thread's count, and lets the thread go
/// on if the count is new. Done when the thread has sent all it will; returns how many times it
/// was polled.
async fn count_wakes(pair: &Pair, thread: &Thread, per_thread: u64) -> u64 {
    let mut polls = 0;
    poll_fn(|cx| {
        polls += 1;
        {
            let mut slot = pair.waker.lock().unwrap();
            if !slot.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        }
        // Read after leaving the waker: the thread stores its count before it takes the lock to
        // fetch the waker, so a count this read misses is stored by a thread that takes the lock
        // after this poll released it, and finds this waker, and wakes the task.
        let sent = pair.sent.load(Ordering::Acquire);
        if pair.seen.swap(sent, Ordering::Release) != sent {
            thread.unpark();
        }
        if sent == per_thread { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    polls
}

/// A waking thread: counts to `per_thread`, each step followed by a wake of its task (from a
/// clone of the waker, taken under the lock and woken outside it), and sends no step before the
/// task has seen the one before.
fn wake_many(pair: &Pair, per_thread: u64) {
    for n in 1..=per_thread {
        while pair.seen.load(Ordering::Acquire) < n - 1 {
            // The task unparks this thread after it has seen a new count; an unpark that comes
            // before this park makes the park return at once, so none is missed.
            std::thread::park();
        }
        pair.sent.store(n, Ordering::Release);
        let waker = pair.waker.lock().unwrap().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
