//! The app's Tauri commands: thin calls into the engine and the local inbox. Errors reach the UI
//! as plain sentences (they are shown to the agent as-is).
//!
//! (A module of its own: `#[tauri::command]` in the crate root clashes with `generate_handler!`, E0255.)

use coexist_core::{ConversationKey, Template};
use coexist_engine::{EngineError, TemplateParams};
use coexist_store::{ConversationFilter, ConversationSummary, MessageView, NumberHealth, OutboxItem, OutboxState, SearchHit, SearchQuery};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::backend::{AppInfo, Backend};

type CmdResult<T> = Result<T, String>;

/// The "Closing" filter: windows that close within 3 hours.
pub const CLOSING_WITHIN_SECS: i64 = 3 * 3600;
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;
const SEARCH_LIMIT: u32 = 50;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The inbox filter buttons to a store filter. Unknown names are an error, not "everything".
pub fn filter_for(name: &str, agent: &str) -> CmdResult<ConversationFilter> {
    let mut f = ConversationFilter::default();
    match name {
        "" | "all" => {}
        "mine" => f.only_mine = Some(agent.to_string()),
        "app" => f.app_owned = true,
        "closing" => f.window_closing_within_secs = Some(CLOSING_WITHIN_SECS),
        "unread" => f.unread_only = true,
        other => return Err(format!("unknown filter {other:?}; use all, mine, app, closing or unread")),
    }
    Ok(f)
}

#[tauri::command]
pub async fn app_info(backend: State<'_, Backend>) -> CmdResult<AppInfo> {
    Ok(backend.info().await)
}

#[tauri::command]
pub async fn list_conversations(backend: State<'_, Backend>, filter: String) -> CmdResult<Vec<ConversationSummary>> {
    let agent = backend.info().await.agent;
    let filter = filter_for(&filter, &agent)?;
    backend.store().conversations(&filter, now()).map_err(err)
}

#[tauri::command]
pub async fn open_conversation(backend: State<'_, Backend>, conversation: ConversationKey) -> CmdResult<ConversationSummary> {
    backend
        .store()
        .conversation(&conversation, now())
        .map_err(err)?
        .ok_or_else(|| format!("there is no conversation with {} in this inbox", conversation.contact.as_str()))
}

/// One page of a thread. The newest page also carries this conversation's outbox items Meta
/// has not accepted yet (queued, sending, refused), so the agent sees them at once.
#[derive(Debug, Serialize)]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    pub pending: Vec<OutboxItem>,
    pub has_more: bool,
}

#[tauri::command]
pub async fn messages(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
    before: Option<(i64, i64)>,
    limit: Option<u32>,
) -> CmdResult<MessagePage> {
    let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let store = backend.store();
    // One more than asked tells whether an older page exists.
    let mut messages = store.messages(&conversation, before, limit + 1).map_err(err)?;
    let has_more = messages.len() > limit as usize;
    if has_more {
        messages.remove(0);
    }
    let pending = if before.is_none() {
        store.outbox_for_conversation(&conversation).map_err(err)?.into_iter().filter(|i| i.state != OutboxState::Sent).collect()
    } else {
        Vec::new()
    };
    Ok(MessagePage { messages, pending, has_more })
}

#[tauri::command]
pub async fn send_text(backend: State<'_, Backend>, conversation: ConversationKey, text: String) -> CmdResult<OutboxItem> {
    backend.engine.send_text(&conversation, &text).map_err(err)
}

/// What the template picker sends.
#[derive(Debug, Deserialize)]
pub struct TemplateSend {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub params: TemplateParams,
}

#[tauri::command]
pub async fn send_template(backend: State<'_, Backend>, conversation: ConversationKey, template: TemplateSend) -> CmdResult<OutboxItem> {
    backend.engine.send_template(&conversation, &template.name, &template.language, &template.params).map_err(err)
}

/// Retry a failed send. Refused by the bridge: the same item goes again (same idempotency key).
/// Accepted but then failed at Meta: a text is sent again as a new message (the window rules
/// apply); anything else must be sent again from the composer.
#[tauri::command]
pub async fn retry_send(backend: State<'_, Backend>, idempotency_key: String) -> CmdResult<OutboxItem> {
    let item = backend
        .store()
        .outbox_item(&idempotency_key)
        .map_err(err)?
        .ok_or_else(|| "this message was not sent from this desktop, so it cannot be retried here".to_string())?;
    if item.state != OutboxState::Sent {
        return backend.engine.retry(&idempotency_key).map_err(err);
    }
    match item.message.pointer("/text/body").and_then(|v| v.as_str()) {
        Some(text) if item.message["type"] == "text" => backend.engine.send_text(&item.conversation, text).map_err(err),
        _ => Err("WhatsApp accepted this message and then failed it; send it again from the composer".to_string()),
    }
}

/// Approved templates of a number. When none are known yet, ask the bridge to fetch them from
/// Meta and pull them in before answering.
#[tauri::command]
pub async fn templates(backend: State<'_, Backend>, phone_number_id: String) -> CmdResult<Vec<Template>> {
    let known = backend.store().templates(&phone_number_id).map_err(err)?;
    if !known.is_empty() {
        return Ok(known);
    }
    backend.engine.client().sync_templates(&phone_number_id).await.map_err(err)?;
    backend.engine.sync_once().await.map_err(|e: EngineError| err(e))?;
    backend.store().templates(&phone_number_id).map_err(err)
}

#[tauri::command]
pub async fn mark_read(backend: State<'_, Backend>, conversation: ConversationKey) -> CmdResult<()> {
    backend.store().mark_read(&conversation, now()).map_err(err)
}

#[tauri::command]
pub async fn search(backend: State<'_, Backend>, query: String) -> CmdResult<Vec<SearchHit>> {
    if query.trim().is_empty() {
        return Ok(Vec::new());
    }
    backend.store().search(&SearchQuery { text: query, limit: SEARCH_LIMIT, ..Default::default() }).map_err(err)
}

#[tauri::command]
pub async fn number_health(backend: State<'_, Backend>) -> CmdResult<Vec<NumberHealth>> {
    let store = backend.store();
    let now = now();
    store.numbers().map_err(err)?.iter().map(|n| store.number_health(&n.phone_number_id, now).map_err(err)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_map_to_store_filters() {
        assert_eq!(filter_for("all", "ana").unwrap(), ConversationFilter::default());
        assert_eq!(filter_for("mine", "ana").unwrap().only_mine.as_deref(), Some("ana"));
        assert!(filter_for("app", "ana").unwrap().app_owned);
        assert_eq!(filter_for("closing", "ana").unwrap().window_closing_within_secs, Some(CLOSING_WITHIN_SECS));
        assert!(filter_for("unread", "ana").unwrap().unread_only);
        assert!(filter_for("everything", "ana").unwrap_err().contains("unknown filter"));
    }
}
