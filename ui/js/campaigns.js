// The campaigns panel: bulk template sends (Broadcast Lists are read-only under Coexistence).
// Pick a number and an approved template, paste numbers or load a CSV (`phone,1,2` or
// `phone,customer_name,time`), check it — the ETA at the number's cap, duplicates removed, bad
// rows by line — then start. Running campaigns show progress; pause / resume; failures by reason.
// Sending happens in the engine (it continues after a restart); this panel only asks and shows.
// Every customer or file string lands via text nodes (dom.js `h`/textContent), never as markup.

import { h, setChildren, $ } from './dom.js';
import { errorText } from './api.js';
import { describe } from './templates.js';
import { headerUpload } from './header_media.js';

function invoke(cmd, args = {}) {
  const tauri = window.__TAURI__;
  if (!tauri) return Promise.reject(new Error('Coexist Inbox must run inside the desktop app.'));
  return tauri.core.invoke(cmd, args);
}

const campaignApi = {
  numbers: () => invoke('number_health'),
  templates: (phoneNumberId) => invoke('templates', { phoneNumberId }),
  plan: (form) => invoke('campaign_plan', { form }),
  start: (form, skipInvalid) => invoke('campaign_start', { form, skipInvalid }),
  list: () => invoke('campaign_list'),
  progress: (id) => invoke('campaign_progress', { id }),
  pause: (id) => invoke('campaign_pause', { id }),
  resume: (id) => invoke('campaign_resume', { id }),
  failures: (id) => invoke('campaign_failures', { id }),
};

const REFRESH_MS = 2000;
const state = { panel: null, body: null, timer: null, list: null, loadNumbers: () => {} };

const field = (label, input) => [h('label', { text: label }), input];

function openPanel() {
  if (!state.panel) {
    state.body = h('div', { class: 'admin-body', 'data-testid': 'campaigns-body' });
    state.panel = h('section', { id: 'campaigns-panel', class: 'admin-panel', role: 'dialog', 'aria-label': 'Campaigns', 'data-testid': 'campaigns-panel' },
      h('header', { class: 'admin-head' },
        h('h2', { text: 'Campaigns' }),
        h('button', { type: 'button', class: 'admin-close', 'aria-label': 'Close', 'data-testid': 'campaigns-close', onclick: closePanel }, '×')),
      state.body);
    state.panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') closePanel(); });
    $('app').append(state.panel);
    buildBody();
  }
  state.panel.hidden = false;
  state.loadNumbers();
  refreshList();
  clearInterval(state.timer);
  state.timer = setInterval(refreshList, REFRESH_MS);
}

function closePanel() {
  if (state.panel) state.panel.hidden = true;
  clearInterval(state.timer);
}

function buildBody() {
  const number = h('select', { 'data-testid': 'campaign-number' });
  const template = h('select', { 'data-testid': 'campaign-template' });
  const name = h('input', { type: 'text', 'data-testid': 'campaign-name', placeholder: 'e.g. Spring sale 2026' });
  const format = h('select', { 'data-testid': 'campaign-format' },
    h('option', { value: 'csv' }, 'CSV with a header row (phone,1,2 or phone,customer_name,...)'),
    h('option', { value: 'list' }, 'Numbers only (one per line or comma separated)'));
  const recipients = h('textarea', { 'data-testid': 'campaign-recipients', placeholder: 'phone,1,2\n+14155550111,Ana,#1042' });
  const file = h('input', { type: 'file', accept: '.csv,.txt,text/csv,text/plain', 'data-testid': 'campaign-file', onchange: async () => {
    const f = file.files[0];
    if (f) recipients.value = await f.text();
  } });
  const params = h('input', { type: 'text', 'data-testid': 'campaign-params', placeholder: 'body parameters for everyone, separated by |' });
  const skip = h('input', { type: 'checkbox', 'data-testid': 'campaign-skip-invalid' });
  const planBox = h('div', { class: 'campaign-plan', 'data-testid': 'campaign-plan', hidden: true });
  const error = h('p', { class: 'form-error', 'data-testid': 'campaign-error', hidden: true });
  const headerRow = h('div', { class: 'wide', 'data-testid': 'campaign-header', hidden: true });
  let templates = [];
  let header = { link: null, id: null };

  // A template with a media header needs one for everyone: a link, or a file uploaded now.
  const showHeader = () => {
    const t = templates[Number(template.value)];
    const media = t ? describe(t).fields.find((f) => f.kind === 'media') : null;
    header = { link: null, id: null };
    headerRow.hidden = !media;
    if (!media) { setChildren(headerRow); return; }
    const link = h('input', { type: 'url', 'data-testid': 'campaign-header-link', placeholder: 'https://…', 'aria-label': `Header ${media.media} link` });
    link.addEventListener('input', () => { header.link = link.value.trim() || null; });
    const onChange = (id) => { header = { link: id ? null : header.link, id }; };
    setChildren(headerRow, h('label', { text: `Header ${media.media} for everyone (a public https:// link)` }), link,
      headerUpload({ kind: media.media, phoneNumberId: () => number.value, linkInput: link, onChange }));
  };
  template.addEventListener('change', showHeader);

  const form = () => {
    const t = templates[Number(template.value)] || {};
    return {
      name: name.value, phone_number_id: number.value, template_name: t.name || '', language: t.language || '',
      recipients: recipients.value, format: format.value,
      params: params.value.trim() ? params.value.split('|').map((p) => p.trim()) : [],
      header_media_link: header.link, header_media_id: header.id,
    };
  };
  const fail = (e) => { error.textContent = errorText(e); error.hidden = false; };
  const loadTemplates = async () => {
    try {
      templates = (await campaignApi.templates(number.value)).filter((t) => String(t.status).toUpperCase() === 'APPROVED');
      setChildren(template, templates.map((t, i) => h('option', { value: String(i) }, `${t.name} (${t.language})`)));
      showHeader();
    } catch (e) { fail(e); }
  };
  number.addEventListener('change', loadTemplates);

  const check = h('button', { type: 'button', 'data-testid': 'campaign-check', onclick: async () => {
    error.hidden = true;
    try { showPlan(planBox, await campaignApi.plan(form()), start); } catch (e) { fail(e); }
  } }, 'Check and show ETA');
  // Starting is offered only under a fresh plan, so the ETA is always seen first.
  const start = async () => {
    error.hidden = true;
    try {
      await campaignApi.start(form(), skip.checked);
      planBox.hidden = true;
      refreshList();
    } catch (e) { fail(e); }
  };
  state.list = h('ul', { class: 'campaign-list', 'data-testid': 'campaign-list' });
  setChildren(state.body,
    h('h3', { text: 'New campaign' }),
    h('div', { class: 'campaign-form' },
      field('Name', name), field('Number', number), field('Template', template),
      field('Recipients', format), h('span'), file, h('div', { class: 'wide' }, recipients),
      field('Same for everyone', params), headerRow,
      field('Skip bad rows', skip),
      h('div', { class: 'wide' }, check)),
    error, planBox,
    h('h3', { text: 'Campaigns' }), state.list);

  // Numbers arrive with the first sync: asked again each time the panel opens while none is known.
  state.loadNumbers = () => {
    if (number.options.length) return;
    campaignApi.numbers().then((list) => {
      setChildren(number, list.map((n) => h('option', { value: n.phone_number_id }, n.display_number || n.phone_number_id)));
      if (list.length) loadTemplates();
    }).catch(fail);
  };
}

function showPlan(box, plan, start) {
  const rows = [h('p', { 'data-testid': 'campaign-eta', text: `ETA: ${plan.eta}` })];
  if (plan.existing) rows.push(h('p', { text: `A campaign with this name exists (${plan.existing.state}): starting continues it, nobody gets it twice.` }));
  if (plan.duplicates) {
    rows.push(h('p', { text: `${plan.duplicates} duplicate number(s) removed (each is sent once):` }),
      h('ul', {}, plan.duplicate_rows.map((d) => h('li', { text: `line ${d.line}: ${d.to} (first on line ${d.first_line})` }))));
  }
  if (plan.invalid) {
    rows.push(h('p', { class: 'form-error', text: `${plan.invalid} row(s) cannot be sent:` }),
      h('ul', { 'data-testid': 'campaign-invalid' }, plan.invalid_rows.map((r) => h('li', { text: `line ${r.line}: ${r.reason}` }))));
  }
  if (plan.recipients) {
    rows.push(h('button', { type: 'button', 'data-testid': 'campaign-start', onclick: start },
      plan.existing ? 'Continue this campaign' : `Start sending to ${plan.recipients} recipients`));
  }
  setChildren(box, rows);
  box.hidden = false;
}

async function refreshList() {
  if (!state.list) return;
  let campaigns;
  try { campaigns = await campaignApi.list(); } catch (e) {
    setChildren(state.list, h('li', { class: 'form-error', text: errorText(e) }));
    return;
  }
  if (!campaigns.length) {
    setChildren(state.list, h('li', { class: 'muted', text: 'No campaigns yet.' }));
    return;
  }
  const rows = await Promise.all(campaigns.map(async (c) => {
    try { return campaignRow(c, await campaignApi.progress(c.id), c.state === 'done' ? await campaignApi.failures(c.id) : []); } catch (e) {
      return h('li', { class: 'form-error', text: `${c.name}: ${errorText(e)}` });
    }
  }));
  setChildren(state.list, rows);
}

/** A running campaign's remaining time, in the words a person would use. */
function timeLeft(secs) {
  if (secs < 60) return 'under a minute left';
  const mins = Math.ceil(secs / 60);
  return mins < 120 ? `about ${mins} min left` : `about ${Math.round(mins / 60)} h left`;
}

function campaignRow(c, p, failures) {
  const k = p.counts;
  const accepted = k.sent + k.delivered + k.read;
  const left = c.state === 'running' && k.pending + k.queued > 0 ? ` · ${timeLeft(p.eta_remaining.paced.secs)}` : '';
  const act = c.state === 'running'
    ? h('button', { type: 'button', 'data-testid': 'campaign-pause', onclick: () => campaignApi.pause(c.id).then(refreshList) }, 'Pause')
    : c.state === 'paused'
      ? h('button', { type: 'button', 'data-testid': 'campaign-resume', onclick: () => campaignApi.resume(c.id).then(refreshList) }, 'Resume')
      : null;
  return h('li', { class: 'campaign-row', 'data-testid': 'campaign-row', dataset: { id: c.id, state: c.state } },
    h('strong', { text: c.name }), ` · ${c.template_name} (${c.language}) · ${c.state}${left}`,
    h('div', {}, h('progress', { max: String(k.total), value: String(accepted + k.failed) })),
    h('div', { 'data-testid': 'campaign-counts',
      text: `${accepted}/${k.total} accepted by Meta — sent ${k.sent}, delivered ${k.delivered}, read ${k.read}, failed ${k.failed}, waiting ${k.pending + k.queued}` }),
    h('div', { class: 'actions' }, act),
    failures.length ? h('ul', { class: 'campaign-failures', 'data-testid': 'campaign-failures' },
      failures.map((f) => h('li', { text: `${f.count} × error ${f.code ?? '-'}: ${f.reason}. ${f.what_to_do}.` }))) : null);
}

export function startCampaigns() {
  const head = document.querySelector('.sidebar-head');
  if (!head) return;
  head.append(h('button', { type: 'button', class: 'campaigns-open', 'data-testid': 'open-campaigns', onclick: openPanel }, 'Campaigns'));
}

startCampaigns();
