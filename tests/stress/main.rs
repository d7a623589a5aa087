//! The stress suite (issue 12): the runtime under load it is not tested with elsewhere, each
//! scenario under a watchdog that turns a hang into a failure naming it.
//!
//! - `task_churn`: 1,000,000 tasks spawned and freed in batches, the resident set flat;
//! - `remote_wakes`: 4 threads × 1,000,000 wakes, each of a task of its own, none lost;
//! - `abort_vs_remote_wakes`: 1,000,000 tasks aborted while other threads wake them;
//! - `tcp_echo_concurrent`: 10,000 concurrent loopback TCP echo connections;
//! - `reset_mid_transfer`: 1,000 clients resetting mid-transfer, no registration left behind;
//! - `paused_timers`: 100,000 sleeps on the paused clock, in order, never early.
//!
//! Those are the full scale's numbers. By default (`cargo test`, as CI runs it) every scenario
//! runs at a small scale, done in seconds in a debug build; under valgrind at a tiny one. The
//! full run takes about half a minute in a release build (figures in STRESS.md):
//!
//! ```text
//! CASHIER_STRESS=full cargo test --release --test stress
//! ```
//!
//! This binary has its own harness (`harness = false`, `harness.rs`): the scenarios run one at
//! a time, so that each one's memory figures are its own, and libtest's flags (filters,
//! `--skip`, `--exact`, `--quiet`, `--test-threads`, ...) are accepted.

mod abort;
mod churn;
mod echo;
mod fd_limit;
mod harness;
mod reset;
mod timers;
mod wakes;

use harness::Scenario;

fn main() {
    if std::env::var(echo::ROLE_ENV).is_ok_and(|role| role == "echo-clients") {
        echo::clients_main();
    }
    harness::main(&[
        Scenario { name: "task_churn", run: churn::run },
        Scenario { name: "remote_wakes", run: wakes::run },
        Scenario { name: "abort_vs_remote_wakes", run: abort::run },
        Scenario { name: "tcp_echo_concurrent", run: echo::run },
        Scenario { name: "reset_mid_transfer", run: reset::run },
        Scenario { name: "paused_timers", run: timers::run },
    ]);
}
