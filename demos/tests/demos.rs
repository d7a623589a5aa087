//! The demos as a user meets them: the logic with captured output on the paused clock, and each
//! binary run as a process with its output checked.

use std::process::Command;

use cashier_demos::http::server::{self, Site};
use cashier_demos::{Output, names_ages, run_commands};

fn paused() -> cashier::Runtime {
    cashier::Runtime::builder().start_paused(true).build().unwrap()
}

/// The interleaving `--seed 3` produces: names and ages alternate as their random sleeps end.
const SEED_3: [&str; 15] = [
    "John", "20", "22", "24", "Kate", "26", "Mike", "28", "30", "32", "34", "36", "38", "Alex",
    "Anne",
];

#[test]
fn names_ages_with_a_seed_interleaves_exactly_and_instantly() {
    let out = Output::capture();
    let start = std::time::Instant::now();
    paused().block_on(names_ages::run(out.clone(), Some(3)));
    assert_eq!(out.lines(), SEED_3);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "virtual sleeps take no real time"
    );
    // Each coroutine keeps its own order whatever the interleaving.
    let names: Vec<_> = out.lines().into_iter().filter(|l| l.parse::<u32>().is_err()).collect();
    assert_eq!(names, names_ages::NAMES);
}

#[test]
fn names_ages_differs_between_seeds() {
    let run = |seed| {
        let out = Output::capture();
        paused().block_on(names_ages::run(out.clone(), Some(seed)));
        out.lines()
    };
    let runs: std::collections::HashSet<_> = (0..8).map(run).collect();
    assert!(runs.len() > 1, "different seeds give different interleavings");
}

fn words(command: &str) -> Vec<String> {
    run_commands::parse_command(command).unwrap()
}

#[test]
fn run_commands_prints_each_as_it_finishes_and_reports_a_missing_program() {
    let out = Output::capture();
    let succeeded = cashier::run(run_commands::run(
        out.clone(),
        vec![
            words("sh -c 'sleep 0.3; echo slow'"),
            words("sh -c 'echo fast'"),
            words("no-such-program-here --flag"),
        ],
        run_commands::RunOptions::default(),
    ));
    assert_eq!(succeeded, 2);
    let lines = out.lines();
    assert_eq!(
        lines[..3],
        [
            "Running sh -c 'sleep 0.3; echo slow'",
            "Running sh -c 'echo fast'",
            "Running no-such-program-here --flag"
        ]
    );
    let fast = lines
        .iter()
        .position(|l| l == "sh -c 'echo fast' completed:\nfast")
        .expect("fast completed");
    let slow = lines
        .iter()
        .position(|l| l == "sh -c 'sleep 0.3; echo slow' completed:\nslow")
        .expect("slow completed");
    assert!(fast < slow, "the fast command finished first: {lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with(
            "no-such-program-here --flag failed: could not start `no-such-program-here`: "
        )),
        "{lines:?}"
    );
}

#[test]
fn command_lines_split_like_a_shell() {
    assert_eq!(words("echo 'a b' \"c \\\"d\\\"\" e\\ f"), ["echo", "a b", "c \"d\"", "e f"]);
    assert_eq!(
        run_commands::parse_command("echo 'open").unwrap_err(),
        "\"echo 'open\": unterminated single quote"
    );
    assert_eq!(run_commands::parse_command("   ").unwrap_err(), "an empty command was given");
    assert_eq!(run_commands::display_command(&words("sh -c 'a; b'")), "sh -c 'a; b'");
}

/// Runs demo `name` with `args` and returns whether it succeeded, its standard output and its
/// standard error.
fn demo(name: &str, args: &[&str]) -> (bool, String, String) {
    let (code, stdout, stderr) = demo_code(name, args);
    (code == Some(0), stdout, stderr)
}

/// Runs demo `name` with `args` and returns its exit code, standard output and standard error.
fn demo_code(name: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let binary = match name {
        "names_ages" => env!("CARGO_BIN_EXE_names_ages"),
        "site_status" => env!("CARGO_BIN_EXE_site_status"),
        "run_commands" => env!("CARGO_BIN_EXE_run_commands"),
        "kitchen" => env!("CARGO_BIN_EXE_kitchen"),
        "orders" => env!("CARGO_BIN_EXE_orders"),
        other => panic!("no demo {other}"),
    };
    // The child is told exactly what to show: a `CASHIER_TRACE` or `CASHIER_DEBUG` of the test
    // run (CI runs the suite once with `CASHIER_DEBUG=1`) would add lines these tests pin, and
    // a slow-poll warning depends on how busy the machine is.
    let output = Command::new(binary)
        .args(args)
        .env_remove("CASHIER_TRACE")
        .env_remove("CASHIER_DEBUG")
        .output()
        .expect("run the demo");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code(), text(output.stdout), text(output.stderr))
}

/// Asserts that demo `name` run with `args` exits with `code`, and returns what it printed.
#[track_caller]
fn exits_with(code: i32, name: &str, args: &[&str]) -> (String, String) {
    let (actual, stdout, stderr) = demo_code(name, args);
    assert_eq!(actual, Some(code), "{name} {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

const EXIT_RULE: &str = "Exit status: 0 when everything succeeded, 1 when any site or command \
                         failed or standard output could not be written, 2 for bad arguments, \
                         130 on Ctrl-C.";

#[test]
fn every_demo_states_the_exit_status_rule_in_its_help() {
    for name in ["names_ages", "site_status", "run_commands", "kitchen", "orders"] {
        let (stdout, _) = exits_with(0, name, &["--help"]);
        let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(EXIT_RULE), "{name} --help:\n{stdout}");
    }
}

#[test]
fn names_ages_exit_statuses() {
    exits_with(0, "names_ages", &["--seed", "3", "--virtual-time"]);
    let (_, stderr) = exits_with(2, "names_ages", &["--seed", "-1"]);
    assert!(stderr.contains("the seed must be a whole number from 0 to 18446744073709551615"));
    exits_with(2, "names_ages", &["--no-such-flag"]);
}

#[test]
fn site_status_exit_statuses_and_messages() {
    exits_with(0, "site_status", &["--local", "--virtual-time"]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/");
    let (stdout, _) = exits_with(1, "site_status", &[&url]);
    assert_eq!(
        stdout.lines().last(),
        Some(
            format!(
                "{url}: error: could not connect to {closed}: Connection refused (os error 111)"
            )
            .as_str()
        ),
        "{stdout}"
    );
    // An empty URL is shown quoted: no line starts with ':'.
    let (stdout, _) = exits_with(1, "site_status", &[""]);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["Getting status of \"\"", "\"\": error: invalid URL \"\": relative URL without a base"]
    );
    for (args, message) in [
        (&["--timeout", "-1"][..], "the timeout must be a positive number of seconds"),
        (&["--timeout", "0"], "the timeout must be a positive number of seconds"),
        (&["--timeout", "1e20"], "the timeout is too large (at most 18446744073709551615 s)"),
        (&["--timeout", "soon"], "not a number of seconds"),
        (&["--limit", "-1"], "the limit must not be negative"),
        (&["--limit", "0"], "the limit must be at least 1"),
        (&["--limit", "1.5"], "the limit must be a whole number"),
        (&["--connections", "-3"], "the connection cap must not be negative"),
    ] {
        let mut all = args.to_vec();
        all.push("--local");
        let (_, stderr) = exits_with(2, "site_status", &all);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("to pass '-"), "clap's advice to write `-- -1`: {stderr}");
    }
}

#[test]
fn run_commands_exit_statuses_and_a_successful_commands_stderr() {
    let (stdout, _) = exits_with(0, "run_commands", &["sh -c 'echo out; echo warning >&2'"]);
    assert_eq!(
        stdout,
        "Running sh -c 'echo out; echo warning >&2'\n\
         sh -c 'echo out; echo warning >&2' completed:\nout\nwarning\n"
    );
    exits_with(1, "run_commands", &["echo fine", "sh -c 'exit 3'"]);
    let (_, stderr) = exits_with(2, "run_commands", &["sh -c 'unterminated"]);
    assert_eq!(stderr, "run_commands: \"sh -c 'unterminated\": unterminated single quote\n");
    let (_, stderr) = exits_with(2, "run_commands", &["--timeout", "-1", "echo x"]);
    assert!(stderr.contains("the timeout must be a positive number of seconds"), "{stderr}");
}

#[test]
fn kitchen_exit_statuses() {
    exits_with(0, "kitchen", &["--local", "--command", "echo hi"]);
    exits_with(1, "kitchen", &["--local", "--command", "sh -c 'exit 2'"]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    exits_with(1, "kitchen", &[&format!("http://{closed}/"), "--command", "echo hi"]);
    exits_with(2, "kitchen", &["--local", "--command", "'unterminated"]);
    let (_, stderr) = exits_with(2, "kitchen", &["--local", "--command-timeout", "-2"]);
    assert!(stderr.contains("the timeout must be a positive number of seconds"), "{stderr}");
}

#[test]
fn orders_exit_statuses() {
    exits_with(0, "orders", &["ann:1"]);
    let (_, stderr) = exits_with(2, "orders", &["ann:-1"]);
    assert_eq!(
        stderr,
        "orders: \"ann:-1\": the steps must be a whole number from 0 to 4294967295\n"
    );
}

#[test]
fn the_names_ages_binary() {
    let (ok, stdout, _) = demo("names_ages", &["--seed", "3", "--virtual-time"]);
    assert!(ok);
    assert_eq!(stdout.lines().collect::<Vec<_>>(), SEED_3);
}

#[test]
fn the_site_status_binary_offline() {
    let (ok, stdout, stderr) = demo("site_status", &["--local", "--virtual-time"]);
    assert!(ok, "{stderr}");
    let results: Vec<_> =
        stdout.lines().filter(|l| !l.contains(" took ") && !l.starts_with("Getting")).collect();
    let sites: Vec<_> = results.iter().map(|l| l.rsplit('/').next().unwrap()).collect();
    assert_eq!(
        sites,
        [
            "www.github.com: 200",
            "www.twitter.com: 403",
            "www.google.com: 200",
            "www.linkedin.com: 999",
            "www.facebook.com: 200"
        ],
        "completion order, not the tutorial's order:\n{stdout}"
    );
    let (ok, _, stderr) = demo("site_status", &["--local", "--timeout=0"]);
    assert!(!ok);
    assert!(stderr.contains("the timeout must be a positive number of seconds"), "{stderr}");
}

#[test]
fn the_site_status_binary_reports_a_failing_url_and_goes_on() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (ok, stdout, _) = demo("site_status", &[&format!("http://{closed}/"), "notaurl"]);
    assert!(!ok, "a failed site makes the exit status 1");
    assert!(
        stdout.contains(&format!("http://{closed}/: error: could not connect to {closed}")),
        "{stdout}"
    );
    assert!(stdout.contains("notaurl: error: invalid URL \"notaurl\""), "{stdout}");
}

#[test]
fn the_run_commands_binary() {
    let (ok, stdout, _) = demo("run_commands", &["sh -c 'sleep 0.3; echo slow'", "echo fast"]);
    assert!(ok);
    assert!(
        stdout.find("echo fast completed").unwrap() < stdout.find("echo slow' completed").unwrap(),
        "{stdout}"
    );
    let (ok, stdout, _) = demo("run_commands", &["echo still-runs", "no-such-program-here"]);
    assert!(!ok, "a failed command makes the exit status 1");
    assert!(stdout.contains("echo still-runs completed:\nstill-runs"), "{stdout}");
    assert!(
        stdout.contains("no-such-program-here failed: could not start `no-such-program-here`"),
        "{stdout}"
    );
}

#[test]
fn the_kitchen_binary_serves_both_in_one_loop() {
    let (ok, stdout, stderr) =
        demo("kitchen", &["--local", "--command", "echo hi", "--command", "sh -c 'echo there'"]);
    assert!(ok, "{stderr}");
    for expected in [
        "Running echo hi",
        "echo hi completed:\nhi",
        "www.facebook.com: 200",
        "www.github.com: 200",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
}

#[test]
fn every_demo_explains_itself_and_names_its_asyncio_original() {
    for (name, original) in [
        ("names_ages", "names_ages.py"),
        ("site_status", "site_status.py"),
        ("run_commands", "run_commands.py"),
        ("kitchen", "site_status.py and run_commands.py"),
    ] {
        let (ok, stdout, _) = demo(name, &["--help"]);
        assert!(ok, "{name} --help");
        assert!(stdout.contains(original), "{name} --help does not name {original}:\n{stdout}");
        assert!(stdout.contains("Usage:"), "{stdout}");
    }
}

#[test]
fn every_demo_offers_stats_in_its_help() {
    for name in ["names_ages", "site_status", "run_commands", "kitchen", "orders"] {
        let (ok, stdout, _) = demo(name, &["--help"]);
        assert!(ok, "{name} --help");
        assert!(stdout.contains("--stats"), "{name} --help does not offer --stats:\n{stdout}");
    }
}

/// The cells of one line of the per-task table (columns are separated by two spaces or more).
fn cells(line: &str) -> Vec<&str> {
    line.split("  ").map(str::trim).filter(|cell| !cell.is_empty()).collect()
}

#[test]
fn names_ages_stats_count_what_names_ages_does() {
    let (ok, stdout, stderr) = demo("names_ages", &["--seed", "3", "--virtual-time", "--stats"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.lines().collect::<Vec<_>>(), SEED_3, "standard output is left alone");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], "runtime metrics:", "{stderr}");
    let line = |start: &str| {
        let found = lines.iter().find(|l| l.trim_start().starts_with(start));
        *found.unwrap_or_else(|| panic!("no line {start:?}:\n{stderr}"))
    };
    // Each of the 15 sleeps ends in a turn of its own, taken with no task to run.
    assert!(line("turns").starts_with("  turns        15 (15 parks"), "{stderr}");
    // Five names and ten ages, each followed by a sleep; nothing else arms a timer.
    assert_eq!(line("timers"), "  timers       15 armed, 15 fired, 0 cancelled, 0 waiting");
    assert_eq!(line("tasks"), "  tasks        2 spawned, 2 completed, 0 live; longest run queue 2");
    // 15 timer wakes, and #0 main woken by each JoinHandle of `gather!`.
    assert_eq!(line("wakes"), "  wakes        17 local, 0 remote; 0 budget yields");
    // One fd is registered for good: the SIGQUIT doorbell (`dump_on_sigquit`), registered as the
    // runtime was built, before anything was recorded. The SIGINT doorbell of the Ctrl-C race
    // (`block_on_or_ctrl_c`) is registered at the first poll and deregistered when it ends.
    let fds = "  fds          1 registered, 1 deregistered, 1 now (sockets, signals)";
    assert_eq!(line("fds"), fds);
    assert_eq!(line("to_thread"), "  to_thread    0 jobs submitted, 0 finished; 0 pool threads");
    // The table: its heading, then one row per task; times are real and vary, counts do not.
    let table = lines.iter().position(|l| l.starts_with("per task")).expect("the table");
    assert_eq!(
        cells(lines[table + 1]),
        ["task", "state", "polls", "busy", "scheduled", "idle", "max poll", "spawned at"]
    );
    let rows: Vec<Vec<&str>> = lines[table + 2..].iter().map(|l| cells(l)).collect();
    assert_eq!(rows.len(), 2, "{stderr}");
    // names: polled at its spawn and after each of its 5 sleeps; ages after each of its 10.
    for (row, (task, polls)) in rows.iter().zip([("#1 \"names\"", "6"), ("#2 \"ages\"", "11")]) {
        assert_eq!(row[..3], [task, "returned", polls], "{stderr}");
        assert!(row[7].starts_with("demos/src/names_ages.rs:"), "{stderr}");
    }
}

#[test]
fn every_demo_can_explain_and_draw_its_timeline() {
    // The flags leave standard output alone: the demo's own lines are unchanged.
    let (ok, stdout, stderr) =
        demo("names_ages", &["--seed", "3", "--virtual-time", "--explain", "--timeline"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.lines().collect::<Vec<_>>(), SEED_3);
    for expected in [
        "spawn #1 \"names\"",
        "poll #2 \"ages\" -> Pending: waits on timer",
        "timer #1 fired -> wake #2 \"ages\" (local queue)",
        "timeline: ",
        "#1 \"names\" █",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in:\n{stderr}");
    }
    let (ok, _, stderr) = demo("site_status", &["--local", "--virtual-time", "--explain"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("readable -> wake"), "socket readiness wakes a site's task:\n{stderr}");
    let (ok, _, stderr) = demo("run_commands", &["--timeline", "sh -c 'echo hi'"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("\"sh -c echo hi\""), "the task is named by its command:\n{stderr}");
    let (ok, _, stderr) = demo("kitchen", &["--local", "--explain", "--command", "true"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("poll #0 main"), "{stderr}");
}

#[test]
fn site_status_writes_a_trace_with_an_arrow_from_each_sites_socket_to_its_task() {
    let path =
        std::env::temp_dir().join(format!("cashier-site-status-{}.json", std::process::id()));
    let path_arg = path.to_str().unwrap().to_owned();
    let (ok, _, stderr) = demo("site_status", &["--local", "--virtual-time", "--trace", &path_arg]);
    assert!(ok, "{stderr}");
    let json = std::fs::read_to_string(&path).expect("the trace was written");
    std::fs::remove_file(&path).ok();
    for site in ["www.google.com", "www.facebook.com", "www.github.com", "www.twitter.com"] {
        assert!(json.contains(site), "a track named by {site}'s URL");
    }
    assert!(json.contains("readable\""), "arrows named by the socket that became readable");
}

/// Compares `actual` with the golden file `name` under tests/golden/, or rewrites the file when
/// `BLESS=1` is set (after a deliberate change of the views, reviewed in the diff).
fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!("{}: {error} (run with BLESS=1 to create it)", path.display())
    });
    assert!(expected == actual, "{name} differs from the golden file:\n{actual}");
}

#[test]
fn names_ages_explained_and_drawn_on_the_paused_clock_is_always_the_same() {
    let binary = env!("CARGO_BIN_EXE_names_ages");
    let run = |flag: &str| {
        let output = Command::new(binary)
            .args(["--seed", "3", "--virtual-time", flag])
            .env("COLUMNS", "80")
            .env_remove("CASHIER_TRACE")
            .env_remove("CASHIER_DEBUG")
            .output()
            .expect("run names_ages");
        assert!(output.status.success());
        String::from_utf8(output.stderr).unwrap()
    };
    golden("names_ages.seed3.explain.txt", &run("--explain"));
    golden("names_ages.seed3.timeline.txt", &run("--timeline"));
}

#[test]
fn site_status_local_explained_on_the_paused_clock_is_always_the_same() {
    let output = Command::new(env!("CARGO_BIN_EXE_site_status"))
        .args(["--local", "--virtual-time", "--explain"])
        .env_remove("CASHIER_TRACE")
        .env_remove("CASHIER_DEBUG")
        .output()
        .expect("run site_status");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    // Standard error only: the narration. The demo's own lines go to standard output.
    golden("site_status.local.explain.txt", &renumber_fds(&local_port_as_port(&stderr)));
}

/// `text` with the local server's port written `PORT`. The server binds port 0 and the kernel
/// picks a free one, so the number differs between runs; the narration says nothing through it
/// (the site's path, which names the task, is kept).
fn local_port_as_port(text: &str) -> String {
    const HOST: &str = "127.0.0.1:";
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(HOST) {
        let (before, after) = rest.split_at(at + HOST.len());
        out.push_str(before);
        out.push_str("PORT");
        rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// `text` with every `fd N` renumbered as a process that inherited no descriptor but 0, 1 and 2
/// would number it: the smallest fd seen becomes 6, the next 7, and so on.
///
/// Why: the OS gives each new socket the lowest free descriptor, and the demo inherits whatever
/// descriptors its parent left open (a shell's, a CI runner's, this test harness's). One left
/// open at 10 makes the fourth site's socket fd 11, and every later one moves up: the numbers
/// depend on who started the demo, not on the runtime. Lowest-free numbering keeps the order,
/// so ranking the numbers seen recovers a clean process's (the reactor's own epoll, eventfd and
/// timerfd take 3, 4 and 5, and are never named): which socket is which, and every fd the
/// narration pairs (a wait on fd 7, then fd 7 readable), stay as the runtime told them.
fn renumber_fds(text: &str) -> String {
    const FD: &str = "fd ";
    let number_after = |at: usize| {
        let digits: String =
            text[at + FD.len()..].chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse::<u32>().ok().map(|fd| (fd, digits.len()))
    };
    let mut seen: Vec<u32> =
        text.match_indices(FD).filter_map(|(at, _)| number_after(at)).map(|(fd, _)| fd).collect();
    seen.sort_unstable();
    seen.dedup();
    let mut out = String::new();
    let mut copied = 0;
    for (at, _) in text.match_indices(FD) {
        if let Some((fd, width)) = number_after(at) {
            let rank = seen.binary_search(&fd).unwrap();
            out.push_str(&text[copied..at + FD.len()]);
            out.push_str(&(6 + rank).to_string());
            copied = at + FD.len() + width;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[test]
fn the_golden_normalisations_change_only_the_port_and_the_fd_numbers() {
    let told = "fd 9 readable -> wake #4 \"http://127.0.0.1:39427/www.github.com\"\nfd 11 x, fd 9";
    assert_eq!(
        renumber_fds(&local_port_as_port(told)),
        "fd 6 readable -> wake #4 \"http://127.0.0.1:PORT/www.github.com\"\nfd 7 x, fd 6"
    );
}

/// Whether process `pid` has a handler installed for `signum` (Linux: `SigCgt` in
/// `/proc/<pid>/status`, a hexadecimal mask whose bit `signum - 1` is set).
fn catches(pid: u32, signum: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mask = status.lines().find_map(|line| line.strip_prefix("SigCgt:"));
    mask.and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signum - 1)) != 0)
}

#[test]
fn sigquit_prints_the_task_dump_and_the_demo_goes_on() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    // The command waits for a file the test creates once the dump is seen: no sleep to tune.
    let gate = std::env::temp_dir().join(format!("cashier-sigquit-{}", std::process::id()));
    let _ = std::fs::remove_file(&gate);
    let command =
        format!("sh -c 'while [ ! -e {} ]; do sleep 0.02; done; echo served'", gate.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_run_commands"))
        .arg(&command)
        .env_remove("CASHIER_TRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run run_commands");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Before its handler is installed, SIGQUIT would end the demo (and dump core): wait for it.
    while !catches(pid, libc::SIGQUIT) {
        assert!(Instant::now() < deadline, "the demo never listened for SIGQUIT");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: `kill` has no memory-safety preconditions; `pid` is our child, not yet waited
    // for, so the number still names it.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGQUIT) }, 0);

    // Read standard error on a thread, so a missing dump fails at the deadline, not never.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut dump = Vec::new();
    while !dump.iter().any(|line: &String| line.contains("live task")) {
        let left = deadline.saturating_duration_since(Instant::now());
        dump.push(seen.recv_timeout(left).expect("no task dump on standard error"));
    }
    std::fs::write(&gate, "").unwrap();
    let status = child.wait().unwrap();
    let _ = std::fs::remove_file(&gate);
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();

    assert!(dump.iter().any(|line| line == cashier::signal::SIGQUIT_HEADER), "{dump:?}");
    assert!(status.success(), "the demo went on and succeeded: {status:?}\n{dump:?}");
    assert!(stdout.contains(&format!("{command} completed:\nserved")), "{stdout}");
}

/// The lines of a demo's output, as a set: the order of completion is free to vary.
fn line_set(stdout: &str) -> std::collections::BTreeSet<String> {
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn run_commands_native_prints_the_same_lines_as_to_thread() {
    let commands = [
        "sh -c 'sleep 0.2; echo slow'",
        "echo fast",
        "sh -c 'echo out; echo err >&2; exit 3'",
        "no-such-program-here",
    ];
    let (ok, threaded, _) = demo("run_commands", &commands);
    assert!(!ok, "a failed command makes the exit status 1");
    let mut native_args = vec!["--native"];
    native_args.extend(commands);
    let (ok, native, stderr) = demo("run_commands", &native_args);
    assert!(!ok, "{stderr}");
    assert_eq!(line_set(&threaded), line_set(&native), "to_thread:\n{threaded}\nnative:\n{native}");
    assert!(native.contains("echo fast completed:\nfast"), "{native}");
    assert!(native.contains("failed with exit status: 3:\nout\nerr"), "{native}");
    // The same through kitchen (with the local sites).
    let kitchen = |native: bool| {
        let mut args = vec!["--local", "--command", "echo hi", "--command", "sh -c 'exit 2'"];
        if native {
            args.push("--native");
        }
        let (ok, stdout, stderr) = demo("kitchen", &args);
        assert!(!ok, "a failed command makes the exit status 1: {stderr}");
        // The sites' lines name a port that differs per run, and real times: the commands'
        // lines must match.
        let mut lines = line_set(&stdout);
        lines.retain(|line| !line.contains("http://"));
        lines
    };
    assert_eq!(kitchen(false), kitchen(true));
}

#[test]
fn run_commands_timeout_kills_the_command_in_both_modes() {
    for mode in [None, Some("--native")] {
        let mut args: Vec<&str> = mode.into_iter().collect();
        args.extend(["--timeout", "0.2", "sleep 30", "echo quick"]);
        let (ok, stdout, stderr) = demo("run_commands", &args);
        assert!(!ok, "a timed-out command makes the exit status 1: {stderr}");
        assert!(stdout.contains("sleep 30 timed out after 0.2s: killed"), "{mode:?}: {stdout}");
        assert!(stdout.contains("echo quick completed:\nquick"), "{mode:?}: {stdout}");
    }
    let (_, stdout, _) = demo("run_commands", &["--help"]);
    assert!(stdout.contains("asyncio.create_subprocess_exec"), "{stdout}");
    assert!(stdout.contains("--native") && stdout.contains("--timeout"), "{stdout}");
}

/// A demo started with both outputs piped, each read to its end on a thread of its own, so that
/// the demo never blocks on a full pipe. Standard error comes line by line, for a test to wait on
/// a line of `--explain`; standard output comes whole, when the demo has closed it.
struct Piped {
    child: std::process::Child,
    stderr: std::sync::mpsc::Receiver<String>,
    stdout: std::thread::JoinHandle<String>,
}

/// Starts demo `binary` with `args`, both outputs piped.
fn start_piped(binary: &str, args: &[&str]) -> Piped {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;

    let mut child = Command::new(binary)
        .args(args)
        .env_remove("CASHIER_TRACE")
        .env_remove("CASHIER_DEBUG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the demo");
    let mut stdout = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    Piped { child, stderr: seen, stdout }
}

/// How long a test waits for a demo to reach the point it waits for: far longer than it takes.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

impl Piped {
    /// Sends the demo `SIGINT` once it catches it, and returns its exit code, its standard
    /// output, and the lines of standard error not taken by [`Piped::wait_for_stderr`].
    fn interrupt(mut self) -> (Option<i32>, String, String) {
        let code = interrupt(&mut self.child);
        let stdout = self.stdout.join().unwrap();
        let stderr: Vec<String> = self.stderr.iter().collect();
        (code, stdout, stderr.join("\n"))
    }

    /// Takes lines of standard error until one contains `text`.
    fn wait_for_stderr(&self, text: &str) {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.stderr.recv_timeout(left);
            if line.expect("the demo's standard error ended, or the wait timed out").contains(text)
            {
                return;
            }
        }
    }
}

/// Sends `child`, a demo, `SIGINT` once it catches it, and returns its exit code.
fn interrupt(child: &mut std::process::Child) -> Option<i32> {
    let pid = child.id();
    let deadline = std::time::Instant::now() + PATIENCE;
    while !catches(pid, libc::SIGINT) {
        assert!(std::time::Instant::now() < deadline, "the demo never listened for SIGINT");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: `kill` has no memory-safety preconditions; `pid` is our child, not yet waited
    // for, so the number still names it.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGINT) }, 0);
    child.wait().unwrap().code()
}

/// Waits until `path` exists (a command of the demo creates it).
fn wait_for_file(path: &std::path::Path) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !path.exists() {
        assert!(std::time::Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Accepts one connection on `listener` (the demo's request), within [`PATIENCE`].
fn accept_one(listener: &std::net::TcpListener) -> std::net::TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        match listener.accept() {
            Ok((stream, _)) => return stream,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(std::time::Instant::now() < deadline, "the demo never connected");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(error) => panic!("accept: {error}"),
        }
    }
}

/// A file name in the temporary directory for this test process and `what`, not there yet.
fn gate(what: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("cashier-{what}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

// Standard output is a pipe here, so the demos buffer it in blocks: the lines printed before
// Ctrl-C are still in the buffer when it comes, and must be written out on the way to exit 130.
#[test]
fn ctrl_c_cancels_the_work_in_flight_exits_with_130_and_keeps_the_lines_printed_before() {
    // The command creates a file once it runs: by then its `Running` line was printed.
    let started = gate("ctrl-c-run-commands");
    let command = format!("sh -c 'touch {} && exec sleep 30'", started.display());
    let demo = start_piped(env!("CARGO_BIN_EXE_run_commands"), &["--native", &command]);
    wait_for_file(&started);
    let (code, stdout, stderr) = demo.interrupt();
    let _ = std::fs::remove_file(&started);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("run_commands: interrupted: cancelled 1 task in flight"), "{stderr}");
    assert_eq!(stdout, format!("Running {command}\n"));

    let started = gate("ctrl-c-kitchen");
    let command = format!("sh -c 'touch {} && exec sleep 30'", started.display());
    let demo =
        start_piped(env!("CARGO_BIN_EXE_kitchen"), &["--local", "--native", "--command", &command]);
    wait_for_file(&started);
    let (code, stdout, stderr) = demo.interrupt();
    let _ = std::fs::remove_file(&started);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("kitchen: interrupted: cancelled"), "{stderr}");
    assert!(stdout.lines().any(|line| line == format!("Running {command}")), "{stdout}");
    // The five sites' lines are printed before the command's (their tasks were spawned first);
    // which of their answers came before Ctrl-C depends on the time it took.
    let gettings = stdout.lines().take_while(|line| line.starts_with("Getting status of "));
    assert_eq!(gettings.count(), 5, "{stdout}");

    // A server on loopback that accepts and never answers: the request waits until Ctrl-C. Once
    // the test has accepted it, the demo has printed the line before its request.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let demo = start_piped(env!("CARGO_BIN_EXE_site_status"), &[&url]);
    let _request = accept_one(&silent);
    let (code, stdout, stderr) = demo.interrupt();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("site_status: interrupted: cancelled 1 task in flight"), "{stderr}");
    assert_eq!(stdout, format!("Getting status of {url}\n"));

    // `--explain` narrates on standard error, unbuffered: once "ages" is pending on its first
    // sleep, both coroutines have printed their first line.
    let demo = start_piped(env!("CARGO_BIN_EXE_names_ages"), &["--seed", "3", "--explain"]);
    demo.wait_for_stderr("poll #2 \"ages\" -> Pending");
    let (code, stdout, stderr) = demo.interrupt();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("names_ages: interrupted"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 2 && SEED_3.starts_with(&lines), "{stdout}");
}

/// Serves `sites` on 127.0.0.1 from a thread with a cashier runtime of its own, for the rest of
/// the test process; returns the address.
fn serve_in_a_thread(sites: fn() -> Vec<Site>) -> std::net::SocketAddr {
    let (sender, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        cashier::Runtime::builder().build().unwrap().block_on(async {
            sender.send(server::spawn_local(sites())).unwrap();
            std::future::pending::<()>().await
        })
    });
    address.recv().unwrap().expect("start the local server")
}

/// One site that answers 200.
fn one_site() -> Vec<Site> {
    vec![Site::new("/ok", 200, "ok")]
}

/// Checks that `stdout` holds, for each of `urls`, its lines in the order site_status prints
/// them (the lines of different URLs interleave as the sites answer), and nothing else; the URL
/// `failing` ends in an error instead.
#[track_caller]
fn site_status_lines_in_order(stdout: &str, urls: &[String], failing: &str) {
    let mut seen = std::collections::HashMap::new();
    for line in stdout.lines() {
        let url = line.split(' ').find(|word| word.starts_with("http://")).unwrap_or(line);
        let url = url.strip_suffix(':').unwrap_or(url);
        let step = seen.entry(url.to_string()).or_insert(0);
        let in_order = match (*step, url == failing) {
            (0, _) => line == format!("Getting status of {url}"),
            (1, false) => line.starts_with(&format!("{url} took ")) && line.ends_with('s'),
            (2, false) => line == format!("{url}: 200"),
            (1, true) => line.starts_with(&format!("{url}: error: could not connect to ")),
            _ => false,
        };
        assert!(in_order, "line {line:?} out of order in:\n{stdout}");
        *step += 1;
    }
    for url in urls {
        let lines = if url == failing { 2 } else { 3 };
        assert_eq!(seen.get(url), Some(&lines), "the lines of {url} in:\n{stdout}");
    }
    assert_eq!(seen.len(), urls.len(), "{stdout}");
}

// Standard output is a pipe, so it is written in blocks (this output takes several): every line
// still arrives, each URL's in order, with the exit status 1 of a failed URL.
#[test]
fn into_a_pipe_every_line_arrives_in_order_through_an_error_exit() {
    let addr = serve_in_a_thread(one_site);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let failing = format!("http://{closed}/");
    let mut urls: Vec<String> = (0..300).map(|n| format!("http://{addr}/ok?n={n}")).collect();
    urls.push(failing.clone());
    let mut args = vec!["--limit", "50"];
    args.extend(urls.iter().map(String::as_str));
    let (stdout, stderr) = exits_with(1, "site_status", &args);
    assert!(stdout.len() > 3 * cashier_demos::output::BLOCK_SIZE, "several blocks");
    assert_eq!(stderr, "");
    site_status_lines_in_order(&stdout, &urls, &failing);
    assert_eq!(stdout.lines().next(), Some(format!("Getting status of {}", urls[0]).as_str()));
}

// `site_status ... | head -1`: the reader closes the pipe after its first line, while the demo
// still has lines to write (more than the pipe holds). The demo drops them and ends as it would
// have, quietly: no panic, no message, the exit status of its sites.
#[test]
fn a_reader_that_stops_early_ends_the_writing_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let addr = serve_in_a_thread(one_site);
    let urls: Vec<String> = (0..2000).map(|n| format!("http://{addr}/ok?n={n}")).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_site_status"))
        .arg("--limit=50")
        .args(&urls)
        .env_remove("CASHIER_TRACE")
        .env_remove("CASHIER_DEBUG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run site_status");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, format!("Getting status of {}\n", urls[0]));
    // The reader is dropped: the pipe is closed.
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

// Standard output that cannot take the lines (a full disk: `/dev/full` fails every write) is no
// success: the demo says so once on standard error and exits 1, as the exit-status rule says.
#[test]
fn output_that_cannot_be_written_is_reported_and_exits_1() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: this system has no /dev/full");
        return;
    };
    let output = Command::new(env!("CARGO_BIN_EXE_names_ages"))
        .args(["--virtual-time", "--seed", "1"])
        .env_remove("CASHIER_TRACE")
        .env_remove("CASHIER_DEBUG")
        .stdout(full)
        .output()
        .expect("run names_ages");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "cannot write to standard output: No space left on device (os error 28); later lines \
         are dropped\n"
    );
}

/// A pseudo-terminal: (the terminal's side, to read what the demo writes; the demo's side).
fn pseudo_terminal() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;

    let (mut ours, mut theirs) = (-1, -1);
    // SAFETY: `openpty` writes two descriptors through the two pointers, which point to live
    // integers; the name, settings and size pointers may be null (not asked for, defaults).
    let opened = unsafe {
        libc::openpty(
            &mut ours,
            &mut theirs,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by `openpty` and are owned by nothing else.
    unsafe { (std::fs::File::from_raw_fd(ours), std::os::fd::OwnedFd::from_raw_fd(theirs)) }
}

// On a terminal, standard output is written line by line: a user watching sees each line as it
// is printed. The demo's first line must reach the terminal while the demo still waits for a
// server that never answers (so it cannot have been written at exit).
#[test]
fn on_a_terminal_each_line_arrives_as_it_is_printed() {
    use std::io::Read;
    use std::process::Stdio;

    let (mut terminal, demo_side) = pseudo_terminal();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_site_status"))
        .args([&url, "--timeout", "600"])
        .env_remove("CASHIER_TRACE")
        .env_remove("CASHIER_DEBUG")
        .stdout(Stdio::from(demo_side))
        .stderr(Stdio::null())
        .spawn()
        .expect("run site_status");
    // The `Command`, and with it the test's copy of the demo's side, is gone: the terminal reads
    // end of file (an error, EIO) once the demo has exited.
    let (chunks, written) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0; 1024];
        while let Ok(n @ 1..) = terminal.read(&mut buf) {
            let _ = chunks.send(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    let _request = accept_one(&silent);
    let expected = format!("Getting status of {url}");
    let mut shown = String::new();
    let deadline = std::time::Instant::now() + PATIENCE;
    while !shown.contains(&expected) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match written.recv_timeout(left) {
            Ok(chunk) => shown.push_str(&chunk),
            Err(_) => panic!("the first line never reached the terminal: {shown:?}"),
        }
    }
    assert_eq!(interrupt(&mut child), Some(130));
}

/// `python3` if it runs here, else `None` with the reason printed.
fn python3() -> Option<&'static str> {
    match Command::new("python3").arg("--version").output() {
        Ok(output) if output.status.success() => Some("python3"),
        Ok(output) => {
            println!("skipped: `python3 --version` exited with {}", output.status);
            None
        }
        Err(error) => {
            println!("skipped: python3 is not on this machine ({error})");
            None
        }
    }
}

#[test]
fn the_asyncio_names_ages_prints_the_same_lines_as_the_rust_one() {
    let Some(python) = python3() else { return };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("asyncio/names_ages.py");
    let output = Command::new(python).arg(&script).args(["--seed", "3"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let python_lines = line_set(&String::from_utf8(output.stdout).unwrap());
    let (ok, rust, _) = demo("names_ages", &["--seed", "3", "--virtual-time"]);
    assert!(ok);
    assert_eq!(python_lines, line_set(&rust));
    assert_eq!(python_lines.len(), 15, "five names and ten ages: {python_lines:?}");
}

#[test]
fn every_asyncio_original_compiles() {
    let Some(python) = python3() else { return };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("asyncio");
    for script in ["names_ages.py", "site_status.py", "run_commands.py", "kitchen.py"] {
        // `compile` parses without running (site_status.py and kitchen.py import aiohttp, which
        // a machine may lack) and writes no `__pycache__`.
        let check = format!("compile(open({:?}).read(), {script:?}, 'exec')", dir.join(script));
        let output = Command::new(python).args(["-c", &check]).output().unwrap();
        assert!(output.status.success(), "{script}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn the_asyncio_run_commands_follows_the_exit_status_rule() {
    let Some(python) = python3() else { return };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("asyncio/run_commands.py");
    let run = |args: &[&str]| Command::new(python).arg(&script).args(args).output().unwrap();
    let output = run(&["echo hi"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Running echo hi\necho hi completed:\nhi\n"
    );
    assert_eq!(run(&["echo hi", "sh -c 'exit 3'"]).status.code(), Some(1));
}
