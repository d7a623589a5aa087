//! Signals raised to our own process, inside the runtime.
//!
//! `raise(3)` runs the handler on the calling thread before it returns, so each delivery happens
//! at a known point of the test. The tests of this file run on parallel threads of one process,
//! and a signal is process-wide: each test listens for a signal no other test raises. Every
//! wait is bounded by a real-clock timeout, so a lost delivery fails the test instead of hanging
//! it.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use cashier::signal::{SignalKind, signal};

/// Runs `test` on a runtime with the real clock, failing it if it takes over 10 s.
fn bounded<F: Future>(test: F) -> F::Output {
    cashier::run(async {
        cashier::timeout(Duration::from_secs(10), test).await.expect("a delivery was lost")
    })
}

/// Delivers `kind` to this thread now: its handler has run when this returns.
fn raise(kind: SignalKind) {
    // SAFETY: `raise` has no memory-safety preconditions; the test installed a handler for
    // `kind` (by calling `signal`) before raising it, so the default action (often ending the
    // process) does not run.
    assert_eq!(unsafe { libc::raise(kind.as_raw_value()) }, 0);
}

#[test]
fn one_delivery_wakes_a_waiting_recv() {
    let kind = SignalKind::from_raw(libc::SIGUSR1);
    let trace = Rc::new(RefCell::new(Vec::new()));
    bounded(async {
        let mut listener = signal(kind).unwrap();
        let log = trace.clone();
        let waiter = cashier::spawn(async move {
            log.borrow_mut().push("recv");
            listener.recv().await.unwrap();
            log.borrow_mut().push("received");
        });
        cashier::yield_now().await; // the waiter polls `recv`: Pending, its waker kept
        trace.borrow_mut().push("raise");
        raise(kind);
        waiter.await.unwrap();
    });
    assert_eq!(
        *trace.borrow(),
        [
            "recv",     // the listener waits
            "raise",    // the handler counts the delivery and rings the self-pipe
            "received", // the reactor saw the pipe readable and woke the listener
        ]
    );
}

#[test]
fn two_listeners_of_one_signal_both_wake() {
    let kind = SignalKind::from_raw(libc::SIGUSR2);
    let woken = bounded(async {
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let mut listener = signal(kind).unwrap();
                cashier::spawn(async move { listener.recv().await })
            })
            .collect();
        cashier::yield_now().await; // both wait
        raise(kind);
        // One of them drains the pipe; the other still sees the delivery in the counter.
        let woken = cashier::gather(waiters).await;
        woken.into_iter().map(|result| result.unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(woken, [Some(()), Some(())]);
}

#[test]
fn a_listener_that_drains_the_pipe_first_does_not_steal_another_listeners_wake_up() {
    // The demos' case: the runtime's SIGQUIT listener (`try_recv` after every turn) drained the
    // pipe after a SIGINT interrupted the reactor's wait, before the wait that would have
    // reported the byte to the `ctrl_c` listener, which then never woke.
    let (waited, drainer) =
        (SignalKind::from_raw(libc::SIGWINCH), SignalKind::from_raw(libc::SIGURG));
    bounded(async {
        let mut other = signal(drainer).unwrap();
        let mut listener = signal(waited).unwrap();
        let waiter = cashier::spawn(async move { listener.recv().await });
        cashier::yield_now().await; // the waiter waits on its doorbell
        raise(waited); // the byte is in the pipe; the reactor has not looked yet
        assert!(!other.try_recv(), "not its signal, but it drains the shared pipe");
        assert_eq!(waiter.await.unwrap(), Some(()), "the drain rang the waiter's doorbell");
    });
}

#[test]
fn a_delivery_before_recv_is_not_lost_and_two_coalesce() {
    let kind = SignalKind::hangup();
    bounded(async {
        let mut listener = signal(kind).unwrap();
        raise(kind); // before anybody polls `recv`
        raise(kind); // coalesces with the first, as the OS may coalesce them
        assert_eq!(listener.recv().await, Some(()), "the early delivery is seen");
        let again = cashier::timeout(Duration::from_millis(50), listener.recv()).await;
        assert!(
            again.is_err(),
            "two deliveries with no recv between count at least once: here once"
        );
        raise(kind);
        assert_eq!(listener.recv().await, Some(()), "a later delivery is seen again");
    });
}

#[test]
fn ctrl_c_returns_on_sigint() {
    bounded(async {
        let interrupted = cashier::spawn(cashier::signal::ctrl_c());
        cashier::yield_now().await; // `ctrl_c` has installed the handler and waits
        raise(SignalKind::interrupt());
        interrupted.await.unwrap().unwrap();
    });
}

#[test]
fn sigkill_and_sigstop_are_refused() {
    cashier::run(async {
        for signum in [libc::SIGKILL, libc::SIGSTOP, 0, 1000] {
            let error = signal(SignalKind::from_raw(signum)).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{signum}: {error}");
        }
    });
}

#[test]
fn outside_a_runtime_signal_is_an_error_and_installs_nothing() {
    let error = signal(SignalKind::terminate()).unwrap_err();
    assert!(error.to_string().contains("no cashier runtime"), "{error}");
}
