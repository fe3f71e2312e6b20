// The onboarding history import: a progress bar per number while Meta is still sending the
// chats from the phone. Imported messages never notify, never count as unread and never open a
// window (the store's rules); this only shows how far the import is.

import { $, h, setChildren } from './dom.js';
import { api } from './api.js';

/** Whether an import is still running: some progress below 100 % and no error. */
export const running = (p) => !p.error && (p.progress ?? 0) < 100;

export class HistoryProgress {
  constructor() {
    this.el = $('history-progress');
    this.pending = null;
  }

  async refresh() {
    if (this.pending) return this.pending;
    this.pending = api.historyProgress()
      .then((list) => this.render(list))
      .catch(() => {}) // progress is a nicety: the inbox works without it
      .finally(() => { this.pending = null; });
    return this.pending;
  }

  render(list) {
    const shown = (list || []).filter((p) => running(p) || p.error);
    this.el.hidden = shown.length === 0;
    setChildren(this.el, shown.map((p) => h('div', { class: 'history-item', 'data-testid': 'history-item', dataset: { number: p.phone_number_id } },
      h('span', { class: 'history-label', text: p.error
        ? `Chat history import failed: ${p.error.reason}`
        : `Importing chat history: ${p.progress ?? 0}% (${p.imported_messages} messages)` }),
      p.error ? null : h('progress', { max: '100', value: String(p.progress ?? 0), 'data-testid': 'history-bar' }))));
  }
}
