//! `http_fetch_1k`: 1,000 GETs against a local keep-alive server, at most 50 in flight.
//!
//! cashier's side is the `site_status` demo's own code path (`site_status::run` with `--limit 50`,
//! output discarded): its HTTP client on cashier sockets, a `Semaphore`, `as_completed`. The tokio
//! side is what a Rust user would otherwise pick: hyper's pooled client on a current-thread
//! runtime, a tokio `Semaphore`, one task per URL. Both fetch from the same server, which runs on
//! its own thread (a cashier runtime) so that neither client pays for it.
//!
//! Wall time is measured here; peak memory per variant is measured by running
//! `target/release/deps/http_fetch_1k-* --peak-memory cashier|hyper` as separate processes (see
//! BENCHMARKS.md).

mod common;

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use cashier_demos::http::{Client, server};
use cashier_demos::{Output, site_status};
use criterion::{Criterion, Throughput, criterion_group};

const REQUESTS: usize = 1_000;
const IN_FLIGHT: usize = 50;

/// Starts the keep-alive server on its own thread and returns its address.
fn start_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = cashier::Runtime::new().expect("server runtime");
        runtime.block_on(async move {
            let addr =
                server::spawn_local(vec![server::Site::new("/page", 200, "fries are ready")])
                    .unwrap();
            tx.send(addr).unwrap();
            std::future::pending::<()>().await
        })
    });
    rx.recv().expect("server address")
}

fn urls(addr: SocketAddr) -> Vec<String> {
    (0..REQUESTS).map(|i| format!("http://{addr}/page?order={i}")).collect()
}

/// One round of the cashier variant; returns how many answered 200.
fn cashier_round(runtime: &mut cashier::Runtime, client: &Rc<Client>, urls: &[String]) -> usize {
    let results = runtime.block_on(site_status::run(
        Output::null(),
        client.clone(),
        urls.to_vec(),
        Some(IN_FLIGHT),
    ));
    results.iter().filter(|(_, r)| matches!(r, Ok(200))).count()
}

type HyperClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<hyper::body::Bytes>,
>;

/// One round of the hyper variant; returns how many answered 200.
fn hyper_round(runtime: &tokio::runtime::Runtime, client: &HyperClient, urls: &[String]) -> usize {
    use http_body_util::BodyExt;
    runtime.block_on(async {
        let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let tasks: Vec<_> = urls
            .iter()
            .map(|url| {
                let (client, limit) = (client.clone(), limit.clone());
                let uri: hyper::Uri = url.parse().unwrap();
                tokio::spawn(async move {
                    let _permit = limit.acquire().await.unwrap();
                    let response = client.get(uri).await.unwrap();
                    let status = response.status().as_u16();
                    response.into_body().collect().await.unwrap();
                    status
                })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            ok += usize::from(task.await.unwrap() == 200);
        }
        ok
    })
}

fn hyper_client() -> HyperClient {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

fn http_fetch_1k(c: &mut Criterion) {
    common::fair_allocator();
    let urls = urls(start_server());
    let mut group = c.benchmark_group("http_fetch_1k");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    group.sample_size(20);

    let mut cashier = cashier::Runtime::new().expect("cashier runtime");
    let client = Rc::new(Client::new().unwrap());
    group.bench_function("cashier", |b| {
        b.iter(|| assert_eq!(cashier_round(&mut cashier, &client, &urls), REQUESTS))
    });

    let tokio = common::tokio_current_thread_with_drivers();
    let hyper = tokio.block_on(async { hyper_client() });
    group.bench_function("hyper_tokio", |b| {
        b.iter(|| assert_eq!(hyper_round(&tokio, &hyper, &urls), REQUESTS))
    });
    group.finish();
}

/// Peak resident memory of this process (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `--peak-memory cashier|hyper`: one variant alone in this process, ten rounds, then its wall
/// time per round and the process's peak resident memory.
fn peak_memory(variant: &str) {
    common::fair_allocator();
    let urls = urls(start_server());
    let baseline = peak_rss_kib();
    let start = std::time::Instant::now();
    match variant {
        "cashier" => {
            let mut runtime = cashier::Runtime::new().unwrap();
            let client = Rc::new(Client::new().unwrap());
            for _ in 0..10 {
                assert_eq!(cashier_round(&mut runtime, &client, &urls), REQUESTS);
            }
        }
        "hyper" => {
            let runtime = common::tokio_current_thread_with_drivers();
            let client = runtime.block_on(async { hyper_client() });
            for _ in 0..10 {
                assert_eq!(hyper_round(&runtime, &client, &urls), REQUESTS);
            }
        }
        other => panic!("unknown variant {other}: use cashier or hyper"),
    }
    let per_round = start.elapsed() / 10;
    let peak = peak_rss_kib();
    println!(
        "{variant}: {:.2} ms per 1,000 fetches; peak RSS {peak} KiB ({} KiB above the process before the client ran)",
        per_round.as_secs_f64() * 1e3,
        peak.saturating_sub(baseline)
    );
}

criterion_group!(benches, http_fetch_1k);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == "--peak-memory") {
        peak_memory(args.get(position + 1).map_or("cashier", String::as_str));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
