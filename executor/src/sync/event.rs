//! `Event`: a flag tasks can wait for, asyncio's `asyncio.Event`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use cashier_trace::Primitive;

use super::wait_list::{WaitKey, WaitList, waits_on, wake_all};

/// A flag that tasks wait on until it is set: asyncio's `asyncio.Event`.
///
/// ```
/// use std::rc::Rc;
/// use cashier_executor::sync::Event;
/// use cashier_executor::{Executor, spawn};
///
/// let ready = Rc::new(Event::new());
/// let executor = Executor::new();
/// executor.block_on(async {
///     let waiter = spawn({
///         let ready = ready.clone();
///         async move { ready.wait().await; "served" }
///     });
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "served");
/// });
/// ```
#[derive(Default)]
pub struct Event {
    /// The flag and its waiters.
    state: RefCell<State>,
}

/// The event's mutable part.
#[derive(Default)]
struct State {
    /// Whether the event is set.
    set: bool,
    /// Tasks waiting for it.
    waiters: WaitList,
}

impl Event {
    /// A clear event.
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets the flag and wakes every waiting task. Later waits return at once until `clear`.
    pub fn set(&self) {
        let wakers = {
            let mut state = self.state.borrow_mut();
            state.set = true;
            state.waiters.notify_all()
        };
        wake_all(Primitive::Event, wakers);
    }

    /// Clears the flag: later waits wait again.
    pub fn clear(&self) {
        self.state.borrow_mut().set = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.borrow().set
    }

    /// Waits until the flag is set. A task that was waiting when `set` was called returns even if
    /// the flag is cleared again before it runs.
    pub fn wait(&self) -> Wait<'_> {
        Wait { event: self, key: None }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("set", &self.is_set()).finish()
    }
}

/// The future returned by [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    /// The event.
    event: &'a Event,
    /// Our place among the waiters, once queued.
    key: Option<WaitKey>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        cashier_budget::poll_budgeted(cx, |cx| {
            let event = self.event;
            let mut state = event.state.borrow_mut();
            match self.key.take() {
                Some(key) if state.waiters.is_notified(&key) => {
                    state.waiters.remove(key);
                    Poll::Ready(())
                }
                Some(key) => {
                    state.waiters.update_waker(&key, cx.waker());
                    self.key = Some(key);
                    waits_on(Primitive::Event);
                    Poll::Pending
                }
                None if state.set => Poll::Ready(()),
                None => {
                    self.key = Some(state.waiters.push(cx.waker()));
                    waits_on(Primitive::Event);
                    Poll::Pending
                }
            }
        })
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.event.state.borrow_mut().waiters.remove(key);
        }
    }
}
