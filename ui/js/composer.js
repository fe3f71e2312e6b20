// The composer: free text (with reply buttons: reply_buttons.js), or a photo or file with a
// caption, optionally quoting a message, while the customer-service window is open (an unsent
// text is kept per conversation: drafts.js); once it is closed (or Meta answered 131047) it
// becomes the template picker: approved templates of the number, one field per parameter, a live
// preview and validation before anything is sent. A blocked customer gets neither: the composer
// says so and offers Unblock (block.js).

import { h, setChildren, $ } from './dom.js';
import { windowState, expiresAt, previewOf, oneLine } from './format.js';
import { describe, preview, validate, build, filterTemplates, uploadedKey } from './templates.js';
import { headerUpload } from './header_media.js';
import { suggest } from './quick_replies.js';
import { draftOf, setDraft } from './drafts.js';
import { blockedNotice } from './block.js';
import { ReplyButtons } from './reply_buttons.js';

export class Composer {
  constructor({ sendText, sendButtons, sendTemplate, sendFile, loadTemplates, typing, quickReplies, manageQuickReplies, unblock }) {
    this.unblock = unblock;
    this.quickReplies = quickReplies;
    this.manageQuickReplies = manageQuickReplies;
    this.el = $('composer');
    this.sendText = sendText;
    this.sendButtons = sendButtons;
    this.sendTemplate = sendTemplate;
    this.sendFile = sendFile;
    this.loadTemplates = loadTemplates;
    this.typing = typing;
    this.typedAt = 0;
    this.conv = null;
    this.mode = null;
    this.reply = null;
  }

  /** Show the composer for `conv`; rebuilds only when the conversation or the mode changes. */
  show(conv) {
    const mode = conv.blocked_by ? 'blocked' : windowState(expiresAt(conv)).open ? 'text' : 'template';
    const same = this.conv && sameKey(this.conv.conversation, conv.conversation) && this.mode === mode;
    this.conv = conv;
    this.el.hidden = false;
    if (same) return;
    this.mode = mode;
    this.el.dataset.mode = mode;
    document.body.dataset.composer = mode;
    this.reply = null;
    this.typedAt = 0;
    if (mode === 'text') this.textMode();
    else if (mode === 'blocked') setChildren(this.el, blockedNotice(conv, this.unblock));
    else this.templateMode();
  }

  /** New templates arrived: reload the picker unless the agent is filling one in. */
  templatesChanged() {
    if (this.mode === 'template' && !this.el.querySelector('[data-testid=template-selected]')) this.templateMode();
  }

  hide() {
    this.el.hidden = true;
    this.conv = null;
    this.mode = null;
    this.reply = null;
    delete document.body.dataset.composer;
  }

  /** Answer message `m` (sent by `who`): quoted above the next text or file. */
  replyTo(m, who) {
    if (this.mode !== 'text' || !m.wamid) return;
    this.reply = { wamid: m.wamid, who, text: oneLine(previewOf(m.body), 80) };
    this.paintReply();
    this.el.querySelector('[data-testid=composer-text]')?.focus();
  }

  clearReply() {
    this.reply = null;
    this.paintReply();
  }

  paintReply() {
    const bar = this.el.querySelector('[data-testid=reply-bar]');
    if (!bar) return;
    bar.hidden = !this.reply;
    setChildren(bar, this.reply ? [
      h('span', { class: 'muted', text: 'Replying to ' }),
      h('strong', { 'data-testid': 'reply-who', text: this.reply.who }),
      h('span', { class: 'reply-preview', 'data-testid': 'reply-preview', text: this.reply.text }),
      h('button', { type: 'button', class: 'link-button', 'data-testid': 'reply-cancel', 'aria-label': 'Cancel the reply',
        title: 'Cancel the reply (Esc)', text: '✕', onclick: () => this.clearReply() }),
    ] : []);
  }

  textMode() {
    const input = h('textarea', { id: 'composer-text', 'data-testid': 'composer-text', rows: '2',
      placeholder: TEXT_PLACEHOLDER, 'aria-label': 'Reply' });
    const conversation = this.conv.conversation;
    input.value = draftOf(conversation);
    // First: a key that picks a quick reply must not also send.
    const quick = suggest(input, this.quickReplies, () => this.manageQuickReplies(), () => this.conv?.contact_name);
    const error = h('p', { class: 'form-error', 'data-testid': 'composer-error', hidden: true });
    const attachment = new Attachment(input, error);
    const buttons = new ReplyButtons();
    const send = async () => {
      const text = input.value;
      const file = attachment.file;
      if (!file && !text.trim()) return;
      if (!file && text.length > MAX_TEXT) { showError(error, 'A WhatsApp text can be at most 4,096 characters.'); return; }
      if (buttons.open && file) { showError(error, 'Reply buttons go under a text, not a file: send the file first, then the buttons.'); return; }
      if (buttons.open && !buttons.titles().length) { showError(error, 'Give at least one button a title, or close Buttons to send a plain text.'); return; }
      button.disabled = true;
      const replyTo = this.reply?.wamid;
      try {
        if (file) {
          attachment.status('Uploading…');
          await this.sendFile(this.conv, file, text, replyTo);
          attachment.clear();
        } else if (buttons.open) {
          await this.sendButtons(this.conv, text, buttons.titles(), replyTo);
          buttons.clear();
        } else {
          await this.sendText(this.conv, text, replyTo);
        }
        input.value = '';
        setDraft(conversation, '');
        this.clearReply();
        error.hidden = true;
      } catch (e) {
        attachment.status('');
        showError(error, e);
      } finally {
        button.disabled = false;
        input.focus();
      }
    };
    const button = h('button', { type: 'button', id: 'send-text', 'data-testid': 'send-text', class: 'primary', onclick: send, text: 'Send' });
    const left = h('p', { class: 'chars-left', 'data-testid': 'chars-left', 'aria-live': 'polite', hidden: true });
    input.addEventListener('input', () => {
      paintCharsLeft(left, input.value);
      setDraft(conversation, input.value, (problem) => showError(error, problem));
      // "typing…" for the customer; the engine sends it at most every 20 s per conversation.
      if (input.value.trim() && Date.now() - this.typedAt > TYPING_EVERY_MS) {
        this.typedAt = Date.now();
        this.typing?.(this.conv);
      }
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send(); }
      if (e.key === 'Escape' && this.reply) { e.preventDefault(); this.clearReply(); }
    });
    const replyBar = h('div', { class: 'reply-bar', 'data-testid': 'reply-bar', hidden: true });
    paintCharsLeft(left, input.value);
    setChildren(this.el, replyBar, quick, attachment.chip, buttons.editor,
      h('div', { class: 'composer-row' }, h('div', { class: 'composer-tools' }, attachment.button, buttons.toggle), attachment.picker, input, button), left, error);
  }

  async templateMode() {
    const conv = this.conv;
    const list = h('ul', { class: 'template-list', 'data-testid': 'template-list' });
    const form = h('div', { class: 'template-form', 'data-testid': 'template-form' },
      h('p', { class: 'muted', text: 'Choose a template to see its fields.' }));
    const search = h('input', { type: 'search', 'data-testid': 'template-search', placeholder: 'Search templates by name, category or language',
      'aria-label': 'Search templates' });
    setChildren(this.el,
      h('div', { class: 'template-picker', id: 'template-picker', 'data-testid': 'template-picker' },
        h('p', { class: 'closed-note', 'data-testid': 'window-closed-note',
          text: conv.window_explanation || 'The 24-hour window is closed: only an approved template can be sent until the customer writes again.' }),
        h('div', { class: 'template-columns' },
          h('div', { class: 'template-choose' }, search, list),
          form)));
    let templates = [];
    try {
      templates = await this.loadTemplates(conv);
    } catch (e) {
      setChildren(list, h('li', { class: 'form-error', text: `Templates could not be loaded: ${e}` }));
      return;
    }
    const paint = () => {
      const found = filterTemplates(templates, search.value);
      setChildren(list, found.length ? found.map((t) => h('li', {},
        h('button', { type: 'button', class: 'template-option', 'data-testid': 'template-option',
          dataset: { name: t.name, language: t.language },
          onclick: (e) => { list.querySelectorAll('.template-option').forEach((b) => b.setAttribute('aria-pressed', 'false'));
            e.currentTarget.setAttribute('aria-pressed', 'true'); this.templateForm(form, t); } },
          h('span', { class: 'tname', text: t.name }),
          h('span', { class: 'muted', text: `${t.category || 'Uncategorized'} · ${t.language}` }))))
        : h('li', { class: 'muted', 'data-testid': 'template-none', text: templates.length
          ? 'No approved template matches.' : 'This number has no approved templates yet. Create one in WhatsApp Manager.' }));
    };
    search.addEventListener('input', paint);
    paint();
  }

  templateForm(form, template) {
    const desc = describe(template);
    const values = {};
    const previewText = h('p', { class: 'preview-text', 'data-testid': 'template-preview' });
    const previewButtons = h('div', { class: 'preview-buttons' });
    const errors = h('ul', { class: 'form-error', 'data-testid': 'template-errors', hidden: true });
    const refresh = () => {
      // Once problems are shown, keep them current as the agent fixes them.
      if (!errors.hidden) {
        const problems = validate(desc, values);
        setChildren(errors, problems.map((p) => h('li', { text: p })));
        errors.hidden = problems.length === 0;
      }
      const p = preview(desc, values);
      previewText.textContent = p.text;
      setChildren(previewButtons, p.buttons.map((b) => h('span', { class: 'preview-button', text: b })));
    };
    const fields = desc.fields.map((f) => {
      const input = h('input', { type: f.kind === 'media' ? 'url' : 'text', 'data-testid': 'template-param',
        dataset: { param: f.key }, placeholder: f.example || '', 'aria-label': f.label });
      input.addEventListener('input', () => { values[f.key] = input.value; refresh(); });
      const label = h('label', { class: 'field' }, h('span', { text: f.label }), input);
      if (f.kind !== 'media') return label;
      const onChange = (id) => {
        if (id) { values[uploadedKey(f)] = id; values[f.key] = ''; } else delete values[uploadedKey(f)];
        refresh();
      };
      return h('div', {}, label, headerUpload({ kind: f.media, phoneNumberId: () => this.conv.conversation.phone_number_id, linkInput: input, onChange }));
    });
    const send = h('button', { type: 'button', class: 'primary', 'data-testid': 'send-template', text: 'Send template' });
    send.addEventListener('click', async () => {
      const problems = validate(desc, values);
      if (problems.length) {
        setChildren(errors, problems.map((p) => h('li', { text: p })));
        errors.hidden = false;
        return;
      }
      errors.hidden = true;
      send.disabled = true;
      try {
        const payload = build(template, desc, values);
        payload.rendered = preview(desc, values).text;
        await this.sendTemplate(this.conv, payload);
        this.templateForm(form, template); // empty again, for the next send
      } catch (e) {
        setChildren(errors, h('li', { text: String(e) }));
        errors.hidden = false;
      } finally {
        send.disabled = false;
      }
    });
    refresh();
    setChildren(form,
      h('h3', { class: 'tname', 'data-testid': 'template-selected', text: `${template.name} (${template.language})` }),
      fields.length ? fields : h('p', { class: 'muted', text: 'This template has no parameters.' }),
      h('div', { class: 'preview-box' }, h('span', { class: 'muted', text: 'Preview' }), previewText, previewButtons),
      errors, send);
  }
}

/** How often typing asks the engine to show "typing…" (the engine holds it to every 20 s). */
const TYPING_EVERY_MS = 10000;
/** WhatsApp's longest text message. */
const MAX_TEXT = 4096;
/** The count shows from this many characters left. */
const CHARS_LEFT_FROM = 300;
const TEXT_PLACEHOLDER = 'Write a reply… (Enter to send, Shift+Enter for a new line)';
/** WhatsApp's largest file (a document); the desktop checks the rest before uploading. */
const MAX_FILE_BYTES = 100 * 1024 * 1024;
/** What the picker offers: the types the Cloud API sends (the desktop checks them again). */
const SENDABLE = 'image/jpeg,image/png,application/pdf,text/plain,.doc,.docx,.xls,.xlsx,.ppt,.pptx,audio/aac,audio/amr,audio/mpeg,audio/mp4,audio/ogg,video/mp4,video/3gpp';

/** The file picked for the next send: the paperclip, the hidden picker and the chip naming it. */
class Attachment {
  constructor(input, error) {
    this.input = input;
    this.error = error;
    this.file = null;
    this.picker = h('input', { type: 'file', hidden: true, accept: SENDABLE, 'data-testid': 'composer-file' });
    this.button = h('button', { type: 'button', class: 'attach', 'data-testid': 'attach-file', title: 'Attach a photo or file',
      'aria-label': 'Attach a photo or file', text: '📎 Attach', onclick: () => this.picker.click() });
    this.chip = h('div', { class: 'attachment', 'data-testid': 'attachment', hidden: true });
    this.picker.addEventListener('change', () => this.pick(this.picker.files[0]));
    // A screenshot pasted into the reply box, or a file dropped on it, is attached too.
    input.addEventListener('paste', (e) => {
      const file = e.clipboardData?.files?.[0];
      if (file) { e.preventDefault(); this.pick(file); }
    });
    input.addEventListener('dragover', (e) => { if (e.dataTransfer?.types?.includes('Files')) e.preventDefault(); });
    input.addEventListener('drop', (e) => {
      const file = e.dataTransfer?.files?.[0];
      if (file) { e.preventDefault(); this.pick(file); }
    });
  }

  pick(file) {
    this.picker.value = '';
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      showError(this.error, `${file.name} is ${megabytes(file.size)}; WhatsApp takes files of at most 100 MB.`);
      return;
    }
    this.error.hidden = true;
    this.file = file;
    this.statusEl = h('span', { class: 'muted', 'data-testid': 'attachment-status' });
    setChildren(this.chip,
      h('span', { class: 'attachment-name', 'data-testid': 'attachment-name', text: `📎 ${file.name}` }),
      h('span', { class: 'muted', text: megabytes(file.size) }),
      this.statusEl,
      h('button', { type: 'button', class: 'link-button', 'data-testid': 'attachment-remove', 'aria-label': `Remove ${file.name}`,
        text: 'Remove', onclick: () => this.clear() }));
    this.chip.hidden = false;
    this.input.placeholder = 'Add a caption… (Enter to send)';
    this.input.focus();
  }

  status(text) {
    if (this.statusEl) this.statusEl.textContent = text;
  }

  clear() {
    this.file = null;
    this.chip.hidden = true;
    setChildren(this.chip);
    this.input.placeholder = TEXT_PLACEHOLDER;
  }
}

function megabytes(bytes) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Near WhatsApp's 4,096 characters, how many are left (or over), before Send refuses. */
function paintCharsLeft(el, text) {
  const left = MAX_TEXT - text.length;
  el.hidden = left > CHARS_LEFT_FROM;
  el.classList.toggle('over', left < 0);
  el.textContent = left < 0 ? `${-left} characters over WhatsApp's 4,096` : `${left} characters left`;
}

function showError(el, e) {
  el.textContent = typeof e === 'string' ? e : (e?.message || String(e));
  el.hidden = false;
}

export const sameKey = (a, b) => a.phone_number_id === b.phone_number_id && a.contact === b.contact;
