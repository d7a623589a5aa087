//! What several of the `cashier` crate's test files share: a watchdog that turns a hang into a
//! failure with a name.
//!
//! Each test binary that uses it declares `mod support;`: Cargo builds every file of `tests/` as
//! its own crate, and a directory with a `mod.rs` is not one of them.

use std::time::Duration;

/// Runs `f` on its own thread and fails the test, naming `what` as the hang, if it has not
/// returned within `limit` of real time. Only a hang can take that long: the limit is never part
/// of an assertion. A panic in `f` is the test's panic.
pub fn within_a_watchdog<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("hang: {what} never ended (watchdog: {limit:?})"),
    }
}
