//! Full-text search. User input is never FTS5 or SQL syntax: every word becomes a quoted FTS5
//! string (inner quotes doubled) with a prefix star, and every filter is a bound parameter.

use coexist_core::{ContactKey, ConversationKey};
use rusqlite::params;

use crate::error::Result;
use crate::text::{MATCH_END, MATCH_START};
use crate::views::{parse_side, side_name, SearchHit, SearchQuery, SnippetPart};
use crate::Store;

const DEFAULT_LIMIT: u32 = 50;
/// Words beyond this many are ignored (a pasted essay must not build a huge query).
const MAX_TERMS: usize = 16;

/// Turn user text into an FTS5 query that can only mean "all these words": every word is a
/// quoted FTS5 string (inner quotes doubled), optionally a prefix (`"word"*`).
/// `None` when there is no word to look for.
pub(crate) fn fts_query(text: &str, prefixes: bool) -> Option<String> {
    let star = if prefixes { "*" } else { "" };
    let terms: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(MAX_TERMS)
        .map(|w| format!("\"{}\"{star}", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Split an FTS snippet with our private-use markers into plain parts.
fn snippet_parts(snippet: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut matched = false;
    for c in snippet.chars() {
        if c == MATCH_START || c == MATCH_END {
            if !current.is_empty() {
                parts.push(SnippetPart { text: std::mem::take(&mut current), matched });
            }
            matched = c == MATCH_START;
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        parts.push(SnippetPart { text: current, matched });
    }
    parts
}

/// The columns of a hit; the FROM/WHERE/ORDER parts differ by plan (see [`Store::search`]).
const HIT_COLUMNS: &str = "SELECT m.wamid, c.phone_number_id, c.contact, ct.name, m.side, m.agent, m.ts, snippet(messages_fts, 0, '\u{E000}', '\u{E001}', '…', 16)";

/// Drive from the index: matches stream newest first and the scan stops at the limit.
const FROM_INDEX: &str = "FROM messages_fts
     JOIN messages m ON m.id = messages_fts.rowid
     JOIN conversations c ON c.id = m.conversation_id";

/// Drive from one contact's messages (a selective filter) and probe the index per message;
/// CROSS JOIN fixes that order, which SQLite would otherwise not pick.
const FROM_CONTACT: &str = "FROM conversations c
     CROSS JOIN messages m ON m.conversation_id = c.id
     CROSS JOIN messages_fts ON messages_fts.rowid = m.id";

const FILTERS: &str = "LEFT JOIN contacts ct ON ct.phone_number_id = c.phone_number_id AND ct.contact = c.contact
     WHERE messages_fts MATCH ?1
       AND (?2 IS NULL OR c.phone_number_id = ?2)
       AND (?3 IS NULL OR c.contact = ?3)
       AND (?4 IS NULL OR m.agent = ?4)
       AND (?5 IS NULL OR m.side = ?5)
       AND (?6 IS NULL OR m.ts >= ?6)
       AND (?7 IS NULL OR m.ts <= ?7)
       AND m.revoked_at IS NULL";

impl Store {
    /// Messages whose text contains every word of `query.text` (accents and case ignored),
    /// within the filters, latest arrival first.
    ///
    /// Whole words are tried first; only when they give fewer than `limit` hits are the words
    /// also taken as prefixes ("refund" finds "refunded"). Prefix matching makes FTS5 gather
    /// every match before answering, so it is kept for when exact words are rare. Arrival
    /// order (not Meta time) lets the index stream hits and stop at the limit.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        let Some(exact) = fts_query(&query.text, false) else {
            return Ok(Vec::new());
        };
        let limit = if query.limit == 0 { DEFAULT_LIMIT } else { query.limit };
        let hits = self.run_search(&exact, query, limit)?;
        if hits.len() >= limit as usize {
            return Ok(hits);
        }
        let prefixed = fts_query(&query.text, true).expect("same words as the exact query");
        self.run_search(&prefixed, query, limit)
    }

    fn run_search(&self, fts: &str, query: &SearchQuery, limit: u32) -> Result<Vec<SearchHit>> {
        let (from, order) = match query.contact {
            Some(_) => (FROM_CONTACT, "m.id"),
            None => (FROM_INDEX, "messages_fts.rowid"),
        };
        let sql = format!("{HIT_COLUMNS} {from} {FILTERS} ORDER BY {order} DESC LIMIT ?8");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                fts,
                query.phone_number_id,
                query.contact.as_ref().map(ContactKey::as_str),
                query.agent,
                query.side.map(side_name),
                query.from_ts,
                query.to_ts,
                limit
            ],
            |r| {
                let side: String = r.get(4)?;
                let snippet: String = r.get(7)?;
                Ok(SearchHit {
                    wamid: r.get(0)?,
                    conversation: ConversationKey { phone_number_id: r.get(1)?, contact: ContactKey(r.get(2)?) },
                    contact_name: r.get(3)?,
                    side: parse_side(&side),
                    agent: r.get(5)?,
                    timestamp: r.get(6)?,
                    snippet: snippet_parts(&snippet),
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_quoted_with_inner_quotes_doubled() {
        assert_eq!(fts_query("say \"hi\" NEAR(x", true), Some("\"say\"* \"\"\"hi\"\"\"* \"NEAR(x\"*".to_string()));
        assert_eq!(fts_query("say NEAR(x", false), Some("\"say\" \"NEAR(x\"".to_string()));
        assert_eq!(fts_query("  * ' -- ", true), None);
        assert_eq!(fts_query("", false), None);
    }

    #[test]
    fn snippet_markers_become_parts() {
        let s = format!("a {MATCH_START}b{MATCH_END} c");
        assert_eq!(
            snippet_parts(&s),
            vec![
                SnippetPart { text: "a ".into(), matched: false },
                SnippetPart { text: "b".into(), matched: true },
                SnippetPart { text: " c".into(), matched: false },
            ]
        );
    }
}
