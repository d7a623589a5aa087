//! Property tests of [`ResponseParser`], on bytes without sockets: arbitrary bytes, and valid
//! responses (one per framing rule) mutated, fed in arbitrary splits. Each case asserts that the
//! parser does not panic, that every `advance` takes all it can at once (so a driver that reads
//! only when the parser is stuck never spins), and that the verdict (the response, what is left
//! over after it, or the error) is the same whole, byte by byte, and in a random split.
//!
//! Cases: 256 by default (proptest's default), `PROPTEST_CASES` overrides; the seed is fixed
//! unless `PROPTEST_RNG_SEED` says otherwise, so a run is reproducible.

use cashier_demos::http::{Headers, ResponseParser};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, RngSeed};

/// One valid response per framing rule, to mutate.
const SEEDS: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhelloNEXT",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: y\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 \nok\n0\n\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
    b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00",
    b"HTTP/1.0 200 OK\r\n\r\nold",
    b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
];

/// Bytes a mutation inserts or writes: the ones the grammar turns on.
const INTERESTING: &[u8] = b"\r\n:;, \t0159afAFxz-+\x00\xff";

/// What the parser made of a whole input.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// A response: status, version, headers, body, reusable, bytes left after it.
    Response(u16, u8, Headers, Vec<u8>, bool, usize),
    /// An error, by its message.
    Error(String),
}

/// Feeds `input` to a parser cut at `cuts` (sorted positions), as `ResponseReader` does: each
/// piece is appended to a buffer and the parser is given everything not consumed yet; at the
/// end of the input, `finish`.
fn run(input: &[u8], cuts: &[usize], head_request: bool, limits: (usize, usize)) -> Verdict {
    let mut parser = ResponseParser::new(head_request, limits.0, limits.1);
    let mut buf = Vec::new();
    let mut pos = 0;
    let mut start = 0;
    let ends = cuts.iter().copied().chain([input.len()]);
    for end in std::iter::once(0).chain(ends) {
        buf.extend_from_slice(&input[start..end]);
        start = end;
        pos += match parser.advance(&buf[pos..]) {
            Ok(used) => used,
            Err(error) => return Verdict::Error(error.to_string()),
        };
        // It took all it could: given the same bytes again, it takes none.
        assert_eq!(parser.advance(&buf[pos..]).map_err(|e| e.to_string()), Ok(0));
        if parser.is_done() {
            break;
        }
    }
    if !parser.is_done()
        && let Err(error) = parser.finish()
    {
        return Verdict::Error(error.to_string());
    }
    let (head, body, reusable) = parser.into_response().expect("done means a response");
    Verdict::Response(
        head.status,
        head.minor_version,
        head.headers,
        body,
        reusable,
        input.len() - pos,
    )
}

/// Applies `mutations` (kind, where, byte) to `seed`.
fn mutate(seed: &[u8], mutations: &[(u8, Index, u8)]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for &(kind, at, byte) in mutations {
        let i = at.index(bytes.len() + 1);
        match kind {
            0 => bytes.insert(i, byte),
            1 if i < bytes.len() => bytes[i] = byte,
            2 if i < bytes.len() => drop(bytes.remove(i)),
            3 => bytes.truncate(i),
            4 => {
                let repeat = bytes[i..].iter().take(8).copied().collect::<Vec<_>>();
                bytes.splice(i..i, repeat);
            }
            _ => {}
        }
    }
    bytes
}

/// Asserts the same verdict whole, byte by byte, and cut at `cuts`.
fn same_verdict(input: &[u8], cuts: &[Index], head_request: bool, limits: (usize, usize)) {
    let whole = run(input, &[], head_request, limits);
    let every_byte: Vec<usize> = (1..input.len()).collect();
    assert_eq!(run(input, &every_byte, head_request, limits), whole, "byte by byte");
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
    cuts.sort_unstable();
    assert_eq!(run(input, &cuts, head_request, limits), whole, "cut at {cuts:?}");
}

/// 256 cases unless `PROPTEST_CASES` says otherwise; a fixed seed unless `PROPTEST_RNG_SEED`
/// gives one; no regression files written into the source tree.
fn config() -> Config {
    let mut config = Config { failure_persistence: None, ..Config::default() };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x0063_6173_6869_6572); // "cashier"
    }
    config
}

/// (head limit, body limit): small ones reach the limit errors too.
fn limits() -> impl Strategy<Value = (usize, usize)> {
    (select(vec![40, 64, 200, 64 * 1024]), select(vec![0, 4, 16, 1024 * 1024]))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_responses_get_one_verdict_whatever_the_split(
        seed in select(SEEDS),
        mutations in prop::collection::vec((0u8..5, any::<Index>(), select(INTERESTING)), 0..5),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
        head_request in any::<bool>(),
        limits in limits(),
    ) {
        same_verdict(&mutate(seed, &mutations), &cuts, head_request, limits);
    }

    #[test]
    fn arbitrary_bytes_get_one_verdict_whatever_the_split(
        prefix in select(vec![&b""[..], b"HTTP/1.1 ", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"]),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
        head_request in any::<bool>(),
        limits in limits(),
    ) {
        let input = [prefix, &bytes[..]].concat();
        same_verdict(&input, &cuts, head_request, limits);
    }
}

/// The seeds, unmutated, get the verdicts the rules give them: the property above is not
/// vacuously about errors.
#[test]
fn the_seeds_parse_as_the_rules_say() {
    let limits = (64 * 1024, 1024 * 1024);
    let verdicts: Vec<_> = SEEDS
        .iter()
        .map(|seed| match run(seed, &[], false, limits) {
            Verdict::Response(status, _, _, body, reusable, leftover) => {
                format!(
                    "{status} {:?} reusable={reusable} leftover={leftover}",
                    String::from_utf8_lossy(&body)
                )
            }
            Verdict::Error(error) => error,
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            "200 \"hello\" reusable=true leftover=0",
            "200 \"hello\" reusable=true leftover=4",
            "200 \"Wikipedia\" reusable=true leftover=0",
            "200 \"ok\" reusable=true leftover=0",
            "200 \"x\" reusable=true leftover=0",
            "200 \"raw\" reusable=false leftover=0",
            "not an HTTP response: both Transfer-Encoding and Content-Length in one response",
            "not an HTTP response: conflicting Content-Length values \"1, 2\"",
            "200 \"until the end\" reusable=false leftover=0",
            "200 \"ok\" reusable=true leftover=0",
            "204 \"\" reusable=true leftover=0",
            "304 \"\" reusable=true leftover=0",
            "101 \"\" reusable=false leftover=2",
            "200 \"old\" reusable=false leftover=0",
            "200 \"ok\" reusable=true leftover=0",
            "302 \"\" reusable=true leftover=0",
        ]
    );
}
