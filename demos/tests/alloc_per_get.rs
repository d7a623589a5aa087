//! Allocations per GET in steady state: a keep-alive connection to a server that answers like
//! nginx, the client's connection already pooled. Counted by a global allocator that counts only
//! on the thread that asks it to (the server runs on its own thread).
//!
//! The figure is 6, all made building the `Response` a GET returns: 3 for its `url` (the URL's
//! text, and two temporary vectors of the `url` crate's IPv4 host parser, for a URL whose host
//! is an address), 2 for its `headers` (one block of text and its index, however many fields:
//! see `http/headers.rs`), 1 for its `body`. Nothing else: the request's bytes and
//! the read buffers belong to the pooled connection, the pool key and the `Host` header are
//! slices of the URL, and the runtime allocates nothing per wake, poll, read, write or timer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};

use cashier_demos::http::Client;

/// Counts allocations and reallocations made on threads that switched counting on.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees are this allocator's; the counting touches only an atomic and a const-initialised
// thread-local `Cell`, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's `layout` contract is passed on to `System` unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout` (every allocation here does).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as `dealloc`: `ptr` and `layout` are `System`'s, `new_size` the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// nginx 1.22's answer to a GET of a 15-byte file, byte for byte but for the dates.
const NGINX_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 03:30:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 15\r\nLast-Modified: Mon, 30 Nov 2026 03:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"6a1b2c3d-f\"\r\nAccept-Ranges: bytes\r\n\r\nhello, cashier\n";

/// A blocking keep-alive server on its own thread: one connection, one response per request.
fn nginx_like() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0; 4096];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            seen.extend_from_slice(&buf[..n]);
            while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                seen.drain(..end + 4);
                if stream.write_all(NGINX_RESPONSE).is_err() {
                    return;
                }
            }
        }
    });
    addr
}

#[test]
fn a_get_on_a_pooled_connection_allocates_only_what_its_response_holds() {
    let addr = nginx_like();
    // Nothing watching, whatever the environment says: recording (`CASHIER_TRACE`) and the debug
    // checks (`CASHIER_DEBUG`, which CI turns on for a second run of the suite) keep per-event
    // records, and those allocate; the figure is the runtime's and the client's own.
    let runtime = cashier::Runtime::builder()
        .trace(cashier::Trace::new())
        .debug_checks(false)
        .build()
        .unwrap();
    let client = Client::new().unwrap();
    let url = format!("http://{addr}/index.html");
    const GETS: u64 = 200;
    let per_get = runtime.block_on(async {
        for _ in 0..10 {
            assert_eq!(client.get(&url).await.unwrap().status, 200); // warm: pooled, buffers grown
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        for _ in 0..GETS {
            let response = client.get(&url).await.unwrap();
            assert_eq!(response.body, b"hello, cashier\n");
        }
        COUNTING.with(|c| c.set(false));
        (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / GETS as f64
    });
    assert_eq!(per_get, 6.0, "allocations per GET: url 3, headers 2, body 1");
}
