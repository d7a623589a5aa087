//! `oneshot`: send one value from one task to another, like an asyncio `Future` you resolve by hand.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use cashier_trace::Primitive;

use super::wait_list::{hand_off, waits_on};

/// What the two ends share.
struct Shared<T> {
    /// The value, once sent.
    value: Option<T>,
    /// The receiving task.
    receiver: Option<Waker>,
    /// The sender was dropped (after sending, or without).
    sender_gone: bool,
    /// The receiver was dropped.
    receiver_gone: bool,
}

/// Creates a one-shot channel: the [`Sender`] sends one value, the [`Receiver`] is a future that
/// resolves to it. asyncio's `loop.create_future()` with `fut.set_result(value)` on the other side.
///
/// ```
/// use cashier_executor::sync::oneshot;
/// use cashier_executor::{Executor, spawn};
///
/// let executor = Executor::new();
/// executor.block_on(async {
///     let (tx, rx) = oneshot::channel();
///     spawn(async move { tx.send("order 42 ready").unwrap() });
///     assert_eq!(rx.await, Ok("order 42 ready"));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared {
        value: None,
        receiver: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (Sender { shared: shared.clone() }, Receiver { shared })
}

/// Sends the value.
pub struct Sender<T> {
    /// Shared with the receiver.
    shared: Rc<RefCell<Shared<T>>>,
}

/// Receives the value: a future of `Result<T, RecvError>`.
pub struct Receiver<T> {
    /// Shared with the sender.
    shared: Rc<RefCell<Shared<T>>>,
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed: the sender was dropped without sending")
    }
}

impl std::error::Error for RecvError {}

impl<T> Sender<T> {
    /// Sends `value`; gives it back if the receiver is gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut shared = self.shared.borrow_mut();
            if shared.receiver_gone {
                return Err(value);
            }
            shared.value = Some(value);
            shared.receiver.take()
        };
        if let Some(waker) = waker {
            hand_off(Primitive::Oneshot, waker);
        }
        Ok(())
    }

    /// Whether the receiver was dropped (a send would fail).
    pub fn is_closed(&self) -> bool {
        self.shared.borrow().receiver_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut shared = self.shared.borrow_mut();
            shared.sender_gone = true;
            shared.receiver.take()
        };
        if let Some(waker) = waker {
            hand_off(Primitive::Oneshot, waker);
        }
    }
}

impl<T> Receiver<T> {
    /// The value if it has been sent; `Ok(None)` if not yet; `Err` if it never will be.
    pub fn try_recv(&mut self) -> Result<Option<T>, RecvError> {
        let mut shared = self.shared.borrow_mut();
        match shared.value.take() {
            Some(value) => Ok(Some(value)),
            None if shared.sender_gone => Err(RecvError),
            None => Ok(None),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        cashier_budget::poll_budgeted(cx, |cx| {
            let mut shared = self.shared.borrow_mut();
            if let Some(value) = shared.value.take() {
                return Poll::Ready(Ok(value));
            }
            if shared.sender_gone {
                return Poll::Ready(Err(RecvError));
            }
            if !shared.receiver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                shared.receiver = Some(cx.waker().clone());
            }
            waits_on(Primitive::Oneshot);
            Poll::Pending
        })
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut shared = self.shared.borrow_mut();
        shared.receiver_gone = true;
        shared.receiver = None;
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot::Sender")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot::Receiver")
    }
}
