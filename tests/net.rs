//! TCP and UDP on loopback, against servers the tests start themselves. CI runs this file once per
//! reactor backend (mio, and `--features backend-polling`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use cashier::net::{TcpListener, TcpStream, UdpSocket};
use cashier::{Runtime, spawn};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Echoes everything each connection sends until it closes its side, then closes ours.
async fn echo_server(listener: TcpListener, connections: usize) {
    let mut handles = Vec::new();
    for _ in 0..connections {
        let (stream, _) = listener.accept().await.expect("accept");
        handles.push(spawn(async move {
            let mut buf = vec![0; 64 * 1024];
            loop {
                let n = stream.read(&mut buf).await.expect("server read");
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).await.expect("server write");
            }
            stream.shutdown(Shutdown::Write).expect("server shutdown");
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
}

#[test]
fn tcp_echo_100_connections_1_mib_each_way() {
    const CONNECTIONS: usize = 100;
    const BYTES: usize = 1 << 20;
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind(loopback()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(echo_server(listener, CONNECTIONS));
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                spawn(async move {
                    let stream = Rc::new(TcpStream::connect(addr).await.expect("connect"));
                    let payload: Rc<Vec<u8>> =
                        Rc::new((0..BYTES).map(|i| (i * 31 + c) as u8).collect());
                    // Write and read at the same time, or both sides' buffers fill and stall.
                    let writer = spawn({
                        let (stream, payload) = (stream.clone(), payload.clone());
                        async move {
                            stream.write_all(&payload).await.expect("client write");
                            stream.shutdown(Shutdown::Write).expect("client shutdown");
                        }
                    });
                    let mut echoed = Vec::with_capacity(BYTES);
                    stream.read_to_end(&mut echoed).await.expect("client read");
                    writer.await.unwrap();
                    assert!(echoed == *payload, "connection {c}: the echo differs");
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
    });
    assert_eq!(runtime.io_source_count(), 0, "every socket deregistered when dropped");
}

#[cashier::test]
async fn connecting_to_a_closed_port_is_refused_promptly() {
    let closed = {
        let listener = TcpListener::bind(loopback()).unwrap();
        listener.local_addr().unwrap()
    }; // dropped: nothing listens there any more
    let error = TcpStream::connect(closed).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    assert!(error.to_string().starts_with(&format!("connect to {closed}: ")), "{error}");
}

#[test]
fn a_peer_that_resets_mid_read_is_an_error_not_a_hang() {
    let listener = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"partial").unwrap();
        let mut byte = [0];
        let _ = stream.read(&mut byte); // wait until the client has read the first bytes
        // Linger 0: closing sends a reset instead of a graceful end-of-file.
        socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).unwrap();
    });
    cashier::run(async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0; 7];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"partial");
        stream.write_all(b"k").await.unwrap();
        let error = loop {
            match stream.read(&mut buf).await {
                Ok(0) => panic!("a reset must be an error, not end-of-file"),
                Ok(_) => continue,
                Err(error) => break error,
            }
        };
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
    });
    peer.join().unwrap();
}

#[cashier::test]
async fn end_of_file_is_a_zero_read_and_read_exact_says_unexpected_eof() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        stream.write_all(b"abc").await.unwrap();
    }); // the stream drops: the client reads end-of-file
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0; 8];
    let error = stream.read_exact(&mut buf).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
    server.await.unwrap();
}

#[cashier::test]
async fn connect_host_resolves_off_the_loop() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let port = listener.local_addr().unwrap().port();
    let accept = spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
    let stream = TcpStream::connect_host("127.0.0.1", port).await.unwrap();
    assert_eq!(accept.await.unwrap().unwrap(), stream.local_addr().unwrap());
    let addrs = cashier::net::lookup_host("localhost", port).await.unwrap();
    assert!(addrs.iter().any(|a| a.ip().is_loopback()), "{addrs:?}");
    stream.set_nodelay(true).unwrap();
    assert!(stream.nodelay().unwrap());
}

#[cashier::test]
async fn udp_round_trip() {
    let server = UdpSocket::bind(loopback()).unwrap();
    let client = UdpSocket::bind(loopback()).unwrap();
    let server_addr = server.local_addr().unwrap();
    let echo = spawn(async move {
        let mut buf = [0; 1500];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        server.send_to(&buf[..n], from).await.unwrap();
    });
    client.connect(server_addr).unwrap();
    assert_eq!(client.peer_addr().unwrap(), server_addr);
    client.send(b"ping").await.unwrap();
    let mut buf = [0; 16];
    let n = client.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"ping");
    echo.await.unwrap();
}

#[test]
fn sockets_outside_a_runtime_are_an_error_naming_the_fix() {
    let error = TcpListener::bind(loopback()).unwrap_err();
    assert!(error.to_string().contains("no cashier runtime on this thread"), "{error}");
    let error = UdpSocket::bind(loopback()).unwrap_err();
    assert!(error.to_string().contains("cashier::run"), "{error}");
}

#[cashier::test]
async fn bind_errors_name_the_address() {
    let taken = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = taken.local_addr().unwrap();
    // SO_REUSEADDR does not allow two listeners on one port.
    let error = TcpListener::bind(addr).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    assert!(error.to_string().starts_with(&format!("bind {addr}: ")), "{error}");
}

#[test]
fn a_task_that_keeps_yielding_does_not_starve_sockets() {
    // The executor looks at the reactor every EVENT_INTERVAL polls even while tasks are runnable,
    // so a socket's readiness reaches its task although another task never stops yielding.
    let listener = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"order up").unwrap();
    });
    cashier::run(async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let served = Rc::new(std::cell::Cell::new(false));
        let busy = spawn({
            let served = served.clone();
            async move {
                let mut yields = 0u64;
                while !served.get() {
                    yields += 1;
                    assert!(yields < 50_000_000, "the socket was starved by a yielding task");
                    cashier::yield_now().await;
                }
            }
        });
        let mut buf = [0; 8];
        stream.read_exact(&mut buf).await.unwrap();
        served.set(true);
        busy.await.unwrap();
        assert_eq!(&buf, b"order up");
    });
    peer.join().unwrap();
}

#[cfg(feature = "futures-io")]
#[test]
fn futures_io_traits_read_and_write() {
    use std::future::poll_fn;
    use std::pin::Pin;

    use futures_io::{AsyncRead, AsyncWrite};

    cashier::run(async {
        let listener = TcpListener::bind(loopback()).unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = spawn(async move { listener.accept().await.unwrap().0 });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let mut server = accept.await.unwrap();
        let written = poll_fn(|cx| Pin::new(&mut client).poll_write(cx, b"io")).await.unwrap();
        assert_eq!(written, 2);
        poll_fn(|cx| Pin::new(&mut client).poll_close(cx)).await.unwrap();
        let mut buf = [0; 4];
        let n = poll_fn(|cx| Pin::new(&mut server).poll_read(cx, &mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"io");
    });
}

#[test]
fn small_reads_hand_out_bytes_read_ahead_in_order() {
    // A read fills the caller's buffer and reads a little further (to learn the socket is
    // drained); the extra bytes must come out first, in order, and peeking must see them.
    cashier::run(async {
        let listener = TcpListener::bind(loopback()).unwrap();
        let addr = listener.local_addr().unwrap();
        let payload: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let server = spawn({
            let payload = payload.clone();
            async move {
                let (stream, _) = listener.accept().await.unwrap();
                stream.write_all(&payload).await.unwrap();
            } // closes: data and end-of-file may arrive together
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        server.await.unwrap();
        let mut first = [0; 7];
        stream.read_exact(&mut first).await.unwrap();
        let mut peeked = [0; 3];
        assert_eq!(stream.try_peek(&mut peeked).unwrap(), 3);
        assert_eq!(peeked, payload[7..10], "peeking sees the bytes read ahead");
        let mut received = first.to_vec();
        let mut chunk = [0; 13];
        loop {
            match stream.read(&mut chunk).await.unwrap() {
                0 => break,
                n => received.extend_from_slice(&chunk[..n]),
            }
        }
        assert!(received == payload, "every byte once, in order, then end-of-file");
    });
}

#[test]
fn is_read_ready_reports_what_the_reactor_heard_without_a_system_call() {
    cashier::run(async {
        let listener = std::net::TcpListener::bind(loopback()).unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        assert!(!stream.is_read_ready(), "nothing has arrived");

        peer.write_all(b"hello").unwrap();
        // On loopback the bytes are in the socket once `write_all` returns, but the reactor hears
        // of them only in its next turn.
        assert!(!stream.is_read_ready(), "no turn since the bytes came");
        assert!(turns_until_read_ready(&stream).await, "a turn delivered the readable event");

        let mut buf = [0; 64];
        assert_eq!(stream.read(&mut buf).await.unwrap(), 5);
        if !cfg!(feature = "backend-polling") {
            // mio reports a closed read half apart from "readable", so the short read forgets
            // the readiness at once; the polling backend keeps it until a `WouldBlock`.
            assert!(!stream.is_read_ready(), "a short read drained the socket");
        }
        let mut byte = [0];
        let peeked = stream.try_peek(&mut byte).unwrap_err();
        assert_eq!(peeked.kind(), io::ErrorKind::WouldBlock);
        assert!(!stream.is_read_ready(), "a peek's WouldBlock forgets the readiness");

        drop(peer); // the FIN
        assert!(turns_until_read_ready(&stream).await, "the end-of-file is a readiness event too");
        assert_eq!(stream.try_peek(&mut byte).unwrap(), 0, "and the peek says it is the end");
    });
}

/// Lets the reactor turn until `stream` is read-ready, at most a thousand times: each sleep that
/// does not end at once parks the runtime in a turn. A sleep can end without a turn (its deadline
/// already past when first polled, after the thread was descheduled, as under valgrind), hence
/// the loop; its bound makes a lost event a failure, not a hang.
async fn turns_until_read_ready(stream: &TcpStream) -> bool {
    for _ in 0..1000 {
        if stream.is_read_ready() {
            return true;
        }
        cashier::sleep(Duration::from_millis(1)).await;
    }
    stream.is_read_ready()
}
