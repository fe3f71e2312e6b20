//! Messages, edits, revokes and reactions.

use coexist_core::{ConversationKey, Event, Message, MessageBody, Side, Timestamp};
use rusqlite::{params, OptionalExtension};

use super::{statements, Batch, NewInbound};
use crate::error::{decode, Result};
use crate::text::{preview, searchable_text, REVOKED_PREVIEW};
use crate::views::side_name;
use crate::wamid_key::wamid_key;

/// The `type` tag of a body, stored so queries can skip reactions without parsing JSON.
pub(crate) fn body_kind(body: &MessageBody) -> &'static str {
    match body {
        MessageBody::Text { .. } => "text",
        MessageBody::Image { .. } => "image",
        MessageBody::Document { .. } => "document",
        MessageBody::Audio { .. } => "audio",
        MessageBody::Video { .. } => "video",
        MessageBody::Sticker { .. } => "sticker",
        MessageBody::Location { .. } => "location",
        MessageBody::Contacts { .. } => "contacts",
        MessageBody::Reaction { .. } => "reaction",
        MessageBody::Interactive { .. } => "interactive",
        MessageBody::Choices { .. } => "choices",
        MessageBody::Button { .. } => "button",
        MessageBody::Order { .. } => "order",
        MessageBody::System { .. } => "system",
        MessageBody::Template { .. } => "template",
        MessageBody::Unsupported { .. } => "unsupported",
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Batch<'_> {
    /// A message: inserted once by wamid (a duplicate does nothing), then folded into its
    /// conversation's rules state.
    pub(super) fn message(&mut self, event: &Event, m: &Message) -> Result<()> {
        let conn = self.conn;
        // One lookup of the conversation per message: a backlog applies millions.
        let conv = self.conversations.get(conn, &m.conversation)?;
        if !insert_message(conn, conv.id, m, self.seq)? {
            return Ok(());
        }
        conv.state.apply(event);
        conv.count_new_message(m);
        conv.dirty = true;
        if conv.state.last_message.as_ref().is_some_and(|l| l.wamid == m.wamid) {
            conv.new_preview = Some((m.wamid.clone(), preview(&m.body)));
        }
        let reaction = matches!(m.body, MessageBody::Reaction { .. });
        let writing = !reaction && coexist_core::rules::is_customer_writing(m);
        // A customer writing again reopens a conversation marked done (a reaction does not).
        conv.reopen |= writing;
        self.timeline_touched(&m.conversation);
        if let MessageBody::Reaction { message_id, emoji } = &m.body {
            self.reaction(m, message_id, emoji)?;
        } else if writing {
            self.report.new_inbound.push(NewInbound {
                wamid: m.wamid.clone(),
                conversation: m.conversation.clone(),
                timestamp: m.timestamp,
                contact_name: None,
                preview: preview(&m.body),
            });
        }
        if m.side == Side::App {
            self.app_activity(m)?;
        }
        if m.side == Side::History {
            *self.history_imported.entry(m.conversation.phone_number_id.clone()).or_default() += 1;
        }
        if let (Side::Api, Some(key)) = (m.side, m.idempotency_key.as_deref()) {
            self.reconcile_outbox(key, &m.wamid)?;
        }
        if self.has_pending_patches {
            self.apply_pending_patches(&m.wamid, &m.conversation)?;
        }
        Ok(())
    }

    fn reaction(&mut self, m: &Message, target: &str, emoji: &str) -> Result<()> {
        let by_customer = m.side == Side::Customer || (m.side == Side::History && !m.from_business);
        let reactor = if by_customer { "customer" } else { "business" };
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO reactions (target_wamid, reactor, emoji, ts, wamid) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (target_wamid, reactor) DO UPDATE SET emoji = excluded.emoji, ts = excluded.ts, wamid = excluded.wamid
             WHERE excluded.ts > reactions.ts OR (excluded.ts = reactions.ts AND excluded.wamid > reactions.wamid)",
        )?;
        upsert.execute(params![target, reactor, emoji, m.timestamp, m.wamid])?;
        Ok(())
    }

    /// Remember the latest Business App echo: it shows the phone is still in use.
    fn app_activity(&mut self, m: &Message) -> Result<()> {
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO app_activity (phone_number_id, last_echo_ts, last_echo_wamid) VALUES (?1, ?2, ?3)
             ON CONFLICT (phone_number_id) DO UPDATE SET last_echo_ts = excluded.last_echo_ts, last_echo_wamid = excluded.last_echo_wamid
             WHERE excluded.last_echo_ts > app_activity.last_echo_ts",
        )?;
        upsert.execute(params![m.conversation.phone_number_id, m.timestamp, m.wamid])?;
        let pnid = m.conversation.phone_number_id.clone();
        self.touch_number(&pnid);
        Ok(())
    }

    /// The relay confirms an API send: the outbox item with this idempotency key is sent.
    fn reconcile_outbox(&mut self, key: &str, wamid: &str) -> Result<()> {
        let mut update = self.conn.prepare_cached(
            "UPDATE outbox SET state = 'sent', wamid = ?2, error_code = NULL, error_message = NULL,
                 next_attempt_at_ms = NULL, updated_at_ms = ?3
             WHERE idempotency_key = ?1 AND NOT (state = 'sent' AND wamid IS ?2)",
        )?;
        if update.execute(params![key, wamid, now_ms()])? > 0 {
            self.report.outbox_reconciled.push(key.to_string());
        }
        Ok(())
    }

    pub(super) fn edit(&mut self, wamid: &str, conversation: &ConversationKey, ts: Timestamp, body: &MessageBody) -> Result<()> {
        let Some((last_edit, revoked)) = self.edit_state(wamid)? else {
            let body_json = serde_json::to_string(body).expect("MessageBody serializes");
            return self.defer_patch(wamid, "edit", ts, Some(&body_json));
        };
        if !coexist_core::rules::edit_applies(last_edit, revoked, ts) {
            return Ok(());
        }
        self.sync_search_index()?;
        let body_json = serde_json::to_string(body).expect("MessageBody serializes");
        let mut update =
            self.conn.prepare_cached("UPDATE messages SET body = ?2, kind = ?3, text = ?4, edited_at = ?5 WHERE wamid_key = wamid_key(?1) AND wamid = ?1")?;
        update.execute(params![wamid, body_json, body_kind(body), searchable_text(body), ts])?;
        self.refresh_preview(wamid, conversation, preview(body))
    }

    /// A message stored as unsupported, now read (see reread.rs): its body, kind and search text
    /// as if it had arrived today, and no longer Meta's JSON beside it. Not an edit.
    pub(super) fn reread(&mut self, wamid: &str, conversation: &ConversationKey, body: &MessageBody) -> Result<()> {
        self.sync_search_index()?;
        let body_json = serde_json::to_string(body).expect("MessageBody serializes");
        let mut update = self.conn.prepare_cached(
            "UPDATE messages SET body = ?2, kind = ?3, text = ?4, raw = 'null' WHERE wamid_key = wamid_key(?1) AND wamid = ?1",
        )?;
        update.execute(params![wamid, body_json, body_kind(body), searchable_text(body)])?;
        self.refresh_preview(wamid, conversation, preview(body))
    }

    /// `(last edit, revoked)` of a stored message; `None` when it has not arrived yet.
    fn edit_state(&self, wamid: &str) -> Result<Option<(Option<Timestamp>, bool)>> {
        let mut select = self.conn.prepare_cached("SELECT edited_at, revoked_at IS NOT NULL FROM messages WHERE wamid_key = wamid_key(?1) AND wamid = ?1")?;
        Ok(select.query_row([wamid], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
    }

    pub(super) fn revoke(&mut self, wamid: &str, conversation: &ConversationKey, ts: Timestamp) -> Result<()> {
        self.sync_search_index()?;
        let mut update =
            self.conn.prepare_cached("UPDATE messages SET revoked_at = ?2, text = NULL WHERE wamid_key = wamid_key(?1) AND wamid = ?1 AND revoked_at IS NULL")?;
        if update.execute(params![wamid, ts])? == 0 {
            if !self.message_exists(wamid)? {
                self.defer_patch(wamid, "revoke", ts, None)?;
            }
            return Ok(());
        }
        self.refresh_preview(wamid, conversation, REVOKED_PREVIEW.to_string())
    }

    /// When the edited/revoked message is the conversation's latest, its preview changes.
    fn refresh_preview(&mut self, wamid: &str, conversation: &ConversationKey, text: String) -> Result<()> {
        self.timeline_touched(conversation);
        let conv = self.conversations.get(self.conn, conversation)?;
        conv.dirty = true;
        if conv.state.last_message.as_ref().is_some_and(|l| l.wamid == wamid) {
            conv.new_preview = Some((wamid.to_string(), text));
        }
        Ok(())
    }

    fn message_exists(&self, wamid: &str) -> Result<bool> {
        let mut exists = self.conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE wamid_key = wamid_key(?1) AND wamid = ?1)")?;
        Ok(exists.query_row([wamid], |r| r.get(0))?)
    }

    /// Keep an edit/revoke whose message has not arrived yet (webhooks race).
    fn defer_patch(&mut self, wamid: &str, kind: &str, ts: Timestamp, body: Option<&str>) -> Result<()> {
        let mut insert = self.conn.prepare_cached("INSERT INTO pending_patches (wamid, kind, ts, body) VALUES (?1, ?2, ?3, ?4)")?;
        insert.execute(params![wamid, kind, ts, body])?;
        self.has_pending_patches = true;
        Ok(())
    }

    fn apply_pending_patches(&mut self, wamid: &str, conversation: &ConversationKey) -> Result<()> {
        let patches: Vec<(String, Timestamp, Option<String>)> = {
            let mut select =
                self.conn.prepare_cached("SELECT kind, ts, body FROM pending_patches WHERE wamid = ?1 ORDER BY id")?;
            let rows = select.query_map([wamid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if patches.is_empty() {
            return Ok(());
        }
        self.conn.prepare_cached("DELETE FROM pending_patches WHERE wamid = ?1")?.execute([wamid])?;
        for (kind, ts, body) in patches {
            match (kind.as_str(), body) {
                ("edit", Some(json)) => {
                    let body: MessageBody = decode("pending edit", &json)?;
                    self.edit(wamid, conversation, ts, &body)?;
                }
                _ => self.revoke(wamid, conversation, ts)?,
            }
        }
        Ok(())
    }
}

/// The JSON stored beside a message: Meta's own object only when the body could not model it
/// (the thread shows it as "unsupported"); `null` otherwise, since the body holds what is shown
/// and the bridge keeps every webhook as received. Writing it for every message cost a fifth
/// of the sync rate (BENCHMARKS.md).
fn kept_raw(m: &Message) -> String {
    match m.body {
        MessageBody::Unsupported { .. } => serde_json::to_string(&m.raw).expect("a JSON value serializes"),
        _ => "null".to_string(),
    }
}

/// Insert a message row; `false` when the wamid is already stored (looked up by its key: the
/// table has no unique index on the wamid, see wamid_key.rs).
fn insert_message(conn: &rusqlite::Connection, conv_id: i64, m: &Message, seq: Option<i64>) -> Result<bool> {
    let key = wamid_key(&m.wamid);
    let mut stored = conn.prepare_cached(statements::MESSAGE_STORED)?;
    if stored.query_row(params![key, m.wamid], |r| r.get(0))? {
        return Ok(false);
    }
    let body = serde_json::to_string(&m.body).expect("MessageBody serializes");
    let raw = kept_raw(m);
    let referral = m.referral.as_ref().filter(|r| !r.is_null()).map(|r| r.to_string());
    let mut insert = conn.prepare_cached(statements::INSERT_MESSAGE)?;
    insert.execute(params![
        m.wamid,
        key,
        conv_id,
        side_name(m.side),
        m.from_business,
        m.timestamp,
        body_kind(&m.body),
        body,
        raw,
        searchable_text(&m.body),
        m.reply_to,
        referral,
        m.agent,
        m.idempotency_key,
        seq
    ])?;
    Ok(true)
}
