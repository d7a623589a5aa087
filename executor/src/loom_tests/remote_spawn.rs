//! A remote spawn and a cross-thread join, through the real code: `Handle::spawn` on one loom
//! thread, adoption and the task's poll and completion on the runtime thread, and the
//! `RemoteJoinHandle` polled on the spawning thread, racing completion for the `join_waker` slot.
//!
//! # What it proves, up to the preemption bound
//!
//! - **No lost wake, either way.** The spawn's push onto the spawn queue unparks a parked runtime
//!   (else the runtime would park for ever: a loom deadlock), and completion wakes the joiner
//!   whatever point of its poll it reached (else the joining thread would wait for ever).
//! - **The `JOIN_WAKER` hand-off is race-free**: loom checks every access to the `join_waker`
//!   `UnsafeCell` and to the task's stage (the output written on the runtime thread and read on
//!   the joining one) against the other thread's.
//! - **The output arrives, once**, and the task is freed (the executor's `Shared` is gone once
//!   both threads are done: every task holds a strong count of it).
//!
//! What it does not prove: more than one remote task or joiner, a remote abort, shutdown racing a
//! spawn (the second test here runs the spawn before the drop).

use std::future::{Future, poll_fn};
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Waker};

use super::{LoomPark, Wakeup};
use crate::loom::{Arc, AtomicBool, Ordering, thread};
use crate::{Executor, RemoteJoinHandle};

/// Polls `join` on this loom thread until it is ready, waiting on a [`Wakeup`] in between.
fn join_here(mut join: RemoteJoinHandle<u32>) -> Result<u32, crate::JoinError> {
    let wakeup = Wakeup::new();
    let waker = Waker::from(StdArc::clone(&wakeup));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(result) = std::pin::Pin::new(&mut join).poll(&mut cx) {
            return result;
        }
        wakeup.wait();
    }
}

#[test]
fn loom_remote_spawn_and_cross_thread_join() {
    loom::model(|| {
        let executor = Executor::with_park(LoomPark::new());
        let shared = executor.shared_weak();
        let handle = executor.handle();
        let done = Arc::new(AtomicBool::new(false));
        let main_waker = Arc::new(loom::sync::Mutex::new(None::<Waker>));
        let joiner = thread::spawn({
            let done = Arc::clone(&done);
            let main_waker = Arc::clone(&main_waker);
            move || {
                let join = handle.spawn(async { 7 });
                assert_eq!(join_here(join).unwrap(), 7);
                done.store(true, Ordering::Release);
                if let Some(waker) = main_waker.lock().unwrap().take() {
                    waker.wake();
                }
            }
        });
        executor.block_on(poll_fn(|cx: &mut Context<'_>| {
            *main_waker.lock().unwrap() = Some(cx.waker().clone());
            if done.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending }
        }));
        joiner.join().unwrap();
        assert_eq!(executor.alive_tasks(), 0);
        drop(executor);
        drop(main_waker);
        assert!(shared.upgrade().is_none(), "a task was never freed");
    });
}

#[test]
fn loom_remote_spawn_cancelled_by_shutdown_wakes_the_joiner() {
    loom::model(|| {
        let executor = Executor::with_park(LoomPark::new());
        let shared = executor.shared_weak();
        let join = executor.handle().spawn(async { 7 });
        let joiner = thread::spawn(move || join_here(join));
        drop(executor); // adopts the queued task and cancels it
        assert!(joiner.join().unwrap().unwrap_err().is_cancelled());
        assert!(shared.upgrade().is_none(), "a task was never freed");
    });
}
