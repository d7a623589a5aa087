//! The runtime's metrics, each count checked against a program whose events are known: three
//! tasks spawned at once, a timeout whose future wins (a timer cancelled), a `to_thread` job
//! (a wake from another thread), all on the paused clock.

use std::time::Duration;

use cashier::Runtime;

fn watched() -> Runtime {
    Runtime::builder().start_paused(true).metrics(true).build().unwrap()
}

#[test]
fn every_count_matches_what_the_program_did() {
    let runtime = watched();
    runtime.block_on(async {
        // Three tasks queued at once: the run queue's longest.
        let naps: Vec<_> =
            (1..=3).map(|s| cashier::spawn(cashier::sleep(Duration::from_secs(s)))).collect();
        for nap in naps {
            nap.await.unwrap();
        }
        // The future wins: its 10 s timer is armed, then dropped unfired.
        let won = cashier::timeout(Duration::from_secs(10), async { 7 }).await;
        assert_eq!(won, Ok(7));
        // A wake from the pool's thread, of a spawned task (a wake of `#0 main` from another
        // thread only sets its flag: no record tells it). The job waits for `go`, sent once
        // its task has handed it over and returned `Pending`: the wake cannot come before.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let job = cashier::spawn(async move {
            cashier::to_thread(move || wait.recv().map(|()| 2 + 2)).await.unwrap()
        });
        cashier::yield_now().await; // the job's task runs first
        go.send(()).unwrap();
        assert_eq!(job.await.unwrap(), Ok(4));
    });
    let metrics = runtime.metrics();
    let events = metrics.events.expect("watched");
    assert_eq!((events.spawned, events.completed), (4, 4));
    assert_eq!(events.max_run_queue, 3, "the three spawns queued before any ran");
    assert_eq!(events.timers_armed, 3, "the three naps; the timeout's future won at once");
    assert_eq!(events.timers_fired, 3);
    assert_eq!(metrics.reactor.timers_fired, 3, "the reactor's count agrees with the events'");
    assert_eq!(metrics.timers_cancelled(), Some(0));
    assert_eq!((events.jobs_submitted, events.jobs_finished), (1, 1));
    assert_eq!(events.remote_wakes, 1, "the job's end woke its task from the pool thread");
    assert_eq!(events.parked, Duration::from_secs(3), "the clock jumped 1 s three times");
    // One turn jumped per nap (each counts once, whatever wheel slots it passed).
    assert_eq!(metrics.reactor.clock_jumps, 3);
    assert_eq!(metrics.live_tasks, 0);
    let polls: Vec<u64> = metrics.task_rows().iter().map(|row| row.polls).collect();
    assert_eq!(polls, [2, 2, 2, 2], "each: polled, then woken by its timer or job, polled again");
}

#[test]
fn a_timer_dropped_before_it_fires_is_counted_cancelled() {
    let runtime = watched();
    runtime.block_on(async {
        let slow = cashier::sleep(Duration::from_secs(5));
        let quick = cashier::sleep(Duration::from_secs(1));
        // `select` polls both (both armed), the quick one fires, the slow one is dropped.
        cashier::select(Box::pin(slow), Box::pin(quick)).await;
    });
    let metrics = runtime.metrics();
    let events = metrics.events.unwrap();
    assert_eq!((events.timers_armed, events.timers_fired), (2, 1));
    assert_eq!(metrics.timers_waiting, 0, "the slow one left the wheel when dropped");
    assert_eq!(metrics.timers_cancelled(), Some(1));
}

#[test]
fn unwatched_the_metrics_say_what_they_cannot_count() {
    // Unwatched whatever `CASHIER_DEBUG` and `CASHIER_TRACE` say (CI runs the suite once with
    // `CASHIER_DEBUG=1`).
    let builder = Runtime::builder().start_paused(true).debug_checks(false);
    let runtime = builder.trace(cashier::Trace::new()).build().unwrap();
    runtime.block_on(async { cashier::sleep(Duration::from_secs(1)).await });
    let metrics = runtime.metrics();
    assert_eq!(metrics.reactor.timers_fired, 1);
    assert!(metrics.reactor.idle_turns >= 1, "parked while the sleep waited");
    assert_eq!((metrics.events, metrics.tasks.as_ref()), (None, None));
    let text = metrics.to_string();
    assert!(text.contains("1 fired"), "{text}");
    assert!(text.contains("— armed") || text.contains("timers       — armed"), "{text}");
    assert!(text.contains("Runtime::builder().metrics(true)"), "{text}");
}
