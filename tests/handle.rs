//! `Runtime::block_on(&self)` and what a shared runtime may and may not do: ask about itself
//! between polls, and refuse, with a panic that says why, to be driven from inside itself.

use std::panic::{AssertUnwindSafe, catch_unwind};

use cashier::Runtime;

/// The message of a caught panic.
fn message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(text) => *text,
        Err(panic) => panic.downcast::<&str>().map(|text| text.to_string()).unwrap_or_default(),
    }
}

#[test]
fn block_on_from_inside_its_own_block_on_panics() {
    let runtime = Runtime::new().unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async { runtime.block_on(async {}) });
    }));
    let text = message(caught.expect_err("a nested block_on must panic, not deadlock"));
    assert!(text.contains("called from inside a running cashier runtime"), "{text}");
    // The runtime is still usable after the panic unwound out of it.
    assert_eq!(runtime.block_on(async { 7 }), 7);
}

#[test]
fn block_on_from_inside_a_task_panics_and_the_join_handle_says_so() {
    let runtime = std::rc::Rc::new(Runtime::new().unwrap());
    let inner = std::rc::Rc::clone(&runtime);
    let handle = runtime.spawn(async move { inner.block_on(async {}) });
    let error = runtime.block_on(handle).expect_err("the task panicked");
    assert!(error.is_panic());
    let text = message(error.into_panic());
    assert!(text.contains("called from inside a running cashier runtime"), "{text}");
}

#[test]
fn block_on_of_another_runtime_from_inside_a_task_panics() {
    let outer = Runtime::new().unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        outer.block_on(async {
            let other = Runtime::new().unwrap();
            other.block_on(async {})
        })
    }));
    let text = message(caught.expect_err("blocking the runtime's thread must panic"));
    assert!(text.contains("called from inside a running cashier runtime"), "{text}");
}

#[test]
fn the_runtime_answers_questions_between_polls() {
    let runtime = Runtime::builder().start_paused(true).build().unwrap();
    runtime.block_on(async {
        let sleeper = cashier::spawn(cashier::sleep(std::time::Duration::from_secs(1)));
        assert_eq!(runtime.alive_tasks(), 1);
        cashier::yield_now().await; // the sleeper is polled: its timer is in the wheel
        assert_eq!(runtime.timer_count(), 1);
        sleeper.await.unwrap();
        assert_eq!(runtime.alive_tasks(), 0);
    });
}

#[test]
fn spawn_blocking_is_to_thread_under_tokio_s_name() {
    let runtime = Runtime::new().unwrap();
    let sum = runtime.block_on(async {
        let handle = cashier::spawn_blocking(|| (1..=100u32).sum::<u32>());
        let via_task_module = cashier::task::spawn_blocking(|| 1u32);
        handle.await.unwrap() + via_task_module.await.unwrap()
    });
    assert_eq!(sum, 5051);
    let error = runtime.block_on(async { cashier::spawn_blocking(|| panic!("oops")).await });
    let error = error.unwrap_err();
    assert_eq!(error.to_string(), "blocking job panicked: oops");
}

/// Unparks the thread that waits in [`block_on_here`].
struct Unparker(std::thread::Thread);

impl std::task::Wake for Unparker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal `block_on` for a thread that is not a runtime: poll, park until woken, repeat.
fn block_on_here<F: std::future::Future>(future: F) -> F::Output {
    let waker = std::task::Waker::from(std::sync::Arc::new(Unparker(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn remote_spawn_from_4_threads_x_10000_tasks_all_joined() {
    use cashier::runtime::Handle;
    const THREADS: usize = 4;
    const TASKS: usize = 10_000;
    let runtime = Runtime::new().unwrap();
    let handle: Handle = runtime.handle();
    let (done, finished) = std::sync::mpsc::channel::<usize>();
    for t in 0..THREADS {
        let handle = handle.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let joins: Vec<_> = (0..TASKS)
                .map(|i| {
                    handle.spawn(async move {
                        // Some tasks wait a little, so that their joiners register wakers.
                        for _ in 0..i % 3 {
                            cashier::yield_now().await;
                        }
                        t * TASKS + i
                    })
                })
                .collect();
            let sum: usize = joins.into_iter().map(|join| block_on_here(join).unwrap()).sum();
            done.send(sum).unwrap();
        });
    }
    drop(done);
    // The runtime serves until every thread has joined all its tasks (the channel closes).
    let total = runtime.block_on(async {
        let mut total = 0;
        loop {
            match finished.try_recv() {
                Ok(sum) => total += sum,
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    cashier::sleep(std::time::Duration::from_millis(1)).await
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return total,
            }
        }
    });
    let n = THREADS * TASKS;
    assert_eq!(total, n * (n - 1) / 2);
    assert_eq!(runtime.alive_tasks(), 0, "no task leaked");
}

#[test]
fn handle_current_inside_a_task_and_after_the_runtime_is_gone() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.block_on(async { cashier::runtime::Handle::current() });
    drop(runtime);
    let late = handle.spawn(async { "never run" });
    let error = block_on_here(late).unwrap_err();
    assert!(error.is_cancelled());
    assert_eq!(error.to_string(), "task was cancelled");
}
