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
use common::{canned, client, paused, raw_server, read_request, test_pki, tls_server};

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
    });
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
        let accepted = Rc::new(Cell::new(0));
        let addr = raw_server({
            let accepted = accepted.clone();
            move |stream| {
                accepted.set(accepted.get() + 1);
                async move {
                    let mut served = 0;
                    loop {
                        read_request(&stream).await;
                        served += 1;
                        if stream.write_all(&format_response(200, None, "ok")).await.is_err() {
                            return;
                        }
                        if served == 2 {
                            return; // closes the connection after two requests, while it is idle
                        }
                    }
                }
            }
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
            let accepted = Rc::new(Cell::new(0));
            let addr = raw_server({
                let accepted = accepted.clone();
                move |stream| {
                    accepted.set(accepted.get() + 1);
                    let first = accepted.get() == 1;
                    async move {
                        let mut buf = Vec::new();
                        while common::read_seen(&stream, &mut buf).await.is_some() {
                            let _ = stream.write_all(&format_response(200, None, "ok")).await;
                            if first {
                                common::read_seen(&stream, &mut buf).await;
                                return;
                            }
                        }
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
