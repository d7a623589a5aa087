//! The task book: which task each key names, numbered and labelled, resolved in record order.
//!
//! A [`TaskKey`] is the address of a task's allocation, and an address is reused once its task
//! is freed: a key does not name one task for the whole recording. The book resolves keys the
//! only way that is right, in record order: each `Spawn` starts a new entry and points its key
//! at it, so from that record on the key names the newest task.
//!
//! Every view numbers tasks through this book, so that `#3` is the same task in all of them
//! whenever every task's spawn was recorded.
//!
//! # Invariants
//!
//! - Entry 0 is the `block_on` future, `#0 main`; entries are never removed, so an index
//!   handed out stays valid (views keep per-task state in vectors beside the book, by index).
//! - Spawned entries are numbered `#1`, `#2`, ... in spawn order. A key seen before any `Spawn`
//!   of it (a recording begun mid-run) gets an entry without a number: `#? (0x5a10)`.
//! - Indices are handed out in the order keys are first seen, so a view that resolves keys in a
//!   fixed order gets the same indices every time.

use std::collections::HashMap;
use std::panic::Location;

use crate::event::TaskKey;

/// Numbers and names of the tasks of a recording, resolved in record order.
pub(crate) struct TaskBook {
    /// Every task seen, in the order first seen.
    entries: Vec<TaskEntry>,
    /// The entry each key names now.
    live: HashMap<TaskKey, usize>,
    /// Tasks spawned so far: the number of the last.
    spawned: u64,
}

/// One task of a [`TaskBook`].
struct TaskEntry {
    /// The key it was seen under.
    key: TaskKey,
    /// Its spawn number (`None`: its `Spawn` was not recorded).
    number: Option<u64>,
    /// Its name, if it was given one.
    name: Option<Box<str>>,
    /// Where it was spawned, if its `Spawn` was recorded.
    location: Option<&'static Location<'static>>,
}

impl TaskBook {
    /// The index of `#0 main`, the `block_on` future.
    pub(crate) const ROOT: usize = 0;

    /// A book that knows only `#0 main`.
    pub(crate) fn new() -> TaskBook {
        let root = TaskEntry { key: TaskKey::ROOT, number: Some(0), name: None, location: None };
        TaskBook { entries: vec![root], live: HashMap::from([(TaskKey::ROOT, 0)]), spawned: 0 }
    }

    /// A task was spawned at `key`: its new entry.
    pub(crate) fn spawn(&mut self, key: TaskKey) -> usize {
        self.spawned += 1;
        self.add(TaskEntry { key, number: Some(self.spawned), name: None, location: None })
    }

    /// A task was spawned at `key` by a `spawn` called at `location`: its new entry.
    pub(crate) fn spawned_at(
        &mut self,
        key: TaskKey,
        location: &'static Location<'static>,
    ) -> usize {
        let task = self.spawn(key);
        self.entries[task].location = Some(location);
        task
    }

    /// The entry `key` names now, if it was seen.
    pub(crate) fn lookup(&self, key: TaskKey) -> Option<usize> {
        self.live.get(&key).copied()
    }

    /// The entry `key` names now; an entry without a number if it was never seen.
    pub(crate) fn resolve(&mut self, key: TaskKey) -> usize {
        match self.lookup(key) {
            Some(task) => task,
            None => self.add(TaskEntry { key, number: None, name: None, location: None }),
        }
    }

    /// Names the task `key` names now.
    pub(crate) fn name(&mut self, key: TaskKey, name: &str) {
        let task = self.resolve(key);
        self.entries[task].name = Some(name.into());
    }

    /// Entries so far (the next index to be handed out).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The key entry `task` was seen under.
    pub(crate) fn key(&self, task: usize) -> TaskKey {
        self.entries[task].key
    }

    /// Entry `task`'s spawn number (0 for `#0 main`), if its `Spawn` was recorded.
    pub(crate) fn number(&self, task: usize) -> Option<u64> {
        self.entries[task].number
    }

    /// Entry `task`'s name, if it was given one.
    pub(crate) fn name_of(&self, task: usize) -> Option<&str> {
        self.entries[task].name.as_deref()
    }

    /// Where entry `task` was spawned, if known.
    pub(crate) fn location(&self, task: usize) -> Option<&'static Location<'static>> {
        self.entries[task].location
    }

    /// `#0 main`, `#2 "ages"`, `#3`, or `#? (0x5a10)` for a task whose `Spawn` was not recorded.
    pub(crate) fn label(&self, task: usize) -> String {
        let entry = &self.entries[task];
        match (entry.number, &entry.name) {
            (Some(0), _) if entry.key == TaskKey::ROOT => "#0 main".to_string(),
            (Some(number), Some(name)) => format!("#{number} {name:?}"),
            (Some(number), None) => format!("#{number}"),
            (None, _) => format!("#? ({:?})", entry.key),
        }
    }

    /// Adds `entry` and points its key at it.
    fn add(&mut self, entry: TaskEntry) -> usize {
        self.live.insert(entry.key, self.entries.len());
        self.entries.push(entry);
        self.entries.len() - 1
    }
}

/// The name interned at `index`, or `?` if the names given do not reach it.
pub(crate) fn name_at(names: &[Box<str>], index: u32) -> &str {
    names.get(index as usize).map_or("?", |name| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task's address.
    const A: TaskKey = TaskKey(0xa0);
    /// Another task's address.
    const B: TaskKey = TaskKey(0xb0);

    #[test]
    fn labels_root_named_unnamed_and_unspawned() {
        let mut book = TaskBook::new();
        let named = book.spawn(A);
        book.name(A, "names");
        let unnamed = book.spawn(B);
        let unknown = book.resolve(TaskKey(0xc0));
        assert_eq!(book.label(TaskBook::ROOT), "#0 main");
        assert_eq!(book.label(named), "#1 \"names\"");
        assert_eq!(book.label(unnamed), "#2");
        assert_eq!(book.label(unknown), "#? (0xc0)");
    }

    #[test]
    fn a_spawn_at_a_reused_address_takes_the_key_from_then_on() {
        let mut book = TaskBook::new();
        let first = book.spawned_at(A, Location::caller());
        let second = book.spawn(A); // A freed, then reused
        assert_eq!((first, second), (1, 2));
        assert_eq!(book.resolve(A), second);
        assert!(book.location(first).is_some() && book.location(second).is_none());
        assert_eq!((book.key(first), book.len()), (A, 3));
    }
}
