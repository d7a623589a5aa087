//! Ten thousand concurrent loopback TCP echo connections (full scale): a cashier server, and
//! clients on a cashier runtime of their own in a child process (this binary again, with
//! `ROLE_ENV` set). Every client connects, echoes once, then waits until all are connected and
//! echoes again, so all the connections are open at once, which the server checks.
//!
//! Why a child process: the hard limit on open files on the machine of STRESS.md is 20,000,
//! which cannot hold both ends of 10,000 connections and the runtime's own descriptors in one
//! process. Each process raises its soft limit to the hard one; where even one end of every
//! connection does not fit, the scenario runs fewer connections and says so.
//!
//! Why a bound on connections in progress: the listener's backlog is 1,024 (`TcpListener::bind`),
//! and a connection the kernel has completed but the server has not yet accepted waits in it; a
//! full backlog drops the next SYN, which the client resends only after a second. A client holds
//! one of `IN_PROGRESS` permits from before it connects until its first echo is back (which
//! means the server accepted it), so the backlog never holds more than `IN_PROGRESS`.

use std::cell::Cell;
use std::net::{Shutdown, SocketAddr};
use std::process::{Command, Stdio};
use std::rc::Rc;

use cashier::net::{TcpListener, TcpStream};
use cashier::sync::{Event, Semaphore};
use cashier::{Runtime, spawn, to_thread};

use crate::harness::{self, Mode, Scale};

/// Set (to `echo-clients`) in the child process's environment: run the clients.
pub const ROLE_ENV: &str = "CASHIER_STRESS_ROLE";
const ADDR_ENV: &str = "CASHIER_STRESS_ADDR";
const CONNECTIONS_ENV: &str = "CASHIER_STRESS_CONNECTIONS";

/// Connections begun but not yet echoed once: half the listener's backlog.
const IN_PROGRESS: usize = 512;

/// Bytes each client sends per echo.
const MESSAGE: usize = 256;

pub fn run(scale: &Scale) -> String {
    // Under valgrind the child would run natively (valgrind does not follow children unless
    // asked), so the clients run in this process there, which the tiny scale's few fds allow.
    let in_child = scale.mode != Mode::Tiny;
    // One descriptor per connection in each process, or two if both ends are here.
    let fds_each = if in_child { 1 } else { 2 };
    let (connections, note) =
        harness::connections_within_fd_limit(scale.echo_connections, fds_each);
    let runtime = Runtime::new().expect("runtime");
    let peak = Rc::new(Cell::new(0));
    let mut clients_peak: Option<u64> = None;
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let addr = listener.local_addr().unwrap();
        let server = spawn(serve(listener, connections, peak.clone()));
        if in_child {
            let child = Command::new(std::env::current_exe().expect("this binary"))
                .env(ROLE_ENV, "echo-clients")
                .env(ADDR_ENV, addr.to_string())
                .env(CONNECTIONS_ENV, connections.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start the clients' process");
            let output =
                to_thread(move || child.wait_with_output()).await.expect("wait job").expect("wait");
            assert!(output.status.success(), "the clients' process failed: {}", output.status);
            let report = String::from_utf8_lossy(&output.stdout);
            clients_peak = report.trim().parse().ok();
        } else {
            run_clients(addr, connections).await;
        }
        server.await.expect("the server");
    });
    assert_eq!(peak.get(), connections, "all the connections were open at once");
    assert_eq!(runtime.io_source_count(), 0, "every socket deregistered");
    assert_eq!(runtime.alive_tasks(), 0);
    let clients = match clients_peak {
        Some(bytes) => format!("in a child process (its peak RSS {:.1} MiB)", harness::mib(bytes)),
        None => "in this process (valgrind)".to_string(),
    };
    format!(
        "{connections} connections open at once{note}, 2 echoes of {MESSAGE} B each; \
         clients {clients}"
    )
}

/// The child process's part: the clients, on a runtime of their own, under the watchdog (the
/// parent's watchdog covers this process's run too, but ending here first names the clients).
/// Prints the process's peak resident set, in bytes, for the parent's figures.
pub fn clients_main() {
    harness::raise_fd_limit();
    let scale = Scale::from_env();
    let watched = harness::watch("echo_clients (child process)", scale.watchdog, scale, |_| {
        let addr = std::env::var(ADDR_ENV).expect(ADDR_ENV).parse().expect("an address");
        let connections = std::env::var(CONNECTIONS_ENV).expect(CONNECTIONS_ENV);
        let connections = connections.parse().expect("a count");
        let runtime = Runtime::new().expect("runtime");
        runtime.block_on(run_clients(addr, connections));
        assert_eq!(runtime.io_source_count(), 0, "every client socket deregistered");
        harness::peak_rss().to_string()
    });
    match watched {
        Ok(peak_rss) => {
            println!("{peak_rss}"); // the parent reads it
            std::process::exit(0);
        }
        Err(()) => std::process::exit(101),
    }
}

/// The server: accepts `connections`, echoing each until its client closes, and records in
/// `peak` the most open at once.
async fn serve(listener: TcpListener, connections: usize, peak: Rc<Cell<usize>>) {
    let open = Rc::new(Cell::new(0));
    let mut handlers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (stream, _) = listener.accept().await.expect("accept");
        open.set(open.get() + 1);
        peak.set(peak.get().max(open.get()));
        let open = open.clone();
        handlers.push(spawn(async move {
            let mut buf = [0; MESSAGE];
            loop {
                let n = stream.read(&mut buf).await.expect("server read");
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).await.expect("server write");
            }
            stream.shutdown(Shutdown::Write).expect("server shutdown");
            open.set(open.get() - 1);
        }));
    }
    drop(listener);
    for handler in handlers {
        handler.await.expect("a connection's handler");
    }
}

/// All the clients, each: connect, echo, wait for every other to be connected, echo again,
/// close and read the server's close.
async fn run_clients(addr: SocketAddr, connections: usize) {
    let in_progress = Rc::new(Semaphore::new(IN_PROGRESS));
    let connected = Rc::new(Cell::new(0));
    let all_connected = Rc::new(Event::new());
    let clients: Vec<_> = (0..connections)
        .map(|c| {
            let (in_progress, connected, all_connected) =
                (in_progress.clone(), connected.clone(), all_connected.clone());
            spawn(async move {
                let permit = in_progress.acquire().await.expect("semaphore");
                let stream = TcpStream::connect(addr).await.expect("connect");
                echo(&stream, c, 0).await;
                drop(permit);
                connected.set(connected.get() + 1);
                if connected.get() == connections {
                    all_connected.set();
                }
                all_connected.wait().await;
                echo(&stream, c, 1).await;
                stream.shutdown(Shutdown::Write).expect("client shutdown");
                // Not `read_to_end`: it reads into 16 KiB of fresh buffer per call, which 10,000
                // clients waiting at once would hold together (160 MiB; see STRESS.md).
                let mut rest = [0u8; 1];
                let n = stream.read(&mut rest).await.expect("client read to end");
                assert_eq!(n, 0, "client {c}: nothing after the echoes, then the server's close");
            })
        })
        .collect();
    for client in clients {
        client.await.expect("a client");
    }
}

/// Sends a message naming the client and round, and checks that the same comes back.
async fn echo(stream: &TcpStream, client: usize, round: usize) {
    let mut message = [0u8; MESSAGE];
    for (i, byte) in message.iter_mut().enumerate() {
        *byte = (i * 7 + client * 13 + round * 101) as u8;
    }
    stream.write_all(&message).await.expect("client write");
    let mut back = [0u8; MESSAGE];
    stream.read_exact(&mut back).await.expect("client read");
    assert_eq!(back, message, "client {client}, round {round}: the echo differs");
}
