//! `site_status`: the asyncio tutorial's second script on cashier. See `cashier_demos::site_status`.

use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use cashier_demos::http::Client;
use cashier_demos::{
    EXIT_STATUS_HELP, Finished, Output, WatchArgs, block_on_or_ctrl_c, could_not_run, exit_status,
    interrupted, parse_connections, parse_limit, parse_seconds, runtime, site_status,
};
use clap::Parser;

/// Checks websites concurrently and prints each status as it arrives: a task per URL GETs it
/// and times it, and the results are consumed with `as_completed`, so they print in completion
/// order, not argument order. A failing URL prints its error; the others go on.
///
/// This is the asyncio tutorial's site_status.py (aiohttp + asyncio.as_completed), on cashier.
/// With no URLs it checks the tutorial's five sites; `--local` checks five simulated sites on an
/// in-process loopback server instead, for a machine with no network. Ctrl-C cancels the
/// requests in flight.
#[derive(Parser)]
#[command(name = "site_status", version, allow_negative_numbers = true, after_help = EXIT_STATUS_HELP)]
struct Args {
    /// URLs to check (default: google, facebook, github, twitter and linkedin over https).
    #[arg(conflicts_with = "local")]
    urls: Vec<String>,
    /// Check five simulated sites on an in-process loopback server (no network needed).
    #[arg(long)]
    local: bool,
    /// Seconds allowed for each request, redirects included (the wait for a connection slot
    /// too).
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    timeout: Duration,
    /// At most N connections open at once, idle keep-alive ones included (aiohttp's
    /// TCPConnector(limit=100)); further requests wait for a free slot. 0: no cap.
    #[arg(long, value_name = "N", default_value = "100", value_parser = parse_connections)]
    connections: usize,
    /// At most N requests in flight at once (a semaphore).
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    limit: Option<usize>,
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
    // The one standard output of the process, held to the end of `main`, where its drop writes
    // out what is still buffered.
    let out = Output::stdout();
    let mut runtime = match runtime(args.virtual_time, &args.watch) {
        Ok(runtime) => runtime,
        Err(error) => return could_not_run("site_status", error),
    };
    let client = match Client::builder()
        .timeout(args.timeout)
        .connections(args.connections)
        .follow_redirects(!args.no_redirects)
        .build()
    {
        Ok(client) => Rc::new(client),
        Err(error) => return could_not_run("site_status", error),
    };
    let watch = args.watch.clone(); // `args` moves into the future
    let lines = out.clone();
    let work = async move {
        let urls = site_status::urls_to_check(args.local, args.urls)?;
        let results = site_status::run(lines, client, urls, args.limit).await;
        Ok::<bool, String>(results.iter().all(|(_, result)| result.is_ok()))
    };
    let outcome = match block_on_or_ctrl_c(&mut runtime, work) {
        Finished::Done(outcome) => outcome,
        Finished::Interrupted { in_flight } => {
            return interrupted("site_status", runtime, &watch, in_flight);
        }
    };
    watch.report(&runtime);
    match outcome {
        Ok(all_succeeded) => exit_status(all_succeeded),
        Err(error) => could_not_run("site_status", error),
    }
}
