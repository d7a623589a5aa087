//! Child processes on the reactor: exit codes and signals, pipes (a flood on both output pipes,
//! stdin echoed by `cat`, a broken pipe), a missing program, `kill`, `kill_on_drop`, dropped
//! children reaped in the background, 200 children on one thread, and Ctrl-C.
//!
//! Every scenario runs twice: here, with the exit watched through pidfds (where the kernel has
//! them), and again on the `SIGCHLD` fallback, by
//! `every_scenario_again_on_the_sigchld_fallback`, which re-runs this test binary with
//! `CASHIER_PROCESS_NO_PIDFD=1`. After each scenario, `/proc` is read to check that every child
//! it started has been reaped: no process whose parent is us remains under its pid (running or
//! zombie). Only the scenario's own pids are checked: the tests run on parallel threads, and
//! another test's child may be between its exit and its reaping at any moment.
//!
//! No assertion is on the wall clock; a watchdog fails a scenario that hangs.

use std::io;
use std::process::Stdio;
use std::time::Duration;

use cashier::process::{Command, ExitWatch, NO_PIDFD_ENV, exit_watch};
use std::os::unix::process::ExitStatusExt;

mod support;

/// Runs `scenario` on a fresh runtime on its own thread; fails if it takes over 120 s (valgrind
/// is slow), instead of hanging the suite. Checks the exit mechanism the scenario ran on.
fn within_a_watchdog<F>(what: &'static str, scenario: fn() -> F)
where
    F: std::future::Future<Output = ()> + 'static,
{
    support::within_a_watchdog(what, Duration::from_secs(120), move || cashier::run(scenario()));
    if fallback_forced() {
        assert_eq!(exit_watch(), ExitWatch::Sigchld, "{NO_PIDFD_ENV} forces the fallback");
    }
}

/// Whether this run is the re-run on the `SIGCHLD` fallback.
fn fallback_forced() -> bool {
    std::env::var_os(NO_PIDFD_ENV).is_some_and(|v| v == "1")
}

/// Whether `pid` is still a child of ours (running, or a zombie not yet reaped), from `/proc`.
fn is_our_child(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // `pid (comm) state ppid ...`: the command may hold spaces and parentheses, so split after
    // the last `)`.
    let after = &stat[stat.rfind(')').expect("a stat line has the command in parentheses") + 1..];
    let ppid: u32 = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap();
    ppid == std::process::id()
}

/// Asserts that none of `pids` is a child of ours any more.
fn assert_reaped(pids: &[u32]) {
    let left: Vec<_> = pids.iter().filter(|&&pid| is_our_child(pid)).collect();
    assert!(left.is_empty(), "children not reaped (still running or zombies): {left:?}");
}

/// Lets the loop turn until none of `pids` is a child of ours (the watchdog bounds it), then
/// asserts it: for children reaped in the background, whose exit comes when it comes.
async fn until_reaped(pids: &[u32]) {
    while pids.iter().any(|&pid| is_our_child(pid)) {
        cashier::sleep(Duration::from_millis(5)).await;
    }
    assert_reaped(pids);
}

/// Threads of this process now.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn an_exit_code_is_reported() {
    within_a_watchdog("sh -c 'exit 3'", || async {
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let pid = child.id().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!(child.id(), None, "no pid once reaped");
        assert_eq!(child.wait().await.unwrap().code(), Some(3), "waiting again says the same");
        assert_reaped(&[pid]);
    });
}

#[test]
fn a_death_by_signal_is_reported() {
    within_a_watchdog("sh -c 'kill -9 $$'", || async {
        let mut child = Command::new("sh").args(["-c", "kill -9 $$"]).spawn().unwrap();
        let pid = child.id().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!((status.code(), status.signal()), (None, Some(libc::SIGKILL)));
        assert_reaped(&[pid]);
    });
}

#[test]
fn ten_megabytes_on_each_output_pipe_at_once_do_not_deadlock() {
    within_a_watchdog("10 MB to stdout and 10 MB to stderr", || async {
        const SIZE: usize = 10_000_000;
        let script = format!("head -c {SIZE} /dev/zero & head -c {SIZE} /dev/zero >&2; wait");
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let output = child.wait_with_output().await.unwrap();
        assert!(output.status.success(), "{}", output.status);
        assert_eq!((output.stdout.len(), output.stderr.len()), (SIZE, SIZE));
        assert!(output.stdout.iter().chain(&output.stderr).all(|&b| b == 0));
        assert_reaped(&[pid]);
    });
}

#[test]
fn stdin_piped_into_cat_comes_back() {
    within_a_watchdog("cat echoing 1 MB", || async {
        // More than a pipe holds (64 KiB): written while the output is read, or both would block.
        let input: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut child =
            Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let pid = child.id().unwrap();
        let stdin = child.stdin.take().unwrap();
        let expected = input.clone();
        let writer = cashier::spawn(async move {
            stdin.write_all(&input).await.unwrap();
            // dropped here: `cat` reads end of file
        });
        let output = child.wait_with_output().await.unwrap();
        writer.await.unwrap();
        assert!(output.status.success());
        assert!(output.stdout == expected, "cat gave back {} bytes", output.stdout.len());
        assert_reaped(&[pid]);
    });
}

#[test]
fn a_write_to_a_child_that_exited_is_a_broken_pipe() {
    within_a_watchdog("write to true's stdin", || async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        let pid = child.id().unwrap();
        let stdin = child.stdin.take().unwrap();
        assert!(child.wait().await.unwrap().success());
        let error = stdin.write_all(b"anyone there?").await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
        assert_reaped(&[pid]);
    });
}

#[test]
fn a_missing_program_is_a_clear_error() {
    within_a_watchdog("spawn a missing program", || async {
        let error = Command::new("cashier-no-such-program").spawn().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            error.to_string(),
            "could not start `cashier-no-such-program`: No such file or directory (os error 2)"
        );
        let error = Command::new("cashier-no-such-program").output().await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    });
}

#[test]
fn kill_then_wait_reports_the_signal_and_a_second_kill_is_an_error() {
    within_a_watchdog("kill sleep", || async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        let pid = child.id().unwrap();
        child.kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        let error = child.kill().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(error.to_string(), "cannot kill `sleep`: its exit was already reaped");
        assert_reaped(&[pid]);
    });
}

#[test]
fn kill_on_drop_kills_and_the_reactor_reaps() {
    within_a_watchdog("drop a sleep 1000 with kill_on_drop", || async {
        let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        until_reaped(&[pid]).await;
    });
}

#[test]
fn a_timeout_around_wait_kills_with_kill_on_drop() {
    within_a_watchdog("timeout(wait) on sleep 1000", || async {
        let mut child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
        let pid = child.id().unwrap();
        let waited = cashier::timeout(Duration::from_millis(20), child.wait()).await;
        assert!(waited.is_err(), "sleep 1000 ended: {waited:?}");
        drop(child);
        until_reaped(&[pid]).await;
    });
}

#[test]
fn a_dropped_child_is_reaped_in_the_background_once_it_exits() {
    within_a_watchdog("drop sh -c 'sleep 0.05' and keep turning", || async {
        let pids: Vec<u32> = (0..5)
            .map(|_| {
                let child = Command::new("sh").args(["-c", "sleep 0.05"]).spawn().unwrap();
                child.id().unwrap() // and dropped: still running
            })
            .collect();
        until_reaped(&pids).await;
    });
}

#[test]
fn two_hundred_children_are_waited_for_on_one_thread() {
    within_a_watchdog("200 sleep 0.2", || async {
        let children: Vec<_> =
            (0..200).map(|_| Command::new("sleep").arg("0.2").spawn().unwrap()).collect();
        let pids: Vec<u32> = children.iter().map(|c| c.id().unwrap()).collect();
        let waits = children
            .into_iter()
            .map(|mut child| cashier::spawn(async move { child.wait().await.unwrap().success() }));
        let waits: Vec<_> = waits.collect();
        cashier::yield_now().await; // every waiter has polled once: all 200 are waited for
        // The harness's threads, this test's watchdog, and the other tests running in
        // parallel: a handful, nowhere near one per child.
        let threads = thread_count();
        assert!(threads < 50, "{threads} threads while 200 children run");
        let done = cashier::gather(waits).await;
        assert!(done.into_iter().all(|ok| ok.unwrap()));
        assert_reaped(&pids);
    });
}

#[test]
fn output_collects_both_streams_and_the_status() {
    within_a_watchdog("output of sh", || async {
        let output = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; echo \"$GREETING\"; pwd; exit 4"])
            .env("GREETING", "hi")
            .current_dir("/")
            .output()
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(4));
        assert_eq!(String::from_utf8_lossy(&output.stdout), "out\nhi\n/\n");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "err\n");
    });
}

#[test]
fn ctrl_c_is_delivered_by_kill_to_our_own_pid() {
    within_a_watchdog("ctrl_c after kill(getpid(), SIGINT)", || async {
        let waiter = cashier::spawn(cashier::signal::ctrl_c());
        cashier::yield_now().await; // the waiter listens: the handler is installed
        // SAFETY: `kill` has no memory-safety preconditions; `SIGINT` has a handler (installed by
        // the listener above), so it does not end the process.
        assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGINT) }, 0);
        waiter.await.unwrap().unwrap();
    });
}

#[test]
fn every_scenario_again_on_the_sigchld_fallback() {
    if fallback_forced() {
        return; // this is the re-run
    }
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .env(NO_PIDFD_ENV, "1")
        .args(["--skip", "every_scenario_again", "--test-threads", "2"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the scenarios failed on the SIGCHLD fallback:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("test result: ok"), "{report}");
}

#[cfg(feature = "futures-io")]
#[test]
fn the_pipes_implement_the_futures_io_traits() {
    within_a_watchdog("cat through AsyncWrite and AsyncRead", || async {
        use futures::{AsyncReadExt, AsyncWriteExt};
        let mut child =
            Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let pid = child.id().unwrap();
        // Called through the traits: the types' own `write_all` and `read_to_end` would win.
        let mut stdin = child.stdin.take().unwrap();
        AsyncWriteExt::write_all(&mut stdin, b"through futures-io").await.unwrap();
        AsyncWriteExt::close(&mut stdin).await.unwrap();
        drop(stdin);
        let mut stdout = child.stdout.take().unwrap();
        let mut echoed = Vec::new();
        AsyncReadExt::read_to_end(&mut stdout, &mut echoed).await.unwrap();
        assert_eq!(echoed, b"through futures-io");
        assert!(child.wait().await.unwrap().success());
        assert_reaped(&[pid]);
    });
}

#[test]
fn a_runtime_dropped_with_a_kill_on_drop_child_leaves_no_zombie() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = cashier::Runtime::new().unwrap();
        let pid = runtime.block_on(async {
            let mut child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
            let pid = child.id().unwrap();
            // A task that still waits for the child when the runtime is dropped.
            cashier::spawn(async move { child.wait().await });
            cashier::yield_now().await;
            pid
        });
        drop(runtime); // cancels the task: its `Child` is dropped, killed, and reaped
        let _ = tx.send(pid);
    });
    let pid = rx.recv_timeout(Duration::from_secs(120)).expect("the runtime's drop hung");
    assert_reaped(&[pid]);
}
