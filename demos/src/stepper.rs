//! The stepper: a runtime driven one scheduling decision per Enter, with its state shown after
//! each. The engine of the `step` example (`cargo run --example step`), which steps through
//! names_ages.
//!
//! Each step is one [`Runtime::step`]: one poll of one task, or one reactor turn. After it the
//! stepper prints a block:
//!
//! ```text
//! ── step 5: poll #3 "ages" -> Pending
//!    output │ 22
//!   explain │ 0.158s  poll #3 "ages" -> Pending: waits on timer #1 (due 0.355s)
//!     queue │ empty
//!    timers │ #1 at 0.355s, #0 at 0.581s
//!   sockets │ none
//! ```
//!
//! - the heading: what the step did, tasks called as the explain mode calls them;
//! - `output`: the lines the program printed during the step;
//! - `explain`: the explain mode's lines for the step (`cashier_trace::Narrator`);
//! - `queue`, `timers`, `sockets`: what the next steps will poll, and what a turn would wait for
//!   ([`Runtime::run_queue`], [`Runtime::pending_timers`], [`Runtime::io_sources`]).
//!
//! # Where names come from
//!
//! A step reports a task by its key; names are stored nowhere in the runtime. So the stepper
//! makes its own trace [`Recorder`] current around every spawn and step, and listens: a `Spawn`
//! numbers a task (`#1`, `#2`, ... in spawn order, as the explain mode numbers them), a `Name`
//! names it, and every record goes on to a [`Narrator`] for the `explain` lines. The recorder
//! keeps no records (its cap is zero; a listener hears every event anyway), and nothing of this
//! touches a runtime that is not being stepped. The runtime must not record for itself
//! ([`Builder::trace`](cashier::Builder::trace)): its own recorder would be current during the
//! steps instead of the stepper's.
//!
//! # Input
//!
//! [`Stepper::interact`] reads lines from any [`BufRead`] and writes to any [`Write`], so a test
//! drives it with a string: an empty line is one step, a number `N` is `N` steps (stopping early
//! when every task is done or the runtime is idle), `q` quits, and the end of input ends the
//! session as `q` does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::io::{self, BufRead, Write};
use std::rc::Rc;

use cashier::cashier_trace::{Event, Narrator, Record, Recorder};
use cashier::step::{IoSource, PendingTimer, PollResult, Step, TaskKey};
use cashier::{JoinHandle, Runtime};

use crate::output::Output;

/// Timers listed after a step; more are summed up as "and more".
const TIMERS_SHOWN: usize = 6;

/// Width of the labels in a step's block (`explain`, `sockets`).
const LABEL_WIDTH: usize = 9;

/// A runtime stepped one decision at a time, with a recorder listening for names and narration.
pub struct Stepper {
    /// The runtime being stepped.
    runtime: Runtime,
    /// Made current around spawns and steps; keeps nothing, tells `heard`.
    recorder: Recorder,
    /// What the recorder's listener learned: labels, and explain lines not yet printed.
    heard: Rc<RefCell<Heard>>,
    /// Where the stepped program prints (captured, shown in each step's block).
    output: Output,
    /// Lines of `output` already shown.
    shown: usize,
    /// Steps taken so far.
    steps: u64,
    /// Write each input line after the prompt: a transcript of piped input reads as typed.
    echo: bool,
}

/// What the recorder's listener has learned so far.
struct Heard {
    /// The explain mode, fed every record.
    narrator: Narrator,
    /// Its lines since they were last printed.
    lines: Vec<String>,
    /// Each task's spawn number and name, by key (a reused key is renumbered at its `Spawn`).
    tasks: HashMap<TaskKey, (u64, Option<Box<str>>)>,
    /// Tasks spawned so far: the number of the last.
    spawned: u64,
}

impl Heard {
    /// Nothing heard yet, from a recorder whose clock read `origin_ns` when it was made (the
    /// runtime may have run, and its clock moved, before the stepper listened).
    fn new(origin_ns: u64) -> Heard {
        let narrator = Narrator::new(origin_ns);
        Heard { narrator, lines: Vec::new(), tasks: HashMap::new(), spawned: 0 }
    }

    /// Learns from one record: numbers and names, and the narrator's lines.
    fn hear(&mut self, record: &Record, names: &[Box<str>]) {
        match record.event {
            Event::Spawn { task, .. } => {
                self.spawned += 1;
                self.tasks.insert(task, (self.spawned, None));
            }
            Event::Name { task, name } => {
                if let Some((_, slot)) = self.tasks.get_mut(&task) {
                    *slot = names.get(name as usize).cloned();
                }
            }
            _ => {}
        }
        if let Some(said) = self.narrator.narrate(record, names) {
            self.lines.extend(said.lines().map(|line| line.trim_start().to_string()));
        }
    }

    /// `#2 "names"`, `#4`, or `#? (0x5a10)` for a task spawned before the stepper listened.
    fn label(&self, task: TaskKey) -> String {
        match self.tasks.get(&task) {
            Some((number, Some(name))) => format!("#{number} {name:?}"),
            Some((number, None)) => format!("#{number}"),
            None => format!("#? ({task:?})"),
        }
    }
}

/// Builds names_ages on a paused clock with `seed`, spawned as task `#1 "main"`, ready to step:
/// what the `step` example runs. The same seed gives the same steps, on every machine.
///
/// # Errors
/// If the runtime cannot be built (the OS refused an event queue).
pub fn names_ages(seed: u64) -> io::Result<Stepper> {
    // `Trace::new()` records nothing: `CASHIER_TRACE` cannot make the runtime record for itself
    // (its recorder would replace the stepper's during each step).
    let runtime = Runtime::builder().start_paused(true).trace(cashier::Trace::new()).build()?;
    let stepper = Stepper::new(runtime);
    let output = stepper.output();
    drop(stepper.spawn_named("main", crate::names_ages::run(output, Some(seed))));
    Ok(stepper)
}

impl Stepper {
    /// A stepper for `runtime`, which must not record for itself (see the module doc).
    pub fn new(runtime: Runtime) -> Stepper {
        let handle = runtime.reactor_handle().clone();
        let recorder = Recorder::new(0, Box::new(move || handle.clock_nanos()));
        let heard = Rc::new(RefCell::new(Heard::new(recorder.origin_ns())));
        let listener = Rc::clone(&heard);
        recorder.set_listener(Box::new(move |record, names| {
            listener.borrow_mut().hear(record, names);
        }));
        Stepper {
            runtime,
            recorder,
            heard,
            output: Output::capture(),
            shown: 0,
            steps: 0,
            echo: false,
        }
    }

    /// Writes each input line after the prompt, so that a transcript of piped input reads as if
    /// typed (the `step` example turns it on when standard input is not a terminal).
    pub fn echo_input(mut self, echo: bool) -> Stepper {
        self.echo = echo;
        self
    }

    /// Where the stepped program should print: its lines are shown in the block of the step
    /// that printed them.
    pub fn output(&self) -> Output {
        self.output.clone()
    }

    /// The runtime, to look at between steps.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Spawns `future` as a task named `name`, with the stepper listening (so it is numbered).
    #[track_caller]
    pub fn spawn_named<F>(&self, name: &str, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // A guard rather than `Recorder::scope`: `#[track_caller]` does not reach into a closure,
        // and the spawn location shown should be our caller's.
        // SAFETY: the guard is a local of this function, dropped when it returns or unwinds.
        let _listening = unsafe { self.recorder.enter() };
        self.runtime.spawn_named(name, future)
    }

    /// Takes one step, with the stepper listening.
    pub fn step(&mut self) -> Step {
        self.steps += 1;
        let runtime = &mut self.runtime;
        self.recorder.scope(|| runtime.step())
    }

    /// `#2 "names"`: a task as the explain mode calls it.
    pub fn label(&self, task: TaskKey) -> String {
        self.heard.borrow().label(task)
    }

    /// A step in words: `poll #2 "names" -> Pending`, `turn: clock jumped to 0.158s, 1 timer
    /// fired`, `idle: nothing to run, nothing to wait for`.
    pub fn describe(&self, step: Step) -> String {
        match step {
            Step::Poll { task, result } => {
                let result = match result {
                    PollResult::Pending => "Pending",
                    PollResult::Ready => "Ready",
                    PollResult::Panicked => "Panicked",
                };
                format!("poll {} -> {result}", self.label(task))
            }
            Step::Cancel { task } => format!("drop {} unpolled: it was aborted", self.label(task)),
            Step::Turn(turn) => format!("turn: {turn}"),
            Step::Idle => "idle: nothing to run, nothing to wait for".to_string(),
        }
    }

    /// Steps as `input` asks, printing the state before the first step and a block after each
    /// (see the module doc), until every task is done, `q`, or the end of `input`.
    ///
    /// # Errors
    /// If reading `input` or writing `out` fails.
    pub fn interact(&mut self, input: impl BufRead, mut out: impl Write) -> io::Result<()> {
        writeln!(out, "Enter: one step · a number N: N steps · q: quit")?;
        self.print_block("── before the first step", &mut out)?;
        let mut lines = input.lines();
        while self.runtime.alive_tasks() > 0 {
            write!(out, "> ")?;
            out.flush()?;
            let Some(line) = lines.next().transpose()? else {
                writeln!(out)?;
                break;
            };
            if self.echo {
                writeln!(out, "{line}")?;
            }
            let count = match line.trim() {
                "" => 1,
                "q" | "quit" => return Ok(()),
                text => match text.parse::<u64>() {
                    Ok(count) if count > 0 => count,
                    _ => {
                        writeln!(out, "? {text:?}: Enter for one step, a number N, or q")?;
                        continue;
                    }
                },
            };
            for _ in 0..count {
                let step = self.step();
                let heading = format!("── step {}: {}", self.steps, self.describe(step));
                self.print_block(&heading, &mut out)?;
                if step == Step::Idle || self.runtime.alive_tasks() == 0 {
                    break;
                }
            }
        }
        if self.runtime.alive_tasks() == 0 {
            writeln!(out, "All tasks done after {} steps.", self.steps)?;
        }
        Ok(())
    }

    /// Prints `heading`, then the step's output and explain lines and the runtime's state.
    fn print_block(&mut self, heading: &str, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "{heading}")?;
        let printed = self.output.lines();
        print_rows(out, "output", &printed[self.shown.min(printed.len())..])?;
        self.shown = printed.len();
        let explained = std::mem::take(&mut self.heard.borrow_mut().lines);
        print_rows(out, "explain", &explained)?;
        let queue = self.runtime.run_queue();
        let queue: Vec<String> = queue.into_iter().map(|task| self.label(task)).collect();
        print_row(out, "queue", &list_or(&queue, "empty"))?;
        print_row(out, "timers", &timers(&self.runtime.pending_timers(TIMERS_SHOWN + 1)))?;
        let sockets: Vec<String> = self.runtime.io_sources().iter().map(socket).collect();
        print_row(out, "sockets", &list_or(&sockets, "none"))
    }
}

/// One row of a block: the label right-aligned, a bar, the text.
fn print_row(out: &mut impl Write, label: &str, text: &str) -> io::Result<()> {
    writeln!(out, "{label:>LABEL_WIDTH$} │ {text}")
}

/// Rows for `lines` under one label (shown on the first only); nothing if there are none.
fn print_rows(out: &mut impl Write, label: &str, lines: &[String]) -> io::Result<()> {
    for (i, line) in lines.iter().enumerate() {
        print_row(out, if i == 0 { label } else { "" }, line)?;
    }
    Ok(())
}

/// `items` joined with commas, or `none` if there are none.
fn list_or(items: &[String], none: &str) -> String {
    if items.is_empty() { none.to_string() } else { items.join(", ") }
}

/// `#1 at 0.158s, #0 at 0.581s`, with "and more" past [`TIMERS_SHOWN`].
fn timers(pending: &[PendingTimer]) -> String {
    let mut listed: Vec<String> = pending
        .iter()
        .take(TIMERS_SHOWN)
        .map(|timer| {
            let ms = timer.deadline.as_millis();
            format!("#{} at {}.{:03}s", timer.timer, ms / 1000, ms % 1000)
        })
        .collect();
    if pending.len() > TIMERS_SHOWN {
        listed.push("and more".to_string());
    }
    list_or(&listed, "none")
}

/// `fd 7 (readable; a reader waits)`.
fn socket(source: &IoSource) -> String {
    let mut said = Vec::new();
    if source.readable {
        said.push("readable");
    }
    if source.writable {
        said.push("writable");
    }
    if source.reader_waits {
        said.push("a reader waits");
    }
    if source.writer_waits {
        said.push("a writer waits");
    }
    if said.is_empty() {
        return format!("fd {}", source.fd);
    }
    format!("fd {} ({})", source.fd, said.join("; "))
}
