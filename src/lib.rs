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
//! # Implementation
//!
//! This crate only wires the parts together and re-exports the user API:
//!
//! - [`cashier_executor`]: tasks, wakers, run queues, `spawn`, `JoinHandle` (knows nothing of I/O).
//! - [`cashier_reactor`]: the I/O driver, timers, sockets and the blocking pool (knows nothing of
//!   tasks).
//!
//! [`Runtime`] owns one executor and parks it in the reactor when no task can run.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod runtime;

pub use cashier_executor::{JoinError, JoinHandle, YieldNow, spawn, yield_now};
pub use runtime::{Runtime, run};

#[doc(no_inline)]
pub use cashier_executor;
#[doc(no_inline)]
pub use cashier_reactor;
