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

use std::process::{Command, Stdio};

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

/// Runs one command on the blocking pool and prints its output (or why it failed).
pub async fn run_command(out: Output, command: Vec<String>) -> bool {
    let line = display_command(&command);
    out.line(format!("Running {line}"));
    let program = command[0].clone();
    let result = cashier::to_thread(move || {
        Command::new(&command[0]).args(&command[1..]).stdin(Stdio::null()).output()
    })
    .await;
    match result {
        Ok(Ok(output)) if output.status.success() => {
            out.line(format!(
                "{line} completed:\n{}",
                String::from_utf8_lossy(&output.stdout).trim_end()
            ));
            true
        }
        Ok(Ok(output)) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            out.line(format!(
                "{line} failed with {}:\n{}{}",
                output.status,
                stdout,
                stderr.trim_end()
            ));
            false
        }
        Ok(Err(error)) => {
            out.line(format!("{line} failed: cannot run {program:?}: {error}"));
            false
        }
        Err(error) => {
            out.line(format!("{line} failed: {error}"));
            false
        }
    }
}

/// Runs every command concurrently with `gather`; returns how many succeeded.
pub async fn run(out: Output, commands: Vec<Vec<String>>) -> usize {
    let tasks = commands.into_iter().map(|command| {
        let name = command.join(" ");
        crate::spawn_named(&name, run_command(out.clone(), command))
    });
    cashier::gather(tasks).await.into_iter().filter(|ok| matches!(ok, Ok(true))).count()
}
