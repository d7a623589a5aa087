//! UDP: datagrams to and from any address.

use std::future::poll_fn;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::AsRawFd;

use crate::registration::{Direction, Registration};

/// A UDP socket.
///
/// ```
/// use cashier::net::UdpSocket;
///
/// cashier::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
///     let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 8];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct UdpSocket {
    /// Declared first: deregisters before the socket closes.
    registration: Registration,
    /// The non-blocking socket.
    socket: net::UdpSocket,
}

impl UdpSocket {
    /// Binds to `addr` (port 0 picks a free port). Errors name the address.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        let context =
            |error: io::Error| io::Error::new(error.kind(), format!("bind {addr}: {error}"));
        let socket = net::UdpSocket::bind(addr).map_err(context)?;
        socket.set_nonblocking(true).map_err(context)?;
        Ok(UdpSocket { registration: Registration::new(socket.as_raw_fd())?, socket })
    }

    /// Sends `buf` as one datagram to `target`; returns the bytes sent.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        poll_fn(|cx| {
            self.registration.poll_io(cx, Direction::Write, || self.socket.send_to(buf, target))
        })
        .await
    }

    /// Receives one datagram into `buf`; returns its length and sender. A datagram longer than
    /// `buf` is truncated.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.registration.poll_io(cx, Direction::Read, || self.socket.recv_from(buf)))
            .await
    }

    /// Sets the default peer for [`UdpSocket::send`] and filters [`UdpSocket::recv`] to it.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.socket.connect(addr)
    }

    /// Sends to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.registration.poll_io(cx, Direction::Write, || self.socket.send(buf)))
            .await
    }

    /// Receives from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.registration.poll_io(cx, Direction::Read, || self.socket.recv(buf))).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_addr()
    }
}

impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }
}

impl std::fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSocket").field("local", &self.local_addr().ok()).finish()
    }
}
