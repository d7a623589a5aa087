//! `ReadySet` (`combinators/ready_set.rs`): children woken from other threads while the consumer
//! refills and pops, with an `as_completed`-style consumer that returns after each finished child.
//!
//! The `ReadySet`, its `Cursor`, its child wakers and its `AtomicWaker` are the real ones. The
//! consumer replays `Children::poll_woken` as `as_completed` calls it (`register`, one `refill`,
//! then `pop` until a child is ready, returning at once with it), on three "gate" children: a
//! child is ready once its gate is open, and each waking thread opens a gate (`Release`) before it
//! wakes that child, as a channel's sender stores a message before it wakes the receiver. Between
//! two calls the consumer yields once (wakes itself, then waits), as a task that does some other
//! `.await` between two `next()`s; when a call finds nothing it waits until its waker fires.
//!
//! Two threads wake: the first opens child 0 and wakes it, then wakes child 1 while child 1's
//! gate is still closed (a spurious wake, which leaves child 1 queued but not ready); the second
//! opens child 2 and wakes it, then opens child 1 and wakes it.
//!
//! # What it proves, up to the preemption bound
//!
//! - **No child wake is lost**: every child is eventually returned, whatever the consumer's list
//!   holds when a wake lands. A wake left on the stack unseen would leave the consumer waiting for
//!   ever (a loom deadlock), since only a push onto an empty stack wakes it. This is the bug fixed
//!   in a1f059f (a refill that skipped the stack while the list was non-empty): with that fix
//!   reverted, this model deadlocks at `LOOM_MAX_PREEMPTIONS=3` (not at 2).
//! - **What a waker wrote before waking is visible to the poll that follows**, even when the wake
//!   found the child already queued and so pushed nothing. (This is why `ReadySet::pop` clears
//!   `queued` with a swap: with the plain `Release` store it had, this model deadlocks.)
//! - Each child is returned exactly once, and no node is linked twice (which would corrupt the
//!   list: a child returned twice or never).
//!
//! # What it does not prove
//!
//! Dropping the combinator while wakes are in flight (the set's `Arc` is `std`'s, not modelled),
//! more than three children or two waking threads, and the real `Children`/`AsCompleted` code
//! around the `ReadySet` calls, which this model replays rather than runs.

use std::task::Waker;

use super::{Cursor, ReadySet};
use crate::loom::thread;
use crate::loom::{Arc, AtomicBool, Ordering};
use crate::loom_tests::Wakeup;

/// The children's gates: child `i` is ready once `gates[i]` is set.
type Gates = Arc<[AtomicBool; 3]>;

/// One `AsCompleted::poll_next_with_index` call, replayed on the `ReadySet` API as
/// `Children::poll_woken` makes it: the index of a child that finished, or `None` for `Pending`.
fn next(
    set: &ReadySet,
    cursor: &mut Cursor,
    gates: &Gates,
    done: &mut [bool; 3],
    parent: &Waker,
) -> Option<usize> {
    set.register(parent);
    set.refill(cursor);
    while let Some(index) = set.pop(cursor) {
        if done[index] {
            continue; // `Slot::Gone`: an extra wake of a finished child
        }
        // "Polling" the child: ready once its gate is open.
        if gates[index].load(Ordering::Acquire) {
            done[index] = true;
            return Some(index); // as_completed returns at once; the rest stay in the cursor
        }
    }
    None
}

/// A thread that, for each `(child, open)`, opens the child's gate if `open`, then wakes it.
fn waking_thread(
    gates: &Gates,
    wakers: &[Waker],
    steps: &'static [(usize, bool)],
) -> thread::JoinHandle<()> {
    let gates = Arc::clone(gates);
    let wakers: Vec<Waker> = wakers.to_vec();
    thread::spawn(move || {
        for &(child, open) in steps {
            if open {
                gates[child].store(true, Ordering::Release);
            }
            wakers[child].wake_by_ref();
        }
    })
}

#[test]
fn children_woken_while_the_consumer_refills_are_always_seen() {
    loom::model(|| {
        let (set, mut cursor) = ReadySet::new(3);
        let gates: Gates =
            Arc::new([AtomicBool::new(false), AtomicBool::new(false), AtomicBool::new(false)]);
        // Owned child wakers, as a child that stores its waker clones the one it is polled with.
        let wakers: Vec<Waker> = (0..3).map(|child| (*set.waker(child)).clone()).collect();
        let threads = [
            waking_thread(&gates, &wakers, &[(0, true), (1, false)]),
            waking_thread(&gates, &wakers, &[(2, true), (1, true)]),
        ];
        drop(wakers);
        let wakeup = Wakeup::new();
        let parent = Waker::from(std::sync::Arc::clone(&wakeup));
        let mut done = [false; 3];
        let mut finished = Vec::new();
        while finished.len() < 3 {
            // As in `atomic_waker.rs`'s model: a `register` that meets a wake in progress wakes
            // us at once, and loom must be told that this loop then waits for another thread.
            thread::yield_now();
            match next(&set, &mut cursor, &gates, &mut done, &parent) {
                Some(child) => {
                    finished.push(child);
                    parent.wake_by_ref(); // yield once between two `next()` calls
                    wakeup.wait();
                }
                None => wakeup.wait(), // a lost wake leaves us here for ever: a loom deadlock
            }
        }
        for thread in threads {
            thread.join().unwrap();
        }
        finished.sort_unstable();
        assert_eq!(finished, [0, 1, 2], "each child is returned exactly once");
    });
}
