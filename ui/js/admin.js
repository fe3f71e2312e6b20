// The admins' panel: number health (Business App reminders at day 10 and 13, connection state,
// 131042 payment failures, mode and throughput cap), numbers add/edit, people add/revoke (the new
// token shown once, with a copy button), templates written for Meta's review (admin_templates.js),
// each number's blocked customers (admin_blocked.js), and the bridge's webhook quarantine.
// Also the token notice every user sees: keyring unavailable (token for this session only), or
// an offer to remember the token in the system keyring.
// Every bridge or customer string lands via text nodes (dom.js `h`/textContent), never as markup.

import { h, setChildren, $ } from './dom.js';
import { errorText } from './api.js';
import { blockedTab } from './admin_blocked.js';
import { templatesTab } from './admin_templates.js';

function invoke(cmd, args = {}) {
  const tauri = window.__TAURI__;
  if (!tauri) return Promise.reject(new Error('Coexist Inbox must run inside the desktop app.'));
  return tauri.core.invoke(cmd, args);
}

export const adminApi = {
  session: () => invoke('admin_session'),
  rememberToken: () => invoke('remember_token'),
  forgetToken: () => invoke('forget_token'),
  users: () => invoke('admin_users'),
  addUser: (name, role) => invoke('admin_add_user', { name, role }),
  revokeUser: (name) => invoke('admin_revoke_user', { name }),
  numbers: () => invoke('admin_numbers'),
  addNumber: (number) => invoke('admin_add_number', { number }),
  editNumber: (phoneNumberId, edit) => invoke('admin_edit_number', { phoneNumberId, edit }),
  quarantine: (limit) => invoke('admin_quarantine', { limit }),
  numberHealth: () => invoke('admin_number_health'),
  blocked: (phoneNumberId) => invoke('admin_blocked', { phoneNumberId }),
  templates: (phoneNumberId) => invoke('admin_templates', { phoneNumberId }),
  submitTemplate: (phoneNumberId, draft) => invoke('admin_submit_template', { phoneNumberId, draft }),
};

const TABS = [['numbers', 'Numbers'], ['people', 'People'], ['templates', 'Templates'], ['blocked', 'Blocked'], ['quarantine', 'Quarantine']];
const state = { session: null, tab: 'numbers', panel: null, body: null, editing: null };

const modeLabel = (mode) => (mode === 'coexistence' ? 'Coexistence' : mode === 'standard' ? 'Standard' : '—');
const when = (ms) => (ms ? new Date(ms).toLocaleString() : '');

/* ---------- token notice (every user) ---------- */

function renderTokenNotice(token) {
  let el = $('session-notice');
  if (!el) {
    el = h('div', { id: 'session-notice', 'data-testid': 'session-notice', role: 'note', hidden: true });
    $('banners').after(el);
  }
  el.className = 'session-notice';
  if (token?.keyring_unavailable) {
    setChildren(el, h('span', { 'data-testid': 'keyring-unavailable', title: token.keyring_unavailable,
      text: 'The system keyring is unavailable, so your bridge token is kept for this session only: set COEXIST_TOKEN again next time.' }));
    el.hidden = false;
  } else if (token?.can_remember) {
    el.classList.add('offer');
    const status = h('span', { 'data-testid': 'remember-status' });
    setChildren(el,
      h('span', { text: 'Remember this bridge token in the system keyring for next time?' }),
      h('button', { type: 'button', class: 'link-button', 'data-testid': 'remember-token', onclick: async () => {
        try {
          const s = await adminApi.rememberToken();
          setChildren(el, h('span', { 'data-testid': 'remember-status', text: 'Saved in the system keyring.' }));
          setTimeout(() => { if (s.remembered) el.hidden = true; }, 4000);
        } catch (e) {
          status.textContent = errorText(e);
        }
      } }, 'Remember'),
      h('button', { type: 'button', class: 'link-button', onclick: () => { el.hidden = true; } }, 'Not now'),
      status);
    el.hidden = false;
  } else {
    el.hidden = true;
  }
}

/* ---------- panel shell ---------- */

function openPanel() {
  if (!state.panel) {
    state.body = h('div', { class: 'admin-body', 'data-testid': 'admin-body' });
    const tabs = h('nav', { class: 'admin-tabs', 'aria-label': 'Admin sections' },
      TABS.map(([id, label]) => h('button', { type: 'button', 'data-tab': id, 'data-testid': `admin-tab-${id}`,
        onclick: () => { state.tab = id; render(); } }, label)));
    state.panel = h('section', { id: 'admin-panel', class: 'admin-panel', role: 'dialog', 'aria-label': 'Administration', 'data-testid': 'admin-panel' },
      h('header', { class: 'admin-head' },
        h('h2', { text: 'Administration' }),
        tabs,
        h('button', { type: 'button', class: 'admin-close', 'aria-label': 'Close', 'data-testid': 'admin-close', onclick: closePanel }, '×')),
      state.body);
    state.panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') closePanel(); });
    $('app').append(state.panel);
  }
  state.panel.hidden = false;
  render();
}

function closePanel() {
  if (state.panel) state.panel.hidden = true;
}

async function render() {
  for (const b of state.panel.querySelectorAll('.admin-tabs button')) b.setAttribute('aria-pressed', String(b.dataset.tab === state.tab));
  state.body.dataset.loaded = 'false';
  setChildren(state.body, h('p', { class: 'muted', text: 'Loading…' }));
  const tab = state.tab;
  const parts = tab === 'numbers' ? await numbersTab() : tab === 'people' ? await peopleTab()
    : tab === 'templates' ? await templatesSection()
    : tab === 'blocked' ? await blockedSection() : await quarantineTab();
  if (state.tab !== tab) return;
  setChildren(state.body, parts);
  state.body.dataset.loaded = 'true';
}

/** Run a command; on failure, a plain sentence in place of the section. */
async function attempt(what, fn) {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: h('p', { class: 'form-error', 'data-testid': 'admin-load-error', text: `${what}: ${errorText(e)}` }) };
  }
}

/* ---------- numbers ---------- */

async function numbersTab() {
  const [health, numbers] = await Promise.all([
    attempt('Could not read the number health', adminApi.numberHealth),
    attempt('Could not list the numbers at the bridge', adminApi.numbers),
  ]);
  return [
    h('h3', { text: 'Number health' }),
    health.error || healthTable(health.ok),
    h('h3', { text: 'Numbers at the bridge' }),
    numbers.error || numbersTable(numbers.ok),
    numberForm(),
  ];
}

function healthTable(rows) {
  if (!rows.length) return h('p', { class: 'muted', text: 'No numbers synced to this inbox yet.' });
  return h('table', { class: 'admin-table', 'data-testid': 'health-table' },
    h('thead', {}, h('tr', {}, ['Number', 'Mode and cap', 'Connection', 'WhatsApp Business App', 'Payment (131042)'].map((t) => h('th', { text: t })))),
    h('tbody', {}, rows.map((n) => h('tr', { 'data-testid': 'health-row', dataset: { number: n.phone_number_id } },
      h('td', { text: n.display_number || n.phone_number_id }),
      h('td', { text: `${modeLabel(n.mode)} · ${n.tier_mps ?? '?'} msg/s` }),
      h('td', { 'data-testid': 'health-connection', class: `state-${n.connection}`, text: connectionText(n) }),
      h('td', { 'data-testid': 'health-app', class: `state-${n.app_activity.level}`, dataset: { level: n.app_activity.level },
        text: n.app_activity.level === 'not_applicable' ? 'Not a Coexistence number' : n.app_activity.text }),
      h('td', { 'data-testid': 'health-payment', class: n.recent_payment_failures.length ? 'state-urgent' : 'state-ok', text: paymentText(n) })))));
}

function connectionText(n) {
  if (n.connection === 'offboarded') return `Disconnected (${n.last_account_event}): reconnect it in Meta Business Manager`;
  if (n.connection === 'reconnected') return `Connected again (${n.last_account_event})`;
  return 'Connected';
}

function paymentText(n) {
  const failures = n.recent_payment_failures || [];
  if (!failures.length) return 'No payment failures in the last 7 days';
  const latest = failures[0];
  return `${failures.length} failed in the last 7 days (latest ${when(latest.timestamp * 1000)}${latest.details ? `: ${latest.details}` : ''}). Fix the payment method in Meta Business Manager → Payment Settings.`;
}

function numbersTable(numbers) {
  if (!numbers.length) return h('p', { class: 'muted', text: 'The bridge has no numbers yet: add one below.' });
  return h('table', { class: 'admin-table', 'data-testid': 'numbers-table' },
    h('thead', {}, h('tr', {}, ['Phone number id', 'Number', 'WABA', 'Mode', 'Cap', ''].map((t) => h('th', { text: t })))),
    h('tbody', {}, numbers.map((n) => h('tr', { 'data-testid': 'number-row', dataset: { number: n.phone_number_id } },
      h('td', { text: n.phone_number_id }), h('td', { text: n.display_number }), h('td', { text: n.waba_id }),
      h('td', { text: modeLabel(n.mode) }), h('td', { text: `${n.tier_mps} msg/s` }),
      h('td', {}, h('button', { type: 'button', class: 'link-button', 'data-testid': 'number-edit',
        onclick: () => { state.editing = n; render(); } }, 'Edit'))))));
}

function numberForm() {
  const editing = state.editing;
  const field = (label, input) => h('label', {}, label, input);
  const id = h('input', { name: 'phone_number_id', 'data-testid': 'number-id', required: true, value: editing?.phone_number_id ?? '', readonly: Boolean(editing) });
  const waba = h('input', { name: 'waba_id', 'data-testid': 'number-waba', required: true, value: editing?.waba_id ?? '' });
  const display = h('input', { name: 'display_number', 'data-testid': 'number-display', required: true, placeholder: '+14155550100', value: editing?.display_number ?? '' });
  const mode = h('select', { name: 'mode', 'data-testid': 'number-mode' },
    h('option', { value: 'coexistence' }, 'Coexistence (20 msg/s)'), h('option', { value: 'standard' }, 'Standard (tier)'));
  mode.value = editing?.mode ?? 'coexistence';
  const tier = h('input', { name: 'tier_mps', 'data-testid': 'number-tier', type: 'number', min: '1', max: '1000', value: editing ? String(editing.tier_mps) : '' });
  const placeholder = () => { tier.placeholder = mode.value === 'coexistence' ? 'default 20' : 'default 80'; };
  placeholder();
  // A different mode has a different cap: let the bridge pick the new mode's default.
  mode.addEventListener('change', () => { tier.value = ''; placeholder(); });
  const error = h('p', { class: 'form-error', 'data-testid': 'number-error', role: 'alert', hidden: true });
  const done = h('p', { class: 'muted', 'data-testid': 'number-saved', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'number-submit' }, editing ? 'Save changes' : 'Add number');
  const form = h('form', { class: 'admin-form', 'data-testid': 'number-form' },
    field('Phone number id', id), field('WABA id', waba), field('Display number (E.164)', display), field('Mode', mode), field('Messages/s', tier),
    submit,
    editing ? h('button', { type: 'button', class: 'link-button', onclick: () => { state.editing = null; render(); } }, 'Cancel') : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    const tierValue = tier.value.trim() === '' ? null : Number(tier.value);
    try {
      const saved = editing
        ? await adminApi.editNumber(editing.phone_number_id, { waba_id: waba.value.trim(), display_number: display.value.trim(), mode: mode.value, tier_mps: tierValue })
        : await adminApi.addNumber({ phone_number_id: id.value.trim(), waba_id: waba.value.trim(), display_number: display.value.trim(), mode: mode.value, tier_mps: tierValue });
      state.editing = null;
      await render();
      const note = state.body.querySelector('[data-testid="number-saved"]');
      if (note) { note.textContent = `Saved ${saved.number.display_number}: ${modeLabel(saved.number.mode)}, ${saved.number.tier_mps} msg/s.`; note.hidden = false; }
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
      submit.disabled = false;
    }
  });
  return h('div', {}, h('h3', { text: editing ? `Edit ${editing.display_number}` : 'Add a number' }), form, error, done);
}

/* ---------- people ---------- */

async function peopleTab() {
  const users = await attempt('Could not list the people', adminApi.users);
  return [h('h3', { text: 'People with a token' }), users.error || usersTable(users.ok), userForm()];
}

function usersTable(users) {
  return h('table', { class: 'admin-table', 'data-testid': 'users-table' },
    h('thead', {}, h('tr', {}, ['Name', 'Role', 'Since', ''].map((t) => h('th', { text: t })))),
    h('tbody', {}, users.map((u) => h('tr', { 'data-testid': 'user-row', dataset: { name: u.name } },
      h('td', { text: u.name }), h('td', { text: u.role }), h('td', { text: when(u.created_at_ms) }),
      h('td', {}, u.name === state.session?.name ? h('span', { class: 'muted', text: 'you' }) : revokeButton(u))))));
}

/** Two clicks: "Revoke" arms it, "Confirm revoke" does it (no browser dialogs in the webview). */
function revokeButton(user) {
  const error = h('span', { class: 'form-error', hidden: true });
  const button = h('button', { type: 'button', class: 'danger-button', 'data-testid': 'user-revoke' }, 'Revoke');
  button.addEventListener('click', async () => {
    if (button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = `Confirm: revoke ${user.name}`;
      return;
    }
    button.disabled = true;
    try {
      await adminApi.revokeUser(user.name);
      await render();
    } catch (e) {
      error.textContent = errorText(e);
      error.hidden = false;
      button.disabled = false;
    }
  });
  return h('span', {}, button, error);
}

function userForm() {
  const name = h('input', { name: 'name', 'data-testid': 'user-name', required: true, maxlength: '64', placeholder: 'e.g. ana' });
  const role = h('select', { name: 'role', 'data-testid': 'user-role' },
    h('option', { value: 'agent' }, 'Agent'), h('option', { value: 'manager' }, 'Manager'), h('option', { value: 'admin' }, 'Admin'));
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'user-submit' }, 'Add person');
  const error = h('p', { class: 'form-error', 'data-testid': 'user-error', role: 'alert', hidden: true });
  const result = h('div', { 'data-testid': 'new-token-box' });
  const form = h('form', { class: 'admin-form', 'data-testid': 'user-form' },
    h('label', {}, 'Name', name), h('label', {}, 'Role', role), submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const added = await adminApi.addUser(name.value.trim(), role.value);
      name.value = '';
      const users = await attempt('Could not list the people', adminApi.users);
      const table = state.body.querySelector('[data-testid="users-table"]');
      if (table && users.ok) table.replaceWith(usersTable(users.ok));
      setChildren(result, tokenBox(added));
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
    submit.disabled = false;
  });
  return h('div', {}, h('h3', { text: 'Add a person' }), form, error, result);
}

/** The new token, shown this once, with a copy button. */
function tokenBox(added) {
  const input = h('input', { readonly: true, 'data-testid': 'new-token', value: added.token, 'aria-label': `Token for ${added.name}` });
  const status = h('span', { class: 'muted', 'data-testid': 'copy-status' });
  const copy = h('button', { type: 'button', class: 'link-button', 'data-testid': 'copy-token', onclick: async () => {
    try {
      await navigator.clipboard.writeText(added.token);
      status.textContent = 'Copied.';
    } catch {
      input.select();
      status.textContent = document.execCommand && document.execCommand('copy') ? 'Copied.' : 'Select the token and copy it (Ctrl+C).';
    }
  } }, 'Copy');
  return h('div', { class: 'new-token' },
    h('strong', { text: `Token for ${added.name} (${added.role})` }),
    h('span', { text: 'Shown only now: the bridge keeps only a hash of it. Give it to them privately.' }),
    input, h('span', {}, copy, status));
}

/* ---------- templates ---------- */

async function templatesSection() {
  const numbers = await attempt('Could not read the numbers', adminApi.numberHealth);
  return numbers.error ? [numbers.error] : templatesTab(numbers.ok, adminApi, render);
}

/* ---------- blocked ---------- */

async function blockedSection() {
  const numbers = await attempt('Could not read the numbers', adminApi.numberHealth);
  return numbers.error ? [numbers.error] : blockedTab(numbers.ok, adminApi.blocked, render);
}

/* ---------- quarantine ---------- */

async function quarantineTab() {
  const items = await attempt('Could not read the quarantine', () => adminApi.quarantine(50));
  if (items.error) return [items.error];
  if (!items.ok.length) return [h('p', { class: 'muted', 'data-testid': 'quarantine-empty', text: 'No webhooks in quarantine: every signed webhook was understood.' })];
  return [
    h('p', { class: 'muted', text: 'Signed webhooks from Meta that the bridge kept but could not understand (not relayed). Newest first.' }),
    h('ul', { class: 'admin-table', 'data-testid': 'quarantine-list' }, items.ok.map((q) => h('li', { 'data-testid': 'quarantine-item' },
      h('div', { text: `#${q.id} · ${when(q.received_at_ms)} · ${q.size} bytes · sha256 ${q.body_hash.slice(0, 12)}…` }),
      h('div', { class: 'form-error', text: q.reason }),
      // Raw body from the internet: text only.
      h('pre', { class: 'quarantine-body', 'data-testid': 'quarantine-body', text: q.body + (q.truncated ? '\n… (truncated)' : '') })))),
  ];
}

/* ---------- start ---------- */

export async function startAdmin() {
  try {
    state.session = await adminApi.session();
  } catch (e) {
    console.error(`admin session: ${errorText(e)}`);
    return;
  }
  renderTokenNotice(state.session.token);
  if (state.session.is_admin) {
    const button = h('button', { type: 'button', class: 'admin-open', 'data-testid': 'open-admin', onclick: openPanel }, 'Admin');
    document.querySelector('.sidebar-head').append(button);
  }
  document.body.dataset.adminReady = 'true';
}

startAdmin();
