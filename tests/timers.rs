//! Timers on the paused clock: exact, instant, deterministic. One smoke test uses the real clock,
//! and only checks that a sleep is not early.

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use cashier::time::{Elapsed, MissedTicks, interval, sleep, sleep_until, timeout};
use cashier::{Runtime, now, spawn, to_thread};

fn paused() -> Runtime {
    Runtime::builder().start_paused(true).build().expect("runtime")
}

#[test]
fn ten_thousand_sleeps_fire_in_deadline_order_and_none_early() {
    let mut runtime = paused();
    let fired = Rc::new(RefCell::new(Vec::new()));
    let mut rng = fastrand::Rng::with_seed(7);
    runtime.block_on(async {
        let start = now();
        let handles: Vec<_> = (0..10_000)
            .map(|_| {
                let deadline = start + Duration::from_millis(rng.u64(0..100_000));
                let fired = fired.clone();
                spawn(async move {
                    sleep_until(deadline).await;
                    fired.borrow_mut().push((deadline, now()));
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let fired = fired.borrow();
    assert_eq!(fired.len(), 10_000);
    for (deadline, at) in fired.iter() {
        assert_eq!(at, deadline, "on a paused clock a sleep wakes exactly at its deadline");
    }
    assert!(fired.windows(2).all(|w| w[0].0 <= w[1].0), "fired in deadline order");
    assert_eq!(runtime.timer_count(), 0);
}

#[test]
fn sub_millisecond_deadlines_fire_exactly_never_early() {
    let mut runtime = paused();
    runtime.block_on(async {
        let start = now();
        sleep(Duration::from_micros(1500)).await;
        assert_eq!(
            now() - start,
            Duration::from_micros(1500),
            "to the nanosecond, not the next tick"
        );
        let start = now();
        let (a, b) = cashier::gather!(
            async {
                sleep(Duration::from_nanos(300)).await;
                now() - start
            },
            async {
                sleep(Duration::from_nanos(200)).await;
                now() - start
            },
        )
        .await;
        assert_eq!((a, b), (Duration::from_nanos(300), Duration::from_nanos(200)));
    });
}

#[test]
fn sleeps_of_zero_and_in_the_past_complete_without_waiting() {
    let mut runtime = paused();
    runtime.block_on(async {
        let start = now();
        sleep(Duration::ZERO).await;
        sleep_until(start - Duration::from_secs(1)).await;
        assert_eq!(now(), start, "no time passed");
    });
    assert_eq!(runtime.reactor_stats().clock_jumps, 0);
}

#[test]
fn timeout_fires_at_its_deadline_and_cancels_the_future() {
    let mut runtime = paused();
    runtime.block_on(async {
        let start = now();
        let result = timeout(Duration::from_millis(10), sleep(Duration::from_secs(3600))).await;
        let error: Elapsed = result.unwrap_err();
        assert_eq!(error.to_string(), "deadline has elapsed");
        assert_eq!(error.deadline() - start, Duration::from_millis(10));
        assert_eq!(now() - start, Duration::from_millis(10));
        let io_error: std::io::Error = error.into();
        assert_eq!(io_error.kind(), std::io::ErrorKind::TimedOut);
    });
    assert_eq!(
        runtime.timer_count(),
        0,
        "both the timeout's and the inner sleep's entries are gone"
    );
    runtime.block_on(async {
        let start = now();
        let out = timeout(Duration::from_millis(10), async {
            sleep(Duration::from_millis(4)).await;
            "in time"
        })
        .await;
        assert_eq!(out, Ok("in time"));
        assert_eq!(now() - start, Duration::from_millis(4));
    });
}

#[test]
fn dropping_100k_pending_sleeps_empties_the_wheel() {
    let mut runtime = paused();
    runtime.block_on(async {
        let mut sleeps: Vec<_> =
            (0..100_000).map(|i| sleep(Duration::from_secs(3600 + i))).collect();
        poll_fn(|cx| {
            for sleep in &mut sleeps {
                assert!(Pin::new(sleep).poll(cx).is_pending());
            }
            Poll::Ready(())
        })
        .await;
    });
    assert_eq!(runtime.timer_count(), 0, "every dropped sleep freed its entry");
    runtime.block_on(async {
        let sleeps: Vec<_> = (0..1_000).map(|_| Box::pin(sleep(Duration::from_secs(60)))).collect();
        let mut sleeps = sleeps;
        poll_fn(|cx| {
            for sleep in &mut sleeps {
                let _ = sleep.as_mut().poll(cx);
            }
            Poll::Ready(())
        })
        .await;
        assert_eq!(cashier_timer_count(), 1_000);
        drop(sleeps);
    });
    assert_eq!(runtime.timer_count(), 0);
}

/// The wheel's population, asked from inside `block_on`, where the `Runtime` is borrowed.
fn cashier_timer_count() -> usize {
    cashier::cashier_reactor::Handle::current("timer_count").timer_count()
}

#[test]
fn an_interval_ticks_61_times_in_a_virtual_minute() {
    let mut runtime = paused();
    let ticks = runtime.block_on(async {
        let start = now();
        let mut metronome = interval(Duration::from_secs(1));
        let mut ticks = 0;
        while metronome.tick().await - start <= Duration::from_secs(60) {
            ticks += 1;
        }
        ticks
    });
    assert_eq!(ticks, 61, "at 0 s, 1 s, ..., 60 s");
}

/// Ticks of an interval whose task is busy for 3.5 periods after its second tick.
fn ticks_with_a_stall(missed: MissedTicks) -> Vec<u64> {
    paused().block_on(async move {
        let start = now();
        let mut metronome = interval(Duration::from_secs(1));
        metronome.set_missed_ticks(missed);
        let mut at = Vec::new();
        for i in 0..6 {
            metronome.tick().await;
            at.push((now() - start).as_millis() as u64);
            if i == 1 {
                sleep(Duration::from_millis(3500)).await; // the task is busy elsewhere
            }
        }
        at
    })
}

#[test]
fn missed_ticks_burst_delay_or_skip() {
    // Burst: the missed ticks (at 2 s, 3 s, 4 s) complete at once at 4.5 s, then the grid holds.
    assert_eq!(ticks_with_a_stall(MissedTicks::Burst), [0, 1000, 4500, 4500, 4500, 5000]);
    // Delay: the next tick is one period after the late one.
    assert_eq!(ticks_with_a_stall(MissedTicks::Delay), [0, 1000, 4500, 5500, 6500, 7500]);
    // Skip: the missed ticks are dropped; the next one is back on the grid.
    assert_eq!(ticks_with_a_stall(MissedTicks::Skip), [0, 1000, 4500, 5000, 6000, 7000]);
}

#[test]
fn the_paused_clock_does_not_jump_while_a_to_thread_job_runs() {
    // tokio-rs/tokio#4614: a paused clock must not fire a timeout because the runtime looks idle
    // while blocking work is in flight. The job takes real time; virtual time stays put.
    let mut runtime = paused();
    runtime.block_on(async {
        let start = now();
        let job = to_thread(|| {
            std::thread::sleep(Duration::from_millis(30));
            "done"
        });
        let result = timeout(Duration::from_millis(10), job).await;
        assert_eq!(result.expect("the timeout did not fire during the job").unwrap(), "done");
        assert_eq!(now(), start, "no virtual time passed");
    });
}

#[test]
fn advance_moves_the_clock_by_hand() {
    let mut runtime = paused();
    let t0 = runtime.block_on(async { now() });
    let sleeper = runtime.spawn(async move {
        sleep_until(t0 + Duration::from_secs(5)).await;
        now() - t0
    });
    runtime.block_on(cashier::yield_now()); // the sleeper registers its timer
    runtime.advance(Duration::from_secs(2));
    assert_eq!(runtime.block_on(async { now() }) - t0, Duration::from_secs(2));
    assert_eq!(
        runtime.block_on(sleeper).unwrap(),
        Duration::from_secs(5),
        "its deadline did not move"
    );
}

#[test]
fn a_real_sleep_is_not_early() {
    cashier::run(async {
        let start = Instant::now();
        sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn timers_outside_a_runtime_panic_with_the_fix() {
    let payload = std::panic::catch_unwind(|| sleep(Duration::from_secs(1))).unwrap_err();
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("`sleep` needs a cashier runtime"), "{message}");
    assert!(message.contains("cashier::run"), "{message}");
}
