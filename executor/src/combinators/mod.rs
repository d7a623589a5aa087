//! Combinators: asyncio's `gather`, `as_completed` and friends, built on per-child wakers.
//!
//! - `atomic_waker.rs`, `ready_set.rs`: the machinery. Each child of a combinator gets its own
//!   waker, so a wake re-polls only that child (O(n) polls for n children, not O(n²)).
//! - `gather.rs`: [`gather()`] and [`try_gather`]; `gather_tuple.rs`: the [`gather!`](crate::gather!)
//!   macro for futures of different types.
//! - `as_completed.rs`: [`as_completed()`].
//! - `race.rs`: [`select`] and [`race()`].
//! - `join_set.rs`: [`JoinSet`], an owned set of spawned tasks (structured concurrency).

mod as_completed;
mod atomic_waker;
mod gather;
mod gather_tuple;
mod join_set;
mod race;
mod ready_set;

pub use as_completed::{AsCompleted, as_completed};
pub use gather::{Gather, TryGather, gather, try_gather};
pub use gather_tuple::{FutureTuple, GatherTuple, MaybeDone};
pub use join_set::JoinSet;
pub use race::{Either, Race, Select, race, select};
