//! The timeline's layout: time cut into columns (buckets), columns into blocks, and the axis.
//!
//! # Invariants
//!
//! - A bucket is a 1-2-5 step of nanoseconds (1 ns, 2 ns, 5 ns, 10 ns, ...), the shortest that
//!   fits the span in one block's columns, or in [`MIN_BUCKETS`] if a block is narrower.
//! - A block is a whole number of ticks ([`TICK_EVERY`] columns): every block's axis starts on a
//!   tick, so its first column is labelled.
//! - The span's last instant falls in the last bucket: every record has a column.

/// Columns between two ticks of the axis (and the unit a block's width is a multiple of).
pub(super) const TICK_EVERY: usize = 10;

/// The fewest columns a recording is drawn in: when the width leaves room for fewer, the rows
/// wrap into several blocks rather than coarsen the resolution.
pub(super) const MIN_BUCKETS: usize = 60;

/// How the span is cut into buckets and the buckets into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Layout {
    /// Nanoseconds per bucket: a 1-2-5 step.
    pub(super) bucket_ns: u64,
    /// Buckets in the whole span.
    pub(super) buckets: usize,
    /// Buckets per block (a multiple of [`TICK_EVERY`]).
    pub(super) block: usize,
    /// Characters before the first column: the widest label and a space.
    pub(super) indent: usize,
}

impl Layout {
    /// The layout of a span ending at `end` ns, beside labels `label_width` wide, in `width`.
    pub(super) fn new(end: u64, label_width: usize, width: usize) -> Layout {
        let room = width.saturating_sub(label_width + 1);
        let block = (room / TICK_EVERY * TICK_EVERY).max(TICK_EVERY);
        let bucket_ns = bucket_for(end, block.max(MIN_BUCKETS));
        let buckets = usize::try_from(end.div_ceil(bucket_ns)).unwrap_or(usize::MAX).max(1);
        Layout { bucket_ns, buckets, block, indent: label_width + 1 }
    }

    /// The bucket holding instant `at` (the span's end falls in the last one).
    pub(super) fn bucket_of(&self, at: u64) -> usize {
        usize::try_from(at / self.bucket_ns).unwrap_or(usize::MAX).min(self.buckets - 1)
    }

    /// The axis under the columns `columns`: a tick every [`TICK_EVERY`] columns, and under
    /// each tick its time, unless the previous time leaves no room for it.
    pub(super) fn axis(&self, columns: std::ops::Range<usize>) -> String {
        let tick_ns = self.bucket_ns * TICK_EVERY as u64;
        let mut ticks = " ".repeat(self.indent);
        let mut times = " ".repeat(self.indent);
        for (offset, column) in columns.enumerate() {
            let is_tick = column.is_multiple_of(TICK_EVERY);
            ticks.push(if is_tick { '┬' } else { '─' });
            let position = self.indent + offset;
            let free = times.chars().count();
            if is_tick && (free <= position || offset == 0) {
                times.push_str(&" ".repeat(position.saturating_sub(free)));
                times.push_str(&tick_time(column as u64 * self.bucket_ns, tick_ns));
                times.push(' ');
            }
        }
        format!("{ticks}\n{}\n", times.trim_end())
    }
}

/// `at` in seconds, with as many decimals as multiples of `tick_ns` need: `"0.5s"`, `"0.25s"`.
fn tick_time(at: u64, tick_ns: u64) -> String {
    let decimals = (0..9u32).find(|&d| tick_ns.is_multiple_of(10u64.pow(9 - d))).unwrap_or(9);
    let whole = at / 1_000_000_000;
    if decimals == 0 {
        return format!("{whole}s");
    }
    let fraction = at % 1_000_000_000 / 10u64.pow(9 - decimals);
    format!("{whole}.{fraction:0width$}s", width = decimals as usize)
}

/// The shortest 1-2-5 step (1 ns, 2 ns, 5 ns, 10 ns, ...) cutting `end` ns into at most `most`
/// buckets.
fn bucket_for(end: u64, most: usize) -> u64 {
    let most = most.max(1) as u64;
    let mut decade: u64 = 1;
    loop {
        for step in [decade, decade.saturating_mul(2), decade.saturating_mul(5)] {
            if end.div_ceil(step) <= most || step == u64::MAX {
                return step;
            }
        }
        decade = decade.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_end_falls_in_the_last_bucket() {
        let layout = Layout::new(100, 2, 80);
        assert_eq!(layout.bucket_ns, 2);
        assert_eq!(layout.buckets, 50);
        assert_eq!(layout.bucket_of(100), 49);
    }

    #[test]
    fn buckets_are_the_shortest_1_2_5_step_that_fits() {
        assert_eq!(bucket_for(2_522_000_000, 60), 50_000_000);
        assert_eq!(bucket_for(311_100_000, 60), 10_000_000);
        assert_eq!(bucket_for(100, 50), 2);
        assert_eq!(bucket_for(0, 60), 1);
    }

    #[test]
    fn a_narrow_width_wraps_into_blocks_of_whole_ticks() {
        let layout = Layout::new(2_522_000_000, 10, 40);
        assert_eq!((layout.bucket_ns, layout.buckets, layout.block), (50_000_000, 51, 20));
        let wide = Layout::new(2_522_000_000, 10, 200);
        assert_eq!((wide.bucket_ns, wide.buckets, wide.block), (20_000_000, 127, 180));
    }

    #[test]
    fn tick_times_have_the_decimals_their_interval_needs() {
        assert_eq!(tick_time(1_500_000_000, 500_000_000), "1.5s");
        assert_eq!(tick_time(50_000_000, 50_000_000), "0.05s");
        assert_eq!(tick_time(20_000_000_000, 10_000_000_000), "20s");
    }
}
