//! A small HTTP/1.1 client on cashier's sockets: what `site_status` uses instead of aiohttp.
//!
//! [`Client::get`] (and [`Client::head`], [`Client::post`], [`Client::request`]) parses the URL
//! (`url` crate), resolves the host off the loop, connects with cashier's `TcpStream` (wrapped in
//! TLS by rustls for https), writes the request, frames the response with [`ResponseParser`]
//! (RFC 9112 §6–7), and follows redirects the way aiohttp's `ClientSession._request` does (see
//! `Client::follow`). Idle keep-alive connections are kept per host and reused, as an aiohttp
//! `ClientSession` does, and at most [`DEFAULT_CONNECTIONS`] (100) connections are open at once,
//! as with aiohttp's `TCPConnector(limit=100)` ([`ClientBuilder::connections`]).
//!
//! - `error.rs`: [`HttpError`], every failure with a message that names what failed.
//! - `transport.rs`: plain TCP or TLS; the sans-I/O rustls driver.
//! - `wire.rs`: the request, and [`ResponseParser`], the sans-I/O response framing.
//! - `server.rs`: a minimal server for the `--local` sites, the tests and the benchmarks.
//!
//! # Where it differs from aiohttp
//!
//! Deliberately. Where aiohttp's response parser departs from RFC 9112, the RFC is followed:
//!
//! - `Content-Length: 42, 42`, or the same value in two headers, is accepted as 42, as RFC 9110
//!   §8.6 allows; aiohttp's parser rejects the list form. Values that differ are an error.
//! - Repeated `Transfer-Encoding` headers are one list (RFC 9110 §5.3), so the final coding is the
//!   last one of the last header; aiohttp's Python parser looks only at the first header.
//! - An HTTP/1.0 response with `Transfer-Encoding` is framed by it, but its connection is not
//!   reused even with `Connection: keep-alive` (RFC 9112 §6.1: its framing is suspect).
//!
//! And where this client is smaller:
//!
//! - No `Accept-Encoding` is sent and content codings are not decoded: aiohttp asks for gzip and
//!   deflate and decodes them; here a server sends the body as is, and a coding it applies anyway
//!   is returned undecoded.
//! - No cookies, proxies, or user-set headers: so on a redirect to another origin there is only
//!   the `Authorization` from URL credentials to drop.
//!
//! # Limits
//!
//! Response heads over 64 KiB (interim `1xx` heads included), trailers over 64 KiB, a body over
//! [`ClientBuilder::body_limit`] (default 16 MiB), bytes that are not HTTP, and framing that is
//! invalid or contradicts itself are errors; so is a connection that closes or resets early.
//! The whole request, redirects included, is under one timeout (default 10 s): the wait for a
//! connection slot, the connect, and the exchange. Its error says which was under way when it
//! ran out ([`HttpError::NoFreeConnection`], [`HttpError::ConnectTimeout`],
//! [`HttpError::Timeout`]). None of these panics or hangs.
//!
//! # The connection cap
//!
//! Each open connection holds one slot of a per-client [`Semaphore`] ([`DEFAULT_CONNECTIONS`]
//! of them unless [`ClientBuilder::connections`] says otherwise; 0 means no cap, as aiohttp's
//! `limit=0`), idle pooled connections included; the slot is freed when the connection closes.
//! A request with no idle connection to reuse takes a free slot, or, when there is none, closes
//! an idle connection (to another host: one to its own host it would have reused) to free one,
//! or else waits, for a slot or for a connection to its host that another request finishes
//! with (handed over, oldest waiter first). So 2,000 URLs make at most 100 connections at a
//! time, reused, instead of 2,000 connects that overflow the server's backlog or the process's
//! file descriptors.
//!
//! How that differs from aiohttp's `BaseConnector` (`connect`, `_get`, `_release`,
//! `_available_connections`): aiohttp counts only the connections in use (`_acquired`) against
//! its limit, so its idle keep-alive connections are open sockets beyond it; here every open
//! socket counts, which is what keeps a process under `ulimit -n`. When aiohttp releases a
//! connection it pools it and wakes a waiter for a host with room (`_release_waiter`), which
//! then takes it from the pool (`_get`); here it goes straight to the longest waiter for its
//! host, and when only requests for other hosts wait, it closes, so that its slot goes to them.
//! aiohttp's wait for a slot counts toward its `connect` and `total` timeouts; here it counts
//! toward the one timeout, as `total` does: a timeout during the wait is
//! [`HttpError::NoFreeConnection`], and a connect timeout says how long the wait took.
//!
//! # Reusing an idle connection
//!
//! A pooled connection may have died while idle: the server closed it (its keep-alive timeout),
//! reset it, or sent bytes no request asked for. Asking the socket on every reuse (a `recv`
//! with `MSG_PEEK`) costs a system call per request that almost always says `EAGAIN`. The
//! reactor already knows: every idle socket stays registered, edge-triggered, and a FIN, a reset
//! or a byte arriving is a readiness event that the next turn records on the socket. A response
//! read to its end leaves no readiness behind (the read that came up short told the reactor the
//! socket was drained), so a connection whose socket has had no event since is reused with no
//! system call at all ([`TcpStream::is_read_ready`]); this is how asyncio learns it too, from
//! the selector calling the protocol's `eof_received` or `connection_lost` on an idle transport,
//! which aiohttp's pool then checks (`protocol.is_connected()`). Only a socket with an event
//! is peeked, because the readiness cannot tell a close from a leftover of a read that filled
//! its buffer exactly: bytes or end-of-file drop the connection, `EAGAIN` keeps it. (On the
//! `backend-polling` build a short read keeps its readiness, since that backend cannot report a
//! closed read half apart from "readable"; there the pool peeks on every reuse, as before.)
//!
//! What the readiness cannot see is a close still in flight: the FIN reaches the socket after
//! the reactor's last turn, or after the request is written. That race is why a reused
//! connection that fails before any response byte arrives is retried on another connection (one
//! handed over, or a new one), for idempotent methods (`Client::fetch`), as aiohttp retries.

mod error;
mod headers;
pub mod server;
mod transport;
mod wire;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use cashier::net::{TcpStream, lookup_host};
use cashier::sync::{OwnedPermit, Semaphore, oneshot};
use rustls::pki_types::{CertificateDer, ServerName};
use url::{Position, Url};

pub use error::HttpError;
pub use headers::Headers;
pub use transport::TlsStream;
use transport::Transport;
use wire::{ReadBuffers, ResponseReader};
pub use wire::{ResponseHead, ResponseParser};

/// Most bytes of response heads accepted, interim `1xx` heads included; also the most bytes of
/// trailers after a chunked body.
pub const HEAD_LIMIT: usize = 64 * 1024;
/// The redirect limit by default (aiohttp's default too): the 10th redirect in a row is an error.
pub const DEFAULT_MAX_REDIRECTS: usize = 10;
/// Connections open at once per client by default, as aiohttp's `TCPConnector(limit=100)`.
pub const DEFAULT_CONNECTIONS: usize = 100;
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
    /// Header names (lower-cased) and values, in order.
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
    /// How many redirects were followed.
    pub redirects: usize,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

/// Configures a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    /// Limit for a whole request, redirects included.
    timeout: Duration,
    /// Follow 301/302/303/307/308 (except for `head`).
    follow_redirects: bool,
    /// Most redirects followed.
    max_redirects: usize,
    /// Largest body accepted.
    body_limit: usize,
    /// Extra trusted roots (a test CA), on top of the webpki roots.
    extra_roots: Vec<CertificateDer<'static>>,
    /// The `User-Agent` header.
    user_agent: String,
    /// Most connections open at once; 0 for no cap.
    connections: usize,
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
            connections: DEFAULT_CONNECTIONS,
        }
    }
}

impl ClientBuilder {
    /// Limit for each request, redirects included (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether [`Client::get`], [`Client::post`] and [`Client::request`] follow redirects (default
    /// yes, like aiohttp's `allow_redirects`). [`Client::head`] never does, like aiohttp's.
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// The redirect limit (default 10). As in aiohttp, the redirect response that reaches it is
    /// [`HttpError::TooManyRedirects`], so `max` follows `max - 1` redirects; 0 means no limit
    /// (the timeout still ends a loop).
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// At most `cap` connections open at once, idle pooled ones included (default
    /// [`DEFAULT_CONNECTIONS`], 100); 0 means no cap, as aiohttp's `TCPConnector(limit=0)`.
    /// A request that finds every slot held waits for one (see the module docs).
    pub fn connections(mut self, cap: usize) -> Self {
        self.connections = cap;
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
        let slots = (self.connections > 0).then(|| Rc::new(Semaphore::new(self.connections)));
        Ok(Client {
            config: self,
            tls: Arc::new(tls),
            idle: RefCell::new(HashMap::new()),
            slots,
            waiting: Cell::new(0),
            handoff: RefCell::new(HashMap::new()),
        })
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
    idle: RefCell<HashMap<String, Vec<Connection>>>,
    /// One permit per connection that may be open (`None`: no cap).
    slots: Option<Rc<Semaphore>>,
    /// Requests waiting for a slot now.
    waiting: Cell<usize>,
    /// By `scheme://host:port`, the requests waiting for a slot, oldest first: each takes a
    /// connection to its host that finishes while it waits (a sender whose request stopped
    /// waiting is skipped).
    handoff: RefCell<HashMap<String, VecDeque<oneshot::Sender<Connection>>>>,
}

/// What a request waiting for a connection got.
enum Ready {
    /// A slot for a new connection (`None`: the client has no cap).
    Slot(Option<OwnedPermit>),
    /// A connection to its host, handed over as another request finished with it.
    Reused(Connection),
}

/// An open connection, its buffers and the slot it holds (none when the client has no cap);
/// dropping it closes the socket and frees the slot.
struct Connection {
    /// The byte stream.
    transport: Transport,
    /// Its buffers.
    buffers: Box<Buffers>,
    /// The connection's slot, released on drop.
    _slot: Option<OwnedPermit>,
}

/// A connection's buffers. They stay with the connection, so that a request on a reused
/// connection allocates none; boxed, so that they add one pointer to every request's future
/// (which holds its `Connection` across awaits) instead of three vectors (about 3 MB over the
/// futures of 10,000 requests spawned at once).
#[derive(Default)]
struct Buffers {
    /// The bytes of the request being sent.
    request: Vec<u8>,
    /// The response's read buffers.
    reading: ReadBuffers,
}

/// What a request is doing, so that a timeout can say what it interrupted.
#[derive(Clone, Default)]
enum Phase {
    /// Resolving, writing or reading.
    #[default]
    Exchanging,
    /// Waiting for a connection slot.
    WaitingForSlot,
    /// Connecting to `host:port` (TLS handshake included), after waiting `waited` for a slot.
    Connecting {
        /// `host:port`.
        target: String,
        /// When the connect began.
        since: std::time::Instant,
        /// How long the request had waited for its slot.
        waited: Duration,
    },
}

/// Counts a request among the waiters for a slot while it lives (a cancelled wait included).
struct Waiting<'a>(&'a Cell<usize>);

impl<'a> Waiting<'a> {
    fn new(count: &'a Cell<usize>) -> Waiting<'a> {
        count.set(count.get() + 1);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// What is sent, as it stands after the redirects so far.
struct Request<'m> {
    /// The method (borrowed: no allocation per request).
    method: &'m str,
    /// The body (empty for none).
    body: Vec<u8>,
    /// The `Authorization` header line from URL credentials, CRLF included.
    authorization: Option<String>,
}

/// Where a request goes: pieces of its URL's own text, so that saying where a request goes
/// allocates nothing.
struct Target<'u> {
    /// `http` or `https`.
    tls: bool,
    /// The host name or address (an IPv6 address in brackets, as the URL writes it).
    host: &'u str,
    /// The port.
    port: u16,
    /// Path and query, for the request line.
    path: &'u str,
    /// The `Host` header: the host, and the port when it is not the scheme's default (the URL
    /// leaves a default port out).
    host_header: &'u str,
    /// The pool's key, `scheme://host[:port]`: the URL up to the end of its port.
    /// `Client::follow` has moved any credentials into a header by then, so none are in it.
    key: &'u str,
}

impl<'u> Target<'u> {
    fn new(url: &'u Url) -> Result<Target<'u>, HttpError> {
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => return Err(HttpError::UnsupportedScheme(other.to_string())),
        };
        let host = url.host_str().ok_or_else(|| HttpError::InvalidUrl {
            url: url.to_string(),
            reason: "no host".into(),
        })?;
        let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
        Ok(Target {
            tls,
            host,
            port,
            path: &url[Position::BeforePath..Position::AfterQuery],
            host_header: &url[Position::BeforeHost..Position::AfterPort],
            key: &url[..Position::AfterPort],
        })
    }
}

/// Methods that may be sent again when a reused connection turns out to be stale (aiohttp's
/// `IDEMPOTENT_METHODS`, after RFC 9110 §9.2.2).
fn idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE" | "QUERY")
}

/// Checks that `method` can be sent: an HTTP token (RFC 9110 §9.1), and not `CONNECT`, whose
/// success turns the connection into a tunnel (RFC 9112 §6.3 rule 2), which this client does not
/// offer.
fn check_method(method: &str) -> Result<(), HttpError> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let reason = if method.is_empty() || !method.bytes().all(tchar) {
        "not an HTTP method token"
    } else if method.eq_ignore_ascii_case("CONNECT") {
        "CONNECT opens a tunnel, which this client does not support"
    } else {
        return Ok(());
    };
    Err(HttpError::InvalidMethod { method: method.to_string(), reason })
}

/// The `Authorization` header line for credentials in `url` (`http://user:pass@host/`), as
/// aiohttp sends them: Basic, user and password percent-decoded.
fn basic_auth(url: &Url) -> Option<String> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |text: &str| percent_encoding::percent_decode_str(text).collect::<Vec<u8>>();
    let mut credentials = decode(url.username());
    credentials.push(b':');
    credentials.extend(decode(url.password().unwrap_or_default()));
    Some(format!("Authorization: Basic {}\r\n", base64(&credentials)))
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let bits =
            group.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
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

    /// GETs `url`, following redirects unless the client says not to, within the client's
    /// timeout.
    pub async fn get(&self, url: &str) -> Result<Response, HttpError> {
        self.send("GET", url, Vec::new(), self.config.follow_redirects).await
    }

    /// Sends a `HEAD` for `url`. Like aiohttp's `ClientSession.head`, it does not follow
    /// redirects (whatever [`ClientBuilder::follow_redirects`] says); use
    /// [`request`](Self::request) with `"HEAD"` to follow them. The response has no body.
    pub async fn head(&self, url: &str) -> Result<Response, HttpError> {
        self.send("HEAD", url, Vec::new(), false).await
    }

    /// POSTs `body` to `url`, following redirects unless the client says not to.
    pub async fn post(&self, url: &str, body: impl Into<Vec<u8>>) -> Result<Response, HttpError> {
        self.send("POST", url, body.into(), self.config.follow_redirects).await
    }

    /// Sends `method` (case-sensitive, as in aiohttp; `CONNECT` is refused) with `body` (empty
    /// for none) to `url`, following redirects unless the client says not to. A body is sent
    /// with its `Content-Length`; so is `Content-Length: 0` for an empty body, except with GET,
    /// HEAD, OPTIONS and TRACE, as aiohttp does.
    pub async fn request(
        &self,
        method: &str,
        url: &str,
        body: impl Into<Vec<u8>>,
    ) -> Result<Response, HttpError> {
        self.send(method, url, body.into(), self.config.follow_redirects).await
    }

    /// Idle connections kept for reuse, over all hosts.
    pub fn idle_connections(&self) -> usize {
        self.idle.borrow().values().map(Vec::len).sum()
    }

    /// Connections open now, idle ones included, when the client has a cap (`None` without).
    pub fn open_connections(&self) -> Option<usize> {
        self.slots.as_ref().map(|slots| self.config.connections - slots.available_permits())
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        body: Vec<u8>,
        follow: bool,
    ) -> Result<Response, HttpError> {
        check_method(method)?;
        let parsed = Url::parse(url)
            .map_err(|e| HttpError::InvalidUrl { url: url.to_string(), reason: e.to_string() })?;
        let request = Request { method, body, authorization: None };
        let phase = Cell::new(Phase::default());
        let limit = self.config.timeout;
        match cashier::timeout(limit, self.follow(request, parsed, follow, &phase)).await {
            Ok(result) => result,
            Err(_) => Err(match phase.take() {
                Phase::Exchanging => HttpError::Timeout(limit),
                Phase::WaitingForSlot => {
                    HttpError::NoFreeConnection { cap: self.config.connections, limit }
                }
                Phase::Connecting { target, since, waited } => {
                    HttpError::ConnectTimeout { target, connecting: cashier::now() - since, waited }
                }
            }),
        }
    }

    /// Sends `request` to `url` and follows redirects as aiohttp's `ClientSession._request` does:
    ///
    /// - 301, 302, 303, 307 and 308 redirect (when `follow`); other statuses are returned.
    /// - Each redirect response counts; the one that reaches `max_redirects` is
    ///   [`HttpError::TooManyRedirects`] (so at most `max_redirects - 1` are followed), and a
    ///   limit of 0 means no limit (the timeout still bounds a loop).
    /// - 303 turns any method but HEAD into a bodiless GET; 301 and 302 turn POST into a bodiless
    ///   GET; otherwise the method and body are sent again.
    /// - A redirect without a `Location` (or aiohttp's fallback, `URI`), or with an empty one,
    ///   is returned as the response.
    /// - The `Location` is resolved against the current URL (so relative ones work); one that
    ///   does not resolve, or has no host, is [`HttpError::InvalidRedirect`]; one whose scheme is
    ///   not http or https is [`HttpError::NonHttpRedirect`]. Scheme changes between http and
    ///   https are followed both ways.
    /// - Credentials in a URL are sent as Basic `Authorization`, on that URL and on redirects
    ///   that stay on its origin; a redirect to another origin drops them.
    /// - The fragment is never sent, and the response's URL has none (aiohttp's `resp.url`).
    async fn follow(
        &self,
        mut request: Request<'_>,
        mut url: Url,
        follow: bool,
        phase: &Cell<Phase>,
    ) -> Result<Response, HttpError> {
        let mut redirects = 0;
        loop {
            if let Some(authorization) = basic_auth(&url) {
                request.authorization = Some(authorization);
                // Cannot fail: a URL with credentials has a host.
                let _ = url.set_username("");
                let _ = url.set_password(None);
            }
            if url.fragment().is_some() {
                url.set_fragment(None);
            }
            let (head, body) = self.fetch(&request, &url, phase).await?;
            let status = head.status;
            if !(follow && matches!(status, 301 | 302 | 303 | 307 | 308)) {
                return Ok(Response { status, url, headers: head.headers, body, redirects });
            }
            if self.config.max_redirects != 0 && redirects + 1 >= self.config.max_redirects {
                return Err(HttpError::TooManyRedirects(self.config.max_redirects));
            }
            if (status == 303 && request.method != "HEAD")
                || (matches!(status, 301 | 302) && request.method == "POST")
            {
                request.method = "GET";
                request.body = Vec::new();
            }
            let location = head.header("location").filter(|l| !l.is_empty());
            let Some(location) = location.or(head.header("uri")).filter(|l| !l.is_empty()) else {
                // aiohttp issue 2022: returned as is.
                return Ok(Response { status, url, headers: head.headers, body, redirects });
            };
            let invalid = |reason: String| HttpError::InvalidRedirect {
                location: location.to_string(),
                reason,
            };
            let next = url.join(location).map_err(|e| invalid(e.to_string()))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(HttpError::NonHttpRedirect(location.to_string()));
            }
            if next.host_str().is_none_or(str::is_empty) {
                return Err(invalid("no host".into()));
            }
            if next.origin() != url.origin() {
                request.authorization = None;
            }
            url = next;
            redirects += 1;
        }
    }

    /// One request on a pooled connection if there is a live one, else on one handed over or a
    /// new one (see [`Client::wait_for_connection`]). A reused connection that turns out to be
    /// closed before any response byte is replaced by another if the method is idempotent (as
    /// aiohttp retries once on a new connection).
    async fn fetch(
        &self,
        request: &Request<'_>,
        url: &Url,
        phase: &Cell<Phase>,
    ) -> Result<(ResponseHead, Vec<u8>), HttpError> {
        let target = Target::new(url)?;
        let key = target.key;
        let mut pooled = self.take_idle(key);
        loop {
            if let Some(connection) = pooled.take() {
                match self.exchange(connection, request, &target).await {
                    Ok(done) => return Ok(done),
                    Err((_, true)) if idempotent(request.method) => {} // stale: try another
                    Err((error, _)) => return Err(error),
                }
            }
            phase.set(Phase::WaitingForSlot);
            let waiting_since = cashier::now();
            match self.wait_for_connection(key).await {
                Ready::Reused(connection) => {
                    phase.set(Phase::Exchanging);
                    pooled = Some(connection);
                }
                Ready::Slot(slot) => {
                    let since = cashier::now();
                    let target_name = format!("{}:{}", target.host, target.port);
                    let waited = since - waiting_since;
                    phase.set(Phase::Connecting { target: target_name, since, waited });
                    let transport = self.connect(&target).await?;
                    phase.set(Phase::Exchanging);
                    let fresh = Connection { transport, buffers: Box::default(), _slot: slot };
                    return self
                        .exchange(fresh, request, &target)
                        .await
                        .map_err(|(error, _)| error);
                }
            }
        }
    }

    /// What a request with no idle connection to reuse waits for: a free slot; or, when every
    /// slot is held and an idle connection exists, one freed by closing that connection (it is
    /// to another host: the caller found none to its own); or else whichever comes first of a
    /// slot freed and a connection to `key` handed over by a request that finished with it.
    async fn wait_for_connection(&self, key: &str) -> Ready {
        let Some(slots) = &self.slots else { return Ready::Slot(None) };
        if slots.available_permits() == 0 {
            self.close_one_idle();
        }
        let _waiting = Waiting::new(&self.waiting);
        if slots.available_permits() > 0 {
            // The client never closes its semaphore, so `acquire_owned` cannot fail.
            return Ready::Slot(slots.clone().acquire_owned().await.ok());
        }
        let (sender, receiver) = oneshot::channel();
        self.handoff.borrow_mut().entry(key.to_string()).or_default().push_back(sender);
        match cashier::select(slots.clone().acquire_owned(), receiver).await {
            cashier::Either::Left(slot) => Ready::Slot(slot.ok()),
            cashier::Either::Right(Ok(connection)) => Ready::Reused(connection),
            // Cannot happen: a sender is only dropped by sending, or with the client.
            cashier::Either::Right(Err(_)) => Ready::Slot(slots.clone().acquire_owned().await.ok()),
        }
    }

    /// Closes one idle connection, if there is one, freeing its slot.
    fn close_one_idle(&self) {
        let mut idle = self.idle.borrow_mut();
        let closed = idle.values_mut().find_map(Vec::pop);
        idle.retain(|_, list| !list.is_empty());
        drop(idle);
        drop(closed); // closes the socket, and frees the slot to the next waiter
    }

    /// Writes the request and reads the response; returns the connection to the pool when it can
    /// be reused. On failure, says whether no response byte had arrived.
    async fn exchange(
        &self,
        mut connection: Connection,
        request: &Request<'_>,
        target: &Target<'_>,
    ) -> Result<(ResponseHead, Vec<u8>), (HttpError, bool)> {
        let Connection { transport, buffers, .. } = &mut connection;
        let Buffers { request: bytes, reading } = &mut **buffers;
        wire::write_request(
            bytes,
            request.method,
            target.path,
            target.host_header,
            &self.config.user_agent,
            request.authorization.as_deref().unwrap_or_default(),
            &request.body,
        );
        if let Err(error) = transport.write_all(bytes).await {
            return Err((error.into(), true));
        }
        let mut parser =
            ResponseParser::new(request.method == "HEAD", HEAD_LIMIT, self.config.body_limit);
        let mut reader = ResponseReader::new(transport, reading);
        if let Err(error) = reader.read(&mut parser).await {
            return Err((error, !reader.received_any));
        }
        let reusable = !reader.has_leftover();
        // `read` returns Ok only once the parser is done, so this is always a response.
        let Some((head, body, keep_alive)) = parser.into_response() else {
            return Err((HttpError::ClosedEarly("before the response was complete"), false));
        };
        if reusable && keep_alive {
            self.put_idle(target.key, connection);
        }
        Ok((head, body))
    }

    /// Resolves the target and connects to its addresses in turn, then (for https) runs the
    /// TLS handshake.
    async fn connect(&self, target: &Target<'_>) -> Result<Transport, HttpError> {
        let endpoint = format!("{}:{}", target.host, target.port);
        let addrs = lookup_host(target.host, target.port)
            .await
            .map_err(|source| HttpError::Resolve { host: target.host.to_string(), source })?;
        let mut last_error = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(error) => last_error = Some((addr, without_address(error, addr))),
            }
        }
        let tcp = tcp.ok_or_else(|| match last_error {
            Some((addr, source)) => {
                HttpError::Connect { target: endpoint.clone(), addr: Some(addr), source }
            }
            None => HttpError::Connect {
                target: endpoint.clone(),
                addr: None,
                source: std::io::Error::other("the host resolved to no address"),
            },
        })?;
        tcp.set_nodelay(true)?;
        if !target.tls {
            return Ok(Transport::Plain(tcp));
        }
        let tls_error = |reason: String| HttpError::Tls { host: target.host.to_string(), reason };
        let name =
            ServerName::try_from(target.host.to_string()).map_err(|e| tls_error(e.to_string()))?;
        let conn = rustls::ClientConnection::new(self.tls.clone(), name)
            .map_err(|e| tls_error(e.to_string()))?;
        // Boxed: the handshake's state (a whole rustls connection) would otherwise sit inside
        // every request's future, TLS or not.
        let stream = Box::pin(TlsStream::handshake(tcp, conn))
            .await
            .map_err(|e| tls_error(e.to_string()))?;
        Ok(Transport::Tls(Box::new(stream)))
    }

    /// A live idle connection to `key`, if one is pooled; dead ones found on the way are
    /// closed.
    fn take_idle(&self, key: &str) -> Option<Connection> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(key)?;
        while let Some(connection) = list.pop() {
            if connection.transport.is_reusable() {
                return Some(connection);
            } // else: the server closed it while idle; drop it
        }
        None
    }

    /// Passes a finished connection on: to the longest-waiting request for its host if there
    /// is one; else, while requests for other hosts wait for a slot, it closes, freeing its slot
    /// for them; else it is pooled for reuse, unless its host has [`IDLE_PER_HOST`] pooled
    /// already.
    fn put_idle(&self, key: &str, mut connection: Connection) {
        loop {
            let waiter = {
                let mut handoff = self.handoff.borrow_mut();
                let waiter = handoff.get_mut(key).and_then(VecDeque::pop_front);
                if handoff.get(key).is_some_and(VecDeque::is_empty) {
                    handoff.remove(key);
                }
                waiter
            };
            let Some(waiter) = waiter else { break };
            match waiter.send(connection) {
                Ok(()) => return,
                Err(back) => connection = back, // that request stopped waiting
            }
        }
        if self.waiting.get() > 0 {
            return;
        }
        let mut idle = self.idle.borrow_mut();
        // Looked up by `&str` first: the key is allocated only the first time a host pools one.
        match idle.get_mut(key) {
            Some(list) if list.len() < IDLE_PER_HOST => list.push(connection),
            Some(_) => {} // dropped: closes, freeing its slot
            None => {
                idle.insert(key.to_string(), vec![connection]);
            }
        }
    }
}

/// `error` from `TcpStream::connect(addr)` without the `connect to ADDR: ` it starts with, since
/// [`HttpError::Connect`] names the address itself.
fn without_address(error: std::io::Error, addr: std::net::SocketAddr) -> std::io::Error {
    let text = error.to_string();
    match text.strip_prefix(&format!("connect to {addr}: ")) {
        Some(rest) => std::io::Error::new(error.kind(), rest.to_string()),
        None => error,
    }
}
