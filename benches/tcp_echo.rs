//! `tcp_echo`: 32 loopback connections, each making 1,000 round trips of 64 bytes to an echo
//! server running in the same runtime.
//!
//! Stresses the reactor turn (one `epoll_wait` delivering many events), the readiness bookkeeping
//! and the wake path; the system calls (two reads and two writes per round trip) are the floor.
//! Per iteration: 32,000 round trips, connection setup included. Every echo is checked.

mod common;

use std::net::SocketAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CONNECTIONS: usize = 32;
const ROUND_TRIPS: usize = 1_000;
const MESSAGE: usize = 64;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn cashier_echo() {
    use cashier::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = cashier::spawn(async move {
        for _ in 0..CONNECTIONS {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            cashier::spawn(async move {
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.read_exact(&mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                }
            });
        }
    });
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            cashier::spawn(async move {
                let stream = TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let message = [c as u8; MESSAGE];
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.write_all(&message).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, message);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    server.await.unwrap();
}

async fn tokio_echo() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind(loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        for _ in 0..CONNECTIONS {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.read_exact(&mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                }
            });
        }
    });
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let message = [c as u8; MESSAGE];
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.write_all(&message).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, message);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    server.await.unwrap();
}

async fn smol_echo(executor: &'static smol::LocalExecutor<'static>) {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    use smol::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind(loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = executor.spawn(async move {
        for _ in 0..CONNECTIONS {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            executor
                .spawn(async move {
                    let mut buf = [0; MESSAGE];
                    for _ in 0..ROUND_TRIPS {
                        stream.read_exact(&mut buf).await.unwrap();
                        stream.write_all(&buf).await.unwrap();
                    }
                })
                .detach();
        }
    });
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            executor.spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let message = [c as u8; MESSAGE];
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.write_all(&message).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, message);
                }
            })
        })
        .collect();
    for client in clients {
        client.await;
    }
    server.await;
}

/// The floor: the same round trips with plain blocking sockets, one thread per end of each
/// connection (64 threads), so each round trip is exactly four system calls (two `write`s, two
/// `read`s) plus the kernel's thread wake-ups. An event loop cannot do fewer system calls per
/// round trip; it can only do them with fewer threads. With `one_core`, every thread is pinned to
/// the CPU the benchmark runs on, as a single-threaded runtime is: the kernel's TCP work is then
/// not spread over both cores either.
fn blocking_echo(one_core: bool) {
    use std::io::{Read, Write};
    let pin = move || {
        if one_core {
            pin_to_cpu(0);
        }
    };
    let listener = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        pin();
        let echoes: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                let (mut stream, _) = listener.accept().unwrap();
                stream.set_nodelay(true).unwrap();
                std::thread::spawn(move || {
                    pin();
                    let mut buf = [0; MESSAGE];
                    for _ in 0..ROUND_TRIPS {
                        stream.read_exact(&mut buf).unwrap();
                        stream.write_all(&buf).unwrap();
                    }
                })
            })
            .collect();
        for echo in echoes {
            echo.join().unwrap();
        }
    });
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            std::thread::spawn(move || {
                pin();
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                stream.set_nodelay(true).unwrap();
                let message = [c as u8; MESSAGE];
                let mut buf = [0; MESSAGE];
                for _ in 0..ROUND_TRIPS {
                    stream.write_all(&message).unwrap();
                    stream.read_exact(&mut buf).unwrap();
                    assert_eq!(buf, message);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    server.join().unwrap();
}

/// Pins the calling thread to `cpu`.
fn pin_to_cpu(cpu: usize) {
    // SAFETY: `cpu_set_t` is plain data, valid when zeroed; `CPU_SET` writes within it; and
    // `sched_setaffinity(0, ..)` only changes the calling thread's affinity mask.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let result = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(result, 0, "sched_setaffinity: {}", std::io::Error::last_os_error());
    }
}

/// The floor for one connection at a time: one client and one server thread, round trips in
/// sequence. Each costs four system calls and two thread wake-ups: the latency limit.
fn blocking_echo_sequential() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let total = CONNECTIONS * ROUND_TRIPS;
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buf = [0; MESSAGE];
        for _ in 0..total {
            stream.read_exact(&mut buf).unwrap();
            stream.write_all(&buf).unwrap();
        }
    });
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let message = [7; MESSAGE];
    let mut buf = [0; MESSAGE];
    for _ in 0..total {
        stream.write_all(&message).unwrap();
        stream.read_exact(&mut buf).unwrap();
    }
    server.join().unwrap();
}

fn tcp_echo(c: &mut Criterion) {
    common::fair_allocator();
    let mut group = c.benchmark_group("tcp_echo");
    group.throughput(Throughput::Elements((CONNECTIONS * ROUND_TRIPS) as u64));
    group.sample_size(20);

    let cashier = cashier::Runtime::new().expect("cashier runtime");
    group.bench_function("cashier", |b| b.iter(|| cashier.block_on(cashier_echo())));

    let tokio = common::tokio_current_thread_with_drivers();
    group.bench_function("tokio", |b| b.iter(|| tokio.block_on(tokio_echo())));

    let smol: &'static smol::LocalExecutor<'static> =
        Box::leak(Box::new(smol::LocalExecutor::new()));
    group.bench_function("smol", |b| b.iter(|| common::smol_block_on(smol, smol_echo(smol))));

    group.bench_function("floor_blocking_threads", |b| b.iter(|| blocking_echo(false)));
    group.bench_function("floor_blocking_one_core", |b| b.iter(|| blocking_echo(true)));
    group.bench_function("floor_blocking_sequential", |b| b.iter(blocking_echo_sequential));
    group.finish();
}

criterion_group!(benches, tcp_echo);
criterion_main!(benches);
