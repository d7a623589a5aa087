//! `run_commands`: the asyncio tutorial's third script on cashier. See
//! `cashier_demos::run_commands`.

use std::process::ExitCode;

use cashier_demos::{Output, WatchArgs, run_commands, runtime};
use clap::Parser;

/// Runs shell commands side by side: each blocking `std::process::Command` runs on the blocking
/// pool through `to_thread`, the tasks are gathered, and each prints its output when it finishes.
///
/// This is the asyncio tutorial's run_commands.py (asyncio.to_thread + subprocess.run), on
/// cashier. Exits with 1 if any command could not run or failed.
#[derive(Parser)]
#[command(name = "run_commands", version)]
struct Args {
    /// Commands to run, one per argument, split into words like a shell (quotes group words)
    /// (default: "whoami" "ping -c 5 google.com" "lsb_release -a" "python3 --version").
    commands: Vec<String>,
    /// How to show the runtime at work.
    #[command(flatten)]
    watch: WatchArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let commands = match run_commands::commands_from_args(&args.commands) {
        Ok(commands) => commands,
        Err(error) => {
            eprintln!("run_commands: {error}");
            return ExitCode::FAILURE;
        }
    };
    let total = commands.len();
    let mut runtime = match runtime(false, &args.watch) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("run_commands: {error}");
            return ExitCode::FAILURE;
        }
    };
    let succeeded = runtime.block_on(run_commands::run(Output::stdout(), commands));
    args.watch.report(&runtime);
    if succeeded == total { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
