// A photo, document, voice note or video in the thread (the customer's or one we sent): what it
// is, its caption, and the way to see it — "Show photo" fetches it through the bridge and shows
// it inline; anything else is saved to the Downloads folder. Loaded photos are kept for
// re-renders of the thread, and a re-render while a photo loads follows the same load (the
// thread re-renders on every engine event: the photo must not fall back to "Show photo").

import { h, setChildren } from './dom.js';
import { api, errorText } from './api.js';

const shown = new Map(); // media id → data: URL
const loading = new Map(); // media id → Promise of its data: URL

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
  button.addEventListener('click', () => follow(loadPhoto(m.id)));
  if (loading.has(m.id)) follow(loading.get(m.id));
  return button;
}

/** One fetch per photo, however many cards wait for it. */
function loadPhoto(id) {
  if (!loading.has(id)) {
    const load = api.mediaPreview(id)
      .then((url) => { shown.set(id, url); return url; })
      .finally(() => loading.delete(id));
    loading.set(id, load);
  }
  return loading.get(id);
}

function saveButton(m, status) {
  const button = h('button', { type: 'button', class: 'link-button', 'data-testid': 'media-save', text: 'Save to Downloads' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = 'Saving…';
    try {
      const path = await api.saveMedia(m.id, m.filename || null);
      status.textContent = `Saved to ${path}`;
      status.dataset.path = path;
    } catch (err) {
      status.textContent = errorText(err);
    }
    button.disabled = false;
  });
  return button;
}

function showImage(slot, url, b) {
  setChildren(slot, h('img', { class: 'media-preview', 'data-testid': 'media-preview', src: url, alt: b.media?.caption || 'Photo' }));
}
