//! `orders`: the cashier analogy, run for real.
//!
//! Customers arrive in a fixed order and each orders something that takes a number of "steps" to
//! prepare. A customer who has ordered steps aside (`yield_now`) instead of blocking the counter, so
//! the cashier serves whoever is ready: the quick orders first, whatever their arrival order. Each
//! line is printed by the task it describes, as the executor polls it.
//!
//! Run: `cargo run -p cashier-demos --bin orders`. Orders can be given as arguments, as
//! `NAME:STEPS` (for example `ann:3 bob:1`); `--stats` prints the runtime's metrics at the end.

use std::process::ExitCode;

use cashier_demos::{
    EXIT_STATUS_HELP, Finished, Output, WatchArgs, bad_arguments, block_on_or_ctrl_c,
    could_not_run, exit_status, interrupted, runtime,
};

/// The default queue of customers: (name, item, preparation steps).
const DEFAULT: [(&str, &str, u32); 4] =
    [("Ann", "a burger", 4), ("Bob", "fries", 2), ("Cid", "a drink", 1), ("Dee", "a salad", 3)];

fn parse(arg: &str) -> Result<(String, String, u32), String> {
    let (name, steps) =
        arg.split_once(':').ok_or_else(|| format!("{arg:?}: expected NAME:STEPS, like ann:3"))?;
    let steps = steps
        .trim()
        .parse()
        .map_err(|_| format!("{arg:?}: the steps must be a whole number from 0 to {}", u32::MAX))?;
    Ok((name.to_string(), "an order".to_string(), steps))
}

fn main() -> ExitCode {
    // The one standard output of the process (every line below goes through it, in order), held
    // to the end of `main`, where its drop writes out what is still buffered.
    let out = Output::stdout();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        out.line(format_args!(
            "usage: orders [--stats] [NAME:STEPS ...]\n\nShows tasks served in readiness \
             order; Ctrl-C cancels them.\n\n  --stats  print the runtime's metrics and a table of every task \
             (polls, time busy, scheduled and idle, longest poll) to standard error at the end\n\n{EXIT_STATUS_HELP}"
        ));
        return exit_status(true);
    }
    let watch = WatchArgs { stats: args.iter().any(|a| a == "--stats"), ..WatchArgs::default() };
    args.retain(|a| a != "--stats");
    let customers: Result<Vec<_>, _> = if args.is_empty() {
        Ok(DEFAULT.iter().map(|&(n, i, s)| (n.to_string(), i.to_string(), s)).collect())
    } else {
        args.iter().map(|a| parse(a)).collect()
    };
    let customers = match customers {
        Ok(customers) => customers,
        Err(error) => return bad_arguments("orders", error),
    };
    let mut runtime = match runtime(false, &watch) {
        Ok(runtime) => runtime,
        Err(error) => return could_not_run("orders", error),
    };
    let lines = out.clone();
    let work = async move {
        let handles: Vec<_> = customers
            .into_iter()
            .map(|(name, item, steps)| {
                let out = lines.clone();
                cashier::spawn(async move {
                    out.line(format_args!("{name} orders {item} (prepared in {steps} steps)"));
                    for step in 1..=steps {
                        // Step aside: the cashier serves others while this order is prepared.
                        cashier::yield_now().await;
                        out.line(format_args!("  {name}: step {step} of {steps} done"));
                    }
                    out.line(format_args!("{name} is served"));
                    name
                })
            })
            .collect();
        let mut served = Vec::new();
        for handle in handles {
            served.push(handle.await.expect("a customer task failed"));
        }
        served
    };
    let served = match block_on_or_ctrl_c(&mut runtime, work) {
        Finished::Done(served) => served,
        Finished::Interrupted { in_flight } => {
            return interrupted("orders", runtime, &watch, in_flight);
        }
    };
    out.line(format_args!("arrival order was kept in the JoinHandles: {}", served.join(", ")));
    watch.report(&runtime);
    exit_status(true)
}
