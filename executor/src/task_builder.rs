//! `task::Builder`: spawn a task with a name, tokio's `tokio::task::Builder` shape.
//!
//! A name costs nothing unless somebody watches: it is handed to the trace recorder with the
//! task's `Spawn` event (`cashier_trace::emit_name`), and stored nowhere else. The views a learner
//! reads (the Perfetto trace, the terminal timeline, the explain mode) then say `#2 "google"`
//! instead of `#2`.

use std::future::Future;
use std::io;
use std::panic::Location;

use crate::context;
use crate::executor::Executor;
use crate::join::JoinHandle;
use crate::park::Park;

/// Configures a task before spawning it.
///
/// ```
/// use cashier_executor::{Executor, task_builder::Builder};
///
/// let executor = Executor::new();
/// executor.block_on(async {
///     let handle = Builder::new().name("fries").spawn(async { 3 }).unwrap();
///     assert_eq!(handle.await.unwrap(), 3);
/// });
/// ```
#[derive(Debug, Default, Clone, Copy)]
#[must_use = "a builder does nothing until `spawn` is called"]
pub struct Builder<'a> {
    /// The task's name, for the trace and the views drawn from it.
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name set.
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the task (a URL, a command, "names"): shown wherever the runtime is watched.
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// Spawns the task on the executor running on this thread, like [`spawn`](crate::spawn).
    ///
    /// # Errors
    /// If no executor is running on this thread (outside `block_on` and `step`): an
    /// [`io::ErrorKind::Other`] error saying so, where [`spawn`](crate::spawn) panics.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        let mut future = Some(future);
        let name = self.name;
        context::with_core(|core| {
            core.spawn_named(future.take().expect("called once"), location, name)
        })
        .ok_or_else(|| {
            io::Error::other(format!(
                "task::Builder::spawn({}) called outside of a cashier runtime: call it from \
                 inside a future run by `Runtime::block_on` or `cashier::run`",
                name.map_or_else(|| "unnamed".to_owned(), |name| format!("{name:?}"))
            ))
        })
    }

    /// Spawns the task on `executor` from outside its run loop, like
    /// [`Executor::spawn`]: it starts running at the executor's next `block_on` or `step`.
    ///
    /// ```
    /// use cashier_executor::{Executor, task_builder::Builder};
    ///
    /// let executor = Executor::new();
    /// let handle = Builder::new().name("fries").spawn_on(async { 3 }, &executor);
    /// assert_eq!(executor.block_on(handle).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn_on<F, P>(self, future: F, executor: &Executor<P>) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
        P: Park,
    {
        executor.core.spawn_named(future, Location::caller(), self.name)
    }
}
