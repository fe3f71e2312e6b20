// The team's own layer on a conversation: who handles it (the "Assigned" menu in the header),
// whether it is done ("Mark done" / "Reopen"; the customer writing reopens it too), and notes for
// each other (rows of their own in the thread; the customer never sees them).
// Names and note texts are people's input: they go in as text only (see dom.js).

import { $, h, setChildren } from './dom.js';
import { api, errorText } from './api.js';
import { clockTime, fullTime } from './format.js';

/** When a snooze choice ends, in Unix ms (local time for "9:00"). */
export function snoozeEnd(choice, now = new Date()) {
  const at = new Date(now);
  switch (choice) {
    case '1h': return now.getTime() + 3600_000;
    case '3h': return now.getTime() + 3 * 3600_000;
    case 'tomorrow': at.setDate(at.getDate() + 1); break;
    case 'monday': at.setDate(at.getDate() + (((8 - at.getDay()) % 7) || 7)); break;
    default: return null;
  }
  at.setHours(9, 0, 0, 0);
  return at.getTime();
}

/** A note from a thread page, as a thread row: placed by time among the messages. */
export function fromNote(note) {
  return {
    note: true,
    seq: note.seq,
    author: note.author,
    text: note.text,
    timestamp: Math.floor(note.at_ms / 1000),
    // After the messages of the same second, before sends Meta has not taken yet.
    arrival: Number.MAX_SAFE_INTEGER - 1,
  };
}

export function renderNote(n) {
  return h('article', { class: 'msg note', 'data-testid': 'note', dataset: { key: `note-${n.seq}` } },
    h('div', { class: 'bubble' },
      h('div', { class: 'sender' },
        h('span', { class: 'who', 'data-testid': 'note-author', text: n.author }),
        h('span', { class: 'where', text: 'note for the team' })),
      h('p', { class: 'text', 'data-testid': 'note-text', text: n.text }),
      h('div', { class: 'foot' }, h('time', { class: 'muted', title: fullTime(n.timestamp), text: clockTime(n.timestamp) }))));
}

/** "Assigned" menu and "Add note" form of the open conversation. */
export class TeamControls {
  constructor({ toast }) {
    this.toast = toast;
    this.conv = null;
    /** This desktop's agent (named "(you)" in the menu). */
    this.me = '';
    this.members = [];
    this.select = $('conv-assignee');
    this.form = $('note-form');
    this.text = $('note-text');
    this.select.addEventListener('focus', () => this.loadMembers());
    this.select.addEventListener('change', () => this.assign(this.select.value || null));
    this.doneButton = $('mark-done');
    this.doneButton.addEventListener('click', () => this.markDone(!this.conv?.done));
    this.snooze = $('snooze');
    this.snooze.addEventListener('change', () => {
      const until = snoozeEnd(this.snooze.value);
      this.snooze.value = '';
      if (until) this.markDone(true, until);
    });
    $('add-note').addEventListener('click', () => this.openNote());
    $('note-cancel').addEventListener('click', () => this.closeNote());
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.saveNote(); });
    this.text.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.closeNote();
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.saveNote(); }
    });
    this.loadMembers();
  }

  /** The conversation in the header changed, or its row did (a teammate assigned it). */
  show(conv) {
    const other = !this.conv || this.conv.conversation.phone_number_id !== conv.conversation.phone_number_id
      || this.conv.conversation.contact !== conv.conversation.contact;
    if (other) this.closeNote();
    this.conv = conv;
    this.paintWriting();
    // Two agents answering one customer is what assigning prevents: say whose it is.
    const elsewhere = conv.assignee && conv.assignee !== this.me;
    const hint = $('assigned-hint');
    hint.hidden = !elsewhere;
    hint.textContent = elsewhere ? `${conv.assignee} handles this conversation. A reply from you goes out all the same.` : '';
    this.doneButton.textContent = conv.done ? 'Reopen' : 'Mark done';
    this.doneButton.dataset.done = String(Boolean(conv.done));
    // Not while the agent has the menu in hand.
    if (document.activeElement !== this.select) this.paintMenu();
  }

  /** No conversation open: nothing to say, no note being written. */
  hide() {
    this.closeNote();
    this.conv = null;
    $('assigned-hint').hidden = true;
    this.paintWriting();
  }

  /** A teammate is writing to a customer: said above the composer of that conversation while
   * it lasts (a notice comes every 20 s while they type; each lasts 25 s). */
  writing({ conversation, agent, until_ms: untilMs }) {
    this.writers ??= new Map();
    const key = `${conversation.phone_number_id}|${conversation.contact}`;
    const forKey = this.writers.get(key) ?? new Map();
    forKey.set(agent, untilMs);
    this.writers.set(key, forKey);
    this.paintWriting();
  }

  /** Says who is writing to the open conversation's customer; looks again when the first of
   * them runs out. */
  paintWriting() {
    const hint = $('writing-hint');
    const conv = this.conv?.conversation;
    const forKey = conv && this.writers?.get(`${conv.phone_number_id}|${conv.contact}`);
    const now = Date.now();
    const live = forKey ? [...forKey].filter(([, until]) => until > now) : [];
    const names = live.map(([agent]) => agent);
    hint.hidden = names.length === 0;
    hint.textContent = names.length ? `${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'} writing to this customer now.` : '';
    clearTimeout(this.writingTimer);
    if (live.length) this.writingTimer = setTimeout(() => this.paintWriting(), Math.min(...live.map(([, until]) => until)) - now + 50);
  }

  async loadMembers() {
    try {
      this.members = await api.team();
    } catch (e) {
      // Offline: the menu still offers who it knew, and the current assignee.
      return;
    }
    if (this.conv) this.paintMenu();
  }

  paintMenu() {
    const current = this.conv?.assignee || '';
    const names = this.members.map((m) => m.name);
    // Someone no longer on the bridge can still hold a conversation: show who.
    if (current && !names.includes(current)) names.push(current);
    // Rebuilt only when the choices changed (rebuilding would close a menu the agent opened).
    const choices = JSON.stringify(names);
    if (choices === this.painted) {
      this.select.value = current;
      return;
    }
    this.painted = choices;
    setChildren(this.select,
      h('option', { value: '', text: 'Nobody', title: 'Not assigned: the whole team handles it' }),
      names.map((name) => h('option', { value: name, text: name === this.me ? `${name} (you)` : name })));
    this.select.value = current;
  }

  async assign(assignee) {
    const conv = this.conv;
    if (!conv) return;
    this.select.disabled = true;
    try {
      await api.assign(conv.conversation, assignee);
      this.toast(assignee ? `Assigned to ${assignee}` : 'Back with the whole team');
    } catch (e) {
      this.select.value = conv.assignee || '';
      this.toast(`Could not assign: ${errorText(e)}`);
    } finally {
      this.select.disabled = false;
    }
  }

  async markDone(done, untilMs) {
    const conv = this.conv;
    if (!conv) return;
    this.doneButton.disabled = true;
    try {
      await api.markDone(conv.conversation, done, untilMs);
      const back = untilMs ? `Snoozed until ${fullTime(Math.floor(untilMs / 1000))}, or until the customer writes`
        : 'Done — it comes back when the customer writes';
      // A click too many is taken back from the toast, whichever conversation is open by then.
      const undo = { label: 'Undo', run: () => this.reopen(conv) };
      this.toast(done ? back : 'Open again', done ? undo : null);
    } catch (e) {
      this.toast(`Could not mark it ${done ? 'done' : 'open'}: ${errorText(e)}`);
    } finally {
      this.doneButton.disabled = false;
    }
  }

  async reopen(conv) {
    try {
      await api.markDone(conv.conversation, false);
      this.toast('Open again');
    } catch (e) {
      this.toast(`Could not undo: ${errorText(e)}`);
    }
  }

  openNote() {
    this.form.hidden = false;
    this.text.focus();
  }

  closeNote() {
    this.form.hidden = true;
    this.text.value = '';
  }

  async saveNote() {
    const conv = this.conv;
    const text = this.text.value;
    if (!conv || !text.trim()) return;
    const save = $('note-save');
    save.disabled = true;
    try {
      await api.addNote(conv.conversation, text);
      this.closeNote();
    } catch (e) {
      this.toast(`Could not save the note: ${errorText(e)}`);
    } finally {
      save.disabled = false;
    }
  }
}
