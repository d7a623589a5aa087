//! `HttpError`: every way a GET can fail, each with a message that says what failed and on what.

use std::fmt;
use std::io;

/// Why a request produced no response.
#[derive(Debug)]
pub enum HttpError {
    /// The URL could not be parsed, or has no host.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Only `http` and `https` are spoken.
    UnsupportedScheme(String),
    /// The host name did not resolve.
    Resolve {
        /// The host.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// No connection could be made (refused, unreachable).
    Connect {
        /// `host:port`, as the URL names it.
        target: String,
        /// The address whose connect failed last (`None` when the host resolved to none).
        addr: Option<std::net::SocketAddr>,
        /// The socket error, without the address (the message names it once).
        source: io::Error,
    },
    /// The connect (and for https the TLS handshake) was still under way when the client's
    /// timeout ran out.
    ConnectTimeout {
        /// `host:port`, as the URL names it.
        target: String,
        /// How long the connect had been under way.
        connecting: std::time::Duration,
        /// How long the request had waited for a connection slot before it (the rest of the
        /// timeout went to resolving the host, and to earlier redirects).
        waited: std::time::Duration,
    },
    /// The request was still waiting for one of the client's connection slots when its timeout
    /// ran out ([`ClientBuilder::connections`](super::ClientBuilder::connections)).
    NoFreeConnection {
        /// The client's cap on open connections.
        cap: usize,
        /// The client's timeout.
        limit: std::time::Duration,
    },
    /// The TLS handshake failed (bad certificate, protocol error).
    Tls {
        /// The host.
        host: String,
        /// What rustls reported.
        reason: String,
    },
    /// The whole request, redirects included, took longer than the client's timeout.
    Timeout(std::time::Duration),
    /// The response head exceeded the limit.
    HeadTooLarge(usize),
    /// The response body exceeded the client's limit.
    BodyTooLarge(usize),
    /// The peer sent something that is not HTTP/1.x, or framing that is invalid (a bad
    /// `Content-Length` or chunk size) or contradicts itself.
    Malformed(String),
    /// The connection ended before the response was complete.
    ClosedEarly(&'static str),
    /// The method cannot be sent: not an HTTP token, or `CONNECT` (no tunnels here).
    InvalidMethod {
        /// The method as given.
        method: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The redirect limit was reached (a loop, most likely): as in aiohttp, the response that
    /// asks for redirect number `limit` is the error.
    TooManyRedirects(usize),
    /// A redirect whose `Location` cannot be made into a URL with a host (aiohttp's
    /// `InvalidUrlRedirectClientError`).
    InvalidRedirect {
        /// The `Location` as sent.
        location: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A redirect to a scheme other than http and https (aiohttp's
    /// `NonHttpUrlRedirectClientError`).
    NonHttpRedirect(String),
    /// Reading or writing the connection failed (reset, broken pipe).
    Io(io::Error),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            HttpError::UnsupportedScheme(scheme) => {
                write!(f, "unsupported scheme {scheme:?}: only http and https are supported")
            }
            HttpError::Resolve { host, source } => write!(f, "could not resolve {host}: {source}"),
            HttpError::Connect { target, addr, source } => {
                write!(f, "could not connect to {target}")?;
                match addr {
                    Some(addr) if addr.to_string() != *target => write!(f, " ({addr})")?,
                    _ => {}
                }
                write!(f, ": {source}")
            }
            HttpError::ConnectTimeout { target, connecting, waited } => {
                write!(
                    f,
                    "could not connect to {target}: connect timed out after {:.1} s",
                    connecting.as_secs_f64()
                )?;
                if *waited >= std::time::Duration::from_millis(50) {
                    write!(
                        f,
                        ", after {:.1} s waiting for a connection slot",
                        waited.as_secs_f64()
                    )?;
                }
                Ok(())
            }
            HttpError::NoFreeConnection { cap, limit } => {
                write!(f, "no connection slot free within {:.1} s: ", limit.as_secs_f64())?;
                match cap {
                    1 => write!(f, "the client's only connection stayed in use"),
                    cap => write!(f, "all {cap} of the client's connections stayed in use"),
                }
            }
            HttpError::Tls { host, reason } => write!(f, "TLS with {host} failed: {reason}"),
            HttpError::Timeout(limit) => {
                write!(f, "no complete response within {:.1} s", limit.as_secs_f64())
            }
            HttpError::HeadTooLarge(limit) => {
                write!(f, "response head larger than {}", size(*limit))
            }
            HttpError::BodyTooLarge(limit) => write!(f, "response body larger than {limit} bytes"),
            HttpError::Malformed(reason) => write!(f, "not an HTTP response: {reason}"),
            HttpError::ClosedEarly(when) => write!(f, "connection closed {when}"),
            HttpError::InvalidMethod { method, reason } => {
                write!(f, "cannot send method {method:?}: {reason}")
            }
            HttpError::TooManyRedirects(limit) => {
                write!(f, "too many redirects: reached the limit of {limit}")
            }
            HttpError::InvalidRedirect { location, reason } => {
                write!(f, "cannot follow the redirect to {location:?}: {reason}")
            }
            HttpError::NonHttpRedirect(location) => {
                write!(f, "cannot follow the redirect to {location:?}: not an http or https URL")
            }
            HttpError::Io(source) => write!(f, "connection error: {source}"),
        }
    }
}

/// `limit` in KiB when it is a whole number of them, else in bytes.
pub(crate) fn size(limit: usize) -> String {
    if limit.is_multiple_of(1024) {
        format!("{} KiB", limit / 1024)
    } else {
        format!("{limit} bytes")
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HttpError::Resolve { source, .. }
            | HttpError::Connect { source, .. }
            | HttpError::Io(source) => Some(source),
            _ => None,
        }
    }
}

impl From<io::Error> for HttpError {
    fn from(error: io::Error) -> HttpError {
        HttpError::Io(error)
    }
}
