//! Exponential backoff with full jitter, for reconnecting to the bridge and retrying throttled
//! sends. Jitter keeps many desktops from reconnecting in lockstep after a bridge restart.

use std::time::Duration;

use rand::Rng;

#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max, attempt: 0 }
    }

    /// The default for reconnecting: 250 ms doubling up to 30 s.
    pub fn reconnect() -> Self {
        Backoff::new(Duration::from_millis(250), Duration::from_secs(30))
    }

    /// The ceiling of the next delay (without jitter): base * 2^attempt, capped.
    pub fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(20));
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The next delay: uniformly random in [ceiling/2, ceiling] ("equal jitter", never ~0 so a
    /// dead bridge is not hammered), then the ceiling doubles.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        let jitter_ms = rand::thread_rng().gen_range(0..=half.as_millis().max(1) as u64);
        half + Duration::from_millis(jitter_ms)
    }

    /// A success: start again from `base`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_within_bounds_and_reset() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let mut last_ceiling = Duration::ZERO;
        for _ in 0..10 {
            let ceiling = b.ceiling();
            assert!(ceiling >= last_ceiling);
            let d = b.next_delay();
            assert!(d >= ceiling / 2 && d <= ceiling + Duration::from_millis(1), "{d:?} vs {ceiling:?}");
            last_ceiling = ceiling;
        }
        assert_eq!(b.ceiling(), Duration::from_millis(1000));
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_millis(100));
    }
}
