//! The reactor's clock: real time, or a paused virtual time that only moves when the runtime has
//! nothing else to do.
//!
//! Times are counted in nanoseconds from the clock's `origin` (a `u64` covers 584 years). The
//! timing wheel buckets them into one-millisecond *ticks* ([`TICK_NS`]); a timer still fires at
//! its exact nanosecond, never before (see `timer/wheel.rs`).
//!
//! # The paused clock
//!
//! With `start_paused`, `now()` is `origin + offset` and `offset` only grows when the reactor
//! advances it: to the next timer's deadline, when the runtime is idle (see `driver.rs` for the
//! exact rule), or by [`Clock::advance`] from a test. Time-based tests then run instantly and give
//! the same result on every machine.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// One tick of the timing wheel, in nanoseconds.
pub(crate) const TICK_NS: u64 = 1_000_000;

/// Real or virtual time, for one reactor.
pub(crate) struct Clock {
    /// Time 0.
    origin: Instant,
    /// Whether time is virtual.
    paused: bool,
    /// Virtual time elapsed since `origin` (used only when paused).
    offset: Cell<Duration>,
}

/// Nanoseconds in a `Duration`, saturating at `u64::MAX` (584 years).
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Clock {
        Clock { origin: Instant::now(), paused, offset: Cell::new(Duration::ZERO) }
    }

    /// Whether time only moves when the reactor moves it.
    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// The current time, real or virtual.
    pub(crate) fn now(&self) -> Instant {
        if self.paused { self.origin + self.offset.get() } else { Instant::now() }
    }

    /// `instant` in nanoseconds since the origin (0 if before it).
    pub(crate) fn to_nanos(&self, instant: Instant) -> u64 {
        nanos(instant.saturating_duration_since(self.origin))
    }

    /// The current time in nanoseconds since the origin.
    pub(crate) fn now_nanos(&self) -> u64 {
        self.to_nanos(self.now())
    }

    /// The instant `at` nanoseconds after the origin. On Linux an `Instant` reaches any `u64` of
    /// nanoseconds ahead; where a platform's cannot, this halves the distance until it fits,
    /// which still lies centuries ahead for the saturated deadlines that get there.
    pub(crate) fn instant_at(&self, at: u64) -> Instant {
        let mut after = Duration::from_nanos(at);
        loop {
            if let Some(instant) = self.origin.checked_add(after) {
                return instant;
            }
            after /= 2;
        }
    }

    /// Real time left until `at` (nanoseconds since the origin), zero if it has passed: the OS
    /// wait's timeout.
    pub(crate) fn until(&self, at: u64) -> Duration {
        self.instant_at(at).saturating_duration_since(Instant::now())
    }

    /// Moves virtual time forward to `at` (never backwards).
    pub(crate) fn advance_to(&self, at: u64) {
        debug_assert!(self.paused, "only a paused clock is advanced");
        let at = Duration::from_nanos(at);
        if at > self.offset.get() {
            self.offset.set(at);
        }
    }

    /// Moves virtual time forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        debug_assert!(self.paused, "only a paused clock is advanced");
        self.offset.set(self.offset.get() + by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_moves_only_forward_and_only_when_told() {
        let clock = Clock::new(true);
        let origin = clock.now();
        assert_eq!(clock.now_nanos(), 0);
        assert_eq!(clock.to_nanos(origin + Duration::from_micros(1500)), 1_500_000);
        clock.advance(Duration::from_micros(4_999));
        assert_eq!(clock.now_nanos(), 4_999_000);
        clock.advance_to(5_000_000);
        assert_eq!(clock.now(), origin + Duration::from_millis(5));
        clock.advance_to(3_000_000);
        assert_eq!(clock.now_nanos(), 5_000_000, "never backwards");
        assert_eq!(clock.to_nanos(origin - Duration::from_secs(1)), 0, "before the origin is 0");
    }
}
