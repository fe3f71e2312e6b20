// The admin panel's Blocked tab: each number's block list as Meta keeps it (customers blocked on
// the phone's Business App too), named as this inbox knows them, each with Unblock. Names are
// customers' input: text only (see dom.js).

import { h } from './dom.js';
import { api, errorText } from './api.js';
import { contactTitle } from './format.js';

/** The tab's parts for the numbers `numbers` (`[{phone_number_id, display_number}]`); `reload`
 *  paints the tab again after an unblock. */
export async function blockedTab(numbers, listBlocked, reload) {
  if (!numbers.length) return [h('p', { class: 'muted', text: 'No numbers synced to this inbox yet.' })];
  const sections = await Promise.all(numbers.map(async (n) => {
    const title = h('h3', { text: `Blocked on ${n.display_number || n.phone_number_id}` });
    try {
      return [title, blockedTable(n.phone_number_id, await listBlocked(n.phone_number_id), reload)];
    } catch (e) {
      return [title, h('p', { class: 'form-error', 'data-testid': 'admin-load-error', text: `Could not read the block list: ${errorText(e)}` })];
    }
  }));
  return [h('p', { class: 'muted', text: 'Blocked customers cannot write to the number, and nobody can message them.' }), ...sections.flat()];
}

function blockedTable(phoneNumberId, blocked, reload) {
  if (!blocked.length) return h('p', { class: 'muted', 'data-testid': 'blocked-empty', text: 'Nobody is blocked on this number.' });
  return h('table', { class: 'admin-table', 'data-testid': 'blocked-table' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Customer' }), h('th', { text: 'Blocked by' }), h('th', {}))),
    h('tbody', {}, blocked.map((b) => {
      const status = h('span', { class: 'form-error' });
      const unblock = async (e) => {
        e.target.disabled = true;
        try {
          await api.setBlocked({ phone_number_id: phoneNumberId, contact: b.contact }, false);
          reload();
        } catch (err) {
          status.textContent = errorText(err);
          e.target.disabled = false;
        }
      };
      return h('tr', { 'data-testid': 'blocked-row', dataset: { contact: b.contact } },
        h('td', { text: b.name ? `${b.name} (+${b.contact})` : contactTitle(null, b.contact) }),
        h('td', { text: b.blocked_by || 'someone outside Coexist' }),
        h('td', {}, h('button', { type: 'button', class: 'link-button', 'data-testid': 'blocked-unblock-admin', onclick: unblock }, 'Unblock'), status));
    })));
}
