//! The HTTP client as `site_status` uses it, against servers these tests start on 127.0.0.1, on
//! the paused clock: every delay and timeout is virtual, so the tests are instant and
//! deterministic. Response framing rule by rule is in `http_rfc9112.rs`, redirects in
//! `http_redirects.rs`.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cashier::net::TcpListener;
use cashier_demos::http::server::{self, Site, format_response};
use cashier_demos::http::{Client, HttpError};
use cashier_demos::{Output, site_status};
use common::{
    canned, client, numbered_server, paused, raw_server, read_request, test_pki, tls_server,
};

#[test]
fn site_status_prints_in_completion_order_not_argument_order() {
    let lines = paused().block_on(async {
        let addr = server::spawn_local(site_status::local_sites()).unwrap();
        let out = Output::capture();
        site_status::run(out.clone(), Rc::new(client()), site_status::local_urls(addr), None).await;
        out.lines().into_iter().map(|l| l.replace(&addr.to_string(), "HOST")).collect::<Vec<_>>()
    });
    assert_eq!(
        lines,
        [
            "Getting status of http://HOST/www.google.com",
            "Getting status of http://HOST/www.facebook.com",
            "Getting status of http://HOST/www.github.com",
            "Getting status of http://HOST/www.twitter.com",
            "Getting status of http://HOST/www.linkedin.com",
            "http://HOST/www.github.com took 0.20s", // 150 ms, then 50 ms after its redirect
            "http://HOST/www.github.com: 200",
            "http://HOST/www.twitter.com took 0.25s",
            "http://HOST/www.twitter.com: 403",
            "http://HOST/www.google.com took 0.40s",
            "http://HOST/www.google.com: 200",
            "http://HOST/www.linkedin.com took 0.60s",
            "http://HOST/www.linkedin.com: 999",
            "http://HOST/www.facebook.com took 0.90s",
            "http://HOST/www.facebook.com: 200",
        ]
    );
}

#[test]
fn a_limit_of_one_serves_the_sites_one_after_another() {
    let lines = paused().block_on(async {
        let addr = server::spawn_local(site_status::local_sites()).unwrap();
        let out = Output::capture();
        let urls = site_status::local_urls(addr)[..3].to_vec();
        site_status::run(out.clone(), Rc::new(client()), urls, Some(1)).await;
        out.lines().into_iter().map(|l| l.replace(&addr.to_string(), "HOST")).collect::<Vec<_>>()
    });
    assert_eq!(
        lines,
        [
            "Getting status of http://HOST/www.google.com",
            "http://HOST/www.google.com took 0.40s",
            "Getting status of http://HOST/www.facebook.com",
            "http://HOST/www.google.com: 200",
            "http://HOST/www.facebook.com took 0.90s",
            "Getting status of http://HOST/www.github.com",
            "http://HOST/www.facebook.com: 200",
            "http://HOST/www.github.com took 0.20s",
            "http://HOST/www.github.com: 200",
        ]
    );
}

#[test]
fn error_statuses_are_statuses() {
    paused().block_on(async {
        let addr = server::spawn_local(vec![Site::new("/boom", 500, "oops")]).unwrap();
        let client = client();
        assert_eq!(client.get(&format!("http://{addr}/missing")).await.unwrap().status, 404);
        let response = client.get(&format!("http://{addr}/boom")).await.unwrap();
        assert_eq!((response.status, &response.body[..]), (500, &b"oops"[..]));
    });
}

#[test]
fn a_refused_port_is_a_connect_error() {
    paused().block_on(async {
        let closed =
            TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap().local_addr().unwrap();
        let error = client().get(&format!("http://{closed}/")).await.unwrap_err();
        assert!(matches!(&error, HttpError::Connect { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("could not connect to 127.0.0.1:{}", closed.port())),
            "{message}"
        );
        assert!(message.contains("refused"), "{message}");
        // The address is named once, not again by the socket error.
        assert_eq!(
            message,
            format!("could not connect to {closed}: Connection refused (os error 111)")
        );
    });
}

/// A listener on 127.0.0.1 with a backlog of one that never accepts, filled up: a connect to it
/// gets no answer (Linux drops a SYN when the accept queue is full). Returns its address and
/// what must stay alive: the listener and the connections that fill it.
fn full_listener() -> (std::net::SocketAddr, std::net::TcpListener, Vec<std::net::TcpStream>) {
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: `listen` on a socket this function owns; it only changes the backlog.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 1) }, 0);
    let addr = listener.local_addr().unwrap();
    let mut filling = Vec::new();
    // Connects until one goes unanswered: the queue is full from then on (a few, real time).
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => filling.push(stream),
            Err(_) => break,
        }
    }
    (addr, listener, filling)
}

#[test]
fn a_connect_that_never_completes_says_connect_timed_out() {
    let (addr, _listener, _filling) = full_listener();
    paused().block_on(async {
        let error = client().get(&format!("http://{addr}/")).await.unwrap_err();
        assert!(matches!(error, HttpError::ConnectTimeout { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!("could not connect to {addr}: connect timed out after 5.0 s")
        );
    });
}

#[test]
fn a_request_that_waits_for_a_slot_past_the_timeout_says_so() {
    paused().block_on(async {
        let addr = raw_server(|stream| async move {
            read_request(&stream).await;
            std::future::pending::<()>().await;
            drop(stream);
        });
        let client =
            Client::builder().timeout(Duration::from_secs(3)).connections(1).build().unwrap();
        let url = format!("http://{addr}/");
        let (first, second) = cashier::gather!(client.get(&url), client.get(&url)).await;
        assert_eq!(first.unwrap_err().to_string(), "no complete response within 3.0 s");
        // The first request frees the slot at the instant the second one's time runs out:
        // whichever the runtime sees first, the message says that the time went to the wait.
        let second = second.unwrap_err().to_string();
        assert!(
            second
                == "no connection slot free within 3.0 s: the client's only connection stayed \
                    in use"
                || second
                    == format!(
                        "could not connect to {addr}: connect timed out after 0.0 s, after 3.0 s \
                         waiting for a connection slot"
                    ),
            "{second}"
        );
    });
}

#[test]
fn at_the_cap_an_idle_connection_to_another_host_is_closed_to_free_its_slot() {
    paused().block_on(async {
        let a = server::spawn_local(vec![Site::new("/", 200, "a")]).unwrap();
        let b = server::spawn_local(vec![Site::new("/", 200, "b")]).unwrap();
        let client =
            Client::builder().timeout(Duration::from_secs(5)).connections(1).build().unwrap();
        assert_eq!(client.get(&format!("http://{a}/")).await.unwrap().body, b"a");
        assert_eq!((client.idle_connections(), client.open_connections()), (1, Some(1)));
        // The one slot is held by the idle connection to `a`: the request to `b` closes it.
        assert_eq!(client.get(&format!("http://{b}/")).await.unwrap().body, b"b");
        assert_eq!((client.idle_connections(), client.open_connections()), (1, Some(1)));
        let unlimited = Client::builder().connections(0).build().unwrap();
        assert_eq!(unlimited.open_connections(), None);
    });
}

/// Serves `GET`s with a short keep-alive response after a 1 ms pause, from a listener whose
/// backlog is 128 (far below 2,000 simultaneous connects; above the cap of 100, since connects
/// beyond a full backlog wait out the kernel's SYN retransmissions, 1 s, 3 s, 7 s..., which
/// makes a backlog of 8 take minutes even with the cap), and records the most connections it had open at once. A connection counts from
/// its accept until the server finds the client has closed it: at every accept, each counted
/// connection is checked with a non-blocking `MSG_PEEK`, which reads 0 once the client's FIN has
/// arrived (on loopback, before the client's next connect can).
fn counting_server() -> (std::net::SocketAddr, Rc<Cell<usize>>) {
    use std::collections::HashSet;
    use std::os::fd::{AsRawFd, RawFd};
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    // SAFETY: `listen` again on a listening socket this test owns: Linux sets the new backlog.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 128) }, 0);
    let addr = listener.local_addr().unwrap();
    let most = Rc::new(Cell::new(0));
    let live: Rc<std::cell::RefCell<HashSet<RawFd>>> = Rc::default();
    let peer_closed = |fd: RawFd| {
        let mut byte = 0u8;
        // SAFETY: a one-byte peek into `byte` on a socket the server task still owns.
        let n = unsafe {
            libc::recv(fd, (&raw mut byte).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
        };
        n == 0
    };
    let (most_seen, live_set) = (most.clone(), live.clone());
    cashier::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let fd = stream.as_raw_fd();
            {
                let mut live = live_set.borrow_mut();
                live.retain(|&fd| !peer_closed(fd));
                live.insert(fd);
                most_seen.set(most_seen.get().max(live.len()));
            }
            let live = live_set.clone();
            cashier::spawn(async move {
                loop {
                    read_request(&stream).await;
                    let mut probe = [0u8; 1];
                    if stream.try_peek(&mut probe).is_ok_and(|n| n == 0) {
                        break;
                    }
                    cashier::sleep(Duration::from_millis(1)).await;
                    if stream.write_all(&format_response(200, None, "ok")).await.is_err() {
                        break;
                    }
                }
                live.borrow_mut().remove(&fd); // before the socket (and its number) is closed
                drop(stream);
            });
        }
    });
    (addr, most)
}

#[test]
fn the_connection_cap_holds_at_100_while_2000_urls_all_succeed_against_a_small_backlog() {
    // The real clock: connects that overflow the backlog wait out real SYN retransmissions,
    // which the paused clock would not see. No assertion is about time.
    // `mut` for a `block_on(&mut self)`; a `block_on(&self)` makes it unused.
    #[allow(unused_mut)]
    let mut runtime = cashier::Runtime::builder().build().unwrap();
    let (most, results) = runtime.block_on(async {
        let (addr, most) = counting_server();
        let client = Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
        let urls: Vec<String> = (0..2000).map(|i| format!("http://{addr}/{i}")).collect();
        let results = site_status::run(Output::null(), Rc::new(client), urls, None).await;
        (most.get(), results)
    });
    let failed: Vec<_> = results.iter().filter(|(_, result)| result.is_err()).take(3).collect();
    assert_eq!(results.len(), 2000);
    assert!(failed.is_empty(), "{failed:?}");
    assert!(most <= 100, "the server saw {most} connections open at once");
    assert!(most > 1, "the requests ran side by side: {most}");
}

#[test]
fn a_server_that_resets_is_an_error() {
    paused().block_on(async {
        let addr = raw_server(|stream| async move {
            read_request(&stream).await;
            socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).unwrap();
        }); // dropped with linger 0: a reset
        let error = client().get(&format!("http://{addr}/")).await.unwrap_err();
        assert!(
            error.to_string().contains("reset") || error.to_string().contains("closed"),
            "{error}"
        );
    });
}

#[test]
fn a_server_that_never_answers_times_out() {
    paused().block_on(async {
        let addr = raw_server(|stream| async move {
            read_request(&stream).await;
            std::future::pending::<()>().await;
            drop(stream);
        });
        let start = cashier::now();
        let client = Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        let error = client.get(&format!("http://{addr}/")).await.unwrap_err();
        assert!(matches!(error, HttpError::Timeout(_)));
        assert_eq!(error.to_string(), "no complete response within 2.0 s");
        assert_eq!(cashier::now() - start, Duration::from_secs(2));
    });
}

#[test]
fn a_100_kib_header_is_an_error() {
    paused().block_on(async {
        let addr = raw_server(|stream| async move {
            read_request(&stream).await;
            let mut head = b"HTTP/1.1 200 OK\r\nX-Huge: ".to_vec();
            head.extend(std::iter::repeat_n(b'a', 100 * 1024));
            head.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
            let _ = stream.write_all(&head).await;
        });
        let error = client().get(&format!("http://{addr}/")).await.unwrap_err();
        assert_eq!(error.to_string(), "response head larger than 64 KiB");
    });
}

#[test]
fn garbage_bytes_are_an_error() {
    paused().block_on(async {
        let addr = canned(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", false);
        let error = client().get(&format!("http://{addr}/")).await.unwrap_err();
        assert!(matches!(error, HttpError::Malformed(_)), "{error:?}");
        assert!(error.to_string().starts_with("not an HTTP response: "), "{error}");
    });
}

#[test]
fn bad_urls_are_errors() {
    paused().block_on(async {
        let client = client();
        assert!(
            client
                .get("not a url")
                .await
                .unwrap_err()
                .to_string()
                .starts_with("invalid URL \"not a url\"")
        );
        assert_eq!(
            client.get("ftp://example.com/").await.unwrap_err().to_string(),
            "unsupported scheme \"ftp\": only http and https are supported"
        );
    });
}

#[test]
fn keep_alive_connections_are_reused_and_closed_ones_are_not() {
    paused().block_on(async {
        let (addr, accepted) = numbered_server(|stream, _| async move {
            for _ in 0..2 {
                read_request(&stream).await;
                if stream.write_all(&format_response(200, None, "ok")).await.is_err() {
                    return;
                }
            } // closes the connection after two requests, while it is idle
        });
        let client = client();
        let url = format!("http://{addr}/");
        for _ in 0..2 {
            assert_eq!(client.get(&url).await.unwrap().status, 200);
        }
        assert_eq!(accepted.get(), 1, "the second request reused the connection");
        cashier::yield_now().await; // the server task closes its side
        assert_eq!(client.get(&url).await.unwrap().status, 200);
        assert_eq!(accepted.get(), 2, "a closed idle connection is not reused");
        assert_eq!(client.idle_connections(), 1);
    });
}

#[test]
fn an_idle_connection_the_server_closed_is_dropped_from_its_readiness_not_after_a_failed_send() {
    paused().block_on(async {
        // The server answers one request per connection, then closes it while it is idle.
        let (addr, accepted) = numbered_server(|stream, _| async move {
            read_request(&stream).await;
            let _ = stream.write_all(&format_response(200, None, "ok")).await;
        });
        let client = client();
        let url = format!("http://{addr}/");
        assert_eq!(client.post(&url, "one").await.unwrap().status, 200);
        assert_eq!(client.idle_connections(), 1);
        // One reactor turn (the paused clock jumps 1 ms) delivers the server's FIN as a readiness
        // event on the idle socket.
        cashier::sleep(std::time::Duration::from_millis(1)).await;
        // A POST is never retried, so it succeeds only if the pool saw the close before sending
        // on that connection.
        assert_eq!(client.post(&url, "two").await.unwrap().status, 200);
        assert_eq!(accepted.get(), 2, "the closed connection was dropped, a new one made");
    });
}

#[test]
fn https_against_a_local_server_with_a_test_ca() {
    let (ca, server_config) = test_pki();
    paused().block_on(async move {
        let addr = tls_server(server_config, || format_response(200, None, "secret sauce"));
        let trusted = Client::builder().add_root_certificate(ca).build().unwrap();
        let url = format!("https://localhost:{}/", addr.port());
        let response = trusted.get(&url).await.unwrap();
        assert_eq!((response.status, &response.body[..]), (200, &b"secret sauce"[..]));

        let untrusting = client(); // webpki roots only: the test CA is unknown
        let error = untrusting.get(&url).await.unwrap_err();
        assert!(matches!(&error, HttpError::Tls { .. }), "{error:?}");
        assert!(error.to_string().contains("certificate"), "{error}");
    });
}

#[test]
fn a_stale_connection_is_retried_only_for_idempotent_methods() {
    paused().block_on(async {
        for (method, retried) in [("GET", true), ("PUT", true), ("POST", false), ("PATCH", false)] {
            // The first connection answers one request, then takes the next and closes without
            // a word (as a server whose keep-alive timer fired just then); later ones answer.
            let (addr, accepted) = numbered_server(|stream, number| async move {
                let mut buf = Vec::new();
                while common::read_seen(&stream, &mut buf).await.is_some() {
                    let _ = stream.write_all(&format_response(200, None, "ok")).await;
                    if number == 1 {
                        common::read_seen(&stream, &mut buf).await;
                        return;
                    }
                }
            });
            let client = client();
            let url = format!("http://{addr}/");
            client.get(&url).await.unwrap();
            let result = client.request(method, &url, "x").await;
            if retried {
                assert_eq!(result.unwrap().status, 200, "{method}");
                assert_eq!(accepted.get(), 2, "{method} went again on a new connection");
            } else {
                let error = result.unwrap_err();
                assert_eq!(error.to_string(), "connection closed before any response arrived");
                assert_eq!(accepted.get(), 1, "{method} is not sent twice");
            }
        }
    });
}
