//! A thousand clients resetting mid-transfer (full scale): each connects, sends part of what it
//! would send, and is dropped with `SO_LINGER` 0 (a reset, not a close) while the server is
//! both reading from it and blocked writing to it. Every connection's server task must end,
//! its read with an error or end-of-file and its write with an error, and the reactor must
//! hold no registration afterwards.
//!
//! The clients are blocking sockets on a `to_thread` job, so that they need nothing from the
//! runtime under test. Their receive buffers and the server's send buffers are made small, so
//! that the server's writes block after a few kilobytes instead of filling megabytes of kernel
//! buffers per connection.

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cashier::net::{TcpListener, TcpStream};
use cashier::{Runtime, spawn, to_thread};
use socket2::{Domain, SockRef, Socket, Type};

use crate::harness::{self, Scale};

/// Bytes each client sends before its reset (of the megabyte it would send).
const SENT: usize = 16 * 1024;

/// What the server writes, over and over (shared: not 64 KiB in each writer's future).
static CHUNK: [u8; 64 * 1024] = [0x5a; 64 * 1024];

/// Socket buffer sizes asked for on both sides (the kernel doubles and rounds them).
const BUFFER: usize = 4 * 1024;

/// How each server task ended.
#[derive(Default)]
struct Endings {
    read_eof: Cell<usize>,
    read_error: Cell<usize>,
    write_error: Cell<usize>,
}

pub fn run(scale: &Scale) -> String {
    // Both ends of every connection are in this process.
    let (clients, note) = harness::connections_within_fd_limit(scale.reset_clients, 2);
    let runtime = Runtime::new().expect("runtime");
    let endings = Rc::new(Endings::default());
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let addr = listener.local_addr().unwrap();
        // Connections whose server task has read all that was sent and whose writer is blocked:
        // from then on, the client is mid-transfer.
        let mid_transfer = Arc::new(AtomicUsize::new(0));
        let server = spawn(serve(listener, clients, mid_transfer.clone(), endings.clone()));
        let job = to_thread(move || reset_clients(addr, clients, &mid_transfer));
        job.await.expect("the clients' job").expect("the clients");
        server.await.expect("the server");
    });
    assert_eq!(
        endings.read_eof.get() + endings.read_error.get(),
        clients,
        "every read ended with end-of-file or an error"
    );
    assert_eq!(endings.write_error.get(), clients, "every blocked write ended with an error");
    assert_eq!(runtime.io_source_count(), 0, "no registration left behind");
    assert_eq!(runtime.alive_tasks(), 0, "no task left behind");
    format!(
        "{clients} clients{note} reset mid-transfer: reads ended {} by error, {} by end-of-file; \
         {} writes failed; 0 registrations left",
        endings.read_error.get(),
        endings.read_eof.get(),
        endings.write_error.get()
    )
}

/// One connection's progress towards mid-transfer: it is there once the server has read all
/// that its client sends before the reset, and its writer has found the buffers full.
struct Progress {
    /// `READ_ALL` and `WRITE_BLOCKED`, as they happen.
    flags: Cell<u8>,
    /// Connections mid-transfer, counted for the clients' thread.
    mid_transfer: Arc<AtomicUsize>,
}

const READ_ALL: u8 = 1;
const WRITE_BLOCKED: u8 = 2;

impl Progress {
    fn mark(&self, flag: u8) {
        let before = self.flags.get();
        self.flags.set(before | flag);
        if before != READ_ALL | WRITE_BLOCKED && before | flag == READ_ALL | WRITE_BLOCKED {
            self.mid_transfer.fetch_add(1, Ordering::Release);
        }
    }
}

/// The server: accepts `clients` connections; each gets a reader (until end-of-file or an
/// error) and a writer (until an error: the client never reads, and never closes cleanly).
async fn serve(
    listener: TcpListener,
    clients: usize,
    mid_transfer: Arc<AtomicUsize>,
    endings: Rc<Endings>,
) {
    let mut handlers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (stream, _) = listener.accept().await.expect("accept");
        SockRef::from(&stream).set_send_buffer_size(BUFFER).expect("SO_SNDBUF");
        let stream = Rc::new(stream);
        let progress =
            Rc::new(Progress { flags: Cell::new(0), mid_transfer: mid_transfer.clone() });
        let endings = endings.clone();
        handlers.push(spawn(async move {
            let writer = spawn(write_until_reset(stream.clone(), progress.clone()));
            // A reset leaves one pending error on the socket, reported once: when the writer
            // took it first, the read finds the connection closed, end-of-file.
            match read_until_reset(&stream, &progress).await {
                Ok(()) => endings.read_eof.set(endings.read_eof.get() + 1),
                Err(_) => endings.read_error.set(endings.read_error.get() + 1),
            }
            let error = writer.await.expect("the writer");
            assert_ne!(error.kind(), io::ErrorKind::WouldBlock, "a real error: {error}");
            endings.write_error.set(endings.write_error.get() + 1);
        }));
    }
    drop(listener);
    for handler in handlers {
        handler.await.expect("a connection's handler");
    }
}

/// Writes `CHUNK` over and over until an error, which it returns; marks `WRITE_BLOCKED` the
/// first time a write finds the buffers full (the writer then waits for the socket to become
/// writable, which only the reset ends).
async fn write_until_reset(stream: Rc<TcpStream>, progress: Rc<Progress>) -> io::Error {
    loop {
        let written = poll_fn(|cx| {
            let poll = stream.poll_write(cx, &CHUNK);
            if poll.is_pending() {
                progress.mark(WRITE_BLOCKED);
            }
            poll
        })
        .await;
        if let Err(error) = written {
            return error;
        }
    }
}

/// Reads until end-of-file (`Ok`) or an error; marks `READ_ALL` once all that the client sends
/// before its reset has arrived.
async fn read_until_reset(stream: &TcpStream, progress: &Progress) -> io::Result<()> {
    let mut buf = vec![0; 8 * 1024];
    let mut received = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        received += n;
        if received >= SENT {
            progress.mark(READ_ALL);
        }
    }
}

/// The clients (blocking, on the job's thread): connect all, send `SENT` bytes on each, wait
/// until every connection is mid-transfer (its server task has read them all and waits for
/// more, and its writer is blocked), then reset every connection, in a shuffled order.
fn reset_clients(addr: SocketAddr, clients: usize, mid_transfer: &AtomicUsize) -> io::Result<()> {
    let mut sockets = Vec::with_capacity(clients);
    for _ in 0..clients {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        socket.set_recv_buffer_size(BUFFER)?;
        socket.connect(&addr.into())?;
        let mut stream: std::net::TcpStream = socket.into();
        stream.write_all(&[0xa5; SENT])?;
        sockets.push(stream);
    }
    while mid_transfer.load(Ordering::Acquire) < clients {
        std::thread::sleep(Duration::from_millis(1));
    }
    fastrand::Rng::with_seed(3).shuffle(&mut sockets);
    for stream in sockets {
        SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
        // Dropped with unsent data refused: the close sends a reset.
        drop(stream);
    }
    Ok(())
}
