//! The byte stream under HTTP: a plain cashier `TcpStream`, or TLS over one.
//!
//! rustls is *sans-I/O*: a `Connection` turns ciphertext into plaintext and back, and never
//! touches a socket. [`TlsStream`] drives it over cashier's non-blocking stream: when rustls wants
//! bytes, await a read from the socket and feed them in (`read_tls`); when it has bytes to send,
//! drain them (`write_tls`) and await the socket write. The same adapter serves both sides (the
//! tests run a TLS server with it).

use std::io::{self, Read, Write};
use std::ops::{Deref, DerefMut};

use cashier::net::TcpStream;
use rustls::{ConnectionCommon, SideData};

/// Bytes read from the socket per refill.
const READ_CHUNK: usize = 16 * 1024;

/// TLS over a cashier `TcpStream`, for a client or a server `rustls` connection.
pub struct TlsStream<C> {
    /// The socket.
    tcp: TcpStream,
    /// The rustls state machine.
    conn: C,
    /// Ciphertext waiting to be written.
    outgoing: Vec<u8>,
    /// Ciphertext just read. On the heap: an array here would live inside every future that
    /// awaits a read, making each request's task 16 KiB larger.
    incoming: Vec<u8>,
    /// The socket reached end-of-file.
    eof: bool,
}

impl<C, S> TlsStream<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
{
    /// Wraps `tcp` and runs the handshake to completion.
    pub async fn handshake(tcp: TcpStream, conn: C) -> io::Result<TlsStream<C>> {
        let mut stream = TlsStream {
            tcp,
            conn,
            outgoing: Vec::new(),
            incoming: vec![0; READ_CHUNK],
            eof: false,
        };
        while stream.conn.is_handshaking() {
            stream.flush_tls().await?;
            if stream.conn.is_handshaking() && stream.conn.wants_read() {
                if stream.eof {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed during the TLS handshake",
                    ));
                }
                stream.read_tls().await?;
            }
        }
        stream.flush_tls().await?;
        Ok(stream)
    }

    /// Reads decrypted bytes; `Ok(0)` at a clean end (close_notify, or end-of-file).
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                // A peer that closes without close_notify: treat as end-of-file, as browsers and
                // aiohttp do; the HTTP framing (Content-Length, chunked) catches truncation.
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(error) => return Err(error),
            }
            self.flush_tls().await?;
            if self.eof {
                return Ok(0);
            }
            self.read_tls().await?;
        }
    }

    /// Encrypts and sends all of `data`.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.conn.writer().write_all(data)?;
        self.flush_tls().await
    }

    /// Sends close_notify.
    pub async fn close(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush_tls().await
    }

    /// The socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Feeds one socket read into rustls and processes it.
    async fn read_tls(&mut self) -> io::Result<()> {
        let n = self.tcp.read(&mut self.incoming).await?;
        if n == 0 {
            self.eof = true;
            self.conn.read_tls(&mut &[][..])?; // tells rustls the transport ended
        }
        let mut pending = &self.incoming[..n];
        while !pending.is_empty() {
            self.conn.read_tls(&mut pending)?;
            self.conn
                .process_new_packets()
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        }
        if n == 0 {
            self.process()?;
        }
        Ok(())
    }

    fn process(&mut self) -> io::Result<()> {
        self.conn
            .process_new_packets()
            .map(drop)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
    }

    /// Sends whatever ciphertext rustls has ready.
    async fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            self.outgoing.clear();
            self.conn.write_tls(&mut self.outgoing)?;
            self.tcp.write_all(&self.outgoing).await?;
        }
        Ok(())
    }
}

/// The connection an HTTP exchange runs on.
pub(crate) enum Transport {
    /// `http`.
    Plain(TcpStream),
    /// `https`.
    Tls(Box<TlsStream<rustls::ClientConnection>>),
}

impl Transport {
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(tcp) => tcp.read(buf).await,
            Transport::Tls(tls) => tls.read(buf).await,
        }
    }

    pub(crate) async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Transport::Plain(tcp) => tcp.write_all(data).await,
            Transport::Tls(tls) => tls.write_all(data).await,
        }
    }

    /// Whether an idle connection is still usable: nothing unexpected arrived and the server has
    /// not closed it. (An idle HTTP/1.1 connection receives nothing until the next request.)
    ///
    /// Asks the reactor first (see "Reusing an idle connection" in `http/mod.rs`): when no
    /// readiness event came for the socket since the response drained it, the answer is yes
    /// without a system call. Only when one came does it peek, to tell bytes or a close
    /// (unusable) from a readiness left over by a read that filled its buffer exactly, or, on the
    /// `backend-polling` build, by any read (usable: see the module doc).
    pub(crate) fn is_reusable(&self) -> bool {
        let tcp = match self {
            Transport::Plain(tcp) => tcp,
            Transport::Tls(tls) => tls.tcp(),
        };
        if !tcp.is_read_ready() {
            return true;
        }
        let mut byte = [0];
        matches!(tcp.try_peek(&mut byte), Err(error) if error.kind() == io::ErrorKind::WouldBlock)
    }
}
