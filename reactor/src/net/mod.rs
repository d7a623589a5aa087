//! Sockets: TCP and UDP over the reactor, and a host-name resolver on the blocking pool.
//!
//! Each socket type pairs a non-blocking `std::net` socket with a `Registration`. An operation
//! tries the system call when the reactor says the socket may be ready, and waits for the next
//! readiness event when the call says `WouldBlock` (see `registration.rs`).
//!
//! Methods take `&self`, so one task can read while another writes the same socket (through an
//! `Rc`, or by borrowing it into two futures). Each direction keeps one waiting task: two tasks
//! reading the same socket at once would take turns overwriting each other's waker, so don't.

mod read_ahead;
mod resolve;
mod tcp;
mod udp;

pub use resolve::lookup_host;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
