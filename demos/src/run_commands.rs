//! run_commands: the tutorial's third script, blocking `subprocess.run` moved to threads.
//!
//! ```python
//! async def run_command(command):
//!     print(f"Running {' '.join(command)}")
//!     result = await asyncio.to_thread(subprocess.run, command, stdout=subprocess.PIPE)
//!     print(f"{' '.join(command)} completed:\n{result.stdout.decode()}")
//!
//! await asyncio.gather(*[asyncio.create_task(run_command(c)) for c in COMMANDS])
//! ```
//!
//! `std::process::Command::output` blocks until the program exits; run on the loop it would stop
//! every task. `to_thread` runs it on the blocking pool, and the task is woken when it is done,
//! so the commands run side by side and each prints as soon as it finishes.
//!
//! With [`RunOptions::native`], the commands run through `cashier::process` instead, asyncio's
//! `asyncio.create_subprocess_exec`: each child's exit (a pidfd) and its pipes are readiness
//! sources of the loop, so no thread waits for any child. Both modes print the same lines.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::output::Output;

/// The tutorial's commands.
pub fn tutorial_commands() -> Vec<Vec<String>> {
    [
        &["whoami"][..],
        &["ping", "-c", "5", "google.com"],
        &["lsb_release", "-a"],
        &["python3", "--version"],
    ]
    .iter()
    .map(|c| c.iter().map(|s| s.to_string()).collect())
    .collect()
}

/// Splits a command line into words like a POSIX shell does for the simple cases: on
/// whitespace, with `'single'` and `"double"` quotes grouping words and `\` escaping the next
/// character (so `sh -c 'sleep 0.3; echo slow'` is three words). No variables, no globbing.
pub fn parse_command(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let text = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => text.push(c),
                        None => return Err(format!("{line:?}: unterminated single quote")),
                    }
                }
            }
            '"' => {
                let text = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => text.extend(chars.next()),
                        Some(c) => text.push(c),
                        None => return Err(format!("{line:?}: unterminated double quote")),
                    }
                }
            }
            '\\' => word.get_or_insert_default().extend(chars.next()),
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    if words.is_empty() {
        return Err("an empty command was given".to_string());
    }
    Ok(words)
}

/// The commands a binary was given (each argument one command line), or the tutorial's when
/// none were.
pub fn commands_from_args(args: &[String]) -> Result<Vec<Vec<String>>, String> {
    if args.is_empty() {
        return Ok(tutorial_commands());
    }
    args.iter().map(|line| parse_command(line)).collect()
}

/// A command as a shell would need it typed: words with spaces or quotes are single-quoted.
pub fn display_command(command: &[String]) -> String {
    let quote = |word: &String| {
        if !word.is_empty()
            && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
        {
            word.clone()
        } else {
            format!("'{}'", word.replace('\'', "'\\''"))
        }
    };
    command.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// How run_commands runs each command.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Through `cashier::process` (the exit and the pipes are readiness sources on the loop)
    /// instead of a blocking `std::process::Command` on the `to_thread` pool.
    pub native: bool,
    /// Kill a command still running after this long, and report it.
    pub timeout: Option<Duration>,
}

/// What became of one command: its output, or a timeout (it was killed).
type Outcome = Result<Option<std::process::Output>, String>;

/// What a finished command printed: its standard output, then its standard error, each without
/// trailing blank lines, joined by a newline when both have text. The Python original lets a
/// command's standard error through to the terminal; here it is shown under the command's line,
/// whether the command succeeded or failed.
fn printed(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    [stdout.trim_end(), stderr.trim_end()]
        .into_iter()
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs one command and prints its output (or why it failed), the same lines in both modes.
pub async fn run_command(out: Output, command: Vec<String>, options: RunOptions) -> bool {
    let line = display_command(&command);
    out.line(format!("Running {line}"));
    let outcome = if options.native {
        run_native(command, options.timeout).await
    } else {
        run_on_a_thread(command, options.timeout).await
    };
    match outcome {
        Ok(Some(output)) if output.status.success() => {
            out.line(format!("{line} completed:\n{}", printed(&output)));
            true
        }
        Ok(Some(output)) => {
            out.line(format!("{line} failed with {}:\n{}", output.status, printed(&output)));
            false
        }
        Ok(None) => {
            let limit = options.timeout.unwrap_or_default();
            out.line(format!("{line} timed out after {}s: killed", limit.as_secs_f64()));
            false
        }
        Err(error) => {
            out.line(format!("{line} failed: {error}"));
            false
        }
    }
}

/// The tutorial's way: a blocking `std::process::Command` on the blocking pool (`to_thread`).
///
/// With a timeout, the job reads the two pipes on two threads of its own and polls the child's
/// exit every 10 ms until the deadline, then kills it: what Python's
/// `subprocess.run(timeout=...)` does on POSIX (it polls `waitpid` with short sleeps). The
/// readers of a killed child are left to end on their own, at end of file.
async fn run_on_a_thread(command: Vec<String>, timeout: Option<Duration>) -> Outcome {
    let program = command[0].clone();
    let job = cashier::to_thread(move || {
        let mut child = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("could not start `{program}`: {error}"))?;
        let Some(limit) = timeout else {
            return child.wait_with_output().map(Some).map_err(|error| error.to_string());
        };
        let reader = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = reader(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
        let stderr = reader(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().map_err(|error| error.to_string())? {
                let (stdout, stderr) = (stdout.join(), stderr.join());
                let stdout = stdout.map_err(|_| "the stdout reader panicked".to_string())?;
                let stderr = stderr.map_err(|_| "the stderr reader panicked".to_string())?;
                return Ok(Some(std::process::Output { status, stdout, stderr }));
            }
            let now = Instant::now();
            if now >= deadline {
                child.kill().map_err(|error| error.to_string())?;
                child.wait().map_err(|error| error.to_string())?;
                return Ok(None);
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
        }
    });
    job.await.map_err(|error| error.to_string())?
}

/// asyncio's better way (`asyncio.create_subprocess_exec`): `cashier::process`, where the
/// child's exit and its pipes are readiness sources on the loop, with no thread per command. A
/// timeout drops the wait, and `kill_on_drop` kills the child, which the reactor then reaps.
async fn run_native(command: Vec<String>, timeout: Option<Duration>) -> Outcome {
    let child = cashier::process::Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| error.to_string())?;
    let output = child.wait_with_output();
    let output = match timeout {
        None => output.await,
        Some(limit) => match cashier::timeout(limit, output).await {
            Ok(output) => output,
            Err(_elapsed) => return Ok(None),
        },
    };
    output.map(Some).map_err(|error| error.to_string())
}

/// Runs every command concurrently with `gather`; returns how many succeeded.
pub async fn run(out: Output, commands: Vec<Vec<String>>, options: RunOptions) -> usize {
    let tasks = commands.into_iter().map(|command| {
        let name = command.join(" ");
        crate::spawn_named(&name, run_command(out.clone(), command, options))
    });
    cashier::gather(tasks).await.into_iter().filter(|ok| matches!(ok, Ok(true))).count()
}
