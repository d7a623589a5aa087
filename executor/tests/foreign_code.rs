//! Foreign code run at awkward moments: destructors that panic, panic payloads whose own
//! destructors panic, join wakers that panic, and a waker whose destructor drives the executor.
//! Each was a memory-safety or bookkeeping bug found in review; each test pins the fix.

mod support;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use cashier_executor::{Executor, JoinHandle, yield_now};
use support::{DropCounter, DropToken};

/// A panic payload whose destructor panics again.
struct Bomb;
impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("bomb payload dropped");
    }
}

/// An output whose destructor panics with a [`Bomb`] payload.
#[derive(Debug)]
struct BombOutput;
impl Drop for BombOutput {
    fn drop(&mut self) {
        std::panic::panic_any(Bomb);
    }
}

/// Ready at once with a [`BombOutput`]; its own destructor panics too.
struct PanickyFuture {
    _token: DropToken,
}
impl Future for PanickyFuture {
    type Output = BombOutput;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<BombOutput> {
        Poll::Ready(BombOutput)
    }
}
impl Drop for PanickyFuture {
    fn drop(&mut self) {
        panic!("future destructor");
    }
}

#[test]
fn panics_in_destructors_and_in_payloads_stay_inside_the_task() {
    let drops = DropCounter::default();
    let executor = Executor::new();
    let handle = executor.spawn(PanickyFuture { _token: drops.token() });
    // Nothing unwinds out of the run loop, although three destructors panic.
    executor.block_on(yield_now());
    assert_eq!(drops.count(), 1, "the future was dropped once");
    assert_eq!(executor.alive_tasks(), 0);
    let error = executor.block_on(handle).unwrap_err();
    assert_eq!(error.to_string(), "task panicked: future destructor");
    drop(executor); // no second drop of the future at shutdown
    assert_eq!(drops.count(), 1);
}

/// A waker whose `wake` panics.
struct PanickyWake;
impl Wake for PanickyWake {
    fn wake(self: Arc<Self>) {
        panic!("join waker panics");
    }
}

#[test]
fn a_join_waker_that_panics_does_not_strand_the_task() {
    let executor = Executor::new();
    let mut handle: JoinHandle<u32> = executor.spawn(async { 42 });
    let waker = Waker::from(Arc::new(PanickyWake));
    assert!(Pin::new(&mut handle).poll(&mut Context::from_waker(&waker)).is_pending());
    executor.block_on(yield_now()); // the task completes and its joiner's wake panics
    assert_eq!(executor.alive_tasks(), 0, "the task left the owned list");
    drop(executor);
    // The output survived the executor: the task had completed before shutdown.
    assert_eq!(executor_free_poll(&mut handle), Poll::Ready(42));
}

fn executor_free_poll(handle: &mut JoinHandle<u32>) -> Poll<u32> {
    Pin::new(handle).poll(&mut Context::from_waker(Waker::noop())).map(Result::unwrap)
}

thread_local! {
    static EXECUTOR: RefCell<Option<Executor>> = const { RefCell::new(None) };
}

/// Wakers woken while being destroyed end up here, which would be a use after free.
static WOKEN: Mutex<Vec<Arc<ReentrantWake>>> = Mutex::new(Vec::new());

/// A waker whose destructor (when `drive` is set) runs the executor to completion of its tasks.
struct ReentrantWake {
    drive: bool,
}
impl Wake for ReentrantWake {
    fn wake(self: Arc<Self>) {
        WOKEN.lock().unwrap().push(self);
    }
}
impl Drop for ReentrantWake {
    fn drop(&mut self) {
        if self.drive {
            EXECUTOR.with(|e| e.borrow_mut().as_mut().unwrap().block_on(yield_now()));
        }
    }
}

#[test]
fn a_join_waker_whose_drop_completes_the_task_is_not_woken_after_free() {
    let executor = Executor::new();
    let mut handle: JoinHandle<u32> = executor.spawn(async { 7 });
    EXECUTOR.with(|e| *e.borrow_mut() = Some(executor));
    let first = Waker::from(Arc::new(ReentrantWake { drive: true }));
    assert!(Pin::new(&mut handle).poll(&mut Context::from_waker(&first)).is_pending());
    drop(first); // the join-waker slot now holds the only reference
    let second = Waker::from(Arc::new(ReentrantWake { drive: false }));
    // Registering `second` drops `first`, whose destructor runs the executor: the task completes
    // meanwhile, so this very poll must return its output rather than wait for a wake.
    let polled = Pin::new(&mut handle).poll(&mut Context::from_waker(&second));
    assert_eq!(polled.map(Result::unwrap), Poll::Ready(7));
    // Completion woke the waker registered at that moment (`second`), never `first`, which was
    // being destroyed.
    let woken: Vec<_> = WOKEN.lock().unwrap().drain(..).collect();
    assert!(woken.iter().all(|w| !w.drive), "a waker was woken while being destroyed");
    drop(handle);
    EXECUTOR.with(|e| e.borrow_mut().take());
}
