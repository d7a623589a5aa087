//! Step mode: `Runtime::step`'s exact sequence of decisions, and the `step` example driven with
//! piped input.
//!
//! The stories go through `cashier_demos::stepper::Stepper`, which listens to the trace for
//! task numbers and names, so each step reads as the explain mode tells it:
//! `poll #2 "names" -> Pending`. Everything runs on the paused clock: no test sleeps.

use std::cell::Cell;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

use cashier::Runtime;
use cashier::step::Step;
use cashier_demos::stepper::{self, Stepper};
use cashier_demos::{Output, names_ages};

/// A stepper over a fresh runtime on the paused clock, recording nothing for itself.
fn paused() -> Stepper {
    let runtime = Runtime::builder().start_paused(true).trace(cashier::Trace::new()).build();
    Stepper::new(runtime.expect("a runtime"))
}

/// Takes `n` steps and describes each.
fn steps(stepper: &mut Stepper, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let step = stepper.step();
            stepper.describe(step)
        })
        .collect()
}

#[test]
fn names_ages_step_by_step() {
    let mut stepper = stepper::names_ages(3).unwrap();
    assert_eq!(
        steps(&mut stepper, 9),
        [
            "poll #1 \"main\" -> Pending", // spawns names and ages, then waits on both
            "poll #2 \"names\" -> Pending", // prints John, sleeps 0.581 s
            "poll #3 \"ages\" -> Pending", // prints 20, sleeps 0.158 s
            "turn: clock jumped to 0.158s, 1 timer fired", // nothing to run: to the first timer
            "poll #3 \"ages\" -> Pending", // woken by it: prints 22, sleeps again
            "turn: clock jumped to 0.355s, 1 timer fired", // ages' next timer comes first
            "poll #3 \"ages\" -> Pending", // prints 24, sleeps until 0.841 s
            "turn: clock jumped to 0.581s, 1 timer fired", // names' timer, at last
            "poll #2 \"names\" -> Pending", // prints Kate
        ]
    );
    assert_eq!(stepper.output().lines(), ["John", "20", "22", "24", "Kate"]);
}

#[test]
fn a_stepped_run_prints_what_block_on_prints() {
    let mut stepper = stepper::names_ages(3).unwrap();
    let mut taken = 0;
    while stepper.runtime().alive_tasks() > 0 {
        assert_ne!(stepper.step(), Step::Idle, "names_ages never idles before it is done");
        taken += 1;
    }
    assert_eq!(
        taken, 35,
        "15 lines, each a poll then its sleep's turn (30); names' and ages' last polls (2); main's 3 polls"
    );
    assert_eq!(stepper.step(), Step::Idle, "done: nothing to run, nothing to wait for");
    let runtime = Runtime::builder().start_paused(true).build().unwrap();
    let whole = Output::capture();
    runtime.block_on(names_ages::run(whole.clone(), Some(3)));
    assert_eq!(stepper.output().lines(), whole.lines());
}

#[test]
fn the_state_between_steps_shows_the_queue_and_the_timers() {
    let mut stepper = stepper::names_ages(3).unwrap();
    steps(&mut stepper, 1);
    let queue: Vec<_> =
        stepper.runtime().run_queue().into_iter().map(|t| stepper.label(t)).collect();
    assert_eq!(queue, ["#2 \"names\"", "#3 \"ages\""], "main spawned both; names runs first");
    steps(&mut stepper, 2);
    assert!(stepper.runtime().run_queue().is_empty(), "both sleep");
    let timers = stepper.runtime().pending_timers(10);
    let deadlines: Vec<_> = timers.iter().map(|t| (t.timer, t.deadline.as_millis())).collect();
    assert_eq!(deadlines, [(1, 158), (0, 581)], "earliest first: ages' timer, then names'");
    assert_eq!(stepper.runtime().pending_timers(1).len(), 1, "bounded");
}

#[test]
fn nothing_to_run_and_nothing_to_wait_for_is_idle_at_once() {
    let mut stepper = paused();
    assert_eq!(steps(&mut stepper, 1), ["idle: nothing to run, nothing to wait for"]);
    // A task waiting on a channel whose sender only this test holds: no timer, no socket, no
    // job can wake it, so a turn would block forever. The step says so instead.
    let (sender, receiver) = cashier::sync::oneshot::channel::<u8>();
    let handle = stepper.spawn_named("waiter", receiver);
    assert_eq!(
        steps(&mut stepper, 3),
        [
            "poll #1 \"waiter\" -> Pending",             // waits on the oneshot
            "idle: nothing to run, nothing to wait for", // not a hang
            "idle: nothing to run, nothing to wait for", // stepping again is harmless
        ]
    );
    sender.send(5).unwrap(); // woken outside any step: the remote queue, moved in by the next step
    assert_eq!(
        steps(&mut stepper, 2),
        ["poll #1 \"waiter\" -> Ready", "idle: nothing to run, nothing to wait for"]
    );
    let runtime = Runtime::new().unwrap();
    assert_eq!(runtime.block_on(handle).unwrap().unwrap(), 5);
}

#[test]
fn a_panicking_task_is_one_step_and_the_runtime_goes_on() {
    let mut stepper = paused();
    let fryer = stepper.spawn_named("fryer", async { panic!("the fryer caught fire") });
    let _till = stepper.spawn_named("till", async {});
    assert_eq!(
        steps(&mut stepper, 3),
        [
            "poll #1 \"fryer\" -> Panicked", // contained: the step returns normally
            "poll #2 \"till\" -> Ready",     // and the next task is served as usual
            "idle: nothing to run, nothing to wait for",
        ]
    );
    let runtime = Runtime::new().unwrap();
    assert!(runtime.block_on(fryer).unwrap_err().is_panic(), "its handle reports the panic");
}

#[test]
fn a_sleep_on_a_paused_clock_is_a_jump_not_a_wait() {
    let mut stepper = paused();
    let _nap =
        stepper.spawn_named("nap", async { cashier::sleep(Duration::from_secs(3600)).await });
    assert_eq!(
        steps(&mut stepper, 4),
        [
            "poll #1 \"nap\" -> Pending", // files a timer an hour ahead
            "turn: clock jumped to 3600.000s, 1 timer fired", // instantly
            "poll #1 \"nap\" -> Ready",
            "idle: nothing to run, nothing to wait for",
        ]
    );
}

#[test]
fn a_job_in_flight_is_waited_for_not_idle() {
    let mut stepper = paused();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let _job = stepper.spawn_named("job", async move {
        cashier::to_thread(move || released.recv().map(|()| 6 * 7)).await
    });
    assert_eq!(steps(&mut stepper, 1), ["poll #1 \"job\" -> Pending"]); // the job blocks
    // Released from another thread in 100 ms (real time: a job is real work), by when the next
    // step is, in all likelihood, waiting for it in a turn.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        release.send(()).unwrap();
    });
    let mut taken = Vec::new();
    while !taken.last().is_some_and(|step: &String| step.starts_with("idle")) && taken.len() < 8 {
        taken.extend(steps(&mut stepper, 1));
    }
    releaser.join().unwrap();
    // Until the job ends, a step is a turn that waits for it (never "idle", never a hang). The
    // pool also counts the job in flight until its thread lets go of it, a moment after the
    // wake (`JobGuard` in blocking.rs): a step in between waits in one more turn, which that
    // thread ends. How many turns there are depends on the threads' timing; the decisions do not.
    assert!(taken[0].starts_with("turn"), "the step after the poll waits: {taken:?}");
    taken.retain(|step| !step.starts_with("turn"));
    assert_eq!(taken, ["poll #1 \"job\" -> Ready", "idle: nothing to run, nothing to wait for"]);
}

#[test]
fn a_socket_with_a_waiting_task_is_listed_and_its_event_is_a_turn() {
    let mut stepper = paused();
    let address = Rc::new(Cell::new(None::<SocketAddr>));
    let _server = stepper.spawn_named("server", {
        let address = address.clone();
        async move {
            let listener = cashier::net::TcpListener::bind(([127, 0, 0, 1], 0).into()).unwrap();
            address.set(Some(listener.local_addr().unwrap()));
            listener.accept().await.unwrap();
        }
    });
    assert_eq!(steps(&mut stepper, 1), ["poll #1 \"server\" -> Pending"]); // accept waits
    let [source] = stepper.runtime().io_sources()[..] else { panic!("one socket") };
    assert!(source.reader_waits && !source.readable, "{source:?}");
    let _client = std::net::TcpStream::connect(address.get().unwrap()).unwrap();
    assert_eq!(
        steps(&mut stepper, 3),
        [
            "turn: 1 I/O event",           // the connection: the listener is readable
            "poll #1 \"server\" -> Ready", // accept succeeds
            "idle: nothing to run, nothing to wait for", // the listener is gone
        ]
    );
    assert!(stepper.runtime().io_sources().is_empty(), "deregistered when dropped");
}

/// What the stepper prints for names_ages with seed 3, given `input`, echoing it as the example
/// does for piped input.
fn transcript(input: &str) -> String {
    let mut out = Vec::new();
    let mut stepper = stepper::names_ages(3).unwrap().echo_input(true);
    stepper.interact(input.as_bytes(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The opening block and steps 1–4 (the three input lines `\n`, `2`, `\n`).
const FIRST_STEPS: &str = r#"Enter: one step · a number N: N steps · q: quit
── before the first step
  explain │ 0.000s  spawn #1 "main" (demos/src/stepper.rs:137)
    queue │ #1 "main"
   timers │ none
  sockets │ none
> 
── step 1: poll #1 "main" -> Pending
  explain │ 0.000s  spawn #2 "names" (demos/src/names_ages.rs:53) by #1 "main"
          │ 0.000s  spawn #3 "ages" (demos/src/names_ages.rs:54) by #1 "main"
          │ 0.000s  poll #1 "main" -> Pending: waits on #2 "names", #3 "ages"
    queue │ #2 "names", #3 "ages"
   timers │ none
  sockets │ none
> 2
── step 2: poll #2 "names" -> Pending
   output │ John
  explain │ 0.000s  poll #2 "names" -> Pending: waits on timer #0 (due 0.581s)
    queue │ #3 "ages"
   timers │ #0 at 0.581s
  sockets │ none
── step 3: poll #3 "ages" -> Pending
   output │ 20
  explain │ 0.000s  poll #3 "ages" -> Pending: waits on timer #1 (due 0.158s)
    queue │ empty
   timers │ #1 at 0.158s, #0 at 0.581s
  sockets │ none
> 
── step 4: turn: clock jumped to 0.158s, 1 timer fired
  explain │ 0.000s  paused clock: nothing to run, jump to 0.158s
          │ 0.158s  timer #1 fired -> wake #3 "ages" (local queue)
    queue │ #3 "ages"
   timers │ #0 at 0.581s
  sockets │ none
"#;

#[test]
fn enter_steps_once_a_number_steps_n_times_and_q_quits() {
    assert_eq!(transcript("\n2\n\nq\nthese lines are never read\n"), format!("{FIRST_STEPS}> q\n"));
}

#[test]
fn the_end_of_input_ends_the_session_cleanly() {
    assert_eq!(transcript("\n2\n\n"), format!("{FIRST_STEPS}> \n"));
}

#[test]
fn anything_else_is_answered_with_the_keys() {
    let text = transcript("next\n0\nq\n");
    let answers: Vec<_> = text.lines().filter(|line| line.starts_with('?')).collect();
    assert_eq!(
        answers,
        [
            "? \"next\": Enter for one step, a number N, or q",
            "? \"0\": Enter for one step, a number N, or q",
        ]
    );
    assert!(!text.contains("── step 1"), "no step taken");
}

#[test]
fn a_long_run_stops_when_every_task_is_done() {
    let text = transcript("1000\nthis line is never read\n");
    assert!(text.ends_with("── step 35: poll #1 \"main\" -> Ready\n  explain │ 3.450s  poll #1 \"main\" -> Ready: done (returned)\n    queue │ empty\n   timers │ none\n  sockets │ none\nAll tasks done after 35 steps.\n"), "{text}");
    let printed: Vec<_> =
        text.lines().filter_map(|line| line.strip_prefix("   output │ ")).collect();
    assert_eq!(printed.len(), 15, "5 names and 10 ages");
}

/// The `step` example, built by `cargo build --example step` with this test's profile and
/// features (a no-op when it is up to date): `cargo test` builds examples only when it builds
/// every target, and `CARGO_BIN_EXE_*` exists for binaries, not examples. Cargo's JSON messages
/// give the executable's path, wherever the target directory is.
fn step_example() -> std::path::PathBuf {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "--quiet", "--example", "step", "--message-format=json"]);
    cargo.arg("--manifest-path").arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
    if !cfg!(debug_assertions) {
        cargo.arg("--release");
    }
    let features: Vec<&str> = [
        ("backend-polling", cfg!(feature = "backend-polling")),
        ("futures-io", cfg!(feature = "futures-io")),
        ("futures-core", cfg!(feature = "futures-core")),
    ]
    .into_iter()
    .filter_map(|(feature, on)| on.then_some(feature))
    .collect();
    if !features.is_empty() {
        cargo.arg("--features").arg(features.join(","));
    }
    let built = cargo.stderr(Stdio::inherit()).output().expect("cargo runs");
    assert!(built.status.success(), "cargo build --example step failed");
    let messages = String::from_utf8(built.stdout).expect("cargo writes UTF-8");
    let executable = messages
        .lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .filter(|line| line.contains(r#""kind":["example"]"#) && line.contains(r#""name":"step""#))
        .find_map(|line| line.split(r#""executable":""#).nth(1)?.split('"').next())
        .expect("cargo reports the example's executable");
    executable.into()
}

#[test]
fn the_example_with_piped_input_prints_the_same_transcript() {
    let mut child = Command::new(step_example())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the example starts");
    child.stdin.take().unwrap().write_all(b"\n2\n\nq\n").unwrap(); // dropped: end of input
    let run = child.wait_with_output().unwrap();
    assert!(run.status.success());
    let title = "names_ages, seed 3, on a paused clock: one scheduling decision per step.\n";
    assert_eq!(String::from_utf8(run.stdout).unwrap(), format!("{title}{FIRST_STEPS}> q\n"));
}
