//! Times and the few words the views spell alike.
//!
//! Each view has its own voice (the narrator writes `fd 7 readable -> wake #2 "ages"`, the trace
//! viewer `fd 7 readable` on an arrow), so most words stay with their view. What is here is
//! spelled the same everywhere: how a time or a length of time is printed, a socket's direction,
//! how a task ended, what was ready to run.
//!
//! # Invariants
//!
//! - **Times never run late.** A time cut to fewer digits is truncated, never rounded up: a
//!   line never says something happened later than it did.
//! - Every function is pure: the same nanoseconds give the same text.

use super::run_queue::Ready;
use crate::event::{ChannelNews, Direction, Outcome, Primitive, TaskKey, WaitOn};

/// `"  0.734s  "`: a line's time stamp, [`seconds`] right-aligned to seven characters, then two
/// spaces.
pub(crate) fn stamp(at_ns: u64) -> String {
    format!("{:>7}s  ", seconds_digits(at_ns))
}

/// `"0.734s"`: seconds with three decimals, truncated.
pub(crate) fn seconds(ns: u64) -> String {
    format!("{}s", seconds_digits(ns))
}

/// `"0.734"`: the digits of [`seconds`].
fn seconds_digits(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000_000_000, ns % 1_000_000_000 / 1_000_000)
}

/// `"0.734 s"`, `"0.734015 s"`: a time in seconds, to the millisecond at least and to the
/// nanosecond if need be, with no trailing zeros past the milliseconds.
pub(crate) fn seconds_exact(ns: u64) -> String {
    let fraction = format!("{:09}", ns % 1_000_000_000);
    let digits = fraction.trim_end_matches('0').len().max(3);
    format!("{}.{} s", ns / 1_000_000_000, &fraction[..digits])
}

/// `"734 ms"`, or `"0.250 ms"` for a wait that is not whole milliseconds.
pub(crate) fn millis(ns: u64) -> String {
    if ns.is_multiple_of(1_000_000) {
        format!("{} ms", ns / 1_000_000)
    } else {
        format!("{}.{:03} ms", ns / 1_000_000, ns % 1_000_000 / 1_000)
    }
}

/// A length of time in the largest unit it reaches, exactly: `300 ns`, `20 µs`, `734 ms`,
/// `1.5 s`. (A 1-2-5 step, `50 ms` or `2 µs`, is a whole number of that unit.)
pub(crate) fn duration(ns: u64) -> String {
    let (unit, scale) = match ns {
        0..1_000 => ("ns", 1),
        1_000..1_000_000 => ("µs", 1_000),
        1_000_000..1_000_000_000 => ("ms", 1_000_000),
        _ => ("s", 1_000_000_000),
    };
    format!("{} {unit}", decimal(ns, scale))
}

/// A length of time in the largest unit it reaches, to three decimals at most (truncated): `8.19 s`
/// for 8,190,775,068 ns, `126.676 ms`, `300 ns`. For a name a reader scans (a Perfetto slice),
/// where [`duration`]'s nine digits are noise; the slice's own length stays exact.
pub(crate) fn duration_short(ns: u64) -> String {
    let (unit, scale) = match ns {
        0..1_000 => return format!("{ns} ns"),
        1_000..1_000_000 => ("µs", 1_000),
        1_000_000..1_000_000_000 => ("ms", 1_000_000),
        _ => ("s", 1_000_000_000),
    };
    format!("{} {unit}", decimal(ns / (scale / 1_000), 1_000))
}

/// `value / scale` (a power of ten) exactly, with no trailing zeros: `decimal(1_500, 1_000)` is
/// `1.5`, `decimal(734_000_125, 1_000)` is `734000.125`.
pub(crate) fn decimal(value: u64, scale: u64) -> String {
    let (whole, fraction) = (value / scale, value % scale);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = scale.ilog10() as usize;
    let fraction = format!("{fraction:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// `"readable"` or `"writable"`.
pub(crate) fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Read => "readable",
        Direction::Write => "writable",
    }
}

/// One thing a task waits on, in words: `timer #5 (due 0.734s)`, `fd 7 readable`, `to_thread
/// job 3`, `a channel message`; a `JoinHandle` in the words `join` gives its task. Deadlines
/// are the caller's to put on the records' scale first (`origin.rs`).
pub(crate) fn wait_on_words(on: WaitOn, join: impl FnOnce(TaskKey) -> String) -> String {
    match on {
        WaitOn::Timer { timer, deadline_ns } => {
            format!("timer #{timer} (due {})", seconds(deadline_ns))
        }
        WaitOn::Io { fd, direction } => format!("fd {fd} {}", direction_word(direction)),
        WaitOn::Job { job } => format!("to_thread job {job}"),
        WaitOn::Primitive(primitive) => waits_word(primitive).to_string(),
        WaitOn::Join { task } => join(task),
    }
}

/// What a task waiting on `primitive` waits for: `"a channel message"`, `"a semaphore permit"`.
pub(crate) fn waits_word(primitive: Primitive) -> &'static str {
    match primitive {
        Primitive::Channel(ChannelNews::Message) => "a channel message",
        Primitive::Channel(ChannelNews::Slot) => "a channel slot",
        // Never reported as waited on: only a wake's news.
        Primitive::Channel(ChannelNews::Ended | ChannelNews::Closed) => "a channel",
        Primitive::Oneshot => "a oneshot",
        Primitive::Semaphore => "a semaphore permit",
        Primitive::Event => "an event",
        Primitive::Mutex => "a mutex",
    }
}

/// `"returned"`, `"panicked"` or `"cancelled"`.
pub(crate) fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Returned => "returned",
        Outcome::Panicked => "panicked",
        Outcome::Cancelled => "cancelled",
    }
}

/// `"3 queued"`, `"3 queued, #0 main woken"`, `"#0 main woken"`: what was ready to run, or
/// `None` if the records show nothing ready (a wake from another thread not yet moved over).
pub(crate) fn ready_words(ready: Ready) -> Option<String> {
    match (ready.queued, ready.main_woken) {
        (0, false) => None,
        (0, true) => Some("#0 main woken".into()),
        (queued, false) => Some(format!("{queued} queued")),
        (queued, true) => Some(format!("{queued} queued, #0 main woken")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps_are_seconds_with_three_truncated_decimals_right_aligned() {
        assert_eq!(stamp(0), "  0.000s  ");
        assert_eq!(stamp(734_999_999), "  0.734s  ", "truncated, never later than it happened");
        assert_eq!(stamp(12_345_678_901), " 12.345s  ");
        assert_eq!(stamp(1_234_000_000_000), "1234.000s  ", "wider than seven: not cut");
        assert_eq!(seconds(5_045_000_000), "5.045s");
        assert_eq!(millis(734_000_000), "734 ms");
        assert_eq!(millis(250_000), "0.250 ms");
    }

    #[test]
    fn exact_times_and_lengths_keep_every_nanosecond() {
        assert_eq!(seconds_exact(734_015_000), "0.734015 s");
        assert_eq!(seconds_exact(734_000_000), "0.734 s");
        assert_eq!(duration(1_500_000_000), "1.5 s");
        assert_eq!(duration(300), "300 ns");
        assert_eq!(duration_short(8_190_775_068), "8.19 s");
        assert_eq!(duration_short(126_676_221), "126.676 ms");
        assert_eq!(duration_short(2_000_000), "2 ms");
        assert_eq!(duration_short(999), "999 ns");
        assert_eq!(decimal(734_000_125, 1_000), "734000.125");
    }

    #[test]
    fn what_is_ready_names_the_queue_length_and_main_apart() {
        let ready = |queued, main_woken| ready_words(Ready { queued, main_woken });
        assert_eq!(ready(3, false).as_deref(), Some("3 queued"));
        assert_eq!(ready(3, true).as_deref(), Some("3 queued, #0 main woken"));
        assert_eq!(ready(0, true).as_deref(), Some("#0 main woken"));
        assert_eq!(ready(0, false), None);
    }

    #[test]
    fn a_1_2_5_step_is_a_whole_number_of_its_unit() {
        for (step, text) in [(2_000, "2 µs"), (50_000_000, "50 ms"), (10_000_000_000, "10 s")] {
            assert_eq!(duration(step), text);
        }
    }
}
