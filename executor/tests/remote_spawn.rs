//! `Handle::spawn` from other threads and `RemoteJoinHandle` joined on those threads: every result
//! arrives, no task leaks, and a handle that outlives its runtime reports cancellation.

mod support;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use cashier_executor::{Executor, Handle, RemoteJoinHandle, yield_now};
use support::with_watchdog;

/// Spawning threads.
const THREADS: usize = if cfg!(miri) { 2 } else { 4 };
/// Tasks each thread spawns.
const TASKS: usize = if cfg!(miri) { 20 } else { 10_000 };
/// A lost wake-up shows as a hang: fail instead.
const WATCHDOG: Duration = Duration::from_secs(600);

/// Unparks the thread that waits in `block_on_here`.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal `block_on` for a thread that is not a runtime: poll, park until woken, repeat.
fn block_on_here<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// How many spawning threads are done, and the waker of the runtime's `block_on` future.
#[derive(Default)]
struct Done {
    threads: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Done {
    /// Counts a thread done and wakes the runtime's future.
    fn finish(&self) {
        self.threads.fetch_add(1, Ordering::Release);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    /// Resolves once `n` threads are done.
    async fn wait(&self, n: usize) {
        std::future::poll_fn(|cx| {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.threads.load(Ordering::Acquire) == n { Poll::Ready(()) } else { Poll::Pending }
        })
        .await
    }
}

#[test]
fn remote_spawn_from_4_threads_x_10000_tasks_all_joined() {
    with_watchdog("remote spawn", WATCHDOG, || {
        let executor = Executor::new();
        let done = Arc::new(Done::default());
        let spawners: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = executor.handle();
                let done = Arc::clone(&done);
                thread::spawn(move || {
                    let joins: Vec<RemoteJoinHandle<usize>> = (0..TASKS)
                        .map(|i| {
                            handle.spawn(async move {
                                // Some tasks wait a little, so that their joiners register wakers.
                                for _ in 0..i % 3 {
                                    yield_now().await;
                                }
                                t * TASKS + i
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for (i, join) in joins.into_iter().enumerate() {
                        let output = block_on_here(join).unwrap();
                        assert_eq!(output, t * TASKS + i);
                        sum += output;
                    }
                    done.finish();
                    sum
                })
            })
            .collect();
        executor.block_on(done.wait(THREADS));
        let total: usize = spawners.into_iter().map(|thread| thread.join().unwrap()).sum();
        let n = THREADS * TASKS;
        assert_eq!(total, n * (n - 1) / 2, "every task's output arrived, once");
        assert_eq!(executor.alive_tasks(), 0, "no task leaked");
    });
}

#[test]
fn a_remote_handle_is_awaitable_on_the_runtime_thread_too() {
    let executor = Executor::new();
    let answer = executor.block_on(async {
        let handle = Handle::current();
        let remote = handle.spawn(async {
            yield_now().await;
            6 * 7
        });
        assert_eq!(remote.abort_handle().id(), remote.id());
        remote.await.unwrap()
    });
    assert_eq!(answer, 42);
    assert_eq!(executor.alive_tasks(), 0);
}

#[test]
fn a_remote_task_can_be_aborted_and_its_panic_is_reported() {
    let executor = Executor::new();
    let handle = executor.handle();
    let stuck = handle.spawn(std::future::pending::<()>());
    let failing = handle.spawn(async { panic!("remote oops") });
    let remote = thread::spawn(move || {
        stuck.abort();
        (block_on_here(stuck), block_on_here(failing))
    });
    // Runs the runtime until both have completed (the thread's joins are woken from here).
    executor.block_on(async {
        while executor.alive_tasks() > 0 || !remote.is_finished() {
            yield_now().await;
        }
    });
    let (stuck, failing) = remote.join().unwrap();
    assert!(stuck.unwrap_err().is_cancelled());
    let error = failing.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.to_string(), "task panicked: remote oops");
}

#[test]
fn dropping_the_runtime_cancels_remote_tasks_it_never_took_and_later_spawns() {
    let executor = Executor::new();
    let handle = executor.handle();
    let dropped = Arc::new(AtomicUsize::new(0));
    /// Counts its drop.
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let token = Token(Arc::clone(&dropped));
    let queued = handle.spawn(async move {
        let _token = token;
        "never run"
    });
    let waiting = thread::spawn(move || block_on_here(queued));
    drop(executor); // shutdown adopts the queued task and cancels it
    assert!(waiting.join().unwrap().unwrap_err().is_cancelled(), "the waiting joiner was woken");
    assert_eq!(dropped.load(Ordering::Relaxed), 1, "its future was dropped once");
    let token = Token(Arc::clone(&dropped));
    let late = handle.spawn(async move {
        let _token = token;
    });
    assert!(late.is_finished());
    assert_eq!(dropped.load(Ordering::Relaxed), 2, "dropped at once, on the spawning thread");
    assert!(block_on_here(late).unwrap_err().is_cancelled());
}

#[test]
fn dropping_a_remote_handle_detaches_the_task() {
    let executor = Executor::new();
    let handle = executor.handle();
    let ran = Arc::new(AtomicUsize::new(0));
    let flag = Arc::clone(&ran);
    let remote = handle.spawn(async move {
        yield_now().await;
        flag.fetch_add(1, Ordering::Relaxed);
        String::from("output dropped by the runtime")
    });
    executor.block_on(yield_now()); // adopted and polled once: a joiner waker is not registered
    thread::spawn(move || drop(remote)).join().unwrap();
    executor.block_on(async {
        while executor.alive_tasks() > 0 {
            yield_now().await;
        }
    });
    assert_eq!(ran.load(Ordering::Relaxed), 1);
}

#[test]
fn handle_current_outside_a_runtime_is_none() {
    assert!(Handle::try_current().is_none());
    let panic = std::panic::catch_unwind(Handle::current).unwrap_err();
    let text = match panic.downcast_ref::<&str>() {
        Some(text) => text.to_string(),
        None => panic.downcast_ref::<String>().cloned().unwrap_or_default(),
    };
    assert!(text.contains("outside of a cashier runtime"), "{text}");
}
