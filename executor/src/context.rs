//! Which executor is running on this thread: the thread-local behind `spawn` and local wakes.
//!
//! `CURRENT` points at the running executor's `Core` while its `block_on`, its `step` or its
//! shutdown is on the stack, and is null otherwise. A waker firing on this thread compares its task's executor
//! with `CURRENT` to choose the lock-free local queue over the remote one; `spawn` uses it to find
//! where to put the new task.
//!
//! # Invariant
//!
//! `CURRENT` is non-null only while an [`Enter`] guard created from a live `&Core` exists, and the
//! guard's scope is inside that borrow (`block_on`, `step` and `Drop` hold the executor for their
//! whole duration). So dereferencing a non-null `CURRENT` always yields a live `Core`. The `Core`
//! only has interior mutability, so the shared references made from it never conflict.

use std::cell::Cell;
use std::ptr;

use crate::executor::Core;

// Every access below goes through `with`, the only accessor loom's thread-local has; `std`'s `Cell`
// accessors on a `LocalKey` are the same `with` calls.
#[cfg(not(loom))]
thread_local! {
    /// The executor running on this thread, or null.
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

// Loom runs its threads on one OS thread, so it keeps thread-locals itself. Its macro takes no
// `const` initializer.
#[cfg(loom)]
::loom::thread_local! {
    /// The executor running on this (loom) thread, or null.
    static CURRENT: Cell<*const Core> = Cell::new(ptr::null());
}

/// Restores the previous `CURRENT` when dropped (also when unwinding from a panic).
pub(crate) struct Enter {
    /// What `CURRENT` was before.
    previous: *const Core,
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
    }
}

/// Marks `core` as running on this thread for the duration of a `block_on`.
///
/// # Panics
/// If an executor's `block_on` is already running on this thread.
pub(crate) fn enter_block_on(core: &Core) -> Enter {
    if !CURRENT.with(Cell::get).is_null() {
        panic!(
            "`block_on` called from inside a running cashier runtime: that would block the thread \
             every task runs on. Spawn the future with `cashier::spawn` and `.await` its \
             JoinHandle instead"
        );
    }
    CURRENT.with(|current| current.set(core));
    Enter { previous: ptr::null() }
}

/// Marks `core` as running on this thread for one `Executor::step` (`step.rs`).
///
/// # Panics
/// If an executor's `block_on` or `step` is already running on this thread.
pub(crate) fn enter_step(core: &Core) -> Enter {
    if !CURRENT.with(Cell::get).is_null() {
        panic!(
            "`step` called from inside a running cashier runtime: a task cannot drive the loop \
             that is running it"
        );
    }
    CURRENT.with(|current| current.set(core));
    Enter { previous: ptr::null() }
}

/// Marks `core` as current while it shuts down, which may happen inside another executor's
/// `block_on` (a runtime created and dropped inside a task); the outer one is restored after.
pub(crate) fn enter_shutdown(core: &Core) -> Enter {
    Enter { previous: CURRENT.with(|current| current.replace(core)) }
}

/// Runs `f` with the executor running on this thread, if any.
pub(crate) fn with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.with(Cell::get);
    // SAFETY: non-null only while an `Enter` guard for a live, borrowed `Core` exists (module
    // invariant).
    (!core.is_null()).then(|| f(unsafe { &*core }))
}

/// Whether an executor is running on this thread.
pub fn in_runtime() -> bool {
    !CURRENT.with(Cell::get).is_null()
}
