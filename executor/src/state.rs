//! The task state word: every lifecycle decision, and nothing else.
//!
//! A task's state is one `AtomicUsize` holding seven flag bits and a reference count. Keeping both in
//! one word lets a transition read the flags and the count in a single atomic step, so no other
//! synchronisation is needed between the runtime thread and wakers on other threads.
//!
//! This file only *decides*. Each transition is a small function that performs one compare-and-swap
//! loop (one plain store for a task nobody else can reach yet: `set_cancelled_unspawned`) and
//! returns a `#[must_use]` outcome enum; the caller (in `task.rs`, `join.rs`, `handle.rs` or
//! `executor.rs`) performs the effects the outcome names: push onto a run queue, drop the future,
//! wake the joiner. No transition allocates, locks, or makes a system call.
//!
//! # Who may set which bit
//!
//! Only the runtime thread sets `RUNNING` and `COMPLETE`, and clears `JOIN_INTEREST` of a local
//! task. Any thread may set `SCHEDULED` (through a waker), set `CANCELLED` (an `AbortHandle`,
//! which is `Send`: with `SCHEDULED` on an idle task, which it then queues as a wake would; alone
//! on a task that is running or already queued) and change the reference count. Everything that a
//! non-runtime thread can do to a local task is therefore "set SCHEDULED and/or CANCELLED" or
//! "add/remove a reference", which is why the runtime thread can reason about the other bits
//! without racing anyone.
//!
//! Remotely spawned tasks (`Handle::spawn`) add two exceptions:
//!
//! - their `RemoteJoinHandle` may be on any thread, and it clears `JOIN_INTEREST` and sets and
//!   clears `JOIN_WAKER` from there (the hand-off of the `join_waker` slot, tokio's `JOIN_WAKER`
//!   protocol; see `REMOTE`), also after `COMPLETE`. Completion decides from the same word, in the
//!   same compare-and-swap, whether the slot is its to take;
//! - a task whose runtime was gone before it could take it is completed (cancelled) by the thread
//!   that spawned it, before anyone else can reach it (`set_cancelled_unspawned`).
//!
//! # Memory ordering
//!
//! Transitions use `AcqRel` so that what a waker wrote before waking is visible to the poll it causes,
//! and what a poll wrote is visible to whoever observes `COMPLETE`. Reference counting follows
//! `std::sync::Arc`: increments are `Relaxed`, decrements `AcqRel`, so the thread that frees the
//! task has seen every other holder's last access.

use crate::loom::{AtomicUsize, Ordering};
use std::fmt;

/// The task sits in a run queue, or was woken while running and must be queued again after its
/// poll. Set by `Waker::wake` (any thread) and by `JoinHandle::abort`; cleared by the executor when
/// it starts a poll.
///
/// Never set together with `COMPLETE`: wakers do not set it on a finished task, and completion
/// clears it. While it is set and `RUNNING` is clear, the task is in exactly one run queue, and the
/// party that set it is the one that pushed it there.
const SCHEDULED: usize = 1 << 0;

/// The executor is polling the task's future (or dropping it). Set and cleared only on the runtime
/// thread. A wake that finds `RUNNING` set only sets `SCHEDULED`: the executor re-queues the task
/// after the poll, so the wake is not lost and the task is never in a queue while it runs.
const RUNNING: usize = 1 << 1;

/// The future is gone: its output (or a `JoinError`) is stored, or already taken. Final: no bit but
/// `JOIN_INTEREST`, `JOIN_WAKER` (a remote task's handle, dropped) and the count change after it.
/// Never together with `RUNNING` or `SCHEDULED`.
const COMPLETE: usize = 1 << 2;

/// `JoinHandle::abort` (or runtime shutdown) asked for the future to be dropped. The executor honours
/// it at the next point where the future is not being polled. Stays set after `COMPLETE` so that the
/// history is visible when debugging; it has no effect on a complete task.
const CANCELLED: usize = 1 << 3;

/// The `JoinHandle` still exists. Cleared when it is dropped. If it is clear when the task completes,
/// the executor drops the output at once, because nobody can read it.
const JOIN_INTEREST: usize = 1 << 4;

/// The task was spawned from another thread (`Handle::spawn`): its joiner is a `RemoteJoinHandle`,
/// which may be on any thread, so the `join_waker` slot is handed over through `JOIN_WAKER`
/// instead of being the runtime thread's. Set at allocation, never changed.
const REMOTE: usize = 1 << 5;

/// Remote tasks only: the `join_waker` slot holds the joiner's waker and belongs to the runtime
/// thread, which takes it at completion. While it is clear and the task is not complete, the slot
/// belongs to the `RemoteJoinHandle`. Set and cleared only by the `RemoteJoinHandle`; completion
/// leaves it as it is (after `COMPLETE` the joiner never touches the slot again).
const JOIN_WAKER: usize = 1 << 6;

/// The reference count lives above the flag bits.
const REF_SHIFT: usize = 7;
/// One reference, in the units of the state word.
const REF_ONE: usize = 1 << REF_SHIFT;
/// Mask of the flag bits.
const FLAGS: usize = REF_ONE - 1;

/// A task's atomic state word. See the module documentation for the meaning of each bit.
pub(crate) struct State(AtomicUsize);

/// A copy of the state word at one instant, for reading flags without further atomics.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// Outcome of a wake: should the waker push the task onto a run queue?
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToScheduled {
    /// The task was idle; it is now `SCHEDULED` and the caller must enqueue it.
    Enqueue,
    /// Nothing to do: already queued, running (the executor will re-queue it), or complete.
    Nothing,
}

/// Outcome of the executor taking a task from a run queue.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// The task was aborted while queued: drop the future instead of polling it.
    Cancel,
}

/// Outcome of a poll that returned `Poll::Pending`.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Nobody woke the task during the poll: it waits for its waker.
    Idle,
    /// A wake arrived during the poll: push the task onto the local queue again.
    Requeue,
    /// The task was aborted during its own poll: drop the future now.
    Cancel,
}

/// Outcome of the future finishing (with an output, a panic or a cancellation).
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToComplete {
    /// A `JoinHandle` exists: keep the output and wake the handle's waker (take it from the
    /// `join_waker` slot, which is the runtime thread's now).
    NotifyJoiner,
    /// A `RemoteJoinHandle` exists but has registered no waker: keep the output, and leave the
    /// `join_waker` slot alone (it is the handle's).
    KeepOutput,
    /// The handle is gone: drop the output now.
    DropOutput,
}

/// Outcome of `JoinHandle::abort`.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToCancelled {
    /// The task was idle: it is now scheduled and the caller must enqueue it, so the executor drops
    /// its future on the runtime thread.
    Enqueue,
    /// Queued or running (the executor will see the flag), or already complete.
    Nothing,
}

/// Outcome of dropping the `JoinHandle`.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropJoinHandle {
    /// The task is complete: the handle must drop the output that nobody will read.
    DropOutput,
    /// The task still runs (detached): it will drop its own output when it completes.
    Detached,
}

/// Outcome of a `RemoteJoinHandle` poll's transitions on the `join_waker` slot.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoteJoin {
    /// The task is complete: its output may be read (its completion was seen with `Acquire`).
    Complete,
    /// `JOIN_WAKER` is clear and the task incomplete: the handle alone may touch the slot.
    SlotIsOurs,
    /// `JOIN_WAKER` is set: the slot is the runtime thread's until completion.
    Registered,
}

/// Outcome of dropping a `RemoteJoinHandle`.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropRemoteJoinHandle {
    /// The task is complete: the handle drops the output nobody will read. The slot is left
    /// alone: if it held a waker, completion took it.
    DropOutput,
    /// The task runs on, detached, and the slot held the handle's waker: with `JOIN_WAKER` and
    /// `JOIN_INTEREST` cleared together, completion will not touch it, so the handle takes it.
    DetachedTakeWaker,
    /// The task runs on, detached, with an empty slot.
    Detached,
}

impl State {
    /// The state of a freshly spawned task: queued, with a `JoinHandle`, and two references (the
    /// executor's owned-task list and the `JoinHandle`).
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(SCHEDULED | JOIN_INTEREST | (2 * REF_ONE)))
    }

    /// Reads the current state.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Runs `decide` in a compare-and-swap loop: it returns the outcome and, if the word must
    /// change, the new value.
    fn transition<T>(&self, mut decide: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let (outcome, next) = decide(Snapshot(current));
            let Some(next) = next else { return outcome };
            match self.0.compare_exchange_weak(current, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return outcome,
                Err(actual) => current = actual,
            }
        }
    }

    /// A waker fired (on any thread).
    pub(crate) fn transition_to_scheduled(&self) -> ToScheduled {
        self.transition(|s| {
            if s.has(COMPLETE | SCHEDULED) {
                (ToScheduled::Nothing, None)
            } else if s.has(RUNNING) {
                (ToScheduled::Nothing, Some(s.with(SCHEDULED)))
            } else {
                (ToScheduled::Enqueue, Some(s.with(SCHEDULED)))
            }
        })
    }

    /// The executor popped the task from a run queue (runtime thread).
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.transition(|s| {
            debug_assert!(s.has(SCHEDULED) && !s.has(RUNNING | COMPLETE), "bad pop: {s:?}");
            let next = s.without(SCHEDULED).with(RUNNING);
            let outcome = if s.has(CANCELLED) { ToRunning::Cancel } else { ToRunning::Poll };
            (outcome, Some(next))
        })
    }

    /// The poll returned `Pending` (runtime thread).
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.transition(|s| {
            debug_assert!(s.has(RUNNING) && !s.has(COMPLETE), "bad idle: {s:?}");
            if s.has(CANCELLED) {
                // Stay RUNNING: the caller drops the future and completes the task next.
                (ToIdle::Cancel, None)
            } else if s.has(SCHEDULED) {
                (ToIdle::Requeue, Some(s.without(RUNNING)))
            } else {
                (ToIdle::Idle, Some(s.without(RUNNING)))
            }
        })
    }

    /// The future is gone and its result stored (runtime thread).
    pub(crate) fn transition_to_complete(&self) -> ToComplete {
        self.transition(|s| {
            debug_assert!(s.has(RUNNING) && !s.has(COMPLETE), "bad complete: {s:?}");
            let next = s.without(RUNNING | SCHEDULED).with(COMPLETE);
            let outcome = if !s.has(JOIN_INTEREST) {
                ToComplete::DropOutput
            } else if s.has(REMOTE) && !s.has(JOIN_WAKER) {
                ToComplete::KeepOutput
            } else {
                ToComplete::NotifyJoiner
            };
            (outcome, Some(next))
        })
    }

    /// Runtime shutdown claims a task that is not running, whatever else it is: it will be cancelled
    /// and completed by the caller (runtime thread).
    pub(crate) fn transition_to_shutdown(&self) {
        self.transition(|s| {
            debug_assert!(!s.has(RUNNING | COMPLETE), "bad shutdown: {s:?}");
            ((), Some(s.without(SCHEDULED).with(RUNNING | CANCELLED)))
        })
    }

    /// `JoinHandle::abort` or `AbortHandle::abort` (any thread: like a wake, it queues the task
    /// only if it takes the `SCHEDULED` claim).
    pub(crate) fn transition_to_cancelled(&self) -> ToCancelled {
        self.transition(|s| {
            if s.has(COMPLETE | CANCELLED) {
                (ToCancelled::Nothing, None)
            } else if s.has(RUNNING | SCHEDULED) {
                (ToCancelled::Nothing, Some(s.with(CANCELLED)))
            } else {
                (ToCancelled::Enqueue, Some(s.with(CANCELLED | SCHEDULED)))
            }
        })
    }

    /// The `JoinHandle` is being dropped (runtime thread).
    pub(crate) fn drop_join_interest(&self) -> DropJoinHandle {
        self.transition(|s| {
            let outcome =
                if s.has(COMPLETE) { DropJoinHandle::DropOutput } else { DropJoinHandle::Detached };
            (outcome, Some(s.without(JOIN_INTEREST)))
        })
    }

    /// The state of a task spawned from another thread (`Handle::spawn`): queued (it goes on the
    /// executor's spawn queue), remote, with a `RemoteJoinHandle`, and two references (the one
    /// the owned list takes over when the runtime thread adopts the task, and the handle's).
    pub(crate) fn new_remote() -> State {
        State(AtomicUsize::new(SCHEDULED | JOIN_INTEREST | REMOTE | (2 * REF_ONE)))
    }

    /// A remote task whose runtime was gone before it could take it: never polled, its future
    /// dropped by the spawner, its `JoinError::Cancelled` stored. Only the `RemoteJoinHandle`
    /// holds a reference. The caller is the only party that can reach the task.
    pub(crate) fn set_cancelled_unspawned(&self) {
        self.0.store(COMPLETE | CANCELLED | JOIN_INTEREST | REMOTE | REF_ONE, Ordering::Release);
    }

    /// A `RemoteJoinHandle` wants the `join_waker` slot to (re)place its waker (any thread).
    /// `Complete`: too late, the task completed; read the output (and leave the slot alone).
    pub(crate) fn remote_join_unregister(&self) -> RemoteJoin {
        self.transition(|s| {
            debug_assert!(s.has(REMOTE) && s.has(JOIN_INTEREST), "bad remote join: {s:?}");
            if s.has(COMPLETE) {
                (RemoteJoin::Complete, None)
            } else if s.has(JOIN_WAKER) {
                (RemoteJoin::SlotIsOurs, Some(s.without(JOIN_WAKER)))
            } else {
                (RemoteJoin::SlotIsOurs, None)
            }
        })
    }

    /// A `RemoteJoinHandle` wrote its waker into the slot and hands it to the runtime thread
    /// (any thread). `Complete`: the task completed first; the slot is still the handle's, so it
    /// takes its waker back and reads the output.
    pub(crate) fn remote_join_register(&self) -> RemoteJoin {
        self.transition(|s| {
            debug_assert!(s.has(REMOTE) && s.has(JOIN_INTEREST) && !s.has(JOIN_WAKER), "{s:?}");
            if s.has(COMPLETE) {
                (RemoteJoin::Complete, None)
            } else {
                (RemoteJoin::Registered, Some(s.with(JOIN_WAKER)))
            }
        })
    }

    /// The `RemoteJoinHandle` is being dropped (any thread).
    pub(crate) fn remote_drop_join_interest(&self) -> DropRemoteJoinHandle {
        self.transition(|s| {
            let outcome = if s.has(COMPLETE) {
                DropRemoteJoinHandle::DropOutput
            } else if s.has(JOIN_WAKER) {
                DropRemoteJoinHandle::DetachedTakeWaker
            } else {
                DropRemoteJoinHandle::Detached
            };
            (outcome, Some(s.without(JOIN_INTEREST | JOIN_WAKER)))
        })
    }

    /// Adds a reference (a waker was cloned).
    pub(crate) fn ref_inc(&self) {
        let previous = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // Like `Arc`, refuse to let the count wrap: a wrapped count would free a live task. Reaching
        // this needs ~2^58 leaked wakers, so it is a bug somewhere else; abort rather than unwind.
        if previous > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Removes a reference. Returns `true` if it was the last one: the caller must free the task.
    #[must_use]
    pub(crate) fn ref_dec(&self) -> bool {
        let previous = self.0.fetch_sub(REF_ONE, Ordering::AcqRel);
        debug_assert!(previous >= REF_ONE, "reference count underflow");
        previous & !FLAGS == REF_ONE
    }
}

impl Snapshot {
    fn has(self, bits: usize) -> bool {
        self.0 & bits != 0
    }

    fn with(self, bits: usize) -> Snapshot {
        Snapshot(self.0 | bits)
    }

    fn without(self, bits: usize) -> Snapshot {
        Snapshot(self.0 & !bits)
    }

    /// The future has finished and its result is stored or taken.
    pub(crate) fn is_complete(self) -> bool {
        self.has(COMPLETE)
    }

    /// The `JoinHandle` still exists (and holds a reference).
    pub(crate) fn has_join_interest(self) -> bool {
        self.has(JOIN_INTEREST)
    }

    /// A poll is in progress (the executor holds the `RUNNING` claim).
    pub(crate) fn is_running(self) -> bool {
        self.has(RUNNING)
    }

    /// The number of references held (owned list, `JoinHandle`, wakers).
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (SCHEDULED, "SCHEDULED"),
            (RUNNING, "RUNNING"),
            (COMPLETE, "COMPLETE"),
            (CANCELLED, "CANCELLED"),
            (JOIN_INTEREST, "JOIN_INTEREST"),
            (REMOTE, "REMOTE"),
            (JOIN_WAKER, "JOIN_WAKER"),
        ];
        let mut flags = f.debug_set();
        for (bit, name) in names {
            if self.has(bit) {
                flags.entry(&format_args!("{name}"));
            }
        }
        flags.finish()?;
        write!(f, " refs={}", self.ref_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_poll_pending_wake_poll_ready() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_idle(), ToIdle::Idle);
        assert_eq!(state.transition_to_scheduled(), ToScheduled::Enqueue);
        // A second wake before the poll is absorbed: the task is queued once.
        assert_eq!(state.transition_to_scheduled(), ToScheduled::Nothing);
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_complete(), ToComplete::NotifyJoiner);
        assert!(state.load().is_complete());
        // Wakes after completion do nothing.
        assert_eq!(state.transition_to_scheduled(), ToScheduled::Nothing);
    }

    #[test]
    fn wake_while_running_requeues_after_the_poll() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        // The waker must not enqueue a running task ...
        assert_eq!(state.transition_to_scheduled(), ToScheduled::Nothing);
        // ... the executor does, once the poll has returned.
        assert_eq!(state.transition_to_idle(), ToIdle::Requeue);
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
    }

    #[test]
    fn abort_idle_running_queued_complete() {
        // Idle: abort schedules the task so the executor drops it.
        let idle = State::new();
        assert_eq!(idle.transition_to_running(), ToRunning::Poll);
        assert_eq!(idle.transition_to_idle(), ToIdle::Idle);
        assert_eq!(idle.transition_to_cancelled(), ToCancelled::Enqueue);
        assert_eq!(idle.transition_to_running(), ToRunning::Cancel);

        // Queued: the flag is seen when it is popped.
        let queued = State::new();
        assert_eq!(queued.transition_to_cancelled(), ToCancelled::Nothing);
        assert_eq!(queued.transition_to_running(), ToRunning::Cancel);

        // Running (aborting itself): seen when the poll returns.
        let running = State::new();
        assert_eq!(running.transition_to_running(), ToRunning::Poll);
        assert_eq!(running.transition_to_cancelled(), ToCancelled::Nothing);
        assert_eq!(running.transition_to_idle(), ToIdle::Cancel);

        // Complete: nothing to cancel.
        let done = State::new();
        assert_eq!(done.transition_to_running(), ToRunning::Poll);
        assert_eq!(done.transition_to_complete(), ToComplete::NotifyJoiner);
        assert_eq!(done.transition_to_cancelled(), ToCancelled::Nothing);
    }

    #[test]
    fn join_handle_dropped_before_and_after_completion() {
        let before = State::new();
        assert_eq!(before.drop_join_interest(), DropJoinHandle::Detached);
        assert_eq!(before.transition_to_running(), ToRunning::Poll);
        assert_eq!(before.transition_to_complete(), ToComplete::DropOutput);

        let after = State::new();
        assert_eq!(after.transition_to_running(), ToRunning::Poll);
        assert_eq!(after.transition_to_complete(), ToComplete::NotifyJoiner);
        assert_eq!(after.drop_join_interest(), DropJoinHandle::DropOutput);
    }

    #[test]
    fn reference_count_reports_the_last_release() {
        let state = State::new();
        assert_eq!(state.load().ref_count(), 2);
        state.ref_inc();
        assert!(!state.ref_dec());
        assert!(!state.ref_dec());
        assert!(state.ref_dec());
    }

    #[test]
    fn debug_names_the_bits() {
        let state = State::new();
        assert_eq!(format!("{:?}", state.load()), "{SCHEDULED, JOIN_INTEREST} refs=2");
    }

    #[test]
    fn remote_join_waker_hand_off() {
        // Registered before completion: completion takes the slot and wakes the joiner.
        let state = State::new_remote();
        assert_eq!(state.remote_join_unregister(), RemoteJoin::SlotIsOurs);
        assert_eq!(state.remote_join_register(), RemoteJoin::Registered);
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        // Re-registering takes the slot back, then gives it again.
        assert_eq!(state.remote_join_unregister(), RemoteJoin::SlotIsOurs);
        assert_eq!(state.remote_join_register(), RemoteJoin::Registered);
        assert_eq!(state.transition_to_complete(), ToComplete::NotifyJoiner);
        assert_eq!(state.remote_join_unregister(), RemoteJoin::Complete);
        assert_eq!(state.remote_drop_join_interest(), DropRemoteJoinHandle::DropOutput);

        // No waker registered at completion: the output is kept, the slot left to the joiner.
        let unregistered = State::new_remote();
        assert_eq!(unregistered.transition_to_running(), ToRunning::Poll);
        assert_eq!(unregistered.remote_join_unregister(), RemoteJoin::SlotIsOurs);
        assert_eq!(unregistered.transition_to_complete(), ToComplete::KeepOutput);
        assert_eq!(unregistered.remote_join_register(), RemoteJoin::Complete);

        // Dropped while registered: the handle takes its waker back; completion drops the output.
        let detached = State::new_remote();
        assert_eq!(detached.remote_join_unregister(), RemoteJoin::SlotIsOurs);
        assert_eq!(detached.remote_join_register(), RemoteJoin::Registered);
        assert_eq!(detached.remote_drop_join_interest(), DropRemoteJoinHandle::DetachedTakeWaker);
        assert_eq!(detached.transition_to_running(), ToRunning::Poll);
        assert_eq!(detached.transition_to_complete(), ToComplete::DropOutput);
    }

    #[test]
    fn a_remote_task_its_runtime_never_took() {
        let state = State::new_remote();
        assert_eq!(format!("{:?}", state.load()), "{SCHEDULED, JOIN_INTEREST, REMOTE} refs=2");
        state.set_cancelled_unspawned();
        let s = state.load();
        assert!(s.is_complete() && s.has_join_interest() && s.ref_count() == 1);
        assert_eq!(state.remote_drop_join_interest(), DropRemoteJoinHandle::DropOutput);
    }
}
