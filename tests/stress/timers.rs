//! A hundred thousand sleeps on the paused clock (full scale), at deadlines drawn from a fixed
//! seed: each must fire at its deadline, never before, and in deadline order.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use cashier::{Runtime, now, sleep, sleep_until, spawn, yield_now};

use crate::harness::Scale;

/// Deadlines are drawn in `0..SPAN` milliseconds from the start: a day, so that they land in
/// levels 0 to 4 of the timer wheel's six (a slot of level 4 spans 2^24 ms, 4.7 h) and cascade
/// down through the lower ones; a few dozen deadlines repeat at full scale.
const SPAN: u64 = 86_400_000;

/// Sleeps spawned per poll of the main future.
const SPAWN_CHUNK: usize = 1_000;

pub fn run(scale: &Scale) -> String {
    let runtime = Runtime::builder().start_paused(true).build().expect("runtime");
    let fired = Rc::new(RefCell::new(Vec::with_capacity(scale.timers)));
    let mut rng = fastrand::Rng::with_seed(100_000);
    runtime.block_on(async {
        let start = now();
        let mut handles = Vec::with_capacity(scale.timers);
        for n in 0..scale.timers {
            let deadline = start + Duration::from_millis(rng.u64(0..SPAN));
            let fired = fired.clone();
            handles.push(spawn(async move {
                // Half by deadline, half by duration: the clock is paused, and does not move
                // while any task can run, so every sleep is first polled at `start`.
                if n % 2 == 0 {
                    sleep_until(deadline).await;
                } else {
                    sleep(deadline - now()).await;
                }
                fired.borrow_mut().push((deadline, now()));
            }));
            if n % SPAWN_CHUNK == 0 {
                // A poll that spawns them all would take long enough in a debug build to trip
                // the debug checks' slow-poll warning (CI runs this with `CASHIER_DEBUG=1`).
                yield_now().await;
            }
        }
        for handle in handles {
            handle.await.expect("a sleeper");
        }
    });
    let fired = fired.borrow();
    assert_eq!(fired.len(), scale.timers, "every sleep fired");
    for (n, (deadline, at)) in fired.iter().enumerate() {
        assert!(at >= deadline, "sleep #{n} woke {:?} early", *deadline - *at);
        assert_eq!(at, deadline, "on a paused clock a sleep wakes exactly at its deadline");
    }
    for (n, pair) in fired.windows(2).enumerate() {
        assert!(pair[0].0 <= pair[1].0, "sleeps #{n} and #{} fired out of deadline order", n + 1);
    }
    assert_eq!(runtime.timer_count(), 0, "no timer left in the wheel");
    assert_eq!(runtime.reactor_stats().timers_fired, scale.timers as u64);
    assert_eq!(runtime.alive_tasks(), 0);
    let stats = runtime.reactor_stats();
    format!(
        "{} sleeps over {} h of paused clock fired in deadline order, none early ({} clock \
         jumps, {} reactor turns)",
        stats.timers_fired,
        SPAN / 3_600_000,
        stats.clock_jumps,
        stats.turns
    )
}
