// The inbox list: conversations by last activity (Waiting: longest waiting first), with ownership,
// window countdown, how long the customer has waited, unread count and a text-only preview (or
// the agent's unsent reply). Keyboard: ↑/↓ move, Enter opens; Alt+↑/↓ opens the previous/next
// conversation from anywhere.

import { h, setChildren, $ } from './dom.js';
import { rowLabels } from './labels.js';
import { draftOf } from './drafts.js';
import { windowState, ownerBadge, shortTime, fullTime, oneLine, nowSecs, expiresAt, ownerKind, contactTitle, keyId, waitedFor } from './format.js';

const idOf = (c) => keyId(c.conversation);

export class Inbox {
  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.items = [];
    this.activeId = null;   // keyboard cursor
    this.openId = null;     // conversation shown on the right
    this.searching = false; // search results shown in the list's place
    this.list = $('conversation-list');
    this.list.addEventListener('keydown', (e) => this.onKey(e));
  }

  setItems(items) {
    this.items = items;
    if (!items.some((c) => idOf(c) === this.activeId)) {
      this.activeId = items.length ? idOf(items[0]) : null;
    }
    this.render();
  }

  render() {
    const now = nowSecs();
    setChildren(this.list, this.items.map((c) => this.row(c, now)));
    const empty = $('list-empty');
    empty.hidden = this.items.length > 0 || this.searching; // search results take the list's place
    empty.textContent = this.filter && this.filter !== 'all' ? 'No conversations match this filter.' : 'No conversations yet.';
    this.list.setAttribute('aria-activedescendant', this.activeId ? domId(this.activeId) : '');
  }

  /** Refresh countdowns and waiting times without rebuilding anything else. */
  tick() {
    const now = nowSecs();
    for (const li of this.list.children) {
      const conv = this.items.find((c) => idOf(c) === li.dataset.conversationId);
      if (!conv) continue;
      paintCountdown(li.querySelector('.countdown'), expiresAt(conv), now);
      const waiting = li.querySelector('.waiting-tag');
      if (waiting) paintWaiting(waiting, conv.waiting_since, now);
    }
  }

  row(c, now) {
    const id = idOf(c);
    const badge = ownerBadge(ownerKind(c), c.owner_agent);
    const countdown = h('span', { class: 'countdown', 'data-testid': 'window-countdown' });
    paintCountdown(countdown, expiresAt(c), now);
    const unread = c.unread > 0
      ? h('span', { class: 'unread', 'data-testid': 'unread-count', 'aria-label': `${c.unread} unread`, text: String(c.unread) })
      : c.marked_unread ? h('span', { class: 'unread marked', 'data-testid': 'marked-unread', 'aria-label': 'marked unread', title: 'Marked unread' }) : null;
    return h('li', {
      id: domId(id),
      class: 'conv-item',
      role: 'option',
      'aria-selected': String(id === this.activeId),
      'data-testid': 'conversation-item',
      dataset: { conversationId: id, contact: c.conversation.contact, open: String(id === this.openId) },
      onclick: () => { this.activeId = id; this.open(c); },
    },
      h('div', { class: 'conv-line' },
        h('span', { class: 'conv-name', 'data-testid': 'conversation-name', text: contactTitle(c.contact_name, c.conversation.contact) }),
        c.muted ? h('span', { class: 'muted-mark', 'data-testid': 'muted-mark', role: 'img', 'aria-label': 'muted', title: 'Notifications muted on this desktop', text: '🔕' }) : null,
        h('span', { class: 'conv-time muted', text: shortTime(c.last_activity, now) })),
      h('div', { class: 'conv-line' },
        this.preview(c, id),
        unread),
      h('div', { class: 'conv-line tags' },
        h('span', { class: `badge badge-${badge.kind}`, 'data-testid': 'owner-badge', dataset: { owner: badge.kind }, text: badge.label }),
        c.done ? h('span', { class: 'done-tag', 'data-testid': 'done-tag', title: c.snoozed_until_ms ? `Back ${fullTime(c.snoozed_until_ms / 1000)}` : null,
          text: c.snoozed_until_ms ? `Snoozed · ${shortTime(Math.floor(c.snoozed_until_ms / 1000), now)}` : 'Done' }) : null,
        waitingTag(c, now),
        c.blocked_by ? h('span', { class: 'blocked-tag', 'data-testid': 'blocked-tag', title: `Blocked by ${c.blocked_by}`, text: 'Blocked' }) : null,
        c.assignee ? h('span', { class: 'assignee', 'data-testid': 'assignee', title: `Assigned to ${c.assignee}`,
          text: `→ ${c.assignee === this.me ? 'you' : c.assignee}` }) : null,
        rowLabels(c.labels),
        countdown));
  }

  /** The row's second line: the agent's own unsent reply (not while it is open beside the list),
   *  else the latest message. */
  preview(c, id) {
    const draft = id === this.openId ? '' : draftOf(c.conversation);
    if (draft) {
      return h('span', { class: 'preview', 'data-testid': 'preview' },
        h('span', { class: 'draft-tag', 'data-testid': 'draft-tag', text: 'Draft: ' }), oneLine(draft));
    }
    // A conversation a teammate assigned or noted before anyone wrote has no messages yet.
    return h('span', { class: 'preview', 'data-testid': 'preview', text: c.last_activity ? oneLine(c.preview || '') : 'No messages yet' });
  }

  /** Open the conversation `delta` rows from the open one (Alt+↑/↓ from anywhere, the reply box
   *  included); false at either end of the list. */
  step(delta) {
    const from = this.items.findIndex((c) => idOf(c) === (this.openId ?? this.activeId));
    const next = this.items[from < 0 ? 0 : from + delta];
    if (!next) return false;
    this.activeId = idOf(next);
    this.open(next);
    document.getElementById(domId(this.activeId))?.scrollIntoView({ block: 'nearest' });
    return true;
  }

  open(conv) {
    this.openId = idOf(conv);
    this.render();
    this.onOpen(conv);
  }

  onKey(e) {
    if (!this.items.length || e.altKey) return; // Alt+↑/↓ opens, from anywhere (main.js)
    const index = Math.max(0, this.items.findIndex((c) => idOf(c) === this.activeId));
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = Math.min(this.items.length - 1, Math.max(0, index + (e.key === 'ArrowDown' ? 1 : -1)));
      this.activeId = idOf(this.items[next]);
      this.render();
      document.getElementById(domId(this.activeId))?.scrollIntoView({ block: 'nearest' });
    } else if (e.key === 'Enter') {
      e.preventDefault();
      this.open(this.items[index]);
    }
  }
}

/** Element ids must not carry raw customer data into selectors; hex-encode. */
/** How long the customer has waited for the team, on the rows of customers who wrote last (not
 *  on done or blocked ones: nobody is expected to answer those). */
function waitingTag(c, now) {
  if (!c.waiting_since || c.done || c.blocked_by) return null;
  const tag = h('span', { class: 'waiting-tag', 'data-testid': 'waiting-tag', title: `Wrote ${fullTime(c.waiting_since)}; nobody has answered yet` });
  paintWaiting(tag, c.waiting_since, now);
  return tag;
}

/** "Waiting 2 h 13 m", in bold once it is an hour or more. */
function paintWaiting(el, since, now) {
  el.textContent = waitedFor(since, now);
  el.dataset.long = String(now - since >= 3600);
}

function domId(id) {
  let out = 'conv-';
  for (const ch of id) out += ch.codePointAt(0).toString(16).padStart(2, '0');
  return out;
}

export function paintCountdown(el, expiresAt, now = nowSecs()) {
  if (!el) return;
  const w = windowState(expiresAt, now);
  el.textContent = w.label;
  el.dataset.state = w.state;
  el.dataset.expiresAt = expiresAt ? String(expiresAt) : '';
}
