//! The concurrency primitives of the executor's core, swappable for loom's models of them.
//!
//! The files that other threads reach (`state.rs`, `task.rs`, `run_queue.rs`, `executor.rs`, and
//! the combinators' `atomic_waker.rs` and `ready_set.rs`) take their atomics and their
//! `UnsafeCell` from here rather than from `std`; `context.rs` declares its thread-local with
//! loom's macro under `cfg(loom)`, since loom's threads all share one OS thread. In a normal build
//! this module only re-exports `std`, and the one wrapper it adds ([`UnsafeCell`]) is
//! `#[inline(always)]` and `#[repr(transparent)]`: the compiled code is the same as with `std`.
//!
//! Built with `RUSTFLAGS="--cfg loom"`, the same names come from the `loom` crate, whose types record
//! every access so that its models (in `loom_tests/`, run by `scripts/loom`) can try every
//! interleaving of the threads involved, and report a data race on an `UnsafeCell`, a lost wake
//! (every thread parked: a deadlock) or a failed assertion. Tokio does the same in its
//! `src/loom/` directory; this is a smaller copy of that idea.
//!
//! # What is not swapped
//!
//! `std::sync::Arc` stays `std`'s in the three places that need an API loom's `Arc` lacks:
//! `executor::Shared` and `park.rs`'s `ThreadUnpark` (their `Waker`s are built with
//! `Waker::from(Arc<impl Wake>)`), and `ReadySet` (built with `Arc::new_cyclic`). All use the `Arc`
//! only to keep memory alive, not to order other accesses, so a model loses nothing it checks;
//! loom's `Arc` (re-exported here) serves the models.
//! `Cell`s are not swapped either: they are touched by one thread only, which the type system
//! already enforces (`Cell` is `!Sync`).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
#[allow(
    unused_imports,
    reason = "the models' shared values and threads; the library uses neither"
)]
pub(crate) use std::{sync::Arc, thread};

#[cfg(loom)]
pub(crate) use ::loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
#[allow(
    unused_imports,
    reason = "the models' shared values and threads; the library uses neither"
)]
pub(crate) use ::loom::{sync::Arc, thread};

#[cfg(loom)]
pub(crate) use ::loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` behind loom's closure-based API, so that the same code compiles
/// against both.
///
/// Loom's `UnsafeCell` has no `get()`: every access is a closure over a raw pointer, during which
/// loom records a read ([`UnsafeCell::with`]) or a write ([`UnsafeCell::with_mut`]) and checks it
/// against the other threads' accesses. Here both closures get the pointer `get()` would return.
#[cfg(not(loom))]
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `data`.
    #[inline(always)]
    pub(crate) const fn new(data: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(data))
    }

    /// Runs `f` with a pointer for reading the contents.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for reading or writing the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
