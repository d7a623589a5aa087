//! Step through names_ages one scheduling decision at a time: one Enter, one step.
//!
//! ```sh
//! cargo run --example step            # seed 3
//! cargo run --example step -- 7       # another seed, another interleaving
//! ```
//!
//! Each step is one `Runtime::step`: one poll of one task, or one reactor turn. After each, the
//! block shows what the program printed, the explain mode's lines, the run queue, the timers
//! waiting in the wheel and the registered sockets. A number N takes N steps; `q` quits.
//!
//! The runtime runs on a paused clock with a fixed seed, so the same input gives the same
//! output on every machine: `printf '\n\n5\nq\n' | cargo run --example step` is a transcript
//! (when standard input is not a terminal, each input line is echoed after the prompt). The
//! engine is `cashier_demos::stepper`; `tests/step.rs` drives it with in-memory input, and runs
//! this program with piped input.

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let seed = match std::env::args().nth(1).map(|arg| arg.parse::<u64>()) {
        None => 3,
        Some(Ok(seed)) => seed,
        Some(Err(_)) => {
            eprintln!("usage: step [SEED]   (SEED: a whole number; default 3)");
            return ExitCode::FAILURE;
        }
    };
    let stdin = std::io::stdin();
    let stepper = match cashier_demos::stepper::names_ages(seed) {
        Ok(stepper) => stepper,
        Err(error) => {
            eprintln!("step: cannot start the cashier runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("names_ages, seed {seed}, on a paused clock: one scheduling decision per step.");
    let mut stepper = stepper.echo_input(!stdin.is_terminal());
    match stepper.interact(stdin.lock(), std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("step: {error}");
            ExitCode::FAILURE
        }
    }
}
