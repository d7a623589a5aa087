//! `AtomicWaker` (`combinators/atomic_waker.rs`): registrations racing wakes from other threads.
//!
//! The `AtomicWaker` is the real one; so is its slot, a loom `UnsafeCell` under `cfg(loom)`, so
//! loom checks every access to the registered waker against the other threads'. The consumer is a
//! hand-written poll loop: it registers its waker, checks a flag, and waits for a wake-up when
//! the flag is not set, as a task returning `Pending` waits for its waker. Wakers set the flag
//! (`Relaxed`) and then call `AtomicWaker::wake`.
//!
//! # What it proves, up to the preemption bound
//!
//! - **A wake concurrent with `register` is never lost**: whichever step of a registration the
//!   wake lands on, the consumer is woken, or its check of the flag after registering sees the
//!   flag. Otherwise it would wait for ever (a loom deadlock).
//! - **The flag is visible to the consumer after the wake**, with no ordering of its own: the
//!   protocol's `Acquire`/`Release` pairs carry it.
//! - **No data race on the waker slot**, with one waking thread or two, and with a consumer that
//!   replaces its waker by another between two registrations.
//!
//! # What it does not prove
//!
//! Two threads registering at once: the type is for one consumer, and `register` documents that
//! it does nothing then. Nothing here checks that a stale waker is dropped rather than leaked
//! (loom does not track `std::sync::Arc`, which the test wakers use).

use std::sync::Arc as StdArc;
use std::task::Waker;

use super::AtomicWaker;
use crate::loom::thread;
use crate::loom::{Arc, AtomicUsize, Ordering};
use crate::loom_tests::Wakeup;

/// Registers `waker`-after-`waker` until `wakes` wakes are flagged, waiting in between.
/// the waking threads.
fn consume(slot: &AtomicWaker, flags: &AtomicUsize, wakes: usize, switch_wakers: bool) {
    let wakeup = Wakeup::new();
    let first = Waker::from(StdArc::clone(&wakeup));
    let second = Waker::from(StdArc::clone(&wakeup)); // same wake-up, but `will_wake` says no
    let mut registrations = 0;
    loop {
        let waker = if switch_wakers && registrations % 2 == 1 { &second } else { &first };
        slot.register(waker);
        registrations += 1;
        if flags.load(Ordering::Relaxed) == wakes {
            return;
        }
        wakeup.wait(); // a lost wake leaves us here for ever: a loom deadlock
        // A `register` that meets a wake in progress wakes us at once: without this, the loop
        // would spin while the waking thread, preempted, holds the slot, and loom would report
        // the spin (it bounds preemptions, so it cannot always schedule that thread).
        thread::yield_now();
    }
}

/// Starts `threads` threads that each set their flag and wake the slot.
fn wakers(
    slot: &Arc<AtomicWaker>,
    flags: &Arc<AtomicUsize>,
    threads: usize,
) -> Vec<thread::JoinHandle<()>> {
    (0..threads)
        .map(|_| {
            let (slot, flags) = (Arc::clone(slot), Arc::clone(flags));
            thread::spawn(move || {
                flags.fetch_add(1, Ordering::Relaxed);
                slot.wake();
            })
        })
        .collect()
}

fn wake_races_register(threads: usize, switch_wakers: bool) {
    loom::model(move || {
        let slot = Arc::new(AtomicWaker::new());
        let flags = Arc::new(AtomicUsize::new(0));
        let handles = wakers(&slot, &flags, threads);
        consume(&slot, &flags, threads, switch_wakers);
        for handle in handles {
            handle.join().unwrap();
        }
    });
}

#[test]
fn one_wake_races_register() {
    wake_races_register(1, false);
}

#[test]
fn one_wake_races_a_register_that_replaces_the_waker() {
    wake_races_register(1, true);
}

#[test]
fn two_wakes_race_register() {
    wake_races_register(2, true);
}
