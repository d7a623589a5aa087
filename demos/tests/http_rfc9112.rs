//! How the client frames responses, rule by rule, each against its own local server response
//! (raw bytes from a 127.0.0.1 server, on the paused clock).
//!
//! RFC 9112 §6.3, message body length, the seven rules in order:
//!
//! 1. HEAD responses, 1xx, 204 and 304 have no body whatever their headers say:
//!    [`rule_1_head_responses_have_no_body_whatever_the_headers`],
//!    [`rule_1_204_and_304_have_no_body_whatever_the_headers`],
//!    [`rule_1_interim_1xx_responses_have_no_body_and_are_skipped`],
//!    [`rule_1_a_101_ends_the_exchange_and_the_connection`].
//! 2. A 2xx to CONNECT is a tunnel: the client never sends CONNECT,
//!    [`rule_2_connect_is_refused_so_no_response_is_a_tunnel`].
//! 3. Transfer-Encoding with Content-Length: an error, as aiohttp makes it,
//!    [`rule_3_transfer_encoding_with_content_length_is_an_error`].
//! 4. Transfer-Encoding: chunked when it is the final coding, else read until close:
//!    [`rule_4_chunked_as_the_final_coding_frames_the_body`],
//!    [`rule_4_a_final_coding_other_than_chunked_is_read_until_close`].
//! 5. Content-Length: [`rule_5_content_length_frames_the_body`],
//!    [`rule_5_identical_content_lengths_are_one_length`],
//!    [`rule_5_invalid_or_conflicting_content_length_is_an_error`],
//!    [`rule_5_a_body_shorter_or_longer_than_its_content_length`].
//! 6. A request without either has no body: a rule for servers, met by what the client sends,
//!    [`rule_6_requests_say_their_length`].
//! 7. Otherwise the response runs until the server closes:
//!    [`rule_7_no_length_reads_until_close_and_ends_the_connection`].
//!
//! RFC 9112 §7.1, chunked coding: [`chunked_sizes_are_hex_and_bounded`],
//! [`chunked_extensions_are_ignored`], [`chunked_trailers_are_read_and_discarded`],
//! [`chunked_data_must_end_where_its_size_says`].
//!
//! RFC 9112 §9.3 and §6.1, persistence and HTTP/1.0: [`http_1_0_responses`],
//! [`connection_close_is_honoured`].
//!
//! The same rules on bytes without sockets, under arbitrary splits: `http_parser_props.rs`.

mod common;

use cashier_demos::http::{Client, HttpError};
use common::{canned, client, get_canned, paused, recording_server, sequence};

/// A second response, to see whether the connection of the first is reused.
const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// Sends `method` twice to a server that answers `first` then [`OK`]: the first response, and
/// whether the second request went over the same connection.
async fn first_then_reuse(
    method: &str,
    first: &'static [u8],
    close: bool,
) -> (cashier_demos::http::Response, bool) {
    let (addr, accepted) = sequence(vec![(first, close), (OK, false)]);
    let client = client();
    let url = format!("http://{addr}/");
    let response = client.request(method, &url, "").await.unwrap();
    let second = client.get(&url).await.unwrap();
    assert_eq!((second.status, &second.body[..]), (200, &b"ok"[..]));
    (response, accepted.get() == 1)
}

/// The message of the error a GET of `response` ends in.
async fn error_of(response: &[u8]) -> String {
    get_canned(response, true).await.unwrap_err().to_string()
}

#[test]
fn rule_1_head_responses_have_no_body_whatever_the_headers() {
    paused().block_on(async {
        for head in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n", // no length at all: still no body, and not until close
        ] {
            let head: &'static [u8] = head;
            let (response, reused) = first_then_reuse("HEAD", head, false).await;
            assert_eq!((response.status, response.body.len()), (200, 0));
            assert!(reused, "{:?}", String::from_utf8_lossy(head));
        }
        // Client::head is the same request.
        let addr = canned(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false);
        let response = client().head(&format!("http://{addr}/")).await.unwrap();
        assert_eq!(response.header("content-length"), Some("5"));
        assert!(response.body.is_empty());
    });
}

#[test]
fn rule_1_204_and_304_have_no_body_whatever_the_headers() {
    paused().block_on(async {
        for first in [
            &b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"[..],
            b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\n\r\n",
        ] {
            let first: &'static [u8] = first;
            let (response, reused) = first_then_reuse("GET", first, false).await;
            assert!(response.body.is_empty());
            assert!(reused, "{:?}", String::from_utf8_lossy(first));
        }
        // A server that sends a body anyway: the bytes are not taken for the next response.
        let (response, reused) =
            first_then_reuse("GET", b"HTTP/1.1 204 No Content\r\n\r\nstray", false).await;
        assert_eq!((response.status, response.body.len(), reused), (204, 0, false));
    });
}

#[test]
fn rule_1_interim_1xx_responses_have_no_body_and_are_skipped() {
    paused().block_on(async {
        let (response, reused) = first_then_reuse(
            "GET",
            b"HTTP/1.1 100 Continue\r\n\r\n\
              HTTP/1.1 102 Processing\r\nContent-Length: 5\r\n\r\n\
              HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n\
              HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
            false,
        )
        .await;
        assert_eq!((response.status, &response.body[..]), (200, &b"final"[..]));
        assert_eq!(response.header("link"), None, "the final head only");
        assert!(reused);
        assert_eq!(
            error_of(b"HTTP/1.1 100 Continue\r\n\r\n").await,
            "connection closed after an interim response, before the final one"
        );
    });
}

#[test]
fn rule_1_a_101_ends_the_exchange_and_the_connection() {
    paused().block_on(async {
        // Never asked for (no request says Upgrade): returned as the response, with no body,
        // and the connection, no longer HTTP, is not reused.
        let (response, reused) = first_then_reuse(
            "GET",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x05hello",
            false,
        )
        .await;
        assert_eq!((response.status, response.body.len(), reused), (101, 0, false));
    });
}

#[test]
fn rule_2_connect_is_refused_so_no_response_is_a_tunnel() {
    paused().block_on(async {
        let (addr, log) = recording_server(|_| OK.to_vec());
        let client = client();
        for method in ["CONNECT", "connect"] {
            let error = client.request(method, &format!("http://{addr}/"), "").await.unwrap_err();
            assert!(matches!(error, HttpError::InvalidMethod { .. }), "{error:?}");
            assert_eq!(
                error.to_string(),
                format!(
                    "cannot send method {method:?}: CONNECT opens a tunnel, which this client does not support"
                )
            );
        }
        for method in ["", "GET /", "G\r\nET"] {
            let error = client.request(method, &format!("http://{addr}/"), "").await.unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("cannot send method {method:?}: not an HTTP method token")
            );
        }
        assert!(log.borrow().is_empty(), "nothing was sent");
        // Any other token is sent as given (aiohttp does not upper-case it either).
        let response = client.request("PROPFIND", &format!("http://{addr}/"), "").await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(log.borrow()[0].method, "PROPFIND");
    });
}

#[test]
fn rule_3_transfer_encoding_with_content_length_is_an_error() {
    paused().block_on(async {
        for response in [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: gzip\r\n\r\nok",
            // Rule 1 does not make it valid: the framing headers contradict each other.
            b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            let response: &'static [u8] = response;
            assert_eq!(
                error_of(response).await,
                "not an HTTP response: both Transfer-Encoding and Content-Length in one response"
            );
        }
    });
}

#[test]
fn rule_4_chunked_as_the_final_coding_frames_the_body() {
    paused().block_on(async {
        for first in [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity , chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            // Two headers are one list: chunked is final.
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        ] {
            let first: &'static [u8] = first;
            let (response, reused) = first_then_reuse("GET", first, false).await;
            assert_eq!(&response.body[..], b"ok");
            assert!(reused, "{:?}", String::from_utf8_lossy(first));
        }
    });
}

#[test]
fn rule_4_a_final_coding_other_than_chunked_is_read_until_close() {
    paused().block_on(async {
        for (first, body) in [
            (&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n"[..], &b"2\r\nok\r\n0\r\n\r\n"[..]),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\nraw", b"raw"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\nraw", b"raw"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\nraw", b"raw"),
        ] {
            let first: &'static [u8] = first;
            let (response, reused) = first_then_reuse("GET", first, true).await;
            assert_eq!(response.body, body, "{:?}", String::from_utf8_lossy(first));
            assert!(!reused);
        }
    });
}

#[test]
fn rule_5_content_length_frames_the_body() {
    paused().block_on(async {
        let (response, reused) =
            first_then_reuse("GET", b"HTTP/1.1 200 OK\r\nContent-Length:  5 \r\n\r\nhello", false)
                .await;
        assert_eq!((&response.body[..], reused), (&b"hello"[..], true));
        let (response, reused) =
            first_then_reuse("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false).await;
        assert_eq!((response.body.len(), reused), (0, true));
        let small = Client::builder().body_limit(10).build().unwrap();
        let big = canned(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false);
        assert_eq!(
            small.get(&format!("http://{big}/")).await.unwrap_err().to_string(),
            "response body larger than 10 bytes"
        );
    });
}

#[test]
fn rule_5_identical_content_lengths_are_one_length() {
    paused().block_on(async {
        // RFC 9110 §8.6 lets a recipient take a list of one repeated value as that value
        // (aiohttp rejects the list: a deliberate difference).
        for first in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        ] {
            let first: &'static [u8] = first;
            let (response, reused) = first_then_reuse("GET", first, false).await;
            assert_eq!((&response.body[..], reused), (&b"hello"[..], true));
        }
    });
}

#[test]
fn rule_5_invalid_or_conflicting_content_length_is_an_error() {
    paused().block_on(async {
        for (response, message) in [
            (
                &b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello"[..],
                "conflicting Content-Length values \"5, 6\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
                "conflicting Content-Length values \"5, 6\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
                "invalid Content-Length \"+5\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello",
                "invalid Content-Length \"-1\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
                "invalid Content-Length \"0x5\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\nhello",
                "invalid Content-Length \"5 5\"",
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\nhello", "invalid Content-Length \"\""),
            (b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nhello", "invalid Content-Length \"\""),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                "invalid Content-Length \"99999999999999999999999\"",
            ),
            // Invalid framing is an error whatever the status (as in aiohttp).
            (
                b"HTTP/1.1 304 Not Modified\r\nContent-Length: five\r\n\r\n",
                "invalid Content-Length \"five\"",
            ),
        ] {
            let response: &'static [u8] = response;
            assert_eq!(error_of(response).await, format!("not an HTTP response: {message}"));
        }
    });
}

#[test]
fn rule_5_a_body_shorter_or_longer_than_its_content_length() {
    paused().block_on(async {
        assert_eq!(
            error_of(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this").await,
            "connection closed before the body was complete"
        );
        // Bytes past the length are not the next response: the connection is not reused.
        let (response, reused) =
            first_then_reuse("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false)
                .await;
        assert_eq!((&response.body[..], reused), (&b"ok"[..], false));
    });
}

#[test]
fn rule_6_requests_say_their_length() {
    paused().block_on(async {
        let (addr, log) = recording_server(|_| OK.to_vec());
        let client = client();
        let url = format!("http://{addr}/");
        client.get(&url).await.unwrap();
        client.head(&url).await.unwrap();
        client.request("OPTIONS", &url, "").await.unwrap();
        client.post(&url, "").await.unwrap();
        client.post(&url, "form=1").await.unwrap();
        client.request("PUT", &url, "x").await.unwrap();
        client.request("DELETE", &url, "").await.unwrap();
        let seen: Vec<_> = log
            .borrow()
            .iter()
            .map(|s| {
                (s.method.clone(), s.header("content-length").map(str::to_string), s.body.clone())
            })
            .collect();
        let some = |n: &str| Some(n.to_string());
        assert_eq!(
            seen,
            [
                ("GET".into(), None, b"".to_vec()),
                ("HEAD".into(), None, b"".to_vec()),
                ("OPTIONS".into(), None, b"".to_vec()),
                ("POST".into(), some("0"), b"".to_vec()),
                ("POST".into(), some("6"), b"form=1".to_vec()),
                ("PUT".into(), some("1"), b"x".to_vec()),
                ("DELETE".into(), some("0"), b"".to_vec()),
            ]
        );
        assert!(log.borrow().iter().all(|s| s.header("transfer-encoding").is_none()));
    });
}

#[test]
fn rule_7_no_length_reads_until_close_and_ends_the_connection() {
    paused().block_on(async {
        let (response, reused) =
            first_then_reuse("GET", b"HTTP/1.1 200 OK\r\n\r\nall of this until the end", true)
                .await;
        assert_eq!((&response.body[..], reused), (&b"all of this until the end"[..], false));
        let small = Client::builder().body_limit(10).build().unwrap();
        let long = canned(b"HTTP/1.1 200 OK\r\n\r\n0123456789A", true);
        assert_eq!(
            small.get(&format!("http://{long}/")).await.unwrap_err().to_string(),
            "response body larger than 10 bytes"
        );
    });
}

#[test]
fn chunked_sizes_are_hex_and_bounded() {
    paused().block_on(async {
        let response = get_canned(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\nA\r\n0123456789\r\n000\r\n\r\n",
            false,
        )
        .await
        .unwrap();
        assert_eq!(response.body.len(), 20, "lower- and upper-case hex, leading zeros");
        // Spaces after the size, and bare LF line endings: aiohttp's lenient response parsing.
        let response = get_canned(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 \t\r\nok\r\n2\nok\n0\n\n",
            false,
        )
        .await
        .unwrap();
        assert_eq!(response.body, b"okok");
        for (size, message) in [
            ("zz", "invalid chunk size line \"zz\""),
            ("+5", "invalid chunk size line \"+5\""),
            ("-1", "invalid chunk size line \"-1\""),
            (" 5", "invalid chunk size line \" 5\""),
            ("0x5", "invalid chunk size line \"0x5\""),
            ("5 5", "invalid chunk size line \"5 5\""),
            ("", "invalid chunk size line \"\""),
            ("10000000000000000", "chunk size \"10000000000000000\" overflows 64 bits"),
            ("fffffffffffffffff", "chunk size \"fffffffffffffffff\" overflows 64 bits"),
        ] {
            let response = format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nhello\r\n0\r\n\r\n"
            );
            assert_eq!(error_of(response.as_bytes()).await, format!("not an HTTP response: {message}"));
        }
        // A size within 64 bits but over the body limit is the body limit's error.
        assert_eq!(
            error_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n")
                .await,
            "response body larger than 16777216 bytes"
        );
        let long_line = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;{}\r\n",
            "x".repeat(5000)
        )
        .into_bytes();
        assert_eq!(
            error_of(&long_line).await,
            "not an HTTP response: chunk-size line longer than 4096 bytes"
        );
    });
}

#[test]
fn chunked_extensions_are_ignored() {
    paused().block_on(async {
        let (response, reused) = first_then_reuse(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n6 ; a=\"q;uoted\" ;b\r\npedia \r\nE;\r\nin \r\n\r\nchunks.\r\n0;last\r\n\r\n",
            false,
        )
        .await;
        assert_eq!(response.body, b"Wikipedia in \r\n\r\nchunks.");
        assert!(reused);
    });
}

#[test]
fn chunked_trailers_are_read_and_discarded() {
    paused().block_on(async {
        let (response, reused) = first_then_reuse(
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
            false,
        )
        .await;
        assert_eq!(&response.body[..], b"ok");
        assert_eq!(response.header("x-checksum"), None, "trailers are not headers");
        assert!(reused, "the blank line after the trailers ends the response");
        assert_eq!(
            error_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Checksum: abc\r\n")
                .await,
            "connection closed in the middle of a chunked body"
        );
        // Endless trailers end at the head limit (64 KiB), not at the timeout.
        let endless = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n{}",
            "X-Filler: 0123456789abcdef\r\n".repeat(3000)
        )
        .into_bytes();
        assert_eq!(error_of(&endless).await, "not an HTTP response: trailers longer than 64 KiB");
    });
}

#[test]
fn chunked_data_must_end_where_its_size_says() {
    paused().block_on(async {
        assert_eq!(
            error_of(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n0\r\n\r\n"
            )
            .await,
            "not an HTTP response: chunk data longer than its size (no CRLF after it)"
        );
        assert_eq!(
            error_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nok").await,
            "connection closed in the middle of a chunked body"
        );
        assert_eq!(
            error_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n").await,
            "connection closed in the middle of a chunked body"
        );
    });
}

#[test]
fn http_1_0_responses() {
    paused().block_on(async {
        // No length: until close, and the connection ends with it.
        let (response, reused) =
            first_then_reuse("GET", b"HTTP/1.0 200 OK\r\n\r\nold school", true).await;
        assert_eq!((&response.body[..], reused), (&b"old school"[..], false));
        // A length but no keep-alive: HTTP/1.0 closes by default.
        let (_, reused) =
            first_then_reuse("GET", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false).await;
        assert!(!reused);
        // Connection: keep-alive (a token of the list, any case) keeps it open.
        let (_, reused) = first_then_reuse(
            "GET",
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: foo, Keep-Alive\r\n\r\nok",
            false,
        )
        .await;
        assert!(reused);
        let (_, reused) = first_then_reuse(
            "GET",
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: not-keep-alive\r\n\r\nok",
            false,
        )
        .await;
        assert!(!reused, "a token, not a substring");
        // Transfer-Encoding in HTTP/1.0: framed by it, but the connection is closed (§6.1).
        let (response, reused) = first_then_reuse(
            "GET",
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            false,
        )
        .await;
        assert_eq!((&response.body[..], reused), (&b"ok"[..], false));
    });
}

#[test]
fn connection_close_is_honoured() {
    paused().block_on(async {
        for first in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, CLOSE\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nConnection: close\r\n\r\nok",
        ] {
            let first: &'static [u8] = first;
            let (response, reused) = first_then_reuse("GET", first, false).await;
            assert_eq!(&response.body[..], b"ok");
            assert!(!reused, "{:?}", String::from_utf8_lossy(first));
        }
    });
}
