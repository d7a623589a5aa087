//! `kitchen`: site_status and run_commands in one loop, the tutorial's closing suggestion.

use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use cashier_demos::http::{Client, server};
use cashier_demos::{Output, parse_seconds, run_commands, runtime, site_status};
use clap::Parser;

/// The kitchen at full service: the site checks of site_status and the commands of run_commands
/// run together on one cashier loop, their lines interleaving as each finishes. Network waits
/// are served by the reactor, blocking commands by the to_thread pool, and the cashier never
/// waits on either.
///
/// The asyncio tutorial ends by suggesting site_status.py and run_commands.py be combined: this
/// is that combination.
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
}

fn main() -> ExitCode {
    let args = Args::parse();
    let commands = if args.commands.is_empty() {
        run_commands::tutorial_commands()
    } else {
        match args
            .commands
            .iter()
            .map(|c| run_commands::parse_command(c))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(commands) => commands,
            Err(error) => {
                eprintln!("kitchen: {error}");
                return ExitCode::FAILURE;
            }
        }
    };
    let setup = runtime(false).and_then(|runtime| {
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
    let outcome = runtime.block_on(async move {
        let urls = if args.local {
            let addr = server::spawn_local(site_status::local_sites())
                .map_err(|error| format!("cannot start the local sites: {error}"))?;
            site_status::local_urls(addr)
        } else if args.urls.is_empty() {
            site_status::TUTORIAL_URLS.iter().map(|u| u.to_string()).collect()
        } else {
            args.urls
        };
        let out = Output::stdout();
        cashier::gather!(
            site_status::run(out.clone(), client, urls, None),
            run_commands::run(out, commands)
        )
        .await;
        Ok::<(), String>(())
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kitchen: {error}");
            ExitCode::FAILURE
        }
    }
}
