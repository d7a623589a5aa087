//! Time: the timing wheel, and the futures built on it.
//!
//! - `wheel.rs`: the hierarchical timing wheel (the data structure).
//! - `near.rs`: the wheel's heap of timers due within the current millisecond.
//! - `sleep.rs`: [`sleep()`], [`sleep_until()`], the `Sleep` future that owns a wheel entry.
//! - `timeout.rs`: [`timeout()`], a future under a deadline.
//! - `interval.rs`: [`interval()`], a periodic metronome.

pub(crate) mod interval;
pub(crate) mod near;
pub(crate) mod sleep;
pub(crate) mod timeout;
pub(crate) mod wheel;
#[cfg(test)]
mod wheel_model;

pub use interval::{Interval, MissedTicks, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
