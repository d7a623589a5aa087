//! The five mistakes the debug checks name, each made on purpose, one after another:
//!
//! ```sh
//! cargo run --example mistakes
//! ```
//!
//! Every program here is wrong in one way a newcomer's async code often is. The runtime runs with
//! `debug_checks(true)` (any program gets the same with `CASHIER_DEBUG=1`), on a paused clock so
//! that the timers of a correct program would not slow the demonstration down; the slow poll is
//! measured on the real clock all the same, since a blocked thread is a real-time matter.

use std::future::poll_fn;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;
use std::time::{Duration, Instant};

use cashier::task::Builder;
use cashier::{DebugChecks, Runtime, sync::mpsc, yield_now};

/// A runtime with every check on; each warning is printed on standard error as it is raised.
fn watched() -> Runtime {
    Runtime::builder()
        .start_paused(true)
        .debug_checks(DebugChecks::new())
        .build()
        .expect("a runtime")
}

fn main() {
    // A panic inside a task is contained and reported through its handle; keep the default hook
    // from printing it too, so that what shows is the runtime's own words.
    std::panic::set_hook(Box::new(|_| {}));

    heading("1. lost waker: a hand-written future returns Pending without keeping the waker");
    watched().block_on(async {
        let forgetful = poll_fn(|_| Poll::<()>::Pending); // nobody will ever call its waker
        let handle = Builder::new().name("forgetful").spawn(forgetful).expect("in a runtime");
        yield_now().await; // let it run once
        handle.abort();
    });

    heading("2. slow poll: a task blocks the thread for 150 ms");
    watched().block_on(async {
        let hog = async {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(150) {} // std::thread::sleep would do the same
        };
        Builder::new().name("hog").spawn(hog).expect("in a runtime").await.unwrap();
    });

    heading("3. unretrieved failure: a task panics and nobody looks at its handle");
    watched().block_on(async {
        let fryer = async { panic!("the fryer caught fire") };
        drop(Builder::new().name("fryer").spawn(fryer).expect("in a runtime"));
        yield_now().await;
    });

    heading("4. self-wake storm: a busy loop disguised as async");
    watched().block_on(async {
        let spinner = async {
            for _ in 0..20_000 {
                yield_now().await; // "checking whether it is ready yet", with nothing else to do
            }
        };
        Builder::new().name("spinner").spawn(spinner).expect("in a runtime").await.unwrap();
    });

    heading("5. hang: a task waits on a channel whose only sender it holds itself");
    let hung = catch_unwind(AssertUnwindSafe(|| {
        watched().block_on(async {
            let stuck = async {
                let (sender, mut receiver) = mpsc::channel::<u32>(1);
                let _kept = sender; // the only sender, kept alive here: nothing will ever send
                receiver.recv().await
            };
            Builder::new().name("stuck").spawn(stuck).expect("in a runtime").await.unwrap();
        })
    }));
    match hung {
        Err(panic) => eprintln!("block_on panicked: {}", message(&*panic)),
        Ok(_) => eprintln!("block_on returned (the hang check did not fire)"),
    }
}

/// Prints a section title on standard error, where the warnings go.
fn heading(title: &str) {
    eprintln!("\n── {title}");
}

/// The text of a panic's payload.
fn message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(not a string)")
}
