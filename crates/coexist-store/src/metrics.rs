//! The managers' view: how fast and from where the team answers, over a date range.
//!
//! Everything is computed from the local inbox (messages and delivery statuses), in Meta
//! time, with the same rules as the conversation list: only a customer actually writing (not a
//! `system` notice) opens or extends the 24 h window (72 h with a `referral`), only API and
//! Business App messages are business replies, history never counts.
//!
//! Definitions (so two managers reading the same chart mean the same thing):
//! - **first response time**: the clock starts at the first customer message not yet answered
//!   (the start of a run of customer messages) and stops at the next business reply; the time
//!   is attributed to that reply's side. Counted when the customer message is in the range.
//!   Median and p90 use the nearest-rank method (an actual observed value, no interpolation).
//! - **replies by side per day**: messages written per local day (`utc_offset_secs`), by
//!   side; reactions and `system` notices are not replies.
//! - **windows expired unanswered**: a window whose customer's latest message got no business
//!   reply before it expired; counted on the day it expired, when that is in the range and
//!   not after `now`.
//! - **template use**: template messages sent (API or App) in the range, by name, with how
//!   many of them failed.
//! - **failures by code**: messages whose latest status is `failed` (last status time in the
//!   range), by Meta error code, with the plain reason.
//! - **workload now** (whatever the range): conversations not marked done (or whose snooze
//!   ended), per assignee (the unassigned ones together), and how many of them have unread
//!   customer messages.

use std::collections::BTreeMap;

use coexist_core::rules::{FREE_ENTRY_WINDOW_SECS, WINDOW_SECS};
use coexist_core::{ContactKey, ConversationKey, Side};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::views::parse_side;
use crate::Store;

const DAY: i64 = 86_400;
/// A longer range would draw thousands of bars nobody can read; ask for less.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Expired windows listed by name (the count is always complete).
const MAX_LISTED_EXPIRED: usize = 200;

/// What to measure: `[from_ts, to_ts]` (Unix seconds, inclusive), optionally one number.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsQuery {
    pub phone_number_id: Option<String>,
    pub from_ts: i64,
    pub to_ts: i64,
    /// Local time offset for day boundaries (e.g. 3600 for UTC+1); 0 = UTC days.
    pub utc_offset_secs: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub query: MetricsQuery,
    /// First response time for API replies, App replies, and both together (`side: None`).
    pub first_response: Vec<ResponseTimeStat>,
    /// One entry per local day of the range, oldest first (days without messages are zeros).
    pub replies_per_day: Vec<DayReplies>,
    pub expired_unanswered: ExpiredWindows,
    /// Most used first.
    pub templates: Vec<TemplateUse>,
    /// Most frequent first.
    pub failures: Vec<FailureCount>,
    /// Busiest first.
    pub workload: Vec<Workload>,
}

/// Who holds how many open conversations now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// `None`: nobody is assigned (the whole team's).
    pub assignee: Option<String>,
    pub open: i64,
    pub unread: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseTimeStat {
    /// `api` or `app`; `None` = any business reply.
    pub side: Option<Side>,
    /// How many customer runs were answered from this side.
    pub answered: i64,
    pub median_secs: Option<i64>,
    pub p90_secs: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayReplies {
    /// `YYYY-MM-DD` (local day).
    pub day: String,
    /// Unix seconds at the start of that local day.
    pub day_start: i64,
    pub customer: i64,
    pub api: i64,
    pub app: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredWindows {
    pub total: i64,
    /// Per local day of expiry, same days as `replies_per_day`.
    pub per_day: Vec<DayCount>,
    /// The windows themselves (latest first, at most 200).
    pub windows: Vec<ExpiredWindow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: String,
    pub count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredWindow {
    pub conversation: ConversationKey,
    /// The unanswered customer message that set the expiry (its wamid, to open it in context).
    pub last_customer_wamid: String,
    pub last_customer_at: i64,
    pub expired_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateUse {
    pub name: String,
    pub sent: i64,
    pub failed: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCount {
    pub code: i64,
    pub count: i64,
    /// Plain words (coexist_core::explain_meta_error).
    pub reason: String,
    pub what_to_do: String,
}

/// One message as the walks below need it.
struct Row {
    conversation_id: i64,
    /// messages.id (the wamid is looked up only for the expired windows listed).
    id: i64,
    side: Side,
    ts: i64,
    window_len: i64,
    /// A written message (not a reaction nor a `system` notice): counted per day.
    writes: bool,
}

impl Store {
    /// The managers' metrics over `query`'s range, judged at `now` (Unix seconds; windows still
    /// open at `now` have not expired). See the module doc for the definitions.
    pub fn metrics(&self, query: &MetricsQuery, now: i64) -> Result<Metrics> {
        let days = days_of(query)?;
        let rows = self.metric_rows(query)?;
        let (first_response, expired) = walk_conversations(&rows, query, now);
        Ok(Metrics {
            query: query.clone(),
            first_response,
            replies_per_day: replies_per_day(&rows, query, &days),
            expired_unanswered: expired_windows(expired, query, &days, self)?,
            templates: self.template_use(query)?,
            failures: self.failure_counts(query)?,
            workload: self.workload(query, now)?,
        })
    }

    fn workload(&self, q: &MetricsQuery, now: i64) -> Result<Vec<Workload>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT assignee, COUNT(*), SUM(unread > 0) FROM conversations
             WHERE (done_at_ms IS NULL OR done_until_ms <= ?2 * 1000) AND last_activity IS NOT NULL
               AND (?1 IS NULL OR phone_number_id = ?1)
             GROUP BY assignee ORDER BY COUNT(*) DESC, assignee",
        )?;
        let rows = stmt.query_map(params![q.phone_number_id, now], |r| Ok(Workload { assignee: r.get(0)?, open: r.get(1)?, unread: r.get(2)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Messages that can matter: a window expiring in the range was opened at most 72 h
    /// before it; history is never a reply nor a customer writing.
    fn metric_rows(&self, q: &MetricsQuery) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.conversation_id, m.id, m.side, m.ts, m.kind,
                    (m.referral IS NOT NULL AND m.referral <> 'null')
             FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.side <> 'history' AND m.ts >= ?1 AND m.ts <= ?2
               AND (?3 IS NULL OR c.phone_number_id = ?3)
             ORDER BY m.conversation_id, m.ts, m.id",
        )?;
        let rows = stmt.query_map(params![q.from_ts - FREE_ENTRY_WINDOW_SECS, q.to_ts, q.phone_number_id], |r| {
            let kind: String = r.get(4)?;
            let referral: bool = r.get(5)?;
            let row = Row {
                conversation_id: r.get(0)?,
                id: r.get(1)?,
                side: parse_side(&r.get::<_, String>(2)?),
                ts: r.get(3)?,
                window_len: if referral { FREE_ENTRY_WINDOW_SECS } else { WINDOW_SECS },
                writes: kind != "system" && kind != "reaction",
            };
            Ok((row, kind == "system"))
        })?;
        let rows: Vec<(Row, bool)> = rows.collect::<rusqlite::Result<_>>()?;
        // `system` notices are not anyone writing: they neither open windows nor start clocks
        // (coexist_core::rules::is_customer_writing). Reactions do count, as in the rules.
        Ok(rows.into_iter().filter(|(_, system)| !system).map(|(r, _)| r).collect())
    }

    fn template_use(&self, q: &MetricsQuery) -> Result<Vec<TemplateUse>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT json_extract(m.body, '$.name') AS name, COUNT(*),
                    SUM(CASE WHEN s.status = 'failed' THEN 1 ELSE 0 END)
             FROM messages m JOIN conversations c ON c.id = m.conversation_id
             LEFT JOIN statuses s ON s.wamid_key = m.wamid_key AND s.wamid = m.wamid
             WHERE m.kind = 'template' AND m.side IN ('api', 'app') AND m.ts >= ?1 AND m.ts <= ?2
               AND (?3 IS NULL OR c.phone_number_id = ?3)
             GROUP BY name ORDER BY COUNT(*) DESC, name",
        )?;
        let rows = stmt.query_map(params![q.from_ts, q.to_ts, q.phone_number_id], |r| {
            Ok(TemplateUse {
                name: crate::text::sanitize(&r.get::<_, Option<String>>(0)?.unwrap_or_default()),
                sent: r.get(1)?,
                failed: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn failure_counts(&self, q: &MetricsQuery) -> Result<Vec<FailureCount>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT error_code, COUNT(*) FROM statuses
             WHERE status = 'failed' AND error_code IS NOT NULL AND updated_ts >= ?1 AND updated_ts <= ?2
               AND (?3 IS NULL OR phone_number_id = ?3)
             GROUP BY error_code ORDER BY COUNT(*) DESC, error_code",
        )?;
        let rows = stmt.query_map(params![q.from_ts, q.to_ts, q.phone_number_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (code, count) = row?;
            let why = coexist_core::explain_meta_error(code);
            out.push(FailureCount { code, count, reason: why.reason, what_to_do: why.what_to_do });
        }
        Ok(out)
    }

    fn wamid_of(&self, message_id: i64) -> Result<String> {
        let mut stmt = self.conn.prepare_cached("SELECT wamid FROM messages WHERE id = ?1")?;
        Ok(stmt.query_row([message_id], |r| r.get(0))?)
    }

    fn conversation_key(&self, id: i64) -> Result<ConversationKey> {
        let mut stmt = self.conn.prepare_cached("SELECT phone_number_id, contact FROM conversations WHERE id = ?1")?;
        Ok(stmt.query_row([id], |r| {
            Ok(ConversationKey { phone_number_id: r.get(0)?, contact: ContactKey(r.get(1)?) })
        })?)
    }
}

/// The local days of the range (checked: not reversed, at most a year).
fn days_of(q: &MetricsQuery) -> Result<Vec<i64>> {
    if q.to_ts < q.from_ts {
        return Err(StoreError::Invalid("the report range ends before it starts; pick the dates again".into()));
    }
    if q.utc_offset_secs.abs() > 14 * 3600 {
        return Err(StoreError::Invalid("the time zone offset must be within ±14 hours".into()));
    }
    let (first, last) = (local_day(q.from_ts, q), local_day(q.to_ts, q));
    if last - first >= MAX_RANGE_DAYS {
        return Err(StoreError::Invalid(format!("the report range is longer than {MAX_RANGE_DAYS} days; pick a shorter one")));
    }
    Ok((first..=last).collect())
}

fn local_day(ts: i64, q: &MetricsQuery) -> i64 {
    (ts + q.utc_offset_secs).div_euclid(DAY)
}

fn in_range(ts: i64, q: &MetricsQuery) -> bool {
    ts >= q.from_ts && ts <= q.to_ts
}

fn replies_per_day(rows: &[Row], q: &MetricsQuery, days: &[i64]) -> Vec<DayReplies> {
    let mut by_day: BTreeMap<i64, DayReplies> = days
        .iter()
        .map(|&d| (d, DayReplies { day: civil_date(d), day_start: d * DAY - q.utc_offset_secs, ..Default::default() }))
        .collect();
    for r in rows.iter().filter(|r| r.writes && in_range(r.ts, q)) {
        if let Some(day) = by_day.get_mut(&local_day(r.ts, q)) {
            match r.side {
                Side::Customer => day.customer += 1,
                Side::Api => day.api += 1,
                Side::App => day.app += 1,
                Side::History => {}
            }
        }
    }
    by_day.into_values().collect()
}

/// An expired, unanswered window found by the walk (conversation row id, wamid, times).
struct Expired {
    conversation_id: i64,
    message_id: i64,
    last_customer_at: i64,
    expired_at: i64,
}

/// Per conversation, in Meta order: first response times and windows expired unanswered.
fn walk_conversations(rows: &[Row], q: &MetricsQuery, now: i64) -> (Vec<ResponseTimeStat>, Vec<Expired>) {
    let mut api = Vec::new();
    let mut app = Vec::new();
    let mut expired = Vec::new();
    for conv in rows.chunk_by(|a, b| a.conversation_id == b.conversation_id) {
        let mut waiting_since: Option<i64> = None;
        // (open until, answered, latest customer message) of the current window.
        let mut window: Option<(i64, bool, &Row)> = None;
        for r in conv {
            if r.side == Side::Customer {
                if let Some((until, answered, last)) = window {
                    if r.ts >= until {
                        if !answered {
                            expired.push(expired_of(last, until));
                        }
                        window = None;
                    }
                }
                let until = window.map_or(0, |w| w.0).max(r.ts + r.window_len);
                window = Some((until, false, r));
                if waiting_since.is_none() && in_range(r.ts, q) {
                    waiting_since = Some(r.ts);
                }
                // A run that started before the range is not measured, but still ends here.
                if waiting_since.is_none() {
                    waiting_since = Some(i64::MIN);
                }
            } else if matches!(r.side, Side::Api | Side::App) {
                if let Some(since) = waiting_since.take() {
                    if since != i64::MIN {
                        let list = if r.side == Side::Api { &mut api } else { &mut app };
                        list.push(r.ts - since);
                    }
                }
                if let Some(w) = window.as_mut() {
                    if r.ts < w.0 {
                        w.1 = true;
                    }
                }
            }
        }
        if let Some((until, false, last)) = window {
            if until <= now {
                expired.push(expired_of(last, until));
            }
        }
    }
    expired.retain(|e| in_range(e.expired_at, q) && e.expired_at <= now);
    let mut both: Vec<i64> = api.iter().chain(app.iter()).copied().collect();
    let stats = vec![stat(Some(Side::Api), &mut api), stat(Some(Side::App), &mut app), stat(None, &mut both)];
    (stats, expired)
}

fn expired_of(last: &Row, until: i64) -> Expired {
    Expired { conversation_id: last.conversation_id, message_id: last.id, last_customer_at: last.ts, expired_at: until }
}

fn stat(side: Option<Side>, times: &mut [i64]) -> ResponseTimeStat {
    times.sort_unstable();
    ResponseTimeStat {
        side,
        answered: times.len() as i64,
        median_secs: nearest_rank(times, 50),
        p90_secs: nearest_rank(times, 90),
    }
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `pct`% of
/// the values at or below it.
pub fn nearest_rank(sorted: &[i64], pct: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

fn expired_windows(mut found: Vec<Expired>, q: &MetricsQuery, days: &[i64], store: &Store) -> Result<ExpiredWindows> {
    let mut per_day: BTreeMap<i64, i64> = days.iter().map(|&d| (d, 0)).collect();
    for e in &found {
        *per_day.entry(local_day(e.expired_at, q)).or_default() += 1;
    }
    found.sort_by(|a, b| b.expired_at.cmp(&a.expired_at).then_with(|| b.message_id.cmp(&a.message_id)));
    let total = found.len() as i64;
    let mut windows = Vec::new();
    for e in found.into_iter().take(MAX_LISTED_EXPIRED) {
        windows.push(ExpiredWindow {
            conversation: store.conversation_key(e.conversation_id)?,
            last_customer_wamid: store.wamid_of(e.message_id)?,
            last_customer_at: e.last_customer_at,
            expired_at: e.expired_at,
        });
    }
    Ok(ExpiredWindows {
        total,
        per_day: per_day.into_iter().map(|(d, count)| DayCount { day: civil_date(d), count }).collect(),
        windows,
    })
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian; H. Hinnant's algorithm).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_picks_observed_values() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 50), Some(5));
        assert_eq!(nearest_rank(&v, 90), Some(9));
        assert_eq!(nearest_rank(&[10, 20, 30], 50), Some(20));
        assert_eq!(nearest_rank(&[10, 20, 30], 90), Some(30));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(-1), "1969-12-31");
        assert_eq!(civil_date(19_675), "2023-11-14"); // 1_700_000_000 / 86_400
        assert_eq!(civil_date(11_016), "2000-02-29");
    }

    #[test]
    fn ranges_are_checked() {
        let q = MetricsQuery { from_ts: 10, to_ts: 5, ..Default::default() };
        assert!(days_of(&q).unwrap_err().to_string().contains("ends before it starts"));
        let q = MetricsQuery { from_ts: 0, to_ts: 400 * DAY, ..Default::default() };
        assert!(days_of(&q).unwrap_err().to_string().contains("shorter"));
        let q = MetricsQuery { from_ts: 0, to_ts: 2 * DAY, ..Default::default() };
        assert_eq!(days_of(&q).unwrap(), vec![0, 1, 2]);
    }
}
