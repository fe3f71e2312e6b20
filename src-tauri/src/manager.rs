//! The managers' view, as methods on [`Backend`]: metrics over a date range, search (messages and
//! the team's notes) with every filter, opening a hit in context, history import progress, and
//! exports to CSV/JSON (written by coexist-engine's exporter: header row, RFC 4180 quoting,
//! formula guard).

use std::path::{Path, PathBuf};

use coexist_core::{ContactKey, ConversationKey};
use coexist_engine::export::{self, ExportFormat, ExportRow};
use coexist_store::{HistoryProgress, Metrics, MetricsQuery, NoteHit, SearchHit, SearchQuery};
use serde::{Deserialize, Serialize};

use crate::actions::{err, now, ActionResult, MessagePage};
use crate::backend::Backend;

/// Exports go to `<data dir>/exports/`.
pub const EXPORT_DIR: &str = "exports";
/// Search hits listed (and exported) at once.
pub const SEARCH_LIMIT: u32 = 200;
/// Messages shown before a search hit when it opens in context.
pub const CONTEXT_BEFORE: u32 = 20;
/// A hit with more newer messages than this cannot open in context (the thread would be huge).
pub const MAX_CONTEXT_PAGE: i64 = 5000;

/// The search form: every field optional except the words. Empty strings mean "any".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    pub text: String,
    pub phone_number_id: Option<String>,
    /// A phone number as typed (`+1 555 123-0001`) or a contact key (`user:...`).
    pub contact: Option<String>,
    pub agent: Option<String>,
    /// `customer`, `api`, `app` or `history`.
    pub side: Option<String>,
    pub from_ts: Option<i64>,
    pub to_ts: Option<i64>,
    /// Only in conversations carrying this label.
    pub label: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A typed phone number to the contact key the inbox uses (digits only); `user:` keys as-is.
pub fn contact_key(typed: &str) -> ActionResult<ContactKey> {
    let typed = typed.trim();
    if typed.starts_with("user:") {
        return Ok(ContactKey(typed.to_string()));
    }
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    let only_phone_chars = typed.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if digits.is_empty() || !only_phone_chars {
        return Err(format!("{typed:?} is not a phone number; type digits like +15551230001"));
    }
    Ok(ContactKey::from_wa_id(&digits))
}

/// The form to a store query, refusing what cannot mean anything (unknown side, reversed dates).
pub fn search_query(form: &SearchForm) -> ActionResult<SearchQuery> {
    let side = match nonempty(&form.side).as_deref() {
        None | Some("any") => None,
        Some(name) => Some(serde_json::from_value(serde_json::Value::String(name.to_string())).map_err(|_| {
            format!("unknown side {name:?}; use customer, api, app or history")
        })?),
    };
    if let (Some(from), Some(to)) = (form.from_ts, form.to_ts) {
        if to < from {
            return Err("the search dates end before they start; pick them again".into());
        }
    }
    Ok(SearchQuery {
        text: form.text.clone(),
        phone_number_id: nonempty(&form.phone_number_id),
        contact: nonempty(&form.contact).map(|c| contact_key(&c)).transpose()?,
        agent: nonempty(&form.agent),
        side,
        from_ts: form.from_ts,
        to_ts: form.to_ts,
        label: nonempty(&form.label),
        limit: SEARCH_LIMIT,
    })
}

/// A conversation page that contains a given message, plus which one to scroll to.
#[derive(Debug, Serialize)]
pub struct MessageContext {
    pub conversation: ConversationKey,
    pub wamid: String,
    pub page: MessagePage,
}

/// A conversation page that contains a given team note, plus which one to scroll to.
#[derive(Debug, Serialize)]
pub struct NoteContext {
    pub conversation: ConversationKey,
    pub seq: i64,
    pub page: MessagePage,
}

/// Where an export was written and what it holds.
#[derive(Debug, Serialize)]
pub struct ExportResult {
    pub path: PathBuf,
    pub rows: usize,
    pub format: ExportFormat,
}

impl Backend {
    /// The managers' metrics (see coexist_store::metrics for the definitions).
    pub fn metrics(&self, query: &MetricsQuery) -> ActionResult<Metrics> {
        self.reader().metrics(query, now()).map_err(err)
    }

    /// Search with every filter; an empty text finds nothing (use the filters with words).
    pub fn search_messages(&self, form: &SearchForm) -> ActionResult<Vec<SearchHit>> {
        let query = search_query(form)?;
        if query.text.trim().is_empty() {
            return Ok(Vec::new());
        }
        self.reader().search(&query).map_err(err)
    }

    /// The team's notes that match, with the same filters (the agent is the note's author; a
    /// side finds none); an empty text finds nothing.
    pub fn search_notes(&self, form: &SearchForm) -> ActionResult<Vec<NoteHit>> {
        let query = search_query(form)?;
        if query.text.trim().is_empty() {
            return Ok(Vec::new());
        }
        self.reader().search_notes(&query).map_err(err)
    }

    /// The newest messages of the hit's conversation down to [`CONTEXT_BEFORE`] messages before
    /// the hit, so the thread can open scrolled to it (older pages still load on scroll).
    pub fn message_context(&self, wamid: &str) -> ActionResult<MessageContext> {
        let position = self
            .reader()
            .message_position(wamid)
            .map_err(err)?
            .ok_or_else(|| "this message is no longer in the local inbox; search again".to_string())?;
        let page = self.context_page(&position.conversation, position.newer, "message")?;
        Ok(MessageContext { conversation: position.conversation, wamid: wamid.to_string(), page })
    }

    /// As [`Backend::message_context`], for a team note.
    pub fn note_context(&self, seq: i64) -> ActionResult<NoteContext> {
        let position = self
            .reader()
            .note_position(seq)
            .map_err(err)?
            .ok_or_else(|| "this note is not in the local inbox; search again".to_string())?;
        let page = self.context_page(&position.conversation, position.newer, "note")?;
        Ok(NoteContext { conversation: position.conversation, seq, page })
    }

    /// The page that holds a hit with `newer` timeline messages after it, and [`CONTEXT_BEFORE`]
    /// before it.
    fn context_page(&self, key: &ConversationKey, newer: i64, what: &str) -> ActionResult<MessagePage> {
        if newer >= MAX_CONTEXT_PAGE {
            return Err(format!(
                "this {what} is more than {MAX_CONTEXT_PAGE} messages back; export the conversation to read it in context"
            ));
        }
        self.messages_unbounded(key, (newer + 1 + i64::from(CONTEXT_BEFORE)) as u32)
    }

    /// [`Backend::messages`] without its page cap (the context page is bounded above).
    fn messages_unbounded(&self, key: &ConversationKey, limit: u32) -> ActionResult<MessagePage> {
        let mut messages = self.reader().messages(key, None, limit + 1).map_err(err)?;
        let has_more = messages.len() > limit as usize;
        if has_more {
            messages.remove(0);
        }
        let mut newest = self.messages(key, None, Some(1))?;
        newest.notes = crate::actions::page_notes(&self.reader(), key, &messages, has_more, None)?;
        newest.messages = messages;
        newest.has_more = has_more;
        Ok(newest)
    }

    /// Where each number's onboarding history import stands (empty when none ran).
    pub fn history_progress(&self) -> ActionResult<Vec<HistoryProgress>> {
        self.reader().history_progress().map_err(err)
    }

    /// Every message of a conversation, oldest first, written to `<data dir>/exports/`.
    pub async fn export_conversation(&self, key: &ConversationKey, format: ExportFormat) -> ActionResult<ExportResult> {
        let rows = export::conversation_rows(&self.reader(), key).map_err(err)?;
        if rows.is_empty() {
            return Err(format!("there is no conversation with {} to export", key.contact.as_str()));
        }
        let dir = self.info().await.data_dir.join(EXPORT_DIR);
        write_export(&dir, &format!("conversation-{}", key.contact.as_str()), &rows, format)
    }

    /// The hits of a search (same filters as the list; messages and notes), written to
    /// `<data dir>/exports/`.
    pub async fn export_search(&self, form: &SearchForm, format: ExportFormat) -> ActionResult<ExportResult> {
        let rows = export::search_rows(&self.search_messages(form)?, &self.search_notes(form)?);
        if rows.is_empty() {
            return Err("no messages or notes match this search, so there is nothing to export".into());
        }
        let dir = self.info().await.data_dir.join(EXPORT_DIR);
        write_export(&dir, "search", &rows, format)
    }
}

/// Write `rows` to a new file in `dir` named from `stem` (made filename-safe) and the time;
/// never overwrites an earlier export.
pub fn write_export(dir: &Path, stem: &str, rows: &[ExportRow], format: ExportFormat) -> ActionResult<ExportResult> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the export folder {}: {e}", dir.display()))?;
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
    };
    let safe: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(64)
        .collect();
    let stamp = export::rfc3339(now()).replace([':', '-'], "");
    for n in 0..1000 {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let path = dir.join(format!("{safe}-{stamp}{suffix}.{ext}"));
        let file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        };
        let mut out = std::io::BufWriter::new(file);
        export::write_rows(rows, format, &mut out)
            .and_then(|()| std::io::Write::flush(&mut out).map_err(Into::into))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        return Ok(ExportResult { path, rows: rows.len(), format });
    }
    Err(format!("too many exports named {safe} in {}; move some away", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use coexist_core::Side;

    #[test]
    fn typed_contacts_become_keys() {
        assert_eq!(contact_key(" +1 (555) 123-0001 ").unwrap(), ContactKey::from_wa_id("15551230001"));
        assert_eq!(contact_key("user:abc").unwrap(), ContactKey("user:abc".into()));
        assert!(contact_key("ana").unwrap_err().contains("not a phone number"));
        assert!(contact_key("").is_err());
    }

    #[test]
    fn the_form_maps_to_every_store_filter() {
        let form = SearchForm {
            text: "refund".into(),
            phone_number_id: Some("100".into()),
            contact: Some("+15551230001".into()),
            agent: Some(" ana ".into()),
            side: Some("app".into()),
            from_ts: Some(10),
            to_ts: Some(20),
            label: Some(" VIP ".into()),
        };
        let q = search_query(&form).unwrap();
        assert_eq!(q.label.as_deref(), Some("VIP"));
        assert_eq!(q.phone_number_id.as_deref(), Some("100"));
        assert_eq!(q.contact, Some(ContactKey::from_wa_id("15551230001")));
        assert_eq!(q.agent.as_deref(), Some("ana"));
        assert_eq!(q.side, Some(Side::App));
        assert_eq!((q.from_ts, q.to_ts), (Some(10), Some(20)));
        let empty = search_query(&SearchForm { side: Some("any".into()), agent: Some(" ".into()), ..Default::default() }).unwrap();
        assert_eq!((empty.side, empty.agent), (None, None));
        assert!(search_query(&SearchForm { side: Some("robot".into()), ..Default::default() }).unwrap_err().contains("unknown side"));
        assert!(search_query(&SearchForm { from_ts: Some(5), to_ts: Some(1), ..Default::default() }).is_err());
    }

    #[test]
    fn exports_never_overwrite_and_names_are_safe() {
        let dir = tempfile::tempdir().unwrap();
        let row = ExportRow {
            phone_number_id: "1".into(),
            contact: "2".into(),
            contact_name: Some("=HYPERLINK(\"x\")".into()),
            wamid: "w".into(),
            timestamp: 0,
            time: export::rfc3339(0),
            side: "customer".into(),
            agent: None,
            status: None,
            text: "a, \"b\"\nc".into(),
        };
        let a = write_export(dir.path(), "../../etc/passwd", std::slice::from_ref(&row), ExportFormat::Csv).unwrap();
        let b = write_export(dir.path(), "../../etc/passwd", std::slice::from_ref(&row), ExportFormat::Csv).unwrap();
        assert_ne!(a.path, b.path);
        assert_eq!(a.path.parent().unwrap(), dir.path());
        assert!(a.path.file_name().unwrap().to_str().unwrap().starts_with("______etc_passwd-"));
        let csv = std::fs::read_to_string(&a.path).unwrap();
        assert!(csv.starts_with("phone_number_id,contact,contact_name,wamid,timestamp,time,side,agent,status,text\n"));
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""));
        assert!(csv.contains("\"a, \"\"b\"\"\nc\""));
    }
}
