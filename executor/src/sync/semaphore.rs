//! `Semaphore`: at most N at a time, served in arrival order.
//!
//! asyncio's `asyncio.Semaphore`, used to cap concurrency (site_status's `--limit`). Fair: when
//! tasks wait, a released permit goes to the oldest waiter, never to a newcomer that happens to
//! run first. Cancel-safe: an `acquire` future dropped after it was granted a permit (but before it
//! ran) passes the permit on. See `wait_list.rs`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use cashier_trace::Primitive;

use super::wait_list::{WaitKey, WaitList, hand_off, waits_on};

/// A counting semaphore for tasks on one runtime: asyncio's `asyncio.Semaphore`, with
/// `async with sem:` written as `let _permit = sem.acquire().await?;`.
///
/// ```
/// use std::rc::Rc;
/// use cashier_executor::sync::Semaphore;
/// use cashier_executor::{Executor, gather, yield_now};
///
/// let limit = Rc::new(Semaphore::new(2));
/// let executor = Executor::new();
/// executor.block_on(gather((0..5).map(|_| {
///     let limit = limit.clone();
///     async move {
///         let _permit = limit.acquire().await.unwrap(); // at most 2 in here at once
///         assert!(limit.available_permits() <= 1);
///         yield_now().await;
///     }
/// })));
/// assert_eq!(limit.available_permits(), 2);
/// ```
pub struct Semaphore {
    /// Permits and waiters.
    state: RefCell<State>,
}

/// The semaphore's mutable part.
#[derive(Default)]
struct State {
    /// Permits not held by anyone.
    permits: usize,
    /// Tasks waiting for a permit, oldest first.
    waiters: WaitList,
    /// No more permits will be handed out.
    closed: bool,
}

/// The semaphore was closed: no permit is coming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError;

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// No permit is free (or others are queued first).
    NoPermits,
    /// The semaphore was closed.
    Closed,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::NoPermits => f.write_str("no permits available"),
            TryAcquireError::Closed => f.write_str("semaphore closed"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore { state: RefCell::new(State { permits, ..State::default() }) }
    }

    /// Waits for a permit; it is released when the returned [`Permit`] is dropped.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire { semaphore: self, key: None }
    }

    /// Like [`Semaphore::acquire`], for a semaphore in an `Rc`: the permit owns a clone, so it can
    /// move into a spawned task.
    pub async fn acquire_owned(self: Rc<Self>) -> Result<OwnedPermit, AcquireError> {
        self.acquire().await?.forget();
        Ok(OwnedPermit { semaphore: self })
    }

    /// Takes a permit if one is free and nobody is queued for it.
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        let mut state = self.state.borrow_mut();
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        if state.permits == 0 || !state.waiters.is_empty() {
            return Err(TryAcquireError::NoPermits);
        }
        state.permits -= 1;
        Ok(Permit { semaphore: self })
    }

    /// Adds `n` permits (waking as many waiters).
    pub fn add_permits(&self, n: usize) {
        for _ in 0..n {
            self.release();
        }
    }

    /// Permits not currently held.
    pub fn available_permits(&self) -> usize {
        self.state.borrow().permits
    }

    /// Closes the semaphore: every waiter and every later `acquire` gets [`AcquireError`].
    /// Permits already held stay valid.
    pub fn close(&self) {
        let wakers = {
            let mut state = self.state.borrow_mut();
            state.closed = true;
            state.waiters.take_wakers()
        };
        super::wait_list::wake_all(Primitive::Semaphore, wakers);
    }

    /// Returns one permit: to the oldest waiter if any, else to the pool.
    fn release(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            let next = if state.closed { None } else { state.waiters.notify_one() };
            if next.is_none() {
                state.permits += 1;
            }
            next
        };
        if let Some(waker) = waker {
            hand_off(Primitive::Semaphore, waker);
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").field("permits", &self.available_permits()).finish()
    }
}

/// A held permit; released when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct Permit<'a> {
    /// Where to release it.
    semaphore: &'a Semaphore,
}

impl Permit<'_> {
    /// Keeps the permit taken for good (it is not released on drop).
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Permit")
    }
}

/// A held permit of an `Rc<Semaphore>`; released when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct OwnedPermit {
    /// Where to release it.
    semaphore: Rc<Semaphore>,
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnedPermit")
    }
}

/// The future returned by [`Semaphore::acquire`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    /// The semaphore.
    semaphore: &'a Semaphore,
    /// Our place in the queue, once queued.
    key: Option<WaitKey>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<Permit<'a>, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        cashier_budget::poll_budgeted(cx, |cx| {
            let semaphore = self.semaphore;
            let mut state = semaphore.state.borrow_mut();
            match self.key.take() {
                // A release assigned us a permit (possibly just before a close: it is still ours).
                Some(key) if state.waiters.is_notified(&key) => {
                    state.waiters.remove(key);
                    Poll::Ready(Ok(Permit { semaphore }))
                }
                Some(key) if state.closed => {
                    state.waiters.remove(key);
                    Poll::Ready(Err(AcquireError))
                }
                Some(key) => {
                    state.waiters.update_waker(&key, cx.waker());
                    self.key = Some(key);
                    waits_on(Primitive::Semaphore);
                    Poll::Pending
                }
                None if state.closed => Poll::Ready(Err(AcquireError)),
                None if state.permits > 0 && state.waiters.is_empty() => {
                    state.permits -= 1;
                    Poll::Ready(Ok(Permit { semaphore }))
                }
                None => {
                    self.key = Some(state.waiters.push(cx.waker()));
                    waits_on(Primitive::Semaphore);
                    Poll::Pending
                }
            }
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let granted = self.semaphore.state.borrow_mut().waiters.remove(key);
        if granted {
            self.semaphore.release(); // pass the permit we never used to the next in line
        }
    }
}
