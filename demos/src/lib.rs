//! # cashier-demos
//!
//! The demo programs, one binary each under `src/bin/`:
//!
//! - `orders`: the cashier analogy itself, on the executor alone. Customers (tasks) order in
//!   one sequence and are served in another: whoever's food is ready first.
//!
//! The asyncio tutorial's three scripts (`names_ages`, `site_status`, `run_commands`) and their
//! combination join this crate once the reactor provides timers, sockets and the blocking pool.
