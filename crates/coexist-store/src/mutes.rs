//! Conversations this desktop's agent muted: their customer's messages and closing windows do
//! not raise desktop notifications (for some hours, a week, or until unmuted); everything else
//! (unread counts, the list, the thread) is as before. Personal, like drafts: never relayed.

use coexist_core::ConversationKey;
use rusqlite::params;

use crate::error::Result;
use crate::Store;

/// Version 13 of the schema (appended to schema.rs's list). `until_ms` NULL: until unmuted.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE mutes (
    phone_number_id TEXT NOT NULL,
    contact         TEXT NOT NULL,
    until_ms        INTEGER,
    PRIMARY KEY (phone_number_id, contact)
) WITHOUT ROWID;
"#;

impl Store {
    /// Mute the conversation's notifications until `until_ms` (Unix ms; `None`: until unmuted).
    pub fn mute(&mut self, key: &ConversationKey, until_ms: Option<i64>) -> Result<()> {
        self.durable_write(|conn| {
            conn.prepare_cached(
                "INSERT INTO mutes (phone_number_id, contact, until_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (phone_number_id, contact) DO UPDATE SET until_ms = excluded.until_ms",
            )?
            .execute(params![key.phone_number_id, key.contact.as_str(), until_ms])?;
            Ok(())
        })
    }

    /// Notifications of the conversation again.
    pub fn unmute(&mut self, key: &ConversationKey) -> Result<()> {
        self.durable_write(|conn| {
            conn.prepare_cached("DELETE FROM mutes WHERE phone_number_id = ?1 AND contact = ?2")?
                .execute(params![key.phone_number_id, key.contact.as_str()])?;
            Ok(())
        })
    }

    /// Whether the conversation's notifications are muted at `now_ms`.
    pub fn is_muted(&self, key: &ConversationKey, now_ms: i64) -> Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM mutes WHERE phone_number_id = ?1 AND contact = ?2 AND (until_ms IS NULL OR until_ms > ?3))",
        )?;
        Ok(stmt.query_row(params![key.phone_number_id, key.contact.as_str(), now_ms], |r| r.get(0))?)
    }
}
