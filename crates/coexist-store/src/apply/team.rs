//! The team's own layer on a conversation: who handles it, whether it is done, its labels,
//! whether its customer is blocked, and notes. None changes what the rules decide (owner, window,
//! unread): they are about the team, not the customer.
//!
//! Done holds until the customer writes again (or, snoozed, until its time), in relay order
//! (see `apply::messages`): a message that reached the bridge after the mark is one the
//! teammate had not seen, whatever its Meta timestamp, so it reopens the conversation; one that
//! arrived before it does not.

use coexist_core::{ConversationKey, QuickReply};
use rusqlite::params;

use super::{AssignmentChange, Batch, NewNote};
use crate::error::Result;

impl Batch<'_> {
    /// The latest assignment in relay order wins (the bridge orders them).
    pub(super) fn assigned(&mut self, key: &ConversationKey, assignee: Option<&str>, by: &str, at_ms: i64) -> Result<()> {
        let conversation = self.conversations.get(self.conn, key)?;
        // Listed among the touched conversations, so every open list redraws the row.
        conversation.dirty = true;
        let id = conversation.id;
        self.conn
            .prepare_cached("UPDATE conversations SET assignee = ?2, assigned_by = ?3, assigned_at_ms = ?4 WHERE id = ?1")?
            .execute(params![id, assignee, by, at_ms])?;
        self.report.assignments.push(AssignmentChange {
            conversation: key.clone(),
            assignee: assignee.map(str::to_string),
            by: by.to_string(),
            at_ms,
        });
        Ok(())
    }

    pub(super) fn done(&mut self, key: &ConversationKey, done: bool, until_ms: Option<i64>, by: &str, at_ms: i64) -> Result<()> {
        let conversation = self.conversations.get(self.conn, key)?;
        conversation.dirty = true;
        // Customer messages earlier in this batch were seen before the mark.
        conversation.reopen = false;
        let id = conversation.id;
        let (done_at_ms, done_until_ms) = if done { (Some(at_ms), until_ms) } else { (None, None) };
        self.conn
            .prepare_cached("UPDATE conversations SET done_at_ms = ?2, done_by = ?3, done_until_ms = ?4 WHERE id = ?1")?
            .execute(params![id, done_at_ms, by, done_until_ms])?;
        Ok(())
    }

    /// On or off; the latest entry for a label wins (relay order).
    pub(super) fn labeled(&mut self, key: &ConversationKey, label: &str, on: bool, by: &str, at_ms: i64) -> Result<()> {
        let conversation = self.conversations.get(self.conn, key)?;
        conversation.dirty = true;
        let id = conversation.id;
        if on {
            self.conn
                .prepare_cached("INSERT OR REPLACE INTO conversation_labels (conversation_id, label, labeled_by, at_ms) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![id, label, by, at_ms])?;
        } else {
            self.conn.prepare_cached("DELETE FROM conversation_labels WHERE conversation_id = ?1 AND label = ?2")?.execute(params![id, label])?;
        }
        Ok(())
    }

    /// Blocked or not, as the latest entry says (relay order: the bridge took each only after Meta
    /// did).
    pub(super) fn blocked(&mut self, key: &ConversationKey, blocked: bool, by: &str, at_ms: i64) -> Result<()> {
        let conversation = self.conversations.get(self.conn, key)?;
        conversation.dirty = true;
        let id = conversation.id;
        let (blocked_by, blocked_at_ms) = if blocked { (Some(by), Some(at_ms)) } else { (None, None) };
        self.conn
            .prepare_cached("UPDATE conversations SET blocked_by = ?2, blocked_at_ms = ?3 WHERE id = ?1")?
            .execute(params![id, blocked_by, blocked_at_ms])?;
        Ok(())
    }

    /// Saved or replaced under its shortcut; `text: None` removes it.
    pub(super) fn quick_reply(&mut self, q: &QuickReply) -> Result<()> {
        match &q.text {
            Some(text) => self
                .conn
                .prepare_cached("INSERT OR REPLACE INTO quick_replies (shortcut, text, updated_by, updated_at_ms) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![q.shortcut, text, q.by, q.at_ms])?,
            None => self.conn.prepare_cached("DELETE FROM quick_replies WHERE shortcut = ?1")?.execute([&q.shortcut])?,
        };
        self.report.quick_replies_changed = true;
        Ok(())
    }

    /// A note once per relay entry.
    pub(super) fn note(&mut self, seq: i64, key: &ConversationKey, author: &str, text: &str, at_ms: i64) -> Result<()> {
        let id = self.conversations.get(self.conn, key)?.id;
        let stored = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO notes (seq, conversation_id, author, text, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![seq, id, author, text, at_ms])?;
        self.timeline_touched(key);
        if stored == 1 {
            let note = NewNote { seq, conversation: key.clone(), author: author.into(), text: text.into(), at_ms };
            self.report.new_notes.push(note);
        }
        Ok(())
    }
}
