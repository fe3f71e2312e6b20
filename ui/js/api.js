// The only door to the Rust side: Tauri commands (invoke) and events (listen).
// `window.__TAURI__` is injected by Tauri (app.withGlobalTauri) so no bundler is needed.

const tauri = window.__TAURI__;

function invoke(cmd, args = {}, options = undefined) {
  if (!tauri) return Promise.reject(new Error('Coexist Inbox must run inside the desktop app.'));
  return tauri.core.invoke(cmd, args, options);
}

/** Base64 of a string's UTF-8 (a header carries no raw UTF-8; names and captions are anything). */
function base64Utf8(text) {
  return btoa(Array.from(new TextEncoder().encode(text), (b) => String.fromCharCode(b)).join(''));
}

/** A file command: the file's bytes go as the raw body; what it is and where it goes, in one header. */
async function withFile(cmd, file, about) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const description = { name: file.name, mime_type: file.type, ...about };
  return invoke(cmd, bytes, { headers: { 'x-coexist-file': base64Utf8(JSON.stringify(description)) } });
}

export const api = {
  appInfo: () => invoke('app_info'),
  listConversations: (filter) => invoke('list_conversations', { filter }),
  openConversation: (conversation) => invoke('open_conversation', { conversation }),
  startConversation: (phoneNumberId, phone) => invoke('start_conversation', { phoneNumberId, phone }),
  messages: (conversation, before, limit) => invoke('messages', { conversation, before, limit }),
  sendText: (conversation, text, replyTo) => invoke('send_text', { conversation, text, replyTo: replyTo || null }),
  sendButtons: (conversation, text, buttons, replyTo) => invoke('send_buttons', { conversation, text, buttons, replyTo: replyTo || null }),
  react: (conversation, messageId, emoji) => invoke('react', { conversation, messageId, emoji }),
  sendTemplate: (conversation, template) => invoke('send_template', { conversation, template }),
  sendFile: (conversation, file, caption, replyTo) => withFile('send_file', file, { conversation, caption, reply_to: replyTo || null }),
  uploadHeaderFile: (phoneNumberId, file, kind) => withFile('upload_header_file', file, { phone_number_id: phoneNumberId, kind }),
  retrySend: (outboxId) => invoke('retry_send', { outboxId }),
  templates: (phoneNumberId) => invoke('templates', { phoneNumberId }),
  markRead: (conversation) => invoke('mark_read', { conversation }),
  markUnread: (conversation) => invoke('mark_unread', { conversation }),
  drafts: () => invoke('drafts'),
  showUnreadCount: () => invoke('show_unread_count'),
  saveDraft: (conversation, text) => invoke('save_draft', { conversation, text }),
  typing: (conversation) => invoke('typing', { conversation }),
  team: () => invoke('team'),
  assign: (conversation, assignee) => invoke('assign', { conversation, assignee }),
  addNote: (conversation, text) => invoke('add_note', { conversation, text }),
  markDone: (conversation, done, untilMs) => invoke('mark_done', { conversation, done, untilMs: untilMs ?? null }),
  quickReplies: () => invoke('quick_replies'),
  saveQuickReply: (shortcut, text) => invoke('save_quick_reply', { shortcut, text }),
  search: (query) => invoke('search', { query }),
  numberHealth: () => invoke('number_health'),
  mediaPreview: (mediaId) => invoke('media_preview', { mediaId }),
  saveMedia: (mediaId, fileName) => invoke('save_media', { mediaId, fileName }),
  // The managers' view.
  metrics: (query) => invoke('metrics', { query }),
  searchMessages: (form) => invoke('search_messages', { form }),
  messageContext: (wamid) => invoke('message_context', { wamid }),
  searchNotes: (form) => invoke('search_notes', { form }),
  label: (conversation, label, on) => invoke('label', { conversation, label, on }),
  labels: () => invoke('labels'),
  setBlocked: (conversation, blocked) => invoke('set_blocked', { conversation, blocked }),
  mute: (conversation, untilMs) => invoke('mute_conversation', { conversation, untilMs: untilMs ?? null }),
  unmute: (conversation) => invoke('unmute_conversation', { conversation }),
  findPeople: (text, phoneNumberId) => invoke('find_people', { text, phoneNumberId: phoneNumberId || null }),
  noteContext: (seq) => invoke('note_context', { seq }),
  historyProgress: () => invoke('history_progress'),
  exportConversation: (conversation, format) => invoke('export_conversation', { conversation, format }),
  exportSearch: (form, format) => invoke('export_search', { form, format }),
};

/** Subscribe to a backend event; the callback gets the payload. */
export function on(event, callback) {
  if (!tauri) return Promise.resolve(() => {});
  return tauri.event.listen(event, (e) => callback(e.payload));
}

/** Turn whatever a command rejected with into plain words for the agent. */
export function errorText(err) {
  if (typeof err === 'string') return err;
  if (err && typeof err.message === 'string') return err.message;
  return 'Something went wrong. Try again.';
}
