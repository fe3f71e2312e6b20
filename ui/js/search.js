// The search box: people first (customers whose name or number matches: one click opens their
// conversation), then messages and the team's notes, with every filter the store knows (number,
// contact, agent, side, date range, label). A message or note hit opens its conversation scrolled to it;
// message and note results export to CSV/JSON.

import { $, h, setChildren } from './dom.js';
import { api, errorText } from './api.js';
import { shortTime, contactTitle, numberBeside, oneLine } from './format.js';

const SIDE_LABEL = { customer: 'Customer', api: 'API', app: 'Business App', history: 'History' };

/** Local day `YYYY-MM-DD` → Unix seconds at its start (or end with `endOfDay`). */
export function dayToTs(day, endOfDay = false) {
  if (!day) return null;
  const [y, m, d] = day.split('-').map(Number);
  const start = new Date(y, m - 1, d).getTime() / 1000;
  return endOfDay ? start + 86_399 : start;
}

/** Message and note hits in one list, newest first; within a second a note comes first (it
 * follows that second's messages in the thread). */
function newestFirst(messages, notes) {
  const noteHits = notes.map((n) => ({ ...n, note: true, timestamp: Math.floor(n.at_ms / 1000) }));
  return [...noteHits, ...messages].sort((a, b) => b.timestamp - a.timestamp);
}

export class Search {
  /** `onOpen(hit)`: open the hit (a message, or a note: `hit.note`) in context; `onOpenPerson(conv)`:
   * open a person's conversation (a list row); `onSearching(bool)`: results shown or not; `toast(text)`. */
  constructor({ onOpen, onOpenPerson, onSearching, toast }) {
    this.onOpen = onOpen;
    this.onOpenPerson = onOpenPerson;
    this.onSearching = onSearching;
    this.toast = toast;
    this.input = $('search');
    this.results = $('search-results');
    this.timer = 0;
    this.buildFilters();
    this.input.addEventListener('input', () => this.schedule());
    this.input.addEventListener('keydown', (e) => this.onInputKey(e));
    this.results.addEventListener('keydown', (e) => this.onResultKey(e));
  }

  /** Put the cursor in the box, its text selected (Ctrl+K or / from anywhere). */
  focus() {
    this.input.focus();
    this.input.select();
  }

  /** In the box: Esc empties it (the list comes back), ↓ steps into the results. */
  onInputKey(e) {
    if (e.key === 'Escape' && this.input.value) {
      e.preventDefault();
      clearTimeout(this.timer);
      this.clear();
    } else if (e.key === 'ArrowDown') {
      const first = this.results.querySelector('.search-hit');
      if (first && !this.results.hidden) { e.preventDefault(); first.focus(); }
    }
  }

  /** In the results: ↑/↓ move (↑ from the first goes back to the box), Enter opens, Esc goes back. */
  onResultKey(e) {
    const hits = [...this.results.querySelectorAll('.search-hit')];
    const at = hits.indexOf(document.activeElement);
    if (at < 0) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = at + (e.key === 'ArrowDown' ? 1 : -1);
      (next < 0 ? this.input : hits[Math.min(next, hits.length - 1)]).focus();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      hits[at].click();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.input.focus();
    }
  }

  buildFilters() {
    const field = (label, el) => h('label', { class: 'search-field' }, h('span', { text: label }), el);
    this.number = h('select', { 'data-testid': 'search-number' }, h('option', { value: '' }, 'Any number'));
    this.contact = h('input', { type: 'text', 'data-testid': 'search-contact', placeholder: '+15551230001', autocomplete: 'off' });
    this.agent = h('input', { type: 'text', 'data-testid': 'search-agent', placeholder: 'Agent name', autocomplete: 'off' });
    this.side = h('select', { 'data-testid': 'search-side' },
      h('option', { value: '' }, 'Any side'), Object.entries(SIDE_LABEL).map(([v, l]) => h('option', { value: v }, l)));
    this.from = h('input', { type: 'date', 'data-testid': 'search-from' });
    this.to = h('input', { type: 'date', 'data-testid': 'search-to' });
    this.label = h('select', { 'data-testid': 'search-label' }, h('option', { value: '' }, 'Any label'));
    for (const el of [this.number, this.side, this.from, this.to, this.label]) el.addEventListener('change', () => this.schedule());
    for (const el of [this.contact, this.agent]) el.addEventListener('input', () => this.schedule());
    this.actions = h('div', { class: 'search-actions', 'data-testid': 'search-actions', hidden: true },
      h('button', { type: 'button', class: 'link', 'data-testid': 'export-search-csv', onclick: () => this.export('csv') }, 'Export CSV'),
      h('button', { type: 'button', class: 'link', 'data-testid': 'export-search-json', onclick: () => this.export('json') }, 'Export JSON'));
    const details = h('details', { class: 'search-filters', 'data-testid': 'search-filters' },
      h('summary', { text: 'Filters' }),
      h('div', { class: 'search-grid' },
        field('Number', this.number), field('Contact', this.contact), field('Agent', this.agent),
        field('Side', this.side), field('From', this.from), field('To', this.to), field('Label', this.label)));
    this.input.after(details, this.actions);
  }

  /** Numbers offered in the filter (from number health). */
  setNumbers(health) {
    const current = this.number.value;
    setChildren(this.number, h('option', { value: '' }, 'Any number'),
      (health || []).map((n) => h('option', { value: n.phone_number_id }, n.display_number || n.phone_number_id)));
    this.number.value = current;
  }

  /** The team's labels offered in the filter (`[{label, conversations}]`). */
  setLabels(known) {
    const current = this.label.value;
    const names = known.map((l) => l.label);
    if (current && !names.includes(current)) names.unshift(current);
    setChildren(this.label, h('option', { value: '' }, 'Any label'), names.map((name) => h('option', { value: name }, name)));
    this.label.value = current;
  }

  form() {
    return {
      text: this.input.value.trim(),
      phone_number_id: this.number.value || null,
      contact: this.contact.value.trim() || null,
      agent: this.agent.value.trim() || null,
      side: this.side.value || null,
      from_ts: dayToTs(this.from.value),
      to_ts: dayToTs(this.to.value, true),
      label: this.label.value || null,
    };
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), 200);
  }

  clear() {
    this.input.value = '';
    this.setSearching(false);
  }

  setSearching(on) {
    this.results.hidden = !on;
    this.actions.hidden = !on;
    this.onSearching(on);
  }

  async run() {
    const form = this.form();
    this.setSearching(form.text.length > 0);
    if (!form.text) return;
    try {
      const [messages, notes, people] = await Promise.all([
        api.searchMessages(form), api.searchNotes(form), this.peopleWanted(form) ? api.findPeople(form.text, form.phone_number_id) : [],
      ]);
      if (this.form().text !== form.text) return; // typed on meanwhile
      const hits = newestFirst(messages, notes);
      this.actions.hidden = hits.length === 0;
      const group = (label) => h('li', { class: 'search-group', text: label });
      setChildren(this.results,
        people.length ? [group('People'), people.map((conv) => this.renderPerson(conv)), hits.length ? group('Messages and notes') : null] : null,
        hits.map((hit) => this.renderHit(hit)),
        people.length || hits.length ? null : h('li', { class: 'muted', text: 'No people, messages or notes match.' }));
    } catch (e) {
      this.actions.hidden = true;
      setChildren(this.results, h('li', { class: 'form-error', text: `Search failed: ${errorText(e)}` }));
    }
  }

  /** People are found by name or number (within a number) only: the other filters narrow messages. */
  peopleWanted(form) {
    return !form.contact && !form.agent && !form.side && !form.label && form.from_ts == null && form.to_ts == null;
  }

  renderPerson(conv) {
    const contact = conv.conversation.contact;
    const number = numberBeside(conv.contact_name, contact);
    return h('li', {
      class: 'search-hit person-hit',
      'data-testid': 'search-person',
      tabindex: '0',
      dataset: { contact },
      onclick: () => { this.clear(); this.onOpenPerson(conv); },
    }, h('span', { class: 'conv-name', text: contactTitle(conv.contact_name, contact) }),
    h('span', { class: 'muted', text: [number, conv.last_activity ? shortTime(conv.last_activity) : 'no messages yet'].filter(Boolean).join(' · ') }),
    h('span', { class: 'preview', text: oneLine(conv.preview || '') }));
  }

  renderHit(hit) {
    const who = hit.note ? `Note · ${hit.author}` : `${SIDE_LABEL[hit.side] || hit.side}${hit.agent ? ` · ${hit.agent}` : ''}`;
    return h('li', {
      class: hit.note ? 'search-hit note-hit' : 'search-hit',
      'data-testid': hit.note ? 'search-note-hit' : 'search-hit',
      tabindex: '0',
      dataset: hit.note ? { seq: hit.seq } : { wamid: hit.wamid },
      onclick: () => { this.clear(); this.onOpen(hit); },
    }, h('span', { class: 'conv-name', text: contactTitle(hit.contact_name, hit.conversation.contact) }),
    h('span', { class: 'muted', text: `${who} · ${shortTime(hit.timestamp)}` }),
    h('span', { class: 'preview' }, (hit.snippet || []).map((part) => (part.matched ? h('mark', { text: part.text }) : part.text))));
  }

  async export(format) {
    try {
      const done = await api.exportSearch(this.form(), format);
      this.toast(`Exported ${done.rows} rows (messages and notes) to ${done.path}`);
    } catch (e) {
      this.toast(`Export failed: ${errorText(e)}`);
    }
  }
}
