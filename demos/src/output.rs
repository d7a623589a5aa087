//! Where a demo's lines go: standard output for the binaries, a list for the tests.
//!
//! Each line is written whole, when the task that prints it runs, so the order of lines is the
//! order of events on the loop: exactly what the demos are meant to show.

use std::cell::RefCell;
use std::fmt::Display;
use std::io::Write;
use std::rc::Rc;

/// A line sink shared by the tasks of one demo.
#[derive(Clone, Default)]
pub struct Output {
    /// `None`: standard output; `Some`: captured lines.
    captured: Option<Rc<RefCell<Vec<String>>>>,
    /// Lines are dropped (benchmarks).
    discard: bool,
}

impl Output {
    /// Lines go to standard output.
    pub fn stdout() -> Output {
        Output { captured: None, discard: false }
    }

    /// Lines are dropped: for benchmarks that run a demo's code path without its printing.
    pub fn null() -> Output {
        Output { captured: None, discard: true }
    }

    /// Lines are kept, for [`Output::lines`].
    pub fn capture() -> Output {
        Output { captured: Some(Rc::default()), discard: false }
    }

    /// Writes one line (which may contain newlines: it is written in one piece).
    pub fn line(&self, text: impl Display) {
        if self.discard {
            return;
        }
        match &self.captured {
            Some(lines) => lines.borrow_mut().push(text.to_string()),
            None => {
                let mut stdout = std::io::stdout().lock();
                // A closed stdout (a pager quit early) is not worth a panic.
                let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
            }
        }
    }

    /// The captured lines so far (empty for standard output).
    pub fn lines(&self) -> Vec<String> {
        self.captured.as_ref().map(|lines| lines.borrow().clone()).unwrap_or_default()
    }
}
