//! The cooperative budget (`cashier-budget`) seen from a user's program: a task whose operations
//! are always ready still lets the others run, and its own timeout fire.
//!
//! Three kinds of test:
//!
//! - **Starvation, cured**: loops that never met a `Pending` before the budget existed. They hung
//!   (a 60 s watchdog turns a hang into a failure with a name); now they end. They run on the
//!   real clock, because a paused clock only moves when nothing can run, and these loops always
//!   can: what is asserted is that the timer fires, and never early, not how late.
//! - **Accounting**: every resource spends exactly one unit when it completes, read with
//!   `cashier_budget::remaining()` right after the operation, inside a task's poll.
//! - **Counting**: the refusals a workload causes, read from the metrics' `budget_yields`: the
//!   budget is fresh at each poll, `unconstrained` lifts it, `consume_budget` spends it.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use cashier::cashier_budget::{BUDGET, UNCONSTRAINED, remaining};
use cashier::net::{TcpListener, TcpStream, UdpSocket};
use cashier::sync::{Event, Mutex, Semaphore, mpsc, oneshot};
use cashier::task::{consume_budget, unconstrained, yield_now};
use cashier::{Runtime, sleep, spawn, timeout, to_thread};

mod support;

/// Fails the test, naming the hang, if `f` has not returned within 60 s (`support`).
fn within_a_watchdog<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    support::within_a_watchdog(what, Duration::from_secs(60), f)
}

#[test]
fn a_loop_over_a_free_semaphore_no_longer_starves_its_own_timeout() {
    let (elapsed, acquired) = within_a_watchdog("timeout(10 ms, loop { acquire })", || {
        Runtime::new().unwrap().block_on(async {
            let semaphore = Semaphore::new(1);
            let acquired = Cell::new(0u64);
            let start = Instant::now();
            let result = timeout(Duration::from_millis(10), async {
                loop {
                    let _permit = semaphore.acquire().await.unwrap();
                    acquired.set(acquired.get() + 1);
                }
            })
            .await;
            assert!(result.is_err(), "the loop never ends: only the deadline can");
            (start.elapsed(), acquired.get())
        })
    });
    assert!(elapsed >= Duration::from_millis(10), "fired early: {elapsed:?}");
    assert!(acquired > BUDGET, "the loop ran through several budgets: {acquired}");
}

#[test]
fn a_spawned_loop_over_a_ready_channel_lets_a_sleeping_task_run() {
    let rounds = within_a_watchdog("a self ping-pong on a channel beside a 10 ms sleep", || {
        Runtime::new().unwrap().block_on(async {
            let stop = Rc::new(Cell::new(false));
            let stopper = spawn({
                let stop = stop.clone();
                async move {
                    sleep(Duration::from_millis(10)).await;
                    stop.set(true);
                }
            });
            // One task sending to itself and receiving: every operation is ready, so before the
            // budget it never returned `Pending`, and the sleeper never ran.
            let pinger = spawn(async move {
                let (tx, mut rx) = mpsc::channel(1);
                let mut rounds = 0u64;
                while !stop.get() {
                    tx.send(rounds).await.unwrap();
                    assert_eq!(rx.recv().await, Some(rounds));
                    rounds += 1;
                }
                rounds
            });
            stopper.await.unwrap();
            pinger.await.unwrap()
        })
    });
    assert!(rounds > BUDGET, "the ping-pong ran through several budgets: {rounds}");
}

#[test]
fn a_socket_that_always_has_data_lets_a_timer_fire() {
    within_a_watchdog("a UDP reader fed without end beside a 10 ms sleep", || {
        Runtime::new().unwrap().block_on(async {
            let reader = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let writer = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            writer.connect(reader.local_addr().unwrap()).unwrap();
            let stop = Cell::new(false);
            let timer = async {
                sleep(Duration::from_millis(10)).await;
                stop.set(true);
            };
            // Each receive is preceded by a send, so the socket is never empty when read.
            let echo = async {
                let mut buf = [0u8; 1];
                while !stop.get() {
                    writer.send(b"x").await.unwrap();
                    reader.recv(&mut buf).await.unwrap();
                }
            };
            cashier::gather!(timer, echo).await;
        })
    });
}

/// The units `op` spent in the poll in which it completed (the polls before, which returned
/// `Pending`, spent none: `cashier-budget`'s rule, checked here too).
async fn units_spent<F: Future>(op: F) -> (F::Output, u64) {
    let mut op = pin!(op);
    poll_fn(|cx| {
        let before = remaining();
        assert_ne!(before, UNCONSTRAINED, "measured inside a task's poll");
        match op.as_mut().poll(cx) {
            Poll::Ready(output) => Poll::Ready((output, before - remaining())),
            Poll::Pending => {
                assert_eq!(remaining(), before, "an operation not ready spent nothing");
                Poll::Pending
            }
        }
    })
    .await
}

#[cashier::test]
async fn every_resource_spends_one_unit_when_it_completes() {
    let mut spent = Vec::new();
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    spent.push(("mpsc recv", units_spent(rx.recv()).await.1));
    // A receive that had to wait spends nothing when its message comes: the task returned
    // `Pending` for it, so it already let the others run.
    let (later_tx, mut later_rx) = mpsc::channel(1);
    spawn(async move { later_tx.send(5).await.unwrap() });
    let waited = units_spent(later_rx.recv()).await;
    assert_eq!(waited, (Some(5), 0), "a receive that waited spends nothing");
    let (tx, rx) = mpsc::channel(1);
    // A send that queues spends nothing (a bounded channel fills up; see `mpsc::Send`); one
    // that fails does (a loop over a closed channel would never end).
    let (sent, units) = units_spent(tx.send(1)).await;
    assert_eq!((sent, units), (Ok(()), 0), "a send that queues its message spends nothing");
    drop(rx);
    spent.push(("mpsc send to a closed channel", units_spent(tx.send(2)).await.1));
    let (tx, rx) = oneshot::channel();
    tx.send(1).unwrap();
    spent.push(("oneshot", units_spent(rx).await.1));
    let semaphore = Semaphore::new(1);
    spent.push(("semaphore", units_spent(semaphore.acquire()).await.1));
    let mutex = Mutex::new(1);
    spent.push(("mutex", units_spent(mutex.lock()).await.1));
    let event = Event::new();
    event.set();
    spent.push(("event", units_spent(event.wait()).await.1));
    let handle = spawn(async { 7 });
    yield_now().await; // the task runs: its handle is ready at the first poll
    spent.push(("join handle", units_spent(handle).await.1));
    spent.push(("sleep", units_spent(sleep(Duration::from_millis(1))).await.1));
    let mut interval = cashier::time::interval(Duration::from_millis(1));
    spent.push(("interval tick", units_spent(interval.tick()).await.1));
    spent.push(("to_thread", units_spent(to_thread(|| 5)).await.1));
    let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    a.connect(b.local_addr().unwrap()).unwrap();
    spent.push(("udp send", units_spent(a.send(b"x")).await.1));
    spent.push(("udp recv", units_spent(b.recv(&mut [0u8; 1])).await.1));
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (accepted, spent_accepting) = units_spent(listener.accept()).await;
    spent.push(("tcp accept", spent_accepting));
    let (server, _) = accepted.unwrap();
    spent.push(("tcp write", units_spent(client.write(b"ping")).await.1));
    spent.push(("tcp read", units_spent(server.read(&mut [0u8; 4])).await.1));
    for (what, units) in spent {
        assert_eq!(units, 1, "{what} spent {units} units");
    }
}

/// Runs `body` on a paused runtime with metrics on; returns how many times the budget refused.
fn budget_yields(body: impl Future<Output = ()> + 'static) -> u64 {
    let runtime = Runtime::builder().start_paused(true).metrics(true).build().unwrap();
    runtime.block_on(async move { spawn(body).await.unwrap() });
    runtime.metrics().events.expect("metrics(true) counts the events").budget_yields
}

/// `n` operations that are always ready: a permit taken and given back.
async fn ready_operations(semaphore: &Semaphore, n: u64) {
    for _ in 0..n {
        drop(semaphore.acquire().await.unwrap());
    }
}

#[test]
fn the_budget_is_fresh_at_each_poll() {
    let refused = budget_yields(async {
        let semaphore = Semaphore::new(1);
        for _ in 0..10 {
            ready_operations(&semaphore, BUDGET - 1).await;
            yield_now().await;
        }
    });
    assert_eq!(refused, 0, "127 operations per poll never reach the end of a budget");
    let refused = budget_yields(async {
        let semaphore = Semaphore::new(1);
        ready_operations(&semaphore, 1_000).await;
    });
    assert_eq!(refused, 7, "1,000 operations in a row: refused after each 128");
}

#[cashier::test(start_paused = true)]
async fn a_refused_operation_takes_nothing_and_is_polled_again() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..1_000 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut received = Vec::new();
    while let Some(i) = rx.recv().await {
        received.push(i);
    }
    assert_eq!(received, (0..1_000).collect::<Vec<_>>(), "every message, once, in order");
}

#[test]
fn unconstrained_is_never_refused_and_consume_budget_is() {
    let refused = budget_yields(async {
        let semaphore = Semaphore::new(1);
        unconstrained(async {
            assert_eq!(remaining(), UNCONSTRAINED);
            ready_operations(&semaphore, 1_000).await;
        })
        .await;
        assert_eq!(remaining(), BUDGET, "the budget is back as unconstrained found it");
    });
    assert_eq!(refused, 0);
    let refused = budget_yields(async {
        for _ in 0..1_000 {
            consume_budget().await;
        }
    });
    assert_eq!(refused, 7, "a pure loop through consume_budget yields like a resource loop");
}

#[test]
fn a_timeout_fires_even_when_its_future_spent_the_budget() {
    // The inner future spends every unit at each poll and is refused; the deadline is checked
    // outside the budget, so it still fires (on the real clock: see the module doc).
    let result = within_a_watchdog("timeout over consume_budget", || {
        Runtime::new().unwrap().block_on(async {
            timeout(Duration::from_millis(5), async {
                loop {
                    consume_budget().await;
                }
            })
            .await
        })
    });
    assert!(result.is_err());
}

#[test]
fn outside_any_poll_nothing_is_counted() {
    assert_eq!(remaining(), UNCONSTRAINED);
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async { assert_eq!(remaining(), BUDGET) });
    assert_eq!(remaining(), UNCONSTRAINED, "block_on put it back");
}

/// Child `A` of each combinator below: ready operations until `B` says stop. Before the
/// combinators shared the budget, `A` (polled first) spent every budget and `B` was refused at
/// each poll, forever.
async fn busy_until(stop: &Cell<bool>) -> &'static str {
    while !stop.get() {
        consume_budget().await;
    }
    "busy"
}

/// Child `B`: one ready operation, then it stops `A`.
async fn stopper(stop: &Cell<bool>) -> &'static str {
    consume_budget().await;
    stop.set(true);
    "stopper"
}

/// `A` and `B` as one type, for the combinators over a list.
fn both(stop: &Cell<bool>) -> [std::pin::Pin<Box<dyn Future<Output = &'static str> + '_>>; 2] {
    [Box::pin(busy_until(stop)), Box::pin(stopper(stop))]
}

/// Runs `body` with a flag shared by both children, on a paused runtime, under the watchdog.
fn with_a_busy_sibling<T: Send + 'static>(
    what: &'static str,
    body: impl AsyncFnOnce(&Cell<bool>) -> T + Send + 'static,
) -> T {
    within_a_watchdog(what, move || {
        let runtime = Runtime::builder().start_paused(true).build().unwrap();
        runtime.block_on(async move {
            let stop = Cell::new(false);
            body(&stop).await
        })
    })
}

#[test]
fn every_combinator_polls_a_sibling_of_an_always_ready_child() {
    use cashier::task::{Either, as_completed, gather, race, select};

    let out = with_a_busy_sibling("gather!", async |stop| {
        cashier::gather!(busy_until(stop), stopper(stop)).await
    });
    assert_eq!(out, ("busy", "stopper"));
    let out = with_a_busy_sibling("gather", async |stop| gather(both(stop)).await);
    assert_eq!(out, ["busy", "stopper"]);
    let out = with_a_busy_sibling("race", async |stop| race(both(stop)).await);
    assert_eq!(out, (1, "stopper"));
    let out =
        with_a_busy_sibling("select", async |stop| select(busy_until(stop), stopper(stop)).await);
    assert_eq!(out, Either::Right("stopper"));
    let out = with_a_busy_sibling("as_completed", async |stop| {
        let mut done = as_completed(both(stop));
        let first = done.next().await.unwrap();
        let second = done.next().await.unwrap();
        [first, second]
    });
    assert_eq!(out, ["stopper", "busy"]);
}
