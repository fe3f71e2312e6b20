//! What the commands do, as methods on [`Backend`]: testable against a real engine, store,
//! bridge and sandbox without a window (see tests/actions.rs). Errors are plain sentences for
//! the agent.

use coexist_core::{ConversationKey, Template};
use coexist_engine::TemplateParams;
use coexist_store::{
    ConversationFilter, ConversationSummary, Draft, LabelCount, MessageView, NoteView, NumberHealth, OutboxItem,
    OutboxState, QuickReplyView, SearchHit, SearchQuery,
};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;

pub type ActionResult<T> = Result<T, String>;

/// The "Closing" filter: windows that close within 3 hours.
pub const CLOSING_WITHIN_SECS: i64 = 3 * 3600;
/// Conversations listed at once (newest activity first).
pub const LIST_LIMIT: u32 = 500;
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;
const SEARCH_LIMIT: u32 = 50;
/// People shown above the message hits: enough to tell namesakes apart, few enough to scan.
const PEOPLE_SHOWN: u32 = 6;

/// Now, in Unix seconds (Meta's timestamps).
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An error as the plain sentence the UI shows.
pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The inbox filter buttons to a store filter (`label:NAME`: the conversations carrying that
/// label). Unknown names are an error, not "everything".
pub fn filter_for(name: &str, agent: &str) -> ActionResult<ConversationFilter> {
    let mut f = ConversationFilter {
        limit: LIST_LIMIT,
        ..Default::default()
    };
    if let Some(label) = name.strip_prefix("label:") {
        f.label = Some(label.to_string());
        return Ok(f);
    }
    match name {
        "" | "all" => {}
        "mine" => {
            f.only_mine = Some(agent.to_string());
            f.done = Some(false);
        }
        "app" => f.app_owned = true,
        "closing" => f.window_closing_within_secs = Some(CLOSING_WITHIN_SECS),
        "unread" => f.unread_only = true,
        "unassigned" => {
            f.unassigned = true;
            f.done = Some(false);
        }
        "done" => f.done = Some(true),
        "waiting" => {
            f.waiting = true;
            f.done = Some(false);
        }
        other => {
            return Err(format!(
                "unknown filter {other:?}; use all, mine, unassigned, waiting, done, app, closing or unread"
            ))
        }
    }
    Ok(f)
}

/// One page of a thread. The newest page also carries this conversation's outbox items Meta
/// has not accepted yet (queued, sending, refused), so the agent sees them at once.
#[derive(Debug, Serialize)]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    pub pending: Vec<OutboxItem>,
    /// The team's notes from the time this page covers (all the older ones on the last page).
    pub notes: Vec<NoteView>,
    pub has_more: bool,
}

/// The team's notes a page of `messages` shows: notes sit between the messages by time, so a
/// page's share runs from its oldest message (from the beginning on the last page) to where
/// the newer page (`before`) began.
pub(crate) fn page_notes(
    store: &coexist_store::Store,
    conversation: &ConversationKey,
    messages: &[MessageView],
    has_more: bool,
    before: Option<(i64, i64)>,
) -> ActionResult<Vec<NoteView>> {
    let from_ms = has_more.then(|| messages.first().map(|m| m.timestamp * 1000)).flatten();
    let until_ms = before.map(|(ts, _)| ts * 1000 - 1);
    store.notes(conversation, from_ms, until_ms).map_err(err)
}

/// What the template picker sends.
#[derive(Debug, Deserialize)]
pub struct TemplateSend {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub params: TemplateParams,
}

impl Backend {
    pub async fn list_conversations(&self, filter: &str) -> ActionResult<Vec<ConversationSummary>> {
        let agent = self.info().await.agent;
        let filter = filter_for(filter, &agent)?;
        let page = self.reader().conversations(&filter, now()).map_err(err);
        // The benchmark's cold-start mark: the webview has asked for, and now gets, its first page.
        static FIRST_PAGE: std::sync::Once = std::sync::Once::new();
        FIRST_PAGE.call_once(|| tracing::info!("inbox first page served"));
        page
    }

    pub fn open_conversation(
        &self,
        conversation: &ConversationKey,
    ) -> ActionResult<ConversationSummary> {
        self.reader()
            .conversation(conversation, now())
            .map_err(err)?
            .ok_or_else(|| {
                format!(
                    "there is no conversation with {} in this inbox",
                    conversation.contact.as_str()
                )
            })
    }

    /// The conversations whose customer is called or numbered like `text` (the search box's
    /// "People"; see [`coexist_store::Store::find_people`]), the latest few.
    pub fn find_people(&self, text: &str, phone_number_id: Option<&str>) -> ActionResult<Vec<ConversationSummary>> {
        self.reader().find_people(text.trim(), phone_number_id, PEOPLE_SHOWN, now()).map_err(err)
    }

    /// The conversation with the customer at `phone` (as typed: `+1 555 123-0001`) on business
    /// number `phone_number_id`: the inbox's one, or a new one nobody has written in yet (not
    /// stored: only a template can start it, and the send creates it). How an agent writes first.
    pub fn start_conversation(
        &self,
        phone_number_id: &str,
        phone: &str,
    ) -> ActionResult<ConversationSummary> {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if phone.trim().starts_with("user:") || !(8..=15).contains(&digits) {
            return Err(format!(
                "{:?} is not a full phone number: type it with its country code, like +15551230001",
                phone.trim()
            ));
        }
        let contact = crate::manager::contact_key(phone)?;
        let key = ConversationKey { phone_number_id: phone_number_id.to_string(), contact };
        let store = self.reader();
        match store.conversation(&key, now()).map_err(err)? {
            Some(summary) => Ok(summary),
            None => store.new_conversation(&key, now()).map_err(err)?.ok_or_else(|| {
                format!("{phone_number_id} is not one of this inbox's business numbers; pick one from the list")
            }),
        }
    }

    /// `before`: `(timestamp, arrival)` of the oldest message shown; `None` for the newest page.
    pub fn messages(
        &self,
        conversation: &ConversationKey,
        before: Option<(i64, i64)>,
        limit: Option<u32>,
    ) -> ActionResult<MessagePage> {
        let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let store = self.reader();
        // One more than asked tells whether an older page exists.
        let mut messages = store
            .messages(conversation, before, limit + 1)
            .map_err(err)?;
        let has_more = messages.len() > limit as usize;
        if has_more {
            messages.remove(0);
        }
        // Sends not yet back from the bridge as messages, whatever their state: one the bridge
        // accepted (`sent`) stays in the thread until its relay entry replaces it, never gone
        // for a moment in between.
        let pending = match before {
            Some(_) => Vec::new(),
            None => store.outbox_for_conversation(conversation).map_err(err)?,
        };
        let notes = page_notes(&store, conversation, &messages, has_more, before)?;
        Ok(MessagePage {
            messages,
            pending,
            notes,
            has_more,
        })
    }

    /// Who conversations can be assigned to.
    pub async fn team(&self) -> ActionResult<Vec<coexist_engine::TeamMember>> {
        self.engine.team().await.map_err(err)
    }

    /// Assign the conversation to a teammate, or back to the whole team (`None`).
    pub async fn assign(&self, conversation: &ConversationKey, assignee: Option<&str>) -> ActionResult<()> {
        self.engine.assign(conversation, assignee).await.map_err(err)
    }

    /// Mark the conversation done, or take it up again; snoozed until `until_ms` when given.
    pub async fn mark_done(&self, conversation: &ConversationKey, done: bool, until_ms: Option<i64>) -> ActionResult<()> {
        self.engine.mark_done(conversation, done, until_ms).await.map_err(err)
    }

    /// Put `label` on the conversation for the whole team, or take it off (`on: false`).
    pub async fn label(&self, conversation: &ConversationKey, label: &str, on: bool) -> ActionResult<()> {
        self.engine.label(conversation, label, on).await.map_err(err)
    }

    /// Block the customer on the conversation's number for the whole team (`false`: unblock).
    pub async fn set_blocked(&self, conversation: &ConversationKey, blocked: bool) -> ActionResult<()> {
        self.engine.set_blocked(conversation, blocked).await.map_err(err)
    }

    /// The labels the team uses, with how many conversations carry each.
    pub fn labels(&self) -> ActionResult<Vec<LabelCount>> {
        self.reader().labels().map_err(err)
    }

    /// The team's quick replies, as this inbox has them.
    pub fn quick_replies(&self) -> ActionResult<Vec<QuickReplyView>> {
        self.reader().quick_replies().map_err(err)
    }

    /// Save a quick reply for the team (`text: None` removes it).
    pub async fn save_quick_reply(&self, shortcut: &str, text: Option<&str>) -> ActionResult<()> {
        self.engine.save_quick_reply(shortcut, text).await.map_err(err)
    }

    /// Leave a note for the team (never sent to the customer).
    pub async fn add_note(&self, conversation: &ConversationKey, text: &str) -> ActionResult<()> {
        self.engine.add_note(conversation, text).await.map_err(err)
    }

    /// A text, quoting the conversation's message `reply_to` when given.
    pub fn send_text(
        &self,
        conversation: &ConversationKey,
        text: &str,
        reply_to: Option<&str>,
    ) -> ActionResult<OutboxItem> {
        self.engine.send_text(conversation, text, reply_to).map_err(err)
    }

    /// A text with choices (1 to 3 as buttons, up to 10 as a list), quoting `reply_to` when given.
    pub fn send_buttons(
        &self,
        conversation: &ConversationKey,
        text: &str,
        buttons: &[String],
        reply_to: Option<&str>,
    ) -> ActionResult<OutboxItem> {
        self.engine.send_buttons(conversation, text, buttons, reply_to).map_err(err)
    }

    /// React to message `message_id` of the conversation (`""` takes the reaction back).
    pub fn react(&self, conversation: &ConversationKey, message_id: &str, emoji: &str) -> ActionResult<OutboxItem> {
        self.engine.send_reaction(conversation, message_id, emoji).map_err(err)
    }

    pub fn send_template(
        &self,
        conversation: &ConversationKey,
        t: &TemplateSend,
    ) -> ActionResult<OutboxItem> {
        self.engine
            .send_template(conversation, &t.name, &t.language, &t.params)
            .map_err(err)
    }

    /// Retry a failed send. Refused before Meta accepted it: the same item goes again (same
    /// idempotency key, so it can never go out twice). Accepted and then failed at Meta: a text
    /// or a file is sent again as a new message (window rules apply); a template goes again
    /// from the picker.
    pub fn retry_send(&self, idempotency_key: &str) -> ActionResult<OutboxItem> {
        let item = self
            .store()
            .outbox_item(idempotency_key)
            .map_err(err)?
            .ok_or_else(|| {
                "this message was not sent from this desktop, so it cannot be retried here"
                    .to_string()
            })?;
        if item.state != OutboxState::Sent {
            return self.engine.retry(idempotency_key).map_err(err);
        }
        self.engine.send_again(&item.conversation, &item.message).map_err(err)
    }

    /// Approved templates of a number. When none are known yet, ask the bridge to fetch them
    /// from Meta and pull them in before answering.
    pub async fn templates(&self, phone_number_id: &str) -> ActionResult<Vec<Template>> {
        let known = self.reader().templates(phone_number_id).map_err(err)?;
        if !known.is_empty() {
            return Ok(known);
        }
        self.engine
            .client()
            .sync_templates(phone_number_id)
            .await
            .map_err(err)?;
        self.engine.sync_once().await.map_err(err)?;
        self.reader().templates(phone_number_id).map_err(err)
    }

    pub fn typing(&self, conversation: &ConversationKey) -> ActionResult<()> {
        self.engine.typing(conversation).map_err(err)
    }

    pub fn mark_read(&self, conversation: &ConversationKey) -> ActionResult<()> {
        self.engine.mark_read(conversation).map_err(err)
    }

    pub fn mark_unread(&self, conversation: &ConversationKey) -> ActionResult<()> {
        self.engine.mark_unread(conversation).map_err(err)
    }

    /// Mute the conversation's notifications on this desktop until `until_ms` (`None`: until unmuted).
    pub fn mute(&self, conversation: &ConversationKey, until_ms: Option<i64>) -> ActionResult<()> {
        self.engine.mute(conversation, until_ms).map_err(err)
    }

    pub fn unmute(&self, conversation: &ConversationKey) -> ActionResult<()> {
        self.engine.unmute(conversation).map_err(err)
    }

    /// How many conversations have something unread.
    pub fn unread_conversations(&self) -> ActionResult<u64> {
        self.reader().unread_conversations().map_err(err)
    }

    pub fn save_draft(&self, conversation: &ConversationKey, text: &str) -> ActionResult<()> {
        self.engine.save_draft(conversation, text).map_err(err)
    }

    /// This desktop's unsent replies, the latest edited first.
    pub fn drafts(&self) -> ActionResult<Vec<Draft>> {
        self.reader().drafts().map_err(err)
    }

    pub fn search(&self, query: &str) -> ActionResult<Vec<SearchHit>> {
        if query.trim().is_empty() {
            return Ok(Vec::new());
        }
        let q = SearchQuery {
            text: query.to_string(),
            limit: SEARCH_LIMIT,
            ..Default::default()
        };
        self.reader().search(&q).map_err(err)
    }

    pub fn number_health(&self) -> ActionResult<Vec<NumberHealth>> {
        let store = self.reader();
        let now = now();
        let numbers = store.numbers().map_err(err)?;
        numbers
            .iter()
            .map(|n| store.number_health(&n.phone_number_id, now).map_err(err))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_map_to_store_filters() {
        assert_eq!(
            filter_for("all", "ana").unwrap(),
            ConversationFilter {
                limit: LIST_LIMIT,
                ..Default::default()
            }
        );
        assert_eq!(
            filter_for("mine", "ana").unwrap().only_mine.as_deref(),
            Some("ana")
        );
        assert!(filter_for("app", "ana").unwrap().app_owned);
        assert_eq!(
            filter_for("closing", "ana")
                .unwrap()
                .window_closing_within_secs,
            Some(CLOSING_WITHIN_SECS)
        );
        assert!(filter_for("unread", "ana").unwrap().unread_only);
        let unassigned = filter_for("unassigned", "ana").unwrap();
        assert!(unassigned.unassigned && unassigned.done == Some(false));
        assert_eq!(filter_for("mine", "ana").unwrap().done, Some(false), "done is off the work queues");
        assert_eq!(filter_for("done", "ana").unwrap().done, Some(true));
        let waiting = filter_for("waiting", "ana").unwrap();
        assert!(waiting.waiting && waiting.done == Some(false), "waiting for the team, not done");
        assert_eq!(filter_for("label:VIP: gold", "ana").unwrap().label.as_deref(), Some("VIP: gold"));
        assert!(filter_for("everything", "ana")
            .unwrap_err()
            .contains("unknown filter"));
    }
}
