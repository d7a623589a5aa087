//! TCP: a listener that accepts, and a stream that connects, reads and writes.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io::{self, IoSliceMut, Read, Write};
use std::net::{self, Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::net::lookup_host;
use crate::net::read_ahead::{ReadAhead, SPARE};
use crate::registration::{Direction, Registration};

/// How many pending connections the kernel may queue for `accept` (Linux caps it at
/// `net.core.somaxconn`, 4096 by default).
const BACKLOG: i32 = 1024;

/// A TCP socket listening for connections.
///
/// ```
/// use cashier::net::{TcpListener, TcpStream};
///
/// cashier::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
///     let addr = listener.local_addr()?;
///     let server = cashier::spawn(async move {
///         let (stream, _peer) = listener.accept().await?;
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await?;
///         stream.write_all(&buf).await // echo it back
///     });
///     let client = TcpStream::connect(addr).await?;
///     client.write_all(b"hello").await?;
///     let mut reply = [0; 5];
///     client.read_exact(&mut reply).await?;
///     assert_eq!(&reply, b"hello");
///     server.await??;
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct TcpListener {
    /// Declared first: deregisters before the socket closes.
    registration: Registration,
    /// The non-blocking socket.
    listener: net::TcpListener,
}

impl TcpListener {
    /// Binds to `addr` and starts listening, with `SO_REUSEADDR` (so a restarted server can bind
    /// while old connections linger in `TIME_WAIT`) and a backlog of 1,024. Port 0 picks a free
    /// port; [`TcpListener::local_addr`] tells which.
    ///
    /// Errors name the address: `bind 127.0.0.1:80: Permission denied (os error 13)`.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let context =
            |error: io::Error| io::Error::new(error.kind(), format!("bind {addr}: {error}"));
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(context)?;
        socket.set_reuse_address(true).map_err(context)?;
        socket.set_nonblocking(true).map_err(context)?;
        socket.bind(&addr.into()).map_err(context)?;
        socket.listen(BACKLOG).map_err(context)?;
        let listener: net::TcpListener = socket.into();
        Ok(TcpListener { registration: Registration::new(listener.as_raw_fd())?, listener })
    }

    /// Waits for a connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection (for hand-written futures).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        // `accept4` makes the connection non-blocking as it is accepted: no call to make it so.
        let accepted = std::task::ready!(self.registration.poll_io(cx, Direction::Read, || {
            SockRef::from(&self.listener).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
        }));
        Poll::Ready(accepted.and_then(|(socket, peer)| {
            let peer = peer.as_socket().ok_or_else(|| {
                io::Error::other("accepted a connection whose peer has no IP address")
            })?;
            Ok((TcpStream::register(socket.into())?, peer))
        }))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// A TCP connection. See [`TcpListener`] for an example of both ends.
pub struct TcpStream {
    /// Declared first: deregisters before the socket closes.
    registration: Registration,
    /// The non-blocking socket.
    stream: net::TcpStream,
    /// Bytes read past the last read's buffer (see `read_ahead.rs`).
    ahead: RefCell<ReadAhead>,
}

impl TcpStream {
    /// Connects to `addr`.
    ///
    /// The connect is non-blocking: the task waits for the socket to become writable, then reads
    /// `SO_ERROR`, so a refused connection is an `io::ErrorKind::ConnectionRefused` error as soon
    /// as the peer's reset arrives, not a hang. Errors name the address.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let context =
            |error: io::Error| io::Error::new(error.kind(), format!("connect to {addr}: {error}"));
        // Non-blocking from its creation (`SOCK_NONBLOCK`), so no call is spent making it so.
        let kind = Type::STREAM.nonblocking();
        let socket =
            Socket::new(Domain::for_address(addr), kind, Some(Protocol::TCP)).map_err(context)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(error) => return Err(context(error)),
        }
        let stream = TcpStream::register(socket.into()).map_err(context)?;
        poll_fn(|cx| stream.registration.poll_ready(cx, Direction::Write))
            .await
            .map_err(context)?;
        if let Some(error) = stream.stream.take_error().map_err(context)? {
            return Err(context(error));
        }
        // Writable with no error means connected; `peer_addr` confirms it.
        stream.stream.peer_addr().map_err(context)?;
        Ok(stream)
    }

    /// Resolves `host` off the runtime thread ([`lookup_host`]), then tries each address in turn
    /// until one connects. The error of the last attempt is returned if none does.
    pub async fn connect_host(host: &str, port: u16) -> io::Result<TcpStream> {
        let mut last_error = None;
        for addr in lookup_host(host, port).await? {
            match TcpStream::connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address"))
        }))
    }

    /// Wraps a connected `std::net::TcpStream`: makes it non-blocking and registers it with the
    /// current runtime's reactor.
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::register(stream)
    }

    /// Registers a stream that is non-blocking already.
    fn register(stream: net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            registration: Registration::new(stream.as_raw_fd())?,
            stream,
            ahead: RefCell::default(),
        })
    }

    /// Reads some bytes into `buf`; `Ok(0)` means the peer closed its side (or `buf` is empty).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the peer closes first.
    pub async fn read_exact(&self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed before the buffer was filled",
                    ));
                }
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Reads until the peer closes its side, appending to `buf`; returns the number of bytes read.
    pub async fn read_to_end(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        const CHUNK: usize = 16 * 1024;
        let start = buf.len();
        loop {
            let filled = buf.len();
            buf.resize(filled + CHUNK, 0);
            let result = self.read(&mut buf[filled..]).await;
            let n = *result.as_ref().unwrap_or(&0);
            buf.truncate(filled + n);
            match result? {
                0 => return Ok(buf.len() - start),
                _ => continue,
            }
        }
    }

    /// Writes some bytes of `buf`; returns how many.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the connection accepted no more bytes",
                    ));
                }
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Does nothing and succeeds: the stream keeps no user-space buffer, every `write` goes to
    /// the kernel. Present so code written against buffered writers reads naturally.
    pub async fn flush(&self) -> io::Result<()> {
        Ok(())
    }

    /// Shuts down the read half, the write half (the peer reads end-of-file), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.stream.shutdown(how)
    }

    /// Looks at incoming bytes without consuming them and without waiting: `Ok(0)` means the peer
    /// closed its side, `WouldBlock` that nothing has arrived. A connection pool uses it, after
    /// [`TcpStream::is_read_ready`], to tell a live idle connection from one the server has
    /// closed. A `WouldBlock` proves the socket drained, so it also forgets the read readiness,
    /// as a read's `WouldBlock` does.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let ahead = self.ahead.borrow();
        if !ahead.is_empty() {
            return Ok(ahead.peek_into(buf));
        }
        let peeked = self.stream.peek(buf);
        if matches!(&peeked, Err(error) if error.kind() == io::ErrorKind::WouldBlock) {
            self.registration.clear(Direction::Read);
        }
        peeked
    }

    /// Whether bytes or an end-of-file may be waiting, from what the reactor already knows: no
    /// system call. `false` means that no readiness event (data, FIN, reset) has been delivered
    /// for this socket since a read or [`TcpStream::try_peek`] last found it drained, and no byte
    /// waits in its read-ahead.
    ///
    /// It can be wrong both ways: `true` after a read that filled its buffer exactly (the read
    /// could not tell whether more was coming; the next read or `try_peek` settles it), and on the
    /// `backend-polling` build after any read that did not end in `WouldBlock` (that backend
    /// cannot report a closed read half apart, so a short read keeps the readiness); `false` for
    /// bytes that arrived since the reactor's last turn (events are delivered only then). A connection pool checks it before
    /// reusing an idle connection, where the first error costs a `try_peek` and the second a
    /// retried request, instead of a system call on every reuse.
    pub fn is_read_ready(&self) -> bool {
        !self.ahead.borrow().is_empty() || self.registration.is_ready(Direction::Read)
    }

    /// Polls a read (for hand-written futures and the `futures-io` traits).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut ahead = self.ahead.borrow_mut();
        if buf.is_empty() || !ahead.is_empty() {
            return Poll::Ready(Ok(ahead.take_into(buf)));
        }
        let len = buf.len();
        let read = std::task::ready!(self.registration.poll_io(cx, Direction::Read, || {
            let mut slices = [IoSliceMut::new(buf), IoSliceMut::new(ahead.spare())];
            (&self.stream).read_vectored(&mut slices)
        }));
        let n = match read {
            Ok(n) => n,
            Err(error) => return Poll::Ready(Err(error)),
        };
        if n > 0 && n < len + SPARE {
            // Neither buffer filled: the socket is drained, no need to hear it from `EAGAIN`.
            self.registration.clear_after_short_transfer(Direction::Read);
        }
        if n > len {
            ahead.filled(n - len);
        }
        Poll::Ready(Ok(n.min(len)))
    }

    /// Polls a write (for hand-written futures and the `futures-io` traits).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        let written = std::task::ready!(
            self.registration.poll_io(cx, Direction::Write, || (&self.stream).write(buf))
        );
        if let Ok(n) = written
            && n < len
        {
            self.registration.clear_after_short_transfer(Direction::Write);
        }
        Poll::Ready(written)
    }

    /// Disables (`true`) or enables Nagle's algorithm: with it disabled, small writes go out at
    /// once instead of waiting to be coalesced.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.stream.set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is disabled.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.stream.nodelay()
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl std::os::fd::AsFd for TcpStream {
    /// The socket, for options this type does not wrap (through `socket2::SockRef`, say).
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.stream.as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.listener.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.listener.as_raw_fd()
    }
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener").field("local", &self.local_addr().ok()).finish()
    }
}

#[cfg(feature = "futures-io")]
mod futures_io_impls {
    //! `futures_io::AsyncRead` / `AsyncWrite`, for code written against the `futures` traits.

    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::TcpStream;

    impl futures_io::AsyncRead for TcpStream {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            TcpStream::poll_read(&self, cx, buf)
        }
    }

    impl futures_io::AsyncWrite for TcpStream {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            TcpStream::poll_write(&self, cx, buf)
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(self.shutdown(std::net::Shutdown::Write))
        }
    }
}
