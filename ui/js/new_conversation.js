// Writing first: the agent picks one of the team's numbers and types the customer's phone
// number; the conversation opens (the inbox's own, or a new one) with the template picker when
// its window is closed, since only a template can start a conversation.

import { $, h, setChildren } from './dom.js';
import { api, errorText } from './api.js';

export class NewConversation {
  /** `onOpen(conv)`: show the conversation summary the backend returned. */
  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.number = h('select', { 'data-testid': 'new-conversation-number', 'aria-label': 'From which business number' });
    this.phone = h('input', {
      type: 'tel', 'data-testid': 'new-conversation-phone', placeholder: '+15551230001', autocomplete: 'off',
      'aria-label': "The customer's phone number, with its country code",
    });
    this.error = h('p', { class: 'form-error', 'data-testid': 'new-conversation-error', hidden: true });
    this.form = h('form', {
      class: 'new-conversation', 'data-testid': 'new-conversation-form', hidden: true,
      onsubmit: (e) => { e.preventDefault(); this.open(); },
      onkeydown: (e) => { if (e.key === 'Escape') this.close(); },
    },
    h('label', {}, h('span', { text: 'From' }), this.number),
    h('label', {}, h('span', { text: 'To' }), this.phone),
    h('div', { class: 'new-conversation-actions' },
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'new-conversation-open', text: 'Open' }),
      h('button', { type: 'button', class: 'link', 'data-testid': 'new-conversation-cancel', text: 'Cancel', onclick: () => this.close() })),
    this.error);
    const button = h('button', {
      type: 'button', class: 'link new-conversation-button', 'data-testid': 'new-conversation',
      title: 'Write first to a customer (with an approved template)', text: '+ New conversation',
      onclick: () => (this.form.hidden ? this.show() : this.close()),
    });
    $('search').closest('.search-box').append(button, this.form);
  }

  /** The team's numbers to write from (from number health). */
  setNumbers(health) {
    const current = this.number.value;
    setChildren(this.number, (health || []).map((n) => h('option', { value: n.phone_number_id }, n.display_number || n.phone_number_id)));
    if (current) this.number.value = current;
  }

  show() {
    this.form.hidden = false;
    this.error.hidden = true;
    this.phone.focus();
  }

  close() {
    this.form.hidden = true;
    this.phone.value = '';
  }

  async open() {
    this.error.hidden = true;
    try {
      const conv = await api.startConversation(this.number.value, this.phone.value);
      this.close();
      this.onOpen(conv);
    } catch (e) {
      this.error.textContent = errorText(e);
      this.error.hidden = false;
    }
  }
}
