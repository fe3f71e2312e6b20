//! Unsent replies, kept per conversation on this desktop: an agent who closes the app (or whose
//! computer restarts) finds each half-written answer where it was left. Drafts are personal:
//! nothing of them goes to the bridge or the team.

use coexist_core::{ContactKey, ConversationKey};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::apply::now_ms;
use crate::error::{Result, StoreError};
use crate::Store;

/// The longest draft kept, in characters. A WhatsApp text is at most 4,096 characters (the
/// composer says so at send); a draft may run past that while the agent edits it down, but not
/// without bound.
pub const MAX_DRAFT_CHARS: usize = 65_536;

/// Version 9 of the schema (appended to schema.rs's list). Keyed by number and contact, not by
/// the conversation's row: an agent may start a reply before the conversation is stored.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE drafts (
    phone_number_id TEXT NOT NULL,
    contact         TEXT NOT NULL,
    text            TEXT NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (phone_number_id, contact)
) WITHOUT ROWID;
"#;

/// An unsent reply (the agent's own text, kept exactly as typed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub conversation: ConversationKey,
    pub text: String,
    pub updated_at_ms: i64,
}

impl Store {
    /// Keep `text` as the conversation's unsent reply; an empty text removes it (sent or erased).
    pub fn save_draft(&mut self, key: &ConversationKey, text: &str) -> Result<()> {
        if text.chars().count() > MAX_DRAFT_CHARS {
            return Err(StoreError::Invalid(format!(
                "a draft can be at most {MAX_DRAFT_CHARS} characters (a WhatsApp text at most 4,096); shorten it to keep it"
            )));
        }
        self.durable_write(|conn| {
            if text.is_empty() {
                conn.prepare_cached("DELETE FROM drafts WHERE phone_number_id = ?1 AND contact = ?2")?
                    .execute(params![key.phone_number_id, key.contact.as_str()])?;
            } else {
                conn.prepare_cached(
                    "INSERT INTO drafts (phone_number_id, contact, text, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (phone_number_id, contact) DO UPDATE SET text = excluded.text, updated_at_ms = excluded.updated_at_ms",
                )?
                .execute(params![key.phone_number_id, key.contact.as_str(), text, now_ms()])?;
            }
            Ok(())
        })
    }

    /// Every unsent reply, the most recently edited first.
    pub fn drafts(&self) -> Result<Vec<Draft>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT phone_number_id, contact, text, updated_at_ms FROM drafts ORDER BY updated_at_ms DESC, phone_number_id, contact")?;
        let rows = stmt.query_map([], |r| {
            Ok(Draft {
                conversation: ConversationKey { phone_number_id: r.get(0)?, contact: ContactKey(r.get(1)?) },
                text: r.get(2)?,
                updated_at_ms: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
