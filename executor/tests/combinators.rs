//! gather, try_gather, gather!, as_completed, select, race and JoinSet: order guarantees,
//! cancellation, and the poll counts that prove a wake re-polls only its own child.

mod support;

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use cashier_executor::sync::Event;
use cashier_executor::{
    Either, Executor, JoinSet, as_completed, gather, race, select, spawn, try_gather, yield_now,
};
use support::{DropCounter, DropToken, with_watchdog, yield_times};

/// Pending on its first poll (parking its waker in `wakers`), ready on the next; counts polls.
struct OneWake {
    polls: Rc<Cell<u64>>,
    wakers: Rc<std::cell::RefCell<Vec<Waker>>>,
    woken: bool,
}

impl Future for OneWake {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        if self.woken {
            return Poll::Ready(());
        }
        self.woken = true;
        self.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn gathering_100k_futures_that_wake_once_costs_2n_polls() {
    // Under Miri: a hundred children, the gather run after every tenth wake. Tree Borrows' cost
    // grows much faster than the number of wakers pointing into the one node array.
    const N: u64 = if cfg!(miri) { 100 } else { 100_000 };
    const RUN_EVERY: usize = if cfg!(miri) { 10 } else { 1000 };
    let polls = Rc::new(Cell::new(0));
    let wakers = Rc::new(std::cell::RefCell::new(Vec::new()));
    let executor = Executor::new();
    let gathered = executor.spawn(gather((0..N).map(|_| OneWake {
        polls: polls.clone(),
        wakers: wakers.clone(),
        woken: false,
    })));
    executor.block_on(yield_now()); // the first poll of every child
    assert_eq!(polls.get(), N);
    // Wake them one at a time, letting the gather run after each wake: a naive join would re-poll
    // every pending child each time, n²/2 = 5e9 polls. Ours polls the woken child only.
    let all: Vec<Waker> = wakers.borrow_mut().drain(..).collect();
    for (i, waker) in all.into_iter().enumerate() {
        waker.wake();
        if i % RUN_EVERY == 0 {
            executor.block_on(yield_now());
        }
    }
    assert_eq!(executor.block_on(gathered).unwrap().len(), N as usize);
    assert_eq!(polls.get(), 2 * N, "exactly one poll per child per wake, plus the first");
}

#[test]
fn gather_keeps_input_order_while_completions_happen_in_another() {
    let finished = Rc::new(std::cell::RefCell::new(Vec::new()));
    let outputs = Executor::new().block_on(gather([3usize, 1, 2].map(|steps| {
        let finished = finished.clone();
        async move {
            yield_times(steps).await;
            finished.borrow_mut().push(steps);
            steps * 10
        }
    })));
    assert_eq!(*finished.borrow(), [1, 2, 3], "completions in step order");
    assert_eq!(outputs, [30, 10, 20], "outputs in input order");
}

#[test]
fn gather_of_nothing_is_ready_at_once() {
    let empty: Vec<std::future::Ready<u8>> = Vec::new();
    assert_eq!(Executor::new().block_on(gather(empty)), Vec::<u8>::new());
}

/// A future that holds a drop token, waits `steps` yields, then returns `result`.
async fn step_then(
    steps: usize,
    result: Result<u32, &'static str>,
    _token: DropToken,
) -> Result<u32, &'static str> {
    yield_times(steps).await;
    result
}

#[test]
fn try_gather_returns_the_first_error_after_dropping_the_others() {
    let drops = DropCounter::default();
    let executor = Executor::new();
    let result = executor.block_on({
        let drops = drops.clone();
        async move {
            let result = try_gather([
                Box::pin(step_then(50, Ok(1), drops.token())) as Pin<Box<dyn Future<Output = _>>>,
                Box::pin(step_then(2, Err("oven broke"), drops.token())),
                Box::pin({
                    let token = drops.token();
                    async move {
                        let _token = token;
                        std::future::pending::<Result<u32, &'static str>>().await
                    }
                }),
            ])
            .await;
            // Checked before the `TryGather` itself is dropped: the others were dropped already.
            (result, drops.count())
        }
    });
    assert_eq!(result, (Err("oven broke"), 3), "the error, with all three futures dropped");
    let ok = executor.block_on(try_gather([1, 2].map(|n| async move { Ok::<_, ()>(n) })));
    assert_eq!(ok, Ok(vec![1, 2]));
}

#[test]
fn gather_macro_mixes_types() {
    let (a, b, c) = Executor::new().block_on(async {
        cashier_executor::gather!(
            async {
                yield_times(2).await;
                "burger"
            },
            async { 3u8 },
            async {
                yield_now().await;
                vec!['f', 'r', 'i', 'e', 's']
            },
        )
        .await
    });
    assert_eq!((a, b, c.len()), ("burger", 3, 5));
}

#[test]
fn as_completed_on_join_handles_yields_completion_order_and_indices() {
    let order = Executor::new().block_on(async {
        let handles: Vec<_> = [4usize, 0, 2, 1]
            .into_iter()
            .map(|steps| {
                spawn(async move {
                    yield_times(steps).await;
                    if steps == 2 {
                        panic!("burnt");
                    }
                    steps
                })
            })
            .collect();
        let mut finished = as_completed(handles);
        assert_eq!(finished.remaining(), 4);
        let mut order = Vec::new();
        while let Some((index, result)) = finished.next_with_index().await {
            order.push((index, result.map_err(|e| e.to_string())));
        }
        assert!(finished.next().await.is_none());
        order
    });
    assert_eq!(
        order,
        [(1, Ok(0)), (3, Ok(1)), (2, Err("task panicked: burnt".to_string())), (0, Ok(4))],
        "a failing task is reported in its turn and the rest go on"
    );
}

#[test]
fn select_and_race_drop_the_losers() {
    let drops = DropCounter::default();
    let executor = Executor::new();
    let winner = executor.block_on(select(
        {
            let token = drops.token();
            async move {
                let _token = token;
                std::future::pending::<()>().await
            }
        },
        async { "quick" },
    ));
    assert_eq!(winner, Either::Right("quick"));
    assert_eq!(drops.count(), 1, "the loser was dropped");

    let (index, steps) = executor.block_on(race([7usize, 3, 5].map(|steps| {
        let token = drops.token();
        async move {
            let _token = token;
            yield_times(steps).await;
            steps
        }
    })));
    assert_eq!((index, steps), (1, 3));
    assert_eq!(
        drops.count(),
        4,
        "all three runners dropped: the winner after finishing, the losers at once"
    );
}

#[test]
fn join_set_joins_in_completion_order_and_aborts_on_drop() {
    let drops = DropCounter::default();
    let executor = Executor::new();
    executor.block_on({
        let drops = drops.clone();
        async move {
            let mut set = JoinSet::new();
            for steps in [3usize, 1, 2] {
                set.spawn(async move {
                    yield_times(steps).await;
                    steps
                });
            }
            assert_eq!(set.len(), 3);
            let mut order = Vec::new();
            while let Some(result) = set.join_next().await {
                order.push(result.unwrap());
            }
            assert_eq!(order, [1, 2, 3]);
            assert!(set.is_empty());

            for _ in 0..3 {
                let token = drops.token();
                set.spawn(async move {
                    let _token = token;
                    std::future::pending::<usize>().await
                });
            }
            yield_now().await; // they start
            drop(set); // structured: the tasks are aborted with the set
            yield_now().await; // the executor drops their futures
        }
    });
    assert_eq!(drops.count(), 3, "every task of the dropped set was cancelled");
    assert_eq!(executor.alive_tasks(), 0);
}

#[test]
fn join_set_reports_panics_and_cancellations() {
    Executor::new().block_on(async {
        let mut set = JoinSet::new();
        set.spawn(async { panic!("dropped the tray") });
        set.spawn(std::future::pending::<()>());
        let first = set.join_next().await.unwrap().unwrap_err();
        assert!(first.is_panic());
        set.abort_all();
        assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn an_event_releases_every_waiter() {
    let event = Rc::new(Event::new());
    let released = Executor::new().block_on({
        let event = event.clone();
        async move {
            let waiters = gather((0..5).map(|_| {
                let event = event.clone();
                async move { event.wait().await }
            }));
            let setter = async {
                yield_now().await;
                event.set();
            };
            cashier_executor::gather!(waiters, setter).await.0.len()
        }
    });
    assert_eq!(released, 5);
}

#[test]
fn children_woken_from_other_threads_are_never_lost() {
    const CHILDREN: usize = 8;
    const WAKES: usize = if cfg!(miri) { 200 } else { 20_000 };
    with_watchdog("gather woken from other threads", std::time::Duration::from_secs(600), || {
        let counters: Arc<Vec<std::sync::atomic::AtomicUsize>> =
            Arc::new((0..CHILDREN).map(|_| std::sync::atomic::AtomicUsize::new(0)).collect());
        let slots: Arc<Vec<std::sync::Mutex<Option<Waker>>>> =
            Arc::new((0..CHILDREN).map(|_| std::sync::Mutex::new(None)).collect());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (counters, slots) = (counters.clone(), slots.clone());
                std::thread::spawn(move || {
                    for i in 0..WAKES * CHILDREN / 2 {
                        let k = i % CHILDREN;
                        counters[k].fetch_add(1, std::sync::atomic::Ordering::Release);
                        let waker = slots[k].lock().unwrap().clone();
                        if let Some(waker) = waker {
                            waker.wake();
                        }
                    }
                })
            })
            .collect();
        let totals = Executor::new().block_on(gather((0..CHILDREN).map(|k| {
            let (counters, slots) = (counters.clone(), slots.clone());
            poll_fn(move |cx| {
                *slots[k].lock().unwrap() = Some(cx.waker().clone());
                let seen = counters[k].load(std::sync::atomic::Ordering::Acquire);
                if seen == WAKES { Poll::Ready(seen) } else { Poll::Pending }
            })
        })));
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(totals.iter().all(|&t| t == WAKES));
    });
}

/// A child that is ready once its gate is opened; it parks its waker until then.
struct Gate {
    open: Rc<Cell<bool>>,
    waker: Rc<std::cell::RefCell<Option<Waker>>>,
}

impl Future for Gate {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.open.get() {
            return Poll::Ready(());
        }
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Counts how often the combinator's own task is woken.
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn as_completed_finds_a_child_woken_while_others_wait_in_its_list() {
    // Found in review: `as_completed` returns as soon as one child finishes, leaving other woken
    // children queued; a child woken after that must still be found, or nothing wakes us again.
    let gates: Vec<_> = (0..3).map(|_| (Rc::new(Cell::new(false)), Rc::default())).collect();
    let mut finished = as_completed(
        gates.iter().map(|(open, waker)| Gate { open: open.clone(), waker: Rc::clone(waker) }),
    );
    let counter = Arc::new(CountingWaker(std::sync::atomic::AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let wake_child = |k: usize| gates[k].1.borrow_mut().take().expect("parked").wake();

    assert!(finished.poll_next_with_index(&mut cx).is_pending()); // all three wait
    gates[0].0.set(true);
    wake_child(0); // A is ready
    wake_child(1); // B is woken but not ready
    assert!(matches!(finished.poll_next_with_index(&mut cx), Poll::Ready(Some((0, ()))))); // B stays queued
    gates[2].0.set(true);
    let wakes_before = counter.0.load(std::sync::atomic::Ordering::SeqCst);
    wake_child(2); // C is ready
    assert!(
        counter.0.load(std::sync::atomic::Ordering::SeqCst) > wakes_before,
        "C's wake reached us"
    );
    assert!(
        matches!(finished.poll_next_with_index(&mut cx), Poll::Ready(Some((2, ())))),
        "C was found"
    );
    gates[1].0.set(true);
    wake_child(1);
    assert!(matches!(finished.poll_next_with_index(&mut cx), Poll::Ready(Some((1, ())))));
    assert!(matches!(finished.poll_next_with_index(&mut cx), Poll::Ready(None)));
}
