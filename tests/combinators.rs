//! The asyncio API on the paused clock: gather and as_completed over real sleeps, instantly.

use std::time::Duration;

use cashier::{as_completed, gather, now, sleep, spawn};

#[cashier::test(start_paused = true)]
async fn as_completed_yields_in_completion_order() {
    let start = now();
    let mut finished = as_completed([30u64, 10, 20].map(|ms| async move {
        sleep(Duration::from_millis(ms)).await;
        ms
    }));
    let mut order = Vec::new();
    while let Some((index, ms)) = finished.next_with_index().await {
        assert_eq!(now() - start, Duration::from_millis(ms), "returned the moment it finished");
        order.push((index, ms));
    }
    assert_eq!(order, [(1, 10), (2, 20), (0, 30)]);
}

#[cashier::test(start_paused = true)]
async fn as_completed_over_spawned_tasks_like_the_tutorial() {
    // site_status.py: tasks are created first, then consumed with as_completed.
    let tasks: Vec<_> = [300u64, 100, 200]
        .into_iter()
        .map(|ms| {
            spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                ms
            })
        })
        .collect();
    let mut finished = as_completed(tasks);
    let mut order = Vec::new();
    while let Some(result) = finished.next().await {
        order.push(result.unwrap());
    }
    assert_eq!(order, [100, 200, 300]);
}

#[cashier::test(start_paused = true)]
async fn gather_keeps_input_order_and_takes_the_longest_time() {
    let start = now();
    let outputs = gather([30u64, 10, 20].map(|ms| async move {
        sleep(Duration::from_millis(ms)).await;
        ms
    }))
    .await;
    assert_eq!(outputs, [30, 10, 20]);
    assert_eq!(now() - start, Duration::from_millis(30), "concurrently, not one after another");
}

#[cfg(feature = "futures-core")]
#[cashier::test(start_paused = true)]
async fn as_completed_is_a_futures_stream() {
    use std::future::poll_fn;
    use std::pin::Pin;

    use futures_core::Stream;

    let mut stream = as_completed([2u64, 1].map(|ms| async move {
        sleep(Duration::from_millis(ms)).await;
        ms
    }));
    assert_eq!(Stream::size_hint(&stream), (2, Some(2)));
    let first = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
    let second = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
    let end = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
    assert_eq!((first, second, end), (Some(1), Some(2), None));
}
