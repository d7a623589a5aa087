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

mod support;

fn paused() -> Runtime {
    Runtime::builder().start_paused(true).build().expect("runtime")
}

#[test]
fn ten_thousand_sleeps_fire_in_deadline_order_and_none_early() {
    let runtime = paused();
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

#[cashier::test(start_paused = true)]
async fn sub_millisecond_deadlines_fire_exactly_never_early() {
    let start = now();
    sleep(Duration::from_micros(1500)).await;
    assert_eq!(now() - start, Duration::from_micros(1500), "to the nanosecond, not the next tick");
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
}

#[test]
fn sleeps_of_zero_and_in_the_past_complete_without_waiting() {
    let runtime = paused();
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
    let runtime = paused();
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
    let runtime = paused();
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

#[cashier::test(start_paused = true)]
async fn an_interval_ticks_61_times_in_a_virtual_minute() {
    let start = now();
    let mut metronome = interval(Duration::from_secs(1));
    let mut ticks = 0;
    while metronome.tick().await - start <= Duration::from_secs(60) {
        ticks += 1;
    }
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

#[cashier::test(start_paused = true)]
async fn the_paused_clock_does_not_jump_while_a_to_thread_job_runs() {
    // tokio-rs/tokio#4614: a paused clock must not fire a timeout because the runtime looks idle
    // while blocking work is in flight. The job takes real time; virtual time stays put.
    let start = now();
    let job = to_thread(|| {
        std::thread::sleep(Duration::from_millis(30));
        "done"
    });
    let result = timeout(Duration::from_millis(10), job).await;
    assert_eq!(result.expect("the timeout did not fire during the job").unwrap(), "done");
    assert_eq!(now(), start, "no virtual time passed");
}

#[test]
fn advance_moves_the_clock_by_hand() {
    let runtime = paused();
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

#[cashier::test]
async fn a_real_sleep_is_not_early() {
    let start = Instant::now();
    sleep(Duration::from_millis(20)).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[test]
fn timers_outside_a_runtime_panic_with_the_fix() {
    let payload = std::panic::catch_unwind(|| sleep(Duration::from_secs(1))).unwrap_err();
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("`sleep` needs a cashier runtime"), "{message}");
    assert!(message.contains("cashier::run"), "{message}");
}

/// 2^30 milliseconds: the span of one slot of the timing wheel's top level (12.4 days).
const TOP_SLOT: Duration = Duration::from_millis(1 << 30);

#[cashier::test(start_paused = true)]
async fn a_forever_sleep_does_not_delay_a_ten_second_one_near_a_top_slot_boundary() {
    // A `sleep(Duration::MAX)` is filed in the wheel's top level at the current position (once
    // the clock is past 0); the search for the next slot must not let it hide the slot that a
    // later 10 s sleep lands in, across the boundary.
    sleep(Duration::from_millis(1)).await;
    let forever = spawn(sleep(Duration::MAX));
    cashier::yield_now().await; // it registers its timer
    sleep(TOP_SLOT - Duration::from_secs(5) - Duration::from_millis(1)).await;
    let before = now();
    sleep(Duration::from_secs(10)).await;
    assert_eq!(now() - before, Duration::from_secs(10), "not a wheel rotation later");
    assert!(!forever.is_finished());
    forever.abort();
}

#[cashier::test(start_paused = true)]
async fn a_forever_sleep_does_not_delay_a_thirteen_day_one() {
    sleep(Duration::from_millis(1)).await;
    let forever = spawn(sleep(Duration::MAX));
    cashier::yield_now().await;
    let before = now();
    sleep(Duration::from_secs(13 * 86_400)).await;
    assert_eq!(now() - before, Duration::from_secs(13 * 86_400), "not 808 days");
    forever.abort();
}

#[cashier::test(start_paused = true)]
async fn sleep_and_timeout_of_duration_max_never_end_even_on_a_clock_forty_years_on() {
    // The deadline of a `Duration::MAX` sleep is taken on the runtime's clock, saturating 584
    // years on; it once was "real now + 30 years", which a paused clock can pass.
    let start = now();
    let forever = spawn(sleep(Duration::MAX));
    let timed = spawn(timeout(Duration::MAX, std::future::pending::<()>()));
    let probe = sleep(Duration::MAX);
    cashier::yield_now().await;
    sleep(Duration::from_secs(40 * 365 * 86_400)).await;
    cashier::yield_now().await;
    assert!(!forever.is_finished(), "sleep(Duration::MAX) completed after 40 years");
    assert!(!timed.is_finished(), "timeout(Duration::MAX, pending()) elapsed after 40 years");
    assert!(!probe.is_elapsed());
    assert!(probe.deadline() - start > Duration::from_secs(500 * 365 * 86_400));
    forever.abort();
    timed.abort();
}

#[cashier::test]
async fn a_duration_max_sleep_on_the_real_clock_lets_the_reactor_wait_for_others() {
    // The reactor's wait is computed from a deadline 584 years away without overflow, and a
    // nearer timer still ends it.
    let winner = cashier::race(vec![
        Box::pin(sleep(Duration::MAX)) as Pin<Box<dyn std::future::Future<Output = ()>>>,
        Box::pin(sleep(Duration::from_millis(1))),
    ])
    .await;
    assert_eq!(winner.0, 1);
    assert_eq!(timeout(Duration::MAX, async { 7 }).await, Ok(7));
}

#[test]
fn a_job_that_ends_before_its_future_is_polled_does_not_hang_the_paused_clock() {
    // The job is still running when the reactor decides to wait for it (it sleeps 50 ms for
    // real); it ends while its `ToThread` future has never been polled, so no task waker exists:
    // the pool itself must end the reactor's wait.
    let elapsed = within_a_watchdog(|| {
        let runtime = paused();
        runtime.block_on(async {
            let job = to_thread(|| {
                std::thread::sleep(Duration::from_millis(50));
                5
            });
            let start = now();
            sleep(Duration::from_millis(10)).await;
            let elapsed = now() - start;
            assert_eq!(job.await.unwrap(), 5);
            elapsed
        })
    });
    assert_eq!(elapsed, Duration::from_millis(10), "virtual time waited for the job, then jumped");
}

#[test]
fn a_job_whose_future_was_dropped_does_not_hang_the_paused_clock() {
    let elapsed = within_a_watchdog(|| {
        let runtime = paused();
        runtime.block_on(async {
            drop(to_thread(|| std::thread::sleep(Duration::from_millis(50))));
            let start = now();
            sleep(Duration::from_millis(10)).await;
            now() - start
        })
    });
    assert_eq!(elapsed, Duration::from_millis(10));
}

/// Fails the test if the runtime has not returned within 60 s of real time (`support`): only a
/// paused clock waiting forever takes that long.
fn within_a_watchdog<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    support::within_a_watchdog(
        "the runtime (a paused clock waiting forever?)",
        Duration::from_secs(60),
        f,
    )
}

/// Where the last panic on this thread was raised, recorded by a hook installed once.
fn panic_location_of(f: impl FnOnce()) -> (String, String) {
    use std::cell::RefCell;
    use std::sync::Once;
    thread_local! {
        static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
    }
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let recorded = LAST.with(|last| {
                let mut last = last.borrow_mut();
                if last.is_some() {
                    *last = info.location().map(|l| l.file().to_owned());
                    true
                } else {
                    false
                }
            });
            if !recorded {
                previous(info);
            }
        }));
    });
    LAST.with(|last| *last.borrow_mut() = Some(String::new()));
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
    let file = LAST.with(|last| last.borrow_mut().take()).unwrap_or_default();
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    (file, message)
}

#[test]
fn misuse_outside_a_runtime_panics_at_the_callers_line_naming_the_call() {
    let far = Instant::now() + Duration::from_secs(1);
    /// A call that must panic, and the name its message must give.
    type Misuse = (&'static str, Box<dyn FnOnce()>);
    let cases: Vec<Misuse> = vec![
        ("sleep", Box::new(|| drop(sleep(Duration::from_secs(1))))),
        ("sleep_until", Box::new(move || drop(sleep_until(far)))),
        ("timeout", Box::new(|| drop(timeout(Duration::from_secs(1), async {})))),
        ("timeout_at", Box::new(move || drop(cashier::time::timeout_at(far, async {})))),
        ("interval", Box::new(|| drop(interval(Duration::from_secs(1))))),
        ("to_thread", Box::new(|| drop(to_thread(|| ())))),
        (
            "now",
            Box::new(|| {
                now();
            }),
        ),
    ];
    for (name, call) in cases {
        let (file, message) = panic_location_of(call);
        assert!(message.contains(&format!("`{name}` needs a cashier runtime")), "{message}");
        assert!(file.ends_with("timers.rs"), "`{name}` panicked at {file}, not at the caller");
    }
}
