//! Exporting a conversation or search results to CSV or JSON.
//!
//! Customer text is data, never a formula: CSV cells that a spreadsheet would evaluate
//! (starting with `=`, `+`, `-`, `@`, tab or CR) get a leading `'`.

use std::io::Write;

use coexist_core::ConversationKey;
use coexist_store::{MessageView, NoteHit, NoteView, SearchHit, SnippetPart, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::notify::plain_preview;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Json,
}

/// One exported message, or one of the team's notes (`side` "note", the author as `agent`, no
/// wamid): a manager reading the export sees what the team knew.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    pub phone_number_id: String,
    pub contact: String,
    pub contact_name: Option<String>,
    pub wamid: String,
    /// Meta timestamp, Unix seconds.
    pub timestamp: i64,
    /// The same, as RFC 3339 UTC.
    pub time: String,
    pub side: String,
    pub agent: Option<String>,
    pub status: Option<String>,
    pub text: String,
}

/// Every message and team note of a conversation, oldest first.
pub fn conversation_rows(store: &Store, key: &ConversationKey) -> Result<Vec<ExportRow>, StoreError> {
    let name = store.conversation(key, 0)?.and_then(|c| c.contact_name);
    let mut all: Vec<MessageView> = Vec::new();
    let mut before = None;
    loop {
        let page = store.messages(key, before, 500)?;
        let Some(oldest) = page.iter().min_by_key(|m| (m.timestamp, m.arrival)) else { break };
        before = Some((oldest.timestamp, oldest.arrival));
        let n = page.len();
        all.extend(page);
        if n < 500 {
            break;
        }
    }
    all.sort_by_key(|m| (m.timestamp, m.arrival));
    all.dedup_by(|a, b| a.wamid == b.wamid);
    let mut rows: Vec<ExportRow> = all.iter().map(|m| row_of_message(key, name.clone(), m)).collect();
    rows.extend(store.notes(key, None, None)?.into_iter().map(|n| row_of_note(key, name.clone(), n)));
    // Stable: a note stays after the messages of its second.
    rows.sort_by_key(|r| r.timestamp);
    Ok(rows)
}

fn row_of_note(key: &ConversationKey, name: Option<String>, note: NoteView) -> ExportRow {
    let timestamp = note.at_ms / 1000;
    ExportRow {
        phone_number_id: key.phone_number_id.clone(),
        contact: key.contact.as_str().to_string(),
        contact_name: name,
        wamid: String::new(),
        timestamp,
        time: rfc3339(timestamp),
        side: "note".into(),
        agent: Some(note.author),
        status: None,
        text: note.text,
    }
}

fn row_of_message(key: &ConversationKey, name: Option<String>, m: &MessageView) -> ExportRow {
    ExportRow {
        phone_number_id: key.phone_number_id.clone(),
        contact: key.contact.as_str().to_string(),
        contact_name: name,
        wamid: m.wamid.clone(),
        timestamp: m.timestamp,
        time: rfc3339(m.timestamp),
        side: enum_name(&m.side),
        agent: m.agent.clone(),
        status: m.status.as_ref().map(enum_name),
        text: m.text.clone().unwrap_or_else(|| body_label(&m.body)),
    }
}

/// Search hits as rows, messages and the team's notes together, newest first (the text is the
/// matching snippet).
pub fn search_rows(hits: &[SearchHit], notes: &[NoteHit]) -> Vec<ExportRow> {
    let messages = hits.iter().map(|h| ExportRow {
        phone_number_id: h.conversation.phone_number_id.clone(),
        contact: h.conversation.contact.as_str().to_string(),
        contact_name: h.contact_name.clone(),
        wamid: h.wamid.clone(),
        timestamp: h.timestamp,
        time: rfc3339(h.timestamp),
        side: enum_name(&h.side),
        agent: h.agent.clone(),
        status: None,
        text: snippet_text(&h.snippet),
    });
    let notes = notes.iter().map(|n| {
        let view = NoteView { seq: n.seq, author: n.author.clone(), text: snippet_text(&n.snippet), at_ms: n.at_ms };
        row_of_note(&n.conversation, n.contact_name.clone(), view)
    });
    // Notes first and a stable sort: within a second, a note stays after its messages in the
    // thread's order (before them, newest first), and hits keep the search's order.
    let mut rows: Vec<ExportRow> = notes.chain(messages).collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.timestamp));
    rows
}

fn snippet_text(snippet: &[SnippetPart]) -> String {
    snippet.iter().map(|p| p.text.as_str()).collect()
}

pub fn write_rows(rows: &[ExportRow], format: ExportFormat, out: impl Write) -> anyhow::Result<()> {
    match format {
        ExportFormat::Json => serde_json::to_writer_pretty(out, rows)?,
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for r in rows {
                let mut r = r.clone();
                r.contact_name = r.contact_name.map(|n| defuse(&n));
                r.agent = r.agent.map(|a| defuse(&a));
                r.text = defuse(&r.text);
                w.serialize(r)?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

/// Keep a spreadsheet from evaluating a cell.
pub fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

fn enum_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn body_label(body: &coexist_core::MessageBody) -> String {
    let v = serde_json::to_value(body).unwrap_or_default();
    format!("[{}]", v.get("type").and_then(|t| t.as_str()).unwrap_or("message"))
}

/// Unix seconds as RFC 3339 UTC (`1970-01-01T00:00:00Z`).
pub fn rfc3339(ts: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ts.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A customer string made safe for a terminal line (no escapes, no newlines).
pub fn terminal_safe(s: &str, max: usize) -> String {
    plain_preview(s, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_csv_is_quoted() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("hello"), "hello");
        let row = ExportRow {
            phone_number_id: "1".into(),
            contact: "155".into(),
            contact_name: Some("@evil".into()),
            wamid: "w".into(),
            timestamp: 0,
            time: rfc3339(0),
            side: "customer".into(),
            agent: None,
            status: None,
            text: "a,\"b\"\nc".into(),
        };
        let mut out = Vec::new();
        write_rows(&[row], ExportFormat::Csv, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("phone_number_id,contact,contact_name,wamid,timestamp,time,side,agent,status,text\n"));
        assert!(text.contains("'@evil"));
        assert!(text.contains("\"a,\"\"b\"\"\nc\""), "{text}");
        assert!(text.contains("1970-01-01T00:00:00Z"));
    }

    #[test]
    fn the_team_notes_are_exported_among_the_messages_by_time() {
        use coexist_core::{ContactKey, RelayEvent, RelayKind};
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("inbox.db")).unwrap();
        let key = ConversationKey { phone_number_id: "1000".into(), contact: ContactKey::from_wa_id("15550001") };
        let inbound = |wamid: &str, ts: i64, text: &str| {
            let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "w", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1555", "phone_number_id": "1000"},
                "messages": [{"from": "15550001", "id": wamid, "timestamp": ts.to_string(), "type": "text", "text": {"body": text}}]}}]}]});
            RelayEvent::new(ts, RelayKind::Webhook, 0, &body)
        };
        let note = serde_json::json!({"phone_number_id": "1000", "contact": "15550001", "author": "ben", "text": "=1+1 call her", "at_ms": 150_500});
        store
            .apply_relay_batch(&[inbound("w1", 100, "first"), RelayEvent::new(101, RelayKind::Note, 0, &note), inbound("w2", 200, "second")])
            .unwrap();
        let rows = conversation_rows(&store, &key).unwrap();
        let seen: Vec<(&str, &str, Option<&str>)> = rows.iter().map(|r| (r.side.as_str(), r.text.as_str(), r.agent.as_deref())).collect();
        assert_eq!(seen, vec![("customer", "first", None), ("note", "=1+1 call her", Some("ben")), ("customer", "second", None)]);
        let mut out = Vec::new();
        write_rows(&rows, ExportFormat::Csv, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("'=1+1 call her"), "a note is defused like any text");
    }
}
