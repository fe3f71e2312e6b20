// The managers' "Reports" view: a date range (and number) picker and charts of replies by side
// per day, first response time, windows that expired unanswered, template use and failures
// by error code. Everything is built with h()/svg(): customer strings only ever become text.

import { $, h, setChildren } from './dom.js';
import { api, errorText } from './api.js';
import { stackedBars, horizontalBars } from './charts.js';
import { fullTime, contactTitle } from './format.js';

const DAY_MS = 86_400_000;
const SIDES = [
  { key: 'customer', name: 'Customer' },
  { key: 'api', name: 'API' },
  { key: 'app', name: 'Business App' },
];

/** `YYYY-MM-DD` of a local Date (what <input type="date"> holds). */
export const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** Local midnight of a `YYYY-MM-DD` day. */
function localMidnight(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d);
}

/** The store query for local days `from`..`to` inclusive. */
export function rangeQuery(from, to, phoneNumberId) {
  const start = localMidnight(from);
  const end = new Date(localMidnight(to).getTime() + DAY_MS);
  return {
    phone_number_id: phoneNumberId || null,
    from_ts: Math.floor(start.getTime() / 1000),
    to_ts: Math.floor(end.getTime() / 1000) - 1,
    utc_offset_secs: -start.getTimezoneOffset() * 60,
  };
}

/** Seconds in plain words: 45 s, 12 min, 3 h 5 min, 2 d 4 h. */
export function duration(secs) {
  if (secs === null || secs === undefined) return '—';
  const s = Math.round(secs);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.round((s % 86_400) / 3600)} h`;
}

const SIDE_NAME = { api: 'API', app: 'Business App' };

export class Reports {
  /** `onOpenMessage(wamid)`: show that message in its conversation. */
  constructor({ onOpenMessage }) {
    this.el = $('reports');
    this.onOpenMessage = onOpenMessage;
    this.numbers = [];
    this.built = false;
  }

  /** The numbers offered in the picker (from number health). */
  setNumbers(health) {
    this.numbers = (health || []).map((n) => ({ id: n.phone_number_id, label: n.display_number || n.phone_number_id }));
    if (this.built) this.fillNumbers();
  }

  build() {
    const today = new Date();
    this.from = h('input', { type: 'date', id: 'report-from', 'data-testid': 'report-from', value: isoDay(new Date(today.getTime() - 6 * DAY_MS)), required: true });
    this.to = h('input', { type: 'date', id: 'report-to', 'data-testid': 'report-to', value: isoDay(today), required: true });
    this.number = h('select', { id: 'report-number', 'data-testid': 'report-number' });
    this.status = h('p', { class: 'muted report-status', 'data-testid': 'report-status', role: 'status' });
    this.body = h('div', { class: 'report-body', 'data-testid': 'report-body' });
    const form = h('form', { class: 'report-range', 'data-testid': 'report-range', onsubmit: (e) => { e.preventDefault(); this.load(); } },
      h('label', {}, 'From ', this.from),
      h('label', {}, 'To ', this.to),
      h('label', {}, 'Number ', this.number),
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'report-show' }, 'Show'));
    setChildren(this.el, h('header', { class: 'reports-head' }, h('h2', { text: 'Reports' }), form), this.status, this.body);
    this.fillNumbers();
    this.built = true;
  }

  fillNumbers() {
    const current = this.number.value;
    setChildren(this.number, h('option', { value: '' }, 'All numbers'), this.numbers.map((n) => h('option', { value: n.id }, n.label)));
    this.number.value = this.numbers.some((n) => n.id === current) ? current : '';
  }

  show() {
    if (!this.built) this.build();
    this.el.hidden = false;
    return this.load();
  }

  hide() { this.el.hidden = true; }

  async load() {
    if (this.from.value > this.to.value) {
      this.status.textContent = 'The range ends before it starts; pick the dates again.';
      return;
    }
    this.status.textContent = 'Loading…';
    try {
      const m = await api.metrics(rangeQuery(this.from.value, this.to.value, this.number.value));
      this.status.textContent = '';
      this.render(m);
    } catch (e) {
      this.status.textContent = `Could not load the report: ${errorText(e)}`;
    }
  }

  render(m) {
    this.el.dataset.loaded = 'true';
    setChildren(this.body,
      card('Replies by side per day', 'chart-replies', [
        legend(SIDES),
        stackedBars({
          title: 'Messages per day by side',
          series: SIDES,
          rows: m.replies_per_day.map((d) => ({ label: d.day, short: d.day.slice(5), values: d })),
        }),
      ]),
      card('First response time', 'chart-response', [
        h('p', { class: 'muted', text: 'From the first unanswered customer message to the first business reply.' }),
        responseTable(m.first_response),
        horizontalBars({
          title: 'First response time by side (median and 90th percentile)',
          format: duration,
          rows: m.first_response.filter((s) => s.side).flatMap((s) => [
            { label: `${SIDE_NAME[s.side]} median`, value: s.median_secs ?? null, cls: `bar-${s.side}` },
            { label: `${SIDE_NAME[s.side]} p90`, value: s.p90_secs ?? null, cls: `bar-${s.side}` },
          ]),
        }),
      ]),
      card(`Windows expired unanswered: ${m.expired_unanswered.total}`, 'chart-expired', [
        stackedBars({
          title: 'Windows expired unanswered per day',
          series: [{ key: 'count', name: 'Expired' }],
          rows: m.expired_unanswered.per_day.map((d) => ({ label: d.day, short: d.day.slice(5), values: { count: d.count } })),
        }),
        expiredList(m.expired_unanswered.windows, this.onOpenMessage),
      ]),
      card('Template use', 'chart-templates', m.templates.length
        ? horizontalBars({ title: 'Templates sent', rows: m.templates.map((t) => ({ label: t.name, value: t.sent, detail: `${t.failed} failed` })) })
        : h('p', { class: 'muted', text: 'No templates sent in this range.' })),
      card('Workload now', 'chart-workload', workloadTable(m.workload)),
      card('Failures by error code', 'chart-failures', m.failures.length
        ? [horizontalBars({ title: 'Failed messages by Meta error code', cls: 'bar-failed', rows: m.failures.map((f) => ({ label: String(f.code), value: f.count, detail: f.reason })) }),
          h('ul', { class: 'failure-reasons' }, m.failures.map((f) => h('li', {}, h('strong', { text: `${f.code}: ` }), `${f.reason}. ${f.what_to_do}.`)))]
        : h('p', { class: 'muted', text: 'No failed messages in this range.' })),
    );
  }
}

function card(title, testid, children) {
  return h('section', { class: 'report-card', 'data-testid': testid }, h('h3', { text: title }), children);
}

function legend(series) {
  return h('div', { class: 'legend' }, series.map((s) => h('span', { class: `swatch swatch-${s.key}` }, s.name)));
}

/** Open conversations (not marked done) per assignee, whatever the range. */
function workloadTable(rows) {
  if (!rows.length) return h('p', { class: 'muted', text: 'No open conversations.' });
  return h('table', { class: 'report-table', 'data-testid': 'workload-table' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Assigned to' }), h('th', { text: 'Open' }), h('th', { text: 'With unread messages' }))),
    h('tbody', {}, rows.map((w) => h('tr', { 'data-testid': 'workload-row' },
      h('td', { text: w.assignee ?? 'Nobody (the whole team)' }), h('td', { text: String(w.open) }), h('td', { text: String(w.unread) })))));
}

function responseTable(stats) {
  const name = (s) => (s.side ? SIDE_NAME[s.side] : 'All replies');
  return h('table', { class: 'report-table', 'data-testid': 'response-table' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Side' }), h('th', { text: 'Answered' }), h('th', { text: 'Median' }), h('th', { text: '90th percentile' }))),
    h('tbody', {}, stats.map((s) => h('tr', {},
      h('td', { text: name(s) }), h('td', { text: String(s.answered) }), h('td', { text: duration(s.median_secs) }), h('td', { text: duration(s.p90_secs) })))));
}

function expiredList(windows, onOpen) {
  if (!windows.length) return null;
  return h('ul', { class: 'expired-list' }, windows.slice(0, 20).map((w) => h('li', {},
    h('button', { type: 'button', class: 'link', 'data-testid': 'expired-window', onclick: () => onOpen(w.last_customer_wamid) },
      contactTitle(null, w.conversation.contact)),
    h('span', { class: 'muted', text: ` wrote ${fullTime(w.last_customer_at)}, expired ${fullTime(w.expired_at)}` }))));
}
