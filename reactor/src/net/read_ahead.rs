//! `ReadAhead`: a few hundred bytes read past what the caller asked for, so a read can tell that
//! it drained the socket without a second system call.
//!
//! With edge-triggered readiness, the reactor learns that a socket is drained when a read says
//! `WouldBlock`. A read that fills the caller's buffer exactly (a `read_exact` of a 64-byte
//! message, say) cannot tell whether more bytes wait, so the next read costs a system call that
//! only says `WouldBlock`: one extra call per message, half again the four calls of an echo round
//! trip. Reading with `readv` into the caller's buffer *and* this spare area settles it: if the
//! spare area is not filled, the socket is drained and the readiness can be forgotten at once;
//! whatever landed in it is handed out by the next read, before any system call.
//!
//! Only the reading task touches it (one reader per socket, as documented in `net/mod.rs`).

/// Bytes read past the caller's buffer at most.
pub(crate) const SPARE: usize = 512;

/// Bytes read ahead of the caller.
#[derive(Default)]
pub(crate) struct ReadAhead {
    /// The spare area, allocated at the first read.
    buf: Option<Box<[u8; SPARE]>>,
    /// First byte not yet handed out.
    start: usize,
    /// End of the bytes read ahead.
    end: usize,
}

impl ReadAhead {
    /// Whether no byte is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Moves waiting bytes into `dst`; returns how many.
    pub(crate) fn take_into(&mut self, dst: &mut [u8]) -> usize {
        let n = self.peek_into(dst);
        self.start += n;
        n
    }

    /// Copies waiting bytes into `dst` without consuming them; returns how many.
    pub(crate) fn peek_into(&self, dst: &mut [u8]) -> usize {
        let Some(buf) = &self.buf else { return 0 };
        let n = dst.len().min(self.end - self.start);
        dst[..n].copy_from_slice(&buf[self.start..self.start + n]);
        n
    }

    /// The spare area to read into (only when empty).
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        debug_assert!(self.is_empty(), "reading ahead over unread bytes");
        (self.start, self.end) = (0, 0);
        &mut self.buf.get_or_insert_with(|| Box::new([0; SPARE]))[..]
    }

    /// `n` bytes landed in the spare area.
    pub(crate) fn filled(&mut self, n: usize) {
        (self.start, self.end) = (0, n);
    }
}
