//! Conditions shared by every benchmark, so that no runtime gets an advantage from the process.
//!
//! glibc's malloc returns freed memory to the kernel when the top of the heap has more than
//! `M_TRIM_THRESHOLD` free bytes (128 KiB by default) and serves blocks over `M_MMAP_THRESHOLD` with
//! fresh `mmap`s. A benchmark that spawns and frees 10,000 tasks per iteration then pays page faults
//! and `madvise`/`brk` calls that depend on heap layout, not on the runtime: we measured this
//! doubling tokio's spawn cost and making it noisy. [`fair_allocator`] sets both thresholds high,
//! once, before any runtime runs, so every runtime reuses warm memory the same way.

use std::os::raw::c_int;

/// glibc's `mallopt` parameter numbers (from `<malloc.h>`).
const M_TRIM_THRESHOLD: c_int = -1;
const M_MMAP_THRESHOLD: c_int = -3;

unsafe extern "C" {
    /// glibc: adjusts malloc tuning parameters; returns 1 on success, 0 on error.
    fn mallopt(param: c_int, value: c_int) -> c_int;
}

/// Sets the same allocator thresholds for every runtime in this process (see the module doc).
pub fn fair_allocator() {
    for (param, value) in [(M_TRIM_THRESHOLD, 512 << 20), (M_MMAP_THRESHOLD, 64 << 20)] {
        // SAFETY: `mallopt` takes two plain integers and only changes malloc's tuning; it is safe
        // to call at any time from any thread.
        let ok = unsafe { mallopt(param, value) };
        assert_eq!(ok, 1, "mallopt({param}, {value}) failed");
    }
}

/// A tokio current-thread runtime, as a user of tokio would build it for this workload.
#[allow(dead_code)]
pub fn tokio_current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("tokio runtime")
}

/// A tokio current-thread runtime with its I/O and time drivers, for the reactor workloads.
#[allow(dead_code)]
pub fn tokio_current_thread_with_drivers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

/// Runs `future` on smol's single-threaded executor the way the issue prescribes:
/// `async_executor::LocalExecutor` driven by `async_io::block_on` (re-exported by smol).
#[allow(dead_code)]
pub fn smol_block_on<'a, T>(
    executor: &smol::LocalExecutor<'a>,
    future: impl std::future::Future<Output = T>,
) -> T {
    smol::block_on(executor.run(future))
}
