//! The conversations a batch touches, kept in memory for the batch and written once at its end.
//!
//! A backlog holds many events per conversation; loading and rewriting the row (state JSON,
//! unread count) per event would dominate apply time. Rules live in coexist-core: this module
//! only stores [`ConversationState`] and the columns derived from it.

use std::collections::HashMap;

use coexist_core::rules::{ClosedReason, ConversationState, Owner, WindowState};
use coexist_core::ConversationKey;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{decode, Result};

/// One conversation as the batch sees it.
pub(crate) struct CachedConversation {
    pub id: i64,
    pub state: ConversationState,
    /// The preview text to write, when the latest message changed (or was edited/revoked).
    pub new_preview: Option<(String, String)>,
    pub dirty: bool,
}

#[derive(Default)]
pub(crate) struct ConversationCache {
    entries: HashMap<ConversationKey, CachedConversation>,
}

impl ConversationCache {
    /// The conversation, loaded from (or created in) the database on first use in this batch.
    pub fn get(&mut self, conn: &Connection, key: &ConversationKey) -> Result<&mut CachedConversation> {
        if !self.entries.contains_key(key) {
            let loaded = load_or_create(conn, key)?;
            self.entries.insert(key.clone(), loaded);
        }
        Ok(self.entries.get_mut(key).expect("inserted above"))
    }

    /// Write every changed conversation; returns their keys (sorted, for a stable report).
    pub fn flush(self, conn: &Connection) -> Result<Vec<ConversationKey>> {
        let mut touched = Vec::new();
        for (key, conv) in self.entries {
            if conv.dirty {
                save(conn, &conv)?;
                touched.push(key);
            }
        }
        touched.sort();
        Ok(touched)
    }
}

pub(crate) fn load_or_create(conn: &Connection, key: &ConversationKey) -> Result<CachedConversation> {
    let mut select = conn.prepare_cached("SELECT id, state FROM conversations WHERE phone_number_id = ?1 AND contact = ?2")?;
    let found: Option<(i64, String)> = select
        .query_row(params![key.phone_number_id, key.contact.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, state) = match found {
        Some((id, json)) => (id, decode("conversation state", &json)?),
        None => {
            let mut insert = conn.prepare_cached("INSERT INTO conversations (phone_number_id, contact) VALUES (?1, ?2)")?;
            insert.execute(params![key.phone_number_id, key.contact.as_str()])?;
            (conn.last_insert_rowid(), ConversationState::new())
        }
    };
    Ok(CachedConversation { id, state, new_preview: None, dirty: false })
}

/// Persist the state and everything derived from it, including the unread count.
pub(crate) fn save(conn: &Connection, conv: &CachedConversation) -> Result<()> {
    let state = &conv.state;
    let state_json = serde_json::to_string(state).expect("ConversationState serializes");
    let (owner, owner_agent) = owner_columns(&state.owner());
    let (open_until, closed_by_meta) = window_columns(state);
    let unread = count_unread(conn, conv.id, state)?;
    let last_activity = state.last_message.as_ref().map(|m| m.timestamp);
    let mut update = conn.prepare_cached(
        "UPDATE conversations SET state = ?2, owner = ?3, owner_agent = ?4, window_expires_at = ?5,
             window_open_until = ?6, window_closed_by_meta = ?7, unread = ?8, last_activity = ?9
         WHERE id = ?1",
    )?;
    update.execute(params![
        conv.id,
        state_json,
        owner,
        owner_agent,
        state.window_expires_at,
        open_until,
        closed_by_meta,
        unread,
        last_activity
    ])?;
    if let Some((wamid, preview)) = &conv.new_preview {
        let mut set_preview = conn.prepare_cached("UPDATE conversations SET preview = ?2, preview_wamid = ?3 WHERE id = ?1")?;
        set_preview.execute(params![conv.id, preview, wamid])?;
    }
    Ok(())
}

fn owner_columns(owner: &Owner) -> (&'static str, Option<String>) {
    match owner {
        Owner::Unowned => ("unowned", None),
        Owner::Api { agent } => ("api", Some(agent.clone())),
        Owner::App => ("app", None),
    }
}

/// When the window is open whatever the clock says (`window(0)`: every real expiry is after
/// 1970), the expiry it is open until; and whether Meta closed it (131047).
fn window_columns(state: &ConversationState) -> (Option<i64>, bool) {
    match state.window(0) {
        WindowState::Open { expires_at, .. } => (Some(expires_at), false),
        WindowState::Closed { reason: ClosedReason::RejectedByMeta { .. } } => (None, true),
        WindowState::Closed { .. } => (None, false),
    }
}

/// Inbound customer messages newer than the rules' unread threshold. This is
/// `coexist_core::rules::counts_as_unread` evaluated in SQL (side customer, ts > threshold),
/// so a conversation's count never needs its messages loaded.
pub(crate) fn count_unread(conn: &Connection, conversation_id: i64, state: &ConversationState) -> Result<i64> {
    let threshold = state.unread_threshold().unwrap_or(i64::MIN);
    let mut count = conn.prepare_cached(
        "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND side = 'customer' AND ts > ?2",
    )?;
    Ok(count.query_row(params![conversation_id, threshold], |r| r.get(0))?)
}
