// Message templates: read Meta's `components` into a form (one field per parameter), render a
// live preview, validate, and build the Graph API `template` object to send. Pure (no DOM).

const PARAM = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
const MEDIA_FORMATS = ['IMAGE', 'VIDEO', 'DOCUMENT'];

/** Parameter names in order of first appearance: ['1','2'] or ['first_name', ...]. */
export function paramsOf(text) {
  const seen = [];
  for (const m of String(text || '').matchAll(PARAM)) if (!seen.includes(m[1])) seen.push(m[1]);
  return seen;
}

const upper = (v) => String(v || '').toUpperCase();

/**
 * Describe a template as the composer needs it:
 * { header: {format, text}|null, body, footer, buttons: [{type,text,url}], fields: [Field], unsupported: string|null }
 * Field: { key, section: 'header'|'body'|'button', name, label, kind: 'text'|'media'|'coupon', media?, index?, example? }
 */
export function describe(template) {
  const comps = Array.isArray(template.components) ? template.components : [];
  const out = { header: null, body: '', footer: '', buttons: [], fields: [], unsupported: null };
  for (const c of comps) {
    const type = upper(c.type);
    if (type === 'HEADER') header(c, out);
    else if (type === 'BODY') {
      out.body = String(c.text || '');
      const named = Array.isArray(c.example?.body_text_named_params) ? c.example.body_text_named_params : [];
      paramsOf(out.body).forEach((p, i) => out.fields.push(textField('body', p,
        /^\d+$/.test(p) ? c.example?.body_text?.[0]?.[i] : named.find((x) => x.param_name === p)?.example)));
    } else if (type === 'FOOTER') out.footer = String(c.text || '');
    else if (type === 'BUTTONS') (Array.isArray(c.buttons) ? c.buttons : []).forEach((b, i) => button(b, i, out));
  }
  return out;
}

function header(c, out) {
  const format = upper(c.format || 'TEXT');
  out.header = { format, text: String(c.text || '') };
  if (format === 'TEXT') {
    paramsOf(c.text).forEach((p) => out.fields.push(textField('header', p, c.example?.header_text?.[0])));
  } else if (MEDIA_FORMATS.includes(format)) {
    out.fields.push({ key: 'header.media', section: 'header', name: 'media', kind: 'media', media: format.toLowerCase(),
      label: `Header ${format.toLowerCase()} link (https://…)` });
  } else {
    out.unsupported = `Templates with a ${format.toLowerCase()} header can't be sent from Coexist Inbox yet.`;
  }
}

function button(b, index, out) {
  const type = upper(b.type);
  out.buttons.push({ type, text: String(b.text || ''), url: String(b.url || '') });
  if (type === 'URL' && paramsOf(b.url).length) {
    out.fields.push({ key: `button.${index}`, section: 'button', name: 'url', kind: 'text', index,
      label: `Button “${b.text || index + 1}” link ending` });
  } else if (type === 'COPY_CODE') {
    out.fields.push({ key: `button.${index}`, section: 'button', name: 'coupon', kind: 'coupon', index,
      label: `Button “${b.text || 'Copy code'}” code` });
  }
}

function textField(section, name, example) {
  const label = `${section === 'body' ? 'Body' : 'Header'} {{${name}}}`;
  return { key: `${section}.${name}`, section, name, kind: 'text', label, example: example == null ? '' : String(example) };
}

/** The template text with values filled in; a missing value shows as its placeholder. */
export function preview(desc, values) {
  const fill = (section, text) => String(text || '').replace(PARAM, (all, name) => {
    const v = values[`${section}.${name}`];
    return v && v.trim() ? v : all;
  });
  const parts = [];
  if (desc.header?.format === 'TEXT' && desc.header.text) parts.push(fill('header', desc.header.text));
  else if (desc.header) parts.push(`[${desc.header.format.toLowerCase()}]`);
  if (desc.body) parts.push(fill('body', desc.body));
  if (desc.footer) parts.push(desc.footer);
  return { text: parts.join('\n\n'), buttons: desc.buttons.map((b) => b.text) };
}

/** Problems that Meta would reject (or that would send a broken message), in plain words. */
export function validate(desc, values) {
  const errors = [];
  if (desc.unsupported) errors.push(desc.unsupported);
  for (const f of desc.fields) {
    const v = String(values[f.key] || '');
    if (f.kind === 'media' && values[uploadedKey(f)]) continue;
    if (!v.trim()) { errors.push(f.kind === 'media' ? `${f.label}: required, or upload a file.` : `${f.label}: required.`); continue; }
    if (f.kind === 'media') {
      let url = null;
      try { url = new URL(v.trim()); } catch { /* reported below */ }
      if (!url || url.protocol !== 'https:') errors.push(`${f.label}: must be a public https:// link.`);
    } else if (/[\n\t]/.test(v) || / {5,}/.test(v)) {
      errors.push(`${f.label}: no line breaks, tabs or more than 4 spaces in a row (Meta rejects them).`);
    } else if (v.length > 1024) {
      errors.push(`${f.label}: at most 1024 characters.`);
    }
  }
  return errors;
}

/**
 * What `send_template` takes: `{ name, language, params }`, `params` being the engine's
 * TemplateParams (`body_positional`, `body_named`, `header_text`, `header_media_link` or
 * `header_media_id`, `buttons`).
 */
export function build(template, desc, values) {
  const value = (f) => String(values[f.key] || '').trim();
  const params = { body_positional: [], body_named: {}, header_text: [], header_media_link: null, header_media_id: null, buttons: [] };
  const header = desc.fields.filter((f) => f.section === 'header');
  for (const f of sortPositional(header)) {
    if (f.kind === 'media' && values[uploadedKey(f)]) params.header_media_id = values[uploadedKey(f)];
    else if (f.kind === 'media') params.header_media_link = value(f);
    else params.header_text.push(value(f));
  }
  for (const f of sortPositional(desc.fields.filter((x) => x.section === 'body'))) {
    if (/^\d+$/.test(f.name)) params.body_positional.push(value(f));
    else params.body_named[f.name] = value(f);
  }
  for (const f of desc.fields.filter((x) => x.section === 'button')) params.buttons.push({ index: f.index, value: value(f) });
  return { name: template.name, language: template.language, params };
}

/** Where a media field keeps the media id of a file uploaded for it (instead of a link). */
export const uploadedKey = (f) => `${f.key}.id`;

/** Positional parameters go in numeric order ({{1}}, {{2}}, …); named ones keep their order. */
function sortPositional(fields) {
  return [...fields].sort((a, b) => (/^\d+$/.test(a.name) && /^\d+$/.test(b.name) ? Number(a.name) - Number(b.name) : 0));
}

/** Approved templates matching a search over name, category and language. */
export function filterTemplates(templates, query) {
  const q = query.trim().toLowerCase();
  return templates
    .filter((t) => upper(t.status) === 'APPROVED')
    .filter((t) => !q || [t.name, t.category, t.language].some((v) => String(v || '').toLowerCase().includes(q)));
}
