//! tokio parity for `JoinSet`, `JoinHandle` and `AbortHandle`: task ids, `AbortHandle` (abort,
//! `is_finished`, keeping the task alive by reference), `try_join_next`, `join_next_with_id`,
//! `abort_all`, `detach_all`, `len` and `is_empty`.

use std::cell::Cell;
use std::collections::HashSet;
use std::future::pending;
use std::rc::Rc;

use cashier_executor::{AbortHandle, Executor, JoinSet, TaskId, spawn, yield_now};

/// How many tasks the larger tests spawn (fewer under Miri, which is slow).
const TASKS: usize = if cfg!(miri) { 8 } else { 200 };

#[test]
fn task_ids_are_distinct_and_shared_by_join_and_abort_handles() {
    let executor = Executor::new();
    executor.block_on(async {
        let handles: Vec<_> = (0..TASKS).map(|n| spawn(async move { n })).collect();
        let ids: HashSet<TaskId> = handles.iter().map(|handle| handle.id()).collect();
        assert_eq!(ids.len(), TASKS, "every task has its own id");
        for handle in handles {
            let id = handle.id();
            assert_eq!(handle.abort_handle().id(), id);
            handle.await.unwrap();
        }
        // Ids are not reused once their tasks are gone.
        let later = spawn(async {});
        assert!(!ids.contains(&later.id()));
        assert_eq!(later.id().to_string(), later.id().as_u64().to_string());
        later.await.unwrap();
    });
}

#[test]
fn abort_handle_aborts_and_reports_finished() {
    let executor = Executor::new();
    executor.block_on(async {
        let handle = spawn(pending::<()>());
        let abort = handle.abort_handle();
        assert!(!abort.is_finished());
        abort.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
        assert!(abort.is_finished());
        abort.abort(); // aborting a finished task does nothing
    });
}

#[test]
fn abort_handle_keeps_the_task_alive_after_the_join_handle_is_gone() {
    let executor = Executor::new();
    let abort = executor.block_on(async {
        let handle = spawn(async { yield_now().await });
        let abort = handle.abort_handle();
        drop(handle); // detached: runs on
        abort
    });
    let clone = abort.clone();
    executor.block_on(yield_now());
    assert!(abort.is_finished(), "the task ran to completion and its header is still readable");
    drop(abort);
    assert!(clone.is_finished());
    assert_eq!(executor.alive_tasks(), 0);
}

#[test]
fn abort_handle_aborts_from_another_thread() {
    let executor = Executor::new();
    let (abort, handle) = executor.block_on(async {
        let handle = spawn(pending::<()>());
        (handle.abort_handle(), handle)
    });
    std::thread::spawn(move || abort.abort()).join().unwrap();
    let result = executor.block_on(handle);
    assert!(result.unwrap_err().is_cancelled());
    assert_eq!(executor.alive_tasks(), 0);
}

#[test]
fn join_set_spawn_returns_an_abort_handle_for_that_task_alone() {
    let executor = Executor::new();
    executor.block_on(async {
        let mut set = JoinSet::new();
        let stuck: AbortHandle = set.spawn(pending::<u32>());
        let quick = set.spawn(async { 7 });
        assert_eq!(set.len(), 2);
        stuck.abort();
        let mut outcomes = Vec::new();
        while let Some(result) = set.join_next_with_id().await {
            outcomes.push(result.map_err(|error| error.is_cancelled()));
        }
        assert_eq!(outcomes.len(), 2);
        assert!(outcomes.contains(&Ok((quick.id(), 7))));
        assert!(outcomes.contains(&Err(true)));
        assert!(set.is_empty());
        assert!(stuck.is_finished() && quick.is_finished());
    });
}

#[test]
fn join_next_with_id_pairs_every_id_with_its_output() {
    let executor = Executor::new();
    executor.block_on(async {
        let mut set = JoinSet::new();
        let mut expected = std::collections::HashMap::new();
        for n in 0..TASKS {
            let id = set.spawn(async move {
                for _ in 0..n % 3 {
                    yield_now().await;
                }
                n
            });
            expected.insert(id.id(), n);
        }
        while let Some(result) = set.join_next_with_id().await {
            let (id, n) = result.unwrap();
            assert_eq!(expected.remove(&id), Some(n));
        }
        assert!(expected.is_empty());
    });
}

#[test]
fn try_join_next_never_waits() {
    let executor = Executor::new();
    executor.block_on(async {
        let mut set = JoinSet::new();
        assert!(set.try_join_next().is_none(), "empty set");
        set.spawn(async { 1 });
        let stuck = set.spawn(pending());
        assert!(set.try_join_next().is_none(), "nothing ran yet");
        yield_now().await; // both run once: the first completes
        assert_eq!(set.try_join_next().unwrap().unwrap(), 1);
        assert!(set.try_join_next().is_none(), "the second still runs");
        assert_eq!(set.len(), 1);
        stuck.abort();
        assert!(set.try_join_next().is_none(), "aborted, not dropped yet");
        yield_now().await;
        let error = set.try_join_next_with_id().unwrap().unwrap_err();
        assert!(error.is_cancelled());
        assert!(set.is_empty());
        assert!(set.try_join_next().is_none());
    });
}

#[test]
fn abort_all_cancels_every_task_and_keeps_their_results() {
    let executor = Executor::new();
    executor.block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..TASKS {
            set.spawn(pending::<()>());
        }
        let done = set.spawn(async {}); // finished before the abort: keeps its output
        while !done.is_finished() {
            yield_now().await;
        }
        set.abort_all();
        assert_eq!(set.len(), TASKS + 1);
        let (mut cancelled, mut done) = (0, 0);
        while let Some(result) = set.join_next().await {
            match result {
                Ok(()) => done += 1,
                Err(error) => {
                    assert!(error.is_cancelled());
                    cancelled += 1;
                }
            }
        }
        assert_eq!((cancelled, done), (TASKS, 1));
    });
    assert_eq!(executor.alive_tasks(), 0);
}

#[test]
fn detach_all_lets_the_tasks_run_on_and_the_set_be_reused() {
    let executor = Executor::new();
    let finished = Rc::new(Cell::new(0));
    executor.block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..TASKS {
            let finished = Rc::clone(&finished);
            set.spawn(async move {
                yield_now().await;
                finished.set(finished.get() + 1);
            });
        }
        set.detach_all();
        assert_eq!(set.len(), 0);
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
        // The set is usable again, and the detached tasks finishing meanwhile do not confuse it.
        let again = set.spawn(async { yield_now().await });
        yield_now().await;
        yield_now().await;
        let (id, ()) = set.join_next_with_id().await.unwrap().unwrap();
        assert_eq!(id, again.id());
        assert!(set.join_next().await.is_none());
        drop(set);
    });
    assert_eq!(finished.get(), TASKS, "dropping the set after detach_all aborted nothing");
    assert_eq!(executor.alive_tasks(), 0);
}
