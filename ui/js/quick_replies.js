// The team's quick replies: typing "/" in the reply box offers the saved answers whose shortcut
// starts with what follows (↑/↓ to choose, Enter or Tab to put the answer in, Esc to close), and
// "Manage quick replies" lists, adds and removes them for the whole team (kept by the bridge).
// `{first_name}` and `{name}` in a text become the customer's profile name as it goes in (left as
// typed when WhatsApp gave none, for the agent to see and change).
// Shortcuts and texts are people's input: text nodes only (see dom.js).

import { h, setChildren } from './dom.js';
import { api, errorText } from './api.js';

const SHOWN = 6;
/** The "/word" being typed just before the caret (at the start, or after a space). */
const TYPED = /(^|\s)\/([\p{L}\p{N}_-]*)$/u;

/** The quick replies as this inbox has them; read again after `inbox:quick-replies`. */
export class QuickReplies {
  constructor() {
    this.cached = null;
  }

  async list() {
    if (!this.cached) this.cached = api.quickReplies().catch(() => { this.cached = null; return []; });
    return this.cached;
  }

  changed() {
    this.cached = null;
    this.onChanged?.();
  }
}

/** `text` with `{first_name}` and `{name}` filled in from the customer's profile name. */
export function fillIn(text, contactName) {
  const name = (contactName || '').trim();
  if (!name) return text;
  return text.replace(/\{(first_name|name)\}/g, (_, which) => (which === 'name' ? name : name.split(/\s+/u)[0]));
}

/**
 * Offer `replies` while the agent types "/..." in `input`. Returns the suggestion box to place
 * above the reply box. Call before any other keydown listener of `input`: a key that chooses a
 * quick reply must not also send. `contactName()` names the customer for `fillIn`.
 */
export function suggest(input, replies, onManage, contactName = () => null) {
  const box = h('div', { class: 'quick-suggest', 'data-testid': 'quick-suggest', role: 'listbox', hidden: true });
  let shown = [];
  let active = 0;

  const close = () => { box.hidden = true; shown = []; };
  const choose = (reply) => {
    const caret = input.selectionStart ?? input.value.length;
    const text = fillIn(reply.text, contactName());
    const before = input.value.slice(0, caret).replace(TYPED, (_, space) => space + text);
    input.value = before + input.value.slice(caret);
    input.selectionStart = input.selectionEnd = before.length;
    close();
    input.dispatchEvent(new Event('input'));
    input.focus();
  };
  const paint = () => {
    setChildren(box,
      shown.map((reply, i) => h('button', { type: 'button', class: 'quick-option', role: 'option', 'data-testid': 'quick-option',
        'aria-selected': String(i === active), dataset: { shortcut: reply.shortcut },
        onmousedown: (e) => e.preventDefault(), onclick: () => choose(reply) },
        h('strong', { text: `/${reply.shortcut}` }), h('span', { class: 'muted', text: reply.text }))),
      h('button', { type: 'button', class: 'link-button quick-manage', 'data-testid': 'quick-manage', text: 'Manage quick replies…',
        onclick: () => { close(); onManage(); } }));
  };
  const update = async () => {
    const typed = input.value.slice(0, input.selectionStart ?? input.value.length).match(TYPED);
    if (!typed) { close(); return; }
    const prefix = typed[2].toLowerCase();
    const all = await replies.list();
    shown = all.filter((r) => r.shortcut.startsWith(prefix)).slice(0, SHOWN);
    active = 0;
    box.hidden = false;
    if (!shown.length) {
      setChildren(box, h('p', { class: 'muted', 'data-testid': 'quick-none',
        text: all.length ? `No quick reply starts with /${prefix}.` : 'The team has no quick replies yet.' }),
        h('button', { type: 'button', class: 'link-button quick-manage', 'data-testid': 'quick-manage', text: 'Manage quick replies…',
          onclick: () => { close(); onManage(); } }));
      return;
    }
    paint();
  };

  input.addEventListener('input', update);
  input.addEventListener('blur', () => setTimeout(close, 150));
  input.addEventListener('keydown', (e) => {
    if (box.hidden) return;
    if (e.key === 'Escape') { close(); e.preventDefault(); e.stopImmediatePropagation(); return; }
    if (!shown.length) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      active = (active + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
      paint();
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      choose(shown[active]);
    } else {
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
  });
  return box;
}

/** The list of the team's quick replies with Remove, and a form to add or replace one. */
export class QuickReplyManager {
  constructor({ replies, toast }) {
    this.replies = replies;
    this.toast = toast;
    this.panel = null;
  }

  async open() {
    if (!this.panel) this.build();
    this.panel.hidden = false;
    await this.paint();
    this.shortcut.focus();
  }

  close() {
    if (this.panel) this.panel.hidden = true;
  }

  build() {
    this.list = h('ul', { class: 'quick-list', 'data-testid': 'quick-list' });
    this.shortcut = h('input', { 'data-testid': 'quick-shortcut', placeholder: 'thanks', maxlength: '25', 'aria-label': 'Shortcut' });
    this.text = h('textarea', { 'data-testid': 'quick-text', rows: '3', maxlength: '4096', 'aria-label': 'Answer',
      placeholder: 'Thank you for writing to us, {first_name}! …', title: '{first_name} and {name} become the customer’s name as the reply goes in' });
    this.error = h('p', { class: 'form-error', 'data-testid': 'quick-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'quick-form', onsubmit: (e) => { e.preventDefault(); this.save(); } },
      h('label', {}, 'Shortcut /', this.shortcut), h('label', {}, 'Answer', this.text),
      h('button', { type: 'submit', 'data-testid': 'quick-save', text: 'Save for the team' }), this.error);
    this.panel = h('section', { class: 'quick-panel', role: 'dialog', 'aria-label': 'Quick replies', 'data-testid': 'quick-panel', hidden: true },
      h('header', {}, h('h3', { text: 'Quick replies' }),
        h('button', { type: 'button', class: 'link-button', 'data-testid': 'quick-close', text: 'Close', onclick: () => this.close() })),
      h('p', { class: 'muted', text: 'Type / and the shortcut in the reply box. Everyone on the team has the same ones.' }),
      this.list, form);
    this.panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.close(); });
    document.body.append(this.panel);
  }

  async paint() {
    if (!this.panel || this.panel.hidden) return;
    const all = await this.replies.list();
    setChildren(this.list, all.length ? all.map((r) => h('li', { 'data-testid': 'quick-row', dataset: { shortcut: r.shortcut } },
      h('strong', { text: `/${r.shortcut}` }), h('span', { class: 'quick-row-text', text: r.text }),
      h('span', { class: 'muted', text: `by ${r.updated_by}` }),
      h('button', { type: 'button', class: 'link-button', 'data-testid': 'quick-remove', text: 'Remove', onclick: () => this.remove(r.shortcut) })))
      : h('li', { class: 'muted', text: 'None yet.' }));
  }

  async save() {
    try {
      await api.saveQuickReply(this.shortcut.value, this.text.value);
      this.shortcut.value = '';
      this.text.value = '';
      this.error.hidden = true;
    } catch (e) {
      this.error.textContent = errorText(e);
      this.error.hidden = false;
    }
  }

  async remove(shortcut) {
    try {
      await api.saveQuickReply(shortcut, null);
    } catch (e) {
      this.toast(`Could not remove /${shortcut}: ${errorText(e)}`);
    }
  }
}
