//! Wakes from other threads: the remote queue, unparking, and fairness against a busy task.
//!
//! A lost wake-up shows as a hang, so every test here runs under a watchdog that fails it instead.

mod support;

use std::cell::Cell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use cashier_executor::{Executor, spawn, yield_now};
use support::with_watchdog;

const WATCHDOG: Duration = Duration::from_secs(600);

/// A signal set from another thread: a flag plus the waker of whoever waits for it.
#[derive(Default)]
struct Signal {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    /// Resolves once the signal has fired.
    async fn wait(&self) {
        poll_fn(|cx| {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.fired.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending }
        })
        .await
    }

    /// Whether somebody is waiting (has registered a waker).
    fn has_waiter(&self) -> bool {
        self.waker.lock().unwrap().is_some()
    }

    /// Fires the signal from any thread, once a waiter has registered.
    fn fire_when_awaited(&self) {
        while !self.has_waiter() {
            std::thread::yield_now();
        }
        self.fired.store(true, Ordering::Release);
        let waker = self.waker.lock().unwrap().take();
        waker.expect("registered").wake();
    }
}

#[test]
fn a_remote_wake_unparks_an_idle_runtime() {
    with_watchdog("remote wake of an idle runtime", WATCHDOG, || {
        let signal = Arc::new(Signal::default());
        let executor = Executor::new();
        let waiter = executor.spawn({
            let signal = signal.clone();
            async move { signal.wait().await }
        });
        let firing = std::thread::spawn({
            let signal = signal.clone();
            move || signal.fire_when_awaited()
        });
        // The runtime has nothing to do until the other thread fires: it parks, and the remote
        // wake must unpark it.
        executor.block_on(waiter).unwrap();
        firing.join().unwrap();
    });
}

#[test]
fn the_block_on_future_is_woken_from_another_thread() {
    with_watchdog("remote wake of the block_on future", WATCHDOG, || {
        let signal = Arc::new(Signal::default());
        let firing = std::thread::spawn({
            let signal = signal.clone();
            move || signal.fire_when_awaited()
        });
        Executor::new().block_on(signal.wait());
        firing.join().unwrap();
    });
}

#[test]
fn a_self_waking_busy_task_does_not_starve_a_remotely_woken_task() {
    let spins = with_watchdog("busy task vs remote wake", WATCHDOG, || {
        let signal = Arc::new(Signal::default());
        let executor = Executor::new();
        let firing = std::thread::spawn({
            let signal = signal.clone();
            move || signal.fire_when_awaited()
        });
        let spins = executor.block_on(async move {
            let done = Rc::new(Cell::new(false));
            // Always runnable: it wakes itself on every poll, until the other task has run.
            let busy = spawn({
                let done = done.clone();
                async move {
                    let mut spins = 0u64;
                    while !done.get() {
                        yield_now().await;
                        spins += 1;
                    }
                    spins
                }
            });
            let waiter = spawn(async move {
                signal.wait().await;
                done.set(true);
            });
            waiter.await.unwrap();
            busy.await.unwrap()
        });
        firing.join().unwrap();
        spins
    });
    assert!(spins > 0, "the busy task was running while the wake arrived");
}

/// One task's inbox: messages counted atomically, and the task's waker.
#[derive(Default)]
struct Mailbox {
    received: AtomicU64,
    waker: Mutex<Option<Waker>>,
    in_poll: AtomicBool,
}

impl Mailbox {
    /// Delivers one message and wakes the task, alternating the two ways a waker can be fired.
    fn deliver(&self, by_value: bool) {
        self.received.fetch_add(1, Ordering::Release);
        let waker = self.waker.lock().unwrap().clone();
        if let Some(waker) = waker {
            if by_value { waker.wake() } else { waker.wake_by_ref() }
        }
    }
}

#[test]
fn cross_thread_wake_storm_loses_nothing() {
    const THREADS: u64 = 4;
    // Under Miri, which interprets every instruction, a thousand wakes per sender still
    // interleave the senders with the executor many times over.
    const WAKES_PER_THREAD: u64 = if cfg!(miri) { 1_000 } else { 100_000 };
    const TASKS: u64 = 8;
    const OWED: u64 = THREADS * WAKES_PER_THREAD / TASKS;

    let results = with_watchdog("cross-thread wake storm", WATCHDOG, || {
        let mailboxes: Arc<Vec<Mailbox>> =
            Arc::new((0..TASKS).map(|_| Mailbox::default()).collect());
        let executor = Executor::new();
        let handles: Vec<_> = (0..TASKS as usize)
            .map(|k| {
                let mailboxes = mailboxes.clone();
                executor.spawn(async move {
                    let mailbox = &mailboxes[k];
                    let mut polls = 0u64;
                    poll_fn(|cx| {
                        let reentered = mailbox.in_poll.swap(true, Ordering::AcqRel);
                        assert!(!reentered, "task {k} polled concurrently");
                        polls += 1;
                        // Register before reading, so a message that lands in between still wakes.
                        *mailbox.waker.lock().unwrap() = Some(cx.waker().clone());
                        let received = mailbox.received.load(Ordering::Acquire);
                        mailbox.in_poll.store(false, Ordering::Release);
                        if received >= OWED {
                            Poll::Ready((received, polls))
                        } else {
                            Poll::Pending
                        }
                    })
                    .await
                })
            })
            .collect();
        let senders: Vec<_> = (0..THREADS)
            .map(|t| {
                let mailboxes = mailboxes.clone();
                std::thread::spawn(move || {
                    for i in 0..WAKES_PER_THREAD {
                        mailboxes[(i % TASKS) as usize].deliver((i + t) % 2 == 0);
                    }
                })
            })
            .collect();
        let results = executor.block_on(async move {
            let mut results = Vec::new();
            for handle in handles {
                results.push(handle.await.unwrap());
            }
            results
        });
        for sender in senders {
            sender.join().unwrap();
        }
        results
    });
    for (k, (received, polls)) in results.into_iter().enumerate() {
        assert_eq!(received, OWED, "task {k} saw exactly the messages it was owed");
        assert!(polls <= OWED + 1, "task {k}: at most one poll per wake, plus the first");
    }
}
