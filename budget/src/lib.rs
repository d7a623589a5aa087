//! # cashier-budget: how long a customer may keep the cashier
//!
//! A task runs until it returns `Pending`, and nothing else on the thread runs meanwhile. A task
//! that loops over operations that are always ready (a free semaphore, a channel with messages
//! waiting, a socket with data) never returns `Pending`, so it starves every other task, its own
//! `timeout` included: `timeout(10 ms, loop { sem.acquire().await; })` would never fire. The
//! cashier would serve one customer's endless order while the queue waits.
//!
//! The cure, tokio's: every poll of a task is given a **budget** of [`BUDGET`] operations. Each
//! resource operation that completes (a message received, a permit or lock acquired, a socket
//! read, written or accepted, a `to_thread` result taken, a `JoinHandle` resolved, a timer
//! fired) spends one unit, with the two refinements below for the channel. Once the budget is
//! spent, the next resource operation returns `Pending` *without doing anything* and wakes its
//! own task, which goes to the back of the run
//! queue: every task queued before it runs, and then it resumes with a fresh budget where it
//! stopped. The executor gives the reactor a turn at least every 61 polls (`EVENT_INTERVAL`), so
//! timers fire and sockets are heard while the task goes round.
//!
//! # Who does what
//!
//! - **The executor grants** ([`grant`], [`revoke`]): before it polls a task (and `block_on`'s
//!   future), it sets the budget to [`BUDGET`]; after, back to [`UNCONSTRAINED`], its value
//!   outside any poll.
//! - **Every resource spends**: the executor's semaphore, mutex, event and oneshot, and the
//!   reactor's sockets, timers, signals (when the doorbell rings; a delivery already counted is
//!   returned without spending) and `to_thread` results wrap their poll in [`poll_budgeted`];
//!   the `JoinHandle` and the `RemoteJoinHandle` spend with [`poll_spend`], and the channel's
//!   receive with [`try_spend`] and [`refuse`], on the one path that completes. Two refinements keep the budget off the channel ping-pong's
//!   path: a channel send spends only when it fails (a bounded channel fills, so successful sends
//!   alone cannot loop for ever: see `mpsc::Send`), and a receive that had to wait spends
//!   nothing when its message comes (the task already let the others run).
//! - **Combinators share it fairly** ([`poll_proceed`]): `gather`, `race`, `as_completed` and
//!   `select` stop polling children once the budget is spent, and poll the ones they skipped
//!   first next time; `timeout` checks its deadline outside the budget. Otherwise a child that
//!   is always ready would spend every budget, and its siblings (its own deadline!) would be
//!   refused forever.
//! - **The user opts out or in**: [`Unconstrained`] runs a future with no budget at all;
//!   [`consume_budget`] spends a unit in a loop that touches no resource (pure computation).
//!
//! # Invariants
//!
//! - The budget is one thread-local counter, [`UNCONSTRAINED`] outside any task's poll and
//!   inside [`Unconstrained`]: 2^64 − 1, a count no program spends (at a billion operations a
//!   second, it lasts 584 years), so spending needs no test for it. Checking the budget is a load
//!   and a compare, spending it a decrement and a store: no allocation, no lock, no system call.
//! - An operation that is not ready spends nothing: only completed work counts, so a task that
//!   polls a dozen pending sockets in a `race` has not used its budget.
//! - An operation refused for want of budget changes no state of its resource: it returns
//!   `Pending` before it takes anything (some look first, to know they would complete), and its
//!   next poll takes what this one would have taken. (A channel receive refused counts as one
//!   that waited, so that next poll spends nothing: the task did yield for it.)
//! - Each refusal wakes the waker it was polled with, once, with [`Cause::Budget`] for the
//!   trace (the task's own, or a combinator's for that child): a task refused is always polled
//!   again.
//!
//! # Why a crate of its own
//!
//! The executor grants the budget and the reactor's resources spend it, but the reactor must
//! not depend on the executor (it knows nothing of tasks). Like `cashier-trace`, this crate is
//! the small seam both reach; it knows nothing of either.
//!
//! # Where tokio differs
//!
//! tokio's budget (`tokio::task::coop`) is the same shape with the same 128 units. Its resources
//! take a unit *before* they poll and give it back if they return `Pending` (a guard,
//! `RestoreOnPending`); here a resource checks that a unit is left, polls, and takes the unit
//! only if it completed, which is the same rule with no guard.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use cashier_trace::{self as trace, Cause};

/// Operations a task may complete in one poll before a resource makes it yield (tokio's figure).
pub const BUDGET: u64 = 128;

/// The budget's value outside any task's poll, and inside [`Unconstrained`]: more operations
/// than any program completes, so never spent (operations still count it down, harmlessly).
pub const UNCONSTRAINED: u64 = u64::MAX;

thread_local! {
    /// Units left to the task being polled on this thread, or [`UNCONSTRAINED`].
    static LEFT: Cell<u64> = const { Cell::new(UNCONSTRAINED) };
}

/// Gives the poll about to start a fresh budget.
///
/// The executor calls it before each poll of a task, and [`revoke`] after. Polls of tasks are
/// never nested (a task's poll cannot run another task's), so there is no previous budget to
/// keep: one store each. A poll that may unwind must revoke on the way out too (the executor's
/// task polls catch their panics; `block_on` uses a [`Grant`] guard).
#[inline(always)]
pub fn grant() {
    LEFT.set(BUDGET);
}

/// The poll is over: the budget is unconstrained again, as it is outside any poll.
#[inline(always)]
pub fn revoke() {
    LEFT.set(UNCONSTRAINED);
}

/// Units left in this poll's budget ([`UNCONSTRAINED`] outside a task's poll or inside
/// [`Unconstrained`]). For tests and the curious.
pub fn remaining() -> u64 {
    LEFT.get()
}

/// Polls a resource operation under the budget: if the budget is spent, wakes the task and
/// returns `Pending` without calling `poll`; otherwise calls it, and spends one unit if it
/// completed.
///
/// Most of cashier's resource operations go through here (the others, which can tell before
/// they act that they will complete, through [`poll_spend`]); a hand-written resource can too.
#[inline(always)]
pub fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    // The thread-local is read and written around `poll`, never held across it: a closure
    // run inside `LocalKey::with` was compiled out of line and cost the channel ping-pong a
    // quarter of its instructions (BENCHMARKS.md, issue 12).
    let units = LEFT.get();
    if units == 0 {
        return refuse(cx);
    }
    let polled = poll(cx);
    if polled.is_ready() {
        // `units` was read before `poll`: if `poll` spent units itself (a hand-written resource
        // polling one of cashier's), its spending is overwritten, and the two count as one.
        // An `Unconstrained` inside puts back what it found, so it changes nothing here.
        LEFT.set(units - 1);
    }
    polled
}

/// Whether the task may go on: `Ready` if units are left (spending none), else the task is woken
/// and `Pending` returned, as [`poll_budgeted`] does for a spent budget (tokio's `poll_proceed`,
/// without the spending).
///
/// For a combinator that polls several children in one poll: once a child has spent the budget,
/// it stops and lets the others go first on the next poll, instead of handing them a spent budget
/// that would refuse them.
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    if LEFT.get() == 0 { refuse(cx) } else { Poll::Ready(()) }
}

/// Spends one unit now, for an operation that knows it is about to complete; or, if the budget
/// is spent, wakes the task and returns `Pending` (the operation must then change nothing).
///
/// [`poll_budgeted`]'s rule, for a resource that can tell before it acts that it will complete
/// (a channel with a message queued, a finished task's `JoinHandle`): it checks and spends in one
/// step on that path, and pays nothing when it is about to return `Pending`. The `JoinHandle`
/// and the `RemoteJoinHandle` use it (the channel's receive uses its two halves, [`try_spend`]
/// and [`refuse`]); wrapped in `poll_budgeted`, the `JoinHandle`'s result crossed a closure and
/// cost `spawn_many` a fifth of its time (BENCHMARKS.md, issue 12).
#[inline(always)]
pub fn poll_spend(cx: &mut Context<'_>) -> Poll<()> {
    if try_spend() { Poll::Ready(()) } else { refuse(cx) }
}

/// [`poll_spend`] in two halves, for a resource that holds a borrow it must release before the
/// refusal's wake runs foreign code: spends one unit and returns `true`, or returns `false` when
/// none is left, after which the resource releases what it holds and returns [`refuse`]'s
/// `Pending`.
#[inline(always)]
pub fn try_spend() -> bool {
    let units = LEFT.get();
    if units == 0 {
        return false;
    }
    LEFT.set(units - 1);
    true
}

/// The budget is spent: wakes the task (it goes to the back of the queue) and returns `Pending`.
/// Every refusal ends here, with [`Cause::Budget`] for the trace.
#[cold]
#[inline(never)]
pub fn refuse<T>(cx: &mut Context<'_>) -> Poll<T> {
    trace::with_cause(|| Cause::Budget, || cx.waker().wake_by_ref());
    Poll::Pending
}

/// Spends one unit of the task's budget, yielding first if it is spent: the budget check for a
/// loop that touches no resource, such as a long computation in slices (tokio's
/// `task::consume_budget`).
///
/// ```
/// # cashier::Runtime::new()?.block_on(async {
/// let mut sum = 0u64;
/// for i in 0..1_000_000u64 {
///     sum += i; // pure computation: no resource would ever make this loop yield
///     cashier::task::consume_budget().await;
/// }
/// # assert_eq!(sum, 499_999_500_000);
/// # });
/// # std::io::Result::Ok(())
/// ```
pub fn consume_budget() -> ConsumeBudget {
    ConsumeBudget { _private: () }
}

/// The future [`consume_budget`] returns.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ConsumeBudget {
    _private: (),
}

impl Future for ConsumeBudget {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        poll_budgeted(cx, |_| Poll::Ready(()))
    }
}

/// Runs `future` with no budget: its resource operations never make it yield (tokio's
/// `task::unconstrained`).
///
/// For a future that must not be interrupted between two ready operations, or that yields on
/// its own terms. It starves the other tasks for as long as it stays ready: that is the point,
/// and the risk.
///
/// ```
/// # cashier::Runtime::new()?.block_on(async {
/// let (tx, mut rx) = cashier::sync::mpsc::unbounded_channel();
/// for i in 0..1_000 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// // All 1,000 messages in one poll, where the budget would yield after each 128.
/// let received = cashier::task::unconstrained(async move {
///     let mut n = 0;
///     while rx.recv().await.is_some() {
///         n += 1;
///     }
///     n
/// })
/// .await;
/// assert_eq!(received, 1_000);
/// # });
/// # std::io::Result::Ok(())
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

/// The future [`unconstrained`] returns.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Unconstrained<F> {
    future: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and
        // `Unconstrained` has no `Drop` and is not `Unpin` unless `F` is.
        let future = unsafe { self.map_unchecked_mut(|this| &mut this.future) };
        let previous = LEFT.replace(UNCONSTRAINED);
        // Put the budget back even if the future panics: the task's poll catches the panic,
        // and what runs after it must find the budget as the task left it.
        let _restore = Restore(previous);
        future.poll(cx)
    }
}

/// Sets the budget back to what it was when dropped (also while unwinding).
struct Restore(u64);

impl Drop for Restore {
    fn drop(&mut self) {
        LEFT.set(self.0);
    }
}

/// Grants a fresh budget for as long as it lives, and revokes it when dropped, also while
/// unwinding: for a poll that may panic (`block_on`'s own future).
#[must_use = "the budget is revoked when the guard is dropped"]
pub struct Grant {
    _private: (),
}

impl Grant {
    /// Grants a fresh budget until the guard is dropped.
    #[inline(always)]
    pub fn new() -> Grant {
        grant();
        Grant { _private: () }
    }
}

impl Drop for Grant {
    #[inline(always)]
    fn drop(&mut self) {
        revoke();
    }
}

impl Default for Grant {
    fn default() -> Grant {
        Grant::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn outside_a_poll_nothing_is_refused() {
        let (wakes, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..1_000 {
            assert_eq!(poll_budgeted(&mut cx, |_| Poll::Ready(())), Poll::Ready(()));
            assert_eq!(poll_spend(&mut cx), Poll::Ready(()));
        }
        assert_eq!(remaining(), UNCONSTRAINED - 2_000, "counted down, harmlessly");
        assert_eq!(wakes.0.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_granted_poll_completes_128_operations_then_is_refused_once_and_woken() {
        let (wakes, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        grant();
        let mut polled = 0u64;
        for _ in 0..BUDGET {
            let ready = poll_budgeted(&mut cx, |_| {
                polled += 1;
                Poll::Ready(())
            });
            assert!(ready.is_ready());
        }
        let refused = poll_budgeted(&mut cx, |_| {
            polled += 1;
            Poll::Ready(())
        });
        assert_eq!(refused, Poll::Pending);
        assert_eq!(polled, BUDGET, "a refused operation is not polled");
        assert_eq!(wakes.0.load(Ordering::Relaxed), 1, "the refusal woke the task once");
        revoke();
        assert_eq!(remaining(), UNCONSTRAINED);
    }

    #[test]
    fn an_operation_that_is_not_ready_spends_nothing() {
        let (_wakes, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        grant();
        for _ in 0..10_000 {
            assert_eq!(poll_budgeted(&mut cx, |_| Poll::<()>::Pending), Poll::Pending);
        }
        assert_eq!(remaining(), BUDGET);
        revoke();
    }

    #[test]
    fn unconstrained_lifts_the_budget_and_puts_it_back() {
        let (_wakes, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let _grant = Grant::new();
        let _ = poll_budgeted(&mut cx, |_| Poll::Ready(()));
        let mut inner = std::pin::pin!(unconstrained(async {
            assert_eq!(remaining(), UNCONSTRAINED);
            for _ in 0..1_000 {
                consume_budget().await;
            }
        }));
        assert_eq!(inner.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(remaining(), BUDGET - 1, "the budget is as the task left it");
    }

    #[test]
    fn a_grant_guard_restores_while_unwinding() {
        let caught = std::panic::catch_unwind(|| {
            let _grant = Grant::new();
            assert_eq!(remaining(), BUDGET);
            panic!("inside a poll");
        });
        assert!(caught.is_err());
        assert_eq!(remaining(), UNCONSTRAINED);
    }
}
