//! Campaigns: one approved template sent to many recipients, through the ordinary outbox.
//!
//! Why a campaign is fed into the outbox a little at a time instead of all at once: the outbox
//! sends oldest first, so 10,000 items queued at once would put every agent reply behind eight
//! minutes of bulk sends. [`Store::campaign_feed`] keeps only a small window of a campaign
//! queued; the rest waits in `campaign_recipients`.
//!
//! Never twice: every recipient's outbox item has an idempotency key derived from (campaign,
//! recipient) and chosen when the campaign is created; feeding uses `INSERT OR IGNORE` on that
//! key in the same transaction that marks the recipient fed, so a crash, a re-run or a resume
//! can never queue a recipient twice, and the bridge dedupes a re-sent key.
//!
//! Pausing stops the feeding and parks the campaign's queued items (their `next_attempt_at_ms`
//! is set to [`PARKED_AT_MS`], which `outbox_ready` never reaches); resuming unparks them.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::apply::now_ms;
use crate::error::{decode, Result, StoreError};
use crate::Store;

/// `next_attempt_at_ms` of a paused campaign's queued items: never due.
pub const PARKED_AT_MS: i64 = i64::MAX;

/// Version 3 of the schema (appended to schema.rs's list).
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE campaigns (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    phone_number_id TEXT NOT NULL,
    template_name   TEXT NOT NULL,
    language        TEXT NOT NULL,
    state           TEXT NOT NULL,
    total           INTEGER NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL
);
-- Every recipient with its ready-built Graph message and its idempotency key. `fed` = 1 once
-- its outbox item exists.
CREATE TABLE campaign_recipients (
    campaign        TEXT NOT NULL REFERENCES campaigns(id),
    position        INTEGER NOT NULL,
    recipient       TEXT NOT NULL,
    message         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    fed             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign, recipient)
);
CREATE INDEX campaign_recipients_unfed ON campaign_recipients(campaign, position) WHERE fed = 0;
CREATE INDEX outbox_by_campaign ON outbox(campaign, state) WHERE campaign IS NOT NULL;
"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Being fed into the outbox.
    Running,
    /// Stopped by a person; nothing of it is sent until resumed.
    Paused,
    /// Every recipient was handed to Meta (or failed); statuses may still arrive.
    Done,
}

impl CampaignState {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Running => "running",
            CampaignState::Paused => "paused",
            CampaignState::Done => "done",
        }
    }

    fn parse(s: &str) -> CampaignState {
        match s {
            "paused" => CampaignState::Paused,
            "done" => CampaignState::Done,
            _ => CampaignState::Running,
        }
    }
}

/// One recipient of a new campaign, with the message already built and checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCampaignRecipient {
    /// Digits, country code first (also the conversation's contact).
    pub to: String,
    /// The Graph API message JSON.
    pub message: serde_json::Value,
    /// Deterministic per (campaign, recipient).
    pub idempotency_key: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCampaign {
    pub id: String,
    pub name: String,
    pub phone_number_id: String,
    pub template_name: String,
    pub language: String,
    pub recipients: Vec<NewCampaignRecipient>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub phone_number_id: String,
    pub template_name: String,
    pub language: String,
    pub state: CampaignState,
    pub total: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Where each recipient of a campaign is. The buckets do not overlap: `delivered` counts the
/// delivered-but-unread, `read` the read ones; "accepted by Meta" is `sent + delivered + read`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignCounts {
    pub total: i64,
    /// Not yet handed to the outbox (waiting for its turn, or the campaign is paused).
    pub pending: i64,
    /// In the outbox: queued or being sent.
    pub queued: i64,
    /// Accepted by Meta, no delivery status yet.
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    /// Refused at send time, or a `failed` status from Meta afterwards.
    pub failed: i64,
}

impl CampaignCounts {
    /// Recipients Meta accepted (whatever happened next, except failing).
    pub fn accepted(&self) -> i64 {
        self.sent + self.delivered + self.read
    }
}

/// Failures of a campaign with the same Meta error code (`None`: no code, e.g. refused locally).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignFailureGroup {
    pub code: Option<i64>,
    pub count: i64,
    /// One error text as recorded (Meta's or the engine's words), as an example.
    pub example_message: Option<String>,
    /// Up to [`FAILURE_SAMPLE`] recipients with this failure.
    pub recipients: Vec<String>,
}

/// How many recipients a failure group lists.
pub const FAILURE_SAMPLE: usize = 20;

/// What one feeding step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedReport {
    /// Items just put into the outbox.
    pub fed: usize,
    /// The campaign's items now queued or sending in the outbox.
    pub in_flight: usize,
    /// Recipients not yet fed.
    pub remaining: usize,
}

const CAMPAIGN_COLUMNS: &str =
    "SELECT id, name, phone_number_id, template_name, language, state, total, created_at_ms, updated_at_ms FROM campaigns";

fn campaign_from_row(row: &Row<'_>) -> rusqlite::Result<Campaign> {
    let state: String = row.get(5)?;
    Ok(Campaign {
        id: row.get(0)?,
        name: row.get(1)?,
        phone_number_id: row.get(2)?,
        template_name: row.get(3)?,
        language: row.get(4)?,
        state: CampaignState::parse(&state),
        total: row.get(6)?,
        created_at_ms: row.get(7)?,
        updated_at_ms: row.get(8)?,
    })
}

fn get_campaign(conn: &Connection, id: &str) -> Result<Option<Campaign>> {
    let sql = format!("{CAMPAIGN_COLUMNS} WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], campaign_from_row).optional()?)
}

fn require_campaign(conn: &Connection, id: &str) -> Result<Campaign> {
    get_campaign(conn, id)?
        .ok_or_else(|| StoreError::NotFound(format!("no campaign {id:?}; `coexist campaign list` shows the known ones")))
}

fn in_flight(conn: &Connection, id: &str) -> Result<usize> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM outbox WHERE campaign = ?1 AND state IN ('queued', 'sending')")?
        .query_row([id], |r| r.get(0))?;
    Ok(n as usize)
}

fn unfed(conn: &Connection, id: &str) -> Result<usize> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM campaign_recipients WHERE campaign = ?1 AND fed = 0")?
        .query_row([id], |r| r.get(0))?;
    Ok(n as usize)
}

impl Store {
    /// Store a new campaign (state `running`) with all its recipients, in one transaction.
    /// Creating the same id again returns the stored campaign unchanged.
    pub fn campaign_create(&mut self, campaign: &NewCampaign) -> Result<Campaign> {
        if campaign.id.trim().is_empty() || campaign.recipients.is_empty() {
            return Err(StoreError::Invalid("a campaign needs an id and at least one recipient".into()));
        }
        self.durable_write(|conn| {
            if let Some(existing) = get_campaign(conn, &campaign.id)? {
                return Ok(existing);
            }
            let now = now_ms();
            conn.prepare_cached(
                "INSERT INTO campaigns (id, name, phone_number_id, template_name, language, state, total, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7, ?7)",
            )?
            .execute(params![
                campaign.id,
                campaign.name,
                campaign.phone_number_id,
                campaign.template_name,
                campaign.language,
                campaign.recipients.len() as i64,
                now
            ])?;
            let mut insert = conn.prepare_cached(
                "INSERT INTO campaign_recipients (campaign, position, recipient, message, idempotency_key)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (position, r) in campaign.recipients.iter().enumerate() {
                insert
                    .execute(params![campaign.id, position as i64, r.to, r.message.to_string(), r.idempotency_key])
                    .map_err(|e| match e {
                        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                            StoreError::Invalid(format!("recipient {} appears twice (or its key is already used); remove duplicates first", r.to))
                        }
                        other => other.into(),
                    })?;
            }
            require_campaign(conn, &campaign.id)
        })
    }

    pub fn campaign(&self, id: &str) -> Result<Option<Campaign>> {
        get_campaign(&self.conn, id)
    }

    /// Every campaign, newest first.
    pub fn campaigns(&self) -> Result<Vec<Campaign>> {
        let sql = format!("{CAMPAIGN_COLUMNS} ORDER BY created_at_ms DESC, id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], campaign_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Pause: no more feeding, and the campaign's queued outbox items are parked. Items already
    /// handed to the sender finish. A done campaign stays done.
    pub fn campaign_pause(&mut self, id: &str) -> Result<Campaign> {
        self.durable_write(|conn| {
            let c = require_campaign(conn, id)?;
            if c.state == CampaignState::Done {
                return Ok(c);
            }
            conn.prepare_cached("UPDATE campaigns SET state = 'paused', updated_at_ms = ?2 WHERE id = ?1")?
                .execute(params![id, now_ms()])?;
            park(conn, id)?;
            require_campaign(conn, id)
        })
    }

    /// Park again whatever of a paused campaign came back to `queued` meanwhile (a throttled
    /// send is requeued with a retry time). Returns how many items were parked.
    pub fn campaign_repark(&mut self, id: &str) -> Result<usize> {
        self.durable_write(|conn| park(conn, id))
    }

    /// Resume a paused campaign: unpark its items and feed again.
    pub fn campaign_resume(&mut self, id: &str) -> Result<Campaign> {
        self.durable_write(|conn| {
            let c = require_campaign(conn, id)?;
            if c.state != CampaignState::Paused {
                return Ok(c);
            }
            conn.prepare_cached("UPDATE campaigns SET state = 'running', updated_at_ms = ?2 WHERE id = ?1")?
                .execute(params![id, now_ms()])?;
            conn.prepare_cached(
                "UPDATE outbox SET next_attempt_at_ms = NULL, updated_at_ms = ?3
                 WHERE campaign = ?1 AND state = 'queued' AND next_attempt_at_ms = ?2",
            )?
            .execute(params![id, PARKED_AT_MS, now_ms()])?;
            require_campaign(conn, id)
        })
    }

    /// Put more of a running campaign into the outbox, so that at most `window` of its items
    /// are queued or sending; marks the campaign done once everything was fed and sent. A
    /// paused or done campaign is left alone. One transaction: a crash feeds nothing twice.
    pub fn campaign_feed(&mut self, id: &str, window: usize) -> Result<FeedReport> {
        self.durable_write(|conn| {
            let c = require_campaign(conn, id)?;
            let flying = in_flight(conn, id)?;
            if c.state != CampaignState::Running {
                return Ok(FeedReport { fed: 0, in_flight: flying, remaining: unfed(conn, id)? });
            }
            let room = window.saturating_sub(flying);
            let fed = if room > 0 { feed(conn, &c, room)? } else { 0 };
            let remaining = unfed(conn, id)?;
            if remaining == 0 && flying + fed == 0 {
                conn.prepare_cached("UPDATE campaigns SET state = 'done', updated_at_ms = ?2 WHERE id = ?1")?
                    .execute(params![id, now_ms()])?;
            }
            Ok(FeedReport { fed, in_flight: flying + fed, remaining })
        })
    }

    /// Where every recipient of the campaign is (see [`CampaignCounts`]).
    pub fn campaign_counts(&self, id: &str) -> Result<CampaignCounts> {
        require_campaign(&self.conn, id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT
                CASE
                    WHEN o.idempotency_key IS NULL THEN 'pending'
                    WHEN o.state IN ('queued', 'sending') THEN 'queued'
                    WHEN o.state = 'failed' OR s.status = 'failed' THEN 'failed'
                    WHEN s.status IN ('delivered', 'read') THEN s.status
                    ELSE 'sent'
                END AS bucket,
                count(*)
             FROM campaign_recipients r
             LEFT JOIN outbox o ON o.idempotency_key = r.idempotency_key
             LEFT JOIN statuses s ON s.wamid_key = wamid_key(o.wamid) AND s.wamid = o.wamid
             WHERE r.campaign = ?1
             GROUP BY bucket",
        )?;
        let mut counts = CampaignCounts::default();
        let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (bucket, n) = row?;
            counts.total += n;
            match bucket.as_str() {
                "pending" => counts.pending += n,
                "queued" => counts.queued += n,
                "failed" => counts.failed += n,
                "delivered" => counts.delivered += n,
                "read" => counts.read += n,
                _ => counts.sent += n,
            }
        }
        Ok(counts)
    }

    /// The campaign's failures grouped by Meta error code, largest group first. A send refused
    /// at once and a `failed` status from Meta later both count.
    pub fn campaign_failures(&self, id: &str) -> Result<Vec<CampaignFailureGroup>> {
        require_campaign(&self.conn, id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT CASE WHEN o.state = 'failed' THEN o.error_code ELSE s.error_code END AS code,
                    CASE WHEN o.state = 'failed' THEN o.error_message
                         ELSE coalesce(s.error_message, s.error_details, s.error_title) END,
                    r.recipient
             FROM campaign_recipients r
             JOIN outbox o ON o.idempotency_key = r.idempotency_key
             LEFT JOIN statuses s ON s.wamid_key = wamid_key(o.wamid) AND s.wamid = o.wamid
             WHERE r.campaign = ?1 AND (o.state = 'failed' OR s.status = 'failed')
             ORDER BY r.position",
        )?;
        let rows = stmt.query_map([id], |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?)))?;
        let mut groups: Vec<CampaignFailureGroup> = Vec::new();
        for row in rows {
            let (code, message, recipient) = row?;
            let group = match groups.iter_mut().position(|g| g.code == code) {
                Some(i) => &mut groups[i],
                None => {
                    groups.push(CampaignFailureGroup { code, count: 0, example_message: None, recipients: Vec::new() });
                    groups.last_mut().expect("just pushed")
                }
            };
            group.count += 1;
            if group.example_message.is_none() {
                group.example_message = message;
            }
            if group.recipients.len() < FAILURE_SAMPLE {
                group.recipients.push(recipient);
            }
        }
        groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
        Ok(groups)
    }

    /// The idempotency key of a campaign's recipient (to find its outbox item).
    pub fn campaign_recipient_key(&self, id: &str, recipient: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT idempotency_key FROM campaign_recipients WHERE campaign = ?1 AND recipient = ?2")?
            .query_row([id, recipient], |r| r.get(0))
            .optional()?)
    }
}

/// Park the queued items of a campaign (see [`PARKED_AT_MS`]).
fn park(conn: &Connection, id: &str) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET next_attempt_at_ms = ?2
             WHERE campaign = ?1 AND state = 'queued' AND (next_attempt_at_ms IS NULL OR next_attempt_at_ms <> ?2)",
        )?
        .execute(params![id, PARKED_AT_MS])?)
}

/// Move up to `room` unfed recipients (in list order) into the outbox.
fn feed(conn: &Connection, c: &Campaign, room: usize) -> Result<usize> {
    let mut next = conn.prepare_cached(
        "SELECT recipient, message, idempotency_key FROM campaign_recipients
         WHERE campaign = ?1 AND fed = 0 ORDER BY position LIMIT ?2",
    )?;
    let batch = next
        .query_map(params![c.id, room as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let now = now_ms();
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO outbox (idempotency_key, phone_number_id, recipient, contact, message, campaign,
             state, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'queued', ?6, ?6)",
    )?;
    let mut mark = conn.prepare_cached("UPDATE campaign_recipients SET fed = 1 WHERE idempotency_key = ?1")?;
    for (recipient, message, key) in &batch {
        // Checked on the way in; a damaged row must not go out half-understood.
        let _: serde_json::Value = decode("campaign message", message)?;
        insert.execute(params![key, c.phone_number_id, recipient, message, c.id, now])?;
        mark.execute([key])?;
    }
    Ok(batch.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn new_campaign(id: &str, n: usize) -> NewCampaign {
        NewCampaign {
            id: id.into(),
            name: "spring".into(),
            phone_number_id: "pn1".into(),
            template_name: "hello_world".into(),
            language: "en_US".into(),
            recipients: (0..n)
                .map(|i| NewCampaignRecipient {
                    to: format!("1555000{i:04}"),
                    message: json!({"type": "template", "template": {"name": "hello_world"}}),
                    idempotency_key: format!("campaign:{id}:1555000{i:04}"),
                })
                .collect(),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("inbox.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn feeding_keeps_a_window_and_never_feeds_twice() {
        let (_dir, mut store) = store();
        store.campaign_create(&new_campaign("c1", 25)).unwrap();
        let r = store.campaign_feed("c1", 10).unwrap();
        assert_eq!((r.fed, r.in_flight, r.remaining), (10, 10, 15));
        // The window is full: nothing more.
        assert_eq!(store.campaign_feed("c1", 10).unwrap().fed, 0);
        // Creating again changes nothing.
        store.campaign_create(&new_campaign("c1", 25)).unwrap();
        assert_eq!(store.outbox_for_campaign("c1").unwrap().len(), 10);
        for item in store.outbox_ready(100).unwrap() {
            store.outbox_mark_sending(&item.idempotency_key).unwrap();
            store.outbox_mark_sent(&item.idempotency_key, &format!("wamid.{}", item.to)).unwrap();
        }
        assert_eq!(store.campaign_feed("c1", 10).unwrap().fed, 10);
        let counts = store.campaign_counts("c1").unwrap();
        assert_eq!((counts.total, counts.pending, counts.queued, counts.sent), (25, 5, 10, 10));
    }

    #[test]
    fn pause_parks_queued_items_and_resume_unparks_them() {
        let (_dir, mut store) = store();
        store.campaign_create(&new_campaign("c2", 5)).unwrap();
        store.campaign_feed("c2", 3).unwrap();
        store.campaign_pause("c2").unwrap();
        assert!(store.outbox_ready(100).unwrap().is_empty(), "a paused campaign's items are not ready");
        assert_eq!(store.campaign_feed("c2", 10).unwrap().fed, 0, "a paused campaign is not fed");
        assert_eq!(store.campaign_resume("c2").unwrap().state, CampaignState::Running);
        assert_eq!(store.outbox_ready(100).unwrap().len(), 3);
    }

    #[test]
    fn done_when_everything_went_and_failures_group_by_code() {
        let (_dir, mut store) = store();
        store.campaign_create(&new_campaign("c3", 3)).unwrap();
        store.campaign_feed("c3", 10).unwrap();
        let items = store.outbox_ready(100).unwrap();
        store.outbox_mark_failed(&items[0].idempotency_key, Some(131042), "payment", None).unwrap();
        store.outbox_mark_failed(&items[1].idempotency_key, Some(131042), "payment", None).unwrap();
        store.outbox_mark_failed(&items[2].idempotency_key, Some(132000), "params", None).unwrap();
        store.campaign_feed("c3", 10).unwrap();
        assert_eq!(store.campaign("c3").unwrap().unwrap().state, CampaignState::Done);
        let groups = store.campaign_failures("c3").unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].code, groups[0].count), (Some(131042), 2));
        assert_eq!(store.campaign_counts("c3").unwrap().failed, 3);
    }

    #[test]
    fn a_recipient_twice_is_refused_with_its_number() {
        let (_dir, mut store) = store();
        let mut c = new_campaign("c4", 2);
        c.recipients[1].to = c.recipients[0].to.clone();
        let err = store.campaign_create(&c).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
        assert!(store.campaign("c4").unwrap().is_none(), "nothing half-created");
    }
}
