//! One Graph send limiter per business number, shared by every agent of the bridge.
//!
//! Meta caps a number's sends per second (20 for Coexistence, the tier for standard) and counts
//! them where they *arrive*. We want every 1-second window at Meta at or under the cap while
//! staying close to it. Two parts:
//!
//! 1. **Pacing** — governor GCRA with burst 1 and period `1 s / cap`. A token bucket with burst
//!    `cap` would let `cap` sends out at once and `cap` more a moment later (2×cap in one
//!    second); burst 1 spaces sends evenly instead. Pacing alone gives no hard bound: a late
//!    wake-up can squeeze the gap to the next send.
//! 2. **Arrival gate** — the hard bound. Send `k` may leave only 1 s after send `k - cap` is
//!    known to have *arrived*. Meta's answer proves arrival, so "arrived by" is the time the
//!    answer came back; when no answer has come back within `guard` of departure, we assume
//!    arrival by `departure + guard`. If `cap + 1` sends arrived within one second, the first
//!    and last of them would be at least `cap` departures apart, and the last left a second
//!    after the first had arrived: a contradiction. So the bound holds whatever the scheduler
//!    or the network does, as long as answers come back within `guard` (and beyond that, as
//!    long as the network does not delay one send by more than `guard` relative to a later one).
//!
//! Throughput is `cap` per `1 s + round trip` (capped at `1 s + guard`): on a LAN or loopback
//! over 99% of the cap; over a WAN with a 200 ms round trip, the default 50 ms guard gives ~95%.
//! Tune it with `COEXIST_LIMITER_GUARD_MS`. Retries take a slot like any send.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::metrics::Metrics;

/// The window Meta counts sends in.
const WINDOW: Duration = Duration::from_secs(1);

/// The pacing quota for `cap` sends per `window`: evenly spaced, burst 1.
pub fn quota(cap: u32, window: Duration) -> Quota {
    let period = window / cap.max(1);
    Quota::with_period(period.max(Duration::from_micros(1)))
        .expect("period is positive")
        .allow_burst(NonZeroU32::MIN)
}

/// A send that left through the limiter. Call [`Departure::answered`] once the server's answer
/// came back; dropping it without that means "arrival unknown" (assumed by departure + guard).
pub struct Departure {
    answered: Option<watch::Sender<Option<Instant>>>,
}

impl Departure {
    /// A departure no gate waits on (calls that are not rate limited).
    pub fn unlimited() -> Self {
        Departure { answered: None }
    }

    /// The server answered: the send arrived before now.
    pub fn answered(self) {
        if let Some(tx) = &self.answered {
            let _ = tx.send(Some(Instant::now()));
        }
    }
}

/// What the gate remembers of one of the last `cap` departures.
struct Sent {
    departed: Instant,
    answered: watch::Receiver<Option<Instant>>,
}

impl Sent {
    /// When this send is known (or, past `guard`, assumed) to have arrived.
    async fn arrived_by(mut self, guard: Duration) -> Instant {
        let deadline = self.departed + guard;
        match tokio::time::timeout_at(deadline, self.answered.wait_for(Option::is_some)).await {
            Ok(Ok(at)) => at.expect("waited for Some").min(deadline),
            // Dropped unanswered, or no answer within the guard.
            Ok(Err(_)) | Err(_) => deadline,
        }
    }
}

struct Gate {
    /// The last `cap` departures, oldest first.
    recent: VecDeque<Sent>,
    /// The latest "arrived by" among sends older than those in `recent`.
    arrived_by: Option<Instant>,
}

/// One number's limiter: pacing plus the arrival gate.
pub struct NumberLimiter {
    cap: u32,
    window: Duration,
    guard: Duration,
    pacing: DefaultDirectRateLimiter,
    gate: tokio::sync::Mutex<Gate>,
}

impl NumberLimiter {
    pub fn new(cap: u32, guard: Duration) -> Self {
        Self::with_window(cap, WINDOW, guard)
    }

    fn with_window(cap: u32, window: Duration, guard: Duration) -> Self {
        let cap = cap.max(1);
        NumberLimiter {
            cap,
            window,
            guard,
            pacing: RateLimiter::direct(quota(cap, window)),
            gate: tokio::sync::Mutex::new(Gate { recent: VecDeque::with_capacity(cap as usize), arrived_by: None }),
        }
    }

    /// Waits for this number's next send slot and records the departure.
    pub async fn until_ready(&self) -> Departure {
        self.pacing.until_ready().await;
        let mut gate = self.gate.lock().await;
        if gate.recent.len() >= self.cap as usize {
            let oldest = gate.recent.pop_front().expect("non-empty");
            let arrived = oldest.arrived_by(self.guard).await;
            let latest = gate.arrived_by.map_or(arrived, |at| at.max(arrived));
            gate.arrived_by = Some(latest);
            tokio::time::sleep_until(latest + self.window).await;
        }
        let (tx, rx) = watch::channel(None);
        gate.recent.push_back(Sent { departed: Instant::now(), answered: rx });
        Departure { answered: Some(tx) }
    }
}

pub struct Limiters {
    guard: Duration,
    by_number: Mutex<HashMap<String, Arc<NumberLimiter>>>,
}

impl Limiters {
    pub fn new(guard: Duration) -> Self {
        Limiters { guard, by_number: Mutex::new(HashMap::new()) }
    }

    /// The number's limiter; a new one when its cap changed (an admin edited the tier).
    pub fn get(&self, phone_number_id: &str, cap: u32) -> Arc<NumberLimiter> {
        let mut map = self.by_number.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(phone_number_id) {
            Some(l) if l.cap == cap.max(1) => l.clone(),
            _ => {
                let limiter = Arc::new(NumberLimiter::new(cap, self.guard));
                map.insert(phone_number_id.to_string(), limiter.clone());
                limiter
            }
        }
    }

    /// Waits for the number's next send slot, counting waits in the metrics.
    pub async fn until_ready(&self, phone_number_id: &str, cap: u32, metrics: &Metrics) -> Departure {
        let limiter = self.get(phone_number_id, cap);
        let started = Instant::now();
        let departure = limiter.until_ready().await;
        let waited = started.elapsed();
        if waited >= Duration::from_millis(1) {
            Metrics::inc(&metrics.limiter_waits);
            metrics
                .limiter_wait_ms_sum
                .fetch_add(waited.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        departure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn quota_spaces_sends_evenly_at_the_cap() {
        let q = quota(20, WINDOW);
        assert_eq!(q.burst_size().get(), 1);
        assert_eq!(q.replenish_interval(), Duration::from_millis(50));
        assert_eq!(quota(1000, WINDOW).replenish_interval(), Duration::from_millis(1));
    }

    #[test]
    fn a_new_cap_gets_a_new_limiter() {
        let l = Limiters::new(Duration::ZERO);
        let a = l.get("1", 20);
        assert!(Arc::ptr_eq(&a, &l.get("1", 20)));
        assert!(!Arc::ptr_eq(&a, &l.get("1", 80)));
    }

    /// Sends racing through a 5-per-200-ms limiter, each reaching the "server" after a random
    /// delay and (when `answer`) answered after another; returns the arrival times, sorted.
    async fn arrivals(answer: bool, guard: Duration) -> Vec<Instant> {
        let limiter = Arc::new(NumberLimiter::with_window(5, Duration::from_millis(200), guard));
        let stamps = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..23)
            .map(|_| {
                let (limiter, stamps) = (limiter.clone(), stamps.clone());
                tokio::spawn(async move {
                    let departure = limiter.until_ready().await;
                    let (there, back) = {
                        let mut rng = rand::thread_rng();
                        (rng.gen_range(0..guard.as_millis() as u64), rng.gen_range(0..20))
                    };
                    tokio::time::sleep(Duration::from_millis(there)).await;
                    stamps.lock().unwrap().push(Instant::now());
                    tokio::time::sleep(Duration::from_millis(back)).await;
                    if answer {
                        departure.answered();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let mut at = stamps.lock().unwrap().clone();
        at.sort();
        at
    }

    fn assert_at_most_5_per_200_ms(at: &[Instant]) {
        for i in 0..at.len() - 5 {
            assert!(at[i + 5] - at[i] >= Duration::from_millis(200), "6 arrivals within one window: {:?}", at[i + 5] - at[i]);
        }
    }

    /// Arrivals delayed by up to the guard, answers delayed more: the answers bound the window.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answered_sends_never_put_cap_plus_one_arrivals_in_a_window() {
        assert_at_most_5_per_200_ms(&arrivals(true, Duration::from_millis(30)).await);
    }

    /// No answers at all: the guard alone bounds the window, for delays within it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unanswered_sends_are_assumed_arrived_by_the_guard() {
        assert_at_most_5_per_200_ms(&arrivals(false, Duration::from_millis(30)).await);
    }

    /// A quick answer frees the next window as soon as the answer is in, not after the guard.
    #[tokio::test]
    async fn a_prompt_answer_does_not_wait_for_the_guard() {
        let window = Duration::from_millis(200);
        let limiter = NumberLimiter::with_window(2, window, Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..3 {
            limiter.until_ready().await.answered();
        }
        let answered = start.elapsed();
        assert!(answered >= window && answered < Duration::from_millis(700), "third send after {answered:?}");

        let start = Instant::now();
        for _ in 0..3 {
            drop(limiter.until_ready().await);
        }
        assert!(start.elapsed() >= Duration::from_secs(1), "an unanswered send counts as arrived at departure + guard");
    }
}
