//! The conversation list, one conversation, its timeline, and read marks.

use coexist_core::rules::{ConversationState, WindowState};
use coexist_core::{ContactKey, ConversationKey, MessageBody, StatusKind};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::apply::{count_unread, load_or_create, save_conversation};
use crate::error::{decode, Result, StoreError};
use crate::explain::failure_view;
use crate::text::{preview, REVOKED_PREVIEW};
use crate::views::*;
use crate::Store;

const DEFAULT_PAGE: u32 = 100;
const SUMMARY_COLUMNS: &str = "SELECT c.phone_number_id, c.contact, c.state, c.unread, c.last_activity, c.preview,
        ct.name, n.mode, n.display_number, c.assignee, c.done_at_ms, c.done_until_ms, c.marked_unread,
        (SELECT json_group_array(label) FROM
            (SELECT label FROM conversation_labels WHERE conversation_id = c.id ORDER BY label COLLATE NOCASE)),
        c.blocked_by, c.waiting_since, mu.contact IS NOT NULL, mu.until_ms
    FROM conversations c
    LEFT JOIN contacts ct ON ct.phone_number_id = c.phone_number_id AND ct.contact = c.contact
    LEFT JOIN mutes mu ON mu.phone_number_id = c.phone_number_id AND mu.contact = c.contact
    LEFT JOIN numbers n ON n.phone_number_id = c.phone_number_id";

fn summary_from_row(row: &Row<'_>, now: i64) -> rusqlite::Result<Result<ConversationSummary>> {
    let state_json: String = row.get(2)?;
    let state: ConversationState = match decode("conversation state", &state_json) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let owner = state.owner();
    let window = state.window(now);
    let window_explanation = match &window {
        WindowState::Closed { reason } => Some(reason.describe()),
        WindowState::Open { .. } => None,
    };
    let waiting_since: Option<i64> = row.get(15)?;
    let (mute_row, muted_until): (bool, Option<i64>) = (row.get(16)?, row.get(17)?);
    let muted = mute_row && muted_until.is_none_or(|until| until > now * 1000);
    let mode: Option<String> = row.get(7)?;
    let (done_at_ms, snoozed_until_ms): (Option<i64>, Option<i64>) = (row.get(10)?, row.get(11)?);
    let done = done_at_ms.is_some() && snoozed_until_ms.is_none_or(|until| until > now * 1000);
    let labels: Vec<String> = match decode("conversation labels", &row.get::<_, String>(13)?) {
        Ok(labels) => labels,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(ConversationSummary {
        conversation: ConversationKey { phone_number_id: row.get(0)?, contact: ContactKey(row.get(1)?) },
        contact_name: row.get(6)?,
        owner_agent: match &owner {
            coexist_core::rules::Owner::Api { agent } => Some(agent.clone()),
            _ => None,
        },
        owner,
        window,
        window_explanation,
        unread: row.get(3)?,
        unanswered: waiting_since.is_some(),
        waiting_since,
        last_activity: row.get(4)?,
        preview: row.get(5)?,
        number_mode: mode.as_deref().map(parse_mode),
        display_number: row.get(8)?,
        assignee: row.get(9)?,
        done,
        snoozed_until_ms: if done { snoozed_until_ms } else { None },
        marked_unread: row.get(12)?,
        labels,
        blocked_by: row.get(14)?,
        muted,
        muted_until_ms: if muted { muted_until } else { None },
    }))
}

/// Conversations with something unread; the WHERE is the partial index's (schema version 10),
/// word for word, or SQLite would not use it.
pub(crate) const UNREAD_COUNT: &str = "SELECT count(*) FROM conversations WHERE unread > 0 OR marked_unread";

/// The conversation list's query; the Waiting list (customers who wrote last, not blocked) in
/// waiting order, every other in activity order.
pub(crate) fn list_sql(waiting: bool) -> String {
    // The partial index's own condition, word for word, so SQLite reads the waiting in order.
    let waiting = if waiting {
        "AND c.waiting_since IS NOT NULL AND c.blocked_by IS NULL ORDER BY c.waiting_since, c.id"
    } else {
        "ORDER BY c.last_activity DESC, c.id DESC"
    };
    format!(
        "{SUMMARY_COLUMNS}
         WHERE (?1 IS NULL OR c.phone_number_id = ?1)
           AND (?2 IS NULL OR c.assignee = ?2 OR (c.assignee IS NULL AND c.owner = 'api' AND c.owner_agent = ?2))
           AND (?3 = 0 OR c.owner = 'app')
           AND (?4 IS NULL OR (c.window_open_until > ?5 AND c.window_open_until <= ?5 + ?4))
           AND (?6 = 0 OR c.unread > 0 OR c.marked_unread)
           AND (?9 = 0 OR c.assignee IS NULL)
           AND (?10 IS NULL OR (c.done_at_ms IS NOT NULL AND (c.done_until_ms IS NULL OR c.done_until_ms > ?5 * 1000)) = ?10)
           AND (?11 IS NULL OR EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.label = ?11))
           {waiting}
         LIMIT ?7 OFFSET ?8"
    )
}

impl Store {
    /// The conversation list, latest activity (Meta time) first (the Waiting list: longest
    /// waiting first). `now` (Unix seconds) decides the window state shown and the
    /// `window_closing_within_secs` filter.
    pub fn conversations(&self, filter: &ConversationFilter, now: i64) -> Result<Vec<ConversationSummary>> {
        let sql = list_sql(filter.waiting);
        let limit = if filter.limit == 0 { DEFAULT_PAGE } else { filter.limit };
        let closing = filter.window_closing_within_secs.map(|s| s.clamp(0, 10 * 365 * 86_400));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                filter.phone_number_id,
                filter.only_mine,
                filter.app_owned,
                closing,
                now,
                filter.unread_only,
                limit,
                filter.offset,
                filter.unassigned,
                filter.done,
                filter.label
            ],
            |row| summary_from_row(row, now),
        )?;
        rows.map(|r| r?).collect()
    }

    /// Unanswered conversations whose window is open and closes within `within_secs` of `now`
    /// (for the "window about to close" notification), soonest first.
    pub fn closing_conversations(&self, now: i64, within_secs: i64) -> Result<Vec<ConversationSummary>> {
        let filter = ConversationFilter { window_closing_within_secs: Some(within_secs), limit: u32::MAX, ..Default::default() };
        let mut list: Vec<ConversationSummary> =
            self.conversations(&filter, now)?.into_iter().filter(|c| c.unanswered).collect();
        list.sort_by_key(|c| match c.window {
            WindowState::Open { expires_at, .. } => expires_at,
            WindowState::Closed { .. } => i64::MAX,
        });
        Ok(list)
    }

    /// Conversations whose contact is called or numbered like `text`, latest activity first (at
    /// most `limit`, within one business number when given), so an agent finds a customer by
    /// name or number before either appears in a message. A phone number as typed (3 digits or
    /// more, with nothing else but `+`, spaces, dashes, dots and brackets) matches those digits
    /// anywhere in the number; other text matches names, every word as a prefix, accents and
    /// case ignored.
    pub fn find_people(&self, text: &str, phone_number_id: Option<&str>, limit: u32, now: i64) -> Result<Vec<ConversationSummary>> {
        let (matching, pattern) = match phone_digits(text) {
            // Read from the (number, contact) index alone: compact, in order, no row lookups.
            Some(digits) => (
                "c.id IN (SELECT id FROM conversations WHERE instr(contact, ?1) > 0 AND contact NOT LIKE 'user:%')",
                digits,
            ),
            None => {
                let tokens = self.tokenize(text)?;
                if tokens.is_empty() {
                    return Ok(Vec::new());
                }
                ("c.id IN (SELECT rowid FROM people_fts WHERE people_fts MATCH ?1)", crate::search::words_query(&tokens, true))
            }
        };
        let sql = format!(
            "{SUMMARY_COLUMNS} WHERE {matching} AND (?2 IS NULL OR c.phone_number_id = ?2)
             ORDER BY c.last_activity DESC, c.id DESC LIMIT ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![pattern, phone_number_id, limit], |row| summary_from_row(row, now))?;
        rows.map(|r| r?).collect()
    }

    /// The labels the team uses, alphabetically, with how many conversations carry each.
    pub fn labels(&self) -> Result<Vec<LabelCount>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT label, count(*) FROM conversation_labels GROUP BY label ORDER BY label COLLATE NOCASE, label",
        )?;
        let rows = stmt.query_map([], |r| Ok(LabelCount { label: r.get(0)?, conversations: r.get(1)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many conversations have something unread (new messages, or marked unread): what the
    /// window's title shows, as a chat app's does.
    pub fn unread_conversations(&self) -> Result<u64> {
        Ok(self.conn.prepare_cached(UNREAD_COUNT)?.query_row([], |r| r.get(0))?)
    }

    /// One conversation's summary; `None` when the inbox has never seen it.
    pub fn conversation(&self, key: &ConversationKey, now: i64) -> Result<Option<ConversationSummary>> {
        let sql = format!("{SUMMARY_COLUMNS} WHERE c.phone_number_id = ?1 AND c.contact = ?2");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let found = stmt
            .query_row(params![key.phone_number_id, key.contact.as_str()], |row| summary_from_row(row, now))
            .optional()?;
        found.transpose()
    }

    /// A conversation nobody has written in yet, as the list will show it once someone does: the
    /// window never opened (only a template can start it), no owner, nothing unread, the
    /// contact's name when a webhook told it. `None` when the business number is not one this
    /// inbox knows (a conversation can only start from a number of the team's).
    pub fn new_conversation(&self, key: &ConversationKey, now: i64) -> Result<Option<ConversationSummary>> {
        let fresh = serde_json::to_string(&ConversationState::default()).expect("a conversation state serializes");
        // The list's own query over a one-row `conversations` (the CTE hides the table): the new
        // conversation is read exactly as a stored one would be, from the same columns.
        let sql = format!(
            "WITH conversations (id, phone_number_id, contact, state, unread, last_activity, preview,
                                 assignee, done_at_ms, done_until_ms, marked_unread, blocked_by, waiting_since)
                 AS (VALUES (NULL, ?1, ?2, ?3, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL))
             {SUMMARY_COLUMNS} WHERE n.phone_number_id IS NOT NULL"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let found = stmt
            .query_row(params![key.phone_number_id, key.contact.as_str(), fresh], |row| summary_from_row(row, now))
            .optional()?;
        found.transpose()
    }

    /// The rules state of a conversation (for the engine's send checks); `None` if unknown.
    pub fn conversation_state(&self, key: &ConversationKey) -> Result<Option<ConversationState>> {
        let mut stmt = self.conn.prepare_cached("SELECT state FROM conversations WHERE phone_number_id = ?1 AND contact = ?2")?;
        let json: Option<String> =
            stmt.query_row(params![key.phone_number_id, key.contact.as_str()], |r| r.get(0)).optional()?;
        json.map(|j| decode("conversation state", &j)).transpose()
    }

    /// A page of a conversation's timeline, oldest first: the `limit` messages just before
    /// `before` (`(timestamp, arrival)` of the oldest message already shown), or the latest
    /// ones. Reactions are attached to the messages they react to, not listed.
    pub fn messages(&self, key: &ConversationKey, before: Option<(i64, i64)>, limit: u32) -> Result<Vec<MessageView>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, m.wamid, m.side, m.from_business, m.ts, m.body, m.raw, m.text, m.reply_to, m.referral,
                    m.agent, m.idempotency_key, m.edited_at, m.revoked_at,
                    s.state, s.error_code, s.error_title, s.error_message, s.error_details
             FROM messages m LEFT JOIN statuses s ON s.wamid_key = m.wamid_key AND s.wamid = m.wamid
             WHERE m.conversation_id = (SELECT id FROM conversations WHERE phone_number_id = ?1 AND contact = ?2)
               AND m.kind <> 'reaction'
               AND (?3 IS NULL OR m.ts < ?3 OR (m.ts = ?3 AND m.id < ?4))
             ORDER BY m.ts DESC, m.id DESC
             LIMIT ?5",
        )?;
        let (before_ts, before_id) = before.map_or((None, None), |(t, i)| (Some(t), Some(i)));
        let limit = if limit == 0 { DEFAULT_PAGE } else { limit };
        let rows = stmt.query_map(
            params![key.phone_number_id, key.contact.as_str(), before_ts, before_id, limit],
            message_from_row,
        )?;
        let mut page = rows.map(|r| r?).collect::<Result<Vec<MessageView>>>()?;
        page.reverse();
        for m in &mut page {
            m.reactions = reactions(&self.conn, &m.wamid)?;
            if let Some(target) = &m.reply_to {
                m.quoted = Some(quoted(&self.conn, target)?);
            }
        }
        Ok(page)
    }

    /// The team's notes on a conversation taken by the bridge within `from_ms..=until_ms`
    /// (either end open), oldest first.
    pub fn notes(&self, key: &ConversationKey, from_ms: Option<i64>, until_ms: Option<i64>) -> Result<Vec<NoteView>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, author, text, at_ms FROM notes
             WHERE conversation_id = (SELECT id FROM conversations WHERE phone_number_id = ?1 AND contact = ?2)
               AND (?3 IS NULL OR at_ms >= ?3) AND (?4 IS NULL OR at_ms <= ?4)
             ORDER BY at_ms, seq",
        )?;
        let rows = stmt.query_map(params![key.phone_number_id, key.contact.as_str(), from_ms, until_ms], |r| {
            Ok(NoteView { seq: r.get(0)?, author: r.get(1)?, text: r.get(2)?, at_ms: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Conversations whose snooze ended within `(after_ms, until_ms]` and that nothing reopened
    /// since (for the "back from snooze" notification), as of `until_ms`, each with the time
    /// its snooze ended.
    pub fn snoozes_ended(&self, after_ms: i64, until_ms: i64) -> Result<Vec<(ConversationSummary, i64)>> {
        let sql = format!("{SUMMARY_COLUMNS} WHERE c.done_at_ms IS NOT NULL AND c.done_until_ms > ?1 AND c.done_until_ms <= ?2");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![after_ms, until_ms], |row| {
            let ended: i64 = row.get(11)?;
            Ok(summary_from_row(row, until_ms / 1000)?.map(|summary| (summary, ended)))
        })?;
        rows.map(|r| r?).collect()
    }

    /// The team's quick replies, by shortcut.
    pub fn quick_replies(&self) -> Result<Vec<QuickReplyView>> {
        let mut stmt = self.conn.prepare_cached("SELECT shortcut, text, updated_by FROM quick_replies ORDER BY shortcut")?;
        let rows = stmt.query_map([], |r| Ok(QuickReplyView { shortcut: r.get(0)?, text: r.get(1)?, updated_by: r.get(2)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The customer's latest message in this conversation (never history), if any.
    pub fn last_inbound(&self, key: &ConversationKey) -> Result<Option<coexist_core::rules::Mark>> {
        if !conversation_exists(&self.conn, key)? {
            return Ok(None);
        }
        Ok(load_or_create(&self.conn, key)?.state.last_inbound)
    }

    /// Whether `wamid` is a message of this conversation (an agent may quote it in a reply).
    pub fn has_message(&self, key: &ConversationKey, wamid: &str) -> Result<bool> {
        message_in_conversation(&self.conn, key, wamid)
    }

    /// The agent has read the conversation up to Meta time `timestamp`: the unread count drops
    /// accordingly (core rules). Marks only move forward. Returns the wamid of the customer
    /// message to mark read at Meta, when this mark newly covers one (core rules, `read_receipt`).
    pub fn mark_read(&mut self, key: &ConversationKey, timestamp: i64) -> Result<Option<String>> {
        self.conversations.forget(key);
        self.durable_write(|conn| {
            if !conversation_exists(conn, key)? {
                return Err(StoreError::NotFound(format!(
                    "no conversation between number {} and {}; refresh the list",
                    key.phone_number_id,
                    key.contact.as_str()
                )));
            }
            let mut conv = load_or_create(conn, key)?;
            let receipt = conv.state.read_receipt(timestamp, crate::apply::now_ms() / 1000).map(|m| m.wamid.clone());
            if conv.state.mark_read(timestamp) {
                conv.unread = count_unread(conn, conv.id, &conv.state)?;
                save_conversation(conn, &conv)?;
            }
            conn.prepare_cached("UPDATE conversations SET marked_unread = 0 WHERE id = ?1 AND marked_unread")?.execute([conv.id])?;
            Ok(receipt)
        })
    }

    /// Show the conversation as unread again on this desktop (the agent will come back to it),
    /// until it is read again. Nothing changes at Meta or for the team.
    pub fn mark_unread(&mut self, key: &ConversationKey) -> Result<()> {
        self.durable_write(|conn| {
            let changed = conn
                .prepare_cached("UPDATE conversations SET marked_unread = 1 WHERE phone_number_id = ?1 AND contact = ?2")?
                .execute(params![key.phone_number_id, key.contact.as_str()])?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("no conversation with {}; refresh the list", key.contact.as_str())));
            }
            Ok(())
        })
    }
}

/// Whether `wamid` is a message of this conversation (what an agent may quote in a reply).
pub(crate) fn message_in_conversation(conn: &Connection, key: &ConversationKey, wamid: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id
          WHERE m.wamid_key = wamid_key(?1) AND m.wamid = ?1 AND c.phone_number_id = ?2 AND c.contact = ?3)",
    )?;
    Ok(stmt.query_row(params![wamid, key.phone_number_id, key.contact.as_str()], |r| r.get(0))?)
}

fn conversation_exists(conn: &Connection, key: &ConversationKey) -> Result<bool> {
    let mut stmt =
        conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM conversations WHERE phone_number_id = ?1 AND contact = ?2)")?;
    Ok(stmt.query_row(params![key.phone_number_id, key.contact.as_str()], |r| r.get(0))?)
}

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Result<MessageView>> {
    Ok(build_message(row))
}

fn build_message(row: &Row<'_>) -> Result<MessageView> {
    let side: String = row.get(2)?;
    let body_json: String = row.get(5)?;
    let raw_json: String = row.get(6)?;
    let referral: Option<String> = row.get(9)?;
    let revoked_at: Option<i64> = row.get(13)?;
    let status_json: Option<String> = row.get(14)?;
    let status_detail: Option<coexist_core::rules::MessageStatus> =
        status_json.map(|j| decode("message status", &j)).transpose()?;
    let error_code: Option<i64> = row.get(15)?;
    let status = status_detail.as_ref().and_then(|s| s.status);
    let failure = match (status, error_code) {
        (Some(StatusKind::Failed), Some(code)) => Some(failure_view(code, row.get(16)?, row.get(17)?, row.get(18)?)),
        _ => None,
    };
    // A message deleted for everyone is not shown; its original stays in `raw` for audits.
    let body: MessageBody = if revoked_at.is_some() {
        MessageBody::System { body: REVOKED_PREVIEW.to_string() }
    } else {
        decode("message body", &body_json)?
    };
    let edited_at: Option<i64> = row.get(12)?;
    let side = parse_side(&side);
    // A history message's only "edit" is Meta delivering its media after the placeholder.
    let edited = edited_at.is_some() && side != coexist_core::Side::History;
    Ok(MessageView {
        arrival: row.get(0)?,
        wamid: row.get(1)?,
        side,
        from_business: row.get(3)?,
        timestamp: row.get(4)?,
        body,
        text: row.get(7)?,
        raw: decode("raw message", &raw_json)?,
        reply_to: row.get(8)?,
        quoted: None,
        referral: referral.map(|r| decode("referral", &r)).transpose()?,
        agent: row.get(10)?,
        idempotency_key: row.get(11)?,
        status,
        status_detail,
        failure,
        reactions: Vec::new(),
        edited,
        edited_at,
        revoked: revoked_at.is_some(),
        revoked_at,
    })
}

/// The reactions shown under message `wamid`. The business's own one says when Meta failed it
/// (a `failed` status on the reaction's wamid), and then the one before it that Meta did not fail
/// shows too: that is what the customer still sees (a failed removal leaves it in place as well).
fn reactions(conn: &Connection, wamid: &str) -> Result<Vec<ReactionView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.emoji, r.reactor, r.ts, r.wamid, s.status, s.error_code, s.error_title, s.error_message, s.error_details
         FROM reactions r LEFT JOIN statuses s ON s.wamid_key = wamid_key(r.wamid) AND s.wamid = r.wamid
         WHERE r.target_wamid = ?1 ORDER BY r.ts, r.reactor",
    )?;
    let rows = stmt.query_map([wamid], |r| {
        let status: Option<String> = r.get(4)?;
        let failure = match (status.as_deref(), r.get::<_, Option<i64>>(5)?) {
            (Some("failed"), Some(code)) => Some(failure_view(code, r.get(6)?, r.get(7)?, r.get(8)?)),
            _ => None,
        };
        let view = ReactionView { emoji: crate::text::sanitize(&r.get::<_, String>(0)?), by: r.get(1)?, timestamp: r.get(2)?, failure };
        Ok((view, r.get::<_, String>(3)?))
    })?;
    let mut views = Vec::new();
    for row in rows {
        let (view, reaction_wamid) = row?;
        if view.failure.is_some() {
            views.extend(delivered_before(conn, wamid, &reaction_wamid, view.timestamp)?);
        }
        if !view.emoji.is_empty() {
            views.push(view);
        }
    }
    Ok(views)
}

/// The business's latest reaction to `target` up to `ts`, other than `failed_wamid`, that Meta
/// did not fail; `None` when there is none or it was a removal.
fn delivered_before(conn: &Connection, target: &str, failed_wamid: &str, ts: i64) -> Result<Option<ReactionView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.body, m.ts FROM messages m LEFT JOIN statuses s ON s.wamid_key = m.wamid_key AND s.wamid = m.wamid
         WHERE m.conversation_id = (SELECT conversation_id FROM messages WHERE wamid_key = wamid_key(?1) AND wamid = ?1)
           AND m.kind = 'reaction' AND m.from_business = 1 AND m.wamid <> ?2 AND m.ts <= ?3
           AND (s.status IS NULL OR s.status <> 'failed')
         ORDER BY m.ts DESC, m.id DESC",
    )?;
    let mut rows = stmt.query(params![target, failed_wamid, ts])?;
    while let Some(row) = rows.next()? {
        let body: MessageBody = decode("message body", &row.get::<_, String>(0)?)?;
        if let MessageBody::Reaction { message_id, emoji } = body {
            if message_id == target {
                let view = ReactionView { emoji: crate::text::sanitize(&emoji), by: "business".into(), timestamp: row.get(1)?, failure: None };
                return Ok((!emoji.is_empty()).then_some(view));
            }
        }
    }
    Ok(None)
}

fn quoted(conn: &Connection, wamid: &str) -> Result<QuotedMessage> {
    let mut stmt = conn.prepare_cached("SELECT side, body, revoked_at FROM messages WHERE wamid_key = wamid_key(?1) AND wamid = ?1")?;
    let found: Option<(String, String, Option<i64>)> =
        stmt.query_row([wamid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
    Ok(match found {
        Some((side, body, revoked)) => {
            let text = if revoked.is_some() {
                REVOKED_PREVIEW.to_string()
            } else {
                preview(&decode::<MessageBody>("message body", &body)?)
            };
            QuotedMessage { wamid: wamid.to_string(), side: Some(parse_side(&side)), preview: Some(text) }
        }
        None => QuotedMessage { wamid: wamid.to_string(), side: None, preview: None },
    })
}

/// The digits of `text` when it is a phone number as people type one (`+1 (555) 123-0001`),
/// at least 3 of them; `None` for anything else.
fn phone_digits(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let only_number = text.chars().all(|c| c.is_ascii_digit() || c.is_whitespace() || "+-.()".contains(c));
    (only_number && digits.len() >= 3).then_some(digits)
}
