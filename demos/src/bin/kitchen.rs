//! `kitchen`: site_status and run_commands in one loop, the tutorial's closing suggestion.

use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use cashier_demos::http::Client;
use cashier_demos::run_commands::RunOptions;
use cashier_demos::{
    Finished, Output, WatchArgs, block_on_or_ctrl_c, interrupted, parse_seconds, run_commands,
    runtime, site_status,
};
use clap::Parser;

/// The kitchen at full service: the site checks of site_status and the commands of run_commands
/// run together on one cashier loop, their lines interleaving as each finishes. Network waits
/// are served by the reactor, blocking commands by the to_thread pool, and the cashier never
/// waits on either.
///
/// The asyncio tutorial ends by suggesting site_status.py and run_commands.py be combined: this
/// is that combination. With --native the commands run through cashier::process
/// (asyncio.create_subprocess_exec) instead of the to_thread pool, with the same lines. Ctrl-C
/// cancels what is in flight and exits with 130.
#[derive(Parser)]
#[command(name = "kitchen", version)]
struct Args {
    /// URLs to check (default: the tutorial's five sites).
    #[arg(conflicts_with = "local")]
    urls: Vec<String>,
    /// Check five simulated sites on an in-process loopback server (no network needed).
    #[arg(long)]
    local: bool,
    /// A command to run (repeatable; default: the tutorial's four commands).
    #[arg(long = "command", value_name = "COMMAND")]
    commands: Vec<String>,
    /// Seconds allowed for each request, redirects included.
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    timeout: Duration,
    /// Run the commands through cashier::process (asyncio.create_subprocess_exec) instead of a
    /// blocking std::process::Command on the to_thread pool.
    #[arg(long)]
    native: bool,
    /// Kill a command still running after S seconds, and report it.
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    command_timeout: Option<Duration>,
    /// How to show the runtime at work.
    #[command(flatten)]
    watch: WatchArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let commands = match run_commands::commands_from_args(&args.commands) {
        Ok(commands) => commands,
        Err(error) => {
            eprintln!("kitchen: {error}");
            return ExitCode::FAILURE;
        }
    };
    let setup = runtime(false, &args.watch).and_then(|runtime| {
        let client = Client::builder().timeout(args.timeout).build().map_err(|e| e.to_string())?;
        Ok((runtime, Rc::new(client)))
    });
    let (mut runtime, client) = match setup {
        Ok(setup) => setup,
        Err(error) => {
            eprintln!("kitchen: {error}");
            return ExitCode::FAILURE;
        }
    };
    let watch = args.watch.clone(); // `args` moves into the future
    let options = RunOptions { native: args.native, timeout: args.command_timeout };
    let work = async move {
        let urls = site_status::urls_to_check(args.local, args.urls)?;
        let out = Output::stdout();
        cashier::gather!(
            site_status::run(out.clone(), client, urls, None),
            run_commands::run(out, commands, options)
        )
        .await;
        Ok::<(), String>(())
    };
    let outcome = match block_on_or_ctrl_c(&mut runtime, work) {
        Finished::Done(outcome) => outcome,
        Finished::Interrupted { in_flight } => {
            return interrupted("kitchen", runtime, &watch, in_flight);
        }
    };
    watch.report(&runtime);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kitchen: {error}");
            ExitCode::FAILURE
        }
    }
}
