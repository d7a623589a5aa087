//! The vocabulary: every event the runtime reports, each small and `Copy`, so that recording one
//! is a store into a buffer.
//!
//! Events are reported at the few named points of the task lifecycle (the arrows of the diagram
//! in `executor/src/task.rs`) and of the reactor's turn (`reactor/src/driver.rs`). They say what
//! happened, not who was running: that follows from their order. A `Wake` recorded between a
//! task's `PollStart` and `PollEnd` was made by that task; one recorded between a `Park` and its
//! `Unpark` was made by the reactor, on behalf of its [`Cause`].
//!
//! Two clocks' worth of times appear. A [`Record`]'s `at_ns` counts from the recording's
//! start; the instants inside events (a timer's deadline, where a paused clock jumped) are the
//! runtime's clock as it reads, counted from the reactor's creation, because that is what the
//! timing wheel holds and copying it costs nothing. The two differ by the recording's origin
//! ([`Recording::origin_ns`](crate::Recording::origin_ns)), which the views subtract.

use std::fmt;
use std::panic::Location;

/// A task's identity while it is alive: the address of its allocation.
///
/// Addresses are reused once a task is freed, so a key names the task most recently spawned at
/// that address: a reader of the record resolves it in order, from each `Spawn` on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey(pub usize);

impl TaskKey {
    /// The future given to `block_on` (asyncio's main coroutine): it is no spawned task, so it
    /// has no allocation of its own, and this key is no address.
    pub const ROOT: TaskKey = TaskKey(0);
}

impl fmt::Debug for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == TaskKey::ROOT { f.write_str("root") } else { write!(f, "{:#x}", self.0) }
    }
}

/// The direction of a socket's readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Readable (or closed for reading).
    Read,
    /// Writable (or closed for writing).
    Write,
}

/// A synchronization primitive of `cashier::sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Primitive {
    /// `mpsc`, and what it handed over or what a task waits on it for: one channel wakes its
    /// receiver and its senders for different news.
    Channel(ChannelNews),
    /// `oneshot`.
    Oneshot,
    /// `Semaphore` (a permit).
    Semaphore,
    /// `Event` (set).
    Event,
    /// `Mutex` (the lock).
    Mutex,
}

/// What an `mpsc` channel handed a waiting task, or what the task waits on it for.
///
/// The receiver waits for a [`Message`](ChannelNews::Message) and is woken by one, or by the
/// [`Ended`](ChannelNews::Ended) news; a sender on a full bounded channel waits for a
/// [`Slot`](ChannelNews::Slot) and is woken by one, or by the [`Closed`](ChannelNews::Closed)
/// news. A task never reports waiting on `Ended` or `Closed`: those only answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelNews {
    /// A message was queued (a send woke the receiver).
    Message,
    /// A slot was freed and reserved for the oldest waiting sender (a receive took a message,
    /// or a dropped send passed on the slot it had been given).
    Slot,
    /// The last sender was dropped: the receiver will get `None` once the queue is drained.
    Ended,
    /// The receiver closed the channel or was dropped: the waiting senders' sends fail.
    Closed,
}

impl ChannelNews {
    /// Whether this is the receiver's news (a message, the end), not a sender's (a slot, the
    /// close).
    pub fn for_receiver(self) -> bool {
        matches!(self, ChannelNews::Message | ChannelNews::Ended)
    }
}

impl Primitive {
    /// Whether a hand-off of `self` is news for a task waiting on `waited`: the same primitive,
    /// and for a channel the same side (the receiver's or a sender's).
    pub fn answers(self, waited: Primitive) -> bool {
        match (self, waited) {
            (Primitive::Channel(news), Primitive::Channel(wanted)) => {
                news.for_receiver() == wanted.for_receiver()
            }
            (handed, waited) => handed == waited,
        }
    }
}

/// On whose behalf a waker was called.
///
/// The code that calls a waker for a reason names it around the call with
/// [`with_cause`](crate::with_cause); a wake made with no cause named is [`Cause::Direct`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// Nobody named a reason: a plain `wake` by whoever is running (the task being polled waking
    /// itself, or a hand-written future).
    Direct,
    /// A timer of the wheel fired.
    Timer {
        /// The timer's slab index in the wheel.
        timer: u32,
        /// Its deadline, in nanoseconds of the runtime's clock.
        deadline_ns: u64,
    },
    /// A socket became ready.
    Io {
        /// Its file descriptor.
        fd: i32,
        /// Which way.
        direction: Direction,
    },
    /// A waker called on another thread (a `to_thread` job finishing, a foreign thread): seen
    /// when the runtime moves the task from its remote queue to the local one.
    Remote,
    /// A synchronization primitive handed something over to the waiting task.
    HandOff(Primitive),
    /// The task whose `JoinHandle` is awaited completed.
    Join {
        /// The task that completed.
        task: TaskKey,
    },
    /// `yield_now`: the task stepped to the back of the queue.
    Yield,
    /// The task spent its cooperative budget (`cashier-budget`): a resource that was ready
    /// refused it, and it stepped to the back of the queue so that others could run.
    Budget,
    /// `JoinHandle::abort` on an idle task: it is queued only so that the executor drops its
    /// future (an `Abort` event comes right before; who aborted is whoever was polled). It
    /// answers nothing the task waited on: the task will not be polled again.
    Abort,
}

impl Cause {
    /// Whether a wake for this cause is the one `on` was waiting for: a task woken by timer #5
    /// no longer waits on timer #5, but still on whatever else it reported. (A remote wake
    /// answers any `to_thread` job: the runtime cannot tell which thread called the waker.)
    pub fn answers(self, on: WaitOn) -> bool {
        match (self, on) {
            (Cause::Timer { timer, .. }, WaitOn::Timer { timer: waited, .. }) => timer == waited,
            (Cause::Io { fd, direction }, WaitOn::Io { fd: f, direction: d }) => {
                fd == f && direction == d
            }
            (Cause::Remote, WaitOn::Job { .. }) => true,
            (Cause::HandOff(primitive), WaitOn::Primitive(waited)) => primitive.answers(waited),
            (Cause::Join { task }, WaitOn::Join { task: waited }) => task == waited,
            _ => false,
        }
    }
}

/// What a wake did with the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue {
    /// Pushed on the local run queue (runtime thread: no lock, no system call).
    Local,
    /// Moved from the remote queue, where another thread pushed it.
    Remote,
    /// Woken during its own poll: only flagged, and queued again when the poll returns.
    WhileRunning,
    /// Already scheduled: nothing to do.
    AlreadyScheduled,
}

/// What a pending future arranged to be woken by: reported by the leaf future (a sleep, a
/// socket, a `to_thread` job, a primitive, a `JoinHandle`) when it stores its task's waker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitOn {
    /// A timer of the wheel.
    Timer {
        /// The timer's slab index in the wheel.
        timer: u32,
        /// Its deadline, in nanoseconds of the runtime's clock.
        deadline_ns: u64,
    },
    /// A socket's readiness.
    Io {
        /// Its file descriptor.
        fd: i32,
        /// Which way.
        direction: Direction,
    },
    /// A `to_thread` job's result.
    Job {
        /// The job's number.
        job: u64,
    },
    /// A synchronization primitive.
    Primitive(Primitive),
    /// Another task's completion, through its `JoinHandle`.
    Join {
        /// The task awaited.
        task: TaskKey,
    },
}

/// How one poll ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollResult {
    /// The future is waiting.
    Pending,
    /// The future returned its output.
    Ready,
    /// The future panicked (contained; reported through its handle).
    Panicked,
}

/// How a task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its future returned.
    Returned,
    /// Its future panicked.
    Panicked,
    /// It was aborted, or the runtime shut down first.
    Cancelled,
}

/// Why the reactor waits as long as it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// Tasks are ready to run: only a look at the OS, no blocking.
    Busy,
    /// Nothing can run before the timing wheel next has work: the wait ends then.
    NextTimer {
        /// When the wait ends (nanoseconds): the wheel's next expiration, which is the nearest
        /// timer's deadline or the start of the next wheel slot holding timers (they are then
        /// cascaded to lower levels, and none may fire). The views tell which by the timers
        /// tasks reported waiting on.
        deadline_ns: u64,
    },
    /// No timer is armed: only I/O or another thread can wake the runtime.
    Idle,
    /// The clock is paused and a `to_thread` job is in flight: wait for it, not for time.
    Job,
    /// The clock is paused and everything waits on timers: the reactor only looks at the OS
    /// (no real wait), and if that look finds nothing, the clock jumps (`ClockJump`s follow).
    PausedJump {
        /// The wheel's next expiration, where a jump would go first (a timer's deadline or a
        /// wheel slot's start; the `ClockJump`s say where the clock went).
        to_ns: u64,
    },
}

/// One thing that happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A task was spawned (arrow 1). Its parent is whoever was running then.
    Spawn {
        /// The new task.
        task: TaskKey,
        /// Where `spawn` was called.
        location: &'static Location<'static>,
    },
    /// A task was given a name (`task::Builder::name`), right after its `Spawn`.
    Name {
        /// The task.
        task: TaskKey,
        /// Index into the recording's names.
        name: u32,
    },
    /// A poll begins (arrows 2 and 5).
    PollStart {
        /// The task polled ([`TaskKey::ROOT`] for the `block_on` future).
        task: TaskKey,
    },
    /// A poll ended.
    PollEnd {
        /// The task polled.
        task: TaskKey,
        /// How.
        result: PollResult,
        /// The clones of the task's waker alive as the poll returned, besides the executor's own
        /// references (its owned list's and the `JoinHandle`'s): after a `Pending`, zero means
        /// nothing can wake the task unless it woke itself during the poll (a lost waker).
        /// `None` for the `block_on` future, whose waker is not counted.
        wakers: Option<u32>,
    },
    /// The future being polled stored its task's waker with something that will call it: the
    /// task now waits on that (several such events in one poll: it waits on the first to come).
    Waits {
        /// What it waits on.
        on: WaitOn,
    },
    /// A task was woken (arrows 3 and 4).
    Wake {
        /// The task woken.
        task: TaskKey,
        /// On whose behalf.
        cause: Cause,
        /// What the wake did with it.
        queue: Queue,
    },
    /// `JoinHandle::abort` was called on a task.
    Abort {
        /// The task.
        task: TaskKey,
    },
    /// A task's future panicked, in a poll or in its destructor: what the panic said. It belongs
    /// to the task of the next `Complete` (which says `Panicked`), and carries no key of its own
    /// so that it can be reported where the panic becomes a `JoinError`, off the poll's path.
    Panicked {
        /// Index into the recording's strings: the panic's message (`&str` or `String`
        /// payloads), or `"Box<dyn Any>"` for any other payload.
        message: u32,
    },
    /// A `JoinHandle` took its task's output (or its `JoinError`): the result was retrieved.
    OutputTaken {
        /// The task.
        task: TaskKey,
    },
    /// A task's `JoinHandle` was dropped (before or after the task completed).
    HandleDropped {
        /// The task.
        task: TaskKey,
    },
    /// A task completed (arrow 7): its output, panic or cancellation is stored.
    Complete {
        /// The task.
        task: TaskKey,
        /// How it ended.
        outcome: Outcome,
    },
    /// The executor has nothing to run, or looks at I/O between polls: a reactor turn begins.
    Park {
        /// How long it may block (`None`: until woken), in nanoseconds.
        wait_ns: Option<u64>,
        /// Why that long.
        reason: WaitReason,
    },
    /// The reactor's turn ended, after the wakes it made (its timers' and sockets' tasks).
    Unpark {
        /// Readiness events the OS returned.
        io_events: u32,
        /// Whether another thread ended the wait.
        unparked: bool,
    },
    /// A timer fired.
    TimerFired {
        /// Its slab index.
        timer: u32,
        /// Its deadline (nanoseconds of the runtime's clock).
        deadline_ns: u64,
    },
    /// A socket became ready.
    IoReady {
        /// Its file descriptor.
        fd: i32,
        /// Readable.
        read: bool,
        /// Writable.
        write: bool,
    },
    /// A socket was registered with the reactor.
    IoRegistered {
        /// Its file descriptor.
        fd: i32,
    },
    /// A socket was deregistered.
    IoDeregistered {
        /// Its file descriptor.
        fd: i32,
    },
    /// A paused clock jumped forward to the next timer.
    ClockJump {
        /// The new time, in nanoseconds.
        to_ns: u64,
    },
    /// A `to_thread` job was handed to the pool.
    JobSubmitted {
        /// The job's number.
        job: u64,
    },
    /// A `to_thread` job's result was taken by the task awaiting it.
    JobFinished {
        /// The job's number.
        job: u64,
        /// How long it ran on its pool thread, in real nanoseconds.
        ran_ns: u64,
    },
}

/// An event and when it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Nanoseconds of the runtime's clock (virtual when paused) since the recording began.
    pub at_ns: u64,
    /// What happened.
    pub event: Event,
}
