//! A small HTTP/1.1 client on cashier's sockets: what `site_status` uses instead of aiohttp.
//!
//! [`Client::get`] parses the URL (`url` crate), resolves the host off the loop, connects with
//! cashier's `TcpStream` (wrapped in TLS by rustls for https), writes a GET, reads the head with
//! httparse and the body by its framing, and follows redirects like aiohttp does by default.
//! Idle keep-alive connections are kept per host and reused, as an aiohttp `ClientSession` does.
//!
//! - `error.rs`: [`HttpError`], every failure with a message that names what failed.
//! - `transport.rs`: plain TCP or TLS; the sans-I/O rustls driver.
//! - `wire.rs`: the request line, the incremental head parser, the three body framings.
//! - `server.rs`: a minimal server for the `--local` sites, the tests and the benchmarks.
//!
//! # Limits
//!
//! A response head over 64 KiB, a body over [`ClientBuilder::body_limit`] (default 16 MiB), or
//! bytes that are not HTTP are errors; so is a connection that closes or resets early. The whole
//! request, redirects included, is under one timeout (default 10 s). None of these panics or
//! hangs.

mod error;
pub mod server;
mod transport;
mod wire;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cashier::net::{TcpStream, lookup_host};
use rustls::pki_types::{CertificateDer, ServerName};
use url::Url;

pub use error::HttpError;
pub use transport::TlsStream;
use transport::Transport;
use wire::{Head, ResponseReader};

/// Largest response head accepted.
pub const HEAD_LIMIT: usize = 64 * 1024;
/// Redirects followed by default (aiohttp's default too).
pub const DEFAULT_MAX_REDIRECTS: usize = 10;
/// Idle connections kept per host: aiohttp's default connector allows 100 connections in all.
/// Fewer than the requests in flight would make the pool close and reopen connections.
const IDLE_PER_HOST: usize = 100;

/// A response: the final status after redirects, its headers and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code of the last response.
    pub status: u16,
    /// The URL that produced it (after redirects).
    pub url: Url,
    /// Header names (lower-cased) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How many redirects were followed.
    pub redirects: usize,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// Configures a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    /// Limit for a whole request, redirects included.
    timeout: Duration,
    /// Follow 301/302/303/307/308.
    follow_redirects: bool,
    /// Most redirects followed.
    max_redirects: usize,
    /// Largest body accepted.
    body_limit: usize,
    /// Extra trusted roots (a test CA), on top of the webpki roots.
    extra_roots: Vec<CertificateDer<'static>>,
    /// The `User-Agent` header.
    user_agent: String,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            timeout: Duration::from_secs(10),
            follow_redirects: true,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            body_limit: 16 * 1024 * 1024,
            extra_roots: Vec::new(),
            user_agent: format!("cashier-demos/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl ClientBuilder {
    /// Limit for each request, redirects included (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether to follow redirects (default yes, like aiohttp).
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// Most redirects to follow before failing (default 10).
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Largest body accepted (default 16 MiB).
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Also trusts `root` (a DER certificate): for tests against a local CA.
    pub fn add_root_certificate(mut self, root: CertificateDer<'static>) -> Self {
        self.extra_roots.push(root);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, HttpError> {
        let mut roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for root in &self.extra_roots {
            roots.add(root.clone()).map_err(|e| HttpError::Tls {
                host: "(root store)".into(),
                reason: e.to_string(),
            })?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls { host: "(config)".into(), reason: e.to_string() })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Client { config: self, tls: Arc::new(tls), idle: RefCell::new(HashMap::new()) })
    }
}

/// An HTTP client with a keep-alive pool, like an aiohttp `ClientSession`.
///
/// ```
/// use cashier_demos::http::{Client, server};
///
/// cashier::run(async {
///     let site = server::Site::new("/hello", 200, "hi");
///     let addr = server::spawn_local(vec![site]).unwrap();
///     let client = Client::new().unwrap();
///     let response = client.get(&format!("http://{addr}/hello")).await.unwrap();
///     assert_eq!((response.status, &response.body[..]), (200, &b"hi"[..]));
/// });
/// ```
pub struct Client {
    /// Settings.
    config: ClientBuilder,
    /// TLS settings, shared by every connection.
    tls: Arc<rustls::ClientConfig>,
    /// Idle connections by `scheme://host:port`.
    idle: RefCell<HashMap<String, Vec<Transport>>>,
}

/// Where a request goes.
struct Target {
    /// `http` or `https`.
    tls: bool,
    /// The host name or address.
    host: String,
    /// The port.
    port: u16,
    /// Path and query, for the request line.
    path: String,
    /// The `Host` header.
    host_header: String,
}

impl Target {
    fn new(url: &Url) -> Result<Target, HttpError> {
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => return Err(HttpError::UnsupportedScheme(other.to_string())),
        };
        let host = url
            .host_str()
            .ok_or_else(|| HttpError::InvalidUrl {
                url: url.to_string(),
                reason: "no host".into(),
            })?
            .to_string();
        let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
        let mut path = url.path().to_string();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        Ok(Target { tls, host, port, path, host_header })
    }

    fn pool_key(&self) -> String {
        format!("{}://{}:{}", if self.tls { "https" } else { "http" }, self.host, self.port)
    }
}

impl Client {
    /// A client with the default settings.
    pub fn new() -> Result<Client, HttpError> {
        ClientBuilder::default().build()
    }

    /// A builder for other settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// GETs `url`, following redirects, within the client's timeout.
    pub async fn get(&self, url: &str) -> Result<Response, HttpError> {
        let parsed = Url::parse(url)
            .map_err(|e| HttpError::InvalidUrl { url: url.to_string(), reason: e.to_string() })?;
        match cashier::timeout(self.config.timeout, self.get_following(parsed)).await {
            Ok(result) => result,
            Err(_) => Err(HttpError::Timeout(self.config.timeout)),
        }
    }

    /// Idle connections kept for reuse, over all hosts.
    pub fn idle_connections(&self) -> usize {
        self.idle.borrow().values().map(Vec::len).sum()
    }

    async fn get_following(&self, mut url: Url) -> Result<Response, HttpError> {
        let mut redirects = 0;
        loop {
            let (head, body) = self.fetch(&url).await?;
            if self.config.follow_redirects && matches!(head.status, 301 | 302 | 303 | 307 | 308) {
                if redirects == self.config.max_redirects {
                    return Err(HttpError::TooManyRedirects(self.config.max_redirects));
                }
                let location = head.header("location").ok_or_else(|| {
                    HttpError::BadRedirect(format!(
                        "status {} without a Location header",
                        head.status
                    ))
                })?;
                url = url
                    .join(location)
                    .map_err(|e| HttpError::BadRedirect(format!("Location {location:?}: {e}")))?;
                redirects += 1;
                continue;
            }
            return Ok(Response {
                status: head.status,
                url,
                headers: head.headers,
                body,
                redirects,
            });
        }
    }

    /// One request on a pooled connection if there is a live one, else on a new one. A pooled
    /// connection that turns out to be closed before any response byte is retried once on a new
    /// connection (GET is idempotent, as HTTP clients assume).
    async fn fetch(&self, url: &Url) -> Result<(Head, Vec<u8>), HttpError> {
        let target = Target::new(url)?;
        if let Some(pooled) = self.take_idle(&target.pool_key()) {
            match self.exchange(pooled, &target).await {
                Ok(done) => return Ok(done),
                Err((error, false)) => return Err(error),
                Err((_, true)) => {} // stale: try a fresh connection
            }
        }
        let fresh = self.connect(&target).await?;
        self.exchange(fresh, &target).await.map_err(|(error, _)| error)
    }

    /// Writes the request and reads the response; returns the connection to the pool when it can
    /// be reused. On failure, says whether no response byte had arrived.
    async fn exchange(
        &self,
        mut transport: Transport,
        target: &Target,
    ) -> Result<(Head, Vec<u8>), (HttpError, bool)> {
        let request = wire::get_request(&target.path, &target.host_header, &self.config.user_agent);
        if let Err(error) = transport.write_all(&request).await {
            return Err((error.into(), true));
        }
        let mut reader = ResponseReader::new(&mut transport);
        let head = match reader.read_head(HEAD_LIMIT).await {
            Ok(head) => head,
            Err(error) => {
                let untouched = !reader.received_any;
                return Err((error, untouched));
            }
        };
        let (body, reusable) =
            reader.read_body(&head, self.config.body_limit).await.map_err(|e| (e, false))?;
        let reusable = reusable && !reader.has_leftover();
        if reusable {
            self.put_idle(target.pool_key(), transport);
        }
        Ok((head, body))
    }

    async fn connect(&self, target: &Target) -> Result<Transport, HttpError> {
        let endpoint = format!("{}:{}", target.host, target.port);
        let addrs = lookup_host(&target.host, target.port)
            .await
            .map_err(|source| HttpError::Resolve { host: target.host.clone(), source })?;
        let mut last_error = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(error) => last_error = Some(error),
            }
        }
        let tcp = tcp.ok_or_else(|| HttpError::Connect {
            target: endpoint.clone(),
            source: last_error.unwrap_or_else(|| std::io::Error::other("no address")),
        })?;
        tcp.set_nodelay(true)?;
        if !target.tls {
            return Ok(Transport::Plain(tcp));
        }
        let tls_error = |reason: String| HttpError::Tls { host: target.host.clone(), reason };
        let name =
            ServerName::try_from(target.host.clone()).map_err(|e| tls_error(e.to_string()))?;
        let conn = rustls::ClientConnection::new(self.tls.clone(), name)
            .map_err(|e| tls_error(e.to_string()))?;
        // Boxed: the handshake's state (a whole rustls connection) would otherwise sit inside
        // every request's future, TLS or not.
        let stream = Box::pin(TlsStream::handshake(tcp, conn))
            .await
            .map_err(|e| tls_error(e.to_string()))?;
        Ok(Transport::Tls(Box::new(stream)))
    }

    fn take_idle(&self, key: &str) -> Option<Transport> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(key)?;
        while let Some(transport) = list.pop() {
            if transport.is_reusable() {
                return Some(transport);
            } // else: the server closed it while idle; drop it
        }
        None
    }

    fn put_idle(&self, key: String, transport: Transport) {
        let mut idle = self.idle.borrow_mut();
        let list = idle.entry(key).or_default();
        if list.len() < IDLE_PER_HOST {
            list.push(transport);
        }
    }
}
