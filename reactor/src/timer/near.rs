//! The near heap: timers due within the current millisecond, ordered by exact deadline.
//!
//! The wheel's slots are a millisecond wide, so once a slot comes due its timers that fall *later
//! in the same millisecond* need a finer order (see `wheel.rs`, "The current millisecond"). They
//! wait here: a binary min-heap of `(deadline, entry)` pairs, so the earliest is found in O(1),
//! and insertion, firing and cancellation cost O(log n) however many timers share the
//! millisecond (40,000 timers due in one millisecond are as cheap to cancel as 40,000 spread out).
//!
//! # Invariants
//!
//! - `heap[i] <= heap[2i + 1]` and `heap[i] <= heap[2i + 2]`: the usual min-heap order, on the
//!   pair `(deadline, entry)` so that equal deadlines come out in a fixed order (by slab index).
//! - The heap is *indexed*: every time a pair moves, `moved(entry, position)` is called so the
//!   owner can record where its entry is. That is what makes removal from the middle O(log n):
//!   the wheel keeps the position in the entry's `Place::Near`, and [`NearHeap::remove`] takes it.
//!
//! The heap stores the deadline beside the index so that comparisons never leave this `Vec`.

/// A `(deadline in nanoseconds, slab index)` pair.
pub(crate) type Item = (u64, u32);

/// Binary min-heap of timers due within the current tick.
#[derive(Default)]
pub(crate) struct NearHeap {
    /// The heap, in the array layout: the children of `i` are `2i + 1` and `2i + 2`.
    heap: Vec<Item>,
}

impl NearHeap {
    /// The earliest timer, without removing it.
    pub(crate) fn peek(&self) -> Option<Item> {
        self.heap.first().copied()
    }

    /// Adds a timer; `moved` learns the position of every pair that moved, this one included.
    pub(crate) fn push(&mut self, item: Item, mut moved: impl FnMut(u32, u32)) {
        self.heap.push(item);
        let last = self.heap.len() - 1;
        self.sift_up(last, &mut moved);
    }

    /// Removes and returns the earliest timer.
    pub(crate) fn pop(&mut self, moved: impl FnMut(u32, u32)) -> Option<Item> {
        if self.heap.is_empty() {
            return None;
        }
        Some(self.remove(0, moved))
    }

    /// Removes the pair at `position` (as last reported through `moved`) and returns it.
    ///
    /// # Panics
    /// If `position` is out of range: the owner's record of positions is wrong.
    pub(crate) fn remove(&mut self, position: u32, mut moved: impl FnMut(u32, u32)) -> Item {
        let position = position as usize;
        let item = self.heap.swap_remove(position);
        if position < self.heap.len() {
            // The former last pair now sits at `position`: it may belong above or below.
            let position = self.sift_up(position, &mut moved);
            self.sift_down(position, &mut moved);
        }
        item
    }

    /// Moves the pair at `position` up to its place; returns where it ended.
    fn sift_up(&mut self, mut position: usize, moved: &mut impl FnMut(u32, u32)) -> usize {
        while position > 0 {
            let parent = (position - 1) / 2;
            if self.heap[parent] <= self.heap[position] {
                break;
            }
            self.swap(parent, position, moved);
            position = parent;
        }
        moved(self.heap[position].1, position as u32);
        position
    }

    /// Moves the pair at `position` down to its place.
    fn sift_down(&mut self, mut position: usize, moved: &mut impl FnMut(u32, u32)) {
        loop {
            let left = 2 * position + 1;
            let right = left + 1;
            let mut smallest = position;
            if left < self.heap.len() && self.heap[left] < self.heap[smallest] {
                smallest = left;
            }
            if right < self.heap.len() && self.heap[right] < self.heap[smallest] {
                smallest = right;
            }
            if smallest == position {
                return;
            }
            self.swap(smallest, position, moved);
            position = smallest;
        }
    }

    /// Swaps two pairs and reports the one that moved to `a` (the caller reports the other).
    fn swap(&mut self, a: usize, b: usize, moved: &mut impl FnMut(u32, u32)) {
        self.heap.swap(a, b);
        moved(self.heap[a].1, a as u32);
        moved(self.heap[b].1, b as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes, removes from the middle and pops, keeping a position table the way the wheel does.
    #[test]
    fn indexed_removal_keeps_the_order_and_the_positions() {
        let mut heap = NearHeap::default();
        let mut positions = vec![u32::MAX; 200];
        let mut state = 99u64;
        for entry in 0..200u32 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            heap.push((state >> 40, entry), |e, p| positions[e as usize] = p);
        }
        for entry in (0..200u32).step_by(3) {
            let removed = heap.remove(positions[entry as usize], |e, p| positions[e as usize] = p);
            assert_eq!(removed.1, entry, "the recorded position finds the entry");
            positions[entry as usize] = u32::MAX;
        }
        for (position, &(_, entry)) in heap.heap.iter().enumerate() {
            assert_eq!(positions[entry as usize], position as u32, "every move was reported");
        }
        let mut popped = Vec::new();
        while let Some(item) = heap.pop(|e, p| positions[e as usize] = p) {
            popped.push(item);
        }
        assert_eq!(popped.len(), 200 - 67);
        assert!(popped.windows(2).all(|w| w[0] <= w[1]), "popped in order");
    }
}
