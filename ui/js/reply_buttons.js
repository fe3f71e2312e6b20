// Reply buttons for the next text: up to three choices the customer taps instead of typing
// (Meta's interactive reply buttons; they need the open window, like any text). The engine checks
// Meta's limits again and says what to change; here a title over 20 characters is marked as typed.

import { h } from './dom.js';

/** Meta's limits: three buttons, twenty characters each. */
const MAX_BUTTONS = 3;
const MAX_TITLE = 20;

export class ReplyButtons {
  constructor() {
    this.inputs = Array.from({ length: MAX_BUTTONS }, (_, i) => {
      const input = h('input', { type: 'text', class: 'button-title', 'data-testid': 'button-title',
        placeholder: i === 0 ? 'Button 1 (e.g. Yes)' : `Button ${i + 1} (optional)`, 'aria-label': `Button ${i + 1}` });
      input.addEventListener('input', () => input.classList.toggle('over', [...input.value.trim()].length > MAX_TITLE));
      return input;
    });
    this.editor = h('div', { class: 'buttons-editor', 'data-testid': 'buttons-editor', hidden: true },
      h('p', { class: 'muted', text: `Up to ${MAX_BUTTONS} buttons of ${MAX_TITLE} characters under your text; the customer taps one to answer.` }),
      h('div', { class: 'button-titles' }, ...this.inputs));
    this.toggle = h('button', { type: 'button', class: 'attach', 'data-testid': 'buttons-toggle', 'aria-pressed': 'false',
      title: 'Add reply buttons the customer can tap', text: '☰ Buttons', onclick: () => this.show(this.editor.hidden) });
  }

  /** Whether the next send carries buttons. */
  get open() {
    return !this.editor.hidden;
  }

  /** The titles typed so far (empty fields left out). */
  titles() {
    return this.inputs.map((i) => i.value.trim()).filter(Boolean);
  }

  show(open) {
    this.editor.hidden = !open;
    this.toggle.setAttribute('aria-pressed', String(open));
    if (open) this.inputs[0].focus();
  }

  /** After a send: empty and closed, for the next message. */
  clear() {
    for (const input of this.inputs) { input.value = ''; input.classList.remove('over'); }
    this.show(false);
  }
}

/** The choices of a message we sent, under its text, as the customer sees them (inert text). */
export function choicesView(body) {
  return h('div', { class: 'choices-message' },
    h('p', { class: 'text', 'data-testid': 'message-text', text: body.body }),
    h('div', { class: 'choices', 'data-testid': 'message-choices' },
      (body.choices || []).map((c) => h('span', { class: 'choice', 'data-testid': 'message-choice', text: c }))));
}
