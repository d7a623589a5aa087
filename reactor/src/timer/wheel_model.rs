//! Model test: the timing wheel against the simplest structure that does the same job, a sorted
//! set of `(deadline, id)` pairs.
//!
//! Both are driven with the same random operations (insert, cancel, reset, advance the clock by
//! any amount from a nanosecond to 584 years, or step to the wheel's next expiration as a paused
//! clock does), over the whole `Duration` range including `Duration::MAX`'s 2^64 - 1 ns. After
//! every operation the wheel must agree with the model:
//!
//! - a timer has fired exactly when its deadline is at or before the processed time (never
//!   early, never late);
//! - `next_expiration` is `None` exactly when nothing waits, and otherwise lies after the
//!   processed time and no later than the earliest waiting deadline (a later answer is a timer
//!   the reactor would oversleep);
//! - stepping from expiration to expiration fires every timer exactly at its deadline.
//!
//! `cargo test -p cashier-reactor wheel_model` runs 300 seeded sequences; set
//! `CASHIER_WHEEL_MODEL_CASES=100000` with `--release` for a longer run (about 90 s on 2 cores).

use std::collections::BTreeSet;
use std::task::Waker;

use super::wheel::{Inserted, TimerKey, Wheel};
use crate::clock::TICK_NS;
use crate::wakeups::Wakeups;

/// One millisecond in nanoseconds, and the wheel's interesting boundaries in ticks.
const MS: u64 = TICK_NS;
/// Level boundaries of the wheel (2^6k ticks) and the span (2^36 ticks), in nanoseconds.
const BOUNDARIES: [u64; 7] = [MS, MS << 6, MS << 12, MS << 18, MS << 24, MS << 30, MS << 36];

/// A timer the test owns: its key in the wheel, its id in the model.
struct Timer {
    key: TimerKey,
    id: u64,
    deadline: u64,
}

/// The wheel, the model beside it, and the timers both hold.
struct Harness {
    wheel: Wheel,
    /// `(deadline, id)` of every timer that has not fired.
    model: BTreeSet<(u64, u64)>,
    timers: Vec<Timer>,
    /// The processed time, in nanoseconds.
    now: u64,
    next_id: u64,
    rng: fastrand::Rng,
}

impl Harness {
    fn new(seed: u64) -> Harness {
        Harness {
            wheel: Wheel::new(),
            model: BTreeSet::new(),
            timers: Vec::new(),
            now: 0,
            next_id: 0,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// A distance of any size, from a nanosecond to the whole `u64` range, weighted toward the
    /// wheel's boundaries where bugs live.
    fn distance(&mut self) -> u64 {
        match self.rng.u8(0..10) {
            0 => u64::MAX,                // Duration::MAX
            1 => self.rng.u64(0..2 * MS), // this millisecond or next
            2 => {
                // Just before, at or after a level boundary, counted from the clock's origin.
                let boundary = BOUNDARIES[self.rng.usize(..BOUNDARIES.len())];
                let multiple = boundary * self.rng.u64(1..4);
                let target =
                    multiple.saturating_add(self.rng.u64(0..4 * MS)).saturating_sub(2 * MS);
                target.saturating_sub(self.now).max(1)
            }
            3 => {
                let shift = self.rng.u32(0..64);
                self.rng.u64(..) >> shift // any scale, uniform bits
            }
            _ => {
                let bits = self.rng.u32(1..64);
                self.rng.u64(1..1 << bits) // any scale, log-uniform
            }
        }
    }

    fn insert(&mut self) {
        let deadline = self.now.saturating_add(self.distance());
        let deadline = if self.rng.u8(0..20) == 0 { self.now } else { deadline }; // the past
        let id = self.next_id;
        self.next_id += 1;
        match self.wheel.insert(deadline, Waker::noop().clone()) {
            Inserted::Pending(key) => {
                assert!(deadline > self.now, "a deadline at or before now is expired at once");
                self.model.insert((deadline, id));
                self.timers.push(Timer { key, id, deadline });
            }
            Inserted::Expired => assert!(deadline <= self.now, "only the past is expired"),
        }
    }

    fn cancel(&mut self) {
        if self.timers.is_empty() {
            return;
        }
        let timer = self.timers.swap_remove(self.rng.usize(..self.timers.len()));
        self.model.remove(&(timer.deadline, timer.id));
        self.wheel.remove(timer.key);
    }

    fn reset(&mut self) {
        if self.timers.is_empty() {
            return;
        }
        let index = self.rng.usize(..self.timers.len());
        let deadline = self.now.saturating_add(self.distance());
        let timer = &mut self.timers[index];
        self.model.remove(&(timer.deadline, timer.id));
        timer.deadline = deadline;
        let pending = self.wheel.reset(&timer.key, deadline);
        assert_eq!(pending, deadline > self.now);
        if pending {
            self.model.insert((deadline, timer.id));
            // Firing took the waker; a re-armed `Sleep` gives a new one at its next poll.
            self.wheel.update_waker(&timer.key, Waker::noop());
        }
    }

    /// Moves the clock to `to` and checks what fired.
    fn advance_to(&mut self, to: u64) {
        let mut fired = Wakeups::default();
        self.wheel.process(to, &mut fired);
        self.now = self.now.max(to);
        let due: Vec<_> = self.model.range(..=(self.now, u64::MAX)).copied().collect();
        assert_eq!(fired.len(), due.len(), "at {}: every due timer fired, no other", self.now);
        for key in due {
            self.model.remove(&key);
        }
        for timer in &self.timers {
            let expected = timer.deadline <= self.now;
            assert_eq!(
                self.wheel.is_fired(&timer.key),
                expected,
                "timer due at {} seen at {}",
                timer.deadline,
                self.now
            );
        }
    }

    fn advance(&mut self) {
        // The earliest deadline, unless it is so far that jumping there would end the sequence.
        let earliest = self.model.first().map(|&(d, _)| d).filter(|&d| d - self.now < 1 << 62);
        let to = match self.rng.u8(0..6) {
            0 => self.wheel.next_expiration().unwrap_or(self.now), // a paused clock's jump
            1 => earliest.unwrap_or(self.now),                     // exactly to a deadline
            2 => earliest.map_or(self.now, |d| d - 1),             // a nanosecond before
            // Rarely, to the end of time itself (the sequence then stops).
            3 if self.rng.u16(0..1000) == 0 => self.now.saturating_add(self.distance()),
            // Otherwise by a distance of any scale up to about 18 years, so sequences go on.
            _ => self.now.saturating_add(self.distance() >> self.rng.u32(4..20)),
        };
        self.advance_to(to);
    }

    /// The property the reactor's wait relies on.
    fn check_next_expiration(&self) {
        let next = self.wheel.next_expiration();
        match self.model.first() {
            None => assert_eq!(next, None, "nothing waits"),
            Some(&(earliest, _)) => {
                let next = next.expect("a timer waits, so there is a next expiration");
                assert!(next > self.now, "next expiration {next} is after now {}", self.now);
                assert!(
                    next <= earliest,
                    "next expiration {next} is after the earliest deadline {earliest} (now {}): \
                     the reactor would sleep past it",
                    self.now
                );
            }
        }
    }

    /// Steps from expiration to expiration, as a paused clock does, until everything has fired:
    /// each timer fires exactly at its deadline.
    fn drain(&mut self) {
        let mut steps = 0;
        while let Some(next) = self.wheel.next_expiration() {
            steps += 1;
            assert!(steps < 100_000, "draining does not end");
            let due_now = self.model.first().is_some_and(|&(d, _)| d == next);
            let before = self.model.len();
            self.advance_to(next);
            if self.model.len() < before {
                assert!(due_now, "timers fire only at a step that is their exact deadline");
            }
            self.check_next_expiration();
        }
        assert!(self.model.is_empty());
        for timer in self.timers.drain(..) {
            self.wheel.remove(timer.key);
        }
        assert_eq!(self.wheel.len(), 0);
    }
}

/// Runs one sequence; returns how many operations ran before the end (or the end of time).
fn run_sequence(seed: u64, operations: usize) -> usize {
    let mut h = Harness::new(seed);
    let mut ran = 0;
    for _ in 0..operations {
        ran += 1;
        match h.rng.u8(0..10) {
            0..=3 => h.insert(),
            4 => h.cancel(),
            5 => h.reset(),
            _ => h.advance(),
        }
        h.check_next_expiration();
        if h.now == u64::MAX {
            break; // the end of time: nothing more can be due
        }
    }
    h.drain();
    ran
}

#[test]
fn wheel_matches_a_sorted_set_of_deadlines() {
    let cases = std::env::var("CASHIER_WHEEL_MODEL_CASES").ok().and_then(|s| s.parse().ok());
    let cases = cases.unwrap_or(300);
    let mut operations = 0;
    for seed in 0..cases {
        match std::panic::catch_unwind(|| run_sequence(seed, 300)) {
            Ok(ran) => operations += ran,
            Err(panic) => {
                eprintln!("wheel model: seed {seed} failed");
                std::panic::resume_unwind(panic);
            }
        }
    }
    // Most sequences must run their course: one that hits the end of time early tests little.
    assert!(operations > cases as usize * 250, "{operations} operations in {cases} sequences");
}
