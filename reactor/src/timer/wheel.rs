//! The hierarchical timing wheel: where sleeping tasks' wakers wait for their deadline.
//!
//! Varghese & Lauck, "Hashed and Hierarchical Timing Wheels" (SOSP 1987), as the Linux kernel and
//! tokio use it. Deadlines are nanoseconds since the clock's origin; the wheel files them by
//! *tick*, the millisecond they fall in (`deadline / TICK_NS`). The wheel
//! has [`LEVELS`] levels of [`SLOTS`] slots each: a slot of level 0 spans one tick, a slot of level
//! 1 spans 64 ticks, of level 2 4,096 ticks, and so on; a slot of level 5 spans 2^30 ticks (12.4
//! days) and the whole top level, one *rotation*, 2^36 ticks (about 2.2 years).
//!
//! A timer goes into the level chosen by the highest bit in which its deadline differs from the
//! current time (`elapsed`), and into the slot given by its deadline's digit at that level. So a
//! timer due in 3 ms sits in level 0, one due in 3 hours in level 4. When time reaches the start of
//! a slot in a higher level, its timers are *cascaded*: re-inserted relative to the new time, which
//! puts them in lower levels, until they reach level 0 and fire. Each timer moves at most once per
//! level, so insertion, cancellation and firing are all O(1) (amortised over the six levels), except
//! for timers due within the current millisecond, which cost O(log n) (below).
//!
//! # Storage
//!
//! Timers live in a slab (`entries`): a `Vec` of entries plus a free list, so a timer costs no
//! allocation once the slab has grown to its working size. Each slot is a doubly linked list of
//! entry indices, and each level keeps a 64-bit mask of non-empty slots, so finding the next
//! deadline is a few bit operations per level, not a scan.
//!
//! # Invariants
//!
//! - A [`TimerKey`] is owned by exactly one `Sleep`; it stays valid until that owner calls
//!   [`Wheel::remove`], also after the timer fired. So a key is never reused under its owner.
//! - Every timer in a slot of level `L < 5` has the same digits above `L` as `elapsed`, and a digit
//!   at `L` greater than `elapsed`'s: it is due later in the current slot of level `L + 1`. Every
//!   slot whose start is `<= elapsed` has been processed. So the first non-empty level holds the
//!   earliest slot, and below the top level the slot at the current position is always empty.
//! - The top level is a ring. A top-level slot after the current position starts in this
//!   rotation; a slot before it, *or at it*, starts in the next one. A timer further away than
//!   the wheel spans (`sleep(Duration::MAX)` is 584 years) is filed as if due at the end of the
//!   span, which lands at the current position or just before it: it is looked at once a
//!   rotation and cascaded again, never fired early. That is why [`Wheel::next_expiration`]
//!   searches each level starting *after* the current position: a timer of the next rotation
//!   must never hide an earlier slot of this one.
//! - A timer never fires before its deadline: [`Wheel::process`] fires an entry only when its own
//!   nanosecond `deadline <= now`; a slot being due only means its entries must be looked at.
//!
//! # The current millisecond
//!
//! A tick is a millisecond wide, but a timer should wake at its deadline, not up to a millisecond
//! later. So when a slot comes due, its timers that are due *later within the current tick* move
//! to the `near` heap (`near.rs`), ordered by their exact deadlines, and
//! [`Wheel::next_expiration`] reports the earliest of those to the nanosecond (the reactor then
//! waits on a `timerfd`, which is that precise). A timer inserted for the current tick goes there
//! directly. The heap makes the earliest one O(1) to find and any one O(log n) to fire or cancel,
//! however many timers share the millisecond.
//!
//! # How this is checked
//!
//! Besides the unit tests below, `wheel_model.rs` drives this wheel and a `BTreeMap` of
//! deadlines with the same random inserts, cancels, resets and clock advances over the whole
//! `Duration` range, and compares what fires and when.

use std::task::Waker;

use cashier_trace::{self as trace, Cause, Event};

use crate::clock::TICK_NS;
use crate::timer::near::NearHeap;
use crate::wakeups::Wakeups;

/// Bits of a tick that index one level's slots.
const SLOT_BITS: u32 = 6;
/// Slots per level.
pub(crate) const SLOTS: usize = 1 << SLOT_BITS;
/// Number of levels.
pub(crate) const LEVELS: usize = 6;
/// Ticks the wheel spans (one rotation of the top level); later deadlines are filed as if due at
/// the end of the span and cascaded again when it is reached.
const SPAN: u64 = 1 << (SLOT_BITS * LEVELS as u32);
/// The "no entry" index.
const NIL: u32 = u32::MAX;

/// Owner's handle to one timer: an index into the slab. Deliberately neither `Copy` nor `Clone`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TimerKey(u32);

impl TimerKey {
    /// The timer's number in the trace: its slab index (reused once the timer is removed).
    pub(crate) fn number(&self) -> u32 {
        self.0
    }
}

/// Result of [`Wheel::insert`].
#[derive(Debug)]
#[must_use]
pub(crate) enum Inserted {
    /// The timer waits in the wheel.
    Pending(TimerKey),
    /// The deadline has already passed: nothing was stored.
    Expired,
}

/// Where an entry of the slab is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Unused; links to the next free entry.
    Free { next_free: u32 },
    /// Waiting in `levels[level].slots[slot]`.
    Slot { level: u8, slot: u8 },
    /// Waiting in the `near` heap, at this position: due within the current tick.
    Near { position: u32 },
    /// Fired; kept until its owner removes it, so the key stays valid.
    Fired,
}

/// One timer.
struct Entry {
    /// Deadline, in nanoseconds since the clock's origin.
    deadline: u64,
    /// Woken when the timer fires.
    waker: Option<Waker>,
    /// Previous entry in the slot's list.
    prev: u32,
    /// Next entry in the slot's list.
    next: u32,
    /// Where the entry is.
    place: Place,
}

impl Entry {
    /// The tick (millisecond) the deadline falls in.
    fn tick(&self) -> u64 {
        self.deadline / TICK_NS
    }
}

/// One level: 64 slot lists and a mask of the non-empty ones.
struct Level {
    /// Bit `i` set when `heads[i]` is not `NIL`.
    occupied: u64,
    /// First entry of each slot's list.
    heads: [u32; SLOTS],
}

/// The timing wheel.
pub(crate) struct Wheel {
    /// The tick up to which time has been processed.
    elapsed: u64,
    /// The time (nanoseconds) of the last `process`: deadlines up to it have fired.
    processed: u64,
    /// Timers due within the current tick, by exact deadline (see the module doc).
    near: NearHeap,
    /// The levels, finest first.
    levels: [Level; LEVELS],
    /// The slab of timers.
    entries: Vec<Entry>,
    /// Head of the free list inside `entries`.
    free_head: u32,
    /// Entries in use (waiting or fired and not yet removed).
    live: usize,
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            processed: 0,
            near: NearHeap::default(),
            levels: std::array::from_fn(|_| Level { occupied: 0, heads: [NIL; SLOTS] }),
            entries: Vec::new(),
            free_head: NIL,
            live: 0,
        }
    }

    /// Number of timers stored (waiting, or fired and not yet removed by their owner).
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Stores a timer due at `deadline` (nanoseconds) that wakes `waker`.
    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> Inserted {
        if deadline <= self.processed {
            return Inserted::Expired;
        }
        let entry =
            Entry { deadline, waker: Some(waker), prev: NIL, next: NIL, place: Place::Fired };
        let index = self.allocate(entry);
        self.place(index);
        Inserted::Pending(TimerKey(index))
    }

    /// Whether the timer has fired.
    pub(crate) fn is_fired(&self, key: &TimerKey) -> bool {
        self.entries[key.0 as usize].place == Place::Fired
    }

    /// Makes a waiting timer wake `waker` instead (a task polled with a new waker).
    pub(crate) fn update_waker(&mut self, key: &TimerKey, waker: &Waker) {
        let entry = &mut self.entries[key.0 as usize];
        if !entry.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            entry.waker = Some(waker.clone());
        }
    }

    /// Moves a timer (waiting or fired) to a new deadline, keeping its waker. Returns `false`,
    /// leaving it fired, if `deadline` has already passed.
    pub(crate) fn reset(&mut self, key: &TimerKey, deadline: u64) -> bool {
        let index = key.0;
        self.unlink(index);
        self.entries[index as usize].deadline = deadline;
        if deadline <= self.processed {
            return false; // `unlink` left it `Fired`
        }
        self.place(index);
        true
    }

    /// Cancels (or releases, after firing) the timer; the key is consumed.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        let index = key.0;
        self.unlink(index);
        let entry = &mut self.entries[index as usize];
        entry.waker = None;
        entry.place = Place::Free { next_free: self.free_head };
        self.free_head = index;
        self.live -= 1;
    }

    /// The earliest time (nanoseconds) at which [`Wheel::process`] has work: the exact deadline
    /// of the nearest timer due in the current tick, or the start of the next non-empty slot
    /// (whose timers may then be cascaded rather than fired). Never later than the earliest
    /// deadline stored, and always after the last processed time.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        let near = self.near.peek().map(|(deadline, _)| deadline);
        let slot = self.next_slot().map(|(_, _, start)| start.saturating_mul(TICK_NS));
        match (near, slot) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The first `limit` timers still waiting (not fired), earliest first, as
    /// `(timer number, deadline)` pairs: for step mode's printout, never for the reactor's turn.
    /// A scan of the whole slab and a sort, O(n log n): a question the hot path never asks.
    pub(crate) fn waiting(&self, limit: usize) -> Vec<(u32, u64)> {
        let mut waiting: Vec<(u64, u32)> = (0u32..)
            .zip(&self.entries)
            .filter(|(_, entry)| matches!(entry.place, Place::Slot { .. } | Place::Near { .. }))
            .map(|(index, entry)| (entry.deadline, index))
            .collect();
        waiting.sort_unstable();
        waiting.truncate(limit);
        waiting.into_iter().map(|(deadline, index)| (index, deadline)).collect()
    }

    /// Advances time to `now` (nanoseconds), pushing the wakers of every timer due by then onto
    /// `fired`, in the order the slots and the near heap give them up.
    pub(crate) fn process(&mut self, now: u64, fired: &mut Wakeups) {
        let now_tick = now / TICK_NS;
        while let Some((level, slot, start)) = self.next_slot() {
            if start > now_tick {
                break;
            }
            self.elapsed = start;
            let head = &mut self.levels[level].heads[slot];
            let mut index = std::mem::replace(head, NIL);
            self.levels[level].occupied &= !(1 << slot);
            while index != NIL {
                let entry = &mut self.entries[index as usize];
                let next = entry.next;
                if entry.deadline <= now {
                    entry.place = Place::Fired;
                    fire(index, entry, fired);
                } else {
                    self.place(index); // cascade, or into `near` if due in the current tick
                }
                index = next;
            }
        }
        self.elapsed = self.elapsed.max(now_tick);
        self.processed = self.processed.max(now);
        while let Some((deadline, index)) = self.near.peek() {
            if deadline > now {
                break;
            }
            let entries = &mut self.entries;
            self.near
                .pop(|moved, position| entries[moved as usize].place = Place::Near { position });
            let entry = &mut self.entries[index as usize];
            entry.place = Place::Fired;
            fire(index, entry, fired);
        }
    }

    /// The earliest non-empty slot: `(level, slot, start tick)`.
    ///
    /// Each level is searched from the slot *after* the current position round to the current
    /// position itself, which comes last: below the top level it is always empty, and at the top
    /// it can only hold timers of the next rotation (see the module doc's invariants).
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        for (level, state) in self.levels.iter().enumerate() {
            if state.occupied == 0 {
                continue;
            }
            let shift = SLOT_BITS * level as u32;
            let position = ((self.elapsed >> shift) as usize) % SLOTS;
            let after = (position + 1) % SLOTS;
            let distance = state.occupied.rotate_right(after as u32).trailing_zeros() as usize;
            let slot = (after + distance) % SLOTS;
            let level_span = 1u64 << (shift + SLOT_BITS);
            let level_start = self.elapsed & !(level_span - 1);
            let mut start = level_start + ((slot as u64) << shift);
            if slot <= position {
                // Only the top level wraps: this slot's turn comes in the next rotation.
                debug_assert_eq!(level, LEVELS - 1, "a lower level never wraps");
                start += level_span;
            }
            return Some((level, slot, start));
        }
        None
    }

    /// Files entry `index`: in the `near` heap if it is due within the processed tick, else in
    /// the slot its tick maps to, relative to `elapsed`.
    fn place(&mut self, index: u32) {
        let entry = &self.entries[index as usize];
        let (tick, deadline) = (entry.tick(), entry.deadline);
        if tick <= self.elapsed {
            let entries = &mut self.entries;
            self.near.push((deadline, index), |moved, position| {
                entries[moved as usize].place = Place::Near { position }
            });
            return;
        }
        let (level, slot) = position(self.elapsed, tick);
        let head = self.levels[level].heads[slot];
        {
            let entry = &mut self.entries[index as usize];
            entry.prev = NIL;
            entry.next = head;
            entry.place = Place::Slot { level: level as u8, slot: slot as u8 };
        }
        if head != NIL {
            self.entries[head as usize].prev = index;
        }
        self.levels[level].heads[slot] = index;
        self.levels[level].occupied |= 1 << slot;
    }

    /// Takes entry `index` out of its slot or the near heap, if it is in one, leaving it `Fired`.
    fn unlink(&mut self, index: u32) {
        match self.entries[index as usize].place {
            Place::Near { position } => {
                let entries = &mut self.entries;
                let (_, removed) = self.near.remove(position, |moved, position| {
                    entries[moved as usize].place = Place::Near { position }
                });
                debug_assert_eq!(removed, index, "the near heap's positions are kept current");
            }
            Place::Slot { level, slot } => {
                let (level, slot) = (level as usize, slot as usize);
                let (prev, next) =
                    (self.entries[index as usize].prev, self.entries[index as usize].next);
                if prev == NIL {
                    self.levels[level].heads[slot] = next;
                    if next == NIL {
                        self.levels[level].occupied &= !(1 << slot);
                    }
                } else {
                    self.entries[prev as usize].next = next;
                }
                if next != NIL {
                    self.entries[next as usize].prev = prev;
                }
            }
            Place::Fired | Place::Free { .. } => return,
        }
        self.entries[index as usize].place = Place::Fired;
    }

    /// Takes a free entry (or grows the slab) for `entry`.
    fn allocate(&mut self, entry: Entry) -> u32 {
        self.live += 1;
        if self.free_head == NIL {
            let index = u32::try_from(self.entries.len()).expect("more than 4 billion timers");
            assert!(index != NIL, "more than 4 billion timers");
            self.entries.push(entry);
            return index;
        }
        let index = self.free_head;
        let slot = &mut self.entries[index as usize];
        let Place::Free { next_free } = slot.place else { unreachable!("free list corrupted") };
        self.free_head = next_free;
        *slot = entry;
        index
    }
}

/// Hands a due timer's waker to `fired`, and reports the firing when the turn is recorded.
fn fire(index: u32, entry: &mut Entry, fired: &mut Wakeups) {
    let deadline_ns = entry.deadline;
    if fired.is_recording() {
        trace::emit(|| Event::TimerFired { timer: index, deadline_ns });
    }
    fired.push(entry.waker.take(), || Cause::Timer { timer: index, deadline_ns });
}

/// The level and slot for a timer due at tick `when`, seen from tick `elapsed`. A tick further
/// than the wheel spans is filed as the last tick it spans (see the module doc).
fn position(elapsed: u64, when: u64) -> (usize, usize) {
    let when = when.min(elapsed + SPAN - 1);
    let differing = (elapsed ^ when) | (SLOTS as u64 - 1);
    let highest_bit = 63 - differing.leading_zeros();
    let level = ((highest_bit / SLOT_BITS) as usize).min(LEVELS - 1);
    let slot = ((when >> (SLOT_BITS * level as u32)) as usize) % SLOTS;
    (level, slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `t` milliseconds, in the wheel's nanoseconds.
    fn ms(t: u64) -> u64 {
        t * TICK_NS
    }

    fn fired_count(wheel: &mut Wheel, now: u64) -> usize {
        let mut fired = Wakeups::default();
        wheel.process(now, &mut fired);
        fired.len()
    }

    fn key(inserted: Inserted) -> TimerKey {
        match inserted {
            Inserted::Pending(key) => key,
            Inserted::Expired => panic!("expected a pending timer"),
        }
    }

    #[test]
    fn a_timer_costs_forty_bytes_of_slab() {
        // Deadline, waker, list links, place: what BENCHMARKS.md's memory figures count.
        assert_eq!(std::mem::size_of::<Entry>(), 40);
    }

    #[test]
    fn levels_follow_the_distance_to_the_deadline() {
        assert_eq!(position(0, 1), (0, 1));
        assert_eq!(position(0, 63), (0, 63));
        assert_eq!(position(0, 64), (1, 1));
        assert_eq!(position(0, 4095), (1, 63));
        assert_eq!(position(0, 4096), (2, 1));
        assert_eq!(position(100, 101), (0, 101 % 64));
        assert_eq!(position(0, u64::MAX).0, LEVELS - 1, "far deadlines clamp to the top");
    }

    #[test]
    fn timers_fire_at_their_deadline_never_before() {
        let mut wheel = Wheel::new();
        for deadline in [
            ms(1),
            ms(5),
            ms(63),
            ms(64),
            ms(65),
            ms(700),
            ms(4096),
            ms(5000) + 1,
            ms(300_000) + 999_999,
        ] {
            let key = key(wheel.insert(deadline, Waker::noop().clone()));
            assert_eq!(fired_count(&mut wheel, deadline - 1), 0, "not 1 ns before {deadline}");
            assert!(!wheel.is_fired(&key));
            assert_eq!(wheel.next_expiration(), Some(deadline), "the next expiration is exact");
            assert_eq!(fired_count(&mut wheel, deadline), 1, "at {deadline}");
            assert!(wheel.is_fired(&key));
            wheel.remove(key);
        }
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn sub_millisecond_deadlines_wait_in_the_near_list() {
        let mut wheel = Wheel::new();
        let a = key(wheel.insert(1_500_000, Waker::noop().clone())); // 1.5 ms
        let b = key(wheel.insert(1_200_000, Waker::noop().clone())); // 1.2 ms
        assert_eq!(fired_count(&mut wheel, 1_000_000), 0, "tick 1 begins: both move near");
        assert_eq!(wheel.next_expiration(), Some(1_200_000));
        assert_eq!(fired_count(&mut wheel, 1_200_000), 1);
        assert!(wheel.is_fired(&b) && !wheel.is_fired(&a));
        assert_eq!(wheel.next_expiration(), Some(1_500_000));
        let c = key(wheel.insert(1_300_000, Waker::noop().clone())); // inserted into the current tick
        wheel.remove(c); // cancelled from the near list
        assert_eq!(fired_count(&mut wheel, 1_500_000), 1);
        wheel.remove(a);
        wheel.remove(b);
        assert_eq!((wheel.len(), wheel.next_expiration()), (0, None));
    }

    #[test]
    fn a_deadline_in_the_past_is_expired_at_once() {
        let mut wheel = Wheel::new();
        wheel.process(ms(10), &mut Wakeups::default());
        assert!(matches!(wheel.insert(ms(10), Waker::noop().clone()), Inserted::Expired));
        assert!(matches!(wheel.insert(ms(3), Waker::noop().clone()), Inserted::Expired));
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn cancelled_timers_free_their_entries_for_reuse() {
        let mut wheel = Wheel::new();
        let keys: Vec<_> =
            (1..=1000).map(|t| key(wheel.insert(ms(t * 37), Waker::noop().clone()))).collect();
        assert_eq!(wheel.len(), 1000);
        for key in keys {
            wheel.remove(key);
        }
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.next_expiration(), None);
        assert!(wheel.levels.iter().all(|l| l.occupied == 0 && l.heads.iter().all(|&h| h == NIL)));
        let reused = key(wheel.insert(ms(5), Waker::noop().clone()));
        assert!(reused.0 < 1000, "a free entry was reused");
    }

    #[test]
    fn a_deadline_beyond_the_span_waits_at_the_top_and_still_fires_on_time() {
        let mut wheel = Wheel::new();
        let deadline = ms(SPAN + 12_345) + 7;
        let key = key(wheel.insert(deadline, Waker::noop().clone()));
        let mut now = 0;
        while let Some(next) = wheel.next_expiration() {
            assert!(next > now, "time moves forward");
            now = next;
            if fired_count(&mut wheel, now) == 1 {
                break;
            }
        }
        assert_eq!(now, deadline);
        assert!(wheel.is_fired(&key));
    }

    #[test]
    fn a_timer_beyond_the_span_does_not_hide_an_earlier_top_level_slot() {
        // The shrunk case: a 25.5-day timer in top-level slot 2, then a 16-year timer, filed at
        // the end of the span, which lands in the slot at the current position. The search must
        // not stop at the far one (distance 0) and leave slot 2 for the next rotation.
        let mut wheel = Wheel::new();
        let day = ms(86_400_000);
        let near = key(wheel.insert(day * 51 / 2, Waker::noop().clone()));
        assert_eq!(fired_count(&mut wheel, ms(1_200)), 0);
        let far = key(wheel.insert(day * 365 * 16, Waker::noop().clone()));
        assert_eq!(fired_count(&mut wheel, ms(1_200)), 0);
        let next = wheel.next_expiration().expect("two timers wait");
        assert!(next <= day * 51 / 2, "next expiration {next} is after the 25.5-day deadline");
        let mut now = ms(1_200);
        while !wheel.is_fired(&near) {
            now = wheel.next_expiration().expect("the near timer waits");
            fired_count(&mut wheel, now);
        }
        assert_eq!(now, day * 51 / 2, "fired at its deadline, not a rotation later");
        assert!(!wheel.is_fired(&far));
        wheel.remove(near);
        wheel.remove(far);
    }

    #[test]
    fn a_duration_max_deadline_is_looked_at_once_a_rotation_and_never_fires() {
        let mut wheel = Wheel::new();
        let forever = key(wheel.insert(u64::MAX, Waker::noop().clone()));
        let mut now = 0;
        for _ in 0..3 {
            let next = wheel.next_expiration().expect("it waits");
            assert!(next > now && next - now <= ms(SPAN), "at most one rotation ahead");
            now = next;
            assert_eq!(fired_count(&mut wheel, now), 0);
        }
        assert!(!wheel.is_fired(&forever));
        wheel.remove(forever);
    }

    #[test]
    fn waiting_lists_unfired_timers_earliest_first_up_to_the_limit() {
        let mut wheel = Wheel::new();
        let late = key(wheel.insert(ms(700), Waker::noop().clone()));
        let early = key(wheel.insert(ms(3), Waker::noop().clone()));
        let middle = key(wheel.insert(ms(64), Waker::noop().clone()));
        assert_eq!(wheel.waiting(10), [(1, ms(3)), (2, ms(64)), (0, ms(700))]);
        assert_eq!(wheel.waiting(2), [(1, ms(3)), (2, ms(64))], "bounded");
        fired_count(&mut wheel, ms(3));
        assert_eq!(wheel.waiting(10), [(2, ms(64)), (0, ms(700))], "a fired timer is not waiting");
        for key in [late, early, middle] {
            wheel.remove(key);
        }
        assert!(wheel.waiting(10).is_empty());
    }

    #[test]
    fn reset_moves_a_timer() {
        let mut wheel = Wheel::new();
        let key = key(wheel.insert(ms(100), Waker::noop().clone()));
        assert!(wheel.reset(&key, ms(10)));
        assert_eq!(fired_count(&mut wheel, ms(10)), 1);
        assert!(wheel.reset(&key, ms(50)), "a fired timer can be re-armed");
        wheel.update_waker(&key, Waker::noop()); // firing took the waker; the owner's next poll gives one
        assert_eq!(fired_count(&mut wheel, ms(50) - 1), 0);
        assert_eq!(fired_count(&mut wheel, ms(50)), 1);
        assert!(!wheel.reset(&key, ms(20)), "the past fires at once");
        assert!(wheel.is_fired(&key));
        wheel.remove(key);
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn stepping_through_next_expiration_fires_everything_in_order() {
        // Pseudo-random deadlines to the nanosecond (a fixed LCG), stepped the way a paused clock
        // steps: every timer fires exactly at its deadline, in deadline order.
        let mut wheel = Wheel::new();
        let mut state = 12345u64;
        let mut deadlines = Vec::new();
        for _ in 0..5000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let deadline = 1 + (state >> 20) % ms(1_000_000);
            deadlines.push(deadline);
            let _ = key(wheel.insert(deadline, Waker::noop().clone()));
        }
        deadlines.sort_unstable();
        let mut fired_at = Vec::new();
        while let Some(next) = wheel.next_expiration() {
            let n = fired_count(&mut wheel, next);
            fired_at.extend(std::iter::repeat_n(next, n));
        }
        assert_eq!(fired_at, deadlines);
    }
}
