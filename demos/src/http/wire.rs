//! HTTP/1.1 on the wire: writing a GET, reading the response head incrementally with httparse,
//! and reading the body by `Content-Length`, chunked encoding, or until the connection closes.

use super::error::HttpError;
use super::transport::Transport;

/// Bytes read from the connection per refill.
const READ_CHUNK: usize = 16 * 1024;
/// Most header lines accepted in a response head.
const MAX_HEADERS: usize = 128;
/// Longest chunk-size or trailer line accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 4096;

/// A parsed response head.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// The status code.
    pub(crate) status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) minor_version: u8,
    /// Header names (lower-cased) and values, in order.
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether the server lets the connection be reused after this response.
    fn keep_alive(&self) -> bool {
        let connection = self.header("connection").map(str::to_ascii_lowercase).unwrap_or_default();
        if self.minor_version == 0 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        }
    }
}

/// Parses a complete response head at the start of `bytes`: the head and its length, or `None`
/// if more bytes are needed. A plain function, not part of an `async fn`, so that httparse's
/// header array (4 KiB) lives on the stack for the call, not inside every request's future.
fn parse_head(bytes: &[u8]) -> Result<Option<(Head, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => {
            let head = Head {
                status: response.code.unwrap_or_default(),
                minor_version: response.version.unwrap_or(1),
                headers: response
                    .headers
                    .iter()
                    .map(|h| {
                        (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned())
                    })
                    .collect(),
            };
            Ok(Some((head, length)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(error) => Err(HttpError::Malformed(error.to_string())),
    }
}

/// Formats a GET request.
pub(crate) fn get_request(path: &str, host_header: &str, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"
    )
    .into_bytes()
}

/// Reads a response from a connection, keeping bytes that arrive ahead of what is parsed.
pub(crate) struct ResponseReader<'a> {
    /// The connection.
    transport: &'a mut Transport,
    /// Received bytes; `buf[pos..]` is not consumed yet.
    buf: Vec<u8>,
    /// Start of the unconsumed bytes.
    pos: usize,
    /// Where each read lands before it is appended to `buf`.
    scratch: Vec<u8>,
    /// Whether any byte of the response has arrived (a reused connection that fails before that
    /// was simply stale, and the request can be retried).
    pub(crate) received_any: bool,
}

impl<'a> ResponseReader<'a> {
    pub(crate) fn new(transport: &'a mut Transport) -> ResponseReader<'a> {
        ResponseReader {
            transport,
            buf: Vec::new(),
            pos: 0,
            scratch: Vec::new(),
            received_any: false,
        }
    }

    /// Reads more bytes; returns how many (0 at end-of-file).
    async fn fill(&mut self) -> Result<usize, HttpError> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        if self.scratch.is_empty() {
            self.scratch = vec![0; READ_CHUNK]; // zeroed once per response, not once per read
        }
        let n = self.transport.read(&mut self.scratch).await?;
        self.buf.extend_from_slice(&self.scratch[..n]);
        self.received_any |= n > 0;
        Ok(n)
    }

    /// Reads the response head (skipping `100 Continue`-style interim responses), at most `limit`
    /// bytes.
    pub(crate) async fn read_head(&mut self, limit: usize) -> Result<Head, HttpError> {
        loop {
            let head = self.read_one_head(limit).await?;
            if !(100..200).contains(&head.status) || head.status == 101 {
                return Ok(head);
            }
        }
    }

    async fn read_one_head(&mut self, limit: usize) -> Result<Head, HttpError> {
        loop {
            if let Some((head, length)) = parse_head(&self.buf[self.pos..])? {
                self.pos += length;
                return Ok(head);
            }
            if self.buf.len() - self.pos > limit {
                return Err(HttpError::HeadTooLarge(limit));
            }
            if self.fill().await? == 0 {
                let when = if self.buf.len() == self.pos {
                    "before any response arrived"
                } else {
                    "in the middle of the response head"
                };
                return Err(HttpError::ClosedEarly(when));
            }
        }
    }

    /// Reads the body the head announces, at most `limit` bytes. Returns the body and whether the
    /// connection may be reused afterwards.
    pub(crate) async fn read_body(
        &mut self,
        head: &Head,
        limit: usize,
    ) -> Result<(Vec<u8>, bool), HttpError> {
        if head.status == 204 || head.status == 304 {
            return Ok((Vec::new(), head.keep_alive()));
        }
        let chunked = head
            .header("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        if chunked {
            let body = self.read_chunked(limit).await?;
            return Ok((body, head.keep_alive()));
        }
        if let Some(length) = head.header("content-length") {
            let length: usize = length
                .trim()
                .parse()
                .map_err(|_| HttpError::Malformed(format!("invalid Content-Length {length:?}")))?;
            if length > limit {
                return Err(HttpError::BodyTooLarge(limit));
            }
            let body = self.read_exact(length, "before the body was complete").await?;
            return Ok((body, head.keep_alive()));
        }
        // Neither: the body runs until the server closes the connection.
        let mut body = Vec::new();
        loop {
            body.extend_from_slice(&self.buf[self.pos..]);
            self.pos = self.buf.len();
            if body.len() > limit {
                return Err(HttpError::BodyTooLarge(limit));
            }
            if self.fill().await? == 0 {
                return Ok((body, false));
            }
        }
    }

    /// Whether bytes beyond the response arrived (a server that sends more than it announced:
    /// the connection cannot be reused safely).
    pub(crate) fn has_leftover(&self) -> bool {
        self.pos < self.buf.len()
    }

    async fn read_exact(
        &mut self,
        length: usize,
        when: &'static str,
    ) -> Result<Vec<u8>, HttpError> {
        while self.buf.len() - self.pos < length {
            if self.fill().await? == 0 {
                return Err(HttpError::ClosedEarly(when));
            }
        }
        let bytes = self.buf[self.pos..self.pos + length].to_vec();
        self.pos += length;
        Ok(bytes)
    }

    /// One line of a chunked body, without its CRLF.
    async fn read_line(&mut self) -> Result<String, HttpError> {
        loop {
            if let Some(end) = self.buf[self.pos..].windows(2).position(|w| w == b"\r\n") {
                let line =
                    String::from_utf8_lossy(&self.buf[self.pos..self.pos + end]).into_owned();
                self.pos += end + 2;
                return Ok(line);
            }
            if self.buf.len() - self.pos > MAX_CHUNK_LINE {
                return Err(HttpError::Malformed("chunk header line too long".into()));
            }
            if self.fill().await? == 0 {
                return Err(HttpError::ClosedEarly("in the middle of a chunked body"));
            }
        }
    }

    async fn read_chunked(&mut self, limit: usize) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line().await?;
            let size_text = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| HttpError::Malformed(format!("invalid chunk size {size_text:?}")))?;
            if size == 0 {
                while !self.read_line().await?.is_empty() {} // trailers, then the blank line
                return Ok(body);
            }
            if body.len().saturating_add(size) > limit {
                return Err(HttpError::BodyTooLarge(limit));
            }
            body.extend(self.read_exact(size, "in the middle of a chunked body").await?);
            if !self.read_line().await?.is_empty() {
                return Err(HttpError::Malformed("chunk data longer than its size".into()));
            }
        }
    }
}
