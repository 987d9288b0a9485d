//! Limits how often a repeated event is logged.

use std::time::{Duration, Instant};

/// Allows one log line per interval and counts the events it held back.
#[derive(Debug)]
pub struct LogRateLimiter {
    interval: Duration,
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl LogRateLimiter {
    /// Creates a limiter that allows one line per `interval`.
    pub fn new(interval: Duration) -> LogRateLimiter {
        LogRateLimiter { interval, last_logged: None, suppressed: 0 }
    }

    /// Records one event at `now`. Returns the number of events held back
    /// since the last line when this one may be logged, else `None`.
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        let due = self.last_logged.map_or(true, |last| now.duration_since(last) >= self.interval);
        if !due {
            self.suppressed += 1;
            return None;
        }
        self.last_logged = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_suppressed_count() {
        let mut limiter = LogRateLimiter::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(limiter.allow(start), Some(0));
        assert_eq!(limiter.allow(start + Duration::from_secs(1)), None);
        assert_eq!(limiter.allow(start + Duration::from_secs(9)), None);
        assert_eq!(limiter.allow(start + Duration::from_secs(10)), Some(2));
        assert_eq!(limiter.allow(start + Duration::from_secs(11)), None);
    }
}
