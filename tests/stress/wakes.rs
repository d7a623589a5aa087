//! Remote wakes: four threads each wake one task a million times (full scale), and none of the
//! wakes may be lost. Each thread may run at most `WINDOW` increments ahead of what the task has
//! seen, then waits for the task to catch up: a wake lost at any point of the run, not only the
//! last, leaves the task asleep and that thread waiting, and the watchdog names the hang.

use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::Thread;

use cashier::Runtime;

use crate::harness::Scale;

const THREADS: usize = 4;

/// How far a thread may run ahead of the task before it waits for it. Small, so that the task
/// goes to sleep and is woken again many times over (a lost wake is lost at such a moment), at
/// the cost of the threads waiting often.
const WINDOW: u64 = 8;

/// What the task and the waking threads share.
struct Shared {
    /// Increments sent by each thread (each one followed by a wake).
    sent: [AtomicU64; THREADS],
    /// Increments of each thread that the task has seen.
    seen: [AtomicU64; THREADS],
    /// The task's waker, once it has been polled.
    waker: Mutex<Option<Waker>>,
}

pub fn run(scale: &Scale) -> String {
    let per_thread = scale.wakes_per_thread;
    let shared = Arc::new(Shared {
        sent: Default::default(),
        seen: Default::default(),
        waker: Mutex::new(None),
    });
    let mut runtime = Runtime::new().expect("runtime");
    let polls = runtime.block_on(async {
        let wakers: Vec<_> = (0..THREADS)
            .map(|i| {
                let shared = shared.clone();
                std::thread::spawn(move || wake_many(&shared, i, per_thread))
            })
            .collect();
        let threads: Vec<Thread> = wakers.iter().map(|handle| handle.thread().clone()).collect();
        let task = cashier::spawn({
            let shared = shared.clone();
            async move { count_wakes(&shared, &threads, per_thread).await }
        });
        let polls = task.await.expect("the counting task");
        for waker in wakers {
            waker.join().expect("a waking thread panicked");
        }
        polls
    });
    assert_eq!(runtime.alive_tasks(), 0);
    let total = per_thread * THREADS as u64;
    for (i, seen) in shared.seen.iter().enumerate() {
        assert_eq!(seen.load(Ordering::Relaxed), per_thread, "thread {i}: every increment seen");
    }
    format!(
        "{THREADS} threads × {per_thread} wakes = {total}, none lost; the task was polled {polls} \
         times ({:.1} wakes per poll)",
        total as f64 / polls as f64
    )
}

/// The task: on each poll, leaves its waker, then reads every thread's count and lets the
/// threads that were waiting for it go on. Done when every thread has sent all it will; returns
/// how many times it was polled.
async fn count_wakes(shared: &Shared, threads: &[Thread], per_thread: u64) -> u64 {
    let mut polls = 0;
    poll_fn(|cx| {
        polls += 1;
        {
            let mut slot = shared.waker.lock().unwrap();
            if !slot.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        }
        // Read after leaving the waker: a thread stores its increment before it takes the lock
        // to fetch the waker, so an increment this read misses belongs to a thread that takes
        // the lock after this poll released it, and finds this waker, and wakes the task.
        let mut done = true;
        for (i, thread) in threads.iter().enumerate() {
            let sent = shared.sent[i].load(Ordering::Acquire);
            if shared.seen[i].swap(sent, Ordering::Release) != sent {
                thread.unpark();
            }
            done &= sent == per_thread;
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    polls
}

/// One waking thread: `per_thread` increments, each followed by a wake of the task (from a clone
/// of its waker, taken under the lock and woken outside it), never more than `WINDOW` ahead of
/// what the task has seen.
fn wake_many(shared: &Shared, i: usize, per_thread: u64) {
    for n in 1..=per_thread {
        while n - shared.seen[i].load(Ordering::Acquire) > WINDOW {
            // The task unparks this thread after it has seen more; an unpark that comes before
            // this park makes the park return at once, so none is missed.
            std::thread::park();
        }
        shared.sent[i].store(n, Ordering::Release);
        let waker = shared.waker.lock().unwrap().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
