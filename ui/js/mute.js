// Muting a conversation on this desktop: its customer's messages and closing window raise no
// desktop notification, for 8 hours, a week, or until unmuted. Personal, like a draft: the team
// is not told. The header's Mute… menu, or Unmute while muted; the list row shows 🔕.

import { $ } from './dom.js';
import { api, errorText } from './api.js';
import { fullTime } from './format.js';

const HOUR_MS = 3_600_000;

/** When a mute choice ends, in Unix ms (`null`: until unmuted). */
export function muteEnd(choice, nowMs = Date.now()) {
  if (choice === '8h') return nowMs + 8 * HOUR_MS;
  if (choice === 'week') return nowMs + 7 * 24 * HOUR_MS;
  return null;
}

export class MuteControl {
  constructor({ toast }) {
    this.toast = toast;
    this.conv = null;
    this.menu = $('mute');
    this.unmuteButton = $('unmute');
    this.menu.addEventListener('change', () => {
      const choice = this.menu.value;
      this.menu.value = '';
      if (choice) this.mute(muteEnd(choice));
    });
    this.unmuteButton.addEventListener('click', () => this.unmute());
  }

  /** The open conversation, or its row, changed. */
  show(conv) {
    this.conv = conv;
    this.menu.hidden = conv.muted;
    this.unmuteButton.hidden = !conv.muted;
    this.unmuteButton.title = conv.muted_until_ms ? `Muted until ${fullTime(conv.muted_until_ms / 1000)}` : 'Muted until you unmute it';
  }

  async mute(untilMs) {
    const conv = this.conv;
    if (!conv) return;
    try {
      await api.mute(conv.conversation, untilMs);
      this.toast(untilMs ? `Muted until ${fullTime(untilMs / 1000)}` : 'Muted until you unmute it');
    } catch (e) {
      this.toast(`Could not mute: ${errorText(e)}`);
    }
  }

  async unmute() {
    const conv = this.conv;
    if (!conv) return;
    try {
      await api.unmute(conv.conversation);
      this.toast('Notifications on again');
    } catch (e) {
      this.toast(`Could not unmute: ${errorText(e)}`);
    }
  }
}
