//! Synchronization between tasks of one runtime: channels, a semaphore, an event, a mutex.
//!
//! asyncio's `Queue`, `Semaphore`, `Event` and `Lock`. Everything here is for tasks on the same
//! runtime thread: state lives in `RefCell`s (no atomics, no locks), and the handles are `!Send`.
//! What they store are ordinary `Waker`s, so a task is woken the usual way, whatever woke it.
//! Waiters queue in arrival order and a waiter that is dropped leaves the queue without taking
//! anything with it (`wait_list.rs`).
//!
//! Every wait here (a receive, a send, an acquire, a lock, an event, a oneshot) spends a unit of
//! the task's cooperative budget when it completes (`cashier-budget`); the `try_` forms do not.
//! So a task draining a full channel yields after 128 messages and lets the others run.
//!
//! To hand values to or from *another thread*, use `to_thread` (in `cashier`), whose result
//! travels through the executor's remote queue.

mod event;
pub mod mpsc;
mod mutex;
pub mod oneshot;
mod semaphore;
mod wait_list;

pub use event::{Event, Wait};
pub use mutex::{Mutex, MutexGuard};
pub use semaphore::{Acquire, AcquireError, OwnedPermit, Permit, Semaphore, TryAcquireError};
