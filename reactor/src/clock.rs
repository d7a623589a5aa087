//! The reactor's clock: real time, or a paused virtual time that only moves when the runtime has
//! nothing else to do.
//!
//! Timers count *ticks* of one millisecond from the clock's `origin`. A deadline is rounded *up*
//! to a tick ([`Clock::deadline_tick`]) and the current time *down* ([`Clock::now_tick`]), so a
//! timer that fires at tick `t` fires at a time `>= its deadline`: never early, up to a tick late.
//!
//! # The paused clock
//!
//! With `start_paused`, `now()` is `origin + offset` and `offset` only grows when the reactor
//! advances it: to the next timer's tick, when the runtime is idle (see `driver.rs` for the exact
//! rule), or by [`Clock::advance`] from a test. Time-based tests then run instantly and give the
//! same result on every machine.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// One tick of the timing wheel.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// Real or virtual time, for one reactor.
pub(crate) struct Clock {
    /// Tick 0.
    origin: Instant,
    /// Whether time is virtual.
    paused: bool,
    /// Virtual time elapsed since `origin` (used only when paused).
    offset: Cell<Duration>,
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

    /// The tick at which a timer for `deadline` may fire: rounded up, so never early.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.origin);
        let ticks = since.as_nanos().div_ceil(TICK.as_nanos());
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }

    /// The last tick that has fully begun: rounded down.
    pub(crate) fn now_tick(&self) -> u64 {
        let since = self.now().saturating_duration_since(self.origin);
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }

    /// Real time left until `tick` begins (zero if it has), for the OS wait's timeout.
    pub(crate) fn until_tick(&self, tick: u64) -> Duration {
        let at = self.origin + Duration::from_millis(tick);
        at.saturating_duration_since(Instant::now())
    }

    /// Moves virtual time forward to the start of `tick` (never backwards).
    pub(crate) fn advance_to_tick(&self, tick: u64) {
        debug_assert!(self.paused, "only a paused clock is advanced");
        let at = Duration::from_millis(tick);
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
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::new(true);
        let origin = clock.now();
        assert_eq!(clock.deadline_tick(origin), 0);
        assert_eq!(clock.deadline_tick(origin + Duration::from_micros(1)), 1);
        assert_eq!(clock.deadline_tick(origin + Duration::from_millis(5)), 5);
        clock.advance(Duration::from_micros(4_999));
        assert_eq!(clock.now_tick(), 4, "4.999 ms is still tick 4");
        clock.advance_to_tick(5);
        assert_eq!(clock.now_tick(), 5);
        assert_eq!(clock.now(), origin + Duration::from_millis(5));
        clock.advance_to_tick(3);
        assert_eq!(clock.now_tick(), 5, "never backwards");
    }
}
