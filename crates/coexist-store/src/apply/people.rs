//! The names the search box finds people by (`people_fts`, see `Store::find_people`), kept
//! current once per batch: the conversations created in it, and those whose contact's name it
//! wrote. Two or three statements a batch, like the messages' search index, instead of an FTS5
//! write per conversation.

use coexist_core::ConversationKey;
use rusqlite::{params, OptionalExtension};

use super::Batch;
use crate::error::Result;

impl Batch<'_> {
    /// A name was written for this contact in this batch.
    pub(super) fn contact_named(&mut self, key: ConversationKey) {
        self.named.push(key);
    }

    /// Index the names of the conversations created in this batch (ids past `people_upto`) and
    /// re-index the older ones whose contact was named in it. Once, at the batch's end.
    pub(super) fn index_people(&mut self) -> Result<()> {
        let renamed = self.renamed_conversations()?;
        let renamed_json = serde_json::to_string(&renamed).expect("ids serialize");
        if !renamed.is_empty() {
            self.conn
                .prepare_cached("DELETE FROM people_fts WHERE rowid IN (SELECT value FROM json_each(?1))")?
                .execute([&renamed_json])?;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO people_fts (rowid, name)
                 SELECT c.id, ct.name FROM conversations c
                 JOIN contacts ct ON ct.phone_number_id = c.phone_number_id AND ct.contact = c.contact
                 WHERE c.id > ?1 AND ct.name IS NOT NULL
                 UNION ALL
                 SELECT c.id, ct.name FROM json_each(?2) j
                 JOIN conversations c ON c.id = j.value
                 JOIN contacts ct ON ct.phone_number_id = c.phone_number_id AND ct.contact = c.contact
                 WHERE ct.name IS NOT NULL",
            )?
            .execute(params![self.people_upto, renamed_json])?;
        Ok(())
    }

    /// Ids of the conversations named in this batch that existed before it (the others are new,
    /// indexed whole), once each.
    fn renamed_conversations(&mut self) -> Result<Vec<i64>> {
        let mut lookup = self.conn.prepare_cached("SELECT id FROM conversations WHERE phone_number_id = ?1 AND contact = ?2 AND id <= ?3")?;
        let mut ids = Vec::new();
        for key in std::mem::take(&mut self.named) {
            let id: Option<i64> = lookup
                .query_row(params![key.phone_number_id, key.contact.as_str(), self.people_upto], |r| r.get(0))
                .optional()?;
            ids.extend(id);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

pub(super) fn max_conversation_id(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(conn.prepare_cached("SELECT coalesce(max(id), 0) FROM conversations")?.query_row([], |r| r.get(0))?)
}
