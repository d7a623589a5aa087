//! Pass 2's last step: one event of the Trace Event Format written as JSON, by hand.
//!
//! The library has no serde: a trace is a flat array of flat objects, and writing them is a few
//! `write!`s. This file knows the fields (`ph`, `ts`, `dur`, `pid`, `tid`, `id`, `bp`, `s`,
//! `args`) and JSON's escaping, and nothing of cashier.
//!
//! # Invariants
//!
//! - Every string written goes through [`write_str`], so any task name is valid JSON.
//! - Times are kept in nanoseconds until written, then written in microseconds exactly (a
//!   decimal fraction, never a float), so no nanosecond is lost or rounded.
//! - One event per line, commas between them: the file reads in an editor.

use std::io::{self, Write};
use std::mem;

use super::items::REACTOR_TID;
use crate::views::words::decimal;

/// The one process every track belongs to.
const PID: u64 = 1;

/// One event as written: the fields every phase shares, and those only some phases use.
pub(super) struct TraceEvent<'a> {
    /// The phase: one letter saying what the event is.
    pub(super) ph: char,
    /// What a viewer shows on the slice, mark, arrow or counter.
    pub(super) name: &'a str,
    /// The category.
    pub(super) cat: &'static str,
    /// The track (thread) in process [`PID`].
    pub(super) tid: u64,
    /// When, in nanoseconds (written in microseconds); `None` for metadata, which has no time.
    pub(super) ts_ns: Option<u64>,
    /// `X`: how long, in nanoseconds.
    pub(super) dur_ns: Option<u64>,
    /// `s`, `f`: the arrow's id, the same on both ends.
    pub(super) id: Option<usize>,
    /// `f`: `"e"` binds it to the slice enclosing it.
    pub(super) bp: Option<&'static str>,
    /// `i`: `"t"` marks a thread, `"g"` the whole trace.
    pub(super) scope: Option<&'static str>,
    /// Shown when the event is selected.
    pub(super) args: &'a [(&'static str, Arg)],
}

impl<'a> TraceEvent<'a> {
    /// An event of phase `ph` on the reactor's track, with only its name and category.
    pub(super) fn new(ph: char, name: &'a str, cat: &'static str) -> TraceEvent<'a> {
        TraceEvent {
            ph,
            name,
            cat,
            tid: REACTOR_TID,
            ts_ns: None,
            dur_ns: None,
            id: None,
            bp: None,
            scope: None,
            args: &[],
        }
    }
}

/// A value in `args`.
pub(super) enum Arg {
    /// A string (escaped when written).
    Text(String),
    /// A whole number.
    Int(u64),
    /// A flag.
    Bool(bool),
}

/// Writes the events of the `traceEvents` array, commas between them.
pub(super) struct EventWriter<W: Write> {
    /// Where the JSON goes.
    pub(super) out: W,
    /// Whether no event was written yet (no comma before it).
    pub(super) first: bool,
}

impl<W: Write> EventWriter<W> {
    /// Writes one event on a line of its own: its name first, its args last.
    pub(super) fn event(&mut self, event: &TraceEvent<'_>) -> io::Result<()> {
        let out = &mut self.out;
        out.write_all(if mem::take(&mut self.first) { b"\n" } else { b",\n" })?;
        out.write_all(b"{\"name\":")?;
        write_str(out, event.name)?;
        if !event.cat.is_empty() {
            write!(out, ",\"cat\":\"{}\"", event.cat)?;
        }
        write!(out, ",\"ph\":\"{}\"", event.ph)?;
        if let Some(ts_ns) = event.ts_ns {
            write!(out, ",\"ts\":{}", decimal(ts_ns, 1_000))?;
        }
        if let Some(dur_ns) = event.dur_ns {
            write!(out, ",\"dur\":{}", decimal(dur_ns, 1_000))?;
        }
        write!(out, ",\"pid\":{PID},\"tid\":{}", event.tid)?;
        if let Some(id) = event.id {
            write!(out, ",\"id\":{id}")?;
        }
        if let Some(bp) = event.bp {
            write!(out, ",\"bp\":\"{bp}\"")?;
        }
        if let Some(scope) = event.scope {
            write!(out, ",\"s\":\"{scope}\"")?;
        }
        if !event.args.is_empty() {
            write_args(out, event.args)?;
        }
        out.write_all(b"}")
    }
}

/// Writes `"args":{...}`.
fn write_args(out: &mut impl Write, args: &[(&'static str, Arg)]) -> io::Result<()> {
    out.write_all(b",\"args\":{")?;
    for (i, (key, value)) in args.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_str(out, key)?;
        out.write_all(b":")?;
        match value {
            Arg::Text(text) => write_str(out, text)?,
            Arg::Int(n) => write!(out, "{n}")?,
            Arg::Bool(b) => write!(out, "{b}")?,
        }
    }
    out.write_all(b"}")
}

/// Writes `s` as a JSON string. JSON requires escaping quotes, backslashes and control
/// characters, and nothing else: those get their short form where JSON has one (`\n`), else
/// `\u00XX`.
fn write_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let mut plain = 0; // start of the run of characters that need no escape
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            c if c < ' ' => None,
            _ => continue,
        };
        out.write_all(&s.as_bytes()[plain..i])?;
        match escape {
            Some(escape) => out.write_all(escape.as_bytes())?,
            None => write!(out, "\\u{:04x}", u32::from(c))?,
        }
        plain = i + c.len_utf8();
    }
    out.write_all(&s.as_bytes()[plain..])?;
    out.write_all(b"\"")
}
