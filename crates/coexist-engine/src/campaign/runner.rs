//! The campaign feeder: a background task (started by `Engine::start`) that keeps each running
//! campaign's next few recipients in the ordinary outbox, where the ordinary outbox worker
//! sends them under the same local rate limiter as every other send.
//!
//! Why only a few: the outbox sends oldest first, so a whole campaign queued at once would hold
//! every agent reply back until it finished; with about half a second of sends queued, a reply
//! waits at most that long and a pause takes effect within it. Everything the feeder knows is
//! in the store, so a restart (or another process) simply carries on.

use std::sync::Arc;
use std::time::Duration;

use coexist_core::NumberMode;
use coexist_store::{CampaignState, Store, StoreError};

use crate::limiter::DEFAULT_MPS;
use crate::shared::Shared;

/// How often the feeder looks while a campaign runs (the window covers half a second of sends).
const BUSY_TICK: Duration = Duration::from_millis(100);
/// How often it looks when nothing runs (a campaign started by another process, a resume).
const IDLE_TICK: Duration = Duration::from_secs(1);

/// How many of a campaign's items may sit in the outbox at once: half a second at the cap,
/// never fewer than 5.
pub fn window_for(cap_mps: u32) -> usize {
    (cap_mps as usize / 2).max(5)
}

/// The send cap of a number, by the same rule as the outbox worker's limiter.
pub fn cap_of(store: &Store, phone_number_id: &str) -> Result<u32, StoreError> {
    let number = store.numbers()?.into_iter().find(|n| n.phone_number_id == phone_number_id);
    Ok(match number {
        Some(n) if n.mode == NumberMode::Standard => n.tier_mps.max(1),
        _ => DEFAULT_MPS,
    })
}

/// Feed forever (abort the task to stop).
pub(crate) async fn run(shared: Arc<Shared>) {
    loop {
        let tick = match feed_once(&shared) {
            Ok(true) => BUSY_TICK,
            Ok(false) => IDLE_TICK,
            Err(e) => {
                tracing::error!(error = %e, "campaign feeding failed; trying again");
                IDLE_TICK
            }
        };
        tokio::time::sleep(tick).await;
    }
}

/// One round over the unfinished campaigns; true if any is running.
pub(crate) fn feed_once(shared: &Shared) -> Result<bool, StoreError> {
    let mut store = shared.store();
    let mut busy = false;
    let mut fed = 0;
    for c in store.campaigns()?.into_iter().filter(|c| c.state != CampaignState::Done) {
        match c.state {
            CampaignState::Running => {
                busy = true;
                let window = window_for(cap_of(&store, &c.phone_number_id)?);
                fed += store.campaign_feed(&c.id, window)?.fed;
            }
            CampaignState::Paused => {
                store.campaign_repark(&c.id)?;
            }
            CampaignState::Done => {}
        }
    }
    drop(store);
    if fed > 0 {
        shared.outbox_wake.notify_one();
    }
    Ok(busy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_half_a_second_of_sends() {
        assert_eq!(window_for(20), 10);
        assert_eq!(window_for(1000), 500);
        assert_eq!(window_for(1), 5, "never fewer than 5");
    }
}
