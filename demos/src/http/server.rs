//! A minimal HTTP/1.1 server on cashier: the `--local` sites, the tests' servers, the benchmarks'.
//!
//! It serves a fixed table of [`Site`]s: each path answers with a status, an optional
//! `Location`, a body, after a delay. Connections are kept alive for as many requests as the
//! client sends. It runs as tasks on the current runtime, so on a paused clock its delays are
//! virtual too, and a whole client-and-server exchange is deterministic.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use cashier::net::{TcpListener, TcpStream};
use cashier::task;

/// Largest request head the server reads.
const REQUEST_LIMIT: usize = 16 * 1024;

/// One path the server answers.
#[derive(Clone, Debug)]
pub struct Site {
    /// The request path, like `/www.google.com`.
    pub path: String,
    /// The status code.
    pub status: u16,
    /// How long to wait before answering.
    pub delay: Duration,
    /// The body.
    pub body: String,
    /// A `Location` header (for redirects).
    pub location: Option<String>,
}

impl Site {
    /// A site answering `path` with `status` and `body`, at once.
    pub fn new(path: &str, status: u16, body: &str) -> Site {
        Site {
            path: path.to_string(),
            status,
            delay: Duration::ZERO,
            body: body.to_string(),
            location: None,
        }
    }

    /// Answers after `delay`.
    pub fn delay(mut self, delay: Duration) -> Site {
        self.delay = delay;
        self
    }

    /// Adds a `Location` header.
    pub fn location(mut self, location: &str) -> Site {
        self.location = Some(location.to_string());
        self
    }
}

/// Binds 127.0.0.1 on a free port and serves `sites` from tasks on the current runtime, until the
/// runtime is dropped. Returns the address.
pub fn spawn_local(sites: Vec<Site>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let addr = listener.local_addr()?;
    let sites: Rc<[Site]> = sites.into();
    // Named so that `--explain`, `--timeline` and `--trace` tell the server's tasks from the
    // clients' (the client tasks are named by their URL).
    let server = async move {
        let mut connections = 0u32;
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            connections += 1;
            let name = format!("server: connection {connections}");
            let serve = serve_connection(stream, sites.clone());
            // Cannot fail: this loop is itself a task, so a runtime is running on this thread.
            let _ = task::Builder::new().name(&name).spawn(serve);
        }
    };
    task::Builder::new().name("server: accept").spawn(server)?;
    Ok(addr)
}

/// Answers requests on one connection until the client closes it (or sends garbage).
async fn serve_connection(stream: TcpStream, sites: Rc<[Site]>) {
    let mut buf = Vec::new();
    while let Some(path) = read_request_path(&stream, &mut buf).await {
        let site = sites.iter().find(|site| site.path == path);
        let response = match site {
            Some(site) => {
                if !site.delay.is_zero() {
                    cashier::sleep(site.delay).await;
                }
                format_response(site.status, site.location.as_deref(), &site.body)
            }
            None => format_response(404, None, "not found"),
        };
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}

/// Reads one request head; returns its path (without the query), or `None` at end-of-file or on
/// a malformed request. Bytes after the head stay in `buf` (GETs have no body).
async fn read_request_path(stream: &TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(buf) {
            Ok(httparse::Status::Complete(length)) => {
                let path = request.path.unwrap_or("/").split('?').next().unwrap_or("/").to_string();
                buf.drain(..length);
                return Some(path);
            }
            Ok(httparse::Status::Partial) if buf.len() < REQUEST_LIMIT => {}
            _ => return None,
        }
        let mut chunk = [0; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A complete keep-alive response.
pub fn format_response(status: u16, location: Option<&str>, body: &str) -> Vec<u8> {
    let location = location.map(|l| format!("Location: {l}\r\n")).unwrap_or_default();
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n{location}\r\n{body}",
        reason(status),
        body.len()
    )
    .into_bytes()
}

/// The reason phrase for the statuses the sites use.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        999 => "Request Denied",
        _ => "Unknown",
    }
}
