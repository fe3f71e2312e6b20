// One message of the thread: who sent it and from where, the body of any type (or a labelled
// placeholder that says why), quoted reply, reactions, and delivery status with Retry.
// Every customer-supplied string goes in as text (see dom.js).

import { h } from './dom.js';
import { senderLabel, statusLabel, previewOf, oneLine, clockTime, fullTime } from './format.js';
import { mediaCard } from './media.js';
import { choicesView } from './reply_buttons.js';

/** Stable row key: the wamid, or the outbox idempotency key while Meta has not accepted it (a
 * team note: its relay seq). */
export const messageKey = (m) => (m.note ? `note-${m.seq}` : m.wamid || `outbox-${m.idempotency_key}`);

/** A queued / sending / refused outbox item (the store's OutboxItem) shown as a message. */
export function fromOutbox(item, agent) {
  const msg = item.message || {};
  let body;
  if (msg.type === 'text') body = { type: 'text', body: msg.text?.body || '' };
  else if (msg.type === 'template') body = { type: 'template', name: msg.template?.name || '', language: msg.template?.language?.code || '', rendered: item.rendered || null };
  else if (['image', 'document', 'audio', 'video'].includes(msg.type)) body = { type: msg.type, media: { ...msg[msg.type] } };
  else if (msg.type === 'interactive') {
    const action = msg.interactive?.action || {};
    const buttons = (action.buttons || []).map((b) => b.reply?.title || '');
    const rows = (action.sections || []).flatMap((section) => (section.rows || []).map((r) => r.title || ''));
    body = { type: 'choices', body: msg.interactive?.body?.text || '', choices: [...buttons, ...rows] };
  }
  else body = { type: 'unsupported', type_name: String(msg.type || 'unknown'), reason: 'Queued message of a type the inbox does not preview.' };
  const failed = item.state === 'failed';
  return {
    wamid: item.wamid || null,
    idempotency_key: item.idempotency_key,
    side: 'api',
    from_business: true,
    timestamp: Math.floor(item.created_at_ms / 1000),
    arrival: Number.MAX_SAFE_INTEGER,
    body,
    agent,
    status: failed ? 'failed' : item.state,
    failure: failed ? {
      code: item.error_code,
      reason: item.error_message || 'The bridge did not accept this message.',
      what_to_do: item.next_attempt_at_ms ? 'It will be retried automatically.' : 'Check the reason, then retry.',
    } : null,
    can_retry: failed,
    reactions: [],
    reply_to: msg.context?.message_id || null,
    raw: msg,
  };
}

/** The quick reactions an agent picks from (WhatsApp's own first six). */
const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

/**
 * `ctx`: { contactName, byWamid: Map, onRetry(msg), onReply(msg, who), onReact(msg, emoji) }.
 */
export function renderMessage(m, ctx) {
  const outbound = m.side === 'api' || m.side === 'app' || (m.side === 'history' && m.from_business);
  const sender = senderLabel(m, ctx.contactName);
  return h('article', {
    class: `msg ${outbound ? 'out' : 'in'} side-${m.side}`,
    'data-testid': 'message',
    dataset: { key: messageKey(m), side: m.side, status: m.status || '', type: m.body?.type || 'unknown', wamid: m.wamid || '' },
  },
    h('div', { class: 'bubble' },
      h('div', { class: 'sender' },
        h('span', { class: 'who', 'data-testid': 'message-sender', text: sender.who }),
        h('span', { class: 'where', 'data-testid': 'message-origin', text: sender.where })),
      m.reply_to ? quote(m, ctx) : null,
      m.revoked
        ? h('p', { class: 'placeholder', 'data-testid': 'message-revoked', text: 'This message was deleted on the Business App.' })
        : body(m),
      m.edited ? h('span', { class: 'edited muted', text: 'Edited' }) : null,
      h('div', { class: 'foot' },
        canQuote(m) && ctx.onReply ? h('button', { type: 'button', class: 'msg-reply link-button', 'data-testid': 'message-reply',
          title: 'Reply to this message (quoted above your reply)', text: 'Reply', onclick: () => ctx.onReply(m, sender.who) }) : null,
        canQuote(m) && ctx.onReact ? reactPicker(m, ctx) : null,
        h('time', { class: 'muted', title: fullTime(m.timestamp), text: clockTime(m.timestamp) }),
        outbound && m.status ? status(m, ctx) : null)),
    reactions(m));
}

/** Meta quotes a message by its wamid: one it delivered or accepted, not deleted. */
function canQuote(m) {
  return Boolean(m.wamid) && !m.revoked && m.arrival !== Number.MAX_SAFE_INTEGER;
}

function quote(m, ctx) {
  const target = ctx.byWamid.get(m.reply_to);
  const text = target
    ? oneLine(previewOf(target.body), 120)
    : (m.quoted?.preview ? oneLine(m.quoted.preview, 120) : 'An earlier message (not in this inbox)');
  const side = target ? target : (m.quoted?.side ? { side: m.quoted.side, from_business: m.quoted.side !== 'customer' } : null);
  const who = side ? senderLabel(side, ctx.contactName).who : 'Quoted message';
  return h('blockquote', { class: 'quote', 'data-testid': 'message-quote' },
    h('span', { class: 'quote-who', text: who }),
    h('span', { class: 'quote-text', text }));
}

/** The message whose reaction palette is open (kept here: the thread re-renders its rows). */
let paletteOpenFor = null;

/** "React": six emoji to answer with; ours again takes it back. */
function reactPicker(m, ctx) {
  const ours = (m.reactions || []).find((r) => r.by === 'business')?.emoji || '';
  const palette = h('span', { class: 'react-palette', 'data-testid': 'react-palette', hidden: paletteOpenFor !== m.wamid },
    QUICK_REACTIONS.map((emoji) => h('button', { type: 'button', class: `react-emoji${emoji === ours ? ' chosen' : ''}`,
      'data-testid': 'react-emoji', dataset: { emoji }, title: emoji === ours ? 'Take your reaction back' : `React ${emoji}`,
      text: emoji, onclick: () => { paletteOpenFor = null; palette.hidden = true; ctx.onReact(m, emoji === ours ? '' : emoji); } })));
  const toggle = () => {
    paletteOpenFor = palette.hidden ? m.wamid : null;
    palette.hidden = paletteOpenFor !== m.wamid;
  };
  const open = h('button', { type: 'button', class: 'msg-reply link-button', 'data-testid': 'message-react',
    title: 'React to this message', text: 'React', onclick: toggle });
  return h('span', { class: 'react' }, open, palette);
}

function reactions(m) {
  const list = (m.reactions || []).filter((r) => r.emoji);
  if (!list.length) return null;
  return h('div', { class: 'reactions', 'data-testid': 'message-reactions' }, list.map(reaction));
}

/** A reaction chip; ours that Meta failed is marked, with why and what to do. */
function reaction(r) {
  if (r.failure) {
    return h('span', {
      class: 'reaction failed', 'data-testid': 'reaction-failed',
      title: `Your reaction did not reach the customer: ${r.failure.reason} ${r.failure.what_to_do}`,
    }, r.emoji, h('span', { class: 'reaction-alert', text: '!' }));
  }
  return h('span', { class: 'reaction', title: r.by === 'customer' ? 'Customer' : 'Business', text: r.emoji });
}

function status(m, ctx) {
  const wrap = h('div', { class: `status status-${m.status}`, 'data-testid': 'message-status', dataset: { status: m.status } },
    h('span', { class: 'status-label', text: statusLabel(m.status) }));
  if (m.status === 'failed') {
    const e = m.failure || {};
    wrap.append(h('div', { class: 'failure', 'data-testid': 'message-error' },
      h('span', { class: 'reason', text: e.reason || 'WhatsApp did not deliver this message.' }),
      e.what_to_do ? h('span', { class: 'todo', text: e.what_to_do }) : null,
      e.code ? h('span', { class: 'code muted', text: `Meta error ${e.code}` } ) : null,
      // 131047 cannot be fixed by retrying: the composer turns into the template picker instead.
      // Templates are re-sent from the picker (their parameters are not kept here).
      (m.can_retry ?? (m.side === 'api' && Boolean(m.idempotency_key) && e.code !== 131047 && m.body?.type === 'text'))
        ? h('button', { type: 'button', class: 'retry', 'data-testid': 'retry-send', onclick: () => ctx.onRetry(m), text: 'Retry' })
        : null));
  }
  return wrap;
}


function body(m) {
  const b = m.body || {};
  switch (b.type) {
    case 'text': return h('p', { class: 'text', 'data-testid': 'message-text', text: b.body });
    case 'image': return mediaCard('📷 Photo', b);
    case 'video': return mediaCard('🎬 Video', b);
    case 'document': return mediaCard('📄 Document', b);
    case 'sticker': return mediaCard('Sticker', b);
    case 'audio': return mediaCard(b.voice ? '🎤 Voice message' : '🎵 Audio', b);
    case 'location':
      return h('div', { class: 'card' },
        h('strong', { text: `📍 ${b.name || 'Shared location'}` }),
        b.address ? h('span', { text: b.address }) : null,
        h('span', { class: 'muted', text: `${Number(b.latitude).toFixed(5)}, ${Number(b.longitude).toFixed(5)}` }));
    case 'contacts':
      return h('div', { class: 'card' }, h('strong', { text: '👤 Shared contact' }),
        (b.names || []).map((n) => h('span', { text: n })));
    case 'reaction':
      return h('p', { class: 'placeholder', text: b.emoji ? `Reacted ${b.emoji} to a message` : 'Removed a reaction' });
    case 'choices': return choicesView(b);
    case 'interactive':
      return h('p', { class: 'text' }, h('span', { class: 'muted', text: 'Chose: ' }), h('span', { text: b.title }));
    case 'button':
      return h('p', { class: 'text' }, h('span', { class: 'muted', text: 'Tapped: ' }), h('span', { text: b.text }));
    case 'order':
      return h('div', { class: 'card' }, h('strong', { text: `🛒 Order · ${b.items || 0} item(s)` }),
        b.text ? h('span', { text: b.text }) : null);
    case 'system': return h('p', { class: 'system', text: b.body });
    case 'template':
      return h('div', { class: 'card template-card' },
        h('span', { class: 'muted', text: `Template ${b.name} (${b.language})` }),
        b.rendered ? h('p', { class: 'text', text: b.rendered }) : null);
    case 'unsupported':
      return unknown(`Not shown: ${b.type_name || 'unknown'} message`, b.reason, m.raw);
    default:
      return unknown(`Not shown: ${b.type || 'unknown'} message`, 'Coexist Inbox does not know this message type yet.', m.raw);
  }
}

function unknown(title, reason, raw) {
  return h('div', { class: 'card unknown', 'data-testid': 'message-unsupported' },
    h('strong', { text: title }),
    reason ? h('span', { class: 'placeholder', text: reason }) : null,
    h('details', {},
      h('summary', { text: 'Raw message (JSON)' }),
      h('pre', { text: JSON.stringify(raw ?? null, null, 2) })));
}
