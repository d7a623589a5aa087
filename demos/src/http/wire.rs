//! HTTP/1.1 on the wire: formatting a request, and reading its response.
//!
//! [`ResponseParser`] is the response side as a sans-I/O state machine: it is fed bytes in
//! whatever pieces they arrive, parses the head with httparse, skips interim `1xx` responses, and
//! frames the body by the rules of RFC 9112 §6.3 and §7 (chunked coding). It never reads a socket
//! itself, so the tests can feed it any split of any bytes. `ResponseReader` drives it over a
//! connection: it reads only when the parser needs more bytes.

use std::io::Write as _;

use super::error::HttpError;
use super::headers::Headers;
use super::transport::Transport;

/// Bytes read from the connection per refill.
const READ_CHUNK: usize = 16 * 1024;
/// Most header lines accepted in a response head.
const MAX_HEADERS: usize = 128;
/// Longest chunk-size or trailer line accepted in a chunked body, without its line ending.
const MAX_CHUNK_LINE: usize = 4096;
/// Most body bytes reserved up front for a `Content-Length` body: a larger body grows as it
/// arrives, so a lying header cannot make the client allocate memory it never fills.
const MAX_RESERVE: usize = 1024 * 1024;

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Header names (lower-cased) and values, in order.
    pub headers: Headers,
}

impl ResponseHead {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Every comma-separated element of every `name` header, trimmed, in order (RFC 9110 §5.3:
    /// repeated list headers are one list).
    fn list(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(n, _)| *n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|element| element.trim_matches([' ', '\t']))
    }

    /// Whether the server lets the connection be reused after this response: `Connection:
    /// close` says no; HTTP/1.0 says no unless `Connection: keep-alive`.
    fn keep_alive(&self) -> bool {
        let mut keep_alive = false;
        for token in self.list("connection") {
            if token.eq_ignore_ascii_case("close") {
                return false;
            }
            keep_alive |= token.eq_ignore_ascii_case("keep-alive");
        }
        self.minor_version != 0 || keep_alive
    }

    /// The `Content-Length`, if any. Repeated headers and lists are accepted when every value is
    /// the same (RFC 9110 §8.6); anything but 1*DIGIT, or values that differ, is an error.
    fn content_length(&self) -> Result<Option<u64>, HttpError> {
        let mut length = None;
        for value in self.list("content-length") {
            let parsed = Some(value)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| HttpError::Malformed(format!("invalid Content-Length {value:?}")))?;
            if length.is_some_and(|first| first != parsed) {
                return Err(HttpError::Malformed(format!(
                    "conflicting Content-Length values {:?}",
                    self.list("content-length").collect::<Vec<_>>().join(", ")
                )));
            }
            length = Some(parsed);
        }
        Ok(length)
    }
}

/// Parses a complete response head at the start of `bytes`: the head and its length, or `None`
/// if more bytes are needed. A plain function, not part of an `async fn`, so that httparse's
/// header array (4 KiB) lives on the stack for the call, not inside every request's future.
fn parse_head(bytes: &[u8]) -> Result<Option<(ResponseHead, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => {
            let head = ResponseHead {
                status: response.code.unwrap_or_default(),
                minor_version: response.version.unwrap_or(1),
                headers: Headers::from_httparse(response.headers),
            };
            Ok(Some((head, length)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(error) => Err(HttpError::Malformed(error.to_string())),
    }
}

/// Methods whose requests carry no `Content-Length` when they have no body (aiohttp's
/// `GET_METHODS`); every other method says `Content-Length: 0`.
fn bodiless_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// Formats a request into `out` (cleared first): the request line, `Host`, `User-Agent`,
/// `Accept`, `Connection`, then `authorization` (a whole header line, CRLF included, or empty), a
/// `Content-Length` when there is a body or the method expects one, and the body. `out` is the
/// connection's own buffer, so a request on a reused connection allocates nothing here.
pub(crate) fn write_request(
    out: &mut Vec<u8>,
    method: &str,
    path: &str,
    host_header: &str,
    user_agent: &str,
    authorization: &str,
    body: &[u8],
) {
    out.clear();
    // Writing to a `Vec` cannot fail.
    let _ = write!(
        out,
        "{method} {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\nConnection: keep-alive\r\n{authorization}"
    );
    if !(body.is_empty() && bodiless_method(method)) {
        let _ = write!(out, "Content-Length: {}\r\n", body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// Where the parser is in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a head (interim `1xx` heads included).
    Head,
    /// Reading a `Content-Length` body: this many bytes to go.
    Length(u64),
    /// Reading a chunk-size line.
    ChunkSize,
    /// Reading chunk data: this many bytes to go.
    ChunkData(u64),
    /// Reading the line ending after chunk data.
    ChunkEnd,
    /// Reading trailer lines, up to the empty line.
    Trailers,
    /// Reading a body that runs until the server closes the connection.
    UntilClose,
    /// The response is complete.
    Done,
}

/// Frames one HTTP/1.x response from bytes fed in any pieces (RFC 9112 §6–7), without I/O.
///
/// Feed it with [`advance`](Self::advance), which consumes as much as it can of what it is given
/// and says how much; give it the unconsumed rest again with more bytes after it. When the
/// connection ends, call [`finish`](Self::finish). The verdict (the response, or the error) does
/// not depend on how the bytes were split.
///
/// ```
/// use cashier_demos::http::ResponseParser;
///
/// let bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
/// let mut parser = ResponseParser::new(false, 64 * 1024, 1024);
/// let used = parser.advance(&bytes[..20]).unwrap(); // the head is not complete yet
/// assert_eq!(used, 0);
/// let used = parser.advance(bytes).unwrap();
/// assert_eq!(used, bytes.len());
/// let (head, body, reusable) = parser.into_response().unwrap();
/// assert_eq!((head.status, &body[..], reusable), (200, &b"hi"[..], true));
/// ```
#[derive(Debug)]
pub struct ResponseParser {
    /// The request was `HEAD`: the response has no body whatever its headers say.
    head_request: bool,
    /// Most bytes of response heads, interim ones included.
    head_limit: usize,
    /// Most body bytes.
    body_limit: usize,
    /// Head bytes consumed so far (interim responses), counted against `head_limit`.
    head_bytes: usize,
    /// Trailer bytes consumed so far, counted against `head_limit`.
    trailer_bytes: usize,
    /// Whether the last `advance` left bytes it could not use yet.
    pending: bool,
    /// Where the parser is.
    state: State,
    /// The final head, once parsed.
    head: Option<ResponseHead>,
    /// The body so far.
    body: Vec<u8>,
    /// Whether the connection can carry another request after this response.
    reusable: bool,
}

impl ResponseParser {
    /// A parser for the response to a request (`head_request`: it was a `HEAD`; never a
    /// `CONNECT`, whose 2xx would be a tunnel, RFC 9112 §6.3 rule 2), accepting heads of at most
    /// `head_limit` bytes in all (interim responses included) and bodies of at most `body_limit`
    /// bytes.
    pub fn new(head_request: bool, head_limit: usize, body_limit: usize) -> ResponseParser {
        ResponseParser {
            head_request,
            head_limit,
            body_limit,
            head_bytes: 0,
            trailer_bytes: 0,
            pending: false,
            state: State::Head,
            head: None,
            body: Vec::new(),
            reusable: false,
        }
    }

    /// Whether the response is complete.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The final head, once it is parsed.
    pub fn head(&self) -> Option<&ResponseHead> {
        self.head.as_ref()
    }

    /// The head, body, and whether the connection may be reused (bytes the server sent after
    /// the response aside: the caller knows of those), once the response is complete.
    pub fn into_response(self) -> Option<(ResponseHead, Vec<u8>, bool)> {
        match (self.state, self.head) {
            (State::Done, Some(head)) => Some((head, self.body, self.reusable)),
            _ => None,
        }
    }

    /// Consumes what it can of `input`, the bytes not consumed yet; returns how many it used.
    /// Stops at the end of the response: bytes after it are not consumed.
    pub fn advance(&mut self, input: &[u8]) -> Result<usize, HttpError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            let step = match self.state {
                State::Done => 0,
                State::Head => self.head_step(rest)?,
                State::Length(left) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    self.body.extend_from_slice(&rest[..take]);
                    let left = left - take as u64;
                    self.state = if left == 0 { State::Done } else { State::Length(left) };
                    take
                }
                State::ChunkSize => self.chunk_size_step(rest)?,
                State::ChunkData(left) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    self.body.extend_from_slice(&rest[..take]);
                    let left = left - take as u64;
                    self.state = if left == 0 { State::ChunkEnd } else { State::ChunkData(left) };
                    take
                }
                State::ChunkEnd => match rest {
                    [b'\n', ..] => {
                        self.state = State::ChunkSize;
                        1
                    }
                    [b'\r', b'\n', ..] => {
                        self.state = State::ChunkSize;
                        2
                    }
                    [] | [b'\r'] => 0,
                    // Not what follows: how much of it has arrived depends on the split.
                    _ => {
                        return Err(HttpError::Malformed(
                            "chunk data longer than its size (no CRLF after it)".into(),
                        ));
                    }
                },
                State::Trailers => self.trailer_step(rest)?,
                State::UntilClose => {
                    self.body.extend_from_slice(rest);
                    if self.body.len() > self.body_limit {
                        return Err(HttpError::BodyTooLarge(self.body_limit));
                    }
                    rest.len()
                }
            };
            used += step;
            // Every state change consumes bytes (a head, a line, body bytes), so a step that
            // consumed none means the parser needs more bytes or is done: each call ends.
            if step == 0 {
                self.pending = used < input.len();
                return Ok(used);
            }
        }
    }

    /// The connection ended (at end-of-file, after `advance` took what it could): completes a
    /// body delimited by the close, or says what was cut short.
    pub fn finish(&mut self) -> Result<(), HttpError> {
        let when = match self.state {
            State::Done => return Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                self.reusable = false;
                return Ok(());
            }
            State::Head if self.pending => "in the middle of the response head",
            State::Head if self.head_bytes > 0 => "after an interim response, before the final one",
            State::Head => "before any response arrived",
            State::Length(_) => "before the body was complete",
            State::ChunkSize | State::ChunkData(_) | State::ChunkEnd | State::Trailers => {
                "in the middle of a chunked body"
            }
        };
        Err(HttpError::ClosedEarly(when))
    }

    /// One head, if `rest` holds a complete one. Only the bytes the head limit still allows are
    /// shown to httparse, so whether a long head is too large or malformed does not depend on
    /// how much of it has arrived.
    fn head_step(&mut self, rest: &[u8]) -> Result<usize, HttpError> {
        let room = self.head_limit.saturating_sub(self.head_bytes);
        let Some((head, length)) = parse_head(&rest[..rest.len().min(room)])? else {
            if rest.len() > room {
                return Err(HttpError::HeadTooLarge(self.head_limit));
            }
            return Ok(0);
        };
        self.head_bytes += length;
        self.start_body(head)?;
        Ok(length)
    }

    /// Decides how the body after `head` is framed (RFC 9112 §6.3, rule by rule).
    fn start_body(&mut self, head: ResponseHead) -> Result<(), HttpError> {
        let status = head.status;
        // The framing headers are checked whatever the status, as aiohttp does.
        let length = head.content_length()?;
        // `None` without Transfer-Encoding; else whether chunked is its final coding.
        let coding = head.list("transfer-encoding").last();
        let chunked = coding.map(|last| last.eq_ignore_ascii_case("chunked"));
        if chunked.is_some() && length.is_some() {
            // Rule 3: Transfer-Encoding overrides Content-Length, but such a response "ought to
            // be handled as an error" (a sign of response splitting); aiohttp rejects it too.
            return Err(HttpError::Malformed(
                "both Transfer-Encoding and Content-Length in one response".into(),
            ));
        }
        if (100..200).contains(&status) && status != 101 {
            // An interim response: no body (rule 1); the final response follows.
            return Ok(());
        }
        // §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing: the connection
        // is closed after it. A 101 switches protocols: the connection is no longer HTTP.
        self.reusable =
            head.keep_alive() && status != 101 && !(head.minor_version == 0 && chunked.is_some());
        self.state = if self.head_request
            || (100..200).contains(&status)
            || status == 204
            || status == 304
        {
            State::Done // rule 1: no body whatever the headers say
        } else if let Some(chunked) = chunked {
            if chunked {
                State::ChunkSize // rule 4: chunked is the final coding
            } else {
                self.reusable = false;
                State::UntilClose // rule 4: a response whose final coding is not chunked
            }
        } else if let Some(length) = length {
            if length > self.body_limit as u64 {
                return Err(HttpError::BodyTooLarge(self.body_limit));
            }
            // Rule 5 (rule 6 is about requests).
            self.body.reserve((length as usize).min(MAX_RESERVE));
            if length == 0 { State::Done } else { State::Length(length) }
        } else {
            self.reusable = false;
            State::UntilClose // rule 7
        };
        self.head = Some(head);
        Ok(())
    }

    /// One chunk-size line, if `rest` holds a complete one: `1*HEXDIG`, then optional spaces
    /// or tabs (llhttp's leniency, which aiohttp enables), then optional extensions after `;`,
    /// which are ignored.
    fn chunk_size_step(&mut self, rest: &[u8]) -> Result<usize, HttpError> {
        let Some((line, length)) = line(rest, MAX_CHUNK_LINE, "chunk-size")? else {
            return Ok(0);
        };
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let after = line[digits..].iter().skip_while(|&&b| b == b' ' || b == b'\t');
        if digits == 0 || after.clone().next().is_some_and(|&b| b != b';') {
            return Err(HttpError::Malformed(format!("invalid chunk size line {}", quote(line))));
        }
        let size = line[..digits].iter().try_fold(0u64, |size, &digit| {
            let value = (digit as char).to_digit(16).unwrap_or_default();
            size.checked_mul(16)?.checked_add(u64::from(value))
        });
        let size = size.ok_or_else(|| {
            HttpError::Malformed(format!("chunk size {} overflows 64 bits", quote(&line[..digits])))
        })?;
        if size == 0 {
            self.state = State::Trailers;
        } else if size > self.body_limit.saturating_sub(self.body.len()) as u64 {
            return Err(HttpError::BodyTooLarge(self.body_limit));
        } else {
            self.state = State::ChunkData(size);
        }
        Ok(length)
    }

    /// One trailer line, if `rest` holds a complete one. Trailers are read and discarded; the
    /// empty line after them ends the response.
    fn trailer_step(&mut self, rest: &[u8]) -> Result<usize, HttpError> {
        let Some((line, length)) = line(rest, MAX_CHUNK_LINE, "trailer")? else {
            return Ok(0);
        };
        self.trailer_bytes += length;
        if self.trailer_bytes > self.head_limit {
            let limit = super::error::size(self.head_limit);
            return Err(HttpError::Malformed(format!("trailers longer than {limit}")));
        }
        if line.is_empty() {
            self.state = State::Done;
        }
        Ok(length)
    }
}

/// The line at the start of `rest` (without its LF or CRLF ending; a bare LF ends a line too, as
/// in aiohttp's lenient response parsing) and its length with the ending, if the ending has
/// arrived. A line longer than `max` is an error however much of it has arrived.
fn line<'b>(
    rest: &'b [u8],
    max: usize,
    what: &str,
) -> Result<Option<(&'b [u8], usize)>, HttpError> {
    let window = &rest[..rest.len().min(max + 2)];
    let too_long = || HttpError::Malformed(format!("{what} line longer than {max} bytes"));
    match window.iter().position(|&b| b == b'\n') {
        Some(end) => {
            let line = &rest[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > max {
                return Err(too_long());
            }
            Ok(Some((line, end + 1)))
        }
        None if window.len() == max + 2 => Err(too_long()),
        None => Ok(None),
    }
}

/// At most 40 bytes of `bytes`, quoted, for an error message.
fn quote(bytes: &[u8]) -> String {
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
    if bytes.len() > 40 { format!("{shown:?}...") } else { format!("{shown:?}") }
}

/// A connection's read buffers, kept with it in the pool, so that reading a response on a reused
/// connection allocates nothing for them: the bytes received and not yet parsed, and the area
/// each read lands in (zeroed once, when the connection's first read needs it).
#[derive(Default)]
pub(crate) struct ReadBuffers {
    /// Received bytes, consumed from the front by the parser.
    received: Vec<u8>,
    /// Where each read lands before it is appended to `received`.
    scratch: Vec<u8>,
}

/// Reads a response from a connection with a [`ResponseParser`], keeping bytes that arrive
/// ahead of what is parsed.
pub(crate) struct ResponseReader<'a> {
    /// The connection.
    transport: &'a mut Transport,
    /// Received bytes; `buf[pos..]` is not consumed yet.
    buf: &'a mut Vec<u8>,
    /// Start of the unconsumed bytes.
    pos: usize,
    /// Where each read lands before it is appended to `buf`.
    scratch: &'a mut Vec<u8>,
    /// Whether any byte of the response has arrived (a reused connection that fails before that
    /// was simply stale, and the request can be retried).
    pub(crate) received_any: bool,
}

impl<'a> ResponseReader<'a> {
    /// A reader of the next response on `transport`. A connection is only reused when nothing
    /// was left over from its last response, so whatever `buffers` still hold is stale.
    pub(crate) fn new(
        transport: &'a mut Transport,
        buffers: &'a mut ReadBuffers,
    ) -> ResponseReader<'a> {
        buffers.received.clear();
        ResponseReader {
            transport,
            buf: &mut buffers.received,
            pos: 0,
            scratch: &mut buffers.scratch,
            received_any: false,
        }
    }

    /// Reads more bytes; returns how many (0 at end-of-file). Consumed bytes are dropped first,
    /// so the buffer holds at most one unparsed line or head plus one read.
    async fn fill(&mut self) -> Result<usize, HttpError> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if self.scratch.is_empty() {
            self.scratch.resize(READ_CHUNK, 0); // zeroed once per connection, not once per read
        }
        let n = self.transport.read(self.scratch).await?;
        self.buf.extend_from_slice(&self.scratch[..n]);
        self.received_any |= n > 0;
        Ok(n)
    }

    /// Feeds `parser` until the response is complete, reading only when it needs more bytes.
    pub(crate) async fn read(&mut self, parser: &mut ResponseParser) -> Result<(), HttpError> {
        loop {
            self.pos += parser.advance(&self.buf[self.pos..])?;
            if parser.is_done() {
                return Ok(());
            }
            if self.fill().await? == 0 {
                return parser.finish();
            }
        }
    }

    /// Whether bytes beyond the response arrived (a server that sends more than it announced:
    /// the connection cannot be reused safely).
    pub(crate) fn has_leftover(&self) -> bool {
        self.pos < self.buf.len()
    }
}
