//! Where a demo's lines go: standard output for the binaries, a list for the tests, or any
//! [`Write`] (a test counting the writes).
//!
//! Each line is formatted whole, when the task that prints it runs, and goes into the one buffer
//! (or list) that every clone of the [`Output`] shares, so the order of lines is the order of events on the
//! loop: exactly what the demos are meant to show. When that buffer reaches the writer depends
//! on the [`Buffering`]: after every line on a terminal, where a user watches the lines appear as
//! the events happen; in blocks of about [`BLOCK_SIZE`] bytes when standard output is a file or a
//! pipe, as Python's `print` does, so that a demo printing thousands of lines makes one `write`
//! per block, not one per line.
//!
//! A block-buffered standard output is written out when its buffer fills, when
//! [`flush_stdout`] is called (the exit paths of `lib.rs` call it before they print to standard
//! error: [`crate::could_not_run`], [`crate::bad_arguments`], [`crate::interrupted`],
//! [`crate::WatchArgs::report`]), when
//! the last clone of it is dropped (a binary holds one in `main`), and on a panic of the thread
//! that prints (a hook installed with the first standard output flushes it before the panic
//! message).
//!
//! A write that fails stops the writing: the lines it held and all later ones are dropped, not
//! retried. On standard output, a closed pipe (the reader, `head -1` say, is done) is no news and
//! is not reported; any other error is reported once on standard error.

use std::cell::{Cell, RefCell};
use std::fmt::{Display, Write as _};
use std::io::{self, Write};
use std::rc::{Rc, Weak};

/// How many bytes a block-buffered writer gathers before it writes them: 8 KiB, the capacity
/// `std::io::BufWriter` takes by default. A block is written when its buffer holds at least this
/// much, so it ends with a whole line and may run past it by one line.
pub const BLOCK_SIZE: usize = 8 * 1024;

/// When a writer's buffered lines are written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffering {
    /// After each line: for a terminal.
    Line,
    /// When [`BLOCK_SIZE`] bytes have gathered, at a flush, and when the last clone of the
    /// [`Output`] is dropped: for a file or a pipe.
    Block,
}

impl Buffering {
    /// The buffering for standard output: [`Buffering::Line`] when it is a terminal, else
    /// [`Buffering::Block`].
    pub fn for_stdout() -> Buffering {
        if io::IsTerminal::is_terminal(&io::stdout()) { Buffering::Line } else { Buffering::Block }
    }
}

/// A line sink shared by the tasks of one demo.
#[derive(Clone)]
pub struct Output {
    to: To,
}

/// Where an [`Output`]'s lines go.
#[derive(Clone)]
enum To {
    /// A buffered writer (standard output, or a test's).
    Writer(Rc<RefCell<Sink>>),
    /// Captured lines.
    Captured(Rc<RefCell<Vec<String>>>),
    /// Nowhere (benchmarks).
    Dropped,
}

/// The buffered writer behind an [`Output`] that writes.
struct Sink {
    /// Where the bytes go.
    writer: Box<dyn Write>,
    /// Whole lines not yet written.
    buffer: String,
    /// When `buffer` is written.
    buffering: Buffering,
    /// A write failed: no more are tried.
    failed: bool,
    /// The writer is standard output, whose errors this sink reports on standard error.
    is_stdout: bool,
}

impl Sink {
    /// Adds one line and writes the buffer if `buffering` says it is time.
    fn line(&mut self, text: impl Display) {
        if self.failed {
            return;
        }
        // Writing into a `String` fails only if `text`'s `Display` does (where `println!` would
        // panic): the part of the line it wrote is taken back, so the next line starts whole.
        let start = self.buffer.len();
        if writeln!(self.buffer, "{text}").is_err() {
            self.buffer.truncate(start);
        }
        if self.buffering == Buffering::Line || self.buffer.len() >= BLOCK_SIZE {
            self.flush();
        }
    }

    /// Writes the buffered lines, in one `write_all`, and flushes the writer.
    fn flush(&mut self) {
        if self.failed || self.buffer.is_empty() {
            return;
        }
        let written =
            self.writer.write_all(self.buffer.as_bytes()).and_then(|()| self.writer.flush());
        self.buffer.clear();
        if let Err(error) = written {
            self.failed = true;
            if self.is_stdout && error.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("cannot write to standard output: {error}; later lines are dropped");
                STDOUT_LOST_LINES.set(true);
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.flush();
    }
}

thread_local! {
    /// The standard output sink while any [`Output`] holds it: every [`Output::stdout`] on the
    /// thread shares it, so there is one buffer, and one order of lines.
    static STDOUT: RefCell<Weak<RefCell<Sink>>> = const { RefCell::new(Weak::new()) };
}

thread_local! {
    /// Standard output failed for a reason other than a closed pipe (a full disk, say): lines
    /// were lost that a reader expected, so the demo must not exit 0 ([`stdout_lost_lines`]).
    static STDOUT_LOST_LINES: Cell<bool> = const { Cell::new(false) };
}

/// Whether a write to standard output failed on this thread for a reason other than a closed
/// pipe. A reader that closed the pipe (`| head -1`) wanted no more lines, and a demo stays
/// quiet about it, as a Unix tool does; any other failure lost lines, and the exit status says
/// so (`crate::exit_status`).
pub fn stdout_lost_lines() -> bool {
    STDOUT_LOST_LINES.get()
}

/// Writes out whatever standard output holds buffered (nothing if no [`Output::stdout`] is
/// alive on this thread, or if it is in the middle of writing a line: a panic there).
pub fn flush_stdout() {
    let sink = STDOUT.with(|stdout| stdout.borrow().upgrade());
    if let Some(sink) = sink
        && let Ok(mut sink) = sink.try_borrow_mut()
    {
        sink.flush();
    }
}

/// Makes a panic flush standard output before the panic message: installed once, in front of
/// the hook that was there.
fn flush_stdout_on_panic() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            flush_stdout();
            previous(info);
        }));
    });
}

impl Output {
    /// Lines go to standard output, line-buffered on a terminal and block-buffered otherwise
    /// ([`Buffering::for_stdout`]). Every `Output::stdout` alive at once on a thread shares one
    /// buffer; it is written out when the last of them is dropped, or by [`flush_stdout`].
    pub fn stdout() -> Output {
        let sink = STDOUT.with(|stdout| {
            let mut stdout = stdout.borrow_mut();
            if let Some(sink) = stdout.upgrade() {
                return sink;
            }
            let sink = Rc::new(RefCell::new(Sink {
                writer: Box::new(io::stdout()),
                buffer: String::new(),
                buffering: Buffering::for_stdout(),
                failed: false,
                is_stdout: true,
            }));
            *stdout = Rc::downgrade(&sink);
            sink
        });
        flush_stdout_on_panic();
        Output { to: To::Writer(sink) }
    }

    /// Lines go to `writer`, buffered as `buffering` says; what is left in the buffer is written
    /// when the last clone of this `Output` is dropped, or at [`Output::flush`]. A write error
    /// stops the writing, silently.
    pub fn to_writer(writer: impl Write + 'static, buffering: Buffering) -> Output {
        let sink = Sink {
            writer: Box::new(writer),
            buffer: String::new(),
            buffering,
            failed: false,
            is_stdout: false,
        };
        Output { to: To::Writer(Rc::new(RefCell::new(sink))) }
    }

    /// Lines are dropped: for benchmarks that run a demo's code path without its printing.
    pub fn null() -> Output {
        Output { to: To::Dropped }
    }

    /// Lines are kept, for [`Output::lines`].
    pub fn capture() -> Output {
        Output { to: To::Captured(Rc::default()) }
    }

    /// Adds one line (which may contain newlines: it is buffered in one piece, and a block ends
    /// only after a whole line).
    pub fn line(&self, text: impl Display) {
        match &self.to {
            To::Writer(sink) => sink.borrow_mut().line(text),
            To::Captured(lines) => lines.borrow_mut().push(text.to_string()),
            To::Dropped => {}
        }
    }

    /// Writes out the buffered lines now (for standard output, what [`flush_stdout`] does).
    pub fn flush(&self) {
        if let To::Writer(sink) = &self.to {
            sink.borrow_mut().flush();
        }
    }

    /// The captured lines so far (empty unless made by [`Output::capture`]).
    pub fn lines(&self) -> Vec<String> {
        match &self.to {
            To::Captured(lines) => lines.borrow().clone(),
            _ => Vec::new(),
        }
    }
}
