//! The LOCAL send rate limiter (governor), applied before anything reaches the bridge, so one
//! desktop never trips Meta's limits on its own:
//!
//! - the number's throughput cap: 20 mps for a Coexistence number (cannot be raised), the tier
//!   (80 by default, up to 1000) for a standard number. Sends are spaced evenly (burst 1), 1 %
//!   under the cap, so one desktop alone never queues at the bridge.
//! - the pair rate limit: Meta allows about one message every 6 s to the same customer (error
//!   131056 beyond it). We allow a small burst of [`PAIR_BURST`] (an agent typing three quick lines
//!   is normal) refilled at one per [`PAIR_PERIOD`].
//!
//! The bridge has its own limiter for all desktops together, and it holds the hard bound (no
//! second at Meta over the cap, see `coexist_bridge::limiter`); this one only keeps us polite.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// One message per this period to the same customer, on average.
pub const PAIR_PERIOD: Duration = Duration::from_secs(6);
/// How many messages may go to one customer back to back before the 6 s spacing applies.
pub const PAIR_BURST: u32 = 3;
/// The cap used for a number we know nothing about yet: the lowest real cap (Coexistence).
pub const DEFAULT_MPS: u32 = 20;

type PairKey = (String, String);

pub struct SendLimiter {
    numbers: Mutex<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>,
    pairs: DefaultKeyedRateLimiter<PairKey>,
    clock: DefaultClock,
}

impl Default for SendLimiter {
    fn default() -> Self {
        SendLimiter::new(PAIR_PERIOD, PAIR_BURST)
    }
}

impl SendLimiter {
    pub fn new(pair_period: Duration, pair_burst: u32) -> Self {
        let quota = Quota::with_period(pair_period)
            .expect("pair period is non-zero")
            .allow_burst(NonZeroU32::new(pair_burst.max(1)).expect("max(1) is non-zero"));
        SendLimiter { numbers: Mutex::new(HashMap::new()), pairs: RateLimiter::keyed(quota), clock: DefaultClock::default() }
    }

    /// Set (or change) a number's messages-per-second cap.
    pub fn set_number_cap(&self, phone_number_id: &str, mps: u32) {
        let mps = mps.max(1);
        let mut numbers = self.numbers.lock().expect("limiter lock");
        if numbers.get(phone_number_id).is_some_and(|(cap, _)| *cap == mps) {
            return;
        }
        numbers.insert(phone_number_id.to_string(), (mps, Arc::new(number_limiter(mps))));
    }

    pub fn number_cap(&self, phone_number_id: &str) -> u32 {
        self.numbers.lock().expect("limiter lock").get(phone_number_id).map(|(c, _)| *c).unwrap_or(DEFAULT_MPS)
    }

    fn number(&self, phone_number_id: &str) -> Arc<DefaultDirectRateLimiter> {
        let mut numbers = self.numbers.lock().expect("limiter lock");
        let entry = numbers
            .entry(phone_number_id.to_string())
            .or_insert_with(|| (DEFAULT_MPS, Arc::new(number_limiter(DEFAULT_MPS))));
        entry.1.clone()
    }

    /// Take one slot of the pair budget for this customer if there is one; otherwise how long
    /// until there is. Taking is final: call only when about to send.
    pub fn try_pair(&self, phone_number_id: &str, recipient: &str) -> Result<(), Duration> {
        let key = (phone_number_id.to_string(), recipient.to_string());
        self.pairs.check_key(&key).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Wait for the number's next send slot.
    pub async fn until_number_ready(&self, phone_number_id: &str) {
        let limiter = self.number(phone_number_id);
        limiter.until_ready().await;
    }
}

/// Sends are spaced by `1 s / mps` plus [`PACING_GUARD_PERCENT`], a little under the bridge's
/// own pace (`cap` per second plus a round trip), so our sends do not wait in its queue.
pub const PACING_GUARD_PERCENT: u32 = 1;

fn number_limiter(mps: u32) -> DefaultDirectRateLimiter {
    let period = Duration::from_secs(1) * (100 + PACING_GUARD_PERCENT) / 100 / mps;
    RateLimiter::direct(Quota::with_period(period).expect("mps >= 1 gives a non-zero period"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn number_cap_holds_in_every_sliding_second() {
        let limiter = SendLimiter::default();
        limiter.set_number_cap("pn", 20);
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..45 {
            limiter.until_number_ready("pn").await;
            at.push(start.elapsed());
        }
        for (i, t) in at.iter().enumerate() {
            let in_window = at[i..].iter().take_while(|u| **u < *t + Duration::from_secs(1)).count();
            assert!(in_window <= 20, "{in_window} sends within one second starting at {t:?}");
        }
    }

    #[test]
    fn pair_limit_allows_a_small_burst_then_spaces() {
        let limiter = SendLimiter::default();
        for _ in 0..PAIR_BURST {
            assert!(limiter.try_pair("pn", "15550001").is_ok());
        }
        let wait = limiter.try_pair("pn", "15550001").unwrap_err();
        assert!(wait > Duration::from_secs(4) && wait <= PAIR_PERIOD, "{wait:?}");
        // Another customer is not affected.
        assert!(limiter.try_pair("pn", "15550002").is_ok());
    }

    #[test]
    fn cap_defaults_to_coexistence_and_can_change() {
        let limiter = SendLimiter::default();
        assert_eq!(limiter.number_cap("x"), 20);
        limiter.set_number_cap("x", 80);
        assert_eq!(limiter.number_cap("x"), 80);
    }
}
