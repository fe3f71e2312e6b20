//! The database schema, as versioned migrations (rusqlite_migration keeps the version in
//! `user_version`). Never edit a released migration: append a new one.

use rusqlite_migration::{Migrations, M};

/// Version 1: the relay log, the projections, search, outbox and notification ledger.
const V1: &str = r#"
-- Every relay entry exactly as received, append-only. `parse_error` marks a problem entry
-- (kept and listed, never dropped). The primary key makes re-applying a seq a no-op.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    payload        TEXT NOT NULL,
    parse_error    TEXT
);
CREATE INDEX events_problems ON events(seq) WHERE parse_error IS NOT NULL;

-- The relay cursor: the highest seq applied.
CREATE TABLE sync_state (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL
);
INSERT INTO sync_state (id, cursor) VALUES (1, 0);

-- One row per (business number, contact). `state` is coexist_core::rules::ConversationState
-- as JSON; the other columns are derived from it so the list can filter and sort in SQL.
CREATE TABLE conversations (
    id                    INTEGER PRIMARY KEY,
    phone_number_id       TEXT NOT NULL,
    contact               TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '{}',
    owner                 TEXT NOT NULL DEFAULT 'unowned',
    owner_agent           TEXT,
    window_expires_at     INTEGER,
    window_open_until     INTEGER,
    window_closed_by_meta INTEGER NOT NULL DEFAULT 0,
    unread                INTEGER NOT NULL DEFAULT 0,
    last_activity         INTEGER,
    preview               TEXT,
    preview_wamid         TEXT,
    UNIQUE (phone_number_id, contact)
);
CREATE INDEX conversations_by_activity ON conversations(last_activity DESC, id DESC);

-- Every message once (wamid unique). `id` is the arrival order.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    wamid           TEXT NOT NULL UNIQUE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    side            TEXT NOT NULL,
    from_business   INTEGER NOT NULL,
    ts              INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    raw             TEXT NOT NULL,
    text            TEXT,
    reply_to        TEXT,
    referral        TEXT,
    agent           TEXT,
    idempotency_key TEXT,
    relay_seq       INTEGER,
    edited_at       INTEGER,
    revoked_at      INTEGER
);
CREATE INDEX messages_timeline ON messages(conversation_id, ts, id);
CREATE INDEX messages_by_idempotency ON messages(idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Full-text search over message text (external content: the text lives once, in messages).
-- New rows are indexed in bulk at the end of each apply (one FTS5 flush per batch instead of
-- one per message; see apply::Batch::sync_search_index). Updates and deletes use triggers:
-- the apply code indexes pending rows before it edits or revokes anything.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.text IS NOT NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- Edits and revokes that arrived before their message; applied when it arrives.
CREATE TABLE pending_patches (
    id    INTEGER PRIMARY KEY,
    wamid TEXT NOT NULL,
    kind  TEXT NOT NULL,
    ts    INTEGER NOT NULL,
    body  TEXT
);
CREATE INDEX pending_patches_by_wamid ON pending_patches(wamid);

-- The delivery status per wamid (coexist_core::rules::MessageStatus as JSON plus columns).
-- Independent of messages: a status arriving before its message is kept.
CREATE TABLE statuses (
    wamid           TEXT PRIMARY KEY,
    phone_number_id TEXT NOT NULL,
    contact         TEXT NOT NULL,
    status          TEXT NOT NULL,
    state           TEXT NOT NULL,
    error_code      INTEGER,
    error_title     TEXT,
    error_message   TEXT,
    error_details   TEXT,
    callback_data   TEXT,
    conversation_info TEXT,
    pricing         TEXT,
    updated_ts      INTEGER NOT NULL
);
CREATE INDEX statuses_by_callback ON statuses(callback_data) WHERE callback_data IS NOT NULL;

-- The current reaction of each side on a message. An empty emoji is a removal (kept so an
-- older reaction arriving late cannot resurrect).
CREATE TABLE reactions (
    target_wamid TEXT NOT NULL,
    reactor      TEXT NOT NULL,
    emoji        TEXT NOT NULL,
    ts           INTEGER NOT NULL,
    wamid        TEXT NOT NULL,
    PRIMARY KEY (target_wamid, reactor)
);

CREATE TABLE contacts (
    phone_number_id TEXT NOT NULL,
    contact         TEXT NOT NULL,
    name            TEXT,
    wa_id           TEXT,
    user_id         TEXT,
    PRIMARY KEY (phone_number_id, contact)
);

CREATE TABLE numbers (
    phone_number_id TEXT PRIMARY KEY,
    waba_id         TEXT NOT NULL,
    display_number  TEXT NOT NULL,
    mode            TEXT NOT NULL,
    tier_mps        INTEGER NOT NULL
);

-- Which WABA a number belongs to (from number settings and template catalogs).
CREATE TABLE number_wabas (
    phone_number_id TEXT PRIMARY KEY,
    waba_id         TEXT NOT NULL
);

CREATE TABLE templates (
    waba_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    language    TEXT NOT NULL,
    template_id TEXT,
    status      TEXT NOT NULL,
    category    TEXT,
    components  TEXT NOT NULL,
    reason      TEXT,
    PRIMARY KEY (waba_id, name, language)
);

CREATE TABLE account_updates (
    id              INTEGER PRIMARY KEY,
    waba_id         TEXT NOT NULL,
    phone_number_id TEXT,
    event           TEXT NOT NULL,
    raw             TEXT NOT NULL
);
CREATE INDEX account_updates_by_number ON account_updates(phone_number_id, waba_id);

-- The latest Business App echo per number: shows whether the phone is still in use.
CREATE TABLE app_activity (
    phone_number_id TEXT PRIMARY KEY,
    last_echo_ts    INTEGER NOT NULL,
    last_echo_wamid TEXT NOT NULL
);

-- Failed statuses with 131042 (payment problem), per wamid.
CREATE TABLE payment_failures (
    wamid           TEXT PRIMARY KEY,
    phone_number_id TEXT NOT NULL,
    contact         TEXT NOT NULL,
    ts              INTEGER NOT NULL,
    details         TEXT
);
CREATE INDEX payment_failures_by_number ON payment_failures(phone_number_id, ts);

CREATE TABLE history_progress (
    phone_number_id TEXT PRIMARY KEY,
    phase           INTEGER,
    chunk_order     INTEGER,
    progress        INTEGER,
    error_code      INTEGER,
    error_message   TEXT,
    error_details   TEXT,
    updates         INTEGER NOT NULL DEFAULT 0,
    imported        INTEGER NOT NULL DEFAULT 0
);

-- Messages waiting to go out. Crash-safe: `sending` rows left by a crash are retried with the
-- same idempotency key (the bridge deduplicates by it).
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    phone_number_id  TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    contact          TEXT NOT NULL,
    message          TEXT NOT NULL,
    campaign         TEXT,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    wamid            TEXT,
    error_code       INTEGER,
    error_message    TEXT,
    next_attempt_at_ms INTEGER,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL
);
CREATE INDEX outbox_by_state ON outbox(state, id);
CREATE INDEX outbox_by_conversation ON outbox(phone_number_id, contact, id);
CREATE INDEX outbox_by_wamid ON outbox(wamid) WHERE wamid IS NOT NULL;

-- One row per notification shown: never two for the same thing.
CREATE TABLE notifications (
    kind          TEXT NOT NULL,
    key           TEXT NOT NULL,
    claimed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);
"#;

/// Version 2: the index's vocabulary, so word prefixes can be expanded into whole words
/// (see search.rs).
const V2: &str = "CREATE VIRTUAL TABLE messages_vocab USING fts5vocab(messages_fts, 'row');";

/// Version 4: messages and statuses are found by a compact key instead of a unique index on the
/// wamid (see wamid_key.rs). SQLite cannot drop a UNIQUE or a primary key, so both tables are
/// rebuilt (message ids kept: the search index refers to them); `wamid_key()` is registered on
/// every connection.
const V4: &str = r#"
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
CREATE TABLE messages_v4 (
    id              INTEGER PRIMARY KEY,
    wamid           TEXT NOT NULL,
    wamid_key       INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    side            TEXT NOT NULL,
    from_business   INTEGER NOT NULL,
    ts              INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    raw             TEXT NOT NULL,
    text            TEXT,
    reply_to        TEXT,
    referral        TEXT,
    agent           TEXT,
    idempotency_key TEXT,
    relay_seq       INTEGER,
    edited_at       INTEGER,
    revoked_at      INTEGER
);
INSERT INTO messages_v4 (id, wamid, wamid_key, conversation_id, side, from_business, ts, kind, body, raw, text,
                         reply_to, referral, agent, idempotency_key, relay_seq, edited_at, revoked_at)
    SELECT id, wamid, wamid_key(wamid), conversation_id, side, from_business, ts, kind, body, raw, text,
           reply_to, referral, agent, idempotency_key, relay_seq, edited_at, revoked_at
    FROM messages ORDER BY id;
DROP TABLE messages;
ALTER TABLE messages_v4 RENAME TO messages;
CREATE INDEX messages_by_wamid ON messages(wamid_key);
CREATE INDEX messages_timeline ON messages(conversation_id, ts, id);
CREATE INDEX messages_by_idempotency ON messages(idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.text IS NOT NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TABLE statuses_v4 (
    id              INTEGER PRIMARY KEY,
    wamid           TEXT NOT NULL,
    wamid_key       INTEGER NOT NULL,
    phone_number_id TEXT NOT NULL,
    contact         TEXT NOT NULL,
    status          TEXT NOT NULL,
    state           TEXT NOT NULL,
    error_code      INTEGER,
    error_title     TEXT,
    error_message   TEXT,
    error_details   TEXT,
    callback_data   TEXT,
    conversation_info TEXT,
    pricing         TEXT,
    updated_ts      INTEGER NOT NULL
);
INSERT INTO statuses_v4 (wamid, wamid_key, phone_number_id, contact, status, state, error_code, error_title,
                         error_message, error_details, callback_data, conversation_info, pricing, updated_ts)
    SELECT wamid, wamid_key(wamid), phone_number_id, contact, status, state, error_code, error_title,
           error_message, error_details, callback_data, conversation_info, pricing, updated_ts
    FROM statuses;
DROP TABLE statuses;
ALTER TABLE statuses_v4 RENAME TO statuses;
CREATE INDEX statuses_by_wamid ON statuses(wamid_key);
CREATE INDEX statuses_by_callback ON statuses(callback_data) WHERE callback_data IS NOT NULL;
"#;

/// Version 5: the team's own layer (see coexist-core's `Assignment`, `DoneMark`, `TeamNote` and
/// `QuickReply`): who handles a conversation, whether it is done (`done_at_ms` set until the
/// customer writes again; until `done_until_ms` too when snoozed), notes, each from a relay entry (`seq` makes a note once), and the
/// team's quick replies. Also `marked_unread`: this desktop's agent asked to see a conversation
/// as unread again (local, like the read mark).
const V5: &str = r#"
ALTER TABLE conversations ADD COLUMN assignee TEXT;
ALTER TABLE conversations ADD COLUMN assigned_by TEXT;
ALTER TABLE conversations ADD COLUMN assigned_at_ms INTEGER;
ALTER TABLE conversations ADD COLUMN done_at_ms INTEGER;
ALTER TABLE conversations ADD COLUMN done_by TEXT;
ALTER TABLE conversations ADD COLUMN done_until_ms INTEGER;
ALTER TABLE conversations ADD COLUMN marked_unread INTEGER NOT NULL DEFAULT 0;
-- The minute clock looks for snoozes that ended: only snoozed rows, not every conversation.
CREATE INDEX conversations_snoozed ON conversations(done_until_ms) WHERE done_until_ms IS NOT NULL;
CREATE TABLE notes (
    seq             INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    author          TEXT NOT NULL,
    text            TEXT NOT NULL,
    at_ms           INTEGER NOT NULL
);
CREATE INDEX notes_by_conversation ON notes(conversation_id, at_ms);
CREATE TABLE quick_replies (
    shortcut      TEXT PRIMARY KEY,
    text          TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
"#;

/// Version 6: the team's notes in full-text search, tokenized as messages are (external content:
/// the text lives once, in `notes`; notes are only ever added, so one trigger keeps it current).
/// Notes written before this version are indexed by the migration.
const V6: &str = r#"
CREATE VIRTUAL TABLE notes_fts USING fts5(
    text, content = 'notes', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts (rowid, text) VALUES (new.seq, new.text);
END;
INSERT INTO notes_fts (notes_fts) VALUES ('rebuild');
"#;

/// Version 7: conversations found by their contact's name (the search box's "People"), tokenized
/// as messages are, keyed by the conversation's id. Kept current by the apply in bulk, once per
/// batch (`apply/people.rs`): triggers writing it per new conversation cost a sixth of the sync
/// rate (the backlog example, A/B). Names known before this version are indexed here.
const V7: &str = r#"
CREATE VIRTUAL TABLE people_fts USING fts5(name, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO people_fts (rowid, name)
    SELECT c.id, ct.name FROM conversations c
    JOIN contacts ct ON ct.phone_number_id = c.phone_number_id AND ct.contact = c.contact
    WHERE ct.name IS NOT NULL;
"#;

/// Version 8: the team's labels on conversations (relayed `label` entries); the inbox lists one
/// label's conversations through the second index.
const V8: &str = r#"
CREATE TABLE conversation_labels (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    label           TEXT NOT NULL,
    labeled_by      TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, label)
) WITHOUT ROWID;
CREATE INDEX conversation_labels_by_label ON conversation_labels(label, conversation_id);
"#;

/// Version 10: the conversations with something unread, counted for the window's title after
/// every list load: the count reads this partial index (0.1 ms) instead of every conversation
/// (~7 ms at 100,000).
const V10: &str = r#"
CREATE INDEX conversations_unread ON conversations(id) WHERE unread > 0 OR marked_unread;
"#;

/// Version 11: a customer the team blocked on a number (relayed `block` entries): who did it and
/// when; unblocking clears both.
const V11: &str = r#"
ALTER TABLE conversations ADD COLUMN blocked_by TEXT;
ALTER TABLE conversations ADD COLUMN blocked_at_ms INTEGER;
"#;

/// Version 12: since when the customer has waited for a reply (`ConversationState::waiting_since`,
/// kept beside the state like the window's columns), so the "Waiting" list reads the customers who
/// wrote last, longest waiting first, from the partial index. Filled in for the conversations
/// already stored by the same rule, in SQL: their latest message is newer, in Meta time (then
/// wamid, as `Mark` orders), than the latest business reply.
const V12: &str = r#"
ALTER TABLE conversations ADD COLUMN waiting_since INTEGER;
UPDATE conversations SET waiting_since = json_extract(state, '$.last_inbound.timestamp')
 WHERE json_extract(state, '$.last_inbound.timestamp') IS NOT NULL
   AND (json_extract(state, '$.last_reply.at.timestamp') IS NULL
        OR json_extract(state, '$.last_inbound.timestamp') > json_extract(state, '$.last_reply.at.timestamp')
        OR (json_extract(state, '$.last_inbound.timestamp') = json_extract(state, '$.last_reply.at.timestamp')
            AND json_extract(state, '$.last_inbound.wamid') > json_extract(state, '$.last_reply.at.wamid')));
CREATE INDEX conversations_waiting ON conversations(waiting_since, id) WHERE waiting_since IS NOT NULL;
"#;

/// Version 14: messages an earlier version could not read, found without a scan (see
/// apply/reread.rs); only they are in the index.
const V14: &str = "CREATE INDEX messages_unsupported ON messages(id) WHERE kind = 'unsupported';";

/// Bring the database to the latest version, saying so when that changed anything: rebuilding
/// a large table (version 4) takes seconds per million messages, once.
pub(crate) fn migrate(conn: &mut rusqlite::Connection) -> Result<(), rusqlite_migration::Error> {
    let migrations = migrations();
    let before = migrations.current_version(conn)?;
    let started = std::time::Instant::now();
    migrations.to_latest(conn)?;
    let after = migrations.current_version(conn)?;
    if before != after && before != rusqlite_migration::SchemaVersion::NoneSet {
        tracing::info!(from = %before, to = %after, secs = started.elapsed().as_secs_f64(), "inbox database upgraded");
    }
    Ok(())
}

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(V1), M::up(V2), M::up(crate::campaigns::MIGRATION), M::up(V4), M::up(V5), M::up(V6), M::up(V7), M::up(V8), M::up(crate::drafts::MIGRATION), M::up(V10), M::up(V11), M::up(V12), M::up(crate::mutes::MIGRATION), M::up(V14)])
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    fn connection() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::wamid_key::register(&conn).unwrap();
        conn
    }

    #[test]
    fn migrations_apply_to_an_empty_database() {
        super::migrations().to_latest(&mut connection()).expect("migrations apply to an empty database");
    }

    #[test]
    fn version_12_fills_in_waiting_since_by_the_rules_own_order() {
        use coexist_core::rules::{ConversationState, Mark, Owner, ReplyMark};
        let mut conn = connection();
        super::migrations().to_version(&mut conn, 11).unwrap();
        let state = |inbound: Option<(i64, &str)>, reply: Option<(i64, &str)>| ConversationState {
            last_inbound: inbound.map(|(ts, w)| Mark::new(ts, w)),
            last_reply: reply.map(|(ts, w)| ReplyMark { at: Mark::new(ts, w), owner: Owner::App }),
            ..Default::default()
        };
        let cases = [
            state(Some((100, "wamid.a")), None),
            state(Some((100, "wamid.a")), Some((150, "wamid.b"))),
            state(Some((200, "wamid.a")), Some((150, "wamid.b"))),
            state(Some((100, "wamid.b")), Some((100, "wamid.a"))),
            state(Some((100, "wamid.a")), Some((100, "wamid.b"))),
            state(None, Some((100, "wamid.b"))),
            ConversationState::default(),
        ];
        for (id, s) in cases.iter().enumerate() {
            conn.execute(
                "INSERT INTO conversations (id, phone_number_id, contact, state) VALUES (?1, 'pn', ?2, ?3)",
                rusqlite::params![id as i64, format!("1555{id}"), serde_json::to_string(s).unwrap()],
            )
            .unwrap();
        }
        super::migrations().to_latest(&mut conn).unwrap();
        for (id, s) in cases.iter().enumerate() {
            let filled: Option<i64> =
                conn.query_row("SELECT waiting_since FROM conversations WHERE id = ?1", [id as i64], |r| r.get(0)).unwrap();
            assert_eq!(filled, s.waiting_since(), "case {id}: {s:?}");
        }
    }

    #[test]
    fn version_6_indexes_the_notes_written_before_it_and_every_new_one() {
        let mut conn = connection();
        let v5 = super::Migrations::new(
            [super::V1, super::V2, crate::campaigns::MIGRATION, super::V4, super::V5].into_iter().map(super::M::up).collect(),
        );
        v5.to_latest(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO conversations (id, phone_number_id, contact) VALUES (1, 'pn', '1555');
             INSERT INTO notes (seq, conversation_id, author, text, at_ms) VALUES (4, 1, 'ana', 'Refund approved by Café ops', 1000);",
        )
        .unwrap();

        super::migrations().to_latest(&mut conn).unwrap();
        conn.execute("INSERT INTO notes (seq, conversation_id, author, text, at_ms) VALUES (8, 1, 'ben', 'refund sent', 2000)", []).unwrap();

        let hit = |word: &str| -> Vec<i64> {
            let mut stmt = conn.prepare("SELECT rowid FROM notes_fts WHERE notes_fts MATCH ?1 ORDER BY rowid").unwrap();
            stmt.query_map([word], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
        };
        assert_eq!((hit("refund"), hit("cafe"), hit("sent")), (vec![4, 8], vec![4], vec![8]));
    }

    #[test]
    fn version_7_finds_the_names_known_before_it() {
        let mut conn = connection();
        let v6 = super::Migrations::new(
            [super::V1, super::V2, crate::campaigns::MIGRATION, super::V4, super::V5, super::V6].into_iter().map(super::M::up).collect(),
        );
        v6.to_latest(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO conversations (id, phone_number_id, contact) VALUES (1, 'pn', '1555'), (2, 'pn', '1666');
             INSERT INTO contacts (phone_number_id, contact, name) VALUES ('pn', '1555', 'José Álvarez'), ('pn', '1666', NULL);",
        )
        .unwrap();

        super::migrations().to_latest(&mut conn).unwrap();

        let hit = |word: &str| -> Vec<i64> {
            let mut stmt = conn.prepare("SELECT rowid FROM people_fts WHERE people_fts MATCH ?1 ORDER BY rowid").unwrap();
            stmt.query_map([word], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
        };
        assert_eq!((hit("jose"), hit("alvarez")), (vec![1], vec![1]));
        let rows: i64 = conn.query_row("SELECT count(*) FROM people_fts", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1, "a nameless contact has nothing to find by name");
    }

    #[test]
    fn version_4_keeps_every_message_its_id_its_search_entry_and_its_status() {
        let mut conn = connection();
        let v3 = super::Migrations::new(vec![super::M::up(super::V1), super::M::up(super::V2), super::M::up(crate::campaigns::MIGRATION)]);
        v3.to_latest(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO conversations (id, phone_number_id, contact) VALUES (1, 'pn', '1555');
             INSERT INTO messages (id, wamid, conversation_id, side, from_business, ts, kind, body, raw, text)
                 VALUES (7, 'wamid.A', 1, 'customer', 0, 100, 'text', '{}', 'null', 'parcel arrived'),
                        (9, 'wamid.B', 1, 'api', 1, 101, 'text', '{}', 'null', 'glad to hear');
             INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages;
             INSERT INTO statuses (wamid, phone_number_id, contact, status, state, callback_data, updated_ts)
                 VALUES ('wamid.B', 'pn', '1555', 'read', '{}', 'key-9', 102);",
        )
        .unwrap();

        super::migrations().to_latest(&mut conn).unwrap();

        let by_key = |wamid: &str| -> Option<i64> {
            conn.query_row("SELECT id FROM messages WHERE wamid_key = wamid_key(?1) AND wamid = ?1", [wamid], |r| r.get(0)).ok()
        };
        assert_eq!((by_key("wamid.A"), by_key("wamid.B"), by_key("wamid.C")), (Some(7), Some(9), None));
        let status: (String, String) = conn
            .query_row("SELECT status, callback_data FROM statuses WHERE wamid_key = wamid_key('wamid.B') AND wamid = 'wamid.B'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(status, ("read".to_string(), "key-9".to_string()));
        let hit = |word: &str| -> Vec<i64> {
            let mut stmt = conn.prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1").unwrap();
            stmt.query_map([word], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
        };
        assert_eq!(hit("parcel"), vec![7]);
        // The triggers came back with the table: an edit moves the message in the index.
        conn.execute("UPDATE messages SET text = 'parcel lost' WHERE id = 9", []).unwrap();
        assert_eq!((hit("parcel"), hit("glad")), (vec![7, 9], vec![]));
        let plan: String = conn
            .query_row("EXPLAIN QUERY PLAN SELECT id FROM messages WHERE wamid_key = wamid_key('x') AND wamid = 'x'", [], |r| r.get(3))
            .unwrap();
        assert!(plan.contains("messages_by_wamid"), "{plan}");
    }

    #[test]
    fn the_unread_count_reads_its_partial_index() {
        let mut conn = connection();
        super::migrations().to_latest(&mut conn).unwrap();
        let plan: String = conn.query_row(&format!("EXPLAIN QUERY PLAN {}", crate::queries::UNREAD_COUNT), [], |r| r.get(3)).unwrap();
        assert!(plan.contains("conversations_unread"), "{plan}");
    }

    #[test]
    fn the_waiting_list_reads_its_partial_index_in_order() {
        let mut conn = connection();
        super::migrations().to_latest(&mut conn).unwrap();
        let plan = |waiting: bool| -> Vec<String> {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", crate::queries::list_sql(waiting))).unwrap();
            // The list's eleven parameters, as an unfiltered first page binds them.
            let unfiltered = rusqlite::params![None::<String>, None::<String>, false, None::<i64>, 0, false, 50, 0, false, None::<bool>, None::<String>];
            stmt.query_map(unfiltered, |r| r.get(3)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
        };
        let sorts = |plan: &[String]| plan.iter().filter(|step| step.contains("TEMP B-TREE")).count();
        let (waiting, by_activity) = (plan(true), plan(false));
        assert!(waiting[0].starts_with("SEARCH c USING INDEX conversations_waiting"), "{waiting:?}");
        // The one sort left is the labels' own (alphabetical, per row), as in the usual list.
        assert_eq!(sorts(&waiting), sorts(&by_activity), "read in order, not sorted: {waiting:?}");
    }

}
