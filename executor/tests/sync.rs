//! Channels, semaphore, mutex: fairness, back-pressure, closing, and cancellation without leaks.

#[path = "support/mpsc_model.rs"]
mod mpsc_model;
mod support;

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use cashier_executor::sync::{AcquireError, Mutex, Semaphore, TryAcquireError, mpsc, oneshot};
use cashier_executor::{Executor, spawn, yield_now};
use support::{Trace, yield_times};

/// Polls a future once with a no-op waker.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Awaits `future` for at most `turns` turns of the executor, polling it only when its own waker
/// fired: a lost wake-up fails the test, naming `what`, instead of hanging it.
async fn within_turns<F: Future>(what: &str, turns: usize, future: F) -> F::Output {
    let mut future = pin!(future);
    let mut watch: Option<(Arc<WokenFlag>, Waker)> = None;
    let mut turns_left = turns;
    poll_fn(|cx| {
        let (flag, waker) = watch.get_or_insert_with(|| {
            let flag =
                Arc::new(WokenFlag { woken: AtomicBool::new(true), outer: cx.waker().clone() });
            (flag.clone(), Waker::from(flag))
        });
        if flag.woken.swap(false, Ordering::SeqCst)
            && let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(waker))
        {
            return Poll::Ready(output);
        }
        assert!(turns_left > 0, "{what}: not done after {turns} turns; a wake-up was lost");
        turns_left -= 1;
        cx.waker().wake_by_ref(); // come back next turn, to count it
        Poll::Pending
    })
    .await
}

/// The waker `within_turns` gives its future: notes the wake, then wakes the awaiting task.
struct WokenFlag {
    /// Set by a wake, cleared by the poll it asks for.
    woken: AtomicBool,
    /// The task awaiting `within_turns`.
    outer: Waker,
}

impl Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.outer.wake_by_ref();
    }
}

#[test]
fn semaphore_serves_waiters_in_arrival_order() {
    let semaphore = Rc::new(Semaphore::new(1));
    let order = Rc::new(RefCell::new(Vec::new()));
    Executor::new().block_on(async {
        let held = semaphore.acquire().await.unwrap();
        let waiters: Vec<_> = ["first", "second", "third"]
            .into_iter()
            .map(|name| {
                let (semaphore, order) = (semaphore.clone(), order.clone());
                spawn(async move {
                    let _permit = semaphore.acquire().await.unwrap();
                    order.borrow_mut().push(name);
                    yield_now().await;
                })
            })
            .collect();
        yield_now().await; // all three queue up
        // A newcomer that tries now must not barge ahead of the queue.
        drop(held);
        assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        for waiter in waiters {
            waiter.await.unwrap();
        }
    });
    assert_eq!(*order.borrow(), ["first", "second", "third"]);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn a_cancelled_acquirer_keeps_no_permit() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let mut early = semaphore.acquire();
    let mut late = semaphore.acquire();
    assert!(poll_once(&mut early).is_pending());
    assert!(poll_once(&mut late).is_pending());
    drop(held); // the permit is assigned to `early`...
    drop(early); // ...which is cancelled before it runs: the permit passes to `late`
    match poll_once(&mut late) {
        Poll::Ready(Ok(permit)) => drop(permit),
        other => panic!("the permit was lost: {:?}", other.map(|r| r.map(|_| ()))),
    }
    assert_eq!(semaphore.available_permits(), 1);
    // A waiter cancelled before being granted leaves nothing behind either.
    let held = semaphore.try_acquire().unwrap();
    let mut waiting = semaphore.acquire();
    assert!(poll_once(&mut waiting).is_pending());
    drop(waiting);
    drop(held);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn closing_a_semaphore_fails_waiters_but_not_held_permits() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let mut waiting = semaphore.acquire();
    assert!(poll_once(&mut waiting).is_pending());
    semaphore.close();
    assert!(matches!(poll_once(&mut waiting), Poll::Ready(Err(AcquireError))));
    assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::Closed);
    drop(held);
    assert_eq!(semaphore.available_permits(), 1);
    assert_eq!(AcquireError.to_string(), "semaphore closed");
}

#[test]
fn bounded_mpsc_applies_back_pressure() {
    let trace = Trace::default();
    Executor::new().block_on(async {
        let (tx, mut rx) = mpsc::channel(2);
        let producer = spawn({
            let trace = trace.clone();
            async move {
                for n in 0..4 {
                    tx.send(n).await.unwrap();
                    trace.push(["sent 0", "sent 1", "sent 2", "sent 3"][n]);
                }
            }
        });
        yield_times(3).await;
        trace.push("receiver wakes");
        assert_eq!(rx.len(), 2, "the producer is held at the capacity");
        while let Some(n) = rx.recv().await {
            trace.push(["got 0", "got 1", "got 2", "got 3"][n]);
        }
        producer.await.unwrap();
    });
    assert_eq!(
        trace.take(),
        [
            "sent 0",         // room for two
            "sent 1",         //
            "receiver wakes", // the third send waits: the channel is full
            "got 0",          // receiving frees a slot, reserved for the waiting sender
            "got 1",
            "sent 2", // the sender runs and uses its slot
            "sent 3",
            "got 2",
            "got 3", // then the senders are gone and `recv` returns `None`
        ]
    );
}

#[test]
fn a_dropped_receiver_fails_sends_and_wakes_waiting_senders() {
    Executor::new().block_on(async {
        let (tx, rx) = mpsc::channel(1);
        tx.send("fills it").await.unwrap();
        let blocked = spawn({
            let tx = tx.clone();
            async move { tx.send("waits").await.map_err(|e| e.0) }
        });
        yield_now().await;
        drop(rx);
        assert_eq!(blocked.await.unwrap(), Err("waits"), "woken, and the value handed back");
        assert!(tx.is_closed());
        assert_eq!(
            tx.send("late").await.unwrap_err().to_string(),
            "channel closed: the receiver is gone"
        );
    });
}

#[test]
fn a_cancelled_sender_passes_its_reserved_slot_on() {
    Executor::new().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let mut first = tx.send(1);
        let mut second = tx.send(2);
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_once(&mut second).is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // frees the slot: reserved for `first`
        drop(first); // cancelled: the slot goes to `second`
        assert!(matches!(poll_once(&mut second), Poll::Ready(Ok(()))));
        drop(second);
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    });
}

#[test]
fn closing_the_receiver_drains_then_ends() {
    Executor::new().block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(1).unwrap();
        rx.close();
        assert!(tx.send(2).is_err());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None, "closed and drained, although a sender is alive");
    });
}

#[test]
fn the_last_sender_leaving_wakes_a_waiting_receiver() {
    Executor::new().block_on(async {
        let (tx, mut rx) = mpsc::channel::<u8>(4);
        let receiver = spawn(async move { rx.recv().await });
        yield_now().await; // the receiver waits
        drop(tx);
        assert_eq!(receiver.await.unwrap(), None);
    });
}

#[test]
fn close_then_drain_fails_a_waiting_sender() {
    Executor::new().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send("queued").unwrap();
        let waiting = spawn({
            let tx = tx.clone();
            async move { tx.send("waits").await.map_err(|e| e.0) }
        });
        yield_now().await; // the channel is full: the sender waits
        rx.close(); // the waiting sender is woken to find the channel closed...
        assert_eq!(rx.recv().await, Some("queued")); // ...but before it runs, a slot frees up
        let sent = within_turns("the woken sender", 10, waiting).await;
        assert_eq!(sent.map_err(|e| e.is_panic()), Ok(Err("waits")), "no slot after a close");
        assert_eq!(within_turns("recv on the drained channel", 10, rx.recv()).await, None);
    });
}

#[test]
fn close_then_drain_then_cancel_two_waiting_senders() {
    Executor::new().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let mut first = tx.send(1);
        let mut second = tx.send(2);
        assert!(poll_once(&mut first).is_pending()); // full: both wait, in order
        assert!(poll_once(&mut second).is_pending());
        rx.close(); // both are woken to find the channel closed
        assert_eq!(rx.recv().await, Some(0)); // the slot this frees goes to nobody
        drop(first); // cancelled before running: it held no slot, so it passes none on
        drop(second);
        assert_eq!(within_turns("recv on the drained channel", 10, rx.recv()).await, None);
        assert!(tx.is_closed());
    });
}

#[test]
fn recv_after_close_ends_although_a_granted_sender_is_aborted() {
    Executor::new().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send("queued").unwrap();
        let granted = spawn({
            let tx = tx.clone();
            async move { tx.send("granted").await.map_err(|e| e.0) }
        });
        yield_now().await; // the channel is full: the sender waits
        let receiver = spawn(async move {
            let first = rx.recv().await; // frees the slot, reserved for the waiting sender
            rx.close();
            let end = rx.recv().await; // the sender has not run yet
            (first, end)
        });
        let aborter = spawn(async move {
            granted.abort(); // runs once the receiver waits, before the sender has run
            granted.await
        });
        let received = within_turns("the receiver", 10, receiver).await.unwrap();
        assert_eq!(received, (Some("queued"), None), "the aborted sender must not strand it");
        assert!(aborter.await.unwrap().unwrap_err().is_cancelled());
    });
}

#[test]
fn a_sender_granted_a_slot_fails_if_the_receiver_drops_first() {
    Executor::new().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send("queued").unwrap();
        let granted = spawn({
            let tx = tx.clone();
            async move { tx.send("granted").await.map_err(|e| e.0) }
        });
        yield_now().await; // the channel is full: the sender waits
        assert_eq!(rx.recv().await, Some("queued")); // the freed slot is reserved for it...
        drop(rx); // ...but the receiver leaves before the sender runs
        let sent = within_turns("the granted sender", 10, granted).await.unwrap();
        assert_eq!(sent, Err("granted"), "nobody will receive it: the value comes back");
    });
}

#[test]
fn bounded_mpsc_behaves_like_its_model() {
    mpsc_model::check(mpsc_model::cases_from_env(500), 200);
}

#[test]
fn oneshot_delivers_once_or_reports_the_sender_gone() {
    Executor::new().block_on(async {
        let (tx, rx) = oneshot::channel();
        let receiver = spawn(rx);
        yield_now().await;
        tx.send(5).unwrap();
        assert_eq!(receiver.await.unwrap(), Ok(5));

        let (tx, rx) = oneshot::channel::<u8>();
        drop(tx);
        assert_eq!(rx.await, Err(oneshot::RecvError));

        let (tx, rx) = oneshot::channel();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
    });
}

#[test]
fn the_mutex_serialises_critical_sections_across_awaits() {
    let mutex = Rc::new(Mutex::new(Vec::new()));
    Executor::new().block_on(cashier_executor::gather((0..4).map(|task| {
        let mutex = mutex.clone();
        async move {
            let mut log = mutex.lock().await;
            log.push((task, "enter"));
            yield_times(2).await; // the others run meanwhile but wait for the lock
            log.push((task, "leave"));
        }
    })));
    let log = Rc::try_unwrap(mutex).unwrap().into_inner();
    for pair in log.chunks(2) {
        assert_eq!(pair[0].0, pair[1].0, "no interleaving inside the lock: {log:?}");
    }
    assert_eq!(log.len(), 8);
}
