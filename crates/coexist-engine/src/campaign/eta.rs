//! How long a campaign takes, from the number's throughput cap — shown BEFORE it starts.
//!
//! Two figures: at the cap itself (10,000 recipients at 20 msg/s = 500 s = 8 min 20 s), and at
//! the pace the engine really sends: the local limiter spaces sends by `1 s / cap` plus a
//! [`PACING_GUARD_PERCENT`] guard (just under the bridge's pace), i.e. 20 msg/s becomes one send
//! every 50.5 ms and 10,000 take 505 s = 8 min 25 s.
//! Replies the team sends meanwhile share the same cap and stretch it a little more.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::limiter::PACING_GUARD_PERCENT;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eta {
    pub recipients: usize,
    /// The number's cap, messages per second.
    pub cap_mps: u32,
    /// `recipients / cap`.
    pub at_cap: Duration,
    /// At the engine's real pace (the cap less the pacing guard): the figure to expect.
    pub paced: Duration,
}

impl Eta {
    pub fn new(recipients: usize, cap_mps: u32) -> Eta {
        let cap = cap_mps.max(1);
        let n = recipients as u64;
        let at_cap = Duration::from_millis(n * 1000 / cap as u64);
        let paced = Duration::from_millis(n * 1000 * (100 + PACING_GUARD_PERCENT as u64) / 100 / cap as u64);
        Eta { recipients, cap_mps: cap, at_cap, paced }
    }
}

impl fmt::Display for Eta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} recipient{} at {} msg/s: {} at the cap, about {} at the engine's pace (the cap less a {}% guard)",
            self.recipients,
            if self.recipients == 1 { "" } else { "s" },
            self.cap_mps,
            human(self.at_cap),
            human(self.paced),
            PACING_GUARD_PERCENT
        )
    }
}

/// "8 min 20 s", "1 h 3 min", "45 s", "0.4 s".
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{:.1} s", d.as_secs_f64()),
        1..=59 => format!("{s} s"),
        60..=3599 => match (s / 60, s % 60) {
            (m, 0) => format!("{m} min"),
            (m, rest) => format!("{m} min {rest} s"),
        },
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_at_twenty_is_eight_minutes_twenty_at_the_cap() {
        let eta = Eta::new(10_000, 20);
        assert_eq!(eta.at_cap, Duration::from_secs(500));
        assert_eq!(eta.paced, Duration::from_secs(505));
        let text = eta.to_string();
        assert!(text.contains("8 min 20 s") && text.contains("8 min 25 s") && text.contains("1% guard"), "{text}");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::from_secs(45)), "45 s");
        assert_eq!(human(Duration::from_secs(3780)), "1 h 3 min");
        assert_eq!(human(Duration::from_secs(120)), "2 min");
        assert_eq!(Eta::new(1000, 1000).at_cap, Duration::from_secs(1));
    }
}
