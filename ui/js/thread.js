// The conversation thread with virtualized scrolling: only rows near the viewport are in the DOM.
// Heights are measured as rows render and cached per message; spacers stand in for the rest.
// Scrolling near the top asks for the next older page; the reading position is kept by anchoring
// on a visible row, so prepending or re-measuring never makes the thread jump.

import { $, h, setChildren } from './dom.js';
import { dayLabel, sameDay } from './format.js';
import { renderMessage, messageKey } from './message.js';
import { renderNote } from './team.js';

const ESTIMATE = 84;      // px, a guess for rows not yet measured
const OVERSCAN = 800;     // px rendered above and below the viewport
const LOAD_OLDER_AT = 400; // px from the top
const STICK = 48;         // px from the bottom counts as "at the bottom"

export class Thread {
  constructor({ onNeedOlder, onRetry, onReply, onReact }) {
    this.el = $('thread');
    this.rows = $('thread-rows');
    this.top = $('thread-top');
    this.bottom = $('thread-bottom');
    this.loadingEl = $('thread-loading');
    this.onNeedOlder = onNeedOlder;
    this.onRetry = onRetry;
    this.onReply = onReply;
    this.onReact = onReact;
    this.messages = [];
    this.heights = new Map();
    this.hasMore = false;
    this.loading = false;
    this.contactName = '';
    this.frame = 0;
    // Messages that arrived while the agent read further up, offered one click away.
    this.jump = $('jump-newest');
    this.unseen = 0;
    this.jump.addEventListener('click', () => { this.paint({ toBottom: true }); this.clearUnseen(); });
    this.el.addEventListener('scroll', () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  /** Show a new conversation, scrolled to its newest message; with `unread` customer messages
   * not read before, a divider says where they start (until another conversation opens). */
  reset(contactName, messages, hasMore, unread = 0) {
    this.highlight = null;
    this.clearUnseen();
    this.firstUnread = firstUnreadKey(messages, unread);
    this.unreadCount = unread;
    this.contactName = contactName;
    this.messages = [...messages];
    this.heights.clear();
    this.hasMore = hasMore;
    this.setLoading(false);
    this.el.scrollTop = 0;
    this.paint({ toBottom: true });
  }

  /** Show a conversation scrolled to the row whose `messageKey` is `key` (a search hit: a
   * message's wamid or `note-<seq>`), highlighted. */
  reveal(contactName, messages, hasMore, key) {
    this.reset(contactName, messages, hasMore);
    this.highlight = key;
    const i = this.messages.findIndex((m) => messageKey(m) === key);
    if (i < 0) return;
    // Lay out twice: rows measured on the way change the offsets.
    for (let pass = 0; pass < 2; pass += 1) {
      this.el.scrollTop = Math.max(0, this.offsets()[i] + this.top.offsetTop - this.el.clientHeight / 3);
      this.layout(this.el.scrollTop);
      this.measure();
    }
    this.layout(this.el.scrollTop);
  }

  /** Add an older page at the top, keeping what the agent is reading in place. */
  prepend(older, hasMore) {
    const known = new Set(this.messages.map(messageKey));
    this.messages = [...older.filter((m) => !known.has(messageKey(m))), ...this.messages];
    this.hasMore = hasMore;
    this.setLoading(false);
    this.paint({});
  }

  /** Insert or update messages (new arrivals, status changes). Follows the bottom if already there. */
  upsert(updated) {
    const atBottom = this.isAtBottom();
    const index = new Map(this.messages.map((m, i) => [messageKey(m), i]));
    let arrived = 0;
    for (const m of updated) {
      // A queued send gets its wamid later: match it by outbox id too.
      const i = index.get(messageKey(m)) ?? (m.idempotency_key ? index.get(`outbox-${m.idempotency_key}`) : undefined);
      if (i === undefined) {
        this.messages.push(m);
        if (m.side === 'customer' || m.side === 'app') arrived += 1;
      } else {
        this.heights.delete(messageKey(this.messages[i]));
        this.messages[i] = m;
      }
    }
    // Meta time, then arrival (the store's order); unsent outbox items last.
    this.messages.sort((a, b) => (a.timestamp || 0) - (b.timestamp || 0) || (a.arrival ?? 0) - (b.arrival ?? 0));
    this.paint({ toBottom: atBottom });
    if (!atBottom && arrived) this.showUnseen(arrived);
  }

  showUnseen(count) {
    this.unseen += count;
    this.jump.textContent = `↓ ${this.unseen} new message${this.unseen === 1 ? '' : 's'}`;
    this.jump.hidden = false;
  }

  clearUnseen() {
    this.unseen = 0;
    this.jump.hidden = true;
  }

  /** `before` for the next older page: [timestamp, arrival] of the oldest stored message. */
  get oldestCursor() {
    const oldest = this.messages.find((m) => m.wamid && m.arrival !== Number.MAX_SAFE_INTEGER);
    return oldest ? [oldest.timestamp, oldest.arrival] : null;
  }

  setLoading(on) {
    this.loading = on;
    this.loadingEl.hidden = !on;
  }

  isAtBottom() {
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < STICK;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint({ toBottom: false });
      if (this.unseen && this.isAtBottom()) this.clearUnseen();
      this.maybeLoadOlder();
    });
  }

  maybeLoadOlder() {
    if (this.hasMore && !this.loading && this.el.scrollTop < LOAD_OLDER_AT) {
      this.setLoading(true);
      this.onNeedOlder();
    }
  }

  heightOf(m) {
    return this.heights.get(messageKey(m)) ?? ESTIMATE;
  }

  offsets() {
    const out = new Array(this.messages.length + 1);
    out[0] = 0;
    for (let i = 0; i < this.messages.length; i += 1) out[i + 1] = out[i] + this.heightOf(this.messages[i]);
    return out;
  }

  /** The first row showing at the top of the viewport, and how far into it we are. */
  anchor() {
    for (const row of this.rows.children) {
      if (row.offsetTop + row.offsetHeight > this.el.scrollTop) {
        return { key: row.dataset.key, delta: row.offsetTop - this.el.scrollTop };
      }
    }
    return null;
  }

  paint({ toBottom }) {
    const anchor = toBottom ? null : this.anchor();
    this.layout(toBottom ? Number.MAX_SAFE_INTEGER : this.el.scrollTop);
    // Measuring may change heights; lay out again with the measured values, then restore position.
    if (this.measure()) this.layout(toBottom ? Number.MAX_SAFE_INTEGER : this.el.scrollTop);
    if (toBottom) {
      this.el.scrollTop = this.el.scrollHeight;
      this.layout(this.el.scrollTop);
      if (this.measure()) this.layout(this.el.scrollTop);
      this.el.scrollTop = this.el.scrollHeight;
    } else if (anchor) {
      const i = this.messages.findIndex((m) => messageKey(m) === anchor.key);
      if (i >= 0) {
        const offs = this.offsets();
        const target = offs[i] + this.top.offsetTop - anchor.delta;
        if (Math.abs(target - this.el.scrollTop) > 1) {
          this.el.scrollTop = target;
          this.layout(this.el.scrollTop);
          this.measure();
        }
      }
    }
  }

  /** Render the rows intersecting [scrollTop - OVERSCAN, scrollTop + height + OVERSCAN]. */
  layout(scrollTop) {
    const offs = this.offsets();
    const total = offs[offs.length - 1];
    const view = this.el.clientHeight || 600;
    const top = Math.min(scrollTop, Math.max(0, total - view));
    let first = 0;
    while (first < this.messages.length && offs[first + 1] < top - OVERSCAN) first += 1;
    let last = first;
    while (last < this.messages.length && offs[last] < top + view + OVERSCAN) last += 1;
    this.top.style.height = `${offs[first]}px`;
    this.bottom.style.height = `${total - offs[last]}px`;
    const byWamid = new Map(this.messages.filter((m) => m.wamid).map((m) => [m.wamid, m]));
    const ctx = { contactName: this.contactName, byWamid, onRetry: this.onRetry, onReply: this.onReply, onReact: this.onReact };
    setChildren(this.rows, this.messages.slice(first, last).map((m, i) => this.row(m, first + i, ctx)));
    if (this.highlight) {
      for (const row of this.rows.children) if (row.dataset.key === this.highlight) row.classList.add('highlight');
    }
  }

  /** Message (or note) `index`, under a divider naming its day when it is that day's first. */
  row(m, index, ctx) {
    const row = m.note ? renderNote(m) : renderMessage(m, ctx);
    if (this.firstUnread && messageKey(m) === this.firstUnread) {
      const count = this.unreadCount;
      row.prepend(h('div', { class: 'unread-divider', role: 'separator', 'data-testid': 'unread-divider',
        text: `${count} unread message${count === 1 ? '' : 's'}` }));
    }
    const before = this.messages[index - 1];
    if (m.timestamp && (!before || !before.timestamp || !sameDay(before.timestamp, m.timestamp))) {
      row.prepend(h('div', { class: 'day-divider', role: 'separator', 'data-testid': 'day-divider', text: dayLabel(m.timestamp) }));
    }
    return row;
  }

  /** Record rendered heights; true when any changed. */
  measure() {
    let changed = false;
    for (const row of this.rows.children) {
      const hgt = row.offsetHeight;
      if (this.heights.get(row.dataset.key) !== hgt) {
        this.heights.set(row.dataset.key, hgt);
        changed = true;
      }
    }
    return changed;
  }

  /** How many rows are in the DOM (the e2e test checks virtualization with this). */
  get renderedCount() {
    return this.rows.children.length;
  }
}

/** The key of the first of the last `unread` customer messages (where the unread ones start). */
function firstUnreadKey(messages, unread) {
  let seen = 0;
  for (let i = messages.length - 1; i >= 0 && unread > 0; i -= 1) {
    if (messages[i].side === 'customer' && (seen += 1) === unread) return messageKey(messages[i]);
  }
  return null;
}
