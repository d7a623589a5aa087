//! `kill -QUIT <pid>` on a running demo prints the task dump to standard error, and the demo goes
//! on (the JVM's thread dump on `SIGQUIT`, for tasks).
//!
//! Each binary calls [`listen`] first thing in the future its runtime runs. It spawns one task,
//! named `dump on SIGQUIT`, that waits for the signal through the reactor
//! ([`cashier::signal`]), prints [`cashier::task::dump`] and waits again. It keeps nothing
//! alive: a demo ends when its main future does, and the runtime drops the waiting task with
//! the rest.
//!
//! # How much the dump says
//!
//! The demos run unwatched by default, and an unwatched runtime keeps no task table: the dump
//! is then the number of live tasks and the hint to turn on the debug checks. With
//! `CASHIER_DEBUG=1` (or any of `--explain`, `--timeline`, `--trace`), it is the full table:
//! each task's state, age, polls, time busy and what it waits on. We leave it so rather than
//! watch every run for a signal that seldom comes: a watched runtime sends every event through
//! the recorder and keeps a row per task ever spawned.
//!
//! The listener is a task that waits on an fd another process can ring, so while it lives the
//! debug checks' hang check cannot call the demo hung: a signal could still wake it.

/// The header printed above each dump, so a reader of a mixed standard error finds it.
pub const HEADER: &str = "── SIGQUIT: task dump (the demo goes on)";

/// Spawns the task that prints the dump on each `SIGQUIT`. If the signal cannot be listened for
/// (the OS refuses an fd), says so on standard error and runs the demo without it.
///
/// # Panics
/// Outside a cashier runtime; the demos call it from the future their runtime runs.
pub fn listen() {
    let mut quits = match cashier::signal::signal(cashier::signal::SignalKind::quit()) {
        Ok(quits) => quits,
        Err(error) => {
            eprintln!("cannot listen for SIGQUIT (kill -QUIT will end the demo): {error}");
            return;
        }
    };
    crate::spawn_named("dump on SIGQUIT", async move {
        while quits.recv().await.is_some() {
            eprint!("{HEADER}\n{}", cashier::task::dump());
        }
    });
}
