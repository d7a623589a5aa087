//! `kitchen`: site_status and run_commands in one loop, the tutorial's closing suggestion.

use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use cashier_demos::http::Client;
use cashier_demos::run_commands::RunOptions;
use cashier_demos::{
    EXIT_STATUS_HELP, Finished, Output, WatchArgs, bad_arguments, block_on_or_ctrl_c,
    could_not_run, exit_status, interrupted, parse_connections, parse_seconds, run_commands,
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
/// cancels what is in flight.
#[derive(Parser)]
#[command(name = "kitchen", version, allow_negative_numbers = true, after_help = EXIT_STATUS_HELP)]
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
    /// Seconds allowed for each request, redirects included (the wait for a connection slot
    /// too).
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    timeout: Duration,
    /// At most N connections open at once, idle keep-alive ones included (aiohttp's
    /// TCPConnector(limit=100)); further requests wait for a free slot. 0: no cap.
    #[arg(long, value_name = "N", default_value = "100", value_parser = parse_connections)]
    connections: usize,
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
    // The one standard output of the process, held to the end of `main`, where its drop writes
    // out what is still buffered.
    let out = Output::stdout();
    let commands = match run_commands::commands_from_args(&args.commands) {
        Ok(commands) => commands,
        Err(error) => return bad_arguments("kitchen", error),
    };
    let total_commands = commands.len();
    let setup = runtime(false, &args.watch).and_then(|runtime| {
        let client = Client::builder()
            .timeout(args.timeout)
            .connections(args.connections)
            .build()
            .map_err(|e| e.to_string())?;
        Ok((runtime, Rc::new(client)))
    });
    let (mut runtime, client) = match setup {
        Ok(setup) => setup,
        Err(error) => return could_not_run("kitchen", error),
    };
    let watch = args.watch.clone(); // `args` moves into the future
    let options = RunOptions { native: args.native, timeout: args.command_timeout };
    let lines = out.clone();
    let work = async move {
        let urls = site_status::urls_to_check(args.local, args.urls)?;
        let (sites, succeeded_commands) = cashier::gather!(
            site_status::run(lines.clone(), client, urls, None),
            run_commands::run(lines, commands, options)
        )
        .await;
        let sites_ok = sites.iter().all(|(_, result)| result.is_ok());
        Ok::<bool, String>(sites_ok && succeeded_commands == total_commands)
    };
    let outcome = match block_on_or_ctrl_c(&mut runtime, work) {
        Finished::Done(outcome) => outcome,
        Finished::Interrupted { in_flight } => {
            return interrupted("kitchen", runtime, &watch, in_flight);
        }
    };
    watch.report(&runtime);
    match outcome {
        Ok(all_succeeded) => exit_status(all_succeeded),
        Err(error) => could_not_run("kitchen", error),
    }
}
