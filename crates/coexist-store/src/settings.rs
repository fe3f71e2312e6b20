//! Per-number information: templates, settings, health, history import; and relay problems.

use coexist_core::{ContactKey, NumberSettings, Template};
use rusqlite::{params, OptionalExtension};

use crate::error::{decode, Result};
use crate::explain::failure_view;
use crate::views::{parse_mode, HistoryProgress, NumberHealth, PaymentFailure, Problem, TemplateReview};
use crate::Store;

/// Payment failures older than this (seconds before `now`) are no longer "recent".
const RECENT_PAYMENT_WINDOW_SECS: i64 = 7 * 86_400;
const RECENT_PAYMENT_LIMIT: u32 = 20;

/// account_update events that disconnect the Cloud API from a number / WABA.
const DISCONNECTING_EVENTS: &[&str] = &["ACCOUNT_OFFBOARDED", "PARTNER_REMOVED", "ACCOUNT_DELETED", "PARTNER_APP_UNINSTALLED"];
/// account_update events that connect it again.
const RECONNECTING_EVENTS: &[&str] = &["ACCOUNT_RECONNECTED", "PARTNER_ADDED", "PARTNER_APP_INSTALLED", "ACCOUNT_REONBOARDED"];

impl Store {
    /// The approved templates a number may send, by name then language.
    pub fn templates(&self, phone_number_id: &str) -> Result<Vec<Template>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.template_id, t.name, t.language, t.status, t.category, t.components
             FROM templates t JOIN number_wabas w ON w.waba_id = t.waba_id
             WHERE w.phone_number_id = ?1 AND t.status = 'APPROVED'
             ORDER BY t.name, t.language",
        )?;
        let rows = stmt.query_map([phone_number_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?))
        })?;
        rows.map(|row| {
            let (id, name, language, status, category, components) = row?;
            Ok(Template { id, name, language, status, category, components: decode("template components", &components)? })
        })
        .collect()
    }

    /// Every template of the number's WABA whatever its review status (`PENDING`, `REJECTED` with
    /// Meta's reason, ...), by name then language: what an admin checks after submitting one.
    pub fn template_reviews(&self, phone_number_id: &str) -> Result<Vec<TemplateReview>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.name, t.language, t.category, t.status, t.reason
             FROM templates t JOIN number_wabas w ON w.waba_id = t.waba_id
             WHERE w.phone_number_id = ?1
             ORDER BY t.name, t.language",
        )?;
        let rows = stmt.query_map([phone_number_id], |r| {
            Ok(TemplateReview { name: r.get(0)?, language: r.get(1)?, category: r.get(2)?, status: r.get(3)?, reason: r.get(4)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every business number the bridge told us about.
    pub fn numbers(&self) -> Result<Vec<NumberSettings>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT phone_number_id, waba_id, display_number, mode, tier_mps FROM numbers ORDER BY display_number, phone_number_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(NumberSettings {
                phone_number_id: r.get(0)?,
                waba_id: r.get(1)?,
                display_number: r.get(2)?,
                mode: parse_mode(&r.get::<_, String>(3)?),
                tier_mps: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How a number is doing at `now` (Unix seconds).
    pub fn number_health(&self, phone_number_id: &str, now: i64) -> Result<NumberHealth> {
        let number = self.numbers()?.into_iter().find(|n| n.phone_number_id == phone_number_id);
        let last_app: Option<i64> = self
            .conn
            .prepare_cached("SELECT last_echo_ts FROM app_activity WHERE phone_number_id = ?1")?
            .query_row([phone_number_id], |r| r.get(0))
            .optional()?;
        let last_account_event = self.last_account_event(phone_number_id)?;
        let offboarded = last_account_event.as_deref().is_some_and(|e| DISCONNECTING_EVENTS.contains(&e));
        Ok(NumberHealth {
            phone_number_id: phone_number_id.to_string(),
            display_number: number.as_ref().map(|n| n.display_number.clone()),
            mode: number.map(|n| n.mode),
            last_app_activity_at: last_app,
            secs_since_app_activity: last_app.map(|t| now.saturating_sub(t)),
            offboarded,
            last_account_event,
            recent_payment_failures: self.recent_payment_failures(phone_number_id, now)?,
        })
    }

    /// The latest connecting/disconnecting account_update for the number or its whole WABA.
    fn last_account_event(&self, phone_number_id: &str) -> Result<Option<String>> {
        let relevant: Vec<&str> = DISCONNECTING_EVENTS.iter().chain(RECONNECTING_EVENTS).copied().collect();
        let list = serde_json::to_string(&relevant).expect("strings serialize");
        let mut stmt = self.conn.prepare_cached(
            "SELECT event FROM account_updates
             WHERE (phone_number_id = ?1
                    OR (phone_number_id IS NULL AND waba_id = (SELECT waba_id FROM number_wabas WHERE phone_number_id = ?1)))
               AND upper(event) IN (SELECT value FROM json_each(?2))
             ORDER BY id DESC LIMIT 1",
        )?;
        let event: Option<String> = stmt.query_row(params![phone_number_id, list], |r| r.get(0)).optional()?;
        Ok(event.map(|e| e.to_ascii_uppercase()))
    }

    fn recent_payment_failures(&self, phone_number_id: &str, now: i64) -> Result<Vec<PaymentFailure>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT wamid, contact, ts, details FROM payment_failures
             WHERE phone_number_id = ?1 AND ts >= ?2 ORDER BY ts DESC, wamid LIMIT ?3",
        )?;
        let since = now.saturating_sub(RECENT_PAYMENT_WINDOW_SECS);
        let rows = stmt.query_map(params![phone_number_id, since, RECENT_PAYMENT_LIMIT], |r| {
            Ok(PaymentFailure { wamid: r.get(0)?, contact: ContactKey(r.get(1)?), timestamp: r.get(2)?, details: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Relay entries that could not be parsed, oldest first. They are kept whole: a newer
    /// Coexist may understand them, and support can read them.
    pub fn problems(&self) -> Result<Vec<Problem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, kind, received_at_ms, parse_error, payload FROM events WHERE parse_error IS NOT NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?))
        })?;
        rows.map(|row| {
            let (seq, kind, received_at_ms, error, payload) = row?;
            Ok(Problem { seq, kind, received_at_ms, error, payload: decode("relay payload", &payload)? })
        })
        .collect()
    }

    /// The onboarding history import of every number that reported one.
    pub fn history_progress(&self) -> Result<Vec<HistoryProgress>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT h.phone_number_id, h.phase, h.chunk_order, h.progress, h.error_code, h.error_message, h.error_details,
                    h.updates, h.imported
             FROM history_progress h ORDER BY h.phone_number_id",
        )?;
        let rows = stmt.query_map([], |r| {
            let code: Option<i64> = r.get(4)?;
            Ok(HistoryProgress {
                phone_number_id: r.get(0)?,
                phase: r.get(1)?,
                chunk_order: r.get(2)?,
                progress: r.get(3)?,
                error: code.map(|c| Ok::<_, rusqlite::Error>(failure_view(c, None, r.get(5)?, r.get(6)?))).transpose()?,
                updates: r.get(7)?,
                imported_messages: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
