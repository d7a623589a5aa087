//! `mpsc`: many senders, one receiver; bounded with back-pressure, or unbounded.
//!
//! asyncio's `asyncio.Queue(maxsize)` between tasks. A bounded channel makes senders wait while
//! it is full. Fairness and cancellation follow `wait_list.rs`: a receive that frees a slot
//! *reserves* it for the oldest waiting sender, and a waiting send that is dropped after being
//! given a slot passes it on, so no slot is lost.
//!
//! The count of reserved slots (`Chan::reserved`) is the number of waiting senders notified and
//! not yet removed from the wait list, by construction: `release_slot` adds one exactly when
//! `notify_one` notified someone, and `remove_waiter` subtracts one exactly when the waiter it
//! removes had been notified. Queued messages plus reserved slots never exceed the capacity.
//!
//! # Ending
//!
//! Two events end a channel:
//!
//! - **Every sender is gone.** The receiver drains what is queued, then gets `None` (`try_recv`:
//!   [`TryRecvError::Disconnected`]). No send can be pending by then: a [`Send`] borrows its
//!   `Sender`. The last sender to go wakes a waiting receiver.
//! - **The receiver calls [`Receiver::close`] or is dropped.** From then on every send that has
//!   not completed fails with [`SendError`] (`try_send`: [`TrySendError::Closed`]), which hands
//!   the value back: a send begun later, a sender waiting for a slot (the close wakes it to find
//!   out), and a sender granted a slot that it has not used yet. *Closed wins over granted*:
//!   that slot is returned unused, and nobody takes it over (the close dismissed every waiting
//!   sender, and later sends fail before they would wait). So no message enters the queue after
//!   a close: `recv` returns what was queued before it, then `None` at once, waiting for nobody.
//!   A dropped receiver drops the messages still queued.
//!
//! So a send returns `Ok` exactly when its message entered the queue, and the receiver gets it,
//! in order, unless the receiver is dropped first.
//!
//! Tokio's bounded channel draws the line elsewhere: a `Permit` obtained from `reserve` before
//! the close may still send. cashier has no such permits, so only a send that completed counts.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use cashier_trace::{self as trace, Cause, ChannelNews, Primitive};

use super::wait_list::{WaitKey, WaitList, waits_on, wake_all};

/// What every end of a channel shares.
struct Chan<T> {
    /// Messages not yet received.
    queue: VecDeque<T>,
    /// Most messages queued at once (`usize::MAX`: unbounded).
    capacity: usize,
    /// Slots given to woken senders that have not pushed yet: the notified entries of
    /// `send_waiters`. Changed only by `release_slot` (up) and `remove_waiter` (down).
    reserved: usize,
    /// Senders waiting for a slot, oldest first.
    send_waiters: WaitList,
    /// The receiving task, while it waits.
    receiver: Option<Waker>,
    /// Live senders (bounded and unbounded).
    senders: usize,
    /// The receiver closed the channel or was dropped: every pending send fails, and nobody
    /// waits in `send_waiters`.
    closed: bool,
}

impl<T> Chan<T> {
    fn new(capacity: usize) -> Rc<RefCell<Chan<T>>> {
        Rc::new(RefCell::new(Chan {
            queue: VecDeque::new(),
            capacity,
            reserved: 0,
            send_waiters: WaitList::default(),
            receiver: None,
            senders: 1,
            closed: false,
        }))
    }

    /// Whether a sender arriving now may push without waiting.
    fn has_free_slot(&self) -> bool {
        self.send_waiters.is_empty() && self.queue.len() + self.reserved < self.capacity
    }

    /// Whether no more messages can be queued: every sender is gone, or the channel is closed
    /// (after a close, no pending send pushes).
    fn is_ended(&self) -> bool {
        self.senders == 0 || self.closed
    }

    /// Queues a message; returns the receiver's waker.
    fn push(&mut self, value: T) -> Option<Waker> {
        self.queue.push_back(value);
        self.receiver.take()
    }

    /// A slot became free: reserve it for the oldest waiting sender; returns its waker. `None`
    /// if nobody waits (always the case once closed): the slot is simply free.
    fn release_slot(&mut self) -> Option<Waker> {
        let waker = self.send_waiters.notify_one()?;
        self.reserved += 1;
        Some(waker)
    }

    /// Takes a sender off the wait list (it is done, failing or dropped). Returns whether a slot
    /// had been reserved for it; that reservation ends here, and the caller fills the slot or
    /// passes it on.
    fn remove_waiter(&mut self, key: WaitKey) -> bool {
        let granted = self.send_waiters.remove(key);
        if granted {
            self.reserved -= 1;
        }
        granted
    }
}

/// Wakes `waker`, if any, naming `news()` as what the channel handed it. Only the trace's cold
/// half (`with_cause`'s recording side) calls `news`. It is a closure, not a value, so that each
/// call site compiles its constant into a cold half of its own: a value shared by four sites
/// became an argument of one shared cold half, and a register move on the wake path.
#[inline(always)]
fn wake(news: impl FnOnce() -> ChannelNews, waker: Option<Waker>) {
    if let Some(waker) = waker {
        trace::with_cause(|| Cause::HandOff(Primitive::Channel(news())), || waker.wake());
    }
}

/// Creates a bounded channel holding at most `capacity` messages: asyncio's
/// `asyncio.Queue(maxsize=capacity)`.
///
/// ```
/// use cashier_executor::sync::mpsc;
/// use cashier_executor::{Executor, spawn};
///
/// let executor = Executor::new();
/// let received = executor.block_on(async {
///     let (tx, mut rx) = mpsc::channel(2);
///     spawn(async move {
///         for order in 1..=5 {
///             tx.send(order).await.unwrap(); // waits while 2 are queued
///         }
///     }); // the sender drops here: the channel ends after the last message
///     let mut received = Vec::new();
///     while let Some(order) = rx.recv().await {
///         received.push(order);
///     }
///     received
/// });
/// assert_eq!(received, [1, 2, 3, 4, 5]);
/// ```
///
/// # Panics
/// If `capacity` is zero (a channel with no room can never take a message).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc::channel needs a capacity of at least 1");
    let chan = Chan::new(capacity);
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// Creates a channel with no bound: sends never wait (memory is the limit).
///
/// ```
/// use cashier_executor::sync::mpsc;
///
/// let executor = cashier_executor::Executor::new();
/// executor.block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     tx.send("fries").unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some("fries"));
///     assert_eq!(rx.recv().await, None); // every sender is gone
/// });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, Receiver<T>) {
    let chan = Chan::new(usize::MAX);
    (UnboundedSender { chan: chan.clone() }, Receiver { chan })
}

/// The sending end of a bounded channel; clone it for more senders.
pub struct Sender<T> {
    /// The channel.
    chan: Rc<RefCell<Chan<T>>>,
}

/// The sending end of an unbounded channel; clone it for more senders.
pub struct UnboundedSender<T> {
    /// The channel.
    chan: Rc<RefCell<Chan<T>>>,
}

/// The receiving end of a channel.
pub struct Receiver<T> {
    /// The channel.
    chan: Rc<RefCell<Chan<T>>>,
}

/// The channel is closed (the receiver closed it or is gone); the message is handed back.
#[derive(PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Why [`Sender::try_send`] failed; the message is handed back.
#[derive(PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is full.
    Full(T),
    /// The channel is closed (the receiver closed it or is gone).
    Closed(T),
}

/// Why [`Receiver::try_recv`] returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued now; senders remain and the channel is open.
    Empty,
    /// Nothing queued and nothing can come: every sender is gone, or the channel is closed.
    Disconnected,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full.
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send { chan: &self.chan, value: Some(value), key: None }
    }

    /// Sends `value` if there is room right now.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut chan = self.chan.borrow_mut();
            if chan.closed {
                return Err(TrySendError::Closed(value));
            }
            if !chan.has_free_slot() {
                return Err(TrySendError::Full(value));
            }
            chan.push(value)
        };
        wake(|| ChannelNews::Message, waker);
        Ok(())
    }

    /// Whether the channel is closed (the receiver closed it or is gone): sends would fail.
    pub fn is_closed(&self) -> bool {
        self.chan.borrow().closed
    }
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once; fails only if the channel is closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut chan = self.chan.borrow_mut();
            if chan.closed {
                return Err(SendError(value));
            }
            chan.push(value)
        };
        wake(|| ChannelNews::Message, waker);
        Ok(())
    }

    /// Whether the channel is closed (the receiver closed it or is gone): sends would fail.
    pub fn is_closed(&self) -> bool {
        self.chan.borrow().closed
    }
}

impl<T> Receiver<T> {
    /// The next message, or `None` once the queue is drained and every sender is gone or the
    /// channel is closed.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { receiver: self, waited: false }
    }

    /// Polls for the next message (for hand-written futures). A message (or the end) spends a
    /// unit of the task's cooperative budget (`cashier-budget`).
    #[inline(always)]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.poll_message(cx, true)
    }

    /// [`Receiver::poll_recv`], spending budget only if `budgeted`.
    #[inline(always)]
    fn poll_message(&mut self, cx: &mut Context<'_>, budgeted: bool) -> Poll<Option<T>> {
        let (message, sender) = {
            let mut chan = self.chan.borrow_mut();
            if chan.queue.is_empty() && !chan.is_ended() {
                if !chan.receiver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    chan.receiver = Some(cx.waker().clone());
                }
                waits_on(Primitive::Channel(ChannelNews::Message));
                return Poll::Pending;
            }
            // About to complete (a message, or the end): spend a unit of the cooperative budget
            // first, or be refused with nothing taken (`cashier-budget`), the channel released
            // before the refusal's wake runs foreign code.
            if budgeted && !cashier_budget::try_spend() {
                drop(chan);
                return cashier_budget::refuse(cx);
            }
            match chan.queue.pop_front() {
                Some(message) => {
                    let sender = chan.release_slot();
                    (Some(message), sender)
                }
                None => return Poll::Ready(None), // ended, as seen above
            }
        };
        wake(|| ChannelNews::Slot, sender);
        Poll::Ready(message)
    }

    /// A message if one is queued now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let (message, sender) = {
            let mut chan = self.chan.borrow_mut();
            match chan.queue.pop_front() {
                Some(message) => {
                    let sender = chan.release_slot();
                    (message, sender)
                }
                None if chan.is_ended() => return Err(TryRecvError::Disconnected),
                None => return Err(TryRecvError::Empty),
            }
        };
        wake(|| ChannelNews::Slot, sender);
        Ok(message)
    }

    /// Stops accepting messages: every send still pending fails, including one granted a slot it
    /// has not used yet, and senders waiting for a slot are woken to find out. Messages already
    /// queued can still be received.
    pub fn close(&mut self) {
        let wakers = {
            let mut chan = self.chan.borrow_mut();
            chan.closed = true;
            chan.send_waiters.take_wakers() // dismissed: nobody is left waiting for a slot
        };
        wake_all(Primitive::Channel(ChannelNews::Closed), wakers);
    }

    /// Messages queued now.
    pub fn len(&self) -> usize {
        self.chan.borrow().queue.len()
    }

    /// Whether no message is queued now.
    pub fn is_empty(&self) -> bool {
        self.chan.borrow().queue.is_empty()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        let queued = std::mem::take(&mut self.chan.borrow_mut().queue);
        drop(queued); // outside the borrow: a message's destructor may touch the channel
    }
}

/// Both sender kinds count themselves in and out the same way.
macro_rules! sender_lifecycle {
    ($sender:ident) => {
        impl<T> Clone for $sender<T> {
            fn clone(&self) -> Self {
                self.chan.borrow_mut().senders += 1;
                $sender { chan: self.chan.clone() }
            }
        }

        impl<T> Drop for $sender<T> {
            fn drop(&mut self) {
                let waker = {
                    let mut chan = self.chan.borrow_mut();
                    chan.senders -= 1;
                    if chan.senders == 0 { chan.receiver.take() } else { None }
                };
                // The last sender is gone: the receiver may see the end.
                wake(|| ChannelNews::Ended, waker);
            }
        }

        impl<T> fmt::Debug for $sender<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!("mpsc::", stringify!($sender)))
            }
        }
    };
}

sender_lifecycle!(Sender);
sender_lifecycle!(UnboundedSender);

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver").field("queued", &self.len()).finish()
    }
}

/// The future returned by [`Sender::send`].
///
/// Of the cooperative budget (`cashier-budget`): a send that fails spends a unit, one that
/// queues its message does not. A loop of successful sends cannot run for ever: the channel is
/// bounded, and only its receiver, which cannot run meanwhile unless it is in the same task (and
/// then its receives find their messages without waiting, and spend), makes room. A loop over a
/// closed channel could, so failures spend.
/// This keeps the budget off the sender's path in the channel workloads (BENCHMARKS.md,
/// issue 12); tokio's bounded send spends on success too.
#[must_use = "futures do nothing unless awaited"]
pub struct Send<'a, T> {
    /// The channel.
    chan: &'a Rc<RefCell<Chan<T>>>,
    /// The message, until it is queued or handed back.
    value: Option<T>,
    /// Our place among the waiting senders, once queued.
    key: Option<WaitKey>,
}

impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let receiver = {
            let mut chan = this.chan.borrow_mut();
            if chan.closed {
                // A failed send spends budget (see `Send`), before anything changes; the channel
                // is released before a refusal's wake runs foreign code.
                if !cashier_budget::try_spend() {
                    drop(chan);
                    return cashier_budget::refuse(cx);
                }
                // Closed wins, even over a slot reserved for us: the receiver takes no more. The
                // reservation ends unused; nobody waits on a closed channel to take it over.
                if let Some(key) = this.key.take() {
                    chan.remove_waiter(key);
                }
                let value = this.value.take().expect("polled after completion");
                return Poll::Ready(Err(SendError(value)));
            }
            match this.key.take() {
                // A slot was reserved for us: fill it.
                Some(key) if chan.send_waiters.is_notified(&key) => {
                    chan.remove_waiter(key);
                    chan.push(this.value.take().expect("polled after completion"))
                }
                Some(key) => {
                    chan.send_waiters.update_waker(&key, cx.waker());
                    this.key = Some(key);
                    waits_on(Primitive::Channel(ChannelNews::Slot));
                    return Poll::Pending;
                }
                None if chan.has_free_slot() => {
                    chan.push(this.value.take().expect("polled after completion"))
                }
                None => {
                    this.key = Some(chan.send_waiters.push(cx.waker()));
                    waits_on(Primitive::Channel(ChannelNews::Slot));
                    return Poll::Pending;
                }
            }
        };
        wake(|| ChannelNews::Message, receiver);
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let next = {
            let mut chan = self.chan.borrow_mut();
            // If we were given a slot and never used it, it passes to the next waiting sender. The
            // receiver needs no wake: neither the queue nor whether the channel ended changed.
            if chan.remove_waiter(key) { chan.release_slot() } else { None }
        };
        wake(|| ChannelNews::Slot, next);
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed: the receiver is gone")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("TrySendError::Full(..)"),
            TrySendError::Closed(_) => f.write_str("TrySendError::Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full"),
            TrySendError::Closed(_) => f.write_str("channel closed: the receiver is gone"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Disconnected => {
                f.write_str("channel empty and ended (no sender left, or closed)")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The future of [`Receiver::recv`]: the next message, or `None` once the channel has ended.
///
/// A named future with an always-inlined poll rather than an `async fn`: `recv` sits in the
/// hottest loops (`ping_pong` receives twice per round trip), and the compiler gives no inline
/// hint to an `async fn`'s state machine. Once the trace point `waits_on` grew `poll_recv` a
/// little, that state machine was compiled as a function of its own and every round trip paid
/// about 140 more instructions (callgrind on `examples/ping_pong_work`: BENCHMARKS.md, issue 10);
/// the cooperative budget's check did it again to a plain `#[inline]` (issue 12).
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    /// The receiver being polled.
    receiver: &'a mut Receiver<T>,
    /// Whether this receive returned `Pending` before.
    waited: bool,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    /// Spends a unit of the cooperative budget only if the message is there at the first poll. A
    /// receive that waited already let the others run: the task returned `Pending` for it. So a
    /// loop that never waits still spends a unit per message, and a task woken for each message
    /// (a ping-pong, a consumer keeping up) pays nothing for the budget.
    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let budgeted = !self.waited;
        let polled = self.receiver.poll_message(cx, budgeted);
        self.waited |= polled.is_pending();
        polled
    }
}
