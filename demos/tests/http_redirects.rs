//! Redirects, path by path through aiohttp's `ClientSession._request` (the `if resp.status in
//! (301, 302, 303, 307, 308) and allow_redirects:` block), each against local servers that
//! record what they were sent:
//!
//! - which statuses redirect: [`only_301_302_303_307_308_redirect`];
//! - what happens to the method and body: [`a_303_makes_a_get_except_from_head`],
//!   [`a_301_or_302_makes_a_get_from_post_only`], [`a_307_or_308_keeps_method_and_body`];
//! - the cap, `max_redirects`: [`the_tenth_redirect_is_too_many`],
//!   [`a_limit_of_zero_means_no_limit`];
//! - redirects that cannot be followed: [`a_redirect_without_location_is_the_response`],
//!   [`a_location_that_is_not_a_url_is_an_error`], [`a_location_that_is_not_http_is_an_error`];
//! - where it goes: [`relative_locations_are_joined_with_the_current_url`],
//!   [`fragments_are_never_sent_nor_kept`], [`scheme_changes_are_followed_both_ways`];
//! - credentials: [`url_credentials_are_dropped_when_the_origin_changes`];
//! - not following: [`redirects_off_and_head_return_the_redirect`].

mod common;

use std::time::Duration;

use cashier_demos::http::{Client, HttpError};
use common::{Log, Seen, client, paused, recording_server, test_pki, tls_server};

/// A response with `status`, a `Location` if given, and an empty body.
fn redirect(status: u16, location: Option<&str>) -> Vec<u8> {
    let location = location.map(|l| format!("Location: {l}\r\n")).unwrap_or_default();
    format!("HTTP/1.1 {status} Redirect\r\n{location}Content-Length: 0\r\n\r\n").into_bytes()
}

/// `200 OK` with body `done`.
fn done() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone".to_vec()
}

/// A server where `/start` answers `status` with `Location: /end`, and `/end` answers 200.
fn one_redirect(status: u16) -> (String, Log) {
    let (addr, log) = recording_server(move |seen: &Seen| match seen.target.as_str() {
        "/start" => redirect(status, Some("/end")),
        _ => done(),
    });
    (format!("http://{addr}/start"), log)
}

/// The (method, path, body) of each request `log` saw.
fn requests(log: &Log) -> Vec<(String, String, String)> {
    log.borrow()
        .iter()
        .map(|s| (s.method.clone(), s.target.clone(), String::from_utf8_lossy(&s.body).into()))
        .collect()
}

/// A (method, path, body) triple.
fn req(method: &str, path: &str, body: &str) -> (String, String, String) {
    (method.into(), path.into(), body.into())
}

#[test]
fn only_301_302_303_307_308_redirect() {
    paused().block_on(async {
        for status in [301, 302, 303, 307, 308] {
            let (url, log) = one_redirect(status);
            let response = client().get(&url).await.unwrap();
            assert_eq!((response.status, response.redirects), (200, 1), "{status}");
            assert!(response.url.as_str().ends_with("/end"));
            assert_eq!(log.borrow().len(), 2);
        }
        for status in [300, 304, 305, 306, 309, 201] {
            let (url, log) = one_redirect(status);
            let response = client().get(&url).await.unwrap();
            assert_eq!((response.status, response.redirects), (status, 0));
            assert_eq!(response.header("location"), Some("/end"));
            assert_eq!(log.borrow().len(), 1);
        }
    });
}

#[test]
fn a_303_makes_a_get_except_from_head() {
    paused().block_on(async {
        for method in ["POST", "PUT", "DELETE", "GET", "PATCH"] {
            let (url, log) = one_redirect(303);
            client().request(method, &url, "data").await.unwrap();
            assert_eq!(
                requests(&log),
                [req(method, "/start", "data"), req("GET", "/end", "")],
                "{method}"
            );
            assert_eq!(log.borrow()[1].header("content-length"), None, "a bodiless GET");
        }
        let (url, log) = one_redirect(303);
        client().request("HEAD", &url, "").await.unwrap();
        assert_eq!(requests(&log), [req("HEAD", "/start", ""), req("HEAD", "/end", "")]);
    });
}

#[test]
fn a_301_or_302_makes_a_get_from_post_only() {
    paused().block_on(async {
        for status in [301, 302] {
            let (url, log) = one_redirect(status);
            client().post(&url, "data").await.unwrap();
            assert_eq!(requests(&log), [req("POST", "/start", "data"), req("GET", "/end", "")]);
            for method in ["PUT", "DELETE", "PATCH"] {
                let (url, log) = one_redirect(status);
                client().request(method, &url, "data").await.unwrap();
                assert_eq!(
                    requests(&log),
                    [req(method, "/start", "data"), req(method, "/end", "data")],
                    "{status} {method}"
                );
            }
        }
    });
}

#[test]
fn a_307_or_308_keeps_method_and_body() {
    paused().block_on(async {
        for status in [307, 308] {
            for method in ["POST", "PUT", "GET"] {
                let (url, log) = one_redirect(status);
                client().request(method, &url, "data").await.unwrap();
                assert_eq!(
                    requests(&log),
                    [req(method, "/start", "data"), req(method, "/end", "data")]
                );
            }
        }
    });
}

/// A server with a chain `/0` → `/1` → … → `/{length}`, which answers 200.
fn chain(length: usize) -> (String, Log) {
    let (addr, log) = recording_server(move |seen: &Seen| {
        let step: usize = seen.target[1..].parse().unwrap();
        if step < length { redirect(302, Some(&format!("/{}", step + 1))) } else { done() }
    });
    (format!("http://{addr}/0"), log)
}

#[test]
fn the_tenth_redirect_is_too_many() {
    paused().block_on(async {
        // aiohttp counts each redirect response and fails on the one that reaches the limit.
        let (url, _) = chain(9);
        let response = client().get(&url).await.unwrap();
        assert_eq!((response.status, response.redirects), (200, 9));
        let (url, log) = chain(10);
        let error = client().get(&url).await.unwrap_err();
        assert!(matches!(error, HttpError::TooManyRedirects(10)), "{error:?}");
        assert_eq!(error.to_string(), "too many redirects: reached the limit of 10");
        assert_eq!(log.borrow().len(), 10, "the 10th redirect is not followed");
        let (url, _) = chain(2);
        let three = Client::builder().max_redirects(3).build().unwrap();
        assert_eq!(three.get(&url).await.unwrap().redirects, 2);
        let (url, _) = chain(3);
        assert!(matches!(three.get(&url).await, Err(HttpError::TooManyRedirects(3))));
        // A redirect without Location still counts when it reaches the limit (aiohttp checks
        // the limit first).
        let (addr, _) = recording_server(|_| redirect(302, None));
        let one = Client::builder().max_redirects(1).build().unwrap();
        let error = one.get(&format!("http://{addr}/")).await.unwrap_err();
        assert!(matches!(error, HttpError::TooManyRedirects(1)), "{error:?}");
    });
}

#[test]
fn a_limit_of_zero_means_no_limit() {
    paused().block_on(async {
        let (url, _) = chain(25);
        let unlimited = Client::builder().max_redirects(0).build().unwrap();
        assert_eq!(unlimited.get(&url).await.unwrap().redirects, 25);
    });
    // A loop then ends at the timeout. On the real clock: on the paused one, time only moves
    // when every task waits, and a redirect loop over loopback always has one ready.
    cashier::Runtime::builder().build().unwrap().block_on(async {
        let (addr, _) = recording_server(|_| redirect(302, Some("/")));
        let unlimited =
            Client::builder().max_redirects(0).timeout(Duration::from_millis(200)).build().unwrap();
        let error = unlimited.get(&format!("http://{addr}/")).await.unwrap_err();
        assert!(matches!(error, HttpError::Timeout(_)), "{error:?}");
    });
}

#[test]
fn a_redirect_without_location_is_the_response() {
    paused().block_on(async {
        // aiohttp issue 2022: no Location (nor URI), or an empty one: the redirect is returned.
        for location in [None, Some("")] {
            let (addr, log) = recording_server(move |_| redirect(302, location));
            let response = client().post(&format!("http://{addr}/"), "x").await.unwrap();
            assert_eq!((response.status, response.redirects), (302, 0));
            assert_eq!(log.borrow().len(), 1);
        }
        // aiohttp falls back on a `URI` header.
        let (addr, log) = recording_server(|seen: &Seen| match seen.target.as_str() {
            "/" => b"HTTP/1.1 302 Found\r\nURI: /there\r\nContent-Length: 0\r\n\r\n".to_vec(),
            _ => done(),
        });
        let response = client().get(&format!("http://{addr}/")).await.unwrap();
        assert_eq!((response.status, response.redirects), (200, 1));
        assert_eq!(log.borrow()[1].target, "/there");
    });
}

#[test]
fn a_location_that_is_not_a_url_is_an_error() {
    paused().block_on(async {
        for (location, reason) in [
            ("http://[::1/", "invalid IPv6 address"),
            ("http://exa mple.com/", "invalid international domain name"),
            ("http://host:99999/", "invalid port number"),
            ("http://:80/", "empty host"),
        ] {
            let (addr, log) = recording_server(move |_| redirect(302, Some(location)));
            let error = client().get(&format!("http://{addr}/")).await.unwrap_err();
            assert!(matches!(error, HttpError::InvalidRedirect { .. }), "{error:?}");
            assert_eq!(
                error.to_string(),
                format!("cannot follow the redirect to {location:?}: {reason}")
            );
            assert_eq!(log.borrow().len(), 1);
        }
    });
}

#[test]
fn a_location_that_is_not_http_is_an_error() {
    paused().block_on(async {
        for location in ["ftp://example.com/file", "mailto:someone@example.com", "ws://x/", "x:y"] {
            let (addr, _) = recording_server(move |_| redirect(301, Some(location)));
            let error = client().get(&format!("http://{addr}/")).await.unwrap_err();
            assert!(matches!(error, HttpError::NonHttpRedirect(_)), "{error:?}");
            assert_eq!(
                error.to_string(),
                format!("cannot follow the redirect to {location:?}: not an http or https URL")
            );
        }
    });
}

#[test]
fn relative_locations_are_joined_with_the_current_url() {
    paused().block_on(async {
        let (addr, log) = recording_server(|seen: &Seen| match seen.target.as_str() {
            "/a/b" => redirect(301, Some("c")),
            "/a/c" => redirect(302, Some("../d?x=1")),
            "/d?x=1" => redirect(307, Some("?y=2")),
            "/d?y=2" => redirect(308, Some("/e")),
            "/e" => redirect(303, Some("https-less")),
            _ => done(),
        });
        let response = client().get(&format!("http://{addr}/a/b")).await.unwrap();
        assert_eq!((response.status, response.redirects), (200, 5));
        assert_eq!(response.url.as_str(), format!("http://{addr}/https-less"));
        let targets: Vec<_> = log.borrow().iter().map(|s| s.target.clone()).collect();
        assert_eq!(targets, ["/a/b", "/a/c", "/d?x=1", "/d?y=2", "/e", "/https-less"]);
        // Scheme-relative: same scheme, another host (here, another port).
        let (other, other_log) = recording_server(|_| done());
        let (addr, _) = recording_server(move |_| {
            redirect(302, Some(&format!("//127.0.0.1:{}/far", other.port())))
        });
        let response = client().get(&format!("http://{addr}/")).await.unwrap();
        assert_eq!(response.url.as_str(), format!("http://{other}/far"));
        assert_eq!(other_log.borrow()[0].target, "/far");
    });
}

#[test]
fn fragments_are_never_sent_nor_kept() {
    paused().block_on(async {
        let (addr, log) = recording_server(|seen: &Seen| match seen.target.as_str() {
            "/start" => redirect(302, Some("/end#section")),
            _ => done(),
        });
        let response = client().get(&format!("http://{addr}/start#top")).await.unwrap();
        let targets: Vec<_> = log.borrow().iter().map(|s| s.target.clone()).collect();
        assert_eq!(targets, ["/start", "/end"]);
        // aiohttp's `resp.url` is the request URL without its fragment.
        assert_eq!(response.url.as_str(), format!("http://{addr}/end"));
    });
}

#[test]
fn scheme_changes_are_followed_both_ways() {
    let (ca, server_config) = test_pki();
    paused().block_on(async move {
        let plain = std::rc::Rc::new(std::cell::Cell::new(None));
        // https → http: the TLS server sends the client back to the plain one.
        let tls_addr = tls_server(server_config, {
            let plain = plain.clone();
            move || {
                let back: std::net::SocketAddr = plain.get().unwrap();
                redirect(302, Some(&format!("http://{back}/back")))
            }
        });
        let (plain_addr, log) = recording_server(move |seen: &Seen| match seen.target.as_str() {
            "/start" => {
                redirect(301, Some(&format!("https://localhost:{}/secure", tls_addr.port())))
            }
            _ => done(),
        });
        plain.set(Some(plain_addr));
        let client = Client::builder().add_root_certificate(ca).build().unwrap();
        let response = client.get(&format!("http://{plain_addr}/start")).await.unwrap();
        assert_eq!((response.status, response.redirects), (200, 2));
        assert_eq!(response.url.as_str(), format!("http://{plain_addr}/back"));
        let targets: Vec<_> = log.borrow().iter().map(|s| s.target.clone()).collect();
        assert_eq!(targets, ["/start", "/back"]);
    });
}

#[test]
fn url_credentials_are_dropped_when_the_origin_changes() {
    paused().block_on(async {
        let (other, other_log) = recording_server(|_| done());
        let (addr, log) = recording_server(move |seen: &Seen| match seen.target.as_str() {
            "/start" => redirect(302, Some("/same")),
            "/same" => redirect(302, Some(&format!("http://{other}/elsewhere"))),
            _ => done(),
        });
        let url = format!("http://us%20er:p%40ss@{addr}/start#frag");
        let response = client().get(&url).await.unwrap();
        assert_eq!((response.status, response.redirects), (200, 2));
        // "us er:p@ss", percent-decoded, in base64.
        let basic = Some("Basic dXMgZXI6cEBzcw==");
        let sent: Vec<_> =
            log.borrow().iter().map(|s| s.header("authorization").map(str::to_string)).collect();
        assert_eq!(sent, [basic.map(str::to_string), basic.map(str::to_string)]);
        assert_eq!(other_log.borrow()[0].header("authorization"), None);
        // Nor is the URL's userinfo shown in the response's URL.
        let (addr, _) = recording_server(|_| done());
        let response = client().get(&format!("http://user:pw@{addr}/")).await.unwrap();
        assert_eq!(response.url.as_str(), format!("http://{addr}/"));
    });
}

#[test]
fn redirects_off_and_head_return_the_redirect() {
    paused().block_on(async {
        let (url, log) = one_redirect(301);
        let raw = Client::builder().follow_redirects(false).build().unwrap();
        let response = raw.get(&url).await.unwrap();
        assert_eq!((response.status, response.redirects), (301, 0));
        // aiohttp's `session.head` defaults to allow_redirects=False.
        let response = client().head(&url).await.unwrap();
        assert_eq!(response.status, 301);
        assert_eq!(log.borrow().len(), 2);
    });
}
