//! Bounded shutdown: `Runtime::shutdown_timeout`, `shutdown_background`, and the drop's own
//! timeout, with `to_thread` jobs that block on channels the test controls.
//!
//! No test asserts how fast anything is. A job is "still running" because it waits on a channel
//! only the test can fill, "finished" because it said so on another channel. The only timeouts
//! are watchdogs ([`WATCHDOG`]), so that a shutdown that hangs fails with a name instead of
//! hanging the suite.

use std::future::Future;
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use cashier::task::{BlockingError, ToThread};
use cashier::{Runtime, to_thread};

/// How long anything may take before the test calls it a hang: generous, never a speed claim.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Ends the whole process, naming what hung, unless dropped within [`WATCHDOG`]. (A `Runtime` is
/// `!Send`, so the code watched cannot move to another thread; a watcher thread ends the process
/// instead, which fails the test run with the name on standard error.)
struct Watchdog(Option<Sender<()>>);

impl Watchdog {
    fn new(what: &'static str) -> Watchdog {
        let (dropped, watched) = mpsc::channel::<()>();
        thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = watched.recv_timeout(WATCHDOG) {
                eprintln!("shutdown test watchdog: {what}: still waiting after {WATCHDOG:?}");
                std::process::abort();
            }
        });
        Watchdog(Some(dropped))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.0.take()); // disconnects: the watcher returns
    }
}

/// Runs `f`, ending the process naming `what` if it does not return within [`WATCHDOG`].
fn within<T>(what: &'static str, f: impl FnOnce() -> T) -> T {
    let _watchdog = Watchdog::new(what);
    f()
}

/// Receives from `rx`, or fails naming `what` after [`WATCHDOG`].
fn expect<T>(rx: &Receiver<T>, what: &str) -> T {
    rx.recv_timeout(WATCHDOG).unwrap_or_else(|error| panic!("{what}: {error}"))
}

/// Sets its flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Sends on its channel when dropped: the value a stuck job returns, whose drop is the last
/// thing its thread does for the job (after waking the task and unparking the reactor).
struct SendOnDrop(Sender<()>);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// The test's side of a job that blocks until released.
struct StuckJob {
    /// Says the job started (is running on a pool thread).
    started: Receiver<()>,
    /// Lets the job go on; dropping it does too.
    release: Sender<()>,
    /// Says the job got past its wait.
    finished: Receiver<()>,
    /// Says the job's result was dropped on its thread.
    result_dropped: Receiver<()>,
}

/// The closure of a job that says it started, waits for the test's release, says it finished,
/// and returns a value that says when it is dropped; and the test's side of its channels.
fn stuck_job() -> (impl FnOnce() -> SendOnDrop + Send + 'static, StuckJob) {
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let (finished_tx, finished) = mpsc::channel();
    let (dropped_tx, result_dropped) = mpsc::channel();
    let job = move || {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv(); // a message or a dropped sender: either releases
        finished_tx.send(()).unwrap();
        SendOnDrop(dropped_tx)
    };
    (job, StuckJob { started, release, finished, result_dropped })
}

/// Polls a `to_thread` future once, outside any runtime.
fn poll_once<T>(job: &mut ToThread<T>) -> Poll<Result<T, BlockingError>> {
    Pin::new(job).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn shutdown_timeout_returns_while_a_job_is_still_blocked() {
    let (job, stuck) = stuck_job();
    let task_dropped = Arc::new(AtomicBool::new(false));
    let runtime = Runtime::new().unwrap();
    // A task awaits the job, so that the job's result slot holds the task's waker: the detached
    // thread will wake a task of a runtime that is gone.
    let flag = SetOnDrop(Arc::clone(&task_dropped));
    let _task = runtime.spawn(async move {
        let _flag = flag;
        to_thread(job).await.map(drop)
    });
    runtime.block_on(cashier::yield_now()); // the task runs and submits the job
    expect(&stuck.started, "the job never started");

    within("shutdown_timeout with a job stuck", || {
        runtime.shutdown_timeout(Duration::from_millis(50));
    });
    assert!(task_dropped.load(Ordering::SeqCst), "the awaiting task was not cancelled");
    assert_eq!(
        stuck.finished.try_recv(),
        Err(TryRecvError::Empty),
        "the job cannot have finished: it was never released"
    );

    // The thread left behind finishes the job, wakes the dead runtime's task, unparks its
    // reactor and drops the result, without crashing.
    stuck.release.send(()).unwrap();
    expect(&stuck.finished, "the released job never finished");
    expect(&stuck.result_dropped, "the detached thread never got through to dropping the result");
}

#[test]
fn shutdown_background_returns_at_once() {
    let (job, stuck) = stuck_job();
    let runtime = Runtime::new().unwrap();
    let mut future = None;
    runtime.block_on(async { future = Some(to_thread(job)) });
    let mut future = future.unwrap();
    expect(&stuck.started, "the job never started");

    within("shutdown_background with a job stuck", || runtime.shutdown_background());
    assert_eq!(stuck.finished.try_recv(), Err(TryRecvError::Empty));
    assert!(poll_once(&mut future).is_pending(), "the job runs on: no result yet");

    drop(stuck.release); // a dropped sender releases the job too
    expect(&stuck.finished, "the released job never finished");
    // The future outlived the runtime and still gets the result.
    let result = within("the result of a detached job", || {
        loop {
            if let Poll::Ready(result) = poll_once(&mut future) {
                return result.is_ok();
            }
            thread::yield_now();
        }
    });
    assert!(result, "the detached job's result is Ok");
}

#[test]
fn queued_jobs_that_never_started_are_dropped_not_run() {
    let (job, stuck) = stuck_job();
    let queued_dropped = Arc::new(AtomicBool::new(false));
    let queued_ran = Arc::new(AtomicBool::new(false));
    let runtime = Runtime::builder().max_blocking_threads(1).build().unwrap();
    let (held, ran) = (SetOnDrop(Arc::clone(&queued_dropped)), Arc::clone(&queued_ran));
    let (running, mut queued) = runtime.block_on(async move {
        // The one thread takes the first job (the queue is first in, first out), and blocks.
        let running = to_thread(job);
        let queued = to_thread(move || {
            let _held = held;
            ran.store(true, Ordering::SeqCst);
        });
        (running, queued)
    });
    expect(&stuck.started, "the first job never started");
    assert!(!queued_dropped.load(Ordering::SeqCst), "the queued job waits its turn");

    within("shutdown_timeout with a job stuck and one queued", || {
        runtime.shutdown_timeout(Duration::from_millis(50));
    });
    // The one thread is still stuck, so nothing can have run the queued closure: it was dropped.
    assert!(queued_dropped.load(Ordering::SeqCst), "the queued closure was not dropped");
    assert!(!queued_ran.load(Ordering::SeqCst), "the queued job's body ran");
    assert!(matches!(poll_once(&mut queued), Poll::Ready(Err(BlockingError::Cancelled))));

    drop(running); // so that the job's thread holds the last reference to its result
    stuck.release.send(()).unwrap();
    expect(&stuck.finished, "the released job never finished");
    expect(&stuck.result_dropped, "the detached thread never dropped the result");
    assert!(!queued_ran.load(Ordering::SeqCst), "the queued job's body ran");
}

#[test]
fn a_job_that_finishes_within_the_timeout_is_waited_for() {
    let (job, stuck) = stuck_job();
    let side_effect = Arc::new(AtomicBool::new(false));
    // A queued job whose drop tells the test that shutdown began: it is dropped before the wait.
    let (shutdown_began_tx, shutdown_began) = mpsc::channel();
    let runtime = Runtime::builder().max_blocking_threads(1).build().unwrap();
    let effect = Arc::clone(&side_effect);
    let _jobs = runtime.block_on(async move {
        let running = to_thread(move || {
            let result = job();
            // Late on purpose: a shutdown that did not wait would miss this.
            thread::sleep(Duration::from_millis(20));
            effect.store(true, Ordering::SeqCst);
            result
        });
        let signal = SendOnDrop(shutdown_began_tx);
        let queued = to_thread(move || drop(signal));
        (running, queued)
    });
    expect(&stuck.started, "the job never started");

    // Released only once the shutdown has begun, so the shutdown has a running job to wait for.
    let releaser = thread::spawn(move || {
        expect(&shutdown_began, "the shutdown never dropped the queued job");
        stuck.release.send(()).unwrap();
    });
    within("shutdown_timeout waiting for a job", || {
        runtime.shutdown_timeout(WATCHDOG);
    });
    assert!(side_effect.load(Ordering::SeqCst), "shutdown returned before the job finished");
    releaser.join().unwrap();
}

#[test]
fn a_runtime_without_running_jobs_drops_without_waiting() {
    // A timeout that never ends: a drop that waited on anything would hang the watchdog.
    within("dropping a runtime that never used the pool", || {
        let runtime = Runtime::builder().shutdown_timeout(Duration::MAX).build().unwrap();
        runtime.block_on(async { cashier::yield_now().await });
    });
    within("dropping a runtime whose pool threads are idle", || {
        let runtime = Runtime::builder().shutdown_timeout(Duration::MAX).build().unwrap();
        runtime.block_on(async { to_thread(|| 1).await.unwrap() });
        assert_eq!(runtime.blocking_threads(), 1, "the thread idles until its keep-alive ends");
    });
}

#[test]
fn a_result_whose_drop_panics_on_a_pool_thread_does_not_stall_shutdown() {
    /// A result that panics when dropped.
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("a to_thread result panicked in its destructor (on purpose)");
        }
    }
    let (release, release_rx) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let runtime = Runtime::builder().shutdown_timeout(Duration::MAX).build().unwrap();
    runtime.block_on(async {
        let job = to_thread(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
            PanicsOnDrop
        });
        let mut job = std::pin::pin!(job);
        // Poll once so the job is submitted, then drop the future: the result will be dropped
        // on the pool thread, the last owner of its slot.
        std::future::poll_fn(|cx| {
            let _ = job.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
    });
    expect(&started, "the job starts");
    drop(release);
    // Before the pool caught what unwinds after a job, that panic ended the thread without
    // taking it off the count, and a shutdown with no time limit waited for it for good.
    within("shutdown after a pool thread's result panicked in its destructor", || {
        runtime.shutdown_timeout(Duration::MAX);
    });
}

/// The environment variable that makes this binary play a child scenario instead of testing.
const CHILD_ENV: &str = "CASHIER_SHUTDOWN_TEST_CHILD";

/// Runs `test` (a test of this file) in a child process playing `scenario`, and returns the
/// child's standard error.
fn child_stderr(test: &str, scenario: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, scenario)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "the child failed:\n{stderr}");
    stderr
}

/// In a child: drops (or shuts down, per `scenario`) a runtime with two jobs stuck, and a
/// shutdown timeout of 50 ms. The jobs' release senders are held until the process exits.
fn play_two_stuck_jobs(scenario: &str) {
    let (first, first_stuck) = stuck_job();
    let (second, second_stuck) = stuck_job();
    let runtime = Runtime::builder().shutdown_timeout(Duration::from_millis(50)).build().unwrap();
    let _jobs = runtime.block_on(async { (to_thread(first), to_thread(second)) });
    expect(&first_stuck.started, "the first job never started");
    expect(&second_stuck.started, "the second job never started");
    match scenario {
        "drop" => drop(runtime),
        "shutdown_timeout" => runtime.shutdown_timeout(Duration::from_millis(50)),
        other => panic!("unknown scenario {other}"),
    }
    eprintln!("child: shutdown returned");
}

#[test]
fn dropping_a_runtime_warns_about_the_jobs_it_leaves_behind() {
    if let Ok(scenario) = std::env::var(CHILD_ENV) {
        return play_two_stuck_jobs(&scenario);
    }
    let stderr = child_stderr("dropping_a_runtime_warns_about_the_jobs_it_leaves_behind", "drop");
    assert!(
        stderr.contains(
            "cashier: runtime dropped with 2 blocking jobs still running after 50ms; leaving \
             their threads behind\nchild: shutdown returned"
        ),
        "{stderr}"
    );
}

#[test]
fn an_explicit_shutdown_timeout_leaves_jobs_behind_quietly() {
    if let Ok(scenario) = std::env::var(CHILD_ENV) {
        return play_two_stuck_jobs(&scenario);
    }
    let stderr =
        child_stderr("an_explicit_shutdown_timeout_leaves_jobs_behind_quietly", "shutdown_timeout");
    assert!(stderr.contains("child: shutdown returned"), "{stderr}");
    assert!(!stderr.contains("cashier: runtime dropped"), "{stderr}");
}
