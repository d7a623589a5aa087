//! `ReadySet`: one waker per child of a combinator, and the list of children that were woken.
//!
//! A naive `join_all` polls every child on every wake: a fan-out of n children that each wake
//! once costs O(n²) polls. Here each child is polled with its own waker, whose data pointer is the
//! child's [`Node`]; waking it pushes that node on a lock-free stack and, if the stack was empty,
//! wakes the combinator's task. The combinator then polls only the children on the stack, so n
//! children that wake once each cost O(n) polls in all.
//!
//! # Memory
//!
//! One `Arc<ReadySet>` holds all the nodes (one more allocation for the node array), however many
//! children there are: not one allocation per child. Child wakers clone the `Arc`, so a waker that
//! outlives the combinator stays valid; waking it then does nothing useful, harmlessly.
//!
//! # Invariants
//!
//! - A node is in the woken stack or in the consumer's [`Cursor`] list iff its `queued` flag is
//!   set; the waker that flips it from false to true is the one that pushes it. So a node is never
//!   linked twice, and `next` has one writer at a time.
//! - Only the consumer (the combinator, on its task) takes nodes out: it swaps the whole stack out
//!   at once (no ABA), reverses it into arrival order, and pops from that private list.
//! - The consumer clears `queued` *before* polling the child, so a wake during that poll queues the
//!   child again.

use std::mem::ManuallyDrop;
use std::ptr;
// `std`'s `Arc` even under loom: loom's has no `new_cyclic` (see `loom.rs`).
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::atomic_waker::AtomicWaker;
use crate::loom::{AtomicBool, AtomicPtr, Ordering};

/// The shared half of a combinator: its task's waker, the woken stack, one node per child.
pub(crate) struct ReadySet {
    /// The combinator's task.
    parent: AtomicWaker,
    /// Most recently woken node, or null.
    woken: AtomicPtr<Node>,
    /// One node per child, in child order.
    nodes: Box<[Node]>,
}

/// One child's waker identity.
pub(crate) struct Node {
    /// The set this node belongs to (a back pointer for the waker vtable).
    set: *const ReadySet,
    /// The child's index.
    index: usize,
    /// In the woken stack or the cursor list (see the module invariants).
    queued: AtomicBool,
    /// Next node in whichever list holds this one.
    next: AtomicPtr<Node>,
}

/// The consumer's private list of woken children, in wake order.
pub(crate) struct Cursor {
    /// First node to hand out, or null.
    head: *const Node,
    /// Last node, where a refill appends; null when empty.
    tail: *const Node,
}

impl Cursor {
    /// Whether no woken child is left to hand out.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }
}

impl ReadySet {
    /// A set of `children` nodes, all queued in child order, so that the first poll polls every
    /// child once. Returns the set and the cursor holding that initial order.
    pub(crate) fn new(children: usize) -> (Arc<ReadySet>, Cursor) {
        let set = Arc::new_cyclic(|weak| {
            let set_ptr = weak.as_ptr();
            let nodes = (0..children)
                .map(|index| Node {
                    set: set_ptr,
                    index,
                    queued: AtomicBool::new(true),
                    next: AtomicPtr::new(ptr::null_mut()),
                })
                .collect::<Box<[Node]>>();
            ReadySet { parent: AtomicWaker::new(), woken: AtomicPtr::new(ptr::null_mut()), nodes }
        });
        for pair in set.nodes.windows(2) {
            pair[0].next.store(ptr::from_ref(&pair[1]).cast_mut(), Ordering::Relaxed);
        }
        let head = set.nodes.first().map_or(ptr::null(), ptr::from_ref);
        let tail = set.nodes.last().map_or(ptr::null(), ptr::from_ref);
        (set, Cursor { head, tail })
    }

    /// Registers the combinator task's waker; call at the start of each poll.
    pub(crate) fn register(&self, waker: &Waker) {
        self.parent.register(waker);
    }

    /// Moves every node woken since the last refill to the end of the cursor, in wake order.
    ///
    /// It must append even when the cursor still holds nodes (a combinator that returned early,
    /// like `as_completed`, leaves some there): a node left on the stack would never wake the
    /// combinator again, because only a push onto an *empty* stack does.
    pub(crate) fn refill(&self, cursor: &mut Cursor) {
        if self.woken.load(Ordering::Relaxed).is_null() {
            return;
        }
        let mut node = self.woken.swap(ptr::null_mut(), Ordering::Acquire).cast_const();
        let last = node; // newest first: after reversing, the old head is the new tail
        let mut reversed: *const Node = ptr::null();
        while !node.is_null() {
            // SAFETY: nodes live as long as the set, which the consumer holds an `Arc` to.
            let current = unsafe { &*node };
            node = current.next.load(Ordering::Relaxed);
            current.next.store(reversed.cast_mut(), Ordering::Relaxed);
            reversed = current;
        }
        if cursor.tail.is_null() {
            cursor.head = reversed;
        } else {
            // SAFETY: the cursor only holds live nodes of this set.
            unsafe { &*cursor.tail }.next.store(reversed.cast_mut(), Ordering::Relaxed);
        }
        cursor.tail = last;
    }

    /// Takes the next woken child from the cursor and clears its `queued` flag (so a wake during
    /// the child's poll queues it again).
    pub(crate) fn pop(&self, cursor: &mut Cursor) -> Option<usize> {
        if cursor.head.is_null() {
            return None;
        }
        // SAFETY: the cursor only holds nodes of this set, alive while the set is.
        let node = unsafe { &*cursor.head };
        cursor.head = node.next.load(Ordering::Relaxed);
        if cursor.head.is_null() {
            cursor.tail = ptr::null();
        }
        // A swap, not a store: a wake that finds `queued` still set pushes nothing, and counts on
        // the poll that follows this pop to see what it wrote before waking. This acquiring
        // read-modify-write either reads that wake's `true`, which makes its writes visible, or
        // comes before it, and then the wake finds `false` and pushes the node again. After a
        // plain store the poll could read stale data and the wake would be lost (the loom model
        // in `loom_tests/ready_set.rs` found it).
        let was_queued = node.queued.swap(false, Ordering::AcqRel);
        debug_assert!(was_queued, "a node in the cursor is queued");
        Some(node.index)
    }

    /// A waker for child `index` that borrows the caller's `Arc` instead of owning a count, for
    /// the duration of one poll. Cloning it takes a count.
    pub(crate) fn waker(&self, index: usize) -> ManuallyDrop<Waker> {
        let data = ptr::from_ref(&self.nodes[index]).cast::<()>();
        // SAFETY: `data` is a node of a live set and the vtable expects exactly that; the
        // `ManuallyDrop` keeps the borrowed waker from releasing a count it never took.
        ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &NODE_VTABLE)) })
    }
}

impl Node {
    /// The child was woken (any thread): queue it once, and wake the combinator if the stack was
    /// empty (otherwise whoever made it non-empty did).
    fn wake(&self) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: a waker holds a count on the set (or borrows the consumer's), so it is alive.
        let set = unsafe { &*self.set };
        let me = ptr::from_ref(self).cast_mut();
        let mut head = set.woken.load(Ordering::Relaxed);
        loop {
            self.next.store(head, Ordering::Relaxed);
            match set.woken.compare_exchange_weak(head, me, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => head = actual,
            }
        }
        if head.is_null() {
            set.parent.wake();
        }
    }
}

/// The vtable of child wakers. Each owned waker holds one strong count of the set's `Arc`.
static NODE_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_node, wake_node, wake_node_by_ref, drop_node);

/// # Safety (all four)
/// `data` is a `*const Node` of a set kept alive by the waker being used.
unsafe fn clone_node(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the set alive; `set` came from `Arc::new_cyclic`.
    unsafe { Arc::increment_strong_count((*data.cast::<Node>()).set) };
    RawWaker::new(data, &NODE_VTABLE)
}

unsafe fn wake_node(data: *const ()) {
    // SAFETY: forwarded: the consumed waker keeps the set alive until `drop_node` releases it.
    unsafe {
        wake_node_by_ref(data);
        drop_node(data);
    }
}

unsafe fn wake_node_by_ref(data: *const ()) {
    // SAFETY: the waker keeps the set, hence the node, alive.
    unsafe { &*data.cast::<Node>() }.wake();
}

unsafe fn drop_node(data: *const ()) {
    // SAFETY: the waker being dropped owns one strong count, taken in `clone_node`.
    unsafe { Arc::decrement_strong_count((*data.cast::<Node>()).set) };
}

// SAFETY: `Node` is only reached through a `ReadySet`; its fields are atomics plus two values
// written once at construction (`set`, `index`) and only read afterwards.
unsafe impl Send for Node {}
// SAFETY: as above.
unsafe impl Sync for Node {}

#[cfg(all(test, loom))]
#[path = "../loom_tests/ready_set.rs"]
mod loom_tests;
