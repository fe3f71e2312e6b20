// Wires the inbox, thread, composer and banners to the backend. The UI never polls: it reloads
// what an engine event says has changed. (A 30 s local timer only repaints countdowns.)

import { $, setChildren, h } from './dom.js';
import { api, on, errorText } from './api.js';
import { Inbox, paintCountdown } from './inbox.js';
import { Thread } from './thread.js';
import { Composer, sameKey } from './composer.js';
import { renderBanners } from './banners.js';
import { signOutButton } from './connect.js';
import { ownerBadge, oneLine, shortTime, expiresAt, ownerKind, contactTitle, numberBeside, keyId } from './format.js';
import { fromOutbox } from './message.js';
import { Search } from './search.js';
import { Reports } from './reports.js';
import { HistoryProgress } from './history.js';
import { TeamControls, fromNote } from './team.js';
import { QuickReplies, QuickReplyManager } from './quick_replies.js';
import { NewConversation } from './new_conversation.js';
import { Labels } from './labels.js';
import { loadDrafts } from './drafts.js';
import { BlockControl } from './block.js';
import { MuteControl } from './mute.js';

const PAGE = 50;

// Uncaught errors and CSP violations are recorded (and logged) so the e2e test can assert none.
window.coexistErrors = [];
const recordError = (text) => { window.coexistErrors.push(text); console.error(text); };
window.addEventListener('error', (e) => recordError(`error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => recordError(`unhandled: ${e.reason}`));
document.addEventListener('securitypolicyviolation', (e) => recordError(`CSP: ${e.violatedDirective} ${e.blockedURI}`));

const state = { filter: 'all', info: null, health: null, open: null, opening: null, searching: false };

const inbox = new Inbox({ onOpen: (conv) => openConversation(conv) });
const thread = new Thread({ onNeedOlder: () => loadOlder(), onRetry: (m) => retry(m), onReply: (m, who) => composer.replyTo(m, who),
  onReact: (m, emoji) => react(m, emoji) });
const quickReplies = new QuickReplies();
const quickManager = new QuickReplyManager({ replies: quickReplies, toast: (text) => toast(text) });
quickReplies.onChanged = () => quickManager.paint();
const composer = new Composer({
  quickReplies,
  manageQuickReplies: () => quickManager.open(),
  sendText: async (conv, text, replyTo) => { upsertOwn(await api.sendText(conv.conversation, text, replyTo)); },
  sendButtons: async (conv, text, buttons, replyTo) => { upsertOwn(await api.sendButtons(conv.conversation, text, buttons, replyTo)); },
  sendTemplate: async (conv, template) => { upsertOwn(await api.sendTemplate(conv.conversation, template)); },
  sendFile: async (conv, file, caption, replyTo) => { upsertOwn(await api.sendFile(conv.conversation, file, caption, replyTo)); },
  loadTemplates: (conv) => api.templates(conv.conversation.phone_number_id),
  // Best effort: the customer not seeing "typing…" is no reason to bother the agent.
  typing: (conv) => { api.typing(conv.conversation).catch(() => {}); },
  unblock: (conv) => block.set(conv, false),
});

const team = new TeamControls({ toast: (text, action) => toast(text, action) });
const block = new BlockControl({ toast: (text) => toast(text) });
const mute = new MuteControl({ toast: (text) => toast(text) });
const labels = new Labels({
  onFilter: (filter) => setFilter(filter),
  onKnown: (known) => search?.setLabels(known),
  toast: (text) => toast(text),
});

/** Say `text` for a few seconds; `action` (`{ label, run }`) offers one thing to do about it
 * (Undo) while it shows. */
function toast(text, action) {
  const el = $('toast');
  setChildren(el, text, action ? h('button', { type: 'button', class: 'toast-action', 'data-testid': 'toast-action',
    text: action.label, onclick: () => { el.hidden = true; action.run(); } }) : null);
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, action ? 8000 : 6000);
}

/**
 * Reload the list. Asked again while a reload runs (a sync burst), it runs once more after it
 * instead of stacking reloads; every caller's promise settles on a list at least as new as its ask.
 */
function refreshList() {
  if (refreshList.running) {
    refreshList.again = true;
    return refreshList.running;
  }
  refreshList.running = (async () => {
    try {
      do {
        refreshList.again = false;
        await loadList();
      } while (refreshList.again);
    } finally {
      refreshList.running = null;
    }
  })();
  return refreshList.running;
}

async function loadList() {
  try {
    inbox.filter = state.filter;
    inbox.setItems(await api.listConversations(state.filter));
    labels.refresh(state.filter);
    // The window's title counts what is unread (the taskbar shows it); best effort.
    api.showUnreadCount().catch(() => {});
  } catch (e) {
    toast(`Could not load the inbox: ${errorText(e)}`);
  }
  if (state.open) {
    const key = state.open.conversation;
    // The open conversation may have left the filtered list (assigned away, done): its header
    // still follows it.
    const fresh = inbox.items.find((c) => sameKey(c.conversation, key))
      ?? await api.openConversation(key).catch(() => null);
    if (fresh && state.open && sameKey(state.open.conversation, key)) showHeader(fresh);
  }
}

async function refreshHealth() {
  try {
    state.health = await api.numberHealth();
    search?.setNumbers(state.health);
    newConversation?.setNumbers(state.health);
    reports.setNumbers(state.health);
  } catch (e) {
    toast(`Could not check the numbers: ${errorText(e)}`);
  }
  renderBanners(state.info, state.health);
}

/** Failures (e.g. 131042 payment) show up as message changes: re-check the numbers, at most every 2 s. */
function scheduleHealth() {
  if (scheduleHealth.timer) return;
  scheduleHealth.timer = setTimeout(() => { scheduleHealth.timer = 0; refreshHealth(); }, 2000);
}

function showHeader(conv) {
  state.open = conv;
  $('conv-head').hidden = false;
  const contact = conv.conversation.contact;
  $('conv-head').dataset.contact = contact;
  $('conv-name').textContent = contactTitle(conv.contact_name, contact);
  $('conv-number').textContent = numberBeside(conv.contact_name, contact);
  const badge = ownerBadge(ownerKind(conv), conv.owner_agent);
  const owner = $('conv-owner');
  owner.textContent = badge.label;
  owner.className = `badge badge-${badge.kind}`;
  owner.dataset.owner = badge.kind;
  paintCountdown($('conv-window'), expiresAt(conv));
  $('conv-window').title = conv.window_explanation || '';
  team.show(conv);
  block.show(conv);
  mute.show(conv);
  labels.show(conv);
  composer.show(conv);
}

async function openConversation(conv) {
  state.opening = conv.conversation;
  $('empty-state').hidden = true;
  $('thread').hidden = false;
  try {
    const detail = await api.openConversation(conv.conversation);
    const page = await api.messages(conv.conversation, null, PAGE);
    // Clicked another conversation meanwhile: that one is shown, not this one.
    if (!sameKey(state.opening, conv.conversation)) return;
    // Header and messages change together: the last customer's messages never show, even for
    // a moment, under this one's name.
    showHeader(detail);
    thread.reset(detail.contact_name || '', rows(page), page.has_more, detail.unread);
    if (detail.unread > 0 || conv.unread > 0 || detail.marked_unread) await markRead(conv.conversation);
  } catch (e) {
    toast(`Could not open the conversation: ${errorText(e)}`);
  }
}

window.addEventListener('focus', () => {
  const open = state.open && inbox.items.find((c) => sameKey(c.conversation, state.open.conversation));
  if (open && open.unread > 0) markRead(open.conversation);
});

/** Unread again, and left: the agent comes back to it from the list. */
async function markUnread() {
  const conv = state.open;
  if (!conv) return;
  try {
    await api.markUnread(conv.conversation);
    closeConversation();
    await refreshList();
  } catch (e) {
    toast(`Could not mark as unread: ${errorText(e)}`);
  }
}

function closeConversation() {
  state.open = null;
  state.opening = null;
  inbox.openId = null;
  inbox.render();
  $('conv-head').hidden = true;
  $('thread').hidden = true;
  team.hide();
  block.hide();
  composer.hide();
  $('empty-state').hidden = false;
}

async function markRead(key) {
  try {
    await api.markRead(key);
    await refreshList();
  } catch (e) {
    toast(`Could not mark as read: ${errorText(e)}`);
  }
}

async function loadOlder() {
  const conv = state.open;
  if (!conv) return;
  try {
    const page = await api.messages(conv.conversation, thread.oldestCursor, PAGE);
    if (state.open && sameKey(state.open.conversation, conv.conversation)) thread.prepend(byTime([...page.messages, ...notes(page)]), page.has_more);
  } catch (e) {
    thread.setLoading(false);
    toast(`Could not load older messages: ${errorText(e)}`);
  }
}

/** Newest page of the open conversation merged into the thread (after an engine event). */
async function refreshOpen() {
  const conv = state.open;
  if (!conv) return;
  try {
    const page = await api.messages(conv.conversation, null, PAGE);
    if (state.open && sameKey(state.open.conversation, conv.conversation)) thread.upsert(rows(page));
    // Read only when someone can see it: a window left open in the background keeps the new
    // messages unread (and the customer's ticks grey) until the agent comes back to it.
    const fresh = inbox.items.find((c) => sameKey(c.conversation, conv.conversation));
    if (fresh && fresh.unread > 0 && document.hasFocus()) await markRead(conv.conversation);
  } catch (e) {
    toast(`Could not refresh the conversation: ${errorText(e)}`);
  }
}

/** Stored messages, the team's notes, and this conversation's outbox items Meta has not accepted
 * yet (a reaction shows on its message once Meta takes it, not as a row of its own), by time. */
function rows(page) {
  const pending = (page.pending || []).filter((item) => item.message?.type !== 'reaction');
  return byTime([...page.messages, ...notes(page), ...pending.map((item) => fromOutbox(item, state.info?.agent))]);
}

const notes = (page) => (page.notes || []).map(fromNote);

/** Meta time, then arrival (the store's order). */
const byTime = (list) => list.sort((a, b) => (a.timestamp || 0) - (b.timestamp || 0) || (a.arrival ?? 0) - (b.arrival ?? 0));

async function react(m, emoji) {
  const conv = state.open;
  if (!conv) return;
  try {
    await api.react(conv.conversation, m.wamid, emoji);
  } catch (e) {
    toast(`Could not react: ${errorText(e)}`);
  }
}

/** A send just queued (an OutboxItem) shows at once, before any engine event. */
function upsertOwn(item) {
  if (item && state.open && sameKey(item.conversation, state.open.conversation)) thread.upsert([fromOutbox(item, state.info?.agent)]);
}

async function retry(m) {
  try {
    upsertOwn(await api.retrySend(m.idempotency_key));
  } catch (e) {
    toast(`Retry failed: ${errorText(e)}`);
  }
}

function setupFilters() {
  for (const button of document.querySelectorAll('#filters .filter')) {
    button.addEventListener('click', () => setFilter(button.dataset.filter));
  }
}

/** A filter button's name, or `label:NAME` from the Label menu. */
function setFilter(filter) {
  state.filter = filter;
  for (const b of document.querySelectorAll('#filters .filter')) b.setAttribute('aria-pressed', String(b.dataset.filter === filter));
  refreshList();
}

let search = null;
let newConversation = null;
const reports = new Reports({ onOpenMessage: (wamid) => openMessage(wamid) });
const historyImport = new HistoryProgress();

function setupSearch() {
  search = new Search({
    onOpen: (hit) => (hit.note ? openNote(hit.seq) : openMessage(hit.wamid)),
    onOpenPerson: (conv) => openStarted(conv),
    onSearching: (on) => {
      state.searching = on;
      $('conversation-list').hidden = on;
      inbox.searching = on;
      inbox.render();
    },
    toast,
  });
}

function setupNewConversation() {
  newConversation = new NewConversation({ onOpen: (conv) => openStarted(conv) });
}

/** A conversation from "New conversation": one the inbox holds opens as usual; a new one (nobody
 * wrote yet, nothing stored) opens empty, its header saying only a template can start it. */
async function openStarted(conv) {
  showView('inbox');
  if (inbox.items.some((c) => sameKey(c.conversation, conv.conversation))) {
    await openConversation(conv);
    return;
  }
  state.opening = conv.conversation;
  $('empty-state').hidden = true;
  $('thread').hidden = false;
  try {
    // Sends of an earlier try that Meta has not taken yet show in it.
    const page = await api.messages(conv.conversation, null, PAGE);
    if (!sameKey(state.opening, conv.conversation)) return;
    showHeader(conv);
    inbox.openId = keyId(conv.conversation);
    inbox.activeId = inbox.openId;
    inbox.render();
    thread.reset(conv.contact_name || '', rows(page), page.has_more);
  } catch (e) {
    toast(`Could not open the conversation: ${errorText(e)}`);
  }
}

/** The agent clicked a desktop notification about `conversation`: it opens, whatever the list
 * shows (another view, a search, a filter it is not in). */
async function openNotified(conversation) {
  showView('inbox');
  search.clear();
  inbox.openId = keyId(conversation);
  inbox.activeId = inbox.openId;
  inbox.render();
  await openConversation({ conversation });
}

/** Open the conversation holding `wamid`, scrolled to it (search hits, expired windows). */
async function openMessage(wamid) {
  await openInContext(() => api.messageContext(wamid), wamid, 'message');
}

/** Open the conversation holding the team note of relay entry `seq`, scrolled to it. */
async function openNote(seq) {
  await openInContext(() => api.noteContext(seq), `note-${seq}`, 'note');
}

/** Open the conversation of the context `load` returns, scrolled to the row whose key is `key`. */
async function openInContext(load, key, what) {
  showView('inbox');
  try {
    const ctx = await load();
    const detail = await api.openConversation(ctx.conversation);
    state.opening = ctx.conversation;
    $('empty-state').hidden = true;
    $('thread').hidden = false;
    showHeader(detail);
    inbox.openId = keyId(ctx.conversation);
    inbox.activeId = inbox.openId;
    inbox.render();
    thread.reveal(detail.contact_name || '', rows(ctx.page), ctx.page.has_more, key);
  } catch (e) {
    toast(`Could not open the ${what}: ${errorText(e)}`);
  }
}

/** Inbox (conversation on the right) or Reports. */
function showView(view) {
  for (const b of document.querySelectorAll('#view-switch button')) b.setAttribute('aria-pressed', String(b.dataset.view === view));
  $('conversation').hidden = view !== 'inbox';
  if (view === 'reports') reports.show();
  else reports.hide();
}

function setupViews() {
  $('mark-unread').addEventListener('click', () => markUnread());
  for (const b of document.querySelectorAll('#view-switch button')) b.addEventListener('click', () => showView(b.dataset.view));
  for (const b of document.querySelectorAll('[data-export]')) {
    b.addEventListener('click', async () => {
      if (!state.open) return;
      try {
        const done = await api.exportConversation(state.open.conversation, b.dataset.export);
        $('export-result').textContent = done.path;
        toast(`Exported ${done.rows} rows (messages and notes) to ${done.path}`);
      } catch (e) {
        toast(`Export failed: ${errorText(e)}`);
      }
    });
  }
}

function setupKeyboard() {
  // Ctrl+K (anywhere) or / (outside text fields) goes to the search box; Alt+↑/↓ (anywhere) opens
  // the previous/next conversation; ↑/↓/Enter work anywhere outside text fields, not only when the
  // list has focus.
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented) return; // a control handled its own key (the search results, a menu)
    const tag = (e.target.tagName || '').toLowerCase();
    const typing = ['input', 'textarea', 'select'].includes(tag) || e.target.isContentEditable;
    if (((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') || (e.key === '/' && !typing)) {
      e.preventDefault();
      search.focus();
      return;
    }
    if (e.altKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      inbox.step(e.key === 'ArrowDown' ? 1 : -1);
      return;
    }
    if (typing || tag === 'button') return;
    if (e.target === $('conversation-list')) return;
    if (['ArrowDown', 'ArrowUp', 'Enter'].includes(e.key)) {
      $('conversation-list').focus();
      inbox.onKey(e);
    }
  });
}

function showSync(s) {
  const el = $('sync-state');
  el.dataset.state = s.state;
  el.textContent = s.state === 'connected' ? 'Connected' : (s.detail || 'Offline — retrying');
}

async function start() {
  setupFilters();
  setupSearch();
  setupNewConversation();
  setupViews();
  setupKeyboard();
  await on('inbox:changed', async (payload) => {
    await refreshList();
    scheduleHealth();
    historyImport.refresh();
    const touched = payload?.conversations || [];
    if (state.open && (touched.length === 0 || touched.some((k) => sameKey(k, state.open.conversation)))) await refreshOpen();
  });
  await on('inbox:health', () => { refreshHealth(); composer.templatesChanged(); });
  await on('inbox:sync', showSync);
  await on('inbox:quick-replies', () => quickReplies.changed());
  await on('inbox:writing', (notice) => team.writing(notice));
  await on('inbox:open', ({ conversation }) => openNotified(conversation));
  try {
    state.info = await api.appInfo();
    $('agent-name').textContent = state.info.agent ? `Signed in as ${state.info.agent}` : '';
    inbox.me = state.info.agent;
    team.me = state.info.agent;
    const signOut = signOutButton(state.info);
    if (signOut) $('agent-name').after(signOut);
    document.body.dataset.mode = state.info.mode;
    if (state.info.sync) showSync(state.info.sync);
  } catch (e) {
    toast(`Could not start: ${errorText(e)}`);
  }
  await loadDrafts().catch((e) => toast(`Unsent replies could not be read: ${errorText(e)}`));
  await Promise.all([refreshList(), refreshHealth(), historyImport.refresh()]);
  setInterval(() => {
    inbox.tick();
    if (state.open) {
      paintCountdown($('conv-window'), expiresAt(state.open));
      composer.show(state.open);
    }
  }, 30_000);
  document.body.dataset.ready = 'true';
}

start();
