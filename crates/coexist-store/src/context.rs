//! Where a message or a team note sits in its conversation, so a search hit can open the
//! thread at it.

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

/// A team note's place: its conversation, its time, and how many timeline messages are newer
/// (a note sorts after the messages of its second, as the thread shows it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotePosition {
    pub conversation: ConversationKey,
    pub at_ms: i64,
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

    /// The position of the note of relay entry `seq`; `None` when the inbox does not hold it.
    pub fn note_position(&self, seq: i64) -> Result<Option<NotePosition>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.phone_number_id, c.contact, n.at_ms,
                    (SELECT COUNT(*) FROM messages m
                     WHERE m.conversation_id = n.conversation_id AND m.kind <> 'reaction' AND m.ts > n.at_ms / 1000)
             FROM notes n JOIN conversations c ON c.id = n.conversation_id WHERE n.seq = ?1",
        )?;
        let position = stmt
            .query_row([seq], |r| {
                Ok(NotePosition {
                    conversation: ConversationKey { phone_number_id: r.get(0)?, contact: ContactKey(r.get(1)?) },
                    at_ms: r.get(2)?,
                    newer: r.get(3)?,
                })
            })
            .optional()?;
        Ok(position)
    }
}
