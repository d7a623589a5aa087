//! names_ages: the tutorial's first script, two coroutines sharing one event loop.
//!
//! ```python
//! async def print_names():
//!     for name in ["John", "Kate", "Mike", "Alex", "Anne"]:
//!         print(name)
//!         await asyncio.sleep(random.random())
//!
//! async def print_ages():
//!     for age in range(20, 40, 2):
//!         print(age)
//!         await asyncio.sleep(random.random() / 2)
//!
//! loop.run_until_complete(asyncio.gather(print_names(), print_ages()))
//! ```
//!
//! While one coroutine sleeps, the loop runs the other, so the lines interleave differently on
//! each run. Both draw from one random generator, as the Python script does from `random`; with a
//! seed (and the paused clock) the interleaving is the same every time.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::output::Output;

/// The names, in the order printed.
pub const NAMES: [&str; 5] = ["John", "Kate", "Mike", "Alex", "Anne"];

/// Prints the names, sleeping up to 1 s after each.
pub async fn print_names(out: Output, rng: Rc<RefCell<fastrand::Rng>>) {
    for name in NAMES {
        out.line(name);
        let pause = rng.borrow_mut().f64();
        cashier::sleep(Duration::from_secs_f64(pause)).await;
    }
}

/// Prints the ages 20, 22, ..., 38, sleeping up to 0.5 s after each.
pub async fn print_ages(out: Output, rng: Rc<RefCell<fastrand::Rng>>) {
    for age in (20..40).step_by(2) {
        out.line(age);
        let pause = rng.borrow_mut().f64() / 2.0;
        cashier::sleep(Duration::from_secs_f64(pause)).await;
    }
}

/// Runs both together, like `asyncio.gather(print_names(), print_ages())`: asyncio's `gather`
/// wraps each coroutine in a task, so here each runs as a task named "names" or "ages", and
/// `gather!` awaits the two handles.
pub async fn run(out: Output, seed: Option<u64>) {
    let rng = Rc::new(RefCell::new(seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed)));
    let names = crate::spawn_named("names", print_names(out.clone(), rng.clone()));
    let ages = crate::spawn_named("ages", print_ages(out, rng));
    let (names, ages) = cashier::gather!(names, ages).await;
    for done in [names, ages] {
        // A panic in either coroutine goes on to the caller, as it did inside `gather!`.
        if let Err(error) = done
            && let Ok(panic) = error.try_into_panic()
        {
            std::panic::resume_unwind(panic);
        }
    }
}
