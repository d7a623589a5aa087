//! `to_thread`: blocking work on the pool, results and panics back through the awaiting task.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cashier::{Runtime, spawn, to_thread};

#[cashier::test]
async fn sixty_four_blocking_jobs_return_their_results() {
    let handles: Vec<_> = (0..64u64)
        .map(|i| {
            spawn(async move {
                to_thread(move || {
                    std::thread::sleep(Duration::from_millis(1));
                    i * i
                })
                .await
                .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    assert_eq!(results, (0..64u64).map(|i| i * i).collect::<Vec<_>>());
}

#[cashier::test]
async fn a_panicking_job_is_an_error_not_a_crash() {
    let error = to_thread(|| -> u32 { panic!("the kitchen is on fire") }).await.unwrap_err();
    assert_eq!(error.to_string(), "blocking job panicked: the kitchen is on fire");
    // The pool still works.
    assert_eq!(to_thread(|| 5).await.unwrap(), 5);
}

#[test]
fn pool_threads_wake_the_runtime_no_polling_loop() {
    let runtime = Runtime::new().unwrap();
    let before = runtime.reactor_stats().turns;
    runtime.block_on(async {
        to_thread(|| std::thread::sleep(Duration::from_millis(50))).await.unwrap();
    });
    let turns = runtime.reactor_stats().turns - before;
    // The runtime parks once and is woken by the pool thread; a polling loop would turn many times.
    assert!(turns <= 3, "the reactor turned {turns} times while waiting for one job");
}

#[test]
fn jobs_beyond_the_thread_limit_wait_their_turn() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let runtime = Runtime::builder().max_blocking_threads(2).build().unwrap();
    runtime.block_on(async {
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                to_thread(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
    });
    assert!(most.load(Ordering::SeqCst) <= 2, "never more than the limit at once");
}

#[test]
fn to_thread_outside_a_runtime_panics_with_the_fix() {
    let payload = std::panic::catch_unwind(|| to_thread(|| 1)).unwrap_err();
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("`to_thread` needs a cashier runtime"), "{message}");
}

#[test]
fn idle_pool_threads_exit_after_their_keep_alive() {
    let runtime =
        Runtime::builder().blocking_keep_alive(Duration::from_millis(20)).build().unwrap();
    // A thread is counted while it holds a job the test controls (not "soon after a job ended",
    // which a slow machine, valgrind, could already be past the keep-alive of).
    let (release, released) = std::sync::mpsc::channel::<()>();
    let threads_while_busy = runtime.block_on(async {
        let job = to_thread(move || {
            let _ = released.recv();
        });
        let threads = runtime.blocking_threads();
        drop(release);
        job.await.unwrap();
        threads
    });
    assert!(threads_while_busy >= 1, "a pool thread runs the job");
    // Bounded wait (a safety net, not a timing claim): the threads exit once idle for 20 ms.
    let mut waited = Duration::ZERO;
    while runtime.blocking_threads() > 0 {
        assert!(waited < Duration::from_secs(10), "idle blocking threads never exited");
        std::thread::sleep(Duration::from_millis(10));
        waited += Duration::from_millis(10);
    }
}
