//! Where a message sits in its conversation, so a search hit can open the thread at it.

use coexist_core::{ContactKey, ConversationKey};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::Store;

/// A message's place: its conversation, `(timestamp, arrival)` (the timeline's order and
/// [`Store::messages`]' cursor), and how many timeline messages are newer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePosition {
    pub conversation: ConversationKey,
    pub timestamp: i64,
    pub arrival: i64,
    /// Timeline messages (reactions excluded, as in [`Store::messages`]) after this one.
    pub newer: i64,
}

impl Store {
    /// The position of message `wamid`; `None` when the inbox does not hold it.
    pub fn message_position(&self, wamid: &str) -> Result<Option<MessagePosition>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.phone_number_id, c.contact, m.ts, m.id, m.conversation_id
             FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.wamid_key = wamid_key(?1) AND m.wamid = ?1",
        )?;
        let found = stmt
            .query_row([wamid], |r| {
                Ok((
                    ConversationKey { phone_number_id: r.get(0)?, contact: ContactKey(r.get(1)?) },
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .optional()?;
        let Some((conversation, timestamp, arrival, conversation_id)) = found else { return Ok(None) };
        let mut count = self.conn.prepare_cached(
            "SELECT COUNT(*) FROM messages
             WHERE conversation_id = ?1 AND kind <> 'reaction' AND (ts > ?2 OR (ts = ?2 AND id > ?3))",
        )?;
        let newer = count.query_row(params![conversation_id, timestamp, arrival], |r| r.get(0))?;
        Ok(Some(MessagePosition { conversation, timestamp, arrival, newer }))
    }
}
