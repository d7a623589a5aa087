//! `Runtime`: one executor and the place it parks, owned together.
//!
//! The executor serves tasks; when none can run it parks. Today it parks the thread
//! (`ThreadPark`); the reactor (issue 3) replaces that with an `epoll_wait` over sockets and the
//! next timer, behind the same `Park` seam, without the executor knowing.

use std::future::Future;

use cashier_executor::{Executor, JoinHandle, ThreadPark};

/// A single-threaded runtime: asyncio's event loop.
///
/// ```
/// let mut runtime = cashier::Runtime::new();
/// let handle = runtime.spawn(async { "served" });
/// assert_eq!(runtime.block_on(handle).unwrap(), "served");
/// ```
///
/// It is `!Send`: its tasks may hold `!Send` values such as `Rc`, so it stays on the thread that
/// created it. Dropping it cancels the tasks that have not completed, dropping each future once.
pub struct Runtime {
    /// The executor, parked by thread parking for now.
    executor: Executor<ThreadPark>,
}

impl Runtime {
    /// A runtime for the current thread.
    pub fn new() -> Runtime {
        Runtime { executor: Executor::new() }
    }

    /// Runs `future` to completion, running spawned tasks meanwhile: asyncio's
    /// `loop.run_until_complete`.
    ///
    /// # Panics
    /// If called from inside a running runtime on this thread, or if `future` panics.
    pub fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        self.executor.block_on(future)
    }

    /// Spawns a task that starts running at the next [`Runtime::block_on`]. Inside a task, use
    /// [`cashier::spawn`](crate::spawn).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.executor.spawn(future)
    }

    /// The number of spawned tasks that have not completed.
    pub fn alive_tasks(&self) -> usize {
        self.executor.alive_tasks()
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

/// Runs `future` on a new runtime and drops the runtime (cancelling leftover tasks): asyncio's
/// `asyncio.run`.
///
/// ```
/// assert_eq!(cashier::run(async { 1 + 1 }), 2);
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new().block_on(future)
}
