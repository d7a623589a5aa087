//! `site_status`: the asyncio tutorial's second script on cashier. See `cashier_demos::site_status`.

use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use cashier_demos::http::Client;
use cashier_demos::{
    Finished, Output, WatchArgs, block_on_or_ctrl_c, interrupted, parse_seconds, runtime,
    site_status,
};
use clap::Parser;

/// Checks websites concurrently and prints each status as it arrives: a task per URL GETs it
/// and times it, and the results are consumed with `as_completed`, so they print in completion
/// order, not argument order. A failing URL prints its error; the others go on.
///
/// This is the asyncio tutorial's site_status.py (aiohttp + asyncio.as_completed), on cashier.
/// With no URLs it checks the tutorial's five sites; `--local` checks five simulated sites on an
/// in-process loopback server instead, for a machine with no network. Ctrl-C cancels the
/// requests in flight and exits with 130.
#[derive(Parser)]
#[command(name = "site_status", version)]
struct Args {
    /// URLs to check (default: google, facebook, github, twitter and linkedin over https).
    #[arg(conflicts_with = "local")]
    urls: Vec<String>,
    /// Check five simulated sites on an in-process loopback server (no network needed).
    #[arg(long)]
    local: bool,
    /// Seconds allowed for each request, redirects included.
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    timeout: Duration,
    /// At most N requests in flight at once (a semaphore).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    limit: Option<u32>,
    /// Report redirects as they are instead of following them.
    #[arg(long)]
    no_redirects: bool,
    /// Run on the paused (virtual) clock; with --local the output is then the same every time.
    #[arg(long)]
    virtual_time: bool,
    /// How to show the runtime at work.
    #[command(flatten)]
    watch: WatchArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut runtime = match runtime(args.virtual_time, &args.watch) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("site_status: {error}");
            return ExitCode::FAILURE;
        }
    };
    let client = match Client::builder()
        .timeout(args.timeout)
        .follow_redirects(!args.no_redirects)
        .build()
    {
        Ok(client) => Rc::new(client),
        Err(error) => {
            eprintln!("site_status: {error}");
            return ExitCode::FAILURE;
        }
    };
    let watch = args.watch.clone(); // `args` moves into the future
    let work = async move {
        let urls = site_status::urls_to_check(args.local, args.urls)?;
        site_status::run(Output::stdout(), client, urls, args.limit.map(|n| n as usize)).await;
        Ok::<(), String>(())
    };
    let outcome = match block_on_or_ctrl_c(&mut runtime, work) {
        Finished::Done(outcome) => outcome,
        Finished::Interrupted { in_flight } => {
            return interrupted("site_status", runtime, &watch, in_flight);
        }
    };
    watch.report(&runtime);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("site_status: {error}");
            ExitCode::FAILURE
        }
    }
}
