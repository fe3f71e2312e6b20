// Plain-language formatting shared by the inbox and the thread. Pure functions (no DOM).

export const HOUR = 3600;
/** The "Closing" filter and amber warning thresholds, in seconds. */
export const AMBER_UNDER = HOUR;

export const nowSecs = () => Math.floor(Date.now() / 1000);

/** When the window of a ConversationSummary closes (Unix s), or null when it is closed. */
export const expiresAt = (conv) => (conv?.window?.state === 'open' ? conv.window.expires_at : null);

/**
 * What to call a contact: their profile name, else their number with its "+" (a contact known
 * only by Meta's user id has no number to show). The engine's notifications say the same.
 */
export const contactTitle = (name, contact) =>
  name || (contact.startsWith('user:') ? 'A customer' : `+${contact}`);

/** The number to show beside a contact's title: none when the title is the number already. */
export const numberBeside = (name, contact) => (name && !contact.startsWith('user:') ? `+${contact}` : '');

/** 'api' | 'app' | 'unowned' from a ConversationSummary's `owner` ({"owner": "api", "agent": ..}). */
export const ownerKind = (conv) => conv?.owner?.owner || 'unowned';

/** The customer-service window as the agent should read it. `expiresAt`: Unix seconds or null. */
export function windowState(expiresAt, now = nowSecs()) {
  if (!expiresAt || expiresAt <= now) {
    return { state: 'closed', open: false, label: 'Closed — template only' };
  }
  const left = expiresAt - now;
  const hours = Math.floor(left / HOUR);
  const minutes = Math.floor((left % HOUR) / 60);
  let label;
  if (hours > 0) label = `${hours} h ${minutes} m left`;
  else if (minutes > 0) label = `${minutes} m left`;
  else label = 'under 1 m left';
  return { state: left < AMBER_UNDER ? 'closing' : 'open', open: true, label, secondsLeft: left };
}

/** How long a customer who wrote last has waited (`since`: Unix seconds, Meta time). */
export function waitedFor(since, now = nowSecs()) {
  const waited = Math.max(0, now - since);
  const days = Math.floor(waited / 86_400);
  const hours = Math.floor((waited % 86_400) / HOUR);
  const minutes = Math.floor((waited % HOUR) / 60);
  if (days > 0) return `Waiting ${days} d ${hours} h`;
  if (hours > 0) return `Waiting ${hours} h ${minutes} m`;
  return minutes > 0 ? `Waiting ${minutes} m` : 'Waiting under 1 m';
}

/** Who owns the conversation: the side that sent the last business reply. */
export function ownerBadge(owner, agent) {
  switch (owner) {
    case 'api': return { kind: 'api', label: agent ? `API · ${agent}` : 'API' };
    case 'app': return { kind: 'app', label: 'App' };
    default: return { kind: 'new', label: 'New' };
  }
}

const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DAY = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Short time for lists: today's time, otherwise the date. */
export function shortTime(ts, now = nowSecs()) {
  if (!ts) return '';
  const d = new Date(ts * 1000);
  const n = new Date(now * 1000);
  return d.toDateString() === n.toDateString() ? TIME.format(d) : DAY.format(d);
}

export const fullTime = (ts) => (ts ? FULL.format(new Date(ts * 1000)) : '');

/** The clock time alone (a thread says the day above each day's first message). */
export const clockTime = (ts) => (ts ? TIME.format(new Date(ts * 1000)) : '');

const WEEKDAY = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
const DATE = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric' });

/** Local midnight of `ts` (Unix seconds), as a day number for comparing. */
const dayNumber = (ts) => { const d = new Date(ts * 1000); return Math.round(new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() / 86_400_000); };

/** Whether two Unix times fall on the same local day. */
export const sameDay = (a, b) => dayNumber(a) === dayNumber(b);

/** The day of `ts` as a thread's divider says it: Today, Yesterday, a weekday within the week,
 * else the date. */
export function dayLabel(ts, now = nowSecs()) {
  const ago = dayNumber(now) - dayNumber(ts);
  if (ago === 0) return 'Today';
  if (ago === 1) return 'Yesterday';
  if (ago > 1 && ago < 7) return WEEKDAY.format(new Date(ts * 1000));
  return DATE.format(new Date(ts * 1000));
}

/** Who sent a message and from where, in words. */
export function senderLabel(msg, contactName) {
  const customer = contactName || 'Customer';
  switch (msg.side) {
    case 'customer': return { who: customer, where: 'customer' };
    case 'api': return { who: msg.agent || 'Agent', where: 'via API' };
    case 'app': return { who: 'Business App', where: 'on the phone' };
    case 'history':
      return { who: msg.from_business ? 'Business' : customer, where: 'imported history' };
    default: return { who: 'Unknown sender', where: String(msg.side || '') };
  }
}

const STATUS = {
  queued: 'Queued — sends when the bridge is reachable',
  sending: 'Sending…',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Failed',
};

export const statusLabel = (status) => STATUS[status] || String(status || '');

/** A one-line, text-only preview of a message body for the inbox list. */
export function previewOf(body) {
  if (!body || typeof body !== 'object') return '';
  switch (body.type) {
    case 'text': return body.body || '';
    case 'image': return `📷 Photo${caption(body)}`;
    case 'video': return `🎬 Video${caption(body)}`;
    case 'document': return `📄 ${body.media?.filename || 'Document'}${caption(body)}`;
    case 'audio': return body.voice ? '🎤 Voice message' : '🎵 Audio';
    case 'sticker': return 'Sticker';
    case 'location': return `📍 ${body.name || 'Location'}`;
    case 'contacts': return `👤 ${(body.names || []).join(', ') || 'Contact card'}`;
    case 'reaction': return body.emoji ? `Reacted ${body.emoji}` : 'Removed a reaction';
    case 'interactive': return body.title || 'Chose an option';
    case 'choices': return body.body;
    case 'button': return body.text || 'Tapped a button';
    case 'order': return `🛒 Order (${body.items || 0} items)`;
    case 'system': return body.body || 'System message';
    case 'template': return body.rendered || `Template ${body.name}`;
    case 'unsupported': return `Unsupported message (${body.type_name})`;
    default: return `Message of type ${body.type}`;
  }
}

function caption(body) {
  const c = body.media?.caption;
  return c ? ` · ${c}` : '';
}

/** Collapse whitespace and cut long strings for one-line places. */
export function oneLine(text, max = 90) {
  const s = String(text || '').replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** One string per conversation (number and contact), for maps and DOM ids. */
export const keyId = (key) => `${key.phone_number_id}|${key.contact}`;
