// Unsent replies, one per conversation. The app keeps them on this desktop (a restart finds each
// half-written answer where it was left): read once at start, written a moment after the agent
// stops typing, so a burst of keys is one write.

import { api, errorText } from './api.js';
import { keyId } from './format.js';

const SAVE_AFTER_MS = 400;

/** Text per conversation (`phone_number_id|contact`). */
const texts = new Map();
/** Writes waiting for the agent to pause, per conversation. */
const timers = new Map();

/** Read the drafts the app kept (call once, before the list is drawn). */
export async function loadDrafts() {
  for (const draft of await api.drafts()) texts.set(keyId(draft.conversation), draft.text);
}

/** The unsent reply to `conversation`, or ''. */
export function draftOf(conversation) {
  return texts.get(keyId(conversation)) || '';
}

/** Keep `text` as the unsent reply to `conversation` ('' removes it); `onError` hears a refused
 *  write (a draft past the app's limit) in words. */
export function setDraft(conversation, text, onError) {
  const key = keyId(conversation);
  if (text) texts.set(key, text); else texts.delete(key);
  clearTimeout(timers.get(key)?.timer);
  const save = () => {
    timers.delete(key);
    api.saveDraft(conversation, texts.get(key) || '').catch((e) => onError?.(`This draft is not kept: ${errorText(e)}`));
  };
  timers.set(key, { timer: setTimeout(save, SAVE_AFTER_MS), save });
}

// The page going away (the window closing, a reload) writes what the pause has not written yet.
window.addEventListener('pagehide', () => {
  for (const { timer, save } of [...timers.values()]) {
    clearTimeout(timer);
    save();
  }
});
