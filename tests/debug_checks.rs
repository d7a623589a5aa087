//! The debug checks on real programs: each mistake as a newcomer would make it, reported with
//! the task's name and spawn location, and the correct program of each kind, which gets not a
//! word. Every test runs on the paused clock; the one that must take real time (a poll that
//! blocks for 150 ms) cannot be faster than that, so it is deterministic too.

use std::cell::RefCell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use cashier::sync::{Event, Mutex, Semaphore, mpsc};
use cashier::task::{Builder as TaskBuilder, TaskState};
use cashier::{DebugChecks, Runtime, Warning, WarningKind, yield_now};

/// A paused runtime with the checks on (`checks` adjusted), and the warnings it reports.
///
/// The slow-poll limit starts at a minute, not the default 100 ms: a poll's real duration
/// depends on the machine (CI runs these tests under valgrind, beside other jobs), so only the
/// tests about slow polls set a limit they can hold to.
fn checked(
    checks: impl FnOnce(DebugChecks) -> DebugChecks,
) -> (Runtime, Rc<RefCell<Vec<Warning>>>) {
    let warnings = Rc::new(RefCell::new(Vec::new()));
    let kept = Rc::clone(&warnings);
    let checks = checks(DebugChecks::new().slow_poll(Duration::from_secs(60)))
        .report_to(move |w| kept.borrow_mut().push(w.clone()));
    let runtime = Runtime::builder().start_paused(true).debug_checks(checks).build().unwrap();
    (runtime, warnings)
}

/// The kinds of the warnings reported so far.
fn kinds(warnings: &RefCell<Vec<Warning>>) -> Vec<WarningKind> {
    warnings.borrow().iter().map(|w| w.kind).collect()
}

/// `file:line` of the caller, as a warning names a spawn location.
#[track_caller]
fn here() -> String {
    let at = Location::caller();
    format!("{}:{}", at.file(), at.line())
}

/// A newcomer's first hand-written future: it means to be woken "later", but never gives its
/// waker to anyone.
struct Later {
    /// Whether it was polled before.
    polled: bool,
}

impl Future for Later {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            return Poll::Ready(());
        }
        self.polled = true;
        Poll::Pending // and nothing will call the waker
    }
}

/// The same future done right: it wakes itself before returning `Pending`.
struct LaterDoneRight {
    /// Whether it was polled before.
    polled: bool,
}

impl Future for LaterDoneRight {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            return Poll::Ready(());
        }
        self.polled = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn a_future_that_returns_pending_without_storing_the_waker_is_a_lost_waker() {
    let (runtime, warnings) = checked(|checks| checks);
    let spawned_at = runtime.block_on(async {
        let (handle, at) =
            (TaskBuilder::new().name("later").spawn(Later { polled: false }), here());
        drop(handle);
        yield_now().await; // #1 runs once and is lost
        at
    });
    let warnings = warnings.borrow();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(
        (warnings[0].kind, warnings[0].task.as_str()),
        (WarningKind::LostWaker, "#1 \"later\"")
    );
    let named = format!("#1 \"later\" spawned at {spawned_at} returned Pending");
    assert!(warnings[0].text.starts_with(&named), "{}", warnings[0].text);
}

#[test]
fn a_future_that_wakes_itself_before_pending_is_no_lost_waker() {
    let (runtime, warnings) = checked(|checks| checks);
    runtime.block_on(async {
        cashier::spawn(LaterDoneRight { polled: false }).await.unwrap();
        cashier::sleep(Duration::from_secs(1)).await;
    });
    assert_eq!(kinds(&warnings), []);
}

#[test]
fn a_poll_that_busy_waits_150_ms_is_slow() {
    let (runtime, warnings) = checked(|checks| checks.slow_poll(Duration::from_millis(100)));
    let spawned_at = runtime.block_on(async {
        let spin = async {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(150) {} // blocks the thread
        };
        let (spinner, at) = (TaskBuilder::new().name("spinner").spawn(spin), here());
        spinner.unwrap().await.unwrap();
        at
    });
    let warnings = warnings.borrow();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0].kind, WarningKind::SlowPoll);
    let named = format!("#1 \"spinner\" spawned at {spawned_at} held the thread for 1");
    assert!(warnings[0].text.starts_with(&named), "{}", warnings[0].text);
}

#[test]
fn a_task_that_sleeps_150_ms_is_not_slow() {
    // A limit under the sleep, with room for a slow machine: what is checked is that the time
    // asleep is not counted, not how fast a poll is.
    let (runtime, warnings) = checked(|checks| checks.slow_poll(Duration::from_millis(140)));
    runtime.block_on(async {
        cashier::spawn(cashier::sleep(Duration::from_millis(150))).await.unwrap();
    });
    assert_eq!(kinds(&warnings), []);
}

#[test]
fn a_panic_in_a_task_whose_handle_was_dropped_is_an_unretrieved_failure() {
    // A panic hook that captures a backtrace (`RUST_BACKTRACE=1`) can hold the poll for over
    // 100 ms in a debug build: a true slow poll, but not this test's story (`checked` allows a
    // minute).
    let (runtime, warnings) = checked(|checks| checks);
    let spawned_at = runtime.block_on(async {
        let fire = async { panic!("the fryer caught fire") };
        let (fryer, at) = (TaskBuilder::new().name("fryer").spawn(fire), here());
        drop(fryer);
        yield_now().await;
        at
    });
    let warnings = warnings.borrow();
    assert_eq!(kinds_of(&warnings), [WarningKind::UnretrievedFailure]);
    let named =
        format!("#1 \"fryer\" spawned at {spawned_at} panicked with \"the fryer caught fire\"");
    assert!(warnings[0].text.starts_with(&named), "{}", warnings[0].text);
}

/// The kinds of `warnings`.
fn kinds_of(warnings: &[Warning]) -> Vec<WarningKind> {
    warnings.iter().map(|w| w.kind).collect()
}

#[test]
fn a_panic_whose_handle_is_awaited_is_retrieved() {
    // As above: a backtrace captured by the panic hook may be a true slow poll; not this story.
    let (runtime, warnings) = checked(|checks| checks);
    runtime.block_on(async {
        let failed = cashier::spawn(async { panic!("handled") }).await;
        assert!(failed.unwrap_err().is_panic());
    });
    drop(runtime); // the end: handles never awaited would be reported now
    assert_eq!(kinds(&warnings), []);
}

#[test]
fn a_panic_whose_handle_lives_but_is_never_awaited_is_reported_when_the_runtime_ends() {
    // As above: a backtrace captured by the panic hook may be a true slow poll; not this story.
    let (runtime, warnings) = checked(|checks| checks);
    let handle = runtime.spawn(async { panic!("nobody asked") });
    runtime.block_on(yield_now());
    assert_eq!(kinds(&warnings), [], "the handle may still be awaited");
    drop(runtime);
    assert_eq!(kinds(&warnings), [WarningKind::UnretrievedFailure]);
    assert!(warnings.borrow()[0].text.contains("never awaited"));
    drop(handle);
}

#[test]
fn a_loop_that_yields_until_nothing_happens_is_a_self_wake_storm() {
    let (runtime, warnings) = checked(|checks| checks.self_wakes(1_000));
    runtime.block_on(async {
        let ready = Rc::new(std::cell::Cell::new(false)); // nobody will ever set it
        let flag = Rc::clone(&ready);
        let poller = TaskBuilder::new().name("poller").spawn(async move {
            for _ in 0..2_000 {
                if flag.get() {
                    break;
                }
                yield_now().await; // "let the others run": there are none
            }
        });
        poller.unwrap().await.unwrap();
    });
    assert_eq!(kinds(&warnings), [WarningKind::SelfWakeStorm]);
    assert!(warnings.borrow()[0].text.starts_with("#1 \"poller\" spawned at"));
}

#[test]
fn a_task_the_budget_keeps_sending_to_the_back_of_the_queue_is_no_lost_waker_and_no_storm() {
    let (runtime, warnings) = checked(|checks| checks.self_wakes(10));
    runtime.block_on(async {
        // 128,000 ready operations: a thousand polls, each ended by the budget, whose refusal
        // wakes the task by reference (no waker clone is left out).
        let busy = cashier::spawn(async {
            for _ in 0..128_000 {
                cashier::task::consume_budget().await;
            }
        });
        busy.await.unwrap();
    });
    assert_eq!(kinds(&warnings), []);
}

#[test]
fn tasks_handing_messages_back_and_forth_are_no_storm() {
    let (runtime, warnings) = checked(|checks| checks.self_wakes(1_000));
    runtime.block_on(async {
        let (to_cook, mut orders) = mpsc::channel::<u32>(1);
        let (to_cashier, mut meals) = mpsc::channel::<u32>(1);
        let cook = cashier::spawn(async move {
            while let Some(order) = orders.recv().await {
                to_cashier.send(order).await.unwrap();
                yield_now().await; // a fair cook: one yield per order
            }
        });
        for order in 0..5_000 {
            to_cook.send(order).await.unwrap();
            assert_eq!(meals.recv().await, Some(order));
        }
        drop(to_cook);
        cook.await.unwrap();
    });
    assert_eq!(kinds(&warnings), []);
}

#[test]
fn waiting_on_a_channel_whose_sender_the_waiter_holds_is_a_hang() {
    let (runtime, warnings) = checked(|checks| checks);
    let stuck = runtime.spawn_named("stuck", async {
        let (sender, mut receiver) = mpsc::channel::<u32>(1);
        let _keep = sender; // "I'll send later" -- from this very task
        receiver.recv().await
    });
    let hung = catch_unwind(AssertUnwindSafe(|| runtime.block_on(stuck)));
    let payload = hung.expect_err("block_on must not block forever");
    let message = payload.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("would block forever"), "{message}");
    assert!(message.contains("#0 main"), "{message}");
    assert!(message.contains("the JoinHandle of #1 \"stuck\""), "{message}");
    assert!(message.contains("a channel message"), "{message}");
    assert_eq!(kinds(&warnings), []);
}

#[test]
fn correct_programs_never_trip_the_hang_check() {
    let (runtime, warnings) = checked(|checks| checks);
    runtime.block_on(async {
        let (sender, mut receiver) = mpsc::channel::<u32>(1);
        let producer = cashier::spawn(async move {
            cashier::sleep(Duration::from_secs(1)).await;
            sender.send(7).await.unwrap();
        });
        assert_eq!(receiver.recv().await, Some(7));
        producer.await.unwrap();
        let job = cashier::to_thread(|| std::thread::sleep(Duration::from_millis(20)));
        job.await.unwrap();
        let event = Rc::new(Event::new());
        let setter = Rc::clone(&event);
        cashier::spawn(async move { setter.set() }).await.unwrap();
        event.wait().await;
    });
    assert_eq!(kinds(&warnings), []);
}

#[test]
fn the_dump_shows_each_kind_of_wait_field_by_field() {
    let (runtime, warnings) = checked(|checks| checks);
    let (release, held) = std::sync::mpsc::channel::<()>();
    runtime.block_on(async move {
        let listener = cashier::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let named = |name| TaskBuilder::new().name(name);
        let (_sender, mut receiver) = mpsc::channel::<u32>(1);
        let semaphore = Rc::new(Semaphore::new(0));
        let event = Rc::new(Event::new());
        let mutex = Rc::new(Mutex::new(()));
        let guard = mutex.try_lock();
        let (s, e, m) = (Rc::clone(&semaphore), Rc::clone(&event), Rc::clone(&mutex));
        let sleeper = named("sleeper").spawn(cashier::sleep(Duration::from_secs(5))).unwrap();
        let accept = async move { listener.accept().await.map(drop) };
        let (accepter, at) = (named("accepter").spawn(accept).unwrap(), here());
        let receiving = named("receiver").spawn(async move { receiver.recv().await }).unwrap();
        let permit = named("permit").spawn(async move { s.acquire().await.map(drop) }).unwrap();
        let waiter = named("waiter").spawn(async move { e.wait().await }).unwrap();
        let locker = named("locker").spawn(async move { drop(m.lock().await) }).unwrap();
        let joiner = named("joiner").spawn(async move { receiving.await.ok() }).unwrap();
        let lost = named("lost").spawn(Later { polled: false }).unwrap();
        cashier::sleep(Duration::from_millis(250)).await; // every task polls once and waits
        // Spawned after the sleep: a paused clock does not jump while a job is in flight.
        let job = named("job").spawn(cashier::to_thread(move || held.recv().ok())).unwrap();
        yield_now().await; // the job's task polls once
        let dump = cashier::task::dump();
        println!("{dump}");
        assert_eq!(dump.live_tasks(), Some(9));
        let row = |name: &str| dump.task(name).unwrap_or_else(|| panic!("{name} in {dump}"));
        let spawned_at = row("accepter").spawned_at.map(|l| format!("{}:{}", l.file(), l.line()));
        assert_eq!(spawned_at, Some(at));
        assert_eq!(row("accepter").id, Some(2));
        for (name, waits_on) in [
            ("sleeper", "timer #"),
            ("accepter", "fd "),
            ("job", "to_thread job "),
            ("receiver", "a channel message"),
            ("permit", "a semaphore permit"),
            ("waiter", "an event"),
            // The mutex is a one-permit semaphore, and reports its wait as the semaphore's.
            ("locker", "a semaphore permit"),
            ("joiner", "the JoinHandle of #3 \"receiver\""),
            ("lost", "nothing holds its waker: it will never run again"),
        ] {
            let task = row(name);
            assert_eq!((task.state, task.polls), (TaskState::Idle, 1), "{name}");
            assert!(task.waits_on.starts_with(waits_on), "{name}: {}", task.waits_on);
            let age = if name == "job" { 0 } else { 250 };
            assert_eq!(task.age, Duration::from_millis(age), "{name}: spawned before the sleep?");
        }
        assert!(row("sleeper").waits_on.ends_with("(due 5.000s)"), "{}", row("sleeper").waits_on);
        assert!(row("accepter").waits_on.ends_with("readable"), "{}", row("accepter").waits_on);
        release.send(()).unwrap();
        job.await.unwrap().unwrap();
        drop((guard, sleeper, permit, waiter, locker, joiner, lost, accepter));
    });
    assert_eq!(kinds(&warnings), [WarningKind::LostWaker], "the deliberate one, #8");
}
