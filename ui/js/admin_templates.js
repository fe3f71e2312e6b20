// The admin panel's Templates tab: each number's templates with where Meta's review stands
// (pending, approved, rejected with Meta's reason), and a form to write a new one for review: a
// text header, a body with {{1}}-style variables (one example field appears per variable, as
// Meta's reviewers need), a footer, and a live preview. Meta's immediate rules are checked by the
// engine and said in words; Meta's decision arrives later and shows in the list.
// Texts are people's input: text only (see dom.js).

import { h } from './dom.js';
import { errorText } from './api.js';

const STATUS_WORDS = { PENDING: 'In review', APPROVED: 'Approved', REJECTED: 'Rejected', PAUSED: 'Paused', DISABLED: 'Disabled' };

/** The tab's parts for `numbers` (`[{phone_number_id, display_number}]`); `api` has
 *  `templates(id)` and `submitTemplate(id, draft)`; `reload` paints the tab again. */
export async function templatesTab(numbers, api, reload) {
  if (!numbers.length) return [h('p', { class: 'muted', text: 'No numbers synced to this inbox yet.' })];
  const lists = await Promise.all(numbers.map(async (n) => {
    const title = h('h3', { text: `Templates of ${n.display_number || n.phone_number_id}` });
    try {
      return [title, reviewTable(await api.templates(n.phone_number_id))];
    } catch (e) {
      return [title, h('p', { class: 'form-error', 'data-testid': 'admin-load-error', text: `Could not read the templates: ${errorText(e)}` })];
    }
  }));
  return [...lists.flat(), templateForm(numbers, api, reload)];
}

function reviewTable(templates) {
  if (!templates.length) return h('p', { class: 'muted', text: 'No templates yet.' });
  return h('table', { class: 'admin-table', 'data-testid': 'templates-table' },
    h('thead', {}, h('tr', {}, ['Name', 'Language', 'Category', 'Review', ''].map((t) => h('th', { text: t })))),
    h('tbody', {}, templates.map((t) => h('tr', { 'data-testid': 'template-row', dataset: { name: t.name, status: t.status } },
      h('td', { text: t.name }), h('td', { text: t.language }), h('td', { text: t.category || '' }),
      h('td', { text: STATUS_WORDS[t.status] || t.status }), h('td', { class: 'muted', text: t.reason || '' })))));
}

/** `{{1}}`, `{{2}}`… in the body, each once, in order of appearance. */
export function bodyVariables(body) {
  return [...new Set([...body.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((m) => Number(m[1])))];
}

/** The body as the customer would read it with the examples in place. */
export function previewBody(body, examples) {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, n) => examples[Number(n) - 1] || whole);
}

function templateForm(numbers, api, reload) {
  const field = (label, input) => h('label', {}, label, input);
  const number = h('select', { 'data-testid': 'template-number' },
    numbers.map((n) => h('option', { value: n.phone_number_id, text: n.display_number || n.phone_number_id })));
  const name = h('input', { 'data-testid': 'template-name', required: true, placeholder: 'order_shipped', pattern: '[a-z0-9_]+' });
  const language = h('input', { 'data-testid': 'template-language', required: true, value: 'en_US', size: '6' });
  const category = h('select', { 'data-testid': 'template-category' }, h('option', { value: 'UTILITY' }, 'Utility'), h('option', { value: 'MARKETING' }, 'Marketing'));
  const header = h('input', { 'data-testid': 'template-header', maxlength: '60', placeholder: 'Optional, one line' });
  const body = h('textarea', { 'data-testid': 'template-body', required: true, maxlength: '1024', rows: '3', placeholder: 'Hi {{1}}, your order {{2}} ships today.' });
  const footer = h('input', { 'data-testid': 'template-footer', maxlength: '60', placeholder: 'Optional, one line' });
  const examples = h('div', { class: 'template-examples', 'data-testid': 'template-examples' });
  const preview = h('p', { class: 'template-preview', 'data-testid': 'template-preview' });
  const paint = () => {
    const kept = [...examples.querySelectorAll('input')].map((i) => i.value);
    examples.replaceChildren(...bodyVariables(body.value).map((n, i) => field(`Example for {{${n}}}`,
      h('input', { 'data-testid': 'template-example', value: kept[i] || '', oninput: () => { preview.textContent = previewBody(body.value, values()); } }))));
    preview.textContent = previewBody(body.value, values());
  };
  const values = () => [...examples.querySelectorAll('input')].map((i) => i.value);
  body.addEventListener('input', paint);
  const error = h('p', { class: 'form-error', 'data-testid': 'template-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'template-submit' }, 'Submit for review');
  const form = h('form', { class: 'admin-form template-form', 'data-testid': 'template-form' },
    field('Number', number), field('Name', name), field('Language', language), field('Category', category),
    field('Header', header), field('Body', body), examples, field('Footer', footer), preview, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    const draft = { name: name.value.trim(), language: language.value.trim(), category: category.value,
      header: header.value || null, body: body.value, examples: values(), footer: footer.value || null };
    try {
      await api.submitTemplate(number.value, draft);
      await reload();
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
      submit.disabled = false;
    }
  });
  return h('div', {}, h('h3', { text: 'Write a template for review' }),
    h('p', { class: 'muted', text: 'Meta reviews every template before it can be sent; its decision shows in the list above.' }),
    form, error);
}
