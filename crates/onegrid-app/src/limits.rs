//! Rate limits: at most `limit` attempts per key (an address, an account, a phone number) in a
//! sliding window. Kept in memory per process; several processes behind one balancer each
//! count their own share, which only makes the limit looser by that factor.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One limit: `limit` attempts per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: usize,
    pub window: Duration,
}

/// Attempts seen per key, oldest first.
#[derive(Debug, Default)]
pub struct RateLimiter {
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// Counts an attempt; `Err(seconds)` when the key is over its limit, with how long until
    /// the oldest attempt leaves the window (for `Retry-After`).
    pub fn check(&self, key: &str, rate: Rate) -> Result<(), u64> {
        self.check_at(key, rate, Instant::now())
    }

    pub fn check_at(&self, key: &str, rate: Rate, now: Instant) -> Result<(), u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            // Forget keys whose attempts all left their window, so the map stays small.
            seen.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.duration_since(*last) < rate.window)
            });
        }
        let times = seen.entry(key.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|first| now.duration_since(*first) >= rate.window)
        {
            times.pop_front();
        }
        if times.len() >= rate.limit {
            let oldest = times.front().copied().unwrap_or(now);
            let wait = rate.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_over_the_limit_and_forgives_after_the_window() {
        let limiter = RateLimiter::default();
        let rate = Rate {
            limit: 2,
            window: Duration::from_secs(60),
        };
        let start = Instant::now();
        assert!(limiter.check_at("a", rate, start).is_ok());
        assert!(limiter.check_at("a", rate, start).is_ok());
        let wait = limiter
            .check_at("a", rate, start + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait, 40);
        assert!(limiter.check_at("b", rate, start).is_ok(), "keys are apart");
        assert!(
            limiter
                .check_at("a", rate, start + Duration::from_secs(61))
                .is_ok()
        );
    }
}
