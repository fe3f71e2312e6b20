//! The conversations' rules state, cached in memory across batches and written once per batch.
//!
//! A backlog holds many events per conversation; loading and rewriting the row (state JSON,
//! unread count) per event would dominate apply time. Rules live in coexist-core: this module
//! only stores [`ConversationState`] and the columns derived from it.
//!
//! The cache belongs to the [`crate::Store`]'s connection. It is dropped whenever another
//! connection wrote the file (`PRAGMA data_version` changed), when a batch fails (its
//! transaction rolled back), and when it grows past [`MAX_CACHED`].

use std::collections::HashMap;

use coexist_core::rules::{counts_as_unread, ClosedReason, ConversationState, Owner, WindowState};
use coexist_core::{ContactProfile, ConversationKey, Message};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{decode, Result};

/// The caches are looked up for every applied message: a fast hasher (randomly seeded, so a
/// flood of crafted contact ids cannot pick collisions) instead of SipHash.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Conversations kept in memory between batches (each is a few hundred bytes).
const MAX_CACHED: usize = 100_000;

/// One conversation as the store knows it.
pub(crate) struct CachedConversation {
    pub id: i64,
    pub state: ConversationState,
    /// The unread count as stored.
    pub unread: i64,
    /// Changed in the current batch and not yet written.
    pub dirty: bool,
    /// The preview text to write, when the latest message changed (or was edited/revoked).
    pub new_preview: Option<(String, String)>,
    /// The customer wrote after the conversation was last marked done: it is open again.
    pub reopen: bool,
    /// The unread threshold when the batch started, and how many new messages of this batch
    /// count as unread against it (so the count is only recomputed when the threshold moved).
    threshold_at_start: Option<i64>,
    unread_added: i64,
}

impl CachedConversation {
    /// A message of this batch was inserted: keep the unread count current (core rules).
    pub fn count_new_message(&mut self, m: &Message) {
        if counts_as_unread(m, self.threshold_at_start) {
            self.unread_added += 1;
        }
    }

    fn begin_batch(&mut self) {
        self.threshold_at_start = self.state.unread_threshold();
        self.unread_added = 0;
        self.dirty = false;
        self.new_preview = None;
        self.reopen = false;
    }
}

#[derive(Default)]
pub(crate) struct ConversationCache {
    entries: FastMap<ConversationKey, CachedConversation>,
    /// The contact profile last written, per number then contact.
    contacts: FastMap<String, FastMap<String, ContactProfile>>,
    /// `PRAGMA data_version` when the cache was last validated.
    data_version: Option<i64>,
}

impl ConversationCache {
    /// Call at the start of every write transaction: drops the cache if another connection
    /// wrote the file since, or if it grew too large.
    pub fn validate(&mut self, conn: &Connection) -> Result<()> {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.data_version != Some(version) || self.entries.len() > MAX_CACHED || self.contacts.values().map(HashMap::len).sum::<usize>() > MAX_CACHED {
            self.entries.clear();
            self.contacts.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// Forget everything (after a rolled-back transaction).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.contacts.clear();
        self.data_version = None;
    }

    /// Forget one conversation (written outside a batch).
    pub fn forget(&mut self, key: &ConversationKey) {
        self.entries.remove(key);
    }

    /// Whether this profile adds anything to what was last written (and remember it).
    /// Only exact repeats are skipped, so the database upsert decides everything else.
    pub fn contact_changed(&mut self, c: &ContactProfile) -> bool {
        let known = self.contacts.get(&c.phone_number_id).and_then(|m| m.get(c.contact.as_str()));
        if known == Some(c) {
            return false;
        }
        let per_number = self.contacts.entry(c.phone_number_id.clone()).or_default();
        per_number.insert(c.contact.as_str().to_string(), c.clone());
        true
    }

    /// The contact's name as this cache last wrote it, when it wrote one: the database then
    /// holds the same (a profile without a name keeps the stored one).
    pub fn written_name(&self, key: &ConversationKey) -> Option<&str> {
        self.contacts.get(&key.phone_number_id)?.get(key.contact.as_str())?.name.as_deref()
    }

    /// The conversation, loaded from (or created in) the database on first use.
    pub fn get(&mut self, conn: &Connection, key: &ConversationKey) -> Result<&mut CachedConversation> {
        if !self.entries.contains_key(key) {
            let mut loaded = load_or_create(conn, key)?;
            loaded.begin_batch();
            self.entries.insert(key.clone(), loaded);
        }
        Ok(self.entries.get_mut(key).expect("inserted above"))
    }

    /// Write every conversation changed in this batch; returns their keys (sorted).
    pub fn flush(&mut self, conn: &Connection) -> Result<Vec<ConversationKey>> {
        let mut touched = Vec::new();
        for (key, conv) in self.entries.iter_mut() {
            if conv.dirty {
                conv.unread = if conv.state.unread_threshold() == conv.threshold_at_start {
                    conv.unread + conv.unread_added
                } else {
                    count_unread(conn, conv.id, &conv.state)?
                };
                save(conn, conv)?;
                touched.push(key.clone());
            }
            conv.begin_batch();
        }
        touched.sort();
        Ok(touched)
    }
}

pub(crate) fn load_or_create(conn: &Connection, key: &ConversationKey) -> Result<CachedConversation> {
    let mut select =
        conn.prepare_cached("SELECT id, state, unread FROM conversations WHERE phone_number_id = ?1 AND contact = ?2")?;
    let found: Option<(i64, String, i64)> = select
        .query_row(params![key.phone_number_id, key.contact.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (id, state, unread) = match found {
        Some((id, json, unread)) => (id, decode("conversation state", &json)?, unread),
        None => {
            let mut insert = conn.prepare_cached("INSERT INTO conversations (phone_number_id, contact) VALUES (?1, ?2)")?;
            insert.execute(params![key.phone_number_id, key.contact.as_str()])?;
            (conn.last_insert_rowid(), ConversationState::new(), 0)
        }
    };
    let mut conv = CachedConversation {
        id,
        state,
        unread,
        dirty: false,
        new_preview: None,
        reopen: false,
        threshold_at_start: None,
        unread_added: 0,
    };
    conv.begin_batch();
    Ok(conv)
}

/// Persist the state and everything derived from it (`unread` must be current).
pub(crate) fn save(conn: &Connection, conv: &CachedConversation) -> Result<()> {
    let state = &conv.state;
    let state_json = serde_json::to_string(state).expect("ConversationState serializes");
    let (owner, owner_agent) = owner_columns(&state.owner());
    let (open_until, closed_by_meta) = window_columns(state);
    let last_activity = state.last_message.as_ref().map(|m| m.timestamp);
    let (preview_wamid, preview) = match &conv.new_preview {
        Some((wamid, text)) => (Some(wamid.as_str()), Some(text.as_str())),
        None => (None, None),
    };
    let mut update = conn.prepare_cached(super::statements::SAVE_CONVERSATION)?;
    update.execute(params![
        conv.id,
        state_json,
        owner,
        owner_agent,
        state.window_expires_at,
        open_until,
        closed_by_meta,
        conv.unread,
        last_activity,
        preview_wamid,
        preview,
        conv.reopen,
        state.waiting_since()
    ])?;
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

/// Inbound customer messages newer than the rules' unread threshold: this is
/// `coexist_core::rules::counts_as_unread` evaluated in SQL (side customer, not a Meta system
/// notice, ts > threshold),
/// used when the threshold moved (a reply, a read mark) so earlier messages changed status.
/// The threshold is then recent, so the `messages_timeline` range scanned is short.
pub(crate) fn count_unread(conn: &Connection, conversation_id: i64, state: &ConversationState) -> Result<i64> {
    let threshold = state.unread_threshold().unwrap_or(i64::MIN);
    let mut count = conn.prepare_cached(
        "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND side = 'customer' AND kind <> 'system' AND ts > ?2",
    )?;
    Ok(count.query_row(params![conversation_id, threshold], |r| r.get(0))?)
}
