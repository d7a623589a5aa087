//! The executor's trace points, told as stories: each test records a small program and checks the
//! exact sequence of events the executor reported, one comment per entry.
//!
//! Tasks are written by the order they were spawned (`#1`, `#2`, ...; `#0` is the `block_on`
//! future), so the expected traces do not depend on addresses.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use cashier_executor::task_builder::Builder;
use cashier_executor::{Executor, spawn, sync, yield_now};
use cashier_trace::{DEFAULT_CAP, Event, Recorder, Recording, TaskKey};

/// Records everything `program` makes the executor do, on a clock that never moves.
fn record(program: impl FnOnce(&mut Executor)) -> Recording {
    let recorder = Recorder::new(DEFAULT_CAP, Box::new(|| 0));
    let mut executor = Executor::new();
    recorder.scope(|| program(&mut executor));
    recorder.take()
}

/// The events as short lines, with tasks named by spawn order.
fn story(recording: &Recording) -> Vec<String> {
    let mut ids: HashMap<TaskKey, usize> = HashMap::from([(TaskKey::ROOT, 0)]);
    let id = |key: TaskKey, ids: &mut HashMap<TaskKey, usize>| {
        let next = ids.len();
        format!("#{}", *ids.entry(key).or_insert(next))
    };
    recording
        .records
        .iter()
        .map(|record| match record.event {
            Event::Spawn { task, .. } => {
                let next = ids.len();
                ids.insert(task, next); // a new task, even at a reused address
                format!("spawn #{next}")
            }
            Event::Name { task, name } => {
                format!("name {} {}", id(task, &mut ids), recording.names[name as usize])
            }
            Event::PollStart { task } => format!("poll {}", id(task, &mut ids)),
            Event::PollEnd { task, result, wakers } => {
                let task = id(task, &mut ids);
                match wakers {
                    Some(wakers) => format!("end {task} {result:?} wakers={wakers}"),
                    None => format!("end {task} {result:?}"), // the root's are not counted
                }
            }
            Event::Panicked { message } => {
                format!("panicked {}", recording.names[message as usize])
            }
            Event::OutputTaken { task } => format!("taken {}", id(task, &mut ids)),
            Event::HandleDropped { task } => format!("dropped handle {}", id(task, &mut ids)),
            Event::Waits { on } => {
                format!("waits {on:?}").replace(&format!("{:?}", TaskKey(0)), "")
            }
            Event::Wake { task, cause, queue } => {
                let cause = match cause {
                    cashier_trace::Cause::Join { task } => format!("Join({})", id(task, &mut ids)),
                    other => format!("{other:?}"),
                };
                format!("wake {} {cause} {queue:?}", id(task, &mut ids))
            }
            Event::Abort { task } => format!("abort {}", id(task, &mut ids)),
            Event::Complete { task, outcome } => {
                format!("complete {} {outcome:?}", id(task, &mut ids))
            }
            other => format!("{other:?}"),
        })
        .map(|line| {
            // `Waits { on: Join { task: 0x55d... } }` names the task by address: drop it.
            line.split(" { task: 0x").next().unwrap_or(&line).to_owned()
        })
        .collect()
}

#[test]
fn a_named_task_that_yields_once_then_wakes_its_joiner() {
    let recording = record(|executor| {
        executor.block_on(async {
            let a = Builder::new().name("fries").spawn(async { yield_now().await }).unwrap();
            a.await.unwrap();
        })
    });
    assert_eq!(
        story(&recording),
        [
            "poll #0",                    // block_on polls its future
            "spawn #1",                   // which spawns a task
            "name #1 fries",              // with a name
            "waits Join",                 // and waits on its JoinHandle
            "end #0 Pending",             //
            "poll #1",                    // the task's first poll
            "wake #1 Yield WhileRunning", // yield_now wakes it during its own poll
            "end #1 Pending wakers=0",    // so it is queued again after it (no clone needed)
            "poll #1",                    // second poll
            "end #1 Ready wakers=0",      //
            "complete #1 Returned",       // it completes
            "wake #0 Join(#1) Local",     // and wakes the future awaiting its handle
            "poll #0",                    //
            "taken #1",                   // which takes the output
            "dropped handle #1",          // and drops the handle
            "end #0 Ready",               // which finishes block_on
        ]
    );
    assert!(matches!(
        recording.records[1].event,
        Event::Spawn { location, .. } if location.file().ends_with("trace_points.rs")
    ));
}

#[test]
fn a_channel_names_what_it_handed_over() {
    let recording = record(|executor| {
        executor.block_on(async {
            let (tx, mut rx) = sync::mpsc::channel(1);
            let receiver = spawn(async move {
                let mut got = Vec::new();
                while let Some(n) = rx.recv().await {
                    got.push(n);
                }
                got
            });
            yield_now().await; // #1 waits for a message
            tx.send(1).await.unwrap(); // hands #1 a message
            tx.send(2).await.unwrap(); // full: #0 waits for the slot #1's receive frees
            yield_now().await; // #1 takes 2 and waits again
            drop(tx); // the last sender: #1 learns the end
            assert_eq!(receiver.await.unwrap(), [1, 2]);
            let (tx, mut rx) = sync::mpsc::channel(1);
            tx.send(0).await.unwrap(); // full
            let sender = spawn(async move { tx.send(1).await.is_err() });
            yield_now().await; // #2 waits for a slot
            rx.close(); // its send fails
            assert!(sender.await.unwrap());
        })
    });
    let story = story(&recording);
    let expected = [
        "waits Primitive(Channel(Message))",       // #1 receives
        "wake #1 HandOff(Channel(Message)) Local", // #0 sends 1
        "waits Primitive(Channel(Slot))",          // #0 sends 2 to a full channel
        "wake #0 HandOff(Channel(Slot)) Local",    // #1 took 1: the slot is #0's
        "wake #1 HandOff(Channel(Message)) Local", // #0 fills it with 2
        "wake #1 HandOff(Channel(Ended)) Local",   // #0 dropped the last sender
        "waits Primitive(Channel(Slot))",          // #2 sends to a full channel
        "wake #2 HandOff(Channel(Closed)) Local",  // #0 closed it
    ];
    let mut found = story.iter();
    for line in expected {
        assert!(found.any(|l| l == line), "{line}, in this order, in {story:#?}");
    }
    let told = cashier_trace::explain(&recording);
    for line in [
        "#0 main sent a message on a channel -> wake #1 (local queue)",
        "poll #0 main -> Pending: waits on a channel slot",
        "#1 freed a channel slot -> wake #0 main (local queue)",
        "#0 main dropped a channel's last sender -> wake #1 (local queue)",
        "#0 main closed a channel -> wake #2 (local queue)",
    ] {
        assert!(told.contains(line), "{line} in\n{told}");
    }
}

#[test]
fn an_abort_and_a_wake_from_another_thread() {
    let recording = record(|executor| {
        executor.block_on(async {
            let stuck = spawn(std::future::pending::<()>());
            yield_now().await;
            stuck.abort();
            assert!(stuck.await.unwrap_err().is_cancelled());
            // A task that waits for a waker call from another thread, made once its poll ended.
            let slot = Arc::new(Mutex::new(None::<Waker>));
            let stored = slot.clone();
            let polled = Rc::new(Cell::new(false));
            let remote = spawn(std::future::poll_fn(move |cx| {
                if polled.replace(true) {
                    return Poll::Ready(());
                }
                *stored.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            }));
            let waker_thread = spawn(async move {
                let waker = slot.lock().unwrap().take().expect("#2 ran first and left its waker");
                std::thread::spawn(move || waker.wake()).join().unwrap();
            });
            waker_thread.await.unwrap();
            remote.await.unwrap();
        })
    });
    let story = story(&recording);
    for expected in [
        "abort #1",              // #0 aborts the idle #1 ...
        "wake #1 Abort Local",   // ... which is queued only to be dropped
        "complete #1 Cancelled", // dropped without a poll
        "wake #2 Remote Remote",
        "poll #2",
    ] {
        assert!(story.iter().any(|l| l == expected), "{expected} in {story:#?}");
    }
    let told = cashier_trace::explain(&recording);
    let aborted = "  0.000s  #1 aborted by #0 main -> wake #1 (local queue) to drop it\n";
    assert!(told.contains(aborted), "{told}");
}

#[test]
fn nothing_is_recorded_outside_a_recorder_scope() {
    let recorder = Recorder::new(DEFAULT_CAP, Box::new(|| 0));
    let executor = Executor::new();
    executor.block_on(async { spawn(async {}).await.unwrap() });
    assert!(recorder.is_empty());
}

#[test]
fn a_pending_poll_tells_how_many_wakers_are_out_and_a_panic_what_it_said() {
    let recording = record(|executor| {
        executor.block_on(async {
            // #1 returns Pending without keeping its waker anywhere: nothing can wake it.
            let lost = spawn(std::future::poll_fn(|_| Poll::<()>::Pending));
            // #2 keeps a clone of its waker (in `kept`), then waits.
            let kept: Rc<Cell<Option<Waker>>> = Rc::default();
            let slot = kept.clone();
            let held = spawn(std::future::poll_fn(move |cx| {
                slot.set(Some(cx.waker().clone()));
                Poll::<()>::Pending
            }));
            // #3 panics; nobody keeps its handle.
            drop(spawn(async { panic!("the fryer caught fire") }));
            yield_now().await; // let all three run once
            lost.abort();
            held.abort();
            drop(kept);
        })
    });
    let story = story(&recording);
    for expected in [
        "end #1 Pending wakers=0", // lost: no clone, and it did not wake itself
        "end #2 Pending wakers=1", // the clone in `kept`
        "dropped handle #3",       // detached before it ran
        "panicked the fryer caught fire", // told before #3's poll ends, its `Complete` follows
        "end #3 Panicked wakers=0",
        "complete #3 Panicked",
    ] {
        assert!(story.iter().any(|l| l == expected), "{expected} in {story:#?}");
    }
    let panicked = story.iter().position(|l| l.starts_with("panicked")).unwrap();
    assert_eq!(
        story[panicked + 1..panicked + 3],
        ["end #3 Panicked wakers=0", "complete #3 Panicked"]
    );
}
