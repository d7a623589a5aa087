//! Raising the soft limit on open files to the hard one: the stress suite's echo scenario and
//! the `cost_curve` bench's `tcp_echo` (which includes this file by path) each hold thousands of
//! sockets, more than a default soft limit of 1,024 allows.

/// Raises this process's soft limit on open files to its hard limit, and returns the limit now
/// in force (1,024 if it cannot be read).
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call's duration.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: `raised` is a valid `rlimit` for the call's duration.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    limit.rlim_cur
}
