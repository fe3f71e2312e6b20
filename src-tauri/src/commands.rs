//! The app's Tauri commands: one line each into [`crate::actions`] (where the logic and its
//! tests live). Errors reach the UI as plain sentences.
//!
//! (A module of its own: `#[tauri::command]` in the crate root clashes with `generate_handler!`, E0255.)

use coexist_core::{ConversationKey, Template};
use coexist_store::{ConversationSummary, Draft, NumberHealth, OutboxItem, SearchHit};
use tauri::State;

use crate::actions::{ActionResult, MessagePage, TemplateSend};
use crate::backend::{AppInfo, Backend};

#[tauri::command]
pub async fn app_info(backend: State<'_, Backend>) -> ActionResult<AppInfo> {
    Ok(backend.refresh_info().await)
}

#[tauri::command]
pub async fn list_conversations(
    backend: State<'_, Backend>,
    filter: String,
) -> ActionResult<Vec<ConversationSummary>> {
    backend.list_conversations(&filter).await
}

#[tauri::command]
pub async fn open_conversation(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
) -> ActionResult<ConversationSummary> {
    backend.open_conversation(&conversation)
}

#[tauri::command]
pub async fn start_conversation(
    backend: State<'_, Backend>,
    phone_number_id: String,
    phone: String,
) -> ActionResult<ConversationSummary> {
    backend.start_conversation(&phone_number_id, &phone)
}

#[tauri::command]
pub async fn messages(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
    before: Option<(i64, i64)>,
    limit: Option<u32>,
) -> ActionResult<MessagePage> {
    backend.messages(&conversation, before, limit)
}

#[tauri::command]
pub async fn send_text(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
    text: String,
    reply_to: Option<String>,
) -> ActionResult<OutboxItem> {
    backend.send_text(&conversation, &text, reply_to.as_deref())
}

#[tauri::command]
pub async fn send_buttons(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
    text: String,
    buttons: Vec<String>,
    reply_to: Option<String>,
) -> ActionResult<OutboxItem> {
    backend.send_buttons(&conversation, &text, &buttons, reply_to.as_deref())
}

#[tauri::command]
pub async fn send_template(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
    template: TemplateSend,
) -> ActionResult<OutboxItem> {
    backend.send_template(&conversation, &template)
}

#[tauri::command]
pub async fn react(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
    message_id: String,
    emoji: String,
) -> ActionResult<OutboxItem> {
    backend.react(&conversation, &message_id, &emoji)
}

/// A file from the composer: the bytes are the raw body, the rest is in
/// [`crate::attach::FILE_HEADER`].
#[tauri::command]
pub async fn send_file(backend: State<'_, Backend>, request: tauri::ipc::Request<'_>) -> ActionResult<OutboxItem> {
    let (send, bytes) = crate::attach::from_request(&request)?;
    backend.send_file(send, bytes).await
}

/// A template header's file: uploaded now; the answer is its media id.
#[tauri::command]
pub async fn upload_header_file(backend: State<'_, Backend>, request: tauri::ipc::Request<'_>) -> ActionResult<String> {
    let (header, bytes) = crate::attach::from_request(&request)?;
    backend.upload_header_file(header, bytes).await
}

#[tauri::command]
pub async fn retry_send(
    backend: State<'_, Backend>,
    idempotency_key: String,
) -> ActionResult<OutboxItem> {
    backend.retry_send(&idempotency_key)
}

#[tauri::command]
pub async fn templates(
    backend: State<'_, Backend>,
    phone_number_id: String,
) -> ActionResult<Vec<Template>> {
    backend.templates(&phone_number_id).await
}

/// Who conversations can be assigned to.
#[tauri::command]
pub async fn team(backend: State<'_, Backend>) -> ActionResult<Vec<coexist_engine::TeamMember>> {
    backend.team().await
}

/// Give the conversation to a teammate, or back to the whole team (`assignee: null`).
#[tauri::command]
pub async fn assign(backend: State<'_, Backend>, conversation: ConversationKey, assignee: Option<String>) -> ActionResult<()> {
    backend.assign(&conversation, assignee.as_deref()).await
}

/// Mark the conversation done (`done: false` takes it up again), snoozed until `until_ms`.
#[tauri::command]
pub async fn mark_done(backend: State<'_, Backend>, conversation: ConversationKey, done: bool, until_ms: Option<i64>) -> ActionResult<()> {
    backend.mark_done(&conversation, done, until_ms).await
}

/// Put a label on the conversation for the whole team (`on: false` takes it off).
#[tauri::command]
pub async fn label(backend: State<'_, Backend>, conversation: ConversationKey, label: String, on: bool) -> ActionResult<()> {
    backend.label(&conversation, &label, on).await
}

/// Block the conversation's customer on its number (`blocked: false` unblocks), through Meta.
#[tauri::command]
pub async fn set_blocked(backend: State<'_, Backend>, conversation: ConversationKey, blocked: bool) -> ActionResult<()> {
    backend.set_blocked(&conversation, blocked).await
}

/// The labels the team uses, with how many conversations carry each.
#[tauri::command]
pub async fn labels(backend: State<'_, Backend>) -> ActionResult<Vec<coexist_store::LabelCount>> {
    backend.labels()
}

/// The team's quick replies.
#[tauri::command]
pub async fn quick_replies(backend: State<'_, Backend>) -> ActionResult<Vec<coexist_store::QuickReplyView>> {
    backend.quick_replies()
}

/// Save a quick reply for the team (`text: null` removes it).
#[tauri::command]
pub async fn save_quick_reply(backend: State<'_, Backend>, shortcut: String, text: Option<String>) -> ActionResult<()> {
    backend.save_quick_reply(&shortcut, text.as_deref()).await
}

/// A note for the team on the conversation.
#[tauri::command]
pub async fn add_note(backend: State<'_, Backend>, conversation: ConversationKey, text: String) -> ActionResult<()> {
    backend.add_note(&conversation, &text).await
}

/// The agent is typing in the conversation: teammates see who is writing, the customer "typing…".
#[tauri::command]
pub async fn typing(backend: State<'_, Backend>, conversation: ConversationKey) -> ActionResult<()> {
    backend.typing(&conversation)
}

#[tauri::command]
pub async fn mark_read(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
) -> ActionResult<()> {
    backend.mark_read(&conversation)
}

/// Show the conversation as unread again (on this desktop only).
#[tauri::command]
pub async fn mark_unread(backend: State<'_, Backend>, conversation: ConversationKey) -> ActionResult<()> {
    backend.mark_unread(&conversation)
}

/// Mute the conversation's notifications on this desktop (`until_ms: None`: until unmuted).
#[tauri::command]
pub async fn mute_conversation(backend: State<'_, Backend>, conversation: ConversationKey, until_ms: Option<i64>) -> ActionResult<()> {
    backend.mute(&conversation, until_ms)
}

#[tauri::command]
pub async fn unmute_conversation(backend: State<'_, Backend>, conversation: ConversationKey) -> ActionResult<()> {
    backend.unmute(&conversation)
}

/// Put how many conversations have something unread in the window's title ("(3) Coexist Inbox":
/// the taskbar shows it while the agent works elsewhere), and return it.
#[tauri::command]
pub async fn show_unread_count(window: tauri::WebviewWindow, backend: State<'_, Backend>) -> ActionResult<u64> {
    let count = backend.unread_conversations()?;
    window.set_title(&unread_title(count)).map_err(crate::actions::err)?;
    Ok(count)
}

/// The window's title with `count` unread conversations.
fn unread_title(count: u64) -> String {
    match count {
        0 => crate::notifier::APP_NAME.to_string(),
        n => format!("({n}) {}", crate::notifier::APP_NAME),
    }
}

/// Keep the unsent reply to a conversation on this desktop (an empty text removes it).
#[tauri::command]
pub async fn save_draft(backend: State<'_, Backend>, conversation: ConversationKey, text: String) -> ActionResult<()> {
    backend.save_draft(&conversation, &text)
}

#[tauri::command]
pub async fn drafts(backend: State<'_, Backend>) -> ActionResult<Vec<Draft>> {
    backend.drafts()
}

#[tauri::command]
pub async fn search(backend: State<'_, Backend>, query: String) -> ActionResult<Vec<SearchHit>> {
    backend.search(&query)
}

#[tauri::command]
pub async fn number_health(backend: State<'_, Backend>) -> ActionResult<Vec<NumberHealth>> {
    backend.number_health()
}

// The managers' view (see crate::manager).

#[tauri::command]
pub async fn metrics(
    backend: State<'_, Backend>,
    query: coexist_store::MetricsQuery,
) -> ActionResult<coexist_store::Metrics> {
    backend.metrics(&query)
}

#[tauri::command]
pub async fn search_messages(
    backend: State<'_, Backend>,
    form: crate::manager::SearchForm,
) -> ActionResult<Vec<SearchHit>> {
    backend.search_messages(&form)
}

#[tauri::command]
pub async fn message_context(
    backend: State<'_, Backend>,
    wamid: String,
) -> ActionResult<crate::manager::MessageContext> {
    backend.message_context(&wamid)
}

#[tauri::command]
pub async fn search_notes(
    backend: State<'_, Backend>,
    form: crate::manager::SearchForm,
) -> ActionResult<Vec<coexist_store::NoteHit>> {
    backend.search_notes(&form)
}

#[tauri::command]
pub async fn find_people(
    backend: State<'_, Backend>,
    text: String,
    phone_number_id: Option<String>,
) -> ActionResult<Vec<ConversationSummary>> {
    backend.find_people(&text, phone_number_id.as_deref())
}

#[tauri::command]
pub async fn note_context(
    backend: State<'_, Backend>,
    seq: i64,
) -> ActionResult<crate::manager::NoteContext> {
    backend.note_context(seq)
}

#[tauri::command]
pub async fn history_progress(
    backend: State<'_, Backend>,
) -> ActionResult<Vec<coexist_store::HistoryProgress>> {
    backend.history_progress()
}

#[tauri::command]
pub async fn export_conversation(
    backend: State<'_, Backend>,
    conversation: ConversationKey,
    format: coexist_engine::export::ExportFormat,
) -> ActionResult<crate::manager::ExportResult> {
    backend.export_conversation(&conversation, format).await
}

#[tauri::command]
pub async fn export_search(
    backend: State<'_, Backend>,
    form: crate::manager::SearchForm,
    format: coexist_engine::export::ExportFormat,
) -> ActionResult<crate::manager::ExportResult> {
    backend.export_search(&form, format).await
}

/// A customer's photo as a `data:` URL.
#[tauri::command]
pub async fn media_preview(backend: State<'_, Backend>, media_id: String) -> ActionResult<String> {
    backend.media_preview(&media_id).await
}

/// Save a customer's file in the Downloads folder (or the app's data folder when there is none).
#[tauri::command]
pub async fn save_media(
    app: tauri::AppHandle,
    backend: State<'_, Backend>,
    media_id: String,
    file_name: Option<String>,
) -> ActionResult<String> {
    use tauri::Manager;
    let dir = match app.path().download_dir() {
        Ok(dir) => dir,
        Err(_) => backend.info().await.data_dir.join("downloads"),
    };
    let path = backend.save_media(&media_id, file_name.as_deref(), &dir).await?;
    Ok(path.display().to_string())
}
