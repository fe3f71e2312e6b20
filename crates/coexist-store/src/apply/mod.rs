//! Applying events to the store: the relay log, then the projections, in one transaction.

mod catalog;
mod conversations;
mod messages;
mod people;
mod pipeline;
mod reread;
pub mod statements;
mod statuses;
mod team;

use std::collections::HashSet;
use std::sync::mpsc;

use coexist_core::{ConversationKey, Event, MetaError, RelayEvent, RelayKind, StatusKind, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::Result;

pub(crate) use conversations::{count_unread, load_or_create, save as save_conversation, ConversationCache};
pub(crate) use messages::now_ms;
pub(crate) use reread::reread_kept;

/// What one apply changed, for the UI to refresh and the engine to notify.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Relay entries newly stored (problems included).
    pub applied: usize,
    /// Relay entries skipped because their seq was already applied.
    pub skipped: usize,
    /// Seqs of entries that could not be parsed (see `Store::problems`).
    pub problems: Vec<i64>,
    /// The stored cursor after the batch.
    pub cursor: i64,
    /// Conversations whose list row changed (sorted).
    pub conversations_touched: Vec<ConversationKey>,
    /// Conversations whose timeline changed (new messages, statuses, edits, reactions; sorted).
    pub timelines_touched: Vec<ConversationKey>,
    /// Inbound customer messages seen for the first time (never history, never reactions),
    /// for notifications. Claim each with `Store::notification_claim` before showing it.
    pub new_inbound: Vec<NewInbound>,
    /// Statuses that moved forward (sent → delivered → read, or failed), in arrival order.
    pub statuses: Vec<StatusChange>,
    /// Outbound messages that reached `failed` in this batch.
    pub failed: Vec<FailedMessage>,
    /// Outbox idempotency keys the relay confirmed as sent.
    pub outbox_reconciled: Vec<String>,
    /// Business numbers whose templates, settings, account state or history progress changed.
    pub numbers_touched: Vec<String>,
    /// Conversations assigned or handed back in this batch, in relay order.
    pub assignments: Vec<AssignmentChange>,
    /// The team's quick replies changed.
    pub quick_replies_changed: bool,
    /// Team notes stored for the first time, in relay order.
    pub new_notes: Vec<NewNote>,
    /// Meta's review decisions on templates relayed in this batch (not full catalog syncs).
    pub template_reviews: Vec<TemplateReviewed>,
}

/// Meta decided on a template (`message_template_status_update`): approved, rejected, paused...
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateReviewed {
    /// The relay entry that carried it (`None` for `apply_events`).
    pub seq: Option<i64>,
    pub name: String,
    pub language: String,
    /// As stored (`APPROVED`, `REJECTED`, ...).
    pub status: String,
    pub reason: Option<String>,
    /// When the bridge received it, Unix milliseconds (`None` for `apply_events`).
    pub received_at_ms: Option<i64>,
}

/// A teammate's note, as the engine needs it to notify a mention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewNote {
    pub seq: i64,
    pub conversation: ConversationKey,
    pub author: String,
    pub text: String,
    pub at_ms: i64,
}

/// A conversation changed hands on the team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssignmentChange {
    pub conversation: ConversationKey,
    /// `None`: handed back to the team.
    pub assignee: Option<String>,
    pub by: String,
    /// When the bridge took it, Unix milliseconds.
    pub at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewInbound {
    pub wamid: String,
    pub conversation: ConversationKey,
    pub timestamp: Timestamp,
    /// The contact's profile name when known (customer text: render as text only).
    pub contact_name: Option<String>,
    /// Plain one-line text of the message.
    pub preview: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub wamid: String,
    pub conversation: ConversationKey,
    /// The message's status now (the furthest reached).
    pub status: StatusKind,
    /// Our idempotency key, from Meta's `biz_opaque_callback_data` (API sends only).
    pub idempotency_key: Option<String>,
    /// The first error when failed.
    pub error: Option<MetaError>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedMessage {
    pub wamid: String,
    pub conversation: ConversationKey,
    pub error_code: Option<i64>,
}

/// State shared by the handlers while one batch is applied.
pub(crate) struct Batch<'c> {
    pub conn: &'c Connection,
    pub conversations: &'c mut ConversationCache,
    pub report: ApplyReport,
    /// Whether any edit/revoke waits for its message (skips a lookup per message when not).
    pub has_pending_patches: bool,
    /// The relay seq of the entry being applied (`None` for `apply_events`).
    pub seq: Option<i64>,
    /// When the bridge received that entry, Unix milliseconds.
    pub received_at_ms: Option<i64>,
    pub timelines: HashSet<ConversationKey>,
    /// History messages newly imported in this batch, per number.
    pub history_imported: std::collections::HashMap<String, i64>,
    /// Messages with a larger id are not in the search index yet.
    pub indexed_upto: i64,
    /// Conversations with a larger id have not had their name indexed yet (see people.rs).
    pub people_upto: i64,
    /// Contacts whose name this batch wrote.
    pub named: Vec<ConversationKey>,
}

impl<'c> Batch<'c> {
    pub fn new(conn: &'c Connection, conversations: &'c mut ConversationCache) -> Result<Self> {
        conversations.validate(conn)?;
        let has_pending_patches =
            conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM pending_patches)")?.query_row([], |r| r.get(0))?;
        Ok(Batch {
            conn,
            conversations,
            report: ApplyReport::default(),
            has_pending_patches,
            seq: None,
            received_at_ms: None,
            timelines: HashSet::new(),
            history_imported: Default::default(),
            indexed_upto: conn.prepare_cached("SELECT coalesce(max(id), 0) FROM messages")?.query_row([], |r| r.get(0))?,
            people_upto: people::max_conversation_id(conn)?,
            named: Vec::new(),
        })
    }

    /// Apply one normalized event to the projections.
    pub fn apply(&mut self, event: &Event) -> Result<()> {
        match event {
            Event::Message(m) => self.message(event, m),
            Event::MessageEdited { wamid, conversation, timestamp, body } => {
                self.edit(wamid, conversation, *timestamp, body)
            }
            Event::MessageRevoked { wamid, conversation, timestamp } => self.revoke(wamid, conversation, *timestamp),
            Event::Status(s) => self.status(event, s),
            Event::Contact(c) => self.contact(c),
            Event::HistoryProgress { phone_number_id, phase, chunk_order, progress, error } => {
                self.history_progress(phone_number_id, *phase, *chunk_order, *progress, error.as_ref())
            }
            Event::TemplateStatus { waba_id, template_id, name, language, status, reason } => {
                self.template_status(waba_id, template_id.as_deref(), name, language, status, reason.as_deref())
            }
            Event::TemplatesSynced { phone_number_id, waba_id, templates } => {
                self.templates_synced(phone_number_id, waba_id, templates)
            }
            Event::AccountUpdate { waba_id, phone_number_id, event, raw } => {
                self.account_update(waba_id, phone_number_id.as_deref(), event, raw)
            }
            Event::Number(n) => self.number(n),
            Event::Assigned { conversation, assignee, by, at_ms } => {
                self.assigned(conversation, assignee.as_deref(), by, *at_ms)
            }
            Event::Done { conversation, done, until_ms, by, at_ms } => self.done(conversation, *done, *until_ms, by, *at_ms),
            Event::Labeled { conversation, label, on, by, at_ms } => self.labeled(conversation, label, *on, by, *at_ms),
            Event::Blocked { conversation, blocked, by, at_ms } => self.blocked(conversation, *blocked, by, *at_ms),
            Event::QuickReply(q) => self.quick_reply(q),
            Event::Note { seq, conversation, author, text, at_ms } => self.note(*seq, conversation, author, text, *at_ms),
            // Kept whole in the relay log; nothing to project.
            Event::Unknown { .. } => Ok(()),
        }
    }

    fn timeline_touched(&mut self, key: &ConversationKey) {
        if !self.timelines.contains(key) {
            self.timelines.insert(key.clone());
        }
    }

    fn touch_number(&mut self, phone_number_id: &str) {
        if !self.report.numbers_touched.iter().any(|n| n == phone_number_id) {
            self.report.numbers_touched.push(phone_number_id.to_string());
        }
    }

    fn flush_history_counts(&mut self) -> Result<()> {
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO history_progress (phone_number_id, imported) VALUES (?1, ?2)
             ON CONFLICT (phone_number_id) DO UPDATE SET imported = history_progress.imported + excluded.imported",
        )?;
        for (number, count) in std::mem::take(&mut self.history_imported) {
            upsert.execute(params![number, count])?;
            self.touch_number(&number);
        }
        Ok(())
    }

    /// Index the messages inserted since the last call, in one statement (one FTS5 flush).
    /// Must run before any UPDATE of `messages.text`: the update trigger removes the old text
    /// from the index, which is only correct once it was indexed.
    pub fn sync_search_index(&mut self) -> Result<()> {
        let mut index = self.conn.prepare_cached(statements::INDEX_NEW_MESSAGES)?;
        index.execute([self.indexed_upto])?;
        self.indexed_upto = self.conn.prepare_cached("SELECT coalesce(max(id), 0) FROM messages")?.query_row([], |r| r.get(0))?;
        Ok(())
    }

    /// Write the conversations and finish the report.
    pub fn finish(mut self) -> Result<ApplyReport> {
        self.sync_search_index()?;
        self.index_people()?;
        self.flush_history_counts()?;
        self.report.conversations_touched = self.conversations.flush(self.conn)?;
        let mut name = self.conn.prepare_cached("SELECT name FROM contacts WHERE phone_number_id = ?1 AND contact = ?2")?;
        for inbound in &mut self.report.new_inbound {
            let key = &inbound.conversation;
            let stored = match self.conversations.written_name(key) {
                Some(written) => Some(written.to_string()),
                None => name
                    .query_row(params![key.phone_number_id, key.contact.as_str()], |r| r.get::<_, Option<String>>(0))
                    .optional()?
                    .flatten(),
            };
            inbound.contact_name = stored.map(|n| crate::text::sanitize(&n));
        }
        self.report.numbers_touched.sort();
        let mut timelines: Vec<ConversationKey> = std::mem::take(&mut self.timelines).into_iter().collect();
        timelines.sort();
        self.report.timelines_touched = timelines;
        Ok(self.report)
    }
}

/// Batches smaller than this are prepared inline (a thread costs more than it saves).
pub(crate) const PIPELINE_MIN: usize = 64;

/// Applied entries are handed to the helper thread to drop this many at a time.
const DROP_BUNDLE: usize = 256;

/// Store one relay entry in the log; `false` when its seq was already there (then nothing
/// else of it is applied again). `payload` is `None` for an entry wholly in the projections:
/// its JSON is then not written again here (an empty text; the bridge keeps it as received).
fn log_relay_event(conn: &Connection, ev: &RelayEvent, payload: Option<&str>) -> Result<bool> {
    let mut insert = conn.prepare_cached(statements::LOG_ENTRY)?;
    Ok(insert.execute(params![ev.seq, logged_kind(ev), ev.received_at_ms, payload.unwrap_or("")])? == 1)
}

fn mark_problem(conn: &Connection, seq: i64, error: &str) -> Result<()> {
    conn.prepare_cached("UPDATE events SET parse_error = ?2 WHERE seq = ?1")?.execute(params![seq, error])?;
    Ok(())
}

/// The kind as the log keeps it: its name, or `unknown:NAME` for a kind this build does not read
/// (a newer bridge's), so that the version that reads it applies it (see [`reapply_newly_known`]).
fn logged_kind(ev: &RelayEvent) -> std::borrow::Cow<'static, str> {
    match &ev.unknown_kind {
        Some(name) if ev.kind == RelayKind::Unknown => format!("{UNKNOWN_PREFIX}{name}").into(),
        _ => ev.kind.name().into(),
    }
}

const UNKNOWN_PREFIX: &str = "unknown:";

/// Entries an older version logged under a kind it could not read (`unknown:NAME`) and this one
/// reads: applied now, in log order, then logged under their kind; returns how many. "Latest
/// wins" kinds (labels, blocks...) come out right: the older version applied no entry of such a
/// kind, and every entry fetched from now on comes after these.
pub(crate) fn reapply_newly_known(conn: &Connection, cache: &mut ConversationCache) -> Result<usize> {
    let mut stmt = conn.prepare("SELECT seq, kind, received_at_ms, payload FROM events WHERE kind LIKE 'unknown:%' ORDER BY seq")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?)))?;
    let mut entries = Vec::new();
    for row in rows {
        let (seq, kind, received_at_ms, payload) = row?;
        let Some(kind) = kind.strip_prefix(UNKNOWN_PREFIX).and_then(RelayKind::from_name) else { continue };
        match serde_json::value::RawValue::from_string(payload) {
            Ok(payload) => entries.push(RelayEvent { seq, kind, received_at_ms, payload, unknown_kind: None }),
            Err(e) => tracing::warn!(seq, error = %e, "a relay entry kept under an unknown kind is not JSON; left as it is"),
        }
    }
    if entries.is_empty() {
        return Ok(0);
    }
    let mut batch = Batch::new(conn, cache)?;
    for ev in &entries {
        batch.seq = Some(ev.seq);
        batch.received_at_ms = Some(ev.received_at_ms);
        match coexist_core::events_from_relay(ev) {
            Ok(events) => events.iter().try_for_each(|e| batch.apply(e))?,
            Err(e) => mark_problem(conn, ev.seq, &e.to_string())?,
        }
        conn.prepare_cached("UPDATE events SET kind = ?2 WHERE seq = ?1")?.execute(params![ev.seq, ev.kind.name()])?;
    }
    batch.finish()?;
    Ok(entries.len())
}

/// Apply relay entries inside an open transaction (the caller commits).
///
/// Large batches are pipelined: a second thread parses entries and serializes payloads ahead
/// of the writer, so the writer thread only writes.
pub(crate) fn apply_relay(conn: &Connection, cache: &mut ConversationCache, batch: &[RelayEvent]) -> Result<ApplyReport> {
    if batch.len() < PIPELINE_MIN {
        return apply_prepared(conn, cache, batch, |i| pipeline::prepare(&batch[i]), |_| ());
    }
    let shared = pipeline::Shared::new(batch);
    std::thread::scope(|scope| {
        let (applied, to_drop) = mpsc::channel();
        let helper = &shared;
        let spawned = std::thread::Builder::new().name("apply-helper".into()).spawn_scoped(scope, move || helper.help(to_drop));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no helper thread; the writer prepares every entry itself");
        }
        // Handed back in bundles: a channel send per entry cost the writer ~4 %.
        let mut bundle = Vec::with_capacity(DROP_BUNDLE);
        let result = apply_prepared(conn, cache, batch, |i| shared.take(i), |done| {
            bundle.push(done);
            if bundle.len() == DROP_BUNDLE {
                let _ = applied.send(std::mem::replace(&mut bundle, Vec::with_capacity(DROP_BUNDLE)));
            }
        });
        shared.stop();
        result
    })
}

/// Log and apply entries in order; `take(i)` gives entry `i` ready, `done` disposes of it.
fn apply_prepared(
    conn: &Connection,
    cache: &mut ConversationCache,
    batch: &[RelayEvent],
    take: impl Fn(usize) -> pipeline::Prepared,
    done: impl FnMut(pipeline::Prepared),
) -> Result<ApplyReport> {
    let mut done = done;
    let mut state = Batch::new(conn, cache)?;
    let mut cursor: i64 = conn.prepare_cached("SELECT cursor FROM sync_state WHERE id = 1")?.query_row([], |r| r.get(0))?;
    for (i, ev) in batch.iter().enumerate() {
        let ready = take(i);
        if !log_relay_event(conn, ev, ready.payload.as_deref())? {
            state.report.skipped += 1;
            done(ready);
            continue;
        }
        match &ready.parsed {
            Ok(events) => {
                state.seq = Some(ev.seq);
                state.received_at_ms = Some(ev.received_at_ms);
                for event in events {
                    state.apply(event)?;
                }
            }
            Err(message) => {
                tracing::warn!(seq = ev.seq, error = %message, "relay entry could not be parsed; kept as a problem");
                mark_problem(conn, ev.seq, message)?;
                state.report.problems.push(ev.seq);
            }
        }
        done(ready);
        state.report.applied += 1;
        cursor = cursor.max(ev.seq);
    }
    conn.prepare_cached("UPDATE sync_state SET cursor = ?1 WHERE id = 1")?.execute([cursor])?;
    let mut report = state.finish()?;
    report.cursor = cursor;
    Ok(report)
}

/// Apply already-normalized events inside an open transaction (tests, imports).
pub(crate) fn apply_events(conn: &Connection, cache: &mut ConversationCache, events: &[Event]) -> Result<ApplyReport> {
    let mut state = Batch::new(conn, cache)?;
    for event in events {
        state.apply(event)?;
        state.report.applied += 1;
    }
    let mut report = state.finish()?;
    report.cursor = conn.prepare_cached("SELECT cursor FROM sync_state WHERE id = 1")?.query_row([], |r| r.get(0))?;
    Ok(report)
}
