// Blocking a customer, through Meta's Block Users API (the bridge calls it): the header's Block
// asks first, in the page; a blocked conversation's composer says who blocked the customer and
// offers Unblock. Meta blocks only customers who wrote in the last 24 hours; its refusal is
// shown in its words. Names are people's input: text only (see dom.js).

import { $, h, setChildren } from './dom.js';
import { api, errorText } from './api.js';
import { contactTitle, keyId } from './format.js';

const WHAT_IT_DOES = 'They will not be able to write to this number, and nobody on the team can message them until someone unblocks them.';

/** The header's Block / Unblock button and the question before a block. */
export class BlockControl {
  constructor({ toast }) {
    this.toast = toast;
    this.conv = null;
    this.button = $('block-customer');
    this.confirm = $('block-confirm');
    this.button.addEventListener('click', () => {
      if (!this.conv) return;
      if (this.conv.blocked_by) this.set(this.conv, false);
      else this.ask(this.conv);
    });
  }

  /** The open conversation, or its row, changed (a teammate blocked the customer). */
  show(conv) {
    if (!this.conv || keyId(this.conv.conversation) !== keyId(conv.conversation)) this.closeQuestion();
    this.conv = conv;
    this.button.textContent = conv.blocked_by ? 'Unblock' : 'Block';
    this.button.dataset.blocked = String(Boolean(conv.blocked_by));
    this.button.title = conv.blocked_by ? `Blocked by ${conv.blocked_by}: let this customer write again` : 'Stop this customer from writing to this number';
    if (conv.blocked_by) this.closeQuestion();
  }

  hide() {
    this.conv = null;
    this.closeQuestion();
  }

  ask(conv) {
    const name = contactTitle(conv.contact_name, conv.conversation.contact);
    this.confirm.hidden = false;
    setChildren(this.confirm,
      h('span', { 'data-testid': 'block-question', text: `Block ${name}? ${WHAT_IT_DOES}` }),
      h('button', { type: 'button', class: 'danger-button', 'data-testid': 'block-confirm-yes', text: 'Block', onclick: () => this.set(conv, true) }),
      h('button', { type: 'button', class: 'link', 'data-testid': 'block-confirm-no', text: 'Cancel', onclick: () => this.closeQuestion() }));
    this.confirm.querySelector('[data-testid=block-confirm-no]').focus();
  }

  closeQuestion() {
    this.confirm.hidden = true;
    setChildren(this.confirm);
  }

  async set(conv, blocked) {
    const name = contactTitle(conv.contact_name, conv.conversation.contact);
    this.button.disabled = true;
    try {
      await api.setBlocked(conv.conversation, blocked);
      this.closeQuestion();
      this.toast(blocked ? `Blocked ${name}` : `Unblocked ${name}: they can write again`);
    } catch (e) {
      this.toast(`Could not ${blocked ? 'block' : 'unblock'} ${name}: ${errorText(e)}`);
    } finally {
      this.button.disabled = false;
    }
  }
}

/** What a blocked conversation's composer shows instead of the reply box. */
export function blockedNotice(conv, unblock) {
  return h('div', { class: 'blocked-notice', 'data-testid': 'blocked-notice', role: 'status' },
    h('span', { text: `Blocked by ${conv.blocked_by}. This customer cannot write to this number, and nobody can message them.` }),
    h('button', { type: 'button', class: 'link', 'data-testid': 'blocked-unblock', text: 'Unblock', onclick: () => unblock(conv) }));
}
