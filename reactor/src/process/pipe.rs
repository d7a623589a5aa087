//! A child's standard streams on the parent's side: pipes, non-blocking, registered with the
//! reactor exactly as sockets are.
//!
//! std creates the pipes (`Stdio::piped()`) and hands over its ends; `Pipe::new` sets
//! `O_NONBLOCK` on ours (the child's end is a separate open file, which stays blocking) and
//! registers it. A read or a write then goes through `Registration::poll_io`, which waits for
//! readiness when the system call says `WouldBlock` and spends a unit of the task's budget when
//! it completes, as a socket's does.
//!
//! # Invariants
//!
//! - The registration is declared before the fd, so it is dropped (deregistered) before the fd
//!   closes.
//! - End of file: the child closed its end (or exited); the read end becomes readable and `read`
//!   returns 0. A write to a stdin the child has closed fails with `EPIPE`
//!   ([`io::ErrorKind::BrokenPipe`]): Rust programs ignore `SIGPIPE`, so the error is a value,
//!   not a death.
//!
//! Unlike tokio's `ChildStdout`, which wraps a `PollEvented<Pipe>` like its sockets, and
//! async-process's, which wraps an `Async<File>`, these are the same few lines as `TcpStream`'s
//! read and write, without its read-ahead buffer: a pipe has no peer address, no shutdown, and a
//! read-ahead would only delay the bytes of a child that writes lines slowly.

use std::fs::File;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::task::{Context, Poll};

use crate::registration::{Direction, Registration};

/// One registered, non-blocking pipe end.
struct Pipe {
    /// Declared first: deregisters before the fd closes.
    registration: Registration,
    /// The pipe end.
    file: File,
}

impl Pipe {
    /// Makes `fd` non-blocking and registers it with the current runtime's reactor.
    fn new(fd: OwnedFd) -> io::Result<Pipe> {
        set_nonblocking(&fd)?;
        let registration = Registration::new(fd.as_raw_fd())?;
        Ok(Pipe { registration, file: File::from(fd) })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.registration.poll_io(cx, Direction::Read, || (&self.file).read(buf))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.registration.poll_io(cx, Direction::Write, || (&self.file).write(buf))
    }
}

/// Sets `O_NONBLOCK` on `fd`'s open file.
fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: `fcntl(F_GETFL)` on an fd we own reads its flags and touches no memory of ours.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; `F_SETFL` changes only the open file's status flags.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads into `buf`, growing it, until end of file (for `read_to_end` and `Child::output`).
/// Ready with `Ok(())` at end of file; `Pending` with the waker stored otherwise.
pub(super) fn poll_read_to_end(
    cx: &mut Context<'_>,
    mut read: impl FnMut(&mut Context<'_>, &mut [u8]) -> Poll<io::Result<usize>>,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    const CHUNK: usize = 64 * 1024;
    loop {
        let filled = buf.len();
        buf.resize(filled + CHUNK, 0);
        let polled = read(cx, &mut buf[filled..]);
        let n = match &polled {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        buf.truncate(filled + n);
        match polled {
            Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(_)) => continue,
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => return Poll::Pending,
        }
    }
}

/// The read methods of `ChildStdout` and `ChildStderr`.
macro_rules! reader {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The parent's end of a child's ", $what, ", when it was `Stdio::piped()`: read")]
        /// through the reactor, like a `TcpStream`. Dropping it closes the pipe (the child's
        /// next write to it fails, or kills it with `SIGPIPE`).
        pub struct $name {
            /// The registered read end.
            pipe: Pipe,
        }

        impl $name {
            /// Takes std's end of the pipe; registers it with the current runtime's reactor.
            pub(super) fn new(end: impl Into<OwnedFd>) -> io::Result<$name> {
                Ok($name { pipe: Pipe::new(end.into())? })
            }

            /// Reads some bytes into `buf`; `Ok(0)` means the child closed its end (or exited),
            /// or `buf` is empty.
            pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
                poll_fn(|cx| self.poll_read(cx, buf)).await
            }

            /// Reads until end of file, appending to `buf`; returns the number of bytes read.
            pub async fn read_to_end(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
                let start = buf.len();
                poll_fn(|cx| poll_read_to_end(cx, |cx, b| self.poll_read(cx, b), buf)).await?;
                Ok(buf.len() - start)
            }

            /// Polls a read (for hand-written futures and the `futures-io` traits).
            pub fn poll_read(
                &self,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.pipe.poll_read(cx, buf)
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.file.as_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.file.as_raw_fd()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).field("fd", &self.as_raw_fd()).finish()
            }
        }

        #[cfg(feature = "futures-io")]
        impl futures_io::AsyncRead for $name {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                $name::poll_read(&self, cx, buf)
            }
        }
    };
}

reader!(ChildStdout, "standard output");
reader!(ChildStderr, "standard error");

/// The parent's end of a child's standard input, when it was `Stdio::piped()`: written through
/// the reactor, like a `TcpStream`. Drop it to close the pipe: the child then reads end of file.
/// [`Child::wait`](super::Child::wait) drops it first, so that a child reading its input to the
/// end is not waited for forever.
pub struct ChildStdin {
    /// The registered write end.
    pipe: Pipe,
}

impl ChildStdin {
    /// Takes std's end of the pipe; registers it with the current runtime's reactor.
    pub(super) fn new(end: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin { pipe: Pipe::new(end.into())? })
    }

    /// Writes some bytes of `buf`; returns how many. [`io::ErrorKind::BrokenPipe`] if the child
    /// closed its end (or exited).
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Does nothing and succeeds: every `write` goes to the kernel.
    pub async fn flush(&self) -> io::Result<()> {
        Ok(())
    }

    /// Polls a write (for hand-written futures and the `futures-io` traits).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.pipe.poll_write(cx, buf)
    }
}

impl AsFd for ChildStdin {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pipe.file.as_fd()
    }
}

impl AsRawFd for ChildStdin {
    fn as_raw_fd(&self) -> RawFd {
        self.pipe.file.as_raw_fd()
    }
}

impl std::fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildStdin").field("fd", &self.as_raw_fd()).finish()
    }
}

#[cfg(feature = "futures-io")]
impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ChildStdin::poll_write(&self, cx, buf)
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Succeeds without closing: a pipe has no half-close; drop the `ChildStdin` to close it.
    fn poll_close(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
