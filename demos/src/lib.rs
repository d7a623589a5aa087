//! # cashier-demos
//!
//! The asyncio tutorial's three scripts, redone on cashier, plus their combination and the small
//! HTTP client they need. Each demo is a module (the logic, testable with captured output on a
//! paused clock) and a binary under `src/bin/` (the command line):
//!
//! | binary | asyncio original | shows |
//! | --- | --- | --- |
//! | `names_ages` | `names_ages.py` | two coroutines interleaving under `gather` |
//! | `site_status` | `site_status.py` | concurrent GETs consumed with `as_completed` |
//! | `run_commands` | `run_commands.py` | blocking calls moved off the loop with `to_thread` |
//! | `kitchen` | the tutorial's closing suggestion | the last two together, in one loop |
//! | `orders` | (cashier's own) | the cashier analogy on the executor alone |
//!
//! `http` is the client `site_status` uses: plain and TLS connections on cashier's sockets,
//! httparse for responses, redirects, a keep-alive pool.

pub mod http;
pub mod names_ages;
pub mod output;
pub mod run_commands;
pub mod site_status;

pub use output::Output;

/// The runtime a demo binary runs on: real time, or the paused clock with `--virtual-time`
/// (sleeps take no real time; the output is the same on every machine).
pub fn runtime(virtual_time: bool) -> Result<cashier::Runtime, String> {
    cashier::Runtime::builder()
        .start_paused(virtual_time)
        .build()
        .map_err(|error| format!("cannot start the cashier runtime: {error}"))
}

/// Parses a timeout in seconds from the command line.
pub fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    std::time::Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?}: the timeout must be a positive number of seconds"))
}
