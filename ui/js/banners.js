// Banners: things the agent must know that are not about one message.

import { h, setChildren, $ } from './dom.js';
import { connectBannerFor } from './connect.js';

const GROUP_CAVEAT = 'Group chats are not synced through the Cloud API — connect the number by QR code as well to see them.';

/** `info`: app_info(); `health`: number_health(). */
export function renderBanners(info, health) {
  const banners = [];
  if (info?.mode === 'demo') {
    banners.push(banner('info', 'banner-demo', 'Sandbox mode — simulated WhatsApp, no Meta account'));
  }
  const connect = connectBannerFor(info);
  if (connect) banners.push(connect);
  const numbers = Array.isArray(health) ? health : [];
  if (numbers.some((n) => n.mode === 'coexistence')) {
    banners.push(banner('info', 'banner-groups', GROUP_CAVEAT));
  }
  for (const n of numbers) {
    const label = n.display_number || n.phone_number_id;
    if (n.offboarded) {
      banners.push(banner('error', 'banner-offboarded',
        `${label} was disconnected from the Cloud API${n.last_account_event ? ` (${n.last_account_event})` : ''}. Messages can't be sent or received here until it is connected again in Meta Business Manager.`));
    }
    const days = n.secs_since_app_activity == null ? null : Math.floor(n.secs_since_app_activity / 86400);
    if (n.mode === 'coexistence' && days != null && days >= 10) {
      banners.push(banner('warn', 'banner-app-inactive',
        `The WhatsApp Business App for ${label} has not been used for ${days} days. Open it on the phone: Meta may remove the connection after 13–14 days.`));
    }
    if ((n.recent_payment_failures || []).length > 0) {
      banners.push(banner('error', 'banner-payment',
        `Template messages from ${label} are failing because of a payment problem (Meta error 131042). Fix the payment method in Meta Business Manager → Payment Settings.`));
    }
  }
  setChildren($('banners'), banners);
}

function banner(level, testid, text) {
  return h('div', { class: `banner banner-${level}`, role: level === 'error' ? 'alert' : 'note', 'data-testid': testid, text });
}
