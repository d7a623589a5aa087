//! A model test of the bounded `mpsc` channel: the real channel and a reference model (a queue
//! with a capacity, the senders waiting in arrival order, a closed flag) take the same random
//! operations, and every outcome of the real one must be the model's.
//!
//! The test is the scheduler. Each sender task is a boxed future owning its `Sender` clone, with a
//! waker that only raises a flag; "running" polls, in random order, the futures whose flag is up.
//! So every order of wake-ups an executor could choose is tried, and a lost wake-up shows exactly:
//! once no flag is up, a future the model says could finish (a sender granted a slot or facing a
//! closed channel, a receiver with a message or at the end) has nobody coming to poll it.
//!
//! After every step: each poll's result is the model's (so messages leave in order, none lost or
//! doubled, and a send is `Ok` exactly when its message entered the queue), the receiver holds as
//! many messages as the model and never more than the capacity, and `is_closed` agrees. At the end
//! of a sequence the senders are dropped, the channel drained, and the ledger balanced: what was
//! accepted was received, in order, except what the dropped receiver still held.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use cashier_executor::sync::mpsc::{self, Receiver, SendError, Sender, TryRecvError, TrySendError};

/// How many random sequences to run: `CASHIER_MODEL_CASES` if set, else `default`.
pub fn cases_from_env(default: u64) -> u64 {
    match std::env::var("CASHIER_MODEL_CASES") {
        Ok(cases) => cases.parse().expect("CASHIER_MODEL_CASES must be a number"),
        Err(_) => default,
    }
}

/// Runs `cases` sequences of `steps` random operations, seeds `0..cases`. A failing sequence is
/// reported with its seed and the operations that led to it.
pub fn check(cases: u64, steps: usize) {
    for seed in 0..cases {
        let mut run = Run::new(seed);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for _ in 0..steps {
                run.step();
            }
            run.finish();
        }));
        if let Err(panic) = outcome {
            eprintln!("mpsc model: seed {seed} failed after {:?}", run.history);
            resume_unwind(panic);
        }
    }
}

/// xorshift64*: small, fixed, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A waker that only raises a flag: the scheduler polls what was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Flag {
    /// Lowers the flag; returns whether it was up.
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// One operation of a sequence.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// Start a task sending a new value through a clone of a held sender.
    Spawn,
    /// Drop a sender task's future, wherever it is.
    Abort,
    /// `try_send` a new value through a held sender.
    TrySend,
    /// Poll `recv` (again, if it waits).
    Recv,
    /// `try_recv` (a waiting `recv` is given up first, as a `select` would).
    TryRecv,
    /// `close` the receiver.
    Close,
    /// Drop the receiver.
    DropReceiver,
    /// Clone a held sender.
    CloneSender,
    /// Drop a held sender.
    DropSender,
    /// Poll one woken future.
    RunOne,
    /// Poll woken futures until none is woken.
    RunUntilIdle,
}

/// Operations and their weights.
const OPS: [(Op, usize); 11] = [
    (Op::Spawn, 20),
    (Op::Abort, 6),
    (Op::TrySend, 8),
    (Op::Recv, 14),
    (Op::TryRecv, 6),
    (Op::Close, 1),
    (Op::DropReceiver, 1),
    (Op::CloneSender, 3),
    (Op::DropSender, 3),
    (Op::RunOne, 14),
    (Op::RunUntilIdle, 12),
];

/// Where the model says a sender task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not polled yet.
    Fresh,
    /// Queued for a slot (or, once the channel is closed, woken to find that out).
    Waiting,
    /// Granted a slot, not yet polled since.
    Granted,
}

/// A sender task: the real future and the model's view of it.
struct SendTask {
    /// Names the task in messages and in the model's queue of waiters.
    id: usize,
    /// The value it sends.
    value: u32,
    /// The real future; it owns a `Sender` clone.
    future: Pin<Box<dyn Future<Output = Result<(), SendError<u32>>>>>,
    /// Raised by its waker.
    flag: Arc<Flag>,
    /// Its waker.
    waker: Waker,
    /// The model's view.
    stage: Stage,
}

/// The reference: what the channel must do, written as plainly as possible.
#[derive(Debug)]
struct Model {
    /// Most messages queued at once.
    capacity: usize,
    /// Messages queued, oldest first.
    queue: VecDeque<u32>,
    /// Sender tasks waiting for a slot, oldest first (not those granted one).
    waiting: VecDeque<usize>,
    /// Sender tasks granted a slot that they have not used yet.
    granted: Vec<usize>,
    /// Closed by the receiver (or its drop).
    closed: bool,
    /// Live `Sender`s: held by the test, or owned by unfinished sender tasks.
    senders: usize,
}

impl Model {
    /// Whether a sender arriving now may queue its message at once: nobody waits ahead of it
    /// and a slot is neither filled nor granted.
    fn has_free_slot(&self) -> bool {
        self.waiting.is_empty() && self.queue.len() + self.granted.len() < self.capacity
    }

    /// A slot was freed: it goes to the oldest waiting sender, if any.
    fn free_slot(&mut self, tasks: &mut [SendTask]) {
        if let Some(next) = self.waiting.pop_front() {
            self.granted.push(next);
            let task = tasks.iter_mut().find(|t| t.id == next).expect("waiting task is live");
            task.stage = Stage::Granted;
        }
    }

    /// A sender task is polled. Closed wins: a closed channel fails every send still pending,
    /// even one granted a slot (that slot then goes to nobody: nobody waits once closed).
    fn poll_send(&mut self, task: &mut SendTask) -> Poll<Result<(), u32>> {
        if self.closed {
            self.leave(task.id);
            return Poll::Ready(Err(task.value));
        }
        match task.stage {
            Stage::Fresh if self.has_free_slot() => {
                self.queue.push_back(task.value);
                Poll::Ready(Ok(()))
            }
            Stage::Fresh => {
                self.waiting.push_back(task.id);
                task.stage = Stage::Waiting;
                Poll::Pending
            }
            Stage::Waiting => Poll::Pending,
            Stage::Granted => {
                self.leave(task.id);
                self.queue.push_back(task.value);
                Poll::Ready(Ok(()))
            }
        }
    }

    /// A sender task stops waiting; returns whether it had been granted a slot.
    fn leave(&mut self, id: usize) -> bool {
        self.waiting.retain(|&w| w != id);
        let granted = self.granted.contains(&id);
        self.granted.retain(|&g| g != id);
        granted
    }

    /// `recv` (`None` for "waits") or `try_recv`.
    fn recv(&mut self, tasks: &mut [SendTask]) -> Result<u32, TryRecvError> {
        match self.queue.pop_front() {
            Some(value) => {
                self.free_slot(tasks);
                Ok(value)
            }
            None if self.closed || self.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Whether a sender task could make progress if polled.
    fn sender_can_finish(&self, task: &SendTask) -> bool {
        self.closed || task.stage != Stage::Waiting
    }

    /// Whether a waiting `recv` could return if polled.
    fn receiver_can_finish(&self) -> bool {
        !self.queue.is_empty() || self.closed || self.senders == 0
    }
}

/// One sequence: the real channel, the model, and the ledger.
struct Run {
    /// Picks operations.
    rng: Rng,
    /// The reference.
    model: Model,
    /// The real receiver, until dropped.
    receiver: Option<Receiver<u32>>,
    /// Whether a `recv` is waiting (polled, pending, not given up).
    receiving: bool,
    /// The receiver's waker flag.
    receiver_flag: Arc<Flag>,
    /// The receiver's waker.
    receiver_waker: Waker,
    /// Senders held by the test.
    held: Vec<Sender<u32>>,
    /// Unfinished sender tasks.
    tasks: Vec<SendTask>,
    /// Next task id and next value.
    next_id: usize,
    /// Values sent successfully, in the order they entered the queue.
    accepted: Vec<u32>,
    /// Values received, in order.
    received: Vec<u32>,
    /// Values the dropped receiver still held.
    discarded: usize,
    /// Operations so far, for the failure report.
    history: Vec<Op>,
}

impl Run {
    fn new(seed: u64) -> Run {
        let mut rng = Rng::new(seed);
        let capacity = 1 + rng.below(3);
        let (tx, rx) = mpsc::channel(capacity);
        let receiver_flag = Arc::new(Flag::default());
        Run {
            rng,
            model: Model {
                capacity,
                queue: VecDeque::new(),
                waiting: VecDeque::new(),
                granted: Vec::new(),
                closed: false,
                senders: 1,
            },
            receiver: Some(rx),
            receiving: false,
            receiver_waker: Waker::from(receiver_flag.clone()),
            receiver_flag,
            held: vec![tx],
            tasks: Vec::new(),
            next_id: 0,
            accepted: Vec::new(),
            received: Vec::new(),
            discarded: 0,
            history: Vec::new(),
        }
    }

    /// Picks and applies one operation, then checks the state.
    fn step(&mut self) {
        let total: usize = OPS.iter().map(|(_, weight)| weight).sum();
        let mut pick = self.rng.below(total);
        let op = OPS
            .iter()
            .find(|(_, weight)| {
                let found = pick < *weight;
                pick = pick.saturating_sub(*weight);
                found
            })
            .map(|(op, _)| *op)
            .expect("the weights cover the range");
        self.history.push(op);
        self.apply(op);
        self.check_state();
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Spawn if !self.held.is_empty() => self.spawn(),
            Op::Abort if !self.tasks.is_empty() => {
                let index = self.rng.below(self.tasks.len());
                self.abort(index);
            }
            Op::TrySend if !self.held.is_empty() => self.try_send(),
            Op::Recv if self.receiver.is_some() => {
                let _ = self.poll_recv();
            }
            Op::TryRecv if self.receiver.is_some() => self.try_recv(),
            Op::Close if self.receiver.is_some() => {
                self.receiving = false;
                self.receiver.as_mut().unwrap().close();
                self.close_model();
            }
            Op::DropReceiver if self.receiver.is_some() => {
                self.receiving = false;
                drop(self.receiver.take());
                self.close_model();
                self.discarded = self.model.queue.len();
                self.model.queue.clear();
            }
            Op::CloneSender if !self.held.is_empty() && self.held.len() < 3 => {
                self.held.push(self.held[0].clone());
                self.model.senders += 1;
            }
            Op::DropSender if !self.held.is_empty() => {
                let index = self.rng.below(self.held.len());
                drop(self.held.swap_remove(index));
                self.model.senders -= 1;
            }
            Op::RunOne => {
                self.run_one();
            }
            Op::RunUntilIdle => self.run_until_idle(),
            _ => {} // not possible now
        }
    }

    fn spawn(&mut self) {
        let id = self.next_value();
        let tx = self.held[self.rng.below(self.held.len())].clone();
        self.model.senders += 1;
        let flag = Arc::new(Flag(AtomicBool::new(true))); // a new task is scheduled
        self.tasks.push(SendTask {
            id,
            value: id as u32,
            future: Box::pin(async move { tx.send(id as u32).await }),
            waker: Waker::from(flag.clone()),
            flag,
            stage: Stage::Fresh,
        });
    }

    fn next_value(&mut self) -> usize {
        self.next_id += 1;
        self.next_id
    }

    /// Drops a sender task's future (and with it its `Sender`).
    fn abort(&mut self, index: usize) {
        let task = self.tasks.swap_remove(index);
        drop(task.future);
        if self.model.leave(task.id) && !self.model.closed {
            self.model.free_slot(&mut self.tasks); // its unused slot passes on
        }
        self.model.senders -= 1;
    }

    fn try_send(&mut self) {
        let value = self.next_value() as u32;
        let tx = &self.held[self.rng.below(self.held.len())];
        let real = tx.try_send(value);
        let expected = if self.model.closed {
            Err(TrySendError::Closed(value))
        } else if !self.model.has_free_slot() {
            Err(TrySendError::Full(value))
        } else {
            self.model.queue.push_back(value);
            self.accepted.push(value);
            Ok(())
        };
        assert_eq!(real, expected, "try_send({value})");
    }

    fn poll_recv(&mut self) -> Poll<Option<u32>> {
        self.receiver_flag.take();
        let mut cx = Context::from_waker(&self.receiver_waker);
        let real = self.receiver.as_mut().unwrap().poll_recv(&mut cx);
        let expected = match self.model.recv(&mut self.tasks) {
            Ok(value) => Poll::Ready(Some(value)),
            Err(TryRecvError::Disconnected) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        };
        assert_eq!(real, expected, "recv");
        if let Poll::Ready(Some(value)) = real {
            self.received.push(value);
        }
        self.receiving = real.is_pending();
        real
    }

    fn try_recv(&mut self) {
        self.receiving = false;
        let real = self.receiver.as_mut().unwrap().try_recv();
        assert_eq!(real, self.model.recv(&mut self.tasks), "try_recv");
        if let Ok(value) = real {
            self.received.push(value);
        }
    }

    /// The model's side of `close` (and of the receiver's drop): waiters stop waiting.
    fn close_model(&mut self) {
        self.model.closed = true;
        self.model.waiting.clear();
    }

    /// Polls one woken future, chosen at random; returns whether there was one.
    fn run_one(&mut self) -> bool {
        let woken_tasks: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].flag.0.load(Ordering::SeqCst))
            .collect();
        let receiver_woken = self.receiving && self.receiver_flag.0.load(Ordering::SeqCst);
        let choices = woken_tasks.len() + usize::from(receiver_woken);
        if choices == 0 {
            return false;
        }
        let pick = self.rng.below(choices);
        match woken_tasks.get(pick) {
            Some(&index) => self.poll_task(index),
            None => {
                let _ = self.poll_recv();
            }
        }
        true
    }

    /// Polls a woken sender task and compares its outcome with the model's.
    fn poll_task(&mut self, index: usize) {
        let task = &mut self.tasks[index];
        task.flag.take();
        let real = task.future.as_mut().poll(&mut Context::from_waker(&task.waker));
        let real = real.map(|sent| sent.map_err(|SendError(value)| value));
        let expected = self.model.poll_send(task);
        let (id, value) = (task.id, task.value);
        assert_eq!(real, expected, "send of task {id}");
        if real.is_ready() {
            if expected == Poll::Ready(Ok(())) {
                self.accepted.push(value);
            }
            drop(self.tasks.swap_remove(index)); // the task ends: its `Sender` goes
            self.model.senders -= 1;
        }
    }

    /// Runs woken futures until none is woken, then checks that nobody was forgotten.
    fn run_until_idle(&mut self) {
        let mut polls = 0;
        while self.run_one() {
            polls += 1;
            assert!(polls < 10_000, "the futures keep waking each other");
            self.check_state();
        }
        for task in &self.tasks {
            assert!(
                !self.model.sender_can_finish(task),
                "lost wake-up: sender task {} ({:?}) could finish but nobody woke it; {:?}",
                task.id,
                task.stage,
                self.model
            );
        }
        assert!(
            !(self.receiving && self.model.receiver_can_finish()),
            "lost wake-up: recv could return but nobody woke it; {:?}",
            self.model
        );
    }

    /// What must hold between any two steps.
    fn check_state(&self) {
        if let Some(receiver) = &self.receiver {
            assert_eq!(receiver.len(), self.model.queue.len(), "messages queued");
            assert!(receiver.len() <= self.model.capacity, "over capacity");
        }
        assert!(self.model.queue.len() + self.model.granted.len() <= self.model.capacity);
        if let Some(tx) = self.held.first() {
            assert_eq!(tx.is_closed(), self.model.closed, "is_closed");
        }
    }

    /// Ends the sequence: the test drops its senders, everything runs out, and the ledger must
    /// balance.
    fn finish(&mut self) {
        self.model.senders -= self.held.len();
        self.held.clear();
        self.run_until_idle();
        let mut rounds = 0;
        while self.receiver.is_some() && self.poll_recv() != Poll::Ready(None) {
            self.run_until_idle();
            rounds += 1;
            assert!(rounds < 10_000, "the channel never ends");
        }
        assert!(self.tasks.is_empty(), "every sender task finished: {:?}", self.model);
        assert_eq!(self.received, self.accepted[..self.received.len()], "received in order");
        assert_eq!(self.received.len() + self.discarded, self.accepted.len(), "none lost");
    }
}

impl fmt::Debug for SendTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendTask").field("id", &self.id).field("stage", &self.stage).finish()
    }
}
