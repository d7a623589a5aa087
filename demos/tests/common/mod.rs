//! What the HTTP client tests share: a paused runtime, servers on 127.0.0.1 that answer with
//! raw bytes or record what they were sent, and a local test CA for https.
//!
//! Each test binary uses only some of these helpers.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use cashier::net::{TcpListener, TcpStream};
use cashier_demos::http::{Client, HttpError, Response, TlsStream};

/// A runtime on the paused clock: delays and timeouts are virtual, tests instant.
pub fn paused() -> cashier::Runtime {
    cashier::Runtime::builder().start_paused(true).build().unwrap()
}

/// A client with a 5 s timeout (virtual on the paused clock).
pub fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

/// Serves each accepted connection with `handler`, on the current runtime.
pub fn raw_server<F, Fut>(handler: F) -> SocketAddr
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

/// [`raw_server`] that counts the connections it accepts: `handler` gets each connection and its
/// number (1 for the first), and the count is returned beside the address, for tests of which
/// requests reused a connection.
pub fn numbered_server<F, Fut>(handler: F) -> (SocketAddr, Rc<Cell<usize>>)
where
    F: Fn(TcpStream, usize) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let accepted = Rc::new(Cell::new(0));
    let count = accepted.clone();
    let addr = raw_server(move |stream| {
        count.set(count.get() + 1);
        handler(stream, count.get())
    });
    (addr, accepted)
}

/// A TLS server (with `server_config`) on 127.0.0.1: for each connection, reads the request head
/// and answers `answer()`, then closes.
pub fn tls_server(
    server_config: Arc<rustls::ServerConfig>,
    answer: impl Fn() -> Vec<u8> + 'static,
) -> SocketAddr {
    let answer = Rc::new(answer);
    raw_server(move |stream| {
        let (server_config, answer) = (server_config.clone(), answer.clone());
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
            let _ = tls.write_all(&answer()).await;
            let _ = tls.close().await;
        }
    })
}

/// Reads until the end of a request head.
pub async fn read_request(stream: &TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A server that answers every request with `response`, then closes if `close` is set (else
/// keeps the connection open, reading nothing more).
pub fn canned(response: &[u8], close: bool) -> SocketAddr {
    let response: Rc<[u8]> = Rc::from(response);
    raw_server(move |stream| {
        let response = Rc::clone(&response);
        async move {
            read_request(&stream).await;
            let _ = stream.write_all(&response).await;
            if !close {
                std::future::pending::<()>().await;
            }
        }
    })
}

/// GETs `/` from a fresh server that answers with `response` (and closes after it if `close`).
pub async fn get_canned(response: &[u8], close: bool) -> Result<Response, HttpError> {
    client().get(&format!("http://{}/", canned(response, close))).await
}

/// One request as a test server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// Header names (lower-cased) and values.
    pub headers: Vec<(String, String)>,
    /// The body, by its `Content-Length`.
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Reads one whole request (head, then a `Content-Length` body); `buf` keeps bytes read ahead.
/// `None` at end-of-file or on bytes that are not a request.
pub async fn read_seen(stream: &TcpStream, buf: &mut Vec<u8>) -> Option<Seen> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(length) = request.parse(buf).ok()? {
            let headers: Vec<(String, String)> = request
                .headers
                .iter()
                .map(|h| {
                    (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned())
                })
                .collect();
            let body_length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            if buf.len() >= length + body_length {
                let seen = Seen {
                    method: request.method.unwrap().to_string(),
                    target: request.path.unwrap().to_string(),
                    headers,
                    body: buf[length..length + body_length].to_vec(),
                };
                buf.drain(..length + body_length);
                return Some(seen);
            }
        }
        let mut chunk = [0; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The requests a recording server saw, in order.
pub type Log = Rc<RefCell<Vec<Seen>>>;

/// A keep-alive server that records every request and answers it with `answer(request)`.
pub fn recording_server(answer: impl Fn(&Seen) -> Vec<u8> + 'static) -> (SocketAddr, Log) {
    let log = Log::default();
    let answer = Rc::new(answer);
    let addr = raw_server({
        let log = log.clone();
        move |stream| {
            let (log, answer) = (log.clone(), answer.clone());
            async move {
                let mut buf = Vec::new();
                while let Some(seen) = read_seen(&stream, &mut buf).await {
                    let response = answer(&seen);
                    log.borrow_mut().push(seen);
                    if stream.write_all(&response).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    (addr, log)
}

/// A keep-alive server that answers the requests it receives, over all its connections, with
/// `responses` in turn; a response marked `true` closes its connection after it. Also returns
/// how many connections it accepted.
pub fn sequence(responses: Vec<(&'static [u8], bool)>) -> (SocketAddr, Rc<Cell<usize>>) {
    let accepted = Rc::new(Cell::new(0));
    let next = Rc::new(Cell::new(0));
    let responses: Rc<[(&'static [u8], bool)]> = responses.into();
    let addr = raw_server({
        let accepted = accepted.clone();
        move |stream| {
            accepted.set(accepted.get() + 1);
            let (next, responses) = (next.clone(), responses.clone());
            async move {
                let mut buf = Vec::new();
                while read_seen(&stream, &mut buf).await.is_some() {
                    let Some(&(response, close)) = responses.get(next.get()) else { return };
                    next.set(next.get() + 1);
                    if stream.write_all(response).await.is_err() || close {
                        return;
                    }
                }
            }
        }
    });
    (addr, accepted)
}

/// A CA and a `localhost` certificate it signed: (CA cert, server config).
pub fn test_pki() -> (rustls::pki_types::CertificateDer<'static>, Arc<rustls::ServerConfig>) {
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
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    (ca_cert.der().clone(), Arc::new(config))
}
