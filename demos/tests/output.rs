//! The buffered writer behind `Output` as a demo's lines meet it: every line arrives whole and
//! in order, a block-buffered writer makes one write per block of lines (not one per line), a
//! line-buffered one writes each line as it comes, and a failed write ends the writing without a
//! panic. The writes are counted on a test writer, in the process: no timing, no strace.

mod common;

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use cashier_demos::http::server::{self, Site};
use cashier_demos::output::{BLOCK_SIZE, Buffering};
use cashier_demos::{Output, site_status};
use common::{client, paused};

/// A writer that keeps every `write` call's bytes, or fails each with `fail` if it is set.
#[derive(Clone, Default)]
struct Recorder {
    writes: Rc<RefCell<Vec<Vec<u8>>>>,
    fail: Option<io::ErrorKind>,
}

impl Recorder {
    fn count(&self) -> usize {
        self.writes.borrow().len()
    }

    fn text(&self) -> String {
        String::from_utf8(self.writes.borrow().concat()).unwrap()
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes.borrow_mut().push(buf.to_vec());
        match self.fail {
            Some(kind) => Err(io::Error::from(kind)),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The writes a block-buffered writer makes for `lines`: one each time its buffer reaches
/// `BLOCK_SIZE` bytes, and one at the end for the rest.
fn blocks_for(lines: &[String]) -> usize {
    let (mut blocks, mut buffered) = (0, 0);
    for line in lines {
        buffered += line.len() + 1;
        if buffered >= BLOCK_SIZE {
            blocks += 1;
            buffered = 0;
        }
    }
    blocks + usize::from(buffered > 0)
}

#[test]
fn a_block_buffered_output_writes_whole_blocks_of_lines_in_order() {
    let recorder = Recorder::default();
    let out = Output::to_writer(recorder.clone(), Buffering::Block);
    let lines: Vec<String> =
        (0..2000).map(|n| format!("line {n}: {}", "x".repeat(n % 40))).collect();
    for (n, line) in lines.iter().enumerate() {
        out.clone().line(line);
        if n == 10 {
            assert_eq!(recorder.count(), 0, "a few lines wait in the buffer");
        }
    }
    let before_the_end = recorder.count();
    drop(out);
    assert_eq!(recorder.count(), before_the_end + 1, "the last clone's drop writes the rest");
    assert_eq!(recorder.count(), blocks_for(&lines));
    assert!(recorder.count() < lines.len() / 50, "{} writes", recorder.count());
    for write in recorder.writes.borrow().iter() {
        assert!(write.ends_with(b"\n"), "each block ends with a whole line");
    }
    assert_eq!(recorder.text(), lines.iter().map(|line| format!("{line}\n")).collect::<String>());
}

#[test]
fn a_line_buffered_output_writes_each_line_as_it_comes() {
    let recorder = Recorder::default();
    let out = Output::to_writer(recorder.clone(), Buffering::Line);
    out.line("first");
    assert_eq!(recorder.text(), "first\n");
    // A line with newlines in it (a command's output) is one line, written in one piece.
    out.line("ls completed:\na\nb");
    assert_eq!(recorder.count(), 2);
    assert_eq!(recorder.writes.borrow()[1], b"ls completed:\na\nb\n");
}

/// A value whose `Display` writes part of itself, then fails.
struct HalfShown;

impl std::fmt::Display for HalfShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("half")?;
        Err(std::fmt::Error)
    }
}

#[test]
fn a_line_whose_display_fails_is_left_out_whole() {
    let recorder = Recorder::default();
    let out = Output::to_writer(recorder.clone(), Buffering::Block);
    out.line("before");
    out.line(HalfShown);
    out.line("after");
    out.flush();
    assert_eq!(recorder.text(), "before\nafter\n");
}

#[test]
fn flush_writes_what_is_buffered_now() {
    let recorder = Recorder::default();
    let out = Output::to_writer(recorder.clone(), Buffering::Block);
    out.line("before Ctrl-C");
    assert_eq!(recorder.count(), 0);
    out.flush();
    assert_eq!(recorder.text(), "before Ctrl-C\n");
    out.flush();
    assert_eq!(recorder.count(), 1, "nothing buffered: no write");
}

#[test]
fn a_failed_write_ends_the_writing_without_a_panic() {
    for kind in [io::ErrorKind::BrokenPipe, io::ErrorKind::StorageFull] {
        for buffering in [Buffering::Line, Buffering::Block] {
            let recorder = Recorder { fail: Some(kind), ..Recorder::default() };
            let out = Output::to_writer(recorder.clone(), buffering);
            for n in 0..5000 {
                out.line(n);
            }
            out.flush();
            drop(out);
            assert_eq!(
                recorder.count(),
                1,
                "{kind:?} {buffering:?}: no write after the failed one"
            );
        }
    }
}

/// `n` URLs of one site on the server at `addr`, told apart by their query.
fn urls(addr: std::net::SocketAddr, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("http://{addr}/ok?n={i}")).collect()
}

/// Runs site_status on the paused clock against a local server for 2,000 URLs, 50 at a time,
/// printing to `out`.
fn site_status_to(out: Output) {
    paused().block_on(async {
        let addr = server::spawn_local(vec![Site::new("/ok", 200, "ok")]).unwrap();
        let results = site_status::run(out, Rc::new(client()), urls(addr, 2000), Some(50)).await;
        assert!(results.iter().all(|(_, result)| result.is_ok()), "{results:?}");
    });
}

#[test]
fn site_status_into_a_block_buffered_output_makes_a_write_per_block_not_per_line() {
    let recorder = Recorder::default();
    site_status_to(Output::to_writer(recorder.clone(), Buffering::Block));
    let text = recorder.text();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3 * 2000, "Getting, took, and the status, for each URL");
    // Each URL's three lines arrived, in the order its task printed them.
    let mut seen = std::collections::HashMap::new();
    for line in &lines {
        let url = line.split(' ').find(|word| word.starts_with("http://")).unwrap();
        let url = url.trim_end_matches(':');
        let step = seen.entry(url).or_insert(0);
        let expected = match step {
            0 => format!("Getting status of {url}"),
            1 => format!("{url} took 0.00s"),
            _ => format!("{url}: 200"),
        };
        assert_eq!(*line, expected);
        *step += 1;
    }
    assert_eq!(seen.len(), 2000);
    assert!(seen.values().all(|&lines| lines == 3), "three lines for every URL");
    for write in recorder.writes.borrow().iter() {
        assert!(write.ends_with(b"\n"), "each block ends with a whole line");
    }
    assert_eq!(recorder.count(), blocks_for(&lines));
    assert!(
        recorder.count() * 100 < lines.len(),
        "{} writes for {} lines: one per block",
        recorder.count(),
        lines.len()
    );
}
