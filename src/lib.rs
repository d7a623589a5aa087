//! # cashier: a single-threaded async runtime you can read
//!
//! An event loop is a fast-food cashier. Customers (tasks) order, step aside while their food (I/O,
//! a timer) is prepared, and are served when it is ready, not in arrival order; the cashier never
//! stands waiting at the kitchen.
//!
//! ```
//! let total = cashier::run(async {
//!     let orders: Vec<_> = (1..=3).map(|n| cashier::spawn(async move { n * 10 })).collect();
//!     let mut total = 0;
//!     for order in orders {
//!         total += order.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 60);
//! ```
//!
//! A program can say the same with [`#[cashier::main]`](macro@main) on `async fn main`, and a test
//! with [`#[cashier::test]`](macro@test) (`start_paused = true` for the paused clock):
//!
//! ```
//! #[cashier::main]
//! async fn main() {
//!     let order = cashier::spawn(async { 10 });
//!     assert_eq!(order.await.unwrap(), 10);
//! }
//! ```
//!
//! # Implementation
//!
//! This crate only wires the parts together and re-exports the user API:
//!
//! - [`cashier_executor`]: tasks, wakers, run queues, `spawn`, `JoinHandle` (knows nothing of I/O).
//! - [`cashier_reactor`]: the I/O driver, timers, sockets and the blocking pool (knows nothing of
//!   tasks).
//! - [`cashier_trace`]: the events both report, their recorder, and the views drawn from them
//!   (knows neither tasks' futures nor sockets).
//! - [`cashier_macros`]: `#[cashier::main]` and `#[cashier::test]`, which turn an `async fn` into
//!   a synchronous one that builds a [`Runtime`] and blocks on the body.
//! - [`cashier_budget`]: the cooperative budget, granted by the executor at each poll and spent
//!   by the reactor's and the executor's resources, so that a task whose operations are always
//!   ready still lets the others run.
//!
//! [`Runtime`] owns one executor and parks it in the reactor when no task can run; when it is
//! watched ([`Builder::trace`], `CASHIER_TRACE`), it also owns the recorder (`watch.rs`).
//! [`Runtime::step`] drives it one decision at a time, for watching it think ([`step`]).
//! [`Runtime::metrics`] tells what it did so far ([`metrics`]).
//!
//! [`internals`] is the reading order through the private modules (the task lifecycle, the
//! reactor's turn, the paused clock), for a build with `--document-private-items`.
//!
//! | asyncio | cashier |
//! | --- | --- |
//! | `asyncio.run(main())` | [`cashier::run(main())`](run) |
//! | `asyncio.create_task(coro)` | [`cashier::spawn(fut)`](spawn) |
//! | `await asyncio.sleep(s)` | [`cashier::sleep(d).await`](sleep) |
//! | `await asyncio.wait_for(aw, s)` | [`cashier::timeout(d, fut).await`](timeout) |
//! | `await asyncio.to_thread(f)` | [`cashier::to_thread(f).await`](to_thread) |
//! | `await asyncio.create_subprocess_exec(...)` | [`process::Command::spawn`] |
//! | `loop.run_until_complete(fut)` | [`Runtime::block_on`] |
//! | `await asyncio.gather(*aws)` | [`cashier::gather(futs).await`](fn@gather), [`gather!`](macro@gather) |
//! | `for t in asyncio.as_completed(aws)` | [`cashier::as_completed(futs)`](as_completed) |
//! | `async with asyncio.TaskGroup()` | [`JoinSet`], [`try_gather`] |
//! | `asyncio.Queue`, `Semaphore`, `Event`, `Lock` | [`sync`] |

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod debug;
pub mod internals;
pub mod metrics;
pub mod runtime;
pub mod step;
mod watch;

pub use cashier_executor::{
    AsCompleted, Either, JoinError, JoinHandle, JoinSet, as_completed, gather, race, select, spawn,
    try_gather, yield_now,
};
pub use cashier_macros::{main, test};
pub use cashier_reactor::{now, sleep, sleep_until, timeout, to_thread};
pub use cashier_trace::{Warning, WarningKind};
pub use debug::{DEBUG_ENV, DebugChecks, Dump, OnHang};
pub use metrics::{RuntimeMetrics, TaskMetrics};
pub use runtime::{Builder, DEFAULT_SHUTDOWN_TIMEOUT, Runtime, run, spawn_blocking};
pub use watch::{TRACE_ENV, Trace};

/// Time: sleeps, deadlines and intervals on the runtime's (possibly paused) clock.
pub mod time {
    pub use cashier_reactor::{
        Elapsed, Interval, MissedTicks, Sleep, Timeout, interval, interval_at, now, sleep,
        sleep_until, timeout, timeout_at,
    };
}

/// Synchronization between tasks: channels, semaphore, event, mutex (asyncio's `Queue`,
/// `Semaphore`, `Event`, `Lock`).
pub mod sync {
    pub use cashier_executor::sync::*;
}

/// Sockets: TCP and UDP on the reactor, and a resolver that runs off the loop.
pub mod net {
    pub use cashier_reactor::net::{TcpListener, TcpStream, UdpSocket, lookup_host};
}

/// Child processes waited for on the reactor (asyncio's `create_subprocess_exec`): a child's
/// exit (through a pidfd, or `SIGCHLD`) and its pipes are readiness sources like sockets, so one
/// thread waits for any number of children. See [`process::Command`].
pub mod process {
    pub use cashier_reactor::process::{
        Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitWatch, NO_PIDFD_ENV, exit_watch,
    };
    pub use std::process::{ExitStatus, Output, Stdio};
}

/// Unix signals: `ctrl_c().await`, or a stream of any signal's deliveries (`SIGTERM`, `SIGHUP`,
/// `SIGQUIT`, ...), delivered through the reactor like socket readiness.
///
/// ```no_run
/// use cashier::signal::{SignalKind, signal};
///
/// cashier::run(async {
///     let mut quits = signal(SignalKind::quit())?;
///     while quits.recv().await.is_some() {
///         eprintln!("{}", cashier::task::dump());
///     }
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub mod signal {
    pub use crate::runtime::SIGQUIT_HEADER;
    pub use cashier_reactor::signal::{Signal, SignalKind, ctrl_c, signal};
}

/// Tasks and combinators: handles, errors, and the futures returned by the task functions.
pub mod task {
    pub use crate::debug::{Dump, dump};
    pub use crate::runtime::spawn_blocking;
    pub use cashier_budget::{ConsumeBudget, Unconstrained, consume_budget, unconstrained};
    pub use cashier_executor::task_builder::Builder;
    pub use cashier_executor::{AbortHandle, TaskId};
    pub use cashier_executor::{
        AsCompleted, Either, Gather, GatherTuple, JoinError, JoinHandle, JoinSet, Race, Select,
        TryGather, YieldNow, as_completed, gather, race, select, spawn, try_gather, yield_now,
    };
    pub use cashier_reactor::{BlockingError, ToThread, to_thread};
    pub use cashier_trace::{DumpRow, TaskState};
}

#[doc(no_inline)]
pub use cashier_budget;
#[doc(no_inline)]
pub use cashier_executor;
#[doc(no_inline)]
pub use cashier_macros;
#[doc(no_inline)]
pub use cashier_reactor;
#[doc(no_inline)]
pub use cashier_trace;
