//! `names_ages`: the asyncio tutorial's first script on cashier. See `cashier_demos::names_ages`.

use std::process::ExitCode;

use cashier_demos::{
    Finished, Output, WatchArgs, block_on_or_ctrl_c, interrupted, names_ages, runtime,
};
use clap::Parser;

/// Two coroutines sharing one event loop: one prints five names, one prints the ages 20 to 38,
/// each sleeping a random time between lines (names up to 1 s, ages up to 0.5 s). They run
/// together under `gather!`, so the lines interleave differently on each run.
///
/// This is the asyncio tutorial's names_ages.py (asyncio.gather of two coroutines), on cashier.
/// Ctrl-C cancels both and exits with 130.
#[derive(Parser)]
#[command(name = "names_ages", version)]
struct Args {
    /// Seed the random pauses, for the same interleaving every time.
    #[arg(long)]
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
    let mut runtime = match runtime(args.virtual_time, &args.watch) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("names_ages: {error}");
            return ExitCode::FAILURE;
        }
    };
    let work = names_ages::run(Output::stdout(), args.seed);
    if let Finished::Interrupted { in_flight } = block_on_or_ctrl_c(&mut runtime, work) {
        return interrupted("names_ages", runtime, &args.watch, in_flight);
    }
    args.watch.report(&runtime);
    ExitCode::SUCCESS
}
