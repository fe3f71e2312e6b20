//! Full-text search. User input is never FTS5 or SQL syntax: every word becomes a quoted FTS5
//! string (inner quotes doubled) with a prefix star, and every filter is a bound parameter.

use coexist_core::{ContactKey, ConversationKey};
use rusqlite::params;

use crate::error::Result;
use crate::text::{MATCH_END, MATCH_START};
use crate::views::{parse_side, side_name, NoteHit, SearchHit, SearchQuery, SnippetPart};
use crate::Store;

const DEFAULT_LIMIT: u32 = 50;
/// Words beyond this many are ignored (a pasted essay must not build a huge query).
const MAX_TERMS: usize = 16;

/// How many whole words one typed prefix may stand for ("ord" → "order", "orders", ...).
const MAX_EXPANSIONS: usize = 64;

/// Quote a token as an FTS5 string: it can then only mean itself.
fn quoted(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// "Every word": `"a" "b"`, or with `prefixes` `"a"* "b"*`. Only quoted strings and stars.
pub(crate) fn words_query(tokens: &[String], prefixes: bool) -> String {
    let star = if prefixes { "*" } else { "" };
    tokens.iter().map(|t| format!("{}{star}", quoted(t))).collect::<Vec<_>>().join(" ")
}

/// "Every word, each as one of its expansions": `("a" OR "ab") "c"`. Only quoted strings,
/// OR and parentheses we put there: user text is never syntax.
pub(crate) fn expanded_query(expansions: &[Vec<String>]) -> String {
    expansions
        .iter()
        .map(|words| match words.as_slice() {
            [one] => quoted(one),
            many => format!("({})", many.iter().map(|w| quoted(w)).collect::<Vec<_>>().join(" OR ")),
        })
        .collect::<Vec<_>>()
        .join(" ")
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

/// Drive from one contact's messages (a selective filter) and probe the index per message
/// (cheap: the query holds whole words only); CROSS JOIN fixes that order.
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
       AND (?9 IS NULL OR EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.label = ?9))
       AND m.revoked_at IS NULL";

impl Store {
    /// Messages whose text contains every word of `query.text` (accents and case ignored),
    /// within the filters (a label: in the conversations carrying it), latest arrival first.
    ///
    /// Whole words first; only when they give fewer than `limit` hits are the words also taken
    /// as prefixes ("refund" finds "refunded"). The plans are chosen for speed at millions of
    /// messages: without a contact, FTS5 streams matches newest first and stops at `limit`
    /// (a prefix makes it gather every match first, hence whole words first). With a contact,
    /// each of that contact's messages is probed in the index; prefixes are then expanded into
    /// the whole words the index holds (up to 64 per word, alphabetically), because probing
    /// with a prefix would gather every match once per message.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        let tokens = self.tokenize(&query.text)?;
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let limit = if query.limit == 0 { DEFAULT_LIMIT } else { query.limit };
        let hits = self.run_search(&words_query(&tokens, false), query, limit)?;
        if hits.len() >= limit as usize {
            return Ok(hits);
        }
        let prefixed = if query.contact.is_some() {
            let mut expansions = Vec::with_capacity(tokens.len());
            for token in &tokens {
                expansions.push(self.expand(token)?);
            }
            if expansions.iter().any(Vec::is_empty) {
                return Ok(hits); // a word nobody wrote: the whole-word hits are all there is
            }
            expanded_query(&expansions)
        } else {
            words_query(&tokens, true)
        };
        self.run_search(&prefixed, query, limit)
    }

    /// The user's words exactly as the index tokenizes them (FTS5 itself does it, on a
    /// scratch table in this connection's temp schema), in order, without repeats.
    pub(crate) fn tokenize(&self, text: &str) -> Result<Vec<String>> {
        self.conn.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_input USING fts5(t, tokenize = 'unicode61 remove_diacritics 2');
             CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_input_terms USING fts5vocab(temp, search_input, 'instance');
             DELETE FROM temp.search_input;",
        )?;
        self.conn.prepare_cached("INSERT INTO temp.search_input (t) VALUES (?1)")?.execute([text])?;
        let mut select = self.conn.prepare_cached("SELECT term FROM temp.search_input_terms ORDER BY offset")?;
        let terms = select.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        let mut unique: Vec<String> = Vec::new();
        for term in terms {
            if !unique.contains(&term) && unique.len() < MAX_TERMS {
                unique.push(term);
            }
        }
        Ok(unique)
    }

    /// The indexed words starting with `prefix` (itself first when indexed).
    fn expand(&self, prefix: &str) -> Result<Vec<String>> {
        let mut select = self.conn.prepare_cached("SELECT term FROM messages_vocab WHERE term >= ?1 ORDER BY term LIMIT ?2")?;
        let rows = select.query_map(params![prefix, MAX_EXPANSIONS as i64 * 4], |r| r.get::<_, String>(0))?;
        let mut words = Vec::new();
        for term in rows {
            let term = term?;
            if !term.starts_with(prefix) || words.len() == MAX_EXPANSIONS {
                break;
            }
            words.push(term);
        }
        Ok(words)
    }

    /// The team's notes that contain every word of `query.text` (each also as a prefix: notes
    /// are few), within the filters, newest first. The agent filter is the note's author; a side
    /// filter finds no notes (a note is the team's, not the customer's or a sender's).
    pub fn search_notes(&self, query: &SearchQuery) -> Result<Vec<NoteHit>> {
        let tokens = self.tokenize(&query.text)?;
        if tokens.is_empty() || query.side.is_some() {
            return Ok(Vec::new());
        }
        let limit = if query.limit == 0 { DEFAULT_LIMIT } else { query.limit };
        let mut stmt = self.conn.prepare_cached(
            "SELECT n.seq, c.phone_number_id, c.contact, ct.name, n.author, n.at_ms,
                    snippet(notes_fts, 0, '\u{E000}', '\u{E001}', '…', 16)
             FROM notes_fts
             JOIN notes n ON n.seq = notes_fts.rowid
             JOIN conversations c ON c.id = n.conversation_id
             LEFT JOIN contacts ct ON ct.phone_number_id = c.phone_number_id AND ct.contact = c.contact
             WHERE notes_fts MATCH ?1
               AND (?2 IS NULL OR c.phone_number_id = ?2)
               AND (?3 IS NULL OR c.contact = ?3)
               AND (?4 IS NULL OR n.author = ?4)
               AND (?5 IS NULL OR n.at_ms >= ?5 * 1000)
               AND (?6 IS NULL OR n.at_ms < (?6 + 1) * 1000)
               AND (?8 IS NULL OR EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.label = ?8))
             ORDER BY notes_fts.rowid DESC LIMIT ?7",
        )?;
        let rows = stmt.query_map(
            params![
                words_query(&tokens, true),
                query.phone_number_id,
                query.contact.as_ref().map(ContactKey::as_str),
                query.agent,
                query.from_ts,
                query.to_ts,
                limit,
                query.label
            ],
            |r| {
                let snippet: String = r.get(6)?;
                Ok(NoteHit {
                    seq: r.get(0)?,
                    conversation: ConversationKey { phone_number_id: r.get(1)?, contact: ContactKey(r.get(2)?) },
                    contact_name: r.get(3)?,
                    author: r.get(4)?,
                    at_ms: r.get(5)?,
                    snippet: snippet_parts(&snippet),
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
                limit,
                query.label
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
        let tokens = vec!["say".to_string(), "a\"b".to_string()];
        assert_eq!(words_query(&tokens, false), "\"say\" \"a\"\"b\"");
        assert_eq!(words_query(&tokens, true), "\"say\"* \"a\"\"b\"*");
        let words = vec![vec!["say".to_string()], vec!["a\"b".to_string(), "near(".to_string()]];
        assert_eq!(expanded_query(&words), "\"say\" (\"a\"\"b\" OR \"near(\")");
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
