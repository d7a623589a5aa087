//! Host-name resolution, off the runtime thread.
//!
//! The system resolver (`getaddrinfo`, behind `ToSocketAddrs`) blocks, sometimes for seconds, so
//! it runs through [`to_thread`](crate::to_thread()). Python's asyncio does the same in
//! `loop.getaddrinfo`.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::blocking::to_thread;

/// Resolves `host` (a name or an address literal) to the socket addresses for `port`, in the
/// order the system resolver gives them.
///
/// An unknown host is an `io::Error` naming it.
///
/// ```
/// cashier::run(async {
///     let addrs = cashier::net::lookup_host("localhost", 80).await.unwrap();
///     assert!(addrs.iter().all(|a| a.port() == 80 && a.ip().is_loopback()));
/// });
/// ```
///
/// # Panics
/// If no cashier runtime is running on this thread.
pub async fn lookup_host(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]); // a literal needs no resolver
    }
    let name = host.to_owned();
    let resolved =
        to_thread(move || (name.as_str(), port).to_socket_addrs().map(Vec::from_iter)).await?;
    match resolved {
        Ok(addrs) if addrs.is_empty() => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("resolve {host}: no addresses found"),
        )),
        Ok(addrs) => Ok(addrs),
        Err(error) => Err(io::Error::new(error.kind(), format!("resolve {host}: {error}"))),
    }
}
