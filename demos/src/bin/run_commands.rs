//! `run_commands`: the asyncio tutorial's third script on cashier. See
//! `cashier_demos::run_commands`.

use std::process::ExitCode;
use std::time::Duration;

use cashier_demos::run_commands::{self, RunOptions};
use cashier_demos::{
    EXIT_STATUS_HELP, Finished, Output, WatchArgs, bad_arguments, block_on_or_ctrl_c,
    could_not_run, exit_status, interrupted, parse_seconds, runtime,
};
use clap::Parser;

/// Runs shell commands side by side: each blocking `std::process::Command` runs on the blocking
/// pool through `to_thread`, the tasks are gathered, and each prints its output when it finishes.
///
/// This is the asyncio tutorial's run_commands.py (asyncio.to_thread + subprocess.run), on
/// cashier, and it stays the default. With --native, the commands run through cashier::process
/// instead, asyncio's better answer, asyncio.create_subprocess_exec: each child's exit (a pidfd)
/// and its pipes are readiness sources of the loop, so no thread waits for any child. Both modes
/// print the same lines. A command that could not run, failed or timed out counts as failed;
/// Ctrl-C cancels the commands in flight.
#[derive(Parser)]
#[command(name = "run_commands", version, allow_negative_numbers = true, after_help = EXIT_STATUS_HELP)]
struct Args {
    /// Commands to run, one per argument, split into words like a shell (quotes group words)
    /// (default: "whoami" "ping -c 5 google.com" "lsb_release -a" "python3 --version").
    commands: Vec<String>,
    /// Run the commands through cashier::process (asyncio.create_subprocess_exec) instead of a
    /// blocking std::process::Command on the to_thread pool (asyncio.to_thread +
    /// subprocess.run).
    #[arg(long)]
    native: bool,
    /// Kill a command still running after S seconds, and report it.
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// How to show the runtime at work.
    #[command(flatten)]
    watch: WatchArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The one standard output of the process, held to the end of `main`, where its drop writes
    // out what is still buffered.
    let out = Output::stdout();
    let commands = match run_commands::commands_from_args(&args.commands) {
        Ok(commands) => commands,
        Err(error) => return bad_arguments("run_commands", error),
    };
    let total = commands.len();
    let mut runtime = match runtime(false, &args.watch) {
        Ok(runtime) => runtime,
        Err(error) => return could_not_run("run_commands", error),
    };
    let options = RunOptions { native: args.native, timeout: args.timeout };
    let work = run_commands::run(out.clone(), commands, options);
    let succeeded = match block_on_or_ctrl_c(&mut runtime, work) {
        Finished::Done(succeeded) => succeeded,
        Finished::Interrupted { in_flight } => {
            return interrupted("run_commands", runtime, &args.watch, in_flight);
        }
    };
    args.watch.report(&runtime);
    exit_status(succeeded == total)
}
