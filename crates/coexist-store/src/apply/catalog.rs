//! Everything that is not a message: contacts, templates, numbers, account state, history progress.

use coexist_core::{ContactProfile, ConversationKey, MetaError, NumberSettings, Template};
use rusqlite::params;
use serde_json::Value;

use super::Batch;
use crate::error::Result;
use crate::views::mode_name;

impl Batch<'_> {
    /// A contact's profile. A missing name never erases a known one. A webhook repeats
    /// `contacts[]` with every message: unchanged profiles are skipped via the cache.
    pub(super) fn contact(&mut self, c: &ContactProfile) -> Result<()> {
        if !self.conversations.contact_changed(c) {
            return Ok(());
        }
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO contacts (phone_number_id, contact, name, wa_id, user_id) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (phone_number_id, contact) DO UPDATE SET
                 name = coalesce(excluded.name, contacts.name),
                 wa_id = coalesce(excluded.wa_id, contacts.wa_id),
                 user_id = coalesce(excluded.user_id, contacts.user_id)",
        )?;
        upsert.execute(params![c.phone_number_id, c.contact.as_str(), c.name, c.wa_id, c.user_id])?;
        if c.name.is_some() {
            self.contact_named(ConversationKey { phone_number_id: c.phone_number_id.clone(), contact: c.contact.clone() });
        }
        Ok(())
    }

    pub(super) fn history_progress(
        &mut self,
        phone_number_id: &str,
        phase: Option<i64>,
        chunk_order: Option<i64>,
        progress: Option<i64>,
        error: Option<&MetaError>,
    ) -> Result<()> {
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO history_progress (phone_number_id, phase, chunk_order, progress, error_code, error_message, error_details, updates)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)
             ON CONFLICT (phone_number_id) DO UPDATE SET
                 phase = coalesce(excluded.phase, history_progress.phase),
                 chunk_order = coalesce(excluded.chunk_order, history_progress.chunk_order),
                 progress = CASE WHEN excluded.progress IS NULL THEN history_progress.progress
                     WHEN history_progress.progress IS NULL THEN excluded.progress
                     ELSE max(excluded.progress, history_progress.progress) END,
                 error_code = excluded.error_code, error_message = excluded.error_message,
                 error_details = excluded.error_details,
                 updates = history_progress.updates + 1",
        )?;
        upsert.execute(params![
            phone_number_id,
            phase,
            chunk_order,
            progress,
            error.map(|e| e.code),
            error.and_then(|e| e.message.clone().or(e.title.clone())),
            error.and_then(|e| e.details.clone())
        ])?;
        self.touch_number(phone_number_id);
        Ok(())
    }

    pub(super) fn template_status(
        &mut self,
        waba_id: &str,
        template_id: Option<&str>,
        name: &str,
        language: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO templates (waba_id, name, language, template_id, status, components, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, '[]', ?6)
             ON CONFLICT (waba_id, name, language) DO UPDATE SET status = excluded.status,
                 template_id = coalesce(excluded.template_id, templates.template_id), reason = excluded.reason",
        )?;
        let status = normalize_status(status);
        upsert.execute(params![waba_id, name, language, template_id, status, reason])?;
        self.report.template_reviews.push(super::TemplateReviewed {
            seq: self.seq,
            name: name.to_string(),
            language: language.to_string(),
            status: status.to_string(),
            reason: reason.map(str::to_string),
            received_at_ms: self.received_at_ms,
        });
        self.touch_waba(waba_id)
    }

    /// A full catalog fetch replaces the WABA's templates.
    pub(super) fn templates_synced(&mut self, phone_number_id: &str, waba_id: &str, templates: &[Template]) -> Result<()> {
        self.link_number_waba(phone_number_id, waba_id)?;
        self.conn.prepare_cached("DELETE FROM templates WHERE waba_id = ?1")?.execute([waba_id])?;
        let mut insert = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO templates (waba_id, name, language, template_id, status, category, components)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for t in templates {
            insert.execute(params![
                waba_id,
                t.name,
                t.language,
                t.id,
                normalize_status(&t.status),
                t.category,
                t.components.to_string()
            ])?;
        }
        self.touch_waba(waba_id)
    }

    pub(super) fn account_update(&mut self, waba_id: &str, phone_number_id: Option<&str>, event: &str, raw: &Value) -> Result<()> {
        let mut insert =
            self.conn.prepare_cached("INSERT INTO account_updates (waba_id, phone_number_id, event, raw) VALUES (?1, ?2, ?3, ?4)")?;
        insert.execute(params![waba_id, phone_number_id, event, raw.to_string()])?;
        match phone_number_id {
            Some(pnid) => {
                self.touch_number(pnid);
                Ok(())
            }
            None => self.touch_waba(waba_id),
        }
    }

    pub(super) fn number(&mut self, n: &NumberSettings) -> Result<()> {
        let mut upsert = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO numbers (phone_number_id, waba_id, display_number, mode, tier_mps) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        upsert.execute(params![n.phone_number_id, n.waba_id, n.display_number, mode_name(&n.mode), n.tier_mps])?;
        self.link_number_waba(&n.phone_number_id, &n.waba_id)?;
        self.touch_number(&n.phone_number_id);
        Ok(())
    }

    fn link_number_waba(&mut self, phone_number_id: &str, waba_id: &str) -> Result<()> {
        let mut upsert = self.conn.prepare_cached("INSERT OR REPLACE INTO number_wabas (phone_number_id, waba_id) VALUES (?1, ?2)")?;
        upsert.execute(params![phone_number_id, waba_id])?;
        Ok(())
    }

    /// Report every number of a WABA as touched.
    fn touch_waba(&mut self, waba_id: &str) -> Result<()> {
        let numbers: Vec<String> = {
            let mut select = self.conn.prepare_cached("SELECT phone_number_id FROM number_wabas WHERE waba_id = ?1")?;
            let rows = select.query_map([waba_id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for n in numbers {
            self.touch_number(&n);
        }
        Ok(())
    }
}

/// Meta spells statuses in capitals (`APPROVED`); keep one spelling.
fn normalize_status(status: &str) -> String {
    status.trim().to_ascii_uppercase()
}
