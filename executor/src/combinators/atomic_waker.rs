//! `AtomicWaker`: one waker slot that a consumer registers into and any thread may wake.
//!
//! A combinator (gather, as_completed, race) is polled by one task, but its children's wakers may
//! fire on any thread (a `to_thread` job, a user's thread). They must reach the combinator's own
//! waker without a lock and without racing a concurrent registration. This is the classic
//! three-state protocol (as in `futures::task::AtomicWaker`):
//!
//! ```text
//!   WAITING ──register──► REGISTERING ──done──► WAITING
//!      │                       │
//!    wake                    wake (sets WAKING while the registrar holds the slot:
//!      ▼                       │   the registrar sees it when it finishes and wakes for us)
//!   WAKING ──taken, woken──► WAITING
//! ```
//!
//! Only `register` writes the slot, only while it owns `REGISTERING`; only `take` reads it, only
//! while it owns `WAKING` taken from `WAITING`. Those two states are mutually exclusive, so the
//! `UnsafeCell` is never accessed concurrently.

use std::task::Waker;

use crate::loom::{AtomicUsize, Ordering, UnsafeCell};

/// Nobody is touching the slot.
const WAITING: usize = 0;
/// `register` owns the slot.
const REGISTERING: usize = 1;
/// `take` owns the slot, or a wake arrived during a registration.
const WAKING: usize = 2;

/// A waker slot shared between one registering task and any number of waking threads.
pub(crate) struct AtomicWaker {
    /// `WAITING`, `REGISTERING`, `WAKING`, or `REGISTERING | WAKING`.
    state: AtomicUsize,
    /// The registered waker.
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the slot is only accessed by the party that owns it through `state` (module doc), so
// sharing an `AtomicWaker` between threads never creates concurrent access to the `Waker`, which
// is itself `Send + Sync`.
unsafe impl Sync for AtomicWaker {}
// SAFETY: as above; a `Waker` may be sent between threads.
unsafe impl Send for AtomicWaker {}

impl AtomicWaker {
    pub(crate) fn new() -> AtomicWaker {
        AtomicWaker { state: AtomicUsize::new(WAITING), waker: UnsafeCell::new(None) }
    }

    /// Stores `waker` to be woken by the next [`AtomicWaker::wake`]. If a wake races with this
    /// registration, `waker` is woken right away instead, so the wake is not lost.
    pub(crate) fn register(&self, waker: &Waker) {
        match self.state.compare_exchange(
            WAITING,
            REGISTERING,
            Ordering::Acquire,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                // SAFETY: we own `REGISTERING`, so nobody else touches the slot; the borrow ends
                // in this statement.
                let replaced = self.waker.with_mut(|slot| unsafe {
                    let slot = &mut *slot;
                    match slot {
                        Some(current) if current.will_wake(waker) => None,
                        _ => slot.replace(waker.clone()),
                    }
                });
                match self.state.compare_exchange(
                    REGISTERING,
                    WAITING,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => drop(replaced),
                    Err(_) => {
                        // A wake arrived meanwhile (state is REGISTERING | WAKING) and left the
                        // slot to us: take the waker back, release the state, and wake.
                        // SAFETY: we still own the slot: `take` backs off while REGISTERING is set.
                        let woken = self.waker.with_mut(|slot| unsafe { (*slot).take() });
                        self.state.swap(WAITING, Ordering::AcqRel);
                        drop(replaced);
                        if let Some(woken) = woken {
                            woken.wake();
                        }
                    }
                }
            }
            // A wake is in progress: it may have taken the old waker, so wake the new one.
            Err(WAKING) => waker.wake_by_ref(),
            // Registering concurrently with ourselves: impossible for a single consumer.
            Err(_) => {}
        }
    }

    /// Wakes the registered waker, if any (any thread).
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }

    /// Takes the registered waker out, if no registration is in progress.
    fn take(&self) -> Option<Waker> {
        match self.state.fetch_or(WAKING, Ordering::AcqRel) {
            WAITING => {
                // SAFETY: we moved the state from WAITING to WAKING, so we own the slot.
                let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
                self.state.fetch_and(!WAKING, Ordering::Release);
                waker
            }
            // REGISTERING: the registrar sees WAKING and wakes; WAKING: someone else is waking.
            _ => None,
        }
    }
}

#[cfg(all(test, loom))]
#[path = "../loom_tests/atomic_waker.rs"]
mod loom_tests;
