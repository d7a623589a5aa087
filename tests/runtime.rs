//! The facade: `cashier::run`, `cashier::Runtime`, and the re-exported task API working together.

use std::cell::RefCell;
use std::rc::Rc;

use cashier::{Runtime, spawn, yield_now};

#[test]
fn run_is_asyncio_run() {
    let out = cashier::run(async {
        let a = spawn(async { "fries" });
        let b = spawn(async { "burger" });
        (a.await.unwrap(), b.await.unwrap())
    });
    assert_eq!(out, ("fries", "burger"));
}

#[test]
fn customers_are_served_as_their_orders_get_ready_not_in_arrival_order() {
    // Three customers order; each steps aside (yields) as many times as their food takes. The
    // cashier serves whoever is ready: the quick order first, although it arrived last.
    let served = Rc::new(RefCell::new(Vec::new()));
    cashier::run({
        let served = served.clone();
        async move {
            let orders = [("slow burger", 5), ("medium fries", 3), ("quick drink", 1)];
            let handles: Vec<_> = orders
                .into_iter()
                .map(|(name, steps)| {
                    let served = served.clone();
                    spawn(async move {
                        for _ in 0..steps {
                            yield_now().await;
                        }
                        served.borrow_mut().push(name);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        }
    });
    assert_eq!(*served.borrow(), ["quick drink", "medium fries", "slow burger"]);
}

#[test]
fn a_runtime_keeps_pending_tasks_between_block_on_calls_and_cancels_them_on_drop() {
    let runtime = Runtime::new().unwrap();
    let forever = runtime.spawn(std::future::pending::<()>());
    let quick = runtime.spawn(async { 1 });
    assert_eq!(runtime.block_on(quick).unwrap(), 1);
    assert_eq!(runtime.alive_tasks(), 1);
    drop(runtime);
    assert!(forever.is_finished());
    assert!(cashier::run(forever).unwrap_err().is_cancelled());
}

#[test]
fn panics_in_tasks_are_contained() {
    let result = cashier::run(async { spawn(async { panic!("order lost") }).await });
    assert_eq!(result.unwrap_err().to_string(), "task panicked: order lost");
}
