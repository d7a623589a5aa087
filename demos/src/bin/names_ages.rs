//! `names_ages`: the asyncio tutorial's first script on cashier. See `cashier_demos::names_ages`.

use std::process::ExitCode;

use cashier_demos::{
    EXIT_STATUS_HELP, Finished, Output, WatchArgs, block_on_or_ctrl_c, could_not_run, exit_status,
    interrupted, names_ages, parse_seed, runtime,
};
use clap::Parser;

/// Two coroutines sharing one event loop: one prints five names, one prints the ages 20 to 38,
/// each sleeping a random time between lines (names up to 1 s, ages up to 0.5 s). They run
/// together under `gather!`, so the lines interleave differently on each run.
///
/// This is the asyncio tutorial's names_ages.py (asyncio.gather of two coroutines), on cashier.
/// Ctrl-C cancels both.
#[derive(Parser)]
#[command(name = "names_ages", version, allow_negative_numbers = true, after_help = EXIT_STATUS_HELP)]
struct Args {
    /// Seed the random pauses, for the same interleaving every time.
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Run on the paused (virtual) clock: sleeps take no real time.
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
        Err(error) => return could_not_run("names_ages", error),
    };
    let work = names_ages::run(out.clone(), args.seed);
    if let Finished::Interrupted { in_flight } = block_on_or_ctrl_c(&mut runtime, work) {
        return interrupted("names_ages", runtime, &args.watch, in_flight);
    }
    args.watch.report(&runtime);
    exit_status(true)
}
