//! `get_10k`: 10,000 GETs at 50 in flight, whole-process figures, one child process per client.
//!
//! `cargo bench --bench get_10k` starts a server, then runs each client as its own process with
//! the same 10,000 URLs as arguments and its standard output in a file, and prints a table: wall
//! time, CPU time (user + sys), system calls per GET, peak resident memory and page faults of each
//! client process, and the ratios the issue's goal is stated in. The clients:
//!
//! - `cashier`: the real `site_status` demo binary, `site_status --limit 50 URL...` (built by this
//!   bench with `cargo build --release -p cashier-demos --bin site_status`; its default
//!   `--connections 100`);
//! - `hyper`: hyper's pooled client (`hyper-util`'s legacy `Client`) on tokio's current-thread
//!   runtime, a tokio `Semaphore(50)`, a task per URL consumed in completion order from a
//!   `JoinSet` (this binary again, `--client-hyper URL...`);
//! - `aiohttp`: `benches/get_10k_aiohttp.py` under `python3`, one `ClientSession`, an
//!   `asyncio.Semaphore(50)`, `asyncio.as_completed`; run only when `import aiohttp` works, else
//!   skipped with the reason printed. `PYTHONUNBUFFERED` is removed from its environment, so that
//!   its `print` is block-buffered like the others' output. The script also runs with no URLs,
//!   a row of its own: the interpreter's start-up and imports alone.
//!
//! All three print what `site_status` prints, three lines per URL, into a block-buffered standard
//! output, and the bench checks that each answered 200 for every URL.
//!
//! The server is nginx when it is installed (found on `PATH` or in `/usr/sbin`): started from the
//! template `benches/nginx/nginx.conf` as the bench's user, in a fresh temporary directory
//! (prefix, pid file, logs, temp paths, the 15-byte file it serves), on a free 127.0.0.1 port,
//! and stopped at the end. When nginx is absent or does not start, the bench says why and uses
//! the project's own server (`cashier_demos::http::server`, serving the same 15 bytes) in a child
//! process (`--serve-local`), so that no client pays for the server's CPU. `cargo bench --bench
//! get_10k -- --local-server` uses the project's server even when nginx is installed.
//!
//! Each client runs once to warm up, then `ROUNDS` times, the clients alternating (the machine is
//! shared and noisy); the table shows medians (with the range of the wall time). Wall time runs
//! from the spawn to the reaping of the child; CPU time, peak RSS and minor page faults are the
//! child's `rusage` from `wait4`. System calls come from one more run per client under
//! `strace -f -c` (when strace is installed, else that column is skipped with the reason): every
//! system call the process made, start-up included, divided by 10,000; cashier's are also listed
//! per system call, the others' ten most frequent.
//!
//! The binary does nothing unless given `--bench` (which `cargo bench` passes), so that
//! `cargo test --benches` does not run it.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// GETs per client run.
const GETS: usize = 10_000;
/// Requests in flight at once (every client's semaphore).
const IN_FLIGHT: usize = 50;
/// Measured runs per client, after one warm-up run.
const ROUNDS: usize = 7;
/// The body every server answers with: 15 bytes.
const BODY: &str = "fries are ready";
/// The path the body is served at.
const PATH: &str = "/page";
/// The nginx configuration template (see the file for its placeholders).
const NGINX_CONF: &str = include_str!("nginx/nginx.conf");
/// The asyncio + aiohttp client.
const AIOHTTP_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/get_10k_aiohttp.py");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--client-hyper") => return hyper_client(args[1..].to_vec()),
        Some("--serve-local") => return serve_local(),
        _ => {}
    }
    if !args.iter().any(|arg| arg == "--bench") {
        println!(
            "get_10k: not run (it runs under `cargo bench --bench get_10k`, which passes --bench)"
        );
        return ExitCode::SUCCESS;
    }
    match bench(args.iter().any(|arg| arg == "--local-server")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("get_10k: {error}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The bench: server, clients, measurements, table.

/// One client program and the arguments before its URLs.
struct Client {
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    /// Whether it gets the URLs; without them it only starts and exits (a start-up baseline).
    gets: bool,
}

impl Client {
    /// The client's command on `urls`, run under `wrapper` (a program and its arguments) when
    /// that is not empty; standard streams not set yet.
    fn command(&self, wrapper: &[OsString], urls: &[String]) -> Command {
        let mut command = match wrapper {
            [] => Command::new(&self.program),
            [program, args @ ..] => {
                let mut command = Command::new(program);
                command.args(args).arg(&self.program);
                command
            }
        };
        if self.program.ends_with("python3") {
            // Python's `print` into a file is block-buffered, as `site_status`'s output is, unless
            // the environment says otherwise (some CI images and this project's machine set it).
            command.env_remove("PYTHONUNBUFFERED");
        }
        if self.gets {
            command.args(&self.args).args(urls);
        } else {
            command.args(&self.args);
        }
        command
    }

    /// How many `URL: 200` lines a run must print.
    fn expected(&self) -> usize {
        if self.gets { GETS } else { 0 }
    }
}

/// What one run of a client cost, from its `rusage`.
#[derive(Clone, Copy)]
struct Cost {
    wall: Duration,
    user: Duration,
    sys: Duration,
    peak_rss_kib: u64,
    /// Minor page faults: pages first touched that needed no disk read (fresh heap pages among
    /// them, each zeroed by the kernel).
    page_faults: u64,
}

/// One process's `strace -c` summary: per system call, its calls and errors; most calls first.
struct Syscalls {
    total: u64,
    rows: Vec<(String, u64, u64)>,
}

/// The whole bench; against the project's server when `local_server`, else nginx if it runs.
fn bench(local_server: bool) -> Result<(), String> {
    let server = start_server(local_server)?;
    println!("server: {} at {}", server.description, server.addr);
    let urls: Vec<String> =
        (0..GETS).map(|i| format!("http://{}{PATH}?order={i}", server.addr)).collect();

    let mut clients = vec![
        Client {
            name: "cashier",
            program: site_status_binary()?,
            args: vec!["--limit".into(), IN_FLIGHT.to_string().into()],
            gets: true,
        },
        Client {
            name: "hyper",
            program: std::env::current_exe()
                .map_err(|e| format!("cannot find this bench's executable: {e}"))?,
            args: vec!["--client-hyper".into()],
            gets: true,
        },
    ];
    match aiohttp_available() {
        Ok(()) => {
            for (name, gets) in [("aiohttp", true), ("aiohttp start-up alone (no URLs)", false)] {
                clients.push(Client {
                    name,
                    program: "python3".into(),
                    args: vec![AIOHTTP_SCRIPT.into(), IN_FLIGHT.to_string().into()],
                    gets,
                });
            }
        }
        Err(reason) => println!("aiohttp: skipped: {reason}"),
    }

    let dir = server.dir.clone();
    let out = dir.join("client-stdout.txt");
    let err = dir.join("client-stderr.txt");
    for client in &clients {
        run(client, &urls, &out, &err)?; // warm-up
    }
    let mut costs: Vec<Vec<Cost>> = vec![Vec::new(); clients.len()];
    for round in 0..ROUNDS {
        for (client, costs) in clients.iter().zip(&mut costs) {
            let cost = run(client, &urls, &out, &err)?;
            println!(
                "round {}: {:<8} wall {:>7.1} ms, CPU {:>7.1} ms (user {:.1} + sys {:.1}), peak RSS {:.1} MiB, {} page faults",
                round + 1,
                client.name,
                ms(cost.wall),
                ms(cost.user + cost.sys),
                ms(cost.user),
                ms(cost.sys),
                cost.peak_rss_kib as f64 / 1024.0,
                cost.page_faults
            );
            costs.push(cost);
        }
    }

    let syscalls: Vec<Option<Syscalls>> = match strace_available() {
        Ok(()) => clients
            .iter()
            .enumerate()
            .map(|(i, client)| {
                strace_run(client, &urls, &out, &err, &dir.join(format!("strace-{i}.txt")))
                    .map(Some)
            })
            .collect::<Result<_, _>>()?,
        Err(reason) => {
            println!("system calls: skipped: {reason}");
            clients.iter().map(|_| None).collect()
        }
    };

    print_table(&server, &clients, &costs, &syscalls);
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The median of `values` (the upper one of the middle two for an even count).
fn median<T: Copy + PartialOrd>(values: impl Iterator<Item = T>) -> T {
    let mut values: Vec<T> = values.collect();
    values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    values[values.len() / 2]
}

fn print_table(
    server: &Server,
    clients: &[Client],
    costs: &[Vec<Cost>],
    syscalls: &[Option<Syscalls>],
) {
    println!();
    println!(
        "{GETS} GETs, {IN_FLIGHT} in flight, against {} on 127.0.0.1; medians of {ROUNDS} runs per client",
        server.description
    );
    println!();
    println!(
        "| client | wall, median (range) | CPU user + sys, median | system calls per GET | peak RSS | page faults |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut cpu_medians = Vec::new();
    for ((client, costs), syscalls) in clients.iter().zip(costs).zip(syscalls) {
        let wall = median(costs.iter().map(|c| c.wall));
        let (min, max) = (
            costs.iter().map(|c| c.wall).min().unwrap_or_default(),
            costs.iter().map(|c| c.wall).max().unwrap_or_default(),
        );
        let cpu = median(costs.iter().map(|c| c.user + c.sys));
        let user = median(costs.iter().map(|c| c.user));
        let sys = median(costs.iter().map(|c| c.sys));
        let rss = median(costs.iter().map(|c| c.peak_rss_kib));
        let faults = median(costs.iter().map(|c| c.page_faults));
        let per_get = match syscalls {
            None => "not measured".to_string(),
            Some(s) if client.gets => {
                format!("{:.2} ({} in all)", s.total as f64 / GETS as f64, s.total)
            }
            Some(s) => format!("({} in all)", s.total),
        };
        println!(
            "| {} | {:.0} ms ({:.0}..{:.0}) | {:.0} ms ({:.0} + {:.0}) | {per_get} | {:.1} MiB | {faults} |",
            client.name,
            ms(wall),
            ms(min),
            ms(max),
            ms(cpu),
            ms(user),
            ms(sys),
            rss as f64 / 1024.0
        );
        if client.gets {
            cpu_medians.push((client.name, wall, cpu));
        }
    }
    println!();
    let (_, cashier_wall, cashier_cpu) = cpu_medians[0];
    for &(name, wall, cpu) in &cpu_medians[1..] {
        println!(
            "cashier / {name}: CPU {:.3}, wall {:.3}",
            cashier_cpu.as_secs_f64() / cpu.as_secs_f64(),
            cashier_wall.as_secs_f64() / wall.as_secs_f64()
        );
    }
    let hyper_cpu = cpu_medians[1].2;
    println!(
        "goal, cashier CPU <= hyper's: {} ({:.0} ms against {:.0} ms)",
        if cashier_cpu <= hyper_cpu { "met" } else { "not met" },
        ms(cashier_cpu),
        ms(hyper_cpu)
    );
    match cpu_medians.get(2) {
        Some(&(_, _, aiohttp_cpu)) => println!(
            "goal, cashier CPU <= aiohttp's / 10: {} ({:.0} ms against {:.0} ms)",
            if cashier_cpu * 10 <= aiohttp_cpu { "met" } else { "not met" },
            ms(cashier_cpu),
            ms(aiohttp_cpu / 10)
        ),
        None => println!("goal, cashier CPU <= aiohttp's / 10: not measured (no aiohttp)"),
    }
    for (client, syscalls) in clients.iter().zip(syscalls) {
        let Some(syscalls) = syscalls.as_ref().filter(|_| client.gets) else { continue };
        // cashier's in full (the issue's goal is stated per system call); the others' top ten.
        let shown = if client.name == "cashier" { syscalls.rows.len() } else { 10 };
        println!();
        println!("{}: system calls by `strace -f -c` (start-up included)", client.name);
        println!();
        println!("| system call | calls | per GET | errors |");
        println!("| --- | --- | --- | --- |");
        for (name, calls, errors) in syscalls.rows.iter().take(shown) {
            println!("| `{name}` | {calls} | {:.3} | {errors} |", *calls as f64 / GETS as f64);
        }
        println!("| total | {} | {:.3} | |", syscalls.total, syscalls.total as f64 / GETS as f64);
    }
}

/// Runs `client` on `urls` once, standard output into `out`, standard error into `err`; checks
/// that it succeeded and printed a 200 for every URL; returns what it cost.
fn run(client: &Client, urls: &[String], out: &Path, err: &Path) -> Result<Cost, String> {
    let mut command = client.command(&[], urls);
    let start = Instant::now();
    let child = spawn_into(&mut command, out, err)
        .map_err(|e| format!("cannot start {} ({}): {e}", client.name, client.program.display()))?;
    let (status, usage) = wait4(&child).map_err(|e| format!("wait4 on {}: {e}", client.name))?;
    let wall = start.elapsed();
    check_output(client, ExitStatus::from_raw(status), out, err)?;
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Cost {
        wall,
        user: time(usage.ru_utime),
        sys: time(usage.ru_stime),
        peak_rss_kib: usage.ru_maxrss as u64,
        page_faults: usage.ru_minflt as u64,
    })
}

/// Spawns `command` with no standard input and its standard output and error in fresh files.
fn spawn_into(command: &mut Command, out: &Path, err: &Path) -> io::Result<Child> {
    command.stdin(Stdio::null()).stdout(File::create(out)?).stderr(File::create(err)?).spawn()
}

/// Waits for `child` with `wait4`, which also returns its resource usage.
fn wait4(child: &Child) -> io::Result<(libc::c_int, libc::rusage)> {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: all-zero bytes are a valid `rusage` (plain integers and `timeval`s).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes for the duration of the call; `pid`
        // is our child, not yet reaped (`Child` reaps only in its `wait` methods, never called).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Checks that a client exited with status 0 and printed `URL: 200` for each of its GETs.
fn check_output(client: &Client, status: ExitStatus, out: &Path, err: &Path) -> Result<(), String> {
    let name = client.name;
    let stderr = fs::read_to_string(err).unwrap_or_default();
    let stderr: String = stderr.chars().take(2000).collect();
    if !status.success() {
        return Err(format!("{name} failed ({status}); its standard error:\n{stderr}"));
    }
    let file = File::open(out).map_err(|e| format!("cannot read {name}'s output: {e}"))?;
    let ok = BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|line| line.ends_with(": 200") && !line.starts_with("Getting status of"))
        .count();
    if ok != client.expected() {
        return Err(format!(
            "{name} printed {ok} lines `URL: 200`, not {}; its standard error:\n{stderr}",
            client.expected()
        ));
    }
    Ok(())
}

/// Runs `client` once more under `strace -f -c` and reads the summary.
fn strace_run(
    client: &Client,
    urls: &[String],
    out: &Path,
    err: &Path,
    summary: &Path,
) -> Result<Syscalls, String> {
    let strace = ["strace", "-f", "-c", "-o"].map(OsString::from);
    let wrapper = [&strace[..], &[summary.into(), "--".into()]].concat();
    let mut command = client.command(&wrapper, urls);
    let status = spawn_into(&mut command, out, err)
        .and_then(|mut child| child.wait())
        .map_err(|e| format!("cannot run {} under strace: {e}", client.name))?;
    check_output(client, status, out, err).map_err(|error| format!("under strace: {error}"))?;
    let text = fs::read_to_string(summary)
        .map_err(|e| format!("cannot read strace's summary {}: {e}", summary.display()))?;
    parse_strace_summary(&text).ok_or_else(|| format!("cannot parse strace's summary:\n{text}"))
}

/// Parses `strace -c`'s table. Its columns are right-aligned under the header `% time seconds
/// usecs/call calls errors syscall`, and a column may be empty, so each field is cut out by the
/// header's column ends rather than split on whitespace.
fn parse_strace_summary(text: &str) -> Option<Syscalls> {
    let header = text.lines().find(|line| line.contains("calls") && line.contains("syscall"))?;
    let calls_end = header.find("calls")? + "calls".len();
    let errors_end = header.find("errors")? + "errors".len();
    let field = |line: &str, from: usize, to: usize| -> Option<u64> {
        let text = line.get(from.min(line.len())..to.min(line.len()))?.trim();
        if text.is_empty() { Some(0) } else { text.parse().ok() }
    };
    let mut rows = Vec::new();
    let mut total = None;
    for line in text.lines().skip_while(|line| *line != header).skip(1) {
        if line.starts_with('-') || line.trim().is_empty() {
            continue;
        }
        let name = line.get(errors_end..)?.trim().to_string();
        let calls_start = line[..calls_end].rfind(' ')? + 1;
        let calls = field(line, calls_start, calls_end)?;
        let errors = field(line, calls_end, errors_end)?;
        if name == "total" {
            total = Some(calls);
        } else {
            rows.push((name, calls, errors));
        }
    }
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Some(Syscalls { total: total?, rows })
}

/// `Ok` when `python3 -c 'import aiohttp'` works, else why not.
fn aiohttp_available() -> Result<(), String> {
    let output = Command::new("python3")
        .args(["-c", "import aiohttp"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!("`import aiohttp` fails: {}", stderr.lines().last().unwrap_or("no message")))
}

/// `Ok` when `strace -V` runs, else why not.
fn strace_available() -> Result<(), String> {
    let status = Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run strace: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`strace -V` exited with {status}")) }
}

/// The `site_status` demo binary, built by `cargo build --release` (a no-op when it is up to
/// date) with this bench's reactor backend; cargo's JSON messages give its path, wherever the
/// target directory is.
fn site_status_binary() -> Result<PathBuf, String> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "--release", "--quiet", "-p", "cashier-demos", "--bin", "site_status"]);
    cargo.args(["--message-format=json", "--manifest-path"]);
    cargo.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
    if cfg!(feature = "backend-polling") {
        cargo.args(["--features", "cashier/backend-polling"]);
    }
    let built = cargo
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo to build site_status: {e}"))?;
    if !built.status.success() {
        return Err(format!("cargo build of site_status failed ({})", built.status));
    }
    let messages = String::from_utf8_lossy(&built.stdout);
    messages
        .lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .filter(|line| {
            line.contains(r#""kind":["bin"]"#) && line.contains(r#""name":"site_status""#)
        })
        .find_map(|line| line.split(r#""executable":""#).nth(1)?.split('"').next())
        .map(PathBuf::from)
        .ok_or_else(|| "cargo did not report site_status's executable".to_string())
}

// ---------------------------------------------------------------------------------------------
// The server.

/// A running server process, stopped (and its directory removed) on drop.
struct Server {
    description: String,
    addr: SocketAddr,
    child: Child,
    /// A temporary directory of the bench's own: nginx's prefix, and the clients' output.
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM: nginx's master stops its worker and exits; the local server just exits.
        // SAFETY: `kill` takes two integers; the pid is our child, not reaped yet, so it cannot
        // name another process.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// nginx when it is installed and starts (unless `local_server`), else the project's own server.
fn start_server(local_server: bool) -> Result<Server, String> {
    let dir = std::env::temp_dir().join(format!("cashier-get_10k-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if local_server {
        println!("nginx: not used (--local-server)");
        return start_local(dir);
    }
    match find_nginx() {
        Some(nginx) => match start_nginx(&nginx, &dir) {
            Ok(server) => return Ok(server),
            Err(error) => {
                println!("nginx: {error}; using the project's own server instead");
                let _ = fs::remove_dir_all(&dir);
                fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
        },
        None => println!(
            "nginx: skipped: not installed (not on PATH nor in /usr/sbin); using the project's own server"
        ),
    }
    start_local(dir)
}

/// `nginx` on `PATH`, or in the sbin directories a user's `PATH` may lack.
fn find_nginx() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

/// Starts `nginx` in the foreground from the shipped template, in `dir`; waits until it answers.
fn start_nginx(nginx: &Path, dir: &Path) -> Result<Server, String> {
    let io_error = |what: &str| {
        let what = what.to_string();
        move |e: io::Error| format!("{what}: {e}")
    };
    for sub in ["html", "temp"] {
        fs::create_dir_all(dir.join(sub)).map_err(io_error(&format!("cannot create {sub}/")))?;
    }
    fs::write(dir.join("html/page"), BODY).map_err(io_error("cannot write html/page"))?;
    let port = free_port().map_err(io_error("cannot find a free port"))?;
    // SAFETY: `geteuid` takes nothing and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let conf = NGINX_CONF
        .replace("{{DIR}}", dir.to_str().ok_or("the temporary directory's path is not UTF-8")?)
        .replace("{{PORT}}", &port.to_string())
        .replace("{{USER}}", if root { "user root;" } else { "" });
    let conf_path = dir.join("nginx.conf");
    fs::write(&conf_path, conf).map_err(io_error("cannot write nginx.conf"))?;
    let version = Command::new(nginx)
        .arg("-v")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stderr).trim().replace("nginx version: ", ""))
        .unwrap_or_else(|_| "nginx".to_string());

    let mut command = Command::new(nginx);
    command.arg("-p").arg(dir).arg("-c").arg(&conf_path).arg("-e").arg(dir.join("error.log"));
    command.stdin(Stdio::null()).stdout(Stdio::null());
    command.stderr(File::create(dir.join("stderr.log")).map_err(io_error("stderr.log"))?);
    die_with_parent(&mut command);
    let child = command.spawn().map_err(io_error(&format!("cannot run {}", nginx.display())))?;
    let server = Server {
        description: format!("{version}, one worker, keep-alive"),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        child,
        dir: dir.to_path_buf(),
    };
    wait_until_serving(server, "nginx")
}

/// Starts this binary as the project's server (`--serve-local`) and reads its address.
fn start_local(dir: PathBuf) -> Result<Server, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let mut command = Command::new(exe);
    command.arg("--serve-local").stdin(Stdio::null()).stdout(Stdio::piped());
    die_with_parent(&mut command);
    let mut child =
        command.spawn().map_err(|e| format!("cannot start the project's server: {e}"))?;
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line);
    let addr = match read.map(|_| line.trim().parse::<SocketAddr>()) {
        Ok(Ok(addr)) => addr,
        outcome => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the project's server did not print its address ({outcome:?}: {line:?})"
            ));
        }
    };
    let server = Server {
        description: "the project's own server (cashier_demos::http::server)".to_string(),
        addr,
        child,
        dir,
    };
    wait_until_serving(server, "the project's server")
}

/// Makes the child get SIGTERM when this thread exits, so that no server outlives a killed bench.
fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls `prctl`, which is
    // async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Waits (up to 10 s) until `server` answers a GET of [`PATH`] with 200 and [`BODY`].
fn wait_until_serving(mut server: Server, name: &str) -> Result<Server, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            let logs: String = ["error.log", "stderr.log"]
                .iter()
                .filter_map(|log| fs::read_to_string(server.dir.join(log)).ok())
                .collect();
            return Err(format!("{name} exited at start ({status}): {}", logs.trim()));
        }
        match get_once(server.addr) {
            Ok(response) if response.starts_with("HTTP/1.1 200") && response.ends_with(BODY) => {
                return Ok(server);
            }
            Ok(response) => {
                return Err(format!("{name} answered GET {PATH} with:\n{response}"));
            }
            Err(error) if Instant::now() > deadline => {
                return Err(format!("{name} did not answer within 10 s: {error}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// One GET of [`PATH`] on a fresh connection; the whole response.
fn get_once(addr: SocketAddr) -> io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    stream.shutdown(Shutdown::Write)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

// ---------------------------------------------------------------------------------------------
// The child processes.

/// `--serve-local`: the project's server on a cashier runtime, serving [`BODY`] at [`PATH`]; prints
/// its address on a line, then serves until killed.
fn serve_local() -> ExitCode {
    use cashier_demos::http::server;
    let runtime = match cashier::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("get_10k --serve-local: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match server::spawn_local(vec![server::Site::new(PATH, 200, BODY)]) {
            Ok(addr) => {
                println!("{addr}");
                let _ = io::stdout().flush();
                std::future::pending::<ExitCode>().await
            }
            Err(error) => {
                eprintln!("get_10k --serve-local: cannot bind the server: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

/// The hyper client's shared, block-buffered standard output (8 KiB, like `site_status`'s).
type Out = Arc<Mutex<BufWriter<File>>>;

/// Prints one line into `out`.
fn line(out: &Out, text: std::fmt::Arguments<'_>) {
    let mut out = out.lock().expect("no task panics while printing");
    let _ = out.write_fmt(text).and_then(|()| out.write_all(b"\n"));
}

/// `--client-hyper URL...`: what `site_status --limit 50` does, with hyper's pooled client on a
/// tokio current-thread runtime. Exits 1 when a GET failed.
fn hyper_client(urls: Vec<String>) -> ExitCode {
    use http_body_util::BodyExt;
    // A duplicate of standard output as a plain file, to write around std's line buffering.
    let stdout = match std::os::fd::AsFd::as_fd(&io::stdout()).try_clone_to_owned() {
        Ok(fd) => File::from(fd),
        Err(error) => {
            eprintln!("get_10k --client-hyper: cannot duplicate standard output: {error}");
            return ExitCode::FAILURE;
        }
    };
    let out: Out = Arc::new(Mutex::new(BufWriter::new(stdout)));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("get_10k --client-hyper: cannot start tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    let failed = runtime.block_on(async {
        let client: hyper_util::client::legacy::Client<
            _,
            http_body_util::Empty<hyper::body::Bytes>,
        > = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
        let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let mut tasks = tokio::task::JoinSet::new();
        for url in urls {
            let (client, limit, out) = (client.clone(), limit.clone(), out.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire().await.expect("the semaphore is never closed");
                line(&out, format_args!("Getting status of {url}"));
                let start = Instant::now();
                let get = async {
                    let uri: hyper::Uri = url.parse()?;
                    let response = client.get(uri).await?;
                    let status = response.status().as_u16();
                    response.into_body().collect().await?;
                    Ok::<u16, Box<dyn std::error::Error + Send + Sync>>(status)
                };
                let result = get.await;
                if result.is_ok() {
                    line(&out, format_args!("{url} took {:.2}s", start.elapsed().as_secs_f64()));
                }
                (url, result.map_err(|error| error.to_string()))
            });
        }
        let mut failed = 0;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((url, Ok(status))) => line(&out, format_args!("{url}: {status}")),
                Ok((url, Err(error))) => {
                    failed += 1;
                    line(&out, format_args!("{url}: error: {error}"));
                }
                Err(error) => {
                    failed += 1;
                    line(&out, format_args!("a task failed: {error}"));
                }
            }
        }
        failed
    });
    let flushed = out.lock().expect("no task panicked").flush();
    if let Err(error) = flushed {
        eprintln!("get_10k --client-hyper: cannot write standard output: {error}");
        return ExitCode::FAILURE;
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
