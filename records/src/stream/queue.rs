//! The bounded queue of encoded records between the publishing thread and
//! one client's writer thread.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Reason a record was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushError {
    /// The queue is full because the client has fallen behind.
    Full,
    /// The queue was finished or abandoned and takes no more records.
    Closed,
}

#[derive(Debug, Default)]
struct QueueState {
    items: VecDeque<Arc<[u8]>>,
    /// No more pushes; the writer drains what is queued, then stops.
    finished: bool,
    /// No more pushes and nothing more to write; the writer stops now.
    abandoned: bool,
}

/// A bounded FIFO of encoded records. Pushing never waits for the consumer,
/// and the consumer waits for records.
#[derive(Debug)]
pub struct RecordQueue {
    state: Mutex<QueueState>,
    changed: Condvar,
    capacity: usize,
}

impl RecordQueue {
    /// Creates a queue of at most `capacity` records (at least 1).
    pub fn new(capacity: usize) -> RecordQueue {
        RecordQueue { state: Mutex::new(QueueState::default()), changed: Condvar::new(), capacity: capacity.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A writer thread that panicked leaves the state consistent: every
        // change under the lock is a single push, drain or flag store.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a record without waiting.
    pub fn try_push(&self, record: Arc<[u8]>) -> Result<(), PushError> {
        let mut state = self.lock();
        if state.finished || state.abandoned {
            return Err(PushError::Closed);
        }
        if state.items.len() >= self.capacity {
            return Err(PushError::Full);
        }
        state.items.push_back(record);
        drop(state);
        self.changed.notify_one();
        Ok(())
    }

    /// Appends `last` even beyond the capacity, so a closing MAR always
    /// fits, and finishes the queue: the writer drains it, then stops.
    pub fn finish(&self, last: Option<Arc<[u8]>>) {
        let mut state = self.lock();
        if !state.finished && !state.abandoned {
            state.items.extend(last);
            state.finished = true;
        }
        drop(state);
        self.changed.notify_one();
    }

    /// Drops every queued record and stops the writer at its next pop.
    pub fn abandon(&self) {
        let mut state = self.lock();
        state.items.clear();
        state.abandoned = true;
        drop(state);
        self.changed.notify_one();
    }

    /// Waits for records and moves all queued ones into `batch`. Returns
    /// false, with `batch` untouched, once the queue is abandoned, or is
    /// finished and empty.
    pub fn pop_batch(&self, batch: &mut Vec<Arc<[u8]>>) -> bool {
        let mut state = self.lock();
        loop {
            if state.abandoned {
                return false;
            }
            if !state.items.is_empty() {
                batch.extend(state.items.drain(..));
                return true;
            }
            if state.finished {
                return false;
            }
            state = self.changed.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Returns the number of queued records.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Returns true when no record is queued.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::Duration;

    fn bytes(value: u8) -> Arc<[u8]> {
        Arc::from(vec![value])
    }

    #[test]
    fn push_is_bounded() {
        let queue = RecordQueue::new(2);
        assert_eq!(queue.try_push(bytes(1)), Ok(()));
        assert_eq!(queue.try_push(bytes(2)), Ok(()));
        assert_eq!(queue.try_push(bytes(3)), Err(PushError::Full));
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn finish_appends_beyond_capacity_then_drains() {
        let queue = RecordQueue::new(1);
        queue.try_push(bytes(1)).unwrap();
        queue.finish(Some(bytes(9)));
        assert_eq!(queue.try_push(bytes(2)), Err(PushError::Closed));

        let mut batch = Vec::new();
        assert!(queue.pop_batch(&mut batch));
        assert_eq!(batch, [bytes(1), bytes(9)]);
        batch.clear();
        assert!(!queue.pop_batch(&mut batch), "finished and empty");
        assert!(batch.is_empty());
    }

    #[test]
    fn abandon_drops_records_and_stops_writer() {
        let queue = RecordQueue::new(4);
        queue.try_push(bytes(1)).unwrap();
        queue.abandon();
        assert!(queue.is_empty());
        assert_eq!(queue.try_push(bytes(2)), Err(PushError::Closed));
        assert!(!queue.pop_batch(&mut Vec::new()));
    }

    #[test]
    fn pop_waits_for_a_push_from_another_thread() {
        let queue = Arc::new(RecordQueue::new(4));
        let producer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                queue.try_push(bytes(7)).unwrap();
                queue.finish(None);
            })
        };
        let mut received = Vec::new();
        while queue.pop_batch(&mut received) {}
        producer.join().unwrap();
        assert_eq!(received, [bytes(7)]);
    }
}
