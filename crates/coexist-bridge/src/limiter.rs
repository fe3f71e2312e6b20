//! One Graph send limiter per business number, shared by every agent of the bridge.
//!
//! Meta caps a number's sends per second (20 for Coexistence, the tier for standard). A token
//! bucket with burst `cap` would let `cap` sends out at once and then `cap` more a moment later
//! — 2×cap inside one second. We use GCRA with burst 1 instead: sends are spaced evenly, at
//! least `period` apart. With `period = (1 s + guard) / cap`, any closed 1-second window holds
//! at most `floor(cap / (1 + guard)) + 1 <= cap` departures, and for Meta to *see* cap+1 in a
//! second, network jitter would have to squeeze `cap` gaps (totalling 1 s + guard) below 1 s,
//! i.e. delay one send by more than `guard` relative to a later one. The default guard of
//! 100 ms keeps us at ~91% of the cap (19 of 20 per second at most, ~18.2 sustained).
//! Retries take a cell like any send.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::metrics::Metrics;

pub struct Limiters {
    guard: Duration,
    by_number: Mutex<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>,
}

/// The quota for `cap` sends per second with `guard` slack: evenly spaced, burst 1.
pub fn quota(cap: u32, guard: Duration) -> Quota {
    let cap = cap.max(1);
    let period = (Duration::from_secs(1) + guard) / cap;
    Quota::with_period(period.max(Duration::from_micros(1)))
        .expect("period is positive")
        .allow_burst(NonZeroU32::MIN)
}

impl Limiters {
    pub fn new(guard: Duration) -> Self {
        Limiters { guard, by_number: Mutex::new(HashMap::new()) }
    }

    /// The number's limiter; a new one when its cap changed (an admin edited the tier).
    pub fn get(&self, phone_number_id: &str, cap: u32) -> Arc<DefaultDirectRateLimiter> {
        let mut map = self.by_number.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(phone_number_id) {
            Some((c, l)) if *c == cap => l.clone(),
            _ => {
                let limiter = Arc::new(RateLimiter::direct(quota(cap, self.guard)));
                map.insert(phone_number_id.to_string(), (cap, limiter.clone()));
                limiter
            }
        }
    }

    /// Waits for the number's next send slot, counting waits in the metrics.
    pub async fn until_ready(&self, phone_number_id: &str, cap: u32, metrics: &Metrics) {
        let limiter = self.get(phone_number_id, cap);
        let started = Instant::now();
        limiter.until_ready().await;
        let waited = started.elapsed();
        if waited >= Duration::from_millis(1) {
            Metrics::inc(&metrics.limiter_waits);
            metrics
                .limiter_wait_ms_sum
                .fetch_add(waited.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_spaces_sends_evenly_under_the_cap() {
        let q = quota(20, Duration::from_millis(100));
        assert_eq!(q.burst_size().get(), 1);
        assert_eq!(q.replenish_interval(), Duration::from_millis(55));
        // Most sends a closed 1 s window can hold at that spacing.
        let per_window = (1000 / 55) + 1;
        assert!((18..=20).contains(&per_window));
        let q = quota(1000, Duration::from_millis(100));
        assert_eq!(q.replenish_interval(), Duration::from_micros(1100));
    }

    #[test]
    fn a_new_cap_gets_a_new_limiter() {
        let l = Limiters::new(Duration::ZERO);
        let a = l.get("1", 20);
        assert!(Arc::ptr_eq(&a, &l.get("1", 20)));
        assert!(!Arc::ptr_eq(&a, &l.get("1", 80)));
    }
}
