// A photo, document, voice note or video in the thread (the customer's or one we sent): what it
// is, its caption, and the way to see it — "Show photo" fetches it through the bridge and shows
// it inline; anything else is saved to the Downloads folder. The thread re-renders its rows on
// every engine event and scroll, so what a card shows lives here, not in the card: loaded photos
// and saved paths are kept, and a card drawn while a load or save runs follows it.

import { h, setChildren } from './dom.js';
import { api, errorText } from './api.js';

const shown = new Map(); // media id → data: URL
const saved = new Map(); // media id → the path it was last saved to
const running = new Map(); // 'show:ID' / 'save:ID' → Promise of its result

/** The media card for a message body `b` of type `kind` (label like '📷 Photo'). */
export function mediaCard(label, b) {
  const m = b.media || {};
  const isPhoto = ['image', 'sticker'].includes(b.type);
  const status = h('span', { class: 'placeholder', 'data-testid': 'media-status' });
  const preview = h('div', { class: 'media-preview-slot' });
  const card = h('div', { class: 'media-card', 'data-testid': 'message-media' },
    h('span', { class: 'media-kind', text: label }),
    m.filename ? h('span', { class: 'media-name', text: m.filename }) : null,
    m.mime_type ? h('span', { class: 'muted', text: m.mime_type }) : null,
    preview,
    m.id ? (isPhoto ? showButton(m, b, preview, status) : saveButton(m, status)) : h('span', { class: 'placeholder', text: 'No file came with this message.' }),
    status,
    m.caption ? h('p', { class: 'text', text: m.caption }) : null);
  if (isPhoto && shown.has(m.id)) showImage(preview, shown.get(m.id), b);
  return card;
}

function showButton(m, b, preview, status) {
  const button = h('button', { type: 'button', class: 'link-button', 'data-testid': 'media-show', text: 'Show photo' });
  const follow = async (load) => {
    button.disabled = true;
    status.textContent = 'Loading…';
    try {
      showImage(preview, await load, b);
      status.textContent = '';
    } catch (err) {
      status.textContent = errorText(err);
      button.disabled = false;
    }
  };
  const key = `show:${m.id}`;
  button.addEventListener('click', () => follow(once(key, () => api.mediaPreview(m.id).then((url) => { shown.set(m.id, url); return url; }))));
  if (running.has(key)) follow(running.get(key));
  return button;
}

function saveButton(m, status) {
  const button = h('button', { type: 'button', class: 'link-button', 'data-testid': 'media-save', text: 'Save to Downloads' });
  const done = (path) => {
    status.textContent = `Saved to ${path}`;
    status.dataset.path = path;
  };
  const follow = async (save) => {
    button.disabled = true;
    status.textContent = 'Saving…';
    try {
      done(await save);
    } catch (err) {
      status.textContent = errorText(err);
    }
    button.disabled = false;
  };
  const key = `save:${m.id}`;
  button.addEventListener('click', () => follow(once(key, () => api.saveMedia(m.id, m.filename || null).then((path) => { saved.set(m.id, path); return path; }))));
  if (running.has(key)) follow(running.get(key));
  else if (saved.has(m.id)) done(saved.get(m.id));
  return button;
}

/** One run of `start` per key at a time, however many cards wait for it. */
function once(key, start) {
  if (!running.has(key)) running.set(key, start().finally(() => running.delete(key)));
  return running.get(key);
}

function showImage(slot, url, b) {
  setChildren(slot, h('img', { class: 'media-preview', 'data-testid': 'media-preview', src: url, alt: b.media?.caption || 'Photo' }));
}
