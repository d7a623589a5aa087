//! The tour of the internals: where to read, in which order. Documentation only; no code.
//!
//! The files that hold the runtime's design (the task lifecycle diagram, the state transitions,
//! the run queues, the reactor's turn, the paused-clock rule, the timing wheel) are private
//! modules, so the public documentation does not show them. Build the tour with them:
//!
//! ```text
//! cargo doc --workspace --no-deps --document-private-items --open
//! ```
//!
//! CI builds exactly that with `RUSTDOCFLAGS=-Dwarnings` (`.ci/run`, the docs step), so a broken
//! link in a private module's documentation fails it. The links below point into that build; in
//! a build without `--document-private-items` the pages of private modules do not exist.
//!
//! # A task, from `spawn` to its `JoinHandle`
//!
//! 1. [`cashier_executor::executor`](../../cashier_executor/executor/index.html): `spawn`, the
//!    run loop (`Executor::block_on`) and `enqueue`, which picks the local or the remote queue.
//! 2. [`cashier_executor::task`](../../cashier_executor/task/index.html): the task's layout,
//!    its lifecycle diagram, and its three points: `run`, `wake`, `complete`.
//! 3. [`cashier_executor::state`](../../cashier_executor/state/index.html): the state word and
//!    every transition the two files above make.
//! 4. [`cashier_executor::run_queue`](../../cashier_executor/run_queue/index.html): the local
//!    queue and the remote (cross-thread) stack.
//! 5. [`cashier_executor::join`](../../cashier_executor/join/index.html): how the `JoinHandle`
//!    gets the output.
//! 6. [`cashier_executor::park`](../../cashier_executor/park/index.html): the seam through which
//!    the executor waits, and is woken.
//!
//! # The reactor, top-down
//!
//! 1. [`cashier_reactor::driver`](../../cashier_reactor/driver/index.html): one turn of the event
//!    loop, and when a paused clock jumps.
//! 2. [`cashier_reactor::registration`](../../cashier_reactor/registration/index.html): a
//!    socket's readiness and the wakers waiting on it.
//! 3. [`cashier_reactor::timer`](../../cashier_reactor/timer/index.html) and its
//!    [`wheel`](../../cashier_reactor/timer/wheel/index.html): the hierarchical timing wheel.
//! 4. [`cashier_reactor::backend`](../../cashier_reactor/backend/index.html): the OS wait (mio or
//!    polling) and the cross-thread `Unparker`.
//! 5. [`cashier_reactor::blocking`](../../cashier_reactor/blocking/index.html): the `to_thread`
//!    pool.
//!
//! # One path across every layer
//!
//! [`wake_path`]: a `to_thread` job finishing on a pool thread, down to the next poll of the task
//! that awaited it, as a sequence diagram (`docs/wake-path.md` in the repository).

#[doc = include_str!("../docs/wake-path.md")]
pub mod wake_path {}
