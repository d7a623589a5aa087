//! site_status: the tutorial's second script, concurrent GETs consumed with `as_completed`.
//!
//! ```python
//! async def get_status(url):
//!     print(f"Getting status of {url}")
//!     start = time.perf_counter()
//!     async with aiohttp.ClientSession() as session:
//!         async with session.get(url) as response:
//!             print(f"{url} took {time.perf_counter() - start:.2f}s")
//!             return url, response.status
//!
//! tasks = [asyncio.create_task(get_status(u)) for u in URLS]
//! for task in asyncio.as_completed(tasks):
//!     url, code = await task
//!     print(f"{url}: {code}")
//! ```
//!
//! Each URL gets a spawned task; the main task consumes the handles with `as_completed`, so the
//! results print in the order the sites answer, not the order they were given. One client (one
//! keep-alive pool, like one `ClientSession`) is shared by all tasks. A failing site prints its
//! error and the rest go on. `--limit N` caps the requests in flight with a `Semaphore`.

use std::borrow::Cow;
use std::rc::Rc;
use std::time::Duration;

use cashier::sync::Semaphore;

use crate::http::server::Site;
use crate::http::{Client, HttpError};
use crate::output::Output;

/// The tutorial's five sites.
pub const TUTORIAL_URLS: [&str; 5] = [
    "https://www.google.com",
    "https://www.facebook.com",
    "https://www.github.com",
    "https://www.twitter.com",
    "https://www.linkedin.com",
];

/// Five simulated sites for `--local`: different delays and statuses, so the completion order
/// differs from the argument order, and one redirect to follow.
pub fn local_sites() -> Vec<Site> {
    let ms = Duration::from_millis;
    vec![
        Site::new("/www.google.com", 200, "search").delay(ms(400)),
        Site::new("/www.facebook.com", 200, "friends").delay(ms(900)),
        Site::new("/www.github.com", 301, "").delay(ms(150)).location("/github.com"),
        Site::new("/github.com", 200, "code").delay(ms(50)),
        Site::new("/www.twitter.com", 403, "no bots").delay(ms(250)),
        Site::new("/www.linkedin.com", 999, "request denied").delay(ms(600)),
    ]
}

/// The `--local` URLs for a server at `addr`, in the tutorial's order.
pub fn local_urls(addr: std::net::SocketAddr) -> Vec<String> {
    TUTORIAL_URLS
        .iter()
        .map(|url| format!("http://{addr}/{}", url.trim_start_matches("https://")))
        .collect()
}

/// The URLs a binary checks: the simulated sites (their server started on the current runtime)
/// with `local`, else the ones given, else the tutorial's five.
pub fn urls_to_check(local: bool, given: Vec<String>) -> Result<Vec<String>, String> {
    if local {
        let addr = crate::http::server::spawn_local(local_sites())
            .map_err(|error| format!("cannot start the local sites: {error}"))?;
        return Ok(local_urls(addr));
    }
    if given.is_empty() {
        return Ok(TUTORIAL_URLS.iter().map(|url| url.to_string()).collect());
    }
    Ok(given)
}

/// A URL as the output lines show it: as given, or quoted when it is empty or holds whitespace
/// or control characters, so that a line never starts with `:` and a URL's end is visible.
/// Borrowed when it is shown as given, which is nearly always.
pub fn shown(url: &str) -> Cow<'_, str> {
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Cow::Owned(format!("{url:?}"))
    } else {
        Cow::Borrowed(url)
    }
}

/// GETs one URL, printing as the tutorial does; returns the URL and its final status.
pub async fn get_status(
    out: Output,
    client: Rc<Client>,
    url: String,
    limit: Option<Rc<Semaphore>>,
) -> (String, Result<u16, HttpError>) {
    let _permit = match &limit {
        Some(semaphore) => {
            Some(semaphore.acquire().await.expect("the limit semaphore is never closed"))
        }
        None => None,
    };
    let shown = shown(&url);
    out.line(format_args!("Getting status of {shown}"));
    let start = cashier::now();
    // Boxed when the request starts: `run` spawns every task up front, as the asyncio original
    // does, and a task's allocation is sized for the largest state of its future. Unboxed, each
    // of 10,000 waiting tasks would hold the 1.7 KB of a request in flight; boxed, it holds its
    // arguments until it runs, and with `--limit N` at most N requests are alive at once.
    let result = Box::pin(client.get(&url)).await;
    if result.is_ok() {
        out.line(format_args!("{shown} took {:.2}s", (cashier::now() - start).as_secs_f64()));
    }
    (url, result.map(|response| response.status))
}

/// Checks every URL concurrently and prints `URL: STATUS` (or `URL: error: ...`) in completion
/// order, the URL as [`shown`] shows it. Returns the results in that order.
pub async fn run(
    out: Output,
    client: Rc<Client>,
    urls: Vec<String>,
    limit: Option<usize>,
) -> Vec<(String, Result<u16, String>)> {
    let limit = limit.map(|n| Rc::new(Semaphore::new(n.max(1))));
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| {
            crate::spawn_named(
                url,
                get_status(out.clone(), client.clone(), url.clone(), limit.clone()),
            )
        })
        .collect();
    let mut finished = cashier::as_completed(tasks);
    let mut results = Vec::new();
    while let Some((index, joined)) = finished.next_with_index().await {
        let (url, result) = match joined {
            Ok((url, result)) => (url, result.map_err(|e| e.to_string())),
            Err(join_error) => (urls[index].clone(), Err(join_error.to_string())),
        };
        let shown = shown(&url);
        match &result {
            Ok(status) => out.line(format_args!("{shown}: {status}")),
            Err(error) => out.line(format_args!("{shown}: error: {error}")),
        }
        results.push((url, result));
    }
    results
}
