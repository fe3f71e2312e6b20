// Choices for the next text, tapped by the customer instead of typing: up to three go as reply
// buttons under the text, four to ten as a list behind one menu button (Meta's interactive
// messages; they need the open window, like any text). The engine checks Meta's limits again and
// says what to change; here a title over the limit is marked as typed.

import { h } from './dom.js';

/** Meta's limits: three buttons of twenty characters, or ten list rows of twenty-four. */
const MAX_BUTTONS = 3;
const MAX_CHOICES = 10;
const MAX_BUTTON_TITLE = 20;
const MAX_ROW_TITLE = 24;

export class ReplyButtons {
  constructor() {
    this.inputs = [];
    this.fields = h('div', { class: 'button-titles' });
    this.add = h('button', { type: 'button', class: 'link-button', 'data-testid': 'button-add', text: '+ Add a choice',
      title: 'More than three choices go as a list the customer opens', onclick: () => this.addField(true) });
    for (let i = 0; i < MAX_BUTTONS; i++) this.addField(false);
    this.editor = h('div', { class: 'buttons-editor', 'data-testid': 'buttons-editor', hidden: true },
      h('p', { class: 'muted', text: `Up to ${MAX_BUTTONS} buttons of ${MAX_BUTTON_TITLE} characters under your text, or up to ${MAX_CHOICES} choices of ${MAX_ROW_TITLE} in a list; the customer taps one to answer.` }),
      this.fields, this.add);
    this.toggle = h('button', { type: 'button', class: 'attach', 'data-testid': 'buttons-toggle', 'aria-pressed': 'false',
      title: 'Add reply buttons the customer can tap', text: '☰ Buttons', onclick: () => this.show(this.editor.hidden) });
  }

  addField(focus) {
    const n = this.inputs.length + 1;
    const input = h('input', { type: 'text', class: 'button-title', 'data-testid': 'button-title',
      placeholder: n === 1 ? 'Button 1 (e.g. Yes)' : `Button ${n} (optional)`, 'aria-label': `Button ${n}` });
    input.addEventListener('input', () => this.markOver());
    this.inputs.push(input);
    this.fields.append(input);
    if (this.add) this.add.hidden = this.inputs.length >= MAX_CHOICES;
    if (focus) input.focus();
  }

  /** A title past what its shape allows (20 as a button, 24 in a list) is marked. */
  markOver() {
    const max = this.titles().length > MAX_BUTTONS ? MAX_ROW_TITLE : MAX_BUTTON_TITLE;
    for (const input of this.inputs) input.classList.toggle('over', [...input.value.trim()].length > max);
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

  /** After a send: back to three empty fields, closed, for the next message. */
  clear() {
    for (const input of this.inputs.splice(MAX_BUTTONS)) input.remove();
    for (const input of this.inputs) { input.value = ''; input.classList.remove('over'); }
    this.add.hidden = false;
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
