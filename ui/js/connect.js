// Signing in to the team's bridge from the app, and signing out of a bridge the app saved.
// The bridge checks the token first; the token is then kept in the system keyring (never in a
// file) and the app restarts on the bridge. Nothing is kept when the check fails.

import { h, setChildren } from './dom.js';
import { errorText } from './api.js';

const tauri = window.__TAURI__;
const invoke = (cmd, args) => tauri.core.invoke(cmd, args);

// Built once: the banners are re-rendered often, and what the user typed must survive that.
let connectBanner = null;

/** The demo's "Connect to your team's bridge" banner (with why a saved bridge failed, if so). */
export function connectBannerFor(info) {
  if (info?.mode !== 'demo') return null;
  if (!connectBanner) connectBanner = buildConnectBanner(info.notice);
  return connectBanner;
}

function buildConnectBanner(notice) {
  const form = connectForm();
  const toggle = h('button', { type: 'button', class: 'link-button', 'data-testid': 'open-connect',
    text: 'Connect to your team\u2019s bridge', onclick: () => { form.hidden = !form.hidden; } });
  return h('div', { class: `banner ${notice ? 'banner-warn' : 'banner-info'} connect-banner`, role: 'note', 'data-testid': 'banner-connect' },
    notice ? h('p', { 'data-testid': 'connect-notice', text: notice }) : null,
    h('span', { text: 'Using a real WhatsApp number? ' }), toggle, form);
}

function connectForm() {
  const url = h('input', { type: 'url', name: 'url', required: true, placeholder: 'https://bridge.example.com', 'data-testid': 'connect-url', 'aria-label': 'Bridge address' });
  const token = h('input', { type: 'password', name: 'token', required: true, autocomplete: 'off', placeholder: 'cxb_…', 'data-testid': 'connect-token', 'aria-label': 'Your token' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'connect-submit', text: 'Connect' });
  const status = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'connect-error', hidden: true });
  const form = h('form', { class: 'connect-form', 'data-testid': 'connect-form', hidden: true },
    h('label', { class: 'field' }, h('span', { text: 'Bridge address' }), url),
    h('label', { class: 'field' }, h('span', { text: 'Your token (from your admin)' }), token),
    submit,
    h('p', { class: 'muted', text: 'The bridge checks the token first. It is then kept in the system keyring, and the app restarts connected.' }),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.hidden = true;
    submit.textContent = 'Checking…';
    try {
      await invoke('connect_bridge', { url: url.value, token: token.value }); // restarts the app
    } catch (e) {
      setChildren(status, errorText(e));
      status.hidden = false;
      submit.disabled = false;
      submit.textContent = 'Connect';
    }
  });
  return form;
}

/** "Sign out" beside the agent's name, for a bridge the app itself signed in to. */
export function signOutButton(info) {
  if (info?.connection !== 'saved') return null;
  const button = h('button', { type: 'button', class: 'link-button', 'data-testid': 'sign-out', text: 'Sign out' });
  button.addEventListener('click', async () => {
    if (button.dataset.confirm !== 'true') {
      button.dataset.confirm = 'true';
      button.textContent = 'Sign out and forget the token? Click again';
      return;
    }
    button.disabled = true;
    try {
      await invoke('disconnect_bridge', {}); // restarts the app as the demo
    } catch (e) {
      button.textContent = `Could not sign out: ${errorText(e)}`;
    }
  });
  return button;
}
