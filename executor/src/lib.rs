//! # cashier-executor: the cashier who serves the tasks
//!
//! An event loop is a fast-food cashier. Customers (tasks) order, step aside while their food (I/O,
//! a timer) is prepared, and are served when it is ready, not in arrival order; the cashier never
//! stands waiting at the kitchen. This crate is the cashier: it keeps the queue of customers who
//! are ready to be served and serves them one at a time. It knows nothing of the kitchen (I/O and
//! timers live in `cashier-reactor`); when nobody is ready it waits through the [`Park`] seam.
//!
//! ```
//! use cashier_executor::{Executor, spawn, yield_now};
//!
//! let executor = Executor::new();
//! let out = executor.block_on(async {
//!     let order = spawn(async {
//!         yield_now().await; // step aside once
//!         "burger"
//!     });
//!     order.await.unwrap()
//! });
//! assert_eq!(out, "burger");
//! ```
//!
//! # Implementation
//!
//! Follow one task from [`spawn`] to its [`JoinHandle`] resolving in three files:
//!
//! 1. `executor.rs`: `spawn` allocates the task (once), links it into the list of owned tasks and
//!    pushes it on the local run queue; the run loop in [`Executor::block_on`] pops it.
//! 2. `task.rs`: the task's memory layout, its lifecycle diagram, and the three points where
//!    everything happens: `run` (poll), `wake` (schedule) and `complete`. Its `Waker` is a
//!    hand-written `RawWakerVTable` over the same allocation.
//! 3. `join.rs`: the `JoinHandle` that takes the output, or the `JoinError` saying why there is
//!    none.
//!
//! Each step asks `state.rs` what to do: every transition of the atomic state word is a small
//! function returning a `#[must_use]` outcome, and the caller performs the effects. The rest are
//! one job per file: `run_queue.rs` (the intrusive local and remote queues), `owned_tasks.rs`
//! (what shutdown cancels), `context.rs` (the thread-local current executor), `handle.rs` (the
//! [`Handle`] other threads spawn through, and the `Send` [`RemoteJoinHandle`]), `park.rs` (the seam
//! to the reactor), `step.rs` (step mode: one scheduling decision at a time, for watching) and
//! `yield_now.rs`. On top of the task machinery, `combinators/` holds asyncio's
//! `gather` / `as_completed` family (each child polled with its own waker) and `sync/` the
//! channels, semaphore, event and mutex.
//!
//! ## What each operation costs
//!
//! - `spawn`: one heap allocation (header and future together); no lock.
//! - a wake on the runtime thread: one compare-and-swap on the task's state and three pointer
//!   writes into the local queue (the task's link, the old tail's link or the head, the tail). No
//!   allocation, no lock, no system call.
//! - a wake from another thread: the same compare-and-swap, one compare-and-swap on the remote
//!   stack, and an unpark (a system call) only if the stack was empty.
//! - a spawn from another thread ([`Handle::spawn`]): one heap allocation, two atomic increments
//!   (its [`TaskId`], and the executor's shared half's count, which the task holds), one
//!   compare-and-swap on the spawn stack and an unpark only if it was empty; the runtime thread
//!   adopts the task at its next turn. Joining it ([`RemoteJoinHandle`]) costs up to two
//!   compare-and-swaps per pending poll (one when no waker was handed over before), to hand the
//!   join waker over.
//! - a poll: two compare-and-swaps on the state (start, end), and two thread-local stores that
//!   grant the poll its cooperative budget and revoke it (`cashier-budget`); the
//!   `Waker` passed to the future borrows the executor's reference, so polling costs no
//!   reference counting.
//!
//! ## Where production runtimes differ
//!
//! Tokio's multi-threaded scheduler needs work-stealing queues, a LIFO slot, and locks around its
//! owned-task lists because a task may run on any worker; its current-thread scheduler still
//! shares that task machinery. cashier has exactly one thread, so the queues are plain linked
//! lists of `Cell`s, and `spawn` accepts `!Send` futures without a `LocalSet`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod combinators;
mod context;
mod executor;
mod handle;
mod join;
mod loom;
#[cfg(all(test, loom))]
mod loom_tests;
mod owned_tasks;
mod park;
mod run_queue;
mod state;
mod step;
pub mod sync;
mod task;
pub mod task_builder;
mod yield_now;

pub use combinators::{
    AsCompleted, Either, FutureTuple, Gather, GatherTuple, JoinSet, MaybeDone, Race, Select,
    TryGather, as_completed, gather, race, select, try_gather,
};
pub use context::in_runtime;
pub use executor::{EVENT_INTERVAL, Executor, alive_tasks_here, spawn};
pub use handle::{Handle, RemoteJoinHandle};
pub use join::{AbortHandle, JoinError, JoinHandle};
pub use park::{Park, ThreadPark};
pub use step::Step;
pub use task::TaskId;
pub use yield_now::{YieldNow, yield_now};
