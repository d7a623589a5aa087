//! Child processes on the reactor: a child's exit and its pipes are readiness sources like
//! sockets, so one thread waits for any number of children (asyncio's
//! `asyncio.create_subprocess_exec`, tokio's `tokio::process`, smol's `async-process`).
//!
//! [`Command`] wraps `std::process::Command`, which does the fork and exec, the environment, the
//! working directory and the standard streams, and reports a program that cannot start (the
//! error names it). After the spawn:
//!
//! - the pipes of [`Stdio::piped()`](std::process::Stdio::piped) streams are made non-blocking
//!   and registered with the reactor ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`],
//!   `pipe.rs`);
//! - the child's exit is watched through a pidfd registered with the reactor, or where Linux has
//!   none, through `SIGCHLD` ([`ExitWatch`], `exit.rs`);
//! - a [`Child`] dropped before its exit was seen is reaped in the background by the reactor,
//!   never by blocking the loop, so no zombie is left behind while the runtime runs (`exit.rs`).
//!
//! # Invariants
//!
//! - A `Child` owns std's `Child` until the exit is reaped, through std's `try_wait`, so that
//!   std's bookkeeping (its refusal to `kill` a reaped pid) stays true; the pid cannot be reused
//!   before then.
//! - Everything lives on the runtime thread: the orphan list is a `RefCell` in the reactor, no
//!   locks.
//!
//! # Where production runtimes differ
//!
//! tokio also registers a pidfd per child on Linux (`process/unix/pidfd_reaper.rs`), with a
//! `SIGCHLD` fallback, and keeps dropped children in a process-wide orphan queue reaped on
//! `SIGCHLD`. async-process starts one background thread, `async-process`, that waits on the
//! pidfds (or `SIGCHLD`) of every child of the process and reaps them. cashier needs no thread
//! on either path: its orphans are per reactor, swept by the reactor's own turn.

mod exit;
mod pipe;

use std::ffi::OsStr;
use std::future::poll_fn;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};
use std::task::{Context, Poll};

use crate::driver::Handle;

pub use exit::{ExitWatch, NO_PIDFD_ENV, exit_watch};
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};

use exit::Watch;
pub(crate) use exit::{Orphan, final_sweep, sweep};

/// A process to start: `std::process::Command`'s builder, whose children are waited for on the
/// reactor.
///
/// ```
/// use std::process::Stdio;
///
/// use cashier::process::Command;
///
/// cashier::run(async {
///     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"meow").await?;
///     drop(stdin); // `cat` reads end of file, and exits
///     let output = child.wait_with_output().await?;
///     assert!(output.status.success());
///     assert_eq!(output.stdout, b"meow");
///
///     let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
///     assert_eq!(status.code(), Some(3));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Command {
    /// std's builder: program, arguments, environment, directory, streams.
    std: std::process::Command,
    /// Whether the `Child`s spawned are killed when dropped.
    kill_on_drop: bool,
    /// Whether `stdin`, `stdout`, `stderr` were set: `output` sets those that were not.
    stdio_set: [bool; 3],
}

impl Command {
    /// A command to run `program`, found in `PATH` if it has no `/`; with no arguments, the
    /// parent's environment and directory, and every stream inherited (as std).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            stdio_set: [false; 3],
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: `Stdio::piped()` (then [`Child::stdin`] writes to it),
    /// `Stdio::inherit()` (the default for `spawn` and `status`) or `Stdio::null()` (the default
    /// for `output`).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdio_set[0] = true;
        self
    }

    /// The child's standard output: piped (then [`Child::stdout`] reads it), inherited (the
    /// default for `spawn` and `status`) or null. `output` pipes it unless it was set.
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdio_set[1] = true;
        self
    }

    /// The child's standard error: piped (then [`Child::stderr`] reads it), inherited (the
    /// default for `spawn` and `status`) or null. `output` pipes it unless it was set.
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stdio_set[2] = true;
        self
    }

    /// Whether the children spawned are sent `SIGKILL` when their [`Child`] is dropped before
    /// their exit was seen (off by default: a dropped child runs on, and is reaped in the
    /// background once it exits). A timeout around `child.wait()` then kills the child it gives
    /// up on.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// std's builder, for what this one does not wrap (`std::os::unix::process::CommandExt`'s
    /// `uid`, `process_group`, `pre_exec`, ...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child on the runtime running on this thread.
    ///
    /// # Errors
    ///
    /// A program that cannot start is an error naming it, of the OS error's kind:
    /// ``could not start `nosuchprog`: No such file or directory (os error 2)``
    /// ([`io::ErrorKind::NotFound`]). Also an error outside a cashier runtime, or if the OS
    /// refuses a pipe, a pidfd or a registration.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let program = self.std.get_program().to_string_lossy().into_owned();
        let context = |error: io::Error| {
            io::Error::new(error.kind(), format!("could not start `{program}`: {error}"))
        };
        let handle = Handle::try_current().ok_or_else(|| {
            context(io::Error::other(
                "no cashier runtime on this thread: spawn inside a future run by \
                 `Runtime::block_on` or `cashier::run`",
            ))
        })?;
        let mut child = self.std.spawn().map_err(context)?;
        // From here on, a failure must not leave the child behind: `abandon` kills and reaps it.
        let pid = child.id();
        let streams = (|| {
            let stdin = child.stdin.take().map(ChildStdin::new).transpose()?;
            let stdout = child.stdout.take().map(ChildStdout::new).transpose()?;
            let stderr = child.stderr.take().map(ChildStderr::new).transpose()?;
            let watch = Watch::new(pid)?;
            Ok((stdin, stdout, stderr, watch))
        })();
        let (stdin, stdout, stderr, watch) = match streams {
            Ok(streams) => streams,
            Err(error) => {
                abandon(child);
                return Err(context(error));
            }
        };
        Ok(Child {
            stdin,
            stdout,
            stderr,
            running: Some(Running { child, watch }),
            status: None,
            pid,
            kill_on_drop: self.kill_on_drop,
            handle,
            program,
        })
    }

    /// Starts the child and waits for its exit (streams inherited unless set).
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Starts the child and collects its exit status and everything it writes. Like std's
    /// `output`, it pipes standard output and standard error and gives the child an empty
    /// standard input, for the streams that were not set; those settings stay on this `Command`
    /// for later spawns.
    pub async fn output(&mut self) -> io::Result<Output> {
        let defaults = [Stdio::null, Stdio::piped, Stdio::piped];
        for (stream, default) in defaults.iter().enumerate() {
            if !self.stdio_set[stream] {
                let cfg = default();
                match stream {
                    0 => self.stdin(cfg),
                    1 => self.stdout(cfg),
                    _ => self.stderr(cfg),
                };
            }
        }
        self.spawn()?.wait_with_output().await
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.std.fmt(f)
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std builder; its stream settings are kept, and `output` takes them as set.
    fn from(std: std::process::Command) -> Command {
        Command { std, kill_on_drop: false, stdio_set: [true; 3] }
    }
}

/// A child not yet reaped, and what watches its exit.
struct Running {
    /// std's handle; reaped by its `try_wait`.
    child: std::process::Child,
    /// The pidfd or `SIGCHLD` listener.
    watch: Watch,
}

/// A started child process: made by [`Command::spawn`].
///
/// Wait for it with [`wait`](Child::wait) or [`wait_with_output`](Child::wait_with_output). A
/// `Child` dropped before its exit was seen does not wait on the spot: the reactor reaps the
/// child once it exits, and if the `Command` set [`kill_on_drop`](Command::kill_on_drop), the
/// drop sends it `SIGKILL` first.
///
/// ```
/// use std::os::unix::process::ExitStatusExt;
/// use std::time::Duration;
///
/// use cashier::process::Command;
///
/// cashier::run(async {
///     let mut child = Command::new("sleep").arg("30").spawn()?;
///     let pid = child.id().expect("not reaped yet");
///     if cashier::timeout(Duration::from_millis(10), child.wait()).await.is_err() {
///         child.kill()?; // SIGKILL, without waiting
///     }
///     let status = child.wait().await?;
///     assert_eq!(status.signal(), Some(9));
///     assert_eq!(child.id(), None, "reaped: pid {pid} is no longer ours");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Child {
    /// The child's standard input, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// `None` once reaped.
    running: Option<Running>,
    /// The exit status, once reaped.
    status: Option<ExitStatus>,
    /// The child's pid.
    pid: u32,
    /// Kill the child if dropped while running.
    kill_on_drop: bool,
    /// The reactor whose orphan list takes the child if it is dropped while running.
    handle: Handle,
    /// The program's name, for errors.
    program: String,
}

impl Child {
    /// The child's pid; `None` once its exit has been reaped (the number may then belong to
    /// another process).
    pub fn id(&self) -> Option<u32> {
        self.running.as_ref().map(|_| self.pid)
    }

    /// Sends the child `SIGKILL` and returns without waiting for it to die (tokio's
    /// `start_kill`); [`wait`](Child::wait) then reports the signal.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if the child's exit was already reaped: the pid is no
    /// longer ours to signal. Killing a child that has exited but was not yet reaped succeeds.
    pub fn kill(&mut self) -> io::Result<()> {
        match &mut self.running {
            Some(running) => running.child.kill(),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot kill `{}`: its exit was already reaped", self.program),
            )),
        }
    }

    /// Waits for the child to exit and reaps it; closes its standard input first (so that a child
    /// reading it to the end is not waited for forever). Once reaped, returns the same status
    /// again.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// Reaps the child if it has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let Some(running) = &mut self.running else { return Ok(self.status) };
        let status = running.child.try_wait()?;
        if status.is_some() {
            self.status = status;
            self.running = None;
        }
        Ok(status)
    }

    /// Polls for the exit (for hand-written futures). See [`Child::wait`], which also closes
    /// standard input.
    pub fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let Some(running) = &mut self.running else {
            return Poll::Ready(Ok(self.status.expect("a reaped child has a status")));
        };
        let status = std::task::ready!(running.watch.poll_exit(cx, &mut running.child))?;
        self.status = Some(status);
        self.running = None;
        Poll::Ready(Ok(status))
    }

    /// Waits for the child to exit while collecting everything it writes to its piped standard
    /// output and standard error, concurrently: a child that fills one pipe while the parent
    /// reads the other cannot deadlock. A stream that was not piped gives no bytes. Closes
    /// standard input first.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (mut out_done, mut err_done) = (stdout.is_none(), stderr.is_none());
        let mut status = None;
        poll_fn(|cx| {
            if let (false, Some(pipe)) = (out_done, &stdout) {
                let read = pipe::poll_read_to_end(cx, |cx, b| pipe.poll_read(cx, b), &mut out);
                if let Poll::Ready(result) = read {
                    result?;
                    out_done = true;
                }
            }
            if let (false, Some(pipe)) = (err_done, &stderr) {
                let read = pipe::poll_read_to_end(cx, |cx, b| pipe.poll_read(cx, b), &mut err);
                if let Poll::Ready(result) = read {
                    result?;
                    err_done = true;
                }
            }
            if status.is_none()
                && let Poll::Ready(result) = self.poll_wait(cx)
            {
                status = Some(result?);
            }
            match status {
                Some(status) if out_done && err_done => Poll::Ready(Ok(status)),
                _ => Poll::Pending,
            }
        })
        .await
        .map(|status| Output { status, stdout: out, stderr: err })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut running) = self.running.take() else { return };
        if self.kill_on_drop {
            let _ = running.child.kill();
        }
        if !matches!(running.child.try_wait(), Ok(None)) {
            return; // reaped now (or reaped by someone else: `ECHILD`)
        }
        if self.handle.inner.shut_down.get() {
            // No turn will sweep any more: the child, killed or not, is not waited for
            // (see `exit.rs`).
            return;
        }
        let orphan =
            Orphan { child: running.child, watch: running.watch, killed: self.kill_on_drop };
        self.handle.inner.orphans.borrow_mut().push(orphan);
    }
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child")
            .field("program", &self.program)
            .field("pid", &self.pid)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Kills and reaps a child whose setup failed after the spawn: it was never handed out, and
/// `SIGKILL` makes the blocking `wait` short.
fn abandon(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}
