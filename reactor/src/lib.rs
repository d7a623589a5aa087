//! # cashier-reactor: the kitchen
//!
//! Where a task's order is prepared while the task steps aside: sockets waiting to become readable
//! or writable, timers waiting for their deadline, blocking jobs running on a thread pool. The
//! reactor knows nothing of tasks; it only stores `Waker`s and calls them when what they wait for
//! is ready. It plugs into the executor through the executor's `Park` seam.
//!
//! This crate is being built (issue 3: the mio driver, the timing wheel, TCP/UDP and `to_thread`).
//! Until then `cashier::Runtime` parks with plain thread parking.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]
