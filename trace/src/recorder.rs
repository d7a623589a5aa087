//! The recorder: where events go while a runtime is being watched, and nowhere while it is not.
//!
//! # The seam
//!
//! The executor and the reactor call [`emit`] at their named points, and [`with_cause`] around
//! the wakes they make for a reason. Neither knows who listens: the root crate creates a
//! [`Recorder`] and makes it current on the runtime thread while
//! `block_on` runs ([`Recorder::scope`], or [`Recorder::enter`] where the caller cannot wrap its
//! code in a closure), as the executor's own thread-local does for `spawn`.
//!
//! # What it costs
//!
//! - **Off** (no recorder current): [`emit`] reads one thread-local pointer and finds it null;
//!   the event is never built (it is a closure), and [`with_cause`] calls straight through.
//! - **On**: one clock read and one store into a preallocated chunk per event (plus the
//!   listener's work, if one is set). Chunks hold
//!   [`CHUNK`] records and are allocated once per `CHUNK` events, never per event. Past the cap
//!   ([`Recorder::new`]) events are counted and dropped, so memory stays bounded, and the
//!   recording says how many were dropped.
//!
//! Only the runtime thread records: other threads' wakes are reported when the runtime drains
//! its remote queue ([`Cause::Remote`]), so the recorder needs no lock.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::ptr;

use crate::event::{Cause, Event, Record, TaskKey};

/// Records per chunk of the buffer (about 2.5 MB of records).
pub const CHUNK: usize = 64 * 1024;

/// Default cap on recorded events: about 40 MB of records.
pub const DEFAULT_CAP: usize = 1 << 20;

thread_local! {
    /// The recorder of the runtime running on this thread, or null when nobody watches.
    static CURRENT: Cell<*const Recorder> = const { Cell::new(ptr::null()) };
    /// The cause named by the innermost [`with_cause`] running on this thread.
    static CAUSE: Cell<Cause> = const { Cell::new(Cause::Direct) };
}

/// Collects the events of one runtime.
pub struct Recorder {
    /// The runtime's clock, in nanoseconds (virtual when paused).
    clock: Box<dyn Fn() -> u64>,
    /// The clock's reading when recording began: times are recorded relative to it.
    origin: u64,
    /// Full chunks, then the one being filled.
    chunks: RefCell<Vec<Vec<Record>>>,
    /// Most events kept.
    cap: usize,
    /// Events kept so far.
    len: Cell<usize>,
    /// Events dropped past the cap.
    dropped: Cell<u64>,
    /// Interned strings: task names (`Event::Name::name`) and panic messages
    /// (`Event::Panicked::message`).
    names: RefCell<Vec<Box<str>>>,
    /// Told of every event as it is recorded (the explain mode's narrator), if set.
    listener: RefCell<Option<Listener>>,
}

/// A function told of every event as it is recorded, with the strings interned so far (task
/// names and panic messages).
pub type Listener = Box<dyn FnMut(&Record, &[Box<str>])>;

/// Everything a recorder collected, in order.
#[derive(Debug, Default, Clone)]
pub struct Recording {
    /// Every event kept, in the order it happened.
    pub records: Vec<Record>,
    /// Interned strings: task names (`Event::Name::name`) and panic messages
    /// (`Event::Panicked::message`).
    pub names: Vec<Box<str>>,
    /// Events dropped because the cap was reached (the latest ones).
    pub dropped: u64,
    /// The runtime's clock when the recording began (nanoseconds): every record's `at_ns`
    /// counts from it, while the deadlines inside events are read on the runtime's clock as it
    /// is. A deadline minus this origin is the record time it falls at (the views print it so).
    pub origin_ns: u64,
}

impl Recorder {
    /// A recorder that keeps at most `cap` events and reads time from `clock` (nanoseconds).
    pub fn new(cap: usize, clock: Box<dyn Fn() -> u64>) -> Recorder {
        let origin = clock();
        Recorder {
            clock,
            origin,
            chunks: RefCell::new(vec![Vec::with_capacity(CHUNK.min(cap.max(1)))]),
            cap,
            len: Cell::new(0),
            dropped: Cell::new(0),
            names: RefCell::new(Vec::new()),
            listener: RefCell::new(None),
        }
    }

    /// The clock's reading when this recorder was made: every record's time counts from it
    /// ([`Recording::origin_ns`]). A listener that prints deadlines needs it (the
    /// [`Narrator`](crate::Narrator) is made with it).
    pub fn origin_ns(&self) -> u64 {
        self.origin
    }

    /// Tells `listener` of every event from now on, as it is recorded (also past the cap).
    pub fn set_listener(&self, listener: Listener) {
        *self.listener.borrow_mut() = Some(listener);
    }

    /// Makes this recorder current on this thread until the guard is dropped: the form for a
    /// caller whose hot code must not be split into two copies (one inside a closure for
    /// [`Recorder::scope`], one outside it), as `Runtime::block_on` is.
    ///
    /// # Safety
    /// The guard must be dropped, not leaked (`mem::forget`, a reference cycle): its drop is what
    /// takes the pointer to this recorder out of the thread-local before the borrow it holds
    /// ends. A guard kept in a local variable of the function that made it meets this.
    pub unsafe fn enter(&self) -> Enter<'_> {
        let previous = CURRENT.with(|current| current.replace(self));
        Enter(Restore { previous, _recorder: PhantomData })
    }

    /// Runs `f` with this recorder current on this thread: every event reported during `f` on
    /// this thread is recorded here. The previous recorder (if any) is current again afterwards,
    /// also when `f` unwinds.
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|current| current.replace(self));
        let _restore = Restore { previous, _recorder: PhantomData };
        f()
    }

    /// Stores one event.
    fn record(&self, event: Event) {
        let at_ns = (self.clock)().saturating_sub(self.origin);
        let record = Record { at_ns, event };
        // `try_borrow_mut`: a listener that itself reports an event is not told of it again.
        if let Ok(mut listener) = self.listener.try_borrow_mut()
            && let Some(listener) = listener.as_mut()
        {
            listener(&record, &self.names.borrow());
        }
        if self.len.get() >= self.cap {
            self.dropped.set(self.dropped.get() + 1);
            return;
        }
        let mut chunks = self.chunks.borrow_mut();
        if chunks.last().is_some_and(|chunk| chunk.len() == chunk.capacity()) {
            chunks.push(Vec::with_capacity(CHUNK));
        }
        chunks.last_mut().expect("a recorder always has a chunk").push(record);
        self.len.set(self.len.get() + 1);
    }

    /// Stores a name; returns its index.
    fn intern(&self, name: &str) -> u32 {
        let mut names = self.names.borrow_mut();
        names.push(name.into());
        u32::try_from(names.len() - 1).unwrap_or(u32::MAX)
    }

    /// Events kept so far.
    pub fn len(&self) -> usize {
        self.len.get()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len.get() == 0
    }

    /// Takes everything recorded so far, leaving the recorder empty (its cap counts afresh).
    pub fn take(&self) -> Recording {
        let chunks = std::mem::replace(&mut *self.chunks.borrow_mut(), vec![Vec::new()]);
        let records = chunks.into_iter().flatten().collect();
        let names = std::mem::take(&mut *self.names.borrow_mut());
        self.len.set(0);
        Recording { records, names, dropped: self.dropped.replace(0), origin_ns: self.origin }
    }
}

/// Makes the recorder of [`Recorder::enter`] current until dropped; see its safety contract.
pub struct Enter<'a>(#[allow(dead_code, reason = "held for its drop")] Restore<'a>);

/// Restores the previously current recorder when [`Recorder::scope`] ends (or an [`Enter`] guard
/// is dropped). Private to this file and held only on `scope`'s stack or inside an `Enter`, so
/// the pointer in `CURRENT` never outlives the borrow of the recorder it points to, as long as
/// `enter`'s contract is kept.
struct Restore<'a> {
    /// What was current before.
    previous: *const Recorder,
    /// Ties the guard to the recorder it made current.
    _recorder: PhantomData<&'a Recorder>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
    }
}

/// Runs `f` with the recorder current on this thread, if any.
///
/// The check is inlined into the caller; `f` is not. Event points sit in the hottest functions
/// of the runtime (a poll, a wake), and an event built inline there, even one never reached,
/// makes those functions bigger and less likely to be inlined into the run loop. So what runs
/// when somebody records is a separate cold function, and the caller keeps one load, one test and
/// a jump it never takes. (These checks still cost `ping_pong` measurably: BENCHMARKS.md.)
#[inline(always)]
fn with_current(f: impl FnOnce(&Recorder)) {
    let recorder = CURRENT.with(Cell::get);
    if !recorder.is_null() {
        with_recorder(recorder, f);
    }
}

/// The out-of-line half of [`with_current`].
#[cold]
#[inline(never)]
fn with_recorder(recorder: *const Recorder, f: impl FnOnce(&Recorder)) {
    // SAFETY: `recorder` was read from `CURRENT` just now, non-null: only inside
    // `Recorder::scope` or while an `Enter` guard lives, both of which borrow the recorder and
    // restore the previous pointer when they end (`enter`'s contract rules out a leaked guard).
    f(unsafe { &*recorder });
}

/// Whether a recorder listens on this thread.
#[inline(always)]
pub fn is_recording() -> bool {
    !CURRENT.with(Cell::get).is_null()
}

/// Reports an event. `event` is only called when a recorder listens, so building it costs
/// nothing when nobody does.
#[inline(always)]
pub fn emit(event: impl FnOnce() -> Event) {
    with_current(|recorder| recorder.record(event()));
}

/// Reports that `task` was named `name` (right after its `Spawn`).
pub fn emit_name(task: TaskKey, name: &str) {
    with_current(|recorder| {
        let name = recorder.intern(name);
        recorder.record(Event::Name { task, name });
    });
}

/// Reports that a task's future panicked with `payload` (before its `Complete`). The message
/// is only read out of the payload when a recorder listens. Wholly out of line, check included:
/// a panic is rare, and the poll function that calls this stays as small as it was.
#[cold]
#[inline(never)]
pub fn emit_panic(payload: &(dyn Any + Send)) {
    with_current(|recorder| {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            text
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.as_str()
        } else {
            "Box<dyn Any>"
        };
        let message = recorder.intern(message);
        recorder.record(Event::Panicked { message });
    });
}

/// Runs `wake` (a call to a waker) with `cause` named as the reason for any wake it makes on
/// this thread. Costs one thread-local read when nobody records.
#[inline(always)]
pub fn with_cause<R>(cause: impl FnOnce() -> Cause, wake: impl FnOnce() -> R) -> R {
    if !is_recording() {
        return wake();
    }
    with_cause_recorded(cause, wake)
}

/// The out-of-line half of [`with_cause`] (see [`with_current`] for why it is apart).
#[cold]
#[inline(never)]
fn with_cause_recorded<R>(cause: impl FnOnce() -> Cause, wake: impl FnOnce() -> R) -> R {
    let previous = CAUSE.with(|current| current.replace(cause()));
    // Restores the outer cause even if `wake` unwinds.
    struct Restore(Cause);
    impl Drop for Restore {
        fn drop(&mut self) {
            CAUSE.with(|current| current.set(self.0));
        }
    }
    let _restore = Restore(previous);
    wake()
}

/// The cause named by the innermost [`with_cause`] on this thread ([`Cause::Direct`] if none).
#[inline]
pub fn current_cause() -> Cause {
    CAUSE.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Queue;

    fn counter_clock() -> Box<dyn Fn() -> u64> {
        let now = Cell::new(100);
        Box::new(move || {
            now.set(now.get() + 10);
            now.get()
        })
    }

    #[test]
    fn nothing_is_recorded_without_a_current_recorder() {
        let built = Cell::new(false);
        emit(|| {
            built.set(true);
            Event::Abort { task: TaskKey::ROOT }
        });
        assert!(!built.get(), "the event is not even built");
        assert!(!is_recording());
    }

    #[test]
    fn events_are_recorded_in_order_relative_to_the_start() {
        let recorder = Recorder::new(DEFAULT_CAP, counter_clock());
        recorder.scope(|| {
            emit(|| Event::PollStart { task: TaskKey(8) });
            with_cause(
                || Cause::Yield,
                || {
                    emit(|| Event::Wake {
                        task: TaskKey(8),
                        cause: current_cause(),
                        queue: Queue::WhileRunning,
                    })
                },
            );
            emit_name(TaskKey(8), "names");
        });
        emit(|| Event::Abort { task: TaskKey(8) }); // after the scope: not recorded
        assert_eq!(current_cause(), Cause::Direct, "the cause is restored");
        let recording = recorder.take();
        let times: Vec<_> = recording.records.iter().map(|r| r.at_ns).collect();
        assert_eq!(times, [10, 20, 30]);
        assert!(matches!(recording.records[1].event, Event::Wake { cause: Cause::Yield, .. }));
        assert_eq!(&*recording.names[0], "names");
    }

    #[test]
    fn past_the_cap_events_are_counted_not_kept() {
        let recorder = Recorder::new(3, counter_clock());
        recorder.scope(|| {
            for _ in 0..10 {
                emit(|| Event::PollStart { task: TaskKey::ROOT });
            }
        });
        let recording = recorder.take();
        assert_eq!((recording.records.len(), recording.dropped), (3, 7));
    }

    #[test]
    fn chunks_grow_without_moving_recorded_events() {
        let recorder = Recorder::new(CHUNK * 2 + 5, counter_clock());
        recorder.scope(|| {
            for i in 0..CHUNK * 2 + 5 {
                emit(|| Event::JobSubmitted { job: i as u64 });
            }
        });
        let recording = recorder.take();
        assert_eq!(recording.records.len(), CHUNK * 2 + 5);
        assert!(
            recording
                .records
                .iter()
                .enumerate()
                .all(|(i, r)| r.event == Event::JobSubmitted { job: i as u64 })
        );
    }

    #[test]
    fn a_listener_hears_every_event_as_it_happens_even_past_the_cap() {
        let recorder = Recorder::new(1, counter_clock());
        let heard = std::rc::Rc::new(RefCell::new(Vec::new()));
        let log = heard.clone();
        recorder.set_listener(Box::new(move |record, names| {
            log.borrow_mut().push((record.at_ns, names.len()));
        }));
        recorder.scope(|| {
            emit_name(TaskKey(8), "ages");
            emit(|| Event::PollStart { task: TaskKey(8) });
        });
        assert_eq!(*heard.borrow(), [(10, 1), (20, 1)]);
        assert_eq!(recorder.take().dropped, 1);
    }
}
