//! `Mutex`: exclusive access across `.await` points, asyncio's `asyncio.Lock` with data inside.
//!
//! A semaphore of one permit guarding a `RefCell`. Holding the permit is what makes the
//! `RefCell` borrow always succeed, so there is no `unsafe` here. Waiters are served in arrival
//! order.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};

use super::semaphore::{Permit, Semaphore};

/// An async mutex, asyncio's `asyncio.Lock` holding the data it protects: [`Mutex::lock`] waits (instead of blocking the thread) while another task holds
/// the lock, and the guard may be held across `.await`.
///
/// ```
/// use std::rc::Rc;
/// use cashier_executor::sync::Mutex;
/// use cashier_executor::{Executor, gather, yield_now};
///
/// let counter = Rc::new(Mutex::new(0));
/// let executor = Executor::new();
/// executor.block_on(gather((0..10).map(|_| {
///     let counter = counter.clone();
///     async move {
///         let mut value = counter.lock().await;
///         let read = *value;
///         yield_now().await; // others run, but cannot touch the counter
///         *value = read + 1;
///     }
/// })));
/// assert_eq!(*counter.try_lock().unwrap(), 10);
/// ```
pub struct Mutex<T> {
    /// One permit: the right to borrow `value`.
    lock: Semaphore,
    /// The protected value.
    value: RefCell<T>,
}

impl<T> Mutex<T> {
    /// A mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex { lock: Semaphore::new(1), value: RefCell::new(value) }
    }

    /// Waits for the lock.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let permit = self.lock.acquire().await.expect("a mutex's semaphore is never closed");
        self.guard(permit)
    }

    /// Takes the lock if it is free and nobody waits for it.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.lock.try_acquire().ok().map(|permit| self.guard(permit))
    }

    /// The value, by exclusive reference (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }

    fn guard<'a>(&'a self, permit: Permit<'a>) -> MutexGuard<'a, T> {
        // The permit is the only one, so no other guard (hence no other borrow) exists.
        MutexGuard { value: self.value.borrow_mut(), _permit: permit }
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value.try_borrow() {
            Ok(value) => f.debug_struct("Mutex").field("value", &*value).finish(),
            Err(_) => f.debug_struct("Mutex").field("value", &"<locked>").finish(),
        }
    }
}

/// Access to a [`Mutex`]'s value; unlocks when dropped.
pub struct MutexGuard<'a, T> {
    /// The borrow (dropped first: fields drop in order).
    value: RefMut<'a, T>,
    /// Released after the borrow.
    _permit: Permit<'a>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}
