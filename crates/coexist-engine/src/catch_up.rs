//! How far a desktop is behind the bridge, so the UI can say "Catching up: 12,000 of 850,000
//! updates" while a backlog goes in (after days offline, or a first sign-in on a busy bridge)
//! instead of a list that fills in silently.

use crate::events::ConnectionState;

/// Backlogs of more entries than this show their progress; smaller ones pass in a blink.
pub const SHOW_PROGRESS_OVER: i64 = 2_000;

/// One backlog: from the cursor it started at to the newest seq the bridge has said it holds.
#[derive(Debug)]
pub(crate) struct CatchUp {
    start: i64,
    target: i64,
    threshold: i64,
}

impl CatchUp {
    pub fn new(cursor: i64, last_seq: i64, threshold: i64) -> Self {
        CatchUp { start: cursor, target: last_seq, threshold }
    }

    /// A later page said the bridge holds more: the backlog reaches further.
    pub fn extend(&mut self, last_seq: i64) {
        self.target = self.target.max(last_seq);
    }

    /// The connection's state once everything up to `cursor` is applied. Reaching the target
    /// ends this backlog: a later burst counts from where it begins.
    pub fn state(&mut self, cursor: i64) -> ConnectionState {
        let total = self.target - self.start;
        if cursor >= self.target {
            self.start = cursor;
            self.target = cursor;
            return ConnectionState::Online;
        }
        if total <= self.threshold {
            return ConnectionState::Online;
        }
        ConnectionState::CatchingUp { applied: (cursor - self.start).max(0) as u64, total: total as u64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_backlog_shows_progress_until_it_is_applied() {
        let mut c = CatchUp::new(100, 10_100, 2_000);
        assert_eq!(c.state(100), ConnectionState::CatchingUp { applied: 0, total: 10_000 });
        assert_eq!(c.state(5_100), ConnectionState::CatchingUp { applied: 5_000, total: 10_000 });
        c.extend(12_100);
        assert_eq!(c.state(10_100), ConnectionState::CatchingUp { applied: 10_000, total: 12_000 });
        assert_eq!(c.state(12_100), ConnectionState::Online);
    }

    #[test]
    fn a_small_backlog_and_live_traffic_stay_online() {
        let mut c = CatchUp::new(0, 1_500, 2_000);
        assert_eq!(c.state(0), ConnectionState::Online);
        assert_eq!(c.state(1_500), ConnectionState::Online);
        // Hours of live traffic later, a burst counts from where it began, not from the start.
        for seq in 1_501..=50_000 {
            c.extend(seq);
            assert_eq!(c.state(seq), ConnectionState::Online);
        }
        c.extend(53_000);
        assert_eq!(c.state(50_500), ConnectionState::CatchingUp { applied: 500, total: 3_000 });
    }
}
