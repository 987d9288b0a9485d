//! A pool of fixed-size entries addressed by 32-bit handles, for state that
//! only some flows carry (TCP trackers, rare record fields).
//!
//! The pool reserves room for its whole capacity at start and reuses freed
//! entries first, so it touches memory in proportion to the entries in use
//! and never allocates while it stays within its capacity.

use crate::resident::ResidentAhead;

/// Handle of no entry.
pub const NO_ENTRY: u32 = u32::MAX;

/// Entries of type `T` with a free list.
#[derive(Debug)]
pub struct Pool<T> {
    entries: Vec<T>,
    entries_resident: ResidentAhead,
    free: Vec<u32>,
}

impl<T: Copy> Pool<T> {
    /// Creates a pool that holds up to `capacity` entries without
    /// allocating again, made resident ahead of use when `resident_ahead`
    /// is set (see [`ResidentAhead`]).
    pub fn with_capacity(capacity: usize, resident_ahead: bool) -> Pool<T> {
        let mut entries = Vec::with_capacity(capacity);
        Pool {
            entries_resident: ResidentAhead::new(&mut entries, resident_ahead),
            entries,
            free: Vec::with_capacity(capacity),
        }
    }

    /// Stores `value` and returns its handle.
    pub fn insert(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(handle) => {
                self.entries[handle as usize] = value;
                handle
            }
            None => {
                self.entries_resident.before_push(&mut self.entries);
                self.entries.push(value);
                (self.entries.len() - 1) as u32
            }
        }
    }

    /// Frees the entry of `handle`. The handle must not be used again.
    pub fn remove(&mut self, handle: u32) {
        debug_assert!((handle as usize) < self.entries.len());
        self.free.push(handle);
    }

    /// Returns the entry of a live handle.
    pub fn get(&self, handle: u32) -> &T {
        &self.entries[handle as usize]
    }

    /// Returns the entry of a live handle for change.
    pub fn get_mut(&mut self, handle: u32) -> &mut T {
        &mut self.entries[handle as usize]
    }

    /// Starts loading the entry of a live handle into the cache.
    #[inline]
    pub fn prefetch(&self, handle: u32) {
        if let Some(entry) = self.entries.get(handle as usize) {
            crate::prefetch::prefetch_value(entry);
        }
    }

    /// Entries in use.
    pub fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// True when no entry is in use.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_entries_are_reused_before_the_pool_grows() {
        let mut pool = Pool::with_capacity(2, false);
        let first = pool.insert(10u64);
        let second = pool.insert(20u64);
        assert_eq!((*pool.get(first), *pool.get(second)), (10, 20));
        pool.remove(first);
        assert_eq!(pool.len(), 1);
        let third = pool.insert(30u64);
        assert_eq!(third, first);
        assert_eq!(*pool.get(third), 30);
        *pool.get_mut(second) += 1;
        assert_eq!(*pool.get(second), 21);
        assert_eq!(pool.len(), 2);
    }
}
