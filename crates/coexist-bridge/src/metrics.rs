//! Plain counters, rendered as Prometheus text at `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct Metrics {
    pub webhooks_accepted: AtomicU64,
    pub webhooks_duplicate: AtomicU64,
    pub webhooks_quarantined: AtomicU64,
    pub refused_signature_missing: AtomicU64,
    pub refused_signature_invalid: AtomicU64,
    pub refused_too_large: AtomicU64,
    pub refused_storage: AtomicU64,
    pub relay_events_served: AtomicU64,
    /// Sum over relayed events of (serve time - receive time), for the mean relay lag.
    pub relay_lag_ms_sum: AtomicU64,
    pub relay_last_served_seq: AtomicI64,
    pub sends_accepted: AtomicU64,
    pub sends_meta_error: AtomicU64,
    pub sends_failed: AtomicU64,
    pub sends_replayed: AtomicU64,
    pub graph_retries: AtomicU64,
    pub limiter_waits: AtomicU64,
    pub limiter_wait_ms_sum: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Records that `events` (received at the given Unix ms) were just relayed.
    pub fn relayed(&self, received_at_ms: impl Iterator<Item = i64>, last_seq: i64) {
        let now = crate::now_ms();
        for at in received_at_ms {
            self.relay_events_served.fetch_add(1, Relaxed);
            self.relay_lag_ms_sum.fetch_add(now.saturating_sub(at).max(0) as u64, Relaxed);
        }
        self.relay_last_served_seq.fetch_max(last_seq, Relaxed);
    }

    pub fn render(&self, last_seq: i64, writer: &crate::writer::WriterStats) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, rows: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, v) in rows {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        let g = |c: &AtomicU64| c.load(Relaxed);
        counter("coexist_bridge_webhooks_accepted_total", "Signed webhooks answered 200, by outcome.", &[
            ("{outcome=\"stored\"}", g(&self.webhooks_accepted)),
            ("{outcome=\"duplicate\"}", g(&self.webhooks_duplicate)),
            ("{outcome=\"quarantined\"}", g(&self.webhooks_quarantined)),
        ]);
        counter("coexist_bridge_webhooks_refused_total", "Webhooks refused, by reason.", &[
            ("{reason=\"signature_missing\"}", g(&self.refused_signature_missing)),
            ("{reason=\"signature_invalid\"}", g(&self.refused_signature_invalid)),
            ("{reason=\"too_large\"}", g(&self.refused_too_large)),
            ("{reason=\"storage\"}", g(&self.refused_storage)),
        ]);
        counter("coexist_bridge_relay_events_served_total", "Events handed to desktops.", &[("", g(&self.relay_events_served))]);
        counter("coexist_bridge_relay_lag_milliseconds_sum", "Sum of (relayed at - received at) over served events.", &[("", g(&self.relay_lag_ms_sum))]);
        counter("coexist_bridge_sends_total", "Send relay outcomes.", &[
            ("{outcome=\"accepted\"}", g(&self.sends_accepted)),
            ("{outcome=\"meta_error\"}", g(&self.sends_meta_error)),
            ("{outcome=\"failed\"}", g(&self.sends_failed)),
            ("{outcome=\"idempotent_replay\"}", g(&self.sends_replayed)),
        ]);
        counter("coexist_bridge_graph_retries_total", "Graph API calls retried.", &[("", g(&self.graph_retries))]);
        counter("coexist_bridge_limiter_waits_total", "Graph calls that waited for the per-number rate limiter.", &[("", g(&self.limiter_waits))]);
        counter("coexist_bridge_limiter_wait_milliseconds_sum", "Total time spent waiting for the rate limiter.", &[("", g(&self.limiter_wait_ms_sum))]);
        counter("coexist_bridge_log_batches_total", "Event log transactions committed (group commit).", &[("", g(&writer.batches))]);
        counter("coexist_bridge_log_appends_total", "Items appended to the event log.", &[("", g(&writer.appends))]);
        let served = self.relay_last_served_seq.load(Relaxed);
        let _ = writeln!(out, "# HELP coexist_bridge_event_log_last_seq Highest committed seq.\n# TYPE coexist_bridge_event_log_last_seq gauge\ncoexist_bridge_event_log_last_seq {last_seq}");
        let _ = writeln!(out, "# HELP coexist_bridge_relay_lag_events Committed events not yet served to any desktop.\n# TYPE coexist_bridge_relay_lag_events gauge\ncoexist_bridge_relay_lag_events {}", (last_seq - served).max(0));
        out
    }
}
