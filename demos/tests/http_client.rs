//! The HTTP client against servers these tests start on 127.0.0.1, on the paused clock: every
//! delay and timeout is virtual, so the tests are instant and deterministic.

use std::cell::Cell;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use cashier::net::{TcpListener, TcpStream};
use cashier_demos::http::server::{self, Site, format_response};
use cashier_demos::http::{Client, HttpError, TlsStream};
use cashier_demos::{Output, site_status};

fn paused() -> cashier::Runtime {
    cashier::Runtime::builder().start_paused(true).build().unwrap()
}

/// Serves each accepted connection with `handler`, on the current runtime.
fn raw_server<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    cashier::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            cashier::spawn(handler(stream));
        }
    });
    addr
}

/// Reads until the end of a request head.
async fn read_request(stream: &TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A server that answers every request with `response`, then closes if `close` is set.
fn canned(response: &'static [u8], close: bool) -> SocketAddr {
    raw_server(move |stream| async move {
        read_request(&stream).await;
        let _ = stream.write_all(response).await;
        if !close {
            std::future::pending::<()>().await;
        }
    })
}

fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

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
fn redirect_chains_are_followed_and_relative_locations_resolved() {
    paused().block_on(async {
        let sites = vec![
            Site::new("/a", 301, "").location("/b"),
            Site::new("/b", 302, "").location("c"), // relative to /b
            Site::new("/c", 307, "").location("/d?x=1"),
            Site::new("/d", 200, "arrived"),
        ];
        let addr = server::spawn_local(sites).unwrap();
        let response = client().get(&format!("http://{addr}/a")).await.unwrap();
        assert_eq!((response.status, response.redirects), (200, 3));
        assert_eq!(response.url.as_str(), format!("http://{addr}/d?x=1"));
        assert_eq!(response.body, b"arrived");
        let raw = Client::builder().follow_redirects(false).build().unwrap();
        assert_eq!(raw.get(&format!("http://{addr}/a")).await.unwrap().status, 301);
    });
}

#[test]
fn a_redirect_loop_fails_after_ten() {
    paused().block_on(async {
        let addr =
            server::spawn_local(vec![Site::new("/loop", 302, "").location("/loop")]).unwrap();
        let error = client().get(&format!("http://{addr}/loop")).await.unwrap_err();
        assert_eq!(error.to_string(), "more than 10 redirects");
    });
}

#[test]
fn chunked_and_close_delimited_bodies() {
    paused().block_on(async {
        let chunked = canned(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: y\r\n\r\n",
            false,
        );
        let response = client().get(&format!("http://{chunked}/")).await.unwrap();
        assert_eq!(response.body, b"Wikipedia in \r\n\r\nchunks.");
        let until_close = canned(b"HTTP/1.1 200 OK\r\n\r\nall of this until the end", true);
        let response = client().get(&format!("http://{until_close}/")).await.unwrap();
        assert_eq!(response.body, b"all of this until the end");
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
fn bodies_over_the_cap_and_truncated_bodies_are_errors() {
    paused().block_on(async {
        let big = canned(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false);
        let small = Client::builder().body_limit(10).build().unwrap();
        assert_eq!(
            small.get(&format!("http://{big}/")).await.unwrap_err().to_string(),
            "response body larger than 10 bytes"
        );
        let cut = canned(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", true);
        let error = client().get(&format!("http://{cut}/")).await.unwrap_err();
        assert_eq!(error.to_string(), "connection closed before the body was complete");
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

/// A CA and a `localhost` certificate it signed: (CA cert, server config).
fn test_pki() -> (rustls::pki_types::CertificateDer<'static>, std::sync::Arc<rustls::ServerConfig>)
{
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    (ca_cert.der().clone(), std::sync::Arc::new(config))
}

#[test]
fn https_against_a_local_server_with_a_test_ca() {
    let (ca, server_config) = test_pki();
    paused().block_on(async move {
        let addr = raw_server(move |stream| {
            let server_config = server_config.clone();
            async move {
                let conn = rustls::ServerConnection::new(server_config).unwrap();
                let Ok(mut tls) = TlsStream::handshake(stream, conn).await else { return };
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls.write_all(&format_response(200, None, "secret sauce")).await;
                let _ = tls.close().await;
            }
        });
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
