//! `interval`: a metronome for periodic work.
//!
//! # Missed ticks
//!
//! A tick is *missed* when the task comes back to `tick()` after the next deadline has already
//! passed (it was busy, or the runtime was). What happens then is [`MissedTicks`]:
//!
//! - `Burst` (the default, as in tokio): the missed ticks complete immediately, one per call,
//!   until the schedule has caught up; the schedule itself never shifts. Right for "N ticks per
//!   minute on average".
//! - `Delay`: the next tick is one period after the late one; the schedule shifts. Right for
//!   "at least a period between two runs".
//! - `Skip`: missed ticks are dropped; the next tick is the next deadline on the original grid.
//!   Right for "on the grid, or not at all".

use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::driver::Handle;
use crate::timer::sleep::{Sleep, sleep_until};

/// What an [`Interval`] does about ticks it missed; see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTicks {
    /// Complete missed ticks at once until caught up.
    #[default]
    Burst,
    /// Restart the schedule one period after the late tick.
    Delay,
    /// Drop missed ticks and keep the original grid.
    Skip,
}

/// Ticks every `period`, the first tick completing immediately.
///
/// ```
/// use std::time::Duration;
///
/// let runtime = cashier::Runtime::builder().start_paused(true).build()?;
/// runtime.block_on(async {
///     let start = cashier::now();
///     let mut metronome = cashier::time::interval(Duration::from_secs(1));
///     for second in 0..3 {
///         let at = metronome.tick().await; // at 0 s, 1 s, 2 s
///         assert_eq!(at - start, Duration::from_secs(second));
///     }
/// });
/// # std::io::Result::Ok(())
/// ```
///
/// # Panics
/// If `period` is zero, or if no cashier runtime is running on this thread.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    let start = Handle::current("interval").now();
    interval_at(start, period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero, or if no cashier runtime is running on this thread.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "`interval` needs a non-zero period");
    Interval { period, sleep: sleep_until(start), missed: MissedTicks::Burst }
}

/// The metronome returned by [`interval`].
#[derive(Debug)]
pub struct Interval {
    /// Time between ticks.
    period: Duration,
    /// Sleeps until the next tick; its deadline is the next tick's time.
    sleep: Sleep,
    /// Policy for missed ticks.
    missed: MissedTicks,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled time.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick (for hand-written futures). A tick spends a unit of the task's
    /// cooperative budget (`cashier-budget`): a burst of missed ticks lets others run too.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        std::task::ready!(cashier_budget::poll_budgeted(cx, |cx| self.sleep.poll_sleep(cx)));
        let scheduled = self.sleep.deadline();
        let now = self.sleep.now();
        let next = match self.missed {
            MissedTicks::Burst => scheduled + self.period,
            MissedTicks::Delay if now > scheduled + self.period => now + self.period,
            MissedTicks::Skip if now > scheduled + self.period => {
                let behind = now.duration_since(scheduled).as_nanos() / self.period.as_nanos();
                let periods = u32::try_from(behind + 1).unwrap_or(u32::MAX);
                scheduled + self.period * periods
            }
            MissedTicks::Delay | MissedTicks::Skip => scheduled + self.period,
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Sets what happens to missed ticks.
    pub fn set_missed_ticks(&mut self, missed: MissedTicks) {
        self.missed = missed;
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}
