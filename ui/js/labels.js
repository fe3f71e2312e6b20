// The team's labels ("VIP", "Refund", "Wholesale"): chips on the open conversation's header (+ Label
// puts one on, × takes it off, for every desktop through the bridge) and the "Label" menu under the
// filters, which lists one label's conversations. Label names are people's input: text only.

import { $, h, setChildren } from './dom.js';
import { api, errorText } from './api.js';

/** The list filter that shows one label's conversations. */
export const labelFilter = (label) => `label:${label}`;

/** At most this many chips on a list row; the rest are counted ("+2"). */
const ROW_CHIPS = 3;

/** A list row's label chips. */
export function rowLabels(labels) {
  if (!labels?.length) return null;
  const shown = labels.slice(0, ROW_CHIPS).map((l) => h('span', { class: 'label-chip', 'data-testid': 'row-label', text: l }));
  const more = labels.length - ROW_CHIPS;
  return [shown, more > 0 ? h('span', { class: 'label-chip more', title: labels.slice(ROW_CHIPS).join(', '), text: `+${more}` }) : null];
}

export class Labels {
  /** `onFilter(filter)`: list `label:NAME` (or `all` when the menu is set back); `onKnown(labels)`:
   * the team's labels changed (`[{label, conversations}]`); `toast(text)`. */
  constructor({ onFilter, onKnown, toast }) {
    this.onFilter = onFilter;
    this.onKnown = onKnown;
    this.toast = toast;
    this.conv = null;
    this.known = [];
    this.bar = $('conv-labels');
    this.menu = $('label-filter');
    this.suggestions = $('team-labels');
    this.menu.addEventListener('change', () => this.onFilter(this.menu.value ? labelFilter(this.menu.value) : 'all'));
  }

  /** The open conversation's chips. */
  show(conv) {
    this.conv = conv;
    setChildren(this.bar,
      (conv.labels || []).map((label) => h('span', { class: 'label-chip', 'data-testid': 'conv-label', dataset: { label } },
        label,
        h('button', { type: 'button', class: 'label-remove', 'data-testid': 'label-remove', 'aria-label': `Take off the label ${label}`,
          title: 'Take this label off (for the whole team)', onclick: () => this.set(label, false) }, '×'))),
      h('button', { type: 'button', class: 'link label-add', 'data-testid': 'label-add', onclick: () => this.ask() }, '+ Label'));
  }

  /** A field in place of "+ Label": Enter puts the label on, Escape or leaving it puts it away. */
  ask() {
    const input = h('input', { type: 'text', class: 'label-input', 'data-testid': 'label-input', list: 'team-labels', maxlength: '32',
      placeholder: 'Label', 'aria-label': 'Label to put on this conversation', autocomplete: 'off' });
    let done = false;
    const finish = (label) => {
      if (done) return;
      done = true;
      if (label) this.set(label, true); else if (this.conv) this.show(this.conv);
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); finish(input.value.trim()); }
      if (e.key === 'Escape') { e.preventDefault(); finish(null); }
    });
    input.addEventListener('blur', () => finish(null));
    this.bar.querySelector('[data-testid=label-add]').replaceWith(input);
    input.focus();
  }

  async set(label, on) {
    if (!this.conv) return;
    try {
      await api.label(this.conv.conversation, label, on);
    } catch (e) {
      this.toast(`Could not ${on ? 'put on' : 'take off'} the label: ${errorText(e)}`);
      this.show(this.conv);
    }
  }

  /** The team's labels in the filter menu (hidden while there are none) and as suggestions. */
  async refresh(filter) {
    try {
      this.known = await api.labels();
    } catch {
      return; // the menu keeps what it had; the list says what went wrong
    }
    const current = filter.startsWith('label:') ? filter.slice('label:'.length) : '';
    const names = this.known.map((l) => l.label);
    if (current && !names.includes(current)) names.unshift(current);
    setChildren(this.menu, h('option', { value: '' }, 'Label…'),
      names.map((name) => {
        const count = this.known.find((l) => l.label === name)?.conversations ?? 0;
        return h('option', { value: name }, `${name} (${count})`);
      }));
    this.menu.value = current;
    this.menu.hidden = names.length === 0;
    setChildren(this.suggestions, this.known.map((l) => h('option', { value: l.label })));
    this.onKnown(this.known);
  }
}
